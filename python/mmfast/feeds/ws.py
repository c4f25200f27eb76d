"""One websocket connection kept alive (SPEC 10; PROTOCOL 1.1-1.3 and 6.1).

picows on uvloop, chosen by measurement (benches/ws_clients.py, loopback, 1.6 KB l2Book frames:
picows 23 us round trip p50 and 261k frames/s received, aiohttp 28 us / 196k, websockets 41 us /
104k, in the same run). `WsConnection.run()` connects, sends the subscriptions, hands every data
frame to the sink as `bytes` with the local monotonic receive time in ms (one call per frame),
and on any disconnect waits an exponential backoff with jitter and does it all again.

Hyperliquid sockets use the application-level heartbeat (`{"method":"ping"}` every 30 s; a ping
unanswered for 10 s means the socket is dead), and the plain-text greeting the server may send
on connect is dropped. Binance sockets answer the server's protocol pings (picows does) and send
their own protocol pings when idle.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from picows import WSError, WSFrame, WSListener, WSMsgType, WSTransport, ws_connect

log = logging.getLogger(__name__)

#: `sink(frame, recv_ms)`: called once per data frame, in the loop thread.
Sink = Callable[[bytes, int], None]


def mono_ms() -> int:
    """The local monotonic clock in ms: the clock of every `recv_ms` and of the engine's cycle."""
    return time.monotonic_ns() // 1_000_000


@dataclass(frozen=True)
class Heartbeat:
    """An application-level ping: `message` every `interval_s`, and also whenever nothing has
    been received for `idle_s` (when set); a ping whose pong has not come within `timeout_s`
    marks the socket dead. `is_pong(frame)` recognises the answer."""

    message: bytes
    is_pong: Callable[[bytes], bool]
    interval_s: float = 30.0
    timeout_s: float = 10.0
    idle_s: float | None = None


HL_PING = b'{"method":"ping"}'


def hl_heartbeat(
    interval_s: float = 30.0, timeout_s: float = 10.0, idle_s: float | None = None
) -> Heartbeat:
    return Heartbeat(
        HL_PING, lambda f: f.startswith(b'{"channel":"pong"'), interval_s, timeout_s, idle_s
    )


class Backoff:
    """Exponential backoff with equal jitter: attempt n waits d/2 + U(0, d/2) with
    d = min(max_s, min_s * 2**n), so that many clients do not reconnect in step and one client
    never hammers the server (Hyperliquid allows 30 new connections a minute)."""

    def __init__(self, min_s: float = 0.25, max_s: float = 30.0, rng: random.Random | None = None):
        self.min_s, self.max_s = min_s, max_s
        self.attempt = 0
        self._rng = rng or random.Random()

    def next_delay(self) -> float:
        d = min(self.max_s, self.min_s * (2**self.attempt))
        self.attempt = min(self.attempt + 1, 32)
        return d / 2 + self._rng.uniform(0, d / 2)

    def reset(self) -> None:
        self.attempt = 0


class _Listener(WSListener):  # type: ignore[misc]
    __slots__ = ("conn", "parts")

    def __init__(self, conn: WsConnection) -> None:
        self.conn = conn
        self.parts: list[bytes] = []

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        recv_ms = time.monotonic_ns() // 1_000_000
        t = frame.msg_type
        if t is WSMsgType.TEXT or t is WSMsgType.BINARY or t is WSMsgType.CONTINUATION:
            if not frame.fin:  # a fragmented message: keep the pieces until the last one
                self.parts.append(frame.get_payload_as_bytes())
                return
            data = frame.get_payload_as_bytes()
            if self.parts:
                self.parts.append(data)
                data = b"".join(self.parts)
                self.parts.clear()
            self.conn._deliver(data, recv_ms)
        elif t is WSMsgType.CLOSE:
            transport.send_close(frame.get_close_code(), frame.get_close_message())
            transport.disconnect()


class WsConnection:
    """A websocket to `url` that reconnects until `close()`.

    `subscriptions` are sent, in order, after every connect. `on_up(conn)` runs after they are
    sent (resynchronise there: snapshots follow) and `on_down(conn)` when the socket is lost.
    Frames that are not JSON (the Hyperliquid greeting) are dropped; pongs of the heartbeat are
    delivered too (the engine counts them as proof the feed is alive).
    """

    def __init__(
        self,
        name: str,
        url: str,
        sink: Sink,
        *,
        subscriptions: Sequence[bytes] = (),
        heartbeat: Heartbeat | None = None,
        protocol_ping_s: float | None = None,
        backoff: Backoff | None = None,
        on_up: Callable[[WsConnection], None] | None = None,
        on_down: Callable[[WsConnection], None] | None = None,
        handshake_timeout_s: float = 5.0,
        stable_after_s: float = 10.0,
    ) -> None:
        self.name, self.url, self.sink = name, url, sink
        self.subscriptions = list(subscriptions)
        self.heartbeat = heartbeat
        self.protocol_ping_s = protocol_ping_s
        self.backoff = backoff or Backoff()
        self.on_up, self.on_down = on_up, on_down
        self.handshake_timeout_s = handshake_timeout_s
        self.stable_after_s = stable_after_s
        self.transport: WSTransport | None = None
        self.connects = 0
        self.frames = 0
        self.sink_errors = 0
        self.last_recv_ms = 0
        self._ping_sent_ms: int | None = None
        self._closing = False
        self._up = asyncio.Event()

    # ---- state ----

    @property
    def connected(self) -> bool:
        return self.transport is not None

    @property
    def reconnects(self) -> int:
        return max(0, self.connects - 1)

    async def wait_connected(self, timeout: float | None = None) -> None:
        await asyncio.wait_for(self._up.wait(), timeout)

    # ---- io ----

    def send(self, data: bytes) -> bool:
        """Sends a text frame now; False when the socket is down (the caller decides what then)."""
        t = self.transport
        if t is None:
            return False
        t.send(WSMsgType.TEXT, data)
        return True

    def drop(self) -> None:
        """Closes the current socket; `run` reconnects (used when a socket is judged dead)."""
        t = self.transport
        if t is not None:
            t.disconnect()

    async def close(self) -> None:
        self._closing = True
        t = self.transport
        if t is not None:
            t.send_close()
            t.disconnect()

    def _deliver(self, data: bytes, recv_ms: int) -> None:
        self.last_recv_ms = recv_ms
        if not data or data[0] not in b"{[":  # "Websocket connection established." and kin
            return
        hb = self.heartbeat
        if hb is not None and self._ping_sent_ms is not None and hb.is_pong(data):
            self._ping_sent_ms = None
        self.frames += 1
        try:
            self.sink(data, recv_ms)
        except Exception:
            # A frame the consumer cannot take must not take the socket down with it.
            self.sink_errors += 1
            log.exception("%s: sink failed on a %d-byte frame", self.name, len(data))

    async def _heartbeat(self, hb: Heartbeat) -> None:
        step = min(hb.interval_s, hb.timeout_s, hb.idle_s or hb.interval_s) / 4
        next_ping = time.monotonic() + hb.interval_s
        while True:
            await asyncio.sleep(step)
            now = time.monotonic()
            now_ms = mono_ms()
            sent = self._ping_sent_ms
            if sent is not None and now_ms - sent > hb.timeout_s * 1000:
                log.warning("%s: no pong for %.0f s, reconnecting", self.name, hb.timeout_s)
                self.drop()
                return
            idle = hb.idle_s is not None and now_ms - self.last_recv_ms >= hb.idle_s * 1000
            if sent is None and (now >= next_ping or idle):
                next_ping = now + hb.interval_s
                self._ping_sent_ms = now_ms
                self.send(hb.message)

    async def run(self) -> None:
        """Connects and reconnects until `close()`; returns only then."""
        while not self._closing:
            try:
                transport, _ = await ws_connect(
                    lambda: _Listener(self),
                    self.url,
                    websocket_handshake_timeout=self.handshake_timeout_s,
                    enable_auto_ping=self.protocol_ping_s is not None,
                    auto_ping_idle_timeout=self.protocol_ping_s or 10,
                    auto_ping_reply_timeout=(self.heartbeat.timeout_s if self.heartbeat else 10),
                    logger_name=f"mmfast.ws.{self.name}",
                )
            except (OSError, WSError, asyncio.TimeoutError) as e:
                delay = self.backoff.next_delay()
                log.warning("%s: connect failed (%s); retry in %.2f s", self.name, e, delay)
                await asyncio.sleep(delay)
                continue
            if self._closing:
                transport.disconnect()
                break
            self.transport = transport
            self.connects += 1
            self._ping_sent_ms = None
            up_at = time.monotonic()
            for msg in self.subscriptions:
                transport.send(WSMsgType.TEXT, msg)
            self._up.set()
            if self.connects > 1:
                log.info("%s: reconnected (%d)", self.name, self.reconnects)
            if self.on_up is not None:
                self.on_up(self)
            hb = (
                asyncio.create_task(self._heartbeat(self.heartbeat))
                if self.heartbeat is not None
                else None
            )
            try:
                await transport.wait_disconnected()
            except asyncio.CancelledError:
                transport.disconnect()
                raise
            finally:
                if hb is not None:
                    hb.cancel()
                self.transport = None
                self._up.clear()
            if self.on_down is not None:
                self.on_down(self)
            if self._closing:
                break
            if time.monotonic() - up_at >= self.stable_after_s:
                self.backoff.reset()
            delay = self.backoff.next_delay()
            log.warning("%s: disconnected; reconnect in %.2f s", self.name, delay)
            await asyncio.sleep(delay)
