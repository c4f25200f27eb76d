"""The bot's state in SQLite, WAL mode, one file per account, asset and network: the fills
journal (one row per `tid`, so a restart neither loses nor doubles a fill), PnL per UTC day
(realised, unrealised, fees, funding, equity), the runs of each day (whose losses carry into the
daily loss limit across restarts), the kill switch (which stays down across restarts until
`mmfast reset-kill`), monitor events, and the engine's learned state for a warm restart.

Writes go through one writer thread with its own connection, off the hot path: the caller only
enqueues. Each write is one transaction, so a crash (even SIGKILL) at any point leaves either the
whole write or none of it. Reads use the caller's connection; WAL lets them run beside the
writer. The schema is versioned (`PRAGMA user_version`) and migrated forward on open.

The file never holds a secret: no key, no signature.
"""

from __future__ import annotations

import logging
import queue
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

log = logging.getLogger("mmfast.store")

#: Schema migrations, in order: entry i brings version i to i + 1.
MIGRATIONS: list[str] = [
    # 0 -> 1: the first checkpoint (fills, daily totals, learned state).
    """
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
    """,
    # 1 -> 2: runs (carried losses), equity and unrealised PnL, kill switch, events, identity.
    """
    ALTER TABLE daily ADD COLUMN unrealised REAL NOT NULL DEFAULT 0;
    ALTER TABLE daily ADD COLUMN equity REAL;
    ALTER TABLE daily ADD COLUMN updated_ms INTEGER;
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT, day TEXT NOT NULL, started_ms INTEGER NOT NULL,
        start_equity REAL NOT NULL, last_equity REAL NOT NULL, updated_ms INTEGER NOT NULL,
        ended_ms INTEGER, exit TEXT, position REAL NOT NULL DEFAULT 0,
        unrealised REAL NOT NULL DEFAULT 0
    );
    CREATE INDEX runs_day ON runs(day);
    CREATE TABLE kill (
        id INTEGER PRIMARY KEY CHECK (id = 1), killed INTEGER NOT NULL, reason TEXT NOT NULL,
        detail TEXT NOT NULL, at_ms INTEGER NOT NULL
    );
    CREATE TABLE events (
        id INTEGER PRIMARY KEY AUTOINCREMENT, at_ms INTEGER NOT NULL, kind TEXT NOT NULL,
        monitor TEXT NOT NULL, detail TEXT NOT NULL
    );
    CREATE TABLE info (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)

#: Page cache of each connection, KiB (SQLite's default is 2 MiB). The writer appends at the end of
#: the fills table and the reader reads little, so this holds every page they touch; with the
#: default, the writer's cache grew by ~100 B a fill until ~25,000 fills: its thread's malloc
#: arena, and the bot's RSS, grew for hours (issue 13 soak).
CACHE_KIB = 256


def _connect(target: str | Path, *, uri: bool = False) -> sqlite3.Connection:
    """A connection as the store uses them: autocommit, a busy timeout and a bounded cache."""
    db = sqlite3.connect(target, uri=uri, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA busy_timeout = 5000")
    db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
    return db


def utc_day(ms: float | None = None) -> str:
    t = time.time() if ms is None else ms / 1000
    return datetime.fromtimestamp(t, tz=timezone.utc).strftime("%Y-%m-%d")


def now_ms() -> int:
    return int(time.time() * 1000)


def default_state_path(account: str, asset: str, network: str) -> Path:
    """`<user data dir>/mmfast/<account>-<asset>-<network>.sqlite` (platformdirs)."""
    from platformdirs import user_data_dir

    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", f"{account.lower()}-{asset}-{network}")
    return Path(user_data_dir("mmfast", appauthor=False)) / f"{safe}.sqlite"


def migrate(db: sqlite3.Connection) -> int:
    """Brings the schema to `SCHEMA_VERSION`, one transaction per step; returns the old one."""
    old = int(db.execute("PRAGMA user_version").fetchone()[0])
    if old > SCHEMA_VERSION:
        from mmfast.errors import ConfigError

        raise ConfigError(
            f"state file schema version {old} is newer than this mmfast's ({SCHEMA_VERSION}): "
            "upgrade mmfast or use another --state file"
        )
    for v in range(old, SCHEMA_VERSION):
        # executescript commits first; BEGIN ... COMMIT makes each step all-or-nothing.
        db.executescript(f"BEGIN;\n{MIGRATIONS[v]}\nPRAGMA user_version = {v + 1};\nCOMMIT;")
    return old


class _Writer(threading.Thread):
    """Runs queued writes, each in its own transaction, on its own connection."""

    def __init__(self, path: Path) -> None:
        super().__init__(name="mmfast-state-writer", daemon=True)
        self.path = path
        self.q: queue.Queue[Callable[[sqlite3.Connection], Any] | None] = queue.Queue()
        self.error: BaseException | None = None
        self.db: sqlite3.Connection | None = None
        self.ready = threading.Event()

    def run(self) -> None:
        db = _connect(self.path)
        db.execute("PRAGMA synchronous = NORMAL")
        self.db = db
        self.ready.set()
        while True:
            job = self.q.get()
            try:
                if job is None:
                    return
                with db:  # one transaction: all of it or none of it
                    db.execute("BEGIN IMMEDIATE")
                    job(db)
            except Exception as e:  # a failed write is logged; the bot keeps trading
                self.error = e
                log.error("state write failed: %s", e)
            finally:
                self.q.task_done()
        db.close()


class StateStore:
    """The state file. Writes are queued to the writer thread; `flush()` waits for them."""

    def __init__(self, path: str | Path, *, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
        if read_only:
            if not self.path.is_file():
                from mmfast.errors import ConfigError

                raise ConfigError(f"{self.path}: no state file there")
            self.db = _connect(f"file:{self.path}?mode=ro", uri=True)
            self._writer: _Writer | None = None
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = _connect(self.path)
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.execute("PRAGMA synchronous = NORMAL")
        migrate(self.db)
        self._writer = _Writer(self.path)
        self._writer.start()
        self._writer.ready.wait(10)

    # ---- plumbing ----

    def _write(self, job: Callable[[sqlite3.Connection], Any]) -> None:
        if self._writer is None:
            raise RuntimeError("state file opened read-only")
        self._writer.q.put(job)

    def flush(self) -> None:
        """Waits until every queued write is committed."""
        if self._writer is not None:
            self._writer.q.join()

    def close(self) -> None:
        """Commits what is queued and closes; a second call does nothing."""
        if self._writer is not None:
            self._writer.q.put(None)
            self._writer.join(30)
            self._writer = None
        self.db.close()

    def __enter__(self) -> StateStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _one(self, sql: str, args: tuple[Any, ...] = ()) -> dict[str, Any] | None:
        cur = self.db.execute(sql, args)
        row = cur.fetchone()
        return None if row is None else dict(zip([c[0] for c in cur.description], row, strict=True))

    def _all(self, sql: str, args: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        cur = self.db.execute(sql, args)
        names = [c[0] for c in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur]

    @property
    def schema_version(self) -> int:
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])

    # ---- identity ----

    def set_info(self, **values: str) -> None:
        def job(db: sqlite3.Connection) -> None:
            db.executemany(
                "INSERT INTO info(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE "
                "SET value = excluded.value",
                [(k, str(v)) for k, v in values.items()],
            )

        self._write(job)

    def info(self) -> dict[str, str]:
        return {r["key"]: r["value"] for r in self._all("SELECT key, value FROM info")}

    # ---- fills ----

    def add_fills(self, fills: Iterable[dict[str, Any]]) -> None:
        """Journals fills as the exchange reports them; a `tid` already stored is skipped, and
        the day's totals move only for new ones (in the same transaction)."""
        rows = [
            (
                int(f["tid"]),
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
        if not rows:
            return

        def job(db: sqlite3.Connection) -> None:
            for r in rows:
                cur = db.execute("INSERT OR IGNORE INTO fills VALUES (?,?,?,?,?,?,?,?,?,?)", r)
                if cur.rowcount != 1:
                    continue  # a tid already stored: the same fill again
                db.execute(
                    "INSERT INTO daily(day, realised, fees, volume, fills) VALUES (?,?,?,?,1) "
                    "ON CONFLICT(day) DO UPDATE SET realised = realised + excluded.realised, "
                    "fees = fees + excluded.fees, volume = volume + excluded.volume, "
                    "fills = fills + 1",
                    (utc_day(r[2] or None), r[9], r[6], r[4] * r[5]),
                )

        self._write(job)

    def recent_tids(self, limit: int = 10_000) -> list[int]:
        cur = self.db.execute("SELECT tid FROM fills ORDER BY time_ms DESC LIMIT ?", (limit,))
        return [r[0] for r in cur]

    def last_fills(self, n: int = 10) -> list[dict[str, Any]]:
        return self._all(
            "SELECT tid, coin, time_ms, side, px, sz, fee, closed_pnl FROM fills "
            "ORDER BY time_ms DESC, tid DESC LIMIT ?",
            (n,),
        )

    # ---- daily ----

    def add_funding(self, usdc: float, day: str | None = None) -> None:
        d = day or utc_day()

        def job(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT INTO daily(day, funding) VALUES (?, ?) ON CONFLICT(day) DO UPDATE "
                "SET funding = funding + excluded.funding",
                (d, usdc),
            )

        self._write(job)

    def daily(self, day: str | None = None) -> dict[str, Any] | None:
        return self._one("SELECT * FROM daily WHERE day = ?", (day or utc_day(),))

    # ---- runs: equity and the losses carried across restarts ----

    def start_run(self, equity: float, at_ms: int | None = None) -> int:
        """Opens a run at `equity`; returns its id. Synchronous: the id is needed now."""
        t = now_ms() if at_ms is None else at_ms
        self.flush()
        assert self._writer is not None and self._writer.db is not None
        out: list[int] = []

        def job(db: sqlite3.Connection) -> None:
            cur = db.execute(
                "INSERT INTO runs(day, started_ms, start_equity, last_equity, updated_ms) "
                "VALUES (?,?,?,?,?)",
                (utc_day(t), t, equity, equity, t),
            )
            out.append(int(cur.lastrowid or 0))
            db.execute(
                "INSERT INTO daily(day, start_equity) VALUES (?, ?) ON CONFLICT(day) DO UPDATE "
                "SET start_equity = COALESCE(start_equity, excluded.start_equity)",
                (utc_day(t), equity),
            )

        self._write(job)
        self.flush()
        return out[0]

    def update_run(
        self,
        run_id: int,
        equity: float,
        *,
        position: float = 0.0,
        unrealised: float = 0.0,
        at_ms: int | None = None,
    ) -> int:
        """Records the run's equity now. When the UTC day changed since the run's row began, the
        row is closed at this equity and a new one opens for the new day; returns the id of the
        row in use."""
        t = now_ms() if at_ms is None else at_ms
        day = utc_day(t)
        row = self._one("SELECT day FROM runs WHERE id = ?", (run_id,))
        if row is not None and row["day"] != day:
            self._write(
                lambda db: db.execute(
                    "UPDATE runs SET last_equity = ?, updated_ms = ?, ended_ms = ?, "
                    "exit = 'UTC day ended' WHERE id = ?",
                    (equity, t, t, run_id),
                )
            )
            return self.start_run(equity, at_ms=t)

        def job(db: sqlite3.Connection) -> None:
            db.execute(
                "UPDATE runs SET last_equity = ?, updated_ms = ?, position = ?, unrealised = ? "
                "WHERE id = ?",
                (equity, t, position, unrealised, run_id),
            )
            db.execute(
                "INSERT INTO daily(day, equity, unrealised, updated_ms) VALUES (?,?,?,?) "
                "ON CONFLICT(day) DO UPDATE SET equity = excluded.equity, "
                "unrealised = excluded.unrealised, updated_ms = excluded.updated_ms",
                (day, equity, unrealised, t),
            )

        self._write(job)
        return run_id

    def end_run(self, run_id: int, exit: str, at_ms: int | None = None) -> None:
        t = now_ms() if at_ms is None else at_ms
        self._write(
            lambda db: db.execute(
                "UPDATE runs SET ended_ms = ?, exit = ? WHERE id = ?", (t, exit, run_id)
            )
        )

    def day_pnl(self, day: str | None = None, *, exclude_run: int | None = None) -> float:
        """Equity change over the runs of the UTC day (deposits between runs are not PnL):
        what the daily loss limit counts, earlier runs included."""
        row = self.db.execute(
            "SELECT COALESCE(SUM(last_equity - start_equity), 0) FROM runs "
            "WHERE day = ? AND id IS NOT ?",
            (day or utc_day(), exclude_run),
        ).fetchone()
        return float(row[0])

    def carried_loss(self, day: str | None = None, *, exclude_run: int | None = None) -> float:
        """The day's losses of earlier runs (>= 0), to carry into this run's daily limit."""
        return max(0.0, -self.day_pnl(day, exclude_run=exclude_run))

    def runs(self, day: str | None = None) -> list[dict[str, Any]]:
        return self._all("SELECT * FROM runs WHERE day = ? ORDER BY id", (day or utc_day(),))

    def last_run(self) -> dict[str, Any] | None:
        return self._one("SELECT * FROM runs ORDER BY id DESC LIMIT 1")

    # ---- kill switch and monitor events ----

    def set_kill(self, reason: str, detail: str, at_ms: int | None = None) -> None:
        t = now_ms() if at_ms is None else at_ms

        def job(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT INTO kill(id, killed, reason, detail, at_ms) VALUES (1, 1, ?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET killed = 1, reason = excluded.reason, "
                "detail = excluded.detail, at_ms = excluded.at_ms",
                (reason, detail, t),
            )
            db.execute(
                "INSERT INTO events(at_ms, kind, monitor, detail) VALUES (?, 'kill', ?, ?)",
                (t, reason, detail),
            )

        self._write(job)

    def reset_kill(self, by: str = "mmfast reset-kill") -> dict[str, Any] | None:
        """Clears the kill switch; returns what it was (None when it was not set)."""
        was = self.kill_state()
        t = now_ms()

        def job(db: sqlite3.Connection) -> None:
            db.execute("UPDATE kill SET killed = 0 WHERE id = 1")
            db.execute(
                "INSERT INTO events(at_ms, kind, monitor, detail) VALUES (?, 'reset', ?, ?)",
                (t, "kill", f"reset by {by}"),
            )

        self._write(job)
        self.flush()
        return was

    def kill_state(self) -> dict[str, Any] | None:
        """`{reason, detail, at_ms}` while the kill switch is set, else None."""
        row = self._one("SELECT killed, reason, detail, at_ms FROM kill WHERE id = 1")
        if row is None or not row["killed"]:
            return None
        return {k: row[k] for k in ("reason", "detail", "at_ms")}

    def add_event(self, kind: str, monitor: str, detail: str, at_ms: int | None = None) -> None:
        t = now_ms() if at_ms is None else at_ms
        self._write(
            lambda db: db.execute(
                "INSERT INTO events(at_ms, kind, monitor, detail) VALUES (?, ?, ?, ?)",
                (t, kind, monitor, detail),
            )
        )

    def events(self, n: int = 10) -> list[dict[str, Any]]:
        return self._all(
            "SELECT at_ms, kind, monitor, detail FROM events ORDER BY id DESC LIMIT ?", (n,)
        )

    # ---- learned state ----

    def save_state(self, blob: bytes) -> None:
        t = now_ms()
        self._write(
            lambda db: db.execute(
                "INSERT INTO learned_state(id, saved_ms, blob) VALUES (1, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET saved_ms = excluded.saved_ms, blob = excluded.blob",
                (t, blob),
            )
        )

    def load_state(self) -> bytes | None:
        row = self.db.execute("SELECT blob FROM learned_state WHERE id = 1").fetchone()
        return None if row is None else bytes(row[0])

    # ---- compatibility with the first checkpoint API ----

    def day_start_equity(self, equity_now: float, day: str | None = None) -> float:
        """The equity the UTC day opened with: recorded on the day's first call, then kept."""
        d = day or utc_day()
        self._write(
            lambda db: db.execute(
                "INSERT INTO daily(day, start_equity) VALUES (?, ?) ON CONFLICT(day) DO UPDATE "
                "SET start_equity = COALESCE(start_equity, excluded.start_equity)",
                (d, equity_now),
            )
        )
        self.flush()
        row = self.db.execute("SELECT start_equity FROM daily WHERE day = ?", (d,)).fetchone()
        return float(row[0])
