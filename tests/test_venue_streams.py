"""The venue's websocket and Binance streams, the ws `post` method, and the venue as its own
process (`python -m mmfast.venue`), over real sockets on port 0 (SPEC 11, PROTOCOL 1, 6)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from typing import Any

import eth_account
import orjson
import pytest
import websocket
from hyperliquid.exchange import Exchange
from hyperliquid.utils.signing import get_timestamp_ms, sign_l1_action
from mmfast.live.venue_process import VenueProcess
from mmfast.venue import VenueConfig, VenueThread

pytestmark = pytest.mark.timeout(60)

MAKER = eth_account.Account.from_key("0x" + "44" * 32)
TAKER = eth_account.Account.from_key("0x" + "55" * 32)
SIM = {
    "market": "static",
    "ip_weight_per_min": 0,
    "assets": [
        {
            "coin": "ETH",
            "sz_decimals": 4,
            "mid": 2000.0,
            "binance_symbol": "ETHUSDT",
            "synthetic": {
                "level_usd": 2000.0,
                "level_growth": 0.0,
                "levels": 8,
                "level_spacing_bps": 0.0,
            },
        },
    ],
}


@pytest.fixture(scope="module")
def venue():
    cfg = VenueConfig(
        sim=SIM,
        block_ms=30,
        l2_fast_ms=0,
        l2_ms=0,
        binance_ms=10,
        accounts=[(MAKER.address, 1e5), (TAKER.address, 1e5)],
    )
    with VenueThread(cfg) as v:
        yield v


class Ws:
    """A blocking websocket client reading JSON frames with a deadline."""

    def __init__(self, url: str) -> None:
        self.ws = websocket.create_connection(url, timeout=10)

    def send(self, obj: Any) -> None:
        self.ws.send(json.dumps(obj))

    def recv_raw(self) -> str:
        return self.ws.recv()

    def until(self, pred, timeout: float = 10.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = orjson.loads(self.ws.recv())
            if pred(msg):
                return msg
        raise AssertionError("no matching frame")

    def collect(self, channels: set[str], timeout: float = 10.0) -> dict[str, Any]:
        """The first frame's data of each channel, whatever order they arrive in."""
        got: dict[str, Any] = {}
        deadline = time.monotonic() + timeout
        while set(got) != channels and time.monotonic() < deadline:
            msg = orjson.loads(self.ws.recv())
            if msg["channel"] in channels:
                got.setdefault(msg["channel"], msg["data"])
        assert set(got) == channels, f"missing {channels - set(got)}"
        return got

    def close(self) -> None:
        self.ws.close()


def test_greeting_pong_subscriptions_and_streams(venue):
    ws = Ws(venue.url.replace("http", "ws") + "/ws")
    try:
        assert ws.recv_raw() == "Websocket connection established."
        ws.send({"method": "ping"})
        assert ws.until(lambda m: True) == {"channel": "pong"}
        ws.send(
            {"method": "subscribe", "subscription": {"type": "l2Book", "coin": "ETH", "fast": True}}
        )
        ack = ws.until(lambda m: m["channel"] == "subscriptionResponse")
        assert ack["data"]["subscription"]["fast"] is True
        book = ws.until(lambda m: m["channel"] == "l2Book")["data"]
        assert [len(side) for side in book["levels"]] == [5, 5]  # fast: 5 levels
        assert book["levels"][0][0]["px"] == "1999.9"
        ws.send(
            {"method": "subscribe", "subscription": {"type": "l2Book", "coin": "ETH", "fast": True}}
        )
        err = ws.until(lambda m: m["channel"] == "error")
        assert err["data"].startswith("Already subscribed:")
        ws.send({"method": "subscribe", "subscription": {"type": "l2Book", "coin": "NOPE"}})
        assert ws.until(lambda m: m["channel"] == "error")["data"].startswith(
            "Invalid subscription"
        )
        for sub in (
            {"type": "bbo", "coin": "ETH"},
            {"type": "trades", "coin": "ETH"},
            {"type": "orderUpdates", "user": MAKER.address},
            {"type": "userEvents", "user": MAKER.address},
        ):
            ws.send({"method": "subscribe", "subscription": sub})
        bbo = ws.until(lambda m: m["channel"] == "bbo")["data"]
        assert bbo["bbo"][0]["px"] == "1999.9" and bbo["bbo"][1]["px"] == "2000.1"
        maker = Exchange(MAKER, base_url=venue.url, timeout=10)
        taker = Exchange(TAKER, base_url=venue.url, timeout=10)
        oid = maker.order("ETH", True, 0.5, 2000, {"limit": {"tif": "Alo"}})["response"]["data"][
            "statuses"
        ][0]["resting"]["oid"]
        got = ws.collect({"orderUpdates", "bbo"})
        upd = got["orderUpdates"][0]
        assert (upd["status"], upd["order"]["oid"], upd["order"]["limitPx"]) == (
            "open",
            oid,
            "2000",
        )
        assert got["bbo"]["bbo"][0] == {"px": "2000", "sz": "0.5", "n": 1}  # we improved the bid
        taker.order("ETH", False, 0.5, 2000, {"limit": {"tif": "Ioc"}})
        got = ws.collect({"trades", "user", "orderUpdates"})
        trades = got["trades"]
        assert trades[0]["side"] == "A" and trades[0]["px"] == "2000" and trades[0]["sz"] == "0.5"
        assert trades[0]["users"] == [MAKER.address.lower(), TAKER.address.lower()]
        fill = got["user"]["fills"][0]
        assert fill["oid"] == oid and fill["dir"] == "Open Long"
        assert got["orderUpdates"][0]["status"] == "filled"
    finally:
        ws.close()


def test_post_info_and_action_over_the_websocket(venue):
    ws = Ws(venue.url.replace("http", "ws") + "/ws")
    try:
        ws.recv_raw()
        ws.send(
            {
                "method": "post",
                "id": 7,
                "request": {"type": "info", "payload": {"type": "l2Book", "coin": "ETH"}},
            }
        )
        resp = ws.until(lambda m: m["channel"] == "post")["data"]
        assert resp["id"] == 7 and resp["response"]["type"] == "info"
        assert resp["response"]["payload"]["type"] == "l2Book"
        assert resp["response"]["payload"]["data"]["coin"] == "ETH"
        action = {
            "type": "order",
            "orders": [
                {
                    "a": 0,
                    "b": True,
                    "p": "1990",
                    "s": "0.01",
                    "r": False,
                    "t": {"limit": {"tif": "Alo"}},
                }
            ],
            "grouping": "na",
        }
        nonce = get_timestamp_ms()
        sig = sign_l1_action(MAKER, action, None, nonce, None, False)
        ws.send(
            {
                "method": "post",
                "id": 8,
                "request": {
                    "type": "action",
                    "payload": {
                        "action": action,
                        "nonce": nonce,
                        "signature": sig,
                        "vaultAddress": None,
                    },
                },
            }
        )
        resp = ws.until(lambda m: m["channel"] == "post")["data"]
        assert resp["id"] == 8 and resp["response"]["type"] == "action"
        payload = resp["response"]["payload"]
        assert "resting" in payload["response"]["data"]["statuses"][0]
    finally:
        ws.close()


def test_binance_streams_and_rest_snapshot_agree(venue):
    base = venue.url.replace("http", "ws")
    raw = Ws(base + "/public/ws/ethusdt@bookTicker")
    combined = Ws(base + "/public/stream?streams=ethusdt@depth5@100ms/ethusdt@bookTicker")
    try:
        bt = raw.until(lambda m: m.get("e") == "bookTicker")
        assert bt["s"] == "ETHUSDT" and float(bt["b"]) < float(bt["a"])
        assert abs((float(bt["b"]) + float(bt["a"])) / 2 - 2000) < 0.05
        d = combined.until(lambda m: m["stream"] == "ethusdt@depth5@100ms")["data"]
        assert d["e"] == "depthUpdate" and len(d["b"]) == 5 and len(d["a"]) == 5
        with urllib.request.urlopen(venue.url + "/fapi/v1/depth?symbol=ETHUSDT&limit=5") as r:
            snap = orjson.loads(r.read())
        assert snap["bids"][0][0] == bt["b"] and snap["asks"][0][0] == bt["a"]
        assert snap["lastUpdateId"] >= d["u"]
    finally:
        raw.close()
        combined.close()


def test_venue_as_its_own_process_prints_its_url_first_and_stops():
    addr = MAKER.address
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mmfast.venue",
            "--port",
            "0",
            "--market",
            "synthetic",
            "--seed",
            "3",
            "--fund",
            f"{addr}=5000",
            "--max-position",
            f"{addr}:ETH=0.5",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = json.loads(proc.stdout.readline())
        assert first["url"].startswith("http://127.0.0.1:") and first["chain"] == "testnet"
        req = urllib.request.Request(
            first["url"] + "/info",
            data=b'{"type":"meta"}',
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=10) as r:
            assert [u["name"] for u in orjson.loads(r.read())["universe"]] == ["ETH", "BTC"]
        ex = Exchange(MAKER, base_url=first["url"], timeout=10)
        r = ex.order("ETH", True, 0.01, 2500, {"limit": {"tif": "Alo"}})
        assert "resting" in r["response"]["data"]["statuses"][0]
        with urllib.request.urlopen(first["url"] + "/venue/ledger", timeout=10) as r:
            ledger = orjson.loads(r.read())["ledger"][addr.lower()]
        assert ledger["coins"]["ETH"]["maxPosition"] == 0.5 and ledger["openOrders"] == 1
    finally:
        proc.terminate()
        assert proc.wait(15) == 0


def test_venue_counts_a_usd_limit_at_its_own_mid():
    """`--max-position-usd` (what `mmfast paper` passes for a `max_position_usd` config): the
    venue holds the USD limit at its mid with the bot's 0.5% re-resolve lag, so at 3000 the
    ceiling is 100 / (3000 * 0.995) = 0.0335 ETH, and an order the official SDK sends beyond it
    is counted."""
    addr = MAKER.address
    venue_args = ["--market", "synthetic", "--seed", "3", "--fund", f"{addr}=5000",
                  "--max-position-usd", f"{addr}:ETH=100"]  # fmt: skip
    with VenueProcess(venue_args) as v:
        ledger = v.ledger()["ledger"][addr.lower()]
        eth = ledger["coins"]["ETH"]
        assert (eth["maxPositionUsd"], eth["maxPosition"], ledger["breaches"]) == (100, 0.0335, 0)
        ex = Exchange(MAKER, base_url=v.url, timeout=10)
        r = ex.order("ETH", True, 0.04, 2500, {"limit": {"tif": "Alo"}})
        assert "resting" in r["response"]["data"]["statuses"][0]
        ledger = v.ledger()["ledger"][addr.lower()]
        assert ledger["breaches"] == 1 and ledger["coins"]["ETH"]["restingBuy"] == 0.04
