//! A fixed backtest for CPU-time and instruction counts (callgrind, perf stat) on a shared
//! machine: `target/profiling/examples/backtest_loop [synthetic|bare|engine] [seconds]`
//! (`bare` / `engine`: the Binance recording of $MMFAST_SHARED as the market, without or with the
//! bot). Prints the events and the wall-clock events/s (indicative only; benches measure speed)
//! and the summary on stderr, to compare two builds bit for bit.

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
    let spec = if what == "synthetic" {
        let asset = AssetConfig {
            coin: "ETH".into(),
            mid: 3000.0,
            synthetic: SyntheticParams::preset("default", "ETH").expect("preset"),
            ..AssetConfig::default()
        };
        BacktestSpec {
            sim: SimConfig {
                seed: 1,
                assets: vec![asset],
                ..SimConfig::default()
            },
            duration_s: secs,
            seed: 1,
            max_position: 0.3,
            ..BacktestSpec::default()
        }
    } else {
        let shared = std::env::var("MMFAST_SHARED").unwrap_or_else(|_| "../shared".into());
        let asset = AssetConfig {
            coin: "BTC".into(),
            sz_decimals: 5,
            max_leverage: 40,
            ..AssetConfig::default()
        };
        BacktestSpec {
            sim: SimConfig {
                seed: 1,
                assets: vec![asset],
                ..SimConfig::default()
            },
            hl: Some(format!("{shared}/data/real/usdm_btcusdt_20240808.gz")),
            cache_dir: Some(
                std::env::temp_dir()
                    .join("mmfast-bench-cache")
                    .display()
                    .to_string(),
            ),
            duration_s: secs,
            order_latency: "0".into(),
            max_position: 0.01,
            quote: what == "engine",
            ..BacktestSpec::default()
        }
    };
    let cfg = if what == "synthetic" {
        cfg
    } else {
        MarketMakerConfig::from_toml_str(
            "",
            "bench",
            &[
                ("asset".into(), "BTC".into()),
                ("network".into(), "testnet".into()),
                ("capital_usd".into(), "1000.0".into()),
                ("lead_venue".into(), "none".into()),
                ("max_position".into(), "0.01".into()),
            ],
        )
        .expect("config")
    };
    let t0 = std::time::Instant::now();
    let mut bt = Backtest::new(cfg, spec).expect("backtest");
    let s = bt.run().expect("run");
    let wall = t0.elapsed().as_secs_f64();
    let ev = s["events"].as_u64().unwrap_or(0);
    let rec = bt.replay_events();
    println!(
        "events {ev} records {rec} cycles {} fills {} wall {wall:.3} s -> {:.0} events/s, {:.0} records/s",
        bt.accounting().cycles,
        s["fills"],
        ev as f64 / wall,
        rec as f64 / wall
    );
    // The summary, to compare two builds bit for bit.
    eprintln!("{s}");
}
