"""`mmfast record`: raw market frames with their local receive times, in the shared/data line
format the backtester replays (`mmfast backtest --hl FILE --binance FILE`).

Each line is `<local receive time, ns since the epoch> <raw websocket frame>`; files are gzip,
one per venue and UTC hour (`hyperliquid_<coin>_<YYYYMMDD>T<HH>.gz`,
`usdm_<symbol>_<YYYYMMDD>T<HH>.gz`; a restart within the hour appends a gzip member, which
every gzip reader, ours included, reads on). The sockets are the live node's (`WsConnection`,
same subscriptions, heartbeat and reconnect backoff):

- Hyperliquid: `l2Book` with `fast: true` (the plain subscription sends a 20-level book only
  every 5 s), `bbo` and `trades` of the coin, on one socket. Heartbeat pongs are not recorded.
- Binance USD-M: `bookTicker` and diff `depth@100ms` on `/public`, `aggTrade` on `/market`,
  plus a REST depth snapshot (`GET /fapi/v1/depth`, a line with `lastUpdateId`) after every
  connect of `/public`, so a reader can rebuild the book from the diffs (shared/data/README.md).

A socket that drops and comes back leaves a gap marker line in its file, at the reconnect:
`<ns> {"gap":{"socket":"hyperliquid","from_ns":<ns when lost>,"to_ns":<ns when back>}}`
(`to_ns` null when the recording ended while the socket was down). Frames between those times
were not received: a reader must not interpolate across it, and should rebuild books from the
next snapshot. Replay skips the marker.

Stopping (SIGINT, SIGTERM, `--duration`) closes the sockets, then closes every file, which
flushes every buffered line and writes the gzip trailer.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from mmfast.errors import InputError, VenueError
from mmfast.feeds import binance as bn
from mmfast.feeds import hyperliquid as hl
from mmfast.feeds.ws import Backoff, WsConnection, hl_heartbeat

log = logging.getLogger(__name__)

#: Binance's public USD-M endpoints (the config's default `live.binance_ws_url`).
BINANCE_WS = "wss://fstream.binance.com"
BINANCE_REST = "https://fapi.binance.com"
#: The diff-depth stream recorded (100 ms: every change, batched; replayable with a snapshot).
DEPTH_STREAM = "depth@100ms"
SNAPSHOT_LIMIT = 1000
NS_PER_HOUR = 3_600_000_000_000

#: `tap(path, ns, frame)`: sees every line as it is written (tests compare it with the file).
Tap = Callable[[Path, int, bytes], None]


class HourlyGzipWriter:
    """Lines `<ns> <frame>` into `DIR/<prefix>_<YYYYMMDD>T<HH>.gz`, one file per UTC hour of
    the receive time. `close()` flushes every buffered line."""

    def __init__(self, out: Path, prefix: str, tap: Tap | None = None) -> None:
        self.out, self.prefix, self.tap = out, prefix, tap
        self._file: gzip.GzipFile | None = None
        self._hour = -1
        self.path: Path | None = None
        #: Lines written, per file.
        self.lines: dict[Path, int] = {}

    def name_for(self, ns: int) -> Path:
        stamp = time.strftime("%Y%m%dT%H", time.gmtime(ns // 1_000_000_000))
        return self.out / f"{self.prefix}_{stamp}.gz"

    def write(self, ns: int, frame: bytes) -> None:
        hour = ns // NS_PER_HOUR
        if hour != self._hour:
            self._rotate(ns, hour)
        if b"\n" in frame or b"\r" in frame:
            # One frame per line. JSON allows a raw newline only as whitespace: same frame.
            frame = frame.replace(b"\r", b" ").replace(b"\n", b" ")
        assert self._file is not None and self.path is not None
        self._file.write(b"%d %s\n" % (ns, frame))
        self.lines[self.path] += 1
        if self.tap is not None:
            self.tap(self.path, ns, frame)

    def _rotate(self, ns: int, hour: int) -> None:
        self.close()
        self.path = self.name_for(ns)
        self._file = gzip.GzipFile(self.path, "ab", compresslevel=6)
        self._hour = hour
        self.lines.setdefault(self.path, 0)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
            self._hour = -1


@dataclass(frozen=True)
class Sources:
    """Where to record from: Hyperliquid's websocket and REST, Binance's stream base and REST."""

    hl_ws: str
    hl_api: str
    binance_ws: str
    binance_rest: str
    label: str

    @classmethod
    def choose(cls, network: str = "testnet", venue: str | None = None) -> Sources:
        """The local venue at `venue` (`http://HOST:PORT`, as `python -m mmfast.venue`
        prints it; it serves the Binance streams and REST too), else Hyperliquid's `network`
        (the same URLs `mmfast run` derives) and Binance's public USD-M endpoints."""
        if venue:
            api = venue.rstrip("/")
            if not api.startswith(("http://", "https://")):
                raise InputError(f"--venue {venue}: expected http://HOST:PORT")
            return cls(hl.ws_url(api), api, hl.ws_url(api).removesuffix("/ws"), api, api)
        api = hl.api_url(network)
        return cls(hl.ws_url(api), api, BINANCE_WS, BINANCE_REST, f"Hyperliquid {network}")


@dataclass
class RecordStats:
    frames: dict[str, int] = field(default_factory=dict)
    gaps: int = 0
    snapshots: int = 0
    files: dict[Path, int] = field(default_factory=dict)


class Recorder:
    """Records `coin` from Hyperliquid and, when given, `binance` (a USD-M symbol) into `out`.
    `await check()` first (unknown coin or symbol: InputError), then `await run(stop)`."""

    def __init__(
        self,
        coin: str,
        binance: str | None,
        out: Path,
        sources: Sources,
        *,
        tap: Tap | None = None,
        backoff: Callable[[], Backoff] | None = None,
    ) -> None:
        self.coin = coin.upper()
        self.symbol = binance.upper() if binance else None
        self.out, self.src = out, sources
        self.backoff = backoff or (lambda: Backoff(min_s=0.25, max_s=30.0))
        self.hl_file = HourlyGzipWriter(out, f"hyperliquid_{self.coin.lower()}", tap)
        self.bn_file = (
            HourlyGzipWriter(out, f"usdm_{self.symbol.lower()}", tap) if self.symbol else None
        )
        self.stats = RecordStats()
        self.conns: list[WsConnection] = []
        self._down_ns: dict[str, int] = {}
        self._http: aiohttp.ClientSession | None = None
        self._snapshots: set[asyncio.Task[None]] = set()

    # ---- checks before the start ----

    async def check(self) -> None:
        """The coin is listed (Hyperliquid `meta`) and the symbol has a book (Binance REST
        depth): a typo fails now with the listed names, not after an hour of empty files."""
        try:
            async with self._session().post(
                self.src.hl_api + "/info", data=orjson.dumps({"type": "meta"})
            ) as r:
                if r.status != 200:
                    raise VenueError(f"{self.src.hl_api}/info meta: HTTP {r.status}")
                meta = orjson.loads(await r.read())
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as e:
            raise VenueError(f"cannot reach {self.src.hl_api} ({e or type(e).__name__})") from None
        names = [str(a.get("name")) for a in meta.get("universe", [])]
        if self.coin not in names:
            shown = ", ".join(names[:20]) + (" ..." if len(names) > 20 else "")
            raise InputError(
                f"--coin {self.coin}: not listed on {self.src.label} (listed: {shown})"
            )
        if self.symbol:
            await self._snapshot(check=True)

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        return self._http

    async def _snapshot(self, check: bool = False) -> None:
        """Records Binance's REST depth snapshot as one line (after every `/public` connect)."""
        url = f"{self.src.binance_rest}/fapi/v1/depth"
        params = {"symbol": str(self.symbol), "limit": str(SNAPSHOT_LIMIT)}
        try:
            async with self._session().get(url, params=params) as r:
                body = await r.read()
                ns = time.time_ns()
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as e:
            if check:
                raise VenueError(f"cannot reach {url} ({e or type(e).__name__})") from None
            log.warning("binance depth snapshot failed (%s)", e)
            return
        if r.status != 200:
            if check and r.status == 400:
                raise InputError(
                    f"--binance {self.symbol}: no such USD-M symbol on {self.src.binance_rest} "
                    f"({body[:120].decode(errors='replace')})"
                )
            if check:
                raise VenueError(f"{url}: HTTP {r.status}")
            log.warning("binance depth snapshot: HTTP %d", r.status)
            return
        if not check and self.bn_file is not None:
            self.bn_file.write(ns, body)
            self.stats.snapshots += 1

    # ---- the sockets ----

    def _sink(self, name: str, writer: HourlyGzipWriter) -> Callable[[bytes, int], None]:
        frames = self.stats.frames
        frames[name] = 0

        def on_frame(frame: bytes, recv_ms: int) -> None:
            ns = time.time_ns()  # wall clock, as the shared recordings: replay needs dates
            if frame.startswith(b'{"channel":"pong"'):
                return  # our own heartbeat's answer, not market data
            writer.write(ns, frame)
            frames[name] += 1

        return on_frame

    def _on_down(self, writer: HourlyGzipWriter) -> Callable[[WsConnection], None]:
        def down(conn: WsConnection) -> None:
            self._down_ns.setdefault(conn.name, time.time_ns())

        return down

    def _on_up(self, writer: HourlyGzipWriter, snapshot: bool) -> Callable[[WsConnection], None]:
        def up(conn: WsConnection) -> None:
            since = self._down_ns.pop(conn.name, None)
            if since is not None:
                self._gap(writer, conn.name, since, time.time_ns())
            if snapshot:
                task = asyncio.get_running_loop().create_task(self._snapshot())
                self._snapshots.add(task)
                task.add_done_callback(self._snapshots.discard)

        return up

    def _gap(self, writer: HourlyGzipWriter, socket: str, since: int, until: int | None) -> None:
        marker = {"gap": {"socket": socket, "from_ns": since, "to_ns": until}}
        writer.write(until or time.time_ns(), orjson.dumps(marker))
        self.stats.gaps += 1
        log.warning(
            "%s: gap of %s recorded",
            socket,
            "open end" if until is None else f"{(until - since) / 1e9:.2f} s",
        )

    def connections(self) -> list[WsConnection]:
        hl_conn = WsConnection(
            "hyperliquid",
            self.src.hl_ws,
            self._sink("hyperliquid", self.hl_file),
            subscriptions=hl.market_subscriptions(self.coin),
            heartbeat=hl_heartbeat(),
            backoff=self.backoff(),
            on_up=self._on_up(self.hl_file, snapshot=False),
            on_down=self._on_down(self.hl_file),
        )
        conns = [hl_conn]
        if self.symbol and self.bn_file is not None:
            urls = bn.stream_urls(
                self.src.binance_ws, self.symbol, depth=True, depth_stream=DEPTH_STREAM
            )
            for part, url in urls.items():
                name = f"binance-{part}"
                conns.append(
                    WsConnection(
                        name,
                        url,
                        self._sink(name, self.bn_file),
                        protocol_ping_s=30.0,
                        backoff=self.backoff(),
                        on_up=self._on_up(self.bn_file, snapshot=part == "public"),
                        on_down=self._on_down(self.bn_file),
                    )
                )
        return conns

    async def run(
        self,
        stop: asyncio.Event,
        duration_s: float | None = None,
        on_tick: Callable[[Recorder], None] | None = None,
        tick_s: float = 60.0,
    ) -> RecordStats:
        """Records until `stop` is set or `duration_s` passed; then closes the sockets and
        flushes the files. `on_tick(self)` every `tick_s`. Returns the counts."""
        self.out.mkdir(parents=True, exist_ok=True)
        self.conns = self.connections()
        tasks = [asyncio.create_task(c.run()) for c in self.conns]
        try:
            deadline = None if duration_s is None else time.monotonic() + duration_s
            while not stop.is_set():
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    break
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(
                        stop.wait(), tick_s if left is None else min(left, tick_s)
                    )
                if on_tick is not None:
                    on_tick(self)
                for t in tasks:
                    if t.done() and t.exception() is not None:
                        raise VenueError(f"a socket task failed: {t.exception()}")
        finally:
            await self._shutdown(tasks)
        return self.stats

    async def _shutdown(self, tasks: list[asyncio.Task[None]]) -> None:
        for c in self.conns:
            await c.close()
        for t in [*tasks, *self._snapshots]:
            t.cancel()
        for t in [*tasks, *self._snapshots]:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        for name, since in sorted(self._down_ns.items()):
            w = self.hl_file if name == "hyperliquid" else self.bn_file
            if w is not None:
                self._gap(w, name, since, None)
        self.close()
        await self.aclose()

    def close(self) -> None:
        """Flushes and closes the files (idempotent)."""
        for w in (self.hl_file, self.bn_file):
            if w is not None:
                w.close()
                self.stats.files.update(w.lines)

    async def aclose(self) -> None:
        """Closes the REST session (idempotent)."""
        if self._http is not None:
            await self._http.close()
            self._http = None


def check_names(coin: str, binance: str | None) -> None:
    """Shape checks before any network: a coin or symbol is a short alphanumeric name."""
    if not re.fullmatch(r"[A-Za-z0-9@:/_-]{1,20}", coin):
        raise InputError(f"--coin {coin!r}: expected a coin name such as BTC")
    if binance is not None and not re.fullmatch(r"[A-Za-z0-9]{2,20}", binance):
        raise InputError(f"--binance {binance!r}: expected a USD-M symbol such as btcusdt")


def open_dir(out: str) -> Path:
    """Creates `out` and proves a file can be written there (InputError otherwise)."""
    p = Path(out)
    try:
        p.mkdir(parents=True, exist_ok=True)
        probe = p / ".mmfast-record-probe"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as e:
        raise InputError(
            f"--out {out}: cannot write there ({e.strerror or e}); choose a writable folder"
        ) from None
    return p


def describe(stats: RecordStats) -> dict[str, Any]:
    return {
        "frames": stats.frames,
        "snapshots": stats.snapshots,
        "gaps": stats.gaps,
        "files": {str(k): v for k, v in sorted(stats.files.items())},
    }
