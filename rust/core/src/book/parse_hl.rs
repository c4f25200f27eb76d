//! Hyperliquid websocket frames (PROTOCOL 1.1-1.4): typed, borrowed views straight from the
//! frame bytes. Prices and sizes stay decimal strings here; a book converts them at its own
//! scale ([`super::Scale`]).

use super::{
    decimal::Dec,
    parse::{array_items, Cursor, PResult},
    BookError,
};
use crate::types::Side;

/// The plain-text frame the server may send on connect (PROTOCOL 1.1). Not JSON.
pub const GREETING: &[u8] = b"Websocket connection established.";

/// One decoded Hyperliquid frame. Every variant borrows from the frame bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HlMessage<'a> {
    /// `Websocket connection established.` (plain text).
    Greeting,
    /// `{"channel":"pong"}`, the answer to `{"method":"ping"}`.
    Pong,
    /// A subscription ack; `data` is the raw JSON of the echoed subscription, if present.
    SubscriptionResponse { data: Option<&'a str> },
    /// `{"channel":"error","data":...}`; `data` is the raw JSON (usually a string literal, with
    /// its quotes and escapes).
    Error { data: Option<&'a str> },
    /// A full book snapshot (`l2Book`, 20 levels or the `fast` 5-level variant).
    L2Book(HlL2Book<'a>),
    /// The best bid and offer (`bbo`), sent when it changes on a block.
    Bbo(HlBbo<'a>),
    /// Public trades (`trades`); may be empty.
    Trades(HlTrades<'a>),
    /// Any other channel: recognised and syntax-checked, not decoded.
    Other { channel: &'a str },
}

/// One price level: `{"px":"105055.0","sz":"3.03622","n":5}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HlLevel<'a> {
    pub px: &'a str,
    pub sz: &'a str,
    /// Number of orders resting at this price.
    pub n: u64,
}

/// A validated JSON array of levels, best first, decoded lazily by [`HlLevels::iter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HlLevels<'a> {
    raw: &'a [u8],
    len: usize,
}

impl<'a> HlLevels<'a> {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Iterates the levels, best first. The array was validated when the frame was parsed.
    pub fn iter(&self) -> impl Iterator<Item = HlLevel<'a>> + 'a {
        array_items(self.raw, self.len, |c| level(c).map(RawLevel::public))
    }

    /// The first (best) level, if any.
    pub fn first(&self) -> Option<HlLevel<'a>> {
        self.iter().next()
    }
}

/// `l2Book` data: `{coin, time, levels: [bids, asks]}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HlL2Book<'a> {
    pub coin: &'a str,
    /// Exchange time, ms since epoch.
    pub time: u64,
    /// Best (highest) first.
    pub bids: HlLevels<'a>,
    /// Best (lowest) first.
    pub asks: HlLevels<'a>,
}

/// `bbo` data: `{coin, time, bbo: [bid|null, ask|null]}`; `None` is an empty side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HlBbo<'a> {
    pub coin: &'a str,
    pub time: u64,
    pub bid: Option<HlLevel<'a>>,
    pub ask: Option<HlLevel<'a>>,
}

/// One public trade. `side` is the aggressor's: `Bid` for `"B"` (a buy lifted the ask).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HlTrade<'a> {
    pub coin: &'a str,
    pub side: Side,
    pub px: &'a str,
    pub sz: &'a str,
    pub time: u64,
    pub tid: u64,
    pub hash: Option<&'a str>,
}

/// A validated array of trades, decoded lazily by [`HlTrades::iter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HlTrades<'a> {
    raw: &'a [u8],
    len: usize,
}

impl<'a> HlTrades<'a> {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn iter(&self) -> impl Iterator<Item = HlTrade<'a>> + 'a {
        array_items(self.raw, self.len, trade)
    }
}

/// Receives every level of an `l2Book` or `bbo` frame while it is parsed, so that a book fills
/// its staging buffers in the same pass. `bbo` levels come with their side; an empty `bbo` side
/// produces no call.
pub(crate) trait HlSink<'a> {
    fn level(&mut self, side: Side, px: Dec<'a>, sz: Dec<'a>) -> PResult<()>;
}

pub(crate) struct NoSink;

impl HlSink<'_> for NoSink {
    #[inline]
    fn level(&mut self, _: Side, _: Dec<'_>, _: Dec<'_>) -> PResult<()> {
        Ok(())
    }
}

/// A level as scanned: decimals with their digits, for the sink.
#[derive(Clone, Copy)]
struct RawLevel<'a> {
    px: Dec<'a>,
    sz: Dec<'a>,
    n: u64,
}

impl<'a> RawLevel<'a> {
    fn public(self) -> HlLevel<'a> {
        HlLevel {
            px: self.px.text,
            sz: self.sz.text,
            n: self.n,
        }
    }
}

/// Parses one Hyperliquid frame (text or binary payload of a websocket message).
///
/// Zero-copy: strings in the result borrow from `frame`. The whole frame is validated (JSON
/// syntax, required fields, decimal grammar of every price and size) before this returns.
///
/// # Errors
/// [`BookError`] for anything that is neither the greeting nor a well-formed frame.
pub fn parse_hl_frame(frame: &[u8]) -> Result<HlMessage<'_>, BookError> {
    parse_with(frame, &mut NoSink)
}

pub(crate) fn parse_with<'a, S: HlSink<'a>>(
    frame: &'a [u8],
    sink: &mut S,
) -> PResult<HlMessage<'a>> {
    let mut c = Cursor::new(frame);
    if c.peek() != Some(b'{') {
        if frame.trim_ascii() == GREETING {
            return Ok(HlMessage::Greeting);
        }
        return Err(c.err("expected a JSON object or the greeting"));
    }
    c.begin_object().and_then(|nonempty| {
        if nonempty {
            Ok(())
        } else {
            Err(c.err("empty object"))
        }
    })?;
    let mut channel: Option<&'a str> = None;
    let mut msg: Option<HlMessage<'a>> = None;
    // Data seen before the channel key: validated now, decoded once the channel is known.
    let mut early_data: Option<usize> = None;
    let mut has_data = false;
    loop {
        let key = c.key()?;
        match key.bytes() {
            b"channel" => {
                if channel.is_some() {
                    return Err(c.err("duplicate field channel"));
                }
                channel = Some(c.str_value("channel")?);
            }
            b"data" => {
                if has_data {
                    return Err(c.err("duplicate field data"));
                }
                has_data = true;
                match channel {
                    Some(ch) => msg = Some(data(&mut c, ch, sink)?),
                    None => {
                        c.peek();
                        early_data = Some(c.i);
                        c.skip_value()?;
                    }
                }
            }
            _ => c.skip_value()?,
        }
        if !c.next_member()? {
            break;
        }
    }
    c.end()?;
    let Some(channel) = channel else {
        return Err(BookError::Missing {
            message: "frame",
            field: "channel",
        });
    };
    if let Some(at) = early_data {
        let mut d = Cursor { b: frame, i: at };
        msg = Some(data(&mut d, channel, sink)?);
    }
    match msg {
        Some(m) => Ok(m),
        None => no_data(channel),
    }
}

fn no_data<'a>(channel: &'a str) -> PResult<HlMessage<'a>> {
    Ok(match channel {
        "pong" => HlMessage::Pong,
        "subscriptionResponse" => HlMessage::SubscriptionResponse { data: None },
        "error" => HlMessage::Error { data: None },
        "l2Book" | "bbo" | "trades" => {
            return Err(BookError::Missing {
                message: "frame",
                field: "data",
            })
        }
        _ => HlMessage::Other { channel },
    })
}

fn data<'a, S: HlSink<'a>>(
    c: &mut Cursor<'a>,
    channel: &'a str,
    sink: &mut S,
) -> PResult<HlMessage<'a>> {
    Ok(match channel {
        "l2Book" => HlMessage::L2Book(l2book(c, sink)?),
        "bbo" => HlMessage::Bbo(bbo(c, sink)?),
        "trades" => HlMessage::Trades(trades(c)?),
        "pong" => {
            c.skip_value()?;
            HlMessage::Pong
        }
        "subscriptionResponse" => HlMessage::SubscriptionResponse {
            data: Some(raw_str(c)?),
        },
        "error" => HlMessage::Error {
            data: Some(raw_str(c)?),
        },
        _ => {
            c.skip_value()?;
            HlMessage::Other { channel }
        }
    })
}

fn raw_str<'a>(c: &mut Cursor<'a>) -> PResult<&'a str> {
    let raw = c.raw_value()?;
    std::str::from_utf8(raw).map_err(|_| BookError::field("data", raw, "invalid UTF-8"))
}

fn dup(c: &Cursor<'_>, seen: &mut u8, bit: u8, reason: &'static str) -> PResult<()> {
    if *seen & bit != 0 {
        return Err(c.err(reason));
    }
    *seen |= bit;
    Ok(())
}

fn l2book<'a, S: HlSink<'a>>(c: &mut Cursor<'a>, sink: &mut S) -> PResult<HlL2Book<'a>> {
    let (mut coin, mut time, mut sides) = (None, None, None);
    let mut seen = 0u8;
    if c.begin_object()? {
        loop {
            let key = c.key()?;
            match key.bytes() {
                b"coin" => {
                    dup(c, &mut seen, 1, "duplicate field coin")?;
                    coin = Some(c.str_value("coin")?);
                }
                b"time" => {
                    dup(c, &mut seen, 2, "duplicate field time")?;
                    time = Some(c.u64_value("time")?);
                }
                b"levels" => {
                    dup(c, &mut seen, 4, "duplicate field levels")?;
                    if !c.begin_array()? {
                        return Err(c.err("levels must hold [bids, asks]"));
                    }
                    let bids = levels(c, Side::Bid, sink)?;
                    if !c.next_element()? {
                        return Err(c.err("levels must hold [bids, asks]"));
                    }
                    let asks = levels(c, Side::Ask, sink)?;
                    if c.next_element()? {
                        return Err(c.err("levels must hold [bids, asks]"));
                    }
                    sides = Some((bids, asks));
                }
                _ => c.skip_value()?,
            }
            if !c.next_member()? {
                break;
            }
        }
    }
    let missing = |field| BookError::Missing {
        message: "l2Book",
        field,
    };
    let (bids, asks) = sides.ok_or(missing("levels"))?;
    Ok(HlL2Book {
        coin: coin.ok_or(missing("coin"))?,
        time: time.ok_or(missing("time"))?,
        bids,
        asks,
    })
}

#[inline]
fn levels<'a, S: HlSink<'a>>(
    c: &mut Cursor<'a>,
    side: Side,
    sink: &mut S,
) -> PResult<HlLevels<'a>> {
    c.peek();
    let start = c.i;
    let mut len = 0;
    if c.begin_array()? {
        loop {
            let l = level(c)?;
            sink.level(side, l.px, l.sz)?;
            len += 1;
            if !c.next_element()? {
                break;
            }
        }
    }
    Ok(HlLevels {
        raw: &c.b[start..c.i],
        len,
    })
}

#[inline(always)]
fn level<'a>(c: &mut Cursor<'a>) -> PResult<RawLevel<'a>> {
    let (mut px, mut sz, mut n) = (None, None, None);
    let mut seen = 0u8;
    if c.begin_object()? {
        loop {
            // The three keys as Hyperliquid writes them are matched in place; anything else
            // (whitespace, escapes, other keys) goes through the general key reader.
            let which = match c.b.get(c.i..c.i + 5) {
                Some([b'"', b'n', b'"', b':', _]) => {
                    c.i += 4;
                    b'n'
                }
                Some(b"\"px\":") => {
                    c.i += 5;
                    b'p'
                }
                Some(b"\"sz\":") => {
                    c.i += 5;
                    b's'
                }
                _ => match c.key()?.bytes() {
                    b"px" => b'p',
                    b"sz" => b's',
                    b"n" => b'n',
                    _ => 0,
                },
            };
            match which {
                b'p' => {
                    dup(c, &mut seen, 1, "duplicate field px")?;
                    px = Some(c.dec("px")?);
                }
                b's' => {
                    dup(c, &mut seen, 2, "duplicate field sz")?;
                    sz = Some(c.dec("sz")?);
                }
                b'n' => {
                    dup(c, &mut seen, 4, "duplicate field n")?;
                    n = Some(c.u64_value("n")?);
                }
                _ => c.skip_value()?,
            }
            if !c.next_member()? {
                break;
            }
        }
    }
    let missing = |field| BookError::Missing {
        message: "level",
        field,
    };
    Ok(RawLevel {
        px: px.ok_or(missing("px"))?,
        sz: sz.ok_or(missing("sz"))?,
        n: n.ok_or(missing("n"))?,
    })
}

fn bbo<'a, S: HlSink<'a>>(c: &mut Cursor<'a>, sink: &mut S) -> PResult<HlBbo<'a>> {
    let (mut coin, mut time, mut top) = (None, None, None);
    let mut seen = 0u8;
    if c.begin_object()? {
        loop {
            let key = c.key()?;
            match key.bytes() {
                b"coin" => {
                    dup(c, &mut seen, 1, "duplicate field coin")?;
                    coin = Some(c.str_value("coin")?);
                }
                b"time" => {
                    dup(c, &mut seen, 2, "duplicate field time")?;
                    time = Some(c.u64_value("time")?);
                }
                b"bbo" => {
                    dup(c, &mut seen, 4, "duplicate field bbo")?;
                    if !c.begin_array()? {
                        return Err(c.err("bbo must hold [bid, ask]"));
                    }
                    let bid = opt_level(c)?;
                    if !c.next_element()? {
                        return Err(c.err("bbo must hold [bid, ask]"));
                    }
                    let ask = opt_level(c)?;
                    if c.next_element()? {
                        return Err(c.err("bbo must hold [bid, ask]"));
                    }
                    top = Some((bid, ask));
                }
                _ => c.skip_value()?,
            }
            if !c.next_member()? {
                break;
            }
        }
    }
    let missing = |field| BookError::Missing {
        message: "bbo",
        field,
    };
    let (bid, ask) = top.ok_or(missing("bbo"))?;
    let out = HlBbo {
        coin: coin.ok_or(missing("coin"))?,
        time: time.ok_or(missing("time"))?,
        bid: bid.map(RawLevel::public),
        ask: ask.map(RawLevel::public),
    };
    // Fed only once the frame is known good, so the sink never sees half a bbo.
    if let Some(l) = bid {
        sink.level(Side::Bid, l.px, l.sz)?;
    }
    if let Some(l) = ask {
        sink.level(Side::Ask, l.px, l.sz)?;
    }
    Ok(out)
}

fn opt_level<'a>(c: &mut Cursor<'a>) -> PResult<Option<RawLevel<'a>>> {
    if c.null()? {
        Ok(None)
    } else {
        level(c).map(Some)
    }
}

fn trades<'a>(c: &mut Cursor<'a>) -> PResult<HlTrades<'a>> {
    c.peek();
    let start = c.i;
    let mut len = 0;
    if c.begin_array()? {
        loop {
            trade(c)?;
            len += 1;
            if !c.next_element()? {
                break;
            }
        }
    }
    Ok(HlTrades {
        raw: &c.b[start..c.i],
        len,
    })
}

fn trade<'a>(c: &mut Cursor<'a>) -> PResult<HlTrade<'a>> {
    let (mut coin, mut side, mut px, mut sz, mut time, mut tid, mut hash) =
        (None, None, None, None, None, None, None);
    let mut seen = 0u8;
    if c.begin_object()? {
        loop {
            let key = c.key()?;
            match key.bytes() {
                b"coin" => {
                    dup(c, &mut seen, 1, "duplicate field coin")?;
                    coin = Some(c.str_value("coin")?);
                }
                b"side" => {
                    dup(c, &mut seen, 2, "duplicate field side")?;
                    side = Some(match c.str_value("side")? {
                        "B" => Side::Bid,
                        "A" => Side::Ask,
                        other => {
                            return Err(BookError::field(
                                "side",
                                other.as_bytes(),
                                "expected \"A\" or \"B\"",
                            ))
                        }
                    });
                }
                b"px" => {
                    dup(c, &mut seen, 4, "duplicate field px")?;
                    px = Some(c.dec_value("px")?);
                }
                b"sz" => {
                    dup(c, &mut seen, 8, "duplicate field sz")?;
                    sz = Some(c.dec_value("sz")?);
                }
                b"time" => {
                    dup(c, &mut seen, 16, "duplicate field time")?;
                    time = Some(c.u64_value("time")?);
                }
                b"tid" => {
                    dup(c, &mut seen, 32, "duplicate field tid")?;
                    tid = Some(c.u64_value("tid")?);
                }
                b"hash" => {
                    dup(c, &mut seen, 64, "duplicate field hash")?;
                    hash = if c.null()? {
                        None
                    } else {
                        Some(c.str_value("hash")?)
                    };
                }
                _ => c.skip_value()?,
            }
            if !c.next_member()? {
                break;
            }
        }
    }
    let missing = |field| BookError::Missing {
        message: "trade",
        field,
    };
    Ok(HlTrade {
        coin: coin.ok_or(missing("coin"))?,
        side: side.ok_or(missing("side"))?,
        px: px.ok_or(missing("px"))?,
        sz: sz.ok_or(missing("sz"))?,
        time: time.ok_or(missing("time"))?,
        tid: tid.ok_or(missing("tid"))?,
        hash,
    })
}
