//! Ladder behaviour: hand-checked cases and invariants over random inputs.

use proptest::prelude::*;

use super::*;
use crate::config::MarketMakerConfig;
use crate::types::{Side, VolRegime};

fn cfg() -> MarketMakerConfig {
    MarketMakerConfig {
        max_position: Some(1.0),
        ..Default::default()
    }
}

/// ETH-like market at 3000 (szDecimals 4, so 1 price decimal at this magnitude), flat, cold.
fn input() -> LadderInput {
    LadderInput {
        mid: 3000.0,
        best_bid: 2999.9,
        best_ask: 3000.1,
        sz_decimals: 4,
        min_notional: 10.0,
        sigma_bps: 2.0,
        kappa: 0.25,
        a_intensity: 0.5,
        gamma_base: 0.02,
        risk: RiskFeatures {
            vol_ratio: 1.0,
            ..Default::default()
        },
        alpha_bps: 0.0,
        alpha_lean_bps: 0.0,
        measured_as_bps: 0.0,
        as_warmup: 0.0,
        flow_side: None,
        flow_as_bps: 0.0,
        flow_as_warmup: 0.0,
        regime: VolRegime::Normal,
        position: 0.0,
        effective_max: 1.0,
        target_liquidity: 0.2,
        room_bid: 1.0,
        room_ask: 1.0,
        margin_notional: 1e6,
        quote_bid: true,
        quote_ask: true,
        reduce_only: false,
        urgency: 0.0,
        bid_mult: 1.0,
        ask_mult: 1.0,
    }
}

/// The ladder of `cfg()` with these ladder settings.
fn with_ladder(ladder: crate::config::LadderConfig) -> LadderStrategy {
    LadderStrategy::new(&MarketMakerConfig { ladder, ..cfg() })
}

fn run(strategy: &LadderStrategy, inp: &LadderInput) -> LadderOutput {
    let mut out = LadderOutput::default();
    strategy.quote(inp, &mut out);
    out
}

#[test]
fn cold_default_ladder_quotes_both_sides_at_the_floor() {
    let s = LadderStrategy::new(&cfg());
    let out = run(&s, &input());
    // GLFT 4.3236 + AS prior 3.0 = 7.32 < floor 8.01: both touches at the floor.
    assert!((out.diag.bid_touch_bps - 8.01).abs() < 1e-12);
    assert!((out.diag.ask_touch_bps - 8.01).abs() < 1e-12);
    assert!((out.diag.half_spread_bps - 4.323557).abs() < 1e-6);
    assert!(!out.bids.is_empty() && !out.asks.is_empty());
    let b0 = out.bids.as_slice()[0];
    let a0 = out.asks.as_slice()[0];
    // 3000 * (1 - 8.01e-4) = 2997.597 -> down to 2997.5; 3002.403 -> up to 3002.5.
    assert_eq!((b0.level, b0.px), (0, 2997.5));
    assert_eq!((a0.level, a0.px), (0, 3002.5));
    for side in [&out.bids, &out.asks] {
        assert!(side.total() <= 0.2 + 1e-12);
        assert!(
            side.total() > 0.19,
            "target liquidity is quoted: {}",
            side.total()
        );
        for q in side.as_slice() {
            assert!(q.sz * q.px >= 11.5, "min notional with buffer: {q:?}");
            assert!(is_valid_price(q.px, 4));
        }
    }
}

#[test]
fn concentration_fallback_just_under_and_over_min_notional() {
    let s = LadderStrategy::new(&cfg());
    // Level 0 bid at 2997.5: min order 11.5 / 2997.5 = 0.0038365 -> 0.0039 in lots.
    let mut inp = input();
    inp.target_liquidity = 0.0038;
    let out = run(&s, &inp);
    assert!(
        out.bids.is_empty() && out.asks.is_empty(),
        "just under: no quote"
    );
    inp.target_liquidity = 0.0039;
    let out = run(&s, &inp);
    assert_eq!(out.bids.len(), 1, "just over: one level");
    let q = out.bids.as_slice()[0];
    assert_eq!(
        (q.level, q.sz),
        (0, 0.0039),
        "the best-value depth takes it all"
    );
    // Enough for two levels at their weights (level 1 gets ~47%): the two best-valued depths.
    inp.target_liquidity = 0.0100;
    let out = run(&s, &inp);
    assert_eq!(out.bids.len(), 2);
    assert!(out.bids.as_slice().iter().all(|q| q.sz >= 0.0039));
}

#[test]
fn single_order_cap_and_room() {
    let s = LadderStrategy::new(&cfg());
    let mut inp = input();
    inp.target_liquidity = 1.0;
    let out = run(&s, &inp);
    // Normal regime: 0.25 x effective max 1.0 per order.
    for q in out.bids.as_slice() {
        assert!(q.sz <= 0.25 + 1e-12, "{q:?}");
    }
    assert!(out.bids.total() > 0.95, "water-filled up to the total");
    inp.regime = VolRegime::Extreme;
    let out = run(&s, &inp);
    assert!(out.bids.as_slice().iter().all(|q| q.sz <= 0.1 + 1e-12));
    assert!(out.bids.total() <= 0.5 + 1e-12, "5 levels x 0.10");
    // The room left bounds the side.
    inp.regime = VolRegime::Normal;
    inp.room_bid = 0.05;
    let out = run(&s, &inp);
    assert!(out.bids.total() <= 0.05 + 1e-12);
    assert!(out.bids.as_slice().iter().all(|q| q.sz <= 0.05));
    // A tiny effective max still allows one minimum order (SPEC 3 floor).
    inp.effective_max = 0.001;
    inp.room_bid = 0.01;
    let out = run(&s, &inp);
    assert!(!out.bids.is_empty());
    assert!(out.bids.as_slice()[0].sz >= 0.0039);
}

#[test]
fn no_signal_cap_scales_quote_size_to_30_percent() {
    let s = LadderStrategy::new(&cfg());
    let mut inp = input();
    inp.target_liquidity = 1.0;
    let full = run(&s, &inp).bids.total();
    inp.effective_max = 0.3;
    inp.room_bid = 0.3;
    let capped = run(&s, &inp).bids.total();
    assert!((capped / full - 0.3).abs() < 0.01, "{capped} / {full}");
}

#[test]
fn capital_limited_level_count() {
    let s = LadderStrategy::new(&cfg());
    let mut inp = input();
    inp.margin_notional = 2.5 * 11.5; // funds two levels at min notional
    let out = run(&s, &inp);
    assert_eq!(out.diag.levels_fundable, 2);
    assert!(out.bids.len() <= 2 && !out.bids.is_empty());
    for q in out.bids.as_slice() {
        assert!(q.sz * q.px >= 11.5);
    }
}

#[test]
fn inventory_skew_and_overlay() {
    let s = with_ladder(crate::config::LadderConfig {
        min_half_spread_bps: 2.5,
        ..Default::default()
    });
    let mut inp = input();
    inp.position = 0.08; // 2 units of 0.04 (target 0.2 / 5 levels)
    let out = run(&s, &inp);
    // skew = 2 * c2 = 1.902021 < clamp 0.8 * 4.323557; bid = 4.323557 + 1.902021 + 3.
    assert!((out.diag.skew_bps - 2.0 * 0.951011).abs() < 1e-5);
    assert!((out.diag.bid_touch_bps - (4.323557 + 1.902021 + 3.0)).abs() < 1e-5);
    assert!((out.diag.ask_touch_bps - (4.323557 - 1.902021 + 3.0)).abs() < 1e-5);
    // Alpha of +10 bps (an up move predicted) is not part of the clamped skew: it moves the
    // price the depths are measured from. The ask, toward which the move runs, by all of it:
    // 3000 x 1.001 = 3003.0, then 5.421536 bps out: 3004.628 -> 3004.7. The bid by the lean:
    // none, 9.225578 bps under 3000: 2997.232 -> 2997.2; a lean of 4 bps: under 3001.2,
    // 2998.431 -> 2998.4.
    inp.alpha_bps = 10.0;
    let out = run(&s, &inp);
    assert!((out.diag.skew_bps - 2.0 * 0.951011).abs() < 1e-5);
    let level0 = |q: &[Quote]| q.iter().find(|q| q.level == 0).map(|q| q.px);
    assert_eq!(level0(out.asks.as_slice()), Some(3004.7));
    assert_eq!(level0(out.bids.as_slice()), Some(2997.2));
    inp.alpha_lean_bps = 4.0;
    let out = run(&s, &inp);
    assert_eq!(level0(out.bids.as_slice()), Some(2998.4));
    assert_eq!(level0(out.asks.as_slice()), Some(3004.7));
    // Down 10 bps: the bid moves down by all of it (3000 x 0.999 = 2997.0, then 9.225578 bps:
    // 2994.235 -> 2994.2), the ask in by the lean of -4 (2998.8 x 1.000542 = 3000.426 ->
    // 3000.5).
    inp.alpha_bps = -10.0;
    inp.alpha_lean_bps = -4.0;
    let out = run(&s, &inp);
    assert_eq!(level0(out.bids.as_slice()), Some(2994.2));
    assert_eq!(level0(out.asks.as_slice()), Some(3000.5));
    // A reduce-only side is not moved (its urgency is measured from the book's best price).
    inp.reduce_only = true;
    inp.room_bid = 0.0;
    inp.room_ask = 0.08;
    let out = run(&s, &inp);
    assert_eq!(level0(out.asks.as_slice()), Some(3001.7));
    inp.reduce_only = false;
    inp.room_bid = 1.0;
    inp.room_ask = 1.0;
    inp.alpha_lean_bps = 0.0;
    // Overlay 3x on the bid.
    inp.alpha_bps = 0.0;
    inp.bid_mult = 3.0;
    let out = run(&s, &inp);
    assert!((out.diag.bid_touch_bps - 3.0 * (4.323557 + 1.902021 + 3.0)).abs() < 1e-4);
}

#[test]
fn the_skew_clamp_is_a_share_of_the_quoted_half_spread_not_of_the_glft_term() {
    // Default ladder: floor 8.01, buffer prior 3. The GLFT term at the priors is 4.323557 (c2
    // 0.951011), so the quoted half-spread at q = 0 is the floor, 8.01, and the clamp 6.408;
    // it was 0.8 x 4.323557 = 3.459 (the position then drifted into Yellow: issue 14).
    let s = LadderStrategy::new(&cfg());
    let mut inp = input();
    inp.position = 0.2; // 5 units of 0.04: skew 5 x 0.951011 = 4.755053, inside the clamp
    let out = run(&s, &inp);
    assert!(
        (out.diag.skew_bps - 4.755053).abs() < 1e-5,
        "{}",
        out.diag.skew_bps
    );
    // bid max(4.323557 + 4.755053 + 3, 8.01); ask max(4.323557 - 4.755053 + 3, 8.01).
    assert!((out.diag.bid_touch_bps - 12.078610).abs() < 1e-5);
    assert!((out.diag.ask_touch_bps - 8.01).abs() < 1e-12);
    inp.position = 0.4; // 10 units: 9.51 bps, clamped to 0.8 x 8.01
    let out = run(&s, &inp);
    assert!((out.diag.skew_bps - 6.408).abs() < 1e-9);
    assert!((out.diag.bid_touch_bps - (4.323557 + 6.408 + 3.0)).abs() < 1e-5);
}

#[test]
fn adverse_selection_buffer_blends_by_warmup() {
    let s = LadderStrategy::new(&cfg());
    assert_eq!(s.as_buffer(0.0, 0.0), 3.0, "cold: the prior, never zero");
    assert_eq!(s.as_buffer(5.0, 1.0), 5.0);
    assert!((s.as_buffer(5.0, 0.25) - (0.25 * 5.0 + 0.75 * 3.0)).abs() < 1e-15);
    // Favourable markouts count as measured (not clipped: a clipped noisy mean is biased up);
    // the floor, not the buffer, bounds the quote.
    assert_eq!(s.as_buffer(-4.0, 1.0), -4.0);
    assert!((s.as_buffer(-4.0, 0.5) - (-2.0 + 1.5)).abs() < 1e-15);
    assert_eq!(s.as_buffer(f64::NAN, 0.5), 3.0);
}

/// One-sided taker flow: only the side it runs into is priced with the buffer measured there.
#[test]
fn the_side_one_sided_flow_runs_into_takes_the_buffer_learned_there() {
    // Flat, GLFT 4.323557 at the priors, floor 8.01, ordinary buffer measured 1 (warm). Sells
    // run into the bids: the bid takes 0.5 x 12 + 0.5 x 3 (prior) = 7.5, the ask keeps 1.
    let s = LadderStrategy::new(&cfg());
    let mut inp = input();
    inp.measured_as_bps = 1.0;
    inp.as_warmup = 1.0;
    inp.flow_as_bps = 12.0;
    inp.flow_as_warmup = 0.5;
    let calm = run(&s, &inp);
    assert!((calm.diag.bid_touch_bps - 8.01).abs() < 1e-12);
    assert!((calm.diag.ask_touch_bps - 8.01).abs() < 1e-12);
    inp.flow_side = Some(Side::Bid);
    let out = run(&s, &inp);
    assert!((out.diag.bid_touch_bps - (4.323557 + 7.5)).abs() < 1e-5);
    assert!((out.diag.ask_touch_bps - 8.01).abs() < 1e-12);
    assert_eq!(
        out.diag.as_buffer_bps, 1.0,
        "the ordinary buffer is reported"
    );
    assert!(out.bids.as_slice()[0].px < calm.bids.as_slice()[0].px);
    assert_eq!(out.asks.as_slice(), calm.asks.as_slice());
    inp.flow_side = Some(Side::Ask);
    let out = run(&s, &inp);
    assert!((out.diag.ask_touch_bps - (4.323557 + 7.5)).abs() < 1e-5);
    assert_eq!(out.bids.as_slice(), calm.bids.as_slice());
}

#[test]
fn reduce_only_at_full_urgency_joins_the_best_price() {
    let s = LadderStrategy::new(&cfg());
    let mut inp = input();
    inp.position = 0.5;
    inp.reduce_only = true;
    inp.urgency = 1.0;
    inp.quote_bid = false;
    inp.room_ask = 0.5;
    let out = run(&s, &inp);
    assert!(out.bids.is_empty());
    let a0 = out.asks.as_slice()[0];
    assert_eq!(a0.px, 3000.1, "joins the best ask");
    assert!(out.asks.total() <= 0.5 + 1e-12);
    // Urgency 0.7: 30% of the way back to the normal depth.
    inp.urgency = 0.7;
    let out = run(&s, &inp);
    let join = 0.1 / 3000.0 * 1e4;
    let expect = join + 0.3 * (8.01 - join);
    assert!(
        (out.diag.ask_touch_bps - expect).abs() < 1e-9,
        "{}",
        out.diag.ask_touch_bps
    );
}

#[test]
fn the_reducing_side_shows_its_share_of_the_position() {
    let with_share = |share: f64| {
        with_ladder(crate::config::LadderConfig {
            num_levels: 1,
            reduce_size_share: share,
            ..Default::default()
        })
    };
    let mut inp = input(); // target 0.2 per side
                           // One order may be a quarter of the effective max in the Normal regime: 0.5 here.
    inp.effective_max = 2.0;
    inp.position = 0.5;
    inp.room_bid = 0.3;
    let totals = |s: &LadderStrategy, inp: &LadderInput| {
        let out = run(s, inp);
        (out.bids.total(), out.asks.total())
    };
    // Off: the target on both sides.
    let (b, a) = totals(&with_share(0.0), &inp);
    assert!(
        (b - 0.2).abs() < 1e-12 && (a - 0.2).abs() < 1e-12,
        "{b} {a}"
    );
    // Share 1: the long position's ask shows all 0.5; the bid that adds is unchanged.
    let (b, a) = totals(&with_share(1.0), &inp);
    assert!(
        (b - 0.2).abs() < 1e-12 && (a - 0.5).abs() < 1e-12,
        "{b} {a}"
    );
    // Share 0.3 of 0.5 is 0.15, below the target: the target stands.
    let (_, a) = totals(&with_share(0.3), &inp);
    assert!((a - 0.2).abs() < 1e-12, "{a}");
    // Short 0.5: the bid reduces, bounded by its room.
    inp.position = -0.5;
    inp.room_bid = 0.4;
    inp.room_ask = 0.3;
    let (b, a) = totals(&with_share(1.0), &inp);
    assert!(
        (b - 0.4).abs() < 1e-12 && (a - 0.2).abs() < 1e-12,
        "{b} {a}"
    );
}

#[test]
fn post_only_never_crosses_a_wide_inside() {
    let s = with_ladder(crate::config::LadderConfig {
        min_half_spread_bps: 0.1,
        as_prior_bps: 0.0,
        ..Default::default()
    });
    let mut inp = input();
    // A book whose best prices sit inside our touch on one side: bid 2999.9, ask 3000.0.
    inp.best_ask = 3000.0;
    inp.sigma_bps = 0.0;
    inp.gamma_base = 5.0; // c1 tiny
    inp.alpha_bps = 100.0; // skew to the clamp: bid as close as the model allows
    let out = run(&s, &inp);
    for q in out.bids.as_slice() {
        assert!(q.px < inp.best_ask, "{q:?}");
    }
    for q in out.asks.as_slice() {
        assert!(q.px > inp.best_bid, "{q:?}");
    }
}

fn arb_input() -> impl Strategy<Value = LadderInput> {
    (
        (0.001f64..100_000.0, 0u32..6, -3.0f64..3.0, 0.0f64..40.0),
        (0.1f64..20.0, 0.01f64..2.0, 0.05f64..2.0, 0.002f64..0.2),
        (-1.5f64..1.5, 0.0f64..2.0, -10.0f64..10.0, 0.0f64..1.0),
        (
            0.0f64..2.0,
            0.0f64..2.0,
            0.0f64..1e5,
            any::<bool>(),
            any::<bool>(),
        ),
        (0.0f64..1.0, 1.0f64..3.0, 1.0f64..3.0, 0usize..4),
    )
        .prop_map(|(m, g, p, r, x)| {
            let mut i = input();
            i.mid = m.0;
            i.sz_decimals = m.1;
            let half_spread = m.3 * 1e-4 * m.0;
            i.best_bid = m.0 - half_spread;
            i.best_ask = m.0 + half_spread;
            i.sigma_bps = g.0;
            i.kappa = g.1;
            i.a_intensity = g.2;
            i.gamma_base = g.3;
            // Sizes scale with 100 USD of capital at this price.
            let unit = 100.0 / m.0;
            i.position = p.0 * unit;
            i.effective_max = p.1 * unit;
            i.alpha_bps = p.2;
            i.as_warmup = p.3;
            i.target_liquidity = r.0 * unit;
            i.room_bid = r.1 * unit;
            i.margin_notional = r.2;
            i.quote_bid = r.3;
            i.quote_ask = r.4;
            i.urgency = x.0;
            i.bid_mult = x.1;
            i.ask_mult = x.2;
            i.reduce_only = x.3 == 0;
            i.room_ask = if i.reduce_only {
                i.position.abs()
            } else {
                i.room_bid
            };
            i.regime = [
                VolRegime::Quiet,
                VolRegime::Normal,
                VolRegime::Volatile,
                VolRegime::Extreme,
            ][x.3];
            i
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn ladder_invariants(inp in arb_input()) {
      for strategy in [QuoteStrategy::Glft, QuoteStrategy::AvellanedaStoikov] {
        let s = LadderStrategy::new(&MarketMakerConfig { strategy, ..cfg() });
        let out = run(&s, &inp);
        if strategy == QuoteStrategy::AvellanedaStoikov {
            prop_assert!(out.bids.len() <= 1 && out.asks.len() <= 1);
        }
        for (side, quotes, room) in [
            (Side::Bid, &out.bids, inp.room_bid),
            (Side::Ask, &out.asks, inp.room_ask),
        ] {
            let qs = quotes.as_slice();
            prop_assert!(quotes.total() <= room * (1.0 + 1e-9) + 1e-12, "room {room}: {qs:?}");
            if inp.reduce_only {
                prop_assert!(quotes.total() <= inp.position.abs() * (1.0 + 1e-9) + 1e-12);
            }
            let mut prev: Option<f64> = None;
            for q in qs {
                prop_assert_eq!(q.side, side);
                prop_assert!(is_valid_price(q.px, inp.sz_decimals), "{q:?}");
                prop_assert!(q.sz > 0.0 && q.px > 0.0);
                prop_assert!(q.sz * q.px >= inp.min_notional * 1.15 * (1.0 - 1e-9), "{q:?}");
                let lots = q.sz * 10f64.powi(inp.sz_decimals as i32);
                prop_assert!((lots - lots.round()).abs() < 1e-6, "{q:?}");
                match side {
                    Side::Bid => prop_assert!(q.px < inp.best_ask, "{q:?}"),
                    Side::Ask => prop_assert!(q.px > inp.best_bid, "{q:?}"),
                }
                if let Some(p) = prev {
                    match side {
                        Side::Bid => prop_assert!(q.px < p),
                        Side::Ask => prop_assert!(q.px > p),
                    }
                }
                prev = Some(q.px);
            }
        }
      }
    }
}

/// Issue 13 item 4: A read 0.0 (half-spread `inf`, one side priced at infinity) and 130 (the
/// quotes vanished). The ladder bounds kappa and A before the GLFT, so the half-spread is finite
/// and both sides quote whatever the estimator says.
#[test]
fn degenerate_intensity_still_gives_a_finite_two_sided_ladder() {
    let s = LadderStrategy::new(&cfg());
    let b = s.intensity;
    for (kappa, a) in [
        (0.25, 0.0),
        (0.25, 130.0),
        (0.0, 0.5),
        (f64::INFINITY, 0.5),
        (0.25, f64::NAN),
        (1e-12, 1e-12),
    ] {
        let out = run(
            &s,
            &LadderInput {
                kappa,
                a_intensity: a,
                ..input()
            },
        );
        let d = out.diag;
        assert!(
            d.half_spread_bps.is_finite() && d.half_spread_bps > 0.0,
            "kappa {kappa} A {a}: {}",
            d.half_spread_bps
        );
        assert!((b.kappa_min..=b.kappa_max).contains(&d.kappa));
        assert!((b.a_min..=b.a_max).contains(&d.a_intensity));
        assert!(
            !out.bids.is_empty() && !out.asks.is_empty(),
            "kappa {kappa} A {a}: {d:?}"
        );
        assert_eq!(
            (d.bid_empty, d.ask_empty),
            (EmptySide::Quoted, EmptySide::Quoted)
        );
    }
}

#[test]
fn an_empty_side_says_why() {
    let s = LadderStrategy::new(&cfg());
    let out = run(
        &s,
        &LadderInput {
            quote_ask: false,
            room_bid: 0.0,
            ..input()
        },
    );
    assert_eq!(out.diag.bid_empty, EmptySide::NoRoom);
    assert_eq!(out.diag.ask_empty, EmptySide::Disabled);
    // Room for less than one $11.50 order at 3000.
    let out = run(
        &s,
        &LadderInput {
            room_bid: 0.003,
            ..input()
        },
    );
    assert!(out.bids.is_empty());
    assert_eq!(out.diag.bid_empty, EmptySide::BelowMinOrder);
    assert_eq!(out.diag.ask_empty, EmptySide::Quoted);
}

fn as_cfg() -> MarketMakerConfig {
    MarketMakerConfig {
        strategy: QuoteStrategy::AvellanedaStoikov,
        ..cfg()
    }
}

/// Hand-computed with the closed form of `avellaneda_stoikov.rs` at the priors (half-spread
/// 4.328052 bps, 0.96 bps per unit of inventory), unit = min(target 0.2, cap 0.25 x 1.0) = 0.2.
#[test]
fn avellaneda_stoikov_one_level_at_the_closed_form() {
    let s = LadderStrategy::new(&as_cfg());
    let out = run(&s, &input());
    assert_eq!((out.bids.len(), out.asks.len()), (1, 1));
    let (b, a) = (out.bids.as_slice()[0], out.asks.as_slice()[0]);
    // 3000 * (1 - 4.328052e-4) = 2998.70158 -> down to 2998.7; 3001.29842 -> up to 3001.3.
    assert_eq!((b.px, b.sz, a.px, a.sz), (2998.7, 0.2, 3001.3, 0.2));
    assert!((out.diag.half_spread_bps - 4.328052).abs() < 1e-6);
    // No floor (GLFT would sit at 8.01 here) and no adverse-selection buffer.
    assert!((out.diag.bid_touch_bps - 4.328052).abs() < 1e-6);
    // Long 0.4 = 2 units: the reservation price drops 1.92 bps. Bid 6.248052 bps:
    // 2998.125584 -> 2998.1; ask 2.408052 bps: 3000.722416 -> 3000.8.
    let mut inp = input();
    inp.position = 0.4;
    let out = run(&s, &inp);
    assert_eq!(out.bids.as_slice()[0].px, 2998.1);
    assert_eq!(out.asks.as_slice()[0].px, 3000.8);
    assert!((out.diag.skew_bps - 1.92).abs() < 1e-9);
    // The lead signal does not move it (plain AS).
    inp.alpha_bps = 5.0;
    assert_eq!(run(&s, &inp).asks.as_slice()[0].px, 3000.8);
}

#[test]
fn avellaneda_stoikov_keeps_post_only_caps_and_the_governor() {
    let s = LadderStrategy::new(&as_cfg());
    let mut inp = input();
    // Long 2.0 = 10 units: the ask's depth is 4.328 - 9.6 < 0, through mid and the bid;
    // post-only holds it one tick above the best bid.
    inp.position = 2.0;
    inp.effective_max = 3.0;
    inp.target_liquidity = 0.2;
    let out = run(&s, &inp);
    assert_eq!(out.asks.as_slice()[0].px, 3000.0);
    // Zone overlay x2 on the bid at q = 0: 8.656104 bps -> 2997.403 -> 2997.4.
    let mut inp = input();
    inp.bid_mult = 2.0;
    assert_eq!(run(&s, &inp).bids.as_slice()[0].px, 2997.4);
    // Room and the single-order cap bound the size: Quiet 0.5 x max 0.3 = 0.15 < target 0.2.
    let mut inp = input();
    inp.regime = VolRegime::Quiet;
    inp.effective_max = 0.3;
    inp.room_ask = 0.05;
    let out = run(&s, &inp);
    assert_eq!(
        (out.bids.as_slice()[0].sz, out.asks.as_slice()[0].sz),
        (0.15, 0.05)
    );
    // Reduce-only at urgency 1 joins the best price with the position's size; the other side
    // is off.
    let mut inp = input();
    inp.position = -0.1;
    inp.reduce_only = true;
    inp.urgency = 1.0;
    inp.quote_ask = false;
    inp.room_bid = 0.1;
    let out = run(&s, &inp);
    assert!(out.asks.is_empty());
    assert_eq!(
        (out.bids.as_slice()[0].px, out.bids.as_slice()[0].sz),
        (2999.9, 0.1)
    );
    // Below min notional: no quote rather than an order the exchange refuses.
    let mut inp = input();
    inp.target_liquidity = 0.0038;
    let out = run(&s, &inp);
    assert!(out.bids.is_empty() && out.asks.is_empty());
}
