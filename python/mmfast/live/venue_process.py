"""The local venue in its own process (SPEC 11), as `mmfast paper`, the integration tests and the
tick-to-order benchmark start it: `python -m mmfast.venue --port 0 ...`, whose first stdout
line is a JSON object with its URLs. Stopping sends SIGTERM (the venue cancels nothing: it just
exits) and kills after a grace period, so no venue outlives its user.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from typing import Any

from mmfast.errors import VenueError


class VenueProcess:
    """`with VenueProcess(["--seed", "7", ...]) as v: v.url, v.ws, v.binance_ws, v.ledger()`."""

    def __init__(
        self, args: Sequence[str] = (), *, timeout_s: float = 30.0, stderr: Any = None
    ) -> None:
        self.args = ["--port", "0", *args]
        self.timeout_s = timeout_s
        self.stderr = stderr
        self.proc: subprocess.Popen[bytes] | None = None
        self.info: dict[str, Any] = {}

    def start(self) -> VenueProcess:
        env = dict(os.environ)
        env.pop("MMFAST_PRIVATE_KEY", None)  # the venue never needs a key: do not hand it one
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mmfast.venue", *self.args],
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            env=env,
            start_new_session=True,
        )
        assert self.proc.stdout is not None
        deadline = time.monotonic() + self.timeout_s
        line = b""
        fd = self.proc.stdout.fileno()
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                self.stop()
                raise VenueError(
                    f"the venue did not start (args {self.args}); exit code {self.proc.returncode}"
                )
            ready, _, _ = select.select([fd], [], [], min(left, 0.5))
            if ready:
                chunk = os.read(fd, 4096)
                if not chunk:
                    continue
                line += chunk
        self.info = json.loads(line.split(b"\n", 1)[0])
        return self

    @property
    def url(self) -> str:
        return str(self.info["url"])

    @property
    def ws(self) -> str:
        return str(self.info["ws"])

    @property
    def binance_ws(self) -> str:
        return str(self.info["binance_ws"])

    @property
    def chain(self) -> str:
        return str(self.info.get("chain", "testnet"))

    def ledger(self, timeout_s: float = 5.0) -> dict[str, Any]:
        """The venue's own ledger (`GET /venue/ledger`): positions, PnL, breach counts."""
        with urllib.request.urlopen(self.url + "/venue/ledger", timeout=timeout_s) as r:
            result: dict[str, Any] = json.loads(r.read())
            return result

    def stop(self, grace_s: float = 5.0) -> None:
        p = self.proc
        if p is None or p.poll() is not None:
            return
        try:
            os.killpg(p.pid, signal.SIGTERM)
            p.wait(grace_s)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGKILL)
            p.wait(grace_s)
        if p.stdout is not None:
            p.stdout.close()

    def __enter__(self) -> VenueProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
