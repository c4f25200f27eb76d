"""A fixed-size ring of the most recent integer samples (cycle and tick-to-send times, in ns).

Preallocated, so the memory it takes is the same from the first cycle to the millionth: the bot
used to keep every cycle's time in a list and grew ~70 kB a minute (issue 13 item 10). The buffer
is written once when made: `np.zeros` of this size maps zero pages the kernel backs only when
first written, so an untouched ring grew the RSS by 8 bytes a sample until it wrapped (65,536
cycles = 1.8 h at the soak's 600 cycles a minute; seen as +5.7 KiB/min in a 20-min soak).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import numpy.typing as npt


class SampleRing:
    """`append` is O(1); `values(last)` returns the most recent samples, oldest first."""

    def __init__(self, capacity: int = 65_536) -> None:
        if capacity <= 0:
            raise ValueError(f"capacity = {capacity}: must be > 0")
        self._buf = np.empty(capacity, dtype=np.int64)
        self._buf.fill(0)  # every page resident now, not one more per 512 samples (docstring)
        self._n = 0

    def append(self, value: int) -> None:
        self._buf[self._n % len(self._buf)] = value
        self._n += 1

    @property
    def total(self) -> int:
        """Samples ever appended (the ring holds at most `capacity` of them)."""
        return self._n

    def __len__(self) -> int:
        return min(self._n, len(self._buf))

    def values(self, last: int | None = None) -> npt.NDArray[np.int64]:
        cap = len(self._buf)
        k = len(self) if last is None else min(last, len(self))
        if self._n <= cap:
            return self._buf[self._n - k : self._n].copy()
        end = self._n % cap
        idx = (np.arange(end - k, end) + cap) % cap
        return self._buf[idx]

    def __iter__(self) -> Iterator[int]:
        return iter(self.values().tolist())
