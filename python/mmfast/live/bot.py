"""The bot `paper` and `live` run (SPEC 8-10): one account's node holding one asset's trader, one
asset per process. `live.node` has the account's side (sockets, gateway, signer, address budget,
watchdog and dead-man switch, reconciliation, shutdown); `live.trader` the asset's (engine, guard
and ledger, PnL, the cycle). `await Bot(config, identity).run(duration_s)` returns the summary.
"""

from __future__ import annotations

from mmfast.live.node import BOT_TAG, Endpoints, Node, endpoints
from mmfast.live.trader import Trader

#: One node with one trader: what a process runs today.
Bot = Node

__all__ = ["BOT_TAG", "Bot", "Endpoints", "Node", "Trader", "endpoints"]
