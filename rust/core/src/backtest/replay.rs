//! Recorded markets for the backtester: the market recording (Hyperliquid `l2Book` snapshots and
//! trades, or a Binance USD-M recording's depth diffs and trades) replayed into the venue, and
//! optionally a Binance recording fed to the bot as the lead venue, merged by receive time
//! (shared/data format). Both are typed records ([`super::events`]), decoded once and cached.

use std::path::Path;

use super::cache::{self, Source};
use super::events::{Kind, Rec, Venue, UNIT_DECIMALS};
use crate::error::{Error, Result};

/// The records of one backtest's recordings, in time order. Market records are in the venue's
/// units (price ticks, size lots); lead records stay in 1e-8 units.
#[derive(Debug, Clone)]
pub struct RecordedMarket {
    pub recs: Vec<Rec>,
    /// Whether each record is the market's (else the lead's), by index.
    pub is_market: Vec<bool>,
    pub pos: usize,
    pub coin: String,
    /// The lead recording's symbol, if any.
    pub lead_symbol: Option<String>,
    pub market_venue: Venue,
    pub first_mid: f64,
    pub start_ms: u64,
    pub end_ms: u64,
    /// How each recording was obtained (market, then lead).
    pub sources: Vec<Source>,
    /// Market records (levels, trades, tops) of both recordings.
    pub market_events: u64,
}

/// A Binance symbol's coin (`BTCUSDT` trades BTC).
pub fn coin_of_symbol(symbol: &str) -> String {
    let s = symbol.to_ascii_uppercase();
    for quote in ["USDT", "USDC", "BUSD", "USD"] {
        if let Some(c) = s.strip_suffix(quote) {
            if !c.is_empty() {
                return c.to_string();
            }
        }
    }
    s
}

/// 1e-8 units to `decimals` units, exactly (a finer value is refused, never rounded).
fn rescale(v: i64, decimals: u32, what: &'static str, path: &str) -> Result<i64> {
    // Division by a constant per arm: a multiply, not a divide (this runs per record).
    macro_rules! exact {
        ($d:expr) => {
            (v % $d == 0).then(|| v / $d)
        };
    }
    let out = match UNIT_DECIMALS.saturating_sub(decimals) {
        0 => Some(v),
        1 => exact!(10),
        2 => exact!(100),
        3 => exact!(1_000),
        4 => exact!(10_000),
        5 => exact!(100_000),
        6 => exact!(1_000_000),
        7 => exact!(10_000_000),
        _ => exact!(100_000_000),
    };
    out.ok_or_else(|| {
        Error::invalid(
            what,
            format!("{} in {path}", v as f64 / 1e8),
            "has more decimals than the venue's tick or lot",
        )
    })
}

impl RecordedMarket {
    /// Reads the recordings (through the cache in `cache_dir` when given). The market recording
    /// must trade `want_coin`; its prices and sizes are converted to a perp with `sz_decimals`
    /// (prices `6 - sz_decimals`).
    ///
    /// # Errors
    /// An unreadable or truncated file, a malformed line, another coin, a price finer than the
    /// venue's tick,
    /// a market recording without a two-sided book, or a lead recording that is not Binance's.
    pub fn load(
        market: &str,
        binance: Option<&str>,
        cache_dir: Option<&Path>,
        want_coin: &str,
        sz_decimals: u32,
    ) -> Result<Self> {
        let (m, src) = cache::load(market, cache_dir)?;
        if m.first_mid <= 0.0 {
            return Err(Error::invalid(
                "hl",
                market,
                "no book frame with both sides in the recording",
            ));
        }
        let coin = match m.venue {
            Venue::Hyperliquid => m.name.clone(),
            Venue::Binance => coin_of_symbol(&m.name),
        };
        if coin != want_coin {
            return Err(Error::invalid(
                "coin",
                want_coin,
                "is not the coin of the market recording",
            ));
        }
        let px_dec = 6u32.saturating_sub(sz_decimals);
        let mut recs = m.recs;
        for r in &mut recs {
            match r.kind {
                Kind::Level | Kind::HlTrade | Kind::BnTrade | Kind::BnAggTrade => {
                    r.a = rescale(r.a, px_dec, "px", market)?;
                    r.b = rescale(r.b, sz_decimals, "sz", market)?;
                }
                Kind::BnTop | Kind::HlBbo => {
                    r.a = rescale(r.a, px_dec, "px", market)?;
                    r.b = rescale(r.b, px_dec, "px", market)?;
                }
                Kind::HlBook | Kind::BnDepth | Kind::BnSnapshot => {}
            }
        }
        let market_events = recs.iter().filter(|r| r.is_market_event()).count() as u64;
        let start_ms = recs.first().map_or(0, |r| r.t_ms);
        let end_ms = recs.last().map_or(start_ms, |r| r.t_ms);
        let mut sources = vec![src];
        let mut lead_symbol = None;
        let mut lead_events = 0;
        let (recs, is_market) = match binance {
            None => {
                let n = recs.len();
                (recs, vec![true; n])
            }
            Some(bn) => {
                let (l, src) = cache::load(bn, cache_dir)?;
                if l.venue != Venue::Binance {
                    return Err(Error::invalid("binance", bn, "is not a Binance recording"));
                }
                sources.push(src);
                lead_events = l.market_events();
                lead_symbol = Some(l.name.clone());
                merge(recs, l.recs)
            }
        };
        Ok(Self {
            recs,
            is_market,
            pos: 0,
            coin,
            lead_symbol,
            market_venue: m.venue,
            first_mid: m.first_mid,
            start_ms,
            end_ms,
            sources,
            market_events: market_events + lead_events,
        })
    }
}

/// Merges two time-ordered record lists, the first's first on equal times (a stable sort of
/// their concatenation): frames stay whole.
fn merge(a: Vec<Rec>, b: Vec<Rec>) -> (Vec<Rec>, Vec<bool>) {
    let mut recs = Vec::with_capacity(a.len() + b.len());
    let mut is_market = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if j >= b.len() || (i < a.len() && a[i].t_ms <= b[j].t_ms) {
            recs.push(a[i]);
            is_market.push(true);
            i += 1;
        } else {
            recs.push(b[j]);
            is_market.push(false);
            j += 1;
        }
    }
    (recs, is_market)
}
