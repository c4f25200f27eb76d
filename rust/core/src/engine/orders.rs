//! Our own orders, resting and in flight (SPEC 9), and the exposure they add per direction: the
//! quantity the safety invariant of SPEC 3 is checked on.
//!
//! Life of an order, keyed by its cloid (we choose it, so it is known before the exchange
//! answers):
//! - `PendingNew`: a place (or the new half of a modify) was emitted; counts fully.
//! - `Resting`: acknowledged (response `resting`, or an `open` order update); counts its
//!   remaining size.
//! - `PendingCancel`: a cancel was emitted, or the order is the old half of an in-flight modify;
//!   still counts (it can fill until the exchange confirms it gone).
//!
//! A modify on Hyperliquid is a cancel-replace that yields a new oid. The engine records it as two
//! orders: the old one in `PendingCancel` and the new one in `PendingNew`, so an in-flight modify
//! counts both. When the new order is seen alive (its `resting` status or its `open` update), the
//! old one is known cancelled (without `always_place` the exchange places the new order only
//! after the cancel succeeded) and is dropped, even if the old order's `canceled` update has not
//! arrived yet; that update, when it comes, finds nothing and is ignored.
//!
//! Storage is a `Vec` reserved once at `MAX_ORDERS`; entries are removed with `swap_remove`, so the
//! steady state never allocates.

use crate::types::Side;

/// Orders tracked at once. Beyond this the engine places nothing new (and says so in
/// diagnostics); 2 sides x 50 levels x 2 (a modify in flight) fits.
pub const MAX_ORDERS: usize = 256;

/// Where an order is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderState {
    PendingNew,
    Resting,
    PendingCancel,
}

/// One of our orders.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrackedOrder {
    pub cloid: u128,
    /// Exchange order id, once known.
    pub oid: Option<u64>,
    pub side: Side,
    pub px: f64,
    /// Remaining size.
    pub sz: f64,
    pub reduce_only: bool,
    pub state: OrderState,
    /// Depth from mid when placed, bps (for the fill model).
    pub depth_bps: f64,
    /// Batch and index of the last in-flight operation on this order (place, cancel or the new
    /// half of a modify), to match the exchange's response statuses.
    pub batch: u64,
    pub index: u32,
    /// For the new half of a modify: the cloid of the order it replaces.
    pub replaces: Option<u128>,
    /// Visible size ahead of us at our price when we joined, decremented by trades there.
    pub queue_ahead: f64,
    /// Whether any fill landed on it (for the fill model's outcome when it leaves).
    pub filled_any: bool,
    pub sent_ms: u64,
    /// A reduce-only IOC (the taker exit): gone with its answer, never rests, never requoted,
    /// and neither its fills nor its outcome teach the maker models.
    pub ioc: bool,
}

/// Exposure of one direction: what could still be bought (or sold) by orders that are resting or
/// in flight.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Exposure {
    pub buys: f64,
    pub sells: f64,
}

impl Exposure {
    /// Whether one more order of `sz` on `side` keeps SPEC 3's invariant against `max`: position
    /// plus every resting and in-flight buy at most `max`, minus position plus every sell too.
    /// The one check every order the engine emits passes (quotes and the taker exit alike).
    pub fn fits(&self, side: Side, sz: f64, position: f64, max: f64) -> bool {
        let (held, limit) = match side {
            Side::Bid => (self.buys, max - position),
            Side::Ask => (self.sells, max + position),
        };
        held + sz <= limit * (1.0 + super::SIZE_EPS) + super::SIZE_EPS
    }
}

/// Our orders.
#[derive(Debug, Clone)]
pub struct OrderTracker {
    orders: Vec<TrackedOrder>,
}

impl Default for OrderTracker {
    fn default() -> Self {
        Self {
            orders: Vec::with_capacity(MAX_ORDERS),
        }
    }
}

impl OrderTracker {
    pub fn iter(&self) -> impl Iterator<Item = &TrackedOrder> {
        self.orders.iter()
    }

    pub fn len(&self) -> usize {
        self.orders.len()
    }

    pub fn is_empty(&self) -> bool {
        self.orders.is_empty()
    }

    pub fn is_full(&self) -> bool {
        self.orders.len() >= MAX_ORDERS
    }

    pub fn as_slice(&self) -> &[TrackedOrder] {
        &self.orders
    }

    /// Adds an order. Returns false (and adds nothing) when the tracker is full.
    pub fn insert(&mut self, o: TrackedOrder) -> bool {
        if self.is_full() {
            return false;
        }
        self.orders.push(o);
        true
    }

    pub fn clear(&mut self) {
        self.orders.clear();
    }

    pub fn position_by_cloid(&self, cloid: u128) -> Option<usize> {
        self.orders.iter().position(|o| o.cloid == cloid)
    }

    pub fn position_by_oid(&self, oid: u64) -> Option<usize> {
        self.orders.iter().position(|o| o.oid == Some(oid))
    }

    pub fn get_mut(&mut self, i: usize) -> &mut TrackedOrder {
        &mut self.orders[i]
    }

    pub fn get(&self, i: usize) -> &TrackedOrder {
        &self.orders[i]
    }

    /// Removes and returns the order at `i`.
    pub fn remove(&mut self, i: usize) -> TrackedOrder {
        self.orders.swap_remove(i)
    }

    /// Exposure counting every resting and in-flight order (SPEC 3): pending news and pending
    /// cancels both count, and an in-flight modify counts as its old and its new order.
    pub fn exposure(&self) -> Exposure {
        let mut e = Exposure::default();
        for o in &self.orders {
            match o.side {
                Side::Bid => e.buys += o.sz,
                Side::Ask => e.sells += o.sz,
            }
        }
        e
    }

    /// The new order of a modify is alive: the order it replaced is gone.
    pub fn drop_replaced(&mut self, i: usize) -> Option<TrackedOrder> {
        let old = self.orders[i].replaces.take()?;
        let j = self.position_by_cloid(old)?;
        Some(self.orders.swap_remove(j))
    }
}

/// Cloids: a per-process random prefix (from the seed the caller passes) and a counter. The
/// prefix takes the high 64 bits, the counter the low 64, so two processes collide only if their
/// seeds map to the same prefix (probability 2^-64 per pair) and a restart never reuses an id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CloidGen {
    prefix: u64,
    counter: u64,
}

/// splitmix64: spreads any seed (even 0, 1, 2, ...) over the whole 64-bit range.
pub fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

impl CloidGen {
    pub fn new(seed: u64) -> Self {
        Self {
            prefix: splitmix64(seed),
            counter: 0,
        }
    }

    pub fn next_cloid(&mut self) -> u128 {
        self.counter = self.counter.wrapping_add(1);
        (u128::from(self.prefix) << 64) | u128::from(self.counter)
    }

    /// True when the cloid was made by this generator (an order of this process).
    pub fn owns(&self, cloid: u128) -> bool {
        (cloid >> 64) as u64 == self.prefix
    }
}

/// `"0x"` + 32 lowercase hex digits, as the exchange expects cloids.
pub fn cloid_hex(cloid: u128) -> String {
    format!("0x{cloid:032x}")
}

/// Parses a `0x`-prefixed 32-hex-digit cloid.
pub fn parse_cloid(s: &str) -> Option<u128> {
    let h = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X"))?;
    if h.len() != 32 {
        return None;
    }
    u128::from_str_radix(h, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(cloid: u128, side: Side, sz: f64, state: OrderState) -> TrackedOrder {
        TrackedOrder {
            cloid,
            oid: None,
            side,
            px: 100.0,
            sz,
            reduce_only: false,
            state,
            depth_bps: 8.0,
            batch: 1,
            index: 0,
            replaces: None,
            queue_ahead: 0.0,
            filled_any: false,
            sent_ms: 0,
            ioc: false,
        }
    }

    #[test]
    fn exposure_counts_every_live_and_in_flight_order() {
        let mut t = OrderTracker::default();
        t.insert(order(1, Side::Bid, 1.0, OrderState::Resting));
        t.insert(order(2, Side::Bid, 0.5, OrderState::PendingNew));
        t.insert(order(3, Side::Bid, 0.25, OrderState::PendingCancel));
        t.insert(order(4, Side::Ask, 2.0, OrderState::Resting));
        assert_eq!(
            t.exposure(),
            Exposure {
                buys: 1.75,
                sells: 2.0
            }
        );
    }

    #[test]
    fn modify_counts_old_and_new_until_new_is_alive() {
        let mut t = OrderTracker::default();
        t.insert(order(1, Side::Ask, 1.0, OrderState::PendingCancel));
        let mut new = order(2, Side::Ask, 1.5, OrderState::PendingNew);
        new.replaces = Some(1);
        t.insert(new);
        assert_eq!(t.exposure().sells, 2.5);
        let i = t.position_by_cloid(2).unwrap();
        let old = t.drop_replaced(i).unwrap();
        assert_eq!(old.cloid, 1);
        assert_eq!(t.exposure().sells, 1.5);
    }

    #[test]
    fn cloids_unique_per_seed_and_hex_roundtrip() {
        let mut a = CloidGen::new(1);
        let mut b = CloidGen::new(2);
        let (x, y) = (a.next_cloid(), b.next_cloid());
        assert_ne!(x, y);
        assert_ne!(a.next_cloid(), x);
        assert!(a.owns(x) && !a.owns(y));
        let h = cloid_hex(x);
        assert_eq!(h.len(), 34);
        assert_eq!(parse_cloid(&h), Some(x));
        assert_eq!(parse_cloid("0x12"), None);
    }
}
