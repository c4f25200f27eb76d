"""Pure-Python reference of the quote cycle's arithmetic (issue 5): GLFT, depths, sizes,
rounding and reconcile decisions, written for clarity and mirrored line for line from the Rust
core, so that differential tests can compare the two and benchmarks can report the speed-up.
Fixed scope: it is not a second engine and has no I/O, no signals and no order state machine."""
