"""Hyperliquid websocket subscriptions and URLs (PROTOCOL 1.1, 1.3; SPEC 10).

Market data (`bbo`, `l2Book` with `fast`, `trades`) and user data (`orderUpdates`, `userFills`,
`userEvents`) go on separate sockets: user channels carry no user field, so the exchange's own
SDK keeps one user per socket, and a burst of book frames never delays a fill.
"""

from __future__ import annotations

import orjson

MAINNET_API = "https://api.hyperliquid.xyz"
TESTNET_API = "https://api.hyperliquid-testnet.xyz"


def api_url(network: str, configured: str = "") -> str:
    """The REST base: the configured one, else the network's."""
    if configured:
        return configured.rstrip("/")
    return TESTNET_API if str(network).lower().endswith("testnet") else MAINNET_API


def ws_url(api: str, configured: str = "") -> str:
    """The websocket URL: the configured one, else `ws(s)://<host>/ws` (as the SDK derives it)."""
    if configured:
        return configured
    if api.startswith("https://"):
        return "wss://" + api[len("https://") :] + "/ws"
    if api.startswith("http://"):
        return "ws://" + api[len("http://") :] + "/ws"
    raise ValueError(f"live.api_url = {api!r}: must start with http:// or https://")


def subscribe(sub: dict[str, object]) -> bytes:
    return orjson.dumps({"method": "subscribe", "subscription": sub})


def market_subscriptions(coin: str) -> list[bytes]:
    """`bbo` (every top-of-book change), `l2Book` with `fast` (5 levels, <= 0.5 s) and `trades`."""
    return [
        subscribe({"type": "bbo", "coin": coin}),
        subscribe({"type": "l2Book", "coin": coin, "fast": True}),
        subscribe({"type": "trades", "coin": coin}),
    ]


def user_subscriptions(account: str) -> list[bytes]:
    """Our orders, fills and events, always for the account (the master when an agent signs)."""
    return [
        subscribe({"type": "orderUpdates", "user": account}),
        subscribe({"type": "userFills", "user": account}),
        subscribe({"type": "userEvents", "user": account}),
    ]
