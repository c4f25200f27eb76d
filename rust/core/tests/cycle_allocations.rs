//! SPEC 12: the quote cycle allocates nothing in steady state. A counting global allocator (this
//! test binary only) counts allocations made inside `QuoteEngine::cycle`, over quiet cycles and
//! over cycles that requote (modify) after book moves.

use mmfast_core::config::{LeadVenue, MarketMakerConfig};
use mmfast_core::engine::{ActionKind, QuoteEngine};

mod common;

#[global_allocator]
static GLOBAL: common::CountingAlloc = common::CountingAlloc;

const T0: u64 = 1_700_000_000_000;

fn ack(e: &mut QuoteEngine, oid: &mut u64) {
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
                    *oid += 1;
                    format!("{{\"resting\":{{\"oid\":{oid}}}}}")
                }
            })
            .collect();
        let body = format!(
            r#"{{"status":"ok","response":{{"type":"order","data":{{"statuses":[{}]}}}}}}"#,
            st.join(",")
        );
        e.on_exchange_response(body.as_bytes(), T0, b).unwrap();
    }
}

#[test]
fn steady_state_cycles_do_not_allocate() {
    run(LeadVenue::None);
}

/// With the lead venue: the signal integrator's snapshot (lag scans, gating, CUSUM) runs inside
/// every cycle, fed Binance quotes between cycles.
#[test]
fn steady_state_cycles_with_lead_signals_do_not_allocate() {
    run(LeadVenue::Binance);
}

fn run(lead: LeadVenue) {
    let cfg = MarketMakerConfig {
        max_position: Some(1.0),
        target_liquidity: Some(0.5),
        lead_venue: lead,
        ladder: mmfast_core::config::LadderConfig {
            depth_ratio: 1.2,
            ..Default::default()
        },
        ..Default::default()
    };
    let mut e = QuoteEngine::new(cfg, 1).unwrap();
    e.set_account(Some(0.0), Some(10_000.0), Some(10_000.0), Some(3.0))
        .unwrap();
    let mut oid = 0;
    let mut now = T0;
    e.on_hl_top(2999.9, 2.0, 3000.1, 2.0, now).unwrap();
    e.on_binance_top(2999.8, 3000.0, now).unwrap();
    e.cycle(now);
    ack(&mut e, &mut oid);
    assert_eq!(e.orders().len(), 10, "5 levels per side resting");
    let mut counted = 0u64;
    let mut requotes = 0usize;
    for i in 0..2_000u64 {
        now += 150;
        // Alternate small moves (kept) and 4 bp moves (modified).
        let shift = match i % 4 {
            0 | 2 => 0.0,
            1 => 0.3,
            _ => 1.2,
        };
        e.on_hl_top(2999.9 + shift, 2.0, 3000.1 + shift, 2.0, now)
            .unwrap();
        e.on_binance_top(2999.8 + shift, 3000.0 + shift, now - 60)
            .unwrap();
        let before = common::allocations();
        let n = e.cycle(now).actions.len();
        let delta = common::allocations() - before;
        if delta > 0 && std::env::var("DEBUG_ALLOC").is_ok() {
            eprintln!("cycle {i}: {delta} allocations, {n} actions");
        }
        counted += delta;
        requotes += n;
        ack(&mut e, &mut oid);
    }
    assert!(
        requotes > 1_000,
        "the loop must exercise requotes, got {requotes}"
    );
    assert_eq!(counted, 0, "allocations inside cycle()");
}
