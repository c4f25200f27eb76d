"""pytest-benchmark suites: run on purpose with `pytest benches` (CI's `pytest tests` does not
collect them). Each suite benchmarks a figure of SPEC section 12 beside its same-run baseline."""

from pathlib import Path

import pytest


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Module | None:
    """Collects `bench_*.py` (the suites' names) as well as pytest's default `test_*.py`."""
    if file_path.suffix == ".py" and file_path.name.startswith("bench_"):
        return pytest.Module.from_parent(parent, path=file_path)
    return None
