//! A fixed backtest for CPU-time and instruction counts (callgrind, perf stat) on a shared
//! machine: `target/profiling/examples/backtest_loop [synthetic|hl] [seconds]`. Prints the
//! summary's events and the wall-clock events/s (indicative only; benches measure speed).

use mmfast_core::backtest::{Backtest, BacktestSpec};
use mmfast_core::config::MarketMakerConfig;
use mmfast_core::sim::{AssetConfig, SimConfig, SyntheticParams};

fn main() {
    let mut args = std::env::args().skip(1);
    let what = args.next().unwrap_or_else(|| "synthetic".into());
    let secs: f64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(120.0);
    let cfg = MarketMakerConfig::from_toml_str(
        "",
        "bench",
        &[
            ("asset".into(), "ETH".into()),
            ("network".into(), "testnet".into()),
            ("capital_usd".into(), "1000.0".into()),
            ("ladder.min_half_spread_bps".into(), "2.5".into()),
            ("lead_venue".into(), "binance".into()),
            ("lead.symbol".into(), "ETHUSDT".into()),
            ("max_position".into(), "0.3".into()),
        ],
    )
    .expect("config");
    assert_eq!(what, "synthetic", "only the synthetic market for now");
    let asset = AssetConfig {
        coin: "ETH".into(),
        mid: 3000.0,
        synthetic: SyntheticParams::preset("default", "ETH").expect("preset"),
        ..AssetConfig::default()
    };
    let spec = BacktestSpec {
        sim: SimConfig {
            seed: 1,
            assets: vec![asset],
            ..SimConfig::default()
        },
        duration_s: secs,
        seed: 1,
        max_position: 0.3,
        ..BacktestSpec::default()
    };
    let t0 = std::time::Instant::now();
    let mut bt = Backtest::new(cfg, spec).expect("backtest");
    let s = bt.run().expect("run");
    let wall = t0.elapsed().as_secs_f64();
    let ev = s["events"].as_u64().unwrap_or(0);
    println!(
        "events {ev} cycles {} fills {} wall {wall:.3} s -> {:.0} events/s",
        bt.accounting().cycles,
        s["fills"],
        ev as f64 / wall
    );
    // The summary, to compare two builds bit for bit.
    eprintln!("{s}");
}
