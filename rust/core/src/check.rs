//! Argument checks shared by every constructor that takes operator or exchange numbers. They
//! depend on nothing else in the core: their error converts into [`crate::Error`], so a module
//! that only validates numbers (governor, params) does not depend on the error module, which
//! depends on every module's error type.

use std::fmt::Display;

/// A scalar argument outside its domain (NaN, infinite, negative, zero where forbidden), naming
/// the field and the value refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {field} = {value}: {reason}")]
pub struct Invalid {
    pub field: &'static str,
    pub value: String,
    pub reason: &'static str,
}

impl Invalid {
    pub fn new(field: &'static str, value: impl Display, reason: &'static str) -> Self {
        Self {
            field,
            value: value.to_string(),
            reason,
        }
    }
}

pub type Result<T, E = Invalid> = std::result::Result<T, E>;

/// Returns `v` if it is finite.
pub fn finite(field: &'static str, v: f64) -> Result<f64> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(Invalid::new(field, v, "must be a finite number"))
    }
}

/// Returns `v` if it is finite and `>= 0`.
pub fn non_negative(field: &'static str, v: f64) -> Result<f64> {
    if finite(field, v)? >= 0.0 {
        Ok(v)
    } else {
        Err(Invalid::new(field, v, "must be >= 0"))
    }
}

/// Returns `v` if it is finite and `> 0`.
pub fn positive(field: &'static str, v: f64) -> Result<f64> {
    if finite(field, v)? > 0.0 {
        Ok(v)
    } else {
        Err(Invalid::new(field, v, "must be > 0"))
    }
}

/// Returns `v` if it is finite and within `[lo, hi]`.
pub fn in_range(field: &'static str, v: f64, lo: f64, hi: f64) -> Result<f64> {
    if (lo..=hi).contains(&finite(field, v)?) {
        Ok(v)
    } else {
        Err(Invalid::new(field, v, "out of range"))
    }
}
