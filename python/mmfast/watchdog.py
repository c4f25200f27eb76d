"""Our own dead-man switch (SPEC 10), independent of the engine's circuit breakers.

Two conditions halt quoting and cancel every resting order: Hyperliquid market data older than
`risk.hl_stale_ms` (no book, bbo or pong), and an event loop that has not run for
`live.loop_stall_ms`. The first is checked inside the loop every 50 ms. The second cannot be, so
a daemon thread watches the loop's heartbeat and, when it stops, calls the emergency cancel
itself, over its own blocking HTTP request (the loop is the thing that is stuck). When the loop
comes back it sees the gap too and cancels through the normal path. Quoting resumes when data is
fresh again; the halt reason is what the gateway's guard consults.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


class Watchdog:
    def __init__(
        self,
        *,
        stale_ms: int,
        stall_ms: int,
        last_hl_ms: Callable[[], int],
        cancel_all: Callable[[str], Awaitable[None]],
        emergency_cancel: Callable[[str], None] | None = None,
        on_resume: Callable[[str], None] | None = None,
        tick_s: float = 0.05,
    ) -> None:
        self.stale_ms = stale_ms
        self.stall_ms = stall_ms
        self.last_hl_ms = last_hl_ms
        self.cancel_all = cancel_all
        self.emergency_cancel = emergency_cancel
        #: Called when a halt clears: the owner re-reads the exchange before quoting again
        #: (frames, fills among them, may have been lost while the data was stale).
        self.on_resume = on_resume
        self.tick_s = tick_s
        #: Why quoting is halted ("stale", "stall"), or None.
        self.halted: str | None = None
        self.stale_events = 0
        self.stall_events = 0
        #: Age of the last Hyperliquid frame when staleness was last detected (ms).
        self.last_stale_age_ms: int | None = None
        self._beat_ns = time.monotonic_ns()
        self._thread_fired = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _now_ms(self) -> int:
        return time.monotonic_ns() // 1_000_000

    async def run(self) -> None:
        self._beat_ns = time.monotonic_ns()  # the loop's silence counts from now
        if self.emergency_cancel is not None and self._thread is None:
            self._thread = threading.Thread(
                target=self._watch_loop, name="mmfast-watchdog", daemon=True
            )
            self._thread.start()
        try:
            while True:
                prev = self._beat_ns
                await asyncio.sleep(self.tick_s)
                now_ns = time.monotonic_ns()
                self._beat_ns = now_ns
                gap_ms = (now_ns - prev) / 1e6 - self.tick_s * 1000
                if gap_ms > self.stall_ms:
                    if not self._thread_fired:  # the thread has counted it already
                        self.stall_events += 1
                    log.error("event loop stalled for %.0f ms: cancelling everything", gap_ms)
                    self._thread_fired = False
                    await self._halt("stall")
                    self.halted = None  # the loop runs again; staleness is judged below
                    if self.on_resume is not None:
                        self.on_resume("stall")
                age = self._now_ms() - self.last_hl_ms()
                if age > self.stale_ms:
                    if self.halted != "stale":
                        self.stale_events += 1
                        self.last_stale_age_ms = age
                        log.error("Hyperliquid data stale for %d ms: cancelling everything", age)
                        await self._halt("stale")
                elif self.halted == "stale":
                    log.info("Hyperliquid data fresh again: quoting resumes")
                    self.halted = None
                    if self.on_resume is not None:
                        self.on_resume("stale")
        finally:
            self._stop.set()

    async def _halt(self, why: str) -> None:
        self.halted = why
        try:
            await self.cancel_all(why)
        except Exception:
            log.exception("watchdog cancel-all (%s) failed", why)

    def _watch_loop(self) -> None:
        while not self._stop.wait(min(0.1, self.stall_ms / 4000)):
            stalled_ms = (time.monotonic_ns() - self._beat_ns) / 1e6
            if stalled_ms > self.stall_ms and not self._thread_fired:
                self._thread_fired = True
                self.stall_events += 1
                log.error(
                    "event loop silent for %.0f ms: emergency cancel from the watchdog thread",
                    stalled_ms,
                )
                try:
                    assert self.emergency_cancel is not None
                    self.emergency_cancel("stall")
                except Exception:
                    log.exception("emergency cancel failed")

    def stop(self) -> None:
        self._stop.set()
