//! The decision layer for Python: parameter derivation, the inventory governor, mode selection
//! and the queue-value heuristic (SPEC 1, 3, 5, 6).

use mmfast_core::governor::{self, InventoryGovernor as CoreGovernor};
use mmfast_core::mode::{self, ModePolicy};
use mmfast_core::params::{self, SpreadProfile as CoreProfile};
use mmfast_core::queue_value::QueueValueHeuristic as CoreQueueValue;
use mmfast_core::types::ToxicityRegime as CoreToxicity;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::config::PyMarketMakerConfig;
use crate::errors::{finite, IntoPyResult};

#[pyclass(module = "mmfast._core", eq, eq_int, frozen, hash, from_py_object)]
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub enum SpreadProfile {
    Default,
    Hip3,
    Aggressive,
}

impl From<SpreadProfile> for CoreProfile {
    fn from(p: SpreadProfile) -> Self {
        match p {
            SpreadProfile::Default => CoreProfile::Default,
            SpreadProfile::Hip3 => CoreProfile::Hip3,
            SpreadProfile::Aggressive => CoreProfile::Aggressive,
        }
    }
}

/// Accepts a `SpreadProfile` or its name ("default", "hip3", "aggressive").
fn profile_arg(p: &Bound<'_, PyAny>) -> PyResult<CoreProfile> {
    if let Ok(e) = p.cast::<SpreadProfile>() {
        return Ok((*e.get()).into());
    }
    let name: String = p.extract()?;
    match name.to_ascii_lowercase().as_str() {
        "default" => Ok(CoreProfile::Default),
        "hip3" => Ok(CoreProfile::Hip3),
        "aggressive" => Ok(CoreProfile::Aggressive),
        _ => Err(PyValueError::new_err(format!(
            "spread_profile = {name:?}: expected default, hip3 or aggressive"
        ))),
    }
}

#[pyclass(module = "mmfast._core", eq, eq_int, frozen, hash, from_py_object)]
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub enum PositionZone {
    Green,
    Yellow,
    Red,
    Kill,
}

impl From<governor::PositionZone> for PositionZone {
    fn from(z: governor::PositionZone) -> Self {
        match z {
            governor::PositionZone::Green => PositionZone::Green,
            governor::PositionZone::Yellow => PositionZone::Yellow,
            governor::PositionZone::Red => PositionZone::Red,
            governor::PositionZone::Kill => PositionZone::Kill,
        }
    }
}

impl From<PositionZone> for governor::PositionZone {
    fn from(z: PositionZone) -> Self {
        match z {
            PositionZone::Green => governor::PositionZone::Green,
            PositionZone::Yellow => governor::PositionZone::Yellow,
            PositionZone::Red => governor::PositionZone::Red,
            PositionZone::Kill => governor::PositionZone::Kill,
        }
    }
}

#[pyclass(module = "mmfast._core", eq, eq_int, frozen, hash, from_py_object)]
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub enum ToxicityRegime {
    Benign,
    Normal,
    Toxic,
}

impl From<ToxicityRegime> for CoreToxicity {
    fn from(t: ToxicityRegime) -> Self {
        match t {
            ToxicityRegime::Benign => CoreToxicity::Benign,
            ToxicityRegime::Normal => CoreToxicity::Normal,
            ToxicityRegime::Toxic => CoreToxicity::Toxic,
        }
    }
}

impl From<CoreToxicity> for ToxicityRegime {
    fn from(t: CoreToxicity) -> Self {
        match t {
            CoreToxicity::Benign => ToxicityRegime::Benign,
            CoreToxicity::Normal => ToxicityRegime::Normal,
            CoreToxicity::Toxic => ToxicityRegime::Toxic,
        }
    }
}

/// What the exchange and the account say (SPEC 1).
#[pyclass(module = "mmfast._core", frozen, get_all)]
#[derive(Clone, Copy)]
pub struct ExchangeContext {
    mark_px: f64,
    account_value: f64,
    available_margin: f64,
    max_leverage: f64,
    fee_bps: f64,
    sz_decimals: u32,
    min_notional: f64,
}

impl From<&ExchangeContext> for params::ExchangeContext {
    fn from(c: &ExchangeContext) -> Self {
        params::ExchangeContext {
            mark_px: c.mark_px,
            account_value: c.account_value,
            available_margin: c.available_margin,
            max_leverage: c.max_leverage,
            fee_bps: c.fee_bps,
            sz_decimals: c.sz_decimals,
            min_notional: c.min_notional,
        }
    }
}

#[pymethods]
impl ExchangeContext {
    #[new]
    #[pyo3(signature = (*, mark_px, available_margin, max_leverage, account_value = None,
                        fee_bps = 1.5, sz_decimals = 4, min_notional = 10.0))]
    fn new(
        mark_px: f64,
        available_margin: f64,
        max_leverage: f64,
        account_value: Option<f64>,
        fee_bps: f64,
        sz_decimals: u32,
        min_notional: f64,
    ) -> PyResult<Self> {
        let c = ExchangeContext {
            mark_px,
            account_value: account_value.unwrap_or(available_margin),
            available_margin,
            max_leverage,
            fee_bps,
            sz_decimals,
            min_notional,
        };
        params::ExchangeContext::from(&c).validate().py()?;
        Ok(c)
    }

    fn __repr__(&self) -> String {
        format!(
            "ExchangeContext(mark_px={}, account_value={}, available_margin={}, max_leverage={}, \
             fee_bps={}, sz_decimals={}, min_notional={})",
            self.mark_px,
            self.account_value,
            self.available_margin,
            self.max_leverage,
            self.fee_bps,
            self.sz_decimals,
            self.min_notional
        )
    }
}

/// The output of `auto_derive`.
#[pyclass(module = "mmfast._core", frozen, get_all)]
pub struct DerivedParams {
    max_position: f64,
    max_position_usd: f64,
    target_liquidity: f64,
    risk_aversion: f64,
    max_bps_diff: f64,
    min_order: f64,
    capital_tier: String,
    levels_per_side: u64,
    viable: bool,
    diagnostic: Option<String>,
}

#[pymethods]
impl DerivedParams {
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, pyo3::types::PyDict>> {
        let d = pyo3::types::PyDict::new(py);
        d.set_item("max_position", self.max_position)?;
        d.set_item("max_position_usd", self.max_position_usd)?;
        d.set_item("target_liquidity", self.target_liquidity)?;
        d.set_item("risk_aversion", self.risk_aversion)?;
        d.set_item("max_bps_diff", self.max_bps_diff)?;
        d.set_item("min_order", self.min_order)?;
        d.set_item("capital_tier", &self.capital_tier)?;
        d.set_item("levels_per_side", self.levels_per_side)?;
        d.set_item("viable", self.viable)?;
        d.set_item("diagnostic", &self.diagnostic)?;
        Ok(d)
    }

    fn __repr__(&self) -> String {
        format!(
            "DerivedParams(max_position={}, max_position_usd={}, target_liquidity={}, \
             risk_aversion={}, max_bps_diff={}, viable={})",
            self.max_position,
            self.max_position_usd,
            self.target_liquidity,
            self.risk_aversion,
            self.max_bps_diff,
            self.viable
        )
    }
}

/// Concrete limits at one mark (`resolve_limits`): the ceiling, the single-order cap and the
/// minimum order, whichever way the config stated the limit.
#[pyclass(module = "mmfast._core", frozen, get_all)]
#[derive(Clone, Copy, PartialEq)]
pub struct ResolvedLimits {
    pub(crate) max_position: f64,
    max_position_user_specified: bool,
    target_liquidity: f64,
    risk_aversion: f64,
    max_bps_diff: f64,
    pub(crate) single_order_cap: f64,
    min_order: f64,
}

impl From<mmfast_core::risk::ResolvedLimits> for ResolvedLimits {
    fn from(l: mmfast_core::risk::ResolvedLimits) -> Self {
        Self {
            max_position: l.max_position,
            max_position_user_specified: l.max_position_user_specified,
            target_liquidity: l.target_liquidity,
            risk_aversion: l.risk_aversion,
            max_bps_diff: l.max_bps_diff,
            single_order_cap: l.single_order_cap,
            min_order: l.min_order,
        }
    }
}

#[pymethods]
impl ResolvedLimits {
    fn __eq__(&self, other: &Self) -> bool {
        self == other
    }

    fn __repr__(&self) -> String {
        format!(
            "ResolvedLimits(max_position={}, single_order_cap={}, min_order={}, \
             user_specified={})",
            self.max_position,
            self.single_order_cap,
            self.min_order,
            self.max_position_user_specified
        )
    }
}

/// Which limit wins (SPEC 2): `max_position_usd` at `ctx`'s mark, else `max_position`, else
/// derived from `capital_usd` and the account; with the single-order cap and minimum order.
/// The engine calls the same function whenever it re-resolves (its `limits`).
#[pyfunction]
fn resolve_limits(
    config: &crate::config::PyMarketMakerConfig,
    ctx: &ExchangeContext,
) -> PyResult<ResolvedLimits> {
    Ok(
        mmfast_core::risk::resolve_limits(&config.inner, &ctx.into())
            .py()?
            .into(),
    )
}

/// Derives limits from capital (SPEC 1).
#[pyfunction]
fn auto_derive(
    capital_usd: f64,
    spread_profile: &Bound<'_, PyAny>,
    ctx: &ExchangeContext,
) -> PyResult<DerivedParams> {
    let d = params::auto_derive(capital_usd, profile_arg(spread_profile)?, &ctx.into()).py()?;
    Ok(DerivedParams {
        max_position: d.max_position,
        max_position_usd: d.max_position_usd,
        target_liquidity: d.target_liquidity,
        risk_aversion: d.risk_aversion,
        max_bps_diff: d.max_bps_diff,
        min_order: d.min_order,
        capital_tier: format!("{:?}", d.capital_tier),
        levels_per_side: d.levels_per_side,
        viable: d.viable,
        diagnostic: d.diagnostic,
    })
}

/// One assessment of a position (SPEC 3).
#[pyclass(module = "mmfast._core", frozen, get_all)]
pub struct PositionAssessment {
    zone: PositionZone,
    max_new_exposure: f64,
    position_ratio: f64,
    position: f64,
    is_long: bool,
    increasing_side_spread_mult: f64,
}

#[pymethods]
impl PositionAssessment {
    fn __repr__(&self) -> String {
        format!(
            "PositionAssessment(zone=PositionZone.{:?}, position={}, position_ratio={}, \
             max_new_exposure={}, increasing_side_spread_mult={})",
            governor::PositionZone::from(self.zone),
            self.position,
            self.position_ratio,
            self.max_new_exposure,
            self.increasing_side_spread_mult
        )
    }
}

/// The inventory governor (SPEC 3).
#[pyclass(module = "mmfast._core", frozen)]
pub struct InventoryGovernor(CoreGovernor);

#[pymethods]
impl InventoryGovernor {
    #[new]
    fn new(max_position: f64) -> PyResult<Self> {
        CoreGovernor::new(max_position).py().map(Self)
    }

    #[getter]
    fn max_position(&self) -> f64 {
        self.0.max_position()
    }

    fn assess(&self, position: f64) -> PyResult<PositionAssessment> {
        let a = self.0.assess(finite("position", position)?);
        Ok(PositionAssessment {
            zone: a.zone.into(),
            max_new_exposure: a.max_new_exposure,
            position_ratio: a.position_ratio,
            position: a.position,
            is_long: a.is_long,
            increasing_side_spread_mult: a.increasing_side_spread_mult,
        })
    }

    fn would_exceed(&self, current_position: f64, order_size: f64, is_buy: bool) -> PyResult<bool> {
        finite("current_position", current_position)?;
        mmfast_core::check::non_negative("order_size", order_size).py()?;
        Ok(self.0.would_exceed(current_position, order_size, is_buy))
    }

    fn is_reducing(&self, position: f64, is_buy: bool) -> PyResult<bool> {
        Ok(self.0.is_reducing(finite("position", position)?, is_buy))
    }

    fn zone_adjusted_max(&self, regime_volatility_fraction: f64) -> PyResult<f64> {
        let f = finite("regime_volatility_fraction", regime_volatility_fraction)?;
        Ok(self.0.zone_adjusted_max(f))
    }

    fn __repr__(&self) -> String {
        format!("InventoryGovernor(max_position={})", self.0.max_position())
    }
}

/// Inputs of one mode decision (SPEC 5).
#[pyclass(module = "mmfast._core", frozen, get_all)]
#[derive(Clone, Copy)]
pub struct ModeSelectionInput {
    position_zone: PositionZone,
    toxicity_regime: ToxicityRegime,
    bid_has_value: bool,
    ask_has_value: bool,
    has_alpha: bool,
    position: f64,
}

#[pymethods]
impl ModeSelectionInput {
    #[new]
    #[pyo3(signature = (*, position_zone, toxicity_regime, bid_has_value, ask_has_value,
                        has_alpha, position))]
    fn new(
        position_zone: PositionZone,
        toxicity_regime: ToxicityRegime,
        bid_has_value: bool,
        ask_has_value: bool,
        has_alpha: bool,
        position: f64,
    ) -> PyResult<Self> {
        Ok(Self {
            position_zone,
            toxicity_regime,
            bid_has_value,
            ask_has_value,
            has_alpha,
            position: finite("position", position)?,
        })
    }
}

/// What the cycle does: `kind` is "Flat", "Maker" or "InventoryReduce"; `bid`/`ask` say which
/// sides it quotes (the reducing side for InventoryReduce).
#[pyclass(module = "mmfast._core", frozen, eq)]
#[derive(Clone, Copy, PartialEq)]
pub struct ExecutionMode(pub mode::ExecutionMode);

#[pymethods]
impl ExecutionMode {
    #[getter]
    fn kind(&self) -> &'static str {
        self.0.kind()
    }
    #[getter]
    fn bid(&self) -> bool {
        self.0.bid()
    }
    #[getter]
    fn ask(&self) -> bool {
        self.0.ask()
    }
    #[getter]
    fn urgency(&self) -> f64 {
        self.0.urgency()
    }

    fn __repr__(&self) -> String {
        match self.0 {
            mode::ExecutionMode::Flat => "ExecutionMode.Flat".to_string(),
            mode::ExecutionMode::Maker { bid, ask } => {
                format!("ExecutionMode.Maker(bid={bid}, ask={ask})")
            }
            mode::ExecutionMode::InventoryReduce { urgency, buy } => format!(
                "ExecutionMode.InventoryReduce(urgency={urgency}, side={})",
                if buy { "bid" } else { "ask" }
            ),
        }
    }
}

/// Selects the execution mode: `policy` is "seed" (SPEC 5's seven rules) or "skew_only".
#[pyfunction]
#[pyo3(signature = (input, policy = "seed"))]
fn select_mode(input: &ModeSelectionInput, policy: &str) -> PyResult<ExecutionMode> {
    let policy = match policy {
        "seed" => ModePolicy::Seed,
        "skew_only" => ModePolicy::SkewOnly,
        other => {
            return Err(PyValueError::new_err(format!(
                "mode_policy = {other:?}: expected \"seed\" or \"skew_only\""
            )))
        }
    };
    let i = mode::ModeSelectionInput {
        position_zone: input.position_zone.into(),
        toxicity_regime: input.toxicity_regime.into(),
        bid_has_value: input.bid_has_value,
        ask_has_value: input.ask_has_value,
        has_alpha: input.has_alpha,
        position: input.position,
    };
    Ok(ExecutionMode(mode::select_mode(&i, policy)))
}

/// Expected value of resting at a depth (SPEC 6).
#[pyclass(module = "mmfast._core")]
pub struct QueueValueHeuristic(CoreQueueValue);

#[pymethods]
impl QueueValueHeuristic {
    /// Defaults, or the `queue` section and fee of a config.
    #[new]
    #[pyo3(signature = (config = None))]
    fn new(config: Option<&PyMarketMakerConfig>) -> Self {
        Self(match config {
            Some(c) => {
                CoreQueueValue::new(c.inner.queue, c.inner.fee_bps, c.inner.ladder.as_prior_bps)
            }
            None => CoreQueueValue::default(),
        })
    }

    fn queue_value(
        &self,
        depth_bps: f64,
        toxicity: ToxicityRegime,
        queue_rank: f64,
    ) -> PyResult<f64> {
        let d = finite("depth_bps", depth_bps)?;
        let r = finite("queue_rank", queue_rank)?;
        Ok(self.0.queue_value(d, toxicity.into(), r))
    }

    fn should_quote(
        &self,
        depth_bps: f64,
        toxicity: ToxicityRegime,
        queue_rank: f64,
    ) -> PyResult<bool> {
        Ok(self.queue_value(depth_bps, toxicity, queue_rank)? > 0.0)
    }

    fn record_outcome(&mut self, predicted_bps: f64, realised_bps: f64) -> PyResult<()> {
        let p = finite("predicted_bps", predicted_bps)?;
        let r = finite("realised_bps", realised_bps)?;
        self.0.record_outcome(p, r);
        Ok(())
    }

    #[getter]
    fn prediction_bias_bps(&self) -> f64 {
        self.0.prediction_bias_bps()
    }

    #[getter]
    fn outcome_count(&self) -> u64 {
        self.0.outcome_count()
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<SpreadProfile>()?;
    m.add_class::<PositionZone>()?;
    m.add_class::<ToxicityRegime>()?;
    m.add_class::<ExchangeContext>()?;
    m.add_class::<DerivedParams>()?;
    m.add_class::<ResolvedLimits>()?;
    m.add_class::<PositionAssessment>()?;
    m.add_class::<InventoryGovernor>()?;
    m.add_class::<ModeSelectionInput>()?;
    m.add_class::<ExecutionMode>()?;
    m.add_class::<QueueValueHeuristic>()?;
    m.add_function(wrap_pyfunction!(auto_derive, m)?)?;
    m.add_function(wrap_pyfunction!(resolve_limits, m)?)?;
    m.add_function(wrap_pyfunction!(select_mode, m)?)?;
    Ok(())
}
