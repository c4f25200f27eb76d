//! A steady-state `SignalIntegrator` update allocates nothing (SPEC 12: 0 allocations in the
//! cycle): every buffer is sized at construction. Counted with a global allocator, so this is
//! its own test binary.

use mmfast_core::signals::SignalIntegrator;

mod common;

#[global_allocator]
static GLOBAL: common::CountingAlloc = common::CountingAlloc;

/// A deterministic walk: Binance every 20 ms, Hyperliquid following 200 ms later every 100 ms,
/// trades on both, a snapshot every 100 ms.
fn drive(s: &mut SignalIntegrator, from_ms: i64, to_ms: i64, state: &mut u64) {
    let mut next = |n: u64| {
        *state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (*state >> 33) % n
    };
    let mut t = from_ms;
    while t < to_ms {
        t += 20;
        let lead = 3_000.0 + ((t / 20) as f64 * 0.37).sin() * 2.0 + next(5) as f64 * 0.01;
        s.on_binance_bbo(lead - 0.05, lead + 0.05, t).unwrap();
        if next(4) == 0 {
            s.on_binance_trade(lead, 0.5, next(2) == 0, t).unwrap();
        }
        if t % 100 == 0 {
            let hl = 3_000.0 + (((t - 200) / 20) as f64 * 0.37).sin() * 2.0;
            s.on_hl_mid(hl, t).unwrap();
            s.on_hl_trade(hl + 0.3, 0.1, next(2) == 0, t).unwrap();
            s.set_skew_context(0.1, 1.0, 0.5).unwrap();
            let snap = s.snapshot(t);
            std::hint::black_box(snap);
        }
    }
}

#[test]
fn steady_state_updates_do_not_allocate() {
    // The counter counts.
    let n0 = common::allocations();
    std::hint::black_box(vec![0u8; 64]);
    assert!(common::allocations() > n0);
    let mut s = SignalIntegrator::default();
    let mut rng = 7u64;
    // Warm past every buffer's capacity (lag window, pending trades, gate window, scans).
    drive(&mut s, 0, 200_000, &mut rng);
    let before = common::allocations();
    drive(&mut s, 200_000, 260_000, &mut rng);
    s.disable_binance_signals();
    drive(&mut s, 260_000, 300_000, &mut rng);
    let after = common::allocations();
    assert!(s.lag_analyzer().estimate().scans > 20);
    assert_eq!(after - before, 0, "allocations in steady state");
}
