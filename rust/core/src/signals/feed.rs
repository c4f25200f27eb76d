//! Raw frames into a [`SignalIntegrator`] (SPEC 9: "their frame methods are conveniences over the
//! same parsers"): a [`SignalFeed`] keeps the Hyperliquid book and, for a diff-depth stream, the
//! Binance book, and feeds the integrator the values it needs, stamped with the local receive
//! time. The quote engine owns its books and feeds its integrator by value instead.
//!
//! - Hyperliquid `l2Book` / `bbo`: the book is updated ([`HlBook`]); its mid goes to
//!   `on_hl_mid`. `trades`: each print goes to `on_hl_trade` (prints of one frame share the
//!   receive time, so the fills of one taker order count once in the markouts).
//! - Binance `bookTicker`: the best bid and ask go to `on_binance_bbo`. `aggTrade` / `trade`:
//!   `on_binance_trade`. Diff depth and the REST snapshot update a [`BinanceBook`], whose mid is
//!   used only while no `bookTicker` has been seen (the ticker is real-time, diffs are batched).
//!
//! A malformed frame is refused with a [`crate::book::BookError`] and changes nothing.

use super::{SignalIntegrator, TimeMs};
use crate::book::{
    parse_binance_frame, parse_hl_frame, BinanceApplied, BinanceBook, BinanceMessage, HlApplied,
    HlBook, HlMessage,
};
use crate::config::MarketMakerConfig;
use crate::types::Side;
use crate::{Error, Result};

/// Decimals of the standalone books: enough for any perp or spot price and size, so one feed
/// accepts any coin without knowing its `szDecimals` (comparisons stay exact).
const DECIMALS: u32 = 8;
/// How every Hyperliquid trades frame begins.
const TRADES_PREFIX: &[u8] = br#"{"channel":"trades""#;
/// Levels per side of the Binance book (signals use only its top).
const LEAD_DEPTH: usize = 64;

/// What one frame fed to the integrator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FrameEffect {
    /// A new mid (Hyperliquid or lead) was fed.
    pub mid: bool,
    /// Trade prints fed.
    pub trades: u32,
}

#[derive(Debug, Clone)]
pub struct SignalFeed {
    signals: SignalIntegrator,
    hl: HlBook,
    lead: BinanceBook,
    coin: Option<String>,
    symbol: Option<String>,
    seen_ticker: bool,
}

fn parse_f64(field: &'static str, s: &str) -> Result<f64> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(Error::invalid(field, s, "not a decimal number")),
    }
}

impl SignalFeed {
    /// A feed for `cfg`'s asset and lead symbol: frames of other coins or symbols are ignored.
    pub fn new(cfg: &MarketMakerConfig) -> Self {
        let mut f = Self::unfiltered(cfg);
        f.hl = f.hl.for_coin(&cfg.asset);
        f.coin = Some(cfg.asset.clone());
        f.symbol = Some(cfg.lead.symbol.clone());
        f
    }

    /// A feed that takes every coin and symbol (one feed per stream: research, replays).
    pub fn unfiltered(cfg: &MarketMakerConfig) -> Self {
        Self {
            signals: SignalIntegrator::new(cfg),
            hl: HlBook::with_decimals(DECIMALS, DECIMALS).expect("valid scale"),
            lead: BinanceBook::with_scales(DECIMALS, DECIMALS, LEAD_DEPTH).expect("valid scale"),
            coin: None,
            symbol: None,
            seen_ticker: false,
        }
    }

    pub fn signals(&self) -> &SignalIntegrator {
        &self.signals
    }

    pub fn signals_mut(&mut self) -> &mut SignalIntegrator {
        &mut self.signals
    }

    pub fn hl_book(&self) -> &HlBook {
        &self.hl
    }

    pub fn lead_book(&self) -> &BinanceBook {
        &self.lead
    }

    fn our_coin(&self, coin: &str) -> bool {
        self.coin.as_deref().is_none_or(|c| c == coin)
    }

    fn our_symbol(&self, symbol: Option<&str>) -> bool {
        match (self.symbol.as_deref(), symbol) {
            (Some(want), Some(s)) => want.eq_ignore_ascii_case(s),
            _ => true,
        }
    }

    /// Applies one raw Hyperliquid frame received at `recv_ms`.
    ///
    /// # Errors
    /// A malformed frame or an unreadable trade price or size; nothing is changed.
    pub fn on_hl_frame(&mut self, frame: &[u8], recv_ms: TimeMs) -> Result<FrameEffect> {
        // Hyperliquid writes the channel first: a trades frame goes straight to the trade
        // parser instead of through the book's parse first. Any other layout takes the general
        // path below, which handles trades too.
        if frame.starts_with(TRADES_PREFIX) {
            return self.on_hl_trades(frame, recv_ms);
        }
        let mut fx = FrameEffect::default();
        match self.hl.apply(frame)? {
            HlApplied::Snapshot | HlApplied::Bbo => {
                if let Some(mid) = self.hl.mid() {
                    self.signals.on_hl_mid(mid, recv_ms)?;
                    fx.mid = true;
                }
            }
            HlApplied::Stale => {}
            // Not a book frame: parsed a second time only for trades and other channels.
            HlApplied::Ignored => fx = self.on_hl_trades(frame, recv_ms)?,
        }
        Ok(fx)
    }

    fn on_hl_trades(&mut self, frame: &[u8], recv_ms: TimeMs) -> Result<FrameEffect> {
        let mut fx = FrameEffect::default();
        if let HlMessage::Trades(trades) = parse_hl_frame(frame)? {
            // Validate every print before feeding any, so a bad one changes nothing.
            for t in trades.iter() {
                parse_f64("px", t.px)?;
                parse_f64("sz", t.sz)?;
            }
            for t in trades.iter() {
                if !self.our_coin(t.coin) {
                    continue;
                }
                let px = parse_f64("px", t.px)?;
                let sz = parse_f64("sz", t.sz)?;
                self.signals
                    .on_hl_trade(px, sz, t.side == Side::Bid, recv_ms)?;
                fx.trades += 1;
            }
        }
        Ok(fx)
    }

    /// Applies one raw Binance USD-M frame (raw or combined stream, or the REST depth body)
    /// received at `recv_ms`.
    ///
    /// # Errors
    /// A malformed frame or an unreadable price or quantity; nothing is changed.
    pub fn on_binance_frame(&mut self, frame: &[u8], recv_ms: TimeMs) -> Result<FrameEffect> {
        let mut fx = FrameEffect::default();
        let book_changed = match parse_binance_frame(frame)? {
            BinanceMessage::BookTicker(t) if self.our_symbol(Some(t.symbol)) => {
                let bid = parse_f64("b", t.bid_px)?;
                let ask = parse_f64("a", t.ask_px)?;
                self.signals.on_binance_bbo(bid, ask, recv_ms)?;
                self.seen_ticker = true;
                fx.mid = true;
                false
            }
            BinanceMessage::AggTrade(t) if self.our_symbol(t.symbol) => {
                let px = parse_f64("p", t.px)?;
                let qty = parse_f64("q", t.qty)?;
                self.signals
                    .on_binance_trade(px, qty, t.buyer_is_maker, recv_ms)?;
                fx.trades = 1;
                false
            }
            BinanceMessage::Trade(t) if self.our_symbol(t.symbol) => {
                let px = parse_f64("p", t.px)?;
                let qty = parse_f64("q", t.qty)?;
                self.signals
                    .on_binance_trade(px, qty, t.buyer_is_maker, recv_ms)?;
                fx.trades = 1;
                false
            }
            BinanceMessage::DepthUpdate(d) if self.our_symbol(d.symbol) => {
                self.lead.apply(frame)? == BinanceApplied::Applied
            }
            BinanceMessage::DepthSnapshot(_) => self.lead.apply_snapshot(frame)?,
            _ => false,
        };
        if book_changed {
            fx.mid = self.feed_book_mid(recv_ms)?;
        }
        Ok(fx)
    }

    fn feed_book_mid(&mut self, recv_ms: TimeMs) -> Result<bool> {
        if self.seen_ticker {
            return Ok(false);
        }
        match self.lead.mid() {
            Ok(Some(mid)) => {
                self.signals.on_binance_mid(mid, recv_ms)?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;

    fn feed() -> SignalFeed {
        SignalFeed::unfiltered(&MarketMakerConfig::default())
    }

    const BOOK: &[u8] = br#"{"channel":"l2Book","data":{"coin":"ETH","time":10,"levels":[[{"px":"2999.5","sz":"1.0","n":1}],[{"px":"3000.5","sz":"2.0","n":2}]]}}"#;

    #[test]
    fn hl_book_and_trades_reach_the_integrator() {
        let mut f = feed();
        let fx = f.on_hl_frame(BOOK, 1_000).unwrap();
        assert_eq!(
            fx,
            FrameEffect {
                mid: true,
                trades: 0
            }
        );
        assert_eq!(f.hl_book().mid(), Some(3000.0));
        let trades = br#"{"channel":"trades","data":[{"coin":"ETH","side":"B","px":"3000.5","sz":"0.1","time":11,"tid":1,"hash":"0x0","users":["a","b"]},{"coin":"ETH","side":"A","px":"2999.0","sz":"0.2","time":11,"tid":2,"hash":"0x0","users":["a","b"]}]}"#;
        let fx = f.on_hl_frame(trades, 1_001).unwrap();
        assert_eq!(fx.trades, 2);
        assert_eq!(f.signals().informed_flow().pending(), 2);
        // Keys in another order miss the fast path and take the general one.
        let reordered = br#"{"data":[{"coin":"ETH","side":"A","px":"3000.5","sz":"0.1","time":12,"tid":3,"hash":"0x0","users":["a","b"]}],"channel":"trades"}"#;
        assert_eq!(f.on_hl_frame(reordered, 1_002).unwrap().trades, 1);
        assert_eq!(f.signals().informed_flow().pending(), 3);
        let snap = f.signals_mut().snapshot(1_001);
        assert!(snap.cross_venue.hl_flow.trade_rate > 0.0);
    }

    #[test]
    fn binance_ticker_and_trades_reach_the_integrator() {
        let mut f = feed();
        let ticker = br#"{"stream":"ethusdt@bookTicker","data":{"e":"bookTicker","u":1,"E":5,"T":5,"s":"ETHUSDT","b":"3000.10","B":"1","a":"3000.20","A":"2"}}"#;
        assert!(f.on_binance_frame(ticker, 1_000).unwrap().mid);
        let agg = br#"{"e":"aggTrade","E":6,"s":"ETHUSDT","a":9,"p":"3000.2","q":"0.5","f":1,"l":2,"T":6,"m":false}"#;
        assert_eq!(f.on_binance_frame(agg, 1_001).unwrap().trades, 1);
        let snap = f.signals_mut().snapshot(1_001);
        assert_eq!(snap.cross_venue.lead_flow.imbalance_1s, 1.0);
        assert!(snap.lead_fresh);
    }

    #[test]
    fn other_coins_are_ignored_by_a_filtered_feed() {
        let mut c = MarketMakerConfig {
            asset: "BTC".into(),
            ..Default::default()
        };
        c.lead.symbol = "BTCUSDT".into();
        let mut f = SignalFeed::new(&c);
        assert_eq!(f.on_hl_frame(BOOK, 1).unwrap(), FrameEffect::default());
        assert_eq!(f.hl_book().mid(), None);
        let ticker = br#"{"e":"bookTicker","u":1,"s":"ETHUSDT","b":"1","B":"1","a":"2","A":"1"}"#;
        assert!(!f.on_binance_frame(ticker, 1).unwrap().mid);
    }

    #[test]
    fn a_malformed_frame_changes_nothing() {
        let mut f = feed();
        f.on_hl_frame(BOOK, 1_000).unwrap();
        let before = format!("{:?}", f.signals_mut().clone().snapshot(2_000));
        assert!(matches!(
            f.on_hl_frame(b"{\"channel\":\"l2Book\",", 1_500),
            Err(Error::Book(_))
        ));
        let bad = br#"{"channel":"trades","data":[{"coin":"ETH","side":"B","px":"3000.5","sz":"0.1","time":11,"tid":1,"hash":"0x0","users":["a","b"]},{"coin":"ETH","side":"B","px":"nan","sz":"0.1","time":11,"tid":2,"hash":"0x0","users":["a","b"]}]}"#;
        let e = f.on_hl_frame(bad, 1_500).unwrap_err();
        assert!(e.to_string().contains("px"), "{e}");
        let bad_ticker =
            br#"{"e":"bookTicker","u":1,"s":"ETHUSDT","b":"x","B":"1","a":"2","A":"1"}"#;
        assert!(f.on_binance_frame(bad_ticker, 1_500).is_err());
        assert_eq!(
            format!("{:?}", f.signals_mut().clone().snapshot(2_000)),
            before
        );
    }
}
