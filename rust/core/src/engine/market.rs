//! Market frames into the engine (SPEC 9): Hyperliquid `l2Book` / `bbo` go to the engine's
//! `HlBook` (a `bbo` newer than the last snapshot overrides the top of book), `pong` and `trades`
//! prove the feed alive and trades advance our place in the queue; Binance `bookTicker` gives the
//! lead venue's best bid/offer (scaled by `lead.price_multiplier`), and any Binance market frame
//! proves that feed alive. Parsing is the book module's; a malformed frame is refused and
//! changes nothing.

use super::orders::OrderState;
use super::QuoteEngine;
use crate::book::{
    parse_binance_frame, parse_hl_frame, BinanceMessage, HlApplied, HlMessage, Level,
};
use crate::check;
use crate::error::Result;

fn parse_px(s: &str) -> Option<f64> {
    s.parse::<f64>().ok().filter(|v| v.is_finite() && *v >= 0.0)
}

impl QuoteEngine {
    /// Hyperliquid top of book (from a book or bbo frame) received at `recv_ms`.
    ///
    /// # Errors
    /// Non-finite or negative prices or sizes.
    pub fn on_hl_top(
        &mut self,
        bid_px: f64,
        bid_sz: f64,
        ask_px: f64,
        ask_sz: f64,
        recv_ms: u64,
    ) -> Result<()> {
        check::non_negative("bid_px", bid_px)?;
        check::non_negative("bid_sz", bid_sz)?;
        check::non_negative("ask_px", ask_px)?;
        check::non_negative("ask_sz", ask_sz)?;
        self.set_hl_top(bid_px, bid_sz, ask_px, ask_sz, recv_ms)?;
        Ok(())
    }

    /// The top of book and the mid the signals see, from a checked top or the book's; whether
    /// the top changed.
    fn set_hl_top(
        &mut self,
        bid: f64,
        bid_sz: f64,
        ask: f64,
        ask_sz: f64,
        recv_ms: u64,
    ) -> Result<bool> {
        let m = &mut self.market;
        let changed = (bid, bid_sz, ask, ask_sz) != (m.best_bid, m.bid_sz, m.best_ask, m.ask_sz);
        m.best_bid = bid;
        m.bid_sz = bid_sz;
        m.best_ask = ask;
        m.ask_sz = ask_sz;
        m.remember_sides(recv_ms);
        self.note_hl_alive(recv_ms);
        if self.market.has_top() {
            let mid = self.market.mid();
            self.integrator.on_hl_mid(mid, recv_ms as i64)?;
        }
        Ok(changed)
    }

    /// Any sign of life from Hyperliquid market data (book, bbo, pong).
    pub fn note_hl_alive(&mut self, recv_ms: u64) {
        self.market.hl_recv_ms = Some(self.market.hl_recv_ms.map_or(recv_ms, |t| t.max(recv_ms)));
    }

    /// Binance best bid/offer received at `recv_ms` (already in Hyperliquid price units).
    ///
    /// # Errors
    /// Non-finite or negative prices.
    pub fn on_binance_top(&mut self, bid_px: f64, ask_px: f64, recv_ms: u64) -> Result<()> {
        check::non_negative("binance bid_px", bid_px)?;
        check::non_negative("binance ask_px", ask_px)?;
        let mult = self.cfg.lead.price_multiplier;
        if bid_px > 0.0 && ask_px >= bid_px {
            // The integrator applies the price multiplier itself: give it the lead's own units.
            self.integrator
                .on_binance_bbo(bid_px / mult, ask_px / mult, recv_ms as i64)?;
        }
        let m = &mut self.market;
        m.binance_bid = bid_px;
        m.binance_ask = ask_px;
        m.binance_recv_ms = Some(m.binance_recv_ms.map_or(recv_ms, |t| t.max(recv_ms)));
        Ok(())
    }

    /// Applies one raw Hyperliquid market frame received at `recv_ms`. Returns true when the
    /// top of book changed.
    ///
    /// # Errors
    /// A malformed frame (`BookError`); the engine is unchanged.
    pub fn on_hl_frame(&mut self, frame: &[u8], recv_ms: u64) -> Result<bool> {
        let applied = self.hl_book.apply(frame)?;
        self.after_hl_book(applied, frame, recv_ms)
    }

    /// An `l2Book` snapshot of our coin at exchange time `time` given as levels (ticks and lots
    /// of the engine's runtime decimals, best first): what [`Self::on_hl_frame`] does with the
    /// frame that carries them (the backtester hands over the venue's book this way).
    ///
    /// # Errors
    /// As [`Self::on_hl_frame`] for a malformed book; the engine is unchanged.
    pub fn on_hl_levels(
        &mut self,
        time: u64,
        bids: impl IntoIterator<Item = Level>,
        asks: impl IntoIterator<Item = Level>,
        recv_ms: u64,
    ) -> Result<bool> {
        let applied = self.hl_book.apply_levels(time, bids, asks)?;
        self.after_hl_book(applied, b"", recv_ms)
    }

    /// One public trade of our coin (`is_buy`: the aggressor bought), received at `recv_ms`:
    /// what [`Self::on_hl_frame`] does with each of a `trades` frame's entries, without the
    /// liveness note (see [`Self::note_hl_alive`]).
    ///
    /// # Errors
    /// As the signal integrator's.
    pub fn on_hl_trade(&mut self, px: f64, sz: f64, is_buy: bool, recv_ms: u64) -> Result<()> {
        if px > 0.0 {
            self.integrator
                .on_hl_trade(px, sz, is_buy, recv_ms as i64)?;
        }
        // A trade at our resting price takes liquidity ahead of us first.
        for i in 0..self.orders.len() {
            let o = self.orders.get_mut(i);
            if o.state == OrderState::Resting && o.px == px {
                o.queue_ahead = (o.queue_ahead - sz).max(0.0);
            }
        }
        Ok(())
    }

    fn after_hl_book(&mut self, applied: HlApplied, frame: &[u8], recv_ms: u64) -> Result<bool> {
        match applied {
            HlApplied::Snapshot | HlApplied::Bbo => {
                let (bid, bid_sz) = self.hl_book.best_bid_f64().unwrap_or((0.0, 0.0));
                let (ask, ask_sz) = self.hl_book.best_ask_f64().unwrap_or((0.0, 0.0));
                self.set_hl_top(bid, bid_sz, ask, ask_sz, recv_ms)
            }
            HlApplied::Stale => {
                self.note_hl_alive(recv_ms);
                Ok(false)
            }
            HlApplied::Ignored => {
                // Not a book frame: the book already parsed it once, so this second parse only
                // runs for pongs, trades and other channels.
                match parse_hl_frame(frame)? {
                    HlMessage::Pong => self.note_hl_alive(recv_ms),
                    HlMessage::Trades(trades) => {
                        let mut ours = false;
                        for t in trades.iter() {
                            if t.coin != self.cfg.asset.as_str() {
                                continue;
                            }
                            ours = true;
                            let (Some(px), Some(sz)) = (parse_px(t.px), parse_px(t.sz)) else {
                                continue;
                            };
                            let is_buy = t.side == crate::types::Side::Bid;
                            self.on_hl_trade(px, sz, is_buy, recv_ms)?;
                        }
                        if ours {
                            self.note_hl_alive(recv_ms);
                        }
                    }
                    _ => {}
                }
                Ok(false)
            }
        }
    }

    /// Applies one raw Binance USD-M market frame received at `recv_ms`. Returns true when the
    /// lead venue's best bid/offer changed.
    ///
    /// # Errors
    /// A malformed frame (`BookError`); the engine is unchanged.
    pub fn on_binance_frame(&mut self, frame: &[u8], recv_ms: u64) -> Result<bool> {
        let symbol = self.cfg.lead.symbol.as_str();
        let ours = |s: Option<&str>| s.is_none_or(|s| s.eq_ignore_ascii_case(symbol));
        match parse_binance_frame(frame)? {
            BinanceMessage::BookTicker(t) if ours(Some(t.symbol)) => {
                let mult = self.cfg.lead.price_multiplier;
                let (Some(bid), Some(ask)) = (parse_px(t.bid_px), parse_px(t.ask_px)) else {
                    return Err(crate::Error::invalid(
                        "bookTicker b/a",
                        format!("{}/{}", t.bid_px, t.ask_px),
                        "not prices",
                    ));
                };
                let (bid, ask) = (bid * mult, ask * mult);
                let m = &self.market;
                let changed = (bid, ask) != (m.binance_bid, m.binance_ask);
                self.on_binance_top(bid, ask, recv_ms)?;
                Ok(changed)
            }
            BinanceMessage::AggTrade(t) if ours(t.symbol) => {
                match (parse_px(t.px), parse_px(t.qty)) {
                    (Some(px), Some(qty)) => {
                        self.on_binance_agg_trade(px, qty, t.buyer_is_maker, recv_ms)?;
                    }
                    _ => self.note_binance_alive(recv_ms),
                }
                Ok(false)
            }
            BinanceMessage::Trade(t) if ours(t.symbol) => {
                self.note_binance_alive(recv_ms);
                Ok(false)
            }
            BinanceMessage::DepthUpdate(d) if ours(d.symbol) => {
                self.note_binance_alive(recv_ms);
                Ok(false)
            }
            _ => Ok(false),
        }
    }

    /// One Binance `aggTrade` of the lead symbol (price in the lead's own units), received at
    /// `recv_ms`: the lead signal's trade flow, and proof the feed is alive.
    ///
    /// # Errors
    /// As the signal integrator's.
    pub fn on_binance_agg_trade(
        &mut self,
        px: f64,
        qty: f64,
        buyer_is_maker: bool,
        recv_ms: u64,
    ) -> Result<()> {
        if px > 0.0 {
            self.integrator
                .on_binance_trade(px, qty, buyer_is_maker, recv_ms as i64)?;
        }
        self.note_binance_alive(recv_ms);
        Ok(())
    }

    /// Any sign of life from the Binance feed.
    pub fn note_binance_alive(&mut self, recv_ms: u64) {
        let m = &mut self.market;
        m.binance_recv_ms = Some(m.binance_recv_ms.map_or(recv_ms, |t| t.max(recv_ms)));
    }
}

#[cfg(test)]
mod tests {
    use crate::config::MarketMakerConfig;
    use crate::engine::QuoteEngine;

    const T0: u64 = 1_700_000_000_000;

    fn engine() -> QuoteEngine {
        let cfg = MarketMakerConfig {
            max_position: Some(1.0),
            ..Default::default()
        };
        QuoteEngine::new(cfg, 1).unwrap()
    }

    #[test]
    fn hl_book_and_bbo_frames_set_the_top() {
        let mut e = engine();
        let book = br#"{"channel":"l2Book","data":{"coin":"ETH","time":10,"levels":[
            [{"px":"3000.1","sz":"1.5","n":2},{"px":"3000.0","sz":"2","n":1}],
            [{"px":"3000.3","sz":"0.5","n":1}]]}}"#;
        assert!(e.on_hl_frame(book, T0).unwrap());
        let m = *e.market();
        assert_eq!(
            (m.best_bid, m.bid_sz, m.best_ask, m.ask_sz),
            (3000.1, 1.5, 3000.3, 0.5)
        );
        assert_eq!(m.hl_recv_ms, Some(T0));
        let bbo = br#"{"channel":"bbo","data":{"coin":"ETH","time":11,"bbo":[
            {"px":"3000.2","sz":"0.7","n":1},{"px":"3000.3","sz":"0.4","n":1}]}}"#;
        assert!(e.on_hl_frame(bbo, T0 + 5).unwrap());
        assert_eq!(e.market().best_bid, 3000.2);
        // Other coins, pongs and trades change no price; pong and our trades prove liveness.
        let other = br#"{"channel":"bbo","data":{"coin":"BTC","time":12,"bbo":[
            {"px":"1","sz":"1","n":1},{"px":"2","sz":"1","n":1}]}}"#;
        assert!(!e.on_hl_frame(other, T0 + 6).unwrap());
        assert_eq!(e.market().hl_recv_ms, Some(T0 + 5));
        assert!(!e.on_hl_frame(br#"{"channel":"pong"}"#, T0 + 9).unwrap());
        assert_eq!(e.market().hl_recv_ms, Some(T0 + 9));
        // A malformed frame is refused and changes nothing.
        let before = *e.market();
        assert!(e
            .on_hl_frame(br#"{"channel":"l2Book","data":{"coin":"ETH""#, T0 + 20)
            .is_err());
        assert_eq!(*e.market(), before);
    }

    #[test]
    fn queue_rank_reads_the_visible_book_at_our_price() {
        let mut e = engine();
        e.set_account(Some(0.0), Some(10_000.0), Some(10_000.0), Some(3.0))
            .unwrap();
        // 20 bid levels 0.2 apart from 2999.9 down to 2996.1 (our touch bid, 2997.5, is one of
        // them); a single ask level, so our ask (3002.5) is beyond the visible book.
        let bids: Vec<String> = (0..20)
            .map(|k| {
                format!(
                    r#"{{"px":"{:.1}","sz":"1","n":1}}"#,
                    2999.9 - 0.2 * k as f64
                )
            })
            .collect();
        let frame = format!(
            r#"{{"channel":"l2Book","data":{{"coin":"ETH","time":1,"levels":[[{}],[{{"px":"3000.1","sz":"1","n":1}}]]}}}}"#,
            bids.join(",")
        );
        e.on_hl_frame(frame.as_bytes(), T0).unwrap();
        let out = e.cycle(T0);
        let d = out.diagnostics;
        let bid = out.quotes.bids.as_slice()[0];
        assert_eq!(bid.px, 2997.5);
        // Same depth both sides (symmetric at q = 0): the bid joins a queue (rank 1), the ask
        // has no one ahead (rank 0): the values differ by depth x 0.30.
        let depth = bid.depth_bps;
        assert!((d.ask_queue_value - d.bid_queue_value - 0.3 * depth).abs() < 1e-9);
        // The new order remembers the size ahead of it.
        let o = e.orders().iter().find(|o| o.px == 2997.5).unwrap();
        assert_eq!(o.queue_ahead, 1.0);
    }

    #[test]
    fn binance_book_ticker_sets_the_lead_top() {
        let mut e = engine();
        let f = br#"{"e":"bookTicker","u":1,"E":2,"T":3,"s":"ETHUSDT","b":"2999.5","B":"1","a":"2999.6","A":"2"}"#;
        assert!(e.on_binance_frame(f, T0).unwrap());
        let m = *e.market();
        assert_eq!(
            (m.binance_bid, m.binance_ask, m.binance_recv_ms),
            (2999.5, 2999.6, Some(T0))
        );
        let other = br#"{"e":"bookTicker","u":1,"E":2,"T":3,"s":"BTCUSDT","b":"1","B":"1","a":"2","A":"2"}"#;
        assert!(!e.on_binance_frame(other, T0 + 1).unwrap());
        assert_eq!(e.market().binance_bid, 2999.5);
        assert!(e.on_binance_frame(b"{\"e\":", T0 + 2).is_err());
    }
}
