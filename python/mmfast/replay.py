"""Recordings of shared/data (`<receive ns> <raw frame>` per line, gzip or plain), read in Rust.

Frames come back as raw `bytes`, never decoded in Python: hand them to `HlBook.apply`,
`BinanceBook.apply` or the engine as you would a websocket message.

    from mmfast.replay import read_frames
    for recv_ns, frame in read_frames("hyperliquid_btcusd_20250126.gz"):
        book.apply(frame)
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from mmfast._core import ReplayReader


def read_frames(path: str | os.PathLike[str], batch: int = 4096) -> Iterator[tuple[int, bytes]]:
    """Yields `(receive_ns, frame)` for every line of the recording at `path`.

    Lines are fetched from Rust `batch` at a time, which amortises the call per frame.
    Raises `BookError` for a missing file or a malformed line.
    """
    reader = ReplayReader(path)
    while True:
        chunk = reader.read_batch(batch)
        if not chunk:
            return
        yield from chunk


__all__ = ["ReplayReader", "read_frames"]
