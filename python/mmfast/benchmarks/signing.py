"""Signing figures of SPEC section 12: one order action and a 10-order batch, signed into a
request body by `Signer`, against the official SDK in the same run, both as installed by
default (eth-keys' pure-Python backend) and with coincurve; plus the venue's recovery cost.

eth-keys picks its ECDSA backend once, at first use, from `ECC_BACKEND_CLASS` or else
coincurve-if-importable. `pip install hyperliquid-python-sdk` does not install coincurve, so
"as installed by default" means the native backend; each SDK setup therefore runs in its own
subprocess with `ECC_BACKEND_CLASS` set, and reports the backend it really used.

Figures (medians, us): `sign_us`, `sign10_us` (ours: floats in, signed body bytes out),
`sign_dict_us` (ours from the SDK's dict), `recover_us` / `recover10_us` (body in, signer
out), `sdk_sign_us`, `sdk_sign10_us`, `sdk_coincurve_sign_us`, `sdk_coincurve_sign10_us`,
`sdk_coincurve_recover_us`, and the ratios `sdk_over_sign_x`, `sdk_over_sign10_x`,
`sdk_coincurve_over_sign_x`, `sdk_coincurve_over_sign10_x`. `byte_identical` is 1.0 when the
SDK's signatures of the benchmarked actions equal ours in every setup.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

from mmfast.benchmarks.catalog import NOT_INSTALLED
from mmfast.benchmarks.timing import median_ns

# A throwaway key (the SDK's own test key), never a real one.
KEY = "0x0123456789012345678901234567890123456789012345678901234567890123"
NONCE = 1_700_000_000_000
BACKENDS = {
    "sdk": "eth_keys.backends.NativeECCBackend",
    "sdk_coincurve": "eth_keys.backends.CoinCurveECCBackend",
}


def orders(n: int) -> list[tuple[Any, ...]]:
    """n ALO quotes around 60000 with cloids, alternating sides: the engine's usual batch."""
    out = []
    for i in range(n):
        is_buy = i % 2 == 0
        px = 60000.0 + (i // 2 + 1) * (-1.0 if is_buy else 1.0)
        out.append((0, is_buy, px, 0.001, False, "Alo", i + 1))
    return out


def sdk_action(n: int) -> dict[str, Any]:
    """The same batch as the SDK's Exchange.bulk_orders builds it."""
    from hyperliquid.utils.signing import order_request_to_order_wire, order_wires_to_order_action
    from hyperliquid.utils.types import Cloid

    wires = [
        order_request_to_order_wire(
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
    return order_wires_to_order_action(wires)


def _sdk_child(quick: bool) -> dict[str, Any]:
    """Runs in a subprocess with ECC_BACKEND_CLASS set: times the SDK path from order requests
    to signature (wire conversion + sign_l1_action), and its recovery."""
    import eth_account
    from hyperliquid.utils import signing as s
    from hyperliquid.utils.signing import order_request_to_order_wire, order_wires_to_order_action
    from hyperliquid.utils.types import Cloid

    wallet = eth_account.Account.from_key(KEY)
    backend = type(wallet._key_obj.backend).__name__
    slow = backend == "NativeECCBackend"
    n = (5 if slow else 30) if quick else (40 if slow else 300)
    batch = 1 if slow else 5

    def from_requests(k: int) -> Any:
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
            for a, b, px, sz, r, tif, c in orders(k)
        ]

        def call() -> Any:
            wires = [order_request_to_order_wire(req, a) for req, a in reqs]
            action = order_wires_to_order_action(wires)
            return s.sign_l1_action(wallet, action, None, NONCE, None, True)

        return call

    one, ten = from_requests(1), from_requests(10)
    sig1 = s.sign_l1_action(wallet, sdk_action(1), None, NONCE, None, True)
    out: dict[str, Any] = {
        "backend": backend,
        "backend_requested": os.environ.get("ECC_BACKEND_CLASS", ""),
        "sign_us": median_ns(one, n=n, batch=batch) / 1e3,
        "sign10_us": median_ns(ten, n=n, batch=batch) / 1e3,
        "sig1": [int(str(sig1["r"]), 16), int(str(sig1["s"]), 16), sig1["v"]],
    }
    sig10 = s.sign_l1_action(wallet, sdk_action(10), None, NONCE, None, True)
    out["sig10"] = [int(str(sig10["r"]), 16), int(str(sig10["s"]), 16), sig10["v"]]
    action = sdk_action(1)
    out["recover_us"] = (
        median_ns(
            lambda: s.recover_agent_or_user_from_l1_action(action, sig1, None, NONCE, None, True),
            n=n,
            batch=batch,
        )
        / 1e3
    )
    return out


def _run_sdk(backend_class: str, quick: bool) -> dict[str, Any]:
    env = dict(os.environ, ECC_BACKEND_CLASS=backend_class)
    args = [sys.executable, "-m", "mmfast.benchmarks.signing", "--sdk-child"]
    if quick:
        args.append("--quick")
    proc = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": last}
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def run(quick: bool = False) -> dict[str, float | str]:
    from mmfast import Signer
    from mmfast.signing import recover_request, sign_l1_action

    signer = Signer(KEY)
    n = 300 if quick else 3000
    one, ten = orders(1), orders(10)
    body1 = signer.sign_orders(one, nonce=NONCE)
    body10 = signer.sign_orders(ten, nonce=NONCE)
    fig: dict[str, float | str] = {
        "sign_us": median_ns(lambda: signer.sign_orders(one), n=n, batch=10) / 1e3,
        "sign10_us": median_ns(lambda: signer.sign_orders(ten), n=n, batch=10) / 1e3,
        "recover_us": median_ns(lambda: recover_request(body1, True), n=n, batch=10) / 1e3,
        "recover10_us": median_ns(lambda: recover_request(body10, True), n=n, batch=10) / 1e3,
    }
    ours = {
        1: json.loads(body1)["signature"],
        10: json.loads(body10)["signature"],
    }
    identical, compared = True, 0
    try:
        dict1 = sdk_action(1)
        fig["sign_dict_us"] = (
            median_ns(lambda: sign_l1_action(KEY, dict1, NONCE, None, None, True), n=n, batch=10)
            / 1e3
        )
    except ImportError:
        pass
    for name, backend_class in BACKENDS.items():
        sdk = _run_sdk(backend_class, quick)
        if "error" in sdk or sdk["backend"] != backend_class.rsplit(".", 1)[1]:
            # SDK or coincurve missing: said so, rather than a number that reads as a result.
            for k in ("sign_us", "sign10_us"):
                fig[f"{name}_{k}"] = NOT_INSTALLED
            continue
        compared += 1
        fig[f"{name}_sign_us"] = sdk["sign_us"]
        fig[f"{name}_sign10_us"] = sdk["sign10_us"]
        if name == "sdk_coincurve":
            fig[f"{name}_recover_us"] = sdk["recover_us"]
        fig[f"{name}_over_sign_x"] = sdk["sign_us"] / fig["sign_us"]
        fig[f"{name}_over_sign10_x"] = sdk["sign10_us"] / fig["sign10_us"]
        for k, key in ((1, "sig1"), (10, "sig10")):
            mine = ours[k]
            identical &= sdk[key] == [int(mine["r"], 16), int(mine["s"], 16), mine["v"]]
    fig["byte_identical"] = (1.0 if identical else 0.0) if compared else NOT_INSTALLED
    return fig


if __name__ == "__main__":
    if "--sdk-child" in sys.argv:
        print(json.dumps(_sdk_child("--quick" in sys.argv)))
    else:
        from mmfast.benchmarks.catalog import table

        print("\n".join(table(run("--quick" in sys.argv))))
