//! The L1 action hash and its EIP-712 wrapping (PROTOCOL 4.1 steps 2-7).
//!
//! `connection_id = keccak(msgpack(action) || nonce_be8 || vault_flag [|| vault20]
//! [|| 0x00 || expiresAfter_be8])`, then the phantom struct `Agent { source, connectionId }`
//! with source "a" (mainnet) or "b" (testnet) under the domain `Exchange / 1 / 1337 / 0x0`.
//! The domain separator, the type hash and both source hashes are constants (checked against
//! their definitions in the tests), so a digest costs two keccak blocks.

use sha3::{Digest, Keccak256};

pub use crate::protocol::wire::keccak256;
use crate::protocol::wire::Address;

/// `keccak(EIP712Domain(...) type hash || keccak("Exchange") || keccak("1") || 1337 || 0x0)`.
pub const DOMAIN_SEPARATOR: [u8; 32] =
    hex32("d79297fcdf2ffcd4ae223d01edaa2ba214ff8f401d7c9300d995d17c82aa4040");
/// `keccak("Agent(string source,bytes32 connectionId)")`.
pub const AGENT_TYPEHASH: [u8; 32] =
    hex32("26f05c2f7239b6983075e58321292d77b3aa173d19b27257ac96ab362570f508");
/// `keccak("a")`: the phantom agent's source on mainnet.
pub const SOURCE_MAINNET: [u8; 32] =
    hex32("3ac225168df54212a25c1c01fd35bebfea408fdac2e31ddd6f80a4bbf9a5f1cb");
/// `keccak("b")`: the phantom agent's source on testnet.
pub const SOURCE_TESTNET: [u8; 32] =
    hex32("b5553de315e0edf504d9150af82dafa5c4667fa618ed0a6f19c69b41166c5510");

const fn hex32(s: &str) -> [u8; 32] {
    const fn nibble(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => panic!("not a lowercase hex digit"),
        }
    }
    let b = s.as_bytes();
    assert!(b.len() == 64);
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        out[i] = (nibble(b[2 * i]) << 4) | nibble(b[2 * i + 1]);
        i += 1;
    }
    out
}

/// The connection id of an action whose msgpack bytes are `action_msgpack` (the SDK's
/// `action_hash`).
pub fn connection_id(
    action_msgpack: &[u8],
    nonce: u64,
    vault: Option<&Address>,
    expires_after: Option<u64>,
) -> [u8; 32] {
    let mut h = Keccak256::new();
    h.update(action_msgpack);
    h.update(nonce.to_be_bytes());
    match vault {
        None => h.update([0u8]),
        Some(a) => {
            h.update([1u8]);
            h.update(a.0);
        }
    }
    if let Some(e) = expires_after {
        h.update([0u8]);
        h.update(e.to_be_bytes());
    }
    h.finalize().into()
}

/// Alias of [`connection_id`] under the SDK's name.
pub fn action_hash(
    action_msgpack: &[u8],
    nonce: u64,
    vault: Option<&Address>,
    expires_after: Option<u64>,
) -> [u8; 32] {
    connection_id(action_msgpack, nonce, vault, expires_after)
}

/// `hashStruct(Agent { source, connectionId })`.
pub fn agent_struct_hash(connection_id: &[u8; 32], is_mainnet: bool) -> [u8; 32] {
    let mut h = Keccak256::new();
    h.update(AGENT_TYPEHASH);
    h.update(if is_mainnet {
        SOURCE_MAINNET
    } else {
        SOURCE_TESTNET
    });
    h.update(connection_id);
    h.finalize().into()
}

/// The digest that is signed: `keccak(0x19 0x01 || domainSeparator || hashStruct(agent))`.
pub fn agent_digest(connection_id: &[u8; 32], is_mainnet: bool) -> [u8; 32] {
    let mut h = Keccak256::new();
    h.update([0x19, 0x01]);
    h.update(DOMAIN_SEPARATOR);
    h.update(agent_struct_hash(connection_id, is_mainnet));
    h.finalize().into()
}
