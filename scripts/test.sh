#!/usr/bin/env bash
# The whole test suite from a fresh clone: a venv, the optimised extension, the pure-Rust core's
# tests (optimised test profile for the property and statistical tests), the stub check, pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
stage() { printf '\n== %s (%s)\n' "$1" "$(date +%T)"; }
t0=$SECONDS
stage "python environment"
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
stage "build and install mmfast (release, LTO) with test extras"
.venv/bin/python -m pip install -q -e ".[test]"
stage "cargo test -p mmfast-core (opt-test profile)"
cargo test -p mmfast-core --profile opt-test
stage "stub check (mypy.stubtest)"
.venv/bin/python -m mypy.stubtest mmfast._core --allowlist .ci/stubtest-allowlist.txt
stage "pytest"
.venv/bin/python -m pytest -q tests
printf '\n== tests done in %ss\n' "$((SECONDS - t0))"
