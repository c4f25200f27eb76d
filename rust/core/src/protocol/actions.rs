//! Typed L1 actions of the quote engine's hot path (PROTOCOL 3.2), written straight to msgpack
//! (for the hash) and to JSON (for the request body) with the same keys in the same order:
//! no `serde_json::Value`, no Python dict.
//!
//! Key orders follow the SDK: order `{type, orders, grouping[, builder]}` with OrderWire
//! `{a, b, p, s, r, t[, c]}`; cancel `{type, cancels: [{a, o}][, f]}`; cancelByCloid
//! `{type, cancels: [{asset, cloid}][, f]}`; batchModify `{type, modifies: [{oid, order}]}`;
//! scheduleCancel `{type[, time]}`; noop `{type}`; updateLeverage `{type, asset, isCross,
//! leverage}`. Optional keys are omitted, never nil; `f` (fast cancel) only when true, since
//! an action hashed with `f: false` is rejected.

use std::borrow::Cow;

use super::{msgpack as mp, Address, Cloid, Decimal};

/// Time in force of a limit order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Tif {
    /// Add liquidity only (post-only).
    Alo,
    Ioc,
    Gtc,
}

impl Tif {
    pub fn as_str(self) -> &'static str {
        match self {
            Tif::Alo => "Alo",
            Tif::Ioc => "Ioc",
            Tif::Gtc => "Gtc",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "Alo" => Some(Tif::Alo),
            "Ioc" => Some(Tif::Ioc),
            "Gtc" => Some(Tif::Gtc),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Tpsl {
    Tp,
    Sl,
}

impl Tpsl {
    pub fn as_str(self) -> &'static str {
        match self {
            Tpsl::Tp => "tp",
            Tpsl::Sl => "sl",
        }
    }
}

/// The `t` field of an order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OrderKind {
    /// `{"limit": {"tif": ...}}`
    Limit(Tif),
    /// `{"trigger": {"isMarket", "triggerPx", "tpsl"}}`
    Trigger {
        is_market: bool,
        trigger_px: Decimal,
        tpsl: Tpsl,
    },
}

/// One order as the exchange receives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OrderWire {
    /// Asset id: perp index, 10000 + spot index, or 100000 + dex * 10000 + index (HIP-3).
    pub asset: u32,
    pub is_buy: bool,
    pub px: Decimal,
    pub sz: Decimal,
    pub reduce_only: bool,
    pub kind: OrderKind,
    pub cloid: Option<Cloid>,
}

impl OrderWire {
    /// The limit order's time in force (None for a trigger order).
    pub fn tif(&self) -> Option<Tif> {
        match self.kind {
            OrderKind::Limit(t) => Some(t),
            OrderKind::Trigger { .. } => None,
        }
    }

    /// GTC or IOC: the orders the exchange runs after cancels within a block.
    pub fn is_gtc_or_ioc(&self) -> bool {
        matches!(self.tif(), Some(Tif::Gtc | Tif::Ioc))
    }

    /// A post-only limit order, the quote engine's only kind of quote.
    pub fn alo(asset: u32, is_buy: bool, px: Decimal, sz: Decimal, cloid: Option<Cloid>) -> Self {
        OrderWire {
            asset,
            is_buy,
            px,
            sz,
            reduce_only: false,
            kind: OrderKind::Limit(Tif::Alo),
            cloid,
        }
    }
}

/// `{"a": asset, "o": oid}`
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CancelWire {
    pub asset: u32,
    pub oid: u64,
}

/// `{"asset": asset, "cloid": "0x.."}`
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CancelByCloidWire {
    pub asset: u32,
    pub cloid: Cloid,
}

/// The order a modify targets: exchange order id or client order id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Oid {
    Oid(u64),
    Cloid(Cloid),
}

/// `{"oid": oid | "0x..", "order": OrderWire}`
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ModifyWire {
    pub oid: Oid,
    pub order: OrderWire,
}

/// The `grouping` of an order action.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Grouping {
    #[default]
    Na,
    NormalTpsl,
    PositionTpsl,
    /// Priority fee `{"p": rate}` (rate / 1e8 of notional).
    Priority(u64),
}

/// `{"b": builder address (lowercase), "f": fee in tenths of a bp}`
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BuilderFee {
    pub builder: Address,
    pub fee: u64,
}

/// An L1 action: the one type from the quote engine's output to the signed bytes and into the
/// simulator's matching engine. Its lists are `Cow`: borrowed on the hot path (the caller keeps
/// reusable buffers, nothing allocates), owned where the action is kept (`Action<'static>`,
/// the simulator's block queue).
#[derive(Clone, Debug, PartialEq)]
pub enum Action<'a> {
    Order {
        orders: Cow<'a, [OrderWire]>,
        grouping: Grouping,
        builder: Option<BuilderFee>,
    },
    Cancel {
        cancels: Cow<'a, [CancelWire]>,
        fast: bool,
    },
    CancelByCloid {
        cancels: Cow<'a, [CancelByCloidWire]>,
        fast: bool,
    },
    /// One modify; `always_place` (`a`) keeps a GTC/IOC order's time in force instead of
    /// turning it into ALO.
    Modify {
        oid: Oid,
        order: OrderWire,
        always_place: bool,
    },
    BatchModify {
        modifies: Cow<'a, [ModifyWire]>,
        always_place: bool,
    },
    /// Dead-man switch: `Some(ms)` sets the cancel time, `None` clears it.
    ScheduleCancel { time: Option<u64> },
    /// Burns the nonce (cancels an in-flight action signed with the same nonce).
    Noop,
    UpdateLeverage {
        asset: u32,
        is_cross: bool,
        leverage: u32,
    },
}

impl Action<'_> {
    /// The action's `type`.
    pub fn kind(&self) -> &'static str {
        match self {
            Action::Order { .. } => "order",
            Action::Cancel { .. } => "cancel",
            Action::CancelByCloid { .. } => "cancelByCloid",
            Action::Modify { .. } => "modify",
            Action::BatchModify { .. } => "batchModify",
            Action::ScheduleCancel { .. } => "scheduleCancel",
            Action::Noop => "noop",
            Action::UpdateLeverage { .. } => "updateLeverage",
        }
    }

    /// The same action owning its lists (what a queue keeps).
    pub fn into_owned(self) -> Action<'static> {
        match self {
            Action::Order {
                orders,
                grouping,
                builder,
            } => Action::Order {
                orders: Cow::Owned(orders.into_owned()),
                grouping,
                builder,
            },
            Action::Cancel { cancels, fast } => Action::Cancel {
                cancels: Cow::Owned(cancels.into_owned()),
                fast,
            },
            Action::CancelByCloid { cancels, fast } => Action::CancelByCloid {
                cancels: Cow::Owned(cancels.into_owned()),
                fast,
            },
            Action::Modify {
                oid,
                order,
                always_place,
            } => Action::Modify {
                oid,
                order,
                always_place,
            },
            Action::BatchModify {
                modifies,
                always_place,
            } => Action::BatchModify {
                modifies: Cow::Owned(modifies.into_owned()),
                always_place,
            },
            Action::ScheduleCancel { time } => Action::ScheduleCancel { time },
            Action::Noop => Action::Noop,
            Action::UpdateLeverage {
                asset,
                is_cross,
                leverage,
            } => Action::UpdateLeverage {
                asset,
                is_cross,
                leverage,
            },
        }
    }

    /// In-block priority (PROTOCOL 5.4): 0 for actions without GTC/IOC orders (ALO, modifies
    /// to ALO, leverage, noop, ...), 1 for cancels, 2 for actions with at least one GTC or IOC
    /// order.
    pub fn block_class(&self) -> u8 {
        match self {
            Action::Cancel { .. } | Action::CancelByCloid { .. } => 1,
            Action::Order { orders, .. } if orders.iter().any(OrderWire::is_gtc_or_ioc) => 2,
            // A modify without `a` turns a GTC into ALO; only an always-place modify keeps it.
            Action::Modify {
                order,
                always_place: true,
                ..
            } if order.is_gtc_or_ioc() => 2,
            Action::BatchModify {
                modifies,
                always_place: true,
            } if modifies.iter().any(|m| m.order.is_gtc_or_ioc()) => 2,
            _ => 0,
        }
    }

    /// Address-budget cost: one per order, cancel or modify in the batch, else one.
    pub fn request_count(&self) -> usize {
        match self {
            Action::Order { orders, .. } => orders.len().max(1),
            Action::Cancel { cancels, .. } => cancels.len().max(1),
            Action::CancelByCloid { cancels, .. } => cancels.len().max(1),
            Action::BatchModify { modifies, .. } => modifies.len().max(1),
            _ => 1,
        }
    }

    pub fn is_cancel(&self) -> bool {
        self.block_class() == 1
    }

    /// Appends the action's msgpack bytes (what the connection id hashes).
    pub fn write_msgpack(&self, out: &mut Vec<u8>) {
        match self {
            Action::Order {
                orders,
                grouping,
                builder,
            } => {
                mp::map_len(out, 3 + usize::from(builder.is_some()));
                mp::str(out, "type");
                mp::str(out, "order");
                mp::str(out, "orders");
                mp::array_len(out, orders.len());
                for o in orders.iter() {
                    order_msgpack(out, o);
                }
                mp::str(out, "grouping");
                grouping_msgpack(out, *grouping);
                if let Some(b) = builder {
                    mp::str(out, "builder");
                    mp::map_len(out, 2);
                    mp::str(out, "b");
                    mp::ascii(out, &b.builder.to_lower_hex());
                    mp::str(out, "f");
                    mp::uint(out, b.fee);
                }
            }
            Action::Cancel { cancels, fast } => {
                mp::map_len(out, 2 + usize::from(*fast));
                mp::str(out, "type");
                mp::str(out, "cancel");
                mp::str(out, "cancels");
                mp::array_len(out, cancels.len());
                for c in cancels.iter() {
                    mp::map_len(out, 2);
                    mp::str(out, "a");
                    mp::uint(out, c.asset.into());
                    mp::str(out, "o");
                    mp::uint(out, c.oid);
                }
                if *fast {
                    mp::str(out, "f");
                    mp::bool(out, true);
                }
            }
            Action::CancelByCloid { cancels, fast } => {
                mp::map_len(out, 2 + usize::from(*fast));
                mp::str(out, "type");
                mp::str(out, "cancelByCloid");
                mp::str(out, "cancels");
                mp::array_len(out, cancels.len());
                for c in cancels.iter() {
                    mp::map_len(out, 2);
                    mp::str(out, "asset");
                    mp::uint(out, c.asset.into());
                    mp::str(out, "cloid");
                    mp::ascii(out, &c.cloid.to_hex());
                }
                if *fast {
                    mp::str(out, "f");
                    mp::bool(out, true);
                }
            }
            Action::Modify {
                oid,
                order,
                always_place,
            } => {
                mp::map_len(out, 3 + usize::from(*always_place));
                mp::str(out, "type");
                mp::str(out, "modify");
                modify_msgpack(out, oid, order);
                always_place_msgpack(out, *always_place);
            }
            Action::BatchModify {
                modifies,
                always_place,
            } => {
                mp::map_len(out, 2 + usize::from(*always_place));
                mp::str(out, "type");
                mp::str(out, "batchModify");
                mp::str(out, "modifies");
                mp::array_len(out, modifies.len());
                for m in modifies.iter() {
                    mp::map_len(out, 2);
                    modify_msgpack(out, &m.oid, &m.order);
                }
                always_place_msgpack(out, *always_place);
            }
            Action::ScheduleCancel { time } => {
                mp::map_len(out, 1 + usize::from(time.is_some()));
                mp::str(out, "type");
                mp::str(out, "scheduleCancel");
                if let Some(t) = time {
                    mp::str(out, "time");
                    mp::uint(out, *t);
                }
            }
            Action::Noop => {
                mp::map_len(out, 1);
                mp::str(out, "type");
                mp::str(out, "noop");
            }
            Action::UpdateLeverage {
                asset,
                is_cross,
                leverage,
            } => {
                mp::map_len(out, 4);
                mp::str(out, "type");
                mp::str(out, "updateLeverage");
                mp::str(out, "asset");
                mp::uint(out, (*asset).into());
                mp::str(out, "isCross");
                mp::bool(out, *is_cross);
                mp::str(out, "leverage");
                mp::uint(out, (*leverage).into());
            }
        }
    }

    /// Appends the action as compact JSON, same keys in the same order as the msgpack.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        match self {
            Action::Order {
                orders,
                grouping,
                builder,
            } => {
                out.extend_from_slice(b"{\"type\":\"order\",\"orders\":[");
                json_items(out, orders, order_json);
                out.extend_from_slice(b"],\"grouping\":");
                grouping_json(out, *grouping);
                if let Some(b) = builder {
                    out.extend_from_slice(b",\"builder\":{\"b\":\"");
                    out.extend_from_slice(&b.builder.to_lower_hex());
                    out.extend_from_slice(b"\",\"f\":");
                    json_uint(out, b.fee);
                    out.push(b'}');
                }
                out.push(b'}');
            }
            Action::Cancel { cancels, fast } => {
                cancels_json(out, b"cancel", cancels, *fast, |out, c| {
                    out.extend_from_slice(b"{\"a\":");
                    json_uint(out, c.asset.into());
                    out.extend_from_slice(b",\"o\":");
                    json_uint(out, c.oid);
                    out.push(b'}');
                });
            }
            Action::CancelByCloid { cancels, fast } => {
                cancels_json(out, b"cancelByCloid", cancels, *fast, |out, c| {
                    out.extend_from_slice(b"{\"asset\":");
                    json_uint(out, c.asset.into());
                    out.extend_from_slice(b",\"cloid\":\"");
                    out.extend_from_slice(&c.cloid.to_hex());
                    out.extend_from_slice(b"\"}");
                });
            }
            Action::Modify {
                oid,
                order,
                always_place,
            } => {
                out.extend_from_slice(b"{\"type\":\"modify\",");
                modify_json(out, oid, order);
                always_place_json(out, *always_place);
                out.push(b'}');
            }
            Action::BatchModify {
                modifies,
                always_place,
            } => {
                out.extend_from_slice(b"{\"type\":\"batchModify\",\"modifies\":[");
                json_items(out, modifies, |out, m| {
                    out.push(b'{');
                    modify_json(out, &m.oid, &m.order);
                    out.push(b'}');
                });
                out.push(b']');
                always_place_json(out, *always_place);
                out.push(b'}');
            }
            Action::ScheduleCancel { time } => {
                out.extend_from_slice(b"{\"type\":\"scheduleCancel\"");
                if let Some(t) = time {
                    out.extend_from_slice(b",\"time\":");
                    json_uint(out, *t);
                }
                out.push(b'}');
            }
            Action::Noop => out.extend_from_slice(b"{\"type\":\"noop\"}"),
            Action::UpdateLeverage {
                asset,
                is_cross,
                leverage,
            } => {
                out.extend_from_slice(b"{\"type\":\"updateLeverage\",\"asset\":");
                json_uint(out, (*asset).into());
                out.extend_from_slice(b",\"isCross\":");
                json_bool(out, *is_cross);
                out.extend_from_slice(b",\"leverage\":");
                json_uint(out, (*leverage).into());
                out.push(b'}');
            }
        }
    }
}

/// `"oid": oid | "0x..", "order": {..}` (a modify's two keys, in the SDK's order).
fn modify_msgpack(out: &mut Vec<u8>, oid: &Oid, order: &OrderWire) {
    mp::str(out, "oid");
    match oid {
        Oid::Oid(o) => mp::uint(out, *o),
        Oid::Cloid(c) => mp::ascii(out, &c.to_hex()),
    }
    mp::str(out, "order");
    order_msgpack(out, order);
}

fn modify_json(out: &mut Vec<u8>, oid: &Oid, order: &OrderWire) {
    out.extend_from_slice(b"\"oid\":");
    match oid {
        Oid::Oid(o) => json_uint(out, *o),
        Oid::Cloid(c) => json_ascii(out, &c.to_hex()),
    }
    out.extend_from_slice(b",\"order\":");
    order_json(out, order);
}

/// `a` (always place): written only when true, like `f`.
fn always_place_msgpack(out: &mut Vec<u8>, always_place: bool) {
    if always_place {
        mp::str(out, "a");
        mp::bool(out, true);
    }
}

fn always_place_json(out: &mut Vec<u8>, always_place: bool) {
    if always_place {
        out.extend_from_slice(b",\"a\":true");
    }
}

fn order_msgpack(out: &mut Vec<u8>, o: &OrderWire) {
    mp::map_len(out, 6 + usize::from(o.cloid.is_some()));
    mp::str(out, "a");
    mp::uint(out, o.asset.into());
    mp::str(out, "b");
    mp::bool(out, o.is_buy);
    mp::str(out, "p");
    mp::str(out, o.px.as_str());
    mp::str(out, "s");
    mp::str(out, o.sz.as_str());
    mp::str(out, "r");
    mp::bool(out, o.reduce_only);
    mp::str(out, "t");
    mp::map_len(out, 1);
    match o.kind {
        OrderKind::Limit(tif) => {
            mp::str(out, "limit");
            mp::map_len(out, 1);
            mp::str(out, "tif");
            mp::str(out, tif.as_str());
        }
        OrderKind::Trigger {
            is_market,
            trigger_px,
            tpsl,
        } => {
            mp::str(out, "trigger");
            mp::map_len(out, 3);
            mp::str(out, "isMarket");
            mp::bool(out, is_market);
            mp::str(out, "triggerPx");
            mp::str(out, trigger_px.as_str());
            mp::str(out, "tpsl");
            mp::str(out, tpsl.as_str());
        }
    }
    if let Some(c) = o.cloid {
        mp::str(out, "c");
        mp::ascii(out, &c.to_hex());
    }
}

fn order_json(out: &mut Vec<u8>, o: &OrderWire) {
    out.extend_from_slice(b"{\"a\":");
    json_uint(out, o.asset.into());
    out.extend_from_slice(b",\"b\":");
    json_bool(out, o.is_buy);
    out.extend_from_slice(b",\"p\":");
    json_ascii(out, o.px.as_str().as_bytes());
    out.extend_from_slice(b",\"s\":");
    json_ascii(out, o.sz.as_str().as_bytes());
    out.extend_from_slice(b",\"r\":");
    json_bool(out, o.reduce_only);
    match o.kind {
        OrderKind::Limit(tif) => {
            out.extend_from_slice(b",\"t\":{\"limit\":{\"tif\":\"");
            out.extend_from_slice(tif.as_str().as_bytes());
            out.extend_from_slice(b"\"}}");
        }
        OrderKind::Trigger {
            is_market,
            trigger_px,
            tpsl,
        } => {
            out.extend_from_slice(b",\"t\":{\"trigger\":{\"isMarket\":");
            json_bool(out, is_market);
            out.extend_from_slice(b",\"triggerPx\":");
            json_ascii(out, trigger_px.as_str().as_bytes());
            out.extend_from_slice(b",\"tpsl\":\"");
            out.extend_from_slice(tpsl.as_str().as_bytes());
            out.extend_from_slice(b"\"}}");
        }
    }
    if let Some(c) = o.cloid {
        out.extend_from_slice(b",\"c\":");
        json_ascii(out, &c.to_hex());
    }
    out.push(b'}');
}

fn grouping_msgpack(out: &mut Vec<u8>, g: Grouping) {
    match g {
        Grouping::Na => mp::str(out, "na"),
        Grouping::NormalTpsl => mp::str(out, "normalTpsl"),
        Grouping::PositionTpsl => mp::str(out, "positionTpsl"),
        Grouping::Priority(p) => {
            mp::map_len(out, 1);
            mp::str(out, "p");
            mp::uint(out, p);
        }
    }
}

fn grouping_json(out: &mut Vec<u8>, g: Grouping) {
    match g {
        Grouping::Na => out.extend_from_slice(b"\"na\""),
        Grouping::NormalTpsl => out.extend_from_slice(b"\"normalTpsl\""),
        Grouping::PositionTpsl => out.extend_from_slice(b"\"positionTpsl\""),
        Grouping::Priority(p) => {
            out.extend_from_slice(b"{\"p\":");
            json_uint(out, p);
            out.push(b'}');
        }
    }
}

/// Writes `items` comma-separated, each by `item` (the body of a JSON array).
#[inline]
fn json_items<T>(out: &mut Vec<u8>, items: &[T], mut item: impl FnMut(&mut Vec<u8>, &T)) {
    for (i, x) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        item(out, x);
    }
}

/// A cancel-type action (`cancel`, `cancelByCloid`): its `cancels` array, then `"f":true` when
/// fast, the same key order as the msgpack.
#[inline]
fn cancels_json<T>(
    out: &mut Vec<u8>,
    kind: &[u8],
    cancels: &[T],
    fast: bool,
    item: impl FnMut(&mut Vec<u8>, &T),
) {
    out.extend_from_slice(b"{\"type\":\"");
    out.extend_from_slice(kind);
    out.extend_from_slice(b"\",\"cancels\":[");
    json_items(out, cancels, item);
    out.push(b']');
    if fast {
        out.extend_from_slice(b",\"f\":true");
    }
    out.push(b'}');
}

pub(crate) fn json_uint(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

fn json_bool(out: &mut Vec<u8>, v: bool) {
    out.extend_from_slice(if v { b"true" } else { b"false" });
}

/// A JSON string of characters that never need escaping (digits, hex, '.', '-').
pub(crate) fn json_ascii(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    out.extend_from_slice(s);
    out.push(b'"');
}
