//! `QuoteEngine`: its state (market and signal views, models, our orders, batches in flight,
//! markouts), its construction, and the account, runtime and override setters. The cycle is in
//! `cycle`, the order lifecycle in `lifecycle`, market inputs in `market`.

use super::lifecycle::{
    AdverseSelection, PendingBatch, PendingMarkout, MARKOUT_RING, MAX_BATCHES, TID_RING,
};
use super::orders::{CloidGen, Exposure, OrderTracker, TrackedOrder};
use super::output::CycleOutput;
use super::reconcile::{AddressQuota, Decisions, TokenBucket};
use super::views::{MarketView, SignalView};
use crate::book::HlBook;
use crate::check;
use crate::config::{MarketMakerConfig, ResolvedLimits};
use crate::error::Result;
use crate::governor::InventoryGovernor;
use crate::queue_value::QueueValueHeuristic;
use crate::signals::SignalIntegrator;
use crate::strategy::{LadderOutput, LadderStrategy};

#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(super) struct Account {
    pub(super) position: f64,
    pub(super) available_margin: f64,
    pub(super) account_value: f64,
    pub(super) leverage: f64,
    pub(super) known: bool,
}

/// Scratch space of one cycle, kept between cycles so the cycle never allocates.
#[derive(Debug, Clone, Default)]
pub(super) struct Scratch {
    pub(super) ladder: LadderOutput,
    /// Reconcile decisions of the bid side and of the ask side.
    pub(super) decisions: [Decisions; 2],
}

/// The quote engine. See the module doc for the cycle.
#[derive(Debug, Clone)]
pub struct QuoteEngine {
    pub(super) cfg: MarketMakerConfig,
    pub(super) ladder: LadderStrategy,
    pub(super) queue: QueueValueHeuristic,
    pub(super) adverse: AdverseSelection,
    pub(super) orders: OrderTracker,
    pub(super) cloids: CloidGen,
    pub(super) bucket: TokenBucket,
    pub(super) quota: AddressQuota,
    pub(super) market: MarketView,
    pub(super) hl_book: HlBook,
    pub(super) signals: SignalView,
    /// Set by `set_signals`: replaces the integrator's view (research, tests, backtests).
    pub(super) signal_override: Option<SignalView>,
    pub(super) integrator: SignalIntegrator,
    /// `load_state` restored the integrator (a warm restart of the signals).
    pub(super) signals_restored: bool,
    pub(super) lead_disabled: bool,
    pub(super) account: Account,
    pub(super) limits: Option<ResolvedLimits>,
    pub(super) governor: Option<InventoryGovernor>,
    pub(super) limits_mid: f64,
    pub(super) limits_dirty: bool,
    pub(super) day: Option<(u64, f64)>,
    pub(super) day_start_equity: Option<f64>,
    pub(super) next_batch: u64,
    pub(super) batches: [Option<PendingBatch>; MAX_BATCHES],
    pub(super) markouts: [PendingMarkout; MARKOUT_RING],
    pub(super) markout_len: usize,
    pub(super) tids: [u64; TID_RING],
    pub(super) tid_pos: usize,
    pub(super) in_kill: bool,
    pub(super) last_requote_ms: Option<u64>,
    /// When the last taker exit was sent (`risk.taker_exit_cooldown_ms`).
    pub(super) last_exit_ms: Option<u64>,
    pub(super) cycles: u64,
    pub(super) no_signal_cycles: u64,
    pub(super) out: CycleOutput,
    pub(super) scratch: Box<Scratch>,
}

impl QuoteEngine {
    /// Builds an engine for a validated config. `seed` makes this process's cloid prefix (pass
    /// fresh randomness in production, a fixed number in a backtest).
    ///
    /// # Errors
    /// The config's violations, all at once.
    pub fn new(cfg: MarketMakerConfig, seed: u64) -> Result<Self> {
        cfg.validate()?;
        let ic = &cfg.impulse_control;
        Ok(Self {
            ladder: LadderStrategy::new(&cfg),
            queue: QueueValueHeuristic::new(cfg.queue, cfg.fee_bps, cfg.ladder.as_prior_bps),
            adverse: AdverseSelection::default(),
            orders: OrderTracker::default(),
            cloids: CloidGen::new(seed),
            bucket: TokenBucket::new(ic.actions_per_minute, ic.burst),
            quota: AddressQuota::default(),
            market: MarketView::default(),
            signals: SignalView::cold(&cfg),
            signal_override: None,
            integrator: SignalIntegrator::new(&cfg),
            signals_restored: false,
            lead_disabled: false,
            account: Account {
                leverage: f64::from(cfg.leverage),
                ..Default::default()
            },
            limits: None,
            governor: None,
            limits_mid: 0.0,
            limits_dirty: true,
            day: None,
            day_start_equity: None,
            next_batch: 1,
            batches: [None; MAX_BATCHES],
            markouts: [PendingMarkout::default(); MARKOUT_RING],
            markout_len: 0,
            tids: [0; TID_RING],
            tid_pos: 0,
            in_kill: false,
            last_requote_ms: None,
            last_exit_ms: None,
            cycles: 0,
            no_signal_cycles: 0,
            out: CycleOutput::default(),
            scratch: Box::default(),
            hl_book: HlBook::new(cfg.runtime.sz_decimals)?.for_coin(&cfg.asset),
            cfg,
        })
    }

    pub fn config(&self) -> &MarketMakerConfig {
        &self.cfg
    }

    pub fn orders(&self) -> &[TrackedOrder] {
        self.orders.as_slice()
    }

    pub fn position(&self) -> f64 {
        self.account.position
    }

    pub fn market(&self) -> &MarketView {
        &self.market
    }

    pub fn signals(&self) -> &SignalView {
        &self.signals
    }

    pub fn exposure(&self) -> Exposure {
        self.orders.exposure()
    }

    /// The configured max at the last resolve, if known.
    pub fn configured_max(&self) -> Option<f64> {
        self.limits.map(|l| l.max_position)
    }

    /// The limits of the last resolve (`risk::resolve_limits`), if known: what the pre-send
    /// guard enforces, handed over every time they are re-resolved.
    pub fn limits(&self) -> Option<ResolvedLimits> {
        self.limits
    }

    pub fn last_output(&self) -> &CycleOutput {
        &self.out
    }

    /// Sets the asset's exchange facts (from `meta`): asset id and size decimals.
    ///
    /// # Errors
    /// `sz_decimals` above 6 (perps allow at most 6 price decimals in all).
    pub fn set_runtime(&mut self, asset_id: u32, sz_decimals: u32) -> Result<()> {
        if sz_decimals > 6 {
            return Err(crate::Error::invalid(
                "sz_decimals",
                sz_decimals,
                "perps have at most 6",
            ));
        }
        self.hl_book = HlBook::new(sz_decimals)?.for_coin(&self.cfg.asset);
        self.cfg.runtime = crate::config::AssetRuntimeConfig::perp(asset_id, sz_decimals);
        self.limits_dirty = true;
        Ok(())
    }

    /// Updates the account. Each argument is optional (`None` leaves it as it is); all are
    /// checked before any is applied.
    ///
    /// # Errors
    /// A non-finite value, negative margin or account value, or leverage below 1.
    pub fn set_account(
        &mut self,
        position: Option<f64>,
        available_margin: Option<f64>,
        account_value: Option<f64>,
        leverage: Option<f64>,
    ) -> Result<()> {
        if let Some(p) = position {
            check::finite("position", p)?;
        }
        if let Some(m) = available_margin {
            check::non_negative("available_margin", m)?;
        }
        if let Some(v) = account_value {
            check::non_negative("account_value", v)?;
        }
        if let Some(l) = leverage {
            if !(l.is_finite() && l >= 1.0) {
                return Err(crate::Error::invalid("leverage", l, "must be >= 1"));
            }
        }
        let a = &mut self.account;
        if let Some(p) = position {
            a.position = p;
        }
        if let Some(m) = available_margin {
            a.available_margin = m;
        }
        if let Some(v) = account_value {
            a.account_value = v;
        }
        if let Some(l) = leverage {
            a.leverage = l;
        }
        a.known = a.known || available_margin.is_some();
        self.limits_dirty = true;
        Ok(())
    }

    /// The equity the current UTC day opened with (SPEC 10: the live loop knows the calendar and
    /// the losses carried across restarts); `None` returns to the engine's own 24 h windows.
    ///
    /// # Errors
    /// A non-finite or negative value.
    pub fn set_day_start_equity(&mut self, equity: Option<f64>) -> Result<()> {
        if let Some(v) = equity {
            check::non_negative("day_start_equity", v)?;
        }
        self.day_start_equity = equity;
        Ok(())
    }

    /// The address quota from `userRateLimit` (`nRequestsUsed`, `nRequestsCap`).
    pub fn set_quota(&mut self, used: u64, cap: u64) {
        self.quota = AddressQuota {
            used,
            cap,
            known: true,
        };
    }

    /// Overrides the signal integrator: from now on the cycle uses `s` (research, tests, and
    /// backtests that model signals themselves) until `clear_signal_override`.
    pub fn set_signals(&mut self, s: SignalView) {
        self.signals = s;
        self.signal_override = Some(s);
    }

    /// Back to the signal integrator's view.
    pub fn clear_signal_override(&mut self) {
        self.signal_override = None;
    }

    pub fn integrator(&self) -> &SignalIntegrator {
        &self.integrator
    }
}
