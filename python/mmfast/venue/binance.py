"""The venue's Binance USD-M format feed (PROTOCOL 6), driven by the same market model.

Websocket streams on the venue's port, at the routed paths (`/public/ws/<streams>`,
`/market/ws/<streams>`, combined `/public/stream?streams=a/b`, and the legacy `/ws/...`):
`<sym>@bookTicker`, `<sym>@aggTrade`, `<sym>@trade`, partial depth `<sym>@depth<N>[@100ms]` and
diff depth `<sym>@depth[@100ms|@500ms|@0ms]`; REST snapshot `GET /fapi/v1/depth?symbol=&limit=`.
The synthetic market gives the best bid and offer; deeper levels are a fixed size profile one
tick apart, so the book, its diffs and the snapshot's `lastUpdateId` stay consistent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import WSMsgType, web

if TYPE_CHECKING:
    from mmfast.venue.server import Venue

log = logging.getLogger("mmfast.venue.binance")

LEVELS = 20


def _dp(tick: float) -> int:
    s = f"{tick:.10f}".rstrip("0")
    return len(s.split(".")[1]) if "." in s else 0


class _Book:
    def __init__(self, symbol: str, tick: float) -> None:
        self.symbol = symbol
        self.tick = tick
        self.dp = _dp(tick)
        self.u = 1
        self.bbo: tuple[float, float, float, float] | None = None
        self.time = 0

    def levels(self, limit: int = LEVELS) -> tuple[list[list[str]], list[list[str]]]:
        if self.bbo is None:
            return [], []
        bid, bq, ask, aq = self.bbo
        mid = (bid + ask) / 2
        base = max(30_000 / mid, 0.001)
        n = min(limit, 1000)

        def side(top: float, top_q: float, sign: int) -> list[list[str]]:
            out = []
            for k in range(n):
                px = top + sign * k * self.tick
                if px <= 0:
                    break
                q = top_q if k == 0 else round(base * (1 + 0.3 * k), 3)
                out.append([f"{px:.{self.dp}f}", f"{q:.3f}"])
            return out

        return side(bid, bq, -1), side(ask, aq, 1)


class _Client:
    def __init__(self, ws: web.WebSocketResponse, combined: bool) -> None:
        self.ws = ws
        self.combined = combined
        # stream name -> state (last depth sent, last emit time)
        self.streams: dict[str, dict[str, Any]] = {}

    async def send(self, stream: str, data: Any) -> None:
        obj = {"stream": stream, "data": data} if self.combined else data
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self.ws.send_str(orjson.dumps(obj).decode())


def _parse_stream(name: str) -> tuple[str, str, int, int] | None:
    """`(symbol, kind, depth, speed_ms)` of a stream name, kind in bookTicker, aggTrade, trade,
    depth (diff, depth 0) or partial (depth N)."""
    if "@" not in name:
        return None
    sym, rest = name.split("@", 1)
    parts = rest.split("@")
    kind = parts[0]
    speed = 250
    if len(parts) > 1 and parts[1].endswith("ms") and parts[1][:-2].isdigit():
        speed = int(parts[1][:-2])
    if kind in ("bookTicker", "aggTrade", "trade"):
        return sym, kind, 0, 0
    if kind == "depth":
        return sym, "depth", 0, speed
    if kind.startswith("depth") and kind[5:].isdigit() and int(kind[5:]) in (5, 10, 20):
        return sym, "partial", int(kind[5:]), speed
    return None


class BinanceFeed:
    """Binance streams of one venue."""

    def __init__(self, venue: Venue) -> None:
        self.venue = venue
        cfg = orjson.loads(venue.engine.config_json())
        self.external = cfg["market"] == "external"
        self.coin_of: dict[str, str] = {}
        self.books: dict[str, _Book] = {}
        for a in cfg["assets"]:
            sym = a["binance_symbol"].lower()
            if sym:
                self.coin_of[sym] = a["coin"]
                self.books[sym] = _Book(a["binance_symbol"].upper(), a["synthetic"]["binance_tick"])
        self.clients: set[_Client] = set()

    def add_routes(self, app: web.Application) -> None:
        for base in ("", "/public", "/market"):
            app.router.add_get(base + "/ws/{streams:.+}", self._ws_raw)
            app.router.add_get(base + "/stream", self._ws_combined)
        app.router.add_get("/fapi/v1/depth", self._rest_depth)

    def tasks(self) -> list[asyncio.Task[None]]:
        if self.external or not self.books:
            return []
        return [asyncio.create_task(self._poll_loop())]

    async def close(self) -> None:
        for c in list(self.clients):
            with contextlib.suppress(Exception):
                await c.ws.close()
        self.clients.clear()

    # ---- model ---------------------------------------------------------------------------

    async def _poll_loop(self) -> None:
        from mmfast.venue.server import now_ms

        period = self.venue.config.binance_ms / 1000
        while True:
            await asyncio.sleep(period)
            try:
                await self.poll(now_ms())
            except Exception:
                log.exception("binance poll failed")

    async def poll(self, now: int) -> None:
        """Pulls the model's Binance events up to `now` and streams them."""
        for sym, book in self.books.items():
            data = orjson.loads(self.venue.engine.binance_poll(self.coin_of[sym], now))
            for t, bid, bq, ask, aq in data["bbo"]:
                book.bbo = (bid, bq, ask, aq)
                book.u += 1
                book.time = t
                await self._publish(sym, "bookTicker", self._book_ticker(book))
            for t, px, qty, m, tid in data["trades"]:
                agg = {
                    "e": "aggTrade",
                    "E": t,
                    "s": book.symbol,
                    "a": tid,
                    "p": f"{px:.{book.dp}f}",
                    "q": f"{qty:.3f}",
                    "f": tid,
                    "l": tid,
                    "T": t,
                    "m": m,
                }
                await self._publish(sym, "aggTrade", agg)
                trade = {
                    "e": "trade",
                    "E": t,
                    "T": t,
                    "s": book.symbol,
                    "t": tid,
                    "p": agg["p"],
                    "q": agg["q"],
                    "X": "MARKET",
                    "m": m,
                }
                await self._publish(sym, "trade", trade)
            await self._depth(sym, book, now)

    @staticmethod
    def _book_ticker(book: _Book) -> dict[str, Any]:
        assert book.bbo is not None
        bid, bq, ask, aq = book.bbo
        return {
            "e": "bookTicker",
            "u": book.u,
            "E": book.time,
            "T": book.time,
            "s": book.symbol,
            "b": f"{bid:.{book.dp}f}",
            "B": f"{bq:.3f}",
            "a": f"{ask:.{book.dp}f}",
            "A": f"{aq:.3f}",
        }

    async def _publish(self, sym: str, kind: str, data: Any) -> None:
        ch = self.venue.chaos
        if ch is not None and ch.binance_frozen(self.venue.chaos_now()):
            return
        for c in list(self.clients):
            for name in c.streams:
                p = _parse_stream(name)
                if p and p[0] == sym and p[1] == kind:
                    await c.send(name, data)

    async def _depth(self, sym: str, book: _Book, now: int) -> None:
        for c in list(self.clients):
            for name, st in c.streams.items():
                p = _parse_stream(name)
                if not p or p[0] != sym or p[1] not in ("depth", "partial"):
                    continue
                if st.get("u") == book.u or now - st.get("t", 0) < p[3]:
                    continue
                bids, asks = book.levels(p[2] or LEVELS)
                msg: dict[str, Any] = {
                    "e": "depthUpdate",
                    "E": now,
                    "T": book.time,
                    "s": book.symbol,
                    "U": st.get("u", book.u - 1) + 1,
                    "u": book.u,
                    "pu": st.get("u", book.u - 1),
                }
                if p[1] == "partial":
                    msg["b"], msg["a"] = bids, asks
                else:
                    old_b, old_a = st.get("levels", ([], []))
                    msg["b"], msg["a"] = _diff(old_b, bids), _diff(old_a, asks)
                st.update(u=book.u, t=now, levels=(bids, asks))
                await c.send(name, msg)

    async def publish_raw(self, stream: str, data: Any) -> None:
        """Replay: forwards a recorded frame to the clients subscribed to its stream."""
        for c in list(self.clients):
            if stream in c.streams:
                await c.send(stream, data)

    # ---- endpoints -----------------------------------------------------------------------

    async def _greet(self, client: _Client, streams: list[str]) -> None:
        """Sends the current book ticker to a new subscriber (a quiet market has no change to
        push, and a subscriber should not wait for one)."""
        for name in streams:
            p = _parse_stream(name)
            book = self.books.get(p[0]) if p else None
            if p and p[1] == "bookTicker" and book is not None and book.bbo is not None:
                await client.send(name, self._book_ticker(book))

    async def _rest_depth(self, request: web.Request) -> web.Response:
        sym = request.query.get("symbol", "").lower()
        book = self.books.get(sym)
        if book is None:
            body = {"code": -1121, "msg": "Invalid symbol."}
            return web.Response(
                status=400, body=orjson.dumps(body), content_type="application/json"
            )
        limit = int(request.query.get("limit", "500"))
        bids, asks = book.levels(limit)
        body = {"lastUpdateId": book.u, "E": book.time, "T": book.time, "bids": bids, "asks": asks}
        return web.Response(body=orjson.dumps(body), content_type="application/json")

    async def _ws_raw(self, request: web.Request) -> web.WebSocketResponse:
        streams = request.match_info["streams"].split("/")
        return await self._serve(request, streams, combined=False)

    async def _ws_combined(self, request: web.Request) -> web.WebSocketResponse:
        streams = [s for s in request.query.get("streams", "").split("/") if s]
        return await self._serve(request, streams, combined=True)

    async def _serve(
        self, request: web.Request, streams: list[str], combined: bool
    ) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=180.0)
        await ws.prepare(request)
        client = _Client(ws, combined)
        for s in streams:
            client.streams[s] = {}
        self.clients.add(client)
        await self._greet(client, streams)
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                try:
                    req = orjson.loads(msg.data)
                except orjson.JSONDecodeError:
                    continue
                method, params = req.get("method"), req.get("params") or []
                if method == "SUBSCRIBE":
                    for s in params:
                        client.streams.setdefault(s, {})
                    await self._greet(client, params)
                elif method == "UNSUBSCRIBE":
                    for s in params:
                        client.streams.pop(s, None)
                elif method == "LIST_SUBSCRIPTIONS":
                    await ws.send_str(
                        orjson.dumps({"result": list(client.streams), "id": req.get("id")}).decode()
                    )
                    continue
                await ws.send_str(orjson.dumps({"result": None, "id": req.get("id")}).decode())
        finally:
            self.clients.discard(client)
        return ws


def _diff(old: list[list[str]], new: list[list[str]]) -> list[list[str]]:
    """Levels whose quantity changed, with removed levels sent as quantity "0"."""
    o = dict((p, q) for p, q in old)
    n = dict((p, q) for p, q in new)
    out = [[p, q] for p, q in new if o.get(p) != q]
    out += [[p, "0"] for p in o if p not in n]
    return out
