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
    #[error("invalid {field} = {value}: {reason}")]
    Invalid {
        field: &'static str,
        value: String,
        reason: &'static str,
    },
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
        Error::Invalid {
            field,
            value: value.to_string(),
            reason,
        }
    }
}

/// Argument checks shared by every constructor that takes operator or exchange numbers.
pub mod check {
    use super::{Error, Result};

    /// Returns `v` if it is finite.
    pub fn finite(field: &'static str, v: f64) -> Result<f64> {
        if v.is_finite() {
            Ok(v)
        } else {
            Err(Error::invalid(field, v, "must be a finite number"))
        }
    }

    /// Returns `v` if it is finite and `>= 0`.
    pub fn non_negative(field: &'static str, v: f64) -> Result<f64> {
        if finite(field, v)? >= 0.0 {
            Ok(v)
        } else {
            Err(Error::invalid(field, v, "must be >= 0"))
        }
    }

    /// Returns `v` if it is finite and `> 0`.
    pub fn positive(field: &'static str, v: f64) -> Result<f64> {
        if finite(field, v)? > 0.0 {
            Ok(v)
        } else {
            Err(Error::invalid(field, v, "must be > 0"))
        }
    }

    /// Returns `v` if it is finite and within `[lo, hi]`.
    pub fn in_range(field: &'static str, v: f64, lo: f64, hi: f64) -> Result<f64> {
        if (lo..=hi).contains(&finite(field, v)?) {
            Ok(v)
        } else {
            Err(Error::Invalid {
                field,
                value: v.to_string(),
                reason: "out of range",
            })
        }
    }
}
