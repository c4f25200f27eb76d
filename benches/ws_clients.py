"""Websocket client choice for the feeds and the order gateway (SPEC 10, issue 7), by measurement.

Run: `python benches/ws_clients.py [--rtt N] [--push N]`. A picows server runs in its own process
on 127.0.0.1 (uvloop) and either echoes every frame (round trip) or, on `push:N`, sends N frames
back to back (receive throughput). The frame is a real Hyperliquid `l2Book` snapshot (~1.6 KB)
from the shared recordings, or a synthetic one of the same size when they are absent. Each client
(picows, websockets' asyncio client, aiohttp) runs on uvloop in this process and hands each frame
to a sink as `bytes`, which is exactly what the feed layer does. Figures: round-trip p50/p99 in us
and receive throughput in frames/s, each client against the same server in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import logging
import multiprocessing as mp
import os
import statistics
import sys
import time
from pathlib import Path

import uvloop

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("MMFAST_SHARED", ROOT.parent / "shared"))


def sample_frame() -> bytes:
    path = SHARED / "data" / "real" / "hyperliquid_btcusd_20250126.gz"
    if path.is_file():
        with gzip.open(path, "rt") as f:
            for line in f:
                _, frame = line.rstrip("\n").split(" ", 1)
                if '"l2Book"' in frame:
                    return frame.encode()
    lvl = [{"px": "105055.0", "sz": "3.03622", "n": 5}] * 20
    data = {"coin": "BTC", "time": 1, "levels": [lvl, lvl]}
    return json.dumps({"channel": "l2Book", "data": data}, separators=(",", ":")).encode()


# ---- server (own process) ----


def _serve(port_q: mp.Queue, frame: bytes) -> None:
    from picows import WSListener, WSMsgType, ws_create_server

    class Srv(WSListener):
        def on_ws_connected(self, t):  # type: ignore[no-untyped-def]
            self.t = t

        def on_ws_frame(self, t, f):  # type: ignore[no-untyped-def]
            if f.msg_type == WSMsgType.CLOSE:
                t.send_close(f.get_close_code(), f.get_close_message())
                t.disconnect()
                return
            p = f.get_payload_as_bytes()
            if p.startswith(b"push:"):
                n = int(p[5:])
                for _ in range(n):
                    t.send(WSMsgType.TEXT, frame)
                t.send(WSMsgType.TEXT, b"done")
            else:
                t.send(WSMsgType.TEXT, p)

    class Echo(asyncio.Protocol):
        def connection_made(self, transport):  # type: ignore[no-untyped-def]
            self.tr = transport

        def data_received(self, data: bytes) -> None:
            self.tr.write(data)

    async def main() -> None:
        logging.disable(logging.WARNING)  # picows logs every write-buffer pause during pushes
        srv = await ws_create_server(lambda _r: Srv(), "127.0.0.1", 0)
        raw = await asyncio.get_running_loop().create_server(Echo, "127.0.0.1", 0)
        port_q.put((srv.sockets[0].getsockname()[1], raw.sockets[0].getsockname()[1]))
        await srv.serve_forever()

    uvloop.run(main())


# ---- clients: each returns (rtt samples in us, push frames/s) ----


async def bench_picows(
    url: str, frame: bytes, n_rtt: int, n_push: int
) -> tuple[list[float], float]:
    from picows import WSListener, WSMsgType, ws_connect

    loop = asyncio.get_running_loop()

    class Cli(WSListener):
        fut: asyncio.Future[bytes] | None = None
        count = 0
        done: asyncio.Future[None] | None = None

        def on_ws_frame(self, t, f):  # type: ignore[no-untyped-def]
            b = f.get_payload_as_bytes()  # the sink gets bytes, as in the feed layer
            if self.done is not None:
                if b == b"done":
                    self.done.set_result(None)
                else:
                    self.count += 1
            elif self.fut is not None:
                self.fut.set_result(b)

    t, cli = await ws_connect(Cli, url)
    rtt = []
    for _ in range(n_rtt):
        cli.fut = loop.create_future()
        t0 = time.perf_counter_ns()
        t.send(WSMsgType.TEXT, frame)
        await cli.fut
        rtt.append((time.perf_counter_ns() - t0) / 1e3)
    cli.fut = None
    cli.done = loop.create_future()
    t0 = time.perf_counter()
    t.send(WSMsgType.TEXT, b"push:%d" % n_push)
    await cli.done
    rate = cli.count / (time.perf_counter() - t0)
    t.send_close()
    t.disconnect()
    return rtt, rate


async def bench_websockets(
    url: str, frame: bytes, n_rtt: int, n_push: int
) -> tuple[list[float], float]:
    from websockets.asyncio.client import connect

    async with connect(url, compression=None, max_size=None, ping_interval=None) as ws:
        rtt = []
        text = frame.decode()
        for _ in range(n_rtt):
            t0 = time.perf_counter_ns()
            await ws.send(text)
            await ws.recv(decode=False)
            rtt.append((time.perf_counter_ns() - t0) / 1e3)
        count = 0
        t0 = time.perf_counter()
        await ws.send(f"push:{n_push}")
        while True:
            b = await ws.recv(decode=False)
            if b == b"done":
                break
            count += 1
        return rtt, count / (time.perf_counter() - t0)


async def bench_aiohttp(
    url: str, frame: bytes, n_rtt: int, n_push: int
) -> tuple[list[float], float]:
    import aiohttp

    async with aiohttp.ClientSession() as s, s.ws_connect(url, compress=0, autoping=False) as ws:
        rtt = []
        text = frame.decode()
        for _ in range(n_rtt):
            t0 = time.perf_counter_ns()
            await ws.send_str(text)
            m = await ws.receive()
            _ = m.data.encode() if isinstance(m.data, str) else m.data
            rtt.append((time.perf_counter_ns() - t0) / 1e3)
        count = 0
        t0 = time.perf_counter()
        await ws.send_str(f"push:{n_push}")
        while True:
            m = await ws.receive()
            b = m.data.encode() if isinstance(m.data, str) else m.data
            if b == b"done":
                break
            count += 1
        return rtt, count / (time.perf_counter() - t0)


async def bench_raw_tcp(port: int, frame: bytes, n_rtt: int) -> list[float]:
    """The floor: the same bytes echoed over a bare uvloop TCP connection, no websocket."""
    loop = asyncio.get_running_loop()

    class P(asyncio.Protocol):
        fut: asyncio.Future[None] | None = None
        got = 0

        def data_received(self, data: bytes) -> None:
            self.got += len(data)
            if self.got >= len(frame) and self.fut is not None:
                self.got = 0
                self.fut.set_result(None)

    tr, p = await loop.create_connection(P, "127.0.0.1", port)
    rtt = []
    for _ in range(n_rtt):
        p.fut = loop.create_future()
        t0 = time.perf_counter_ns()
        tr.write(frame)
        await p.fut
        rtt.append((time.perf_counter_ns() - t0) / 1e3)
    tr.close()
    return rtt


CLIENTS = {"picows": bench_picows, "websockets": bench_websockets, "aiohttp": bench_aiohttp}


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q / 100 * len(xs)))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rtt", type=int, default=5000, help="round trips per client")
    ap.add_argument("--push", type=int, default=50000, help="pushed frames per client")
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds per client")
    args = ap.parse_args()
    frame = sample_frame()
    ctx = mp.get_context("spawn")
    q: mp.Queue = ctx.Queue()
    proc = ctx.Process(target=_serve, args=(q, frame), daemon=True)
    proc.start()
    try:
        ws_port, raw_port = q.get(timeout=20)
        url = f"ws://127.0.0.1:{ws_port}/"
        results: dict[str, list[tuple[list[float], float]]] = {k: [] for k in CLIENTS}
        raw: list[float] = []
        for _ in range(args.rounds):  # alternate so that machine noise hits every client alike
            raw += uvloop.run(bench_raw_tcp(raw_port, frame, args.rtt))
            for name, fn in CLIENTS.items():
                results[name].append(uvloop.run(fn(url, frame, args.rtt, args.push)))
        print(
            f"frame {len(frame)} bytes, {args.rtt} round trips and {args.push} pushed frames "
            f"x {args.rounds} rounds, uvloop {uvloop.__version__}, python {sys.version.split()[0]}"
        )
        print(f"{'client':<11} {'rtt_p50_us':>10} {'rtt_p99_us':>10} {'recv_frames_s':>14}")
        print(f"{'raw tcp':<11} {pct(raw, 50):>10.1f} {pct(raw, 99):>10.1f} {'-':>14}")
        for name, rs in results.items():
            rtt = [x for r in rs for x in r[0]]
            rate = statistics.median(r[1] for r in rs)
            print(f"{name:<11} {pct(rtt, 50):>10.1f} {pct(rtt, 99):>10.1f} {rate:>14.0f}")
    finally:
        proc.kill()
        proc.join(5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
