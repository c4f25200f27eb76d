//! The Hyperliquid book (SPEC 9): fed whole `l2Book` snapshots and `bbo` frames, one raw frame
//! per call. A `bbo` newer than the last snapshot overrides the top of book until a snapshot at
//! least as new arrives.

use super::{
    decimal::Dec,
    l2::{DepthChange, L2Book, Level},
    parse::PResult,
    parse_hl::{parse_with, HlMessage, HlSink},
    BookError, Scale,
};
use crate::types::Side;

/// Levels held per side. Hyperliquid sends at most 20; the margin costs nothing.
pub const HL_DEPTH: usize = 64;

/// What [`HlBook::apply`] did with a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HlApplied {
    /// An `l2Book` snapshot replaced the book.
    Snapshot,
    /// A `bbo` newer than the snapshot replaced the top of book.
    Bbo,
    /// A book frame older than what the book already holds: ignored.
    Stale,
    /// Not a book frame for this book (another channel, or another coin): ignored.
    Ignored,
}

impl HlApplied {
    /// True when the book's state came from this frame.
    pub fn applied(self) -> bool {
        matches!(self, HlApplied::Snapshot | HlApplied::Bbo)
    }
}

#[derive(Debug, Clone, Copy)]
struct StoredBbo {
    time: u64,
    bid: Option<Level>,
    ask: Option<Level>,
}

/// Hyperliquid L2 book in ticks of `10^-px_decimals` and lots of `10^-sz_decimals`.
#[derive(Debug, Clone)]
pub struct HlBook {
    book: L2Book,
    px: Scale,
    sz: Scale,
    coin: Option<String>,
    snapshot_ms: Option<u64>,
    bbo: Option<StoredBbo>,
    /// Parsed levels of the frame being applied, best first; committed only once the whole
    /// frame has parsed.
    stage: [Vec<Level>; 2],
}

/// Converts levels into the staging buffers as the parser meets them.
struct Stage<'b> {
    px: Scale,
    sz: Scale,
    stage: &'b mut [Vec<Level>; 2],
}

impl<'a> HlSink<'a> for Stage<'_> {
    #[inline(always)]
    fn level(&mut self, side: Side, px: Dec<'a>, sz: Dec<'a>) -> PResult<()> {
        let px_units = self.px.units("px", px)?;
        if px_units <= 0 {
            return Err(BookError::field(
                "px",
                px.text.as_bytes(),
                "a price must be above zero",
            ));
        }
        let qty = self.sz.units("sz", sz)?;
        stage_level(self.stage, side, px_units, qty)
    }
}

/// One parsed level into the staging buffer of its side: levels strictly best first, empty
/// ones dropped, at most [`HL_DEPTH`] kept.
fn stage_level(stage: &mut [Vec<Level>; 2], side: Side, px: i64, qty: i64) -> PResult<()> {
    let v = &mut stage[side as usize];
    if let Some(last) = v.last() {
        let ordered = match side {
            Side::Bid => px < last.px,
            Side::Ask => px > last.px,
        };
        if !ordered {
            return Err(BookError::field(
                "levels",
                px.to_string().as_bytes(),
                "levels must be strictly best first",
            ));
        }
    }
    if qty > 0 && v.len() < HL_DEPTH {
        v.push(Level { px, qty });
    }
    Ok(())
}

impl HlBook {
    /// A book for a perp with `sz_decimals` (prices then have `6 - sz_decimals` decimals,
    /// PROTOCOL 4.3).
    ///
    /// # Errors
    /// `sz_decimals` above 6.
    pub fn new(sz_decimals: u32) -> crate::Result<Self> {
        if sz_decimals > 6 {
            return Err(crate::Error::invalid(
                "sz_decimals",
                sz_decimals,
                "a perp has at most 6 size decimals",
            ));
        }
        Self::with_decimals(6 - sz_decimals, sz_decimals)
    }

    /// A book with explicit price and size decimals (spot: `8 - sz_decimals` price decimals).
    ///
    /// # Errors
    /// Either above 18.
    pub fn with_decimals(px_decimals: u32, sz_decimals: u32) -> crate::Result<Self> {
        Ok(Self {
            book: L2Book::new(HL_DEPTH),
            px: Scale::new(px_decimals)?,
            sz: Scale::new(sz_decimals)?,
            coin: None,
            snapshot_ms: None,
            bbo: None,
            stage: [Vec::with_capacity(HL_DEPTH), Vec::with_capacity(HL_DEPTH)],
        })
    }

    /// Restricts the book to frames of `coin`; frames of other coins are [`HlApplied::Ignored`].
    pub fn for_coin(mut self, coin: &str) -> Self {
        self.coin = Some(coin.to_owned());
        self
    }

    pub fn book(&self) -> &L2Book {
        &self.book
    }

    pub fn px_scale(&self) -> Scale {
        self.px
    }

    pub fn sz_scale(&self) -> Scale {
        self.sz
    }

    /// Exchange time (ms) of the newest frame the book holds, if any.
    pub fn time_ms(&self) -> Option<u64> {
        match (self.snapshot_ms, self.bbo) {
            (s, Some(b)) => Some(s.map_or(b.time, |s| s.max(b.time))),
            (s, None) => s,
        }
    }

    /// Exchange time (ms) of the last `l2Book` snapshot applied.
    pub fn snapshot_ms(&self) -> Option<u64> {
        self.snapshot_ms
    }

    /// Everything but the scratch buffers, for tests that check a refused frame changed nothing.
    #[cfg(test)]
    pub(crate) fn state_fingerprint(&self) -> String {
        format!(
            "{:?} {:?} {:?} {:?}",
            self.book, self.coin, self.snapshot_ms, self.bbo
        )
    }

    /// Applies one raw frame.
    ///
    /// # Errors
    /// [`BookError`] for a malformed frame; the book is then exactly as it was.
    pub fn apply(&mut self, frame: &[u8]) -> Result<HlApplied, BookError> {
        self.apply_impl::<false, _>(frame, &mut |_| {})
    }

    /// As [`Self::apply`], calling `on_change` for every price whose size changed (a snapshot
    /// is diffed against the book it replaces).
    ///
    /// # Errors
    /// As [`Self::apply`].
    pub fn apply_with(
        &mut self,
        frame: &[u8],
        mut on_change: impl FnMut(DepthChange),
    ) -> Result<HlApplied, BookError> {
        self.apply_impl::<true, _>(frame, &mut on_change)
    }

    fn apply_impl<const REPORT: bool, F: FnMut(DepthChange)>(
        &mut self,
        frame: &[u8],
        on_change: &mut F,
    ) -> Result<HlApplied, BookError> {
        self.stage[0].clear();
        self.stage[1].clear();
        let mut sink = Stage {
            px: self.px,
            sz: self.sz,
            stage: &mut self.stage,
        };
        let msg = parse_with(frame, &mut sink)?;
        match msg {
            HlMessage::L2Book(b) => {
                if !self.is_our_coin(b.coin) {
                    return Ok(HlApplied::Ignored);
                }
                self.commit_snapshot::<REPORT, F>(b.time, on_change)
            }
            HlMessage::Bbo(b) => {
                if !self.is_our_coin(b.coin) {
                    return Ok(HlApplied::Ignored);
                }
                self.check_uncrossed()?;
                let older_than_held = self.snapshot_ms.is_some_and(|t| b.time <= t)
                    || self.bbo.is_some_and(|held| b.time < held.time);
                if older_than_held {
                    return Ok(HlApplied::Stale);
                }
                let bbo = StoredBbo {
                    time: b.time,
                    bid: b.bid.and(self.stage[0].first().copied()),
                    ask: b.ask.and(self.stage[1].first().copied()),
                };
                self.bbo = Some(bbo);
                self.overlay::<REPORT, F>(bbo, on_change);
                Ok(HlApplied::Bbo)
            }
            _ => Ok(HlApplied::Ignored),
        }
    }

    /// Applies an `l2Book` snapshot of our coin given as levels in the book's units (ticks and
    /// lots), best first: exactly what [`Self::apply`] does with the frame that carries them,
    /// without the text (the backtester hands over the venue's book this way).
    ///
    /// # Errors
    /// As [`Self::apply`]: a level at a price <= 0, levels not strictly best first, a crossed
    /// book; the book is then exactly as it was.
    pub fn apply_levels(
        &mut self,
        time: u64,
        bids: impl IntoIterator<Item = Level>,
        asks: impl IntoIterator<Item = Level>,
    ) -> Result<HlApplied, BookError> {
        self.stage[0].clear();
        self.stage[1].clear();
        let sides = bids
            .into_iter()
            .map(|l| (Side::Bid, l))
            .chain(asks.into_iter().map(|l| (Side::Ask, l)));
        for (side, l) in sides {
            if l.px <= 0 {
                return Err(BookError::field(
                    "px",
                    l.px.to_string().as_bytes(),
                    "a price must be above zero",
                ));
            }
            stage_level(&mut self.stage, side, l.px, l.qty)?;
        }
        self.commit_snapshot::<false, _>(time, &mut |_| {})
    }

    /// The staged levels become the book (an `l2Book` at exchange time `time`).
    fn commit_snapshot<const REPORT: bool, F: FnMut(DepthChange)>(
        &mut self,
        time: u64,
        on_change: &mut F,
    ) -> Result<HlApplied, BookError> {
        self.check_uncrossed()?;
        if self.snapshot_ms.is_some_and(|t| time < t) {
            return Ok(HlApplied::Stale);
        }
        self.replace::<REPORT, F>(on_change);
        self.snapshot_ms = Some(time);
        match self.bbo {
            Some(bbo) if bbo.time > time => self.overlay::<REPORT, F>(bbo, on_change),
            _ => self.bbo = None,
        }
        Ok(HlApplied::Snapshot)
    }

    /// A book (or bbo) whose best bid is at or above its best ask is not a market anyone can
    /// quote against: the frame is refused whole, like any malformed one (issue 13 item 7).
    fn check_uncrossed(&self) -> Result<(), BookError> {
        match (self.stage[0].first(), self.stage[1].first()) {
            (Some(b), Some(a)) if b.px >= a.px => Err(BookError::field(
                "levels",
                format!("bid {} >= ask {}", b.px, a.px).as_bytes(),
                "best bid must be below best ask",
            )),
            _ => Ok(()),
        }
    }

    fn is_our_coin(&self, coin: &str) -> bool {
        self.coin.as_deref().is_none_or(|c| c == coin)
    }

    fn replace<const REPORT: bool, F: FnMut(DepthChange)>(&mut self, on_change: &mut F) {
        for side in [Side::Bid, Side::Ask] {
            let new = &self.stage[side as usize];
            let s = self.book.side_mut(side);
            if REPORT {
                s.replace_best_first_with(new, on_change);
            } else {
                s.replace_best_first(new);
            }
        }
    }

    /// Puts the bbo's level on top of each side, dropping held levels at or better than it
    /// (the bbo is newer: they are gone). An empty bbo side empties the book side.
    fn overlay<const REPORT: bool, F: FnMut(DepthChange)>(
        &mut self,
        bbo: StoredBbo,
        on_change: &mut F,
    ) {
        for (side, top) in [(Side::Bid, bbo.bid), (Side::Ask, bbo.ask)] {
            let stage = &mut self.stage[side as usize];
            stage.clear();
            let s = self.book.side_mut(side);
            if let Some(top) = top {
                stage.push(top);
                stage.extend(
                    s.iter()
                        .filter(|l| s.better(top.px, l.px))
                        .take(HL_DEPTH - 1),
                );
            }
            if REPORT {
                s.replace_best_first_with(stage, on_change);
            } else {
                s.replace_best_first(stage);
            }
        }
    }

    pub fn best_bid(&self) -> Option<Level> {
        self.book.best_bid()
    }

    pub fn best_ask(&self) -> Option<Level> {
        self.book.best_ask()
    }

    /// Best bid as `(price, size)` in coin units.
    pub fn best_bid_f64(&self) -> Option<(f64, f64)> {
        self.best_bid().map(|l| self.level_f64(l))
    }

    /// Best ask as `(price, size)` in coin units.
    pub fn best_ask_f64(&self) -> Option<(f64, f64)> {
        self.best_ask().map(|l| self.level_f64(l))
    }

    /// Mid price, if both sides have a level.
    pub fn mid(&self) -> Option<f64> {
        self.book.mid_ticks().map(|t| self.px.ticks_f64_to_f64(t))
    }

    pub fn level_f64(&self, l: Level) -> (f64, f64) {
        (self.px.to_f64(l.px), self.sz.to_f64(l.qty))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l2(time: u64, bids: &[(&str, &str)], asks: &[(&str, &str)]) -> String {
        let side = |v: &[(&str, &str)]| {
            v.iter()
                .map(|(p, s)| format!(r#"{{"px":"{p}","sz":"{s}","n":1}}"#))
                .collect::<Vec<_>>()
                .join(",")
        };
        format!(
            r#"{{"channel":"l2Book","data":{{"coin":"BTC","time":{time},"levels":[[{}],[{}]]}}}}"#,
            side(bids),
            side(asks)
        )
    }

    fn bbo(time: u64, bid: Option<(&str, &str)>, ask: Option<(&str, &str)>) -> String {
        let lvl = |l: Option<(&str, &str)>| match l {
            Some((p, s)) => format!(r#"{{"px":"{p}","sz":"{s}","n":2}}"#),
            None => "null".into(),
        };
        format!(
            r#"{{"channel":"bbo","data":{{"coin":"BTC","time":{time},"bbo":[{},{}]}}}}"#,
            lvl(bid),
            lvl(ask)
        )
    }

    #[test]
    fn snapshot_then_newer_bbo_then_snapshot() {
        let mut b = HlBook::new(5).unwrap();
        let snap = l2(
            1000,
            &[("100.0", "1"), ("99.0", "2")],
            &[("101.0", "3"), ("102.0", "4")],
        );
        assert_eq!(b.apply(snap.as_bytes()).unwrap(), HlApplied::Snapshot);
        assert_eq!(b.best_bid_f64(), Some((100.0, 1.0)));
        assert_eq!(b.best_ask_f64(), Some((101.0, 3.0)));
        assert_eq!(b.mid(), Some(100.5));
        assert_eq!(b.time_ms(), Some(1000));
        // Newer bbo: bid improves to 100.5, ask lifted to 102.0.
        let top = bbo(1001, Some(("100.5", "0.5")), Some(("102.0", "1.5")));
        let mut changes = vec![];
        let r = b.apply_with(top.as_bytes(), |c| {
            changes.push((c.side, c.px, c.prev_qty, c.new_qty))
        });
        assert_eq!(r.unwrap(), HlApplied::Bbo);
        assert_eq!(
            changes,
            [
                (Side::Bid, 1005, 0, 50000),
                (Side::Ask, 1010, 300000, 0),
                (Side::Ask, 1020, 400000, 150000)
            ]
        );
        assert_eq!(b.best_bid_f64(), Some((100.5, 0.5)));
        assert_eq!(b.book().bids().len(), 3);
        assert_eq!(b.best_ask_f64(), Some((102.0, 1.5)));
        assert_eq!(b.time_ms(), Some(1001));
        // A bbo not newer than the held one, or than the snapshot, is stale.
        assert_eq!(
            b.apply(bbo(1000, None, None).as_bytes()).unwrap(),
            HlApplied::Stale
        );
        // A snapshot older than the bbo: book replaced, bbo still on top.
        let older = l2(1000, &[("99.0", "2")], &[("101.0", "3")]);
        assert_eq!(b.apply(older.as_bytes()).unwrap(), HlApplied::Snapshot);
        assert_eq!(b.best_bid_f64(), Some((100.5, 0.5)));
        assert_eq!(b.best_ask_f64(), Some((102.0, 1.5)));
        // A newer snapshot supersedes the bbo.
        let newer = l2(1002, &[("99.0", "2")], &[("101.0", "3")]);
        assert_eq!(b.apply(newer.as_bytes()).unwrap(), HlApplied::Snapshot);
        assert_eq!(b.best_bid_f64(), Some((99.0, 2.0)));
        assert_eq!(b.best_ask_f64(), Some((101.0, 3.0)));
        // Older snapshot than held: stale. Empty bbo side empties the side.
        assert_eq!(b.apply(older.as_bytes()).unwrap(), HlApplied::Stale);
        assert_eq!(
            b.apply(bbo(1003, None, Some(("101.0", "1"))).as_bytes())
                .unwrap(),
            HlApplied::Bbo
        );
        assert_eq!(b.best_bid(), None);
        assert_eq!(b.mid(), None);
    }

    #[test]
    fn malformed_and_foreign_frames_leave_the_book() {
        let mut b = HlBook::new(5).unwrap().for_coin("BTC");
        b.apply(l2(1, &[("100.0", "1")], &[("101.0", "1")]).as_bytes())
            .unwrap();
        let before = format!("{:?}", b.book());
        for bad in [
            l2(2, &[("100.0", "1"), ("100.5", "1")], &[]), // bids not best first
            l2(2, &[("100.05", "1")], &[]),                // finer than the tick
            l2(2, &[("100.0", "1.0000001")], &[]),         // finer than the lot
            l2(2, &[("1e2", "1")], &[]),
            r#"{"channel":"l2Book","data":{"coin":"BTC","time":2}}"#.into(),
            r#"{"channel":"l2Book"}"#.into(),
            "Websocket".into(),
        ] {
            assert!(b.apply(bad.as_bytes()).is_err(), "{bad}");
            assert_eq!(format!("{:?}", b.book()), before);
            assert_eq!(b.time_ms(), Some(1));
        }
        let eth = l2(5, &[("1.0", "1")], &[]).replace("BTC", "ETH");
        assert_eq!(b.apply(eth.as_bytes()).unwrap(), HlApplied::Ignored);
        for other in [
            "Websocket connection established.",
            r#"{"channel":"pong"}"#,
            r#"{"channel":"subscriptionResponse","data":{"method":"subscribe","subscription":{"type":"l2Book","coin":"BTC"}}}"#,
            r#"{"channel":"error","data":"Invalid subscription {\"type\":\"l2Book\"}"}"#,
            r#"{"channel":"trades","data":[]}"#,
            r#"{"channel":"allMids","data":{"mids":{"BTC":"1"}}}"#,
        ] {
            assert_eq!(
                b.apply(other.as_bytes()).unwrap(),
                HlApplied::Ignored,
                "{other}"
            );
        }
        assert_eq!(format!("{:?}", b.book()), before);
        assert!(HlBook::new(7).is_err());
    }

    /// Issue 13 item 7: a book whose best bid is at or above its best ask, or a level priced at
    /// zero, is malformed; the book keeps its last valid state.
    #[test]
    fn crossed_locked_or_zero_priced_books_are_refused() {
        let mut b = HlBook::new(5).unwrap().for_coin("BTC");
        b.apply(l2(1, &[("100.0", "1")], &[("101.0", "1")]).as_bytes())
            .unwrap();
        let before = format!("{:?}", b.book());
        for bad in [
            l2(2, &[("101.0", "1")], &[("101.0", "1")]), // locked
            l2(2, &[("102.0", "1")], &[("101.0", "1")]), // crossed
            l2(2, &[("0", "1")], &[("101.0", "1")]),     // zero price
            l2(2, &[], &[("0.0", "1")]),
            bbo(3, Some(("101.5", "1")), Some(("101.0", "1"))),
            bbo(3, Some(("101.0", "1")), Some(("101.0", "1"))),
            bbo(3, Some(("0", "1")), None),
        ] {
            let err = b.apply(bad.as_bytes()).unwrap_err().to_string();
            assert!(err.contains("malformed"), "{bad}: {err}");
            assert_eq!(format!("{:?}", b.book()), before, "{bad}");
            assert_eq!(b.time_ms(), Some(1));
        }
        // One side alone is a fact of thin markets, not an error.
        assert_eq!(
            b.apply(bbo(4, Some(("100.5", "1")), None).as_bytes())
                .unwrap(),
            HlApplied::Bbo
        );
    }
}
