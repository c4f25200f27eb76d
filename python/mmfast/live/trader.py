"""One asset's trading inside a node (SPEC 8-9): its engine, its order path (the pre-send guard,
the guard's ledger and the signing of the engine's actions, in Rust: `OrderPath`), its PnL, and
the cycle that turns its frames into signed actions.

A trader owns no socket and no key: its node delivers the asset's frames (`on_market`,
`on_binance`, `on_user`) and the answers to its actions (`on_answer`), and lends it the account's
signer and gateway to send through. A cycle runs after a book, bbo or fill frame (deferred with
`call_soon` so that frames read together are all applied first), at most once per
`impulse_control.min_requote_interval_ms` and at least every `max_cycle_interval_ms` (the node's
periodic task asks for it).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson
from mmfast._core import QuoteEngine
from mmfast.errors import MmfastError
from mmfast.feeds.ws import mono_ms
from mmfast.gateway.limits import AddressBudget
from mmfast.gateway.orders import Sent
from mmfast.live.pnl import PnL
from mmfast.live.samples import SampleRing
from mmfast.truth import ExchangeState

if TYPE_CHECKING:
    from mmfast.live.node import Node

log = logging.getLogger(__name__)


@dataclass
class TraderStats:
    cycles: int = 0
    #: Taker exits sent (`risk.taker_exit_bps`: reduce-only IOCs that pay the taker fee).
    taker_exits: int = 0
    #: The most recent cycle times (bounded: a long run must not grow by one entry per cycle).
    cycle_ns: SampleRing = field(default_factory=SampleRing)
    #: Book frame received to the first resulting order written to the socket, inside the bot.
    tick_to_send_ns: SampleRing = field(default_factory=SampleRing)
    #: Sampled 4 times a second from the last cycle's diagnostics: the caps in force and the
    #: reasons for going Flat, by name (what the bot did under faults, issue 13).
    cap_samples: Counter[str] = field(default_factory=Counter)
    flat_samples: Counter[str] = field(default_factory=Counter)


def engine_only_gone(
    engine_orders: list[tuple[Any, ...]],
    ledger_orders: list[tuple[Any, ...]],
    open_oids: set[int],
    told: list[tuple[Any, ...]],
) -> list[tuple[int, str | None, bool, float, float]]:
    """The orders the engine counts as resting (its `orders` rows: cloid, oid, side, px, sz,
    state) that neither the exchange (`open_oids`) nor the ledger (its `orders` rows: oid
    first) holds, and that are not already `told` gone; as `(oid, cloid, is_buy, px, sz)`.

    The engine and the ledger keep their own books (the ledger is an independent check), so an
    answer lost with a socket can leave the engine believing in an order the ledger has settled;
    the exchange's reading settles the engine's book too, or the engine counts the order
    against its limit and tries to move it forever (issue 13)."""
    held = open_oids | {g[0] for g in told} | {o[0] for o in ledger_orders if o[0] is not None}
    return [
        (oid, cloid, side == "bid", px, sz)
        for cloid, oid, side, px, sz, state in engine_orders
        if state == "resting" and oid is not None and oid not in held
    ]


class Trader:
    """The market maker of one asset (`config.asset`) on its node's account."""

    def __init__(
        self, config: Any, node: Node, *, engine_factory: Callable[..., Any] | None = None
    ) -> None:
        self.cfg = config
        self.node = node
        self.coin = str(config.asset)
        self.asset = -1  # the exchange's asset id, known once `start` has read the exchange
        self._engine_factory = engine_factory
        self.engine: Any = None
        #: The guard, its ledger and the signing of the engine's actions (`mmfast._core.OrderPath`).
        self.path: Any = None
        self.pnl = PnL()
        self.stats = TraderStats()
        self.mid: float | None = None
        self.last_out: Any = None
        self.checkpoint: Any = None
        self.fills_to_store: list[dict[str, Any]] = []
        self._cycle_scheduled = False
        self._last_cycle_ms = 0
        self._tick_ns: int | None = None
        self._drift_seen: float | None = None
        self._min_interval_ms = int(config.impulse_control.min_requote_interval_ms)
        self._max_interval_ms = int(config.impulse_control.max_cycle_interval_ms)

    # ================= start: from the exchange's truth =================

    def start(self, st: ExchangeState, mark: float, checkpoint: Any) -> None:
        """Builds the engine and the order path from the exchange's state at `mark`."""
        from mmfast._core import OrderPath  # type: ignore[attr-defined]

        self.asset = st.meta.asset
        self.mid = mark
        self.checkpoint = checkpoint
        self.engine = self._make_engine(st)
        self.engine_account(st)
        limits = self._start_limits(st, mark)
        self.path = OrderPath(
            self.node.signer,
            st.meta.asset,
            self.coin,
            max_position=limits.max_position,
            single_order_cap=limits.single_order_cap,
            price_band_bps=float(self.cfg.risk.price_band_bps),
        )
        self.path.reset_from_exchange(st.position, st.open_orders, mono_ms())
        self.path.mid = mark
        if checkpoint is not None:
            # Fills already stored are not counted again.
            for tid in checkpoint.recent_tids():
                self.path.mark_seen(int(tid))
        self.pnl.position = st.position
        self.pnl.avg_px = st.entry_px or 0.0

    def _start_limits(self, st: ExchangeState, mark: float) -> Any:
        """The limits at the start mark, by the rule and the inputs the engine resolves with, so
        that the guard holds the engine's ceiling before the engine's first resolve; from then
        on `OrderPath.send_cycle` hands the guard the engine's every re-resolution."""
        from mmfast import ExchangeContext, resolve_limits

        ctx = ExchangeContext(
            mark_px=mark,
            available_margin=st.available_margin,
            account_value=st.account_value,
            max_leverage=float(st.leverage or self.cfg.leverage),
            fee_bps=float(self.cfg.fee_bps),
            sz_decimals=st.meta.sz_decimals,
            min_notional=float(self.cfg.runtime.min_notional),
        )
        return resolve_limits(self.cfg, ctx)

    def _make_engine(self, st: ExchangeState) -> Any:
        if self._engine_factory is not None:
            return self._engine_factory(self.cfg, st, self.mid)
        from mmfast._core import QuoteEngine  # type: ignore[attr-defined]

        cfg = self.cfg
        live = self.cfg.live
        saved = None
        if live.checkpoint:
            from mmfast.store import Checkpoint

            cp = Checkpoint(live.checkpoint)
            saved = cp.load_state()
            cp.close()
        eng = None
        if saved is not None:
            try:
                eng = QuoteEngine.load_state(cfg, saved)
                log.info(
                    "warm start: learned state restored from %s (%s)",
                    live.checkpoint,
                    "signals included"
                    if eng.signals_restored
                    else "signals cold: saved under other signal settings or by an older build",
                )
            except MmfastError as e:
                log.warning("learned state in %s not usable (%s): cold start", live.checkpoint, e)
        if eng is None:
            eng = QuoteEngine(cfg)
        eng.set_runtime(st.meta.asset, st.meta.sz_decimals)
        return eng

    def engine_account(self, st: ExchangeState) -> None:
        if self.engine is None:
            return
        self.engine.set_account(
            position=st.position,
            available_margin=st.available_margin,
            account_value=st.account_value,
            leverage=float(st.leverage or self.cfg.leverage),
        )
        self.engine_quota(self.node.budget)

    def engine_quota(self, budget: AddressBudget) -> None:
        """The address budget, as the gateway counts it, for the engine's requote planner."""
        if self.engine is not None and hasattr(self.engine, "set_quota"):
            self.engine.set_quota(max(0, budget.used), max(0, budget.cap))

    def save_learned(self, checkpoint: Any) -> None:
        if self.engine is not None and hasattr(self.engine, "save_state"):
            checkpoint.save_state(bytes(self.engine.save_state()))

    # ================= the cycle =================

    def want_cycle(self) -> None:
        if not self._cycle_scheduled:
            self._cycle_scheduled = True
            now = mono_ms()
            wait = self._last_cycle_ms + self._min_interval_ms - now
            loop = asyncio.get_running_loop()
            if wait <= 0:
                loop.call_soon(self._cycle)
            else:
                loop.call_later(wait / 1000, self._cycle)

    def cycle_due(self, now_ms: int) -> bool:
        """True when no cycle ran for `max_cycle_interval_ms`."""
        return now_ms - self._last_cycle_ms >= self._max_interval_ms

    def _cycle(self) -> None:
        self._cycle_scheduled = False
        if not self.node.quoting or self.engine is None:
            self._tick_ns = None
            return
        now = mono_ms()
        self._last_cycle_ms = now
        native = self.native_engine
        if native is not None and self.path is not None:
            # One crossing per decision: the cycle, the guard and the signer in one call.
            out, outgoing, cycle_ns = self.path.decide(native, now, self._expires_after())
            self.stats.cycle_ns.append(cycle_ns)
        else:
            t0 = time.perf_counter_ns()
            out = self.engine.cycle(now)
            self.stats.cycle_ns.append(time.perf_counter_ns() - t0)
            outgoing = None
        self.stats.cycles += 1
        self.last_out = out
        if out.n_actions:
            self.stats.taker_exits += out.n_takes
            if outgoing is None:
                self.send_actions()
            else:
                gw = self.node.gateway
                for o in outgoing:
                    gw.send(o, o.batch)
            if self._tick_ns is not None:
                self.stats.tick_to_send_ns.append(time.perf_counter_ns() - self._tick_ns)
        self._tick_ns = None

    def send_actions(self) -> None:
        """The engine's last cycle through the guard and the signer in one call (one exchange
        action per engine batch, cancels first, each with `expiresAfter`), handed to the node's
        gateway tagged with the batch id the engine wants its answer under."""
        gw = self.node.gateway
        for out in self.path.send_cycle(self.engine, self._expires_after()):
            gw.send(out, out.batch)

    def _expires_after(self) -> int:
        return int(time.time() * 1000) + int(self.node.live.expires_after_ms)

    def on_answer(self, sent: Sent, answer: bytes, recv_ms: int) -> None:
        """The exchange's answer (or the gateway's refusal) to one of the engine's actions."""
        if self.engine is not None:
            # Answers that left were read by the engine in the order path's call; a refusal
            # made before sending is the gateway's own answer, read here.
            err = sent.engine_error
            if not sent.engine_applied:
                try:
                    self.engine.on_exchange_response(answer, recv_ms, sent.tag)
                except MmfastError as e:
                    err = str(e)
            if err is not None:
                self.node.stats.errors += 1
                log.error("engine refused the answer to %s #%d: %s", sent.kind, sent.id, err)
        self.want_cycle()

    # ================= frames =================

    def on_market(self, frame: bytes, recv_ms: int) -> None:
        path = self.path
        native = self.native_engine
        if path is not None:
            # The guard's price band is read from the feed itself (a bbo's mid), not from the
            # engine's book; the core's engine reads the frame in the same call.
            try:
                mid = path.on_hl_frame(frame, recv_ms, native)
            except MmfastError:
                # The engine refused a frame the guard may have read a bbo's mid from first.
                if frame.startswith(b'{"channel":"bbo"') and path.mid is not None:
                    self.mid = path.mid
                raise
            if mid is not None:
                self.mid = mid
        if self.engine is not None and (native is None or path is None):
            self.engine.on_hl_frame(frame, recv_ms)
        if frame.startswith((b'{"channel":"bbo"', b'{"channel":"l2Book"')):
            if self._tick_ns is None:
                self._tick_ns = time.perf_counter_ns()
            self.want_cycle()

    def on_binance(self, frame: bytes, recv_ms: int) -> None:
        if self.engine is not None:
            self.engine.on_binance_frame(frame, recv_ms)

    @property
    def native_engine(self) -> QuoteEngine | None:
        """The engine when it is the core's (the order path feeds it in its own calls); None
        for a stand-in (an engine factory's), which reads its frames itself."""
        return self.engine if isinstance(self.engine, QuoteEngine) else None

    def on_user(self, frame: bytes, recv_ms: int) -> None:
        """A user frame, read once by the order path and applied to its ledger (fills
        de-duplicated by tid) and to the engine (its own account of our orders); PnL, quota and
        the checkpoint take the fresh fills. A malformed frame (absurd sizes, prices, positions:
        the core's parser judges it, issue 13 item 7) raises before anything is applied: it
        reaches neither the ledger, nor the PnL, nor the engine."""
        native = self.native_engine
        # One parse for the ledger and the engine.
        fresh = self.path.on_user_frame(frame, recv_ms, native) if self.path is not None else []
        if native is None and self.engine is not None:
            self.engine.on_user_frame(frame, recv_ms)
        for _tid, _oid, is_buy, px, sz, fee, _t in fresh:
            self.pnl.on_fill(is_buy, px, sz, fee)
            self.node.budget.on_fill_volume(sz * px)
        if fresh and self.checkpoint is not None:
            # Stored as the exchange reported them (closedPnl included): read from the frame.
            tids = {f[0] for f in fresh}
            data = orjson.loads(frame)["data"]
            self.fills_to_store += [f for f in data.get("fills", ()) if f.get("tid") in tids]
        if b'"funding"' in frame:
            self._on_funding(frame)
        if fresh:
            self.want_cycle()

    def _on_funding(self, frame: bytes) -> None:
        data = orjson.loads(frame).get("data")
        fu = data.get("funding") if isinstance(data, dict) else None
        if isinstance(fu, dict) and fu.get("coin") == self.coin:
            usdc = float(fu.get("usdc", 0.0))
            self.pnl.funding += usdc
            if self.checkpoint is not None:
                self.checkpoint.add_funding(usdc)

    # ================= reconciliation =================

    def apply_exchange(
        self, st: ExchangeState, asked_ms: int, adopt_position: bool
    ) -> list[dict[str, Any]]:
        """Repairs the ledger and the engine from the exchange's reading `st` (asked at
        `asked_ms`); returns the open orders this trader cannot account for (to cancel)."""
        path = self.path
        # Orders we count as resting that the exchange no longer has: gone (the order stream
        # was lost with the socket). The engine learns it from the same update format.
        open_oids = {o["oid"] for o in st.open_orders}
        gone = path.drop_gone(open_oids, asked_ms)
        native = self.native_engine  # a stand-in engine keeps no book of our orders
        if native is not None:
            gone += engine_only_gone(native.orders, path.orders, open_oids, gone)
        if gone:
            log.info(
                "%d order(s) gone while we were not looking: %s", len(gone), [g[0] for g in gone]
            )
            now = int(time.time() * 1000)
            frame = orjson.dumps(
                {
                    "channel": "orderUpdates",
                    "data": [
                        {
                            "order": {
                                "coin": self.coin,
                                "side": "B" if is_buy else "A",
                                "limitPx": str(px),
                                "sz": "0.0",
                                "oid": oid,
                                "timestamp": now,
                                "origSz": str(sz),
                                **({"cloid": cloid} if cloid else {}),
                            },
                            "status": "canceled",
                            "statusTimestamp": now,
                        }
                        for oid, cloid, is_buy, px, sz in gone
                    ],
                }
            )
            if self.engine is not None:
                self.engine.on_user_frame(frame, mono_ms())
        orders = path.orders
        known = {o[0] for o in orders if o[0] is not None}
        inflight_cloids = {o[1] for o in orders if o[5] == "inflight" and o[1]}
        foreign = [
            o
            for o in st.open_orders
            if o["oid"] not in known and o.get("cloid") not in inflight_cloids
        ]
        drift = st.position - path.position
        if abs(drift) > 0.5 * 10**-st.meta.sz_decimals:
            if adopt_position or self._drift_seen == st.position:
                log.warning(
                    "position %g per the exchange, %g per our fills: adopting the exchange's",
                    st.position,
                    path.position,
                )
                path.position = st.position
                self.pnl.adopt(st.position, self.mid or st.entry_px or 0.0)
            else:
                self._drift_seen = st.position  # confirm on the next reading: fills in transit
        else:
            self._drift_seen = None
        self.engine_account(st)
        return foreign

    def inflight_targets(self) -> list[tuple[int, str]]:
        """(asset, cloid) of every placement in flight: sent, its answer not in yet."""
        if self.path is None:
            return []
        return [(self.asset, o[1]) for o in self.path.orders if o[5] == "inflight" and o[1]]

    def cancel_targets(self) -> list[tuple[int, int]]:
        """(asset, oid) of every order this trader knows to rest or be in flight with an oid."""
        if self.path is None:
            return []
        return [(self.asset, oid) for oid in self.path.resting_oids()]
