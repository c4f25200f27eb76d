"""A real headless Chromium for the HTML reports' tests: the page's scripts run, and the DOM after
them is what the tests read (plotly draws each figure as `svg.main-svg` elements and each legend
entry as `text.legendtext` only when its inline JavaScript ran).

In CI (`CI` set, as `.ci/run` does, which also installs Debian's chromium) a missing browser
fails the test; elsewhere it skips with the command that installs one.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

#: Seconds one page may take to load and draw (a 4 MB page on a loaded 2-core machine).
RENDER_TIMEOUT_S = 90


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def chromium() -> str:
    """The browser's path; skips (or fails, in CI) when there is none."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        msg = "needs chromium (apt-get install chromium)"
        if in_ci():
            pytest.fail(f"CI is set but {msg}: .ci/run installs it")
        pytest.skip(msg)
    return browser


def rendered_dom(page: Path, scratch: Path) -> str:
    """The DOM of `page` after its scripts ran, from headless Chromium (`scratch` holds the
    browser profile, so parallel runs never share one)."""
    out = subprocess.run(
        [
            chromium(),
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-dev-shm-usage",
            f"--user-data-dir={scratch / 'chromium-profile'}",
            # Virtual time: the page's timers run as fast as the CPU allows, and the dump waits
            # for them, so a slow machine delays the answer but never truncates the drawing.
            "--virtual-time-budget=15000",
            "--dump-dom",
            page.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=RENDER_TIMEOUT_S,
    )
    assert out.returncode == 0 and out.stdout, out.stderr[-2000:]
    return out.stdout


def legend_names(dom: str) -> list[str]:
    """The legend entries plotly drew (present only once the figures rendered)."""
    return re.findall(r'class="legendtext"[^>]*>([^<]*)<', dom)
