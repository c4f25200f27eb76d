//! Shared fixtures of the criterion benchmarks (SPEC 12): an engine in the state the cycle
//! figures are defined for, and a counting allocator for the zero-allocation figure.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

use mmfast_core::config::{LadderConfig, LeadVenue, MarketMakerConfig};
use mmfast_core::engine::{ActionKind, QuoteEngine, SignalView};

/// A global allocator that counts allocations and reallocations (install it with
/// `#[global_allocator]` in the bench binary).
pub struct CountingAlloc;

pub static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

pub fn allocations() -> u64 {
    ALLOCATIONS.load(Ordering::Relaxed)
}

pub const T0: u64 = 1_700_000_000_000;

/// Acknowledges every action of the engine's last cycle as the exchange would.
pub fn ack_all(e: &mut QuoteEngine, next_oid: &mut u64) {
    let acts = e.last_output().actions.as_slice().to_vec();
    let mut batches: Vec<u64> = acts.iter().map(|a| a.batch).collect();
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

/// The SPEC 12 state: 5 levels per side resting (10 orders), signals warm (cross-venue signal
/// seen, estimated sigma and kappa), ETH at 3000.
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
    let mut s = SignalView::cold(e.config());
    s.has_had_cross_venue = true;
    s.sigma_bps = 2.5;
    s.vol_ratio = 1.1;
    s.kappa = 0.3;
    s.toxicity_score = 0.2;
    e.set_signals(s);
    e.on_hl_top(2999.9, 2.0, 3000.1, 2.0, T0).expect("book");
    e.on_binance_top(2999.8, 3000.0, T0).expect("binance");
    e.cycle(T0);
    let mut oid = 0;
    ack_all(&mut e, &mut oid);
    assert_eq!(e.orders().len(), 10, "5 levels per side resting");
    e
}
