"""The decoded-recording cache of `mmfast backtest` (issue 11 item 3): a recording is decoded
from gzipped JSON once, later runs read the typed records back; cached, uncached (`--no-cache`)
and rebuilt-after-damage runs give the same summary. A Binance USD-M recording replays as the
market, through the same loop."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from mmfast._core import recording_info
from mmfast.backtest.job import TIMING_KEYS
from mmfast.cli import main

HL = "hyperliquid_btcusd_20250126.gz"
BINANCE = "usdm_btcusdt_20240808.gz"


def backtest(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    assert main(["backtest", "--plain", "--json", *argv]) == 0
    s = orjson.loads(capsys.readouterr().out)
    for k in TIMING_KEYS:
        s.pop(k)
    return s


def test_cached_uncached_and_rebuilt_runs_agree(
    real_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("MMFAST_CACHE_DIR", str(cache))
    args = ("--hl", str(real_data / HL), "--feed-latency", "p10=5,p50=20,p90=60")
    plain = backtest(capsys, *args, "--no-cache")
    assert not cache.exists(), "--no-cache writes nothing"
    first = backtest(capsys, *args)
    files = list((cache / "recordings").glob("*.mmbt"))
    assert len(files) == 1
    assert (
        orjson.loads(recording_info(str(real_data / HL), str(cache / "recordings")))["source"]
        == "cache"
    )
    again = backtest(capsys, *args)
    # A truncated cache file is detected, decoded again and rewritten whole.
    whole = files[0].read_bytes()
    files[0].write_bytes(whole[: len(whole) // 2])
    rebuilt = backtest(capsys, *args)
    assert files[0].read_bytes() == whole
    assert plain == first == again == rebuilt
    assert plain["events"] >= 55


def test_a_binance_recording_replays_as_the_market(
    real_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setenv("MMFAST_CACHE_DIR", str(tmp_path))
    s = backtest(capsys, "--hl", str(real_data / BINANCE), "--duration", "60")
    assert s["coin"] == "BTC" and s["market"] == "replay"
    assert 59 <= s["sim_duration_s"] <= 61
    assert s["actions"]["place"] > 0
    assert s["invariant_breaches"] == 0
    info = orjson.loads(recording_info(str(real_data / BINANCE)))
    assert (info["venue"], info["name"], info["coin"]) == ("binance", "BTCUSDT", "BTC")
    assert 55_000 < info["first_mid"] < 70_000
    assert info["market_events"] > 400_000
