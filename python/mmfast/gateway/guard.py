"""The pre-send guard (SPEC 8 step 7), independent of the engine.

It reads the action exactly as it will go on the wire (decoded from the signed body) and refuses
the whole action when any order in it breaks a rule: the right asset; post-only (ALO) for every
quote, where only a reduce-only order may take another time in force; a price within
`risk.price_band_bps` of the mid the gateway saw last on the `bbo` feed; a size within the
single-order cap; and the safety invariant of SPEC 3 per direction, against the gateway's own
ledger (position + every resting and in-flight order, a modify counting old and new), for each
direction the action adds a non-reducing order to. A reducing order (reduce-only, against the
position, at most its size) always passes, even with |position| above the max: Kill must be
able to unwind. Cancels and the housekeeping actions always pass: they never add exposure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mmfast.gateway.ledger import EPS, OrderLedger

# Actions that cannot add exposure.
_ALWAYS_OK = frozenset(
    {"cancel", "cancelByCloid", "scheduleCancel", "noop", "updateLeverage", "updateIsolatedMargin"}
)


@dataclass
class GuardLimits:
    asset: int
    #: The configured hard max on |position| (coin), not the engine's effective max.
    max_position: float
    #: Largest single order (coin): max(largest single-order fraction x max, one minimum order).
    single_order_cap: float
    price_band_bps: float


def reduces(position: float, is_buy: bool, sz: float, reduce_only: bool) -> bool:
    """A reducing order: reduce-only, on the side that brings |position| down, and no larger
    than the position (the exchange never lets a reduce-only order open exposure)."""
    if not reduce_only:
        return False
    opposite = position < -EPS if is_buy else position > EPS
    return opposite and sz <= abs(position) + EPS


class PreSendGuard:
    def __init__(self, limits: GuardLimits, ledger: OrderLedger) -> None:
        self.limits = limits
        self.ledger = ledger
        self.mid: float | None = None
        self.refusals = 0

    def check(self, action: dict[str, Any]) -> str | None:
        """None when `action` may go out; else why not (for the log and the engine)."""
        kind = action.get("type")
        if kind in _ALWAYS_OK:
            return None
        if kind == "order":
            wires = list(action.get("orders") or ())
        elif kind == "batchModify":
            wires = [m.get("order", {}) for m in action.get("modifies") or ()]
        elif kind == "modify":
            wires = [action.get("order", {})]
        else:
            return f"action type {kind!r} is not one the bot sends"
        lim = self.limits
        position = self.ledger.position
        buy, sell = self.ledger.exposure()
        # The old order of a modify is still in the ledger (it counts until the answer), so the
        # new order adds to it: a modify in flight counts both, as SPEC 3 says. A direction is
        # checked only when the action adds a non-reducing order to it: a reducing order always
        # passes (SPEC 3, 10), even with |position| above the max, or Kill could never unwind.
        adds_buy = adds_sell = False
        for w in wires:
            why = self._check_order(w, lim)
            if why is not None:
                return why
            sz = float(w.get("s", 0.0))
            is_buy = bool(w.get("b"))
            reducing = reduces(position, is_buy, sz, bool(w.get("r")))
            if is_buy:
                buy += sz
                adds_buy |= not reducing
            else:
                sell += sz
                adds_sell |= not reducing
        if adds_buy and buy > lim.max_position + EPS:
            return (
                f"safety invariant: position + resting and in-flight buys would be {buy:.8g}"
                f" > max_position {lim.max_position:.8g}"
            )
        if adds_sell and sell > lim.max_position + EPS:
            return (
                f"safety invariant: -position + resting and in-flight sells would be {sell:.8g}"
                f" > max_position {lim.max_position:.8g}"
            )
        return None

    def _check_order(self, w: dict[str, Any], lim: GuardLimits) -> str | None:
        if w.get("a") != lim.asset:
            return f"asset {w.get('a')!r} is not the traded asset {lim.asset}"
        t = w.get("t") or {}
        tif = (t.get("limit") or {}).get("tif") if isinstance(t, dict) else None
        reduce_only = bool(w.get("r"))
        if tif != "Alo" and not reduce_only:
            return f"quote with time in force {tif!r}: quotes must be post-only (Alo)"
        try:
            px, sz = float(w["p"]), float(w["s"])
        except (KeyError, TypeError, ValueError):
            return f"order without a valid price and size: {w!r}"
        if not (px > 0 and sz > 0):
            return f"order price {px} / size {sz} must be > 0"
        mid = self.mid
        if mid is None:
            if not reduce_only:
                return "no mid seen yet: quotes are refused until the book is live"
        elif abs(px - mid) / mid * 1e4 > lim.price_band_bps:
            return (
                f"price {px:.8g} is {abs(px - mid) / mid * 1e4:.1f} bps from mid {mid:.8g}"
                f" (band {lim.price_band_bps:g} bps)"
            )
        if sz > lim.single_order_cap + EPS and not reduce_only:
            return f"size {sz:.8g} above the single-order cap {lim.single_order_cap:.8g}"
        return None
