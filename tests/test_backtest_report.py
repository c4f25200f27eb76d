"""`mmfast backtest --report DIR` writes report.html (issue 11 item 2): one self-contained file
whose four plots draw in a real headless Chromium; without plotly the run still writes
summary.json and timeseries.npz and says in one line what to install."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import orjson
from browser import chromium, legend_names, rendered_dom
from mmfast.cli import main

#: A short synthetic run that fills on both sides (seed 16 on the calibrated default market:
#: 4 buys and 2 sells; the engine quotes ~5 bps out, so most short runs fill on one side only).
ARGS = ["backtest", "--plain", "--seed", "16", "--duration", "600"]


def test_report_html_draws_its_four_plots_in_headless_chromium(tmp_path: Path, capsys) -> None:
    chromium()  # skip (outside CI) before the backtest when there is no browser
    out = tmp_path / "rep"
    assert main([*ARGS, "--report", str(out)]) == 0
    assert "report.html" in capsys.readouterr().out
    s = orjson.loads((out / "summary.json").read_bytes())
    assert s["fills"] > 0 and s["zone_thresholds"] == {
        "yellow": 0.6,
        "red": 0.8,
        "kill": 1.0,
        "adds_stop_at_red": False,
    }
    page = out / "report.html"
    text = page.read_text()
    assert "<script src=" not in text  # plotly.js inlined: opens offline
    assert f"{s['pnl_total']:.4f} USD" in text  # the summary table
    dom = rendered_dom(page, tmp_path)
    assert dom.count('class="main-svg"') >= 8  # 4 figures drawn, 2 svg layers each
    drawn = set(legend_names(dom))
    expected = {
        "total",
        "spread capture",
        "inventory PnL",
        "fees",
        "funding",  # PnL and its parts
        "Green zone",
        "Yellow zone",
        "Red zone",
        "position",  # inventory against the zones
        "mid",
        "our bid",
        "our ask",
        "markout 1 s",
        "markout 5 s",  # markout distribution
    }
    # a fill trace per side that filled (a model change may leave this run one-sided)
    ts = np.load(out / "timeseries.npz")
    qty = ts["fill_qty"]
    expected |= {"buy fills"} if (qty > 0).any() else set()
    expected |= {"sell fills"} if (qty < 0).any() else set()
    assert expected <= drawn, expected - drawn
    # every fill is a marker on the quotes plot (the run is short: nothing thinned)
    assert len(ts["fill_px"]) == s["fills"]
    assert dom.count('class="point"') >= s["fills"]


def test_without_plotly_the_report_says_what_to_install(tmp_path: Path) -> None:
    out = tmp_path / "rep"
    code = (
        "import sys; sys.modules['plotly'] = None\n"  # as if `mmfast[research]` were absent
        "from mmfast.cli import main\n"
        f"sys.exit(main({[*ARGS[:4], '--duration', '20', '--report', str(out)]!r}))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    hint = [line for line in r.stderr.splitlines() if "report.html" in line]
    assert len(hint) == 1 and "pip install 'mmfast[research]'" in hint[0], r.stderr
    assert (out / "summary.json").is_file() and (out / "timeseries.npz").is_file()
    assert not (out / "report.html").exists()


def test_long_series_are_thinned_for_the_browser() -> None:
    from mmfast.research.report import MAX_POINTS, figures, report_html

    n = 3 * MAX_POINTS + 1
    t = np.arange(n, dtype=np.float64) * 1000.0
    series = {
        k: np.zeros(n)
        for k in (
            "mid",
            "position",
            "pnl_total",
            "pnl_spread",
            "pnl_inventory",
            "pnl_fees",
            "pnl_funding",
            "quote_bid",
            "quote_ask",
            "zone",
        )
    }
    series["t_ms"] = t
    fills = {
        k: np.ones(5)
        for k in (
            "fill_t_ms",
            "fill_px",
            "fill_qty",
            "fill_fee",
            "fill_mid",
            "fill_taker",
            "fill_markout_1s_bps",
            "fill_markout_5s_bps",
        )
    }
    series.update(fills)
    summary = {"market": "synthetic:default", "seed": 1, "coin": "ETH", "max_position": 2.0}
    figs = figures(summary, series)
    assert len(figs[0].data[0].x) == -(-n // 4)  # stride 4: at most MAX_POINTS points
    assert len(figs[0].data[0].x) <= MAX_POINTS
    assert "every 4th sample" in report_html(summary, series)


def test_in_ci_a_missing_chromium_fails_instead_of_skipping(monkeypatch) -> None:
    import pytest

    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI is set"):
        chromium()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="apt-get install chromium"):
        chromium()
