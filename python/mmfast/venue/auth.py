"""Signer recovery for the venue (SPEC 11, PROTOCOL 4).

`recover_l1_signer` is the one place the venue recovers the address that signed an L1 action.
It uses mmfast's own Rust recovery (`mmfast.signing`) when the package has it and falls back to
the official SDK's `recover_agent_or_user_from_l1_action` otherwise (slow: pure-Python EIP-712).
`recover_agent_approver` does the same for the user-signed `approveAgent` action.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_RECOVER: Callable[..., str] | None = None
BACKEND = "sdk"

try:  # mmfast's own recovery, in Rust, once the signing area provides it
    from mmfast.signing import recover_l1_signer as _mm_recover

    _RECOVER = _mm_recover
    BACKEND = "mmfast"
except ImportError:  # pragma: no cover - depends on what is installed
    _RECOVER = None

AGENT_TYPES = [
    {"name": "hyperliquidChain", "type": "string"},
    {"name": "agentAddress", "type": "address"},
    {"name": "agentName", "type": "string"},
    {"name": "nonce", "type": "uint64"},
]


def recover_l1_signer(
    action: dict[str, Any],
    nonce: int,
    vault_address: str | None,
    expires_after: int | None,
    is_mainnet: bool,
    signature: dict[str, Any],
) -> str:
    """Returns the lower-case address that signed `action` (raises on a malformed signature)."""
    if _RECOVER is not None:
        return str(
            _RECOVER(action, nonce, vault_address, expires_after, is_mainnet, signature)
        ).lower()
    from hyperliquid.utils.signing import recover_agent_or_user_from_l1_action

    sig = _sdk_signature(signature)
    return str(
        recover_agent_or_user_from_l1_action(
            action, sig, vault_address, nonce, expires_after, is_mainnet
        )
    ).lower()


def recover_agent_approver(
    action: dict[str, Any], is_mainnet: bool, signature: dict[str, Any]
) -> str:
    """Returns the lower-case address that signed an `approveAgent` action.

    The SDK signs an unnamed agent with `agentName: ""` and then drops the key from the posted
    action, so an absent name is hashed as the empty string.
    """
    from hyperliquid.utils.signing import recover_user_from_user_signed_action

    msg = {
        "hyperliquidChain": action.get("hyperliquidChain", ""),
        "agentAddress": action["agentAddress"],
        "agentName": action.get("agentName", ""),
        "nonce": action["nonce"],
        "signatureChainId": action.get("signatureChainId", "0x66eee"),
    }
    return str(
        recover_user_from_user_signed_action(
            msg,
            _sdk_signature(signature),
            AGENT_TYPES,
            "HyperliquidTransaction:ApproveAgent",
            is_mainnet,
        )
    ).lower()


def _sdk_signature(signature: dict[str, Any]) -> dict[str, Any]:
    r, s, v = signature["r"], signature["s"], signature["v"]
    if isinstance(r, str):
        r = int(r, 16)
    if isinstance(s, str):
        s = int(s, 16)
    return {"r": r, "s": s, "v": int(v)}
