"""Shared by the chaos suite: a venue process the test owns, the real bot (`mmfast paper
--venue URL`) in a subprocess, and the venue's own view of the account."""

from __future__ import annotations

import json
import os
import secrets
import select
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from mmfast.backtest.markets import synthetic_asset
from mmfast.cli.paper import open_orders
from mmfast.live.venue_process import VenueProcess


def new_key() -> tuple[str, str]:
    from eth_account import Account

    key = "0x" + secrets.token_hex(32)
    return key, Account.from_key(key).address.lower()


def venue(address: str, *extra: str, seed: int = 7) -> VenueProcess:
    return VenueProcess(
        ["--market", "synthetic", "--seed", str(seed),
         "--sim", json.dumps({"assets": [synthetic_asset("demo", "ETH")]}),
         "--fund", f"{address}=1000", "--no-ip-limit", *extra]
    )  # fmt: skip


def start_bot(
    tmp_path: Path, url: str | None, key: str | None, *args: str, duration: float = 60
) -> subprocess.Popen[str]:
    """`mmfast paper` (on the venue at `url`, signing with `key`, when given); returns once it
    quotes: a progress line with resting quotes."""
    venue_args = ["--venue", url, "--key-env"] if url else []
    env = {**os.environ, **({"MMFAST_PRIVATE_KEY": key} if key else {})}
    p = subprocess.Popen(
        [sys.executable, "-m", "mmfast.cli", "paper", "--plain", *venue_args,
         "--duration", str(duration), "--summary", str(tmp_path / "s.json"), *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path, env=env,
    )  # fmt: skip
    assert p.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and p.poll() is None:
        ready, _, _ = select.select([p.stdout], [], [], 1.0)
        if ready:
            line = p.stdout.readline()
            if line.startswith("t=") and "quotes=-" not in line:
                return p
    p.kill()
    _, err = p.communicate(timeout=10)
    pytest.fail(f"the bot did not start quoting in 60 s: {err[-2000:]}")


class Stderr:
    """The bot's stderr (or `stream="stdout"`: its progress lines), read as it comes: tests
    wait on what the bot says, not on sleeps."""

    def __init__(self, p: subprocess.Popen[str], stream: str = "stderr") -> None:
        f = getattr(p, stream)
        assert f is not None
        self.fd = f.fileno()
        self.text = ""

    def poll(self) -> str:
        """Reads what is there without waiting (keeps the pipe from filling up and blocking
        the bot while a test waits on something else); returns the text so far."""
        while select.select([self.fd], [], [], 0)[0]:
            chunk = os.read(self.fd, 65536)
            if not chunk:
                break
            self.text += chunk.decode(errors="replace")
        return self.text

    def wait(self, pred: Callable[[str], bool], timeout_s: float) -> bool:
        """Reads until `pred(text so far)` holds, the stream ends or `timeout_s` passes."""
        deadline = time.monotonic() + timeout_s
        while not pred(self.text) and time.monotonic() < deadline:
            ready, _, _ = select.select([self.fd], [], [], 0.5)
            if ready:
                chunk = os.read(self.fd, 65536)
                if not chunk:
                    break
                self.text += chunk.decode(errors="replace")
        return pred(self.text)


__all__ = ["Stderr", "new_key", "open_orders", "start_bot", "venue"]
