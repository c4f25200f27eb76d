"""One account on the exchange (SPEC 10): sockets, the order gateway, the signer, the address
budget, the watchdog and dead-man switch, reconciliation with the exchange, and shutdown, on
uvloop. The trading of each asset is its `Trader`'s; `paper` and `live` run a node with one.

Sockets, all to Hyperliquid unless said: market data (`bbo`, `l2Book` fast, `trades`), user data
(`orderUpdates`, `userFills`, `userEvents`, for the account), orders (`post`), and Binance
`/public` (bookTicker) and `/market` (aggTrade). Every frame reaches the trader as bytes with its
local monotonic receive time in ms.

The exchange is the truth: before the first quote and after every Hyperliquid reconnect the node
reads meta, clearinghouseState, openOrders, userFees and userRateLimit (for the account), adopts
the position, cancels orders it does not own (a previous run's, so nothing is orphaned or
doubled), and only then lets the trader quote. The same reading runs every
`live.reconcile_interval_s`. On exit (duration, SIGINT/SIGTERM, a fatal error) it cancels
everything and checks with `openOrders` that nothing is left.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from mmfast.errors import MmfastError, VenueError
from mmfast.feeds import binance as bn
from mmfast.feeds import hyperliquid as hl
from mmfast.feeds.ws import Backoff, WsConnection, hl_heartbeat, mono_ms
from mmfast.gateway.limits import AddressBudget, WeightBucket
from mmfast.gateway.orders import OrderGateway, Sent
from mmfast.gateway.responses import ActionResult, ErrorKind
from mmfast.gateway.rest import RestClient
from mmfast.keys import Identity
from mmfast.live.trader import Trader
from mmfast.truth import ExchangeState, check_clock_skew, read_exchange
from mmfast.watchdog import Watchdog

log = logging.getLogger(__name__)

BOT_TAG = "bot"  # actions the node itself sends (cancel-all, leverage, heartbeat), not an engine's


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
class NodeStats:
    errors: int = 0
    guard_refusals: int = 0
    started_ms: int = 0
    resyncs: int = 0
    orphans_cancelled: int = 0


class Node:
    """One account with one trader (`config.asset`). `await node.run(duration_s)` returns the
    summary dict."""

    def __init__(
        self,
        config: Any,
        identity: Identity,
        *,
        engine_factory: Callable[..., Any] | None = None,
        on_progress: Callable[[Node], None] | None = None,
        progress_every_s: float = 1.0,
        guardian: Any = None,
    ) -> None:
        self.cfg = config
        self.live = config.live
        self.identity = identity
        self.signer = identity.signer
        self.account = identity.account
        self.ep = endpoints(config)
        self.rest = RestClient(self.ep.api, WeightBucket(self.live.ip_weight_per_minute))
        self.budget = AddressBudget()
        self.trader = Trader(config, self, engine_factory=engine_factory)
        self.gateway: OrderGateway | None = None
        self.watchdog: Watchdog | None = None
        self.state: ExchangeState | None = None
        self.stats = NodeStats()
        self.last_hl_ms = 0
        self.synced = False
        self.on_progress = on_progress
        self.progress_every_s = progress_every_s
        self.conns: dict[str, WsConnection] = {}
        self._stop = asyncio.Event()
        self._stop_reason = ""
        self._tasks: list[asyncio.Task[Any]] = []
        self.checkpoint: Any = None
        self.metrics: Any = None
        self._resync_task: asyncio.Task[None] | None = None
        self._stand_down_task: asyncio.Future[None] | None = None
        #: oids and in-flight cloids a cancel-all has asked to cancel since quoting last stood
        #: down (cleared when it resumes): the stand-down sweep cancels each late-known one once.
        self._cancel_asked: set[int | str] = set()
        self._schedule_cancel_ok = bool(self.live.schedule_cancel)
        #: The state file's run bookkeeping, kill switch and monitors (`mmfast.ops.operator`).
        self.operator: Any = None
        #: The soft monitor (or kill) holding quoting, None while quoting is allowed.
        self.paused: str | None = None
        #: Log the actions instead of sending them (`mmfast run --dry-run`).
        self.dry_run = False
        #: Close the position with reduce-only IOC orders after the exit's cancel-all.
        self.flatten_on_exit = False
        self.flatten_result: str | None = None
        self._signals = 0
        #: The guardian process's handle (`mmfast.live.guardian.Guardian`), fed a heartbeat from
        #: the periodic task and told `bye` only after a verified clean shutdown.
        self.guardian = guardian
        self._forced = False
        self._shutdown_task: asyncio.Future[None] | None = None
        self._gc_frozen = False

    @property
    def quoting(self) -> bool:
        """Whether traders may cycle: synchronised with the exchange and not stopping."""
        return self.synced and not self._stop.is_set() and self.paused is None

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
                loop.add_signal_handler(sig, self._on_signal, sig)
        self.stats.started_ms = mono_ms()
        try:
            await self._preflight()
            self._start_sockets()
            if self.operator is not None:
                self._spawn(self.operator.run())
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
            # The handlers stay through the shutdown: a second signal must not interrupt the
            # cancel-all (issue 13 item 6), a third cancels the shutdown itself.
            self._shutdown_task = asyncio.ensure_future(self._shutdown())
            try:
                await self._shutdown_task
            except asyncio.CancelledError:
                if not self._forced:
                    raise
                await self._close_quietly()
            finally:
                self._thaw()
                if install_signals:
                    for sig in (signal.SIGINT, signal.SIGTERM):
                        loop.remove_signal_handler(sig)
        return self.summary()

    def _on_signal(self, sig: signal.Signals) -> None:
        self._signals += 1
        if self._signals == 1:
            self.stop(f"signal {sig.name}")
        elif self._signals == 2:
            log.warning(
                "%s: shutdown in progress (cancelling every order, then checking none is left); "
                "a third signal forces exit without waiting",
                sig.name,
            )
        elif not self._forced:
            self._forced = True
            log.error(
                "%s: forced exit; orders may remain open (the guardian, if running, cancels "
                "them; else `openOrders` shows them)",
                sig.name,
            )
            self._stop_reason = f"forced exit ({sig.name} x{self._signals})"
            if self._shutdown_task is not None and not self._shutdown_task.done():
                self._shutdown_task.cancel()

    async def _close_quietly(self) -> None:
        """What a forced exit still does: close sockets and the HTTP client, nothing else."""
        for c in self.conns.values():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(c.close(), 0.5)
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.gateway is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.gateway.close(), 0.5)
        with contextlib.suppress(Exception):
            await self.rest.close()
        if self.guardian is not None:
            self.guardian.close(clean=False)
            self.guardian = None

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
        tr = self.trader
        st = await read_exchange(self.rest, self.account, tr.coin)
        skew = check_clock_skew(st, self.live.max_clock_skew_ms)
        log.info(
            "account %s%s: %s asset %d, szDecimals %d, position %g, account value %.2f, "
            "maker fee %.2f bps, clock skew %s ms",
            self.account,
            " (agent key)" if self.identity.is_agent else "",
            tr.coin,
            st.meta.asset,
            st.meta.sz_decimals,
            st.position,
            st.account_value,
            st.maker_fee_bps,
            "unknown" if skew is None else f"{skew:+.0f}",
        )
        self.state = st
        self.budget.update(st.rate_limit)
        mark = await self._mark_px(tr.coin)
        if self.operator is not None:
            self.checkpoint = self.operator.store
            self.operator.on_started(st.account_value)
        elif self.live.checkpoint:
            self._open_checkpoint(st)
        tr.start(st, mark, self.checkpoint)
        if self.operator is not None and hasattr(tr.engine, "set_day_start_equity"):
            tr.engine.set_day_start_equity(self.operator.day_start_equity())
        self.gateway = OrderGateway(
            rest=self.rest,
            path=tr.path,
            budget=self.budget,
            on_answer=self._on_answer,
            account=self.account,
            max_inflight=int(self.live.max_inflight_posts),
            post_timeout_ms=int(self.live.post_timeout_ms),
            sign_noop=lambda nonce: self.signer.sign_noop(nonce=nonce),
        )
        if self.dry_run:
            from mmfast.ops.dryrun import install

            install(self)
        self.gateway.on_error_kind[ErrorKind.SCHEDULE_CANCEL_VOLUME] = self._on_schedule_refused
        self.gateway.engine = tr.native_engine  # answers reach it with the ledger, in one call
        self.gateway.on_error_kind[ErrorKind.UNKNOWN_SIGNER] = self._on_fatal_answer
        self.gateway.on_error_kind[ErrorKind.MUST_DEPOSIT] = self._on_fatal_answer
        self.watchdog = Watchdog(
            stale_ms=int(self.cfg.risk.hl_stale_ms),
            stall_ms=int(self.live.loop_stall_ms),
            last_hl_ms=lambda: self.last_hl_ms,
            cancel_all=self.cancel_all,
            emergency_cancel=self._emergency_cancel,
            on_resume=self._on_watchdog_resume,
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

    async def _mark_px(self, coin: str) -> float:
        from mmfast.truth import dex_of

        dex = dex_of(coin)
        meta, ctxs = await self.rest.info("metaAndAssetCtxs", **({"dex": dex} if dex else {}))
        for u, c in zip(meta.get("universe", ()), ctxs, strict=False):
            if u.get("name") == coin:
                for k in ("midPx", "markPx", "oraclePx"):
                    if c.get(k) is not None:
                        return float(c[k])
        raise VenueError(f"asset = {coin!r}: no mark price in metaAndAssetCtxs")

    async def _cancel_foreign_orders(self, orders: list[dict[str, Any]]) -> None:
        """Cancels resting orders this process did not place: at start every open order of the
        trader's coin (an earlier run's; the engine's cloids are new each process), later the
        ones its ledger cannot account for. Adopting them instead would mean trusting sizes and
        prices chosen under another state; cancelling leaves neither orphan nor duplicate."""
        tr = self.trader
        oids = [o["oid"] for o in orders if o.get("coin") == tr.coin]
        if oids:
            log.warning("cancelling %d order(s) the bot does not own: %s", len(oids), oids)
            self.stats.orphans_cancelled += len(oids)
            await self._call(self.signer.sign_cancel([(tr.asset, o) for o in oids]))

    async def _call(self, body: bytes, via_rest: bool = False) -> ActionResult:
        """Sends one of the node's own actions and waits for its answer."""
        assert self.gateway is not None
        fut: asyncio.Future[ActionResult] = asyncio.get_running_loop().create_future()
        self.gateway.submit(body, tag=(BOT_TAG, fut), via_rest=via_rest)
        return await asyncio.wait_for(fut, self.live.post_timeout_ms / 1000 * 3 + 5)

    def _on_answer(self, sent: Sent, answer: bytes, result: ActionResult, recv_ms: int) -> None:
        if isinstance(sent.tag, tuple) and sent.tag and sent.tag[0] == BOT_TAG:
            fut = sent.tag[1]
            if not fut.done():
                fut.set_result(result)
            return
        # Kinds only (the statuses are built on demand; an answer that is all ok needs none).
        refused = result.error_kind is ErrorKind.LOCAL or (
            result.rejected > 0 and ErrorKind.LOCAL in result.bad_kinds
        )
        if refused and (self.watchdog is None or self.watchdog.halted is None):
            self.stats.guard_refusals += 1
        self.trader.on_answer(sent, answer, recv_ms)

    # ================= checkpoint =================

    def _open_checkpoint(self, st: ExchangeState) -> None:
        """The day's opening equity is kept; the trader skips the fills already stored."""
        from mmfast.store import Checkpoint

        self.checkpoint = Checkpoint(self.live.checkpoint)
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
        tr = self.trader
        if tr.fills_to_store:
            cp.add_fills(tr.fills_to_store)
            tr.fills_to_store = []
        if final:
            tr.save_learned(cp)

    # ================= sockets =================

    def _start_sockets(self) -> None:
        live = self.live
        tr = self.trader
        backoff = lambda: Backoff(live.reconnect_min_s, live.reconnect_max_s)  # noqa: E731
        # Every Hyperliquid socket pings whenever it has heard nothing for a third of the stale
        # threshold, so a frozen one is found within that plus `pong_timeout_s` (issue 13 item
        # 11: the order and user sockets used to wait for the 30 s cadence); a busy socket needs
        # no pings, and `ping_interval_s` (< the exchange's 60 s idle close) covers the rest.
        # On the market socket a pong is also proof of life for market data (SPEC 8 step 2):
        # a quiet book is not mistaken for a dead feed.
        hb = hl_heartbeat(
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
            tr.on_user,
            subscriptions=hl.user_subscriptions(self.account),
            heartbeat=hb,
            backoff=backoff(),
            on_up=self._on_hl_up,
        )
        self.conns["market"] = WsConnection(
            "market",
            self.ep.ws,
            self._on_market,
            subscriptions=hl.market_subscriptions(tr.coin),
            heartbeat=hb,
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
                    tr.on_binance,
                    protocol_ping_s=30.0,
                    backoff=backoff(),
                )
        for c in self.conns.values():
            self._spawn(c.run())

    def _on_market(self, frame: bytes, recv_ms: int) -> None:
        self.last_hl_ms = recv_ms
        self.trader.on_market(frame, recv_ms)

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
            self._freeze_startup_objects()
            self.trader.want_cycle()

    def _freeze_startup_objects(self) -> None:
        """Moves every object alive at the start (modules, config, the engine's wrappers: ~46k)
        out of the collector's sight, so that the full collections of a long run no longer walk
        them (12.7 ms a full collection without, ~0 with, on this machine; steady ticks make
        only ~5 young collections a 1000 ticks, so the figure is a long run's rare stall, not
        the bench's p50). `_thaw` gives them back at exit, so a process that runs several
        nodes (the tests) does not keep a finished node's cycles forever."""
        if not self._gc_frozen:
            self._gc_frozen = True
            gc.freeze()

    def _thaw(self) -> None:
        if self._gc_frozen:
            self._gc_frozen = False
            gc.unfreeze()

    def _on_watchdog_resume(self, why: str) -> None:
        """A stale or stalled spell ended: prove the order path and re-read the exchange
        (position, open orders) before quoting again; what was sent meanwhile may be lost."""
        if self._stop.is_set():
            return
        self.synced = False
        self.stats.resyncs += 1
        if self._resync_task is None or self._resync_task.done():
            self._resync_task = asyncio.ensure_future(self._resync(f"{why} cleared"))

    async def _resync(self, why: str) -> None:
        log.info("resynchronising with the exchange: %s", why)
        t0 = mono_ms()
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
        st = self.state
        log.info(
            "resynchronised in %d ms: position %s, %d open order(s) on the exchange",
            mono_ms() - t0,
            None if st is None else st.position,
            0 if st is None else len(st.open_orders),
        )
        self.trader.want_cycle()

    # ================= periodic work =================

    async def _periodic(self) -> None:
        last_reconcile = last_progress = time.monotonic()
        tr = self.trader
        while True:
            await asyncio.sleep(0.25)
            if self.guardian is not None:
                self.guardian.beat()
            self._sample_diagnostics()
            now = time.monotonic()
            assert self.gateway is not None
            await self.gateway.sweep()
            tr.engine_quota(self.budget)
            self._stand_down_sweep()
            self._flush_checkpoint()
            if tr.cycle_due(mono_ms()):
                tr.want_cycle()
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

    def _stand_down_sweep(self) -> None:
        """While the watchdog halts quoting or a monitor pauses it, nothing of ours may rest.
        The cancel-all at the halt cancels what it knows (by oid, and in-flight placements by
        cloid), but a cancel by cloid can overtake its placement on the real exchange, and an
        order can become known only later, when the lookup of an answer lost with a frozen
        socket settles it as resting: it is cancelled here then (issue 13: such an order rested
        through a whole freeze). One such cancel at a time, each order asked once."""
        wd = self.watchdog.halted if self.watchdog is not None else None
        why = wd or (f"pause: {self.paused}" if self.paused is not None else None)
        if why is None:
            self._cancel_asked.clear()
            return
        if self._stop.is_set():
            return
        if self._stand_down_task is not None and not self._stand_down_task.done():
            return
        tr = self.trader
        refs: list[int | str] = [oid for _, oid in tr.cancel_targets()]
        refs += [cloid for _, cloid in tr.inflight_targets()]
        if any(r not in self._cancel_asked for r in refs):
            self._stand_down_task = asyncio.ensure_future(self.cancel_all(why, late_only=True))

    def _sample_diagnostics(self) -> None:
        tr = self.trader
        out = tr.last_out
        if out is None or not self.quoting:
            return
        d = getattr(out, "diagnostics", None)  # a test's scripted engine may have none
        if not isinstance(d, dict):
            return
        for c in d.get("caps", ()):
            tr.stats.cap_samples[c] += 1
        if d.get("flat_reason"):
            tr.stats.flat_samples[d["flat_reason"]] += 1

    async def _reconcile(self, adopt_position: bool) -> None:
        """Compares orders and position with the exchange and repairs the difference."""
        asked_ms = mono_ms()
        st = await read_exchange(self.rest, self.account, self.trader.coin)
        self.state = st
        self.budget.update(st.rate_limit)
        foreign = self.trader.apply_exchange(st, asked_ms, adopt_position)
        if foreign:
            await self._cancel_foreign_orders(foreign)

    # ================= cancelling =================

    async def cancel_all(self, reason: str, late_only: bool = False) -> None:
        """Cancels every order we know of (the watchdog's, the operator's and shutdown's
        cancel): the resting ones by oid, and the placements still in flight (their answer not
        in: it may be lost with a frozen socket while the order rests) by cloid. With
        `late_only`, only those no cancel-all has asked for since quoting stood down. The
        cancel goes by REST: a silent websocket may be the very thing that failed."""
        if self.state is None:
            return
        by_oid = self.trader.cancel_targets()
        by_cloid = self.trader.inflight_targets()
        if late_only:
            by_oid = [t for t in by_oid if t[1] not in self._cancel_asked]
            by_cloid = [t for t in by_cloid if t[1] not in self._cancel_asked]
        if not by_oid and not by_cloid:
            log.info("cancel all (%s): no order known", reason)
            return
        self._cancel_asked.update(oid for _, oid in by_oid)
        self._cancel_asked.update(cloid for _, cloid in by_cloid)
        log.warning(
            "cancel all (%s): %d order(s), %d placement(s) in flight",
            reason,
            len(by_oid),
            len(by_cloid),
        )
        # Every cancel-all goes by REST: a dead feed may mean dead sockets, and the shutdown's,
        # sent into a frozen order socket, waited until the socket was declared dead (~5 s).
        bodies = [self.signer.sign_cancel(by_oid)] if by_oid else []
        if by_cloid:
            bodies.append(self.signer.sign_cancel_by_cloid(by_cloid))
        answers = await asyncio.gather(
            *(self._call(b, via_rest=True) for b in bodies), return_exceptions=True
        )
        for a in answers:
            if isinstance(a, BaseException):
                if not isinstance(a, (asyncio.TimeoutError, MmfastError)):
                    raise a
                log.error("cancel-all (%s) got no answer: %s", reason, a)
                continue
            gone = sum(st.ok or st.error_kind is ErrorKind.MISSING_ORDER for st in a.statuses)
            n = len(a.statuses)
            log.info("cancel all (%s): %d of %d gone %s", reason, gone, n, a.error or "")

    def _emergency_cancel(self, reason: str) -> None:
        """From the watchdog thread while the loop is stuck: a blocking REST cancel."""
        if self.state is None or self.dry_run:
            return
        targets = self.trader.cancel_targets()
        if not targets:
            return
        body = self.signer.sign_cancel(targets)
        req = urllib.request.Request(
            self.ep.api + "/exchange", data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(req, timeout=3) as r:
            log.warning(
                "emergency cancel (%s) of %d order(s): HTTP %d", reason, len(targets), r.status
            )

    async def _shutdown(self) -> None:
        """Stops quoting, cancels everything, checks nothing is left, closes sockets."""
        self.synced = False
        gw = self.gateway
        tr = self.trader
        verified = gw is None  # nothing was ever sent
        if gw is not None:
            await gw.drain(2.0)  # answers of what is in flight (placements become cancellable)
            for attempt in range(3):
                await self.cancel_all(f"shutdown: {self._stop_reason or 'exit'}")
                try:
                    left = [
                        o
                        for o in await self.rest.info("openOrders", user=self.account)
                        if o.get("coin") == tr.coin
                    ]
                except (MmfastError, OSError, asyncio.TimeoutError) as e:
                    log.error("cannot verify open orders at shutdown: %s", e)
                    break
                if not left:
                    verified = True
                    break
                log.warning(
                    "%d order(s) still open after cancel-all (attempt %d)", len(left), attempt + 1
                )
                tr.path.reset_from_exchange(tr.path.position, left, mono_ms())
        if verified and gw is not None:
            # Nothing rests any more, so the position can no longer move: read it once more.
            # Fills of the last moments (a socket dropped just before the end) otherwise never
            # reach the bot, and the summary and the state file would keep a stale position.
            try:
                await self._reconcile(adopt_position=True)
            except (MmfastError, OSError, asyncio.TimeoutError) as e:
                log.error("cannot read the final position at shutdown: %s", e)
        if gw is not None and self.flatten_on_exit:
            from mmfast.ops.flatten import flatten

            self.flatten_result = await flatten(self)
        if self.watchdog is not None:
            self.watchdog.stop()
        if self.operator is not None:
            try:
                self.operator.on_shutdown(self._stop_reason or "exit")
            except Exception as e:
                self.stats.errors += 1
                log.error("state file not updated at exit: %s", e)
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
        if self.guardian is not None:  # not verified: the guardian cancels what is left
            self.guardian.close(clean=verified)
            self.guardian = None

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
        tr = self.trader
        ns = (
            tr.stats.cycle_ns.values().astype(np.float64) if len(tr.stats.cycle_ns) else np.zeros(1)
        )
        gw = self.gateway
        mark = tr.mid
        pnl = tr.pnl
        return {
            "fills": pnl.fills,
            "volume_usd": round(pnl.volume_usd, 6),
            "pnl_usd": round(pnl.total(mark), 6),
            "realised_pnl_usd": round(pnl.realised, 6),
            "unrealised_pnl_usd": round(pnl.unrealised(mark), 6),
            "fees_usd": round(pnl.fees, 6),
            "funding_usd": round(pnl.funding, 6),
            "net_pnl_usd": round(pnl.net(mark), 6),
            "position": round(pnl.position, 10),
            "max_abs_position": pnl.max_abs_position,
            "max_position": tr.path.max_position if tr.path is not None else None,
            "cycles": tr.stats.cycles,
            "taker_exits": tr.stats.taker_exits,
            "cycle_p50_us": round(float(np.percentile(ns, 50)) / 1e3, 3),
            "cycle_p99_us": round(float(np.percentile(ns, 99)) / 1e3, 3),
            "actions_sent": gw.sent if gw else 0,
            "actions_rejected": gw.rejected if gw else 0,
            "guard_refusals": self.stats.guard_refusals,
            "actions_lost": gw.lost if gw else 0,
            "rejections_by_kind": dict(gw.errors_by_kind) if gw else {},
            "actions_by_kind": _by_kind(gw.by_kind) if gw else {},
            "reconnects": sum(c.reconnects for c in self.conns.values()),
            "errors": self.stats.errors + sum(c.sink_errors for c in self.conns.values()),
            "orphans_cancelled": self.stats.orphans_cancelled,
            "watchdog_stale_events": self.watchdog.stale_events if self.watchdog else 0,
            "cap_samples": dict(tr.stats.cap_samples),
            "flat_samples": dict(tr.stats.flat_samples),
            "duration_s": round((mono_ms() - self.stats.started_ms) / 1000, 3),
            "stop_reason": self._stop_reason,
            "paused_by": self.paused,
            "flatten": self.flatten_result,
            **({} if self.operator is None else {"ops": self.operator.status()}),
        }


def _by_kind(counts: dict[tuple[str, str], int]) -> dict[str, dict[str, int]]:
    """`{(kind, result): n}` -> `{kind: {result: n}}` (JSON for the summary and the metrics)."""
    out: dict[str, dict[str, int]] = {}
    for (kind, result), n in sorted(counts.items()):
        out.setdefault(kind, {})[result] = n
    return out
