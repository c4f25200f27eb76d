//! Binance USD-M futures market-data frames (PROTOCOL 6.2): typed, borrowed views straight from
//! the frame bytes, raw or wrapped in a combined stream's `{"stream":..,"data":..}`.
//!
//! How a JSON object is classified (the same rules in the differential reference):
//! 1. with `e`: by event type (`depthUpdate`, `bookTicker`, `aggTrade`, `trade`; any other
//!    event is [`BinanceMessage::Other`]);
//! 2. else with `lastUpdateId`: the REST depth snapshot;
//! 3. else with `data`: a combined-stream frame; `data` (an object) is classified by these rules
//!    except this one, and `stream` names the stream;
//! 4. else with `u`, `b` and `a`: a `bookTicker` without `e` (as the spot stream sends it);
//! 5. else with `result` or `id`: the answer to a live `SUBSCRIBE`;
//! 6. else [`BinanceMessage::Other`].
//!
//! Fields a type does not use are skipped whatever their type, so frames of other streams never
//! fail on fields we do not read. A field the type uses must have its documented JSON type.

use super::{
    decimal::Dec,
    parse::{array_items, Cursor, PResult},
    BookError,
};
use crate::types::Side;

/// One decoded Binance frame. Every variant borrows from the frame bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BinanceMessage<'a> {
    BookTicker(BookTicker<'a>),
    AggTrade(AggTrade<'a>),
    Trade(Trade<'a>),
    /// A diff (`<s>@depth[@100ms]`) or, when the stream name says so, a partial-depth frame.
    DepthUpdate(DepthUpdate<'a>),
    /// The REST body of `GET /fapi/v1/depth`.
    DepthSnapshot(DepthSnapshot<'a>),
    /// `{"result":..,"id":..}`, the answer to a live `SUBSCRIBE`/`UNSUBSCRIBE`.
    Response,
    /// A frame of another stream or event type.
    Other {
        stream: Option<&'a str>,
        event: Option<&'a str>,
    },
}

/// `bookTicker`: the best bid and offer, with the order-book update id `u`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BookTicker<'a> {
    pub symbol: &'a str,
    pub update_id: u64,
    pub event_time: Option<u64>,
    pub txn_time: Option<u64>,
    pub bid_px: &'a str,
    pub bid_qty: &'a str,
    pub ask_px: &'a str,
    pub ask_qty: &'a str,
}

/// `aggTrade`. `buyer_is_maker` true means the seller was the aggressor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AggTrade<'a> {
    pub symbol: Option<&'a str>,
    pub agg_id: u64,
    pub px: &'a str,
    pub qty: &'a str,
    pub first_id: u64,
    pub last_id: u64,
    pub trade_time: u64,
    pub event_time: Option<u64>,
    pub buyer_is_maker: bool,
}

/// `trade`. `buyer_is_maker` true means the seller was the aggressor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trade<'a> {
    pub symbol: Option<&'a str>,
    pub id: u64,
    pub px: &'a str,
    pub qty: &'a str,
    pub trade_time: u64,
    pub event_time: Option<u64>,
    pub buyer_is_maker: bool,
}

/// `depthUpdate`: levels `[px, qty]` with absolute quantities, `"0"` removing the level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DepthUpdate<'a> {
    /// The combined stream's name, when the frame was wrapped.
    pub stream: Option<&'a str>,
    pub symbol: Option<&'a str>,
    pub event_time: Option<u64>,
    pub txn_time: Option<u64>,
    /// `U`: first update id in the event.
    pub first_id: u64,
    /// `u`: final update id in the event.
    pub final_id: u64,
    /// `pu`: the previous event's final id (USD-M; spot omits it).
    pub prev_final_id: Option<u64>,
    pub bids: DepthLevels<'a>,
    pub asks: DepthLevels<'a>,
}

impl DepthUpdate<'_> {
    /// True for a partial-depth stream (`<s>@depth5|10|20...`): its levels are the whole top N,
    /// not a diff. Only a combined stream's name tells; a raw partial frame looks like a diff.
    pub fn is_partial(&self) -> bool {
        self.stream.is_some_and(|s| {
            s.find("@depth")
                .is_some_and(|i| s.as_bytes().get(i + 6).is_some_and(u8::is_ascii_digit))
        })
    }
}

/// The REST depth snapshot: `{lastUpdateId, E?, T?, bids, asks}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DepthSnapshot<'a> {
    pub last_update_id: u64,
    pub event_time: Option<u64>,
    pub txn_time: Option<u64>,
    pub bids: DepthLevels<'a>,
    pub asks: DepthLevels<'a>,
}

/// A validated JSON array of `[px, qty]` pairs, decoded lazily by [`DepthLevels::iter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DepthLevels<'a> {
    raw: &'a [u8],
    len: usize,
}

impl<'a> DepthLevels<'a> {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Iterates `(px, qty)` in frame order. The array was validated when the frame was parsed.
    pub fn iter(&self) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        array_items(self.raw, self.len, |c| {
            pair(c).map(|(p, q)| (p.text, q.text))
        })
    }
}

/// Parses one Binance frame: a websocket message (raw or combined stream) or the REST depth
/// snapshot body.
///
/// Zero-copy: strings in the result borrow from `frame`. The whole frame is validated before
/// this returns.
///
/// # Errors
/// [`BookError`] for bytes that are not a JSON object, or a known message with a missing or
/// mistyped field.
pub fn parse_binance_frame(frame: &[u8]) -> Result<BinanceMessage<'_>, BookError> {
    parse_with(frame, &mut NoSink)
}

/// Receives the levels of a `depthUpdate` or a depth snapshot while they are parsed, so that a
/// book converts them in the same pass. `reset` drops what was received (the parser had to
/// start over).
pub(crate) trait DepthSink<'a> {
    fn level(&mut self, side: Side, px: Dec<'a>, qty: Dec<'a>) -> PResult<()>;
    fn reset(&mut self);
}

pub(crate) struct NoSink;

impl DepthSink<'_> for NoSink {
    #[inline]
    fn level(&mut self, _: Side, _: Dec<'_>, _: Dec<'_>) -> PResult<()> {
        Ok(())
    }

    fn reset(&mut self) {}
}

pub(crate) fn parse_with<'a, S: DepthSink<'a>>(
    frame: &'a [u8],
    sink: &mut S,
) -> PResult<BinanceMessage<'a>> {
    let mut c = Cursor::new(frame);
    let msg = object(&mut c, true, sink)?;
    c.end()?;
    Ok(msg)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Depth,
    Ticker,
    Agg,
    Trade,
    Snapshot,
    Other,
}

fn kind_of(event: &str) -> Kind {
    match event {
        "depthUpdate" => Kind::Depth,
        "bookTicker" => Kind::Ticker,
        "aggTrade" => Kind::Agg,
        "trade" => Kind::Trade,
        _ => Kind::Other,
    }
}

/// The keys any rule reads, each with its JSON name, listed once: the enum `K` (its values are
/// bit positions), `key_of` (name to key) and `ALL_KEYS` (bit position back to key).
macro_rules! keys {
    ($($k:ident = $name:literal),+ $(,)?) => {
        #[derive(Clone, Copy)]
        #[repr(u8)]
        enum K {
            $($k),+
        }

        const ALL_KEYS: [K; N_KEYS] = [$(K::$k),+];

        fn key_of(k: &[u8]) -> Option<K> {
            Some(match k {
                $($name => K::$k,)+
                _ => return None,
            })
        }
    };
}

keys! {
    LowerE = b"e",
    UpperE = b"E",
    UpperT = b"T",
    S = b"s",
    UpperU = b"U",
    LowerU = b"u",
    Pu = b"pu",
    LowerT = b"t",
    F = b"f",
    L = b"l",
    LowerA = b"a",
    LowerB = b"b",
    UpperA = b"A",
    UpperB = b"B",
    P = b"p",
    Q = b"q",
    M = b"m",
    LastUpdateId = b"lastUpdateId",
    Bids = b"bids",
    Asks = b"asks",
    Stream = b"stream",
    Data = b"data",
    Result = b"result",
    Id = b"id",
}

const N_KEYS: usize = K::Id as usize + 1;

/// Whether `kind` reads key `k`.
fn reads(kind: Kind, k: K) -> bool {
    use K::*;
    match kind {
        Kind::Depth => matches!(
            k,
            UpperE | UpperT | S | UpperU | LowerU | Pu | LowerB | LowerA
        ),
        Kind::Ticker => matches!(
            k,
            UpperE | UpperT | S | LowerU | LowerB | UpperB | LowerA | UpperA
        ),
        Kind::Agg => matches!(k, UpperE | S | LowerA | P | Q | F | L | UpperT | M),
        Kind::Trade => matches!(k, UpperE | UpperT | S | LowerT | P | Q | M),
        Kind::Snapshot => matches!(k, UpperE | UpperT | LastUpdateId | Bids | Asks),
        Kind::Other => false,
    }
}

/// Decoded fields of one message (the union over kinds).
#[derive(Default)]
struct Acc<'a> {
    seen: u32,
    event_time: Option<u64>,
    txn_time: Option<u64>,
    symbol: Option<&'a str>,
    first_id: Option<u64>,
    final_id: Option<u64>,
    prev_final_id: Option<u64>,
    trade_id: Option<u64>,
    first_trade: Option<u64>,
    last_trade: Option<u64>,
    agg_id: Option<u64>,
    bid_px: Option<&'a str>,
    ask_px: Option<&'a str>,
    bid_qty: Option<&'a str>,
    ask_qty: Option<&'a str>,
    bids: Option<DepthLevels<'a>>,
    asks: Option<DepthLevels<'a>>,
    px: Option<&'a str>,
    qty: Option<&'a str>,
    maker: Option<bool>,
    last_update_id: Option<u64>,
}

impl<'a> Acc<'a> {
    /// Decodes key `k` for `kind` from the cursor (which is at the value).
    fn decode<S: DepthSink<'a>>(
        &mut self,
        kind: Kind,
        k: K,
        c: &mut Cursor<'a>,
        sink: &mut S,
    ) -> PResult<()> {
        let bit = 1u32 << (k as u8);
        if self.seen & bit != 0 {
            return Err(c.err("duplicate field"));
        }
        self.seen |= bit;
        match k {
            K::UpperE => self.event_time = Some(c.u64_value("E")?),
            K::UpperT => self.txn_time = Some(c.u64_value("T")?),
            K::S => self.symbol = Some(c.str_value("s")?),
            K::UpperU => self.first_id = Some(c.u64_value("U")?),
            K::LowerU => self.final_id = Some(c.u64_value("u")?),
            K::Pu => self.prev_final_id = Some(c.u64_value("pu")?),
            K::LowerT => self.trade_id = Some(c.u64_value("t")?),
            K::F => self.first_trade = Some(c.u64_value("f")?),
            K::L => self.last_trade = Some(c.u64_value("l")?),
            K::LowerA if kind == Kind::Depth => self.asks = Some(levels(c, Side::Ask, sink)?),
            K::LowerA if kind == Kind::Agg => self.agg_id = Some(c.u64_value("a")?),
            K::LowerA => self.ask_px = Some(c.dec_value("a")?),
            K::LowerB if kind == Kind::Depth => self.bids = Some(levels(c, Side::Bid, sink)?),
            K::LowerB => self.bid_px = Some(c.dec_value("b")?),
            K::UpperA => self.ask_qty = Some(c.dec_value("A")?),
            K::UpperB => self.bid_qty = Some(c.dec_value("B")?),
            K::P => self.px = Some(c.dec_value("p")?),
            K::Q => self.qty = Some(c.dec_value("q")?),
            K::M => self.maker = Some(c.bool_value("m")?),
            K::LastUpdateId => self.last_update_id = Some(c.u64_value("lastUpdateId")?),
            K::Bids => self.bids = Some(levels(c, Side::Bid, sink)?),
            K::Asks => self.asks = Some(levels(c, Side::Ask, sink)?),
            K::LowerE | K::Stream | K::Data | K::Result | K::Id => c.skip_value()?,
        }
        Ok(())
    }

    fn build(
        self,
        kind: Kind,
        stream: Option<&'a str>,
        event: Option<&'a str>,
    ) -> PResult<BinanceMessage<'a>> {
        fn need<T>(v: Option<T>, message: &'static str, field: &'static str) -> PResult<T> {
            v.ok_or(BookError::Missing { message, field })
        }
        Ok(match kind {
            Kind::Depth => BinanceMessage::DepthUpdate(DepthUpdate {
                stream,
                symbol: self.symbol,
                event_time: self.event_time,
                txn_time: self.txn_time,
                first_id: need(self.first_id, "depthUpdate", "U")?,
                final_id: need(self.final_id, "depthUpdate", "u")?,
                prev_final_id: self.prev_final_id,
                bids: need(self.bids, "depthUpdate", "b")?,
                asks: need(self.asks, "depthUpdate", "a")?,
            }),
            Kind::Ticker => BinanceMessage::BookTicker(BookTicker {
                symbol: need(self.symbol, "bookTicker", "s")?,
                update_id: need(self.final_id, "bookTicker", "u")?,
                event_time: self.event_time,
                txn_time: self.txn_time,
                bid_px: need(self.bid_px, "bookTicker", "b")?,
                bid_qty: need(self.bid_qty, "bookTicker", "B")?,
                ask_px: need(self.ask_px, "bookTicker", "a")?,
                ask_qty: need(self.ask_qty, "bookTicker", "A")?,
            }),
            Kind::Agg => BinanceMessage::AggTrade(AggTrade {
                symbol: self.symbol,
                agg_id: need(self.agg_id, "aggTrade", "a")?,
                px: need(self.px, "aggTrade", "p")?,
                qty: need(self.qty, "aggTrade", "q")?,
                first_id: need(self.first_trade, "aggTrade", "f")?,
                last_id: need(self.last_trade, "aggTrade", "l")?,
                trade_time: need(self.txn_time, "aggTrade", "T")?,
                event_time: self.event_time,
                buyer_is_maker: need(self.maker, "aggTrade", "m")?,
            }),
            Kind::Trade => BinanceMessage::Trade(Trade {
                symbol: self.symbol,
                id: need(self.trade_id, "trade", "t")?,
                px: need(self.px, "trade", "p")?,
                qty: need(self.qty, "trade", "q")?,
                trade_time: need(self.txn_time, "trade", "T")?,
                event_time: self.event_time,
                buyer_is_maker: need(self.maker, "trade", "m")?,
            }),
            Kind::Snapshot => BinanceMessage::DepthSnapshot(DepthSnapshot {
                last_update_id: need(self.last_update_id, "depth snapshot", "lastUpdateId")?,
                event_time: self.event_time,
                txn_time: self.txn_time,
                bids: need(self.bids, "depth snapshot", "bids")?,
                asks: need(self.asks, "depth snapshot", "asks")?,
            }),
            Kind::Other => BinanceMessage::Other { stream, event },
        })
    }
}

/// Classifies and decodes one object. `top` allows rule 3 (a combined-stream wrapper).
fn object<'a, S: DepthSink<'a>>(
    c: &mut Cursor<'a>,
    top: bool,
    sink: &mut S,
) -> PResult<BinanceMessage<'a>> {
    if !c.begin_object()? {
        return Ok(BinanceMessage::Other {
            stream: None,
            event: None,
        });
    }
    // Fast path: Binance puts "e" first, so the kind is known before any other field and each
    // value is decoded in the one pass.
    let first = c.key()?;
    if first.bytes() == b"e" {
        let event = c.str_value("e")?;
        let kind = kind_of(event);
        let mut acc = Acc {
            seen: 1 << (K::LowerE as u8),
            ..Acc::default()
        };
        while c.next_member()? {
            let key = c.key()?;
            match key_of(key.bytes()) {
                Some(K::LowerE) => return Err(c.err("duplicate field e")),
                Some(k) if reads(kind, k) => acc.decode(kind, k, c, sink)?,
                _ => c.skip_value()?,
            }
        }
        return acc.build(kind, None, Some(event));
    }
    // Fast path for a combined stream: "stream" then "data", decoded in place. Anything that
    // could change the classification sends the object down the general path from its start.
    if top && first.bytes() == b"stream" {
        let save = c.i;
        if let Some(m) = wrapped(c, sink)? {
            return Ok(m);
        }
        sink.reset();
        c.i = save;
    }
    general(c, first, top, sink)
}

/// The rest of a `{"stream":..,"data":{..}}` frame after its first key; `None` if it is not
/// shaped so (the caller starts over on the general path).
fn wrapped<'a, S: DepthSink<'a>>(
    c: &mut Cursor<'a>,
    sink: &mut S,
) -> PResult<Option<BinanceMessage<'a>>> {
    let stream = c.str_value("stream")?;
    if !c.next_member()? || c.key()?.bytes() != b"data" {
        return Ok(None);
    }
    let inner = object(c, false, sink)?;
    while c.next_member()? {
        match key_of(c.key()?.bytes()) {
            Some(K::LowerE | K::LastUpdateId | K::Stream | K::Data) => return Ok(None),
            _ => c.skip_value()?,
        }
    }
    Ok(Some(with_stream(inner, Some(stream))))
}

fn with_stream<'a>(m: BinanceMessage<'a>, stream: Option<&'a str>) -> BinanceMessage<'a> {
    match m {
        BinanceMessage::DepthUpdate(u) => BinanceMessage::DepthUpdate(DepthUpdate { stream, ..u }),
        BinanceMessage::Other { event, .. } => BinanceMessage::Other { stream, event },
        m => m,
    }
}

/// The general path, from the value of the object's first key.
fn general<'a, S: DepthSink<'a>>(
    c: &mut Cursor<'a>,
    first: super::parse::Key<'a>,
    top: bool,
    sink: &mut S,
) -> PResult<BinanceMessage<'a>> {
    // General path: note where each interesting value is, decide the kind, then decode.
    let mut at = [usize::MAX; N_KEYS];
    let mut dups = 0u32;
    let mut key = first;
    loop {
        if let Some(k) = key_of(key.bytes()) {
            c.peek();
            if at[k as usize] != usize::MAX {
                dups |= 1 << (k as u8);
            }
            at[k as usize] = c.i;
        }
        c.skip_value()?;
        if !c.next_member()? {
            break;
        }
        key = c.key()?;
    }
    let has = |k: K| at[k as usize] != usize::MAX;
    let cursor_at = |k: K| Cursor {
        b: c.b,
        i: at[k as usize],
    };
    let (kind, event) = if has(K::LowerE) {
        if dups & (1 << (K::LowerE as u8)) != 0 {
            return Err(c.err("duplicate field e"));
        }
        let event = cursor_at(K::LowerE).str_value("e")?;
        (kind_of(event), Some(event))
    } else if has(K::LastUpdateId) {
        (Kind::Snapshot, None)
    } else if top && has(K::Data) {
        let stream = if has(K::Stream) {
            if dups & (1 << (K::Stream as u8)) != 0 {
                return Err(c.err("duplicate field stream"));
            }
            Some(cursor_at(K::Stream).str_value("stream")?)
        } else {
            None
        };
        if dups & (1 << (K::Data as u8)) != 0 {
            return Err(c.err("duplicate field data"));
        }
        let mut d = cursor_at(K::Data);
        return Ok(with_stream(object(&mut d, false, sink)?, stream));
    } else if has(K::LowerU) && has(K::LowerB) && has(K::LowerA) {
        (Kind::Ticker, None)
    } else if has(K::Result) || has(K::Id) {
        return Ok(BinanceMessage::Response);
    } else {
        (Kind::Other, None)
    };
    let mut acc = Acc::default();
    for k in 0..N_KEYS {
        if at[k] == usize::MAX {
            continue;
        }
        // ALL_KEYS maps a bit position back to its key.
        let kk = ALL_KEYS[k];
        if !reads(kind, kk) {
            continue;
        }
        if dups & (1 << k) != 0 {
            return Err(c.err("duplicate field"));
        }
        let mut v = cursor_at(kk);
        acc.decode(kind, kk, &mut v, sink)?;
    }
    acc.build(kind, None, event)
}

/// `[[px, qty], ...]`, each pair exactly two decimal strings, fed to `sink` as read.
#[inline(always)]
fn levels<'a, S: DepthSink<'a>>(
    c: &mut Cursor<'a>,
    side: Side,
    sink: &mut S,
) -> PResult<DepthLevels<'a>> {
    c.peek();
    let start = c.i;
    let mut len = 0;
    if c.begin_array()? {
        loop {
            let (px, qty) = pair(c)?;
            sink.level(side, px, qty)?;
            len += 1;
            if !c.next_element()? {
                break;
            }
        }
    }
    Ok(DepthLevels {
        raw: &c.b[start..c.i],
        len,
    })
}

#[inline(always)]
fn pair<'a>(c: &mut Cursor<'a>) -> PResult<(Dec<'a>, Dec<'a>)> {
    if !c.begin_array()? {
        return Err(c.err("a level must be [px, qty]"));
    }
    let px = c.dec("px")?;
    if !c.next_element()? {
        return Err(c.err("a level must be [px, qty]"));
    }
    let qty = c.dec("qty")?;
    if c.next_element()? {
        return Err(c.err("a level must be [px, qty]"));
    }
    Ok((px, qty))
}
