"""Pure-Python reference of the quote cycle's arithmetic (issue 5): GLFT, depths, sizes,
rounding and reconcile decisions, written for clarity and mirrored line for line from the Rust
core (`mmfast_core::strategy`, `mmfast_core::engine`).

It has two uses: differential tests compare the Rust core with it over many random states
(`tests/test_engine_*.py`), and `mmfast bench` times it as the baseline of the cycle figures
(`python_reference_ratio`), which is why it ships in the package rather than under `tests/`.
Fixed scope: no I/O, no signal estimators, no order state machine."""
