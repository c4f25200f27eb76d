//! The receiving side (the local venue, SPEC 11): parse an `/exchange` request body and
//! recover the address that signed it, as the exchange does before applying an action.
//!
//! The action is hashed in the key order it arrived in. That is what every client signs (the
//! SDK packs the same dict it then serialises as JSON), so a client that reorders keys between
//! hashing and sending recovers to a different address here, as it does on the exchange.

use serde_json::{Map, Value};

use super::{
    eip712::{agent_digest, connection_id},
    keys::check_v,
    msgpack, recover_address,
    signer::Envelope,
    Address, Result, Signature, SigningError,
};

/// A parsed request body.
#[derive(Clone, Debug)]
pub struct SignedRequest {
    /// The action, keys in their received order.
    pub action: Value,
    /// `msgpack(action)`, what the connection id hashes.
    pub action_msgpack: Vec<u8>,
    pub envelope: Envelope,
    pub signature: Signature,
}

impl SignedRequest {
    /// The action's `type` ("" if it has none).
    pub fn kind(&self) -> &str {
        self.action
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("")
    }

    pub fn connection_id(&self) -> [u8; 32] {
        connection_id(
            &self.action_msgpack,
            self.envelope.nonce,
            self.envelope.vault.as_ref(),
            self.envelope.expires_after,
        )
    }

    /// The address that signed this request on the given chain. A signature made for the other
    /// chain recovers to some unrelated address, not to an error, exactly as on the exchange.
    ///
    /// # Errors
    /// [`SigningError::Recover`] if no public key matches the signature.
    pub fn recover_signer(&self, is_mainnet: bool) -> Result<Address> {
        recover_address(
            &agent_digest(&self.connection_id(), is_mainnet),
            &self.signature,
        )
    }
}

/// Recovers the signer of packed action bytes under an envelope.
///
/// # Errors
/// [`SigningError::Recover`] if no public key matches the signature.
pub fn recover_l1_signer(
    action_msgpack: &[u8],
    env: &Envelope,
    is_mainnet: bool,
    signature: &Signature,
) -> Result<Address> {
    let cid = connection_id(
        action_msgpack,
        env.nonce,
        env.vault.as_ref(),
        env.expires_after,
    );
    recover_address(&agent_digest(&cid, is_mainnet), signature)
}

/// Parses `{"action", "nonce", "signature": {"r","s","v"}, "vaultAddress"?, "expiresAfter"?}`.
///
/// # Errors
/// [`SigningError::Json`] for a body that is not a JSON object, `Invalid` naming the first bad
/// field.
pub fn parse_request(body: &[u8]) -> Result<SignedRequest> {
    let mut root: Map<String, Value> =
        serde_json::from_slice(body).map_err(|e| SigningError::Json {
            what: "request body",
            reason: e.to_string(),
        })?;
    let action = root
        .shift_remove("action")
        .filter(Value::is_object)
        .ok_or_else(|| SigningError::invalid("action", "missing", "must be a JSON object"))?;
    let nonce = required_u64(&root, "nonce")?;
    let vault = match root.get("vaultAddress") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(Address::parse("vaultAddress", s)?),
        Some(other) => {
            return Err(SigningError::invalid(
                "vaultAddress",
                other,
                "must be an address or null",
            ))
        }
    };
    let expires_after = match root.get("expiresAfter") {
        None | Some(Value::Null) => None,
        Some(_) => Some(required_u64(&root, "expiresAfter")?),
    };
    let sig = root
        .get("signature")
        .and_then(Value::as_object)
        .ok_or_else(|| SigningError::invalid("signature", "missing", "must be {r, s, v}"))?;
    let word = |k: &'static str| {
        sig.get(k)
            .and_then(Value::as_str)
            .ok_or_else(|| SigningError::invalid(k, "missing", "must be a hex string"))
    };
    let v = sig
        .get("v")
        .and_then(Value::as_u64)
        .ok_or_else(|| SigningError::invalid("v", "missing", "must be 27 or 28"))?;
    let signature = Signature::from_hex(word("r")?, word("s")?, u64::from(check_v(v)?))?;
    let mut action_msgpack = Vec::with_capacity(body.len());
    msgpack::pack_json(&mut action_msgpack, &action)?;
    Ok(SignedRequest {
        action,
        action_msgpack,
        envelope: Envelope {
            nonce,
            vault,
            expires_after,
        },
        signature,
    })
}

fn required_u64(root: &Map<String, Value>, field: &'static str) -> Result<u64> {
    match root.get(field) {
        Some(v) => v
            .as_u64()
            .ok_or_else(|| SigningError::invalid(field, v, "must be a non-negative integer")),
        None => Err(SigningError::invalid(field, "missing", "is required")),
    }
}
