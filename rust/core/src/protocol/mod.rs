//! The Hyperliquid exchange protocol in one place (PROTOCOL 3-4, SPEC 0): the L1 action types
//! (order, cancel, cancelByCloid, batchModify, scheduleCancel, noop, updateLeverage) with their
//! msgpack (what is signed) and JSON (what is sent) forms, the wire scalars, the price and size
//! rules and the exact decimal units. The signer, the simulator's matching engine, the
//! strategy's rounding and the book's parser all use these.
//!
//! - [`actions`]: the typed actions, written straight to msgpack and JSON in the SDK's key order
//! - [`msgpack`]: msgpack as the SDK's `msgpack.packb` writes it, and the generic JSON path
//! - `parse`: an action's JSON read into [`Action`] (`Action::from_json`)
//! - [`wire`]: `Decimal` (the SDK's `float_to_wire`), `Cloid`, `Address`, keccak
//! - [`rules`]: the perp price grid (5 significant figures, `6 - szDecimals` decimals, integers
//!   always valid) and size lots, on f64 (the strategy) and on integer units (the simulator)
//! - [`errors`]: what the exchange's error strings mean (`ErrorKind`, `classify`, `split_asset`)
//! - [`decimal`]: decimal strings to exact integer units and back (`Scale`, `parse_scaled`,
//!   `fmt_scaled`)

pub mod actions;
pub mod decimal;
pub mod errors;
pub mod msgpack;
mod parse;
pub mod rules;
pub mod wire;

pub use actions::{
    Action, BuilderFee, CancelByCloidWire, CancelWire, Grouping, ModifyWire, Oid, OrderKind,
    OrderWire, Tif, Tpsl,
};
pub use decimal::Scale;
pub use wire::{float_to_wire, keccak256, Address, Cloid, Decimal};

/// Errors of the wire form and of signing (one type, so that the binding maps them once: the
/// Python `SigningError`). Messages name the field and the offending value, except for key material,
/// which no error ever carries (not even a fragment of it).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SigningError {
    /// The SDK's own `float_to_wire` refusal: formatting with 8 decimals would change the value.
    #[error("float_to_wire causes rounding: {value}")]
    FloatToWire { value: f64 },
    /// A private key that is not 32 bytes of hex or not a valid secp256k1 scalar.
    #[error("invalid private key: {reason}")]
    InvalidKey { reason: &'static str },
    /// A field of an action, a signature or a request body with a bad value.
    #[error("invalid {field} = {value}: {reason}")]
    Invalid {
        field: &'static str,
        value: String,
        reason: &'static str,
    },
    /// A JSON action or request body that does not parse.
    #[error("invalid {what} JSON: {reason}")]
    Json { what: &'static str, reason: String },
    /// A signature from which no public key can be recovered.
    #[error("unable to recover signer: {reason}")]
    Recover { reason: &'static str },
}

impl SigningError {
    pub(crate) fn invalid(
        field: &'static str,
        value: impl std::fmt::Display,
        reason: &'static str,
    ) -> Self {
        SigningError::Invalid {
            field,
            value: value.to_string(),
            reason,
        }
    }
}

pub type Result<T, E = SigningError> = std::result::Result<T, E>;
