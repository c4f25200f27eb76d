//! A fixed loop for CPU-time and instruction counts on a shared machine, where wall-clock
//! benches are noisy: `perf stat -e task-clock,instructions target/release/examples/book_loop
//! <what> <iterations>` (what: hl20, hl5, parse20, serde20, binance).

use std::hint::black_box;

use mmfast_bench::{binance_diffs, binance_snapshot, hl_l2book_frame};
use mmfast_core::book::{parse_hl_frame, BinanceBook, HlBook};

fn main() {
    let mut args = std::env::args().skip(1);
    let what = args.next().unwrap_or_else(|| "hl20".into());
    let n: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let t0 = std::time::Instant::now();
    let per = match what.as_str() {
        "hl20" | "hl5" => {
            let frame = hl_l2book_frame(if what == "hl20" { 20 } else { 5 });
            let mut book = HlBook::new(5).unwrap();
            for _ in 0..n {
                black_box(book.apply(black_box(&frame)).unwrap());
            }
            n
        }
        "parse20" => {
            let frame = hl_l2book_frame(20);
            for _ in 0..n {
                black_box(parse_hl_frame(black_box(&frame)).unwrap());
            }
            n
        }
        "serde20" => {
            let frame = hl_l2book_frame(20);
            for _ in 0..n {
                black_box(serde_json::from_slice::<serde_json::Value>(black_box(&frame)).unwrap());
            }
            n
        }
        "binance" => {
            let snapshot = binance_snapshot(1000);
            let diffs = binance_diffs(2000, 10);
            let mut levels = 0;
            for _ in 0..n.div_ceil(2000 * 20).max(1) {
                let mut bn = BinanceBook::new();
                bn.apply_snapshot(&snapshot).unwrap();
                for f in &diffs {
                    black_box(bn.apply(black_box(f)).unwrap());
                }
                levels += diffs.len() * 20;
            }
            levels
        }
        other => panic!("unknown {other}"),
    };
    let ns = t0.elapsed().as_nanos() as f64 / per as f64;
    println!("{what}: {ns:.1} ns per iteration (wall) over {per}");
}
