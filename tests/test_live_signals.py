"""Signals during shutdown (issue 13 item 6): a second signal never interrupts the cancel-all, a
third forces exit after saying so; never a traceback, never an unclosed HTTP client. Runs the
real `mmfast paper` in a subprocess."""

from __future__ import annotations

import json
import os
import select
import signal
import time
from pathlib import Path

import pytest
from chaos.helpers import new_key, start_bot, venue

pytestmark = [pytest.mark.timeout(120), pytest.mark.slow]


#: Venue block time: a cancel is answered when its block closes, so the bot's shutdown (drain,
#: cancel-all, check) lasts at least this long; the test signals inside that window, each one
#: after the bot said it handled the previous one (never after a fixed sleep).
SLOW_BLOCK_MS = 2500


class Bot:
    """`mmfast paper` on a venue with slow blocks, its stderr read as it comes."""

    def __init__(self, tmp_path: Path) -> None:
        key, addr = new_key()
        self.venue = venue(addr, "--block-ms", str(SLOW_BLOCK_MS))
        url = self.venue.__enter__().url
        self.p = start_bot(tmp_path, url, key, "--log-level", "INFO")
        assert self.p.stderr is not None
        self.fd = self.p.stderr.fileno()
        self.err = b""

    def signal_and_wait(self, sig: signal.Signals, says: str, timeout: float = 60) -> None:
        """Sends `sig`, then reads stderr until the bot says `says` (or exits)."""
        os.kill(self.p.pid, sig)
        deadline = time.monotonic() + timeout
        while says.encode() not in self.err and time.monotonic() < deadline:
            ready, _, _ = select.select([self.fd], [], [], 0.5)
            if ready:
                chunk = os.read(self.fd, 65536)
                if not chunk:
                    break
                self.err += chunk
        assert says.encode() in self.err, self.err.decode(errors="replace")[-3000:]

    def finish(self) -> str:
        try:
            _, rest = self.p.communicate(timeout=60)
        finally:
            if self.p.poll() is None:
                self.p.kill()
            self.venue.__exit__(None, None, None)
        return self.err.decode(errors="replace") + rest


@pytest.mark.parametrize("second", [signal.SIGTERM, signal.SIGINT])
def test_second_signal_does_not_interrupt_the_cancel_all(tmp_path: Path, second) -> None:
    bot = Bot(tmp_path)
    bot.signal_and_wait(signal.SIGINT, "stopping: signal SIGINT")
    bot.signal_and_wait(second, "shutdown in progress")
    err = bot.finish()
    p = bot.p
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err[-3000:]
    assert "Unclosed" not in err, err[-3000:]
    assert p.returncode == 0, err[-3000:]
    s = json.loads((tmp_path / "s.json").read_text())
    assert s["stop_reason"] == "signal SIGINT"
    assert "still open after cancel-all" not in err


def test_third_signal_forces_exit_after_saying_so(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    bot.signal_and_wait(signal.SIGINT, "stopping: signal SIGINT")
    bot.signal_and_wait(signal.SIGINT, "shutdown in progress")
    bot.signal_and_wait(signal.SIGINT, "forced exit")
    err = bot.finish()
    assert "Traceback" not in err and "Unclosed" not in err, err[-3000:]
