"""The SQLite checkpoint: fills stored once per tid across restarts, daily totals, the day's
opening equity kept, learned state round trip."""

from __future__ import annotations

from pathlib import Path

import pytest
from mmfast.store import Checkpoint
from mmfast.store.checkpoint import utc_day

DAY_MS = 1_763_000_000_000  # 2025-11-13 UTC


def fill(tid: int, px: str = "2000", sz: str = "0.1", fee: str = "0.03", pnl: str = "0") -> dict:
    return {
        "tid": tid,
        "coin": "ETH",
        "time": DAY_MS,
        "side": "B",
        "px": px,
        "sz": sz,
        "fee": fee,
        "oid": 1,
        "closedPnl": pnl,
    }


def test_fills_once_per_tid_across_restarts(tmp_path: Path) -> None:
    path = tmp_path / "cp.sqlite"
    cp = Checkpoint(path)
    assert cp.add_fills([fill(1), fill(2, pnl="1.5")]) == 2
    cp.close()
    cp = Checkpoint(path)  # a restart
    assert cp.add_fills([fill(2, pnl="1.5"), fill(3, fee="-0.01")]) == 1
    d = cp.daily(utc_day(DAY_MS))
    assert d is not None and d["fills"] == 3
    assert d["realised"] == pytest.approx(1.5) and d["fees"] == pytest.approx(0.05)
    assert d["volume"] == pytest.approx(600.0)
    assert sorted(cp.recent_tids()) == [1, 2, 3]
    assert cp.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_day_start_equity_is_kept(tmp_path: Path) -> None:
    cp = Checkpoint(tmp_path / "cp.sqlite")
    assert cp.day_start_equity(1000.0, "2025-11-13") == 1000.0
    assert cp.day_start_equity(900.0, "2025-11-13") == 1000.0  # the day opened at 1000
    assert cp.day_start_equity(900.0, "2025-11-14") == 900.0
    cp.add_funding(-0.25, "2025-11-14")
    assert cp.daily("2025-11-14")["funding"] == pytest.approx(-0.25)  # type: ignore[index]


def test_learned_state_round_trip(tmp_path: Path) -> None:
    cp = Checkpoint(tmp_path / "cp.sqlite")
    assert cp.load_state() is None
    cp.save_state(b"\x00state-v1")
    cp.save_state(b"\x00state-v2")
    assert cp.load_state() == b"\x00state-v2"


def test_json_log_lines() -> None:
    import json
    import logging

    from mmfast.live.metrics import JsonFormatter

    rec = logging.LogRecord(
        "mmfast.live.bot", logging.WARNING, __file__, 1, "cancel all (%s)", ("stale",), None
    )
    doc = json.loads(JsonFormatter().format(rec))
    assert doc["level"] == "WARNING" and doc["logger"] == "mmfast.live.bot"
    assert doc["msg"] == "cancel all (stale)" and doc["ts"] > 0
