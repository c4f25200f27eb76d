"""The dry run: the node reads real market data and the account, runs every cycle through the
engine, the pre-send guard and the ledger, and logs each action it would send; nothing leaves
the process. The bodies are built with a throwaway in-memory key (never the operator's: a dry
run needs none) and are dropped; each is answered locally with "dry run: not sent", so the
engine sees its quotes refused and quotes them again on the next cycle, as it would live.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import orjson

from mmfast.feeds.ws import mono_ms
from mmfast.gateway.orders import Sent, error_bytes
from mmfast.gateway.responses import ErrorKind, failed

if TYPE_CHECKING:
    from mmfast.live.node import Node

log = logging.getLogger("mmfast.dryrun")


def describe(action: dict[str, Any]) -> str:
    """One line for an action: kind and each order's side, size and price."""
    kind = str(action.get("type"))
    if kind == "order":
        parts = [
            f"{'buy' if o['b'] else 'sell'} {o['s']} @ {o['p']}"
            + (" reduce-only" if o.get("r") else "")
            + f" {next(iter(o['t'].get('limit', {}).values()), '')}"
            for o in action.get("orders", ())
        ]
        return f"place {len(parts)}: " + ", ".join(parts)
    if kind in ("cancel", "cancelByCloid"):
        return f"cancel {len(action.get('cancels', ()))}"
    if kind == "batchModify":
        mods = [
            f"{'buy' if m['order']['b'] else 'sell'} {m['order']['s']} @ {m['order']['p']}"
            for m in action.get("modifies", ())
        ]
        return f"modify {len(mods)}: " + ", ".join(mods)
    return kind


def install(node: Node) -> None:
    gw = node.gateway
    assert gw is not None

    def send(out: Any, tag: Any = None, via_rest: bool = False) -> Sent:
        """An `Outgoing` of the order path (already through the guard): logged, never sent."""
        if out.refused is None:
            gw.path.forget(out.id)  # it never leaves: the ledger must not count it
        action = orjson.loads(out.body)["action"] if out.body is not None else {"type": out.kind}
        s = Sent(out.id, b"", out.kind, out.n_items, mono_ms(), None, tag=tag, nonce=None)
        why = out.refused
        log.info(
            "dry run: would send %s%s", describe(action), f" (guard refuses: {why})" if why else ""
        )
        gw.sent += 1
        gw._finish(
            s,
            error_bytes("dry run: not sent"),
            failed("dry run: not sent", out.n_items, ErrorKind.LOCAL),
            mono_ms(),
            sent=False,
        )
        return s

    def submit(body: bytes, tag: Any = None, via_rest: bool = False) -> Sent:
        return send(gw.path.accept_body(body), tag, via_rest)

    gw.send = send  # type: ignore[method-assign]
    gw.submit = submit  # type: ignore[method-assign]
