//! What the exchange's error strings mean for the bot (PROTOCOL 3.3 tables), in one place: the
//! gateway's counters and callbacks, the pre-send guard's ledger and the Python `ErrorKind` all
//! read an answer's errors through [`classify`] and [`split_asset`].

/// The kind of one error (the Python `mmfast.gateway.responses.ErrorKind`, by value).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    Tick,
    MinNotional,
    Margin,
    ReduceOnly,
    BadAloPx,
    IocCancel,
    BadTriggerPx,
    NoLiquidity,
    OpenInterestCap,
    Oracle,
    MaxPosition,
    MissingOrder,
    InvalidModify,
    UnknownSigner,
    MustDeposit,
    Nonce,
    AddressRateLimit,
    /// HTTP 429, set by the REST path (no exchange wording).
    IpRateLimit,
    ScheduleCancelVolume,
    PostOnlyAfterUpgrade,
    TooManyPosts,
    Expired,
    /// Refused before sending (guard, budget, socket down): set by the gateway.
    Local,
    Other,
}

impl ErrorKind {
    /// Every kind, in declaration order.
    pub const ALL: [ErrorKind; 24] = [
        Self::Tick,
        Self::MinNotional,
        Self::Margin,
        Self::ReduceOnly,
        Self::BadAloPx,
        Self::IocCancel,
        Self::BadTriggerPx,
        Self::NoLiquidity,
        Self::OpenInterestCap,
        Self::Oracle,
        Self::MaxPosition,
        Self::MissingOrder,
        Self::InvalidModify,
        Self::UnknownSigner,
        Self::MustDeposit,
        Self::Nonce,
        Self::AddressRateLimit,
        Self::IpRateLimit,
        Self::ScheduleCancelVolume,
        Self::PostOnlyAfterUpgrade,
        Self::TooManyPosts,
        Self::Expired,
        Self::Local,
        Self::Other,
    ];

    /// The name the counters and the Python enum use.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tick => "tick",
            Self::MinNotional => "min_notional",
            Self::Margin => "margin",
            Self::ReduceOnly => "reduce_only",
            Self::BadAloPx => "bad_alo_px",
            Self::IocCancel => "ioc_cancel",
            Self::BadTriggerPx => "bad_trigger_px",
            Self::NoLiquidity => "no_liquidity",
            Self::OpenInterestCap => "open_interest_cap",
            Self::Oracle => "oracle",
            Self::MaxPosition => "max_position",
            Self::MissingOrder => "missing_order",
            Self::InvalidModify => "invalid_modify",
            Self::UnknownSigner => "unknown_signer",
            Self::MustDeposit => "must_deposit",
            Self::Nonce => "nonce",
            Self::AddressRateLimit => "address_rate_limit",
            Self::IpRateLimit => "ip_rate_limit",
            Self::ScheduleCancelVolume => "schedule_cancel_volume",
            Self::PostOnlyAfterUpgrade => "post_only_after_upgrade",
            Self::TooManyPosts => "too_many_posts",
            Self::Expired => "expired",
            Self::Local => "local",
            Self::Other => "other",
        }
    }

    /// The kind named `s` (`as_str`), if any.
    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Substring -> kind, first match wins, compared ignoring ASCII case; the exchange's own wording.
const PATTERNS: &[(&str, ErrorKind)] = &[
    ("Price must be divisible by tick size", ErrorKind::Tick),
    ("Order must have minimum value", ErrorKind::MinNotional),
    ("Insufficient margin", ErrorKind::Margin),
    (
        "Reduce only order would increase position",
        ErrorKind::ReduceOnly,
    ),
    (
        "Post only order would have immediately matched",
        ErrorKind::BadAloPx,
    ),
    ("Order could not immediately match", ErrorKind::IocCancel),
    ("Invalid TP/SL price", ErrorKind::BadTriggerPx),
    (
        "No liquidity available for market order",
        ErrorKind::NoLiquidity,
    ),
    ("open interest", ErrorKind::OpenInterestCap),
    ("Order price too far from oracle", ErrorKind::Oracle),
    ("margin tier limit", ErrorKind::MaxPosition),
    (
        "Order was never placed, already canceled, or filled",
        ErrorKind::MissingOrder,
    ),
    (
        "Cannot modify canceled or filled order",
        ErrorKind::MissingOrder,
    ),
    (
        "Attempted to modify to invalid new order",
        ErrorKind::InvalidModify,
    ),
    ("does not exist", ErrorKind::UnknownSigner),
    ("Unable to recover signer", ErrorKind::UnknownSigner),
    (
        "Must deposit before performing actions",
        ErrorKind::MustDeposit,
    ),
    ("Invalid nonce", ErrorKind::Nonce),
    ("Too many cumulative requests", ErrorKind::AddressRateLimit),
    (
        "Cannot set scheduled cancel time until enough volume traded",
        ErrorKind::ScheduleCancelVolume,
    ),
    (
        "Only post-only orders allowed immediately after a network upgrade",
        ErrorKind::PostOnlyAfterUpgrade,
    ),
    ("too many pending post requests", ErrorKind::TooManyPosts),
    ("expired", ErrorKind::Expired),
    ("expiresAfter", ErrorKind::Expired),
];

fn contains_ignore_ascii_case(hay: &str, needle: &str) -> bool {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    n.is_empty() || h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n))
}

/// The kind of an error message (with or without its ` asset=N` suffix).
pub fn classify(message: &str) -> ErrorKind {
    PATTERNS
        .iter()
        .find(|(pat, _)| contains_ignore_ascii_case(message, pat))
        .map_or(ErrorKind::Other, |&(_, k)| k)
}

/// `"Order must have minimum value of $10. asset=4"` -> (`"Order must have minimum value of
/// $10."`, `Some(4)`): the suffix production appends to per-order errors, with the whitespace
/// around it.
pub fn split_asset(message: &str) -> (&str, Option<u64>) {
    let t = message.trim_end();
    let Some(at) = t.rfind("asset=") else {
        return (message, None);
    };
    let digits = &t[at + "asset=".len()..];
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return (message, None);
    }
    match digits.parse::<u64>() {
        Ok(a) => (t[..at].trim_end(), Some(a)),
        Err(_) => (message, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_by_the_exchange_wording() {
        let cases = [
            (
                "Post only order would have immediately matched, bbo was 1@2. asset=0",
                ErrorKind::BadAloPx,
            ),
            (
                "Order was never placed, already canceled, or filled. asset=4",
                ErrorKind::MissingOrder,
            ),
            ("Invalid nonce: duplicate nonce 5", ErrorKind::Nonce),
            (
                "L1 error: User or API Wallet 0xabc does not exist.",
                ErrorKind::UnknownSigner,
            ),
            ("ORDER PRICE TOO FAR FROM ORACLE", ErrorKind::Oracle),
            ("something new", ErrorKind::Other),
        ];
        for (msg, kind) in cases {
            assert_eq!(classify(msg), kind, "{msg}");
        }
        for k in ErrorKind::ALL {
            assert_eq!(ErrorKind::from_name(k.as_str()), Some(k));
        }
    }

    #[test]
    fn asset_suffix() {
        assert_eq!(
            split_asset("Order must have minimum value of $10. asset=4"),
            ("Order must have minimum value of $10.", Some(4))
        );
        assert_eq!(
            split_asset("bbo was 90901@90902.  asset=110000 "),
            ("bbo was 90901@90902.", Some(110000))
        );
        assert_eq!(split_asset("no suffix here"), ("no suffix here", None));
        assert_eq!(split_asset("asset=x"), ("asset=x", None));
    }
}
