//! The exchange's answer to one action, read in the core (`risk::AnswerRead`) and handed to the
//! Python gateway as one small object: what it counts and what it reacts to (ok, per item the
//! error kind), with the per-item statuses built only when asked for. The error strings are
//! mapped to kinds in one place, `protocol::errors`.

use mmfast_core::engine::cloid_hex;
use mmfast_core::engine::frames::parse_exchange_answer;
use mmfast_core::protocol::errors::{classify, split_asset, ErrorKind};
use mmfast_core::risk::AnswerRead;
use pyo3::prelude::*;

/// The answer to one action, read: `ok` is False when the action failed as a whole; `rejected`
/// counts the items not ok; kinds are `ErrorKind` values (`"tick"`, `"missing_order"`, ...).
#[pyclass(module = "mmfast._core", name = "Answer", frozen)]
pub struct PyAnswer {
    /// The gateway's id of the action answered (the post id).
    #[pyo3(get)]
    id: u64,
    /// The engine's refusal of the answer (an unknown batch), if it read it.
    #[pyo3(get)]
    engine_error: Option<String>,
    /// Whether the engine read it (an answer to one of its batches, with the engine given).
    #[pyo3(get)]
    engine_applied: bool,
    read: AnswerRead,
}

impl PyAnswer {
    pub fn new(id: u64, read: AnswerRead) -> Self {
        Self {
            id,
            engine_error: None,
            engine_applied: false,
            read,
        }
    }

    pub fn with_engine(mut self, error: Option<String>) -> Self {
        self.engine_applied = true;
        self.engine_error = error;
        self
    }
}

/// Statuses as `(status, oid, cloid, total_sz, avg_px, error, error_kind, asset)`.
type StatusTuple = (
    &'static str,
    Option<u64>,
    Option<String>,
    Option<f64>,
    Option<f64>,
    Option<String>,
    Option<&'static str>,
    Option<u64>,
);

fn kind_arg(kind: Option<&str>) -> PyResult<Option<ErrorKind>> {
    kind.map(|k| {
        ErrorKind::from_name(k).ok_or_else(|| {
            pyo3::exceptions::PyValueError::new_err(format!(
                "kind = {k:?}: not an error kind (one of {})",
                ErrorKind::ALL.map(ErrorKind::as_str).join(", ")
            ))
        })
    })
    .transpose()
}

#[pymethods]
impl PyAnswer {
    /// An action that failed as a whole, every item with the error (`kind`, else classified
    /// from the message): the gateway's own refusals and transport failures.
    #[staticmethod]
    #[pyo3(signature = (message, n_items, kind = None, id = 0))]
    fn failed(message: &str, n_items: usize, kind: Option<&str>, id: u64) -> PyResult<Self> {
        Ok(Self::new(
            id,
            AnswerRead::failed(message, n_items, kind_arg(kind)?),
        ))
    }

    #[getter]
    fn ok(&self) -> bool {
        self.read.ok
    }

    #[getter]
    fn response_type(&self) -> Option<&str> {
        self.read.response_type.as_deref()
    }

    #[getter]
    fn error(&self) -> Option<&str> {
        self.read.error.as_deref()
    }

    #[getter]
    fn error_kind(&self) -> Option<&'static str> {
        self.read.error_kind.map(ErrorKind::as_str)
    }

    #[getter]
    fn rejected(&self) -> usize {
        self.read.rejected()
    }

    /// The kind of each item not ok, in order.
    #[getter]
    fn bad_kinds(&self) -> Vec<&'static str> {
        self.read
            .items
            .iter()
            .filter_map(|i| i.error_kind.map(ErrorKind::as_str))
            .collect()
    }

    /// One tuple per item: `(status, oid, cloid, total_sz, avg_px, error, error_kind, asset)`.
    fn statuses(&self) -> Vec<StatusTuple> {
        self.read
            .items
            .iter()
            .map(|i| {
                (
                    i.status,
                    i.oid,
                    i.cloid.map(cloid_hex),
                    i.total_sz,
                    i.avg_px,
                    i.error.clone(),
                    i.error_kind.map(ErrorKind::as_str),
                    i.asset,
                )
            })
            .collect()
    }

    fn __repr__(&self) -> String {
        format!(
            "Answer(id={}, ok={}, rejected={}, error={:?}, error_kind={:?})",
            self.id,
            self.read.ok,
            self.read.rejected(),
            self.read.error,
            self.error_kind()
        )
    }
}

/// Reads `answer` (an `/exchange` body or a websocket `post` answer) for an action of `n_items`
/// items; an unreadable answer fails the action as a whole. Touches no ledger: for answers to
/// actions outside an order path (the gateway's nonce-burning noop, tools, tests).
#[pyfunction]
#[pyo3(signature = (answer, n_items, id = 0))]
fn read_answer(answer: &[u8], n_items: usize, id: u64) -> PyAnswer {
    let read = match parse_exchange_answer(answer) {
        Ok(a) => AnswerRead::read(&a.reply, a.response_type, n_items),
        Err(e) => AnswerRead::failed(&format!("unreadable answer: {e}"), n_items, None),
    };
    PyAnswer::new(id, read)
}

/// The kind (`ErrorKind` value) of an exchange error message.
#[pyfunction]
fn classify_error(message: &str) -> &'static str {
    classify(message).as_str()
}

/// `"... $10. asset=4"` -> `("... $10.", 4)`; `(message, None)` without the suffix.
#[pyfunction(name = "split_asset")]
fn py_split_asset(message: &str) -> (String, Option<u64>) {
    let (m, a) = split_asset(message);
    (m.to_string(), a)
}

/// Every error kind's value, in the core's order.
#[pyfunction]
fn error_kinds() -> Vec<&'static str> {
    ErrorKind::ALL.map(ErrorKind::as_str).to_vec()
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyAnswer>()?;
    m.add_function(wrap_pyfunction!(read_answer, m)?)?;
    m.add_function(wrap_pyfunction!(classify_error, m)?)?;
    m.add_function(wrap_pyfunction!(py_split_asset, m)?)?;
    m.add_function(wrap_pyfunction!(error_kinds, m)?)?;
    Ok(())
}
