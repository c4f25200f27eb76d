//! A fixed loop of one signals operation, for CPU-time and cycle counts on a shared machine where
//! wall-clock benches are noisy: `perf stat -e task-clock,cycles,instructions
//! target/release/examples/signals_loop <what> <iterations>`; it also prints ns per op (wall).
//! what: hl_mid, binance_bbo, hl_trade, snapshot, lag_update (one update with its scan slice),
//! scan (one whole lag scan), hl20 (an l2Book frame through `SignalFeed`), and one update of
//! each estimator alone: vol, kappa, flow (a trade and a mid), flow_analyzer, gating, cusum.

use std::hint::black_box;

use mmfast_core::config::{MarketMakerConfig, SignalConfig, StochasticConfig};
use mmfast_core::signals::rng::SplitMix64;
use mmfast_core::signals::{
    CusumDetector, FlowAnalyzer, GatedSignal, InformedFlowEstimator, LagAnalyzer, ModelGating,
    RegimeKappaEstimator, SignalFeed, SignalIntegrator, VolatilityEstimator,
};
use mmfast_core::types::VolRegime;

const T0: i64 = 1_700_000_000_000;

fn warm(s: &mut SignalIntegrator, secs: i64) -> i64 {
    let mut rng = SplitMix64::new(1);
    let mut hist = std::collections::VecDeque::new();
    let (mut x, mut t) = (0.0f64, T0);
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

fn l2book(shift: f64) -> Vec<u8> {
    let side = |base: f64, step: f64| {
        (0..20)
            .map(|i| {
                format!(
                    r#"{{"px":"{:.1}","sz":"1.5","n":3}}"#,
                    base + step * i as f64
                )
            })
            .collect::<Vec<_>>()
            .join(",")
    };
    format!(
        r#"{{"channel":"l2Book","data":{{"coin":"ETH","time":1,"levels":[[{}],[{}]]}}}}"#,
        side(3_000.0 - shift, -0.1),
        side(3_000.1 - shift, 0.1)
    )
    .into_bytes()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let what = args.next().unwrap_or_else(|| "hl_mid".into());
    let n: i64 = args
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let cfg = MarketMakerConfig::default();
    let mut s = SignalIntegrator::new(&cfg);
    let mut t = warm(&mut s, 150);
    let t0 = std::time::Instant::now();
    match what.as_str() {
        "hl_mid" => {
            for i in 0..n {
                t += 3;
                s.on_hl_mid(black_box(3_000.0 + (i & 1) as f64 * 0.1), t)
                    .unwrap();
            }
        }
        "binance_bbo" => {
            for i in 0..n {
                t += 3;
                s.on_binance_bbo(3_000.0, black_box(3_000.1 + (i & 1) as f64 * 0.1), t)
                    .unwrap();
            }
        }
        "hl_trade" => {
            for i in 0..n {
                t += 3;
                s.on_hl_trade(black_box(3_000.2), 0.1, i & 1 == 0, t)
                    .unwrap();
            }
        }
        "snapshot" => {
            for _ in 0..n {
                t += 3;
                black_box(s.snapshot(t));
            }
        }
        "lag_update" | "scan" => {
            let mut a = LagAnalyzer::new(&SignalConfig::default(), 7);
            let mut rng = SplitMix64::new(3);
            let mut x = 0.0f64;
            for _ in 0..40_000 {
                t += 5;
                x += 0.3 * rng.normal();
                a.on_lead_log(x, t, |_| {});
                a.on_hl_log(x + 0.3 * rng.normal(), t + 2, |_| {});
                a.work(t + 2);
            }
            if what == "scan" {
                for _ in 0..n {
                    t += 1_000;
                    a.finish_scan(t);
                }
            } else {
                for i in 0..n {
                    t += 10;
                    x += if i & 2 == 0 { 0.3 } else { -0.2 };
                    if i & 1 == 0 {
                        a.on_lead_log(black_box(x), t, |_| {});
                    } else {
                        a.on_hl_log(black_box(x), t, |_| {});
                    }
                    a.work(t);
                }
            }
            black_box(a.estimate());
        }
        "hl20" => {
            let mut f = SignalFeed::unfiltered(&cfg);
            warm(f.signals_mut(), 150);
            let frames = [l2book(0.0), l2book(0.1)];
            for i in 0..n {
                t += 3;
                black_box(f.on_hl_frame(&frames[(i & 1) as usize], t).unwrap());
            }
        }
        "vol" | "kappa" | "flow" | "flow_analyzer" | "gating" | "cusum" => {
            // 200 ms sampling (not the 1 s default) so that every 250 ms call samples.
            let (sc, st) = (
                SignalConfig::default(),
                StochasticConfig {
                    vol_min_interval_ms: 200,
                    ..StochasticConfig::default()
                },
            );
            let mut rng = SplitMix64::new(2);
            let noise: Vec<f64> = (0..4096).map(|_| rng.normal()).collect();
            let x = |i: i64| noise[(i & 4095) as usize];
            let mut v = VolatilityEstimator::new(&st);
            let mut k = RegimeKappaEstimator::new(&st);
            let mut f = InformedFlowEstimator::new(&sc, &st);
            let mut fa = FlowAnalyzer::new();
            let mut g = ModelGating::new(&sc);
            let mut c = CusumDetector::new(&sc);
            // Warm each past its capacity first.
            for i in 0..100_000 {
                let ti = T0 + i * 250;
                v.update_log(x(i), ti);
                k.on_trade(4.0 * x(i).abs(), i & 1 == 0, ti, VolRegime::Normal);
                f.on_trade(i & 1 == 0, ti, x(i));
                f.on_mid(x(i), ti);
                fa.on_trade(0.5, i & 1 == 0, ti);
                g.record(GatedSignal::LeadLag, x(i), x(i + 7));
                c.update(x(i), ti);
                t = ti;
            }
            let op = ["vol", "kappa", "flow", "flow_analyzer", "gating", "cusum"]
                .iter()
                .position(|w| *w == what)
                .unwrap_or(0);
            // 250 ms apart: past the 200 ms minimum set above, so every call samples.
            for i in 0..n {
                t += 250;
                let y = black_box(x(i));
                match op {
                    0 => v.update_log(y, t),
                    1 => k.on_trade(4.0 * y.abs(), i & 1 == 0, t, VolRegime::Normal),
                    2 => {
                        f.on_trade(i & 1 == 0, t, y);
                        f.on_mid(y, t);
                    }
                    3 => fa.on_trade(0.5, i & 1 == 0, t),
                    4 => g.record(GatedSignal::LeadLag, y, x(i + 7)),
                    _ => {
                        black_box(c.update(y, t));
                    }
                }
            }
            black_box((v.sigma_bps(), k.kappa(VolRegime::Normal), f.regime()));
            black_box((fa.features(t), g.weight(GatedSignal::LeadLag), c.state(t)));
        }
        other => panic!("unknown {other}"),
    }
    let ns = t0.elapsed().as_nanos() as f64 / n as f64;
    println!("{what}: {ns:.1} ns/op (wall)");
}
