"""Hyperliquid L1 signing helpers with the official SDK's signatures (PROTOCOL 4, SPEC 9).

For tools and tests that hold the SDK's action dicts: the same arguments as
`hyperliquid.utils.signing`, the same bytes, the same signatures, computed in Rust. The live
bot signs through `mmfast.Signer` instead, which builds request bodies without any dict.

    >>> from mmfast.signing import sign_l1_action, recover_l1_signer
    >>> sig = sign_l1_action(key, {"type": "noop"}, 1700000000000, None, None, True)
    >>> recover_l1_signer({"type": "noop"}, 1700000000000, None, None, True, sig)
    '0x14791697260E4c9A71f18484C9f997B308e59325'

Signatures come back as `{"r": "0x" + 64 hex, "s": "0x" + 64 hex, "v": 27 | 28}`; the SDK
prints r and s without leading zeros, which denotes the same numbers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from mmfast import _core
from mmfast._core import RecoveredRequest, Signer, recover_request
from mmfast.errors import SigningError

__all__ = [
    "RecoveredRequest",
    "Signer",
    "SigningError",
    "action_hash",
    "action_msgpack",
    "address_from_key",
    "float_to_wire",
    "recover_l1_signer",
    "recover_request",
    "sign_l1_action",
]


def sign_l1_action(
    private_key: str | bytes | Any,
    action: Mapping[str, Any],
    nonce: int,
    vault_address: str | None,
    expires_after: int | None,
    is_mainnet: bool,
) -> dict[str, Any]:
    """Signs an L1 action dict as the SDK's `sign_l1_action` does.

    `private_key` is a hex string, 32 raw bytes, or an eth_account account (its `.key`). The
    dict is hashed in insertion order, as `msgpack.packb` packs it. Errors never show the key.
    """
    return _core.sign_l1_action(
        private_key, action, nonce, vault_address, expires_after, is_mainnet
    )


def recover_l1_signer(
    action: Mapping[str, Any],
    nonce: int,
    vault_address: str | None,
    expires_after: int | None,
    is_mainnet: bool,
    signature: Mapping[str, Any],
) -> str:
    """Returns the checksummed address that produced `signature` (r and s as hex or int)."""
    return _core.recover_l1_signer(
        action, nonce, vault_address, expires_after, is_mainnet, signature
    )


def action_msgpack(action: Mapping[str, Any]) -> bytes:
    """The bytes `msgpack.packb(action)` gives: what the connection id hashes."""
    return _core.action_msgpack(action)


def action_hash(
    action: Mapping[str, Any], vault_address: str | None, nonce: int, expires_after: int | None
) -> bytes:
    """The SDK's `action_hash` (the phantom agent's connection id), same argument order."""
    return _core.action_hash(action, vault_address, nonce, expires_after)


def address_from_key(key: str | bytes | Any) -> str:
    """The checksummed address of a private key (hex string, 32 bytes or account object)."""
    return _core.address_from_key(key)


def float_to_wire(x: float) -> str:
    """The SDK's `float_to_wire`, identical output and errors.

    Raises `SigningError` (a `ValueError`) with the SDK's args, `("float_to_wire causes
    rounding", x)`, when 8 decimals would change `x`. Like the SDK, -0.0 gives "-0", and NaN
    and infinities give "NaN", "Infinity", "-Infinity" (which no exchange accepts).
    """
    x = float(x)
    if math.isfinite(x):
        return _core.float_to_wire(x)
    if math.isnan(x):
        return "NaN"
    return "Infinity" if x > 0 else "-Infinity"
