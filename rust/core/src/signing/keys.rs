//! secp256k1 keys, signatures and recovery (PROTOCOL 4.1 step 8): RFC 6979 deterministic
//! nonces and low-s, as eth-account signs, so every signature equals the SDK's bit for bit.
//!
//! The signature itself is libsecp256k1's (the `secp256k1` crate): the same RFC 6979 nonce and
//! low-s, so the same bytes, in ~61% of k256's instructions; k256 keeps the key (it zeroizes
//! itself), the address and recovery.

use std::fmt;
use std::sync::LazyLock;

use k256::{
    ecdsa::{RecoveryId, Signature as EcdsaSignature, SigningKey, VerifyingKey},
    elliptic_curve::PrimeField,
    NonZeroScalar,
};
use zeroize::{Zeroize, Zeroizing};

use super::{wire::write_0x_hex, Address, Result, SigningError};

/// A private key. It never leaves this type: no accessor returns it, `Debug` shows only the
/// address, and the scalar is wiped on drop (k256's `SigningKey` zeroizes itself).
pub struct PrivateKey {
    key: SigningKey,
    address: Address,
}

impl PrivateKey {
    /// Parses 64 hex digits, with or without `0x`. The error never repeats the input.
    ///
    /// # Errors
    /// [`SigningError::InvalidKey`] for a malformed string or an out-of-range scalar.
    pub fn from_hex(key_hex: &str) -> Result<Self> {
        Self::from_bytes(&*parse_key_hex(key_hex)?)
    }

    /// Builds a key from its 32 big-endian bytes.
    ///
    /// # Errors
    /// [`SigningError::InvalidKey`] if the scalar is zero or not below the curve order.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self> {
        let key = SigningKey::from_slice(bytes).map_err(|_| SigningError::InvalidKey {
            reason: "not a valid secp256k1 secret (zero or >= the curve order)",
        })?;
        let address = address_of(key.verifying_key());
        Ok(PrivateKey { key, address })
    }

    pub fn address(&self) -> Address {
        self.address
    }

    /// Signs a 32-byte digest: RFC 6979 nonce, s normalised low, v = 27 + y parity.
    pub fn sign_digest(&self, digest: &[u8; 32]) -> Signature {
        let secret = Zeroizing::new(<[u8; 32]>::from(self.key.to_bytes()));
        sign_rfc6979(&secret, digest)
    }
}

/// libsecp256k1's signing context, made once (it holds no secret).
static SECP: LazyLock<secp256k1::Secp256k1<secp256k1::SignOnly>> =
    LazyLock::new(secp256k1::Secp256k1::signing_only);

/// The one ECDSA signature of both key types: RFC 6979 nonce (HMAC-SHA256, no extra data), low
/// s, v = 27 + y parity. `secret` is a valid scalar (checked when the key was built); the copy
/// libsecp256k1 takes is erased before returning.
fn sign_rfc6979(secret: &[u8; 32], digest: &[u8; 32]) -> Signature {
    let mut key = secp256k1::SecretKey::from_byte_array(*secret)
        .expect("a key type holds a valid secp256k1 scalar");
    let sig = SECP.sign_ecdsa_recoverable(secp256k1::Message::from_digest(*digest), &key);
    key.non_secure_erase();
    let (recid, rs) = sig.serialize_compact();
    let mut r = [0u8; 32];
    let mut s = [0u8; 32];
    r.copy_from_slice(&rs[..32]);
    s.copy_from_slice(&rs[32..]);
    Signature {
        r,
        s,
        v: 27 + (i32::from(recid) & 1) as u8,
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PrivateKey {{ address: {} }}", self.address)
    }
}

/// Decodes 64 hex digits (optional `0x`) into a buffer that is wiped when dropped.
fn parse_key_hex(key_hex: &str) -> Result<Zeroizing<[u8; 32]>> {
    let digits = key_hex.trim();
    let digits = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
        .unwrap_or(digits);
    if digits.len() != 64 {
        return Err(SigningError::InvalidKey {
            reason: "expected 64 hex digits (32 bytes), with or without 0x",
        });
    }
    let mut bytes = Zeroizing::new([0u8; 32]);
    hex::decode_to_slice(digits, &mut *bytes).map_err(|_| SigningError::InvalidKey {
        reason: "not hexadecimal",
    })?;
    Ok(bytes)
}

/// A secret scalar for signing alone: [`PrivateKey`] derives the public key (the address) up
/// front, which costs as much as a signature; a helper that is handed a key per call skips it.
pub struct SecretScalar(NonZeroScalar);

impl SecretScalar {
    /// As [`PrivateKey::from_hex`].
    ///
    /// # Errors
    /// [`SigningError::InvalidKey`] for a malformed string or an out-of-range scalar.
    pub fn from_hex(key_hex: &str) -> Result<Self> {
        Self::from_bytes(&*parse_key_hex(key_hex)?)
    }

    /// As [`PrivateKey::from_bytes`].
    ///
    /// # Errors
    /// [`SigningError::InvalidKey`] if the scalar is zero or not below the curve order.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self> {
        Option::from(NonZeroScalar::from_repr((*bytes).into()))
            .map(SecretScalar)
            .ok_or(SigningError::InvalidKey {
                reason: "not a valid secp256k1 secret (zero or >= the curve order)",
            })
    }

    /// Signs a digest exactly as [`PrivateKey::sign_digest`] does.
    pub fn sign_digest(&self, digest: &[u8; 32]) -> Signature {
        let secret = Zeroizing::new(<[u8; 32]>::from(self.0.to_repr()));
        sign_rfc6979(&secret, digest)
    }
}

impl Drop for SecretScalar {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for SecretScalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretScalar { .. }")
    }
}

fn address_of(vk: &VerifyingKey) -> Address {
    let point = vk.to_sec1_point(false);
    let mut xy = [0u8; 64];
    // Uncompressed SEC1: 0x04 || x || y.
    xy.copy_from_slice(&point.as_bytes()[1..65]);
    Address::from_public_key(&xy)
}

/// An ECDSA signature as the exchange takes it: r, s (32 bytes each) and v in {27, 28}.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Signature {
    pub r: [u8; 32],
    pub s: [u8; 32],
    pub v: u8,
}

impl Signature {
    /// Builds a signature from hex r and s (`0x` optional; 1 to 64 digits, since the SDK does
    /// not zero-pad) and v.
    ///
    /// # Errors
    /// `Invalid` naming `r`, `s` or `v`.
    pub fn from_hex(r: &str, s: &str, v: u64) -> Result<Self> {
        Ok(Signature {
            r: parse_word("r", r)?,
            s: parse_word("s", s)?,
            v: check_v(v)?,
        })
    }

    /// `"0x"` + 64 lowercase hex digits.
    pub fn r_hex(&self) -> [u8; 66] {
        let mut out = [0u8; 66];
        write_0x_hex(&self.r, &mut out);
        out
    }

    /// `"0x"` + 64 lowercase hex digits.
    pub fn s_hex(&self) -> [u8; 66] {
        let mut out = [0u8; 66];
        write_0x_hex(&self.s, &mut out);
        out
    }

    /// Appends `{"r":"0x..","s":"0x..","v":27}`.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"r\":\"");
        out.extend_from_slice(&self.r_hex());
        out.extend_from_slice(b"\",\"s\":\"");
        out.extend_from_slice(&self.s_hex());
        out.extend_from_slice(b"\",\"v\":");
        out.extend_from_slice(if self.v == 27 { b"27}" } else { b"28}" });
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (r, s) = (self.r_hex(), self.s_hex());
        write!(
            f,
            "Signature {{ r: {}, s: {}, v: {} }}",
            String::from_utf8_lossy(&r),
            String::from_utf8_lossy(&s),
            self.v
        )
    }
}

pub(crate) fn check_v(v: u64) -> Result<u8> {
    match v {
        27 | 28 => Ok(v as u8),
        _ => Err(SigningError::invalid("v", v, "must be 27 or 28")),
    }
}

fn parse_word(field: &'static str, text: &str) -> Result<[u8; 32]> {
    let digits = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .unwrap_or(text);
    if digits.is_empty() || digits.len() > 64 || !digits.bytes().all(|c| c.is_ascii_hexdigit()) {
        return Err(SigningError::invalid(
            field,
            text,
            "must be 1 to 64 hex digits",
        ));
    }
    let mut padded = [b'0'; 64];
    padded[64 - digits.len()..].copy_from_slice(digits.as_bytes());
    let mut out = [0u8; 32];
    hex::decode_to_slice(padded, &mut out)
        .map_err(|_| SigningError::invalid(field, text, "must be 1 to 64 hex digits"))?;
    Ok(out)
}

/// Recovers the address that produced `sig` over `digest`.
///
/// # Errors
/// [`SigningError::Recover`] if r or s is zero or not below the curve order, s is high (above
/// n/2), or no point has x = r.
pub fn recover_address(digest: &[u8; 32], sig: &Signature) -> Result<Address> {
    let v = check_v(u64::from(sig.v))?;
    let ecdsa = EcdsaSignature::from_scalars(sig.r, sig.s).map_err(|_| SigningError::Recover {
        reason: "r or s is zero or not below the curve order",
    })?;
    // The exchange's libraries sign low-s only; (r, n - s) is the same signature's malleable
    // twin, which a venue must refuse rather than recover (issue 13 item 8).
    if ecdsa.normalize_s() != ecdsa {
        return Err(SigningError::Recover {
            reason: "s is above half the curve order (high-s, malleable)",
        });
    }
    let recid = RecoveryId::from_byte(v - 27).ok_or(SigningError::Recover {
        reason: "bad recovery id",
    })?;
    let vk = VerifyingKey::recover_from_prehash(digest, &ecdsa, recid).map_err(|_| {
        SigningError::Recover {
            reason: "no public key matches this signature",
        }
    })?;
    Ok(address_of(&vk))
}
