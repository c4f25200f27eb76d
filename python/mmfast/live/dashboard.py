"""What the operator watches (SPEC 10): a live rich table on a terminal, one plain progress line
at a time otherwise (logs, CI). Both read the same snapshot of the bot."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

import numpy as np


def snapshot(bot: Any) -> dict[str, Any]:
    """The figures shown, from the bot's state (cheap: runs once a second)."""
    tr = bot.trader
    orders = tr.path.orders if tr.path is not None else []  # (oid, cloid, is_buy, px, sz, state)
    bids = [o[3] for o in orders if o[2]]
    asks = [o[3] for o in orders if not o[2]]
    out = tr.last_out
    recent = tr.stats.cycle_ns.values(2000).astype(np.float64) / 1e3
    if not len(recent):
        recent = np.zeros(1)
    mark = tr.mid
    gw = bot.gateway
    return {
        "t": (time.monotonic() * 1000 - bot.stats.started_ms) / 1000,
        "mid": mark,
        "bid": max(bids) if bids else None,
        "ask": min(asks) if asks else None,
        "orders": len(orders),
        "position": tr.pnl.position,
        "max_position": tr.path.max_position if tr.path is not None else None,
        "zone": _name(getattr(out, "zone", None)),
        "mode": _name(getattr(out, "mode", None)),
        "pnl": tr.pnl.total(mark),
        "fees": tr.pnl.fees,
        "fills": tr.pnl.fills,
        "volume": tr.pnl.volume_usd,
        "cycles": tr.stats.cycles,
        "p50": float(np.percentile(recent, 50)),
        "p99": float(np.percentile(recent, 99)),
        "sent": gw.sent if gw else 0,
        "rejected": gw.rejected if gw else 0,
        "reconnects": sum(c.reconnects for c in bot.conns.values()),
        "halted": bot.watchdog.halted if bot.watchdog else None,
        "synced": bot.synced,
    }


def _name(x: Any) -> str:
    if x is None:
        return "-"
    for attr in ("kind", "name"):
        v = getattr(x, attr, None)
        if isinstance(v, str):
            return v
    s = str(x)
    return s.split(".")[-1]


def _px(x: float | None) -> str:
    return "-" if x is None else f"{x:.6g}"


def progress_line(s: dict[str, Any]) -> str:
    state = f"HALTED({s['halted']})" if s["halted"] else ("live" if s["synced"] else "syncing")
    return (
        f"t={s['t']:6.1f}s {state} mid={_px(s['mid'])} quotes={_px(s['bid'])}/{_px(s['ask'])} "
        f"pos={s['position']:+.6g}/{_px(s['max_position'])} zone={s['zone']} mode={s['mode']} "
        f"pnl={s['pnl']:+.4f} fees={s['fees']:.4f} fills={s['fills']} vol=${s['volume']:.0f} "
        f"cycles={s['cycles']} cycle_us p50={s['p50']:.1f} p99={s['p99']:.1f} "
        f"sent={s['sent']} rej={s['rejected']} reconnects={s['reconnects']}"
    )


class Dashboard:
    """`update(bot)` once a second; `close()` at the end. Rich when `tty`, else plain lines."""

    def __init__(
        self, tty: bool | None = None, stream: TextIO | None = None, title: str = "mmfast"
    ) -> None:
        self.stream = stream or sys.stdout
        self.tty = self.stream.isatty() if tty is None else tty
        self.title = title
        self._live: Any = None
        self._last_line = 0.0

    def update(self, bot: Any) -> None:
        s = snapshot(bot)
        if not self.tty:
            if time.monotonic() - self._last_line >= 5.0:
                self._last_line = time.monotonic()
                print(progress_line(s), file=self.stream, flush=True)
            return
        from rich.live import Live

        if self._live is None:
            self._live = Live(self._table(s), refresh_per_second=4, transient=False)
            self._live.start()
        else:
            self._live.update(self._table(s))

    def _table(self, s: dict[str, Any]) -> Any:
        from rich.table import Table

        t = Table(title=f"{self.title}  t={s['t']:.0f}s", show_header=False, expand=False)
        t.add_column(style="bold")
        t.add_column()
        state = (
            f"[red]HALTED: {s['halted']}[/red]"
            if s["halted"]
            else ("[green]live[/green]" if s["synced"] else "[yellow]syncing[/yellow]")
        )
        spread = (
            f"  ({(s['ask'] - s['bid']) / s['mid'] * 1e4:.1f} bps)"
            if s["bid"] and s["ask"] and s["mid"]
            else ""
        )
        rows = [
            ("state", state),
            ("mid", _px(s["mid"])),
            ("our quotes", f"{_px(s['bid'])} / {_px(s['ask'])}{spread}  ({s['orders']} orders)"),
            ("position", f"{s['position']:+.6g} of max {_px(s['max_position'])}  zone {s['zone']}"),
            ("mode", s["mode"]),
            ("PnL", f"{s['pnl']:+.4f} USD  (fees {s['fees']:.4f})"),
            ("fills", f"{s['fills']}  volume ${s['volume']:,.0f}"),
            ("cycle", f"{s['cycles']} cycles, p50 {s['p50']:.1f} us, p99 {s['p99']:.1f} us"),
            (
                "actions",
                f"{s['sent']} sent, {s['rejected']} rejected, {s['reconnects']} reconnects",
            ),
        ]
        for k, v in rows:
            t.add_row(k, v)
        return t

    def close(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None
