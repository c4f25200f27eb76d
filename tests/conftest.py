"""Shared fixtures. `SHARED` is the repository's sibling `shared/` folder (data, spec)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("MMFAST_SHARED", ROOT.parent / "shared"))
REAL_DATA = SHARED / "data" / "real"


@pytest.fixture(scope="session")
def real_data() -> Path:
    if not REAL_DATA.is_dir():
        pytest.fail(f"real recordings not found at {REAL_DATA} (set MMFAST_SHARED)")
    return REAL_DATA
