"""The official hyperliquid-python-sdk 0.24.0 trading on the local venue, unchanged (SPEC 11).

One venue per module on port 0 in a background thread (static market: a fixed ETH book at 2000
with 1 coin per level, so expected fills are hand-computed), torn down at the end.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import eth_account
import pytest
from hyperliquid.exchange import Exchange
from hyperliquid.info import Info
from hyperliquid.utils.signing import get_timestamp_ms, sign_l1_action
from mmfast.venue import VenueConfig, VenueThread

pytestmark = pytest.mark.timeout(60)

MAKER = eth_account.Account.from_key("0x" + "11" * 32)
TAKER = eth_account.Account.from_key("0x" + "22" * 32)
STRANGER = eth_account.Account.from_key("0x" + "33" * 32)

SIM = {
    "market": "static",
    "queue": {"cancel_weight": 0.0, "power": 1.0},
    "ip_weight_per_min": 0,
    "assets": [
        {
            "coin": "ETH",
            "sz_decimals": 4,
            "mid": 2000.0,
            "max_leverage": 25,
            "synthetic": {
                "level_usd": 2000.0,
                "level_growth": 0.0,
                "levels": 5,
                "level_spacing_bps": 0.0,
            },
        },
        {
            "coin": "xyz:GOLD",
            "sz_decimals": 2,
            "mid": 2500.0,
            "max_leverage": 10,
            "binance_symbol": "",
        },
    ],
}


def config(**kw: Any) -> VenueConfig:
    base: dict[str, Any] = dict(
        sim=SIM,
        block_ms=40,
        l2_fast_ms=0,
        l2_ms=0,
        accounts=[(MAKER.address, 100_000.0), (TAKER.address, 100_000.0)],
        max_positions=[(MAKER.address, "ETH", 5.0)],
    )
    base.update(kw)
    return VenueConfig(**base)


@pytest.fixture(scope="module")
def venue():
    with VenueThread(config()) as v:
        yield v


@pytest.fixture(scope="module")
def maker(venue) -> Exchange:
    return Exchange(MAKER, base_url=venue.url, timeout=10)


@pytest.fixture(scope="module")
def taker(venue) -> Exchange:
    return Exchange(TAKER, base_url=venue.url, timeout=10)


@pytest.fixture(autouse=True)
def flat_start(venue, maker, taker):
    """Each test starts with no open orders for either account."""
    yield
    for ex, acct in ((maker, MAKER), (taker, TAKER)):
        for o in ex.info.open_orders(acct.address):
            ex.cancel(o["coin"], o["oid"])


def status(resp: dict[str, Any], i: int = 0) -> Any:
    assert resp["status"] == "ok", resp
    return resp["response"]["data"]["statuses"][i]


def test_info_reads_meta_book_and_state(venue):
    info = Info(venue.url, skip_ws=True, timeout=10)
    meta = info.meta()
    assert [u["name"] for u in meta["universe"]] == ["ETH"]
    assert meta["universe"][0]["szDecimals"] == 4
    book = info.l2_snapshot("ETH")
    assert book["levels"][0][0] == {"px": "1999.9", "sz": "1", "n": 1}
    assert book["levels"][1][0] == {"px": "2000.1", "sz": "1", "n": 1}
    state = info.user_state(MAKER.address)
    assert float(state["marginSummary"]["accountValue"]) >= 99_000
    assert info.user_fees(MAKER.address)["userAddRate"] == "0.00015"
    assert info.user_rate_limit(MAKER.address)["nRequestsCap"] >= 10_000
    ctxs = info.meta_and_asset_ctxs()
    assert ctxs[1][0]["midPx"] == "2000"


def test_hip3_asset_in_meta_with_its_dex(venue):
    info = Info(venue.url, skip_ws=True, perp_dexs=["", "xyz"], timeout=10)
    assert info.coin_to_asset["xyz:GOLD"] == 110_000
    assert info.meta(dex="xyz")["universe"][0]["name"] == "xyz:GOLD"
    ex = Exchange(MAKER, base_url=venue.url, perp_dexs=["", "xyz"], timeout=10)
    r = ex.order("xyz:GOLD", True, 0.01, 900, {"limit": {"tif": "Alo"}})  # $9
    assert r["response"]["data"]["statuses"][0] == {
        "error": "Order must have minimum value of $10. asset=110000"
    }
    r = ex.order("xyz:GOLD", True, 1, 2400, {"limit": {"tif": "Alo"}})
    oid = status(r)["resting"]["oid"]
    assert ex.cancel("xyz:GOLD", oid)["response"]["data"]["statuses"] == ["success"]


def test_alo_gtc_modify_cancel_round_trip(venue, maker):
    r = maker.order("ETH", True, 0.01, 1990, {"limit": {"tif": "Alo"}})
    oid = status(r)["resting"]["oid"]
    r = maker.order("ETH", False, 0.01, 2010, {"limit": {"tif": "Gtc"}})
    ask_oid = status(r)["resting"]["oid"]
    open_ = {o["oid"]: o for o in maker.info.open_orders(MAKER.address)}
    assert open_[oid]["limitPx"] == "1990" and open_[oid]["side"] == "B"
    assert open_[ask_oid]["sz"] == "0.01"
    r = maker.modify_order(oid, "ETH", True, 0.02, 1991, {"limit": {"tif": "Alo"}})
    new_oid = status(r)["resting"]["oid"]
    assert new_oid != oid
    assert maker.info.query_order_by_oid(MAKER.address, oid)["order"]["status"] == "canceled"
    open_ = {o["oid"]: o for o in maker.info.open_orders(MAKER.address)}
    assert set(open_) == {new_oid, ask_oid}
    assert open_[new_oid]["limitPx"] == "1991" and open_[new_oid]["origSz"] == "0.02"
    r = maker.cancel("ETH", new_oid)
    assert r["response"]["data"]["statuses"] == ["success"]
    r = maker.cancel("ETH", new_oid)
    assert r["response"]["data"]["statuses"] == [
        {"error": "Order was never placed, already canceled, or filled. asset=0"}
    ]


def test_crossing_alo_is_rejected_with_the_bbo(maker):
    r = maker.order("ETH", True, 0.01, 2000.1, {"limit": {"tif": "Alo"}})
    assert status(r) == {
        "error": "Post only order would have immediately matched, bbo was 1999.9@2000.1. asset=0"
    }


def test_price_off_tick_is_rejected(maker):
    r = maker.order("ETH", True, 0.01, 1234.56, {"limit": {"tif": "Alo"}})
    assert status(r) == {"error": "Price must be divisible by tick size. asset=0"}


def test_unknown_signer_gets_the_exchange_error(venue):
    ex = Exchange(STRANGER, base_url=venue.url, timeout=10)
    r = ex.order("ETH", True, 0.01, 1990, {"limit": {"tif": "Alo"}})
    assert r == {
        "status": "err",
        "response": f"L1 error: User or API Wallet {STRANGER.address.lower()} does not exist.",
    }


def test_duplicate_nonce_is_rejected(maker):
    action = {"type": "noop"}
    nonce = get_timestamp_ms()
    sig = sign_l1_action(MAKER, action, None, nonce, None, False)
    assert maker._post_action(action, sig, nonce) == {
        "status": "ok",
        "response": {"type": "default"},
    }
    assert maker._post_action(action, sig, nonce) == {
        "status": "err",
        "response": f"Invalid nonce: duplicate nonce {nonce}",
    }


def test_taker_fills_are_seen_by_both_sides_and_over_the_websocket(venue, maker, taker):
    got: list[dict[str, Any]] = []
    info = Info(venue.url, skip_ws=False, timeout=10)
    try:
        info.subscribe({"type": "userFills", "user": MAKER.address}, got.append)
        deadline = time.monotonic() + 10
        while not got and time.monotonic() < deadline:
            time.sleep(0.01)
        assert got and got[0]["data"].get("isSnapshot") is True
        r = maker.order("ETH", False, 0.5, 2000.0, {"limit": {"tif": "Alo"}})
        oid = status(r)["resting"]["oid"]
        r = taker.order("ETH", True, 0.5, 2000.0, {"limit": {"tif": "Gtc"}})
        assert status(r) == {"filled": {"totalSz": "0.5", "avgPx": "2000", "oid": oid + 1}}
        while len(got) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        fill = got[1]["data"]["fills"][0]
        assert (fill["oid"], fill["px"], fill["sz"], fill["side"]) == (oid, "2000", "0.5", "A")
        assert fill["crossed"] is False and fill["fee"] == "0.15"  # 1000 USD x 1.5 bps
        tfill = taker.info.user_fills(TAKER.address)[0]
        assert tfill["crossed"] is True and tfill["fee"] == "0.45"  # 4.5 bps
    finally:
        info.disconnect_websocket()


def test_cancel_beats_a_taker_in_the_same_block(venue, maker, taker):
    r = maker.order("ETH", False, 0.5, 2000.1, {"limit": {"tif": "Alo"}})
    oid = status(r)["resting"]["oid"]
    results: dict[str, Any] = {}
    venue.pause()
    try:
        t1 = threading.Thread(
            target=lambda: results.update(
                taker=taker.order("ETH", True, 1.5, 2000.1, {"limit": {"tif": "Gtc"}})
            )
        )
        t1.start()
        venue.wait_pending(1)  # the taker is first in the block...
        t2 = threading.Thread(target=lambda: results.update(cancel=maker.cancel("ETH", oid)))
        t2.start()
        venue.wait_pending(2)
        venue.step()  # ...but the cancel runs first
    finally:
        venue.resume()
    t1.join(10)
    t2.join(10)
    assert results["cancel"]["response"]["data"]["statuses"] == ["success"]
    # only the 1 coin of background was there: 0.5 of the GTC rests
    assert "resting" in status(results["taker"])
    assert not [f for f in maker.info.user_fills(MAKER.address) if f["oid"] == oid]


def test_resting_order_fills_only_after_the_size_ahead_traded(venue, maker, taker):
    # join the bid at 1999.9 behind the 1 coin resting there
    r = maker.order("ETH", True, 0.5, 1999.9, {"limit": {"tif": "Alo"}})
    oid = status(r)["resting"]["oid"]
    r = taker.order("ETH", False, 0.6, 1999.9, {"limit": {"tif": "Ioc"}})
    assert status(r)["filled"]["totalSz"] == "0.6"
    assert maker.info.query_order_by_oid(MAKER.address, oid)["order"]["order"]["sz"] == "0.5"
    r = taker.order("ETH", False, 0.6, 1999.9, {"limit": {"tif": "Ioc"}})
    assert status(r)["filled"]["totalSz"] == "0.6"
    fills = [f for f in maker.info.user_fills(MAKER.address) if f["oid"] == oid]
    assert [(f["sz"], f["px"]) for f in fills] == [("0.2", "1999.9")]  # 0.4 ahead, then ours


def test_agent_approved_by_the_sdk_trades_for_its_master(venue, maker):
    resp, agent_key = maker.approve_agent()
    assert resp == {"status": "ok", "response": {"type": "default"}}
    agent = eth_account.Account.from_key(agent_key)
    ex = Exchange(agent, base_url=venue.url, account_address=MAKER.address, timeout=10)
    oid = status(ex.order("ETH", True, 0.01, 1980, {"limit": {"tif": "Alo"}}))["resting"]["oid"]
    assert oid in [o["oid"] for o in maker.info.open_orders(MAKER.address)]
    assert maker.info.open_orders(agent.address) == []


def test_venue_ledger_counts_breaches_of_the_configured_max(venue, maker):
    before = venue.ledger()[MAKER.address.lower()]["breaches"]
    r = maker.bulk_orders(
        [
            {
                "coin": "ETH",
                "is_buy": True,
                "sz": 3.0,
                "limit_px": 1990,
                "order_type": {"limit": {"tif": "Alo"}},
                "reduce_only": False,
            },
            {
                "coin": "ETH",
                "is_buy": True,
                "sz": 3.0,
                "limit_px": 1989,
                "order_type": {"limit": {"tif": "Alo"}},
                "reduce_only": False,
            },
        ]
    )
    assert "resting" in status(r, 1)
    ledger = venue.ledger()[MAKER.address.lower()]
    assert ledger["breaches"] == before + 1  # position + resting buys > 5 coins
    assert ledger["coins"]["ETH"]["maxPosition"] == 5.0


def test_mainnet_venue_refuses_testnet_signatures():
    with VenueThread(config(chain="mainnet")) as v:
        ex = Exchange(MAKER, base_url=v.url, timeout=10)  # local URL: the SDK signs testnet
        r = ex.order("ETH", True, 0.01, 1990, {"limit": {"tif": "Alo"}})
        assert r["status"] == "err"
        assert r["response"].startswith("L1 error: User or API Wallet 0x")
        assert MAKER.address.lower() not in r["response"]
