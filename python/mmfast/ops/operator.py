"""The operator beside a node: the state file's bookkeeping of this run, the kill switch and the
soft monitors, checked once a second, off the hot path.

At start it refuses when the kill switch is set, opens a run row at the account's equity and
hands the engine the day's opening equity with the losses of the day's earlier runs carried in
(`set_day_start_equity`), so that a restart never resets the daily loss limit. Each second it
records equity and PnL, runs the monitors, logs each trigger once with its numbers, pauses on a
soft one (cancel all; resume when clear) and kills on a hard one (recorded, then the bot stops).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any

from mmfast.errors import MmfastError
from mmfast.feeds.ws import mono_ms
from mmfast.ops.monitors import Monitors, Reading, Trigger
from mmfast.store import StateStore

if TYPE_CHECKING:
    from mmfast.live.node import Node

log = logging.getLogger("mmfast.ops")


class KilledError(MmfastError):
    """The kill switch is set in the state file: the bot stays down until `mmfast reset-kill`."""


def check_not_killed(store: StateStore) -> None:
    k = store.kill_state()
    if k is not None:
        at = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(k["at_ms"] / 1000))
        raise KilledError(
            f"kill switch set at {at} by {k['reason']}: {k['detail']}. Check the account, then "
            f"clear it with: mmfast reset-kill --state {store.path}"
        )


class Operator:
    def __init__(self, node: Node, store: StateStore, *, period_s: float = 1.0) -> None:
        self.node = node
        self.store = store
        self.period_s = period_s
        self.monitors = Monitors(node.cfg)
        self.run_id: int | None = None
        self.start_equity = 0.0
        #: Equity change of the day's earlier runs (negative: losses carried in).
        self.prev_day_pnl = 0.0
        self.active: dict[str, Trigger] = {}
        self.killed: Trigger | None = None
        self.paused_by: str | None = None
        self._clear_since: float | None = None
        self.warnings: list[str] = []

    # ---- lifecycle, called by the node ----

    def on_started(self, equity: float) -> None:
        check_not_killed(self.store)
        cfg = self.node.cfg
        self.store.set_info(
            account=self.node.account, asset=str(cfg.asset), network=str(cfg.network).lower()
        )
        self.start_equity = equity
        self.run_id = self.store.start_run(equity)
        self.prev_day_pnl = self.store.day_pnl(exclude_run=self.run_id)
        if self.prev_day_pnl < 0:
            log.warning(
                "carrying %.2f USD of losses from earlier runs today into the daily loss limit",
                -self.prev_day_pnl,
            )

    def day_start_equity(self) -> float:
        """What the engine's daily loss limit counts from: this run's opening equity raised by
        the day's earlier losses (lowered by its gains)."""
        return self.start_equity - self.prev_day_pnl

    def on_shutdown(self, reason: str) -> None:
        if self.run_id is None:
            return
        self._record()
        self.store.end_run(self.run_id, ("killed: " if self.killed else "") + reason)
        self.store.flush()

    # ---- once a second ----

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.period_s)
            try:
                await self.tick()
            except MmfastError as e:  # one bad reading must not stop the monitors
                log.error("monitor tick failed: %s", e)

    def reading(self) -> Reading:
        node, tr = self.node, self.node.trader
        run_pnl = tr.pnl.net(tr.mid)
        return Reading(
            now_s=time.monotonic(),
            day_pnl=self.prev_day_pnl + run_pnl,
            run_pnl=run_pnl,
            position=tr.pnl.position,
            max_position=tr.path.max_position if tr.path is not None else 0.0,
            mid=tr.mid,
            hl_age_s=max(0, mono_ms() - node.last_hl_ms) / 1000 if node.last_hl_ms else 0.0,
            budget_headroom=node.budget.headroom if node.budget.cap else None,
        )

    async def tick(self) -> None:
        if self.killed is not None:
            return
        r = self.reading()
        self._record(r)
        now = {t.monitor: t for t in self.monitors.check(r)}
        for name, t in now.items():
            if name not in self.active:
                (log.error if t.hard else log.warning)("monitor %s: %s", name, t.detail)
                self.store.add_event("trigger", name, t.detail)
        for name in self.active.keys() - now.keys():
            log.info("monitor %s: clear", name)
            self.store.add_event("clear", name, "")
        self.active = now
        hard = [t for t in now.values() if t.hard]
        if hard:
            await self.kill(hard[0])
            return
        soft = [t for t in now.values() if not t.hard]
        if soft:
            self._clear_since = None
            if self.paused_by is None:
                await self.pause(soft[0].monitor)
        elif self.paused_by is not None:
            t = time.monotonic()
            if self._clear_since is None:
                self._clear_since = t
            if t - self._clear_since >= float(self.node.cfg.monitors.resume_after_s):
                self.resume()

    def _record(self, r: Reading | None = None) -> None:
        if self.run_id is None:
            return
        r = r or self.reading()
        tr = self.node.trader
        self.run_id = self.store.update_run(
            self.run_id,
            self.start_equity + r.run_pnl,
            position=r.position,
            unrealised=tr.pnl.unrealised(tr.mid),
        )

    # ---- actions ----

    async def pause(self, monitor: str) -> None:
        self.paused_by = monitor
        self.node.paused = monitor
        log.warning("paused by %s: cancelling every order, connections kept", monitor)
        await self.node.cancel_all(f"pause: {monitor}")

    def resume(self) -> None:
        log.info(
            "resuming: %s clear for %ss", self.paused_by, self.node.cfg.monitors.resume_after_s
        )
        self.store.add_event("resume", self.paused_by or "", "")
        self.paused_by = None
        self._clear_since = None
        self.node.paused = None
        self.node.trader.want_cycle()

    async def kill(self, t: Trigger) -> None:
        self.killed = t
        self.node.paused = f"killed: {t.monitor}"
        self.store.set_kill(t.monitor, t.detail)
        self.store.flush()
        log.error("KILL by %s: %s; the bot stays down until mmfast reset-kill", t.monitor, t.detail)
        await self.node.cancel_all(f"kill: {t.monitor}")
        self.node.stop(f"killed by {t.monitor}: {t.detail}")

    # ---- for the dashboard and the summary ----

    def status(self) -> dict[str, Any]:
        return {
            "kill": None if self.killed is None else f"{self.killed.monitor}: {self.killed.detail}",
            "paused_by": self.paused_by,
            "triggers": {k: t.detail for k, t in self.active.items()},
            "day_pnl_usd": round(
                self.prev_day_pnl + self.node.trader.pnl.net(self.node.trader.mid), 6
            ),
            "carried_loss_usd": round(max(0.0, -self.prev_day_pnl), 6),
        }
