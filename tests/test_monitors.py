"""The kill switch's monitors on hand-made readings: each trips at its threshold with its numbers,
the drawdown guard ignores a tiny peak, and hard and soft are told apart."""

from __future__ import annotations

from mmfast import MarketMakerConfig
from mmfast.ops.monitors import Monitors, Reading


def monitors(**over: str) -> Monitors:
    return Monitors(MarketMakerConfig.from_toml("max_position = 1\n", "t", list(over.items())))


def reading(t: float, **kw: float) -> Reading:
    base = {
        "day_pnl": 0.0,
        "run_pnl": 0.0,
        "position": 0.0,
        "max_position": 1.0,
        "mid": 3000.0,
        "hl_age_s": 0.1,
        "budget_headroom": 10_000,
    }
    base.update(kw)
    return Reading(now_s=t, **base)  # type: ignore[arg-type]


def names(m: Monitors, r: Reading) -> dict[str, bool]:
    return {t.monitor: t.hard for t in m.check(r)}


def test_daily_loss_is_hard_and_counts_the_day() -> None:
    m = monitors(**{"risk.daily_loss_limit_usd": "50"})
    assert names(m, reading(0, day_pnl=-49.99)) == {}
    (t,) = m.check(reading(1, day_pnl=-50.0))
    assert t.monitor == "daily_loss" and t.hard and "lost 50.00 USD" in t.detail


def test_drawdown_needs_a_real_peak() -> None:
    m = monitors(**{"monitors.drawdown_frac": "0.5", "monitors.drawdown_min_peak_usd": "50"})
    assert names(m, reading(0, run_pnl=0.02)) == {}
    assert names(m, reading(1, run_pnl=-0.5)) == {}  # gave back 2500% of a $0.02 peak: no kill
    assert names(m, reading(2, run_pnl=100.0)) == {}
    assert names(m, reading(3, run_pnl=50.01)) == {}
    assert names(m, reading(4, run_pnl=50.0)) == {"drawdown": True}


def test_velocities_and_staleness_and_budget_are_soft() -> None:
    m = monitors(
        **{
            "monitors.position_velocity_frac": "1.0",
            "monitors.position_velocity_window_s": "10",
            "monitors.price_velocity_bps": "50",
            "monitors.price_velocity_window_s": "5",
        }
    )
    assert names(m, reading(0, position=-0.5)) == {}
    assert names(m, reading(1, position=0.6, mid=3010.0)) == {"position_velocity": False}
    assert names(m, reading(20, position=0.6, mid=3016.0)) == {}  # old samples left the window
    assert names(m, reading(21, position=0.6, mid=3031.2)) == {"price_velocity": False}  # 50.7 bps
    assert names(m, reading(40, hl_age_s=6.0)) == {"stale_data": False}
    assert names(m, reading(60, budget_headroom=499)) == {"budget": False}
