//! Parameter derivation (SPEC 1): every trading limit from the operator's capital and the
//! exchange's numbers.

use serde::{Deserialize, Serialize};

use crate::check::{self, Result};

/// Buffer over the exchange's minimum notional so that a rounded order still clears it.
pub const MIN_NOTIONAL_BUFFER: f64 = 1.15;
/// Share of the leveraged margin capacity the derivation is willing to use.
pub const MARGIN_SAFETY: f64 = 0.5;

/// Lowest maker fee accepted, bps: a maker rebate is a negative fee (`userFees.userAddRate`
/// is negative for it). Hyperliquid's best published rebate is -0.3 bps (> 3% of 14-day maker
/// volume, PROTOCOL 5.3); -1 leaves room for a schedule change without admitting a typo'd -15.
pub const MIN_FEE_BPS: f64 = -1.0;

/// What the exchange and the account say at startup.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ExchangeContext {
    pub mark_px: f64,
    pub account_value: f64,
    pub available_margin: f64,
    pub max_leverage: f64,
    pub fee_bps: f64,
    pub sz_decimals: u32,
    pub min_notional: f64,
}

impl ExchangeContext {
    /// Checks every field's domain, naming the first field that is out of it.
    ///
    /// # Errors
    /// Non-finite values; mark or min notional <= 0; negative margin, leverage or account
    /// value; a fee below `MIN_FEE_BPS` (a rebate tier's negative fee is valid) or above 100 bps;
    /// more than 10 size decimals.
    pub fn validate(&self) -> Result<()> {
        check::positive("mark_px", self.mark_px)?;
        check::non_negative("available_margin", self.available_margin)?;
        check::non_negative("account_value", self.account_value)?;
        check::non_negative("max_leverage", self.max_leverage)?;
        check::in_range("fee_bps", self.fee_bps, MIN_FEE_BPS, 100.0)?;
        check::positive("min_notional", self.min_notional)?;
        check::in_range("sz_decimals", f64::from(self.sz_decimals), 0.0, 10.0)?;
        Ok(())
    }

    /// The smallest order the bot places: min notional with its buffer, in coin.
    pub fn min_order(&self) -> f64 {
        self.min_notional * MIN_NOTIONAL_BUFFER / self.mark_px
    }
}

/// How wide and how large the derived quoting is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpreadProfile {
    #[default]
    Default,
    Hip3,
    Aggressive,
}

impl SpreadProfile {
    /// Share of max position quoted per side.
    pub fn liquidity_fraction(self) -> f64 {
        match self {
            SpreadProfile::Default => 0.20,
            SpreadProfile::Hip3 => 0.30,
            SpreadProfile::Aggressive => 0.40,
        }
    }

    /// GLFT gamma in the bps units of SPEC 7.
    pub fn risk_aversion(self) -> f64 {
        match self {
            SpreadProfile::Default => 0.02,
            SpreadProfile::Hip3 => 0.01,
            SpreadProfile::Aggressive => 0.0067,
        }
    }
}

/// Size class of an account, for logs: levels per side it can fund at min notional.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CapitalTier {
    Micro,
    Small,
    Medium,
    Large,
}

impl CapitalTier {
    pub fn from_levels(levels: u64) -> Self {
        match levels {
            0..=2 => CapitalTier::Micro,
            3..=5 => CapitalTier::Small,
            6..=15 => CapitalTier::Medium,
            _ => CapitalTier::Large,
        }
    }
}

/// The derivation's output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DerivedParams {
    /// Hard ceiling in coin, rounded down to the size decimals.
    pub max_position: f64,
    pub max_position_usd: f64,
    /// Per-side liquidity in coin.
    pub target_liquidity: f64,
    /// GLFT gamma (bps units).
    pub risk_aversion: f64,
    /// Requote threshold in bps.
    pub max_bps_diff: f64,
    pub min_order: f64,
    pub capital_tier: CapitalTier,
    /// Levels per side the position can fund at min notional.
    pub levels_per_side: u64,
    pub viable: bool,
    /// Why the account cannot trade, with the numbers; `None` when viable.
    pub diagnostic: Option<String>,
}

/// Rounds `x >= 0` down to `decimals`, tolerating the f64 error of exact quotients (1000 / 2000
/// must give 0.5, not 0.4999).
pub fn round_down(x: f64, decimals: u32) -> f64 {
    let scale = 10f64.powi(decimals as i32);
    ((x * scale) * (1.0 + 1e-12)).floor() / scale
}

/// Derives limits from capital (SPEC 1).
///
/// # Errors
/// Non-finite or negative capital, and any context field out of its domain, are an error naming
/// the field. Zero capital or zero margin are valid and simply not viable.
pub fn auto_derive(
    capital_usd: f64,
    spread_profile: SpreadProfile,
    ctx: &ExchangeContext,
) -> Result<DerivedParams> {
    check::non_negative("capital_usd", capital_usd)?;
    ctx.validate()?;
    let mark = ctx.mark_px;
    let from_capital = capital_usd / mark;
    let from_margin = ctx.available_margin * ctx.max_leverage * MARGIN_SAFETY / mark;
    let max_position = round_down(from_capital.min(from_margin).max(0.0), ctx.sz_decimals);
    let min_order = ctx.min_order();
    let viable = max_position >= min_order;
    let target_liquidity = (max_position * spread_profile.liquidity_fraction())
        .max(5.0 * min_order)
        .min(max_position);
    let fee_bps = ctx.fee_bps;
    let max_bps_diff = (2.0 * fee_bps).clamp(3.0, 15.0);
    let order_usd = ctx.min_notional * MIN_NOTIONAL_BUFFER;
    let levels_per_side = (max_position * mark / 2.0 / order_usd).floor() as u64;
    let diagnostic = (!viable).then(|| {
        let binding = if from_capital <= from_margin {
            format!("capital ${capital_usd:.2} supports {from_capital:.6}")
        } else {
            format!(
                "margin ${:.2} x {} leverage x {MARGIN_SAFETY} supports {from_margin:.6}",
                ctx.available_margin, ctx.max_leverage
            )
        };
        format!(
            "not viable: {binding} (max_position {max_position}), below the minimum order \
             {min_order:.6} (${order_usd:.2} at mark {mark}); at least ${:.2} of capital and \
             margin is needed for two minimum orders",
            2.0 * order_usd
        )
    });
    Ok(DerivedParams {
        max_position,
        max_position_usd: max_position * mark,
        target_liquidity,
        risk_aversion: spread_profile.risk_aversion(),
        max_bps_diff,
        min_order,
        capital_tier: CapitalTier::from_levels(levels_per_side),
        levels_per_side,
        viable,
        diagnostic,
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn ctx(mark: f64, margin: f64, lev: f64) -> ExchangeContext {
        ExchangeContext {
            mark_px: mark,
            account_value: margin,
            available_margin: margin,
            max_leverage: lev,
            fee_bps: 1.5,
            sz_decimals: 4,
            min_notional: 10.0,
        }
    }

    #[test]
    fn spec_example_capital_1000_mark_2000() {
        let d = auto_derive(1000.0, SpreadProfile::Default, &ctx(2000.0, 1000.0, 25.0)).unwrap();
        assert_eq!(d.max_position, 0.5);
        assert_eq!(d.max_position_usd, 1000.0);
        // clamp(0.5 * 0.2, 5 * 0.00575, 0.5) = 0.1
        assert!((d.target_liquidity - 0.1).abs() < 1e-12);
        assert_eq!(d.risk_aversion, 0.02);
        assert_eq!(d.max_bps_diff, 3.0);
        assert!((d.min_order - 0.00575).abs() < 1e-15);
        // floor(0.5 * 2000 / 2 / 11.5) = 43 levels -> Large
        assert_eq!(d.levels_per_side, 43);
        assert_eq!(d.capital_tier, CapitalTier::Large);
        assert!(d.viable && d.diagnostic.is_none());
    }

    #[test]
    fn tiny_capital_is_not_viable_and_says_why() {
        let d = auto_derive(5.0, SpreadProfile::Default, &ctx(3000.0, 1000.0, 25.0)).unwrap();
        assert!(!d.viable);
        assert_eq!(d.max_position, 0.0016);
        let msg = d.diagnostic.unwrap();
        assert!(msg.contains("capital $5.00"), "{msg}");
        assert!(msg.contains("0.003833"), "{msg}");
        assert!(msg.contains("$23.00"), "{msg}");
        // The upper bound wins the clamp: target never exceeds max.
        assert_eq!(d.target_liquidity, d.max_position);
    }

    #[test]
    fn margin_binds_and_zero_margin_is_not_viable() {
        // margin: 100 * 10 * 0.5 / 2000 = 0.25 < capital 0.5
        let d = auto_derive(1000.0, SpreadProfile::Hip3, &ctx(2000.0, 100.0, 10.0)).unwrap();
        assert_eq!(d.max_position, 0.25);
        assert!((d.target_liquidity - 0.075).abs() < 1e-12);
        assert_eq!(d.risk_aversion, 0.01);
        let d = auto_derive(1000.0, SpreadProfile::Default, &ctx(2000.0, 0.0, 10.0)).unwrap();
        assert!(!d.viable);
        assert!(d.diagnostic.unwrap().contains("margin $0.00"));
    }

    #[test]
    fn max_bps_diff_clamps() {
        let mut c = ctx(2000.0, 1000.0, 25.0);
        c.fee_bps = 4.5;
        let d = auto_derive(1000.0, SpreadProfile::Aggressive, &c).unwrap();
        assert_eq!(d.max_bps_diff, 9.0);
        c.fee_bps = 20.0;
        assert_eq!(
            auto_derive(1000.0, SpreadProfile::Default, &c)
                .unwrap()
                .max_bps_diff,
            15.0
        );
    }

    #[test]
    fn bad_inputs_name_the_field() {
        let ok = ctx(2000.0, 1000.0, 25.0);
        let err = |cap: f64, c: ExchangeContext| {
            auto_derive(cap, SpreadProfile::Default, &c)
                .unwrap_err()
                .to_string()
        };
        assert!(err(f64::NAN, ok).contains("capital_usd = NaN"));
        assert!(err(-1.0, ok).contains("capital_usd = -1"));
        let mut c = ok;
        c.mark_px = 0.0;
        assert!(err(1.0, c).contains("mark_px = 0"));
        c = ok;
        c.max_leverage = -3.0;
        assert!(err(1.0, c).contains("max_leverage = -3"));
        c = ok;
        c.available_margin = f64::INFINITY;
        assert!(err(1.0, c).contains("available_margin = inf"));
        c = ok;
        c.fee_bps = -1.5;
        assert!(err(1.0, c).contains("fee_bps = -1.5"));
    }

    #[test]
    fn a_maker_rebate_is_a_valid_fee() {
        // A rebate-tier account: userFees.userAddRate = -0.00003 -> -0.3 bps.
        let mut c = ctx(2000.0, 1000.0, 25.0);
        c.fee_bps = -0.3;
        let d = auto_derive(1000.0, SpreadProfile::Default, &c).unwrap();
        assert!(d.viable);
        // The keep-or-replace tolerance stays at its 3 bps floor.
        assert_eq!(d.max_bps_diff, 3.0);
    }

    proptest! {
        #[test]
        fn max_position_is_finite_and_non_negative(
            cap in 0f64..1e9, mark in 1e-6f64..1e6, margin in 0f64..1e9, lev in 0f64..100.0,
            dec in 0u32..8,
        ) {
            let mut c = ctx(mark, margin, lev);
            c.sz_decimals = dec;
            let d = auto_derive(cap, SpreadProfile::Default, &c).unwrap();
            prop_assert!(d.max_position.is_finite() && d.max_position >= 0.0);
            prop_assert!(d.target_liquidity <= d.max_position + 1e-12);
            prop_assert!(d.max_position <= cap / mark * (1.0 + 1e-9));
            prop_assert_eq!(d.viable, d.diagnostic.is_none());
        }
    }
}
