//! The one place where core errors become Python exceptions. The exception classes are declared
//! once, in `python/mmfast/errors.py` (so that `ConfigError` can be both a `MmfastError` and a
//! `ValueError`), and imported lazily here.

use mmfast_core::Error;
use pyo3::prelude::*;
use pyo3::types::PyList;

pyo3::import_exception!(mmfast.errors, MmfastError);
pyo3::import_exception!(mmfast.errors, ConfigError);
pyo3::import_exception!(mmfast.errors, InputError);
pyo3::import_exception!(mmfast.errors, BookError);
pyo3::import_exception!(mmfast.errors, SigningError);
pyo3::import_exception!(mmfast.errors, VenueError);
pyo3::import_exception!(mmfast.errors, EngineError);

/// Maps a core error to its Python exception.
pub fn to_py(err: Error) -> PyErr {
    let msg = err.to_string();
    match err {
        Error::Config(c) => Python::attach(|py| {
            let e = ConfigError::new_err(msg);
            let items: Vec<(String, String, String)> = c
                .violations
                .into_iter()
                .map(|v| (v.field, v.value, v.reason))
                .collect();
            if let Ok(list) = PyList::new(py, items) {
                let _ = e.value(py).setattr("violations", list);
            }
            e
        }),
        Error::Invalid(_) => InputError::new_err(msg),
        Error::Book(_) | Error::Replay(_) => BookError::new_err(msg),
        // The SDK's float_to_wire raises ValueError("float_to_wire causes rounding", x): same args.
        Error::Signing(mmfast_core::signing::SigningError::FloatToWire { value }) => {
            SigningError::new_err(("float_to_wire causes rounding", value))
        }
        Error::Signing(_) => SigningError::new_err(msg),
        Error::Sim(_) => VenueError::new_err(msg),
        Error::Engine(_) => EngineError::new_err(msg),
    }
}

/// `result.py()?` turns any core result into a `PyResult` through `to_py`.
pub trait IntoPyResult<T> {
    fn py(self) -> PyResult<T>;
}

impl<T, E: Into<Error>> IntoPyResult<T> for Result<T, E> {
    fn py(self) -> PyResult<T> {
        self.map_err(|e| to_py(e.into()))
    }
}

/// Checks that a float argument is finite, naming it in the `InputError`.
pub fn finite(field: &'static str, v: f64) -> PyResult<f64> {
    mmfast_core::check::finite(field, v).py()
}

/// A side argument (`"bid"`/`"ask"`, also `"bids"`, `"b"`, `"buy"` and their counterparts, any
/// case), or an `InputError` naming `field`.
pub fn side_arg(field: &'static str, s: &str) -> PyResult<mmfast_core::types::Side> {
    use mmfast_core::types::Side;
    match s.to_ascii_lowercase().as_str() {
        "bid" | "bids" | "b" | "buy" => Ok(Side::Bid),
        "ask" | "asks" | "a" | "sell" => Ok(Side::Ask),
        _ => Err::<_, Error>(Error::invalid(
            field,
            format!("{s:?}"),
            "expected \"bid\" or \"ask\"",
        ))
        .py(),
    }
}
