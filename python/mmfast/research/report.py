"""`report.html` of `mmfast backtest --report DIR`: the run's summary and four interactive plots
(plotly, one self-contained file): PnL and its parts over time, inventory against the zones, our
quotes against mid with the fills, and the markout distribution at 1 s and 5 s.

Series longer than `MAX_POINTS` are thinned by a fixed stride (a 30-day run sampled every second
would be a 100 MB page the browser cannot draw); the page says so when it happens.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from mmfast.research.html import plotly_page, require_plotly, table

#: Most points one trace draws (per series and for the fills).
MAX_POINTS = 20_000

#: Trace names, also what the headless-browser test looks for in the drawn page.
PNL_TRACES = {
    "pnl_total": "total",
    "pnl_spread": "spread capture",
    "pnl_inventory": "inventory PnL",
    "pnl_fees": "fees",
    "pnl_funding": "funding",
}
ZONES = ("Green", "Yellow", "Red", "Kill")
#: Zone band colours: (band fill, legend swatch).
ZONE_COLOURS = {
    "Green": ("rgba(0,160,0,0.10)", "rgba(0,160,0,0.5)"),
    "Yellow": ("rgba(230,180,0,0.18)", "rgba(230,180,0,0.6)"),
    "Red": ("rgba(220,0,0,0.15)", "rgba(220,0,0,0.5)"),
}


def _stride(n: int) -> int:
    return max(1, -(-n // MAX_POINTS))


def _thin(a: np.ndarray, step: int) -> list[float | None]:
    """Every `step`-th value, NaN as None (JSON null: a gap in the line)."""
    v = np.asarray(a, dtype=np.float64)[::step]
    return [None if not np.isfinite(x) else float(x) for x in v]


def _fmt(x: Any, unit: str = "", spec: str = ".4f") -> str:
    if x is None:
        return "n/a"
    if isinstance(x, float):
        return f"{x:{spec}}{unit}"
    return f"{x}{unit}"


def summary_rows(s: dict[str, Any]) -> list[tuple[str, str]]:
    zones = s.get("zone_time_frac") or {}
    return [
        ("market", f"{s.get('market')} seed {s.get('seed')}, {s.get('coin')}"),
        ("PnL total", _fmt(s.get("pnl_total"), " USD")),
        ("spread capture", _fmt(s.get("pnl_spread"), " USD")),
        ("inventory PnL", _fmt(s.get("pnl_inventory"), " USD")),
        ("fees", _fmt(s.get("pnl_fees"), " USD")),
        ("funding", _fmt(s.get("pnl_funding"), " USD")),
        (
            "fills (maker/taker)",
            f"{s.get('fills')} ({s.get('maker_fills')}/{s.get('taker_fills')})",
        ),
        ("volume", _fmt(s.get("volume_usd"), " USD", ".2f")),
        (
            "max |position|",
            f"{_fmt(s.get('max_abs_position'), '', 'g')} "
            f"(max {_fmt(s.get('max_position'), '', 'g')})",
        ),
        ("time in zones", ", ".join(f"{k} {zones[k]:.1%}" for k in ZONES if k in zones)),
        (
            "markout 1 s / 5 s",
            f"{_fmt(s.get('markout_1s_bps'), ' bps', '+.2f')} / "
            f"{_fmt(s.get('markout_5s_bps'), ' bps', '+.2f')}",
        ),
        ("rejects", str(s.get("rejects"))),
        ("invariant breaches", str(s.get("invariant_breaches"))),
        ("simulated", _fmt(s.get("sim_duration_s"), " s", ".1f")),
        ("events", str(s.get("events"))),
    ]


def figures(summary: dict[str, Any], series: dict[str, np.ndarray]) -> list[Any]:
    """The four plotly figures of the report."""
    go = require_plotly("report.html")
    t_ms = np.asarray(series["t_ms"], dtype=np.float64)
    t0 = float(t_ms[0]) if len(t_ms) else 0.0
    step = _stride(len(t_ms))
    t = _thin((t_ms - t0) / 1000.0, step)
    layout = {
        "height": 420,
        "margin": {"l": 60, "r": 20, "t": 50, "b": 40},
        "hovermode": "x unified",
        "xaxis": {"title": {"text": "time (s)"}},
    }

    pnl = go.Figure(
        layout={
            **layout,
            "title": {"text": "PnL and its parts"},
            "yaxis": {"title": {"text": "USD"}},
        }
    )
    for key, name in PNL_TRACES.items():
        pnl.add_trace(
            go.Scatter(
                x=t,
                y=_thin(series[key], step),
                name=name,
                mode="lines",
                line={"width": 3 if key == "pnl_total" else 1.5},
            )
        )

    inv = go.Figure(
        layout={
            **layout,
            "title": {"text": "Inventory against the zones"},
            "yaxis": {"title": {"text": f"position ({summary.get('coin', '')})"}},
        }
    )
    max_pos = float(summary.get("max_position") or 0.0)
    zt = summary.get("zone_thresholds") or {"yellow": 0.6, "red": 0.8, "kill": 1.0}
    if max_pos > 0:
        bands = [
            ("Green", 0.0, zt["yellow"]),
            ("Yellow", zt["yellow"], zt["red"]),
            ("Red", zt["red"], zt["kill"]),
        ]
        for name, lo, hi in bands:
            for sign in (1, -1):
                y0, y1 = sorted((sign * lo * max_pos, sign * hi * max_pos))
                inv.add_hrect(
                    y0=y0, y1=y1, fillcolor=ZONE_COLOURS[name][0], line_width=0, layer="below"
                )
            # A legend entry per zone (shapes have none).
            inv.add_trace(
                go.Scatter(
                    x=[None],
                    y=[None],
                    mode="markers",
                    name=f"{name} zone",
                    marker={"size": 12, "symbol": "square", "color": ZONE_COLOURS[name][1]},
                )
            )
        for sign in (1, -1):
            inv.add_hline(y=sign * zt["kill"] * max_pos, line_dash="dot", line_color="black")
    inv.add_trace(
        go.Scatter(
            x=t,
            y=_thin(series["position"], step),
            name="position",
            mode="lines",
            line={"shape": "hv", "color": "black"},
        )
    )

    q = go.Figure(
        layout={
            **layout,
            "title": {"text": "Our quotes against mid, and our fills"},
            "yaxis": {"title": {"text": "price"}},
        }
    )
    q.add_trace(
        go.Scatter(
            x=t, y=_thin(series["mid"], step), name="mid", mode="lines", line={"color": "grey"}
        )
    )
    for key, name, colour in (("quote_bid", "our bid", "green"), ("quote_ask", "our ask", "red")):
        line = {"shape": "hv", "color": colour, "width": 1}
        q.add_trace(go.Scatter(x=t, y=_thin(series[key], step), name=name, mode="lines", line=line))
    ft = np.asarray(series["fill_t_ms"], dtype=np.float64)
    fq = np.asarray(series["fill_qty"], dtype=np.float64)
    fpx = np.asarray(series["fill_px"], dtype=np.float64)
    fstep = _stride(len(ft))
    for name, mask, symbol, colour in (
        ("buy fills", fq > 0, "triangle-up", "green"),
        ("sell fills", fq < 0, "triangle-down", "red"),
    ):
        q.add_trace(
            go.Scatter(
                x=_thin((ft[mask] - t0) / 1000.0, fstep),
                y=_thin(fpx[mask], fstep),
                name=name,
                mode="markers",
                marker={"symbol": symbol, "color": colour, "size": 11, "line": {"width": 1}},
                customdata=_thin(np.abs(fq[mask]), fstep),
                hovertemplate="%{y} x %{customdata}<extra>" + name + "</extra>",
            )
        )

    mk = go.Figure(
        layout={
            "height": 380,
            "margin": layout["margin"],
            "barmode": "overlay",
            "title": {"text": "Markouts of our fills (bps in our favour)"},
            "xaxis": {"title": {"text": "bps"}},
            "yaxis": {"title": {"text": "fills"}},
        }
    )
    for key, name in (
        ("fill_markout_1s_bps", "markout 1 s"),
        ("fill_markout_5s_bps", "markout 5 s"),
    ):
        v = np.asarray(series[key], dtype=np.float64)
        mk.add_trace(
            go.Histogram(x=_thin(v[np.isfinite(v)], fstep), name=name, opacity=0.6, nbinsx=60)
        )
    return [pnl, inv, q, mk]


def report_html(summary: dict[str, Any], series: dict[str, np.ndarray]) -> str:
    """The whole page (raises InputError with the install hint when plotly is missing)."""
    figs = figures(summary, series)
    thinned = max(len(series["t_ms"]), len(series["fill_t_ms"])) > MAX_POINTS
    note = (
        f"<p><i>Long run: plots show every {_stride(len(series['t_ms']))}th sample "
        f"(at most {MAX_POINTS:,} points per trace); timeseries.npz has them all.</i></p>"
        if thinned
        else ""
    )
    title = f"mmfast backtest: {summary.get('market')} seed {summary.get('seed')}"
    tail = "<p>Every figure of the run: summary.json and timeseries.npz beside this file.</p>"
    return plotly_page(title, figs, table(summary_rows(summary)) + note, tail)


def write_report_html(out: Path, summary: dict[str, Any], series: dict[str, np.ndarray]) -> Path:
    path = out / "report.html"
    path.write_text(report_html(summary, series), encoding="utf-8")
    return path
