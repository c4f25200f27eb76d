//! `mmfast._core`: the thin PyO3 binding of `mmfast-core`.
//!
//! One call per frame or cycle, scalars and bytes in, small frozen classes or numpy arrays out.
//! Errors cross the boundary in one place, `errors.rs`. Each submodule registers the classes of
//! one area of the core.

use pyo3::prelude::*;

mod answer;
mod backtest;
mod book;
mod config;
mod decision;
mod engine;
mod errors;
mod orderpath;
mod signals;
mod signing;
mod sim;

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    config::register(m)?;
    decision::register(m)?;
    book::register(m)?;
    signals::register(m)?;
    engine::register(m)?;
    signing::register(m)?;
    sim::register(m)?;
    answer::register(m)?;
    orderpath::register(m)?;
    backtest::register(m)?;
    Ok(())
}
