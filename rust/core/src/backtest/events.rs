//! A recording (shared/data line format, Hyperliquid or Binance USD-M) decoded into typed
//! fixed-size records, once: the backtester then replays integers instead of parsing JSON on
//! every run (the records are what [`super::cache`] stores).
//!
//! Prices and sizes are exact integers in units of 1e-8 ([`UNIT_DECIMALS`]); receive times are
//! ms. A book frame (`l2Book`, a Binance depth diff or REST snapshot) is one header record
//! followed by its level records, so a frame stays whole whatever merges it with another stream.

use crate::book::{parse_binance_frame, parse_hl_frame, BinanceMessage, HlMessage};
use crate::error::{Error, Result};
use crate::protocol::decimal::parse_scaled;
use crate::replay::{ReplayError, ReplayReader};
use crate::types::Side;

/// Decimals of the integer units of prices and sizes in a record.
pub const UNIT_DECIMALS: u32 = 8;

/// What a record is. `n`, `a`, `b` and `flag` of [`Rec`] mean, per kind:
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    /// Hyperliquid `l2Book`: `n` bid levels then `a` ask levels follow; `b` exchange time ms.
    HlBook = 1,
    /// A level of the book frame before it: `flag` bid, `a` px, `b` size (0: level removed),
    /// `n` order count.
    Level = 2,
    /// Hyperliquid trade: `flag` aggressor buys, `a` px, `b` size, `n` 1 for the first trade of
    /// its frame (frames are what the summary's `events` counts).
    HlTrade = 3,
    /// Binance `bookTicker`: `a` bid px, `b` ask px.
    BnTop = 4,
    /// Binance `trade`: `flag` buyer is maker, `a` px, `b` qty.
    BnTrade = 5,
    /// Binance `aggTrade`: as `BnTrade`.
    BnAggTrade = 6,
    /// Binance depth diff: `n` bid levels then `a` ask levels follow (absolute sizes).
    BnDepth = 7,
    /// Binance REST depth snapshot: as `BnDepth`, replacing the book.
    BnSnapshot = 8,
    /// Hyperliquid `bbo`: `a` bid px, `b` ask px (0: side empty). Kept so the replay can count
    /// it (the replay does not apply it: see `Backtest::replay_until`).
    HlBbo = 9,
}

impl Kind {
    pub fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            1 => Kind::HlBook,
            2 => Kind::Level,
            3 => Kind::HlTrade,
            4 => Kind::BnTop,
            5 => Kind::BnTrade,
            6 => Kind::BnAggTrade,
            7 => Kind::BnDepth,
            8 => Kind::BnSnapshot,
            9 => Kind::HlBbo,
            _ => return None,
        })
    }

    /// A header whose levels follow.
    pub fn is_book(self) -> bool {
        matches!(self, Kind::HlBook | Kind::BnDepth | Kind::BnSnapshot)
    }
}

/// One typed record (32 bytes on disk).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rec {
    pub t_ms: u64,
    pub kind: Kind,
    pub flag: bool,
    pub n: u32,
    pub a: i64,
    pub b: i64,
}

impl Rec {
    /// A level, trade or top the replay steps (not a book header, not a skipped `bbo`).
    pub fn is_market_event(&self) -> bool {
        !self.kind.is_book() && self.kind != Kind::HlBbo
    }

    /// A header's level count.
    pub fn levels(&self) -> usize {
        self.n as usize + self.a as usize
    }
}

/// Which venue's line format a recording is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Venue {
    Hyperliquid = 1,
    Binance = 2,
}

/// A decoded recording: its records in receive-time order (stable: a frame's records stay
/// together and equal times keep file order), its coin (Hyperliquid) or symbol (Binance), and
/// the mid of its first two-sided top.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    pub venue: Venue,
    pub name: String,
    pub first_mid: f64,
    pub recs: Vec<Rec>,
}

impl Decoded {
    /// Market records (levels, trades, tops): the unit of the replay's events per second.
    pub fn market_events(&self) -> u64 {
        self.recs.iter().filter(|r| r.is_market_event()).count() as u64
    }
}

fn fmt_err(path: &str, line: u64, reason: &'static str) -> Error {
    ReplayError::Format {
        path: path.to_string(),
        line,
        reason,
    }
    .into()
}

/// A frame's fault, located by the caller.
type Fault = &'static str;

fn unit(s: &str) -> std::result::Result<i64, Fault> {
    parse_scaled(s, UNIT_DECIMALS).map_err(|_| "a price or size is not a decimal with <= 8 places")
}

fn to_f64(v: i64) -> f64 {
    v as f64 / 1e8
}

struct Decoder {
    recs: Vec<Rec>,
    name: Option<String>,
    first_mid: f64,
}

impl Decoder {
    fn push(&mut self, t_ms: u64, kind: Kind, flag: bool, n: u32, a: i64, b: i64) {
        self.recs.push(Rec {
            t_ms,
            kind,
            flag,
            n,
            a,
            b,
        });
    }

    /// Whether a frame of `name` belongs to the recording (the first name seen is its own).
    fn ours(&mut self, name: &str) -> bool {
        match &self.name {
            Some(n) => n.eq_ignore_ascii_case(name),
            None => {
                self.name = Some(name.to_string());
                true
            }
        }
    }

    fn hl(&mut self, t: u64, frame: &[u8]) -> std::result::Result<(), Fault> {
        let msg = parse_hl_frame(frame).map_err(|_| "the frame is not a Hyperliquid message")?;
        match msg {
            HlMessage::L2Book(b) if self.ours(b.coin) => {
                let (nb, na) = (b.bids.len(), b.asks.len());
                self.push(t, Kind::HlBook, false, nb as u32, na as i64, b.time as i64);
                for (is_bid, side) in [(true, b.bids), (false, b.asks)] {
                    for l in side.iter() {
                        let (px, sz) = (unit(l.px)?, unit(l.sz)?);
                        self.push(t, Kind::Level, is_bid, l.n as u32, px, sz);
                    }
                }
                if self.first_mid == 0.0 {
                    if let (Some(bb), Some(ba)) = (b.bids.first(), b.asks.first()) {
                        let (bp, ap) = (unit(bb.px)?, unit(ba.px)?);
                        self.first_mid = (to_f64(bp) + to_f64(ap)) / 2.0;
                    }
                }
            }
            HlMessage::Bbo(b) if self.ours(b.coin) => {
                let px = |l: Option<crate::book::HlLevel<'_>>| l.map_or(Ok(0), |l| unit(l.px));
                let (bid, ask) = (px(b.bid)?, px(b.ask)?);
                self.push(t, Kind::HlBbo, false, 0, bid, ask);
            }
            HlMessage::Trades(trades) => {
                let mut first = 1;
                for tr in trades.iter() {
                    if !self.ours(tr.coin) {
                        continue;
                    }
                    let (px, sz) = (unit(tr.px)?, unit(tr.sz)?);
                    self.push(t, Kind::HlTrade, tr.side == Side::Bid, first, px, sz);
                    first = 0;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn binance(&mut self, t: u64, frame: &[u8]) -> std::result::Result<(), Fault> {
        let msg = parse_binance_frame(frame).map_err(|_| "the frame is not a Binance message")?;
        match msg {
            BinanceMessage::BookTicker(bt) if self.ours(bt.symbol) => {
                let (bid, ask) = (unit(bt.bid_px)?, unit(bt.ask_px)?);
                if self.first_mid == 0.0 && bid > 0 && ask >= bid {
                    self.first_mid = (to_f64(bid) + to_f64(ask)) / 2.0;
                }
                self.push(t, Kind::BnTop, false, 0, bid, ask);
            }
            BinanceMessage::Trade(tr) if tr.symbol.is_none_or(|s| self.ours(s)) => {
                let (px, q) = (unit(tr.px)?, unit(tr.qty)?);
                self.push(t, Kind::BnTrade, tr.buyer_is_maker, 0, px, q);
            }
            BinanceMessage::AggTrade(tr) if tr.symbol.is_none_or(|s| self.ours(s)) => {
                let (px, q) = (unit(tr.px)?, unit(tr.qty)?);
                self.push(t, Kind::BnAggTrade, tr.buyer_is_maker, 0, px, q);
            }
            BinanceMessage::DepthUpdate(d) if d.symbol.is_none_or(|s| self.ours(s)) => {
                let kind = if d.is_partial() {
                    Kind::BnSnapshot
                } else {
                    Kind::BnDepth
                };
                self.depth(
                    t,
                    kind,
                    d.final_id,
                    d.bids.iter(),
                    d.asks.iter(),
                    d.bids.len(),
                    d.asks.len(),
                )?;
            }
            BinanceMessage::DepthSnapshot(s) => {
                self.depth(
                    t,
                    Kind::BnSnapshot,
                    s.last_update_id,
                    s.bids.iter(),
                    s.asks.iter(),
                    s.bids.len(),
                    s.asks.len(),
                )?;
            }
            _ => {}
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn depth<'a>(
        &mut self,
        t: u64,
        kind: Kind,
        id: u64,
        bids: impl Iterator<Item = (&'a str, &'a str)>,
        asks: impl Iterator<Item = (&'a str, &'a str)>,
        nb: usize,
        na: usize,
    ) -> std::result::Result<(), Fault> {
        self.push(t, kind, false, nb as u32, na as i64, id as i64);
        for (px, q) in bids {
            let (px, q) = (unit(px)?, unit(q)?);
            self.push(t, Kind::Level, true, 1, px, q);
        }
        for (px, q) in asks {
            let (px, q) = (unit(px)?, unit(q)?);
            self.push(t, Kind::Level, false, 1, px, q);
        }
        Ok(())
    }
}

/// Which venue's frames a recording holds, from its first frame.
fn sniff(frame: &[u8]) -> Venue {
    if frame.starts_with(b"{\"channel\"") || frame.starts_with(b"Websocket") {
        Venue::Hyperliquid
    } else {
        Venue::Binance
    }
}

/// Decodes a recording (gzip or plain) into records.
///
/// # Errors
/// An unreadable or truncated file, a malformed line or frame, a price with more than 8 decimal
/// places, or a recording without a single market frame.
pub fn decode(path: &str) -> Result<Decoded> {
    let mut r = ReplayReader::open(path)?;
    let mut d = Decoder {
        recs: Vec::new(),
        name: None,
        first_mid: 0.0,
    };
    let mut venue = None;
    loop {
        let res = match r.next_frame()? {
            None => break,
            Some((ns, frame)) => {
                let t = ns / 1_000_000;
                match *venue.get_or_insert_with(|| sniff(frame)) {
                    Venue::Hyperliquid => d.hl(t, frame),
                    Venue::Binance => d.binance(t, frame),
                }
            }
        };
        res.map_err(|reason| fmt_err(path, r.line_no(), reason))?;
    }
    let (Some(venue), Some(name)) = (venue, d.name) else {
        return Err(Error::invalid(
            "recording",
            path,
            "holds no Hyperliquid or Binance market frame",
        ));
    };
    // Stable: a frame's records share a time and stay together, equal times keep file order.
    d.recs.sort_by_key(|r| r.t_ms);
    Ok(Decoded {
        venue,
        name,
        first_mid: d.first_mid,
        recs: d.recs,
    })
}
