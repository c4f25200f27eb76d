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

fn binance() -> String {
    crate::book::tests::real("usdm_btcusdt_20240808.gz")
        .display()
        .to_string()
}

fn btc_spec(hl: String) -> BacktestSpec {
    let mut spec = BacktestSpec {
        hl: Some(hl),
        max_position: 0.01,
        ..BacktestSpec::default()
    };
    spec.sim.assets = vec![AssetConfig {
        coin: "BTC".into(),
        sz_decimals: 5,
        max_leverage: 40,
        ..AssetConfig::default()
    }];
    spec
}

fn btc_cfg() -> MarketMakerConfig {
    cfg("BTC", &[("lead_venue", "none"), ("max_position", "0.01")])
}

#[test]
fn the_cache_round_trips_and_never_trusts_a_damaged_file() {
    use super::cache::{encode, load, parse, Source};
    let path = hl();
    let d = super::events::decode(&path).unwrap();
    assert_eq!(d.name, "BTC");
    assert!(d.market_events() > 46 * 20, "{}", d.market_events());
    let bytes = encode(&d);
    assert_eq!(parse(&bytes).as_ref(), Some(&d));
    // Truncated anywhere, one byte longer, one bit flipped: refused.
    for cut in [1, 8, 31, 32, bytes.len() / 2, bytes.len() - 1] {
        assert!(parse(&bytes[..cut]).is_none(), "cut at {cut}");
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(parse(&longer).is_none());
    for at in [0, 9, 40, bytes.len() / 2, bytes.len() - 9] {
        let mut bad = bytes.clone();
        bad[at] ^= 0x10;
        assert!(parse(&bad).is_none(), "flip at {at}");
    }
    // Through a directory: decoded and written, then read back; a damaged file is rebuilt.
    let dir = std::env::temp_dir().join(format!("mmfast-cache-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (a, s1) = load(&path, Some(&dir)).unwrap();
    let (b, s2) = load(&path, Some(&dir)).unwrap();
    assert_eq!((s1, s2), (Source::Decoded, Source::Cache));
    assert_eq!(a, b);
    let file = super::cache::cache_file(&dir, &path).unwrap();
    let full = std::fs::read(&file).unwrap();
    std::fs::write(&file, &full[..full.len() - 100]).unwrap();
    let (c, s3) = load(&path, Some(&dir)).unwrap();
    assert_eq!((s3, &c), (Source::Decoded, &a));
    assert_eq!(std::fs::read(&file).unwrap(), full, "rewritten whole");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn cached_and_uncached_replays_give_the_same_summary() {
    let dir = std::env::temp_dir().join(format!("mmfast-cache-bt-{}", std::process::id()));
    let run = |cache: bool| {
        let mut spec = btc_spec(hl());
        spec.feed_latency = "p10=5,p50=20,p90=60".into();
        spec.cache_dir = cache.then(|| dir.display().to_string());
        let mut bt = Backtest::new(btc_cfg(), spec).unwrap();
        bt.run().unwrap().to_string()
    };
    let plain = run(false);
    assert_eq!(plain, run(true)); // decoded, cache written
    assert_eq!(plain, run(true)); // read back
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_binance_recording_replays_as_the_market() {
    let mut spec = btc_spec(binance());
    spec.duration_s = 60.0;
    let mut bt = Backtest::new(btc_cfg(), spec.clone()).unwrap();
    let s = bt.run().unwrap();
    assert!(bt.replay_events() > 400_000, "{}", bt.replay_events());
    assert!(s["actions"]["place"].as_u64().unwrap() > 0, "{s}");
    assert_eq!(s["invariant_breaches"], 0, "{s}");
    // The venue's book follows the recording: BTC near 61.6k on that day, uncrossed.
    let mid = bt.venue().market_mid(0);
    assert!((55_000.0..70_000.0).contains(&mid), "{mid}");
    // The bare loop replays the same recording without the bot.
    spec.quote = false;
    let mut bare = Backtest::new(btc_cfg(), spec).unwrap();
    let b = bare.run().unwrap();
    assert_eq!(b["actions"]["place"], 0, "{b}");
    assert_eq!(bare.replay_events(), bt.replay_events());
}

/// Fills only when the queue ahead is consumed: our bid rests behind 0.5 BTC of recorded
/// liquidity at 100000; a recorded sell of 0.3 at that price leaves us unfilled, the next sell
/// of 0.25 eats through the remaining 0.2 and fills our 0.01.
#[test]
fn a_fill_needs_the_queue_ahead_consumed() {
    let t0: u64 = 1_737_918_843_000;
    let ns = |ms: u64| ms * 1_000_000;
    let lines = [
        format!(
            r#"{} {{"channel":"l2Book","data":{{"coin":"BTC","time":1,"levels":[[{{"px":"100000.0","sz":"0.5","n":3}}],[{{"px":"100010.0","sz":"0.5","n":2}}]]}}}}"#,
            ns(t0)
        ),
        format!(
            r#"{} {{"channel":"trades","data":[{{"coin":"BTC","side":"A","px":"100000.0","sz":"0.3","time":2,"tid":1,"hash":"0x0"}}]}}"#,
            ns(t0 + 1000)
        ),
        format!(
            r#"{} {{"channel":"trades","data":[{{"coin":"BTC","side":"A","px":"100000.0","sz":"0.25","time":3,"tid":2,"hash":"0x0"}}]}}"#,
            ns(t0 + 2000)
        ),
        format!(
            r#"{} {{"channel":"trades","data":[{{"coin":"BTC","side":"B","px":"100010.0","sz":"0.01","time":4,"tid":3,"hash":"0x0"}}]}}"#,
            ns(t0 + 3000)
        ),
    ];
    let path = std::env::temp_dir().join(format!("mmfast-queue-{}.txt", std::process::id()));
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let mut spec = btc_spec(path.display().to_string());
    spec.quote = false;
    spec.max_position = 1.0;
    let mut bt = Backtest::new(btc_cfg(), spec).unwrap();
    bt.run_until(t0).unwrap();
    let order = br#"{"type":"order","orders":[{"a":0,"b":true,"p":"100000","s":"0.01","r":false,"t":{"limit":{"tif":"Alo"}}}],"grouping":"na"}"#;
    bt.venue_mut()
        .submit(BACKTEST_ADDRESS, order, t0, None, None, t0)
        .unwrap();
    let user = bt.user();
    let position = |bt: &Backtest| bt.venue().account_state(user, 0).position;
    let resting = |bt: &Backtest| bt.venue().account_state(user, 0).resting_buy;
    bt.run_until(t0 + 500).unwrap();
    assert_eq!((position(&bt), resting(&bt) > 0), (0.0, true));
    bt.run_until(t0 + 1500).unwrap(); // 0.3 of the 0.5 ahead traded
    assert_eq!((position(&bt), resting(&bt) > 0), (0.0, true));
    bt.run_until(t0 + 2500).unwrap(); // 0.25 more: 0.2 ahead, then 0.01 of ours
    assert_eq!(position(&bt), 0.01);
    assert_eq!(resting(&bt), 0);
    let _ = std::fs::remove_file(&path);
}

/// `max_position_usd` in a backtest: the venue holds the USD limit at its own mid
/// (`MatchingEngine::set_max_position_usd`), not the coin max at the starting mid, which the bot
/// outgrows as the price falls (it re-resolves its ceiling at its mark, SPEC 2). Before, this run
/// (the demo market, seed 1: the price falls 0.5%) counted 48 breaches the bot did not make;
/// an order beyond the limit at the venue's mid is still one.
#[test]
fn a_usd_limit_is_held_at_the_venues_mid() {
    let c = cfg("ETH", &[("max_position_usd", "100")]);
    let mut spec = synthetic(1, 600.0);
    spec.max_position = 0.0333; // what Python's build passes: the USD limit at the start mid
    let s = Backtest::new(c, spec).unwrap().run().unwrap();
    assert_eq!(s["invariant_breaches"], serde_json::json!(0), "{s}");
    assert!(s["fills"].as_u64().unwrap() >= 10, "{s}");
    let moved = s["mid_end"].as_f64().unwrap() / 3000.0 - 1.0;
    assert!(
        moved < -0.004,
        "the price must fall for the case to bite: {s}"
    );

    // No bot: orders by hand. At mid ~3000 the venue's ceiling is 100 / (3000 * 0.995) =
    // 0.0335: 0.0334 (over 100 USD at 3000, under the tolerance) is no breach; 0.0035 more (the
    // smallest order over the 10 USD min notional) is.
    let mut spec = synthetic(1, 5.0);
    spec.quote = false;
    let mut bt = Backtest::new(cfg("ETH", &[("max_position_usd", "100")]), spec).unwrap();
    let t0 = bt.start_ms();
    bt.run_until(t0).unwrap();
    let buy = |sz: &str| {
        format!(
            r#"{{"type":"order","orders":[{{"a":0,"b":true,"p":"2900","s":"{sz}","r":false,"t":{{"limit":{{"tif":"Alo"}}}}}}],"grouping":"na"}}"#
        )
    };
    let user = bt.user();
    let breaches = |bt: &Backtest| bt.venue().account_state(user, 0).breaches;
    bt.venue_mut()
        .submit(
            BACKTEST_ADDRESS,
            buy("0.0334").as_bytes(),
            t0 + 1,
            None,
            None,
            t0,
        )
        .unwrap();
    bt.run_until(t0 + 500).unwrap();
    assert_eq!(bt.venue().account_state(user, 0).resting_buy, 334); // lots
    assert_eq!(breaches(&bt), 0);
    bt.venue_mut()
        .submit(
            BACKTEST_ADDRESS,
            buy("0.0035").as_bytes(),
            t0 + 501,
            None,
            None,
            t0 + 500,
        )
        .unwrap();
    bt.run_until(t0 + 1000).unwrap();
    assert_eq!(bt.venue().account_state(user, 0).resting_buy, 369);
    assert_eq!(breaches(&bt), 1);
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
