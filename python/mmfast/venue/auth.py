"""Signer recovery for the venue (SPEC 11, PROTOCOL 4).

`recover_body` (a raw `/exchange` body, hashed in the key order it arrived in) and
`recover_l1_signer` (an action dict) are the only places the venue recovers the address that
signed an L1 action. Both use mmfast's own Rust recovery (`mmfast._core.recover_request`,
`mmfast.signing`); the official SDK's `recover_agent_or_user_from_l1_action` remains as the
fallback for a build without it. `recover_agent_approver` handles the user-signed
`approveAgent` action with the SDK (rare, off the hot path).
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


def recover_body(body: bytes, is_mainnet: bool) -> str:
    """Returns the lower-case address that signed the L1 action of a raw `/exchange` body."""
    try:
        from mmfast._core import recover_request
    except ImportError:  # pragma: no cover - a build without the signing area
        import orjson

        p = orjson.loads(body)
        return recover_l1_signer(
            p["action"],
            p["nonce"],
            p.get("vaultAddress"),
            p.get("expiresAfter"),
            is_mainnet,
            p["signature"],
        )
    return str(recover_request(body, is_mainnet).signer).lower()


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
