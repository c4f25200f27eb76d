//! Integrator-level tests on seeded synthetic markets (SPEC 4; issue 4 "Tests"): each recovers
//! the truth the market was generated with, or checks a safety rule end to end.

use std::collections::VecDeque;

use super::rng::SplitMix64;
use super::*;
use crate::config::{LeadVenue, MarketMakerConfig};
use crate::governor::PositionZone;
use crate::mode::{select_mode, ExecutionMode, ModeSelectionInput};
use crate::queue_value::QueueValueHeuristic;
use crate::types::ToxicityRegime;
use crate::Error;

/// A lead market (Binance) whose log-mid is a random walk, and Hyperliquid following it `lag_ms`
/// later with a constant basis and independent noise, or walking on its own when unrelated.
/// Time moves in 5 ms steps; each step the lead quotes with probability `p_lead` (one update
/// per 25 ms on average) and Hyperliquid with `p_hl` (one per 100 ms).
struct Market {
    rng: SplitMix64,
    t: i64,
    lead: f64,
    hist: VecDeque<(i64, f64)>,
    own: f64,
    lag_ms: i64,
    sigma: f64,
    noise_bps: f64,
    basis_bps: f64,
    related: bool,
    lead_live: bool,
    p_lead: f64,
    p_hl: f64,
    price0: f64,
}

const STEP_MS: i64 = 5;

impl Market {
    fn new(seed: u64) -> Self {
        Self {
            rng: SplitMix64::new(seed),
            t: 1_000_000,
            lead: 0.0,
            hist: VecDeque::new(),
            own: 0.0,
            lag_ms: 200,
            sigma: 2.0,
            noise_bps: 0.5,
            basis_bps: -3.0,
            related: true,
            lead_live: true,
            p_lead: 0.2,
            p_hl: 0.05,
            price0: 3_000.0,
        }
    }

    fn px(&self, log_bps: f64) -> f64 {
        self.price0 * (log_bps / 1e4).exp()
    }

    fn lead_at(&self, t: i64) -> f64 {
        self.hist
            .iter()
            .rev()
            .find(|(ti, _)| *ti <= t)
            .map_or(self.lead, |h| h.1)
    }

    fn step(&mut self, s: &mut SignalIntegrator) {
        self.t += STEP_MS;
        let dw = self.sigma * (STEP_MS as f64 / 1e3).sqrt();
        self.lead += dw * self.rng.normal();
        self.own += dw * self.rng.normal();
        self.hist.push_back((self.t, self.lead));
        while self.hist.len() > 400 {
            self.hist.pop_front();
        }
        if self.lead_live && self.rng.unit() < self.p_lead {
            let m = self.px(self.lead);
            s.on_binance_bbo(m - 0.05, m + 0.05, self.t).unwrap();
        }
        if self.rng.unit() < self.p_hl {
            let base = if self.related {
                self.lead_at(self.t - self.lag_ms)
            } else {
                self.own
            };
            let x = base + self.basis_bps + self.noise_bps * self.rng.normal();
            s.on_hl_mid(self.px(x), self.t).unwrap();
        }
    }

    /// Runs `ms` of market time, snapshotting every 100 ms (the engine's cycle).
    fn run(&mut self, s: &mut SignalIntegrator, ms: i64) -> Vec<SignalSnapshot> {
        let mut out = Vec::new();
        let end = self.t + ms;
        while self.t < end {
            self.step(s);
            if self.t % 100 == 0 {
                out.push(s.snapshot(self.t));
            }
        }
        out
    }
}

fn cfg() -> MarketMakerConfig {
    MarketMakerConfig::default()
}

/// Runs a related market until the lead signal is actionable (at most 4 minutes); returns the
/// snapshots.
fn warm(m: &mut Market, s: &mut SignalIntegrator) -> Vec<SignalSnapshot> {
    let mut snaps = Vec::new();
    for _ in 0..24 {
        snaps.extend(m.run(s, 10_000));
        if snaps.last().unwrap().lead_lag.actionable {
            return snaps;
        }
    }
    panic!(
        "not actionable after 4 minutes: {:?}",
        snaps.last().unwrap()
    );
}

#[test]
fn a_200_ms_lead_is_found_and_actionable() {
    let c = cfg();
    let mut s = SignalIntegrator::new(&c);
    let mut m = Market::new(1);
    let snaps = m.run(&mut s, 180_000);
    let last = snaps.last().unwrap();
    let l = last.lead_lag;
    assert!(l.actionable, "{last:?}");
    assert!((l.lag_ms - 200).abs() <= 50, "lag {}", l.lag_ms);
    assert!(l.correlation >= c.signals.lead_min_correlation, "{l:?}");
    assert!(last.lag.significant && last.lag.stable);
    assert!(last.lag.correlation > last.lag.null_threshold);
    assert!(last.has_had_cross_venue);
    assert!(l.predicted_move_bps.abs() <= c.signals.max_predicted_move_bps);
    // Once found, the lag stays put.
    let found = snaps.iter().position(|x| x.lead_lag.actionable).unwrap();
    for x in &snaps[found..] {
        assert!((x.lag.lag_ms - 200).abs() <= 50, "{:?}", x.lag);
    }
}

/// The predicted move is the part of the lead's move Hyperliquid has not made yet: over the
/// next lag it is realised, on average, with a slope near 1.
#[test]
fn the_predicted_move_is_realised() {
    let c = cfg();
    let mut s = SignalIntegrator::new(&c);
    let mut m = Market::new(2);
    warm(&mut m, &mut s);
    let mut pairs = Vec::new();
    let mut pending: VecDeque<(i64, f64, f64)> = VecDeque::new();
    let mut last_hl = None;
    for _ in 0..(60_000 / STEP_MS) {
        m.step(&mut s);
        if m.t % 100 == 0 {
            let snap = s.snapshot(m.t);
            let cur = s.lag_analyzer().estimate().lag_ms as i64;
            if let Some(h) = last_hl {
                pending.push_back((m.t + cur, snap.lead_lag.predicted_move_bps, h));
            }
        }
        last_hl = Some(m.lead_at(m.t - m.lag_ms));
        while let Some(&(due, p, h0)) = pending.front() {
            if due > m.t {
                break;
            }
            pairs.push((p, m.lead_at(m.t - m.lag_ms) - h0));
            pending.pop_front();
        }
    }
    let n = pairs.len() as f64;
    let (mx, my) = (
        pairs.iter().map(|p| p.0).sum::<f64>() / n,
        pairs.iter().map(|p| p.1).sum::<f64>() / n,
    );
    let cov = pairs.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum::<f64>();
    let var = pairs.iter().map(|p| (p.0 - mx).powi(2)).sum::<f64>();
    let slope = cov / var;
    assert!(
        (0.6..1.4).contains(&slope),
        "slope {slope} over {n} predictions"
    );
}

#[test]
fn unrelated_markets_are_never_actionable() {
    let c = cfg();
    // Long and over many seeds in the optimised test profile.
    let (seeds, ms) = if cfg!(mmfast_optimized) {
        (10..30, 600_000)
    } else {
        (10..11, 240_000)
    };
    for seed in seeds {
        let mut s = SignalIntegrator::new(&c);
        let mut m = Market::new(seed);
        m.related = false;
        let snaps = m.run(&mut s, ms);
        let scans = s.lag_analyzer().estimate().scans;
        assert!(scans > 50, "only {scans} scans");
        for x in &snaps {
            assert!(!x.lead_lag.actionable, "seed {seed}: {x:?}");
            assert_eq!(x.lead_lag.predicted_move_bps, 0.0);
            assert_eq!(x.quote_cap_fraction, c.signals.no_signal_cap);
            assert_eq!(x.cap_reason, CapReason::NoSignal);
        }
        assert!(!s.has_had_cross_venue());
    }
}

#[test]
fn the_no_signal_cap_holds_until_the_first_signal_and_never_returns() {
    let c = cfg();
    let mut s = SignalIntegrator::new(&c);
    let mut m = Market::new(3);
    let mut snaps = m.run(&mut s, 180_000);
    let first = snaps.iter().position(|x| x.lead_lag.actionable).unwrap();
    assert!(first > 0);
    for x in &snaps[..first] {
        assert_eq!(
            (x.quote_cap_fraction, x.cap_reason, x.has_had_cross_venue),
            (0.30, CapReason::NoSignal, false)
        );
    }
    // The lead relationship breaks: the signal goes, the sticky flag and full size stay.
    m.related = false;
    snaps.extend(m.run(&mut s, 120_000));
    assert!(!snaps.last().unwrap().lead_lag.actionable);
    for x in &snaps[first..] {
        assert!(x.has_had_cross_venue);
        assert_eq!((x.quote_cap_fraction, x.cap_reason), (1.0, CapReason::None));
        assert!(!x.no_signal_warning);
    }
}

#[test]
fn disabling_binance_is_immediate_and_caps_until_the_feed_is_back() {
    let c = cfg();
    let mut s = SignalIntegrator::new(&c);
    let mut m = Market::new(4);
    warm(&mut m, &mut s);
    s.disable_binance_signals();
    let x = s.snapshot(m.t);
    assert!(!x.lead_lag.actionable && x.lead_disabled && !x.lead_fresh);
    assert_eq!(x.lead_lag.predicted_move_bps, 0.0);
    assert_eq!(
        (x.quote_cap_fraction, x.cap_reason),
        (c.signals.lead_lost_cap, CapReason::LeadLost)
    );
    // Hyperliquid alone for 3 s: still capped.
    m.lead_live = false;
    for x in m.run(&mut s, 3_000) {
        assert_eq!(x.cap_reason, CapReason::LeadLost);
        assert!(!x.lead_lag.actionable);
    }
    // The feed is back: the cap lifts at its first quote; the signal needs its window again.
    m.lead_live = true;
    let back = m.run(&mut s, 240_000);
    let first_back = back.iter().position(|x| x.lead_fresh).unwrap();
    assert!(first_back < 5);
    for x in &back[first_back..] {
        assert_eq!(x.cap_reason, CapReason::None);
    }
    assert!(!back[first_back].lead_lag.actionable);
    assert!(back.last().unwrap().lead_lag.actionable);
}

#[test]
fn a_stale_lead_feed_is_penalised_only_once_warm() {
    let c = cfg();
    // Never warm: Hyperliquid only. No lead-lost cap (the no-signal cap covers it).
    let mut s = SignalIntegrator::new(&c);
    let mut m = Market::new(5);
    m.lead_live = false;
    for x in m.run(&mut s, 30_000) {
        assert_eq!(x.cap_reason, CapReason::NoSignal);
        assert!(!x.lead_fresh && !x.lead_disabled);
    }
    // Warm, then silent: fine for binance_stale_ms, then lead-lost.
    let mut s = SignalIntegrator::new(&c);
    let mut m = Market::new(6);
    warm(&mut m, &mut s);
    m.lead_live = false;
    let stale_ms = c.risk.binance_stale_ms as i64;
    let silent_from = m.t;
    for x in m.run(&mut s, stale_ms + 1_000) {
        let silent = x.time_ms - silent_from;
        if silent < stale_ms - 100 {
            assert_eq!(x.cap_reason, CapReason::None, "{silent}");
        } else if silent > stale_ms + 100 {
            assert_eq!(x.cap_reason, CapReason::LeadLost, "{silent}");
            assert!(!x.lead_lag.actionable && !x.lead_fresh);
            assert_eq!(x.quote_cap_fraction, c.signals.lead_lost_cap);
        }
    }
}

#[test]
fn lead_venue_none_never_caps_or_warns() {
    let mut c = cfg();
    c.lead_venue = LeadVenue::None;
    let mut s = SignalIntegrator::new(&c);
    let mut m = Market::new(7);
    let snaps = m.run(&mut s, 60_000);
    for x in &snaps {
        assert_eq!((x.quote_cap_fraction, x.cap_reason), (1.0, CapReason::None));
        assert!(!x.no_signal_warning && !x.lead_lag.actionable && !x.has_had_cross_venue);
    }
    assert!(s.ignored_lead_inputs() > 1_000);
    assert_eq!(s.lag_analyzer().samples(), 0);
    s.disable_binance_signals();
    assert_eq!(s.snapshot(m.t).cap_reason, CapReason::None);
}

#[test]
fn the_no_signal_warning_fires_every_ten_cycles() {
    let mut s = SignalIntegrator::default();
    let warned: Vec<u64> = (1..=25u64)
        .filter(|&i| s.snapshot(i as i64 * 100).no_signal_warning)
        .collect();
    assert_eq!(warned, vec![1, 11, 21]);
    assert_eq!(s.snapshot(2_600).cycles_without_signal, 26);
}

/// SPEC 4 "No deadlocks at cold start": cold, Normal toxicity, no alpha, default config ->
/// Maker on both sides (capped, not flat).
#[test]
fn cold_start_with_defaults_quotes_both_sides() {
    let c = cfg();
    let mut s = SignalIntegrator::new(&c);
    let mut m = Market::new(8);
    for snap in [s.snapshot(0), m.run(&mut s, 5_000).pop().unwrap()] {
        assert_eq!(snap.toxicity, ToxicityRegime::Normal);
        assert!(!snap.lead_lag.actionable && snap.lead_lag.predicted_move_bps == 0.0);
        assert!(snap.quote_cap_fraction > 0.0);
        assert!(snap.sigma_bps > 0.0 && snap.kappa > 0.0);
        let q = QueueValueHeuristic::new(c.queue, c.fee_bps, c.ladder.as_prior_bps);
        let touch = c.ladder.min_half_spread_bps;
        let has_value = q.should_quote(touch, snap.toxicity, 0.0);
        let mode = select_mode(
            &ModeSelectionInput {
                position_zone: PositionZone::Green,
                toxicity_regime: snap.toxicity,
                bid_has_value: has_value,
                ask_has_value: has_value,
                has_alpha: snap.lead_lag.actionable,
                position: 0.0,
            },
            c.mode_policy,
        );
        assert_eq!(
            mode,
            ExecutionMode::Maker {
                bid: true,
                ask: true
            }
        );
    }
}

#[test]
fn a_constant_basis_never_alarms_and_a_basis_shift_does() {
    let c = cfg();
    let mut s = SignalIntegrator::new(&c);
    let mut m = Market::new(9);
    m.basis_bps = 12.0;
    let minutes = if cfg!(mmfast_optimized) { 60 } else { 5 };
    for x in m.run(&mut s, minutes * 60_000) {
        assert!(!x.cusum.alarm, "{:?}", x.cusum);
    }
    let before = s.cusum().state(m.t);
    assert_eq!(before.alarms, 0);
    // The basis is the cross-venue analyzer's mean; the CUSUM sees the divergence from it.
    let basis = s.cross_venue().basis_bps().unwrap();
    assert!((basis + 12.0).abs() < 1.0, "{basis}");
    assert!(before.mean_bps.abs() < 0.5, "{before:?}");
    // Hyperliquid drops 5 bps against the lead: the divergence jumps up.
    m.basis_bps -= 5.0;
    let delta = 5.0 / before.std_bps;
    let expected_samples = (c.signals.cusum_threshold + 1.166) / (delta - c.signals.cusum_drift);
    let shift_at = m.t;
    let snaps = m.run(&mut s, 10_000);
    let hit = snaps.iter().find(|x| x.cusum.alarm).expect("no alarm");
    assert_eq!(hit.cusum.direction, 1);
    let samples = (hit.time_ms - shift_at) as f64 / c.signals.cusum_sample_ms as f64;
    assert!(
        samples <= 2.0 * expected_samples + 2.0,
        "{samples} samples, expected {expected_samples}"
    );
    assert!(hit.cusum_divergence_bps > 2.0);
}

/// The gate is fed the outcome of every prediction (one per `gate_sample_ms` once the lag is
/// known), and the skilled lead signal keeps its full weight for the whole run.
#[test]
fn every_prediction_reaches_the_gate_and_a_skilled_signal_keeps_its_weight() {
    let c = cfg();
    let mut s = SignalIntegrator::new(&c);
    let mut m = Market::new(12);
    warm(&mut m, &mut s);
    let n0 = s.gating().tracker(GatedSignal::LeadLag).total();
    let f0 = s.gating().tracker(GatedSignal::BinanceFlow).total();
    let minutes = if cfg!(mmfast_optimized) { 20 } else { 2 };
    let snaps = m.run(&mut s, minutes * 60_000);
    for x in &snaps {
        assert_eq!(x.lead_gate_weight, 1.0, "{x:?}");
    }
    let actionable = snaps.iter().filter(|x| x.lead_lag.actionable).count();
    let lost: Vec<_> = snaps
        .iter()
        .filter(|x| !x.lead_lag.actionable)
        .map(|x| (x.time_ms, x.lag))
        .collect();
    assert!(
        actionable as f64 >= 0.95 * snaps.len() as f64,
        "{actionable} of {}: {lost:?}",
        snaps.len()
    );
    let want = (minutes * 60_000 / c.signals.gate_sample_ms as i64) as u64;
    let got = s.gating().tracker(GatedSignal::LeadLag).total() - n0;
    let got_flow = s.gating().tracker(GatedSignal::BinanceFlow).total() - f0;
    assert!(
        want - got <= 8 && got <= want,
        "lead-lag outcomes {got} of {want}"
    );
    assert!(
        want - got_flow <= 12 && got_flow <= want,
        "flow {got_flow} of {want}"
    );
    assert!(s.gating().ic(GatedSignal::LeadLag) > 0.3);
}

#[test]
fn volatility_and_kappa_are_recovered_through_the_integrator() {
    let mut c = cfg();
    c.stochastic.sigma_prior_bps = 0.5;
    c.stochastic.kappa_prior = 1.0;
    let mut s = SignalIntegrator::new(&c);
    let mut rng = SplitMix64::new(13);
    let (mut t, mut x) = (0i64, 0.0f64);
    let (sigma, kappa) = (2.0, 0.25);
    // 10 minutes: mid every 100 ms, a trade every ~400 ms at an Exp(kappa) depth.
    while t < 600_000 {
        t += 100;
        x += sigma * 0.1f64.sqrt() * rng.normal();
        let mid = 3_000.0 * (x / 1e4).exp();
        s.on_hl_mid(mid, t).unwrap();
        if rng.unit() < 0.25 {
            let d = rng.exponential(1.0 / kappa);
            let buy = rng.unit() < 0.5;
            let px = mid * ((if buy { d } else { -d }) / 1e4).exp();
            s.on_hl_trade(px, 0.1, buy, t).unwrap();
        }
    }
    let snap = s.snapshot(t);
    // 1 s returns of the sweep-filtered mid over a 60 s half-life: ~90 effective samples (7%
    // standard error) plus the filter's smoothing (5-7% low on a clean walk).
    assert!(
        (snap.sigma_bps / sigma - 1.0).abs() < 0.15,
        "{}",
        snap.sigma_bps
    );
    assert!((snap.kappa / kappa - 1.0).abs() < 0.15, "{}", snap.kappa);
    let fit = s.regime_kappa().kappa(snap.regime);
    assert!((fit / kappa - 1.0).abs() < 0.15, "{fit}");
    // 2.5 taker orders per s over both sides: A is 1.25 per side.
    assert!(
        (snap.intensity_a / 1.25 - 1.0).abs() < 0.15,
        "{}",
        snap.intensity_a
    );
}

#[test]
fn bad_input_is_refused_and_changes_nothing() {
    let mut s = SignalIntegrator::default();
    let mut m = Market::new(14);
    m.run(&mut s, 20_000);
    let before = s.clone();
    let t = m.t + 1;
    let field = |e: Error| match e {
        Error::Invalid(e) => e.field,
        other => panic!("{other}"),
    };
    assert_eq!(field(s.on_hl_mid(f64::NAN, t).unwrap_err()), "mid");
    assert_eq!(field(s.on_hl_mid(-1.0, t).unwrap_err()), "mid");
    assert_eq!(field(s.on_hl_trade(0.0, 1.0, true, t).unwrap_err()), "px");
    assert_eq!(field(s.on_hl_trade(1.0, -1.0, true, t).unwrap_err()), "sz");
    assert_eq!(
        field(s.on_binance_bbo(10.0, f64::INFINITY, t).unwrap_err()),
        "ask"
    );
    let e = s.on_binance_bbo(10.0, 9.0, t).unwrap_err();
    assert!(e.to_string().contains("ask = 9"), "{e}");
    assert_eq!(
        field(s.on_binance_trade(1.0, f64::NAN, false, t).unwrap_err()),
        "qty"
    );
    assert_eq!(
        field(s.set_skew_context(0.0, 0.0, 1.0).unwrap_err()),
        "max_position"
    );
    let mut b = before;
    assert_eq!(s.snapshot(t), b.snapshot(t));
}

#[test]
fn the_alpha_lean_shrinks_with_the_room_only_when_it_adds_to_the_position() {
    let mut s = SignalIntegrator::default();
    s.set_skew_context(0.0, 1.0, 3.0).unwrap();
    assert_eq!(s.alpha_skew_bps(), 3.0);
    // Long half the max: alpha that would buy more is halved; alpha that sells is whole.
    s.set_skew_context(0.5, 1.0, 2.0).unwrap();
    assert_eq!(s.alpha_skew_bps(), 1.0);
    s.set_skew_context(0.5, 1.0, -2.0).unwrap();
    assert_eq!(s.alpha_skew_bps(), -2.0);
    s.set_skew_context(-1.5, 1.0, -2.0).unwrap();
    assert_eq!(s.alpha_skew_bps(), 0.0);
    assert_eq!(s.snapshot(0).alpha_skew_bps, 0.0);
}

#[test]
fn the_predicted_move_is_capped() {
    let c = cfg();
    let mut s = SignalIntegrator::new(&c);
    let mut m = Market::new(15);
    warm(&mut m, &mut s);
    // The lead jumps 40 bps; Hyperliquid has not moved yet.
    m.lead += 40.0;
    let px = m.px(m.lead);
    s.on_binance_bbo(px - 0.05, px + 0.05, m.t + 1).unwrap();
    let x = s.snapshot(m.t + 1);
    assert!(x.lead_lag.actionable);
    assert_eq!(
        x.lead_lag.predicted_move_bps,
        c.signals.max_predicted_move_bps
    );
}

#[test]
fn state_stays_within_its_fixed_capacity() {
    let c = cfg();
    let mut s = SignalIntegrator::new(&c);
    let mut m = Market::new(16);
    let lag_cap = s.lag_analyzer().capacity();
    let flow_cap = s.informed_flow().capacity();
    let minutes = if cfg!(mmfast_optimized) { 30 } else { 3 };
    let mut rng = SplitMix64::new(1);
    for _ in 0..minutes * 60 {
        m.run(&mut s, 1_000);
        // A burst of taker prints each second, far more than any pending ring holds.
        for k in 0..50 {
            let px = m.px(m.own);
            s.on_hl_trade(px, 1.0, rng.unit() < 0.5, m.t + k).unwrap();
            s.on_binance_trade(px, 1.0, rng.unit() < 0.5, m.t + k)
                .unwrap();
        }
        assert!(s.lag_analyzer().samples() <= lag_cap);
        assert!(s.informed_flow().pending() <= flow_cap);
    }
    assert_eq!(s.lag_analyzer().samples(), lag_cap);
    assert_eq!(s.lag_analyzer().capacity(), lag_cap);
    assert!(s.lag_analyzer().null_pool_len() <= c.signals.lag_null_pool as usize);
    assert_eq!(
        s.gating().tracker(GatedSignal::LeadLag).capacity(),
        c.signals.gate_window as usize
    );
    assert!(s.gating().tracker(GatedSignal::BinanceFlow).len() <= c.signals.gate_window as usize);
}

/// Two integrators on two copies of one market, stepped together for `ms`: `after_step` may
/// feed the first more, and `check` sees both lead-lag signals every 100 ms where they are
/// actionable (they must agree on that).
fn paired_lead_lag(
    (ma, a): (&mut Market, &mut SignalIntegrator),
    (mb, b): (&mut Market, &mut SignalIntegrator),
    ms: i64,
    mut after_step: impl FnMut(&Market, &mut SignalIntegrator),
    mut check: impl FnMut(&Market, &SignalIntegrator, LeadLagSignal, LeadLagSignal),
) {
    for _ in 0..(ms / STEP_MS) {
        ma.step(a);
        mb.step(b);
        after_step(ma, a);
        if ma.t % 100 != 0 {
            continue;
        }
        let (la, lb) = (a.lead_lag(ma.t), b.lead_lag(mb.t));
        assert_eq!(la.actionable, lb.actionable);
        if la.actionable {
            check(ma, a, la, lb);
        }
    }
}

/// The predicted move adds the lead venue's flow through its own gate: two integrators fed the
/// same mids (so the same lag, gap and lead-lag gate), one also fed Binance trades that lean
/// with the lead's last move (3 in 4), differ by exactly `weight x slope x imbalance_1s`.
#[test]
fn the_lead_flow_adds_its_gated_prediction_to_the_predicted_move() {
    let mut c = cfg();
    // Low enough that this market's flow is one-sided either way at times.
    c.signals.flow_state_imbalance = 0.05;
    let (mut a, mut b) = (SignalIntegrator::new(&c), SignalIntegrator::new(&c));
    let (mut ma, mut mb) = (Market::new(21), Market::new(21));
    let mut rng = SplitMix64::new(7);
    let mut prev = ma.lead;
    let mut checked = 0;
    let mut seen = [false; 3];
    let lean_with_the_lead = |m: &Market, a: &mut SignalIntegrator| {
        let up = m.lead > prev;
        prev = m.lead;
        let buy = if rng.unit() < 0.75 { up } else { !up };
        a.on_binance_trade(m.px(m.lead), 1.0, buy, m.t).unwrap();
    };
    paired_lead_lag(
        (&mut ma, &mut a),
        (&mut mb, &mut b),
        240_000,
        lean_with_the_lead,
        |ma, a, la, lb| {
            let g = a.gating();
            let imbalance = a.cross_venue().lead_flow.features(ma.t).imbalance_1s;
            let flow =
                g.weight(GatedSignal::BinanceFlow) * g.slope(GatedSignal::BinanceFlow) * imbalance;
            assert!(
                (la.predicted_move_bps - lb.predicted_move_bps - flow).abs() < 1e-9,
                "{la:?} {lb:?} flow {flow}"
            );
            let dir = if imbalance.abs() < c.signals.flow_state_imbalance {
                0
            } else if imbalance > 0.0 {
                1
            } else {
                -1
            };
            assert_eq!(a.flow_dir(ma.t), dir);
            seen[(dir + 1) as usize] = true;
            checked += 1;
        },
    );
    assert!(checked > 100, "{checked}");
    assert_eq!(seen, [true; 3], "flow states seen (sells, none, buys)");
    // The informative flow opened its gate with a positive slope; without trades it stays shut.
    let g = a.gating();
    assert!(g.weight(GatedSignal::BinanceFlow) > 0.0);
    assert!(g.slope(GatedSignal::BinanceFlow) > 0.0);
    assert_eq!(b.gating().weight(GatedSignal::BinanceFlow), 0.0);
    assert_eq!(b.flow_dir(mb.t), 0);
}

/// A run of sell orders at twenty times the ordinary rate is a sell run from the third order on
/// (threshold 3, ln 4 = 1.386 per order, 0.15 lost per 50 ms at 3 x the ordinary 1 per s per
/// side), and is over once its capped statistic has drifted back under the threshold:
/// (2 x 3 - 3) / (3 x r0), about 1 s after the last order. Ordinary alternating flow never
/// reaches it (1.386 after each order), nor do several prints of one order.
#[test]
fn a_run_of_taker_orders_on_one_side_is_detected_after_three_orders() {
    let mut c = cfg();
    c.signals.run_rate_mult = 4.0;
    c.signals.run_threshold = 3.0;
    c.signals.run_rate_window_s = 1e9; // the plain mean rate: exact by hand
    c.signals.run_min_orders = 4;
    let mut d = TakerRunDetector::new(&c.signals);
    // Prints of one order (same time and side) count once; before `run_min_orders` orders
    // nothing is a run.
    for _ in 0..5 {
        d.on_trade(false, 0);
    }
    assert_eq!(d.dir(0), 0);
    // Ordinary flow: one order every 500 ms, alternating, for 60 s: 1 per s per side.
    let mut t = 0;
    for i in 1..=120 {
        t = i * 500;
        d.on_trade(i % 2 == 0, t);
        assert_eq!(d.dir(t), 0, "ordinary flow at {t} ms");
        assert_eq!(d.dir(t + 499), 0);
    }
    let r0 = d.side_rate_per_ms();
    assert!((r0 - 0.5 * 121.0 / 60_000.0).abs() < 1e-9, "{r0}");
    // The last ordinary order was a buy at 60 s; the sell side's statistic is 0 by 60.5 s.
    let mut dirs = Vec::new();
    for k in 0..5 {
        t = 60_500 + k * 50;
        d.on_trade(false, t);
        dirs.push(d.dir(t));
    }
    assert_eq!(dirs, [0, 0, -1, -1, -1]);
    // Capped at 6 from the fifth order on (5 x 1.386 - 4 x 0.15 = 6.3): over 1 s later.
    let r0 = d.side_rate_per_ms();
    let over = t + ((6.0 - 3.0) / (3.0 * r0)) as i64;
    assert_eq!(d.dir(over - 5), -1);
    assert_eq!(d.dir(over + 5), 0);
    // A buy run is +1.
    for k in 1..=3 {
        d.on_trade(true, over + 1_000 + k * 50);
    }
    assert_eq!(d.dir(over + 1_150), 1);
}

/// The lead's momentum joins the predicted move only while it is at least its threshold: two
/// integrators fed the same market, one with `lead_momentum_ms = 1000`, differ by exactly
/// `lead_momentum_bps`, which is 0 or at least 1.5 bps in size and follows the lead's own move
/// over the last second (read on the signal grid from the last quote, so within a fraction of
/// a bps on average: the lead moves 2 bps per sqrt(s) here).
#[test]
fn the_lead_momentum_joins_the_predicted_move_above_its_threshold() {
    let off = cfg();
    let mut on = cfg();
    on.signals.lead_momentum_ms = 1000;
    on.signals.lead_momentum_min_bps = 1.5;
    let (mut a, mut b) = (SignalIntegrator::new(&on), SignalIntegrator::new(&off));
    let (mut ma, mut mb) = (Market::new(31), Market::new(31));
    warm(&mut ma, &mut a);
    warm(&mut mb, &mut b);
    assert_eq!(b.lead_momentum_bps(mb.t), 0.0, "off is off");
    let (mut zero, mut moved, mut err) = (0, 0, 0.0);
    let nothing_more = |_: &Market, _: &mut SignalIntegrator| {};
    paired_lead_lag(
        (&mut ma, &mut a),
        (&mut mb, &mut b),
        120_000,
        nothing_more,
        |ma, a, la, lb| {
            let m = a.lead_momentum_bps(ma.t);
            let cap = on.signals.max_predicted_move_bps;
            if la.predicted_move_bps.abs() < cap && lb.predicted_move_bps.abs() < cap {
                assert!(
                    (la.predicted_move_bps - lb.predicted_move_bps - m).abs() < 1e-9,
                    "{la:?} {lb:?} momentum {m}"
                );
            }
            let then = ma.hist.iter().find(|h| h.0 == ma.t - 1000).unwrap().1;
            let real = ma.lead - then;
            if m == 0.0 {
                assert!(real.abs() < 1.5 + 2.5, "a {real} bps move read as none");
                zero += 1;
            } else {
                assert!(m.abs() >= 1.5 && (m - real).abs() < 2.5, "{m} vs {real}");
                err += (m - real).abs();
                moved += 1;
            }
        },
    );
    assert!(zero > 100 && moved > 100, "{zero} {moved}");
    assert!(
        err / f64::from(moved) < 0.6,
        "mean error {}",
        err / f64::from(moved)
    );
}
