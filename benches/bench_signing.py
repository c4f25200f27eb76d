"""Signing (SPEC 12): one ALO order and a 10-order batch signed into a request body by `Signer`,
beside the official SDK with each eth-keys backend (pure-Python, as `pip install
hyperliquid-python-sdk` gives; coincurve, when importable) in the same run, and the venue's
recovery of the signer. Every benchmarked pair is checked to produce the same signature.

Run: `pytest benches/bench_signing.py` (add `--benchmark-group-by=group` to read the ratios).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from mmfast import Signer
from mmfast.benchmarks.signing import KEY, NONCE, orders, sdk_action
from mmfast.signing import recover_request, sign_l1_action

eth_account = pytest.importorskip("eth_account")
sdk = pytest.importorskip("hyperliquid.utils.signing")
from eth_keys.backends.coincurve import is_coincurve_available  # noqa: E402

BACKENDS = {"native": "eth_keys.backends.NativeECCBackend"}
if is_coincurve_available():
    BACKENDS["coincurve"] = "eth_keys.backends.CoinCurveECCBackend"


def sdk_wallet(backend: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """An SDK wallet on the chosen eth-keys backend. eth-account's `set_key_backend` does not
    reach the keys it signs with (they resolve their backend lazily from `ECC_BACKEND_CLASS`,
    else coincurve if importable), so the variable is what selects it; checked, not assumed."""
    monkeypatch.setenv("ECC_BACKEND_CLASS", BACKENDS[backend])
    wallet = eth_account.Account.from_key(KEY)
    assert type(wallet._key_obj.backend).__name__ == BACKENDS[backend].rsplit(".", 1)[1]
    return wallet


def sig_ints(sig: dict[str, Any]) -> tuple[int, int, int]:
    return int(str(sig["r"]), 16), int(str(sig["s"]), 16), sig["v"]


@pytest.mark.parametrize("n", [1, 10])
def test_mmfast_sign(benchmark: Any, n: int) -> None:
    benchmark.group = f"sign {n} order(s)"
    signer = Signer(KEY)
    batch = orders(n)
    body = benchmark(signer.sign_orders, batch)
    assert json.loads(body)["action"]["orders"][0]["t"] == {"limit": {"tif": "Alo"}}


@pytest.mark.parametrize("n", [1, 10])
def test_mmfast_sign_from_sdk_dict(benchmark: Any, n: int) -> None:
    benchmark.group = f"sign {n} order(s)"
    action = sdk_action(n)
    benchmark(sign_l1_action, KEY, action, NONCE, None, None, True)


@pytest.mark.parametrize("backend", list(BACKENDS))
@pytest.mark.parametrize("n", [1, 10])
def test_sdk_sign(benchmark: Any, n: int, backend: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDK's path from order requests to a signature (what `Exchange.bulk_orders` does
    before posting): float_to_wire, order wires, the action, msgpack, EIP-712, ECDSA."""
    benchmark.group = f"sign {n} order(s)"
    wallet = sdk_wallet(backend, monkeypatch)
    from hyperliquid.utils.types import Cloid

    reqs = [
        (
            {
                "coin": "BTC",
                "is_buy": b,
                "sz": sz,
                "limit_px": px,
                "order_type": {"limit": {"tif": tif}},
                "reduce_only": r,
                "cloid": Cloid.from_int(c),
            },
            a,
        )
        for a, b, px, sz, r, tif, c in orders(n)
    ]

    def call() -> Any:
        wires = [sdk.order_request_to_order_wire(req, a) for req, a in reqs]
        action = sdk.order_wires_to_order_action(wires)
        return sdk.sign_l1_action(wallet, action, None, NONCE, None, True)

    sig = benchmark(call)
    body = Signer(KEY).sign_orders(orders(n), nonce=NONCE)
    assert sig_ints(sig) == sig_ints(json.loads(body)["signature"])


def test_mmfast_recover(benchmark: Any) -> None:
    benchmark.group = "recover"
    body = Signer(KEY).sign_orders(orders(1), nonce=NONCE)
    rec = benchmark(recover_request, body, True)
    assert rec.signer == Signer(KEY).address


@pytest.mark.parametrize("backend", list(BACKENDS))
def test_sdk_recover(benchmark: Any, backend: str, monkeypatch: pytest.MonkeyPatch) -> None:
    benchmark.group = "recover"
    wallet = sdk_wallet(backend, monkeypatch)
    action = sdk_action(1)
    sig = sdk.sign_l1_action(wallet, action, None, NONCE, None, True)
    got = benchmark(sdk.recover_agent_or_user_from_l1_action, action, sig, None, NONCE, None, True)
    assert got == wallet.address
