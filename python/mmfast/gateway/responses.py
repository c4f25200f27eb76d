"""Every answer the exchange gives to an action, normalised (PROTOCOL 1.5, 3.3).

The answer is read once, in the core, by the order path's own call (`OrderPath.on_post` /
`on_answer`), which applies it to the guard's ledger and the engine and returns what the gateway
counts and reacts to (`mmfast._core.Answer`): this module gives that a typed face, for the
counters, the planner's quota and the few answers that change what the gateway does (a refused
`scheduleCancel`, an exhausted address budget, an unknown signer). The exchange's error strings
are mapped to kinds in the core (`protocol::errors`); `ErrorKind` names the same values.

Shapes handled: `{"status":"ok","response":{"type":..,"data":{"statuses":[..]}}}` with one status
per order (`resting`, `filled`, `error`, `"success"`, `"waitingForFill"`, ...), a single error for
the whole batch (pre-validation: fewer statuses than orders), `{"status":"err","response":"..."}`,
a websocket post whose response type is `error`, and per-order error strings with the
` asset=N` suffix production appends.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

import orjson
from mmfast._core import Answer, classify_error, read_answer
from mmfast._core import split_asset as split_asset  # the ` asset=N` suffix, split off


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


def classify(message: str) -> ErrorKind:
    """The kind of an exchange error message (the core's table, `protocol::errors`)."""
    return ErrorKind(classify_error(message))


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


class ActionResult:
    """The exchange's answer to one action, with whole-batch errors spread over every item: a
    view of the core's reading (`Answer`), whose per-item statuses are built only when asked
    for (the normal answer, all ok, needs none of them)."""

    __slots__ = ("_statuses", "answer")

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self._statuses: tuple[OrderStatus, ...] | None = None

    @property
    def ok(self) -> bool:
        """False when the action failed as a whole."""
        return self.answer.ok

    @property
    def response_type(self) -> str | None:
        """`response.type` on success ("order", "cancel", "default", ...)."""
        return self.answer.response_type

    @property
    def error(self) -> str | None:
        """The whole-action error (top-level err, post error, or a batch pre-validation error)."""
        return self.answer.error

    @property
    def error_kind(self) -> ErrorKind | None:
        k = self.answer.error_kind
        return None if k is None else ErrorKind(k)

    @property
    def rejected(self) -> int:
        """Items not ok."""
        return self.answer.rejected

    @property
    def bad_kinds(self) -> list[ErrorKind]:
        """The kind of each item not ok, in order."""
        return [ErrorKind(k) for k in self.answer.bad_kinds]

    @property
    def statuses(self) -> tuple[OrderStatus, ...]:
        """One per item sent (when the count is known), each ok or carrying its error."""
        if self._statuses is None:
            self._statuses = tuple(
                OrderStatus(kind, oid, cloid, sz, px, err, None if ek is None else ErrorKind(ek), a)
                for kind, oid, cloid, sz, px, err, ek, a in self.answer.statuses()
            )
        return self._statuses

    def __repr__(self) -> str:
        return (
            f"ActionResult(ok={self.ok}, response_type={self.response_type!r}, "
            f"statuses={self.statuses!r}, error={self.error!r}, error_kind={self.error_kind})"
        )


def failed(message: str, n_items: int, kind: ErrorKind | None = None) -> ActionResult:
    """An action that failed as a whole: every item carries the error (`kind`, else the one
    its message reads as)."""
    return ActionResult(Answer.failed(message, n_items, None if kind is None else kind.value))


def read(answer: bytes, n_items: int) -> ActionResult:
    """Reads an answer in bytes (an `/exchange` body or a websocket `post` answer) for an action
    of `n_items` items, outside any order path (the ledger and the engine read theirs in
    `OrderPath.on_post` / `on_answer`)."""
    return ActionResult(read_answer(answer, n_items))


def parse_exchange(body: Any, n_items: int) -> ActionResult:
    """Reads an `/exchange` answer already decoded (tools, tests) for an action of `n_items`
    items (orders, cancels or modifies; 0 for item-less actions such as scheduleCancel)."""
    return read(orjson.dumps(body), n_items)


def parse_post(data: Any, n_items: int) -> ActionResult:
    """Reads the decoded `response` of a websocket post answer: `{"type": "action" | "error",
    "payload": ...}`."""
    return read(orjson.dumps({"channel": "post", "data": {"id": 0, "response": data}}), n_items)
