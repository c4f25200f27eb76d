//! Hyperliquid L1 action signing and signer recovery (SPEC section 9, PROTOCOL sections 3-4, 7).
//!
//! The pipeline, each step in its own module:
//! 1. [`crate::protocol::actions`]: typed actions (order, cancel, cancelByCloid, batchModify, scheduleCancel,
//!    noop, updateLeverage) written straight to msgpack and to JSON, and [`crate::protocol::msgpack`]: the
//!    generic path for a JSON action, keeping its key order;
//! 2. [`eip712`]: the connection id (keccak of msgpack + nonce + vault + expiresAfter), the
//!    phantom `Agent` struct for mainnet ("a") / testnet ("b") and the EIP-712 digest;
//! 3. [`keys`]: secp256k1 (RFC 6979, low-s) signatures as `{"r","s","v"}` and recovery of the
//!    signer's address;
//! 4. [`signer`]: the [`Signer`] that owns the key and the nonce counter and turns an action
//!    into a ready-to-send request body, and [`request`]: the venue's side, parsing a request
//!    body and recovering who signed it.
//!
//! The action types, their msgpack and JSON writers and the wire scalars (decimals as
//! `float_to_wire` writes them, cloids, addresses) are [`crate::protocol`]'s.

pub mod eip712;
pub mod keys;
pub mod nonce;
pub mod request;
pub mod signer;

/// The wire form lives in [`crate::protocol`]; these paths stay for the signing pipeline's readers.
pub use crate::protocol::{actions, msgpack, wire, Result, SigningError};

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
