"""The SQLite state file: fills stored once per tid across restarts, daily totals, losses carried
across restarts, the kill switch, schema migrations, learned state round trip, and crash
consistency (the writer SIGKILLed mid-transaction)."""

from __future__ import annotations

import ctypes
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from mmfast.store import StateStore, utc_day
from mmfast.store.state import CACHE_KIB, MIGRATIONS, SCHEMA_VERSION

DAY_MS = 1_763_000_000_000  # 2025-11-13 UTC
DAY = utc_day(DAY_MS)


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
    path = tmp_path / "st.sqlite"
    st = StateStore(path)
    st.add_fills([fill(1), fill(2, pnl="1.5")])
    st.close()
    st = StateStore(path)  # a restart
    st.add_fills([fill(2, pnl="1.5"), fill(3, fee="-0.01")])
    st.flush()
    d = st.daily(DAY)
    assert d is not None and d["fills"] == 3
    assert d["realised"] == pytest.approx(1.5) and d["fees"] == pytest.approx(0.05)
    assert d["volume"] == pytest.approx(600.0)
    assert sorted(st.recent_tids()) == [1, 2, 3]
    assert [f["tid"] for f in st.last_fills(2)] == [3, 2]
    assert st.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    st.close()


def cache_used(db: sqlite3.Connection, path: Path) -> int:
    """Bytes of the connection's page cache, by `sqlite3_db_status(SQLITE_DBSTATUS_CACHE_USED)`
    on its handle (the first field after the object header in CPython's connection object; the
    handle is checked by its file name, else the test is skipped)."""
    import _sqlite3

    lib = ctypes.CDLL(_sqlite3.__file__)
    try:
        status, filename = lib.sqlite3_db_status, lib.sqlite3_db_filename
    except AttributeError:
        pytest.skip("the sqlite3 module does not export the SQLite C API")
    handle = ctypes.c_void_p.from_address(id(db) + object.__basicsize__).value
    filename.restype = ctypes.c_char_p
    if not handle or filename(ctypes.c_void_p(handle), b"main") != str(path).encode():
        pytest.skip("the connection's SQLite handle is not where this test looks")
    cur, hi = ctypes.c_int(), ctypes.c_int()
    assert status(ctypes.c_void_p(handle), 1, ctypes.byref(cur), ctypes.byref(hi), 0) == 0
    return cur.value


def test_the_page_caches_stay_at_their_cap_however_many_fills(tmp_path: Path) -> None:
    # With SQLite's default cache (2 MiB) the writer's grew ~100 B a fill for ~25,000 fills: the
    # bot's RSS grew for hours in the soak (issue 13).
    path = tmp_path / "st.sqlite"
    st = StateStore(path)
    for i in range(200):
        st.add_fills([fill(100 * i + k) for k in range(100)])
    st.flush()
    assert len(st.recent_tids(30_000)) == 20_000  # the reader's scan: every page of the fills
    assert st._writer is not None and st._writer.db is not None
    for db in (st._writer.db, st.db):
        assert db.execute("PRAGMA cache_size").fetchone()[0] == -CACHE_KIB
        assert 0 < cache_used(db, path) <= 1.25 * CACHE_KIB * 1024  # pages + their headers
    st.close()


def test_losses_carry_across_runs_of_the_day(tmp_path: Path) -> None:
    path = tmp_path / "st.sqlite"
    st = StateStore(path)
    t = DAY_MS
    run = st.start_run(1000.0, at_ms=t)
    st.update_run(run, 970.0, at_ms=t + 1000)  # lost 30
    st.end_run(run, "stopped", at_ms=t + 2000)
    st.close()
    st = StateStore(path)  # a restart, on a fresh account funded with 1000 again (paper)
    run2 = st.start_run(1000.0, at_ms=t + 3000)
    assert st.carried_loss(DAY, exclude_run=run2) == pytest.approx(30.0)
    st.update_run(run2, 1010.0, at_ms=t + 4000)
    st.flush()
    assert st.day_pnl(DAY) == pytest.approx(-20.0)
    # The next UTC day starts from nothing: the run's row is split at midnight.
    next_day = t + 86_400_000
    run3 = st.update_run(run2, 1005.0, at_ms=next_day)
    assert run3 != run2
    st.update_run(run3, 1001.0, at_ms=next_day + 1000)
    st.flush()
    assert st.day_pnl(utc_day(next_day)) == pytest.approx(-4.0)
    assert st.day_pnl(DAY) == pytest.approx(-25.0)
    st.close()


def test_kill_switch_persists_until_reset(tmp_path: Path) -> None:
    path = tmp_path / "st.sqlite"
    st = StateStore(path)
    assert st.kill_state() is None
    st.set_kill("daily_loss", "lost 31.00 USD today >= limit 30.00", at_ms=DAY_MS)
    st.close()
    st = StateStore(path, read_only=True)
    k = st.kill_state()
    assert k is not None and k["reason"] == "daily_loss" and "31.00" in k["detail"]
    st.close()
    st = StateStore(path)
    assert st.reset_kill() is not None
    assert st.kill_state() is None
    assert [e["kind"] for e in st.events()] == ["reset", "kill"]
    st.close()


def test_learned_state_round_trip(tmp_path: Path) -> None:
    st = StateStore(tmp_path / "st.sqlite")
    assert st.load_state() is None
    st.save_state(b"\x00state-v1")
    st.save_state(b"\x00state-v2")
    st.flush()
    assert st.load_state() == b"\x00state-v2"
    st.close()


def test_a_version_1_file_migrates_keeping_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.executescript(MIGRATIONS[0])  # what the first checkpoint wrote (user_version 0)
    db.execute("INSERT INTO daily(day, start_equity, realised) VALUES ('2025-11-13', 1000, 2.5)")
    db.commit()
    db.close()
    st = StateStore(path)
    assert st.schema_version == SCHEMA_VERSION
    d = st.daily("2025-11-13")
    assert d is not None and d["realised"] == 2.5 and d["unrealised"] == 0
    assert st.kill_state() is None
    st.close()


WRITER = textwrap.dedent(
    """
    import sys
    from mmfast.store import StateStore
    st = StateStore(sys.argv[1])
    print("ready", flush=True)
    tid = 0
    while True:
        # 200 fills per transaction: a SIGKILL lands inside one almost surely.
        st.add_fills([{"tid": (tid := tid + 1), "coin": "ETH", "time": 1763000000000,
                        "side": "B", "px": "2000", "sz": "0.1", "fee": "0.02",
                        "closedPnl": "0.5"} for _ in range(200)])
        st.flush()
    """
)


@pytest.mark.timeout(60)
def test_sigkill_mid_transaction_leaves_a_consistent_file(tmp_path: Path) -> None:
    path = tmp_path / "crash.sqlite"
    for attempt in range(3):
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True
        )
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        time.sleep(0.3 + 0.2 * attempt)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        st = StateStore(path)  # reopen: WAL recovery, then the invariants
        assert st.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        n, realised, fees = st.db.execute(
            "SELECT COUNT(*), COALESCE(SUM(closed_pnl), 0), COALESCE(SUM(fee), 0) FROM fills"
        ).fetchone()
        d = st.daily(DAY) or {"fills": 0, "realised": 0.0, "fees": 0.0}
        assert n > 0 and n % 200 == 0  # whole transactions only
        assert d["fills"] == n
        assert d["realised"] == pytest.approx(realised) and d["fees"] == pytest.approx(fees)
        st.close()


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
