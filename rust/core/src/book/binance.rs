//! The Binance USD-M local order book (SPEC 9, PROTOCOL 6.2), synchronised exactly as Binance's
//! "How to manage a local order book correctly" says:
//!
//! 1. diffs that arrive before the REST snapshot are buffered;
//! 2. on the snapshot (`lastUpdateId` L), buffered diffs with `u < L` are dropped, and the first
//!    applied diff must have `U <= L <= u`;
//! 3. afterwards each diff's `pu` must equal the previous diff's `u` (without `pu`, as on spot,
//!    `U` must be the previous `u + 1`); a gap makes the book unusable until a new snapshot:
//!    [`BinanceBook::needs_resync`] turns true and the best bid/ask queries return
//!    [`BookError::NotSynced`] instead of a stale answer.

use super::{
    decimal::Dec,
    l2::{DepthChange, L2Book, Level},
    parse::PResult,
    parse_binance::{parse_with, BinanceMessage, DepthSink},
    BookError, Scale,
};
use crate::types::Side;

/// Levels held per side by default: the REST snapshot's maximum (`limit=1000`).
pub const BINANCE_DEPTH: usize = 1000;

/// At most this many levels are buffered while waiting for a snapshot; older diffs are dropped
/// first (a snapshot taken after them does not need them).
const MAX_BUFFERED_LEVELS: usize = 1 << 20;

/// What [`BinanceBook::apply`] did with a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinanceApplied {
    /// The diff was applied to the synced book.
    Applied,
    /// Waiting for a snapshot: the diff was buffered.
    Buffered,
    /// A diff older than the snapshot: dropped.
    Stale,
    /// A sequence gap: the diff was buffered and the book needs a new snapshot.
    Gap,
    /// Not a diff-depth frame (another stream, a partial-depth frame): ignored.
    Ignored,
}

impl BinanceApplied {
    /// True when the book changed.
    pub fn applied(self) -> bool {
        self == BinanceApplied::Applied
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sync {
    /// No usable snapshot: diffs are buffered.
    Waiting,
    /// Snapshot applied, waiting for the diff with `U <= L <= u`.
    Bridging,
    Synced,
}

#[derive(Debug, Clone, Copy)]
struct Buffered {
    first_id: u64,
    final_id: u64,
    prev_final_id: Option<u64>,
    /// Range in `buf_levels`.
    start: usize,
    end: usize,
}

#[derive(Debug, Clone, Copy)]
struct Staged {
    side: Side,
    px: i64,
    qty: i64,
}

/// Converts levels into the staging buffer as the parser meets them.
struct Stage<'b> {
    px: Scale,
    qty: Scale,
    stage: &'b mut Vec<Staged>,
}

impl<'a> DepthSink<'a> for Stage<'_> {
    #[inline(always)]
    fn level(&mut self, side: Side, px: Dec<'a>, qty: Dec<'a>) -> PResult<()> {
        let p = self.px.units("px", px)?;
        if p <= 0 {
            return Err(BookError::field(
                "px",
                px.text.as_bytes(),
                "a price must be > 0",
            ));
        }
        let qty = self.qty.units("qty", qty)?;
        self.stage.push(Staged { side, px: p, qty });
        Ok(())
    }

    fn reset(&mut self) {
        self.stage.clear();
    }
}

/// Binance diff-depth book in ticks of `10^-px_decimals` and lots of `10^-qty_decimals`.
#[derive(Debug, Clone)]
pub struct BinanceBook {
    book: L2Book,
    px: Scale,
    qty: Scale,
    sync: Sync,
    needs_resync: bool,
    /// `lastUpdateId` of the snapshot in use.
    snapshot_id: Option<u64>,
    /// `u` of the last diff applied (or the snapshot's id before the first diff).
    last_update_id: Option<u64>,
    buf: Vec<Buffered>,
    buf_levels: Vec<Staged>,
    stage: Vec<Staged>,
}

impl Default for BinanceBook {
    fn default() -> Self {
        Self::new()
    }
}

impl BinanceBook {
    /// A book with 8 price and 8 quantity decimals (enough for every USD-M symbol: prices and
    /// quantities stay exact) and [`BINANCE_DEPTH`] levels per side.
    pub fn new() -> Self {
        Self::with_scales(8, 8, BINANCE_DEPTH).expect("8 decimals is a valid scale")
    }

    /// A book with explicit decimals and depth per side.
    ///
    /// # Errors
    /// Decimals above 18, or a depth of 0.
    pub fn with_scales(px_decimals: u32, qty_decimals: u32, depth: usize) -> crate::Result<Self> {
        if depth == 0 {
            return Err(crate::Error::invalid("depth", depth, "must be > 0"));
        }
        Ok(Self {
            book: L2Book::new(depth),
            px: Scale::new(px_decimals)?,
            qty: Scale::new(qty_decimals)?,
            sync: Sync::Waiting,
            needs_resync: false,
            snapshot_id: None,
            last_update_id: None,
            buf: Vec::new(),
            buf_levels: Vec::new(),
            stage: Vec::with_capacity(2 * depth),
        })
    }

    pub fn px_scale(&self) -> Scale {
        self.px
    }

    pub fn qty_scale(&self) -> Scale {
        self.qty
    }

    /// True when a snapshot and an unbroken chain of diffs make the book exact.
    pub fn synced(&self) -> bool {
        self.sync == Sync::Synced && !self.needs_resync
    }

    /// True after a sequence gap, or a snapshot older than the buffered diffs: fetch a new
    /// snapshot and pass it to [`Self::apply_snapshot`].
    pub fn needs_resync(&self) -> bool {
        self.needs_resync
    }

    /// `u` of the last applied diff (the snapshot's `lastUpdateId` before the first diff).
    pub fn last_update_id(&self) -> Option<u64> {
        self.last_update_id
    }

    /// The book, whatever its sync state (for inspection; trading decisions should use the
    /// checked queries).
    pub fn book(&self) -> &L2Book {
        &self.book
    }

    /// The book if synced.
    ///
    /// # Errors
    /// [`BookError::NotSynced`] when not synced or after a gap.
    pub fn synced_book(&self) -> Result<&L2Book, BookError> {
        if self.needs_resync {
            Err(BookError::NotSynced {
                reason: "sequence gap: a new snapshot is needed",
            })
        } else if self.sync != Sync::Synced {
            Err(BookError::NotSynced {
                reason: "waiting for the snapshot and the diff that bridges it",
            })
        } else {
            Ok(&self.book)
        }
    }

    /// # Errors
    /// [`BookError::NotSynced`], see [`Self::synced_book`].
    pub fn best_bid(&self) -> Result<Option<Level>, BookError> {
        Ok(self.synced_book()?.best_bid())
    }

    /// # Errors
    /// [`BookError::NotSynced`], see [`Self::synced_book`].
    pub fn best_ask(&self) -> Result<Option<Level>, BookError> {
        Ok(self.synced_book()?.best_ask())
    }

    /// # Errors
    /// [`BookError::NotSynced`], see [`Self::synced_book`].
    pub fn mid(&self) -> Result<Option<f64>, BookError> {
        Ok(self
            .synced_book()?
            .mid_ticks()
            .map(|t| self.px.ticks_f64_to_f64(t)))
    }

    pub fn level_f64(&self, l: Level) -> (f64, f64) {
        (self.px.to_f64(l.px), self.qty.to_f64(l.qty))
    }

    /// Applies one websocket frame (raw or combined stream). Diff-depth frames update or are
    /// buffered; frames of other streams and partial-depth frames are [`BinanceApplied::Ignored`].
    ///
    /// # Errors
    /// [`BookError`] for a malformed frame; the book and its sync state are then unchanged.
    pub fn apply(&mut self, frame: &[u8]) -> Result<BinanceApplied, BookError> {
        self.apply_impl::<false, _>(frame, &mut |_| {})
    }

    /// As [`Self::apply`], calling `on_change` for each level update applied.
    ///
    /// # Errors
    /// As [`Self::apply`].
    pub fn apply_with(
        &mut self,
        frame: &[u8],
        mut on_change: impl FnMut(DepthChange),
    ) -> Result<BinanceApplied, BookError> {
        self.apply_impl::<true, _>(frame, &mut on_change)
    }

    fn apply_impl<const REPORT: bool, F: FnMut(DepthChange)>(
        &mut self,
        frame: &[u8],
        on_change: &mut F,
    ) -> Result<BinanceApplied, BookError> {
        self.stage.clear();
        let mut sink = Stage {
            px: self.px,
            qty: self.qty,
            stage: &mut self.stage,
        };
        let d = match parse_with(frame, &mut sink)? {
            BinanceMessage::DepthUpdate(d) if !d.is_partial() => d,
            _ => return Ok(BinanceApplied::Ignored),
        };
        let diff = Buffered {
            first_id: d.first_id,
            final_id: d.final_id,
            prev_final_id: d.prev_final_id,
            start: 0,
            end: 0,
        };
        if self.needs_resync || self.sync == Sync::Waiting {
            self.buffer(diff);
            return Ok(BinanceApplied::Buffered);
        }
        let r = self.sequence(diff);
        match r {
            BinanceApplied::Applied => {
                Self::apply_staged::<REPORT, F>(&mut self.book, &self.stage, on_change);
                self.last_update_id = Some(diff.final_id);
            }
            BinanceApplied::Gap => {
                self.buf.clear();
                self.buf_levels.clear();
                self.buffer(diff);
            }
            _ => {}
        }
        Ok(r)
    }

    /// Decides what a diff means for a book holding a snapshot; updates the sync state.
    fn sequence(&mut self, d: Buffered) -> BinanceApplied {
        let snap = self.snapshot_id.unwrap_or(0);
        match self.sync {
            Sync::Bridging => {
                if d.final_id < snap {
                    BinanceApplied::Stale
                } else if d.first_id <= snap {
                    self.sync = Sync::Synced;
                    BinanceApplied::Applied
                } else {
                    self.needs_resync = true;
                    BinanceApplied::Gap
                }
            }
            Sync::Synced => {
                let prev = self.last_update_id.unwrap_or(0);
                let chained = match d.prev_final_id {
                    Some(pu) => pu == prev,
                    None => d.first_id == prev + 1,
                };
                if chained {
                    BinanceApplied::Applied
                } else {
                    self.needs_resync = true;
                    BinanceApplied::Gap
                }
            }
            Sync::Waiting => BinanceApplied::Buffered,
        }
    }

    fn apply_staged<const REPORT: bool, F: FnMut(DepthChange)>(
        book: &mut L2Book,
        staged: &[Staged],
        on_change: &mut F,
    ) {
        for s in staged {
            let c = book.update(s.side, s.px, s.qty);
            if REPORT {
                on_change(c);
            }
        }
    }

    fn buffer(&mut self, mut d: Buffered) {
        if self.stage.len() > MAX_BUFFERED_LEVELS {
            return;
        }
        while !self.buf.is_empty() && self.buf_levels.len() + self.stage.len() > MAX_BUFFERED_LEVELS
        {
            let drop = self.buf.remove(0);
            self.buf_levels.drain(..drop.end);
            for b in &mut self.buf {
                b.start -= drop.end;
                b.end -= drop.end;
            }
        }
        d.start = self.buf_levels.len();
        self.buf_levels.extend_from_slice(&self.stage);
        d.end = self.buf_levels.len();
        self.buf.push(d);
    }

    /// Everything but the scratch buffer, for tests that check a refused frame changed nothing.
    #[cfg(test)]
    pub(crate) fn state_fingerprint(&self) -> String {
        format!(
            "{:?} {:?} {} {:?} {:?} {:?} {:?}",
            self.book,
            self.sync,
            self.needs_resync,
            self.snapshot_id,
            self.last_update_id,
            self.buf,
            self.buf_levels
        )
    }

    /// Applies the REST depth snapshot body and replays the buffered diffs on it. Returns
    /// whether the book is synced afterwards (false while the bridging diff has not arrived yet,
    /// or when the snapshot is older than every buffered diff: then `needs_resync` is true).
    ///
    /// # Errors
    /// [`BookError`] if `body` is not a depth snapshot; the book is then unchanged.
    pub fn apply_snapshot(&mut self, body: &[u8]) -> Result<bool, BookError> {
        self.stage.clear();
        let mut sink = Stage {
            px: self.px,
            qty: self.qty,
            stage: &mut self.stage,
        };
        let s = match parse_with(body, &mut sink)? {
            BinanceMessage::DepthSnapshot(s) => s,
            _ => {
                return Err(BookError::Missing {
                    message: "depth snapshot",
                    field: "lastUpdateId",
                })
            }
        };
        // Order each side best first whatever the body's order (stable: a repeated price keeps
        // the last quantity given, as applying the levels one by one would).
        self.stage.sort_by(|a, b| {
            (a.side as u8).cmp(&(b.side as u8)).then(match a.side {
                Side::Bid => b.px.cmp(&a.px),
                Side::Ask => a.px.cmp(&b.px),
            })
        });
        let mut side_levels: Vec<Level> = Vec::with_capacity(self.stage.len());
        for side in [Side::Bid, Side::Ask] {
            side_levels.clear();
            for st in self.stage.iter().filter(|st| st.side == side) {
                match side_levels.last_mut() {
                    Some(last) if last.px == st.px => last.qty = st.qty,
                    _ => side_levels.push(Level {
                        px: st.px,
                        qty: st.qty,
                    }),
                }
            }
            side_levels.retain(|l| l.qty > 0);
            self.book.side_mut(side).replace_best_first(&side_levels);
        }
        let l = s.last_update_id;
        self.snapshot_id = Some(l);
        self.last_update_id = Some(l);
        self.sync = Sync::Bridging;
        self.needs_resync = false;
        // Replay the buffer in arrival order.
        let buf = std::mem::take(&mut self.buf);
        let levels = std::mem::take(&mut self.buf_levels);
        let mut rest_from = None;
        for (i, d) in buf.iter().enumerate() {
            match self.sequence(*d) {
                BinanceApplied::Applied => {
                    Self::apply_staged::<false, _>(
                        &mut self.book,
                        &levels[d.start..d.end],
                        &mut |_| {},
                    );
                    self.last_update_id = Some(d.final_id);
                }
                BinanceApplied::Gap => {
                    rest_from = Some(i);
                    break;
                }
                _ => {}
            }
        }
        self.buf = buf;
        self.buf_levels = levels;
        match rest_from {
            // Keep the diffs from the gap on: a newer snapshot will need them.
            Some(i) => {
                let cut = self.buf[i].start;
                self.buf.drain(..i);
                self.buf_levels.drain(..cut);
                for b in &mut self.buf {
                    b.start -= cut;
                    b.end -= cut;
                }
            }
            None => {
                self.buf.clear();
                self.buf_levels.clear();
            }
        }
        Ok(self.synced())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diff(
        first: u64,
        last: u64,
        pu: u64,
        bids: &[(&str, &str)],
        asks: &[(&str, &str)],
    ) -> String {
        let side = |v: &[(&str, &str)]| {
            v.iter()
                .map(|(p, q)| format!(r#"["{p}","{q}"]"#))
                .collect::<Vec<_>>()
                .join(",")
        };
        format!(
            r#"{{"stream":"btcusdt@depth@100ms","data":{{"e":"depthUpdate","E":1,"T":1,"s":"BTCUSDT","U":{first},"u":{last},"pu":{pu},"b":[{}],"a":[{}]}}}}"#,
            side(bids),
            side(asks)
        )
    }

    const SNAP: &str = r#"{"lastUpdateId":100,"E":1,"T":1,"bids":[["10.0","1"],["9.0","2"]],"asks":[["11.0","1"],["12.0","2"]]}"#;

    #[test]
    fn syncs_from_buffer_and_detects_gaps() {
        let mut b = BinanceBook::new();
        // Buffered before the snapshot: one stale (u < L), one bridging (U <= L <= u).
        let early = diff(90, 95, 89, &[("10.0", "5")], &[]);
        let bridge = diff(96, 105, 95, &[("10.5", "1")], &[("11.0", "0")]);
        assert_eq!(b.apply(early.as_bytes()).unwrap(), BinanceApplied::Buffered);
        assert_eq!(
            b.apply(bridge.as_bytes()).unwrap(),
            BinanceApplied::Buffered
        );
        assert!(!b.synced());
        assert!(matches!(b.best_bid(), Err(BookError::NotSynced { .. })));
        assert!(b.apply_snapshot(SNAP.as_bytes()).unwrap());
        assert_eq!(b.last_update_id(), Some(105));
        let s = b.px_scale().one();
        assert_eq!(b.best_bid().unwrap().unwrap().px, 105 * s / 10);
        // 10.0 x 1 (the early diff's 5 was dropped): bids 10.5, 10.0, 9.0
        assert_eq!(b.book().qty_at(Side::Bid, 10 * s), b.qty_scale().one());
        assert_eq!(b.best_ask().unwrap().unwrap().px, 12 * s);
        assert_eq!(b.mid().unwrap(), Some(11.25));
        let next = diff(106, 110, 105, &[], &[("11.5", "3")]);
        assert_eq!(b.apply(next.as_bytes()).unwrap(), BinanceApplied::Applied);
        assert_eq!(b.best_ask().unwrap().unwrap().px, 115 * s / 10);
        // Gap: pu != previous u.
        let gap = diff(120, 125, 118, &[("10.9", "1")], &[]);
        assert_eq!(b.apply(gap.as_bytes()).unwrap(), BinanceApplied::Gap);
        assert!(b.needs_resync() && !b.synced());
        assert!(b.best_bid().is_err() && b.best_ask().is_err() && b.mid().is_err());
        // Subsequent diffs are buffered; a new snapshot resyncs from them.
        let after = diff(126, 130, 125, &[("10.95", "1")], &[]);
        assert_eq!(b.apply(after.as_bytes()).unwrap(), BinanceApplied::Buffered);
        let snap2 = SNAP.replace("100", "122");
        assert!(b.apply_snapshot(snap2.as_bytes()).unwrap());
        assert_eq!(b.last_update_id(), Some(130));
        assert_eq!(b.best_bid().unwrap().unwrap().px, 1095 * s / 100);
    }

    #[test]
    fn snapshot_too_old_or_waiting_for_bridge() {
        let mut b = BinanceBook::new();
        b.apply(diff(200, 210, 199, &[], &[]).as_bytes()).unwrap();
        // L = 100 < U = 200 of every buffered diff: too old.
        assert!(!b.apply_snapshot(SNAP.as_bytes()).unwrap());
        assert!(b.needs_resync());
        // A snapshot newer than the buffer waits for its bridge.
        let mut b = BinanceBook::new();
        b.apply(diff(90, 95, 89, &[], &[]).as_bytes()).unwrap();
        assert!(!b.apply_snapshot(SNAP.as_bytes()).unwrap());
        assert!(!b.needs_resync() && !b.synced());
        assert_eq!(
            b.apply(diff(96, 99, 95, &[], &[]).as_bytes()).unwrap(),
            BinanceApplied::Stale
        );
        assert_eq!(
            b.apply(diff(100, 101, 99, &[], &[]).as_bytes()).unwrap(),
            BinanceApplied::Applied
        );
        assert!(b.synced());
    }

    #[test]
    fn other_frames_and_errors_change_nothing() {
        let mut b = BinanceBook::new();
        b.apply_snapshot(SNAP.as_bytes()).unwrap();
        b.apply(diff(95, 101, 94, &[], &[]).as_bytes()).unwrap();
        assert!(b.synced());
        let before = b.state_fingerprint();
        for other in [
            r#"{"stream":"btcusdt@bookTicker","data":{"e":"bookTicker","u":1,"s":"BTCUSDT","b":"1.0","B":"1","a":"2.0","A":"1"}}"#.to_string(),
            r#"{"result":null,"id":1}"#.to_string(),
            diff(102, 103, 101, &[("1.0", "1")], &[]).replace("depth@100ms", "depth5@100ms"),
        ] {
            assert_eq!(b.apply(other.as_bytes()).unwrap(), BinanceApplied::Ignored, "{other}");
        }
        for bad in [
            diff(102, 103, 101, &[("1.0", "1")], &[("x", "1")]),
            diff(102, 103, 101, &[("1.000000001", "1")], &[]),
            diff(102, 103, 101, &[("1.0", "1")], &[]).replace("\"U\"", "\"V\""),
            "{".to_string(),
        ] {
            assert!(b.apply(bad.as_bytes()).is_err(), "{bad}");
            assert_eq!(b.state_fingerprint(), before);
        }
        assert!(b.apply_snapshot(b"{\"e\":\"x\"}").is_err());
        assert_eq!(b.state_fingerprint(), before);
    }
}
