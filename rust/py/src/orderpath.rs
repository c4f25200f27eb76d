//! The order path of one asset (SPEC 8 step 7, 9; issue 10 item 3): one call takes a cycle's
//! actions through the pre-send guard and the signer and returns, per exchange action, the
//! signed body as bytes and what the gateway needs to track it. The guard's ledger is fed the
//! same events as the engine (our sends, the exchange's answers, order updates, fills), as bytes,
//! so it stays an independent check of the engine. Python writes bytes and reads bytes.

use std::collections::{HashMap, HashSet};

use mmfast_core::book::parse_hl::{parse_hl_frame, HlMessage};
use mmfast_core::engine::frames::{
    parse_exchange_answer, parse_user_frame, post_answer_id, ExchangeAnswer, ExchangeReply,
};
use mmfast_core::engine::EngineError;
use mmfast_core::engine::{cloid_hex, parse_cloid, BatchWire, UserFrame};
use mmfast_core::risk::{
    read_action, AnswerRead, Guard, GuardLimits, GuardOrder, LedgerState, OpenOrder, SentItem,
    Target,
};
use mmfast_core::signing::{Action, Envelope};
use mmfast_core::types::Side;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList};

use crate::answer::PyAnswer;
use crate::decision::ResolvedLimits;
use crate::engine::{PyCycleOutput, PyQuoteEngine};
use crate::errors::IntoPyResult;
use crate::signing::PySigner;

/// One exchange action leaving (or refused before leaving).
#[pyclass(module = "mmfast._core", name = "Outgoing", frozen, get_all)]
pub struct Outgoing {
    /// The gateway's id for it (the websocket post id); answers are matched by it.
    id: u64,
    /// The engine's batch id (its answer goes back to the engine under it); 0 for the node's own.
    batch: u64,
    /// `order`, `cancel`, `cancelByCloid` or `batchModify`.
    kind: &'static str,
    n_items: usize,
    nonce: u64,
    expires_after: Option<u64>,
    /// The signed request body; None when refused.
    body: Option<Py<PyBytes>>,
    /// Why the guard refused it; None when it may go out.
    refused: Option<String>,
    /// Per item, what to look it up by when unanswered: the new order's cloid (place, modify)
    /// or the cancelled order's oid / cloid.
    refs: Vec<Py<PyAny>>,
}

#[pymethods]
impl Outgoing {
    fn __repr__(&self) -> String {
        format!(
            "Outgoing(id={}, batch={}, kind={}, n_items={}, refused={:?})",
            self.id, self.batch, self.kind, self.n_items, self.refused
        )
    }
}

fn side_buy(s: Side) -> bool {
    s == Side::Bid
}

/// The guard with the reusable lists one action is read into.
struct PathState {
    guard: Guard,
    asset: u32,
    orders: Vec<GuardOrder>,
    items: Vec<SentItem>,
    /// The engine's batch id of each of its actions in flight, by gateway id: an answer read
    /// from the socket goes back to the engine under it.
    batches: HashMap<u64, u64>,
}

/// What to look an unanswered item up by: the new order's cloid (place, modify), else the
/// cancelled order's oid or cloid.
fn item_refs(py: Python<'_>, items: &[SentItem]) -> PyResult<Vec<Py<PyAny>>> {
    items
        .iter()
        .map(|it| {
            Ok(match (it.new, it.old) {
                (Some(n), _) => match n.cloid {
                    Some(c) => cloid_hex(c).into_pyobject(py)?.into_any().unbind(),
                    None => py.None(),
                },
                (None, Some(Target::Oid(o))) => o.into_pyobject(py)?.into_any().unbind(),
                (None, Some(Target::Cloid(c))) => {
                    cloid_hex(c).into_pyobject(py)?.into_any().unbind()
                }
                (None, None) => py.None(),
            })
        })
        .collect()
}

/// How one action leaves: signed here, or already signed elsewhere (its body and nonce).
enum Body<'py> {
    Sign {
        expires_after: Option<u64>,
    },
    Signed {
        body: Bound<'py, PyBytes>,
        nonce: u64,
        expires_after: Option<u64>,
    },
}

/// One exchange action through the guard, the ledger and the signer: read from the action
/// itself (what is signed is what is checked), refused whole when any order breaks a rule.
#[allow(clippy::too_many_arguments)]
fn admit(
    py: Python<'_>,
    st: &mut PathState,
    signer: &Py<PySigner>,
    id: u64,
    batch: u64,
    action: &Action<'_>,
    body: Body<'_>,
) -> PyResult<Outgoing> {
    let mut refused = read_action(action, st.asset, &mut st.orders, &mut st.items).err();
    if refused.is_none() && !st.orders.is_empty() {
        refused = st.guard.check(&st.orders).err();
    }
    let refs = item_refs(py, &st.items)?;
    let n_items = st.items.len();
    let kind = action.kind();
    let expires_after = match &body {
        Body::Sign { expires_after } | Body::Signed { expires_after, .. } => *expires_after,
    };
    if refused.is_some() {
        st.guard.refusals += 1;
        return Ok(Outgoing {
            id,
            batch,
            kind,
            n_items,
            nonce: 0,
            expires_after,
            body: None,
            refused,
            refs,
        });
    }
    let (body, nonce) = match body {
        Body::Signed { body, nonce, .. } => (body.unbind(), nonce),
        Body::Sign { expires_after } => {
            let s = signer.get();
            let env = Envelope {
                nonce: s.inner.next_nonce(crate::signing::now_ms()),
                vault: s.inner.vault(),
                expires_after,
            };
            let mut out = Vec::with_capacity(512);
            py.detach(|| s.inner.write_body(&mut out, action, &env));
            (PyBytes::new(py, &out).unbind(), env.nonce)
        }
    };
    st.guard.ledger.on_send(id, &st.items);
    if batch != 0 {
        if st.batches.len() >= 4096 {
            // Answers normally remove their entry; never let forgotten ones pile up.
            let lg = &st.guard.ledger;
            st.batches.retain(|i, _| lg.in_flight_items(*i).is_some());
        }
        st.batches.insert(id, batch);
    }
    Ok(Outgoing {
        id,
        batch,
        kind,
        n_items,
        nonce,
        expires_after,
        body: Some(body),
        refused: None,
        refs,
    })
}

/// The guard and its ledger for one asset, with the account's signer.
#[pyclass(module = "mmfast._core", name = "OrderPath")]
pub struct PyOrderPath {
    st: PathState,
    signer: Py<PySigner>,
    coin: String,
    next_id: u64,
    /// Reused lists for building each engine batch's exchange action.
    wire: BatchWire,
}

impl PyOrderPath {
    /// The guard's mid from a `bbo` frame of our coin (None for any other frame).
    fn guard_mid(&mut self, frame: &[u8]) -> Option<f64> {
        if !frame.starts_with(b"{\"channel\":\"bbo\"") {
            return None;
        }
        if let Ok(HlMessage::Bbo(b)) = parse_hl_frame(frame) {
            if b.coin != self.coin {
                return None;
            }
            if let (Some(bid), Some(ask)) = (b.bid, b.ask) {
                if let (Ok(bp), Ok(ap)) = (bid.px.parse::<f64>(), ask.px.parse::<f64>()) {
                    let mid = (bp + ap) / 2.0;
                    if mid.is_finite() && mid > 0.0 {
                        self.st.guard.mid = Some(mid);
                        return Some(mid);
                    }
                }
            }
        }
        None
    }

    /// One answer, parsed once: to the ledger, to the engine (a batch of its own), and read for
    /// the gateway.
    fn apply_answer(
        &mut self,
        id: u64,
        parsed: Result<ExchangeAnswer, EngineError>,
        now_ms: u64,
        engine: Option<PyRefMut<'_, PyQuoteEngine>>,
        batch: u64,
    ) -> PyAnswer {
        let (reply, rtype) = match parsed {
            Ok(a) => (a.reply, a.response_type),
            Err(e) => (ExchangeReply::Err(format!("unreadable answer: {e}")), None),
        };
        let n_items = self
            .st
            .guard
            .ledger
            .in_flight_items(id)
            .unwrap_or(match &reply {
                ExchangeReply::Statuses(s) => s.len(),
                _ => 0,
            });
        self.st.guard.ledger.on_reply(id, &reply, now_ms);
        let read = PyAnswer::new(id, AnswerRead::read(&reply, rtype, n_items));
        match engine {
            Some(mut e) if batch != 0 => read.with_engine(
                e.inner
                    .on_exchange_reply(&reply, batch)
                    .err()
                    .map(|e| e.to_string()),
            ),
            _ => read,
        }
    }

    fn take_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// The engine's last cycle's actions through the guard and the signer (`send_cycle`).
    fn send_engine(
        &mut self,
        py: Python<'_>,
        engine: &PyQuoteEngine,
        expires_after: Option<u64>,
    ) -> PyResult<Vec<Outgoing>> {
        if let Some(l) = engine.inner.limits() {
            self.st.guard.limits.max_position = l.max_position;
            self.st.guard.limits.single_order_cap = l.single_order_cap;
        }
        let actions = &engine.inner.last_output().actions;
        let mut out = Vec::new();
        for (batch, _) in actions.batches() {
            self.next_id += 1;
            let id = self.next_id;
            let Some(action) = self.wire.build(actions, batch, self.st.asset).py()? else {
                continue;
            };
            out.push(admit(
                py,
                &mut self.st,
                &self.signer,
                id,
                batch,
                &action,
                Body::Sign { expires_after },
            )?);
        }
        Ok(out)
    }
}

#[pymethods]
impl PyOrderPath {
    #[new]
    #[pyo3(signature = (signer, asset, coin, *, max_position, single_order_cap, price_band_bps))]
    fn new(
        signer: Py<PySigner>,
        asset: u32,
        coin: String,
        max_position: f64,
        single_order_cap: f64,
        price_band_bps: f64,
    ) -> Self {
        Self {
            st: PathState {
                guard: Guard::new(GuardLimits {
                    max_position,
                    single_order_cap,
                    price_band_bps,
                }),
                asset,
                orders: Vec::new(),
                items: Vec::new(),
                batches: HashMap::new(),
            },
            signer,
            coin,
            next_id: 0,
            wire: BatchWire::default(),
        }
    }

    /// Takes the engine's last cycle's actions through the guard and the signer: one
    /// `Outgoing` per exchange action (engine batch), cancels first, in the engine's order. The
    /// engine's current limits (`resolve_limits`) are handed to the guard first.
    #[pyo3(signature = (engine, expires_after = None))]
    fn send_cycle(
        &mut self,
        py: Python<'_>,
        engine: PyRef<'_, PyQuoteEngine>,
        expires_after: Option<u64>,
    ) -> PyResult<Vec<Outgoing>> {
        self.send_engine(py, &engine, expires_after)
    }

    /// One decision in one crossing: the engine's cycle at `now_ms`, then its actions through
    /// the guard and the signer as in `send_cycle`. Returns the cycle's output, what to send,
    /// and the cycle's own duration in ns (the engine's part, for the cycle statistics).
    #[pyo3(signature = (engine, now_ms, expires_after = None))]
    fn decide(
        &mut self,
        py: Python<'_>,
        mut engine: PyRefMut<'_, PyQuoteEngine>,
        now_ms: u64,
        expires_after: Option<u64>,
    ) -> PyResult<(PyCycleOutput, Vec<Outgoing>, u64)> {
        let t0 = std::time::Instant::now();
        let out = engine.run_cycle(now_ms);
        let cycle_ns = u64::try_from(t0.elapsed().as_nanos()).unwrap_or(u64::MAX);
        let sent = if engine.inner.last_output().actions.is_empty() {
            Vec::new()
        } else {
            self.send_engine(py, &engine, expires_after)?
        };
        Ok((out, sent, cycle_ns))
    }

    /// An action signed elsewhere (the node's own cancels and housekeeping, a test's): read as
    /// an [`Action`], its orders are checked by the guard and recorded in the ledger like the
    /// engine's. These are rare, unlike the cycle's actions.
    fn accept_body(&mut self, py: Python<'_>, body: Bound<'_, PyBytes>) -> PyResult<Outgoing> {
        let doc: serde_json::Value = serde_json::from_slice(body.as_bytes())
            .map_err(|e| pyo3::exceptions::PyValueError::new_err(format!("body: {e}")))?;
        let id = self.take_id();
        let nonce = doc["nonce"].as_u64().unwrap_or_default();
        let expires_after = doc["expiresAfter"].as_u64();
        let kind = doc["action"]["type"].as_str().unwrap_or_default();
        // Margin moves carry no order: nothing to check or record.
        let action = match (kind, Action::from_json_value(&doc["action"])) {
            ("updateIsolatedMargin", _) => Action::Noop,
            (_, Ok(a)) => a,
            (_, Err(e)) => {
                self.st.guard.refusals += 1;
                return Ok(Outgoing {
                    id,
                    batch: 0,
                    kind: "other",
                    n_items: 0,
                    nonce,
                    expires_after,
                    body: None,
                    refused: Some(format!("action is not one the bot sends: {e}")),
                    refs: Vec::new(),
                });
            }
        };
        let mut out = admit(
            py,
            &mut self.st,
            &self.signer,
            id,
            0,
            &action,
            Body::Signed {
                body,
                nonce,
                expires_after,
            },
        )?;
        if kind == "updateIsolatedMargin" {
            out.kind = "updateIsolatedMargin";
        }
        Ok(out)
    }

    /// The answer to the action sent as `id` (the `/exchange` body or the websocket `post`
    /// answer), read once and applied to the ledger and, when given, to the engine under its
    /// batch id (by default the one it was sent under; 0: not the engine's): one crossing per
    /// answer. An unreadable answer fails the action as a whole. Returns the answer as read
    /// (what the gateway counts and reacts to) with the engine's refusal, if any.
    #[pyo3(signature = (id, answer, now_ms, engine = None, batch = None))]
    fn on_answer(
        &mut self,
        id: u64,
        answer: &[u8],
        now_ms: u64,
        engine: Option<PyRefMut<'_, PyQuoteEngine>>,
        batch: Option<u64>,
    ) -> PyAnswer {
        let recorded = self.st.batches.remove(&id);
        let batch = batch.or(recorded).unwrap_or(0);
        self.apply_answer(id, parse_exchange_answer(answer), now_ms, engine, batch)
    }

    /// A frame of the order socket: when it is the answer to an action in flight (a `post`
    /// answer with its id), applied as `on_answer` does, under the batch it was sent with, and
    /// returned as read; None for anything else (pong, error frames, unknown or settled ids).
    #[pyo3(signature = (frame, now_ms, engine = None))]
    fn on_post(
        &mut self,
        frame: &[u8],
        now_ms: u64,
        engine: Option<PyRefMut<'_, PyQuoteEngine>>,
    ) -> Option<PyAnswer> {
        let parsed = parse_exchange_answer(frame);
        let id = match &parsed {
            Ok(a) => a.post_id,
            Err(_) => post_answer_id(frame), // ours, but unreadable: fails as a whole
        }?;
        self.st.guard.ledger.in_flight_items(id)?;
        let batch = self.st.batches.remove(&id).unwrap_or(0);
        Some(self.apply_answer(id, parsed, now_ms, engine, batch))
    }

    /// Drops an action that never left (refused after `send_cycle`, e.g. by the address budget).
    fn forget(&mut self, id: u64) {
        self.st.batches.remove(&id);
        self.st.guard.ledger.forget(id);
    }

    /// A user frame (orderUpdates, userFills, userEvents), read once: applied to the ledger
    /// (fills de-duplicated by tid) and, when given, to the engine (its own account of our
    /// orders). A malformed frame raises before either sees it. Returns the fresh fills as
    /// `(tid, oid, is_buy, px, sz, fee, time)`.
    #[allow(clippy::type_complexity)]
    #[pyo3(signature = (frame, now_ms, engine = None))]
    fn on_user_frame(
        &mut self,
        frame: &[u8],
        now_ms: u64,
        engine: Option<PyRefMut<'_, PyQuoteEngine>>,
    ) -> PyResult<Vec<(u64, u64, bool, f64, f64, f64, u64)>> {
        let mut fresh = Vec::new();
        let parsed = parse_user_frame(frame, &self.coin).py()?;
        let lg = &mut self.st.guard.ledger;
        match &parsed {
            UserFrame::Orders(ups) => {
                for u in ups {
                    lg.on_order_update(u, now_ms);
                }
            }
            UserFrame::Fills {
                snapshot: true,
                fills,
            } => {
                for f in fills {
                    lg.mark_seen(f.tid);
                }
            }
            UserFrame::Fills { fills, .. } => {
                for f in fills {
                    if lg.on_fill(f) {
                        fresh.push((f.tid, f.oid, side_buy(f.side), f.px, f.sz, f.fee, f.time));
                    }
                }
            }
            UserFrame::NonUserCancel(oids) => {
                for &oid in oids {
                    lg.on_gone(oid);
                }
            }
            UserFrame::Ignored => {}
        }
        if let Some(mut e) = engine {
            e.inner.apply_user_frame(&parsed, now_ms);
        }
        Ok(fresh)
    }

    /// A market frame: when it is a `bbo` of our coin, its mid becomes the guard's reference for
    /// the price band (read from the feed, not from the engine). With `engine` (and `recv_ms`),
    /// the engine reads the same frame in the same call (one crossing per frame); its error,
    /// if any, is raised after the guard has taken the mid. Returns the mid, if any.
    #[pyo3(signature = (frame, recv_ms = None, engine = None))]
    fn on_hl_frame(
        &mut self,
        frame: &[u8],
        recv_ms: Option<u64>,
        engine: Option<PyRefMut<'_, PyQuoteEngine>>,
    ) -> PyResult<Option<f64>> {
        let mid = self.guard_mid(frame);
        if let Some(mut engine) = engine {
            let recv_ms = recv_ms.ok_or_else(|| {
                pyo3::exceptions::PyValueError::new_err("recv_ms: required with an engine")
            })?;
            engine.inner.on_hl_frame(frame, recv_ms).py()?;
        }
        Ok(mid)
    }

    /// Marks a fill id as counted (a previous run's, from the checkpoint).
    fn mark_seen(&mut self, tid: u64) {
        self.st.guard.ledger.mark_seen(tid);
    }

    /// Replaces resting orders and position with the exchange's snapshot (`openOrders` entries:
    /// `coin`, `oid`, `side`, `limitPx`, `sz`, `cloid?`, `reduceOnly?`).
    fn reset_from_exchange(
        &mut self,
        position: f64,
        open_orders: &Bound<'_, PyList>,
        now_ms: u64,
    ) -> PyResult<()> {
        let mut open = Vec::with_capacity(open_orders.len());
        for o in open_orders.iter() {
            let d = o.cast::<PyDict>()?;
            let get = |k: &str| d.get_item(k);
            if get("coin")?
                .map(|c| c.extract::<String>())
                .transpose()?
                .as_deref()
                != Some(self.coin.as_str())
            {
                continue;
            }
            let num = |k: &str| -> PyResult<f64> {
                let v = get(k)?.ok_or_else(|| {
                    pyo3::exceptions::PyKeyError::new_err(format!("open order without {k}"))
                })?;
                match v.extract::<f64>() {
                    Ok(x) => Ok(x),
                    Err(_) => v
                        .extract::<String>()?
                        .parse::<f64>()
                        .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string())),
                }
            };
            open.push(OpenOrder {
                oid: get("oid")?
                    .ok_or_else(|| pyo3::exceptions::PyKeyError::new_err("oid"))?
                    .extract()?,
                cloid: get("cloid")?
                    .and_then(|c| c.extract::<String>().ok())
                    .and_then(|c| parse_cloid(&c)),
                is_buy: get("side")?
                    .map(|s| s.extract::<String>())
                    .transpose()?
                    .as_deref()
                    == Some("B"),
                px: num("limitPx")?,
                sz: num("sz")?,
                reduce_only: get("reduceOnly")?
                    .map(|r| r.extract::<bool>())
                    .transpose()?
                    .unwrap_or(false),
            });
        }
        self.st
            .guard
            .ledger
            .reset_from_exchange(position, &open, now_ms);
        Ok(())
    }

    /// Drops the orders the exchange no longer holds (not in `open_oids`, not in flight,
    /// acknowledged before `asked_ms`); returns them as `(oid, cloid, is_buy, px, sz)`.
    #[allow(clippy::type_complexity)]
    fn drop_gone(
        &mut self,
        open_oids: HashSet<u64>,
        asked_ms: u64,
    ) -> Vec<(u64, Option<String>, bool, f64, f64)> {
        self.st
            .guard
            .ledger
            .drop_gone(&open_oids, asked_ms)
            .into_iter()
            .map(|o| {
                (
                    o.oid.unwrap_or_default(),
                    o.cloid.map(cloid_hex),
                    o.is_buy,
                    o.px,
                    o.sz,
                )
            })
            .collect()
    }

    /// Sets the ceiling and cap (a `ResolvedLimits`); `send_cycle` does it from the engine.
    fn set_limits(&mut self, limits: PyRef<'_, ResolvedLimits>) {
        self.st.guard.limits.max_position = limits.max_position;
        self.st.guard.limits.single_order_cap = limits.single_order_cap;
    }

    #[getter]
    fn max_position(&self) -> f64 {
        self.st.guard.limits.max_position
    }

    #[getter]
    fn single_order_cap(&self) -> f64 {
        self.st.guard.limits.single_order_cap
    }

    #[getter]
    fn mid(&self) -> Option<f64> {
        self.st.guard.mid
    }

    #[setter]
    fn set_mid(&mut self, mid: Option<f64>) {
        self.st.guard.mid = mid;
    }

    #[getter]
    fn position(&self) -> f64 {
        self.st.guard.ledger.position
    }

    #[setter]
    fn set_position(&mut self, position: f64) {
        self.st.guard.ledger.position = position;
    }

    #[getter]
    fn refusals(&self) -> u64 {
        self.st.guard.refusals
    }

    /// `(position + live buys, -position + live sells)`: the safety invariant's two sides.
    fn exposure(&self) -> (f64, f64) {
        self.st.guard.ledger.exposure()
    }

    /// The ledger's orders as `(oid, cloid, is_buy, px, sz, state)`; state is `inflight`,
    /// `resting`, `canceling` or `modifying`.
    #[allow(clippy::type_complexity)]
    #[getter]
    fn orders(&self) -> Vec<(Option<u64>, Option<String>, bool, f64, f64, &'static str)> {
        self.st
            .guard
            .ledger
            .orders()
            .iter()
            .map(|o| {
                (
                    o.oid,
                    o.cloid.map(cloid_hex),
                    o.is_buy,
                    o.px,
                    o.sz,
                    match o.state {
                        LedgerState::InFlight => "inflight",
                        LedgerState::Resting => "resting",
                        LedgerState::Canceling => "canceling",
                        LedgerState::Modifying => "modifying",
                    },
                )
            })
            .collect()
    }

    /// oids of every order the ledger holds with one (what a cancel-all cancels).
    fn resting_oids(&self) -> Vec<u64> {
        self.st
            .guard
            .ledger
            .orders()
            .iter()
            .filter_map(|o| o.oid)
            .collect()
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyOrderPath>()?;
    m.add_class::<Outgoing>()?;
    Ok(())
}
