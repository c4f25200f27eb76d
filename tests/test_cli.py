"""The `mmfast` command line, run as a user runs it (a subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def mmfast(
    *args: str, env: dict[str, str] | None = None, module: str = "mmfast.cli"
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("MMFAST_")}
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,  # no terminal to confirm anything at
        env={**base, **(env or {})},
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


DERIVE = ["derive", "--mark", "3000", "--available-margin", "1000", "--max-leverage", "25"]


def _files(tmp: Path) -> dict[str, str]:
    (tmp / "broken.toml").write_text('asset = "ETH"\nmax_position = = 1\n')
    (tmp / "ok.toml").write_text("max_position = 0.5\n")
    (tmp / "mainnet.toml").write_text('network = "mainnet"\nmax_position = 0.5\n')
    return {"tmp": str(tmp)}


# (name, argv, env, exit code, what stderr must say). Every user mistake: its code, its message,
# never a traceback. {tmp} is a fresh directory holding the files above.
USER_ERRORS = [
    ("config missing", ["paper", "--config", "{tmp}/nope.toml"], {}, 2, "config file not found"),
    ("config is a directory", ["paper", "--config", "{tmp}"], {}, 2, "is a directory"),
    ("malformed TOML", ["paper", "--config", "{tmp}/broken.toml"], {}, 2, "line 2, column 16"),
    ("log level", ["paper", "--log-level", "bogus"], {}, 2, "--log-level"),
    ("summary unwritable", ["paper", "--summary", "/nonexistent/x.json"], {}, 2, "does not exist"),
    ("negative seed", ["paper", "--seed", "-1"], {}, 2, "--seed"),
    ("unknown market", ["paper", "--market", "synthetic:stormy"], {}, 2, "synthetic:demo"),
    ("no recording", ["paper", "--market", "replay:{tmp}/nope.gz"], {}, 2, "file not found"),
    ("negative duration", ["paper", "--duration", "-5"], {}, 2, "--duration"),
    ("metrics port", ["paper", "--metrics-port", "70000"], {}, 2, "--metrics-port"),
    (
        "unknown variable",
        ["paper", "--config", "{tmp}/ok.toml"],
        {"MMFAST_ASSTE": "BTC"},
        2,
        "MMFAST_ASSTE",
    ),
    (
        "bad variable value",
        ["paper", "--config", "{tmp}/ok.toml"],
        {"MMFAST_RISK__HL_STALE_MS": "soon"},
        2,
        "MMFAST_RISK__HL_STALE_MS=soon (environment)",
    ),
    (
        "derive sz decimals",
        [*DERIVE, "--capital", "1000", "--sz-decimals", "-3"],
        {},
        2,
        "--sz-decimals",
    ),
    ("derive NaN capital", [*DERIVE, "--capital", "nan"], {}, 2, "--capital"),
    ("bench area", ["bench", "--only", "book,nope"], {}, 2, "unknown area nope"),
    ("no command", [], {}, 2, "usage"),
    ("run mainnet without a terminal", ["run", "--config", "{tmp}/mainnet.toml"], {}, 2, "--yes"),
    ("venue placeholder address", ["--fund", "0xYourAddress=10000"], {}, 2, "not an address"),
]


@pytest.mark.parametrize(
    ("argv", "env", "code", "says"),
    [pytest.param(a, e, c, m, id=n) for n, a, e, c, m in USER_ERRORS],
)
def test_user_errors_exit_with_their_code_and_no_traceback(
    tmp_path: Path, argv: list[str], env: dict[str, str], code: int, says: str
) -> None:
    fmt = _files(tmp_path)
    module = "mmfast.venue" if argv and argv[0] == "--fund" else "mmfast.cli"
    r = mmfast(*[a.format(**fmt) for a in argv], env=env, module=module)
    assert r.returncode == code, r.stderr
    assert says in r.stderr, r.stderr
    assert "Traceback" not in r.stderr + r.stdout


def test_help_describes_every_option_and_no_internal_document() -> None:
    from mmfast.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, p in sub.choices.items():  # type: ignore[union-attr]
        text = p.format_help()
        for word in ("SPEC", "PROTOCOL", "issue "):
            assert word not in text, f"mmfast {name} --help mentions {word}"
        for a in p._actions:
            if a.option_strings and a.help != "==SUPPRESS==":
                assert a.help, f"mmfast {name} {a.option_strings[0]} has no help"
                if a.default not in (None, False, "==SUPPRESS==") and a.dest != "help":
                    assert "default" in p._get_formatter()._get_help_string(a), (name, a.dest)


def test_bench_prints_unit_meaning_and_baseline() -> None:
    r = mmfast("bench", "--only", "baseline,book", "--quick")
    assert r.returncode == 0, r.stderr
    rows = {ln.split()[0]: ln for ln in r.stdout.splitlines() if ln.strip()}
    assert {"empty_call_ns", "hl_book_update_us", "orjson_loads_us"} <= rows.keys()
    assert "(no description)" not in r.stdout
    book = rows["hl_book_update_us"]
    assert " us " in book and "l2Book" in book and "vs orjson_loads_us = " in book


def test_a_missing_peer_reads_not_installed() -> None:
    from mmfast.benchmarks.catalog import NOT_INSTALLED, table

    lines = table({"sign_us": 10.0, "sdk_sign_us": NOT_INSTALLED, "byte_identical": NOT_INSTALLED})
    assert any(ln.startswith("sdk_sign_us") and "not installed" in ln for ln in lines)
    assert any(ln.startswith("byte_identical") and "not installed" in ln for ln in lines)
