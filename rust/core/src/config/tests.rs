use super::*;

fn load(text: &str) -> Result<MarketMakerConfig, ConfigError> {
    MarketMakerConfig::from_toml_str(text, "test.toml", &[])
}

#[test]
fn minimal_file_gets_spec_defaults() {
    let c = load("asset = \"BTC\"\nmax_position = 0.01\n").unwrap();
    assert_eq!(c.asset, "BTC");
    assert_eq!(c.reconcile.max_bps_diff, 3.0);
    assert_eq!(c.impulse_control.min_requote_interval_ms, 100);
    assert_eq!(c.signals.no_signal_cap, 0.30);
    assert_eq!(c.ladder.min_half_spread_bps, 8.01);
    assert_eq!(c.zones.red, 0.8);
}

#[test]
fn every_violation_reported_at_once() {
    let e = load(
        "max_position = -1\nrisk_aversion = 0\nfee_bps = 100\ntypo_key = 1\n\
         [reconcile]\nmax_bps_diff = nan\nsizetolerance = 0.1\n",
    )
    .unwrap_err();
    let fields: Vec<&str> = e.violations.iter().map(|v| v.field.as_str()).collect();
    for f in [
        "typo_key",
        "reconcile.sizetolerance",
        "max_position",
        "risk_aversion",
        "fee_bps",
        "reconcile.max_bps_diff",
    ] {
        assert!(fields.contains(&f), "{f} missing from {fields:?}");
    }
    let msg = e.to_string();
    assert!(
        msg.starts_with("test.toml: 6 configuration errors"),
        "{msg}"
    );
    assert!(
        msg.contains("max_position = -1: must be a finite number > 0"),
        "{msg}"
    );
    assert!(msg.contains("reconcile.max_bps_diff = NaN"), "{msg}");
}

#[test]
fn malformed_toml_names_the_source() {
    let e = load("asset = \n").unwrap_err();
    assert!(e.to_string().contains("test.toml"), "{e}");
    assert!(e.to_string().contains("malformed TOML"), "{e}");
}

#[test]
fn a_limit_is_required() {
    let e = load("asset = \"ETH\"\n").unwrap_err();
    assert_eq!(e.violations[0].field, "max_position");
}

#[test]
fn overrides_apply_with_types() {
    let c = MarketMakerConfig::from_toml_str(
        "max_position = 1.0\n",
        "t",
        &[
            ("asset".into(), "BTC".into()),
            ("reconcile.max_bps_diff".into(), "5".into()),
            ("risk.kill_unwind".into(), "false".into()),
        ],
    )
    .unwrap();
    assert_eq!(c.asset, "BTC");
    assert_eq!(c.reconcile.max_bps_diff, 5.0);
    assert!(!c.risk.kill_unwind);
}

#[test]
fn known_paths_cover_nested_fields() {
    let p = MarketMakerConfig::known_paths();
    assert!(p.contains("asset"));
    assert!(p.contains("reconcile.max_bps_diff"));
    assert!(p.contains("ladder.single_order_fraction.quiet"));
    assert!(p.contains("max_position_usd"));
    assert!(!p.iter().any(|x| x.starts_with("runtime")));
}

#[test]
fn round_trips_through_toml() {
    let c = load("max_position = 0.5\nasset = \"SOL\"\n").unwrap();
    let back = load(&c.to_toml_string()).unwrap();
    assert_eq!(c, back);
}

#[test]
fn example_file_states_every_signal_and_stochastic_default() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/config.toml"
    ))
    .unwrap();
    let c = load(&text).unwrap();
    assert_eq!(c.signals, SignalConfig::default());
    assert_eq!(c.stochastic, StochasticConfig::default());
    let table: toml::Table = text.parse().unwrap();
    for (section, value) in [
        (
            "signals",
            serde_json::to_value(SignalConfig::default()).unwrap(),
        ),
        (
            "stochastic",
            serde_json::to_value(StochasticConfig::default()).unwrap(),
        ),
    ] {
        for key in value.as_object().unwrap().keys() {
            assert!(
                table[section].as_table().unwrap().contains_key(key),
                "examples/config.toml lacks {section}.{key}"
            );
        }
    }
}

#[test]
fn signal_knobs_are_validated() {
    let e = load(
        "max_position = 1\n[signals]\ntoxic_enter = 0.1\ngate_ic_full = 0.01\n\
         lag_window_ms = 100\nmarkout_long_ms = 500\nrun_rate_mult = 1.0\nrun_threshold = 0\n\
         run_rate_window_s = -1\nlead_momentum_ms = 20000\nlead_momentum_min_bps = -1\n\
         [stochastic]\nvol_normal_below = 0.5\n",
    )
    .unwrap_err();
    let fields: Vec<&str> = e.violations.iter().map(|v| v.field.as_str()).collect();
    for f in [
        "signals.toxic_enter",
        "signals.gate_ic_full",
        "signals.lag_window_ms",
        "signals.markout_long_ms",
        "signals.run_rate_mult",
        "signals.run_threshold",
        "signals.run_rate_window_s",
        "signals.lead_momentum_ms",
        "signals.lead_momentum_min_bps",
        "stochastic.vol_quiet_below",
    ] {
        assert!(fields.contains(&f), "{f} missing from {fields:?}");
    }
}

#[test]
fn the_inventory_size_knobs_load_and_are_validated() {
    let c = load(
        "max_position = 1\n[zones]\nadds_stop_at_red = true\n[ladder]\nreduce_size_share = 1.0\n",
    )
    .unwrap();
    assert!(c.zones.adds_stop_at_red);
    assert_eq!(c.ladder.reduce_size_share, 1.0);
    // The zones keep their SPEC defaults when only the switch is given.
    assert_eq!((c.zones.yellow, c.zones.red, c.zones.kill), (0.6, 0.8, 1.0));
    let e = load("max_position = 1\n[ladder]\nreduce_size_share = 1.5\n").unwrap_err();
    let v = &e.violations[0];
    assert_eq!(
        (v.field.as_str(), v.value.as_str()),
        ("ladder.reduce_size_share", "1.5")
    );
}

#[test]
fn live_section_defaults_and_validation() {
    let c = load("max_position = 1\n").unwrap();
    // Under the exchange's 60 s idle close; a dead socket is found within seconds (issue 13).
    assert_eq!(c.live.ping_interval_s, 50.0);
    assert_eq!(c.live.pong_timeout_s, 4.0);
    assert_eq!(c.live.max_inflight_posts, 100);
    assert!(!c.live.schedule_cancel);
    assert_eq!(c.live.realtime_priority, 0);
    let e = load(
        "max_position = 1\n[live]\nmax_inflight_posts = 101\nschedule_cancel_s = 4\n\
         reconnect_min_s = 2\nreconnect_max_s = 1\nrealtime_priority = 100\n",
    )
    .unwrap_err();
    let fields: Vec<&str> = e.violations.iter().map(|v| v.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "live.reconnect_max_s",
            "live.max_inflight_posts",
            "live.schedule_cancel_s",
            "live.realtime_priority"
        ]
    );
}

mod fuzz {
    //! Bounded fuzzing kept in CI (issue 13): any text, and mutations of a valid file, give a
    //! config or a `ConfigError`, never a panic.
    use super::MarketMakerConfig;
    use proptest::prelude::*;

    const VALID: &str = "max_position = 0.5\nasset = \"ETH\"\n[live]\nmaster_address = \"0x14791697260e4c9a71f18484c9f997b308e59325\"\n[risk]\nhl_stale_ms = 3000\n";

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2_000, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn any_text_is_a_config_or_an_error(text in "\\PC{0,200}") {
            let _ = MarketMakerConfig::from_toml_str(&text, "<fuzz>", &[]);
        }

        #[test]
        fn mutated_valid_files_never_panic(
            edits in proptest::collection::vec((any::<usize>(), "[ -~\n]"), 1..6),
            path in "[a-z_.]{1,24}",
            value in "\\PC{0,16}",
        ) {
            let mut t: Vec<char> = VALID.chars().collect();
            for (i, s) in &edits {
                let c = s.chars().next().unwrap_or(' ');
                let n = t.len();
                t[i % n] = c;
            }
            let text: String = t.into_iter().collect();
            let _ = MarketMakerConfig::from_toml_str(&text, "<fuzz>", &[(path, value)]);
        }
    }
}

#[test]
fn every_type_error_reported_with_the_value_rules() {
    let e = load(
        "max_position = \"lots\"\nleverage = 2.5\nfee_bps = 120\n[risk]\nkill_unwind = 3\n\
         typo = 1\n",
    )
    .unwrap_err();
    let fields: Vec<&str> = e.violations.iter().map(|v| v.field.as_str()).collect();
    for f in [
        "max_position",
        "leverage",
        "risk.kill_unwind",
        "fee_bps",
        "risk.typo",
    ] {
        assert!(fields.contains(&f), "{f} missing from {fields:?}");
    }
    let msg = e.to_string();
    assert!(msg.contains("max_position = \"lots\""), "{msg}");
}

#[test]
fn malformed_toml_reports_line_and_column() {
    let e = load("asset = \"ETH\"\nmax_position = 1\nfee_bps = = 2\n").unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("line 3, column 11"), "{msg}");
}

#[test]
fn lead_symbol_follows_the_asset() {
    let c = load("asset = \"BTC\"\nmax_position = 1\n").unwrap();
    assert_eq!(c.lead.symbol, "BTCUSDT");
    let c = load("asset = \"kPEPE\"\nmax_position = 1\n").unwrap();
    assert_eq!(c.lead.symbol, "1000PEPEUSDT");
    let c = MarketMakerConfig::from_toml_str(
        "max_position = 1\n",
        "t",
        &[("asset".into(), "SOL".into())],
    )
    .unwrap();
    assert_eq!(c.lead.symbol, "SOLUSDT");
    // A symbol for another coin is an error naming both; a HIP-3 asset must name its lead.
    let e = load("asset = \"BTC\"\nmax_position = 1\n[lead]\nsymbol = \"ETHUSDT\"\n").unwrap_err();
    assert_eq!(e.violations[0].field, "lead.symbol");
    assert!(e.to_string().contains("BTCUSDT"), "{e}");
    let e = load("asset = \"xyz:XYZ100\"\nmax_position = 1\n").unwrap_err();
    assert_eq!(e.violations[0].field, "lead.symbol");
    let c = load("asset = \"xyz:XYZ100\"\nmax_position = 1\nlead_venue = \"none\"\n").unwrap();
    assert_eq!(c.lead_venue, LeadVenue::None);
}

#[test]
fn testnet_is_the_default_network() {
    assert_eq!(
        load("max_position = 1\n").unwrap().network,
        Network::Testnet
    );
}

#[test]
fn a_maker_rebate_is_a_valid_fee_and_a_large_negative_one_is_not() {
    // Hyperliquid pays its top makers -0.3 bps (PROTOCOL 5.3): a negative maker fee.
    let c = load("asset = \"ETH\"\nmax_position = 1\nfee_bps = -0.3\n").unwrap();
    assert_eq!(c.fee_bps, -0.3);
    let e = load("asset = \"ETH\"\nmax_position = 1\nfee_bps = -15\n").unwrap_err();
    let v = e.violations.iter().find(|v| v.field == "fee_bps").unwrap();
    assert_eq!(v.value, "-15");
    assert_eq!(v.reason, "must be in [-1, 100)");
}

#[test]
fn the_old_queue_normal_buffer_is_read_as_the_ladders_one_with_a_notice() {
    let noted = |text: &str, o: &[(String, String)]| {
        MarketMakerConfig::from_toml_str_noted(text, "test.toml", o)
    };
    // The old name alone: moved to the one field, and a notice that names both.
    let (c, notes) = noted("max_position = 1\n[queue]\nas_normal_bps = 1.5\n", &[]).unwrap();
    assert_eq!(c.ladder.as_prior_bps, 1.5);
    assert_eq!(notes.len(), 1);
    assert!(
        notes[0]
            .starts_with("queue.as_normal_bps is deprecated: read as ladder.as_prior_bps = 1.5"),
        "{notes:?}"
    );
    // Also as an override (--set, environment).
    let o = [("queue.as_normal_bps".to_string(), "0.5".to_string())];
    let (c, notes) = noted("max_position = 1\n", &o).unwrap();
    assert_eq!((c.ladder.as_prior_bps, notes.len()), (0.5, 1));
    // Both, equal: fine, with a notice to remove the old one.
    let (c, notes) = noted(
        "max_position = 1\n[queue]\nas_normal_bps = 2.0\n[ladder]\nas_prior_bps = 2.0\n",
        &[],
    )
    .unwrap();
    assert_eq!((c.ladder.as_prior_bps, notes.len()), (2.0, 1));
    // Both, different: which one was meant is not guessable.
    let e = load("max_position = 1\n[queue]\nas_normal_bps = 3.0\n[ladder]\nas_prior_bps = 0.0\n")
        .unwrap_err();
    let v = &e.violations[0];
    assert_eq!(
        (v.field.as_str(), v.value.as_str()),
        ("queue.as_normal_bps", "3.0")
    );
    assert!(
        v.reason
            .contains("remove queue.as_normal_bps and keep ladder.as_prior_bps"),
        "{}",
        v.reason
    );
    // No old name, no notice; and the serialized config has only the new name.
    let (c, notes) = noted("max_position = 1\n", &[]).unwrap();
    assert!(notes.is_empty());
    assert!(!c.to_toml_string().contains("as_normal_bps"));
    assert!(MarketMakerConfig::known_paths().contains("queue.as_normal_bps"));
}

#[test]
fn the_taker_exit_knobs_load_and_are_validated() {
    let c = load("max_position = 1\n[risk]\ntaker_exit_bps = 6\n").unwrap();
    assert_eq!(c.risk.taker_exit_bps, 6.0);
    assert_eq!(c.risk.taker_exit_slippage_bps, 4.0);
    assert_eq!(c.risk.taker_exit_cooldown_ms, 2_000);
    assert_eq!(
        MarketMakerConfig::default().risk.taker_exit_bps,
        0.0,
        "off by default"
    );
    // The limit must stay inside the pre-send guard's band, or every exit would be refused.
    let e = load(
        "max_position = 1\n[risk]\ntaker_exit_bps = -1\nprice_band_bps = 50\n\
         taker_exit_slippage_bps = 60\n",
    )
    .unwrap_err();
    let got: Vec<(&str, &str)> = e
        .violations
        .iter()
        .map(|v| (v.field.as_str(), v.reason.as_str()))
        .collect();
    assert!(
        got.contains(&("risk.taker_exit_bps", "must be a finite number >= 0")),
        "{got:?}"
    );
    assert!(
        got.contains(&("risk.taker_exit_slippage_bps", "must be in [0, 50]")),
        "{got:?}"
    );
}
