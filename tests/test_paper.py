"""`mmfast paper` end to end (issue 7 item 6), and the key's secrecy over everything a run
produces. Each run starts the venue in its own process; the command stops it on exit."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.timeout(180), pytest.mark.slow]


def paper(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 150
) -> tuple[subprocess.CompletedProcess[str], dict]:
    summary = tmp_path / "s.json"
    r = subprocess.run(
        [sys.executable, "-m", "mmfast.cli", "paper", "--summary", str(summary), "--plain", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=tmp_path,
        env={**os.environ, **(env or {})},
    )
    assert summary.is_file(), f"no summary; exit {r.returncode}\n{r.stdout}\n{r.stderr[-3000:]}"
    return r, json.loads(summary.read_text())


#: The demo market with four times its takers and 40% of its book (as test_paper_vs_backtest):
#: the plain demo market fills a few times a minute, so 20 s could end without a fill by chance.
BUSY = ("--set", "market.trade_rate=20", "--set", "market.level_usd=1000")


def test_paper_twenty_seconds(tmp_path: Path) -> None:
    r, s = paper(tmp_path, "--duration", "20", *BUSY)
    assert r.returncode == 0, r.stderr[-3000:]
    assert s["fills"] > 0
    assert s["max_abs_position"] <= s["max_position"]
    assert s["errors"] == 0 and s["invariant_breaches"] == 0
    assert s["cycles"] > 0 and s["actions_sent"] > 0
    for k in (
        "volume_usd",
        "pnl_usd",
        "fees_usd",
        "cycle_p50_us",
        "cycle_p99_us",
        "actions_rejected",
        "reconnects",
    ):
        assert k in s
    # the venue's own record agrees with the bot's position
    assert s["venue_position"] == pytest.approx(s["position"], abs=1e-9)
    assert "mmfast paper summary" in r.stdout and "t=" in r.stdout  # progress lines, summary


def test_the_key_never_appears_in_anything_a_run_produces(tmp_path: Path) -> None:
    key = secrets.token_hex(32)
    checkpoint = tmp_path / "cp.sqlite"
    r, s = paper(
        tmp_path,
        "--duration",
        "6",
        "--key-env",
        "--log-level",
        "DEBUG",
        "--checkpoint",
        str(checkpoint),
        env={"MMFAST_PRIVATE_KEY": "0x" + key},
    )
    assert r.returncode == 0, r.stderr[-3000:]
    assert s["actions_sent"] > 0  # it did sign
    produced = {"stdout": r.stdout.encode(), "stderr": r.stderr.encode()}
    for f in tmp_path.rglob("*"):
        if f.is_file():
            produced[str(f)] = f.read_bytes()
    assert checkpoint.is_file() and len(produced) >= 4
    needles = [key, key.upper(), key[:16], key[-16:]]
    for name, data in produced.items():
        text = data.decode("latin-1").lower()
        for n in needles:
            assert n.lower() not in text, f"key material in {name}"


def test_market_overrides_are_checked_before_the_venue_starts(tmp_path: Path) -> None:
    """`--set market.*` reaches the venue's market (paper and backtest take the same keys); a
    key or value the market does not take is the user's mistake: one line naming it, exit 2."""
    for bad, names in (
        ("market.nonsense=1", "market.nonsense"),
        ("market.trade_rate=-1", "must be >= 0"),
        ("venue.maker_fee_bps=1", "venue.* and backtest.* are backtest settings"),
        ("ladder.min_half_spread_bps", "expected PATH=VALUE"),
    ):
        cmd = [sys.executable, "-m", "mmfast.cli", "paper", "--plain", "--duration", "1"]
        r = subprocess.run(
            [*cmd, "--set", bad],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
        )
        assert r.returncode == 2, (bad, r.stderr[-2000:])
        assert names in r.stderr and "Traceback" not in r.stderr, (bad, r.stderr[-2000:])
