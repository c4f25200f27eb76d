"""The guardian: a small process that cancels every open order of the account when the bot dies
without a clean shutdown (SPEC 10; issue 13 item 3).

The exchange's own dead-man switch (`scheduleCancel`) is refused below $1M traded, so a small
account whose bot is SIGKILLed keeps its quotes resting until someone notices, and they fill.
The guardian is started by the bot (`mmfast paper`, `mmfast run`; `--no-guardian` turns it off)
as `python -m mmfast.live.guardian`, in its own session so a signal to the bot's process group
does not take it down too. It reads one JSON line on stdin (API URL, account, the key, chain;
the key travels only through this pipe: never argv, environment, log or file), builds its own
`Signer`, answers `ready`, then watches the pipe:

- `h` lines are heartbeats; `bye` is a clean shutdown (the bot cancelled and verified): exit.
- End of file without `bye` is the bot's death (the kernel closes the pipe the instant the
  process dies, SIGKILL included): cancel every open order of the account now, verify with
  `openOrders`, retry until none is left or the bound has passed; then arm `scheduleCancel`
  as well, when the exchange allows it, for anything placed by a transaction still in flight.
- No heartbeat for `stale_s` (a hung bot): the same cancel, and keep watching.

The bound: detection is immediate on death; the cancel is one `openOrders` plus one `cancel`
round trip (a few ms on the local venue; ~0.2-0.5 s to Hyperliquid), retried within
`bound_s` = 1 s.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import select
import subprocess
import sys
import time
import urllib.request
from typing import IO, Any

log = logging.getLogger("mmfast.guardian")

HEARTBEAT = b"h\n"
BYE = b"bye\n"


def _post(api: str, path: str, body: bytes, timeout: float = 2.0) -> Any:
    req = urllib.request.Request(
        api + path, data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read())


class Canceller:
    """Cancels every open order of `account` with `signer`."""

    def __init__(self, api: str, account: str, signer: Any, dex: str = "") -> None:
        self.api = api
        self.account = account
        self.signer = signer
        #: The main perp dex, and the bot's HIP-3 dex when it trades a `dex:NAME` coin (each
        #: dex answers `meta` and `openOrders` for its own coins only).
        self.dexes = list(dict.fromkeys(["", dex]))
        self.assets: dict[str, int] = {}

    def load_assets(self) -> None:
        from mmfast.truth import asset_ids, dex_base

        perp_dexs = _post(self.api, "/info", b'{"type":"perpDexs"}') if self.dexes[1:] else []
        for dex in self.dexes:
            meta = _post(self.api, "/info", json.dumps({"type": "meta", "dex": dex}).encode())
            self.assets.update(asset_ids(meta, dex_base(perp_dexs, dex)))

    def open_orders(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for dex in self.dexes:
            body = json.dumps({"type": "openOrders", "user": self.account, "dex": dex}).encode()
            got = _post(self.api, "/info", body)
            out += got if isinstance(got, list) else []
        return out

    def cancel_all(self, bound_s: float = 1.0) -> tuple[int, int]:
        """Returns (orders cancelled, orders still open at the end)."""
        deadline = time.monotonic() + bound_s
        cancelled = 0
        left: list[dict[str, Any]] = []
        while True:
            try:
                left = [o for o in self.open_orders() if o.get("coin") in self.assets]
            except OSError as e:
                log.error("guardian: openOrders failed: %s", e)
                left = []
            if not left:
                return cancelled, 0
            if time.monotonic() > deadline + 2.0:  # past the bound: keep trying a little
                return cancelled, len(left)
            body = self.signer.sign_cancel([(self.assets[o["coin"]], int(o["oid"])) for o in left])
            try:
                resp = _post(self.api, "/exchange", body)
                statuses = ((resp.get("response") or {}).get("data") or {}).get("statuses", [])
                cancelled += sum(1 for s in statuses if s == "success")
            except (OSError, ValueError, AttributeError) as e:
                log.error("guardian: cancel failed: %s", e)
                time.sleep(0.05)

    def schedule_cancel(self) -> None:
        """Arms the exchange's dead-man switch 5 s out (refused below $1M traded: then nothing)."""
        try:
            body = self.signer.sign_schedule_cancel(int(time.time() * 1000) + 5000)
            resp = _post(self.api, "/exchange", body)
            if resp.get("status") != "ok":
                log.info("guardian: scheduleCancel refused: %s", resp.get("response"))
        except (OSError, ValueError) as e:
            log.info("guardian: scheduleCancel failed: %s", e)


def watch(
    stream: IO[bytes], canceller: Canceller, stale_s: float, bound_s: float, out: IO[str]
) -> int:
    """Watches the bot's pipe until a clean `bye` (0) or its death (cancels, then 0 if nothing
    is left open, else 1)."""
    fd = stream.fileno()
    buf = b""
    last = time.monotonic()
    while True:
        ready, _, _ = select.select([fd], [], [], max(0.05, stale_s - (time.monotonic() - last)))
        if ready:
            chunk = os.read(fd, 4096)
            if not chunk:
                return _died(canceller, bound_s, out, "the bot's pipe closed without bye")
            buf = (buf + chunk)[-64:]
            last = time.monotonic()
            if BYE in buf:
                print("guardian: clean shutdown", file=out, flush=True)
                return 0
        elif time.monotonic() - last >= stale_s:
            print(f"guardian: no heartbeat for {stale_s:g} s: cancelling", file=out, flush=True)
            canceller.cancel_all(bound_s)
            last = time.monotonic()


def _died(canceller: Canceller, bound_s: float, out: IO[str], why: str) -> int:
    t0 = time.monotonic()
    n, left = canceller.cancel_all(bound_s)
    ms = (time.monotonic() - t0) * 1000
    print(
        f"guardian: {why}: cancelled {n} order(s) in {ms:.0f} ms; {left} left open",
        file=out,
        flush=True,
    )
    canceller.schedule_cancel()
    return 0 if left == 0 else 1


def main() -> int:
    from mmfast._core import Signer
    from mmfast.errors import VenueError

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    stdin = sys.stdin.buffer
    line = stdin.readline()
    try:
        cfg = json.loads(line)
        key = cfg.pop("key")
    except (ValueError, KeyError, AttributeError):
        print("guardian: expected one JSON line with api, account, key, mainnet", file=sys.stderr)
        return 2
    signer = Signer(key, is_mainnet=bool(cfg.get("mainnet", False)))
    del key, line
    canceller = Canceller(
        str(cfg["api"]), str(cfg["account"]).lower(), signer, str(cfg.get("dex", ""))
    )
    try:
        canceller.load_assets()
    except (OSError, VenueError) as e:
        print(f"guardian: cannot read meta from {cfg['api']}: {e}", file=sys.stderr)
        return 1
    print("ready", flush=True)
    return watch(
        stdin, canceller, float(cfg.get("stale_s", 10.0)), float(cfg.get("bound_s", 1.0)),
        sys.stderr,
    )  # fmt: skip


class Guardian:
    """The bot's handle on its guardian process: `start`, `beat` (cheap; call it from the loop
    often), `close(clean)`."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc

    @classmethod
    def start(
        cls,
        api: str,
        account: str,
        key_hex: str,
        *,
        is_mainnet: bool,
        dex: str = "",
        stale_s: float = 10.0,
        bound_s: float = 1.0,
        timeout_s: float = 15.0,
    ) -> Guardian:
        from mmfast.errors import VenueError

        env = dict(os.environ)
        env.pop("MMFAST_PRIVATE_KEY", None)  # it gets the key through its pipe, once
        proc = subprocess.Popen(
            [sys.executable, "-m", "mmfast.live.guardian"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            start_new_session=True,
        )
        assert proc.stdin is not None and proc.stdout is not None
        cfg = {"api": api, "account": account, "key": key_hex, "mainnet": is_mainnet,
               "dex": dex, "stale_s": stale_s, "bound_s": bound_s}  # fmt: skip
        proc.stdin.write(json.dumps(cfg).encode() + b"\n")
        proc.stdin.flush()
        del cfg
        ready, _, _ = select.select([proc.stdout], [], [], timeout_s)
        if not ready or proc.stdout.readline().strip() != b"ready":
            proc.kill()
            proc.wait()
            raise VenueError("the guardian process did not start")
        os.set_blocking(proc.stdin.fileno(), False)
        return cls(proc)

    def beat(self) -> None:
        with contextlib.suppress(ValueError, OSError):  # full pipe, or the guardian gone
            os.write(self.proc.stdin.fileno(), HEARTBEAT)  # type: ignore[union-attr]

    def close(self, clean: bool) -> None:
        """`clean`: the bot verified that nothing is open; otherwise the guardian cancels."""
        stdin = self.proc.stdin
        if stdin is not None and not stdin.closed:
            if clean:
                with contextlib.suppress(OSError):
                    os.set_blocking(stdin.fileno(), True)
                    stdin.write(BYE)
                    stdin.flush()
            with contextlib.suppress(OSError):
                stdin.close()
        try:
            self.proc.wait(5.0)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


if __name__ == "__main__":
    sys.exit(main())
