//! msgpack exactly as the official SDK's `msgpack.packb(action)` writes it (PROTOCOL 4.1
//! step 1): maps in key order, the most compact integer width (positive ints as uint, negative
//! as int), `c2`/`c3` bools, str8 for 32-255 byte strings, floats as float64.
//!
//! Built on `rmp`'s encoders, which choose the same compact markers as msgpack-python. Writing
//! into a `Vec` cannot fail, so the encoders' `Result`s carry no information here.

use serde_json::Value;

use super::{Result, SigningError};

pub fn map_len(out: &mut Vec<u8>, n: usize) {
    let _ = rmp::encode::write_map_len(out, n as u32);
}

pub fn array_len(out: &mut Vec<u8>, n: usize) {
    let _ = rmp::encode::write_array_len(out, n as u32);
}

pub fn str(out: &mut Vec<u8>, s: &str) {
    let _ = rmp::encode::write_str(out, s);
}

/// A string given as ASCII bytes (hex, decimals).
pub fn ascii(out: &mut Vec<u8>, s: &[u8]) {
    let _ = rmp::encode::write_str_len(out, s.len() as u32);
    out.extend_from_slice(s);
}

pub fn bin(out: &mut Vec<u8>, b: &[u8]) {
    let _ = rmp::encode::write_bin(out, b);
}

pub fn uint(out: &mut Vec<u8>, v: u64) {
    let _ = rmp::encode::write_uint(out, v);
}

pub fn sint(out: &mut Vec<u8>, v: i64) {
    let _ = rmp::encode::write_sint(out, v);
}

pub fn float(out: &mut Vec<u8>, v: f64) {
    let _ = rmp::encode::write_f64(out, v);
}

pub fn bool(out: &mut Vec<u8>, v: bool) {
    let _ = rmp::encode::write_bool(out, v);
}

pub fn nil(out: &mut Vec<u8>) {
    let _ = rmp::encode::write_nil(out);
}

/// Packs a JSON value in document order (serde_json is built with `preserve_order`), as the
/// SDK packs the dict `json.loads` would give: the generic path for actions that have no typed
/// form here, and the venue's way to hash what it received.
///
/// # Errors
/// `Invalid` for a number outside the 64-bit ranges (msgpack-python refuses those too).
pub fn pack_json(out: &mut Vec<u8>, v: &Value) -> Result<()> {
    match v {
        Value::Null => nil(out),
        Value::Bool(b) => bool(out, *b),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                uint(out, u);
            } else if let Some(i) = n.as_i64() {
                sint(out, i);
            } else if let Some(f) = n.as_f64() {
                float(out, f);
            } else {
                return Err(SigningError::invalid("number", n, "out of msgpack's range"));
            }
        }
        Value::String(s) => str(out, s),
        Value::Array(items) => {
            array_len(out, items.len());
            for item in items {
                pack_json(out, item)?;
            }
        }
        Value::Object(map) => {
            map_len(out, map.len());
            for (k, item) in map {
                str(out, k);
                pack_json(out, item)?;
            }
        }
    }
    Ok(())
}

/// Parses a JSON action (keeping its key order) and packs it.
///
/// # Errors
/// [`SigningError::Json`] if `json` does not parse, `Invalid` as [`pack_json`].
pub fn pack_json_bytes(out: &mut Vec<u8>, json: &[u8]) -> Result<Value> {
    let v: Value = serde_json::from_slice(json).map_err(|e| SigningError::Json {
        what: "action",
        reason: e.to_string(),
    })?;
    pack_json(out, &v)?;
    Ok(v)
}
