//! Criterion benchmarks of `mmfast-core` live in `benches/`, one file per area; this crate is a
//! workspace member but not a default member, and criterion sits behind the `criterion` feature,
//! so neither `cargo test` at the root nor CI's clippy builds it. Run
//! `cargo bench -p mmfast-bench --features criterion [--bench NAME]`.
//!
//! This library holds shared fixtures (SPEC 12): an engine in the state the cycle figures are
//! defined for, and a counting allocator for the zero-allocation figure.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use mmfast_core::config::{LadderConfig, LeadVenue, MarketMakerConfig};
use mmfast_core::engine::{ActionKind, QuoteEngine};

/// A global allocator that counts allocations and reallocations per thread (install it with
/// `#[global_allocator]` in the bench binary).
pub struct CountingAlloc;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

fn bump() {
    let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
}

unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        bump();
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        bump();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Allocations made by this thread so far.
pub fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

pub const T0: u64 = 1_700_000_000_000;

/// Acknowledges every action of the engine's last cycle as the exchange would.
pub fn ack_all(e: &mut QuoteEngine, next_oid: &mut u64) {
    let acts = e.last_output().actions.as_slice().to_vec();
    let mut batches: Vec<u64> = acts.iter().map(|a| a.batch).collect();
    batches.sort_unstable();
    batches.dedup();
    for b in batches {
        let st: Vec<String> = acts
            .iter()
            .filter(|a| a.batch == b)
            .map(|a| {
                if a.kind == ActionKind::Cancel {
                    "\"success\"".to_string()
                } else {
                    *next_oid += 1;
                    format!("{{\"resting\":{{\"oid\":{next_oid}}}}}")
                }
            })
            .collect();
        let body = format!(
            r#"{{"status":"ok","response":{{"type":"order","data":{{"statuses":[{}]}}}}}}"#,
            st.join(",")
        );
        e.on_exchange_response(body.as_bytes(), T0, b).expect("ack");
    }
}

/// The SPEC 12 state: 5 levels per side resting (10 orders), signals warm (the integrator has
/// seen 5 minutes of Hyperliquid and Binance mids, Binance leading by 200 ms), ETH near 3000.
pub fn warm_engine() -> QuoteEngine {
    let cfg = MarketMakerConfig {
        max_position: Some(1.0),
        target_liquidity: Some(0.5),
        lead_venue: LeadVenue::Binance,
        ladder: LadderConfig {
            depth_ratio: 1.2,
            ..Default::default()
        },
        ..Default::default()
    };
    let mut e = QuoteEngine::new(cfg, 1).expect("valid config");
    e.set_account(Some(0.0), Some(10_000.0), Some(10_000.0), Some(3.0))
        .expect("account");
    // A seeded random walk (xorshift, sum of uniforms ~ normal) of ~0.6 bp per 100 ms.
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut noise = || {
        let mut acc = 0.0;
        for _ in 0..4 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            acc += (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
        }
        acc * 0.6e-4 * 1.7
    };
    let (n, step, lag) = (3000usize, 100u64, 2usize);
    let mut lead = vec![3000.0f64];
    for _ in 0..n + lag {
        let last = *lead.last().expect("non-empty");
        lead.push(last * (1.0 + noise()));
    }
    let mut oid = 0;
    let round = |x: f64, d: f64| (x * d).round() / d;
    for i in 0..n {
        let t = T0 - 5_000 - (n - i) as u64 * step;
        let b = lead[i + lag];
        e.on_binance_top(round(b - 0.05, 100.0), round(b + 0.05, 100.0), t)
            .expect("binance");
        let bid = round(lead[i] - 0.1, 10.0);
        e.on_hl_top(bid, 2.0, round(bid + 0.2, 10.0), 2.0, t)
            .expect("book");
        if i % 10 == 0 {
            e.cycle(t);
            ack_all(&mut e, &mut oid);
        }
    }
    for k in 0..20u64 {
        let t = T0 - 4_000 + k * 200;
        e.on_binance_top(2999.8, 3000.0, t).expect("binance");
        e.on_hl_top(2999.9, 2.0, 3000.1, 2.0, t).expect("book");
        if e.cycle(t).actions.is_empty() {
            break;
        }
        ack_all(&mut e, &mut oid);
    }
    assert_eq!(e.orders().len(), 10, "5 levels per side resting");
    e
}
