//! Pre-send risk (SPEC 3, 8 step 7): which limit wins, and the guard that checks every action
//! against it before it is signed.
//!
//! - [`limits`][]: `resolve_limits(config, exchange context)`, the one place the ceiling, the
//!   single-order cap and the minimum order are decided; the engine and the guard both use it
//! - [`ledger`][]: the guard's own account of our orders and position, fed by the same events as
//!   the engine (our sends, the exchange's answers, order updates, fills) but kept apart, so
//!   that the guard is an independent check of the engine rather than a copy of its book
//! - [`sent`][]: what the guard checks and the ledger records of an action, read from the
//!   signed [`crate::protocol::Action`] itself
//! - [`guard`][]: the checks, per direction, so that a reducing order passes above the limit
//! - [`answer`][]: the gateway's reading of an answer (per item ok or its error kind)

pub mod answer;
pub mod guard;
pub mod ledger;
pub mod limits;
pub mod sent;

pub use answer::{AnswerRead, ItemRead};
pub use guard::{Guard, GuardLimits, GuardOrder};
pub use ledger::{Ledger, LedgerOrder, LedgerState, NewOrder, OpenOrder, SentItem, Target};
pub use limits::{resolve_limits, ResolvedLimits, LIMITS_REFRESH_FRAC};
pub use sent::read_action;

#[cfg(test)]
mod tests;
