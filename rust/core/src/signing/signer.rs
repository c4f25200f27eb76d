//! The [`Signer`] of SPEC section 9: holds the key and the nonce counter and turns an action
//! into a signed request body, `{"action", "nonce", "signature", "vaultAddress",
//! "expiresAfter"}`, ready to POST to `/exchange` or to wrap in a WebSocket `post`.
//!
//! Like the official SDK, the body always carries `vaultAddress` and `expiresAfter` (null
//! when unused). The clock is the caller's: [`Signer::next_nonce`] takes `now_ms`.

use super::{
    actions::json_uint,
    eip712::{agent_digest, connection_id},
    msgpack, Action, Address, NonceCounter, PrivateKey, Result, Signature,
};

/// Where and how an action is signed: its nonce, the vault or sub-account it trades for, and
/// the time after which the exchange must drop it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Envelope {
    pub nonce: u64,
    pub vault: Option<Address>,
    pub expires_after: Option<u64>,
}

/// A signing key bound to a chain (mainnet "a" / testnet "b"), with an optional default vault.
#[derive(Debug)]
pub struct Signer {
    key: PrivateKey,
    is_mainnet: bool,
    vault: Option<Address>,
    nonces: NonceCounter,
}

impl Signer {
    pub fn new(key: PrivateKey, is_mainnet: bool, vault: Option<Address>) -> Self {
        Signer {
            key,
            is_mainnet,
            vault,
            nonces: NonceCounter::new(),
        }
    }

    pub fn address(&self) -> Address {
        self.key.address()
    }

    pub fn is_mainnet(&self) -> bool {
        self.is_mainnet
    }

    /// The vault or sub-account actions are signed for unless the envelope says otherwise.
    pub fn vault(&self) -> Option<Address> {
        self.vault
    }

    pub fn nonces(&self) -> &NonceCounter {
        &self.nonces
    }

    /// A fresh nonce: `max(last + 1, now_ms)`.
    pub fn next_nonce(&self, now_ms: u64) -> u64 {
        self.nonces.next(now_ms)
    }

    /// Signs already-packed action bytes.
    pub fn sign_msgpack(&self, action_msgpack: &[u8], env: &Envelope) -> Signature {
        let cid = connection_id(
            action_msgpack,
            env.nonce,
            env.vault.as_ref(),
            env.expires_after,
        );
        self.key.sign_digest(&agent_digest(&cid, self.is_mainnet))
    }

    /// Signs a typed action and appends its request body to `out`.
    pub fn write_body(&self, out: &mut Vec<u8>, action: &Action<'_>, env: &Envelope) -> Signature {
        let mut packed = Vec::with_capacity(128);
        action.write_msgpack(&mut packed);
        let sig = self.sign_msgpack(&packed, env);
        out.extend_from_slice(b"{\"action\":");
        action.write_json(out);
        write_body_tail(out, env, &sig);
        sig
    }

    /// Signs a JSON action, hashing it in its own key order, and appends its request body.
    ///
    /// # Errors
    /// [`super::SigningError::Json`] if the action does not parse.
    pub fn write_json_body(
        &self,
        out: &mut Vec<u8>,
        action_json: &[u8],
        env: &Envelope,
    ) -> Result<Signature> {
        let mut packed = Vec::with_capacity(action_json.len());
        let value = msgpack::pack_json_bytes(&mut packed, action_json)?;
        let sig = self.sign_msgpack(&packed, env);
        out.extend_from_slice(b"{\"action\":");
        // Re-serialised from the parsed value (not copied) so the body holds exactly what was
        // hashed, whatever whitespace or duplicate keys the input had.
        serde_json::to_writer(&mut *out, &value).map_err(|e| super::SigningError::Json {
            what: "action",
            reason: e.to_string(),
        })?;
        write_body_tail(out, env, &sig);
        Ok(sig)
    }
}

/// Appends a request body around an action already serialised as JSON.
pub fn write_body_with(out: &mut Vec<u8>, action_json: &[u8], env: &Envelope, sig: &Signature) {
    out.extend_from_slice(b"{\"action\":");
    out.extend_from_slice(action_json);
    write_body_tail(out, env, sig);
}

/// Appends `,"nonce":..,"signature":{..},"vaultAddress":..,"expiresAfter":..}`.
fn write_body_tail(out: &mut Vec<u8>, env: &Envelope, sig: &Signature) {
    out.extend_from_slice(b",\"nonce\":");
    json_uint(out, env.nonce);
    out.extend_from_slice(b",\"signature\":");
    sig.write_json(out);
    out.extend_from_slice(b",\"vaultAddress\":");
    match env.vault {
        Some(v) => {
            out.push(b'"');
            out.extend_from_slice(&v.to_lower_hex());
            out.push(b'"');
        }
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"expiresAfter\":");
    match env.expires_after {
        Some(e) => json_uint(out, e),
        None => out.extend_from_slice(b"null"),
    }
    out.push(b'}');
}
