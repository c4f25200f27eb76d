"""One run of the bot as `mmfast run` and `mmfast paper` start it: preflight (printed; refusals
stop it), the state file and its kill switch, the node with its operator (monitors), the
dashboard, and the exit summary."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

from mmfast.errors import ConfigError
from mmfast.keys import Identity

log = logging.getLogger("mmfast.session")


class PreflightRefused(ConfigError):
    """The preflight found the configuration cannot trade on this account as it stands."""


def metrics_port(requested: int | None) -> int | None:
    """`--metrics-port`: None keeps the config's; 0 picks a free port."""
    if requested != 0:
        return requested
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_session(
    cfg: Any,
    ident: Identity,
    *,
    network: str,
    state_path: str | Path | None,
    title: str,
    plain: bool,
    duration: float | None,
    dry_run: bool = False,
    flatten_on_exit: bool = False,
    guardian: Any = None,
    guardian_factory: Any = None,
) -> dict[str, Any]:
    """`guardian`: a started guardian handle; `guardian_factory()`: starts one once the
    preflight passed. The node closes it at its shutdown; a run that never starts closes it
    here (nothing was placed)."""
    import uvloop

    from mmfast.gateway.limits import WeightBucket
    from mmfast.gateway.rest import RestClient
    from mmfast.live.dashboard import Dashboard
    from mmfast.live.node import Node, endpoints
    from mmfast.ops.operator import Operator, check_not_killed
    from mmfast.ops.preflight import preflight
    from mmfast.store import StateStore

    store = StateStore(state_path) if state_path else None
    try:
        if store is not None:
            check_not_killed(store)

        async def check() -> Any:
            rest = RestClient(endpoints(cfg).api, WeightBucket(cfg.live.ip_weight_per_minute))
            try:
                return await preflight(rest, cfg, ident, network=network, dry_run=dry_run)
            finally:
                await rest.close()

        pf = uvloop.run(check())
        print(pf.render(), flush=True)
        if not pf.ok:
            raise PreflightRefused("preflight refused to start:\n  " + "\n  ".join(pf.refusals))
        if cfg.live.metrics_port:
            print(f"metrics: http://127.0.0.1:{cfg.live.metrics_port}/metrics", file=sys.stderr)
        if store is not None:
            print(f"state: {store.path}", file=sys.stderr)
        from mmfast.live.realtime import apply_realtime_priority

        if apply_realtime_priority(int(cfg.live.realtime_priority)):
            log.info("event loop under SCHED_FIFO, priority %d", cfg.live.realtime_priority)
        if guardian is None and guardian_factory is not None:
            guardian = guardian_factory()
            log.info("guardian started (pid %d)", guardian.proc.pid)
        dash = Dashboard(tty=False if plain else None, title=title)
        node = Node(cfg, ident, on_progress=dash.update, guardian=guardian)
        guardian = None  # the node's now
        node.dry_run = dry_run
        node.flatten_on_exit = flatten_on_exit
        if store is not None:
            node.operator = Operator(node, store)
        try:
            summary = uvloop.run(node.run(duration))
        finally:
            dash.close()
        if store is not None:
            summary["state_file"] = str(store.path)
        return summary
    finally:
        if guardian is not None:
            guardian.close(clean=True)
        if store is not None:
            store.close()  # the node closes it at shutdown; closing twice is harmless
