//! Python classes and functions of `mmfast_core::signing` (SPEC 9): the `Signer` that turns
//! engine actions into signed request bodies in one call each, the SDK-compatible helpers
//! behind `mmfast.signing`, and signer recovery for the local venue.
//!
//! Nothing here ever formats a private key: keys are parsed straight into the core's
//! `PrivateKey`, whose errors are fixed texts, and `Signer` refuses to be pickled or copied.

use std::borrow::Cow;
use std::time::{SystemTime, UNIX_EPOCH};

use mmfast_core::signing::{
    self as core, eip712, msgpack as mp, request, Action, Address, CancelByCloidWire, CancelWire,
    Cloid, Decimal, Envelope, Grouping, ModifyWire, Oid, OrderKind, OrderWire, PrivateKey,
    SecretScalar, Signature, SigningError, Tif,
};
use pyo3::prelude::*;
use pyo3::types::{
    PyBool, PyByteArray, PyBytes, PyDict, PyFloat, PyInt, PyList, PySequence, PyString, PyTuple,
};

use zeroize::Zeroizing;

use crate::errors::{to_py, IntoPyResult};

/// msgpack-python's default nesting limit.
const MAX_DEPTH: u32 = 511;

pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn invalid(field: &'static str, value: impl std::fmt::Display, reason: &'static str) -> PyErr {
    to_py(
        SigningError::Invalid {
            field,
            value: value.to_string(),
            reason,
        }
        .into(),
    )
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into())
}

// ---------------------------------------------------------------------------------------------
// Argument conversion

fn address_arg(field: &'static str, s: Option<&str>) -> PyResult<Option<Address>> {
    s.map(|s| Address::parse(field, s)).transpose().py()
}

fn cloid_arg(field: &'static str, obj: &Bound<'_, PyAny>) -> PyResult<Cloid> {
    if let Ok(s) = obj.cast::<PyString>() {
        return Cloid::parse(field, s.to_str()?).py();
    }
    if let Ok(i) = obj.cast::<PyInt>() {
        if let Ok(v) = i.extract::<u128>() {
            return Ok(Cloid::from_u128(v));
        }
    }
    Err(invalid(
        field,
        obj.repr()?,
        "must be a 0x-prefixed 32-hex-digit string or an int in [0, 2**128)",
    ))
}

/// A price or size: a float (or int) goes through `float_to_wire`, a string must already be
/// canonical. Either way it must be > 0.
fn decimal_arg(field: &'static str, obj: &Bound<'_, PyAny>) -> PyResult<Decimal> {
    let d = if let Ok(s) = obj.cast::<PyString>() {
        Decimal::parse(field, s.to_str()?).py()?
    } else if obj.cast::<PyBool>().is_ok() {
        return Err(invalid(
            field,
            type_name(obj),
            "must be a float or a decimal string",
        ));
    } else if let Ok(f) = obj.extract::<f64>() {
        if !f.is_finite() {
            return Err(invalid(field, f, "must be a finite number"));
        }
        Decimal::from_f64(f).py()?
    } else {
        return Err(invalid(
            field,
            type_name(obj),
            "must be a float or a decimal string",
        ));
    };
    if !d.is_positive() {
        return Err(invalid(field, d, "must be > 0"));
    }
    Ok(d)
}

fn tif_arg(obj: &Bound<'_, PyAny>) -> PyResult<Tif> {
    let s = obj
        .cast::<PyString>()
        .map_err(|_| invalid("tif", type_name(obj), "must be \"Alo\", \"Ioc\" or \"Gtc\""))?;
    let s = s.to_str()?;
    Tif::parse(s).ok_or_else(|| invalid("tif", s, "must be \"Alo\", \"Ioc\" or \"Gtc\""))
}

fn u32_arg(field: &'static str, obj: &Bound<'_, PyAny>) -> PyResult<u32> {
    obj.extract::<u32>().map_err(|_| {
        invalid(
            field,
            obj.repr().map(|r| r.to_string()).unwrap_or_default(),
            "must be an int in [0, 2**32)",
        )
    })
}

fn u64_arg(field: &'static str, obj: &Bound<'_, PyAny>) -> PyResult<u64> {
    obj.extract::<u64>().map_err(|_| {
        invalid(
            field,
            obj.repr().map(|r| r.to_string()).unwrap_or_default(),
            "must be an int in [0, 2**64)",
        )
    })
}

fn bool_arg(field: &'static str, obj: &Bound<'_, PyAny>) -> PyResult<bool> {
    obj.cast::<PyBool>()
        .map(|b| b.is_true())
        .map_err(|_| invalid(field, type_name(obj), "must be a bool"))
}

fn tuple_items<'py>(
    field: &'static str,
    obj: &Bound<'py, PyAny>,
    lens: &[usize],
    shape: &'static str,
) -> PyResult<Vec<Bound<'py, PyAny>>> {
    let items: Vec<Bound<'py, PyAny>> = if let Ok(t) = obj.cast::<PyTuple>() {
        t.iter().collect()
    } else if let Ok(l) = obj.cast::<PyList>() {
        l.iter().collect()
    } else {
        return Err(invalid(field, type_name(obj), shape));
    };
    if !lens.contains(&items.len()) {
        return Err(invalid(field, obj.repr()?, shape));
    }
    Ok(items)
}

const ORDER_SHAPE: &str = "must be a tuple (asset, is_buy, px, sz, reduce_only, tif[, cloid])";

/// `(asset, is_buy, px, sz, reduce_only, tif[, cloid])`, the OrderWire fields in wire order.
fn order_arg(obj: &Bound<'_, PyAny>) -> PyResult<OrderWire> {
    let it = tuple_items("order", obj, &[6, 7], ORDER_SHAPE)?;
    let cloid = match it.get(6) {
        Some(c) if !c.is_none() => Some(cloid_arg("cloid", c)?),
        _ => None,
    };
    Ok(OrderWire {
        asset: u32_arg("asset", &it[0])?,
        is_buy: bool_arg("is_buy", &it[1])?,
        px: decimal_arg("px", &it[2])?,
        sz: decimal_arg("sz", &it[3])?,
        reduce_only: bool_arg("reduce_only", &it[4])?,
        kind: OrderKind::Limit(tif_arg(&it[5])?),
        cloid,
    })
}

/// The items of a non-empty list (the exchange refuses an empty batch; refusing it here saves
/// a nonce and a request).
fn list_arg<'py>(field: &'static str, obj: &Bound<'py, PyAny>) -> PyResult<Vec<Bound<'py, PyAny>>> {
    let items: Vec<Bound<'py, PyAny>> = if let Ok(l) = obj.cast::<PyList>() {
        l.iter().collect()
    } else if let Ok(t) = obj.cast::<PyTuple>() {
        t.iter().collect()
    } else if let Ok(s) = obj.cast::<PySequence>() {
        s.try_iter()?.collect::<PyResult<_>>()?
    } else {
        return Err(invalid(field, type_name(obj), "must be a list"));
    };
    if items.is_empty() {
        return Err(invalid(field, "[]", "must not be empty"));
    }
    Ok(items)
}

/// The `(asset, id)` pairs of a cancel list, each made into its wire struct by `wire` (which
/// reads the id); `shape` is the error's reason for a malformed pair.
fn cancel_list<'py, W>(
    cancels: &Bound<'py, PyAny>,
    shape: &'static str,
    wire: impl Fn(u32, &Bound<'py, PyAny>) -> PyResult<W>,
) -> PyResult<Vec<W>> {
    list_arg("cancels", cancels)?
        .iter()
        .map(|c| {
            let it = tuple_items("cancel", c, &[2], shape)?;
            wire(u32_arg("asset", &it[0])?, &it[1])
        })
        .collect()
}

fn grouping_arg(obj: &Bound<'_, PyAny>) -> PyResult<Grouping> {
    if let Ok(s) = obj.cast::<PyString>() {
        return match s.to_str()? {
            "na" => Ok(Grouping::Na),
            "normalTpsl" => Ok(Grouping::NormalTpsl),
            "positionTpsl" => Ok(Grouping::PositionTpsl),
            other => Err(invalid(
                "grouping",
                other,
                "must be \"na\", \"normalTpsl\", \"positionTpsl\" or {\"p\": int}",
            )),
        };
    }
    if let Ok(d) = obj.cast::<PyDict>() {
        if d.len() == 1 {
            if let Some(p) = d.get_item("p")? {
                return Ok(Grouping::Priority(u64_arg("grouping.p", &p)?));
            }
        }
    }
    Err(invalid(
        "grouping",
        obj.repr()?,
        "must be \"na\", \"normalTpsl\", \"positionTpsl\" or {\"p\": int}",
    ))
}

// ---------------------------------------------------------------------------------------------
// Python objects to msgpack, as msgpack-python's `packb` does with its defaults

/// Packs a Python value the way `msgpack.packb` does (the SDK hashes `packb(action)`): dicts in
/// insertion order, bool before int, ints in the most compact width, floats as float64,
/// `bytes`/`bytearray` as bin, lists and tuples as arrays.
fn pack_py(out: &mut Vec<u8>, obj: &Bound<'_, PyAny>, depth: u32) -> PyResult<()> {
    if depth > MAX_DEPTH {
        return Err(invalid(
            "action",
            "nested too deeply",
            "recursion limit exceeded",
        ));
    }
    if obj.is_none() {
        mp::nil(out);
    } else if let Ok(b) = obj.cast::<PyBool>() {
        mp::bool(out, b.is_true());
    } else if let Ok(i) = obj.cast::<PyInt>() {
        if let Ok(v) = i.extract::<i64>() {
            if v >= 0 {
                mp::uint(out, v as u64);
            } else {
                mp::sint(out, v);
            }
        } else if let Ok(v) = i.extract::<u64>() {
            mp::uint(out, v);
        } else {
            return Err(invalid(
                "action",
                i.repr()?,
                "integer out of msgpack's 64-bit range",
            ));
        }
    } else if let Ok(f) = obj.cast::<PyFloat>() {
        mp::float(out, f.value());
    } else if let Ok(s) = obj.cast::<PyString>() {
        mp::str(out, s.to_str()?);
    } else if let Ok(d) = obj.cast::<PyDict>() {
        mp::map_len(out, d.len());
        for (k, v) in d.iter() {
            pack_py(out, &k, depth + 1)?;
            pack_py(out, &v, depth + 1)?;
        }
    } else if let Ok(l) = obj.cast::<PyList>() {
        mp::array_len(out, l.len());
        for v in l.iter() {
            pack_py(out, &v, depth + 1)?;
        }
    } else if let Ok(t) = obj.cast::<PyTuple>() {
        mp::array_len(out, t.len());
        for v in t.iter() {
            pack_py(out, &v, depth + 1)?;
        }
    } else if let Ok(b) = obj.cast::<PyBytes>() {
        mp::bin(out, b.as_bytes());
    } else if let Ok(b) = obj.cast::<PyByteArray>() {
        mp::bin(out, &b.to_vec());
    } else {
        return Err(invalid(
            "action",
            type_name(obj),
            "cannot be serialized to msgpack",
        ));
    }
    Ok(())
}

fn packed(action: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    let mut out = Vec::with_capacity(256);
    pack_py(&mut out, action, 0)?;
    Ok(out)
}

/// A private key from a hex string, 32 raw bytes, or an object with a `key` attribute holding
/// either (eth_account's `LocalAccount`), built by `hex` or `raw`. Errors never include the key.
fn key_from<T>(
    obj: &Bound<'_, PyAny>,
    hex: fn(&str) -> core::Result<T>,
    raw: fn(&[u8; 32]) -> core::Result<T>,
) -> PyResult<T> {
    if let Ok(s) = obj.cast::<PyString>() {
        return hex(s.to_str()?).py();
    }
    if let Ok(b) = obj.cast::<PyBytes>() {
        let bytes: &[u8; 32] = b
            .as_bytes()
            .try_into()
            .map_err(|_| SigningError::InvalidKey {
                reason: "raw key bytes must be exactly 32 bytes",
            })
            .py()?;
        return raw(bytes).py();
    }
    if let Ok(inner) = obj.getattr("key") {
        if inner.cast::<PyString>().is_ok() || inner.cast::<PyBytes>().is_ok() {
            return key_from(&inner, hex, raw);
        }
    }
    Err(SigningError::InvalidKey {
        reason: "expected a hex string, 32 bytes, or an account object with a .key",
    })
    .py()
}

fn key_arg(obj: &Bound<'_, PyAny>) -> PyResult<PrivateKey> {
    key_from(obj, PrivateKey::from_hex, PrivateKey::from_bytes)
}

fn word_arg(field: &'static str, obj: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(s.to_str()?.to_owned());
    }
    if let Ok(i) = obj.cast::<PyInt>() {
        let b = i.call_method1("to_bytes", (32, "big")).map_err(|_| {
            invalid(
                field,
                i.repr().map(|r| r.to_string()).unwrap_or_default(),
                "must fit in 32 bytes",
            )
        })?;
        return Ok(hex::encode(b.cast::<PyBytes>()?.as_bytes()));
    }
    Err(invalid(
        field,
        type_name(obj),
        "must be a hex string or an int",
    ))
}

/// `{"r": .., "s": .., "v": ..}` with hex or int r and s.
fn signature_arg(sig: &Bound<'_, PyAny>) -> PyResult<Signature> {
    let get = |k: &'static str| {
        sig.get_item(k)
            .map_err(|_| invalid("signature", k, "must be a mapping with r, s and v"))
    };
    let r = word_arg("r", &get("r")?)?;
    let s = word_arg("s", &get("s")?)?;
    let v = u64_arg("v", &get("v")?)?;
    Signature::from_hex(&r, &s, v).py()
}

fn signature_dict<'py>(py: Python<'py>, sig: &Signature) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("r", std::str::from_utf8(&sig.r_hex()).unwrap_or_default())?;
    d.set_item("s", std::str::from_utf8(&sig.s_hex()).unwrap_or_default())?;
    d.set_item("v", sig.v)?;
    Ok(d)
}

// ---------------------------------------------------------------------------------------------
// Signer

/// The live signer (SPEC 9): key, chain, default vault and the nonce counter. Every `sign_*`
/// method returns one ready-to-send `/exchange` request body (bytes); nonces come from the
/// counter (ms clock, fast-forwarded, never reused) unless one is passed.
#[pyclass(module = "mmfast._core", name = "Signer", frozen)]
pub struct PySigner {
    pub(crate) inner: core::Signer,
}

impl PySigner {
    fn envelope(
        &self,
        nonce: Option<u64>,
        vault: Option<&str>,
        expires_after: Option<u64>,
    ) -> PyResult<Envelope> {
        let vault = match address_arg("vault", vault)? {
            Some(v) => Some(v),
            None => self.inner.vault(),
        };
        let nonce = match nonce {
            Some(n) => {
                self.inner.nonces().observe(n);
                n
            }
            None => self.inner.next_nonce(now_ms()),
        };
        Ok(Envelope {
            nonce,
            vault,
            expires_after,
        })
    }

    fn body<'py>(
        &self,
        py: Python<'py>,
        action: &Action<'_>,
        env: &Envelope,
    ) -> Bound<'py, PyBytes> {
        let mut out = Vec::with_capacity(256);
        py.detach(|| self.inner.write_body(&mut out, action, env));
        PyBytes::new(py, &out)
    }
}

#[pymethods]
impl PySigner {
    #[new]
    #[pyo3(signature = (key_hex, *, is_mainnet = true, vault_address = None))]
    fn new(
        key_hex: &Bound<'_, PyAny>,
        is_mainnet: bool,
        vault_address: Option<&str>,
    ) -> PyResult<Self> {
        let vault = address_arg("vault_address", vault_address)?;
        let key = key_arg(key_hex)?;
        Ok(PySigner {
            inner: core::Signer::new(key, is_mainnet, vault),
        })
    }

    /// Reads the key from an environment variable (default `MMFAST_PRIVATE_KEY`).
    #[staticmethod]
    #[pyo3(signature = (var = "MMFAST_PRIVATE_KEY", *, is_mainnet = true, vault_address = None))]
    fn from_env(var: &str, is_mainnet: bool, vault_address: Option<&str>) -> PyResult<Self> {
        let vault = address_arg("vault_address", vault_address)?;
        let Ok(text) = std::env::var(var).map(Zeroizing::new) else {
            return Err(invalid("from_env", var, "environment variable is not set"));
        };
        let key = PrivateKey::from_hex(&text).py()?;
        Ok(PySigner {
            inner: core::Signer::new(key, is_mainnet, vault),
        })
    }

    /// The signer's address (EIP-55 checksummed).
    #[getter]
    fn address(&self) -> String {
        self.inner.address().to_checksum()
    }

    #[getter]
    fn is_mainnet(&self) -> bool {
        self.inner.is_mainnet()
    }

    /// The default vault / sub-account (lowercase), or None.
    #[getter]
    fn vault_address(&self) -> Option<String> {
        self.inner
            .vault()
            .map(|v| String::from_utf8_lossy(&v.to_lower_hex()).into_owned())
    }

    /// The highest nonce issued or passed in so far (0 before the first).
    #[getter]
    fn last_nonce(&self) -> u64 {
        self.inner.nonces().last()
    }

    /// Takes a fresh nonce from the counter (to pass to a `sign_*` call whose nonce the caller
    /// wants to know, e.g. to burn it later with `sign_noop(nonce=...)`).
    fn next_nonce(&self) -> u64 {
        self.inner.next_nonce(now_ms())
    }

    /// An order action: `orders` is a list of `(asset, is_buy, px, sz, reduce_only, tif[,
    /// cloid])` with px/sz as floats (converted like the SDK's `float_to_wire`) or canonical
    /// decimal strings, tif "Alo" | "Ioc" | "Gtc", cloid a 0x-hex string or an int.
    #[pyo3(signature = (orders, *, grouping = None, nonce = None, vault = None, expires_after = None))]
    fn sign_orders<'py>(
        &self,
        py: Python<'py>,
        orders: &Bound<'py, PyAny>,
        grouping: Option<&Bound<'py, PyAny>>,
        nonce: Option<u64>,
        vault: Option<&str>,
        expires_after: Option<u64>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let orders: Vec<OrderWire> = list_arg("orders", orders)?
            .iter()
            .map(order_arg)
            .collect::<PyResult<_>>()?;
        let grouping = grouping.map(grouping_arg).transpose()?.unwrap_or_default();
        let env = self.envelope(nonce, vault, expires_after)?;
        Ok(self.body(
            py,
            &Action::Order {
                orders: Cow::Owned(orders),
                grouping,
                builder: None,
            },
            &env,
        ))
    }

    /// A cancel action: `cancels` is a list of `(asset, oid)`; `fast` adds `"f": true`.
    #[pyo3(signature = (cancels, *, fast = true, nonce = None, vault = None, expires_after = None))]
    fn sign_cancel<'py>(
        &self,
        py: Python<'py>,
        cancels: &Bound<'py, PyAny>,
        fast: bool,
        nonce: Option<u64>,
        vault: Option<&str>,
        expires_after: Option<u64>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let cancels = cancel_list(cancels, "must be a tuple (asset, oid)", |asset, id| {
            Ok(CancelWire {
                asset,
                oid: u64_arg("oid", id)?,
            })
        })?;
        let env = self.envelope(nonce, vault, expires_after)?;
        Ok(self.body(
            py,
            &Action::Cancel {
                cancels: Cow::Owned(cancels),
                fast,
            },
            &env,
        ))
    }

    /// A cancelByCloid action: `cancels` is a list of `(asset, cloid)`.
    #[pyo3(signature = (cancels, *, fast = true, nonce = None, vault = None, expires_after = None))]
    fn sign_cancel_by_cloid<'py>(
        &self,
        py: Python<'py>,
        cancels: &Bound<'py, PyAny>,
        fast: bool,
        nonce: Option<u64>,
        vault: Option<&str>,
        expires_after: Option<u64>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let cancels = cancel_list(cancels, "must be a tuple (asset, cloid)", |asset, id| {
            Ok(CancelByCloidWire {
                asset,
                cloid: cloid_arg("cloid", id)?,
            })
        })?;
        let env = self.envelope(nonce, vault, expires_after)?;
        Ok(self.body(
            py,
            &Action::CancelByCloid {
                cancels: Cow::Owned(cancels),
                fast,
            },
            &env,
        ))
    }

    /// A batchModify action: `modifies` is a list of `(oid, order)` where oid is an int (the
    /// exchange's order id) or a cloid string, and order is as in `sign_orders`.
    #[pyo3(signature = (modifies, *, nonce = None, vault = None, expires_after = None))]
    fn sign_batch_modify<'py>(
        &self,
        py: Python<'py>,
        modifies: &Bound<'py, PyAny>,
        nonce: Option<u64>,
        vault: Option<&str>,
        expires_after: Option<u64>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let modifies: Vec<ModifyWire> = list_arg("modifies", modifies)?
            .iter()
            .map(|m| {
                let it = tuple_items("modify", m, &[2], "must be a tuple (oid, order)")?;
                let oid = if it[0].cast::<PyString>().is_ok() {
                    Oid::Cloid(cloid_arg("oid", &it[0])?)
                } else {
                    Oid::Oid(u64_arg("oid", &it[0])?)
                };
                Ok(ModifyWire {
                    oid,
                    order: order_arg(&it[1])?,
                })
            })
            .collect::<PyResult<_>>()?;
        let env = self.envelope(nonce, vault, expires_after)?;
        Ok(self.body(
            py,
            &Action::BatchModify {
                modifies: Cow::Owned(modifies),
                always_place: false,
            },
            &env,
        ))
    }

    /// A scheduleCancel action (dead-man switch): `time` in ms sets it, None clears it.
    #[pyo3(signature = (time = None, *, nonce = None, vault = None, expires_after = None))]
    fn sign_schedule_cancel<'py>(
        &self,
        py: Python<'py>,
        time: Option<u64>,
        nonce: Option<u64>,
        vault: Option<&str>,
        expires_after: Option<u64>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let env = self.envelope(nonce, vault, expires_after)?;
        Ok(self.body(py, &Action::ScheduleCancel { time }, &env))
    }

    /// A noop action; with `nonce=` an in-flight action's nonce, it burns that nonce.
    #[pyo3(signature = (*, nonce = None, vault = None, expires_after = None))]
    fn sign_noop<'py>(
        &self,
        py: Python<'py>,
        nonce: Option<u64>,
        vault: Option<&str>,
        expires_after: Option<u64>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let env = self.envelope(nonce, vault, expires_after)?;
        Ok(self.body(py, &Action::Noop, &env))
    }

    /// An updateLeverage action.
    #[pyo3(signature = (asset, is_cross, leverage, *, nonce = None, vault = None, expires_after = None))]
    #[allow(clippy::too_many_arguments)]
    fn sign_update_leverage<'py>(
        &self,
        py: Python<'py>,
        asset: u32,
        is_cross: bool,
        leverage: u32,
        nonce: Option<u64>,
        vault: Option<&str>,
        expires_after: Option<u64>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let env = self.envelope(nonce, vault, expires_after)?;
        Ok(self.body(
            py,
            &Action::UpdateLeverage {
                asset,
                is_cross,
                leverage,
            },
            &env,
        ))
    }

    /// Any L1 action given as JSON (bytes or str), hashed in its own key order.
    #[pyo3(signature = (action_json, nonce = None, vault = None, expires_after = None))]
    fn sign_action_json<'py>(
        &self,
        py: Python<'py>,
        action_json: &Bound<'py, PyAny>,
        nonce: Option<u64>,
        vault: Option<&str>,
        expires_after: Option<u64>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let text: Vec<u8> = if let Ok(b) = action_json.cast::<PyBytes>() {
            b.as_bytes().to_vec()
        } else if let Ok(s) = action_json.cast::<PyString>() {
            s.to_str()?.as_bytes().to_vec()
        } else {
            return Err(invalid(
                "action_json",
                type_name(action_json),
                "must be bytes or str",
            ));
        };
        let env = self.envelope(nonce, vault, expires_after)?;
        let mut out = Vec::with_capacity(text.len() + 256);
        py.detach(|| self.inner.write_json_body(&mut out, &text, &env))
            .py()?;
        Ok(PyBytes::new(py, &out))
    }

    /// Any L1 action given as the SDK's dict (packed in insertion order, as the SDK packs it).
    #[pyo3(signature = (action, nonce = None, vault = None, expires_after = None))]
    fn sign_action<'py>(
        &self,
        py: Python<'py>,
        action: &Bound<'py, PyAny>,
        nonce: Option<u64>,
        vault: Option<&str>,
        expires_after: Option<u64>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let packed = packed(action)?;
        let kwargs = PyDict::new(py);
        kwargs.set_item("separators", (",", ":"))?;
        let json = py
            .import("json")?
            .call_method("dumps", (action,), Some(&kwargs))?
            .extract::<String>()?;
        let env = self.envelope(nonce, vault, expires_after)?;
        let sig = py.detach(|| self.inner.sign_msgpack(&packed, &env));
        let mut out = Vec::with_capacity(json.len() + 256);
        core::signer::write_body_with(&mut out, json.as_bytes(), &env, &sig);
        Ok(PyBytes::new(py, &out))
    }

    fn __repr__(&self) -> String {
        format!(
            "Signer(address={}, is_mainnet={}, vault_address={})",
            self.address(),
            if self.inner.is_mainnet() {
                "True"
            } else {
                "False"
            },
            self.vault_address().unwrap_or_else(|| "None".into())
        )
    }

    /// A Signer holds a private key: it is neither pickled nor copied.
    fn __reduce__(&self) -> PyResult<()> {
        Err(SigningError::Invalid {
            field: "Signer",
            value: self.address(),
            reason: "holds a private key and cannot be pickled or copied",
        })
        .py()
    }
}

// ---------------------------------------------------------------------------------------------
// SDK-compatible helpers (mmfast.signing)

/// msgpack bytes of an action dict, identical to `msgpack.packb(action)`.
#[pyfunction]
fn action_msgpack<'py>(
    py: Python<'py>,
    action: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyBytes>> {
    Ok(PyBytes::new(py, &packed(action)?))
}

/// The SDK's `action_hash(action, vault_address, nonce, expires_after)`: the connection id.
#[pyfunction]
#[pyo3(signature = (action, vault_address, nonce, expires_after = None))]
fn action_hash<'py>(
    py: Python<'py>,
    action: &Bound<'py, PyAny>,
    vault_address: Option<&str>,
    nonce: u64,
    expires_after: Option<u64>,
) -> PyResult<Bound<'py, PyBytes>> {
    let vault = address_arg("vault_address", vault_address)?;
    let cid = eip712::connection_id(&packed(action)?, nonce, vault.as_ref(), expires_after);
    Ok(PyBytes::new(py, &cid))
}

/// The EIP-712 digest signed for a connection id on mainnet or testnet.
#[pyfunction]
fn agent_digest<'py>(
    py: Python<'py>,
    connection_id: &[u8],
    is_mainnet: bool,
) -> PyResult<Bound<'py, PyBytes>> {
    let cid: &[u8; 32] = connection_id
        .try_into()
        .map_err(|_| invalid("connection_id", connection_id.len(), "must be 32 bytes"))?;
    Ok(PyBytes::new(py, &eip712::agent_digest(cid, is_mainnet)))
}

/// Signs an L1 action dict like the SDK's `sign_l1_action`; returns `{"r", "s", "v"}` with
/// r and s zero-padded to 64 hex digits.
#[pyfunction]
#[pyo3(signature = (private_key, action, nonce, vault_address, expires_after, is_mainnet))]
fn sign_l1_action<'py>(
    py: Python<'py>,
    private_key: &Bound<'py, PyAny>,
    action: &Bound<'py, PyAny>,
    nonce: u64,
    vault_address: Option<&str>,
    expires_after: Option<u64>,
    is_mainnet: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let vault = address_arg("vault_address", vault_address)?;
    let packed = packed(action)?;
    // One signature per key: skip deriving the address (as costly as the signature itself).
    let key = key_from(
        private_key,
        SecretScalar::from_hex,
        SecretScalar::from_bytes,
    )?;
    let sig = py.detach(|| {
        let cid = eip712::connection_id(&packed, nonce, vault.as_ref(), expires_after);
        key.sign_digest(&eip712::agent_digest(&cid, is_mainnet))
    });
    signature_dict(py, &sig)
}

/// The address that signed an L1 action dict (the SDK's
/// `recover_agent_or_user_from_l1_action`), EIP-55 checksummed.
#[pyfunction]
#[pyo3(signature = (action, nonce, vault_address, expires_after, is_mainnet, signature))]
fn recover_l1_signer(
    py: Python<'_>,
    action: &Bound<'_, PyAny>,
    nonce: u64,
    vault_address: Option<&str>,
    expires_after: Option<u64>,
    is_mainnet: bool,
    signature: &Bound<'_, PyAny>,
) -> PyResult<String> {
    let env = Envelope {
        nonce,
        vault: address_arg("vault_address", vault_address)?,
        expires_after,
    };
    let sig = signature_arg(signature)?;
    let packed = packed(action)?;
    let addr = py
        .detach(|| request::recover_l1_signer(&packed, &env, is_mainnet, &sig))
        .py()?;
    Ok(addr.to_checksum())
}

/// The address of a private key (EIP-55 checksummed).
#[pyfunction]
fn address_from_key(key: &Bound<'_, PyAny>) -> PyResult<String> {
    Ok(key_arg(key)?.address().to_checksum())
}

/// The SDK's `float_to_wire` for finite floats (errors as the SDK's, args included).
#[pyfunction]
fn float_to_wire(x: f64) -> PyResult<String> {
    core::float_to_wire(x).py()
}

/// What the venue learns from an `/exchange` body before applying it.
#[pyclass(module = "mmfast._core", name = "RecoveredRequest", frozen)]
pub struct PyRecoveredRequest {
    /// The recovered signer, EIP-55 checksummed.
    #[pyo3(get)]
    signer: String,
    #[pyo3(get)]
    nonce: u64,
    /// Lowercase, or None.
    #[pyo3(get)]
    vault_address: Option<String>,
    #[pyo3(get)]
    expires_after: Option<u64>,
    /// The action's `type`.
    #[pyo3(get)]
    action_type: String,
}

#[pymethods]
impl PyRecoveredRequest {
    fn __repr__(&self) -> String {
        format!(
            "RecoveredRequest(signer={}, nonce={}, action_type={:?}, vault_address={:?}, expires_after={:?})",
            self.signer, self.nonce, self.action_type, self.vault_address, self.expires_after
        )
    }
}

/// Parses an `/exchange` request body and recovers its signer (the venue's check; the action
/// is hashed in the key order it arrived in).
#[pyfunction]
fn recover_request(py: Python<'_>, body: &[u8], is_mainnet: bool) -> PyResult<PyRecoveredRequest> {
    let (req, signer) = py
        .detach(|| {
            let req = request::parse_request(body)?;
            let signer = req.recover_signer(is_mainnet)?;
            Ok::<_, SigningError>((req, signer))
        })
        .py()?;
    Ok(PyRecoveredRequest {
        signer: signer.to_checksum(),
        nonce: req.envelope.nonce,
        vault_address: req
            .envelope
            .vault
            .map(|v| String::from_utf8_lossy(&v.to_lower_hex()).into_owned()),
        expires_after: req.envelope.expires_after,
        action_type: req.kind().to_owned(),
    })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PySigner>()?;
    m.add_class::<PyRecoveredRequest>()?;
    m.add_function(wrap_pyfunction!(action_msgpack, m)?)?;
    m.add_function(wrap_pyfunction!(action_hash, m)?)?;
    m.add_function(wrap_pyfunction!(agent_digest, m)?)?;
    m.add_function(wrap_pyfunction!(sign_l1_action, m)?)?;
    m.add_function(wrap_pyfunction!(recover_l1_signer, m)?)?;
    m.add_function(wrap_pyfunction!(address_from_key, m)?)?;
    m.add_function(wrap_pyfunction!(float_to_wire, m)?)?;
    m.add_function(wrap_pyfunction!(recover_request, m)?)?;
    Ok(())
}
