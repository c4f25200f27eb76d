//! Market data: allocation-free L2 books and wire parsers for Hyperliquid and Binance (issue 3).

/// A frame or snapshot the book refused; the book is left exactly as it was.
#[derive(Debug, thiserror::Error)]
pub enum BookError {
    #[error("malformed frame: {0}")]
    Malformed(String),
}
