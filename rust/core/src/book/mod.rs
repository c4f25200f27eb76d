//! Market data (SPEC 0 and 9; PROTOCOL 1.4 and 6): allocation-free L2 books in integer ticks and
//! lots, and zero-copy wire parsers for Hyperliquid and Binance USD-M frames.
//!
//! - [`l2`]: the bounded L2 book ([`L2Book`]) and its per-level change report ([`DepthChange`]),
//!   with the derived values the quote engine, the queue model and the matching engine read.
//! - [`parse_hl`] / [`parse_binance`]: typed, borrowed views of one frame
//!   ([`parse_hl_frame`], [`parse_binance_frame`]).
//! - [`hl`] / [`binance`]: books fed with raw frames ([`HlBook`], [`BinanceBook`], the latter
//!   with Binance's snapshot-plus-diff synchronisation).
//! - [`decimal`]: exact decimal strings to integer units ([`Scale`]).
//!
//! Every `apply` parses the whole frame before it touches the book, so a malformed frame returns
//! a [`BookError`] and leaves the book exactly as it was.

pub mod binance;
pub mod decimal;
pub mod hl;
pub mod l2;
mod parse;
pub mod parse_binance;
pub mod parse_hl;

pub use binance::{BinanceApplied, BinanceBook};
pub use decimal::Scale;
pub use hl::{HlApplied, HlBook};
pub use l2::{BookSide, DepthChange, L2Book, Level};
pub use parse_binance::{
    parse_binance_frame, AggTrade, BinanceMessage, BookTicker, DepthLevels, DepthSnapshot,
    DepthUpdate, Trade,
};
pub use parse_hl::{
    parse_hl_frame, HlBbo, HlL2Book, HlLevel, HlLevels, HlMessage, HlTrade, HlTrades,
};

/// A frame, snapshot or query the book refused. After an error from `apply` the book is exactly
/// as it was before the call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BookError {
    /// The bytes are not the JSON the venue sends: `at` is the byte offset where parsing stopped.
    #[error("malformed frame at byte {at}: {reason}")]
    Malformed { at: usize, reason: &'static str },
    /// A field is present but its value is unusable (bad decimal, wrong type, too many digits).
    #[error("malformed frame: field {field} = {value}: {reason}")]
    Field {
        field: &'static str,
        value: String,
        reason: &'static str,
    },
    /// A field the message type requires is absent.
    #[error("malformed frame: {message} without field {field}")]
    Missing {
        message: &'static str,
        field: &'static str,
    },
    /// The book cannot answer: not yet synchronised, or a sequence gap needs a new snapshot.
    #[error("book not synced: {reason}")]
    NotSynced { reason: &'static str },
}

impl BookError {
    pub(crate) fn field(field: &'static str, value: &[u8], reason: &'static str) -> Self {
        // Cap the echoed value: a garbage frame must not turn into a huge error message.
        let shown = &value[..value.len().min(64)];
        let mut value = format!("{:?}", String::from_utf8_lossy(shown));
        if shown.len() < value.len() && value.len() > 64 {
            value.push('…');
        }
        BookError::Field {
            field,
            value,
            reason,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
