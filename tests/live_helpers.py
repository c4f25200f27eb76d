"""Helpers of the live tests: `bot_config` (a testnet bot config aimed at a local venue),
`until` (poll a condition on the running loop, with a deadline) and a TCP proxy that sits
between the bot's websockets and the venue and can freeze, so that a connection goes silent
both ways without closing (what a network partition looks like to both ends). The proxy runs on
the test's event loop and binds 127.0.0.1 port 0."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any

from mmfast import MarketMakerConfig


def bot_config(url: str, **over: str) -> Any:
    """A bot config for the venue at `url`: ETH on testnet, no lead venue, fast reconnects;
    `over` adds or replaces config paths (dotted keys, as `--set`)."""
    base = {
        "asset": "ETH",
        "network": "testnet",
        "lead_venue": "none",
        "live.api_url": url,
        "live.reconnect_min_s": "0.05",
        "live.reconnect_max_s": "0.2",
        **over,
    }
    return MarketMakerConfig.from_toml("", "test", list(base.items()))


async def until(pred: Callable[[], object], timeout: float = 10.0) -> None:
    """Waits for `pred()` to be true; fails the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


class FreezingProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.frozen = False
        self.connections: list[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self.server: asyncio.AbstractServer | None = None

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def _accept(self, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        if self.frozen:  # a partition: the connection is accepted and then nothing happens
            self.connections.append((w, w))
            return
        ur, uw = await asyncio.open_connection(*self.target)
        self.connections.append((w, uw))
        for src, dst in ((r, uw), (ur, w)):
            t = asyncio.ensure_future(self._pump(src, dst))
            self._tasks.add(t)
            t.add_done_callback(self._tasks.discard)

    async def _pump(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await src.read(65536):
                if not self.frozen:  # frozen: bytes vanish, nobody is told
                    dst.write(data)
                    await dst.drain()
        dst.close()

    def freeze(self) -> None:
        self.frozen = True

    def thaw(self) -> None:
        """The partition heals: every connection of the frozen spell is closed (their streams
        lost bytes), so clients reconnect through a working proxy."""
        self.frozen = False
        for a, b in self.connections:
            a.close()
            b.close()
        self.connections.clear()

    async def close(self) -> None:
        for t in list(self._tasks):
            t.cancel()
        for a, b in self.connections:
            a.close()
            b.close()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
