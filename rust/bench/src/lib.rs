//! Criterion benchmarks of `mmfast-core` live in `benches/`, one file per area; this crate is a
//! workspace member but not a default member, so `cargo test` at the root does not build
//! criterion. Run `cargo bench -p mmfast-bench [--bench NAME]`.
//!
//! The library part holds inputs shared by the benches and the `book_loop` example: frames with
//! the shape and size of the recorded ones, built deterministically so that the benches run
//! without the recordings; and, for the engine bench (SPEC 12), an engine in the state the cycle
//! figures are defined for and a counting allocator for the zero-allocation figure.

use mmfast_core::config::{LadderConfig, LeadVenue, MarketMakerConfig};
use mmfast_core::engine::{ActionKind, QuoteEngine};

/// A tiny deterministic generator (xorshift64*): benches must see the same input every run.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `[lo, hi]`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }
}

/// A BTC `l2Book` frame with `levels` per side, keys as Hyperliquid sends them (`n`, `px`,
/// `sz`), ~1.6 KB for 20 levels.
pub fn hl_l2book_frame(levels: usize) -> Vec<u8> {
    let mut rng = Rng::new(1);
    let (mut bid, mut ask) = (105_055u64, 105_056u64);
    let mut sides = [String::new(), String::new()];
    for i in 0..levels {
        for (s, px) in sides.iter_mut().zip([bid, ask]) {
            if i > 0 {
                s.push(',');
            }
            let sz = rng.range(1, 2_000_000);
            s.push_str(&format!(
                r#"{{"n":{},"px":"{px}.0","sz":"{}.{:05}"}}"#,
                rng.range(1, 40),
                sz / 100_000,
                sz % 100_000
            ));
        }
        bid -= rng.range(1, 3);
        ask += rng.range(1, 3);
    }
    format!(
        r#"{{"channel":"l2Book","data":{{"coin":"BTC","levels":[[{}],[{}]],"time":1737918843542}}}}"#,
        sides[0], sides[1]
    )
    .into_bytes()
}

/// A REST depth snapshot (`lastUpdateId` 1000) with `levels` per side around 61 800 USDT.
pub fn binance_snapshot(levels: usize) -> Vec<u8> {
    let side = |sign: f64, start: f64| {
        (0..levels)
            .map(|i| format!(r#"["{:.2}","1.000"]"#, start + sign * 0.1 * i as f64))
            .collect::<Vec<_>>()
            .join(",")
    };
    format!(
        r#"{{"lastUpdateId":1000,"E":1,"T":1,"bids":[{}],"asks":[{}]}}"#,
        side(-1.0, 61800.0),
        side(1.0, 61800.1)
    )
    .into_bytes()
}

/// `count` chained `depthUpdate` frames (combined-stream wrapped, the first bridging the
/// snapshot of [`binance_snapshot`]) of `per_side` levels a side, mostly near the touch, a
/// fifth of them deletions.
pub fn binance_diffs(count: usize, per_side: usize) -> Vec<Vec<u8>> {
    let mut rng = Rng::new(2);
    let mut u = 1000u64;
    (0..count)
        .map(|_| {
            let mut sides = [String::new(), String::new()];
            for (k, s) in sides.iter_mut().enumerate() {
                for i in 0..per_side {
                    // Roughly geometric distance from the touch, mean ~20 ticks.
                    let r = rng.range(1, 1 << 20) as f64 / (1u64 << 20) as f64;
                    let off = ((-r.ln()) * 20.0).min(999.0) as u64;
                    let px = if k == 0 { 618_000 - off } else { 618_001 + off };
                    let qty = if rng.range(0, 4) == 0 { 0 } else { rng.range(1, 5000) };
                    if i > 0 {
                        s.push(',');
                    }
                    s.push_str(&format!(
                        r#"["{}.{}0","{}.{:03}"]"#,
                        px / 10,
                        px % 10,
                        qty / 1000,
                        qty % 1000
                    ));
                }
            }
            let f = format!(
                r#"{{"stream":"btcusdt@depth@0ms","data":{{"e":"depthUpdate","E":1,"T":1,"s":"BTCUSDT","U":{},"u":{},"pu":{},"b":[{}],"a":[{}]}}}}"#,
                u,
                u + 10,
                u - 1,
                sides[0],
                sides[1]
            );
            u += 11;
            f.into_bytes()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use mmfast_core::book::{BinanceBook, HlBook};

    use super::*;

    #[test]
    fn inputs_are_accepted() {
        let mut hl = HlBook::new(5).unwrap();
        assert!(hl.apply(&hl_l2book_frame(20)).unwrap().applied());
        assert_eq!(hl.book().bids().len(), 20);
        let mut bn = BinanceBook::new();
        bn.apply_snapshot(&binance_snapshot(1000)).unwrap();
        for f in binance_diffs(50, 10) {
            assert!(bn.apply(&f).unwrap().applied());
        }
        assert!(bn.synced());
    }
}

// ---- engine cycle fixtures ----

// The counting allocator is the one the core's allocation tests use (install it with
// `#[global_allocator]` in the bench binary); included by path so there is one implementation
// without a new crate.
#[path = "../../core/tests/common/mod.rs"]
mod counting_alloc;
pub use counting_alloc::{allocations, CountingAlloc};

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
