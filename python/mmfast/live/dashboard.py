"""What the operator watches (SPEC 10): a live rich table on a terminal, one plain progress line
at a time otherwise (logs, CI). Both read the same snapshot of the bot."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

import numpy as np
from mmfast.live.metrics import enum_name, lead_state


def snapshot(bot: Any) -> dict[str, Any]:
    """The figures shown, from the bot's state (cheap: runs once a second)."""
    tr = bot.trader
    orders = tr.path.orders if tr.path is not None else []  # (oid, cloid, is_buy, px, sz, state)
    bids = [o[3] for o in orders if o[2]]
    asks = [o[3] for o in orders if not o[2]]
    out = tr.last_out
    d = out.diagnostics if out is not None else {}
    recent = tr.stats.cycle_ns.values(2000).astype(np.float64) / 1e3
    if not len(recent):
        recent = np.zeros(1)
    mark = tr.mid
    gw = bot.gateway
    op = getattr(bot, "operator", None)
    ops = op.status() if op is not None else {}
    warnings = []
    if bot.watchdog is not None and bot.watchdog.halted:
        warnings.append(f"watchdog halted quoting: {bot.watchdog.halted}")
    if ops.get("kill"):
        warnings.append(f"KILLED {ops['kill']} (mmfast reset-kill to clear)")
    for name, detail in (ops.get("triggers") or {}).items():
        warnings.append(f"{name}: {detail}")
    if getattr(bot, "paused", None) and not ops.get("kill"):
        warnings.append(f"paused by {bot.paused}: orders cancelled, resumes when clear")
    if getattr(bot, "dry_run", False):
        warnings.append("dry run: actions are logged, nothing is sent")
    if d.get("no_signal_warning"):
        warnings.append("no cross-venue signal yet: quoting capped")
    fills = []
    if op is not None:
        try:
            fills = op.store.last_fills(3)
        except Exception:  # the state file is closing: no fills line this second
            fills = []
    return {
        "t": (time.monotonic() * 1000 - bot.stats.started_ms) / 1000,
        "mid": mark,
        "bid": max(bids) if bids else None,
        "ask": min(asks) if asks else None,
        "bid_bps": (mark - max(bids)) / mark * 1e4 if bids and mark else None,
        "ask_bps": (min(asks) - mark) / mark * 1e4 if asks and mark else None,
        "orders": len(orders),
        "position": tr.pnl.position,
        "max_position": tr.path.max_position if tr.path is not None else None,
        "effective_max": d.get("effective_max"),
        "caps": ", ".join(str(c) for c in d.get("caps") or ()) or "none",
        "lead": lead_state(bot.cfg, d) if d else "-",
        "regime": d.get("regime") or "-",
        "toxicity": d.get("toxicity") or "-",
        "zone": enum_name(getattr(out, "zone", None)),
        "mode": enum_name(getattr(out, "mode", None)),
        "pnl": tr.pnl.total(mark),
        "realised": tr.pnl.realised,
        "unrealised": tr.pnl.unrealised(mark),
        "fees": tr.pnl.fees,
        "day_pnl": ops.get("day_pnl_usd"),
        "fills": tr.pnl.fills,
        "recent_fills": fills,
        "volume": tr.pnl.volume_usd,
        "cycles": tr.stats.cycles,
        "p50": float(np.percentile(recent, 50)),
        "p99": float(np.percentile(recent, 99)),
        "sent": gw.sent if gw else 0,
        "rejected": gw.rejected if gw else 0,
        "reconnects": sum(c.reconnects for c in bot.conns.values()),
        "halted": bot.watchdog.halted if bot.watchdog else None,
        "paused": getattr(bot, "paused", None),
        "synced": bot.synced,
        "warnings": warnings,
    }


def _bps(x: float | None) -> str:
    return "-" if x is None else f"{x:.1f}"


def _state(s: dict[str, Any]) -> str:
    if s["halted"]:
        return f"HALTED({s['halted']})"
    if s["paused"]:
        return f"PAUSED({s['paused']})"
    return "live" if s["synced"] else "syncing"


def _px(x: float | None) -> str:
    return "-" if x is None else f"{x:.6g}"


def progress_line(s: dict[str, Any]) -> str:
    line = (
        f"t={s['t']:6.1f}s {_state(s)} mid={_px(s['mid'])} "
        f"quotes={_px(s['bid'])}/{_px(s['ask'])} (-{_bps(s['bid_bps'])}/+{_bps(s['ask_bps'])} bps) "
        f"pos={s['position']:+.6g}/{_px(s['effective_max'])} of {_px(s['max_position'])} "
        f"caps={s['caps']} zone={s['zone']} mode={s['mode']} lead={s['lead']} "
        f"vol={s['regime']} tox={s['toxicity']} "
        f"pnl={s['pnl']:+.4f} (real {s['realised']:+.4f} unreal {s['unrealised']:+.4f}) "
        f"fees={s['fees']:.4f} fills={s['fills']} vol=${s['volume']:.0f} "
        f"cycles={s['cycles']} cycle_us p50={s['p50']:.1f} p99={s['p99']:.1f} "
        f"sent={s['sent']} rej={s['rejected']} reconnects={s['reconnects']}"
    )
    return line + "".join(f" | WARNING {w}" for w in s["warnings"])


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

    #: Fixed width of the table, so that it does not jump as figures change.
    WIDTH = 100

    def _table(self, s: dict[str, Any]) -> Any:
        from rich.table import Table

        t = Table(
            title=f"{self.title}  t={s['t']:.0f}s",
            show_header=False,
            width=self.WIDTH,
            expand=False,
        )
        t.add_column(style="bold", width=12, no_wrap=True)
        t.add_column(width=self.WIDTH - 19, overflow="fold")
        state = _state(s)
        colour = "green" if state == "live" else ("yellow" if state == "syncing" else "red")
        spread = (
            f"  spread {(s['ask'] - s['bid']) / s['mid'] * 1e4:.1f} bps"
            if s["bid"] and s["ask"] and s["mid"]
            else ""
        )
        day = "" if s["day_pnl"] is None else f"  today {s['day_pnl']:+.2f}"
        fills = "; ".join(
            f"{'buy' if f['side'] == 'B' else 'sell'} {f['sz']:g}@{f['px']:g}"
            for f in s["recent_fills"]
        )
        rows = [
            ("state", f"[{colour}]{state}[/{colour}]"),
            ("mid", _px(s["mid"])),
            (
                "our quotes",
                f"{_px(s['bid'])} (-{_bps(s['bid_bps'])} bps) / {_px(s['ask'])} "
                f"(+{_bps(s['ask_bps'])} bps){spread}  {s['orders']} orders",
            ),
            ("position", f"{s['position']:+.6g}  zone {s['zone']}  mode {s['mode']}"),
            (
                "max",
                f"effective {_px(s['effective_max'])} of {_px(s['max_position'])}  "
                f"binding cap: {s['caps']}",
            ),
            ("signals", f"lead {s['lead']}  vol regime {s['regime']}  toxicity {s['toxicity']}"),
            (
                "PnL",
                f"{s['pnl']:+.4f} USD (realised {s['realised']:+.4f}, unrealised "
                f"{s['unrealised']:+.4f})  fees {s['fees']:.4f}{day}",
            ),
            ("fills", f"{s['fills']}  volume ${s['volume']:,.0f}  {fills}"),
            ("cycle", f"{s['cycles']} cycles, p50 {s['p50']:.1f} us, p99 {s['p99']:.1f} us"),
            (
                "actions",
                f"{s['sent']} sent, {s['rejected']} rejected, {s['reconnects']} reconnects",
            ),
        ]
        for w in s["warnings"]:
            rows.append(("[red]warning[/red]", w))
        for k, v in rows:
            t.add_row(k, v)
        return t

    def close(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None
