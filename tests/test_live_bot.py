"""The whole bot (feeds, the real engine, signer, guard, gateway) against the local venue's
synthetic market over loopback sockets: it quotes both sides, survives dropped connections,
takes over from a crashed run without orphans or duplicates, halts on stale data, and leaves
nothing behind. The venue counts safety-invariant breaches itself."""

from __future__ import annotations

import asyncio
import gc
import secrets
import socket
import urllib.request
from typing import Any

import orjson
import pytest
import uvloop
from live_helpers import FreezingProxy, bot_config, until
from mmfast import Signer
from mmfast.keys import Identity
from mmfast.live.bot import Bot
from mmfast.venue import VenueConfig, VenueThread

pytestmark = pytest.mark.timeout(120)

MAX = 0.3


def config(url: str, **over: str) -> Any:
    return bot_config(
        url, **{"max_position": str(MAX), "ladder.min_half_spread_bps": "2.5", **over}
    )


class Market:
    def __init__(self, max_position: float = MAX) -> None:
        self.key = secrets.token_hex(32)
        s = Signer(self.key, is_mainnet=False)
        self.signer, self.addr = s, s.address.lower()
        self.venue = VenueThread(
            VenueConfig(
                sim={
                    "market": "synthetic",
                    "seed": 11,
                    "assets": [
                        {
                            "coin": "ETH",
                            "sz_decimals": 4,
                            "max_leverage": 25,
                            "mid": 3000.0,
                            "binance_symbol": "",
                            "synthetic": {"kappa": 0.25},
                        }
                    ],
                },
                accounts=[(self.addr, 10_000.0)],
                max_positions=[(self.addr, "ETH", max_position)],
            )
        )

    def bot(self, **over: str) -> Bot:
        return Bot(config(self.venue.url, **over), Identity(self.signer, self.addr, self.addr))

    def open_orders(self) -> list[dict[str, Any]]:
        body = orjson.dumps({"type": "openOrders", "user": self.addr})
        return list(orjson.loads(self.venue.call(lambda: self.venue.venue.engine.info(body))))

    def position(self) -> float:
        body = orjson.dumps({"type": "clearinghouseState", "user": self.addr})
        st = orjson.loads(self.venue.call(lambda: self.venue.venue.engine.info(body)))
        return sum(float(p["position"]["szi"]) for p in st["assetPositions"])

    def breaches(self) -> int:
        led = self.venue.ledger()
        return int(led.get("ledger", led)[self.addr]["breaches"])

    def drop_connections(self) -> None:
        async def drop() -> None:
            for c in list(self.venue.venue._clients):
                await c.ws.close()

        self.venue.call(lambda: asyncio.ensure_future(drop()))

    def __enter__(self) -> Market:
        self.venue.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.venue.stop()


async def started(bot: Bot) -> asyncio.Task[dict[str, Any]]:
    task = asyncio.ensure_future(bot.run(None, install_signals=False))
    await until(lambda: bot.synced or task.done(), 20)
    assert not task.done(), task.result()
    return task


def sides(orders: list[dict[str, Any]]) -> set[str]:
    return {o["side"] for o in orders}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def scrape(port: int) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        lines = r.read().decode().splitlines()
    return {k: float(v) for k, v in (ln.split(" ", 1) for ln in lines if ln.startswith("mmfast_"))}


def test_quotes_both_sides_and_leaves_nothing_behind() -> None:
    port = free_port()

    async def main() -> None:
        with Market() as m:
            bot = m.bot(**{"live.metrics_port": str(port)})
            task = await started(bot)
            # What was alive at the start is out of the collector's sight while quoting ...
            assert gc.get_freeze_count() > 0
            await until(lambda: sides(m.open_orders()) == {"A", "B"})
            ours = {o[1] for o in bot.trader.path.orders}
            assert {o["cloid"] for o in m.open_orders()} <= ours | {None}
            await until(lambda: scrape(port).get("mmfast_cycles_total", 0) > 0, 10)
            metrics = scrape(port)
            assert metrics["mmfast_max_position"] == MAX and metrics["mmfast_halted"] == 0
            assert metrics["mmfast_mid"] > 0 and metrics["mmfast_actions_sent_total"] > 0
            bot.stop("test over")
            s = await asyncio.wait_for(task, 30)
            assert m.open_orders() == []
            assert s["errors"] == 0 and s["actions_sent"] > 0 and m.breaches() == 0
            # ... and back in it once the node is done (a finished node's cycles are freed).
            assert gc.get_freeze_count() == 0

    uvloop.run(main())


def test_dropped_connections_reconcile_and_resume_quoting() -> None:
    async def main() -> None:
        with Market() as m:
            bot = m.bot()
            task = await started(bot)
            await until(lambda: len(m.open_orders()) >= 2)
            sent = bot.gateway.sent
            m.drop_connections()
            await until(lambda: bot.stats.resyncs >= 1 and bot.synced, 20)
            await until(lambda: bot.gateway.sent > sent + 2 and len(m.open_orders()) >= 2, 20)
            # after the resync the ledger is the exchange's picture
            await asyncio.sleep(0.5)
            assert {o["oid"] for o in m.open_orders()} <= set(bot.trader.path.resting_oids()) | {
                o[0] for o in bot.trader.path.orders
            }
            bot.stop("test over")
            s = await asyncio.wait_for(task, 30)
            assert s["reconnects"] >= 3 and s["errors"] == 0
            assert m.open_orders() == [] and m.breaches() == 0

    uvloop.run(main())


def test_restart_after_a_crash_leaves_no_orphan_and_no_duplicate() -> None:
    async def main() -> None:
        with Market() as m:
            first = m.bot()
            task = await started(first)
            await until(lambda: len(m.open_orders()) >= 2)

            async def crashed(reason: str) -> None:  # a crash cancels nothing
                return None

            first.cancel_all = crashed  # type: ignore[method-assign]
            first.stop("crash")
            await asyncio.wait_for(task, 60)
            left = m.open_orders()
            assert len(left) >= 2  # the crashed run's orders still rest

            second = m.bot()
            task = await started(second)
            assert second.stats.orphans_cancelled == len(left)
            await until(lambda: len(m.open_orders()) >= 2)
            resting = m.open_orders()
            mine = {o[1] for o in second.trader.path.orders}
            assert all(o["cloid"] in mine for o in resting)  # only the new run's orders
            assert len({o["cloid"] for o in resting}) == len(resting)
            second.stop("test over")
            s = await asyncio.wait_for(task, 30)
            assert s["errors"] == 0 and m.open_orders() == [] and m.breaches() == 0

    uvloop.run(main())


def test_silent_connection_goes_stale_and_the_watchdog_cancels_by_rest() -> None:
    stale_ms = 1500

    async def main() -> None:
        with Market() as m:
            host, port = m.venue.url.removeprefix("http://").split(":")
            proxy = FreezingProxy(host, int(port))
            pport = await proxy.start()
            bot = m.bot(
                **{
                    "risk.hl_stale_ms": str(stale_ms),
                    "live.ws_url": f"ws://127.0.0.1:{pport}/ws",
                    "live.reconnect_min_s": "1.0",
                    "live.reconnect_max_s": "2.0",
                }
            )
            task = await started(bot)
            await until(lambda: len(m.open_orders()) >= 2)
            proxy.freeze()  # every websocket goes silent: no data, no pong, no answers
            await until(lambda: bot.watchdog.halted == "stale", 10)
            assert bot.watchdog.last_stale_age_ms <= stale_ms + 1000
            await until(lambda: m.open_orders() == [], 5)  # the REST cancel went through
            bot.stop("test over")
            s = await asyncio.wait_for(task, 60)
            assert s["watchdog_stale_events"] >= 1 and m.breaches() == 0
            await proxy.close()

    uvloop.run(main())


def test_kill_unwinds_a_position_above_the_limit() -> None:
    """Issue 13 item 1: the account already holds 0.05 ETH (bought with the official SDK) and the
    bot starts with max_position 0.03. The engine goes to Kill and unwinds with reduce-only asks;
    the pre-send guard must let them through (a reducing order is always allowed, SPEC 3, 10), so
    the position comes down, and the bot adds no breach to the one the manual buy made."""
    from eth_account import Account
    from hyperliquid.exchange import Exchange

    limit = 0.03

    async def main() -> None:
        with Market(max_position=limit) as m:
            ex = Exchange(Account.from_key("0x" + m.key), base_url=m.venue.url, timeout=10)
            r = ex.market_open("ETH", True, 0.05, slippage=0.01)
            assert r["status"] == "ok" and "filled" in r["response"]["data"]["statuses"][0], r
            assert m.position() == pytest.approx(0.05)
            before = m.breaches()  # the manual buy's own entry above the venue's max
            bot = m.bot(max_position=str(limit))
            task = await started(bot)
            await until(lambda: m.position() < 0.05 - 1e-9, 60)
            bot.stop("test over")
            s = await asyncio.wait_for(task, 30)
            assert s["guard_refusals"] == 0, s
            assert s["errors"] == 0 and m.open_orders() == []
            assert 0.0 <= m.position() < 0.05 - 1e-9
            assert m.breaches() == before

    uvloop.run(main())


def test_the_taker_exit_takes_a_position_out_through_the_venue() -> None:
    """Issue 14: the account holds 0.1 ETH (bought with the official SDK) and the lead signal
    says 10 bps down. With `risk.taker_exit_bps = 3` the engine sends one reduce-only IOC; it goes
    out signed through the pre-send guard (not post-only, but reduce-only) and the gateway, and
    the venue fills it as a taker: the position is out, nothing breaches, nothing is refused."""
    from eth_account import Account
    from hyperliquid.exchange import Exchange

    async def main() -> None:
        with Market() as m:
            ex = Exchange(Account.from_key("0x" + m.key), base_url=m.venue.url, timeout=10)
            r = ex.market_open("ETH", True, 0.1, slippage=0.01)
            assert r["status"] == "ok" and "filled" in r["response"]["data"]["statuses"][0], r
            before = m.breaches()
            bot = m.bot(**{"risk.taker_exit_bps": "3"})
            task = await started(bot)
            bot.trader.engine.set_signals(
                has_had_cross_venue=True, alpha_actionable=True, alpha_bps=-10.0
            )
            await until(lambda: abs(m.position()) < 1e-9, 30)
            body = orjson.dumps({"type": "userFills", "user": m.addr})
            fills = orjson.loads(m.venue.call(lambda: m.venue.venue.engine.info(body)))
            sells = [f for f in fills if f["side"] == "A"]
            assert any(f["crossed"] and float(f["sz"]) == pytest.approx(0.1) for f in sells), fills
            bot.stop("test over")
            s = await asyncio.wait_for(task, 30)
            assert s["guard_refusals"] == 0 and s["errors"] == 0, s
            assert s["taker_exits"] >= 1, s
            assert m.breaches() == before

    uvloop.run(main())
