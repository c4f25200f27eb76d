"""`mmfast record` (issue 11 item 6) against the local venue over real sockets: what the sockets
delivered is exactly what the backtester's reader reads back (bytes and receive times); a lost
socket leaves a gap marker and recording resumes; SIGINT flushes every line; `mmfast backtest`
replays the recording; bad input is a clear error with exit code 2."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import orjson
import pytest
from mmfast._core import ReplayReader
from mmfast.backtest.markets import synthetic_asset
from mmfast.cli import main
from mmfast.feeds.recorder import Recorder, Sources
from mmfast.live.venue_process import VenueProcess

pytestmark = pytest.mark.timeout(120)


def btc_venue() -> VenueProcess:
    """The local venue quoting BTC, with its BTCUSDT Binance-format feed."""
    asset = synthetic_asset("default", "BTC")
    sim = json.dumps({"assets": [asset]})
    return VenueProcess(["--market", "synthetic", "--seed", "5", "--block-ms", "70", "--sim", sim])


def chaos(v: VenueProcess, kind: str) -> None:
    req = urllib.request.Request(
        v.url + "/venue/chaos", data=orjson.dumps({"kind": kind, "duration_s": 0.5}), method="POST"
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.status == 200


def read_back(path: Path) -> list[tuple[int, bytes]]:
    """The lines as the backtester reads them (the Rust `ReplayReader` of `--hl`/`--binance`)."""
    return [(ns, bytes(frame)) for ns, frame in ReplayReader(str(path))]


def channel(frame: bytes) -> str:
    v = orjson.loads(frame)
    if "gap" in v:
        return "gap"
    if "lastUpdateId" in v:
        return "snapshot"
    if "stream" in v:
        return str(v["data"].get("e"))
    return str(v.get("channel"))


async def until(cond, timeout_s: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while not cond():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


def test_recorded_frames_read_back_exactly_and_a_lost_socket_leaves_a_gap(tmp_path: Path) -> None:
    seen: dict[Path, list[tuple[int, bytes]]] = {}

    def tap(path: Path, ns: int, frame: bytes) -> None:
        seen.setdefault(path, []).append((ns, frame))

    def frames_of(prefix: str) -> list[bytes]:
        return [f for p, lines in seen.items() if p.name.startswith(prefix) for _, f in lines]

    with btc_venue() as v:
        rec = Recorder("BTC", "btcusdt", tmp_path, Sources.choose(venue=v.url), tap=tap)

        async def scenario() -> None:
            await rec.check()
            stop = asyncio.Event()
            task = asyncio.create_task(rec.run(stop))
            frames = rec.stats.frames
            # Event-driven, not timed: wait for data on every socket, drop them, wait for more.
            await until(lambda: len(rec.conns) == 3 and all(frames.get(c.name) for c in rec.conns))
            await until(lambda: rec.stats.snapshots >= 1)
            await until(lambda: any(b'"channel":"trades"' in f for f in frames_of("hyperliquid")))
            before = dict(frames)
            await asyncio.to_thread(chaos, v, "drop_hl_ws")
            await asyncio.to_thread(chaos, v, "drop_binance_ws")
            await until(lambda: rec.stats.gaps >= 3)  # hyperliquid, binance-public, -market
            await until(
                lambda: all(frames[k] > before[k] + 5 for k in ("hyperliquid", "binance-public"))
            )
            stop.set()
            await task

        asyncio.run(scenario())

    hl_files = sorted(tmp_path.glob("hyperliquid_btc_*.gz"))
    bn_files = sorted(tmp_path.glob("usdm_btcusdt_*.gz"))
    assert hl_files and bn_files and set(seen) == {*hl_files, *bn_files}
    for path, lines in seen.items():
        assert read_back(path) == lines, path  # count, bytes and receive times
        assert rec.stats.files[path] == len(lines)
    hl = [f for p in hl_files for f in read_back(p)]
    bn = [f for p in bn_files for f in read_back(p)]
    kinds = [channel(f) for _, f in hl]
    assert {"l2Book", "bbo", "trades", "gap"} <= set(kinds)
    books = [orjson.loads(f)["data"] for _, f in hl if channel(f) == "l2Book"]
    assert all(b["coin"] == "BTC" and len(b["levels"][0]) == 5 for b in books)  # fast: 5 levels
    assert {"bookTicker", "depthUpdate", "snapshot", "gap"} <= {channel(f) for _, f in bn}
    # Gap markers: one per lost socket, at the reconnect, then data again; receive times ordered.
    gaps = [orjson.loads(f)["gap"] for _, f in hl + bn if channel(f) == "gap"]
    assert sorted(g["socket"] for g in gaps) == ["binance-market", "binance-public", "hyperliquid"]
    assert all(g["from_ns"] < g["to_ns"] for g in gaps)
    i = kinds.index("gap")
    assert {"l2Book", "bbo"} <= set(kinds[i + 1 :])
    assert [ns for ns, _ in hl] == sorted(ns for ns, _ in hl)
    # A fresh snapshot follows the Binance reconnect, so the diffs can be rebuilt after the gap.
    bn_kinds = [channel(f) for _, f in bn]
    assert "snapshot" in bn_kinds[bn_kinds.index("gap") :]


def test_record_cli_stops_on_sigint_with_every_line_and_backtest_replays_it(
    tmp_path: Path, capsys
) -> None:
    out = tmp_path / "rec"
    with btc_venue() as v:
        p = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "mmfast.cli",
                "record",
                "--coin",
                "BTC",
                "--binance",
                "btcusdt",
                "--out",
                str(out),
                "--venue",
                v.url,
                "--json",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            # Both files opened (first frames in), then 100 venue blocks of market (the venue's
            # clock, not ours: a slow machine only makes this take longer) still in the buffers.
            deadline = time.monotonic() + 60
            while len(list(out.glob("*.gz"))) < 2:
                assert time.monotonic() < deadline and p.poll() is None, p.stderr
                time.sleep(0.1)
            first = v.ledger()["blocks"]
            while v.ledger()["blocks"] < first + 100:
                assert time.monotonic() < deadline, "the venue stopped closing blocks"
                time.sleep(0.1)
            p.send_signal(signal.SIGINT)
            stdout, stderr = p.communicate(timeout=60)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert p.returncode == 0, stderr
    assert "Traceback" not in stderr
    counts = orjson.loads(stdout)
    files = {Path(k): n for k, n in counts["files"].items()}
    assert len(files) == 2
    for path, n in files.items():
        # ...all of it on disk after SIGINT: the line counts the recorder reported, a valid gzip
        assert len(read_back(path)) == n > 10, path
    hl_file = next(p for p in files if p.name.startswith("hyperliquid_btc_"))
    bn_file = next(p for p in files if p.name.startswith("usdm_btcusdt_"))
    hl = read_back(hl_file)
    hl_kinds = [channel(f) for _, f in hl]
    replayable = sum(k in ("l2Book", "trades") for k in hl_kinds)
    assert replayable > 10 and "bbo" in hl_kinds

    assert (
        main(["backtest", "--plain", "--hl", str(hl_file), "--binance", str(bn_file), "--json"])
        == 0
    )
    s = orjson.loads(capsys.readouterr().out)
    assert s["coin"] == "BTC" and s["market"] == "replay" and s["invariant_breaches"] == 0
    market = [ns // 1_000_000 for ns, f in hl if channel(f) in ("l2Book", "trades", "bbo")]
    assert s["sim_duration_s"] == pytest.approx((max(market) - min(market)) / 1e3, abs=0.002)
    # Exactly the recorded frames were replayed: every Hyperliquid book and trades frame, and
    # every Binance stream frame up to the market's last frame; the bbo frames and the lead's
    # REST snapshots read and counted as skipped; nothing else (blocks and the venue's own
    # trades are in `events`, not here).
    lead = [channel(f) for ns, f in read_back(bn_file) if ns // 1_000_000 <= max(market)]
    lead_stream = sum(k not in ("snapshot", "gap") for k in lead)
    assert lead_stream > 100
    assert s["recorded_events"] == replayable + lead_stream
    skipped = {"bbo": hl_kinds.count("bbo"), "rest_snapshot": lead.count("snapshot")}
    assert s["recorded_skipped"] == skipped
    assert s["events"] > s["recorded_events"]


def _record(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mmfast.cli", "record", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_bad_input_is_a_clear_error_with_exit_code_2(tmp_path: Path) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    r = _record("--coin", "BTC", "--out", str(blocker / "sub"), "--venue", "http://127.0.0.1:9")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert f"--out {blocker / 'sub'}: cannot write there" in r.stderr
    r = _record("--coin", "BTC;rm", "--out", str(tmp_path / "x"))
    assert r.returncode == 2 and "--coin 'BTC;rm'" in r.stderr and "Traceback" not in r.stderr
    with btc_venue() as v:
        r = _record("--coin", "NOPE", "--out", str(tmp_path / "r"), "--venue", v.url)
        assert r.returncode == 2 and "Traceback" not in r.stderr
        assert "--coin NOPE: not listed on" in r.stderr and "BTC" in r.stderr
        r = _record(
            "--coin", "BTC", "--binance", "dogeusdt", "--out", str(tmp_path / "r"), "--venue", v.url
        )
        assert r.returncode == 2 and "Traceback" not in r.stderr
        assert "--binance DOGEUSDT: no such USD-M symbol" in r.stderr
        # and the good input, stopped by --duration: exit 0, a complete gzip file
        r = _record("--coin", "BTC", "--out", str(tmp_path / "ok"), "--venue", v.url,
                    "--duration", "1.5", "--json")
        assert r.returncode == 0, r.stderr
        (path, n), = orjson.loads(r.stdout)["files"].items()
        assert len(read_back(Path(path))) == n > 0
    # Nothing listening: a runtime failure (1), named, without a traceback.
    r = _record("--coin", "BTC", "--out", str(tmp_path / "r"), "--venue", "http://127.0.0.1:9")
    assert r.returncode == 1 and "cannot reach http://127.0.0.1:9" in r.stderr
    assert "Traceback" not in r.stderr
    assert not list((tmp_path / "r").glob("*.gz"))
    assert os.path.isdir(tmp_path / "r")


def test_files_rotate_at_each_utc_hour_and_read_on(tmp_path: Path) -> None:
    from mmfast.feeds.recorder import NS_PER_HOUR, HourlyGzipWriter

    hour = 491_000 * NS_PER_HOUR  # 2026-01-05 08:00 UTC
    lines = [(hour - 2, b'{"a":1}'), (hour - 1, b'{"a":\n2}'), (hour, b'{"b":3}'),
             (hour + NS_PER_HOUR - 1, b'{"b":4}'), (hour + NS_PER_HOUR, b'{"c":5}')]
    w = HourlyGzipWriter(tmp_path, "hyperliquid_btc")
    for ns, frame in lines[:3]:
        w.write(ns, frame)
    w.close()
    w = HourlyGzipWriter(tmp_path, "hyperliquid_btc")  # a restart within the hour appends
    for ns, frame in lines[3:]:
        w.write(ns, frame)
    w.close()
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["hyperliquid_btc_20260105T07.gz", "hyperliquid_btc_20260105T08.gz",
                     "hyperliquid_btc_20260105T09.gz"]
    got = [x for name in names for x in read_back(tmp_path / name)]
    # one frame per line: a raw newline (JSON whitespace) becomes a space
    assert got == [(ns, f.replace(b"\n", b" ")) for ns, f in lines]
