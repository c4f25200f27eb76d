"""pytest-benchmark suites: run on purpose with `pytest benches` (CI's `pytest tests` does not
collect them). Each suite benchmarks a figure of SPEC section 12 beside its same-run baseline.
`bench_*.py` files are collected through `python_files` in pyproject.toml."""
