"""MarketMakerConfig: TOML loading, environment overrides, validation messages."""

from __future__ import annotations

from pathlib import Path

import pytest
from mmfast import ConfigError, MarketMakerConfig, load_config

ROOT = Path(__file__).resolve().parent.parent


def test_example_config_loads_with_documented_defaults() -> None:
    cfg = load_config(ROOT / "examples" / "config.toml", environ={})
    assert cfg.asset == "ETH"
    assert cfg.reconcile.max_bps_diff == 3.0
    assert cfg.impulse_control.min_requote_interval_ms == 100
    assert cfg.signals.no_signal_cap == 0.3
    assert cfg.ladder.single_order_fraction.extreme == 0.1


def test_every_violation_in_one_error(tmp_path: Path) -> None:
    p = tmp_path / "bad.toml"
    p.write_text("max_position = -1\nrisk_aversion = 0\nfee_bps = 120\nmax_positon = 2\n")
    with pytest.raises(ConfigError) as e:
        load_config(p, environ={})
    fields = {v[0] for v in e.value.violations}
    assert {"max_position", "risk_aversion", "fee_bps", "max_positon"} <= fields
    assert str(p) in str(e.value)
    assert "max_position = -1" in str(e.value)


def test_missing_and_malformed_files_name_the_path(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml")
    p = tmp_path / "broken.toml"
    p.write_text("asset = [\n")
    with pytest.raises(ConfigError, match=r"broken\.toml.*\n.*malformed TOML"):
        load_config(p, environ={})


def test_environment_overrides_and_secrets_ignored(tmp_path: Path) -> None:
    p = tmp_path / "c.toml"
    p.write_text('asset = "ETH"\nmax_position = 1.0\n')
    env = {
        "MMFAST_ASSET": "BTC",
        "MMFAST_RECONCILE__MAX_BPS_DIFF": "4.5",
        "MMFAST_PRIVATE_KEY": "0x" + "11" * 32,
        "HOME": "/root",
    }
    cfg = load_config(p, environ=env)
    assert cfg.asset == "BTC"
    assert cfg.reconcile.max_bps_diff == 4.5
    assert "11" * 32 not in cfg.to_toml()


def test_keyword_constructor_and_round_trip() -> None:
    cfg = MarketMakerConfig(max_position=0.5, reconcile={"size_tolerance": 0.1})
    assert cfg.reconcile.size_tolerance == 0.1
    assert MarketMakerConfig.from_toml(cfg.to_toml()) == cfg
    with pytest.raises(AttributeError, match=r"reconcile\.nope"):
        _ = cfg.reconcile.nope
    with pytest.raises(ConfigError, match="one of max_position"):
        MarketMakerConfig()


def test_the_old_queue_normal_buffer_warns_and_is_read_as_the_ladders(tmp_path: Path) -> None:
    # One adverse-selection setting (issue 14): queue.as_normal_bps is ladder.as_prior_bps now.
    p = tmp_path / "old.toml"
    p.write_text("max_position = 1\n[queue]\nas_normal_bps = 1.5\n")
    warned = r"queue\.as_normal_bps is deprecated.*ladder\.as_prior_bps = 1\.5"
    with pytest.warns(FutureWarning, match=warned):
        cfg = load_config(p, environ={})
    assert cfg.ladder.as_prior_bps == 1.5
    assert "as_normal_bps" not in cfg.to_toml()
    with pytest.warns(FutureWarning):
        kw = MarketMakerConfig(max_position=1.0, queue={"as_normal_bps": 0.5})
    assert kw.ladder.as_prior_bps == 0.5
    # Both names with different values: which one was meant is not guessable.
    p.write_text("max_position = 1\n[queue]\nas_normal_bps = 3.0\n[ladder]\nas_prior_bps = 0.0\n")
    with pytest.raises(ConfigError) as e:
        load_config(p, environ={})
    assert e.value.violations[0][0] == "queue.as_normal_bps"
    assert "keep ladder.as_prior_bps" in str(e.value)


def test_the_rebate_profile_is_the_default_config_with_its_documented_changes() -> None:
    base = load_config(ROOT / "examples" / "config.toml", environ={}).to_dict()
    rebate = load_config(ROOT / "examples" / "config_rebate.toml", environ={}).to_dict()
    changed = {k for k, v in rebate.items() if not isinstance(v, dict) and base[k] != v}
    changed |= {
        f"{k}.{kk}"
        for k, v in rebate.items()
        if isinstance(v, dict)
        for kk in v
        if base[k][kk] != v[kk]
    }
    assert changed == {
        "fee_bps",
        "mode_policy",
        "risk_aversion",
        "target_liquidity",
        "ladder.num_levels",
        "ladder.min_half_spread_bps",
        "ladder.as_prior_bps",
        "ladder.reduce_size_share",
        "zones.adds_stop_at_red",
        "signals.lead_skew",
        "signals.lead_momentum_ms",
        "signals.toxicity",
        "signals.cusum",
        "risk.taker_exit_bps",
    }
