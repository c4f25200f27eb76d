//! A cycle's batches as the exchange actions they are ([`crate::protocol::Action`]): the one
//! path from the engine's output to the bytes the signer hashes and sends, with no Python in
//! between. One batch is one exchange action: places -> `order` (ALO, the engine's cloid),
//! takes -> `order` (IOC, reduce-only: the taker exit),
//! modifies -> `batchModify` (target by oid when known, else by cloid), cancels -> `cancel` by
//! oid when every target's oid is known, else `cancelByCloid`.

use std::borrow::Cow;

use super::output::{ActionKind, Actions, OrderStep};
use crate::protocol::{
    self, CancelByCloidWire, CancelWire, Cloid, Decimal, Grouping, ModifyWire, Oid, OrderKind,
    OrderWire, SigningError, Tif,
};
use crate::types::Side;

/// Batches one cycle may hold (cancels, modifies, places).
const MAX_CYCLE_BATCHES: usize = 4;

impl Actions {
    /// The cycle's batches, `(batch id, kind)`, in the order their first action was emitted.
    pub fn batches(&self) -> impl Iterator<Item = (u64, ActionKind)> {
        let mut seen = [None::<(u64, ActionKind)>; MAX_CYCLE_BATCHES];
        let mut n = 0;
        for a in self.as_slice() {
            if n < MAX_CYCLE_BATCHES && !seen[..n].iter().any(|s| s.is_some_and(|s| s.0 == a.batch))
            {
                seen[n] = Some((a.batch, a.kind));
                n += 1;
            }
        }
        seen.into_iter().flatten()
    }
}

impl OrderStep {
    /// The order a place or modify puts on the book (post-only), or a take sends (IOC), with
    /// the engine's cloid.
    ///
    /// # Errors
    /// A price or size that `float_to_wire` refuses (the engine only emits rounded values).
    pub fn order_wire(&self, asset: u32) -> Result<OrderWire, SigningError> {
        let kind = if self.kind == ActionKind::Take {
            OrderKind::Limit(Tif::Ioc)
        } else {
            OrderKind::Limit(Tif::Alo)
        };
        Ok(OrderWire {
            reduce_only: self.reduce_only,
            kind,
            ..OrderWire::alo(
                asset,
                self.side == Side::Bid,
                Decimal::from_f64(self.px)?,
                Decimal::from_f64(self.sz)?,
                Some(Cloid::from_u128(self.cloid)),
            )
        })
    }
}

/// Reusable lists for building one batch's exchange action without allocating in steady state.
#[derive(Debug, Clone, Default)]
pub struct BatchWire {
    orders: Vec<OrderWire>,
    cancels: Vec<CancelWire>,
    by_cloid: Vec<CancelByCloidWire>,
    modifies: Vec<ModifyWire>,
}

impl BatchWire {
    /// The exchange action of batch `batch` among `actions`, for asset `asset`; `None` when no
    /// action carries that batch id.
    ///
    /// # Errors
    /// A price or size that `float_to_wire` refuses.
    pub fn build<'a>(
        &'a mut self,
        actions: &Actions,
        batch: u64,
        asset: u32,
    ) -> Result<Option<protocol::Action<'a>>, SigningError> {
        self.orders.clear();
        self.cancels.clear();
        self.by_cloid.clear();
        self.modifies.clear();
        let mut kind = None;
        let mut all_oids = true;
        for a in actions.as_slice().iter().filter(|a| a.batch == batch) {
            kind = Some(a.kind);
            match a.kind {
                ActionKind::Place | ActionKind::Take => self.orders.push(a.order_wire(asset)?),
                ActionKind::Modify => self.modifies.push(ModifyWire {
                    oid: match (a.oid, a.target_cloid) {
                        (Some(oid), _) => Oid::Oid(oid),
                        (None, Some(c)) => Oid::Cloid(Cloid::from_u128(c)),
                        (None, None) => Oid::Cloid(Cloid::from_u128(0)),
                    },
                    order: a.order_wire(asset)?,
                }),
                ActionKind::Cancel => {
                    all_oids &= a.oid.is_some();
                    self.cancels.push(CancelWire {
                        asset,
                        oid: a.oid.unwrap_or(0),
                    });
                    self.by_cloid.push(CancelByCloidWire {
                        asset,
                        cloid: Cloid::from_u128(a.cloid),
                    });
                }
            }
        }
        Ok(kind.map(|k| match k {
            ActionKind::Place | ActionKind::Take => protocol::Action::Order {
                orders: Cow::Borrowed(&self.orders),
                grouping: Grouping::Na,
                builder: None,
            },
            ActionKind::Modify => protocol::Action::BatchModify {
                modifies: Cow::Borrowed(&self.modifies),
                always_place: false,
            },
            // Fast cancels (`f`): the exchange runs them ahead of the block's other cancels.
            ActionKind::Cancel if all_oids => protocol::Action::Cancel {
                cancels: Cow::Borrowed(&self.cancels),
                fast: true,
            },
            ActionKind::Cancel => protocol::Action::CancelByCloid {
                cancels: Cow::Borrowed(&self.by_cloid),
                fast: true,
            },
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::MarketMakerConfig;
    use crate::engine::{ActionStatus, ExchangeReply, QuoteEngine, SignalView};

    const T0: u64 = 1_700_000_000_000;

    fn engine() -> QuoteEngine {
        let cfg = MarketMakerConfig {
            max_position: Some(1.0),
            ..Default::default()
        };
        let mut e = QuoteEngine::new(cfg, 7).unwrap();
        e.set_account(Some(0.0), Some(10_000.0), Some(10_000.0), Some(3.0))
            .unwrap();
        e.on_hl_top(2999.9, 2.0, 3000.1, 2.0, T0).unwrap();
        let mut s: SignalView = *e.signals();
        s.has_had_cross_venue = true;
        e.set_signals(s);
        e
    }

    fn json(a: &protocol::Action<'_>) -> String {
        let mut out = Vec::new();
        a.write_json(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn places_become_one_alo_order_action_then_cancels_go_by_oid() {
        let mut e = engine();
        let out = e.cycle(T0).clone();
        let batches: Vec<_> = out.actions.batches().collect();
        assert_eq!(batches.len(), 1);
        let (b, kind) = batches[0];
        assert_eq!(kind, ActionKind::Place);
        let mut w = BatchWire::default();
        let action = w.build(&out.actions, b, 4).unwrap().unwrap();
        let first = out.actions.as_slice()[0];
        let protocol::Action::Order { ref orders, .. } = action else {
            panic!("{action:?}")
        };
        assert_eq!(orders.len(), out.actions.len());
        assert_eq!(orders[0].cloid, Some(Cloid::from_u128(first.cloid)));
        assert_eq!(orders[0].is_buy, first.side == Side::Bid);
        // The wire strings are float_to_wire's: the exact engine price, no trailing zeros.
        let text = json(&action);
        assert!(
            text.starts_with(r#"{"type":"order","orders":[{"a":4,"b":"#),
            "{text}"
        );
        assert!(text.contains(r#""t":{"limit":{"tif":"Alo"}}"#), "{text}");
        assert!(text.contains(&format!(r#""p":"{}""#, first.px)), "{text}");
        assert!(w.build(&out.actions, b + 99, 4).unwrap().is_none());
        // Acked, then the book goes stale: the cancels know every oid.
        let st = (1..=out.actions.len() as u64)
            .map(|oid| ActionStatus::Resting { oid, cloid: None })
            .collect();
        e.on_exchange_reply(&ExchangeReply::Statuses(st), b)
            .unwrap();
        let out = e.cycle(T0 + 10_000).clone();
        let (b, kind) = out.actions.batches().next().unwrap();
        assert_eq!(kind, ActionKind::Cancel);
        let action = w.build(&out.actions, b, 4).unwrap().unwrap();
        let protocol::Action::Cancel { cancels, fast } = action else {
            panic!("{action:?}")
        };
        assert!(fast);
        let mut oids: Vec<u64> = cancels.iter().map(|c| c.oid).collect();
        oids.sort_unstable();
        assert_eq!(oids, (1..=oids.len() as u64).collect::<Vec<_>>());
    }

    /// The engine never cancels an order the exchange has not acknowledged (the cancel could
    /// overtake its place: `emit_cancel`), so its cancels know every oid; a cancel step without
    /// an oid still goes by cloid.
    #[test]
    fn unacked_orders_are_held_and_oidless_cancels_go_by_cloid() {
        let mut e = engine();
        let out = e.cycle(T0).clone();
        let placed: Vec<u128> = out.actions.as_slice().iter().map(|a| a.cloid).collect();
        // No answer yet and the book goes stale: nothing is cancelled, everything still counts.
        let stale = e.cycle(T0 + 10_000).clone();
        assert!(stale.actions.is_empty(), "{:?}", stale.actions.as_slice());
        let total: f64 = out.actions.as_slice().iter().map(|a| a.sz).sum();
        let x = e.exposure();
        assert!((x.buys + x.sells - total).abs() < 1e-9, "{x:?}");
        let mut steps = Actions::default();
        for (i, a) in out.actions.as_slice().iter().enumerate() {
            steps.push(OrderStep {
                kind: ActionKind::Cancel,
                oid: None,
                batch: 9,
                index: i as u32,
                ..*a
            });
        }
        let mut w = BatchWire::default();
        let action = w.build(&steps, 9, 4).unwrap().unwrap();
        let protocol::Action::CancelByCloid { cancels, .. } = action else {
            panic!("{action:?}")
        };
        let mut got: Vec<u128> = cancels.iter().map(|c| c.cloid.as_u128()).collect();
        let mut want = placed;
        got.sort_unstable();
        want.sort_unstable();
        assert_eq!(got, want);
    }
}
