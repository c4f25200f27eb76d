//! The simulated market book of one asset: background liquidity from the market model plus the
//! real orders of accounts, matched with price-time priority (SPEC 11).
//!
//! Each level holds the market model's aggregate size (`bg`) and a time-ordered list of real
//! orders, each remembering the background size ahead of it (see [`super::queue`]). A taker
//! consumes a level front to back: the background between real orders, then each real order, then
//! the background behind the last one.

use std::collections::BTreeMap;

use super::queue::QueueModel;

/// A real resting order in the book.
#[derive(Debug, Clone, PartialEq)]
pub struct Resting {
    pub oid: u64,
    /// Account index in the engine.
    pub user: u32,
    pub remaining: i64,
    /// Background lots ahead of this order at its level.
    pub ahead: f64,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Level {
    /// Background size in lots.
    pub bg: i64,
    /// Number of background orders shown in `n`.
    pub bg_n: u32,
    pub orders: Vec<Resting>,
}

impl Level {
    fn is_empty(&self) -> bool {
        self.bg <= 0 && self.orders.is_empty()
    }

    pub fn total(&self) -> i64 {
        self.bg + self.orders.iter().map(|o| o.remaining).sum::<i64>()
    }

    fn set_bg(&mut self, bg: i64, bg_n: u32, q: &QueueModel) {
        let bg = bg.max(0);
        if bg < self.bg {
            let (total, c) = (self.bg as f64, (self.bg - bg) as f64);
            let mut floor = 0.0f64;
            for o in &mut self.orders {
                // Background ahead of an earlier order is also ahead of a later one.
                o.ahead = q.after_cancel(o.ahead, total, c).max(floor);
                floor = o.ahead;
            }
        }
        self.bg = bg;
        self.bg_n = if bg > 0 { bg_n.max(1) } else { 0 };
    }
}

/// One match of a taker against the book.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Match {
    pub px: i64,
    pub sz: i64,
    /// `(oid, user)` of the real maker order, `None` for background liquidity.
    pub maker: Option<(u64, u32)>,
    /// True when the maker order is now completely filled.
    pub maker_done: bool,
}

/// What a taker did to the book.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct TakeResult {
    pub matches: Vec<Match>,
    /// Resting orders of the taker's own account removed by self-trade prevention.
    pub stp_cancelled: Vec<(u64, u32, i64)>,
}

/// How a taker treats the book.
#[derive(Debug, Clone, Copy)]
pub struct Taker {
    pub is_buy: bool,
    /// Worst acceptable price (inclusive); `None` takes at any price.
    pub limit: Option<i64>,
    pub qty: i64,
    /// Account of the taker, for self-trade prevention; `None` for the market model.
    pub user: Option<u32>,
    /// False when only real orders may be taken (the market model crossing them).
    pub include_bg: bool,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct SimBook {
    pub bids: BTreeMap<i64, Level>,
    pub asks: BTreeMap<i64, Level>,
}

impl SimBook {
    pub fn best_bid(&self) -> Option<i64> {
        self.bids.keys().next_back().copied()
    }

    pub fn best_ask(&self) -> Option<i64> {
        self.asks.keys().next().copied()
    }

    /// Best price holding the market's own (background) liquidity.
    pub fn best_bg(&self, is_bid: bool) -> Option<i64> {
        let has_bg = |(px, l): (&i64, &Level)| (l.bg > 0).then_some(*px);
        if is_bid {
            self.bids.iter().rev().find_map(has_bg)
        } else {
            self.asks.iter().find_map(has_bg)
        }
    }

    fn side_mut(&mut self, is_bid: bool) -> &mut BTreeMap<i64, Level> {
        if is_bid {
            &mut self.bids
        } else {
            &mut self.asks
        }
    }

    /// Best `depth` levels of a side as `(px, size, n)`, best first.
    pub fn levels(&self, is_bid: bool, depth: usize) -> Vec<(i64, i64, u32)> {
        let mut v = Vec::with_capacity(depth.min(64));
        self.levels_into(is_bid, depth, &mut v);
        v
    }

    /// As [`Self::levels`], appended to `out` (no allocation once `out` has grown).
    pub fn levels_into(&self, is_bid: bool, depth: usize, out: &mut Vec<(i64, i64, u32)>) {
        let f = |(px, l): (&i64, &Level)| (*px, l.total(), l.bg_n + l.orders.len() as u32);
        if is_bid {
            out.extend(self.bids.iter().rev().take(depth).map(f));
        } else {
            out.extend(self.asks.iter().take(depth).map(f));
        }
    }

    /// Puts a real order at the back of its level's queue.
    pub fn add(&mut self, is_bid: bool, px: i64, oid: u64, user: u32, qty: i64) {
        let level = self.side_mut(is_bid).entry(px).or_default();
        let ahead = level.bg as f64;
        level.orders.push(Resting {
            oid,
            user,
            remaining: qty,
            ahead,
        });
    }

    /// Removes a real order; returns it if it was there.
    pub fn remove(&mut self, is_bid: bool, px: i64, oid: u64) -> Option<Resting> {
        let side = self.side_mut(is_bid);
        let level = side.get_mut(&px)?;
        let i = level.orders.iter().position(|o| o.oid == oid)?;
        let o = level.orders.remove(i);
        if level.is_empty() {
            side.remove(&px);
        }
        Some(o)
    }

    /// Queue position of a real order: `(background ahead, real size ahead)`.
    pub fn queue_position(&self, is_bid: bool, px: i64, oid: u64) -> Option<(f64, i64)> {
        let level = if is_bid { &self.bids } else { &self.asks }.get(&px)?;
        let mut real = 0;
        for o in &level.orders {
            if o.oid == oid {
                return Some((o.ahead, real));
            }
            real += o.remaining;
        }
        None
    }

    /// Matches a taker against the opposite side; returns the unfilled quantity.
    pub fn take(&mut self, t: Taker, out: &mut TakeResult) -> i64 {
        let maker_is_bid = !t.is_buy;
        let side = self.side_mut(maker_is_bid);
        let within = |px: &i64| match t.limit {
            Some(limit) => (t.is_buy && *px <= limit) || (!t.is_buy && *px >= limit),
            None => true,
        };
        // Taking never adds a level, so the candidate prices can be listed first.
        let prices: Vec<i64> = if maker_is_bid {
            side.keys().rev().copied().take_while(within).collect()
        } else {
            side.keys().copied().take_while(within).collect()
        };
        let mut qty = t.qty;
        for px in prices {
            if qty <= 0 {
                break;
            }
            let level = side.get_mut(&px).expect("listed above");
            qty = take_level(level, px, qty, t, out);
            if level.is_empty() {
                side.remove(&px);
            }
        }
        qty
    }

    /// Replaces one side's background with `levels` (`(px, size, n)`), moving the queue
    /// position of real orders at levels whose background shrank.
    pub fn set_background(&mut self, is_bid: bool, levels: &[(i64, i64, u32)], q: &QueueModel) {
        let new: BTreeMap<i64, (i64, u32)> = levels
            .iter()
            .filter(|l| l.1 > 0)
            .map(|&(p, s, n)| (p, (s, n)))
            .collect();
        let side = self.side_mut(is_bid);
        side.retain(|px, level| {
            let (bg, n) = new.get(px).copied().unwrap_or((0, 0));
            level.set_bg(bg, n, q);
            !level.is_empty()
        });
        for (px, (bg, n)) in new {
            side.entry(px).or_insert_with(|| Level {
                bg,
                bg_n: n.max(1),
                orders: Vec::new(),
            });
        }
    }

    /// Sets the background size of one level (replay of a changed level).
    pub fn set_level_background(&mut self, is_bid: bool, px: i64, bg: i64, n: u32, q: &QueueModel) {
        let side = self.side_mut(is_bid);
        let level = side.entry(px).or_default();
        level.set_bg(bg, n, q);
        if level.is_empty() {
            side.remove(&px);
        }
    }
}

fn take_level(level: &mut Level, px: i64, mut qty: i64, t: Taker, out: &mut TakeResult) -> i64 {
    let mut bg_used: i64 = 0;
    let mut i = 0;
    while i < level.orders.len() && qty > 0 {
        if t.include_bg {
            let ahead = level.orders[i].ahead;
            let gap = ((ahead - bg_used as f64).max(0.0).ceil() as i64).min(level.bg - bg_used);
            let n = gap.min(qty);
            if n > 0 {
                bg_used += n;
                qty -= n;
                out.matches.push(Match {
                    px,
                    sz: n,
                    maker: None,
                    maker_done: false,
                });
                if qty == 0 {
                    break;
                }
            }
        }
        let o = &mut level.orders[i];
        if t.user == Some(o.user) {
            // Self-trade prevention: the resting order is cancelled, the taker goes on.
            out.stp_cancelled.push((o.oid, o.user, o.remaining));
            level.orders.remove(i);
            continue;
        }
        let n = qty.min(o.remaining);
        o.remaining -= n;
        qty -= n;
        let done = o.remaining == 0;
        out.matches.push(Match {
            px,
            sz: n,
            maker: Some((o.oid, o.user)),
            maker_done: done,
        });
        if done {
            level.orders.remove(i);
        } else {
            i += 1;
        }
    }
    if t.include_bg && qty > 0 {
        let n = qty.min(level.bg - bg_used);
        if n > 0 {
            bg_used += n;
            qty -= n;
            out.matches.push(Match {
                px,
                sz: n,
                maker: None,
                maker_done: false,
            });
        }
    }
    if bg_used > 0 {
        // Trades take the queue from the front: every order left moves up by what traded.
        let before = level.bg.max(1) as f64;
        level.bg -= bg_used;
        for o in &mut level.orders {
            o.ahead = (o.ahead - bg_used as f64).max(0.0);
        }
        if level.bg <= 0 {
            level.bg_n = 0;
        } else {
            let frac = level.bg as f64 / before;
            level.bg_n = ((f64::from(level.bg_n) * frac).ceil() as u32).max(1);
        }
    }
    qty
}

#[cfg(test)]
mod tests {
    use super::*;

    fn taker(is_buy: bool, limit: Option<i64>, qty: i64, user: Option<u32>) -> Taker {
        Taker {
            is_buy,
            limit,
            qty,
            user,
            include_bg: true,
        }
    }

    #[test]
    fn order_fills_only_after_the_size_ahead_has_traded() {
        let q = QueueModel::RISK_AVERSE;
        let mut b = SimBook::default();
        b.set_background(true, &[(100, 5, 2)], &q);
        b.add(true, 100, 1, 7, 2);
        // background added after us is behind us
        b.set_background(true, &[(100, 9, 3)], &q);
        assert_eq!(b.queue_position(true, 100, 1), Some((5.0, 0)));
        let mut out = TakeResult::default();
        assert_eq!(b.take(taker(false, None, 3, None), &mut out), 0);
        assert!(out.matches.iter().all(|m| m.maker.is_none()));
        assert_eq!(b.queue_position(true, 100, 1), Some((2.0, 0)));
        let mut out = TakeResult::default();
        b.take(taker(false, None, 3, None), &mut out);
        // 2 background, then 1 of our 2 lots
        assert_eq!(out.matches.len(), 2);
        assert_eq!(out.matches[1].maker, Some((1, 7)));
        assert_eq!(out.matches[1].sz, 1);
        assert_eq!(b.queue_position(true, 100, 1), Some((0.0, 0)));
        assert_eq!(b.levels(true, 5), vec![(100, 1 + 4, 2 + 1)]);
    }

    #[test]
    fn price_priority_then_time_priority_between_real_orders() {
        let mut b = SimBook::default();
        b.add(false, 101, 1, 1, 3);
        b.add(false, 100, 2, 2, 1);
        b.add(false, 100, 3, 3, 1);
        let mut out = TakeResult::default();
        let left = b.take(taker(true, Some(101), 4, Some(9)), &mut out);
        assert_eq!(left, 0);
        let makers: Vec<_> = out
            .matches
            .iter()
            .map(|m| (m.px, m.maker.unwrap().0))
            .collect();
        assert_eq!(makers, vec![(100, 2), (100, 3), (101, 1)]);
        assert_eq!(b.levels(false, 5), vec![(101, 1, 1)]);
    }

    #[test]
    fn limit_stops_the_sweep() {
        let q = QueueModel::default();
        let mut b = SimBook::default();
        b.set_background(false, &[(100, 1, 1), (101, 1, 1), (102, 1, 1)], &q);
        let mut out = TakeResult::default();
        assert_eq!(b.take(taker(true, Some(101), 5, None), &mut out), 3);
        assert_eq!(b.best_ask(), Some(102));
    }

    #[test]
    fn self_trade_cancels_the_resting_order_and_the_taker_goes_on() {
        let mut b = SimBook::default();
        b.add(false, 100, 1, 5, 1);
        b.add(false, 100, 2, 6, 1);
        let mut out = TakeResult::default();
        let left = b.take(taker(true, Some(100), 2, Some(5)), &mut out);
        assert_eq!(left, 1);
        assert_eq!(out.stp_cancelled, vec![(1, 5, 1)]);
        assert_eq!(out.matches.len(), 1);
        assert_eq!(out.matches[0].maker, Some((2, 6)));
        assert!(b.asks.is_empty());
    }

    #[test]
    fn background_cancels_move_the_queue_by_the_model() {
        let mut b = SimBook::default();
        let pro_rata = QueueModel {
            cancel_weight: 1.0,
            power: 1.0,
        };
        b.set_background(true, &[(100, 40, 4)], &pro_rata);
        b.add(true, 100, 1, 1, 1);
        b.set_background(true, &[(100, 50, 5)], &pro_rata); // 10 behind
        b.set_background(true, &[(100, 30, 3)], &pro_rata); // 20 cancelled, 40/50 ahead
        let (ahead, _) = b.queue_position(true, 100, 1).unwrap();
        assert!((ahead - 24.0).abs() < 1e-9, "{ahead}");
        // the level leaves the model's book: nothing is ahead any more, our order stays
        b.set_background(true, &[(99, 30, 3)], &pro_rata);
        assert_eq!(b.queue_position(true, 100, 1), Some((0.0, 0)));
        assert_eq!(b.best_bid(), Some(100));
    }

    #[test]
    fn taking_real_orders_only_leaves_background() {
        let q = QueueModel::default();
        let mut b = SimBook::default();
        b.set_background(true, &[(100, 5, 1), (99, 5, 1)], &q);
        b.add(true, 100, 1, 1, 2);
        b.add(true, 99, 2, 1, 2);
        let mut out = TakeResult::default();
        let t = Taker {
            is_buy: false,
            limit: Some(99),
            qty: i64::MAX,
            user: None,
            include_bg: false,
        };
        b.take(t, &mut out);
        assert_eq!(out.matches.len(), 2);
        assert!(out.matches.iter().all(|m| m.maker.is_some()));
        assert_eq!(b.levels(true, 5), vec![(100, 5, 1), (99, 5, 1)]);
    }
}
