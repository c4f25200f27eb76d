"""Every answer the exchange gives to an action, normalised (PROTOCOL 1.5, 3.3).

The engine gets the raw answer (`on_exchange_response`); this module is the gateway's own reading
of it, for its order ledger (the pre-send guard's view), the counters, the planner's quota and
the few answers that change what the gateway does (a refused `scheduleCancel`, an exhausted
address budget, an unknown signer).

Shapes handled: `{"status":"ok","response":{"type":..,"data":{"statuses":[..]}}}` with one status
per order (`resting`, `filled`, `error`, `"success"`, `"waitingForFill"`, ...), a single error for
the whole batch (pre-validation: fewer statuses than orders), `{"status":"err","response":"..."}`,
a websocket post whose response type is `error`, and per-order error strings with the
` asset=N` suffix production appends.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Any

_ASSET_SUFFIX = re.compile(r"\s*asset=(\d+)\s*$")


class ErrorKind(enum.Enum):
    """What an error string means for the bot (PROTOCOL 3.3 tables)."""

    TICK = "tick"
    MIN_NOTIONAL = "min_notional"
    MARGIN = "margin"
    REDUCE_ONLY = "reduce_only"
    BAD_ALO_PX = "bad_alo_px"
    IOC_CANCEL = "ioc_cancel"
    BAD_TRIGGER_PX = "bad_trigger_px"
    NO_LIQUIDITY = "no_liquidity"
    OPEN_INTEREST_CAP = "open_interest_cap"
    ORACLE = "oracle"
    MAX_POSITION = "max_position"
    MISSING_ORDER = "missing_order"
    INVALID_MODIFY = "invalid_modify"
    UNKNOWN_SIGNER = "unknown_signer"
    MUST_DEPOSIT = "must_deposit"
    NONCE = "nonce"
    ADDRESS_RATE_LIMIT = "address_rate_limit"
    IP_RATE_LIMIT = "ip_rate_limit"  # HTTP 429, set by the REST path
    SCHEDULE_CANCEL_VOLUME = "schedule_cancel_volume"
    POST_ONLY_AFTER_UPGRADE = "post_only_after_upgrade"
    TOO_MANY_POSTS = "too_many_posts"
    EXPIRED = "expired"
    LOCAL = "local"  # refused before sending (guard, budget, socket down)
    OTHER = "other"


# Prefix (or substring) -> kind, first match wins; the exchange's own wording.
_PATTERNS: list[tuple[str, ErrorKind]] = [
    ("Price must be divisible by tick size", ErrorKind.TICK),
    ("Order must have minimum value", ErrorKind.MIN_NOTIONAL),
    ("Insufficient margin", ErrorKind.MARGIN),
    ("Reduce only order would increase position", ErrorKind.REDUCE_ONLY),
    ("Post only order would have immediately matched", ErrorKind.BAD_ALO_PX),
    ("Order could not immediately match", ErrorKind.IOC_CANCEL),
    ("Invalid TP/SL price", ErrorKind.BAD_TRIGGER_PX),
    ("No liquidity available for market order", ErrorKind.NO_LIQUIDITY),
    ("open interest", ErrorKind.OPEN_INTEREST_CAP),
    ("Order price too far from oracle", ErrorKind.ORACLE),
    ("margin tier limit", ErrorKind.MAX_POSITION),
    ("Order was never placed, already canceled, or filled", ErrorKind.MISSING_ORDER),
    ("Cannot modify canceled or filled order", ErrorKind.MISSING_ORDER),
    ("Attempted to modify to invalid new order", ErrorKind.INVALID_MODIFY),
    ("does not exist", ErrorKind.UNKNOWN_SIGNER),
    ("Unable to recover signer", ErrorKind.UNKNOWN_SIGNER),
    ("Must deposit before performing actions", ErrorKind.MUST_DEPOSIT),
    ("Invalid nonce", ErrorKind.NONCE),
    ("Too many cumulative requests", ErrorKind.ADDRESS_RATE_LIMIT),
    (
        "Cannot set scheduled cancel time until enough volume traded",
        ErrorKind.SCHEDULE_CANCEL_VOLUME,
    ),
    (
        "Only post-only orders allowed immediately after a network upgrade",
        ErrorKind.POST_ONLY_AFTER_UPGRADE,
    ),
    ("too many pending post requests", ErrorKind.TOO_MANY_POSTS),
    ("expired", ErrorKind.EXPIRED),
    ("expiresAfter", ErrorKind.EXPIRED),
]


def classify(message: str) -> ErrorKind:
    low = message.lower()
    for pat, kind in _PATTERNS:
        if pat.lower() in low:
            return kind
    return ErrorKind.OTHER


def split_asset(message: str) -> tuple[str, int | None]:
    """`"Order must have minimum value of $10. asset=4"` -> (`"Order must ... $10."`, 4)."""
    m = _ASSET_SUFFIX.search(message)
    if m is None:
        return message, None
    return message[: m.start()], int(m.group(1))


@dataclass(frozen=True, slots=True)
class OrderStatus:
    """One entry of `statuses`, aligned with the request's orders (or cancels, or modifies)."""

    #: "resting" | "filled" | "success" | "waiting" | "error"
    kind: str
    oid: int | None = None
    cloid: str | None = None
    total_sz: float | None = None
    avg_px: float | None = None
    error: str | None = None
    error_kind: ErrorKind | None = None
    asset: int | None = None

    @property
    def ok(self) -> bool:
        return self.kind != "error"


@dataclass(frozen=True, slots=True)
class ActionResult:
    """The exchange's answer to one action, with whole-batch errors spread over every item."""

    ok: bool
    #: `response.type` on success ("order", "cancel", "default", ...).
    response_type: str | None
    #: One per item sent (when the count is known), each ok or carrying its error.
    statuses: tuple[OrderStatus, ...]
    #: The whole-action error (top-level err, post error, or a batch pre-validation error).
    error: str | None = None
    error_kind: ErrorKind | None = None

    @property
    def rejected(self) -> int:
        return sum(1 for s in self.statuses if not s.ok)


def _error_status(message: str) -> OrderStatus:
    msg, asset = split_asset(str(message))
    return OrderStatus("error", error=msg, error_kind=classify(msg), asset=asset)


def _status(raw: Any) -> OrderStatus:
    if isinstance(raw, str):
        if raw == "success":
            return OrderStatus("success")
        if raw in ("waitingForFill", "waitingForTrigger"):
            return OrderStatus("waiting")
        return _error_status(raw)
    if isinstance(raw, dict):
        if "resting" in raw:
            r = raw["resting"]
            return OrderStatus("resting", oid=r.get("oid"), cloid=r.get("cloid"))
        if "filled" in raw:
            f = raw["filled"]
            return OrderStatus(
                "filled",
                oid=f.get("oid"),
                cloid=f.get("cloid"),
                total_sz=float(f["totalSz"]) if "totalSz" in f else None,
                avg_px=float(f["avgPx"]) if "avgPx" in f else None,
            )
        if "error" in raw:
            return _error_status(raw["error"])
    return _error_status(f"unrecognised status {raw!r}")


def failed(message: str, n_items: int, kind: ErrorKind | None = None) -> ActionResult:
    """An action that failed as a whole: every item carries the error."""
    msg, asset = split_asset(message)
    k = kind or classify(msg)
    st = OrderStatus("error", error=msg, error_kind=k, asset=asset)
    return ActionResult(False, None, (st,) * n_items, error=msg, error_kind=k)


def parse_exchange(body: Any, n_items: int) -> ActionResult:
    """Reads an `/exchange` answer (already decoded JSON) for an action of `n_items` items
    (orders, cancels or modifies; 0 for item-less actions such as scheduleCancel)."""
    if not isinstance(body, dict):
        return failed(f"unrecognised answer {body!r}", n_items)
    if body.get("status") != "ok":
        return failed(str(body.get("response", body)), n_items)
    resp = body.get("response")
    if not isinstance(resp, dict):
        return failed(f"unrecognised answer {body!r}", n_items)
    rtype = resp.get("type")
    data = resp.get("data")
    raw = data.get("statuses") if isinstance(data, dict) else None
    if raw is None:
        # "default" answers (single modify, updateLeverage, scheduleCancel, noop) have no list.
        return ActionResult(True, rtype, (OrderStatus("success"),) * n_items)
    statuses = tuple(_status(s) for s in raw)
    if len(statuses) < n_items:
        # Pre-validation rejects the batch with one error (PROTOCOL 3.3): it applies to all.
        first_err = next((s for s in statuses if not s.ok), None)
        if first_err is not None and len(statuses) == 1:
            return ActionResult(
                True,
                rtype,
                (first_err,) * n_items,
                error=first_err.error,
                error_kind=first_err.error_kind,
            )
        missing = _error_status("no status returned for this item")
        statuses = statuses + (missing,) * (n_items - len(statuses))
    return ActionResult(True, rtype, statuses)


def parse_post(data: Any, n_items: int) -> ActionResult:
    """Reads the `response` of a websocket post answer: `{"type": "action" | "error",
    "payload": ...}`."""
    if not isinstance(data, dict):
        return failed(f"unrecognised post answer {data!r}", n_items)
    if data.get("type") == "error":
        return failed(str(data.get("payload")), n_items)
    return parse_exchange(data.get("payload"), n_items)
