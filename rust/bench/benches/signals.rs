//! Signal costs (SPEC 4, 12) without Python: one steady-state update of each estimator, the
//! integrator's value and frame methods and `snapshot`, and one whole lead-lag scan (the work the
//! integrator spreads over a few hundred updates in slices).
//!
//! Every state is warmed first with a synthetic market (Binance leading Hyperliquid by 200 ms,
//! trades on both) so that the rings are full and the scans are in their steady cycle.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use mmfast_core::book::HlBook;
use mmfast_core::config::{MarketMakerConfig, SignalConfig, StochasticConfig};
use mmfast_core::signals::rng::SplitMix64;
use mmfast_core::signals::{
    CusumDetector, FlowAnalyzer, GatedSignal, InformedFlowEstimator, LagAnalyzer, ModelGating,
    RegimeKappaEstimator, SignalFeed, SignalIntegrator, VolatilityEstimator,
};
use mmfast_core::types::VolRegime;

const T0: i64 = 1_700_000_000_000;

/// Feeds `secs` of the synthetic market; returns the last time.
fn warm(s: &mut SignalIntegrator, secs: i64) -> i64 {
    let mut rng = SplitMix64::new(1);
    let mut hist = std::collections::VecDeque::new();
    let mut x = 0.0f64;
    let mut t = T0;
    while t < T0 + secs * 1_000 {
        t += 5;
        x += 2.0 * 0.005f64.sqrt() * rng.normal();
        hist.push_back(x);
        if hist.len() > 40 {
            hist.pop_front();
        }
        let m = 3_000.0 * (x / 1e4).exp();
        if rng.unit() < 0.2 {
            s.on_binance_bbo(m - 0.05, m + 0.05, t).unwrap();
        }
        if rng.unit() < 0.02 {
            s.on_binance_trade(m, 0.1, rng.unit() < 0.5, t).unwrap();
        }
        if rng.unit() < 0.05 {
            let h = 3_000.0 * ((hist[0] + 0.5 * rng.normal()) / 1e4).exp();
            s.on_hl_mid(h, t).unwrap();
            s.on_hl_trade(h * 1.0003, 0.1, rng.unit() < 0.5, t).unwrap();
        }
        if t % 100 == 0 {
            s.snapshot(t);
        }
    }
    t
}

fn l2book(levels: usize, shift: f64) -> Vec<u8> {
    let side = |base: f64, step: f64| {
        (0..levels)
            .map(|i| {
                format!(
                    r#"{{"px":"{:.1}","sz":"{:.4}","n":{}}}"#,
                    base + step * i as f64,
                    1.0 + 0.37 * i as f64,
                    i + 1
                )
            })
            .collect::<Vec<_>>()
            .join(",")
    };
    format!(
        r#"{{"channel":"l2Book","data":{{"coin":"ETH","time":{T0},"levels":[[{}],[{}]]}}}}"#,
        side(3_000.0 - shift, -0.1),
        side(3_000.1 - shift, 0.1)
    )
    .into_bytes()
}

fn ticker(shift: f64) -> Vec<u8> {
    format!(
        r#"{{"stream":"ethusdt@bookTicker","data":{{"e":"bookTicker","u":400900217,"E":{T0},"T":{T0},"s":"ETHUSDT","b":"{:.2}","B":"31.21","a":"{:.2}","A":"40.66"}}}}"#,
        3_000.0 - shift,
        3_000.01 - shift
    )
    .into_bytes()
}

fn estimators(c: &mut Criterion) {
    let sc = SignalConfig::default();
    // 200 ms sampling (not the 1 s default) so that every 250 ms volatility call samples.
    let st = StochasticConfig {
        vol_min_interval_ms: 200,
        ..StochasticConfig::default()
    };
    let mut g = c.benchmark_group("signals/estimator");
    let mut rng = SplitMix64::new(2);
    let noise: Vec<f64> = (0..4096).map(|_| rng.normal()).collect();

    let mut v = VolatilityEstimator::new(&st);
    let (mut t, mut i) = (T0, 0usize);
    g.bench_function("volatility_update", |b| {
        b.iter(|| {
            t += 250;
            i = (i + 1) & 4095;
            v.update_log(black_box(noise[i]), t);
        })
    });

    let mut k = RegimeKappaEstimator::new(&st);
    let mut t = T0;
    for j in 0..10_000 {
        k.on_trade(
            4.0 * noise[j & 4095].abs(),
            j & 1 == 0,
            T0 + j as i64 * 100,
            VolRegime::Normal,
        );
    }
    g.bench_function("kappa_on_trade", |b| {
        b.iter(|| {
            t += 100;
            i = (i + 1) & 4095;
            k.on_trade(
                black_box(4.0 * noise[i].abs()),
                i & 1 == 0,
                t,
                VolRegime::Normal,
            );
        })
    });

    let mut f = InformedFlowEstimator::new(&sc, &st);
    let mut t = T0;
    g.bench_function("informed_flow_trade_and_mid", |b| {
        b.iter(|| {
            t += 100;
            i = (i + 1) & 4095;
            f.on_trade(i & 1 == 0, t, noise[i]);
            f.on_mid(black_box(noise[i]), t);
        })
    });

    let mut fa = FlowAnalyzer::new();
    let mut t = T0;
    g.bench_function("flow_analyzer_on_trade", |b| {
        b.iter(|| {
            t += 10;
            i = (i + 1) & 4095;
            fa.on_trade(black_box(0.5), i & 1 == 0, t);
        })
    });
    g.bench_function("flow_analyzer_features", |b| {
        b.iter(|| black_box(fa.features(black_box(t + 5))))
    });

    let mut gate = ModelGating::new(&sc);
    g.bench_function("gating_record", |b| {
        b.iter(|| {
            i = (i + 1) & 4095;
            gate.record(
                GatedSignal::LeadLag,
                noise[i],
                black_box(noise[(i + 7) & 4095]),
            );
        })
    });
    g.bench_function("gating_weight", |b| {
        b.iter(|| black_box(gate.weight(GatedSignal::LeadLag)))
    });

    let mut cu = CusumDetector::new(&sc);
    let mut t = T0;
    g.bench_function("cusum_update", |b| {
        b.iter(|| {
            t += 250;
            i = (i + 1) & 4095;
            black_box(cu.update(black_box(noise[i]), t));
        })
    });
    g.finish();
}

fn lag(c: &mut Criterion) {
    let sc = SignalConfig::default();
    let mut g = c.benchmark_group("signals/lag");
    let mut rng = SplitMix64::new(3);
    let mut a = LagAnalyzer::new(&sc, 7);
    let (mut t, mut x) = (T0, 0.0f64);
    for _ in 0..40_000 {
        t += 5;
        x += 0.3 * rng.normal();
        a.on_lead_log(x, t, |_| {});
        a.on_hl_log(x + 0.3 * rng.normal(), t + 2, |_| {});
        a.work(t + 2);
    }
    // One update (alternately the lead and Hyperliquid, 10 ms apart: a grid step every few
    // updates) with `lag_work_per_update` slices of the scan in progress. Scans recur every
    // `lag_recompute_ms`, so most updates carry scan work.
    let mut a1 = a.clone();
    let mut t1 = t;
    let mut flip = false;
    g.bench_function("update_with_scan_slices", |b| {
        b.iter(|| {
            t1 += 10;
            flip = !flip;
            x += 0.3 * rng.normal();
            if flip {
                a1.on_lead_log(black_box(x), t1, |_| {});
            } else {
                a1.on_hl_log(black_box(x), t1, |_| {});
            }
            a1.work(t1);
        })
    });
    // One whole scan (1 + shuffles) x 41 lags x 2400 pairs, as if run at once: from an idle
    // analyzer whose next scan is due.
    a.finish_scan(t);
    g.bench_function("whole_scan", |b| {
        b.iter_batched(
            || a.clone(),
            |mut s| {
                s.finish_scan(t + 1_000_000);
                s
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

fn integrator(c: &mut Criterion) {
    let cfg = MarketMakerConfig::default();
    let mut g = c.benchmark_group("signals/integrator");
    let mut s = SignalIntegrator::new(&cfg);
    let t_end = warm(&mut s, 150);
    assert!(s.lag_analyzer().estimate().scans > 20);
    let mut t = t_end;
    let mut flip = false;
    g.bench_function("on_hl_mid", |b| {
        b.iter(|| {
            t += 3;
            flip = !flip;
            s.on_hl_mid(black_box(if flip { 3_000.05 } else { 3_000.15 }), t)
                .unwrap();
        })
    });
    g.bench_function("on_binance_bbo", |b| {
        b.iter(|| {
            t += 3;
            flip = !flip;
            let a = if flip { 3_000.1 } else { 3_000.2 };
            s.on_binance_bbo(3_000.0, black_box(a), t).unwrap();
        })
    });
    g.bench_function("on_hl_trade", |b| {
        b.iter(|| {
            t += 3;
            flip = !flip;
            s.on_hl_trade(black_box(3_000.2), 0.1, flip, t).unwrap();
        })
    });
    g.bench_function("on_binance_trade", |b| {
        b.iter(|| {
            t += 3;
            flip = !flip;
            s.on_binance_trade(black_box(3_000.2), 0.1, flip, t)
                .unwrap();
        })
    });
    g.bench_function("snapshot", |b| {
        b.iter(|| {
            t += 3;
            black_box(s.snapshot(t));
        })
    });
    g.finish();

    let mut g = c.benchmark_group("signals/feed");
    let mut feed = SignalFeed::unfiltered(&cfg);
    warm(feed.signals_mut(), 150);
    let books = [l2book(20, 0.0), l2book(20, 0.1)];
    let books5 = [l2book(5, 0.0), l2book(5, 0.1)];
    let tickers = [ticker(0.0), ticker(0.01)];
    let mut t = t_end;
    let mut n = 0usize;
    // Baseline: the same frames into a bare book (the parse and book update inside the figure).
    let mut hb = HlBook::with_decimals(8, 8).unwrap();
    g.bench_function("baseline_hlbook_apply_l2book20", |b| {
        b.iter(|| {
            n += 1;
            hb.apply(black_box(&books[n & 1])).unwrap()
        })
    });
    g.bench_function("on_hl_frame_l2book20", |b| {
        b.iter(|| {
            t += 3;
            n += 1;
            feed.on_hl_frame(black_box(&books[n & 1]), t).unwrap()
        })
    });
    g.bench_function("on_hl_frame_l2book5", |b| {
        b.iter(|| {
            t += 3;
            n += 1;
            feed.on_hl_frame(black_box(&books5[n & 1]), t).unwrap()
        })
    });
    g.bench_function("on_binance_frame_ticker", |b| {
        b.iter(|| {
            t += 3;
            n += 1;
            feed.on_binance_frame(black_box(&tickers[n & 1]), t)
                .unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, estimators, lag, integrator);
criterion_main!(benches);
