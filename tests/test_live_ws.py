"""The websocket connection layer over real loopback sockets: greeting tolerated, subscriptions
resent on every connect, frames delivered as bytes with a monotonic receive time, reconnect
with backoff after the server drops us, and a dead socket (pings unanswered) replaced."""

from __future__ import annotations

import asyncio
import random

import pytest
import uvloop
from live_helpers import until
from mmfast.feeds.ws import Backoff, WsConnection, hl_heartbeat, mono_ms
from picows import WSListener, WSMsgType, ws_create_server

GREETING = b"Websocket connection established."


class FakeServer:
    """A minimal Hyperliquid-like server: greets, acks subscriptions by echoing them as a data
    frame, answers pings with pongs unless told not to, and can drop every client."""

    def __init__(self, answer_pings: bool = True, fragment: bool = False) -> None:
        self.answer_pings = answer_pings
        self.fragment = fragment
        self.transports: list = []
        self.received: list[bytes] = []
        self.connections = 0

    def listener(self):  # type: ignore[no-untyped-def]
        srv = self

        class L(WSListener):
            def on_ws_connected(self, t):  # type: ignore[no-untyped-def]
                srv.connections += 1
                srv.transports.append(t)
                t.send(WSMsgType.TEXT, GREETING)

            def on_ws_frame(self, t, f):  # type: ignore[no-untyped-def]
                if f.msg_type == WSMsgType.CLOSE:
                    t.disconnect()
                    return
                p = f.get_payload_as_bytes()
                srv.received.append(p)
                if p == b'{"method":"ping"}':
                    if srv.answer_pings:
                        t.send(WSMsgType.TEXT, b'{"channel":"pong"}')
                elif srv.fragment:
                    half = len(p) // 2
                    t.send(WSMsgType.TEXT, p[:half], fin=False)
                    t.send(WSMsgType.CONTINUATION, p[half:], fin=True)
                else:
                    t.send(WSMsgType.TEXT, p)

            def on_ws_disconnected(self, t):  # type: ignore[no-untyped-def]
                if t in srv.transports:
                    srv.transports.remove(t)

        return L()

    async def start(self) -> str:
        self.server = await ws_create_server(lambda _r: self.listener(), "127.0.0.1", 0)
        return f"ws://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/ws"

    def drop_all(self) -> None:
        for t in list(self.transports):
            t.disconnect()

    async def stop(self) -> None:
        self.drop_all()
        self.server.close()
        await self.server.wait_closed()


def run(coro):  # type: ignore[no-untyped-def]
    return uvloop.run(asyncio.wait_for(coro, 20))


SUBS = [
    b'{"method":"subscribe","subscription":{"type":"bbo","coin":"ETH"}}',
    b'{"method":"subscribe","subscription":{"type":"trades","coin":"ETH"}}',
]


def test_greeting_dropped_frames_delivered_as_bytes_with_monotonic_time() -> None:
    async def main() -> None:
        srv = FakeServer()
        url = await srv.start()
        got: list[tuple[bytes, int]] = []
        conn = WsConnection("t", url, lambda f, t: got.append((f, t)), subscriptions=SUBS)
        task = asyncio.ensure_future(conn.run())
        before = mono_ms()
        await until(lambda: len(got) == 2)
        assert [f for f, _ in got] == SUBS  # echoed in order; the greeting never reached us
        assert all(isinstance(f, bytes) for f, _ in got)
        assert all(before <= t <= mono_ms() for _, t in got)
        await conn.close()
        await task
        await srv.stop()

    run(main())


def test_fragmented_message_is_one_frame() -> None:
    async def main() -> None:
        srv = FakeServer(fragment=True)
        url = await srv.start()
        got: list[bytes] = []
        conn = WsConnection("t", url, lambda f, t: got.append(f), subscriptions=SUBS[:1])
        task = asyncio.ensure_future(conn.run())
        await until(lambda: len(got) == 1)
        assert got == SUBS[:1]
        await conn.close()
        await task
        await srv.stop()

    run(main())


def test_reconnects_and_resubscribes_after_the_server_drops_us() -> None:
    async def main() -> None:
        srv = FakeServer()
        url = await srv.start()
        got: list[bytes] = []
        ups, downs = [], []
        conn = WsConnection(
            "t",
            url,
            lambda f, t: got.append(f),
            subscriptions=SUBS,
            backoff=Backoff(0.05, 0.2, random.Random(1)),
            on_up=lambda c: ups.append(c.connects),
            on_down=lambda c: downs.append(c.connects),
        )
        task = asyncio.ensure_future(conn.run())
        await until(lambda: len(got) == 2)
        srv.drop_all()
        await until(lambda: len(got) == 4)
        assert got[2:] == SUBS  # the same subscriptions, again, on the new socket
        assert conn.reconnects == 1 and srv.connections == 2
        assert ups == [1, 2] and downs == [1]
        await conn.close()
        await task
        await srv.stop()

    run(main())


def test_unanswered_ping_marks_the_socket_dead_and_it_is_replaced() -> None:
    async def main() -> None:
        srv = FakeServer(answer_pings=False)
        url = await srv.start()
        conn = WsConnection(
            "t",
            url,
            lambda f, t: None,
            heartbeat=hl_heartbeat(interval_s=0.1, timeout_s=0.3),
            backoff=Backoff(0.05, 0.1),
        )
        task = asyncio.ensure_future(conn.run())
        await until(lambda: conn.reconnects >= 1, timeout=5)
        assert b'{"method":"ping"}' in srv.received
        await conn.close()
        await task
        await srv.stop()

    run(main())


def test_answered_pings_keep_the_socket() -> None:
    async def main() -> None:
        srv = FakeServer(answer_pings=True)
        url = await srv.start()
        pongs: list[bytes] = []
        conn = WsConnection(
            "t",
            url,
            lambda f, t: pongs.append(f),
            heartbeat=hl_heartbeat(interval_s=0.05, timeout_s=0.2),
        )
        task = asyncio.ensure_future(conn.run())
        await asyncio.sleep(1.0)
        assert conn.reconnects == 0
        assert len(pongs) >= 5 and all(p == b'{"channel":"pong"}' for p in pongs)
        await conn.close()
        await task
        await srv.stop()

    run(main())


def test_sink_exception_does_not_kill_the_socket() -> None:
    async def main() -> None:
        srv = FakeServer()
        url = await srv.start()
        seen: list[bytes] = []

        def sink(f: bytes, t: int) -> None:
            seen.append(f)
            if len(seen) == 1:
                raise ValueError("bad frame")

        conn = WsConnection("t", url, sink, subscriptions=SUBS)
        task = asyncio.ensure_future(conn.run())
        await until(lambda: len(seen) == 2)
        assert conn.sink_errors == 1 and conn.reconnects == 0
        await conn.close()
        await task
        await srv.stop()

    run(main())


def test_connect_failure_retries_with_growing_backoff() -> None:
    b = Backoff(0.1, 1.0, random.Random(7))
    delays = [b.next_delay() for _ in range(6)]
    caps = [0.1, 0.2, 0.4, 0.8, 1.0, 1.0]
    for d, cap in zip(delays, caps, strict=True):
        assert cap / 2 <= d <= cap
    b.reset()
    assert b.next_delay() <= 0.1


@pytest.mark.timeout(30)
def test_server_not_there_yet_then_up() -> None:
    async def main() -> None:
        srv = FakeServer()
        url = await srv.start()
        await srv.stop()  # nobody listens on that port now
        got: list[bytes] = []
        conn = WsConnection(
            "t", url, lambda f, t: got.append(f), subscriptions=SUBS[:1], backoff=Backoff(0.05, 0.1)
        )
        task = asyncio.ensure_future(conn.run())
        await asyncio.sleep(0.3)
        assert conn.connects == 0
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        srv2 = FakeServer()
        srv2.server = await ws_create_server(lambda _r: srv2.listener(), "127.0.0.1", port)
        await until(lambda: got == SUBS[:1])
        await conn.close()
        await task
        await srv2.stop()

    run(main())
