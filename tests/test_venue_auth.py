"""Who may act for whom on the local venue (issue 13 items 2 and 8): a `vaultAddress` only for a
signer the vault authorised (its leader, or an agent approved for it), and low-s signatures only,
as the exchange's own libraries produce. The official SDK signs every request.
"""

from __future__ import annotations

from typing import Any

import eth_account
import pytest
from hyperliquid.exchange import Exchange
from hyperliquid.utils.signing import get_timestamp_ms, order_wires_to_order_action, sign_l1_action
from mmfast.venue import VenueConfig, VenueThread
from test_venue_sdk import SIM  # the static ETH book at 2000

pytestmark = pytest.mark.timeout(60)

LEADER = eth_account.Account.from_key("0x" + "41" * 32)
OTHER = eth_account.Account.from_key("0x" + "42" * 32)
VAULT = eth_account.Account.from_key("0x" + "43" * 32)  # a vault has no key in use; its address
# secp256k1 group order
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


@pytest.fixture(scope="module")
def venue():
    cfg = VenueConfig(
        sim=SIM,
        block_ms=30,
        accounts=[(LEADER.address, 100_000.0), (OTHER.address, 100_000.0), (VAULT.address, 1e5)],
        vaults=[(VAULT.address, LEADER.address)],
    )
    with VenueThread(cfg) as v:
        yield v


def _order(ex: Exchange, px: float = 1990.0) -> dict[str, Any]:
    return ex.order("ETH", True, 0.01, px, {"limit": {"tif": "Alo"}})


def _open(ex: Exchange, address: str) -> list[int]:
    return [o["oid"] for o in ex.info.open_orders(address)]


def test_signer_cannot_trade_for_an_account_it_does_not_lead(venue):
    ex = Exchange(OTHER, base_url=venue.url, vault_address=LEADER.address, timeout=10)
    r = _order(ex)
    assert r == {"status": "err", "response": f"Vault not registered: {LEADER.address.lower()}"}
    assert _open(ex, LEADER.address) == []


def test_signer_cannot_trade_for_a_vault_led_by_another(venue):
    ex = Exchange(OTHER, base_url=venue.url, vault_address=VAULT.address, timeout=10)
    r = _order(ex)
    assert r == {
        "status": "err",
        "response": f"L1 error: User or API Wallet {OTHER.address.lower()} does not exist.",
    }
    assert _open(ex, VAULT.address) == []


def test_leader_and_its_agent_trade_for_the_vault(venue):
    ex = Exchange(LEADER, base_url=venue.url, vault_address=VAULT.address, timeout=10)
    r = _order(ex)
    oid = r["response"]["data"]["statuses"][0]["resting"]["oid"]
    assert oid in _open(ex, VAULT.address)
    assert oid not in _open(ex, LEADER.address)
    resp, agent_key = Exchange(LEADER, base_url=venue.url, timeout=10).approve_agent()
    assert resp["status"] == "ok"
    agent = eth_account.Account.from_key(agent_key)
    ax = Exchange(agent, base_url=venue.url, vault_address=VAULT.address, timeout=10)
    r = _order(ax, 1989.0)
    oid2 = r["response"]["data"]["statuses"][0]["resting"]["oid"]
    assert oid2 in _open(ex, VAULT.address)
    # ... but not for an account the leader does not lead
    bx = Exchange(agent, base_url=venue.url, vault_address=OTHER.address, timeout=10)
    assert _order(bx)["status"] == "err"
    for o in (oid, oid2):
        ex.cancel("ETH", o)


def test_high_s_twin_of_a_valid_signature_is_refused(venue):
    ex = Exchange(LEADER, base_url=venue.url, timeout=10)
    wire = {"a": 0, "b": True, "p": "1990", "s": "0.01", "r": False, "t": {"limit": {"tif": "Alo"}}}
    action = order_wires_to_order_action([wire])
    nonce = get_timestamp_ms()
    sig = sign_l1_action(LEADER, action, None, nonce, None, False)
    s = int(sig["s"], 16) if isinstance(sig["s"], str) else sig["s"]
    assert s <= N // 2  # what the SDK produces
    twin = {"r": sig["r"], "s": hex(N - s), "v": 55 - sig["v"]}
    assert ex._post_action(action, twin, nonce) == {
        "status": "err",
        "response": "Unable to recover signer.",
    }
    assert _open(ex, LEADER.address) == []
    # the low-s original with the same nonce still goes through: nothing was consumed
    r = ex._post_action(action, sig, nonce)
    assert "resting" in r["response"]["data"]["statuses"][0]
    ex.cancel("ETH", r["response"]["data"]["statuses"][0]["resting"]["oid"])
