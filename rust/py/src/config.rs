//! `MarketMakerConfig` for Python: a frozen view over the validated core config. Fields are read
//! by attribute (`cfg.reconcile.max_bps_diff`) through the config's serde form, so the field list
//! is written once, in the core.

use mmfast_core::config::MarketMakerConfig;
use pyo3::exceptions::PyAttributeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::errors::IntoPyResult;

/// Converts a JSON value into the equivalent Python object.
pub fn json_to_py(py: Python<'_>, v: &serde_json::Value) -> PyResult<Py<PyAny>> {
    use serde_json::Value;
    Ok(match v {
        Value::Null => py.None(),
        Value::Bool(b) => b.into_pyobject(py)?.to_owned().into_any().unbind(),
        Value::Number(n) => match n.as_i64() {
            Some(i) => i.into_pyobject(py)?.into_any().unbind(),
            None => n
                .as_f64()
                .unwrap_or(f64::NAN)
                .into_pyobject(py)?
                .into_any()
                .unbind(),
        },
        Value::String(s) => s.into_pyobject(py)?.into_any().unbind(),
        Value::Array(a) => {
            let items: PyResult<Vec<Py<PyAny>>> = a.iter().map(|x| json_to_py(py, x)).collect();
            PyList::new(py, items?)?.into_any().unbind()
        }
        Value::Object(m) => {
            let d = PyDict::new(py);
            for (k, x) in m {
                d.set_item(k, json_to_py(py, x)?)?;
            }
            d.into_any().unbind()
        }
    })
}

fn lookup(py: Python<'_>, v: &serde_json::Value, path: &str, name: &str) -> PyResult<Py<PyAny>> {
    match v.get(name) {
        Some(child @ serde_json::Value::Object(_)) => Ok(Py::new(
            py,
            ConfigSection {
                path: format!("{path}{name}."),
                value: child.clone(),
            },
        )?
        .into_any()),
        Some(child) => json_to_py(py, child),
        None => Err(PyAttributeError::new_err(format!(
            "MarketMakerConfig has no field '{path}{name}'"
        ))),
    }
}

/// The validated configuration (SPEC 2). `MarketMakerConfig(**fields)` builds one from keyword
/// arguments (nested sections as dicts); `mmfast.load_config(path)` reads a TOML file.
#[pyclass(module = "mmfast._core", name = "MarketMakerConfig", frozen)]
pub struct PyMarketMakerConfig {
    pub inner: MarketMakerConfig,
    json: serde_json::Value,
}

impl PyMarketMakerConfig {
    pub fn wrap(inner: MarketMakerConfig) -> Self {
        let json = serde_json::to_value(&inner).expect("config serializes");
        Self { inner, json }
    }
}

#[pymethods]
impl PyMarketMakerConfig {
    #[new]
    #[pyo3(signature = (**fields))]
    fn new(py: Python<'_>, fields: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let text: String = match fields {
            Some(d) => py.import("json")?.call_method1("dumps", (d,))?.extract()?,
            None => "{}".to_string(),
        };
        let (cfg, notices) =
            MarketMakerConfig::from_json_str_noted(&text, "MarketMakerConfig(...)").py()?;
        warn_deprecated(py, &notices)?;
        Ok(Self::wrap(cfg))
    }

    /// Parses TOML text; `overrides` maps dotted field paths to raw values.
    #[staticmethod]
    #[pyo3(signature = (text, source = "<string>", overrides = None))]
    fn from_toml(
        py: Python<'_>,
        text: &str,
        source: &str,
        overrides: Option<Vec<(String, String)>>,
    ) -> PyResult<Self> {
        let (cfg, notices) =
            MarketMakerConfig::from_toml_str_noted(text, source, &overrides.unwrap_or_default())
                .py()?;
        warn_deprecated(py, &notices)?;
        Ok(Self::wrap(cfg))
    }

    /// Every dotted field path the config accepts.
    #[staticmethod]
    fn known_paths() -> Vec<String> {
        MarketMakerConfig::known_paths().into_iter().collect()
    }

    fn to_dict(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        json_to_py(py, &self.json)
    }

    fn to_toml(&self) -> String {
        self.inner.to_toml_string()
    }

    fn __getattr__(&self, py: Python<'_>, name: &str) -> PyResult<Py<PyAny>> {
        lookup(py, &self.json, "", name)
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<PyMarketMakerConfig>()
            .is_ok_and(|o| o.get().inner == self.inner)
    }

    fn __repr__(&self) -> String {
        format!(
            "MarketMakerConfig(asset={:?}, network={:?}, spread_profile={:?})",
            self.inner.asset, self.inner.network, self.inner.spread_profile
        )
    }
}

/// One `FutureWarning` per deprecated field name read (shown by default, unlike
/// `DeprecationWarning`, since config files are written by users, not by code).
fn warn_deprecated(py: Python<'_>, notices: &[String]) -> PyResult<()> {
    let category = py.get_type::<pyo3::exceptions::PyFutureWarning>();
    for n in notices {
        PyErr::warn(py, &category, &std::ffi::CString::new(n.as_str())?, 1)?;
    }
    Ok(())
}

/// A nested section of the config, read by attribute.
#[pyclass(module = "mmfast._core", frozen)]
pub struct ConfigSection {
    path: String,
    value: serde_json::Value,
}

#[pymethods]
impl ConfigSection {
    fn __getattr__(&self, py: Python<'_>, name: &str) -> PyResult<Py<PyAny>> {
        lookup(py, &self.value, &self.path, name)
    }

    fn to_dict(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        json_to_py(py, &self.value)
    }

    fn __repr__(&self) -> String {
        format!(
            "ConfigSection({}: {})",
            self.path.trim_end_matches('.'),
            self.value
        )
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyMarketMakerConfig>()?;
    m.add_class::<ConfigSection>()?;
    Ok(())
}
