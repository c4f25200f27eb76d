//! Criterion benchmarks of `mmfast-core` live in `benches/`, one file per area; this crate is a
//! workspace member but not a default member, so `cargo test` at the root does not build
//! criterion. Run `cargo bench -p mmfast-bench [--bench NAME]`.
