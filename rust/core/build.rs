//! Sets `cfg(mmfast_optimized)` in optimised builds (release, opt-test), so long statistical
//! tests run under `cargo test --profile opt-test` and are skipped in the debug profile, where
//! they would take minutes. (`debug_assertions` cannot tell the two apart: opt-test keeps them.)

fn main() {
    println!("cargo::rustc-check-cfg=cfg(mmfast_optimized)");
    println!("cargo::rerun-if-changed=build.rs");
    if std::env::var("OPT_LEVEL").is_ok_and(|o| o != "0") {
        println!("cargo::rustc-cfg=mmfast_optimized");
    }
}
