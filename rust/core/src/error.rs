//! The core's one error type. Every domain error names the field and the value it refused; the
//! binding maps each variant to one Python exception class in one place (`rust/py/src/errors.rs`).

use std::fmt::Display;

/// All errors the core can return.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A configuration that failed validation: every violation, not only the first.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// A scalar argument outside its domain (NaN, infinite, negative, zero where forbidden).
    #[error(transparent)]
    Invalid(#[from] crate::check::Invalid),
    #[error(transparent)]
    Book(#[from] crate::book::BookError),
    #[error(transparent)]
    Replay(#[from] crate::replay::ReplayError),
    #[error(transparent)]
    Signing(#[from] crate::signing::SigningError),
    #[error(transparent)]
    Sim(#[from] crate::sim::SimError),
    #[error(transparent)]
    Engine(#[from] crate::engine::EngineError),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn invalid(field: &'static str, value: impl Display, reason: &'static str) -> Self {
        Error::Invalid(crate::check::Invalid::new(field, value, reason))
    }
}
