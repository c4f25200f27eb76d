//! Python classes of `mmfast_core::book` and `mmfast_core::replay` (SPEC 9): books fed one raw
//! frame per call, and the recording reader. Prices and sizes cross as f64 (SPEC 0).

use mmfast_core::book::{BinanceBook as CoreBinance, HlBook as CoreHl, Level};
use mmfast_core::replay::ReplayReader as CoreReplay;
use mmfast_core::Error;
use numpy::ndarray::Array2;
use numpy::{IntoPyArray, PyArray2};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyTuple};

use crate::errors::{side_arg, IntoPyResult};

fn decimals_arg(field: &'static str, v: i64, max: i64) -> PyResult<u32> {
    if (0..=max).contains(&v) {
        Ok(v as u32)
    } else {
        Err::<_, Error>(Error::invalid(field, v, "out of range")).py()
    }
}

fn py_level(l: Option<(f64, f64)>) -> String {
    l.map_or_else(|| "None".to_owned(), |(p, s)| format!("({p}, {s})"))
}

/// The best `n` levels of one side as an `(k, 2)` array of (price, size), k = min(n, held).
fn levels_array<'py>(
    py: Python<'py>,
    levels: impl Iterator<Item = Level>,
    n: usize,
    to_f64: impl Fn(Level) -> (f64, f64),
) -> Bound<'py, PyArray2<f64>> {
    let mut v = Vec::with_capacity(2 * n.min(1024));
    for l in levels.take(n) {
        let (p, s) = to_f64(l);
        v.push(p);
        v.push(s);
    }
    Array2::from_shape_vec((v.len() / 2, 2), v)
        .expect("k x 2")
        .into_pyarray(py)
}

/// The Hyperliquid book of one coin, fed raw websocket frames.
#[pyclass(module = "mmfast._core", name = "HlBook")]
pub struct PyHlBook {
    inner: CoreHl,
}

#[pymethods]
impl PyHlBook {
    #[new]
    #[pyo3(signature = (sz_decimals, *, coin = None, px_decimals = None))]
    fn new(sz_decimals: i64, coin: Option<&str>, px_decimals: Option<i64>) -> PyResult<Self> {
        let szd = decimals_arg("sz_decimals", sz_decimals, 6)?;
        let mut inner = match px_decimals {
            Some(p) => CoreHl::with_decimals(decimals_arg("px_decimals", p, 18)?, szd).py()?,
            None => CoreHl::new(szd).py()?,
        };
        if let Some(c) = coin {
            inner = inner.for_coin(c);
        }
        Ok(Self { inner })
    }

    /// Applies one frame; True when the book's state came from it.
    fn apply(&mut self, frame: &[u8]) -> PyResult<bool> {
        Ok(self.inner.apply(frame).py()?.applied())
    }

    fn best_bid(&self) -> Option<(f64, f64)> {
        self.inner.best_bid_f64()
    }

    fn best_ask(&self) -> Option<(f64, f64)> {
        self.inner.best_ask_f64()
    }

    fn mid(&self) -> Option<f64> {
        self.inner.mid()
    }

    fn levels<'py>(
        &self,
        py: Python<'py>,
        side: &str,
        n: usize,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let s = side_arg("side", side)?;
        let book = &self.inner;
        Ok(levels_array(py, book.book().side(s).iter(), n, |l| {
            book.level_f64(l)
        }))
    }

    #[getter]
    fn time_ms(&self) -> Option<u64> {
        self.inner.time_ms()
    }

    fn __repr__(&self) -> String {
        let b = &self.inner;
        format!(
            "HlBook(bid={}, ask={}, time_ms={})",
            py_level(b.best_bid_f64()),
            py_level(b.best_ask_f64()),
            b.time_ms()
                .map_or_else(|| "None".to_owned(), |t| t.to_string())
        )
    }
}

/// The Binance USD-M diff-depth book, synchronised from a REST snapshot.
#[pyclass(module = "mmfast._core", name = "BinanceBook")]
pub struct PyBinanceBook {
    inner: CoreBinance,
}

#[pymethods]
impl PyBinanceBook {
    #[new]
    #[pyo3(signature = (*, px_decimals = 8, qty_decimals = 8, depth = 1000))]
    fn new(px_decimals: i64, qty_decimals: i64, depth: i64) -> PyResult<Self> {
        let px = decimals_arg("px_decimals", px_decimals, 18)?;
        let qty = decimals_arg("qty_decimals", qty_decimals, 18)?;
        if !(1..=1_000_000).contains(&depth) {
            return Err::<_, Error>(Error::invalid("depth", depth, "must be in 1..=1000000")).py();
        }
        Ok(Self {
            inner: CoreBinance::with_scales(px, qty, depth as usize).py()?,
        })
    }

    /// Applies one websocket frame; True when the book changed.
    fn apply(&mut self, frame: &[u8]) -> PyResult<bool> {
        Ok(self.inner.apply(frame).py()?.applied())
    }

    /// Applies the REST depth snapshot; True when synced afterwards.
    fn apply_snapshot(&mut self, body: &[u8]) -> PyResult<bool> {
        self.inner.apply_snapshot(body).py()
    }

    #[getter]
    fn synced(&self) -> bool {
        self.inner.synced()
    }

    #[getter]
    fn needs_resync(&self) -> bool {
        self.inner.needs_resync()
    }

    #[getter]
    fn last_update_id(&self) -> Option<u64> {
        self.inner.last_update_id()
    }

    fn best_bid(&self) -> PyResult<Option<(f64, f64)>> {
        let b = &self.inner;
        Ok(b.best_bid().py()?.map(|l| b.level_f64(l)))
    }

    fn best_ask(&self) -> PyResult<Option<(f64, f64)>> {
        let b = &self.inner;
        Ok(b.best_ask().py()?.map(|l| b.level_f64(l)))
    }

    fn mid(&self) -> PyResult<Option<f64>> {
        self.inner.mid().py()
    }

    fn levels<'py>(
        &self,
        py: Python<'py>,
        side: &str,
        n: usize,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let s = side_arg("side", side)?;
        let b = &self.inner;
        let book = b.synced_book().py()?;
        Ok(levels_array(py, book.side(s).iter(), n, |l| b.level_f64(l)))
    }

    fn __repr__(&self) -> String {
        let b = &self.inner;
        format!(
            "BinanceBook(synced={}, needs_resync={}, last_update_id={})",
            if b.synced() { "True" } else { "False" },
            if b.needs_resync() { "True" } else { "False" },
            b.last_update_id()
                .map_or_else(|| "None".to_owned(), |t| t.to_string())
        )
    }
}

/// Reads a recording (`<ns> <frame>` lines, gzip or plain): iterating yields
/// `(receive_ns, frame_bytes)`; `read_batch(n)` returns up to n of them in one call.
#[pyclass(module = "mmfast._core", name = "ReplayReader")]
pub struct PyReplayReader {
    inner: CoreReplay,
}

#[pymethods]
impl PyReplayReader {
    #[new]
    fn new(path: std::path::PathBuf) -> PyResult<Self> {
        Ok(Self {
            inner: CoreReplay::open(path).py()?,
        })
    }

    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__<'py>(&mut self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyTuple>>> {
        match self.inner.next_frame().py()? {
            Some((ns, f)) => Ok(Some((ns, PyBytes::new(py, f)).into_pyobject(py)?)),
            None => Ok(None),
        }
    }

    fn read_batch<'py>(&mut self, py: Python<'py>, n: usize) -> PyResult<Bound<'py, PyList>> {
        let out = PyList::empty(py);
        for _ in 0..n {
            match self.inner.next_frame().py()? {
                Some((ns, f)) => out.append((ns, PyBytes::new(py, f)))?,
                None => break,
            }
        }
        Ok(out)
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyHlBook>()?;
    m.add_class::<PyBinanceBook>()?;
    m.add_class::<PyReplayReader>()?;
    Ok(())
}
