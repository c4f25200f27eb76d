"""Conformance with the official hyperliquid-python-sdk 0.24.0, byte for byte (PROTOCOL 4).

Thousands of seeded random order / cancel / cancelByCloid / batchModify / scheduleCancel / noop
/ updateLeverage actions, built by the SDK's own functions, with random vaults, nonces and
expiresAfter: our msgpack, connection id and signature must equal the SDK's, on both the
dict path (`mmfast.signing`) and the typed path (`Signer`, which never sees the dict). Then
`float_to_wire` and the generic msgpack path against the SDK / msgpack-python under hypothesis.
"""

from __future__ import annotations

import json
import math
import random
from typing import Any

import msgpack
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mmfast import Signer, SigningError
from mmfast.signing import (
    action_hash,
    action_msgpack,
    float_to_wire,
    recover_l1_signer,
    sign_l1_action,
)

sdk = pytest.importorskip("hyperliquid.utils.signing")
eth_account = pytest.importorskip("eth_account")
from hyperliquid.utils.types import Cloid  # noqa: E402

KEY = "0x0123456789012345678901234567890123456789012345678901234567890123"
WALLET = eth_account.Account.from_key(KEY)
ADDRESS = WALLET.address
N_ACTIONS = 3000
# Orders twice as often: they carry most of the structure (OrderWire, cloids, triggers).
KINDS = [
    "order",
    "order",
    "cancel",
    "cancelByCloid",
    "batchModify",
    "scheduleCancel",
    "noop",
    "updateLeverage",
]


# ---- random actions built by the SDK -----------------------------------------------------


def rand_uint(rng: random.Random) -> int:
    """An unsigned int in a random msgpack width class (fixint, 8, 16, 32, 64 bits)."""
    bits = rng.choice([7, 8, 16, 32, 64])
    return rng.randrange(0, 2**bits)


def rand_asset(rng: random.Random) -> int:
    kind = rng.random()
    if kind < 0.6:
        return rng.randrange(0, 250)  # perps
    if kind < 0.8:
        return 10000 + rng.randrange(0, 300)  # spot
    return 100000 + rng.randrange(1, 10) * 10000 + rng.randrange(0, 50)  # HIP-3


def rand_px(rng: random.Random) -> float:
    sz_decimals = rng.randrange(0, 6)
    mag = 10 ** rng.uniform(-4, 6)
    px = float(f"{mag:.5g}")
    return round(px, 6 - sz_decimals) or 1.0


def rand_sz(rng: random.Random) -> float:
    return round(rng.uniform(0.0001, 500), rng.randrange(0, 6)) or 1.0


def rand_cloid(rng: random.Random) -> Cloid:
    return Cloid.from_int(rng.choice([0, 1, rng.getrandbits(16), rng.getrandbits(128)]))


def rand_order(rng: random.Random) -> tuple[dict[str, Any], int, tuple | None]:
    """An SDK OrderRequest, its asset, and the same order as a Signer tuple (None: trigger)."""
    asset = rand_asset(rng)
    is_buy = rng.random() < 0.5
    px, sz = rand_px(rng), rand_sz(rng)
    reduce_only = rng.random() < 0.2
    cloid = rand_cloid(rng) if rng.random() < 0.6 else None
    if rng.random() < 0.9:
        tif = rng.choice(["Alo", "Alo", "Ioc", "Gtc"])
        order_type: dict[str, Any] = {"limit": {"tif": tif}}
        typed = (asset, is_buy, px, sz, reduce_only, tif, cloid.to_raw() if cloid else None)
    else:
        order_type = {
            "trigger": {
                "triggerPx": rand_px(rng),
                "isMarket": rng.random() < 0.5,
                "tpsl": rng.choice(["tp", "sl"]),
            }
        }
        typed = None
    req = {
        "coin": "X",
        "is_buy": is_buy,
        "sz": sz,
        "limit_px": px,
        "order_type": order_type,
        "reduce_only": reduce_only,
    }
    if cloid is not None or rng.random() < 0.5:
        req["cloid"] = cloid
    return req, asset, typed


def rand_action(rng: random.Random) -> tuple[dict[str, Any], Any]:
    """An action dict as the SDK's Exchange builds it, and a function signing the same action
    through the typed Signer methods (None when it has no typed form)."""
    kind = rng.choice(KINDS)
    n = rng.choice([1, 1, 2, 3, 10, rng.randrange(1, 40)])
    if kind == "order":
        made = [rand_order(rng) for _ in range(n)]
        wires = [sdk.order_request_to_order_wire(req, asset) for req, asset, _ in made]
        grouping: Any = rng.choice(["na", "na", "normalTpsl", {"p": rand_uint(rng)}])
        action = sdk.order_wires_to_order_action(wires, None, grouping)
        typed = [t for _, _, t in made]
        if all(t is not None for t in typed):
            return action, lambda s, **e: s.sign_orders(typed, grouping=grouping, **e)
        return action, None
    if kind == "cancel":
        cancels = [(rand_asset(rng), rand_uint(rng)) for _ in range(n)]
        action = {"type": "cancel", "cancels": [{"a": a, "o": o} for a, o in cancels]}
        fast = rng.random() < 0.5
        if fast:
            action["f"] = True
        return action, lambda s, **e: s.sign_cancel(cancels, fast=fast, **e)
    if kind == "cancelByCloid":
        cancels = [(rand_asset(rng), rand_cloid(rng).to_raw()) for _ in range(n)]
        action = {
            "type": "cancelByCloid",
            "cancels": [{"asset": a, "cloid": c} for a, c in cancels],
        }
        fast = rng.random() < 0.5
        if fast:
            action["f"] = True
        return action, lambda s, **e: s.sign_cancel_by_cloid(cancels, fast=fast, **e)
    if kind == "batchModify":
        mods = []
        typed_mods = []
        for _ in range(n):
            req, asset, typed = rand_order(rng)
            oid: Any = rand_uint(rng) if rng.random() < 0.5 else rand_cloid(rng)
            raw = oid.to_raw() if isinstance(oid, Cloid) else oid
            mods.append({"oid": raw, "order": sdk.order_request_to_order_wire(req, asset)})
            typed_mods.append((raw, typed))
        action = {"type": "batchModify", "modifies": mods}
        if all(t is not None for _, t in typed_mods):
            return action, lambda s, **e: s.sign_batch_modify(typed_mods, **e)
        return action, None
    if kind == "scheduleCancel":
        action = {"type": "scheduleCancel"}
        t = rand_uint(rng) if rng.random() < 0.7 else None
        if t is not None:
            action["time"] = t
        return action, lambda s, **e: s.sign_schedule_cancel(t, **e)
    if kind == "noop":
        return {"type": "noop"}, lambda s, **e: s.sign_noop(**e)
    asset, cross, lev = rand_asset(rng), rng.random() < 0.5, rng.randrange(1, 51)
    action = {"type": "updateLeverage", "asset": asset, "isCross": cross, "leverage": lev}
    return action, lambda s, **e: s.sign_update_leverage(asset, cross, lev, **e)


def rand_envelope(rng: random.Random) -> tuple[int, str | None, int | None]:
    nonce = rng.choice([rng.randrange(0, 2**64), 1_700_000_000_000 + rng.randrange(0, 10**9)])
    vault = None
    if rng.random() < 0.3:
        vault = "0x" + rng.randbytes(20).hex()
        if rng.random() < 0.3:
            vault = "0x" + vault[2:].upper()
    expires = rng.choice([None, None, rng.randrange(0, 2**64)])
    return nonce, vault, expires


def sig_ints(sig: dict[str, Any]) -> tuple[int, int, int]:
    return int(sig["r"], 16), int(sig["s"], 16), sig["v"]


def test_random_actions_match_the_sdk_byte_for_byte() -> None:
    rng = random.Random(20260806)
    signers = {True: Signer(KEY, is_mainnet=True), False: Signer(KEY, is_mainnet=False)}
    kinds: dict[str, int] = {}
    typed_checked = 0
    for i in range(N_ACTIONS):
        action, typed = rand_action(rng)
        nonce, vault, expires = rand_envelope(rng)
        mainnet = rng.random() < 0.5
        kinds[action["type"]] = kinds.get(action["type"], 0) + 1
        ctx = (i, action, nonce, vault, expires, mainnet)

        packed = action_msgpack(action)
        assert packed == msgpack.packb(action), ctx
        assert action_hash(action, vault, nonce, expires) == sdk.action_hash(
            action, vault, nonce, expires
        ), ctx

        want = sdk.sign_l1_action(WALLET, action, vault, nonce, expires, mainnet)
        ours = sign_l1_action(KEY, action, nonce, vault, expires, mainnet)
        assert sig_ints(ours) == sig_ints(want), ctx
        assert len(ours["r"]) == len(ours["s"]) == 66
        assert recover_l1_signer(action, nonce, vault, expires, mainnet, want) == ADDRESS

        env = {"nonce": nonce, "vault": vault, "expires_after": expires}
        bodies = [signers[mainnet].sign_action(action, **env)]
        bodies.append(signers[mainnet].sign_action_json(orjson.dumps(action), **env))
        if typed is not None:
            bodies.append(typed(signers[mainnet], **env))
            typed_checked += 1
        for body in bodies:
            msg = json.loads(body)
            # The body's action is the SDK's dict: same keys, same order, same values.
            assert json.dumps(msg["action"]) == json.dumps(action), ctx
            assert sig_ints(msg["signature"]) == sig_ints(want), ctx
            assert msg["nonce"] == nonce and msg["expiresAfter"] == expires
            assert msg["vaultAddress"] == (vault.lower() if vault else None)
    assert set(kinds) == {
        "order",
        "cancel",
        "cancelByCloid",
        "batchModify",
        "scheduleCancel",
        "noop",
        "updateLeverage",
    }
    assert min(kinds.values()) > 100
    assert typed_checked > N_ACTIONS * 0.8


def test_sdk_recovers_our_signatures() -> None:
    rng = random.Random(7)
    for _ in range(50):
        action, _ = rand_action(rng)
        nonce, vault, expires = rand_envelope(rng)
        sig = sign_l1_action(KEY, action, nonce, vault, expires, True)
        got = sdk.recover_agent_or_user_from_l1_action(action, sig, vault, nonce, expires, True)
        assert got == ADDRESS


# ---- float_to_wire -------------------------------------------------------------------------


def same_as_sdk(x: float) -> None:
    try:
        want = sdk.float_to_wire(x)
    except ValueError as e:
        with pytest.raises(SigningError) as ours:
            float_to_wire(x)
        assert isinstance(ours.value, ValueError)
        assert ours.value.args == e.args
        assert str(ours.value) == str(e)
        return
    assert float_to_wire(x) == want, repr(x)


grid = st.builds(
    lambda k, scale, eps: k / scale + eps,
    st.integers(-(10**17), 10**17),
    st.sampled_from([1, 10, 100, 1e4, 1e6, 1e8]),
    st.sampled_from([0.0, 0.0, 1e-13, -1e-13, 9e-13, 1.1e-12, 5e-9]),
)


@settings(max_examples=4000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.floats(allow_nan=True, allow_infinity=True),
        st.floats(-1e9, 1e9),
        st.floats(1e15, 1e40),
        grid,
    )
)
def test_float_to_wire_is_the_sdks(x: float) -> None:
    same_as_sdk(x)


def test_float_to_wire_edge_cases() -> None:
    edges = [0.0, -0.0, 5e-9, -5e-9, 1 / 512, 1e-8, 4.9999999e-9, 1e-12, 1e-13, -1e-13]
    edges += [2.0**53, 2.0**53 + 2, 1e28, 1e29, 1e30, 9.999999999999999e27, 1.7976931348623157e308]
    edges += [float("nan"), float("inf"), float("-inf"), 0.1 + 0.2, 1670.1, 0.0147]
    edges += [10.0**k for k in range(-10, 40)] + [-(10.0**k) for k in range(-10, 40)]
    for x in edges:
        same_as_sdk(x)
    assert math.isnan(float(float_to_wire(float("nan"))))


# ---- generic msgpack path ------------------------------------------------------------------

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**64 - 1),
    st.integers(-40, 300),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300),
)
json_like = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=20),
        st.dictionaries(
            st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40),
            inner,
            max_size=20,
        ),
    ),
    max_leaves=40,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.text(alphabet="abcdefghijklmnopqrstuvwxyz", max_size=12), json_like))
def test_dict_and_json_paths_pack_like_msgpack(action: dict[str, Any]) -> None:
    action = {"type": "x", **action}
    assert action_msgpack(action) == msgpack.packb(action)
    text = orjson.dumps(action)
    body = json.loads(Signer(KEY).sign_action_json(text, nonce=1))
    want = sign_l1_action(KEY, action, 1, None, None, True)
    assert body["signature"] == want


@pytest.mark.parametrize("n", [1, 10])
def test_benchmark_compares_the_same_action(n: int) -> None:
    """`mmfast bench` times our typed batch against the SDK building the same action."""
    from mmfast.benchmarks.signing import NONCE, orders, sdk_action

    body = json.loads(Signer(KEY).sign_orders(orders(n), nonce=NONCE))
    want = sdk_action(n)
    assert json.dumps(body["action"]) == json.dumps(want)
    sig = sdk.sign_l1_action(WALLET, want, None, NONCE, None, True)
    assert sig_ints(body["signature"]) == sig_ints(sig)
