//! Hyperliquid L1 action signing and signer recovery (SPEC section 9, PROTOCOL sections 3-4, 7).
//!
//! The pipeline, each step in its own module:
//! 1. [`actions`]: typed actions (order, cancel, cancelByCloid, batchModify, scheduleCancel,
//!    noop, updateLeverage) written straight to msgpack and to JSON, and [`msgpack`]: the
//!    generic path for a JSON action, keeping its key order;
//! 2. [`eip712`]: the connection id (keccak of msgpack + nonce + vault + expiresAfter), the
//!    phantom `Agent` struct for mainnet ("a") / testnet ("b") and the EIP-712 digest;
//! 3. [`keys`]: secp256k1 (RFC 6979, low-s) signatures as `{"r","s","v"}` and recovery of the
//!    signer's address;
//! 4. [`signer`]: the [`Signer`] that owns the key and the nonce counter and turns an action
//!    into a ready-to-send request body, and [`request`]: the venue's side, parsing a request
//!    body and recovering who signed it.
//!
//! [`wire`] holds the wire scalars: decimals (`float_to_wire`), cloids and addresses.

pub mod actions;
pub mod eip712;
pub mod keys;
pub mod msgpack;
pub mod nonce;
pub mod request;
pub mod signer;
pub mod wire;

#[cfg(test)]
mod tests;

pub use actions::{
    Action, BuilderFee, CancelByCloidWire, CancelWire, Grouping, ModifyWire, Oid, OrderKind,
    OrderWire, Tif, Tpsl,
};
pub use eip712::{action_hash, agent_digest, connection_id};
pub use keys::{recover_address, PrivateKey, SecretScalar, Signature};
pub use nonce::NonceCounter;
pub use request::{parse_request, recover_l1_signer, SignedRequest};
pub use signer::{Envelope, Signer};
pub use wire::{float_to_wire, Address, Cloid, Decimal};

/// Signing errors. Messages name the field and the offending value, except for key material,
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
