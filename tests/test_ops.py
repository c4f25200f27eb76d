"""Operating for real money, against the local venue: the daily loss limit counts an earlier run's
losses, a kill stays down across restarts until reset, a stale feed pauses and resumes, a
restart resumes the learned state, preflight refuses with its numbers, metrics and status work
around a paper run, the dry run sends nothing, and no output or file holds the private key."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import orjson
import pytest
import uvloop
from live_helpers import FreezingProxy, bot_config, until
from mmfast import MarketMakerConfig, Signer
from mmfast.gateway.limits import WeightBucket
from mmfast.gateway.rest import RestClient
from mmfast.keys import Identity
from mmfast.live.guardian import Canceller
from mmfast.live.node import Node
from mmfast.live.venue_process import VenueProcess
from mmfast.ops.operator import KilledError, Operator, check_not_killed
from mmfast.ops.preflight import preflight
from mmfast.store import StateStore
from mmfast.venue import VenueConfig, VenueThread

pytestmark = pytest.mark.timeout(120)

MAX = 0.3
ETH = {
    "coin": "ETH",
    "sz_decimals": 4,
    "max_leverage": 25,
    "mid": 3000.0,
    "binance_symbol": "",
    "synthetic": {"kappa": 0.25},
}


def config(url: str, **over: str) -> Any:
    return bot_config(
        url, **{"max_position": str(MAX), "ladder.min_half_spread_bps": "2.5", **over}
    )


def new_key() -> tuple[str, Signer]:
    key = secrets.token_hex(32)
    return key, Signer(key, is_mainnet=False)


class Market:
    def __init__(
        self, fund: float = 10_000.0, assets: list[dict[str, Any]] | None = None, coin: str = "ETH"
    ) -> None:
        _, s = new_key()
        self.signer, self.addr = s, s.address.lower()
        self.venue = VenueThread(
            VenueConfig(
                sim={"market": "synthetic", "seed": 11, "assets": assets or [ETH]},
                accounts=[(self.addr, fund)],
                max_positions=[(self.addr, coin, MAX)],
            )
        )

    def node(self, store: StateStore | None, **over: str) -> Node:
        n = Node(config(self.venue.url, **over), Identity(self.signer, self.addr, self.addr))
        if store is not None:
            n.operator = Operator(n, store)
        return n

    def open_orders(self, dex: str = "") -> list[dict[str, Any]]:
        body = orjson.dumps({"type": "openOrders", "user": self.addr, "dex": dex})
        return list(orjson.loads(self.venue.call(lambda: self.venue.venue.engine.info(body))))

    def __enter__(self) -> Market:
        self.venue.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.venue.stop()


def test_daily_loss_counts_an_earlier_run_and_the_kill_stays_down_until_reset(
    tmp_path: Path,
) -> None:
    path = tmp_path / "state.sqlite"
    earlier = StateStore(path)
    run = earlier.start_run(10_000.0)
    earlier.update_run(run, 9_960.0)  # an earlier run today lost 40 USD
    earlier.end_run(run, "stopped")
    earlier.close()

    async def main() -> None:
        with Market() as m:
            store = StateStore(path)
            node = m.node(store, **{"risk.daily_loss_limit_usd": "35"})
            s = await asyncio.wait_for(node.run(30, install_signals=False), 60)
            # This run lost nothing: the earlier run's 40 USD tripped the 35 USD limit.
            assert "daily_loss" in s["stop_reason"] and "40.00" in s["stop_reason"]
            assert node.operator.day_start_equity() == pytest.approx(10_040.0)
            assert m.open_orders() == []
            st = StateStore(path, read_only=True)
            kill = st.kill_state()
            assert kill is not None and kill["reason"] == "daily_loss"
            st.close()

            again = m.node(StateStore(path))  # a restart: refused while the kill is set
            s = await asyncio.wait_for(again.run(5, install_signals=False), 30)
            assert "kill switch set" in s["stop_reason"] and s["errors"] == 1
            assert s["actions_sent"] == 0 and m.open_orders() == []

            st = StateStore(path)
            with pytest.raises(KilledError, match="reset-kill"):  # the check before starting
                check_not_killed(st)
            assert st.reset_kill() is not None
            check_not_killed(st)
            st.close()
            node = m.node(StateStore(path), **{"risk.daily_loss_limit_usd": "100"})
            s = await asyncio.wait_for(node.run(2, install_signals=False), 30)
            assert s["errors"] == 0 and s["actions_sent"] > 0, s

    uvloop.run(main())


def test_a_stale_feed_pauses_and_quoting_resumes_when_fresh(tmp_path: Path) -> None:
    async def main() -> None:
        with Market() as m:
            host, port = m.venue.url.removeprefix("http://").split(":")
            proxy = FreezingProxy(host, int(port))
            pport = await proxy.start()
            store = StateStore(tmp_path / "s.sqlite")
            node = m.node(
                store,
                **{
                    "monitors.stale_data_s": "1.0",
                    "monitors.resume_after_s": "1.0",
                    "risk.hl_stale_ms": "30000",  # the watchdog stays out of this test's way
                    "live.ws_url": f"ws://127.0.0.1:{pport}/ws",
                    "live.ping_interval_s": "0.5",
                    "live.pong_timeout_s": "1.0",
                },
            )
            task = asyncio.ensure_future(node.run(None, install_signals=False))
            await until(lambda: len(m.open_orders()) >= 2, 20)
            proxy.freeze()
            await until(lambda: node.paused == "stale_data", 10)
            await until(lambda: m.open_orders() == [], 10)  # cancelled (by REST: sockets dead)
            proxy.thaw()  # the partition heals; the sockets reconnect
            await until(lambda: node.paused is None, 20)
            await until(lambda: len(m.open_orders()) >= 2, 20)
            node.stop("test over")
            s = await asyncio.wait_for(task, 60)
            assert s["errors"] == 0
            kinds = [(e["kind"], e["monitor"]) for e in store_events(tmp_path / "s.sqlite")]
            assert ("trigger", "stale_data") in kinds and ("resume", "stale_data") in kinds
            await proxy.close()

    uvloop.run(main())


def store_events(path: Path) -> list[dict[str, Any]]:
    st = StateStore(path, read_only=True)
    try:
        return st.events(50)
    finally:
        st.close()


def test_a_restart_resumes_the_learned_state(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "s.sqlite"

    async def main() -> None:
        with Market() as m:
            node = m.node(StateStore(path), **{"live.checkpoint": str(path)})
            s = await asyncio.wait_for(node.run(3, install_signals=False), 60)
            assert s["errors"] == 0
            st = StateStore(path, read_only=True)
            saved = st.load_state()
            st.close()
            assert saved
            with caplog.at_level(logging.INFO, logger="mmfast.live.trader"):
                node = m.node(StateStore(path), **{"live.checkpoint": str(path)})
                s = await asyncio.wait_for(node.run(1, install_signals=False), 60)
            assert any(
                "warm start" in r.getMessage() and "signals included" in r.getMessage()
                for r in caplog.records
            )

    uvloop.run(main())


def test_preflight_refuses_non_viable_capital_and_an_unapproved_agent() -> None:
    async def main() -> None:
        with Market(fund=5.0) as m:
            rest = RestClient(m.venue.url, WeightBucket(1200))
            cfg = MarketMakerConfig.from_toml(
                "",
                "t",
                [("capital_usd", "5"), ("lead_venue", "none"), ("live.api_url", m.venue.url)],
            )
            me = Identity(m.signer, m.addr, m.addr)
            p = await preflight(rest, cfg, me, network="testnet")
            assert not p.ok
            why = "\n".join(p.refusals)
            assert "capital_usd = 5" in why and "minimum order" in why, why
            _, agent = new_key()
            a = str(agent.address).lower()
            p = await preflight(rest, config(m.venue.url), Identity(agent, a, m.addr), network="t")
            why = "\n".join(p.refusals)
            assert f"agent {a} is not approved for master {m.addr}" in why, why
            assert "account value" in p.render() and "fees" in p.render()
            # A taker exit at or below the account's taker fee (the venue's 4.5 bps) is refused
            # with the field, its value and the fix; above it, it passes and is shown.
            low = config(m.venue.url, **{"risk.taker_exit_bps": "4"})
            p = await preflight(rest, low, me, network="testnet")
            why = "\n".join(p.refusals)
            assert "risk.taker_exit_bps = 4 is not above" in why and "4.50 bps" in why, why
            ok = config(m.venue.url, **{"risk.taker_exit_bps": "6"})
            p = await preflight(rest, ok, me, network="testnet")
            assert not any("taker_exit" in r for r in p.refusals), p.refusals
            assert "taker exit" in p.render()
            await rest.close()

    uvloop.run(main())


def test_preflight_resolves_a_hip3_coin_to_its_dex_asset_id_and_the_bot_trades_it() -> None:
    """Two builder-deployed dexes besides the main one: `abc:GAS` is the second asset of the
    second HIP-3 dex, so its id is 100000 + 2 x 10000 + 1 (PROTOCOL 2.1), read from `perpDexs`
    and the dex's own `meta`; the bot's orders rest on that asset and nothing is rejected."""

    def hip3(coin: str) -> dict[str, Any]:
        return {**ETH, "coin": coin}

    assets = [ETH, hip3("xyz:GOLD"), hip3("abc:OIL"), hip3("abc:GAS")]

    async def main() -> None:
        with Market(assets=assets, coin="abc:GAS") as m:
            rest = RestClient(m.venue.url, WeightBucket(1200))
            cfg = config(m.venue.url, asset="abc:GAS")
            p = await preflight(rest, cfg, Identity(m.signer, m.addr, m.addr), network="testnet")
            await rest.close()
            assert p.ok, p.render()
            assert p.state is not None and p.state.meta.asset == 120_001
            assert "abc:GAS (asset id 120001" in p.render()
            node = Node(cfg, Identity(m.signer, m.addr, m.addr))
            task = asyncio.ensure_future(node.run(None, install_signals=False))
            await until(lambda: len(m.open_orders("abc")) >= 2, 30)
            assert {o["coin"] for o in m.open_orders("abc")} == {"abc:GAS"}
            assert m.open_orders("xyz") == [] and m.open_orders() == []
            node.stop("test over")
            s = await asyncio.wait_for(task, 60)
            assert s["errors"] == 0 and s["rejections_by_kind"].get("asset") is None, s
            assert m.open_orders("abc") == []
            # The guardian's canceller covers the main dex and the bot's HIP-3 dex alike.
            for asset in (0, 120_001):
                body = m.signer.sign_orders([(asset, True, 2900.0, 0.01, False, "Alo", None)])
                hdr = {"Content-Type": "application/json"}
                req = urllib.request.Request(m.venue.url + "/exchange", data=body, headers=hdr)
                with urllib.request.urlopen(req, timeout=5) as r:
                    assert "resting" in r.read().decode()
            c = Canceller(m.venue.url, m.addr, m.signer, dex="abc")
            c.load_assets()
            assert c.assets["abc:GAS"] == 120_001 and c.assets["ETH"] == 0
            assert c.cancel_all() == (2, 0)
            assert m.open_orders("abc") == [] and m.open_orders() == []

    uvloop.run(main())


# ---- the command line against a venue in its own process ----


def cli(*args: str, env: dict[str, str], timeout: float = 90) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("MMFAST_")}
    return subprocess.run(
        [sys.executable, "-m", "mmfast.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        env={**base, **env},
        check=False,
    )


def venue_for(addr: str, fund: float) -> VenueProcess:
    sim = {"market": "synthetic", "seed": 5, "assets": [ETH]}
    return VenueProcess(
        [
            "--sim",
            orjson.dumps(sim).decode(),
            "--fund",
            f"{addr}={fund}",
            "--max-position",
            f"{addr}:ETH={MAX}",
        ]
    )


def requests_used(url: str, addr: str) -> int:
    body = orjson.dumps({"type": "userRateLimit", "user": addr})
    req = urllib.request.Request(
        url + "/info", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=5) as r:
        return int(orjson.loads(r.read())["nRequestsUsed"])


def write_config(tmp: Path, url: str, **extra: str) -> Path:
    lines = [
        'asset = "ETH"',
        f"max_position = {MAX}",
        'lead_venue = "none"',
        "[ladder]",
        "min_half_spread_bps = 2.5",
        "[live]",
        f'api_url = "{url}"',
    ] + [f"{k} = {v}" for k, v in extra.items()]
    p = tmp / "run.toml"
    p.write_text("\n".join(lines) + "\n")
    return p


def test_run_on_the_venue_dry_run_then_live_and_no_key_anywhere(tmp_path: Path) -> None:
    key, signer = new_key()
    addr = str(signer.address).lower()
    state = tmp_path / "run.sqlite"
    with venue_for(addr, 10_000.0) as v:
        cfg = write_config(tmp_path, v.url, master_address=f'"{addr}"')
        # The dry run: no key, real data, actions logged, nothing sent.
        r = cli(
            "run",
            "--config",
            str(cfg),
            "--dry-run",
            "--duration",
            "3",
            "--plain",
            "--state",
            str(state),
            env={},
        )
        assert r.returncode == 0, r.stderr
        assert "dry run: would send place" in r.stderr
        assert "mmfast run --dry-run summary" in r.stdout and "paper" not in r.stdout
        assert requests_used(v.url, addr) == 0  # the venue never heard from us
        # The live run on the venue, its key in the environment; logs as JSON at DEBUG.
        r = cli(
            "run",
            "--config",
            str(cfg),
            "--duration",
            "3",
            "--plain",
            "--state",
            str(state),
            "--log-json",
            "--log-level",
            "debug",
            "--summary",
            str(tmp_path / "s.json"),
            env={"MMFAST_PRIVATE_KEY": key},
        )
        assert r.returncode == 0, r.stderr
        assert "preflight" in r.stdout and "mmfast run summary" in r.stdout
        assert "position left open" in r.stdout
        s = orjson.loads((tmp_path / "s.json").read_bytes())
        assert s["actions_sent"] > 0 and s["errors"] == 0
    text = r.stdout + r.stderr
    for blob in [
        text,
        *(
            p.read_bytes().hex() + p.read_text(errors="replace")
            for p in tmp_path.iterdir()
            if p.is_file()
        ),
    ]:
        assert key not in blob and key.upper() not in blob


def test_paper_serves_metrics_and_status_reads_the_state_after(tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    state = tmp_path / "paper.sqlite"
    base = {k: v for k, v in os.environ.items() if not k.startswith("MMFAST_")}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mmfast.cli",
            "paper",
            "--duration",
            "12",
            "--plain",
            "--state",
            str(state),
            "--metrics-port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=base,
    )
    want = {
        "mmfast_position",
        "mmfast_zone",
        "mmfast_effective_max_position",
        "mmfast_realised_pnl_usd",
        "mmfast_unrealised_pnl_usd",
        "mmfast_fees_usd",
        "mmfast_funding_usd",
        "mmfast_fills_total",
        "mmfast_spread_bps",
        "mmfast_quotes",
        "mmfast_cycle_latency_seconds_bucket",
        "mmfast_actions_total",
        "mmfast_address_quota_headroom",
        "mmfast_feed_staleness_seconds",
        "mmfast_reconnects_total",
        "mmfast_lead_signal_state",
        "mmfast_paused",
    }
    try:
        names: set[str] = set()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not want <= names:
            time.sleep(0.5)
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as r:
                    body = r.read().decode()
            except OSError:
                continue
            names = {
                ln.split("{")[0].split(" ")[0]
                for ln in body.splitlines()
                if ln.startswith("mmfast_")
            }
        assert want <= names, want - names
        # Actions by kind and result: the first placement is an `order` action, sent.
        sent = {
            ln.split("{")[1].split("}")[0]: float(ln.rsplit(" ", 1)[1])
            for ln in body.splitlines()
            if ln.startswith("mmfast_actions_total{")
        }
        assert sent.get('kind="order",result="sent"', 0) >= 1, sent
        assert 'feed="hyperliquid"' in body
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    r = cli("status", "--state", str(state), "--json", env={})
    assert r.returncode == 0, r.stderr
    doc = orjson.loads(r.stdout)
    assert doc["kill"] is None and doc["running"] is False and doc["network"] == "testnet"
    assert doc["last_exit"].startswith("duration")


def test_flatten_on_exit_closes_the_position_with_reduce_only_ioc() -> None:
    async def main() -> None:
        with Market() as m:
            # A position before the bot starts: an IOC buy through the book.
            body = m.signer.sign_orders([(0, True, 3100.0, 0.05, False, "Ioc", None)])
            req = urllib.request.Request(
                m.venue.url + "/exchange", data=body, headers={"Content-Type": "application/json"}
            )
            with urllib.request.urlopen(req, timeout=5) as r:
                assert orjson.loads(r.read())["status"] == "ok"
            node = m.node(None)
            await until(lambda: _position(m) > 0, 10)
            node.flatten_on_exit = True
            s = await asyncio.wait_for(node.run(2, install_signals=False), 60)
            assert s["flatten"] == "flatten: position closed", s["flatten"]
            assert _position(m) == 0 and m.open_orders() == []

    uvloop.run(main())


def _position(m: Market) -> float:
    body = orjson.dumps({"type": "clearinghouseState", "user": m.addr})
    ch = orjson.loads(m.venue.call(lambda: m.venue.venue.engine.info(body)))
    return sum(float(p["position"]["szi"]) for p in ch["assetPositions"])
