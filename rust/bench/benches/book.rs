//! Criterion benches of the market-data path (SPEC 12): Hyperliquid `l2Book` frame bytes into
//! the book (20 levels and the 5-level `fast` frame) against serde_json on the same bytes, the
//! typed parsers alone, and Binance diff-depth apply per level.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use mmfast_bench::{binance_diffs, binance_snapshot, hl_l2book_frame};
use mmfast_core::book::{
    parse_binance_frame, parse_hl_frame, BinanceBook, HlBook, HlMessage, L2Book,
};
use mmfast_core::types::Side;
use serde::Deserialize;

/// The serde baseline: the same frame into borrowed structs (what a serde-based book would do
/// before converting prices).
#[derive(Deserialize)]
struct Env<'a> {
    #[serde(borrow)]
    #[allow(dead_code)]
    channel: &'a str,
    #[serde(borrow)]
    data: Data<'a>,
}

#[derive(Deserialize)]
struct Data<'a> {
    #[serde(borrow)]
    #[allow(dead_code)]
    coin: &'a str,
    #[allow(dead_code)]
    time: u64,
    #[serde(borrow)]
    levels: [Vec<Lvl<'a>>; 2],
}

#[derive(Deserialize)]
struct Lvl<'a> {
    #[serde(borrow)]
    px: &'a str,
    #[serde(borrow)]
    #[allow(dead_code)]
    sz: &'a str,
    #[allow(dead_code)]
    n: u64,
}

fn hl(c: &mut Criterion) {
    for (name, levels) in [("hl_l2book_20", 20), ("hl_l2book_5_fast", 5)] {
        let frame = hl_l2book_frame(levels);
        let mut g = c.benchmark_group(name);
        g.throughput(Throughput::Bytes(frame.len() as u64));
        let mut book = HlBook::new(5).unwrap();
        g.bench_function("hlbook_apply", |b| {
            b.iter(|| book.apply(black_box(&frame)).unwrap())
        });
        g.bench_function("parse_hl_frame", |b| {
            b.iter(|| match parse_hl_frame(black_box(&frame)).unwrap() {
                HlMessage::L2Book(l) => l.time,
                _ => unreachable!(),
            })
        });
        g.bench_function("serde_json_borrowed_structs", |b| {
            b.iter(|| {
                let e: Env<'_> = serde_json::from_slice(black_box(&frame)).unwrap();
                e.data.levels[0][0].px.len()
            })
        });
        g.bench_function("serde_json_value", |b| {
            b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(&frame)).unwrap())
        });
        g.finish();
    }
}

fn binance(c: &mut Criterion) {
    let snapshot = binance_snapshot(1000);
    let diffs = binance_diffs(500, 10);
    let levels: usize = diffs.len() * 20;
    let mut g = c.benchmark_group("binance_depth");
    g.throughput(Throughput::Elements(levels as u64));
    g.bench_function("apply_500_diffs_of_20_levels", |b| {
        b.iter_batched_ref(
            || {
                let mut bn = BinanceBook::new();
                bn.apply_snapshot(&snapshot).unwrap();
                bn
            },
            |bn| {
                for f in &diffs {
                    bn.apply(black_box(f)).unwrap();
                }
            },
            BatchSize::LargeInput,
        )
    });
    g.bench_function("parse_500_diffs", |b| {
        b.iter(|| {
            for f in &diffs {
                black_box(parse_binance_frame(black_box(f)).unwrap());
            }
        })
    });
    g.finish();
    let mut g = c.benchmark_group("l2book");
    g.bench_function("update_near_touch_1000_levels", |b| {
        let mut book = L2Book::new(1000);
        for i in 0..1000 {
            book.update(Side::Bid, 100_000 - i, 5);
        }
        let mut i = 0i64;
        b.iter(|| {
            i = (i + 7) % 40;
            book.update(Side::Bid, black_box(100_000 - i), black_box(3 + i % 2))
        })
    });
    g.finish();
}

criterion_group!(benches, hl, binance);
criterion_main!(benches);
