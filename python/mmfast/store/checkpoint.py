"""The bot's checkpoint in SQLite, WAL mode (SPEC 10): fills (by tid, so a restart neither loses
nor doubles one), PnL per UTC day with the day's opening equity (the daily loss limit carries
across restarts), and the engine's learned state for a warm restart.

Writes happen off the hot path (the bot flushes once a second) and each flush is one
transaction. The file never holds a secret: no key, no signature.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS fills (
    tid INTEGER PRIMARY KEY, coin TEXT NOT NULL, time_ms INTEGER NOT NULL, side TEXT NOT NULL,
    px REAL NOT NULL, sz REAL NOT NULL, fee REAL NOT NULL, oid INTEGER, cloid TEXT,
    closed_pnl REAL
);
CREATE TABLE IF NOT EXISTS daily (
    day TEXT PRIMARY KEY, start_equity REAL, realised REAL NOT NULL DEFAULT 0,
    fees REAL NOT NULL DEFAULT 0, funding REAL NOT NULL DEFAULT 0,
    volume REAL NOT NULL DEFAULT 0, fills INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS learned_state (
    id INTEGER PRIMARY KEY CHECK (id = 1), saved_ms INTEGER NOT NULL, blob BLOB NOT NULL
);
"""


def utc_day(ms: float | None = None) -> str:
    t = time.time() if ms is None else ms / 1000
    return datetime.fromtimestamp(t, tz=timezone.utc).strftime("%Y-%m-%d")


class Checkpoint:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    # ---- fills ----

    def add_fills(self, fills: Iterable[dict[str, Any]]) -> int:
        """Stores fills (as the exchange reports them); returns how many were new."""
        rows = [
            (
                f["tid"],
                f["coin"],
                int(f.get("time", 0)),
                f["side"],
                float(f["px"]),
                float(f["sz"]),
                float(f.get("fee", 0.0)),
                f.get("oid"),
                f.get("cloid"),
                float(f.get("closedPnl", 0.0)),
            )
            for f in fills
        ]
        new = 0
        with self.db:
            for r in rows:
                cur = self.db.execute("INSERT OR IGNORE INTO fills VALUES (?,?,?,?,?,?,?,?,?,?)", r)
                if cur.rowcount != 1:
                    continue  # a tid already stored: the same fill again
                new += 1
                self.db.execute(
                    "INSERT INTO daily(day, realised, fees, volume, fills) VALUES (?,?,?,?,1) "
                    "ON CONFLICT(day) DO UPDATE SET realised = realised + excluded.realised, "
                    "fees = fees + excluded.fees, volume = volume + excluded.volume, "
                    "fills = fills + 1",
                    (utc_day(r[2] or None), r[9], r[6], r[4] * r[5]),
                )
        return new

    def recent_tids(self, limit: int = 10_000) -> list[int]:
        cur = self.db.execute("SELECT tid FROM fills ORDER BY time_ms DESC LIMIT ?", (limit,))
        return [r[0] for r in cur]

    # ---- daily ----

    def day_start_equity(self, equity_now: float, day: str | None = None) -> float:
        """The equity the UTC day opened with: recorded on the day's first call, then kept."""
        d = day or utc_day()
        with self.db:
            self.db.execute(
                "INSERT INTO daily(day, start_equity) VALUES (?, ?) ON CONFLICT(day) DO UPDATE "
                "SET start_equity = COALESCE(start_equity, excluded.start_equity)",
                (d, equity_now),
            )
        row = self.db.execute("SELECT start_equity FROM daily WHERE day = ?", (d,)).fetchone()
        return float(row[0])

    def add_funding(self, usdc: float, day: str | None = None) -> None:
        with self.db:
            self.db.execute(
                "INSERT INTO daily(day, funding) VALUES (?, ?) ON CONFLICT(day) DO UPDATE "
                "SET funding = funding + excluded.funding",
                (day or utc_day(), usdc),
            )

    def daily(self, day: str | None = None) -> dict[str, Any] | None:
        cur = self.db.execute("SELECT * FROM daily WHERE day = ?", (day or utc_day(),))
        row = cur.fetchone()
        if row is None:
            return None
        return dict(zip([c[0] for c in cur.description], row, strict=True))

    # ---- learned state ----

    def save_state(self, blob: bytes) -> None:
        with self.db:
            self.db.execute(
                "INSERT INTO learned_state(id, saved_ms, blob) VALUES (1, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET saved_ms = excluded.saved_ms, blob = excluded.blob",
                (int(time.time() * 1000), blob),
            )

    def load_state(self) -> bytes | None:
        row = self.db.execute("SELECT blob FROM learned_state WHERE id = 1").fetchone()
        return None if row is None else bytes(row[0])
