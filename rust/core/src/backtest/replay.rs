//! Recorded markets for the backtester: a Hyperliquid recording (l2Book snapshots and trades)
//! replayed into the venue, and optionally a Binance recording fed to the bot as the lead venue,
//! merged by receive time (shared/data format).

use serde_json::Value;

use crate::error::{Error, Result};
use crate::replay::ReplayReader;

/// One recorded event, at its receive time (ms).
#[derive(Debug, Clone)]
pub enum Recorded {
    L2 { t: u64, data: Value },
    Trades { t: u64, data: Value },
    Binance { t: u64, frame: Vec<u8> },
}

impl Recorded {
    fn t(&self) -> u64 {
        match self {
            Recorded::L2 { t, .. } | Recorded::Trades { t, .. } | Recorded::Binance { t, .. } => *t,
        }
    }
}

/// The events of one backtest's recordings, in time order.
#[derive(Debug, Clone)]
pub struct RecordedMarket {
    events: Vec<Recorded>,
    pos: usize,
    pub coin: String,
    pub first_mid: f64,
    pub start_ms: u64,
    pub end_ms: u64,
}

fn frame_error(path: &str, line: u64, reason: &'static str) -> Error {
    crate::replay::ReplayError::Format {
        path: path.to_string(),
        line,
        reason,
    }
    .into()
}

impl RecordedMarket {
    /// Reads the recordings.
    ///
    /// # Errors
    /// An unreadable or truncated file, a malformed line, or a Hyperliquid recording without an
    /// `l2Book` frame.
    pub fn load(hl: &str, binance: Option<&str>) -> Result<Self> {
        let mut events = Vec::new();
        let mut coin = None;
        let mut first_mid = 0.0;
        let mut r = ReplayReader::open(hl)?;
        while let Some((ns, frame)) = r.next_frame()? {
            let t = ns / 1_000_000;
            let v: Value = serde_json::from_slice(frame)
                .map_err(|_| frame_error(hl, r.line_no(), "the frame is not JSON"))?;
            let Some(data) = v.get("data") else { continue };
            match v.get("channel").and_then(Value::as_str) {
                Some("l2Book") => {
                    if coin.is_none() {
                        let c = data.get("coin").and_then(Value::as_str);
                        let px = |side: usize| -> Option<f64> {
                            data.pointer(&format!("/levels/{side}/0/px"))?
                                .as_str()?
                                .parse()
                                .ok()
                        };
                        if let (Some(c), Some(b), Some(a)) = (c, px(0), px(1)) {
                            coin = Some(c.to_string());
                            first_mid = (b + a) / 2.0;
                        }
                    }
                    events.push(Recorded::L2 {
                        t,
                        data: data.clone(),
                    });
                }
                Some("trades") => events.push(Recorded::Trades {
                    t,
                    data: data.clone(),
                }),
                _ => {}
            }
        }
        let Some(coin) = coin else {
            return Err(Error::invalid(
                "hl",
                hl,
                "no Hyperliquid l2Book frame with both sides in the recording",
            ));
        };
        if let Some(bn) = binance {
            let mut r = ReplayReader::open(bn)?;
            while let Some((ns, frame)) = r.next_frame()? {
                // REST snapshots taken during the recording are not stream frames.
                if frame.windows(14).any(|w| w == b"\"lastUpdateId\"")
                    && !frame.starts_with(b"{\"stream\"")
                {
                    continue;
                }
                events.push(Recorded::Binance {
                    t: ns / 1_000_000,
                    frame: frame.to_vec(),
                });
            }
        }
        // Stable: frames with the same ms keep their file order.
        events.sort_by_key(Recorded::t);
        let hl_times = events
            .iter()
            .filter(|e| !matches!(e, Recorded::Binance { .. }));
        let start_ms = hl_times.clone().map(Recorded::t).min().unwrap_or(0);
        let end_ms = hl_times.map(Recorded::t).max().unwrap_or(start_ms);
        Ok(Self {
            events,
            pos: 0,
            coin,
            first_mid,
            start_ms,
            end_ms,
        })
    }

    /// The next event at or before `t_ms`, if any.
    pub fn next_before(&mut self, t_ms: u64) -> Option<Recorded> {
        let e = self.events.get_mut(self.pos)?;
        let t = e.t();
        if t > t_ms {
            return None;
        }
        self.pos += 1;
        Some(std::mem::replace(
            e,
            Recorded::Binance {
                t,
                frame: Vec::new(),
            },
        ))
    }
}
