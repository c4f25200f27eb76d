"""The order gateway (SPEC 8 step 7, SPEC 10; PROTOCOL 1.5, 3, 5).

Signed request bodies (bytes) leave through the websocket `post` method on a connection of their
own, at most `live.max_inflight_posts` (100) awaiting an answer, each with a unique id matched to
its answer; when that socket is down or full they go by REST `/exchange`. What reaches the
gateway has passed the pre-send guard already (`OrderPath.send_cycle` for the engine's actions,
`OrderPath.accept_body` for the node's own, in Rust, which also records them in the guard's
ledger); the gateway adds the address budget, writes bytes and hands every answer back to the
path as bytes: the path reads each answer once (for its ledger, the engine and the gateway's
counters, `ActionResult`), so the gateway decodes none. Every outcome, answered, refused locally,
or found out later, reaches `on_answer(sent, answer_bytes, result, recv_ms)` exactly once, with
`answer_bytes` the answer as received (a `post` answer or an `/exchange` body) or built here in
the `/exchange` shape, so the engine and the ledger read one format whatever happened.

An action with no answer after `live.post_timeout_ms` (or whose socket dropped) is not declared
lost at once: its orders are looked up with `orderStatus` by cloid (cancels by oid) and the answer
is rebuilt from what the exchange knows. An order the exchange does not know is declared lost
only once its `expiresAfter` has passed, since until then the action may still land.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson
from mmfast._core import Answer
from mmfast.feeds.ws import WsConnection, mono_ms
from mmfast.gateway.limits import AddressBudget, WeightBucket
from mmfast.gateway.responses import ActionResult, ErrorKind, failed, read
from mmfast.gateway.rest import RateLimited, RestClient

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Sent:
    """One action handed to the gateway."""

    id: int
    body: bytes
    kind: str
    n_items: int
    sent_ms: int
    #: Wall-clock ms after which the exchange refuses the action (None: never expires).
    expires_after: int | None
    via: str = "ws"
    tag: Any = None
    lookups: int = 0
    nonce: int | None = None
    #: None: no noop tried; True: our noop took the nonce (the action can never land);
    #: False: the exchange refused it (the nonce was used: the action reached the exchange).
    burnt: bool | None = None
    #: Per item, what to look it up by: the new order's cloid, or the cancelled order's id.
    refs: list[Any] | None = None
    #: The engine already read the answer (in the order path's one call) and, if it refused
    #: it, why.
    engine_applied: bool = False
    engine_error: str | None = None


def answer_bytes(result_statuses: list[Any], response_type: str) -> bytes:
    """An answer in the `/exchange` shape built from statuses (for lookups and local refusals)."""
    return orjson.dumps(
        {"status": "ok", "response": {"type": response_type, "data": {"statuses": result_statuses}}}
    )


def error_bytes(message: str) -> bytes:
    return orjson.dumps({"status": "err", "response": message})


AnswerSink = Callable[[Sent, bytes, ActionResult, int], None]
#: `info(request_type, **fields)` -> decoded JSON (the REST client's `info`).
InfoFn = Callable[..., Awaitable[Any]]


class OrderGateway:
    def __init__(
        self,
        *,
        rest: RestClient,
        path: Any,
        budget: AddressBudget,
        on_answer: AnswerSink,
        account: str,
        max_inflight: int = 100,
        post_timeout_ms: int = 5_000,
        ws_messages_per_minute: int = 2_000,
        sign_noop: Callable[[int], bytes] | None = None,
    ) -> None:
        self.ws: WsConnection | None = None
        #: Signs a `noop` with a given nonce: burns the nonce of an unanswered action so that it
        #: can never land (PROTOCOL 3.2), which settles it without waiting for expiresAfter.
        self.sign_noop = sign_noop
        self.rest = rest
        #: The asset's `OrderPath` (guard, ledger, signer; in Rust).
        self.path = path
        #: The trader's engine, fed the answers to its batches in the same call as the ledger.
        self.engine: Any = None
        self.budget = budget
        self.on_answer = on_answer
        self.account = account
        self.max_inflight = max_inflight
        self.post_timeout_ms = post_timeout_ms
        self.ws_bucket = WeightBucket(ws_messages_per_minute)
        self.inflight: dict[int, Sent] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.sent = 0
        self.sent_rest = 0
        self.rejected = 0
        self.refused = 0
        self.lost = 0
        self.answers = 0
        self.errors_by_kind: dict[str, int] = {}
        #: (action kind, result) -> actions: kind is the exchange action type (order, cancel,
        #: cancelByCloid, batchModify, scheduleCancel, updateLeverage, noop), result one of sent,
        #: rejected, refused (never sent: guard or budget), lost (orders found never to land).
        self.by_kind: dict[tuple[str, str], int] = {}
        #: Callbacks for specific error kinds (e.g. the refused scheduleCancel, a bad signer).
        self.on_error_kind: dict[ErrorKind, Callable[[Sent, ActionResult], None]] = {}

    def _count(self, kind: str, result: str, n: int = 1) -> None:
        key = (kind, result)
        self.by_kind[key] = self.by_kind.get(key, 0) + n

    # ---- sending ----

    def submit(self, body: bytes, tag: Any = None, via_rest: bool = False) -> Sent:
        """Checks and sends one body signed elsewhere (the node's own actions). Never raises for
        a refusal: the outcome arrives at `on_answer` (synchronously when refused locally)."""
        return self.send(self.path.accept_body(body), tag, via_rest)

    def send(self, out: Any, tag: Any = None, via_rest: bool = False) -> Sent:
        """Sends one `Outgoing` of the order path. `via_rest` skips the websocket (for a cancel
        when that socket may be the thing that is broken).

        On the websocket path the bytes are written first and the bookkeeping (the `Sent`
        record, the counters) follows: the answer cannot be read before this returns to the
        loop, and the write is what the tick-to-order time waits for."""
        n = out.n_items
        kind = out.kind
        why = out.refused
        budget = self.budget
        if why is None and not budget.allows(kind, n):
            self.path.forget(out.id)
            why = (
                f"address budget: {budget.headroom} actions left "
                f"(used {budget.used} of {budget.cap})"
            )
        ws = self.ws
        written = (
            why is None
            and not via_rest
            and ws is not None
            and ws.connected
            and len(self.inflight) < self.max_inflight
            and self.ws_bucket.take(1)
        )
        if written:
            try:
                ws.send(  # type: ignore[union-attr]
                    b'{"method":"post","id":%d,"request":{"type":"action","payload":%b}}'
                    % (out.id, out.body)
                )
            except Exception as e:  # REST then: the same body and nonce can land only once
                log.warning("order socket write failed (%r): %s #%d by REST", e, kind, out.id)
                written = False
        s = Sent(
            out.id,
            out.body,
            kind,
            n,
            mono_ms(),
            out.expires_after,
            tag=tag,
            nonce=out.nonce,
            refs=out.refs,
        )
        if why is not None:
            self.refused += 1
            self._count(kind, "refused")
            log.warning("refused %s (%d items): %s", kind, n, why)
            self._finish(
                s,
                error_bytes(f"refused before sending: {why}"),
                failed(why, n, ErrorKind.LOCAL),
                mono_ms(),
                sent=False,
            )
            return s
        budget.spend(n)
        self.inflight[s.id] = s
        self.sent += 1
        self._count(kind, "sent")
        if not written:
            self._rest_send(s)
        return s

    def _rest_send(self, s: Sent) -> None:
        s.via = "rest"
        s.sent_ms = mono_ms()
        self.sent_rest += 1
        self._spawn(self._rest_roundtrip(s))

    async def _rest_roundtrip(self, s: Sent) -> None:
        try:
            data = await self.rest.exchange(s.body, s.n_items)
        except RateLimited as e:
            self._answer(
                s.id, error_bytes(str(e)), failed(str(e), s.n_items, ErrorKind.IP_RATE_LIMIT)
            )
            return
        except Exception as e:  # a transport failure: whether it landed is unknown, look it up
            log.warning("REST /exchange for %s #%d failed (%s): looking it up", s.kind, s.id, e)
            await self._lookup(s)
            return
        self._answer(s.id, data)  # an unreadable answer fails the action as a whole

    # ---- answers ----

    def on_frame(self, frame: bytes, recv_ms: int) -> None:
        """Sink of the order socket: post answers, error frames, pongs. A post answer goes to
        the order path as bytes, read there once for the ledger, the engine and this gateway."""
        if frame.startswith(b'{"channel":"pong"'):
            return
        if frame.startswith(b'{"channel":"post"'):
            a = self.path.on_post(frame, recv_ms, self.engine)
            if a is not None:
                s = self.inflight.pop(a.id, None)
                if s is not None:
                    self._finish(s, frame, ActionResult(a), recv_ms, read=a)
                    return
                log.warning("answer to post id %d, in the ledger but not in flight", a.id)
                return
        # Rare: error frames, answers to ids not in flight (settled by a lookup already).
        msg = orjson.loads(frame)
        ch = msg.get("channel")
        if ch == "post":
            log.warning("answer to unknown post id %r", (msg.get("data") or {}).get("id"))
        elif ch == "error":
            text = str(msg.get("data"))
            if "too many pending post requests" in text:
                # The exchange did not take it: resend the same body (same nonce) by REST.
                pid = _trailing_int(text)
                s = self.inflight.get(pid) if pid is not None else None
                if s is not None and s.via == "ws":
                    self._rest_send(s)
                    return
            log.warning("order socket error frame: %s", text[:300])

    def _answer(self, pid: int, answer: bytes, result: ActionResult | None = None) -> None:
        """The answer to `pid` from REST or a lookup (`result`: the gateway's own reading,
        e.g. an HTTP 429, else the order path's)."""
        s = self.inflight.pop(pid, None)
        if s is None:
            return
        self._finish(s, answer, result, mono_ms())

    def _finish(
        self,
        s: Sent,
        answer: bytes,
        result: ActionResult | None,
        recv_ms: int,
        sent: bool = True,
        read: Answer | None = None,
    ) -> None:
        """Settles `s`: a sent action's answer goes to the order path (the ledger and, for the
        engine's batches, the engine, in one call that also reads it, unless `read` says it
        did already); then the counters, the callbacks and the node's sink."""
        self.answers += 1
        if sent:
            if read is None:
                read = self.path.on_answer(s.id, answer, recv_ms, self.engine)
            s.engine_error = read.engine_error
            s.engine_applied = read.engine_applied
            if result is None:
                result = ActionResult(read)
        assert result is not None, "an action refused before sending comes with its reading"
        if result.rejected or not result.ok:
            bad = result.bad_kinds
            # A cancel of an order that is already gone is the expected race, not a rejection.
            if not result.ok or any(k is not ErrorKind.MISSING_ORDER for k in bad):
                self.rejected += 1
                if sent:  # a refusal before sending is counted as "refused"
                    self._count(s.kind, "rejected")
            for k in bad or [result.error_kind or ErrorKind.OTHER]:
                self.errors_by_kind[k.value] = self.errors_by_kind.get(k.value, 0) + 1
            whole = result.error_kind
            for kind in {*bad, *([whole] if whole is not None else [])}:
                cb = self.on_error_kind.get(kind)
                if cb is not None:
                    cb(s, result)
        self.on_answer(s, answer, result, recv_ms)

    # ---- unanswered actions ----

    def on_socket_down(self) -> None:
        """The order socket dropped: its unanswered posts will never be answered there."""
        for s in list(self.inflight.values()):
            if s.via == "ws":
                s.via = "lost-socket"
                self._spawn(self._lookup(s))

    async def sweep(self) -> None:
        """Looks up every action unanswered for longer than the post timeout (run periodically)."""
        now = mono_ms()
        for s in list(self.inflight.values()):
            if s.via in ("ws", "rest") and now - s.sent_ms > self.post_timeout_ms:
                s.via = "lookup"
                self._spawn(self._lookup(s))

    async def _lookup(self, s: Sent) -> None:
        """Rebuilds the answer of `s` from `orderStatus`, asking again (with a growing pause)
        while an order may still land, until the action is answered or decided."""
        while s.id in self.inflight:
            s.lookups += 1
            statuses: list[Any] = []
            undecided = False
            try:
                if s.kind in ("order", "batchModify"):
                    for cloid in s.refs or ():
                        st, und = await self._order_status(cloid, s)
                        statuses.append(st)
                        undecided |= und
                elif s.kind in ("cancel", "cancelByCloid"):
                    for ref in s.refs or ():
                        statuses.append(await self._cancel_status(ref))
                else:
                    # Housekeeping (scheduleCancel, updateLeverage, noop): nothing to look up.
                    self._answer(s.id, error_bytes("no answer"))
                    return
            except (RateLimited, aiohttp.ClientError, OSError, asyncio.TimeoutError) as e:
                log.warning("orderStatus lookup of %s #%d failed (%s); retrying", s.kind, s.id, e)
                undecided = True
            if not undecided:
                rtype = "cancel" if s.kind in ("cancel", "cancelByCloid") else "order"
                lost = sum(
                    1 for st in statuses if isinstance(st, dict) and "lost" in str(st.get("error"))
                )
                self.lost += lost
                if lost:
                    self._count(s.kind, "lost", lost)
                data = answer_bytes(statuses, rtype)
                log.info("%s #%d settled by lookup: %s", s.kind, s.id, data[:400])
                self._answer(s.id, data)
                return
            await asyncio.sleep(min(2.0, 0.25 * s.lookups))

    async def _order_status(self, cloid: str | None, s: Sent) -> tuple[Any, bool]:
        """An order's status entry rebuilt from `orderStatus`, and whether to ask again later."""
        if cloid is None:
            return {"error": "no answer and no cloid to look the order up by"}, False
        r = await self.rest.info("orderStatus", user=self.account, oid=cloid)
        if r.get("status") == "order":
            o = r["order"]["order"]
            st = r["order"].get("status")
            if st == "open":
                return {"resting": {"oid": o["oid"], "cloid": cloid}}, False
            if st == "filled":
                return {
                    "filled": {
                        "totalSz": o.get("origSz", o.get("sz")),
                        "avgPx": o.get("limitPx"),
                        "oid": o["oid"],
                        "cloid": cloid,
                    }
                }, False
            # canceled / rejected after it rested: the order stream tells the rest.
            return {"resting": {"oid": o["oid"], "cloid": cloid}}, False
        if s.burnt is None and self.sign_noop is not None and s.nonce is not None:
            s.burnt = await self._burn_nonce(s)
        expires = s.expires_after
        if s.burnt:
            pass  # it can never land
        elif expires is not None and time.time() * 1000 <= expires + 1_000:
            return None, True  # may still land: ask again after expiresAfter
        elif s.burnt is False and s.lookups < 8:
            return None, True  # it reached the exchange: give its status time to show
        return {"error": "lost: no answer, and the exchange does not know the order"}, False

    async def _burn_nonce(self, s: Sent) -> bool | None:
        """Sends a `noop` with `s`'s nonce: True when the exchange took it (so `s` never will),
        False when it refused it as already used (so `s` reached the exchange), None when the
        answer says neither."""
        assert self.sign_noop is not None and s.nonce is not None
        try:
            data = await self.rest.exchange(self.sign_noop(s.nonce), 0)
        except (RateLimited, aiohttp.ClientError, OSError, asyncio.TimeoutError) as e:
            log.warning("noop for the nonce of %s #%d failed: %s", s.kind, s.id, e)
            return None
        r = read(data, 0)
        if r.ok:
            log.warning("%s #%d had no answer: its nonce is burnt, it can never land", s.kind, s.id)
            return True
        if r.error_kind is ErrorKind.NONCE:
            # "duplicate nonce": used by the action itself. "nonce too low": 100 newer nonces
            # are in, so the action could not land any more either.
            return "too low" in (r.error or "")
        return None

    async def _cancel_status(self, ref: Any) -> Any:
        r = await self.rest.info("orderStatus", user=self.account, oid=ref)
        if r.get("status") == "order" and r["order"].get("status") == "open":
            return {"error": "cancel lost: the order is still open"}
        if r.get("status") == "order":
            return "success"
        return {"error": "Order was never placed, already canceled, or filled."}

    # ---- tasks ----

    def _spawn(self, coro: Awaitable[None]) -> None:
        t = asyncio.ensure_future(coro)
        self._tasks.add(t)
        t.add_done_callback(self._tasks.discard)

    async def drain(self, timeout_s: float) -> bool:
        """Waits until nothing is in flight (or the timeout); True when drained."""
        deadline = time.monotonic() + timeout_s
        while self.inflight and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        return not self.inflight

    async def close(self) -> None:
        for t in list(self._tasks):
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


def _trailing_int(text: str) -> int | None:
    digits = ""
    for ch in reversed(text):
        if ch.isdigit():
            digits = ch + digits
        elif digits:
            break
    return int(digits) if digits else None
