"""The kill switch's monitors, checked about once a second from readings the operator takes.

Hard limits kill: the state file records it and the bot stays down, across restarts, until
`mmfast reset-kill`. Soft monitors pause: cancel everything, keep the connections, and resume
once every soft condition has been clear for `monitors.resume_after_s`.

- `daily_loss` (hard): equity lost since 00:00 UTC, the day's earlier runs included, reached
  `risk.daily_loss_limit_usd`.
- `drawdown` (hard): PnL since the run began gave back `monitors.drawdown_frac` of its peak, once
  the peak reached `monitors.drawdown_min_peak_usd` (no kill from a $0.02 peak).
- `position_velocity` (soft): |position| swung by more than `position_velocity_frac` x max
  within `position_velocity_window_s`.
- `price_velocity` (soft): the mid moved more than `price_velocity_bps` within
  `price_velocity_window_s`.
- `stale_data` (soft): the newest Hyperliquid market data is older than `stale_data_s`.
- `budget` (soft): the address budget (`userRateLimit`) has fewer than `min_budget_headroom`
  requests left.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Reading:
    now_s: float
    #: Equity change since 00:00 UTC, earlier runs of the day included (USD).
    day_pnl: float
    #: Net PnL since this run began (USD).
    run_pnl: float
    position: float
    max_position: float
    mid: float | None
    #: Age of the newest Hyperliquid market frame (s).
    hl_age_s: float
    #: Address requests left, None when unknown.
    budget_headroom: int | None


@dataclass(frozen=True)
class Trigger:
    monitor: str
    hard: bool
    detail: str


class Monitors:
    def __init__(self, cfg: Any) -> None:
        m = cfg.monitors
        self.m = m
        self.daily_limit = float(cfg.risk.daily_loss_limit_usd)
        self.peak = 0.0
        self._pos: deque[tuple[float, float]] = deque()
        self._px: deque[tuple[float, float]] = deque()

    def check(self, r: Reading) -> list[Trigger]:
        """Every condition that holds now."""
        m = self.m
        out = []
        if self.daily_limit > 0 and -r.day_pnl >= self.daily_limit:
            out.append(
                Trigger(
                    "daily_loss",
                    True,
                    f"lost {-r.day_pnl:.2f} USD since 00:00 UTC (earlier runs included) >= "
                    f"risk.daily_loss_limit_usd = {self.daily_limit:.2f}",
                )
            )
        self.peak = max(self.peak, r.run_pnl)
        given_back = self.peak - r.run_pnl
        if (
            m.drawdown_frac > 0
            and self.peak >= m.drawdown_min_peak_usd
            and given_back >= m.drawdown_frac * self.peak
        ):
            out.append(
                Trigger(
                    "drawdown",
                    True,
                    f"PnL {r.run_pnl:.2f} USD gave back {given_back:.2f} of its peak "
                    f"{self.peak:.2f} (>= monitors.drawdown_frac = {m.drawdown_frac:g})",
                )
            )
        swing = _swing(self._pos, r.now_s, r.position, m.position_velocity_window_s)
        if r.max_position > 0 and swing > m.position_velocity_frac * r.max_position:
            out.append(
                Trigger(
                    "position_velocity",
                    False,
                    f"position swung {swing:g} within {m.position_velocity_window_s:g} s "
                    f"(> {m.position_velocity_frac:g} x max {r.max_position:g})",
                )
            )
        if r.mid is not None and r.mid > 0:
            move = _swing(self._px, r.now_s, r.mid, m.price_velocity_window_s)
            low = min(p for _, p in self._px)
            bps = move / low * 1e4
            if bps > m.price_velocity_bps:
                out.append(
                    Trigger(
                        "price_velocity",
                        False,
                        f"mid moved {bps:.1f} bps within {m.price_velocity_window_s:g} s "
                        f"(> monitors.price_velocity_bps = {m.price_velocity_bps:g})",
                    )
                )
        if r.hl_age_s > m.stale_data_s:
            out.append(
                Trigger(
                    "stale_data",
                    False,
                    f"newest Hyperliquid data is {r.hl_age_s:.1f} s old "
                    f"(> monitors.stale_data_s = {m.stale_data_s:g})",
                )
            )
        if r.budget_headroom is not None and r.budget_headroom < m.min_budget_headroom:
            out.append(
                Trigger(
                    "budget",
                    False,
                    f"address budget has {r.budget_headroom} requests left "
                    f"(< monitors.min_budget_headroom = {m.min_budget_headroom})",
                )
            )
        return out


def _swing(window: deque[tuple[float, float]], now: float, value: float, span: float) -> float:
    """Adds `value` at `now`, drops samples older than `span`; returns max - min in the window."""
    window.append((now, value))
    while window and window[0][0] < now - span:
        window.popleft()
    values = [v for _, v in window]
    return max(values) - min(values)
