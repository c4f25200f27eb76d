"""The live bot (SPEC 8-10): feeds -> engine -> guard -> signer -> gateway, on uvloop.

Sockets, all to Hyperliquid unless said: market data (`bbo`, `l2Book` fast, `trades`), user data
(`orderUpdates`, `userFills`, `userEvents`, for the account), orders (`post`), and Binance
`/public` (bookTicker) and `/market` (aggTrade). Every frame reaches the engine as bytes with
its local monotonic receive time in ms; a cycle runs after a book, bbo or fill frame (deferred
with `call_soon` so that frames read together are all applied first), at most once per
`impulse_control.min_requote_interval_ms` and at least every `max_cycle_interval_ms`.

The exchange is the truth: before the first quote and after every Hyperliquid reconnect the bot
reads meta, clearinghouseState, openOrders, userFees and userRateLimit (for the account), adopts
the position, cancels orders it does not own (a previous run's, so nothing is orphaned or
doubled), and only then lets the engine quote. The same reading runs every
`live.reconcile_interval_s`. On exit (duration, SIGINT/SIGTERM, a fatal error) it cancels
everything and checks with `openOrders` that nothing is left.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
import urllib.request
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson
from mmfast.errors import MmfastError, VenueError
from mmfast.feeds import binance as bn
from mmfast.feeds import hyperliquid as hl
from mmfast.feeds.ws import Backoff, WsConnection, hl_heartbeat, mono_ms
from mmfast.gateway.guard import GuardLimits, PreSendGuard
from mmfast.gateway.ledger import OrderLedger
from mmfast.gateway.limits import AddressBudget, WeightBucket
from mmfast.gateway.orders import OrderGateway, Sent
from mmfast.gateway.responses import ActionResult, ErrorKind
from mmfast.gateway.rest import RestClient
from mmfast.keys import Identity
from mmfast.live.pnl import PnL
from mmfast.truth import ExchangeState, check_clock_skew, read_exchange
from mmfast.watchdog import Watchdog

log = logging.getLogger(__name__)

BOT_TAG = "bot"  # actions the bot itself sends (cancel-all, leverage, heartbeat), not the engine's


@dataclass
class Endpoints:
    api: str
    ws: str
    binance: str | None


def endpoints(config: Any) -> Endpoints:
    live = config.live
    api = hl.api_url(str(config.network), live.api_url)
    lead = str(config.lead_venue).lower()
    return Endpoints(
        api, hl.ws_url(api, live.ws_url), None if lead.endswith("none") else live.binance_ws_url
    )


@dataclass
class Stats:
    cycles: int = 0
    cycle_ns: list[int] = field(default_factory=list)
    #: Book frame received to the first resulting order written to the socket, inside the bot.
    tick_to_send_ns: deque[int] = field(default_factory=lambda: deque(maxlen=100_000))
    errors: int = 0
    guard_refusals: int = 0
    started_ms: int = 0
    resyncs: int = 0
    orphans_cancelled: int = 0


class Bot:
    """One market maker on one asset. `await bot.run(duration_s)` returns the summary dict."""

    def __init__(
        self,
        config: Any,
        identity: Identity,
        *,
        engine_factory: Callable[..., Any] | None = None,
        on_progress: Callable[[Bot], None] | None = None,
        progress_every_s: float = 1.0,
    ) -> None:
        self.cfg = config
        self.live = config.live
        self.identity = identity
        self.signer = identity.signer
        self.account = identity.account
        self.coin = str(config.asset)
        self.ep = endpoints(config)
        self.rest = RestClient(self.ep.api, WeightBucket(self.live.ip_weight_per_minute))
        self.budget = AddressBudget()
        self._engine_factory = engine_factory
        self.engine: Any = None
        self.ledger: OrderLedger | None = None
        self.guard: PreSendGuard | None = None
        self.gateway: OrderGateway | None = None
        self.watchdog: Watchdog | None = None
        self.state: ExchangeState | None = None
        self.pnl = PnL()
        self.stats = Stats()
        self.mid: float | None = None
        self.last_out: Any = None
        self.last_hl_ms = 0
        self.synced = False
        self.on_progress = on_progress
        self.progress_every_s = progress_every_s
        self.conns: dict[str, WsConnection] = {}
        self._stop = asyncio.Event()
        self._stop_reason = ""
        self._tasks: list[asyncio.Task[Any]] = []
        self._cycle_scheduled = False
        self._last_cycle_ms = 0
        self._tick_ns: int | None = None
        self.checkpoint: Any = None
        self.metrics: Any = None
        self._fills_to_store: list[dict[str, Any]] = []
        self._resync_task: asyncio.Task[None] | None = None
        self._schedule_cancel_ok = bool(self.live.schedule_cancel)
        self._min_interval_ms = int(config.impulse_control.min_requote_interval_ms)
        self._max_interval_ms = int(config.impulse_control.max_cycle_interval_ms)

    # ================= lifecycle =================

    def stop(self, reason: str = "stop requested") -> None:
        if not self._stop.is_set():
            self._stop_reason = reason
            log.info("stopping: %s", reason)
            self._stop.set()

    async def run(self, duration_s: float | None = None, install_signals: bool = True) -> dict:
        loop = asyncio.get_running_loop()
        if install_signals:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, self.stop, f"signal {sig.name}")
        self.stats.started_ms = mono_ms()
        try:
            await self._preflight()
            self._start_sockets()
            self._spawn(self._periodic())
            self._spawn(self.watchdog.run())  # type: ignore[union-attr]
            if self.live.schedule_cancel:
                self._spawn(self._dead_man_switch())
            await self._wait_synced()
            if duration_s is not None:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), duration_s)
                self.stop(f"duration {duration_s:g} s reached")
            else:
                await self._stop.wait()
        except (MmfastError, OSError, asyncio.TimeoutError) as e:
            self.stats.errors += 1
            log.error("fatal: %s", e)
            self._stop_reason = f"fatal: {e}"
        except Exception as e:
            self.stats.errors += 1
            log.exception("fatal error")
            self._stop_reason = f"fatal: {type(e).__name__}: {e}"
        finally:
            if install_signals:
                for sig in (signal.SIGINT, signal.SIGTERM):
                    loop.remove_signal_handler(sig)
            await self._shutdown()
        return self.summary()

    async def _wait_synced(self) -> None:
        deadline = time.monotonic() + 30
        while not self.synced and not self._stop.is_set():
            if time.monotonic() > deadline:
                raise VenueError("could not synchronise with the exchange within 30 s")
            await asyncio.sleep(0.01)

    def _spawn(self, coro: Any) -> None:
        t = asyncio.ensure_future(coro)
        t.add_done_callback(self._task_done)
        self._tasks.append(t)

    def _task_done(self, t: asyncio.Task[Any]) -> None:
        if t.cancelled():
            return
        e = t.exception()
        if e is not None:
            self.stats.errors += 1
            log.error("task failed: %r", e, exc_info=e)
            self.stop(f"fatal: {type(e).__name__}: {e}")

    # ================= start: the exchange's truth =================

    async def _preflight(self) -> None:
        if self.live.metrics_port:
            from mmfast.live.metrics import Metrics

            self.metrics = Metrics(int(self.live.metrics_port))
        st = await read_exchange(self.rest, self.account, self.coin)
        skew = check_clock_skew(st, self.live.max_clock_skew_ms)
        log.info(
            "account %s%s: %s asset %d, szDecimals %d, position %g, account value %.2f, "
            "maker fee %.2f bps, clock skew %s ms",
            self.account,
            " (agent key)" if self.identity.is_agent else "",
            self.coin,
            st.meta.asset,
            st.meta.sz_decimals,
            st.position,
            st.account_value,
            st.maker_fee_bps,
            "unknown" if skew is None else f"{skew:+.0f}",
        )
        self.state = st
        self.budget.update(st.rate_limit)
        mark = await self._mark_px()
        self.mid = mark
        max_position = self._max_position(st, mark)
        self.engine = self._make_engine(st, mark, max_position)
        self._engine_account(st)
        self.ledger = OrderLedger(st.meta.asset, self.coin)
        self.ledger.reset_from_exchange(st.position, st.open_orders)
        if self.live.checkpoint:
            self._open_checkpoint(st)
        self.pnl.position = st.position
        self.pnl.avg_px = st.entry_px or 0.0
        self.guard = PreSendGuard(
            GuardLimits(
                asset=st.meta.asset,
                max_position=max_position,
                single_order_cap=self._single_order_cap(max_position, mark),
                price_band_bps=float(self.cfg.risk.price_band_bps),
            ),
            self.ledger,
        )
        self.guard.mid = mark
        self.gateway = OrderGateway(
            rest=self.rest,
            ledger=self.ledger,
            guard=self.guard,
            budget=self.budget,
            on_answer=self._on_answer,
            account=self.account,
            max_inflight=int(self.live.max_inflight_posts),
            post_timeout_ms=int(self.live.post_timeout_ms),
            sign_noop=lambda nonce: self.signer.sign_noop(nonce=nonce),
        )
        self.gateway.on_error_kind[ErrorKind.SCHEDULE_CANCEL_VOLUME] = self._on_schedule_refused
        self.gateway.on_error_kind[ErrorKind.UNKNOWN_SIGNER] = self._on_fatal_answer
        self.gateway.on_error_kind[ErrorKind.MUST_DEPOSIT] = self._on_fatal_answer
        self.watchdog = Watchdog(
            stale_ms=int(self.cfg.risk.hl_stale_ms),
            stall_ms=int(self.live.loop_stall_ms),
            last_hl_ms=lambda: self.last_hl_ms,
            cancel_all=self.cancel_all,
            emergency_cancel=self._emergency_cancel,
        )
        self.last_hl_ms = mono_ms()  # staleness counts from now, not from the epoch
        if st.leverage != int(self.cfg.leverage):
            r = await self._call(
                self.signer.sign_update_leverage(st.meta.asset, True, int(self.cfg.leverage))
            )
            if not r.ok:
                # Not fatal: margin capacity is read back from the exchange at every
                # reconciliation, so the engine sizes against the leverage actually in force.
                log.warning("updateLeverage to %dx refused: %s", self.cfg.leverage, r.error)
        await self._cancel_foreign_orders(st.open_orders)

    async def _mark_px(self) -> float:
        meta, ctxs = await self.rest.info("metaAndAssetCtxs")
        for u, c in zip(meta.get("universe", ()), ctxs, strict=False):
            if u.get("name") == self.coin:
                for k in ("midPx", "markPx", "oraclePx"):
                    if c.get(k) is not None:
                        return float(c[k])
        raise VenueError(f"asset = {self.coin!r}: no mark price in metaAndAssetCtxs")

    def _max_position(self, st: ExchangeState, mark: float) -> float:
        """The configured hard max in coin at this mark (SPEC 2), the guard's ceiling."""
        from mmfast import ExchangeContext, auto_derive

        sz_dec = st.meta.sz_decimals
        if self.cfg.max_position_usd is not None:
            return float(np.floor(self.cfg.max_position_usd / mark * 10**sz_dec) / 10**sz_dec)
        if self.cfg.max_position is not None:
            return float(self.cfg.max_position)
        ctx = ExchangeContext(
            mark_px=mark,
            available_margin=st.available_margin,
            max_leverage=float(st.meta.max_leverage),
            account_value=st.account_value,
            fee_bps=st.maker_fee_bps,
            sz_decimals=sz_dec,
        )
        return float(
            auto_derive(float(self.cfg.capital_usd), str(self.cfg.spread_profile), ctx).max_position
        )

    def _single_order_cap(self, max_position: float, mark: float) -> float:
        f = self.cfg.ladder.single_order_fraction
        largest = max(f.quiet, f.normal, f.volatile, f.extreme)
        return max(largest * max_position, 10.0 * 1.15 / mark)

    async def _cancel_foreign_orders(self, orders: list[dict[str, Any]]) -> None:
        """Cancels resting orders this process did not place: at start every open order of our
        coin (an earlier run's; the engine's cloids are new each process), later the ones the
        ledger cannot account for. Adopting them instead would mean trusting sizes and prices
        chosen under another state; cancelling is what leaves neither orphan nor duplicate."""
        assert self.state is not None
        oids = [o["oid"] for o in orders if o.get("coin") == self.coin]
        if oids:
            log.warning("cancelling %d order(s) the bot does not own: %s", len(oids), oids)
            self.stats.orphans_cancelled += len(oids)
            asset = self.state.meta.asset
            await self._call(self.signer.sign_cancel([(asset, o) for o in oids]))

    async def _call(self, body: bytes, via_rest: bool = False) -> ActionResult:
        """Sends one of the bot's own actions and waits for its answer."""
        assert self.gateway is not None
        fut: asyncio.Future[ActionResult] = asyncio.get_running_loop().create_future()
        self.gateway.submit(body, tag=(BOT_TAG, fut), via_rest=via_rest)
        return await asyncio.wait_for(fut, self.live.post_timeout_ms / 1000 * 3 + 5)

    # ================= the engine =================

    def _open_checkpoint(self, st: ExchangeState) -> None:
        """Fills already stored are not counted again; the day's opening equity is kept."""
        from mmfast.store import Checkpoint

        self.checkpoint = Checkpoint(self.live.checkpoint)
        for tid in self.checkpoint.recent_tids():
            self.ledger.on_fill_seen({"tid": tid})  # type: ignore[union-attr]
        start = self.checkpoint.day_start_equity(st.account_value)
        log.info(
            "checkpoint %s: day opened at equity %.2f, now %.2f",
            self.live.checkpoint,
            start,
            st.account_value,
        )

    def _flush_checkpoint(self, final: bool = False) -> None:
        cp = self.checkpoint
        if cp is None:
            return
        if self._fills_to_store:
            cp.add_fills(self._fills_to_store)
            self._fills_to_store = []
        if final and self.engine is not None and hasattr(self.engine, "save_state"):
            cp.save_state(bytes(self.engine.save_state()))

    def _make_engine(self, st: ExchangeState, mark: float, max_position: float) -> Any:
        if self._engine_factory is not None:
            return self._engine_factory(self.cfg, st, mark)
        from mmfast._core import QuoteEngine  # type: ignore[attr-defined]

        # The engine quotes against the same hard max the guard enforces.
        cfg = self.cfg
        if cfg.max_position_usd is None and cfg.max_position != max_position:
            cfg = _with_overrides(cfg, [("max_position", repr(max_position))])
        saved = None
        if self.live.checkpoint:
            from mmfast.store import Checkpoint

            cp = Checkpoint(self.live.checkpoint)
            saved = cp.load_state()
            cp.close()
        eng = None
        if saved is not None:
            try:
                eng = QuoteEngine.load_state(cfg, saved)
                log.info("warm start: learned state restored from %s", self.live.checkpoint)
            except MmfastError as e:
                log.warning(
                    "learned state in %s not usable (%s): cold start", self.live.checkpoint, e
                )
        if eng is None:
            eng = QuoteEngine(cfg)
        eng.set_runtime(st.meta.asset, st.meta.sz_decimals)
        return eng

    def _engine_account(self, st: ExchangeState) -> None:
        if self.engine is None:
            return
        self.engine.set_account(
            position=st.position,
            available_margin=st.available_margin,
            account_value=st.account_value,
            leverage=float(st.leverage or self.cfg.leverage),
        )
        self._engine_quota()

    def _engine_quota(self) -> None:
        """The address budget, as the gateway counts it, for the engine's requote planner."""
        if self.engine is not None and hasattr(self.engine, "set_quota"):
            self.engine.set_quota(max(0, self.budget.used), max(0, self.budget.cap))

    def _want_cycle(self) -> None:
        if not self._cycle_scheduled:
            self._cycle_scheduled = True
            now = mono_ms()
            wait = self._last_cycle_ms + self._min_interval_ms - now
            loop = asyncio.get_running_loop()
            if wait <= 0:
                loop.call_soon(self._cycle)
            else:
                loop.call_later(wait / 1000, self._cycle)

    def _cycle(self) -> None:
        self._cycle_scheduled = False
        if not self.synced or self._stop.is_set() or self.engine is None:
            self._tick_ns = None
            return
        now = mono_ms()
        self._last_cycle_ms = now
        t0 = time.perf_counter_ns()
        out = self.engine.cycle(now)
        self.stats.cycle_ns.append(time.perf_counter_ns() - t0)
        self.stats.cycles += 1
        self.last_out = out
        if out.actions:
            self._send_actions(out)
            if self._tick_ns is not None:
                self.stats.tick_to_send_ns.append(time.perf_counter_ns() - self._tick_ns)
        self._tick_ns = None

    def _send_actions(self, out: Any) -> None:
        """Signs the cycle's actions, one exchange action per engine batch (cancels, modifies and
        ALO placements apart, PROTOCOL 3.4), each with `expiresAfter`, and hands them to the
        gateway tagged with the batch id the engine wants its answer under."""
        assert self.gateway is not None and self.state is not None
        asset = self.state.meta.asset
        expires = int(time.time() * 1000) + int(self.live.expires_after_ms)
        sign = self.signer
        for kind, batch, acts in _batches(out.actions):
            if kind == "cancel":
                if all(a.oid is not None for a in acts):
                    body = sign.sign_cancel(
                        [(asset, int(a.oid)) for a in acts], expires_after=expires
                    )
                else:
                    body = sign.sign_cancel_by_cloid(
                        [(asset, a.cloid) for a in acts], expires_after=expires
                    )
            elif kind == "modify":
                body = sign.sign_batch_modify(
                    [
                        (a.oid if a.oid is not None else a.target_cloid, _order_tuple(asset, a))
                        for a in acts
                    ],
                    expires_after=expires,
                )
            else:
                body = sign.sign_orders(
                    [_order_tuple(asset, a) for a in acts], expires_after=expires
                )
            self.gateway.submit(body, tag=batch)

    def _on_answer(self, sent: Sent, answer: bytes, result: ActionResult, recv_ms: int) -> None:
        if isinstance(sent.tag, tuple) and sent.tag and sent.tag[0] == BOT_TAG:
            fut = sent.tag[1]
            if not fut.done():
                fut.set_result(result)
            return
        refused = any(st.error_kind is ErrorKind.LOCAL for st in result.statuses) or (
            result.error_kind is ErrorKind.LOCAL
        )
        if refused and (self.watchdog is None or self.watchdog.halted is None):
            self.stats.guard_refusals += 1
        if self.engine is not None:
            try:
                self.engine.on_exchange_response(answer, recv_ms, sent.tag)
            except MmfastError as e:
                self.stats.errors += 1
                log.error("engine refused the answer to %s #%d: %s", sent.kind, sent.id, e)
        self._want_cycle()

    # ================= frames =================

    def _on_market(self, frame: bytes, recv_ms: int) -> None:
        self.last_hl_ms = recv_ms
        if frame.startswith(b'{"channel":"bbo"'):
            bbo = orjson.loads(frame)["data"]["bbo"]
            if bbo[0] is not None and bbo[1] is not None:
                self.mid = (float(bbo[0]["px"]) + float(bbo[1]["px"])) / 2
                if self.guard is not None:
                    self.guard.mid = self.mid
        if self.engine is not None:
            self.engine.on_hl_frame(frame, recv_ms)
        if frame.startswith((b'{"channel":"bbo"', b'{"channel":"l2Book"')):
            if self._tick_ns is None:
                self._tick_ns = time.perf_counter_ns()
            self._want_cycle()

    def _on_binance(self, frame: bytes, recv_ms: int) -> None:
        if self.engine is not None:
            self.engine.on_binance_frame(frame, recv_ms)

    def _on_user(self, frame: bytes, recv_ms: int) -> None:
        msg = orjson.loads(frame)
        ch = msg.get("channel")
        data = msg.get("data")
        forward: bytes | None = frame
        fills = False
        if ch == "orderUpdates":
            for u in data or ():
                self.ledger.on_order_update(u)  # type: ignore[union-attr]
        elif ch == "userFills":
            if data.get("isSnapshot"):
                # History already in the position read from clearinghouseState: mark it seen.
                for f in data.get("fills", ()):
                    self.ledger.on_fill_seen(f)  # type: ignore[union-attr]
            else:
                fresh = self._take_fills(data.get("fills", ()))
                fills = bool(fresh)
                forward = (
                    None
                    if not fresh
                    else frame
                    if len(fresh) == len(data["fills"])
                    else orjson.dumps({"channel": ch, "data": {**data, "fills": fresh}})
                )
        elif ch == "user":
            if "fills" in data:
                fresh = self._take_fills(data["fills"])
                fills = bool(fresh)
                forward = (
                    None
                    if not fresh
                    else frame
                    if len(fresh) == len(data["fills"])
                    else orjson.dumps({"channel": ch, "data": {"fills": fresh}})
                )
            elif "funding" in data:
                fu = data["funding"]
                if fu.get("coin") == self.coin:
                    self.pnl.funding += float(fu.get("usdc", 0.0))
                    if self.checkpoint is not None:
                        self.checkpoint.add_funding(float(fu.get("usdc", 0.0)))
            elif "nonUserCancel" in data:
                for c in data["nonUserCancel"]:
                    o = self.ledger.find(c.get("oid")) if c.get("coin") == self.coin else None  # type: ignore[union-attr]
                    if o is not None:
                        self.ledger.remove(o)  # type: ignore[union-attr]
        if forward is not None and self.engine is not None:
            self.engine.on_user_frame(forward, recv_ms)
        if fills:
            self._want_cycle()

    def _take_fills(self, fills: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The fills not seen before (by tid), applied to the ledger, PnL and quota."""
        fresh = []
        for f in fills:
            if self.ledger.on_fill(f):  # type: ignore[union-attr]
                fresh.append(f)
                sz, px = float(f["sz"]), float(f["px"])
                self.pnl.on_fill(f.get("side") == "B", px, sz, float(f.get("fee", 0.0)))
                self.budget.on_fill_volume(sz * px)
                if self.checkpoint is not None:
                    self._fills_to_store.append(f)
        return fresh

    # ================= sockets =================

    def _start_sockets(self) -> None:
        live = self.live
        backoff = lambda: Backoff(live.reconnect_min_s, live.reconnect_max_s)  # noqa: E731
        hb = hl_heartbeat(live.ping_interval_s, live.pong_timeout_s)
        # A pong is proof of life for market data too (SPEC 8 step 2): when the book is quiet,
        # ping the market socket often enough that it is not mistaken for a dead feed. A busy
        # book needs no pings; a socket that stops answering goes stale and is replaced.
        market_hb = hl_heartbeat(
            live.ping_interval_s, live.pong_timeout_s, idle_s=self.cfg.risk.hl_stale_ms / 3000
        )
        gw = self.gateway
        assert gw is not None
        self.conns["orders"] = WsConnection(
            "orders",
            self.ep.ws,
            gw.on_frame,
            heartbeat=hb,
            backoff=backoff(),
            on_up=self._on_hl_up,
            on_down=lambda c: gw.on_socket_down(),
        )
        gw.ws = self.conns["orders"]
        self.conns["user"] = WsConnection(
            "user",
            self.ep.ws,
            self._on_user,
            subscriptions=hl.user_subscriptions(self.account),
            heartbeat=hb,
            backoff=backoff(),
            on_up=self._on_hl_up,
        )
        self.conns["market"] = WsConnection(
            "market",
            self.ep.ws,
            self._on_market,
            subscriptions=hl.market_subscriptions(self.coin),
            heartbeat=market_hb,
            backoff=backoff(),
            on_up=self._on_hl_up,
        )
        if self.ep.binance is not None:
            urls = bn.stream_urls(
                self.ep.binance, str(self.cfg.lead.symbol), bool(live.binance_depth)
            )
            for name, url in urls.items():
                self.conns[f"binance-{name}"] = WsConnection(
                    f"binance-{name}",
                    url,
                    self._on_binance,
                    protocol_ping_s=30.0,
                    backoff=backoff(),
                )
        for c in self.conns.values():
            self._spawn(c.run())

    def _on_hl_up(self, conn: WsConnection) -> None:
        """Every Hyperliquid (re)connect: read the exchange and reconcile before quoting again.
        The first connects are the start's, already reconciled by the preflight."""
        if conn.connects > 1:
            self.synced = False
            self.stats.resyncs += 1
            if self._resync_task is None or self._resync_task.done():
                self._resync_task = asyncio.ensure_future(self._resync(f"{conn.name} reconnected"))
        elif all(c.connects >= 1 for n, c in self.conns.items() if not n.startswith("binance")):
            self.synced = True
            self._want_cycle()

    async def _resync(self, why: str) -> None:
        log.info("resynchronising with the exchange: %s", why)
        await asyncio.sleep(0.2)  # let the new sockets' snapshots arrive first
        try:
            await self._reconcile(adopt_position=True)
        except Exception as e:
            self.stats.errors += 1
            log.error("resync failed (%s); retrying", e)
            await asyncio.sleep(1.0)
            self._resync_task = asyncio.ensure_future(self._resync("retry"))
            return
        self.synced = True
        self._want_cycle()

    # ================= periodic work =================

    async def _periodic(self) -> None:
        last_reconcile = last_progress = time.monotonic()
        while True:
            await asyncio.sleep(0.25)
            now = time.monotonic()
            assert self.gateway is not None
            await self.gateway.sweep()
            self._engine_quota()
            self._flush_checkpoint()
            if mono_ms() - self._last_cycle_ms >= self._max_interval_ms:
                self._want_cycle()
            if now - last_reconcile >= self.live.reconcile_interval_s and self.synced:
                last_reconcile = now
                try:
                    await self._reconcile(adopt_position=False)
                except (MmfastError, OSError, asyncio.TimeoutError) as e:
                    log.warning("periodic reconciliation failed: %s", e)
            if now - last_progress >= self.progress_every_s:
                last_progress = now
                if self.metrics is not None:
                    self.metrics.update(self)
                if self.on_progress is not None:
                    self.on_progress(self)

    async def _reconcile(self, adopt_position: bool) -> None:
        """Compares orders and position with the exchange and repairs the difference."""
        assert self.ledger is not None
        asked_ms = mono_ms()
        st = await read_exchange(self.rest, self.account, self.coin)
        self.state = st
        self.budget.update(st.rate_limit)
        lg = self.ledger
        exch_oids = {o["oid"] for o in st.open_orders}
        # Orders we count as resting that the exchange no longer has: gone (the order stream
        # was lost with the socket). The engine learns it from the same update format.
        gone = [
            o
            for o in lg.orders
            if o.state != "inflight"
            and o.oid is not None
            and o.oid not in exch_oids
            and o.since_ms < asked_ms  # not acknowledged after the snapshot was taken
        ]
        if gone:
            log.info(
                "%d order(s) gone while we were not looking: %s", len(gone), [o.oid for o in gone]
            )
            frame = orjson.dumps(
                {
                    "channel": "orderUpdates",
                    "data": [
                        {
                            "order": {
                                "coin": self.coin,
                                "side": "B" if o.is_buy else "A",
                                "limitPx": str(o.px),
                                "sz": "0.0",
                                "oid": o.oid,
                                "timestamp": int(time.time() * 1000),
                                "origSz": str(o.sz),
                                **({"cloid": o.cloid} if o.cloid else {}),
                            },
                            "status": "canceled",
                            "statusTimestamp": int(time.time() * 1000),
                        }
                        for o in gone
                    ],
                }
            )
            for o in gone:
                lg.remove(o)
            if self.engine is not None:
                self.engine.on_user_frame(frame, mono_ms())
        known = {o.oid for o in lg.orders if o.oid is not None}
        inflight_cloids = {o.cloid for o in lg.orders if o.state == "inflight" and o.cloid}
        foreign = [
            o
            for o in st.open_orders
            if o["oid"] not in known and o.get("cloid") not in inflight_cloids
        ]
        if foreign:
            await self._cancel_foreign_orders(foreign)
        drift = st.position - lg.position
        if abs(drift) > 0.5 * 10**-st.meta.sz_decimals:
            if adopt_position or getattr(self, "_drift_seen", None) == st.position:
                log.warning(
                    "position %g per the exchange, %g per our fills: adopting the exchange's",
                    st.position,
                    lg.position,
                )
                lg.position = st.position
                self.pnl.position = st.position
            else:
                self._drift_seen = st.position  # confirm on the next reading: fills in transit
        else:
            self._drift_seen = None
        self._engine_account(st)

    # ================= cancelling =================

    async def cancel_all(self, reason: str) -> None:
        """Cancels every resting order we know of (the watchdog's and shutdown's cancel). The
        watchdog's goes by REST: a silent websocket may be the very thing that failed."""
        if self.ledger is None or self.state is None:
            return
        oids = [o.oid for o in self.ledger.orders if o.oid is not None]
        if not oids:
            return
        log.warning("cancel all (%s): %d order(s)", reason, len(oids))
        body = self.signer.sign_cancel([(self.state.meta.asset, o) for o in oids])
        try:
            await self._call(body, via_rest=reason in ("stale", "stall"))
        except (asyncio.TimeoutError, MmfastError) as e:
            log.error("cancel-all (%s) got no answer: %s", reason, e)

    def _emergency_cancel(self, reason: str) -> None:
        """From the watchdog thread while the loop is stuck: a blocking REST cancel."""
        if self.ledger is None or self.state is None:
            return
        oids = [o.oid for o in list(self.ledger.orders) if o.oid is not None]
        if not oids:
            return
        body = self.signer.sign_cancel([(self.state.meta.asset, o) for o in oids])
        req = urllib.request.Request(
            self.ep.api + "/exchange", data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(req, timeout=3) as r:
            log.warning(
                "emergency cancel (%s) of %d order(s): HTTP %d", reason, len(oids), r.status
            )

    async def _shutdown(self) -> None:
        """Stops quoting, cancels everything, checks nothing is left, closes sockets."""
        self.synced = False
        gw = self.gateway
        if gw is not None:
            await gw.drain(2.0)  # answers of what is in flight (placements become cancellable)
            for attempt in range(3):
                await self.cancel_all(f"shutdown: {self._stop_reason or 'exit'}")
                try:
                    left = [
                        o
                        for o in await self.rest.info("openOrders", user=self.account)
                        if o.get("coin") == self.coin
                    ]
                except (MmfastError, OSError, asyncio.TimeoutError) as e:
                    log.error("cannot verify open orders at shutdown: %s", e)
                    break
                if not left:
                    break
                log.warning(
                    "%d order(s) still open after cancel-all (attempt %d)", len(left), attempt + 1
                )
                self.ledger.reset_from_exchange(self.ledger.position, left)  # type: ignore[union-attr]
        if self.watchdog is not None:
            self.watchdog.stop()
        try:
            self._flush_checkpoint(final=True)
        except Exception as e:  # the orders are cancelled already: report, do not mask that
            self.stats.errors += 1
            log.error("checkpoint not saved: %s", e)
        if self.checkpoint is not None:
            self.checkpoint.close()
        if self.metrics is not None:
            self.metrics.update(self)
            self.metrics.close()
        for c in self.conns.values():
            await c.close()
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if gw is not None:
            await gw.close()
        await self.rest.close()

    # ================= dead-man switch =================

    async def _dead_man_switch(self) -> None:
        horizon_ms = int(self.live.schedule_cancel_s * 1000)
        while self._schedule_cancel_ok:
            if self.synced and (self.watchdog is None or self.watchdog.halted is None):
                t = int(time.time() * 1000) + horizon_ms
                with contextlib.suppress(asyncio.TimeoutError):
                    await self._call(self.signer.sign_schedule_cancel(t))
            await asyncio.sleep(max(1.0, self.live.schedule_cancel_s / 3))

    def _on_schedule_refused(self, sent: Sent, result: ActionResult) -> None:
        if self._schedule_cancel_ok:
            self._schedule_cancel_ok = False
            log.warning(
                "the exchange refuses scheduleCancel (%s); relying on our own watchdog",
                result.error or result.statuses[0].error if result.statuses else "",
            )

    def _on_fatal_answer(self, sent: Sent, result: ActionResult) -> None:
        self.stop(f"fatal: the exchange does not accept our signer: {result.error}")

    # ================= summary =================

    def summary(self) -> dict[str, Any]:
        ns = np.asarray(self.stats.cycle_ns or [0], dtype=np.float64)
        gw = self.gateway
        mark = self.mid
        return {
            "fills": self.pnl.fills,
            "volume_usd": round(self.pnl.volume_usd, 6),
            "pnl_usd": round(self.pnl.total(mark), 6),
            "realised_pnl_usd": round(self.pnl.realised, 6),
            "unrealised_pnl_usd": round(self.pnl.unrealised(mark), 6),
            "fees_usd": round(self.pnl.fees, 6),
            "funding_usd": round(self.pnl.funding, 6),
            "net_pnl_usd": round(self.pnl.net(mark), 6),
            "position": round(self.pnl.position, 10),
            "max_abs_position": self.pnl.max_abs_position,
            "max_position": self.guard.limits.max_position if self.guard else None,
            "cycles": self.stats.cycles,
            "cycle_p50_us": round(float(np.percentile(ns, 50)) / 1e3, 3),
            "cycle_p99_us": round(float(np.percentile(ns, 99)) / 1e3, 3),
            "actions_sent": gw.sent if gw else 0,
            "actions_rejected": gw.rejected if gw else 0,
            "guard_refusals": self.stats.guard_refusals,
            "actions_lost": gw.lost if gw else 0,
            "rejections_by_kind": dict(gw.errors_by_kind) if gw else {},
            "reconnects": sum(c.reconnects for c in self.conns.values()),
            "errors": self.stats.errors + sum(c.sink_errors for c in self.conns.values()),
            "orphans_cancelled": self.stats.orphans_cancelled,
            "watchdog_stale_events": self.watchdog.stale_events if self.watchdog else 0,
            "duration_s": round((mono_ms() - self.stats.started_ms) / 1000, 3),
            "stop_reason": self._stop_reason,
        }


def _batches(actions: Any) -> list[tuple[str, Any, list[Any]]]:
    """The cycle's actions grouped by engine batch (one exchange action each), items in index
    order, batches in the engine's order (cancels first)."""
    out: dict[Any, list[Any]] = {}
    for a in actions:
        out.setdefault(a.batch, []).append(a)
    return [(str(acts[0].kind), b, sorted(acts, key=lambda a: a.index)) for b, acts in out.items()]


def _with_overrides(cfg: Any, overrides: list[tuple[str, str]]) -> Any:
    from mmfast import MarketMakerConfig

    return MarketMakerConfig.from_toml(cfg.to_toml(), "config", overrides)


def _order_tuple(asset: int, a: Any) -> tuple[Any, ...]:
    is_buy = str(a.side).lower() in ("bid", "buy", "b", "side.bid")
    return (
        asset,
        is_buy,
        float(a.px),
        float(a.sz),
        bool(getattr(a, "reduce_only", False)),
        "Alo",
        a.cloid,
    )
