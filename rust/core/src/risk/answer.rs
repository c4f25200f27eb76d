//! The gateway's reading of one answer (PROTOCOL 1.5, 3.3): per item sent, ok or its error and
//! what that error means, with a whole-batch error spread over every item. Built from the same
//! parse the ledger and the engine apply, so the Python gateway never decodes an answer.

use crate::engine::{ActionStatus, ExchangeReply};
use crate::protocol::errors::{classify, split_asset, ErrorKind};

/// One entry of `statuses`, aligned with the action's items (orders, cancels or modifies).
#[derive(Debug, Clone, PartialEq)]
pub struct ItemRead {
    /// `resting`, `filled`, `success`, `waiting` or `error`.
    pub status: &'static str,
    pub oid: Option<u64>,
    pub cloid: Option<u128>,
    pub total_sz: Option<f64>,
    pub avg_px: Option<f64>,
    /// The message without its ` asset=N` suffix.
    pub error: Option<String>,
    pub error_kind: Option<ErrorKind>,
    pub asset: Option<u64>,
}

impl ItemRead {
    fn ok(status: &'static str) -> Self {
        Self {
            status,
            oid: None,
            cloid: None,
            total_sz: None,
            avg_px: None,
            error: None,
            error_kind: None,
            asset: None,
        }
    }

    fn error(message: &str, kind: Option<ErrorKind>) -> Self {
        let (msg, asset) = split_asset(message);
        Self {
            error: Some(msg.to_string()),
            error_kind: Some(kind.unwrap_or_else(|| classify(msg))),
            asset,
            ..Self::ok("error")
        }
    }

    pub fn is_ok(&self) -> bool {
        self.error_kind.is_none()
    }
}

/// The answer to one action, read.
#[derive(Debug, Clone, PartialEq)]
pub struct AnswerRead {
    /// False when the action failed as a whole (top-level `err`, a post `error`, unreadable).
    pub ok: bool,
    pub response_type: Option<String>,
    /// One per item sent (when the count is known), each ok or carrying its error.
    pub items: Vec<ItemRead>,
    /// The whole-action error (as `ok` says, or a batch pre-validation error).
    pub error: Option<String>,
    pub error_kind: Option<ErrorKind>,
}

impl AnswerRead {
    /// An action that failed as a whole: every item carries the error (`kind`, else classified).
    pub fn failed(message: &str, n_items: usize, kind: Option<ErrorKind>) -> Self {
        let item = ItemRead::error(message, kind);
        Self {
            ok: false,
            response_type: None,
            error: item.error.clone(),
            error_kind: item.error_kind,
            items: vec![item; n_items],
        }
    }

    /// Reads a parsed answer for an action of `n_items` items (0 for item-less actions).
    pub fn read(reply: &ExchangeReply, response_type: Option<String>, n_items: usize) -> Self {
        let statuses = match reply {
            ExchangeReply::Err(m) => return Self::failed(m, n_items, None),
            // "default" answers (single modify, updateLeverage, scheduleCancel, noop).
            ExchangeReply::Ok => {
                return Self {
                    ok: true,
                    response_type,
                    items: vec![ItemRead::ok("success"); n_items],
                    error: None,
                    error_kind: None,
                }
            }
            ExchangeReply::Statuses(s) => s,
        };
        let mut items: Vec<ItemRead> = statuses.iter().map(item).collect();
        let (mut error, mut error_kind) = (None, None);
        if items.len() < n_items {
            if items.len() == 1 && !items[0].is_ok() {
                // Pre-validation rejects the batch with one error (PROTOCOL 3.3): it applies
                // to all.
                error.clone_from(&items[0].error);
                error_kind = items[0].error_kind;
                items.resize(n_items, items[0].clone());
            } else {
                let missing = ItemRead::error("no status returned for this item", None);
                items.resize(n_items, missing);
            }
        }
        Self {
            ok: true,
            response_type,
            items,
            error,
            error_kind,
        }
    }

    /// Items not ok.
    pub fn rejected(&self) -> usize {
        self.items.iter().filter(|i| !i.is_ok()).count()
    }
}

fn item(s: &ActionStatus) -> ItemRead {
    match s {
        ActionStatus::Resting { oid, cloid } => ItemRead {
            oid: Some(*oid),
            cloid: *cloid,
            ..ItemRead::ok("resting")
        },
        ActionStatus::Filled {
            oid,
            total_sz,
            avg_px,
            cloid,
        } => ItemRead {
            oid: Some(*oid),
            cloid: *cloid,
            total_sz: Some(*total_sz),
            avg_px: Some(*avg_px),
            ..ItemRead::ok("filled")
        },
        ActionStatus::Success => ItemRead::ok("success"),
        ActionStatus::Waiting => ItemRead::ok("waiting"),
        ActionStatus::Error(m) => ItemRead::error(m, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::frames::parse_exchange_answer;

    fn read(body: &str, n: usize) -> AnswerRead {
        let a = parse_exchange_answer(body.as_bytes()).unwrap();
        AnswerRead::read(&a.reply, a.response_type, n)
    }

    #[test]
    fn statuses_align_with_the_items() {
        let r = read(
            r#"{"status":"ok","response":{"type":"order","data":{"statuses":[
              {"resting":{"oid":11,"cloid":"0x00000000000000000000000000000001"}},
              {"filled":{"totalSz":"0.02","avgPx":"1891.4","oid":12}},
              {"error":"Order must have minimum value of $10. asset=4"},"waitingForFill"]}}}"#,
            4,
        );
        assert!(r.ok && r.error.is_none());
        assert_eq!(r.response_type.as_deref(), Some("order"));
        assert_eq!(r.rejected(), 1);
        assert_eq!((r.items[0].oid, r.items[0].cloid), (Some(11), Some(1)));
        assert_eq!(r.items[1].total_sz, Some(0.02));
        let e = &r.items[2];
        assert_eq!(
            (e.error.as_deref(), e.error_kind, e.asset),
            (
                Some("Order must have minimum value of $10."),
                Some(ErrorKind::MinNotional),
                Some(4)
            )
        );
        assert_eq!(r.items[3].status, "waiting");
    }

    #[test]
    fn whole_batch_errors_reach_every_item() {
        let pre = r#"{"status":"ok","response":{"type":"order","data":{"statuses":[
            {"error":"Order price too far from oracle asset=4"}]}}}"#;
        let r = read(pre, 3);
        assert!(r.ok);
        assert_eq!((r.rejected(), r.error_kind), (3, Some(ErrorKind::Oracle)));
        let r = read(
            r#"{"status":"err","response":"Invalid nonce: duplicate nonce 5"}"#,
            2,
        );
        assert!(!r.ok);
        assert_eq!((r.rejected(), r.error_kind), (2, Some(ErrorKind::Nonce)));
        let r = read(
            r#"{"channel":"post","data":{"id":7,"response":{"type":"error","payload":"400"}}}"#,
            2,
        );
        assert!(!r.ok && r.rejected() == 2);
        // Fewer statuses than items, not a pre-validation error: the missing ones are errors.
        let r = read(
            r#"{"status":"ok","response":{"type":"cancel","data":{"statuses":["success"]}}}"#,
            2,
        );
        assert_eq!(
            (r.rejected(), r.items[1].error_kind),
            (1, Some(ErrorKind::Other))
        );
        let r = read(r#"{"status":"ok","response":{"type":"default"}}"#, 0);
        assert!(r.ok && r.items.is_empty());
        let r = AnswerRead::failed("budget", 2, Some(ErrorKind::Local));
        assert_eq!((r.rejected(), r.error_kind), (2, Some(ErrorKind::Local)));
    }
}
