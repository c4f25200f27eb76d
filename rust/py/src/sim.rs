//! Python class of `mmfast_core::sim`: the venue's matching engine (SPEC 11).
//!
//! JSON crosses the boundary as bytes in both directions: the venue receives and sends JSON
//! anyway, so one parse on each side is cheaper than building Python objects per field.

use mmfast_core::sim::{limits, MatchingEngine as CoreEngine, SimConfig, SimError};
use mmfast_core::Error;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use serde_json::Value;

use crate::errors::{finite, IntoPyResult};

fn rejected(msg: impl Into<String>) -> PyErr {
    crate::errors::to_py(Error::Sim(SimError::Rejected(msg.into())))
}

fn parse(data: &[u8]) -> PyResult<Value> {
    serde_json::from_slice(data).map_err(|e| rejected(format!("invalid JSON: {e}")))
}

fn to_bytes<'py>(py: Python<'py>, v: &Value) -> Bound<'py, PyBytes> {
    PyBytes::new(py, &serde_json::to_vec(v).unwrap_or_default())
}

/// The simulated exchange: accounts, books with queue positions, blocks, rules and the ledger.
#[pyclass(module = "mmfast._core", name = "MatchingEngine")]
pub struct PyMatchingEngine {
    inner: CoreEngine,
}

impl PyMatchingEngine {
    fn asset(&self, coin: &str) -> PyResult<usize> {
        self.inner
            .asset_index(coin)
            .ok_or_else(|| Error::invalid("coin", coin, "is not listed on the venue"))
            .py()
    }
}

#[pymethods]
impl PyMatchingEngine {
    /// Builds the engine from the JSON of a `SimConfig` (`"{}"` for every default).
    #[new]
    fn new(config_json: &str) -> PyResult<Self> {
        let cfg = SimConfig::from_json(config_json).py()?;
        Ok(Self {
            inner: CoreEngine::new(cfg).py()?,
        })
    }

    /// The listed assets as `(coin, asset_id, sz_decimals, max_leverage, dex)`.
    fn assets(&self) -> Vec<(String, u32, u32, u32, String)> {
        self.inner
            .assets()
            .iter()
            .map(|a| {
                (
                    a.coin.clone(),
                    a.id,
                    a.sz_decimals,
                    a.max_leverage,
                    a.dex.clone(),
                )
            })
            .collect()
    }

    /// The effective engine config (every default filled in), JSON.
    fn config_json(&self) -> String {
        serde_json::to_string(self.inner.config()).unwrap_or_default()
    }

    fn add_account(&mut self, address: &str, usdc: f64) -> PyResult<u32> {
        self.inner.add_account(address, finite("usdc", usdc)?).py()
    }

    fn set_max_position(&mut self, address: &str, coin: &str, max_position: f64) -> PyResult<()> {
        self.inner
            .set_max_position(address, coin, finite("max_position", max_position)?)
            .py()
    }

    /// A `max_position_usd` limit, held at the venue's own mid with `tolerance` (default: the
    /// engine's re-resolve threshold, `risk::LIMITS_REFRESH_FRAC`).
    #[pyo3(signature = (address, coin, usd, tolerance=None))]
    fn set_max_position_usd(
        &mut self,
        address: &str,
        coin: &str,
        usd: f64,
        tolerance: Option<f64>,
    ) -> PyResult<()> {
        let tol = tolerance.unwrap_or(mmfast_core::risk::LIMITS_REFRESH_FRAC);
        self.inner
            .set_max_position_usd(address, coin, finite("max_position_usd", usd)?, tol)
            .py()
    }

    fn add_agent(&mut self, agent: &str, master: &str) -> PyResult<()> {
        self.inner.add_agent(agent, master).py()
    }

    fn add_vault(&mut self, vault: &str, leader: &str) -> PyResult<()> {
        self.inner.add_vault(vault, leader).py()
    }

    fn user_of(&self, signer: &str) -> Option<String> {
        self.inner.user_of(signer)
    }

    /// Queues a signed action for the next block; returns its ticket. Raises `VenueError`
    /// whose message is the exchange's top-level error text.
    #[pyo3(signature = (signer, action_json, nonce, vault_address, expires_after, now_ms))]
    fn submit(
        &mut self,
        signer: &str,
        action_json: &[u8],
        nonce: u64,
        vault_address: Option<&str>,
        expires_after: Option<u64>,
        now_ms: u64,
    ) -> PyResult<u64> {
        self.inner
            .submit(
                signer,
                action_json,
                nonce,
                vault_address,
                expires_after,
                now_ms,
            )
            .map_err(rejected)
    }

    /// Runs one block; returns the JSON of its responses and events.
    fn end_block<'py>(&mut self, py: Python<'py>, now_ms: u64) -> Bound<'py, PyBytes> {
        let out = self.inner.end_block(now_ms);
        to_bytes(py, &self.inner.block_json(&out))
    }

    #[getter]
    fn pending(&self) -> usize {
        self.inner.pending()
    }

    /// Answers an `/info` body. Raises `VenueError` for an unknown or malformed request.
    fn info<'py>(&self, py: Python<'py>, request: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
        let req = parse(request)?;
        let v = self.inner.info(&req).map_err(rejected)?;
        Ok(to_bytes(py, &v))
    }

    /// `{coin, time, levels}` JSON with at most `depth` levels per side.
    fn l2_book<'py>(
        &self,
        py: Python<'py>,
        coin: &str,
        depth: usize,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let i = self.asset(coin)?;
        Ok(to_bytes(py, &self.inner.l2_json(i, depth)))
    }

    fn mid(&self, coin: &str) -> PyResult<f64> {
        Ok(self.inner.mid(self.asset(coin)?))
    }

    /// The venue's own ledger of every account, JSON.
    fn ledger<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        to_bytes(py, &self.inner.ledger_json())
    }

    /// Charges REST weight to `ip`; false when over the per-minute limit.
    fn charge_ip(&mut self, ip: &str, weight: u32, now_ms: u64) -> bool {
        self.inner.charge_ip(ip, weight, now_ms)
    }

    #[staticmethod]
    fn info_weight(kind: &str) -> u32 {
        limits::info_weight(kind)
    }

    #[staticmethod]
    fn exchange_weight(batch_len: usize) -> u32 {
        limits::exchange_weight(batch_len)
    }

    /// Binance feed of `coin`'s synthetic market since the last poll, JSON
    /// `{"bbo": [[t, bid, bid_qty, ask, ask_qty]...], "trades": [[t, px, qty, buyer_is_maker, id]...]}`.
    fn binance_poll<'py>(
        &mut self,
        py: Python<'py>,
        coin: &str,
        now_ms: u64,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let i = self.asset(coin)?;
        let u = self.inner.binance_poll(i, now_ms);
        let v = serde_json::json!({
            "bbo": u.bbo.iter().map(|b| serde_json::json!([b.time_ms, b.bid, b.bid_qty, b.ask, b.ask_qty])).collect::<Vec<_>>(),
            "trades": u.trades.iter().map(|t| serde_json::json!([t.time_ms, t.px, t.qty, t.buyer_is_maker, t.id])).collect::<Vec<_>>(),
        });
        Ok(to_bytes(py, &v))
    }

    /// Replay: applies a recorded `l2Book` payload at `now_ms`; false for an unlisted coin.
    fn apply_l2(&mut self, data: &[u8], now_ms: u64) -> PyResult<bool> {
        let v = parse(data)?;
        self.inner.set_time(now_ms);
        self.inner.apply_l2_wire(&v).map_err(rejected)
    }

    /// Replay: applies recorded `trades` at `now_ms`; returns how many were for listed coins.
    fn apply_trades(&mut self, data: &[u8], now_ms: u64) -> PyResult<usize> {
        let v = parse(data)?;
        self.inner.set_time(now_ms);
        self.inner.apply_trades_wire(&v).map_err(rejected)
    }

    fn __repr__(&self) -> String {
        let coins: Vec<&str> = self
            .inner
            .assets()
            .iter()
            .map(|a| a.coin.as_str())
            .collect();
        format!(
            "MatchingEngine(assets={coins:?}, pending={})",
            self.inner.pending()
        )
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyMatchingEngine>()?;
    Ok(())
}
