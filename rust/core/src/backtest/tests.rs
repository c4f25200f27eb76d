use proptest::prelude::*;

use super::*;
use crate::config::MarketMakerConfig;
use crate::sim::{AssetConfig, SimConfig};

fn hl() -> String {
    crate::book::tests::real("hyperliquid_btcusd_20250126.gz")
        .display()
        .to_string()
}

fn cfg(coin: &str, extra: &[(&str, &str)]) -> MarketMakerConfig {
    let mut o: Vec<(String, String)> = vec![
        ("asset".into(), coin.into()),
        ("network".into(), "testnet".into()),
        ("capital_usd".into(), "1000.0".into()),
        ("ladder.min_half_spread_bps".into(), "2.5".into()),
        ("lead_venue".into(), "binance".into()),
        ("lead.symbol".into(), "ETHUSDT".into()),
        ("max_position".into(), "0.3".into()),
    ];
    o.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    MarketMakerConfig::from_toml_str("", "test", &o).unwrap()
}

fn synthetic(seed: u64, secs: f64) -> BacktestSpec {
    let mut asset = AssetConfig {
        coin: "ETH".into(),
        mid: 3000.0,
        ..AssetConfig::default()
    };
    asset.synthetic.kappa = 0.25;
    BacktestSpec {
        sim: SimConfig {
            seed,
            assets: vec![asset],
            ..SimConfig::default()
        },
        duration_s: secs,
        seed,
        max_position: 0.3,
        ..BacktestSpec::default()
    }
}

#[test]
fn synthetic_run_is_reproducible_bit_for_bit_and_trades() {
    let run = |seed| {
        let mut bt = Backtest::new(cfg("ETH", &[]), synthetic(seed, 120.0)).unwrap();
        let s = bt.run().unwrap();
        (s.to_string(), bt.accounting().series.pnl_total.len())
    };
    let (a, n) = run(3);
    assert_eq!(a, run(3).0);
    assert_ne!(a, run(4).0);
    assert_eq!(n, 120);
    let s: serde_json::Value = serde_json::from_str(&a).unwrap();
    assert!(s["fills"].as_u64().unwrap() > 0, "{s}");
    assert!(s["actions"]["place"].as_u64().unwrap() > 0, "{s}");
    assert_eq!(s["invariant_breaches"], 0, "{s}");
}

#[test]
fn pnl_parts_add_up_to_the_total() {
    let mut bt = Backtest::new(cfg("ETH", &[]), synthetic(5, 300.0)).unwrap();
    let s = bt.run().unwrap();
    let f = |k: &str| s[k].as_f64().unwrap();
    let parts = f("pnl_spread") + f("pnl_inventory") + f("pnl_fees") + f("pnl_funding");
    assert!(s["fills"].as_u64().unwrap() > 0);
    assert!((parts - f("pnl_total")).abs() < 1e-6, "{s}");
    // and the position the accounting tracked is the venue's
    assert!(
        (f("position_end") - f("venue_position")).abs() < 1e-9,
        "{s}"
    );
}

#[test]
fn the_hyperliquid_recording_replays_end_to_end() {
    let mut spec = BacktestSpec {
        hl: Some(hl()),
        max_position: 0.01,
        feed_latency: "10".into(),
        ..BacktestSpec::default()
    };
    spec.sim.assets = vec![AssetConfig {
        coin: "BTC".into(),
        sz_decimals: 5,
        max_leverage: 40,
        ..AssetConfig::default()
    }];
    let mut bt = Backtest::new(
        cfg("BTC", &[("lead_venue", "none"), ("max_position", "0.01")]),
        spec,
    )
    .unwrap();
    let s = bt.run().unwrap();
    // 46 books and 9 trades frames over 25 s
    assert!(s["events"].as_u64().unwrap() >= 55, "{s}");
    let dur = s["sim_duration_s"].as_f64().unwrap();
    assert!((20.0..30.0).contains(&dur), "{s}");
    assert!(s["actions"]["place"].as_u64().unwrap() > 0, "{s}");
    assert_eq!(s["invariant_breaches"], 0);
}

#[test]
fn a_coin_that_is_not_the_recordings_is_refused() {
    let spec = BacktestSpec {
        hl: Some(hl()),
        ..BacktestSpec::default()
    };
    let e = Backtest::new(cfg("ETH", &[]), spec)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("coin") && e.contains("ETH"), "{e}");
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 16,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// SPEC 3 end to end, counted by the venue itself (`sim::ledger`, blind to the bot): over
    /// random markets, both strategies, modify on and off, a max that binds (a few minimum
    /// orders) or not, and order latencies in which one action often overtakes another sent
    /// before it, position + resting orders never exceed the max. Before the fix of a cancel
    /// overtaking its place (`engine::emit`), glft with a max of 0.03 and the heavy tail
    /// breached on 8 of 10 seeds in 120 s.
    #[test]
    fn the_venue_counts_no_breach_whatever_the_latency(
        seed in 1u64..1_000_000,
        strategy in prop_oneof![Just("glft"), Just("avellaneda_stoikov")],
        use_modify in any::<bool>(),
        max in prop_oneof![3 => Just("0.03"), 1 => Just("0.3")],
        latency in prop_oneof![
            3 => Just("p10=5,p50=120,p90=700,p99=1500".to_string()),
            1 => Just("default".to_string()),
            1 => (1u64..800).prop_map(|ms| ms.to_string()),
        ],
    ) {
        let modify = use_modify.to_string();
        let c = cfg("ETH", &[("strategy", strategy), ("reconcile.use_modify", &modify),
            ("max_position", max)]);
        let mut spec = synthetic(seed, 120.0);
        spec.max_position = max.parse().unwrap();
        spec.order_latency = latency;
        let s = Backtest::new(c, spec).unwrap().run().unwrap();
        prop_assert_eq!(&s["invariant_breaches"], &serde_json::json!(0), "{}", s);
    }
}
