//! Which position limit wins (SPEC 2, 3): the one function that turns the config's stated limit
//! into numbers at a mark. The engine re-resolves as the mark and the account move; the
//! pre-send guard is handed the same result every time, so the two never disagree on the
//! ceiling.

use serde::{Deserialize, Serialize};

use crate::config::MarketMakerConfig;
use crate::params::{auto_derive, round_down, ExchangeContext};

/// The engine re-resolves its limits when its mid has moved more than this fraction since the
/// last resolve (and after account changes): a `max_position_usd` limit's coin ceiling follows
/// the mark with up to this lag. The venue's own check of a USD limit allows as much
/// (`MatchingEngine::set_max_position_usd`).
pub const LIMITS_REFRESH_FRAC: f64 = 0.005;

/// Concrete limits for one mark price, whichever way the config stated them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ResolvedLimits {
    /// The configured hard max on |position| in coin (the safety invariant's ceiling).
    pub max_position: f64,
    /// True when the operator set max_position or max_position_usd: margin may lower such a
    /// max but never raise it.
    pub max_position_user_specified: bool,
    pub target_liquidity: f64,
    pub risk_aversion: f64,
    pub max_bps_diff: f64,
    /// The largest single order in coin: the largest `ladder.single_order_fraction` of the
    /// max, never below one minimum order.
    pub single_order_cap: f64,
    /// The smallest order the bot places in coin: min notional with its buffer at the mark.
    pub min_order: f64,
}

/// Turns whichever limit the config states into concrete numbers at `ctx`'s mark.
/// `max_position_usd` wins over `max_position`, which wins over `capital_usd` (derived from the
/// account's margin and the exchange's numbers, SPEC 1).
///
/// # Errors
/// An invalid context (non-finite mark, ...).
pub fn resolve_limits(
    cfg: &MarketMakerConfig,
    ctx: &ExchangeContext,
) -> crate::Result<ResolvedLimits> {
    ctx.validate()?;
    let derived = auto_derive(
        cfg.capital_usd.unwrap_or(0.0),
        cfg.spread_profile,
        &ExchangeContext {
            fee_bps: cfg.fee_bps,
            ..*ctx
        },
    )?;
    let user_max = match (cfg.max_position_usd, cfg.max_position) {
        (Some(usd), _) => Some(round_down(usd / ctx.mark_px, ctx.sz_decimals)),
        (None, Some(m)) => Some(m),
        (None, None) => None,
    };
    let max_position = user_max.unwrap_or(derived.max_position);
    let min_order = ctx.min_order();
    let target = cfg.target_liquidity.unwrap_or_else(|| {
        (max_position * cfg.spread_profile.liquidity_fraction())
            .max(5.0 * min_order)
            .min(max_position)
    });
    let f = &cfg.ladder.single_order_fraction;
    let largest = f.quiet.max(f.normal).max(f.volatile).max(f.extreme);
    Ok(ResolvedLimits {
        max_position,
        max_position_user_specified: user_max.is_some(),
        target_liquidity: target.min(max_position),
        risk_aversion: cfg
            .risk_aversion
            .unwrap_or(cfg.spread_profile.risk_aversion()),
        max_bps_diff: cfg.reconcile.max_bps_diff,
        single_order_cap: (largest * max_position).max(min_order),
        min_order,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(mark_px: f64) -> ExchangeContext {
        ExchangeContext {
            mark_px,
            account_value: 1e4,
            available_margin: 1e4,
            max_leverage: 25.0,
            fee_bps: 1.5,
            sz_decimals: 4,
            min_notional: 10.0,
        }
    }

    fn load(text: &str) -> MarketMakerConfig {
        MarketMakerConfig::from_toml_str(text, "test", &[]).unwrap()
    }

    #[test]
    fn usd_wins_over_coin_wins_over_capital_hand_computed() {
        let c = load("max_position = 3.0\nmax_position_usd = 1000\n");
        let r = resolve_limits(&c, &ctx(2000.0)).unwrap();
        assert_eq!(r.max_position, 0.5);
        assert!(r.max_position_user_specified);
        // single-order cap: the largest fraction (quiet 0.5) of the max; min order 11.5 / 2000
        assert_eq!(r.single_order_cap, 0.25);
        assert!((r.min_order - 0.00575).abs() < 1e-15);
        assert_eq!(resolve_limits(&c, &ctx(4000.0)).unwrap().max_position, 0.25);
        let c = load("capital_usd = 1000\n");
        let r = resolve_limits(&c, &ctx(2000.0)).unwrap();
        assert_eq!(r.max_position, 0.5);
        assert!(!r.max_position_user_specified);
        assert!((r.target_liquidity - 0.1).abs() < 1e-12);
        assert_eq!(r.risk_aversion, 0.02);
    }

    #[test]
    fn single_order_cap_never_below_one_minimum_order() {
        let c = load("max_position = 0.001\n");
        let r = resolve_limits(&c, &ctx(2000.0)).unwrap();
        assert!((r.single_order_cap - 11.5 / 2000.0).abs() < 1e-15);
    }
}
