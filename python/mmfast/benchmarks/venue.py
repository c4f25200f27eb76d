"""Venue throughput (SPEC 11): signed actions per second through the local venue, signature
recovery included, with the same-run baselines beside it.

- `venue_actions_per_s`: pre-signed ALO order actions POSTed to `/exchange` of a venue running
  in its own process (`python -m mmfast.venue`, static market, 20 ms blocks), 64 in flight from
  8 accounts; every answer is checked to be `resting`.
- `venue_http_floor_per_s`: the same load against a bare aiohttp server in its own process that
  answers a constant body: the ceiling set by HTTP on this machine.
- `venue_engine_actions_per_s`: the matching engine alone (submit + end_block, no HTTP, no
  recovery), in this process.
- `venue_recover_us` / `venue_sdk_recover_us`: recovering the signer of one body with mmfast's
  Rust recovery and with the official SDK (`recover_agent_or_user_from_l1_action`).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from typing import Any

import orjson

from mmfast.benchmarks.timing import median_ns

KEYS = ["0x" + f"{i + 1:02x}" * 32 for i in range(8)]
IN_FLIGHT = 64


def _bodies(n: int) -> tuple[list[bytes], list[str], list[dict[str, Any]]]:
    from mmfast.signing import address_from_key, sign_l1_action

    addrs = [address_from_key(k) for k in KEYS]
    base = int(time.time() * 1000)
    bodies, payloads = [], []
    for i in range(n):
        k = i % len(KEYS)
        action = {
            "type": "order",
            "orders": [
                {
                    "a": 0,
                    "b": True,
                    "p": f"{1500 + (i % 400) * 0.5:g}",
                    "s": "0.01",
                    "r": False,
                    "t": {"limit": {"tif": "Alo"}},
                }
            ],
            "grouping": "na",
        }
        nonce = base + i
        sig = sign_l1_action(KEYS[k], action, nonce, None, None, False)
        payload = {
            "action": action,
            "nonce": nonce,
            "signature": sig,
            "vaultAddress": None,
            "expiresAfter": None,
        }
        payloads.append(payload)
        bodies.append(orjson.dumps(payload))
    return bodies, addrs, payloads


def _spawn(args: list[str]) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        proc.kill()
        raise RuntimeError(f"{args[:3]} did not start")
    return proc, json.loads(line)["url"]


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


async def _load(url: str, bodies: list[bytes], check: bool) -> float:
    import aiohttp

    queue = list(reversed(bodies))
    bad: list[Any] = []

    async def worker(session: aiohttp.ClientSession) -> None:
        while queue:
            body = queue.pop()
            async with session.post(
                url + "/exchange", data=body, headers={"Content-Type": "application/json"}
            ) as r:
                out = await r.read()
            if check:
                resp = orjson.loads(out)
                if resp.get("status") != "ok" or "resting" not in str(resp):
                    bad.append(resp)

    conn = aiohttp.TCPConnector(limit=IN_FLIGHT)
    async with aiohttp.ClientSession(connector=conn) as session:
        t0 = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(IN_FLIGHT)))
        dt = time.perf_counter() - t0
    if bad:
        raise RuntimeError(f"{len(bad)} actions failed, first: {bad[0]}")
    return len(bodies) / dt


def _engine_rate(n: int) -> float:
    from mmfast._core import MatchingEngine

    e = MatchingEngine(
        orjson.dumps(
            {"market": "static", "open_order_limit": 10**7, "request_buffer": 10**9}
        ).decode()
    )
    user = "0x" + "a1" * 20
    e.add_account(user, 1e9)
    now = int(time.time() * 1000)
    e.end_block(now)
    actions = [
        orjson.dumps(
            {
                "type": "order",
                "grouping": "na",
                "orders": [
                    {
                        "a": 0,
                        "b": True,
                        "p": f"{1500 + (i % 400) * 0.5:g}",
                        "s": "0.01",
                        "r": False,
                        "t": {"limit": {"tif": "Alo"}},
                    }
                ],
            }
        )
        for i in range(n)
    ]
    t0 = time.perf_counter()
    for i, a in enumerate(actions):
        e.submit(user, a, now + i + 1, None, None, now)
        if i % 64 == 63:
            e.end_block(now + i)
    e.end_block(now + n)
    return n / (time.perf_counter() - t0)


def run(quick: bool = False) -> dict[str, float | str]:
    n = 800 if quick else 6000
    bodies, addrs, payloads = _bodies(n)
    sim = {"market": "static", "open_order_limit": 10**7, "request_buffer": 10**9}
    args = [
        "-m",
        "mmfast.venue",
        "--port",
        "0",
        "--no-ip-limit",
        "--block-ms",
        "20",
        "--sim",
        json.dumps(sim),
    ]
    for a in addrs:
        args += ["--fund", f"{a}=1000000000"]
    proc, url = _spawn(args)
    try:
        rate = asyncio.run(_load(url, bodies, check=True))
    finally:
        _stop(proc)
    echo, echo_url = _spawn(["-m", "mmfast.benchmarks.venue", "--echo-server"])
    try:
        floor = asyncio.run(_load(echo_url, bodies, check=False))
    finally:
        _stop(echo)

    from mmfast._core import recover_request
    from mmfast.benchmarks.catalog import NOT_INSTALLED

    body, p = bodies[0], payloads[0]
    out: dict[str, float | str] = {
        "venue_actions_per_s": rate,
        "venue_http_floor_per_s": floor,
        "venue_engine_actions_per_s": _engine_rate(n * 4),
        "venue_recover_us": median_ns(lambda: recover_request(body, False), n=200, batch=10) / 1e3,
    }
    try:
        from hyperliquid.utils.signing import recover_agent_or_user_from_l1_action
    except ImportError:
        out["venue_sdk_recover_us"] = NOT_INSTALLED
        return out
    sig = {
        "r": int(p["signature"]["r"], 16),
        "s": int(p["signature"]["s"], 16),
        "v": p["signature"]["v"],
    }
    sdk_n = 20 if quick else 100
    out["venue_sdk_recover_us"] = (
        median_ns(
            lambda: recover_agent_or_user_from_l1_action(
                p["action"], sig, None, p["nonce"], None, False
            ),
            n=sdk_n,
            batch=1,
        )
        / 1e3
    )
    return out


def _echo_server() -> None:
    from aiohttp import web

    async def handler(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(body=b'{"status":"ok"}', content_type="application/json")

    async def main() -> None:
        app = web.Application()
        app.router.add_post("/exchange", handler)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        sys.stdout.write(json.dumps({"url": f"http://127.0.0.1:{port}", "pid": os.getpid()}) + "\n")
        sys.stdout.flush()
        await asyncio.Event().wait()

    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover
        pass
    asyncio.run(main())


if __name__ == "__main__":
    if "--echo-server" in sys.argv:
        _echo_server()
