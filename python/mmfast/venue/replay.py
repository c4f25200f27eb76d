"""Replay of recordings in the shared/data format into the venue (SPEC 11): each gzip line is
`<receive ns> <raw frame>`. Hyperliquid `l2Book` and `trades` frames drive the engine's book
(queue positions move as in a live market); Binance frames are forwarded to the venue's
Binance streams as recorded. Frames keep their recorded spacing (divided by `replay_speed`).
"""

from __future__ import annotations

import asyncio
import gzip
import heapq
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from mmfast.venue.server import Venue

log = logging.getLogger("mmfast.venue.replay")


def read_frames(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """`(receive ns, frame)` of every line of one recording, in file order."""
    with gzip.open(path, "rb") as f:
        for line in f:
            ts, _, raw = line.partition(b" ")
            if not raw.strip():
                continue
            yield int(ts), orjson.loads(raw)


def merged(paths: list[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    """Frames of several recordings merged by receive time."""
    return heapq.merge(*(read_frames(p) for p in paths), key=lambda x: x[0])


async def replay_task(venue: Venue) -> None:
    from mmfast.venue.server import now_ms

    cfg = venue.config
    loop = asyncio.get_running_loop()
    while True:
        t0_wall = loop.time()
        t0_rec: int | None = None
        n = 0
        for ts, frame in merged(cfg.replay):
            if t0_rec is None:
                t0_rec = ts
            due = t0_wall + (ts - t0_rec) / 1e9 / cfg.replay_speed
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            await apply_frame(venue, frame, now_ms())
            n += 1
        log.info("replay done: %d frames", n)
        if not cfg.replay_loop:
            return


async def apply_frame(venue: Venue, frame: dict[str, Any], now: int) -> None:
    channel = frame.get("channel")
    if channel == "l2Book":
        venue.engine.apply_l2(orjson.dumps(frame["data"]), now)
    elif channel == "trades":
        venue.engine.apply_trades(orjson.dumps(frame["data"]), now)
    elif "stream" in frame:
        await venue.binance.publish_raw(frame["stream"], frame["data"])
    elif "lastUpdateId" in frame:
        pass  # a REST snapshot taken during the recording: not a stream frame
