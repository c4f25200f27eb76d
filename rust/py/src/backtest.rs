//! Python class of `mmfast_core::backtest` (SPEC 11): one backtest, run in chunks so the caller
//! can show progress; the summary as JSON and the series as numpy arrays.

use mmfast_core::backtest::{cache, calibrate, Backtest as CoreBacktest, BacktestSpec};
use mmfast_core::sim::{stats, AssetConfig, SyntheticParams};
use mmfast_core::Error;
use numpy::{IntoPyArray, PyArray1};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::config::PyMarketMakerConfig;
use crate::errors::IntoPyResult;

/// One backtest: the quote engine of `config` over the market of `spec_json` (a `BacktestSpec`).
#[pyclass(module = "mmfast._core", name = "Backtest")]
pub struct PyBacktest {
    inner: CoreBacktest,
}

#[pymethods]
impl PyBacktest {
    #[new]
    fn new(config: &PyMarketMakerConfig, spec_json: &str) -> PyResult<Self> {
        let spec = BacktestSpec::from_json(spec_json).py()?;
        Ok(Self {
            inner: CoreBacktest::new(config.inner.clone(), spec).py()?,
        })
    }

    /// Runs venue blocks up to `limit_ms` (simulated clock) without the GIL; returns True when
    /// the backtest is over.
    fn run_until(&mut self, py: Python<'_>, limit_ms: u64) -> PyResult<bool> {
        let inner = &mut self.inner;
        py.detach(|| inner.run_until(limit_ms)).py()
    }

    #[getter]
    fn start_ms(&self) -> u64 {
        self.inner.start_ms()
    }

    #[getter]
    fn end_ms(&self) -> u64 {
        self.inner.end_ms()
    }

    #[getter]
    fn now_ms(&self) -> u64 {
        self.inner.now_ms()
    }

    #[getter]
    fn done(&self) -> bool {
        self.inner.is_done()
    }

    /// Market records (book levels, trades, tops) of the replayed recordings, the unit of the
    /// replay speed; 0 on the synthetic market.
    #[getter]
    fn replay_events(&self) -> u64 {
        self.inner.replay_events()
    }

    /// How each recording was obtained: "cache" or "decoded" (market, then lead).
    #[getter]
    fn replay_sources(&self) -> Vec<&'static str> {
        self.inner.replay_sources()
    }

    /// The summary.json object as JSON text (deterministic fields only).
    fn summary_json(&mut self) -> String {
        self.inner.summary().to_string()
    }

    /// Per-time series (`t_ms`, `mid`, `position`, `pnl_*`, `quote_bid`, `quote_ask`, `zone`)
    /// and our fills (`fill_t_ms`, `fill_px`, `fill_qty`, `fill_fee`, `fill_mid`, `fill_taker`,
    /// `fill_markout_1s_bps`, `fill_markout_5s_bps`) as float64 arrays.
    fn series<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let a = self.inner.accounting();
        let (s, f) = (&a.series, &a.fills);
        let d = PyDict::new(py);
        let put = |k: &str, v: &Vec<f64>| -> PyResult<()> {
            let arr: Bound<'py, PyArray1<f64>> = v.clone().into_pyarray(py);
            d.set_item(k, arr)
        };
        put("t_ms", &s.t_ms)?;
        put("mid", &s.mid)?;
        put("position", &s.position)?;
        put("pnl_total", &s.pnl_total)?;
        put("pnl_spread", &s.pnl_spread)?;
        put("pnl_inventory", &s.pnl_inventory)?;
        put("pnl_fees", &s.pnl_fees)?;
        put("pnl_funding", &s.pnl_funding)?;
        put("quote_bid", &s.quote_bid)?;
        put("quote_ask", &s.quote_ask)?;
        put("zone", &s.zone)?;
        put("fill_t_ms", &f.t_ms)?;
        put("fill_px", &f.px)?;
        put("fill_qty", &f.qty)?;
        put("fill_fee", &f.fee)?;
        put("fill_mid", &f.mid)?;
        put("fill_taker", &f.taker)?;
        put("fill_markout_1s_bps", &f.markout_1s_bps)?;
        put("fill_markout_5s_bps", &f.markout_5s_bps)?;
        Ok(d)
    }
}

/// The names of the synthetic market presets (`sim::presets::PRESETS`).
#[pyfunction]
fn market_presets() -> Vec<&'static str> {
    mmfast_core::sim::presets::PRESETS.to_vec()
}

/// The synthetic market parameters of preset `name` (calm, default, toxic, demo) for `coin`,
/// JSON.
#[pyfunction]
fn market_preset(name: &str, coin: &str) -> PyResult<String> {
    let p = SyntheticParams::preset(name, coin).py()?;
    Ok(serde_json::to_string(&p).unwrap_or_default())
}

/// What a recording (shared/data format, Hyperliquid or Binance) holds, JSON: `venue`
/// ("hyperliquid" or "binance"), `name` (coin or symbol), `coin`, `first_mid`, `market_events`,
/// `source` ("cache" or "decoded"). Decodes it through the cache in `cache_dir` when given.
#[pyfunction]
#[pyo3(signature = (path, cache_dir=None))]
fn recording_info(py: Python<'_>, path: &str, cache_dir: Option<&str>) -> PyResult<String> {
    let v = py
        .detach(|| cache::info(path, cache_dir.map(std::path::Path::new)))
        .py()?;
    Ok(v.to_string())
}

/// Market statistics of a recording (shared/data format), JSON.
#[pyfunction]
fn recording_stats(py: Python<'_>, path: &str) -> PyResult<String> {
    let v = py.detach(|| stats::recording_stats(path)).py()?;
    Ok(v.to_string())
}

/// Market statistics of `seconds` of the synthetic market of `asset_json` (an `AssetConfig`).
#[pyfunction]
fn synthetic_stats(
    py: Python<'_>,
    asset_json: &str,
    seed: u64,
    seconds: f64,
    block_ms: u64,
) -> PyResult<String> {
    let asset: AssetConfig = serde_json::from_str(asset_json)
        .map_err(|e| Error::invalid("asset", e, "is not a valid asset config"))
        .py()?;
    let v = py
        .detach(|| stats::synthetic_stats(asset, seed, seconds, block_ms.max(1)))
        .py()?;
    Ok(v.to_string())
}

/// The engine's priors fitted on a Hyperliquid recording (`mmfast backtest --calibrate`), JSON.
#[pyfunction]
fn calibrate_recording(
    py: Python<'_>,
    config: &PyMarketMakerConfig,
    path: &str,
) -> PyResult<String> {
    let cfg = config.inner.clone();
    let c = py
        .detach(|| calibrate::calibrate_recording(&cfg, path))
        .py()?;
    Ok(serde_json::to_string(&c).unwrap_or_default())
}

/// The engine's priors fitted on `seconds` of the synthetic market of `asset_json`, JSON.
#[pyfunction]
fn calibrate_synthetic(
    py: Python<'_>,
    config: &PyMarketMakerConfig,
    asset_json: &str,
    seed: u64,
    seconds: f64,
    block_ms: u64,
) -> PyResult<String> {
    let asset: AssetConfig = serde_json::from_str(asset_json)
        .map_err(|e| Error::invalid("asset", e, "is not a valid asset config"))
        .py()?;
    let cfg = config.inner.clone();
    let c = py
        .detach(|| calibrate::calibrate_synthetic(&cfg, asset, seed, seconds, block_ms))
        .py()?;
    Ok(serde_json::to_string(&c).unwrap_or_default())
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(calibrate_recording, m)?)?;
    m.add_function(wrap_pyfunction!(calibrate_synthetic, m)?)?;
    m.add_function(wrap_pyfunction!(recording_stats, m)?)?;
    m.add_function(wrap_pyfunction!(recording_info, m)?)?;
    m.add_function(wrap_pyfunction!(synthetic_stats, m)?)?;
    m.add_class::<PyBacktest>()?;
    m.add_function(wrap_pyfunction!(market_preset, m)?)?;
    m.add_function(wrap_pyfunction!(market_presets, m)?)?;
    Ok(())
}
