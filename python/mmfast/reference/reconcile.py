"""Reference of `mmfast_core::engine::reconcile::reconcile_side` (SPEC 8 step 6)."""

from __future__ import annotations

from dataclasses import dataclass

EPS = 1e-9


@dataclass(frozen=True)
class Order:
    """A live order as reconcile sees it: side "bid"/"ask", state "pending_new" / "resting" /
    "pending_cancel"."""

    side: str
    px: float
    sz: float
    state: str = "resting"


# Decisions: ("keep", order, quote), ("modify", order, quote), ("cancel", order), ("place", quote),
# ("hold", quote)
Decision = tuple


def same_px(a: float, b: float) -> bool:
    return abs(a - b) <= EPS * max(abs(a), abs(b))


def within_tolerance(
    mid: float, px: float, sz: float, q_px: float, q_sz: float, max_bps_diff: float, size_tol: float
) -> bool:
    diff_bps = abs(px - q_px) / mid * 1e4
    return diff_bps <= max_bps_diff + EPS and abs(sz - q_sz) <= size_tol * q_sz + EPS * q_sz


def reconcile_side(
    mid: float,
    side: str,
    desired: list[tuple[float, float]],
    orders: list[Order],
    max_bps_diff: float,
    size_tolerance: float,
    use_modify: bool,
) -> list[Decision]:
    """`desired` is that side's (px, sz), nearest the touch first; `orders` every tracked order."""

    def live(o: Order) -> bool:
        return o.side == side and o.state != "pending_cancel"

    out: list[Decision] = []
    order_used = [False] * len(orders)
    order_kept = [False] * len(orders)
    quote_used = [False] * len(desired)
    for qi, (q_px, q_sz) in enumerate(desired):
        best = None
        best_diff = 0.0
        for oi, o in enumerate(orders):
            if not live(o) or order_used[oi]:
                continue
            if not within_tolerance(mid, o.px, o.sz, q_px, q_sz, max_bps_diff, size_tolerance):
                continue
            diff = abs(o.px - q_px)
            if best is None or diff < best_diff:
                best, best_diff = oi, diff
        if best is not None:
            order_used[best] = True
            order_kept[best] = True
            quote_used[qi] = True
            out.append(("keep", best, qi))

    def at_px(q_px: float, oi: int, o: Order) -> bool:
        return o.side == side and not order_kept[oi] and same_px(o.px, q_px)

    # one order per price: first the in-place modifies, then holds, modifies, places
    if use_modify:
        for qi, (q_px, _) in enumerate(desired):
            if quote_used[qi]:
                continue
            here = [oi for oi, o in enumerate(orders) if at_px(q_px, oi, o)]
            if (
                len(here) == 1
                and orders[here[0]].state == "resting"
                and not order_used[here[0]]
            ):
                order_used[here[0]] = True
                quote_used[qi] = True
                out.append(("modify", here[0], qi))

    def better(a: float, b: float) -> bool:
        return a > b if side == "bid" else a < b

    held = [False] * len(desired)
    for qi, (q_px, _) in enumerate(desired):
        if quote_used[qi]:
            continue
        if any(at_px(q_px, oi, o) for oi, o in enumerate(orders)):
            quote_used[qi] = held[qi] = True
            continue
        if not use_modify:
            continue
        pick = None
        for oi, o in enumerate(orders):
            if (
                live(o)
                and not order_used[oi]
                and o.state == "resting"
                and (pick is None or better(o.px, orders[pick].px))
            ):
                pick = oi
        if pick is not None:
            order_used[pick] = True
            quote_used[qi] = True
            out.append(("modify", pick, qi))
    for oi, o in enumerate(orders):
        if live(o) and not order_used[oi]:
            out.append(("cancel", oi))
    for i, used in enumerate(quote_used):
        if held[i]:
            out.append(("hold", i))
        elif not used:
            out.append(("place", i))
    return out
