//! Python classes of `mmfast_core::strategy` and `mmfast_core::engine` (SPEC 7-9).

use mmfast_core::strategy::{
    LadderInput, LadderOutput, LadderStrategy as CoreLadder, RiskFeatures,
};
use mmfast_core::types::VolRegime;
use numpy::ndarray::Array2;
use numpy::{IntoPyArray, PyArray2};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::config::PyMarketMakerConfig;
use crate::errors::finite;

fn regime_arg(name: &str) -> PyResult<VolRegime> {
    match name.to_ascii_lowercase().as_str() {
        "quiet" => Ok(VolRegime::Quiet),
        "normal" => Ok(VolRegime::Normal),
        "volatile" => Ok(VolRegime::Volatile),
        "extreme" => Ok(VolRegime::Extreme),
        _ => Err(PyValueError::new_err(format!(
            "regime = {name:?}: expected quiet, normal, volatile or extreme"
        ))),
    }
}

/// Quotes of one side as an `(n, 4)` float array: level, px, sz, depth_bps.
fn side_array<'py>(
    py: Python<'py>,
    quotes: &[mmfast_core::strategy::Quote],
) -> Bound<'py, PyArray2<f64>> {
    let mut v = Vec::with_capacity(quotes.len() * 4);
    for q in quotes {
        v.extend_from_slice(&[f64::from(q.level), q.px, q.sz, q.depth_bps]);
    }
    Array2::from_shape_vec((quotes.len(), 4), v)
        .expect("n x 4")
        .into_pyarray(py)
}

/// `(bids, asks, diagnostics)` of one ladder computation.
type LadderResult<'py> = (
    Bound<'py, PyArray2<f64>>,
    Bound<'py, PyArray2<f64>>,
    Bound<'py, PyDict>,
);

/// The GLFT ladder of SPEC 7 on its own, for research and differential tests: one call returns
/// both sides' desired quotes for the inputs given. The engine uses the same code each cycle.
#[pyclass(module = "mmfast._core", name = "LadderStrategy", frozen)]
pub struct PyLadderStrategy {
    inner: CoreLadder,
}

#[pymethods]
impl PyLadderStrategy {
    #[new]
    fn new(config: &PyMarketMakerConfig) -> Self {
        Self {
            inner: CoreLadder::new(&config.inner),
        }
    }

    /// Returns `(bids, asks, diagnostics)`: two `(n, 4)` arrays (level, px, sz, depth_bps),
    /// nearest the touch first, and a dict of the intermediate numbers.
    #[pyo3(signature = (
        *, mid, best_bid, best_ask, sz_decimals, position, effective_max, target_liquidity,
        room_bid, room_ask, min_notional = 10.0, sigma_bps = 2.0, kappa = 0.25, a_intensity = 0.5,
        gamma_base = 0.02, vol_ratio = 1.0, inventory_ratio = 0.0, toxicity_score = 0.0,
        thin_book = 0.0, alpha_bps = 0.0, measured_as_bps = 0.0, as_warmup = 0.0,
        regime = "normal", margin_notional = f64::INFINITY, quote_bid = true, quote_ask = true,
        reduce_only = false, urgency = 0.0, bid_mult = 1.0, ask_mult = 1.0
    ))]
    #[allow(clippy::too_many_arguments)]
    fn quote<'py>(
        &self,
        py: Python<'py>,
        mid: f64,
        best_bid: f64,
        best_ask: f64,
        sz_decimals: u32,
        position: f64,
        effective_max: f64,
        target_liquidity: f64,
        room_bid: f64,
        room_ask: f64,
        min_notional: f64,
        sigma_bps: f64,
        kappa: f64,
        a_intensity: f64,
        gamma_base: f64,
        vol_ratio: f64,
        inventory_ratio: f64,
        toxicity_score: f64,
        thin_book: f64,
        alpha_bps: f64,
        measured_as_bps: f64,
        as_warmup: f64,
        regime: &str,
        margin_notional: f64,
        quote_bid: bool,
        quote_ask: bool,
        reduce_only: bool,
        urgency: f64,
        bid_mult: f64,
        ask_mult: f64,
    ) -> PyResult<LadderResult<'py>> {
        for (name, v) in [
            ("mid", mid),
            ("position", position),
            ("effective_max", effective_max),
            ("target_liquidity", target_liquidity),
            ("room_bid", room_bid),
            ("room_ask", room_ask),
            ("min_notional", min_notional),
            ("sigma_bps", sigma_bps),
            ("kappa", kappa),
            ("a_intensity", a_intensity),
            ("gamma_base", gamma_base),
            ("alpha_bps", alpha_bps),
            ("urgency", urgency),
            ("bid_mult", bid_mult),
            ("ask_mult", ask_mult),
        ] {
            finite(name, v)?;
        }
        for (name, v) in [
            ("mid", mid),
            ("kappa", kappa),
            ("a_intensity", a_intensity),
            ("gamma_base", gamma_base),
            ("min_notional", min_notional),
        ] {
            mmfast_core::error::check::positive(name, v).map_err(crate::errors::to_py)?;
        }
        if sz_decimals > 10 {
            return Err(PyValueError::new_err(format!(
                "sz_decimals = {sz_decimals}: must be <= 10"
            )));
        }
        let inp = LadderInput {
            mid,
            best_bid,
            best_ask,
            sz_decimals,
            min_notional,
            sigma_bps,
            kappa,
            a_intensity,
            gamma_base,
            risk: RiskFeatures {
                vol_ratio,
                inventory_ratio,
                toxicity_score,
                thin_book,
            },
            alpha_bps,
            measured_as_bps,
            as_warmup,
            regime: regime_arg(regime)?,
            position,
            effective_max,
            target_liquidity,
            room_bid,
            room_ask,
            margin_notional,
            quote_bid,
            quote_ask,
            reduce_only,
            urgency,
            bid_mult,
            ask_mult,
        };
        let mut out = Box::<LadderOutput>::default();
        self.inner.quote(&inp, &mut out);
        let d = &out.diag;
        let diag = PyDict::new(py);
        for (k, v) in [
            ("gamma", d.gamma),
            ("c1", d.c1),
            ("c2", d.c2),
            ("half_spread_bps", d.half_spread_bps),
            ("skew_bps", d.skew_bps),
            ("as_buffer_bps", d.as_buffer_bps),
            ("floor_bps", d.floor_bps),
            ("bid_touch_bps", d.bid_touch_bps),
            ("ask_touch_bps", d.ask_touch_bps),
            ("bid_total", d.bid_total),
            ("ask_total", d.ask_total),
            ("single_order_fraction", d.single_order_fraction),
            ("kelly_fraction", d.kelly_fraction),
        ] {
            diag.set_item(k, v)?;
        }
        diag.set_item("levels_fundable", d.levels_fundable)?;
        Ok((
            side_array(py, out.bids.as_slice()),
            side_array(py, out.asks.as_slice()),
            diag,
        ))
    }
}

/// Rounds a price to the Hyperliquid perp grid (PROTOCOL 4.3): down for a bid (`is_bid`), up
/// for an ask, so rounding never moves a quote toward the touch.
#[pyfunction]
fn round_price(px: f64, sz_decimals: u32, is_bid: bool) -> PyResult<f64> {
    finite("px", px)?;
    Ok(mmfast_core::strategy::round_price(px, sz_decimals, !is_bid))
}

/// True when `px` is a valid Hyperliquid perp price for `sz_decimals`.
#[pyfunction]
fn is_valid_price(px: f64, sz_decimals: u32) -> bool {
    mmfast_core::strategy::is_valid_price(px, sz_decimals)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyLadderStrategy>()?;
    m.add_function(wrap_pyfunction!(round_price, m)?)?;
    m.add_function(wrap_pyfunction!(is_valid_price, m)?)?;
    Ok(())
}
