"""Self-contained HTML pages of plotly figures: the one page layout both `backtest --report`
(report.html) and `tune` (tune_report.html) write. plotly.js is inlined once per page (no CDN:
reports are opened offline, in CI and on air-gapped research machines)."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from mmfast.errors import InputError

#: What to install for the reports' plots (the `research` extra of pyproject.toml).
INSTALL_HINT = "pip install 'mmfast[research]'"


def have_plotly() -> bool:
    import importlib.util

    return importlib.util.find_spec("plotly") is not None


def require_plotly(what: str) -> Any:
    """`plotly.graph_objects`, or InputError naming `what` needs it and how to install it."""
    try:
        import plotly.graph_objects as go
    except ModuleNotFoundError:
        raise InputError(f"{what} needs plotly: {INSTALL_HINT}") from None
    return go


def table(rows: Sequence[tuple[str, str]]) -> str:
    """A two-column HTML table, escaped."""
    body = "".join(
        f"<tr><th style='text-align:left;padding-right:2em'>{html.escape(k)}</th>"
        f"<td>{html.escape(v)}</td></tr>"
        for k, v in rows
    )
    return f"<table>{body}</table>"


def plotly_page(title: str, figs: Sequence[Any], intro_html: str = "", tail_html: str = "") -> str:
    """One HTML document: `<h1>title</h1>`, `intro_html`, the figures (plotly.js inlined with the
    first), `tail_html`. `intro_html`/`tail_html` are trusted markup: escape what goes in them."""
    import plotly.io as pio

    parts = [
        pio.to_html(f, full_html=False, include_plotlyjs=(i == 0), config={"responsive": True})
        for i, f in enumerate(figs)
    ]
    t = html.escape(title)
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{t}</title></head>"
        f"<body style='font-family:sans-serif;margin:1em 2em'><h1>{t}</h1>"
        + intro_html
        + "".join(parts)
        + tail_html
        + "</body></html>"
    )
