//! Hyperliquid L1 action hashing (msgpack), EIP-712 signing and signer recovery (issue 6).

/// Signing errors. Never carries key material.
#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    #[error("invalid {field}: {reason}")]
    Invalid { field: &'static str, reason: String },
}
