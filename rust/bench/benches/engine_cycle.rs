//! Criterion benchmarks of the quote cycle (SPEC 12), and the allocation count of the cycle in
//! steady state with a counting allocator (target: 0).

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use mmfast_bench::{ack_all, allocations, warm_engine, CountingAlloc, T0};

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

/// Cycles that keep every order (book moves of under a bp): the common case.
fn cycle_steady(c: &mut Criterion) {
    let mut e = warm_engine();
    let mut now = T0;
    let mut flip = false;
    c.bench_function("cycle_steady_5x2_levels_10_resting", |b| {
        b.iter(|| {
            now += 150;
            flip = !flip;
            let shift = if flip { 0.1 } else { 0.0 };
            e.on_hl_top(2999.9 + shift, 2.0, 3000.1 + shift, 2.0, now)
                .expect("book");
            e.on_binance_top(2999.8 + shift, 3000.0 + shift, now)
                .expect("binance");
            black_box(e.cycle(now).actions.len())
        })
    });
}

/// Cycles that requote every level (a 4 bp move each time), timing only `cycle`.
fn cycle_requote(c: &mut Criterion) {
    let mut e = warm_engine();
    let mut now = T0;
    let mut flip = false;
    let mut oid = 1_000_000;
    c.bench_function("cycle_requote_5x2_levels", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                now += 150;
                flip = !flip;
                let shift = if flip { 1.2 } else { 0.0 };
                e.on_hl_top(2999.9 + shift, 2.0, 3000.1 + shift, 2.0, now)
                    .expect("book");
                e.on_binance_top(2999.8 + shift, 3000.0 + shift, now)
                    .expect("binance");
                let t = Instant::now();
                black_box(e.cycle(now).actions.len());
                total += t.elapsed();
                ack_all(&mut e, &mut oid);
            }
            total
        })
    });
}

/// Allocations inside `cycle` over steady and requoting cycles; printed as a figure.
fn cycle_allocations(_c: &mut Criterion) {
    let mut e = warm_engine();
    let mut now = T0;
    let mut oid = 2_000_000;
    let (mut counted, mut cycles, mut actions) = (0u64, 0u64, 0usize);
    for i in 0..10_000u64 {
        now += 150;
        let shift = [0.0, 0.1, 0.0, 1.2][(i % 4) as usize];
        e.on_hl_top(2999.9 + shift, 2.0, 3000.1 + shift, 2.0, now)
            .expect("book");
        e.on_binance_top(2999.8 + shift, 3000.0 + shift, now)
            .expect("binance");
        let before = allocations();
        actions += e.cycle(now).actions.len();
        counted += allocations() - before;
        cycles += 1;
        ack_all(&mut e, &mut oid);
    }
    println!(
        "cycle_allocations: {counted} allocations in {cycles} cycles ({actions} actions emitted)"
    );
    assert_eq!(counted, 0, "the cycle allocated in steady state");
}

criterion_group!(benches, cycle_allocations, cycle_steady, cycle_requote);
criterion_main!(benches);
