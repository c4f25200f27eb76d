//! The bounded, allocation-free L2 book (SPEC 0, 9): integer ticks and lots, a fixed number of
//! levels per side, and a per-update report of the previous and new best and the previous and
//! new size at the touched price (hftbacktest's depth interface), which is what a queue-position
//! model needs.
//!
//! Layout: each side is one sorted array, worst level first and best level last, allocated once
//! at construction. Updates near the touch, by far the most frequent, move only the few levels
//! between the touched price and the best; a lookup is a binary search.

use crate::types::Side;

/// One price level: price in ticks, size in lots (both counts of the book's scale units).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Level {
    pub px: i64,
    pub qty: i64,
}

/// What one level update did. `prev_best`/`new_best` are the side's best price before and after
/// (for a snapshot: before and after the whole snapshot); sizes are 0 where there was no level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DepthChange {
    pub side: Side,
    pub px: i64,
    pub prev_qty: i64,
    pub new_qty: i64,
    pub prev_best: Option<i64>,
    pub new_best: Option<i64>,
}

/// One side of the book, holding at most `capacity` levels (the best ones).
#[derive(Debug, Clone)]
pub struct BookSide {
    side: Side,
    /// Worst first, best last; strictly monotone in price; every qty > 0.
    levels: Vec<Level>,
    capacity: usize,
    truncated: bool,
}

impl BookSide {
    fn new(side: Side, capacity: usize) -> Self {
        Self {
            side,
            levels: Vec::with_capacity(capacity),
            capacity,
            truncated: false,
        }
    }

    pub fn side(&self) -> Side {
        self.side
    }

    pub fn len(&self) -> usize {
        self.levels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.levels.is_empty()
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// True once a level was dropped for lack of room: levels worse than the worst one held may
    /// be missing. The best `capacity` levels are always exact.
    pub fn is_truncated(&self) -> bool {
        self.truncated
    }

    /// True if `a` is a better price than `b` on this side.
    #[inline]
    pub fn better(&self, a: i64, b: i64) -> bool {
        match self.side {
            Side::Bid => a > b,
            Side::Ask => a < b,
        }
    }

    #[inline]
    pub fn best(&self) -> Option<Level> {
        self.levels.last().copied()
    }

    /// Levels best first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = Level> + ExactSizeIterator + '_ {
        self.levels.iter().rev().copied()
    }

    /// The `i`-th best level (0 is the best).
    pub fn get(&self, i: usize) -> Option<Level> {
        let n = self.levels.len();
        (i < n).then(|| self.levels[n - 1 - i])
    }

    /// Index of `px` in the worst-first array, or where it would go.
    #[inline]
    fn find(&self, px: i64) -> Result<usize, usize> {
        // Near-touch updates dominate: check the best end before bisecting.
        let n = self.levels.len();
        if n > 0 {
            let top = self.levels[n - 1].px;
            if top == px {
                return Ok(n - 1);
            }
            if self.better(px, top) {
                return Err(n);
            }
        }
        match self.side {
            Side::Bid => self.levels.binary_search_by(|l| l.px.cmp(&px)),
            Side::Ask => self.levels.binary_search_by(|l| px.cmp(&l.px)),
        }
    }

    /// Size resting at `px` (0 if no level).
    #[inline]
    pub fn qty_at(&self, px: i64) -> i64 {
        self.find(px).map_or(0, |i| self.levels[i].qty)
    }

    /// Sets the size at `px` (0 removes the level) and reports what changed. A new level worse
    /// than every held level on a full side is dropped (reported as no change) and marks the
    /// side truncated; a better one evicts the worst.
    ///
    /// `qty` must be >= 0; a negative size is treated as 0.
    #[inline]
    pub fn set(&mut self, px: i64, qty: i64) -> DepthChange {
        let prev_best = self.best().map(|l| l.px);
        let (prev_qty, new_qty) = match self.find(px) {
            Ok(i) => {
                let prev = self.levels[i].qty;
                if qty > 0 {
                    self.levels[i].qty = qty;
                    (prev, qty)
                } else {
                    self.levels.remove(i);
                    (prev, 0)
                }
            }
            Err(i) if qty > 0 && self.insert_at(i, Level { px, qty }) => (0, qty),
            Err(_) => (0, 0),
        };
        DepthChange {
            side: self.side,
            px,
            prev_qty,
            new_qty,
            prev_best,
            new_best: self.best().map(|l| l.px),
        }
    }

    /// Inserts at index `i`; returns false if the level was dropped for lack of room.
    #[inline]
    fn insert_at(&mut self, i: usize, l: Level) -> bool {
        if self.levels.len() < self.capacity {
            self.levels.insert(i, l);
            true
        } else if i == 0 {
            self.truncated = true;
            false
        } else {
            // Full: evict the worst level by shifting only the levels worse than the new one.
            self.levels.copy_within(1..i, 0);
            self.levels[i - 1] = l;
            self.truncated = true;
            true
        }
    }

    /// Removes every level.
    pub fn clear(&mut self) {
        self.levels.clear();
        self.truncated = false;
    }

    /// Replaces the side with `best_first` (strictly better-to-worse, qty > 0; checked by the
    /// caller) keeping the best `capacity`.
    pub(crate) fn replace_best_first(&mut self, best_first: &[Level]) {
        let keep = best_first.len().min(self.capacity);
        self.levels.clear();
        self.levels.extend(best_first[..keep].iter().rev());
        self.truncated = best_first.len() > keep;
    }

    /// As [`Self::replace_best_first`], reporting each price whose size changed (old and new
    /// merged best first), with the side's best before and after the whole replacement.
    pub(crate) fn replace_best_first_with(
        &mut self,
        best_first: &[Level],
        on_change: &mut impl FnMut(DepthChange),
    ) {
        let prev_best = self.best().map(|l| l.px);
        let keep = best_first.len().min(self.capacity);
        let new = &best_first[..keep];
        let new_best = new.first().map(|l| l.px);
        let side = self.side;
        let change = |px, prev_qty, new_qty| DepthChange {
            side,
            px,
            prev_qty,
            new_qty,
            prev_best,
            new_best,
        };
        let mut old = self.levels.iter().rev().peekable();
        let mut fresh = new.iter().peekable();
        loop {
            match (old.peek().copied(), fresh.peek().copied()) {
                (None, None) => break,
                (Some(o), Some(f)) if o.px == f.px => {
                    if o.qty != f.qty {
                        on_change(change(o.px, o.qty, f.qty));
                    }
                    old.next();
                    fresh.next();
                }
                (Some(o), Some(f)) if self.better(f.px, o.px) => {
                    on_change(change(f.px, 0, f.qty));
                    fresh.next();
                }
                (Some(o), _) => {
                    on_change(change(o.px, o.qty, 0));
                    old.next();
                }
                (None, Some(f)) => {
                    on_change(change(f.px, 0, f.qty));
                    fresh.next();
                }
            }
        }
        self.replace_best_first(best_first);
    }

    /// Total size at prices better than `px` plus the size at `px`: what a new order joining
    /// the back of the queue at `px` waits behind.
    pub fn qty_ahead(&self, px: i64) -> i64 {
        let from = match self.find(px) {
            Ok(i) | Err(i) => i,
        };
        self.levels[from..].iter().map(|l| l.qty).sum()
    }

    /// Total size at prices at least as good as `limit`.
    pub fn qty_to(&self, limit: i64) -> i64 {
        self.iter()
            .take_while(|l| !self.better(limit, l.px))
            .map(|l| l.qty)
            .sum()
    }
}

/// A two-sided L2 book in ticks and lots with bounded depth. Updates never allocate.
#[derive(Debug, Clone)]
pub struct L2Book {
    bids: BookSide,
    asks: BookSide,
}

impl L2Book {
    /// A book holding at most `depth` levels per side (allocated now, never grown).
    pub fn new(depth: usize) -> Self {
        Self {
            bids: BookSide::new(Side::Bid, depth),
            asks: BookSide::new(Side::Ask, depth),
        }
    }

    pub fn side(&self, side: Side) -> &BookSide {
        match side {
            Side::Bid => &self.bids,
            Side::Ask => &self.asks,
        }
    }

    pub fn side_mut(&mut self, side: Side) -> &mut BookSide {
        match side {
            Side::Bid => &mut self.bids,
            Side::Ask => &mut self.asks,
        }
    }

    pub fn bids(&self) -> &BookSide {
        &self.bids
    }

    pub fn asks(&self) -> &BookSide {
        &self.asks
    }

    /// Sets the size at `px` on `side` (0 removes the level); see [`BookSide::set`].
    #[inline]
    pub fn update(&mut self, side: Side, px: i64, qty: i64) -> DepthChange {
        self.side_mut(side).set(px, qty)
    }

    pub fn clear(&mut self) {
        self.bids.clear();
        self.asks.clear();
    }

    #[inline]
    pub fn best_bid(&self) -> Option<Level> {
        self.bids.best()
    }

    #[inline]
    pub fn best_ask(&self) -> Option<Level> {
        self.asks.best()
    }

    /// `(bid + ask) / 2` in ticks (half ticks possible), if both sides have a level.
    #[inline]
    pub fn mid_ticks(&self) -> Option<f64> {
        let (b, a) = (self.best_bid()?, self.best_ask()?);
        Some((b.px as f64 + a.px as f64) * 0.5)
    }

    /// The size-weighted mid `(bid * ask_qty + ask * bid_qty) / (bid_qty + ask_qty)` in ticks:
    /// it leans toward the side with less size, where the price is likelier to go.
    pub fn microprice_ticks(&self) -> Option<f64> {
        let (b, a) = (self.best_bid()?, self.best_ask()?);
        let (bq, aq) = (b.qty as f64, a.qty as f64);
        Some((b.px as f64 * aq + a.px as f64 * bq) / (bq + aq))
    }

    /// `(ask - bid) / mid * 1e4`; negative when the book is crossed.
    pub fn spread_bps(&self) -> Option<f64> {
        let (b, a) = (self.best_bid()?, self.best_ask()?);
        let mid = (b.px as f64 + a.px as f64) * 0.5;
        (mid > 0.0).then(|| (a.px - b.px) as f64 / mid * 1e4)
    }

    /// Size resting at `px` on `side`.
    pub fn qty_at(&self, side: Side, px: i64) -> i64 {
        self.side(side).qty_at(px)
    }

    /// Total size on `side` at prices within `bps` of the mid (bids at or above
    /// `mid * (1 - bps/1e4)`, asks at or below `mid * (1 + bps/1e4)`); 0 without a mid.
    pub fn depth_within_bps(&self, side: Side, bps: f64) -> i64 {
        let Some(mid) = self.mid_ticks() else {
            return 0;
        };
        let s = self.side(side);
        let limit = match side {
            Side::Bid => mid * (1.0 - bps * 1e-4),
            Side::Ask => mid * (1.0 + bps * 1e-4),
        };
        s.iter()
            .take_while(|l| match side {
                Side::Bid => l.px as f64 >= limit,
                Side::Ask => l.px as f64 <= limit,
            })
            .map(|l| l.qty)
            .sum()
    }

    /// Size ahead of a new order at `px` on `side`: everything at better prices plus what
    /// already rests at `px` (time priority puts the new order behind it).
    pub fn qty_ahead(&self, side: Side, px: i64) -> i64 {
        self.side(side).qty_ahead(px)
    }

    /// True if the best bid is at or above the best ask.
    pub fn is_crossed(&self) -> bool {
        matches!((self.best_bid(), self.best_ask()), (Some(b), Some(a)) if b.px >= a.px)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;

    fn book(bids: &[(i64, i64)], asks: &[(i64, i64)]) -> L2Book {
        let mut b = L2Book::new(16);
        for &(px, q) in bids {
            b.update(Side::Bid, px, q);
        }
        for &(px, q) in asks {
            b.update(Side::Ask, px, q);
        }
        b
    }

    #[test]
    fn derived_values_by_hand() {
        // bids 100x5, 99x10, 97x1; asks 102x15, 103x2
        let b = book(&[(99, 10), (100, 5), (97, 1)], &[(103, 2), (102, 15)]);
        assert_eq!(b.best_bid(), Some(Level { px: 100, qty: 5 }));
        assert_eq!(b.best_ask(), Some(Level { px: 102, qty: 15 }));
        assert_eq!(b.mid_ticks(), Some(101.0));
        // (100*15 + 102*5) / 20 = 100.5
        assert_eq!(b.microprice_ticks(), Some(100.5));
        // 2 / 101 * 1e4
        assert!((b.spread_bps().unwrap() - 198.019_801_980_198).abs() < 1e-9);
        assert_eq!(b.qty_at(Side::Bid, 99), 10);
        assert_eq!(b.qty_at(Side::Bid, 98), 0);
        assert_eq!(b.qty_ahead(Side::Bid, 99), 15);
        assert_eq!(b.qty_ahead(Side::Bid, 98), 15);
        assert_eq!(b.qty_ahead(Side::Bid, 101), 0);
        assert_eq!(b.qty_ahead(Side::Ask, 103), 17);
        assert_eq!(b.qty_ahead(Side::Ask, 102), 15);
        // 200 bps of 101 = 2.02: bids >= 98.98 -> 100, 99; asks <= 103.02 -> both
        assert_eq!(b.depth_within_bps(Side::Bid, 200.0), 15);
        assert_eq!(b.depth_within_bps(Side::Ask, 200.0), 17);
        assert_eq!(b.depth_within_bps(Side::Ask, 0.0), 0);
        assert_eq!(b.side(Side::Bid).qty_to(99), 15);
        let got: Vec<i64> = b.bids().iter().map(|l| l.px).collect();
        assert_eq!(got, [100, 99, 97]);
        assert!(!b.is_crossed());
        assert_eq!(L2Book::new(4).mid_ticks(), None);
    }

    #[test]
    fn update_reports_like_hftbacktest() {
        let mut b = book(&[(100, 5)], &[]);
        let c = b.update(Side::Bid, 101, 3);
        assert_eq!(
            c,
            DepthChange {
                side: Side::Bid,
                px: 101,
                prev_qty: 0,
                new_qty: 3,
                prev_best: Some(100),
                new_best: Some(101)
            }
        );
        let c = b.update(Side::Bid, 101, 0);
        assert_eq!(
            (c.prev_qty, c.new_qty, c.prev_best, c.new_best),
            (3, 0, Some(101), Some(100))
        );
        let c = b.update(Side::Bid, 100, 7);
        assert_eq!(
            (c.prev_qty, c.new_qty, c.prev_best, c.new_best),
            (5, 7, Some(100), Some(100))
        );
        let c = b.update(Side::Bid, 50, 0);
        assert_eq!((c.prev_qty, c.new_qty), (0, 0));
    }

    #[test]
    fn bounded_depth_keeps_the_best() {
        let mut b = L2Book::new(3);
        for px in [10, 11, 12] {
            b.update(Side::Ask, px, 1);
        }
        // Worse than all on a full side: dropped, reported as nothing.
        let c = b.update(Side::Ask, 13, 5);
        assert_eq!((c.prev_qty, c.new_qty), (0, 0));
        assert!(b.asks().is_truncated());
        // Better: evicts the worst (12).
        let c = b.update(Side::Ask, 9, 2);
        assert_eq!((c.new_qty, c.new_best), (2, Some(9)));
        let got: Vec<i64> = b.asks().iter().map(|l| l.px).collect();
        assert_eq!(got, [9, 10, 11]);
        b.update(Side::Ask, 10, 4);
        let c = b.update(Side::Ask, 10, 0);
        assert_eq!((c.prev_qty, c.new_qty), (4, 0));
        assert_eq!(b.asks().len(), 2);
    }

    #[test]
    fn snapshot_replace_reports_each_change() {
        let mut s = BookSide::new(Side::Bid, 8);
        for (px, q) in [(100, 5), (99, 2), (97, 1)] {
            s.set(px, q);
        }
        let mut got = vec![];
        let new = [
            Level { px: 101, qty: 1 },
            Level { px: 100, qty: 5 },
            Level { px: 99, qty: 3 },
        ];
        s.replace_best_first_with(&new, &mut |c| got.push((c.px, c.prev_qty, c.new_qty)));
        assert_eq!(got, [(101, 0, 1), (99, 2, 3), (97, 1, 0)]);
        assert_eq!(s.iter().collect::<Vec<_>>(), new);
    }

    proptest! {
        // Any sequence of updates leaves the same levels as a BTreeMap model (within capacity,
        // the best `cap` levels), reports the model's previous size, and keeps the invariants.
        #[test]
        fn matches_a_map_model(ops in prop::collection::vec((any::<bool>(), 0i64..40, 0i64..4), 0..300), cap in 1usize..50) {
            let mut b = L2Book::new(cap);
            let mut model: [BTreeMap<i64, i64>; 2] = [BTreeMap::new(), BTreeMap::new()];
            for (bid, px, qty) in ops {
                let (side, m) = if bid { (Side::Bid, &mut model[0]) } else { (Side::Ask, &mut model[1]) };
                let s = b.side(side);
                let held_before = s.qty_at(px);
                let c = b.update(side, px, qty);
                prop_assert_eq!(c.prev_qty, held_before);
                if qty == 0 { m.remove(&px); } else { m.insert(px, qty); }
                let s = b.side(side);
                prop_assert_eq!(c.new_qty, s.qty_at(px));
                prop_assert_eq!(c.new_best, s.best().map(|l| l.px));
                // Invariants: strictly sorted best first, qty > 0, within capacity.
                let lv: Vec<Level> = s.iter().collect();
                prop_assert!(lv.len() <= cap);
                prop_assert!(lv.iter().all(|l| l.qty > 0));
                prop_assert!(lv.windows(2).all(|w| s.better(w[0].px, w[1].px)));
                if !s.is_truncated() {
                    // Untruncated: exactly the model.
                    let want: Vec<Level> = if bid {
                        m.iter().rev().map(|(&px, &qty)| Level { px, qty }).collect()
                    } else {
                        m.iter().map(|(&px, &qty)| Level { px, qty }).collect()
                    };
                    prop_assert_eq!(lv, want);
                }
            }
        }

        // A level set written as a snapshot reads back identically, and the reported changes
        // turn the old set into the new one.
        #[test]
        fn level_sets_round_trip(
            old in prop::collection::btree_map(0i64..200, 1i64..1000, 0..30),
            new in prop::collection::btree_map(0i64..200, 1i64..1000, 0..30),
        ) {
            for side in [Side::Bid, Side::Ask] {
                let to_levels = |m: &BTreeMap<i64, i64>| -> Vec<Level> {
                    let v = m.iter().map(|(&px, &qty)| Level { px, qty });
                    if side == Side::Bid { v.rev().collect() } else { v.collect() }
                };
                let mut s = BookSide::new(side, 64);
                s.replace_best_first(&to_levels(&old));
                prop_assert_eq!(s.iter().collect::<Vec<_>>(), to_levels(&old));
                let mut applied = old.clone();
                s.replace_best_first_with(&to_levels(&new), &mut |c| {
                    assert_eq!(c.prev_qty, applied.get(&c.px).copied().unwrap_or(0));
                    if c.new_qty == 0 { applied.remove(&c.px); } else { applied.insert(c.px, c.new_qty); }
                });
                prop_assert_eq!(&applied, &new);
                prop_assert_eq!(s.iter().collect::<Vec<_>>(), to_levels(&new));
            }
        }
    }
}
