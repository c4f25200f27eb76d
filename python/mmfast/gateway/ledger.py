"""The gateway's own account of our orders and position (SPEC 3 safety invariant, SPEC 8 step 7).

Kept apart from the engine's so that the pre-send guard checks the invariant against an
independent view. It reads only what the exchange says and what we send: actions as they leave
(in flight), answers to them, `orderUpdates`, `userFills` (deduplicated by `tid`, the position's
truth) and the periodic snapshot of `openOrders` / `clearinghouseState`.

It errs on the side of counting too much: an order leaves the count only once the exchange has
said it is gone, and a cancel or modify in flight still counts the old order (a modify counts old
and new). Fills reach us twice, from the order side (an answer `filled`, an `orderUpdates`
entry with less size left or status `filled`) and from `userFills`, in either order. Per oid the
ledger keeps R, the size the order side reported filled, and F, the size `userFills` delivered
(position moves with F only). An order then counts its live size minus what F already moved into
position ahead of R, and R - F beyond that is counted as pending: whichever stream is first, the
order's size is counted once, never zero times.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from mmfast.gateway.responses import ActionResult, ErrorKind

EPS = 1e-9


def _now_ms() -> int:
    return time.monotonic_ns() // 1_000_000


@dataclass(slots=True)
class Order:
    is_buy: bool
    px: float
    sz: float
    oid: int | None = None
    cloid: str | None = None
    #: "inflight" (sent, unanswered), "resting", "canceling", "modifying" (old side of a modify)
    state: str = "inflight"
    reduce_only: bool = False
    #: Local monotonic ms at which the exchange was last seen to hold it (0: never yet).
    since_ms: int = 0


@dataclass(slots=True)
class _Sent:
    kind: str
    #: Per item: the new order (place/modify) and the old order's key (cancel/modify).
    new: list[Order | None] = field(default_factory=list)
    old: list[Any] = field(default_factory=list)


def _key_of_old(ref: Any) -> Any:
    """A cancel/modify target: an oid (int) or a cloid ("0x.." string), lowercased."""
    return ref.lower() if isinstance(ref, str) else ref


class OrderLedger:
    """Orders by oid and by cloid, position from fills, and the exposure per direction."""

    def __init__(self, asset: int, coin: str, max_seen_tids: int = 100_000) -> None:
        self.asset = asset
        self.coin = coin
        self.position = 0.0
        self.orders: list[Order] = []
        self._sent: dict[Any, _Sent] = {}
        #: oid -> [is_buy, R (filled per the order side), F (filled per userFills)].
        self._rf: dict[int, list[Any]] = {}
        self._tids: OrderedDict[int, None] = OrderedDict()
        self._max_tids = max_seen_tids
        self.fills = 0
        self.volume_usd = 0.0

    # ---- lookup ----

    def find(self, ref: Any) -> Order | None:
        ref = _key_of_old(ref)
        for o in self.orders:
            if (isinstance(ref, int) and o.oid == ref) or (
                isinstance(ref, str) and o.cloid is not None and o.cloid.lower() == ref
            ):
                return o
        return None

    def resting_oids(self) -> list[int]:
        return [o.oid for o in self.orders if o.oid is not None]

    def exposure(self) -> tuple[float, float]:
        """(position + every live buy, -position + every live sell), the two sides of the
        safety invariant, counting resting, in-flight and pending-fill size."""
        buys = sells = 0.0
        rf = self._rf
        for o in self.orders:
            live = o.sz
            if o.oid is not None and o.oid in rf:
                _, r, f = rf[o.oid]
                if f > r:  # userFills ran ahead of the order side: that part is in position
                    live = max(0.0, live - (f - r))
            if o.is_buy:
                buys += live
            else:
                sells += live
        for is_buy, r, f in rf.values():
            if r > f:  # reported filled, not yet in position
                if is_buy:
                    buys += r - f
                else:
                    sells += r - f
        return self.position + buys, -self.position + sells

    @property
    def pending_fill(self) -> float:
        """Size reported filled by the order side that `userFills` has not delivered yet."""
        return sum(max(0.0, r - f) for _, r, f in self._rf.values())

    # ---- what we send ----

    def on_send(self, ref: Any, action: dict[str, Any]) -> None:
        """Records an action as it leaves; `ref` is the id its answer will carry."""
        kind = action.get("type")
        sent = _Sent(str(kind))
        if kind == "order":
            for w in action.get("orders", ()):
                o = _order_from_wire(w)
                self.orders.append(o)
                sent.new.append(o)
                sent.old.append(None)
        elif kind in ("batchModify", "modify"):
            mods = action.get("modifies") if kind == "batchModify" else [action]
            for m in mods or ():
                old = self.find(m.get("oid"))
                if old is not None and old.state == "resting":
                    old.state = "modifying"
                o = _order_from_wire(m.get("order", {}))
                self.orders.append(o)
                sent.new.append(o)
                sent.old.append(_key_of_old(m.get("oid")))
        elif kind in ("cancel", "cancelByCloid"):
            for c in action.get("cancels", ()):
                target = c.get("o") if kind == "cancel" else c.get("cloid")
                old = self.find(target)
                if old is not None and old.state == "resting":
                    old.state = "canceling"
                sent.new.append(None)
                sent.old.append(_key_of_old(target))
        self._sent[ref] = sent

    def on_result(self, ref: Any, result: ActionResult) -> None:
        """Applies the exchange's answer (or a synthesised one) to the action sent as `ref`."""
        sent = self._sent.pop(ref, None)
        if sent is None:
            return
        for i, st in enumerate(result.statuses[: max(len(sent.new), len(sent.old))]):
            new = sent.new[i] if i < len(sent.new) else None
            old_ref = sent.old[i] if i < len(sent.old) else None
            old = self.find(old_ref) if old_ref is not None else None
            if st.kind == "resting":
                if new is not None:
                    new.state, new.oid, new.since_ms = "resting", st.oid, _now_ms()
                    if st.cloid and not new.cloid:
                        new.cloid = st.cloid
                if old is not None and old is not new:
                    self.remove(old)  # a modify that placed its new order cancelled the old
            elif st.kind == "filled":
                if new is not None:
                    if st.oid is not None:
                        self._reported(st.oid, new.is_buy, st.total_sz or new.sz)
                    self.remove(new)
                if old is not None and old is not new:
                    self.remove(old)
            elif st.kind == "success":
                if old is not None:
                    self.remove(old)
            else:  # error or waiting
                if new is not None:
                    self.remove(new)
                if old is not None:
                    if st.error_kind is ErrorKind.MISSING_ORDER:
                        self.remove(old)  # already gone: filled or cancelled
                    elif old.state in ("canceling", "modifying"):
                        old.state = "resting"

    def forget_inflight(self, ref: Any) -> None:
        """Drops an action that never left (refused by the guard or the budget)."""
        sent = self._sent.pop(ref, None)
        if sent is None:
            return
        for o in sent.new:
            if o is not None:
                self.remove(o)
        for old_ref in sent.old:
            old = self.find(old_ref) if old_ref is not None else None
            if old is not None and old.state in ("canceling", "modifying"):
                old.state = "resting"

    # ---- what the exchange streams ----

    def on_order_update(self, upd: dict[str, Any]) -> None:
        """One `orderUpdates` entry: `{order: {coin, side, limitPx, sz, oid, cloid?}, status}`."""
        o = upd.get("order", {})
        if o.get("coin") != self.coin:
            return
        oid = o.get("oid")
        cloid = o.get("cloid")
        status = upd.get("status")
        known = self.find(oid) if oid is not None else None
        if known is None and cloid:
            known = self.find(cloid)
        sz = float(o.get("sz", 0.0))
        if status == "open":
            if known is None:
                # Not ours as far as we know (an earlier process's, or an ack we have not seen):
                # count it until reconciliation decides.
                self.orders.append(
                    Order(
                        o.get("side") == "B",
                        float(o.get("limitPx", 0)),
                        sz,
                        oid,
                        cloid,
                        "resting",
                        bool(o.get("reduceOnly", False)),
                        _now_ms(),
                    )
                )
            else:
                known.oid = oid
                if known.state == "inflight":
                    known.state, known.since_ms = "resting", _now_ms()
                if oid is not None and sz < known.sz - EPS:
                    self._reported(oid, known.is_buy, known.sz - sz)  # a partial fill
                    known.sz = sz
        elif known is not None:
            if status == "filled" and oid is not None and known.sz > EPS:
                self._reported(oid, known.is_buy, known.sz)
            self.remove(known)

    def on_fill(self, fill: dict[str, Any]) -> bool:
        """One fill (`userFills` / `userEvents`); returns False for a `tid` already counted."""
        if fill.get("coin") != self.coin:
            return False
        tid = fill.get("tid")
        if tid is not None:
            if tid in self._tids:
                return False
            self._tids[tid] = None
            if len(self._tids) > self._max_tids:
                self._tids.popitem(last=False)
        is_buy = fill.get("side") == "B"
        sz = float(fill["sz"])
        px = float(fill["px"])
        self.position += sz if is_buy else -sz
        self.fills += 1
        self.volume_usd += sz * px
        oid = fill.get("oid")
        if oid is not None:
            e = self._rf.setdefault(oid, [is_buy, 0.0, 0.0])
            e[2] += sz
            self._prune(oid)
        return True

    def on_fill_seen(self, fill: dict[str, Any]) -> None:
        """Marks a fill as counted without moving the position: history replayed in a
        subscription snapshot, already inside the position read from the exchange."""
        tid = fill.get("tid")
        if tid is not None and tid not in self._tids:
            self._tids[tid] = None
            if len(self._tids) > self._max_tids:
                self._tids.popitem(last=False)

    def seen_tid(self, tid: int) -> bool:
        return tid in self._tids

    # ---- truth from the exchange ----

    def reset_from_exchange(self, position: float, open_orders: list[dict[str, Any]]) -> None:
        """Replaces resting orders and position with the exchange's snapshot. In-flight
        placements stay (their answers are still coming); pending fills are now in `position`."""
        self.position = position
        inflight = [o for o in self.orders if o.state == "inflight"]
        self.orders = inflight
        self._rf.clear()
        for oo in open_orders:
            if oo.get("coin") != self.coin:
                continue
            cloid = oo.get("cloid")
            match = next((o for o in inflight if cloid and o.cloid == cloid), None)
            if match is not None:
                match.oid, match.state, match.sz = oo["oid"], "resting", float(oo["sz"])
                match.since_ms = _now_ms()
                continue
            self.orders.append(
                Order(
                    oo.get("side") == "B",
                    float(oo["limitPx"]),
                    float(oo["sz"]),
                    oo["oid"],
                    cloid,
                    "resting",
                    bool(oo.get("reduceOnly", False)),
                    _now_ms(),
                )
            )

    # ---- internals ----

    def remove(self, o: Order) -> None:
        """Drops an order the exchange says is gone."""
        for i, x in enumerate(self.orders):
            if x is o:
                del self.orders[i]
                if o.oid is not None:
                    self._prune(o.oid)
                return

    def _reported(self, oid: int, is_buy: bool, sz: float) -> None:
        e = self._rf.setdefault(oid, [is_buy, 0.0, 0.0])
        e[1] += sz
        self._prune(oid)

    def _prune(self, oid: int) -> None:
        """Forgets an oid once it is off the book and both streams agree on its fills. (An entry
        whose fills the order side never reports counts nothing and goes at reconciliation.)"""
        e = self._rf.get(oid)
        if e is not None and abs(e[1] - e[2]) <= EPS and not any(o.oid == oid for o in self.orders):
            del self._rf[oid]


def _order_from_wire(w: dict[str, Any]) -> Order:
    """An `OrderWire` (`a, b, p, s, r, t, c?`) as it goes out."""
    return Order(
        is_buy=bool(w.get("b")),
        px=float(w.get("p", 0.0)),
        sz=float(w.get("s", 0.0)),
        cloid=w.get("c"),
        reduce_only=bool(w.get("r", False)),
    )
