"""The README's Python snippets run as written, in order, in one namespace (each defines what it
uses or reads a file the repository ships), from the repository root."""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_readme_python_snippets_run(monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    assert blocks
    for k in [k for k in os.environ if k.startswith("MMFAST_") and k != "MMFAST_SHARED"]:
        monkeypatch.delenv(k)
    monkeypatch.setenv("MMFAST_PRIVATE_KEY", secrets.token_hex(32))  # a throwaway key
    monkeypatch.chdir(ROOT)
    ns: dict[str, object] = {}
    for i, code in enumerate(blocks):
        try:
            exec(compile(code, f"README.md python block {i}", "exec"), ns)
        except Exception as e:  # pragma: no cover - the message names the block
            pytest.fail(f"README python block {i} fails: {type(e).__name__}: {e}\n{code}")
