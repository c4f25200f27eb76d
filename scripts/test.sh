#!/usr/bin/env bash
# The whole test suite from a fresh clone: the release wheel built once (abi3, fat LTO), checked
# from a clean venv outside the source tree (mmfast derive, a short mmfast paper), then that same
# wheel installed with the test extras for the pure-Rust core's tests, the stub check and pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
stage() { printf '\n== %s (%s)\n' "$1" "$(date +%T)"; }
t0=$SECONDS
stage "python environment"
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip "maturin>=1.9,<2"
stage "build the wheel once (maturin build --release: abi3, fat LTO)"
rm -rf target/dist
.venv/bin/maturin build --release --out target/dist
wheel=$(ls target/dist/mmfast-*.whl)
echo "$wheel"
stage "the wheel alone: clean venv, no source tree"
clean=$(mktemp -d)
trap 'rm -rf "$clean"' EXIT
python3 -m venv "$clean/venv"
"$clean/venv/bin/python" -m pip install -q "$wheel"
(
  cd "$clean"
  ./venv/bin/mmfast derive --capital 1000 --mark 3000 --available-margin 1000 --max-leverage 25
  ./venv/bin/mmfast paper --duration 5 --plain --summary "$clean/paper.json"
  ./venv/bin/python -c "import json, sys; s = json.load(open(sys.argv[1])); \
assert s['errors'] == 0 and s['invariant_breaches'] == 0, s" "$clean/paper.json"
  # Without the research extra (no plotly): the report's data files, and one line naming it.
  ./venv/bin/mmfast backtest --plain --duration 20 --report "$clean/bt" 2>"$clean/bt.err"
  grep -F "pip install 'mmfast[research]'" "$clean/bt.err"
  test -f "$clean/bt/summary.json"
  test ! -e "$clean/bt/report.html"
  if grep -q Traceback "$clean/bt.err"; then cat "$clean/bt.err"; exit 1; fi
)
stage "install the same wheel with the test extras"
.venv/bin/python -m pip install -q "${wheel}[test]"
.venv/bin/python -m pip install -q --force-reinstall --no-deps "$wheel"
stage "cargo test -p mmfast-core (opt-test profile)"
cargo test -p mmfast-core --profile opt-test
stage "stub check (mypy.stubtest)"
.venv/bin/python -m mypy.stubtest mmfast._core --allowlist .ci/stubtest-allowlist.txt
stage "pytest"
.venv/bin/python -m pytest -q tests
printf '\n== tests done in %ss\n' "$((SECONDS - t0))"
