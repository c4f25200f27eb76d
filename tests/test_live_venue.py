"""The bot's plumbing against the real local venue over loopback sockets: start-up truth,
placing, filling, modifying and cancelling through the websocket `post` gateway, every
rejection the venue produces, orders left by an earlier run, a dropped connection, the
watchdog, and cancel-all on exit.

The engine here is `QuietEngine`, which takes every frame and never quotes: these tests send
the orders themselves, so that each exchange path is exercised on purpose. The engine's own
quoting is covered by tests/test_paper.py.
"""

from __future__ import annotations

import asyncio
import secrets
import time
import types
from typing import Any

import orjson
import pytest
import uvloop
from live_helpers import bot_config, until
from mmfast import Signer
from mmfast.gateway.responses import ErrorKind
from mmfast.keys import Identity
from mmfast.live.bot import BOT_TAG, Bot
from mmfast.venue import VenueConfig, VenueThread

pytestmark = pytest.mark.timeout(60)


class QuietEngine:
    """Stands in for `QuoteEngine` where a test drives the orders itself: takes every input,
    counts it, and never emits an action."""

    def __init__(self, *_: Any) -> None:
        self.frames = {"hl": 0, "binance": 0, "user": 0, "answers": 0}
        self.account: dict[str, Any] = {}

    def on_hl_frame(self, frame: bytes, recv_ms: int) -> None:
        self.frames["hl"] += 1

    def on_binance_frame(self, frame: bytes, recv_ms: int) -> None:
        self.frames["binance"] += 1

    def on_user_frame(self, frame: bytes, recv_ms: int) -> None:
        self.frames["user"] += 1

    def on_exchange_response(self, frame: bytes, recv_ms: int, batch: Any) -> None:
        self.frames["answers"] += 1

    def set_account(self, **kw: Any) -> None:
        self.account = kw

    def cycle(self, now_ms: int) -> Any:
        return types.SimpleNamespace(actions=[], n_actions=0, zone=None, mode=None)


def key() -> tuple[Signer, str]:
    s = Signer(secrets.token_hex(32), is_mainnet=False)
    return s, s.address.lower()


def config(url: str, **over: str) -> Any:
    return bot_config(
        url,
        **{
            "max_position": "1.0",
            "live.ping_interval_s": "0.5",
            "live.post_timeout_ms": "2000",
            "risk.hl_stale_ms": "60000",
            **over,
        },
    )


class Rig:
    """A venue thread plus a bot on the test's loop."""

    def __init__(self, market: str = "static", **cfg_over: str) -> None:
        self.signer, self.addr = key()
        self.taker, self.taker_addr = key()
        self.venue = VenueThread(
            VenueConfig(
                sim={"market": market, "seed": 3},
                accounts=[(self.addr, 10_000.0), (self.taker_addr, 100_000.0)],
                max_positions=[(self.addr, "ETH", 1.0)],
            )
        )
        self.cfg_over = cfg_over
        self.bot: Bot | None = None
        self.task: asyncio.Task[dict[str, Any]] | None = None

    async def start_bot(self) -> Bot:
        cfg = config(self.venue.url, **self.cfg_over)
        self.bot = Bot(
            cfg,
            Identity(self.signer, self.addr, self.addr),
            engine_factory=lambda *a: QuietEngine(),
        )
        self.task = asyncio.ensure_future(self.bot.run(None, install_signals=False))
        await until(lambda: self.bot.synced or self.task.done(), 20)  # type: ignore[union-attr]
        assert not self.task.done(), self.task.result()
        return self.bot

    async def stop_bot(self) -> dict[str, Any]:
        assert self.bot is not None and self.task is not None
        self.bot.stop("test over")
        return await asyncio.wait_for(self.task, 20)

    async def call(self, body: bytes) -> Any:
        """Sends a signed body through the bot's gateway and waits for its answer."""
        assert self.bot is not None
        return await self.bot._call(body)

    def book(self) -> tuple[float, float]:
        l2 = self.venue.call(lambda: orjson.loads(self.venue.venue.engine.l2_book("ETH", 1)))
        return float(l2["levels"][0][0]["px"]), float(l2["levels"][1][0]["px"])

    def open_orders(self) -> list[dict[str, Any]]:
        body = orjson.dumps({"type": "openOrders", "user": self.addr})
        return list(orjson.loads(self.venue.call(lambda: self.venue.venue.engine.info(body))))

    def rest_exchange(self, body: bytes) -> Any:
        """An action sent straight to the venue (another client, or an earlier run)."""
        return self.venue.call(
            lambda: asyncio.ensure_future(self.venue.venue.handle_action(orjson.loads(body)))
        )

    async def __aenter__(self) -> Rig:
        self.venue.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        try:
            if self.task is not None and not self.task.done():
                await self.stop_bot()  # the bot first, while the venue can still answer
        finally:
            self.venue.stop()


def run(coro: Any) -> Any:
    return uvloop.run(coro)


def cl(n: int) -> str:
    return f"0x{n:032x}"


# ---------------------------------------------------------------------------------------------


def test_start_reads_the_exchange_and_exit_cancels_everything() -> None:
    async def main() -> None:
        async with Rig() as rig:
            bot = await rig.start_bot()
            assert bot.state is not None and bot.state.meta.asset == 0
            assert bot.state.account_value == pytest.approx(10_000.0)
            assert bot.trader.engine.account["available_margin"] == pytest.approx(10_000.0)
            bid, ask = rig.book()
            r = await rig.call(
                rig.signer.sign_orders(
                    [
                        (0, True, bid, 0.01, False, "Alo", cl(1)),
                        (0, False, ask, 0.01, False, "Alo", cl(2)),
                    ]
                )
            )
            assert [s.kind for s in r.statuses] == ["resting", "resting"]
            assert len(rig.open_orders()) == 2
            await until(lambda: bot.trader.engine.frames["user"] >= 2)  # orderUpdates reached it
            summary = await rig.stop_bot()
            assert rig.open_orders() == []
            assert summary["errors"] == 0

    run(main())


def test_place_fill_modify_cancel() -> None:
    async def main() -> None:
        async with Rig() as rig:
            bot = await rig.start_bot()
            bid, _ = rig.book()
            bid = round(bid + 0.1, 1)  # inside the spread: first in line for a taker
            r = await rig.call(rig.signer.sign_orders([(0, True, bid, 0.02, False, "Alo", cl(1))]))
            oid = r.statuses[0].oid
            # modify: a new oid, the old order gone, the ledger counting only the new one
            r = await rig.call(
                rig.signer.sign_batch_modify([(oid, (0, True, bid, 0.03, False, "Alo", cl(2)))])
            )
            new_oid = r.statuses[0].oid
            assert r.statuses[0].kind == "resting" and new_oid != oid
            assert [o["oid"] for o in rig.open_orders()] == [new_oid]
            assert bot.trader.path.exposure()[0] == pytest.approx(0.03)
            # a taker sells into our bid: the fill moves the position, once
            rig.rest_exchange(rig.taker.sign_orders([(0, False, bid, 0.01, False, "Ioc")]))
            await until(lambda: bot.trader.pnl.fills == 1)
            assert bot.trader.path.position == pytest.approx(0.01)
            assert bot.trader.pnl.volume_usd == pytest.approx(bid * 0.01)
            await until(lambda: bot.trader.path.exposure()[0] == pytest.approx(0.03))
            # cancel what is left
            r = await rig.call(rig.signer.sign_cancel([(0, new_oid)]))
            assert r.statuses[0].kind == "success"
            assert rig.open_orders() == [] and bot.trader.path.orders == []
            summary = await rig.stop_bot()
            assert summary["fills"] == 1 and summary["errors"] == 0

    run(main())


def test_every_rejection_is_reconciled() -> None:
    async def main() -> None:
        async with Rig(**{"risk.price_band_bps": "100000"}) as rig:
            bot = await rig.start_bot()
            bid, ask = rig.book()
            s = rig.signer
            cases = [
                (s.sign_orders([(0, True, 2999.85, 0.01, False, "Alo", cl(1))]), ErrorKind.TICK),
                (
                    s.sign_orders([(0, True, bid, 0.001, False, "Alo", cl(2))]),
                    ErrorKind.MIN_NOTIONAL,
                ),
                (s.sign_orders([(0, True, ask, 0.01, False, "Alo", cl(3))]), ErrorKind.BAD_ALO_PX),
                (s.sign_orders([(0, True, bid, 0.01, True, "Alo", cl(4))]), ErrorKind.REDUCE_ONLY),
                (s.sign_cancel([(0, 999_999)]), ErrorKind.MISSING_ORDER),
                (
                    s.sign_batch_modify([(999_999, (0, True, bid, 0.01, False, "Alo", cl(5)))]),
                    ErrorKind.MISSING_ORDER,
                ),
                (
                    s.sign_schedule_cancel(int(time.time() * 1000) + 60_000),
                    ErrorKind.SCHEDULE_CANCEL_VOLUME,
                ),
            ]
            for body, kind in cases:
                r = await rig.call(body)
                got = [st.error_kind for st in r.statuses] or [r.error_kind]
                assert got == [kind], (kind, r)
                assert bot.trader.path.exposure() == (0.0, 0.0), kind
            # margin: far more than 10,000 USDC at 20x can carry (price band widened above)
            r = await rig.call(s.sign_orders([(0, True, bid, 100.0, False, "Alo", cl(6))]))
            assert r.statuses[0].error_kind in (ErrorKind.MARGIN, ErrorKind.LOCAL)
            # the same body twice: the exchange refuses the duplicate nonce
            body = s.sign_orders([(0, True, bid, 0.01, False, "Alo", cl(7))])
            assert (await rig.call(body)).statuses[0].kind == "resting"
            r = await rig.call(body)
            assert r.error_kind is ErrorKind.NONCE and not r.ok
            assert bot.trader.path.exposure()[0] == pytest.approx(0.01)
            summary = await rig.stop_bot()
            assert rig.open_orders() == []
            assert summary["actions_rejected"] >= len(cases)

    run(main())


def test_unknown_signer_stops_the_bot() -> None:
    async def main() -> None:
        async with Rig() as rig:
            await rig.start_bot()
            stranger, _ = key()
            bid, _ = rig.book()
            r = await rig.call(stranger.sign_orders([(0, True, bid, 0.01, False, "Alo", cl(1))]))
            assert r.error_kind in (ErrorKind.UNKNOWN_SIGNER, ErrorKind.MUST_DEPOSIT)
            summary = await asyncio.wait_for(rig.task, 20)  # type: ignore[arg-type]
            assert "signer" in summary["stop_reason"]

    run(main())


def test_orders_left_by_an_earlier_run_are_cancelled_before_quoting() -> None:
    async def main() -> None:
        async with Rig() as rig:
            bid, ask = rig.book()
            rig.rest_exchange(
                rig.signer.sign_orders(
                    [(0, True, bid, 0.01, False, "Alo", cl(9)), (0, False, ask, 0.01, False, "Alo")]
                )
            )
            await until(lambda: len(rig.open_orders()) == 2)
            bot = await rig.start_bot()
            assert rig.open_orders() == [] and bot.trader.path.orders == []
            summary = await rig.stop_bot()
            assert summary["orphans_cancelled"] == 2

    run(main())


def test_dropped_connections_reconnect_and_resynchronise() -> None:
    async def main() -> None:
        async with Rig() as rig:
            bot = await rig.start_bot()
            bid, _ = rig.book()
            bid = round(bid + 0.1, 1)  # inside the spread: first in line for a taker
            await rig.call(rig.signer.sign_orders([(0, True, bid, 0.02, False, "Alo", cl(1))]))

            async def drop() -> None:
                for c in list(rig.venue.venue._clients):
                    await c.ws.close()

            rig.venue.call(lambda: asyncio.ensure_future(drop()))
            # while we are away, a taker fills our bid completely
            rig.rest_exchange(rig.taker.sign_orders([(0, False, bid, 0.02, False, "Ioc")]))
            await until(lambda: bot.stats.resyncs >= 1 and bot.synced, 20)
            await until(lambda: bot.trader.path.position == pytest.approx(0.02), 10)
            assert bot.trader.path.orders == [] and rig.open_orders() == []
            # and it still trades afterwards
            r = await rig.call(rig.signer.sign_orders([(0, True, bid, 0.01, False, "Alo", cl(2))]))
            assert r.statuses[0].kind == "resting"
            summary = await rig.stop_bot()
            assert summary["reconnects"] >= 3 and summary["errors"] == 0

    run(main())


def test_unanswered_order_is_looked_up_and_found_once_it_lands() -> None:
    async def main() -> None:
        async with Rig(**{"live.post_timeout_ms": "300"}) as rig:
            bot = await rig.start_bot()
            bid, _ = rig.book()
            rig.venue.pause()  # actions wait for a block: no answer comes
            body = rig.signer.sign_orders(
                [(0, True, bid, 0.01, False, "Alo", cl(1))],
                expires_after=int(time.time() * 1000) + 60_000,
            )
            fut = asyncio.get_running_loop().create_future()
            s = bot.gateway.submit(body, tag=(BOT_TAG, fut))
            await until(lambda: rig.venue.pending >= 1, 10)
            await until(lambda: s.lookups >= 2, 10)  # past the timeout: looked up, unknown yet
            assert s.id in bot.gateway.inflight  # not declared lost: it may still land
            rig.venue.resume()
            await until(lambda: fut.done(), 15)
            assert [(o[1], o[5]) for o in bot.trader.path.orders] == [(cl(1), "resting")]
            assert bot.gateway.lost == 0
            assert [o["cloid"] for o in rig.open_orders()] == [cl(1)]

    run(main())


def test_answers_lost_with_the_socket_are_recovered_by_lookup() -> None:
    async def main() -> None:
        async with Rig(**{"live.post_timeout_ms": "60000"}) as rig:
            bot = await rig.start_bot()
            bid, _ = rig.book()
            rig.venue.pause()
            body = rig.signer.sign_orders(
                [(0, True, bid, 0.01, False, "Alo", cl(3))],
                expires_after=int(time.time() * 1000) + 60_000,
            )
            s = bot.gateway.submit(body, tag=(BOT_TAG, asyncio.get_running_loop().create_future()))
            await until(lambda: rig.venue.pending >= 1, 10)

            async def drop() -> None:
                for c in list(rig.venue.venue._clients):
                    await c.ws.close()

            rig.venue.call(lambda: asyncio.ensure_future(drop()))
            await until(lambda: s.lookups >= 1, 10)  # the socket went: looked up at once
            rig.venue.resume()
            await until(lambda: s.id not in bot.gateway.inflight, 15)
            assert [(o[1], o[5]) for o in bot.trader.path.orders] == [(cl(3), "resting")]
            await until(lambda: bot.synced, 15)

    run(main())
