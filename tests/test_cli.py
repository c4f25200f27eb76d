"""The `mmfast` command line, run as a user runs it (a subprocess)."""

from __future__ import annotations

import json
import subprocess
import sys


def mmfast(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mmfast.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_help_lists_commands() -> None:
    r = mmfast("--help")
    assert r.returncode == 0
    assert "derive" in r.stdout


def test_derive_spec_numbers_json() -> None:
    r = mmfast(
        "derive",
        "--capital",
        "1000",
        "--mark",
        "2000",
        "--available-margin",
        "1000",
        "--max-leverage",
        "25",
        "--json",
    )
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["max_position"] == 0.5 and d["max_position_usd"] == 1000.0 and d["viable"]


def test_derive_not_viable_exits_2_with_reason() -> None:
    r = mmfast(
        "derive",
        "--capital",
        "5",
        "--mark",
        "3000",
        "--available-margin",
        "1000",
        "--max-leverage",
        "25",
    )
    assert r.returncode == 2
    assert "not viable" in r.stderr and "minimum order" in r.stderr


def test_derive_bad_input_exits_1_naming_field() -> None:
    r = mmfast(
        "derive",
        "--capital",
        "nan",
        "--mark",
        "3000",
        "--available-margin",
        "1000",
        "--max-leverage",
        "25",
    )
    assert r.returncode == 1
    assert "capital_usd = NaN" in r.stderr
