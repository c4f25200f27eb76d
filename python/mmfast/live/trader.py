"""One asset's trading inside a node (SPEC 8-9): its engine, its pre-send guard and the guard's
order ledger, its PnL, and the cycle that turns its frames into signed actions.

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
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson
from mmfast.errors import MmfastError
from mmfast.feeds.ws import mono_ms
from mmfast.gateway.guard import GuardLimits, PreSendGuard
from mmfast.gateway.ledger import OrderLedger
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
    #: The most recent cycle times (bounded: a long run must not grow by one entry per cycle).
    cycle_ns: SampleRing = field(default_factory=SampleRing)
    #: Book frame received to the first resulting order written to the socket, inside the bot.
    tick_to_send_ns: SampleRing = field(default_factory=SampleRing)


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
        self.ledger: OrderLedger | None = None
        self.guard: PreSendGuard | None = None
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
        """Builds the engine, the ledger and the guard from the exchange's state at `mark`."""
        self.asset = st.meta.asset
        self.mid = mark
        self.checkpoint = checkpoint
        max_position = self._max_position(st, mark)
        self.engine = self._make_engine(st, mark, max_position)
        self.engine_account(st)
        self.ledger = OrderLedger(st.meta.asset, self.coin)
        self.ledger.reset_from_exchange(st.position, st.open_orders)
        if checkpoint is not None:
            # Fills already stored are not counted again.
            for tid in checkpoint.recent_tids():
                self.ledger.on_fill_seen({"tid": tid})
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

    def _make_engine(self, st: ExchangeState, mark: float, max_position: float) -> Any:
        if self._engine_factory is not None:
            return self._engine_factory(self.cfg, st, mark)
        from mmfast._core import QuoteEngine  # type: ignore[attr-defined]

        # The engine quotes against the same hard max the guard enforces.
        cfg = self.cfg
        if cfg.max_position_usd is None and cfg.max_position != max_position:
            cfg = _with_overrides(cfg, [("max_position", repr(max_position))])
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
                log.info("warm start: learned state restored from %s", live.checkpoint)
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
        t0 = time.perf_counter_ns()
        out = self.engine.cycle(now)
        self.stats.cycle_ns.append(time.perf_counter_ns() - t0)
        self.stats.cycles += 1
        self.last_out = out
        if out.actions:
            self.send_actions(out)
            if self._tick_ns is not None:
                self.stats.tick_to_send_ns.append(time.perf_counter_ns() - self._tick_ns)
        self._tick_ns = None

    def send_actions(self, out: Any) -> None:
        """Signs the cycle's actions, one exchange action per engine batch (cancels, modifies and
        ALO placements apart, PROTOCOL 3.4), each with `expiresAfter`, and hands them to the
        node's gateway tagged with the batch id the engine wants its answer under."""
        node = self.node
        assert node.gateway is not None
        asset = self.asset
        expires = int(time.time() * 1000) + int(node.live.expires_after_ms)
        sign = node.signer
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
            node.gateway.submit(body, tag=batch)

    def on_answer(self, sent: Sent, answer: bytes, recv_ms: int) -> None:
        """The exchange's answer (or the gateway's refusal) to one of the engine's actions."""
        if self.engine is not None:
            try:
                self.engine.on_exchange_response(answer, recv_ms, sent.tag)
            except MmfastError as e:
                self.node.stats.errors += 1
                log.error("engine refused the answer to %s #%d: %s", sent.kind, sent.id, e)
        self.want_cycle()

    # ================= frames =================

    def on_market(self, frame: bytes, recv_ms: int) -> None:
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
            self.want_cycle()

    def on_binance(self, frame: bytes, recv_ms: int) -> None:
        if self.engine is not None:
            self.engine.on_binance_frame(frame, recv_ms)

    def on_user(self, frame: bytes, recv_ms: int) -> None:
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
                forward = _only_fresh(frame, ch, data, fresh)
        elif ch == "user":
            if "fills" in data:
                fresh = self._take_fills(data["fills"])
                fills = bool(fresh)
                forward = _only_fresh(frame, ch, data, fresh)
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
            self.want_cycle()

    def _take_fills(self, fills: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The fills not seen before (by tid), applied to the ledger, PnL and quota."""
        fresh = []
        for f in fills:
            if self.ledger.on_fill(f):  # type: ignore[union-attr]
                fresh.append(f)
                sz, px = float(f["sz"]), float(f["px"])
                self.pnl.on_fill(f.get("side") == "B", px, sz, float(f.get("fee", 0.0)))
                self.node.budget.on_fill_volume(sz * px)
                if self.checkpoint is not None:
                    self.fills_to_store.append(f)
        return fresh

    # ================= reconciliation =================

    def apply_exchange(
        self, st: ExchangeState, asked_ms: int, adopt_position: bool
    ) -> list[dict[str, Any]]:
        """Repairs the ledger and the engine from the exchange's reading `st` (asked at
        `asked_ms`); returns the open orders this trader cannot account for (to cancel)."""
        assert self.ledger is not None
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
        drift = st.position - lg.position
        if abs(drift) > 0.5 * 10**-st.meta.sz_decimals:
            if adopt_position or self._drift_seen == st.position:
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
        self.engine_account(st)
        return foreign

    def cancel_targets(self) -> list[tuple[int, int]]:
        """(asset, oid) of every order this trader knows to rest or be in flight with an oid."""
        if self.ledger is None:
            return []
        return [(self.asset, o.oid) for o in list(self.ledger.orders) if o.oid is not None]


def _only_fresh(
    frame: bytes, channel: str, data: dict[str, Any], fresh: list[dict[str, Any]]
) -> bytes | None:
    """The user frame to forward to the engine: None when every fill was seen before, the frame
    itself when none was, else the frame rebuilt with only the fresh fills."""
    if not fresh:
        return None
    if len(fresh) == len(data["fills"]):
        return frame
    return orjson.dumps({"channel": channel, "data": {**data, "fills": fresh}})


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
