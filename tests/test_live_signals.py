"""Signals during shutdown (issue 13 item 6): a second signal never interrupts the cancel-all, a
third forces exit after saying so; never a traceback, never an unclosed HTTP client. Runs the
real `mmfast paper` in a subprocess."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from chaos.helpers import start_bot

pytestmark = [pytest.mark.timeout(120), pytest.mark.slow]


def start_paper(tmp_path: Path) -> subprocess.Popen[str]:
    return start_bot(tmp_path, None, None, "--log-level", "INFO")


@pytest.mark.parametrize("second", [signal.SIGTERM, signal.SIGINT])
def test_second_signal_does_not_interrupt_the_cancel_all(tmp_path: Path, second) -> None:
    p = start_paper(tmp_path)
    os.kill(p.pid, signal.SIGINT)
    time.sleep(0.005)
    os.kill(p.pid, second)
    _, err = p.communicate(timeout=60)
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err[-3000:]
    assert "Unclosed" not in err, err[-3000:]
    assert p.returncode == 0, err[-3000:]
    s = json.loads((tmp_path / "s.json").read_text())
    assert s["stop_reason"] == "signal SIGINT"
    assert "still open after cancel-all" not in err
    assert "shutdown in progress" in err


def test_third_signal_forces_exit_after_saying_so(tmp_path: Path) -> None:
    p = start_paper(tmp_path)
    for _ in range(3):  # 20 ms apart: close enough to land inside the shutdown (the cancel
        os.kill(p.pid, signal.SIGINT)  # waits for a 70 ms venue block), far enough apart
        time.sleep(0.02)  # that the kernel does not merge two pending SIGINTs into one
    _, err = p.communicate(timeout=60)
    assert "Traceback" not in err and "Unclosed" not in err, err[-3000:]
    assert "forced exit" in err
