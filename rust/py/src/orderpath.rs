//! The order path of one asset (SPEC 8 step 7, 9; issue 10 item 3): one call takes a cycle's
//! actions through the pre-send guard and the signer and returns, per exchange action, the
//! signed body as bytes and what the gateway needs to track it. The guard's ledger is fed the
//! same events as the engine (our sends, the exchange's answers, order updates, fills), as bytes,
//! so it stays an independent check of the engine. Python writes bytes and reads bytes.

use std::collections::HashSet;

use mmfast_core::book::parse_hl::{parse_hl_frame, HlMessage};
use mmfast_core::engine::frames::{parse_exchange_response, parse_user_frame, ExchangeReply};
use mmfast_core::engine::{cloid_hex, parse_cloid, Action as EngineAction, ActionKind, UserFrame};
use mmfast_core::risk::{
    Guard, GuardLimits, GuardOrder, LedgerState, NewOrder, OpenOrder, SentItem, Target,
};
use mmfast_core::signing::{
    Action, CancelByCloidWire, CancelWire, Cloid, Decimal, Envelope, Grouping, ModifyWire, Oid,
    OrderWire,
};
use mmfast_core::types::Side;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList};

use crate::decision::ResolvedLimits;
use crate::engine::PyQuoteEngine;
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

fn decimal(field: &'static str, x: f64) -> PyResult<Decimal> {
    let _ = field;
    Decimal::from_f64(x).py()
}

/// The guard and its ledger for one asset, with the account's signer.
#[pyclass(module = "mmfast._core", name = "OrderPath")]
pub struct PyOrderPath {
    guard: Guard,
    signer: Py<PySigner>,
    asset: u32,
    coin: String,
    next_id: u64,
}

impl PyOrderPath {
    fn take_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    fn envelope(&self, py: Python<'_>, expires_after: Option<u64>) -> Envelope {
        let s = self.signer.get();
        let _ = py;
        Envelope {
            nonce: s.inner.next_nonce(crate::signing::now_ms()),
            vault: s.inner.vault(),
            expires_after,
        }
    }

    fn sign(&self, py: Python<'_>, action: &Action<'_>, env: &Envelope) -> Py<PyBytes> {
        let mut out = Vec::with_capacity(512);
        let s = self.signer.get();
        py.detach(|| s.inner.write_body(&mut out, action, env));
        PyBytes::new(py, &out).unbind()
    }

    fn cloid_ref(py: Python<'_>, c: u128) -> PyResult<Py<PyAny>> {
        Ok(cloid_hex(c).into_pyobject(py)?.into_any().unbind())
    }

    /// One engine batch: checked, recorded and signed, or refused.
    fn batch(
        &mut self,
        py: Python<'_>,
        acts: &[EngineAction],
        expires_after: Option<u64>,
    ) -> PyResult<Outgoing> {
        let kind = acts[0].kind;
        let batch = acts[0].batch;
        let n = acts.len();
        let mut refs = Vec::with_capacity(n);
        let mut items = Vec::with_capacity(n);
        let id = self.take_id();
        let mut refused = None;
        let new_of = |a: &EngineAction| NewOrder {
            is_buy: side_buy(a.side),
            px: a.px,
            sz: a.sz,
            cloid: Some(a.cloid),
            reduce_only: a.reduce_only,
        };
        if kind != ActionKind::Cancel {
            let orders: Vec<GuardOrder> = acts
                .iter()
                .map(|a| GuardOrder {
                    is_buy: side_buy(a.side),
                    px: a.px,
                    sz: a.sz,
                    reduce_only: a.reduce_only,
                    post_only: true,
                })
                .collect();
            if let Err(why) = self.guard.check(&orders) {
                self.guard.refusals += 1;
                refused = Some(why);
            }
        }
        let (wire_kind, body) = if refused.is_some() {
            (
                match kind {
                    ActionKind::Cancel => "cancel",
                    ActionKind::Modify => "batchModify",
                    ActionKind::Place => "order",
                },
                None,
            )
        } else {
            let env = self.envelope(py, expires_after);
            let asset = self.asset;
            let (k, body) = match kind {
                ActionKind::Cancel if acts.iter().all(|a| a.oid.is_some()) => {
                    let mut cancels = Vec::with_capacity(n);
                    for a in acts {
                        let oid = a.oid.unwrap_or_default();
                        cancels.push(CancelWire { asset, oid });
                        items.push(SentItem {
                            new: None,
                            old: Some(Target::Oid(oid)),
                        });
                        refs.push(oid.into_pyobject(py)?.into_any().unbind());
                    }
                    let action = Action::Cancel {
                        cancels: &cancels,
                        fast: true,
                    };
                    ("cancel", self.sign(py, &action, &env))
                }
                ActionKind::Cancel => {
                    let mut cancels = Vec::with_capacity(n);
                    for a in acts {
                        cancels.push(CancelByCloidWire {
                            asset,
                            cloid: Cloid::from_u128(a.cloid),
                        });
                        items.push(SentItem {
                            new: None,
                            old: Some(Target::Cloid(a.cloid)),
                        });
                        refs.push(Self::cloid_ref(py, a.cloid)?);
                    }
                    let action = Action::CancelByCloid {
                        cancels: &cancels,
                        fast: true,
                    };
                    ("cancelByCloid", self.sign(py, &action, &env))
                }
                ActionKind::Modify => {
                    let mut mods = Vec::with_capacity(n);
                    for a in acts {
                        let (oid, old) = match (a.oid, a.target_cloid) {
                            (Some(o), _) => (Oid::Oid(o), Target::Oid(o)),
                            (None, Some(c)) => (Oid::Cloid(Cloid::from_u128(c)), Target::Cloid(c)),
                            (None, None) => (Oid::Oid(0), Target::Oid(0)),
                        };
                        mods.push(ModifyWire {
                            oid,
                            order: self.order_wire(a)?,
                        });
                        items.push(SentItem {
                            new: Some(new_of(a)),
                            old: Some(old),
                        });
                        refs.push(Self::cloid_ref(py, a.cloid)?);
                    }
                    let action = Action::BatchModify { modifies: &mods };
                    ("batchModify", self.sign(py, &action, &env))
                }
                ActionKind::Place => {
                    let mut orders = Vec::with_capacity(n);
                    for a in acts {
                        orders.push(self.order_wire(a)?);
                        items.push(SentItem {
                            new: Some(new_of(a)),
                            old: None,
                        });
                        refs.push(Self::cloid_ref(py, a.cloid)?);
                    }
                    let action = Action::Order {
                        orders: &orders,
                        grouping: Grouping::default(),
                        builder: None,
                    };
                    ("order", self.sign(py, &action, &env))
                }
            };
            self.guard.ledger.on_send(id, &items);
            return Ok(Outgoing {
                id,
                batch,
                kind: k,
                n_items: n,
                nonce: env.nonce,
                expires_after,
                body: Some(body),
                refused: None,
                refs,
            });
        };
        Ok(Outgoing {
            id,
            batch,
            kind: wire_kind,
            n_items: n,
            nonce: 0,
            expires_after,
            body,
            refused,
            refs,
        })
    }

    fn order_wire(&self, a: &EngineAction) -> PyResult<OrderWire> {
        let mut w = OrderWire::alo(
            self.asset,
            side_buy(a.side),
            decimal("px", a.px)?,
            decimal("sz", a.sz)?,
            Some(Cloid::from_u128(a.cloid)),
        );
        w.reduce_only = a.reduce_only;
        Ok(w)
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
            guard: Guard::new(GuardLimits {
                max_position,
                single_order_cap,
                price_band_bps,
            }),
            signer,
            asset,
            coin,
            next_id: 0,
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
        if let Some(l) = engine.inner.limits() {
            self.guard.limits.max_position = l.max_position;
            self.guard.limits.single_order_cap = l.single_order_cap;
        }
        let acts = engine.inner.last_output().actions.as_slice();
        if acts.is_empty() {
            return Ok(Vec::new());
        }
        // Batches in order of first appearance, items in index order.
        let mut batches: Vec<u64> = Vec::with_capacity(4);
        for a in acts {
            if !batches.contains(&a.batch) {
                batches.push(a.batch);
            }
        }
        let mut out = Vec::with_capacity(batches.len());
        let mut group: Vec<EngineAction> = Vec::with_capacity(acts.len());
        for b in batches {
            group.clear();
            group.extend(acts.iter().filter(|a| a.batch == b).copied());
            group.sort_by_key(|a| a.index);
            out.push(self.batch(py, &group, expires_after)?);
        }
        Ok(out)
    }

    /// An action signed elsewhere (the node's own cancels and housekeeping, a test's): its
    /// orders are checked by the guard and recorded in the ledger like the engine's. Reads the
    /// body's JSON (these are rare, unlike the cycle's actions).
    fn accept_body(&mut self, py: Python<'_>, body: Bound<'_, PyBytes>) -> PyResult<Outgoing> {
        let doc: serde_json::Value = serde_json::from_slice(body.as_bytes())
            .map_err(|e| pyo3::exceptions::PyValueError::new_err(format!("body: {e}")))?;
        let action = &doc["action"];
        let kind = action["type"].as_str().unwrap_or_default().to_string();
        let id = self.take_id();
        let nonce = doc["nonce"].as_u64().unwrap_or_default();
        let expires_after = doc["expiresAfter"].as_u64();
        let mut items = Vec::new();
        let mut orders = Vec::new();
        let mut refs: Vec<Py<PyAny>> = Vec::new();
        let mut refused = None;
        let empty = Vec::new();
        let list = |k: &str| action[k].as_array().unwrap_or(&empty).clone();
        let mut wire = |w: &serde_json::Value, refs: &mut Vec<Py<PyAny>>| -> PyResult<NewOrder> {
            let f = |k: &str| {
                w[k].as_str()
                    .and_then(|x| x.parse::<f64>().ok())
                    .unwrap_or(0.0)
            };
            if w["a"].as_u64() != Some(u64::from(self.asset)) && refused.is_none() {
                refused = Some(format!(
                    "asset {} is not the traded asset {}",
                    w["a"], self.asset
                ));
            }
            let cloid = w["c"].as_str().and_then(parse_cloid);
            refs.push(match w["c"].as_str() {
                Some(c) => c.into_pyobject(py)?.into_any().unbind(),
                None => py.None(),
            });
            let n = NewOrder {
                is_buy: w["b"].as_bool().unwrap_or(false),
                px: f("p"),
                sz: f("s"),
                cloid,
                reduce_only: w["r"].as_bool().unwrap_or(false),
            };
            orders.push(GuardOrder {
                is_buy: n.is_buy,
                px: n.px,
                sz: n.sz,
                reduce_only: n.reduce_only,
                post_only: w["t"]["limit"]["tif"].as_str() == Some("Alo"),
            });
            Ok(n)
        };
        let target = |v: &serde_json::Value| match v.as_u64() {
            Some(o) => Some(Target::Oid(o)),
            None => v.as_str().and_then(parse_cloid).map(Target::Cloid),
        };
        match kind.as_str() {
            "order" => {
                for w in list("orders") {
                    let n = wire(&w, &mut refs)?;
                    items.push(SentItem {
                        new: Some(n),
                        old: None,
                    });
                }
            }
            "batchModify" => {
                for m in list("modifies") {
                    let n = wire(&m["order"], &mut refs)?;
                    items.push(SentItem {
                        new: Some(n),
                        old: target(&m["oid"]),
                    });
                }
            }
            "cancel" | "cancelByCloid" => {
                let key = if kind == "cancel" { "o" } else { "cloid" };
                for c in list("cancels") {
                    refs.push(match &c[key] {
                        serde_json::Value::Number(n) => {
                            n.as_u64().into_pyobject(py)?.into_any().unbind()
                        }
                        v => v.as_str().into_pyobject(py)?.into_any().unbind(),
                    });
                    items.push(SentItem {
                        new: None,
                        old: target(&c[key]),
                    });
                }
            }
            "scheduleCancel" | "noop" | "updateLeverage" | "updateIsolatedMargin" => {}
            other => refused = Some(format!("action type {other:?} is not one the bot sends")),
        }
        if refused.is_none() && !orders.is_empty() {
            if let Err(why) = self.guard.check(&orders) {
                refused = Some(why);
            }
        }
        if refused.is_some() {
            self.guard.refusals += 1;
        } else {
            self.guard.ledger.on_send(id, &items);
        }
        let kind: &'static str = match kind.as_str() {
            "order" => "order",
            "batchModify" => "batchModify",
            "cancel" => "cancel",
            "cancelByCloid" => "cancelByCloid",
            "scheduleCancel" => "scheduleCancel",
            "noop" => "noop",
            "updateLeverage" => "updateLeverage",
            "updateIsolatedMargin" => "updateIsolatedMargin",
            _ => "other",
        };
        Ok(Outgoing {
            id,
            batch: 0,
            kind,
            n_items: items.len(),
            nonce,
            expires_after,
            body: if refused.is_none() {
                Some(body.unbind())
            } else {
                None
            },
            refused,
            refs,
        })
    }

    /// The answer to the action sent as `id` (the `/exchange` body or the websocket `post`
    /// frame), applied to the ledger. Unreadable answers leave it as it was.
    fn on_answer(&mut self, id: u64, answer: &[u8], now_ms: u64) {
        let reply = parse_exchange_response(answer)
            .unwrap_or_else(|e| ExchangeReply::Err(format!("unreadable answer: {e}")));
        self.guard.ledger.on_reply(id, &reply, now_ms);
    }

    /// Drops an action that never left (refused after `send_cycle`, e.g. by the address budget).
    fn forget(&mut self, id: u64) {
        self.guard.ledger.forget(id);
    }

    /// A user frame (orderUpdates, userFills, userEvents): applied to the ledger, fills
    /// de-duplicated by tid. Returns the fresh fills as `(tid, oid, is_buy, px, sz, fee, time)`.
    #[allow(clippy::type_complexity)]
    fn on_user_frame(
        &mut self,
        frame: &[u8],
        now_ms: u64,
    ) -> PyResult<Vec<(u64, u64, bool, f64, f64, f64, u64)>> {
        let mut fresh = Vec::new();
        let lg = &mut self.guard.ledger;
        match parse_user_frame(frame, &self.coin).py()? {
            UserFrame::Orders(ups) => {
                for u in &ups {
                    lg.on_order_update(u, now_ms);
                }
            }
            UserFrame::Fills {
                snapshot: true,
                fills,
            } => {
                for f in &fills {
                    lg.mark_seen(f.tid);
                }
            }
            UserFrame::Fills { fills, .. } => {
                for f in &fills {
                    if lg.on_fill(f) {
                        fresh.push((f.tid, f.oid, side_buy(f.side), f.px, f.sz, f.fee, f.time));
                    }
                }
            }
            UserFrame::NonUserCancel(oids) => {
                for oid in oids {
                    lg.on_gone(oid);
                }
            }
            UserFrame::Ignored => {}
        }
        Ok(fresh)
    }

    /// A market frame: when it is a `bbo` of our coin, its mid becomes the guard's reference for
    /// the price band (read from the feed, not from the engine). Returns the mid, if any.
    fn on_hl_frame(&mut self, frame: &[u8]) -> Option<f64> {
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
                        self.guard.mid = Some(mid);
                        return Some(mid);
                    }
                }
            }
        }
        None
    }

    /// Marks a fill id as counted (a previous run's, from the checkpoint).
    fn mark_seen(&mut self, tid: u64) {
        self.guard.ledger.mark_seen(tid);
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
        self.guard
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
        self.guard
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
        self.guard.limits.max_position = limits.max_position;
        self.guard.limits.single_order_cap = limits.single_order_cap;
    }

    #[getter]
    fn max_position(&self) -> f64 {
        self.guard.limits.max_position
    }

    #[getter]
    fn single_order_cap(&self) -> f64 {
        self.guard.limits.single_order_cap
    }

    #[getter]
    fn mid(&self) -> Option<f64> {
        self.guard.mid
    }

    #[setter]
    fn set_mid(&mut self, mid: Option<f64>) {
        self.guard.mid = mid;
    }

    #[getter]
    fn position(&self) -> f64 {
        self.guard.ledger.position
    }

    #[setter]
    fn set_position(&mut self, position: f64) {
        self.guard.ledger.position = position;
    }

    #[getter]
    fn refusals(&self) -> u64 {
        self.guard.refusals
    }

    /// `(position + live buys, -position + live sells)`: the safety invariant's two sides.
    fn exposure(&self) -> (f64, f64) {
        self.guard.ledger.exposure()
    }

    /// The ledger's orders as `(oid, cloid, is_buy, px, sz, state)`; state is `inflight`,
    /// `resting`, `canceling` or `modifying`.
    #[allow(clippy::type_complexity)]
    #[getter]
    fn orders(&self) -> Vec<(Option<u64>, Option<String>, bool, f64, f64, &'static str)> {
        self.guard
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
        self.guard
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
