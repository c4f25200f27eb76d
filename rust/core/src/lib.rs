//! mmfast-core: the trading core of mmfast, pure Rust with no Python and no I/O.
//!
//! Every component is a plain type, deterministic given its inputs and the clock it is fed
//! (SPEC section 0). The PyO3 binding lives in the `mmfast-py` crate; nothing here links
//! libpython, so `cargo test -p mmfast-core` runs without an interpreter.
//!
//! One module per SPEC section:
//! - [`params`]: parameter derivation, `auto_derive` (SPEC 1)
//! - [`config`]: `MarketMakerConfig`, TOML loading and validation (SPEC 2)
//! - [`governor`]: the inventory governor and position zones (SPEC 3)
//! - [`signals`]: the signal integrator and its estimators (SPEC 4)
//! - [`mode`]: execution-mode selection (SPEC 5)
//! - [`queue_value`]: the queue-value heuristic (SPEC 6)
//! - [`strategy`]: the GLFT ladder, sizing and rounding (SPEC 7)
//! - [`engine`]: the quote engine cycle and order state (SPEC 8, 9)
//! - [`book`], [`replay`]: market data books, wire parsers and the recording reader
//! - [`protocol`]: the exchange's action types, wire form, msgpack, price/size rules, decimals
//! - [`signing`]: Hyperliquid action hashing, signing and recovery
//! - [`check`], [`error`]: argument checks (no dependencies) and the core's one error type
//! - [`sim`]: the matching engine shared by the venue and the backtester (SPEC 11)
//! - [`risk`]: which limit wins (`resolve_limits`) and the pre-send guard with its ledger (SPEC 3, 8)

pub mod backtest;
pub mod book;
pub mod check;
pub mod config;
pub mod engine;
pub mod error;
pub mod governor;
pub mod mode;
pub mod params;
pub mod protocol;
pub mod queue_value;
pub mod replay;
pub mod risk;
pub mod signals;
pub mod signing;
pub mod sim;
pub mod strategy;
pub mod types;

pub use error::{Error, Result};
