"""The local Hyperliquid venue: an aiohttp server on 127.0.0.1 with `/info`, `/exchange` and
`/ws`, plus the Binance-format feed of `binance.py`, over the Rust matching engine (SPEC 11).

Signed actions are recovered to their signer (`auth.py`), mapped to the master account, checked
against the nonce rules and the address budget, and queued for the next block; the HTTP (or ws
`post`) answer is sent when the block that ran the action closes. Each block's fills, order
updates, trades and book changes are streamed to the subscribed websockets.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import orjson
from aiohttp import WSMsgType, web

from mmfast._core import MatchingEngine
from mmfast.errors import VenueError
from mmfast.venue.auth import recover_agent_approver, recover_body
from mmfast.venue.chaos import RATE_LIMIT_ERROR, Chaos
from mmfast.venue.config import VenueConfig

log = logging.getLogger("mmfast.venue")

GREETING = "Websocket connection established."
BAD_BODY = "Failed to deserialize the JSON body into the target type"
COIN_SUBS = {"l2Book", "bbo", "trades"}
USER_SUBS = {"orderUpdates", "userFills", "userEvents"}
T = TypeVar("T")
DUPLICATE_S = 2.0


def now_ms() -> int:
    return int(time.time() * 1000)


def _err(text: str) -> dict[str, Any]:
    return {"status": "err", "response": text}


def _dumps(obj: Any) -> str:
    return orjson.dumps(obj).decode()


class _Client:
    """One websocket connection: its subscriptions and a writer task so that a slow reader
    never stalls the block loop."""

    def __init__(
        self, ws: web.WebSocketResponse, frozen: Callable[[], bool] = lambda: False
    ) -> None:
        self.ws = ws
        self.frozen = frozen
        self.held_fills: tuple[float, str] | None = None
        self.queue: asyncio.Queue[str | None] = asyncio.Queue()
        self.subs: dict[bytes, dict[str, Any]] = {}
        self.posts: set[asyncio.Task[None]] = set()
        self.task = asyncio.create_task(self._writer())

    def send(self, text: str) -> None:
        if self.frozen():  # a frozen socket: open, silent (chaos)
            return
        self.queue.put_nowait(text)

    async def _writer(self) -> None:
        while (text := await self.queue.get()) is not None:
            try:
                await self.ws.send_str(text)
            except (ConnectionError, RuntimeError):
                return

    async def close(self) -> None:
        self.queue.put_nowait(None)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.task, 1.0)
        with contextlib.suppress(Exception):
            await self.ws.close()


class Venue:
    """The venue in the current event loop. `async with Venue(cfg) as v:` serves on `v.url`."""

    def __init__(self, config: VenueConfig | None = None) -> None:
        self.config = config or VenueConfig()
        self.engine = MatchingEngine(self.config.sim_json())
        self.coins = [a[0] for a in self.engine.assets()]
        for address, usdc in self.config.accounts:
            self.engine.add_account(address, float(usdc))
        for agent, master in self.config.agents:
            self.engine.add_agent(agent, master)
        for vault, leader in self.config.vaults:
            self.engine.add_vault(vault, leader)
        for address, coin, mx in self.config.max_positions:
            self.engine.set_max_position(address, coin, float(mx))
        for address, coin, usd in self.config.max_positions_usd:
            self.engine.set_max_position_usd(address, coin, float(usd))
        self.port = 0
        self.breaches: list[dict[str, Any]] = []
        self.blocks = 0
        self._paused = False
        self._tickets: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._clients: set[_Client] = set()
        self._runner: web.AppRunner | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._mids_last = 0
        self.chaos = Chaos(self.config.chaos) if self.config.chaos else None
        self._t0 = time.monotonic()
        # Resting orders of a watched account (one with a configured max) at the side and
        # price of another of its resting orders for longer than DUPLICATE_S: a duplicate the
        # bot did not mean (a cancel and a place at one price may overlap for a block or two).
        self._watched = {a.lower() for a, _, _ in self.config.max_positions}
        self.duplicate_oids: set[int] = set()
        self._dup_since: dict[int, float] = {}
        from mmfast.venue.binance import BinanceFeed

        self.binance = BinanceFeed(self)

    # ---- lifecycle -----------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self.config.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.config.host}:{self.port}/ws"

    @property
    def binance_ws_url(self) -> str:
        """Base of the Binance streams: `<base>/public/ws/<stream>`, `<base>/market/stream?...`."""
        return f"ws://{self.config.host}:{self.port}"

    def app(self) -> web.Application:
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_post("/info", self._http_info)
        app.router.add_post("/exchange", self._http_exchange)
        app.router.add_get("/ws", self._ws)
        app.router.add_get("/venue/ledger", self._http_ledger)
        app.router.add_post("/venue/chaos", self._http_chaos)
        self.binance.add_routes(app)
        return app

    async def start(self) -> str:
        """Binds, starts the block loop and the feeds; returns the base URL."""
        self._runner = web.AppRunner(self.app(), access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.config.host, self.config.port)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._t0 = time.monotonic()
        self._run_block()  # the first block lays out the market's book before anyone trades
        if self.chaos is not None:
            self._tasks.append(asyncio.create_task(self._chaos_loop()))
        self._tasks.append(asyncio.create_task(self._block_loop()))
        self._tasks.extend(self.binance.tasks())
        if self.config.replay:
            from mmfast.venue.replay import replay_task

            self._tasks.append(asyncio.create_task(replay_task(self)))
        log.info("venue listening on %s", self.url)
        return self.url

    async def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        self._tasks.clear()
        for fut in self._tickets.values():
            if not fut.done():
                fut.set_result(_err("Venue is shutting down."))
        self._tickets.clear()
        for c in list(self._clients):
            await c.close()
        self._clients.clear()
        await self.binance.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Venue:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ---- controls (tests, the paper command) ---------------------------------------------

    def pause(self) -> None:
        """Stops closing blocks: actions queue up until `resume` or `step`."""
        self._paused = True

    def resume(self) -> None:
        self._paused = False

    def step(self) -> None:
        """Closes one block now."""
        self._run_block()

    @property
    def pending(self) -> int:
        return int(self.engine.pending)

    def fund(self, address: str, usdc: float) -> None:
        self.engine.add_account(address, usdc)

    def chaos_now(self) -> float:
        """Seconds since the venue started: the clock of chaos specs."""
        return time.monotonic() - self._t0

    def hl_frozen(self) -> bool:
        return self.chaos is not None and self.chaos.hl_frozen(self.chaos_now())

    async def drop_hl_sockets(self) -> None:
        """Closes every Hyperliquid websocket from the server side (chaos)."""
        for c in list(self._clients):
            with contextlib.suppress(Exception):
                await c.ws.close()

    async def _chaos_loop(self) -> None:
        assert self.chaos is not None
        last_draw = 0.0
        while True:
            await asyncio.sleep(0.1)
            now = self.chaos_now()
            draw = now - last_draw >= 1.0
            if draw:
                last_draw = now
            for ev in self.chaos.due(now, draw_random=draw):
                self.chaos.start(ev, now)
                log.warning("chaos: %s at %.1f s (for %.1f s)", ev.kind, now, ev.duration_s)
                if ev.kind == "drop_hl_ws":
                    await self.drop_hl_sockets()
                elif ev.kind == "drop_binance_ws":
                    await self.binance.close()

    def _check_duplicates(self) -> None:
        now = time.monotonic()
        dup: set[int] = set()
        for user in self._watched:
            body = orjson.dumps({"type": "openOrders", "user": user})
            seen: set[tuple[str, str, str]] = set()
            for o in sorted(orjson.loads(self.engine.info(body)), key=lambda o: o["oid"]):
                k = (o["coin"], o["side"], o["limitPx"])
                if k in seen:
                    dup.add(o["oid"])
                    since = self._dup_since.setdefault(o["oid"], now)
                    if now - since >= DUPLICATE_S and o["oid"] not in self.duplicate_oids:
                        self.duplicate_oids.add(o["oid"])
                        log.warning("duplicate order %s of %s at %s", o["oid"], user, k)
                seen.add(k)
        for oid in set(self._dup_since) - dup:
            del self._dup_since[oid]

    def ledger(self) -> dict[str, Any]:
        """The venue's own account of every account (positions, PnL, fees, breaches)."""
        result: dict[str, Any] = orjson.loads(self.engine.ledger())
        return result

    # ---- blocks --------------------------------------------------------------------------

    async def _block_loop(self) -> None:
        loop = asyncio.get_running_loop()
        period = self.config.block_ms / 1000
        next_t = loop.time()
        while True:
            next_t = max(next_t + period, loop.time())
            await asyncio.sleep(next_t - loop.time())
            if not self._paused:
                try:
                    self._run_block()
                except Exception:  # a bad block must not kill the venue
                    log.exception("block failed")

    def _run_block(self) -> None:
        now = now_ms()
        out = orjson.loads(self.engine.end_block(now))
        self.blocks += 1
        for ticket, resp in out["responses"]:
            fut = self._tickets.pop(ticket, None)
            if fut is not None and not fut.done():
                fut.set_result(resp)
        if self._watched and (self._dup_since or self.blocks % 5 == 0 or out["orders"]):
            self._check_duplicates()
        if out["breaches"]:
            self.breaches.extend(out["breaches"])
            for b in out["breaches"]:
                log.warning("safety invariant breached: %s", b)
        if self._clients:
            self._dispatch(out, now)
            if self.chaos is not None:
                self._flush_held()

    def _l2_frame(self, coin: str, depth: int, cache: dict[tuple[str, int], str]) -> str:
        key = (coin, depth)
        if key not in cache:
            cache[key] = (
                '{"channel":"l2Book","data":' + self.engine.l2_book(coin, depth).decode() + "}"
            )
        return cache[key]

    def _bbo(self, coin: str) -> dict[str, Any]:
        book = orjson.loads(self.engine.l2_book(coin, 1))
        bids, asks = book["levels"]
        return {
            "coin": coin,
            "time": book["time"],
            "bbo": [bids[0] if bids else None, asks[0] if asks else None],
        }

    def _dispatch(self, out: dict[str, Any], now: int) -> None:
        changed = set(out["changed"])
        cache: dict[tuple[str, int], str] = {}
        bbo_now = {coin: self._bbo(coin) for coin in changed}
        send_mids = bool(changed) and now - self._mids_last >= 1000
        if send_mids:
            self._mids_last = now
        for c in self._clients:
            for s in c.subs.values():
                sub = s["sub"]
                kind = sub["type"]
                if kind == "l2Book":
                    coin = sub["coin"]
                    s["dirty"] = s["dirty"] or coin in changed
                    interval = self.config.l2_fast_ms if sub.get("fast") else self.config.l2_ms
                    if s["dirty"] and now - s["last"] >= interval:
                        s["dirty"], s["last"] = False, now
                        c.send(self._l2_frame(coin, 5 if sub.get("fast") else 20, cache))
                elif kind == "bbo":
                    b = bbo_now.get(sub["coin"])
                    if b is not None and b["bbo"] != s.get("bbo"):  # only when it changed
                        if self.chaos is not None and self.chaos.draw("one_sided"):
                            side = self.chaos.rng.randrange(2)
                            one = {**b, "bbo": [None, b["bbo"][1]] if side else [b["bbo"][0], None]}
                            s["bbo"] = one["bbo"]
                            c.send(_dumps({"channel": "bbo", "data": one}))
                            continue
                        s["bbo"] = b["bbo"]
                        c.send(_dumps({"channel": "bbo", "data": b}))
                elif kind == "trades":
                    trades = out["trades"].get(sub["coin"])
                    if trades:
                        c.send(_dumps({"channel": "trades", "data": trades}))
                elif kind == "orderUpdates":
                    upd = out["orders"].get(sub["user"])
                    if upd:
                        c.send(_dumps({"channel": "orderUpdates", "data": upd}))
                elif kind == "userFills":
                    fills = out["fills"].get(sub["user"])
                    if fills:
                        data = {"user": sub["user"], "fills": fills}
                        self._send_fills(c, _dumps({"channel": "userFills", "data": data}))
                elif kind == "userEvents":
                    fills = out["fills"].get(sub["user"])
                    if fills:
                        c.send(_dumps({"channel": "user", "data": {"fills": fills}}))
                elif kind == "allMids" and send_mids:
                    c.send(_dumps({"channel": "allMids", "data": self._all_mids(sub)}))

    def _send_fills(self, c: _Client, text: str) -> None:
        """A `userFills` frame, duplicated or held back behind the next one under chaos."""
        ch = self.chaos
        if ch is None:
            c.send(text)
            return
        if ch.draw("reorder_fills") and c.held_fills is None:
            c.held_fills = (self.chaos_now(), text)
            return
        c.send(text)
        if ch.draw("dup_fills"):
            c.send(text)
        if c.held_fills is not None:
            c.send(c.held_fills[1])
            c.held_fills = None

    def _flush_held(self) -> None:
        """A held-back fills frame goes out at the latest 0.5 s later, next frame or not."""
        now = self.chaos_now()
        for c in self._clients:
            if c.held_fills is not None and now - c.held_fills[0] > 0.5:
                c.send(c.held_fills[1])
                c.held_fills = None

    def _all_mids(self, sub: dict[str, Any]) -> dict[str, Any]:
        body = orjson.dumps({"type": "allMids", "dex": sub.get("dex", "")})
        return {"mids": orjson.loads(self.engine.info(body))}

    # ---- requests ------------------------------------------------------------------------

    def info(self, body: bytes) -> tuple[int, bytes]:
        """Answers an `/info` body: `(HTTP status, body)`."""
        try:
            return 200, self.engine.info(body)
        except VenueError as e:
            return 422, str(e).encode()

    async def handle_action(self, payload: Any, body: bytes | None = None) -> dict[str, Any]:
        """Runs one `/exchange` body (parsed, and raw when it came over HTTP) and returns its
        JSON answer once the block that ran it closes."""
        if not isinstance(payload, dict):
            return _err(BAD_BODY)
        action, nonce, sig = payload.get("action"), payload.get("nonce"), payload.get("signature")
        vault, expires = payload.get("vaultAddress"), payload.get("expiresAfter")
        if not isinstance(action, dict) or not isinstance(nonce, int) or not isinstance(sig, dict):
            return _err(BAD_BODY)
        mainnet = self.config.is_mainnet
        if action.get("type") == "approveAgent":
            try:
                master = recover_agent_approver(action, mainnet, sig)
            except Exception:
                return _err("Unable to recover signer.")
            if self.engine.user_of(master) != master:
                return _err(f"Must deposit before performing actions. User: {master}")
            self.engine.add_agent(str(action["agentAddress"]), master)
            return {"status": "ok", "response": {"type": "default"}}
        try:
            # orjson keeps the arrival key order, which is the order the action was hashed in.
            signer = recover_body(body if body is not None else orjson.dumps(payload), mainnet)
        except Exception:
            return _err("Unable to recover signer.")
        if self.chaos is not None:
            refused = self._chaos_refusal(action)
            if refused is not None:
                return refused
        try:
            ticket = self.engine.submit(
                signer, orjson.dumps(action), nonce, vault, expires, now_ms()
            )
        except VenueError as e:
            return _err(str(e))
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._tickets[ticket] = fut
        return await fut

    def _chaos_refusal(self, action: dict[str, Any]) -> dict[str, Any] | None:
        """An exchange-shaped refusal chaos decided on, or None."""
        ch = self.chaos
        assert ch is not None
        if ch.rate_limited(self.chaos_now()):
            return _err(RATE_LIMIT_ERROR)
        # Orders and modifies alike: a modify's new order meets the same per-order checks, and
        # the bot requotes mostly by modify, so a run draws rejections whatever its mix.
        kind = action.get("type")
        if kind == "order":
            orders = action.get("orders")
        elif kind == "batchModify":
            mods = action.get("modifies")
            ok = isinstance(mods, list)
            orders = [m.get("order") for m in mods if isinstance(m, dict)] if ok else None
        else:
            orders = None
        if isinstance(orders, list) and orders and ch.draw("reject"):
            statuses = [{"error": ch.rejection(o.get("a") if isinstance(o, dict) else 0)}
                        for o in orders]  # fmt: skip
            return {"status": "ok", "response": {"type": "order", "data": {"statuses": statuses}}}
        return None

    @staticmethod
    def _batch_len(payload: Any) -> int:
        if not isinstance(payload, dict) or not isinstance(payload.get("action"), dict):
            return 1
        a = payload["action"]
        for k in ("orders", "cancels", "modifies"):
            if isinstance(a.get(k), list):
                return len(a[k])
        return 1

    def _limited(self, request: web.Request, weight: int) -> bool:
        return not self.engine.charge_ip(request.remote or "?", weight, now_ms())

    async def _http_info(self, request: web.Request) -> web.Response:
        body = await request.read()
        try:
            kind = orjson.loads(body).get("type", "")
        except (orjson.JSONDecodeError, AttributeError):
            return web.Response(status=422, text=BAD_BODY)
        if self._limited(request, self.engine.info_weight(str(kind))):
            return web.Response(status=429, text="null", content_type="application/json")
        status, out = self.info(body)
        if status != 200:
            return web.Response(status=status, text=out.decode())
        return web.Response(body=out, content_type="application/json")

    async def _http_exchange(self, request: web.Request) -> web.Response:
        body = await request.read()
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            return web.Response(status=422, text=BAD_BODY)
        if self._limited(request, self.engine.exchange_weight(self._batch_len(payload))):
            return web.Response(status=429, text="null", content_type="application/json")
        resp = await self.handle_action(payload, body)
        return web.Response(body=orjson.dumps(resp), content_type="application/json")

    async def inject(self, kind: str, duration_s: float = 5.0) -> None:
        """Injects one timed fault now (`drop_hl_ws`, `freeze_hl_ws`, `drop_binance_ws`,
        `freeze_binance_ws`, `rate_limit`): the Python API of tests, also `POST /venue/chaos`
        `{"kind": ..., "duration_s": ...}` for a venue in another process."""
        from mmfast.venue.chaos import TIMED, Event

        if kind not in TIMED:
            raise VenueError(f"kind = {kind!r}: expected one of {TIMED}")
        if self.chaos is None:
            self.chaos = Chaos("")
        now = self.chaos_now()
        self.chaos.start(Event(kind, now, duration_s), now)
        log.warning("chaos: %s now (%.1f s) for %.1f s", kind, now, duration_s)
        if kind == "drop_hl_ws":
            await self.drop_hl_sockets()
        elif kind == "drop_binance_ws":
            await self.binance.close()

    async def _http_chaos(self, request: web.Request) -> web.Response:
        try:
            req = orjson.loads(await request.read())
            await self.inject(str(req["kind"]), float(req.get("duration_s", 5.0)))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, VenueError) as e:
            return web.Response(status=422, text=str(e))
        return web.Response(body=b'{"status":"ok"}', content_type="application/json")

    async def _http_ledger(self, request: web.Request) -> web.Response:
        body = {
            "ledger": self.ledger(),
            "breaches": self.breaches,
            "blocks": self.blocks,
            "faults": dict(self.chaos.counts) if self.chaos is not None else {},
            "duplicate_orders": len(self.duplicate_oids),
        }
        return web.Response(body=orjson.dumps(body), content_type="application/json")

    # ---- websocket -----------------------------------------------------------------------

    async def _ws(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=4 * 1024 * 1024)
        await ws.prepare(request)
        client = _Client(ws, self.hl_frozen)
        self._clients.add(client)
        client.send(GREETING)
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                try:
                    data = orjson.loads(msg.data)
                    method = data.get("method")
                except (orjson.JSONDecodeError, AttributeError):
                    client.send(
                        _dumps({"channel": "error", "data": f"Invalid request: {msg.data}"})
                    )
                    continue
                if method == "ping":
                    client.send('{"channel":"pong"}')
                elif method in ("subscribe", "unsubscribe"):
                    self._subscription(client, method, data.get("subscription"))
                elif method == "post":
                    task = asyncio.create_task(self._post(client, data))
                    client.posts.add(task)
                    task.add_done_callback(client.posts.discard)
                else:
                    client.send(_dumps({"channel": "error", "data": f"Invalid method: {method}"}))
        finally:
            self._clients.discard(client)
            await client.close()
        return ws

    def _valid(self, sub: Any) -> bool:
        if not isinstance(sub, dict):
            return False
        kind = sub.get("type")
        if kind in COIN_SUBS:
            return sub.get("coin") in self.coins
        if kind in USER_SUBS:
            return isinstance(sub.get("user"), str)
        return kind == "allMids"

    def _subscription(self, client: _Client, method: str, sub: Any) -> None:
        text = _dumps(sub)
        if not self._valid(sub):
            client.send(_dumps({"channel": "error", "data": f"Invalid subscription {text}"}))
            return
        if sub["type"] in USER_SUBS:
            sub = {**sub, "user": sub["user"].lower()}
        key = orjson.dumps(sub, option=orjson.OPT_SORT_KEYS)
        ack = {"channel": "subscriptionResponse", "data": {"method": method, "subscription": sub}}
        if method == "unsubscribe":
            if client.subs.pop(key, None) is None:
                client.send(_dumps({"channel": "error", "data": f"Already unsubscribed: {text}"}))
            else:
                client.send(_dumps(ack))
            return
        if key in client.subs:
            client.send(_dumps({"channel": "error", "data": f"Already subscribed: {text}"}))
            return
        client.subs[key] = {"sub": sub, "dirty": False, "last": now_ms()}
        client.send(_dumps(ack))
        kind = sub["type"]
        if kind == "l2Book":
            client.send(self._l2_frame(sub["coin"], 5 if sub.get("fast") else 20, {}))
        elif kind == "bbo":
            b = self._bbo(sub["coin"])
            client.subs[key]["bbo"] = b["bbo"]
            client.send(_dumps({"channel": "bbo", "data": b}))
        elif kind == "userFills":
            fills = orjson.loads(self.engine.info(orjson.dumps({"type": "userFills", **sub})))
            data = {"isSnapshot": True, "user": sub["user"], "fills": fills}
            client.send(_dumps({"channel": "userFills", "data": data}))
        elif kind == "allMids":
            client.send(_dumps({"channel": "allMids", "data": self._all_mids(sub)}))

    async def _post(self, client: _Client, data: dict[str, Any]) -> None:
        pid = data.get("id")
        req = data.get("request") or {}
        kind, payload = req.get("type"), req.get("payload")
        if kind == "info":
            status, body = self.info(orjson.dumps(payload))
            if status == 200:
                info_type = payload.get("type") if isinstance(payload, dict) else None
                response: dict[str, Any] = {
                    "type": "info",
                    "payload": {"type": info_type, "data": orjson.loads(body)},
                }
            else:
                response = {"type": "error", "payload": body.decode()}
        elif kind == "action":
            response = {"type": "action", "payload": await self.handle_action(payload)}
            if self.chaos is not None:
                if self.chaos.draw("ack_loss"):
                    return  # the action ran; its answer is lost
                if self.chaos.draw("ack_delay"):
                    await asyncio.sleep(self.chaos.ack_delay_s())
        else:
            response = {"type": "error", "payload": f"Invalid post request type: {kind}"}
        client.send(_dumps({"channel": "post", "data": {"id": pid, "response": response}}))


class VenueThread:
    """A venue on its own event loop in a daemon thread, for synchronous callers (tests driving
    the official SDK, scripts). `with VenueThread(cfg) as v: Info(v.url, ...)`."""

    def __init__(self, config: VenueConfig | None = None) -> None:
        self.venue = Venue(config)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    def start(self, timeout: float = 10.0) -> str:
        self._thread = threading.Thread(target=self._run, name="mmfast-venue", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise VenueError("venue did not start in time")
        if self._error is not None:
            raise VenueError(f"venue failed to start: {self._error}") from self._error
        return self.venue.url

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self.venue.start())
        except BaseException as e:
            self._error = e
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(self.venue.stop())
            loop.close()

    def call(self, fn: Callable[[], T], timeout: float = 10.0) -> T:
        """Runs `fn()` on the venue's loop (the engine is not shared across threads)."""
        assert self._loop is not None

        async def run() -> T:
            return fn()

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        if self._loop is not None and self._thread is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout)

    def __enter__(self) -> VenueThread:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return self.venue.url

    def pause(self) -> None:
        self.call(self.venue.pause)

    def resume(self) -> None:
        self.call(self.venue.resume)

    def step(self) -> None:
        self.call(self.venue.step)

    @property
    def pending(self) -> int:
        return self.call(lambda: self.venue.pending)

    def wait_pending(self, n: int, timeout: float = 10.0) -> None:
        """Blocks until at least `n` actions wait for the next block."""
        deadline = time.monotonic() + timeout
        while self.pending < n:
            if time.monotonic() > deadline:
                raise VenueError(f"only {self.pending} of {n} actions arrived")
            time.sleep(0.005)

    def ledger(self) -> dict[str, Any]:
        return self.call(self.venue.ledger)

    def fund(self, address: str, usdc: float) -> None:
        self.call(lambda: self.venue.fund(address, usdc))
