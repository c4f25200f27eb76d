//! Nonce rules and rate limits of the exchange (PROTOCOL 3.4, 5.1, 5.2).

use std::collections::{BTreeSet, HashMap, VecDeque};

/// Nonces kept per signer.
pub const NONCES_KEPT: usize = 100;
/// A nonce must be above `T - 2 days` and below `T + 1 day`.
pub const NONCE_PAST_MS: u64 = 2 * 86_400_000;
pub const NONCE_FUTURE_MS: u64 = 86_400_000;

/// The 100 highest nonces of one signer.
#[derive(Debug, Clone, Default)]
pub struct NonceSet {
    kept: BTreeSet<u64>,
}

impl NonceSet {
    /// Accepts `nonce` at block time `now_ms` and records it.
    ///
    /// # Errors
    /// The exchange's message: duplicate, too low (below the kept set or the window), too high.
    pub fn check_and_insert(&mut self, nonce: u64, now_ms: u64) -> Result<(), String> {
        let oldest = now_ms.saturating_sub(NONCE_PAST_MS);
        let newest = now_ms + NONCE_FUTURE_MS;
        if self.kept.contains(&nonce) {
            return Err(format!("Invalid nonce: duplicate nonce {nonce}"));
        }
        if nonce <= oldest {
            return Err(format!("Invalid nonce: nonce too low {nonce} < {oldest}"));
        }
        if nonce >= newest {
            return Err(format!("Invalid nonce: nonce too high {nonce} > {newest}"));
        }
        if self.kept.len() >= NONCES_KEPT {
            let min = *self.kept.first().expect("non-empty");
            if nonce <= min {
                return Err(format!("Invalid nonce: nonce too low {nonce} < {min}"));
            }
            self.kept.pop_first();
        }
        self.kept.insert(nonce);
        Ok(())
    }
}

/// Request weight of an `/info` request type (PROTOCOL 5.1).
pub fn info_weight(kind: &str) -> u32 {
    match kind {
        "l2Book"
        | "allMids"
        | "clearinghouseState"
        | "orderStatus"
        | "spotClearinghouseState"
        | "exchangeStatus" => 2,
        "userRole" => 60,
        _ => 20,
    }
}

/// Request weight of an `/exchange` action with `batch_len` orders or cancels.
pub fn exchange_weight(batch_len: usize) -> u32 {
    1 + (batch_len / 40) as u32
}

/// Aggregate REST weight per IP over a sliding minute.
#[derive(Debug, Clone, Default)]
pub struct IpWeight {
    per_ip: HashMap<String, (VecDeque<(u64, u32)>, u32)>,
}

impl IpWeight {
    /// Charges `weight` to `ip` at `now_ms`; false (and nothing charged) if it would pass
    /// `limit` within the last 60 s. A limit of 0 disables the check.
    pub fn charge(&mut self, ip: &str, weight: u32, limit: u32, now_ms: u64) -> bool {
        if limit == 0 {
            return true;
        }
        let (q, sum) = self.per_ip.entry(ip.to_string()).or_default();
        while let Some(&(t, w)) = q.front() {
            if t + 60_000 <= now_ms {
                q.pop_front();
                *sum -= w;
            } else {
                break;
            }
        }
        if *sum + weight > limit {
            return false;
        }
        q.push_back((now_ms, weight));
        *sum += weight;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: u64 = 1_700_000_000_000;

    #[test]
    fn duplicate_and_window() {
        let mut n = NonceSet::default();
        assert!(n.check_and_insert(T, T).is_ok());
        assert_eq!(
            n.check_and_insert(T, T).unwrap_err(),
            format!("Invalid nonce: duplicate nonce {T}")
        );
        let old = T - NONCE_PAST_MS;
        assert_eq!(
            n.check_and_insert(old, T).unwrap_err(),
            format!("Invalid nonce: nonce too low {old} < {old}")
        );
        assert!(n.check_and_insert(old + 1, T).is_ok());
        let far = T + NONCE_FUTURE_MS;
        assert!(n
            .check_and_insert(far, T)
            .unwrap_err()
            .contains("nonce too high"));
        assert!(n.check_and_insert(far - 1, T).is_ok());
    }

    #[test]
    fn keeps_the_hundred_highest() {
        let mut n = NonceSet::default();
        for i in 0..100 {
            n.check_and_insert(T + i, T).unwrap();
        }
        // the set is full: a nonce below its minimum is refused, a new one above is fine
        assert_eq!(
            n.check_and_insert(T - 5, T).unwrap_err(),
            format!("Invalid nonce: nonce too low {} < {T}", T - 5)
        );
        n.check_and_insert(T + 500, T).unwrap();
        // T was evicted; T + 1 is the new minimum
        assert!(n.check_and_insert(T, T).unwrap_err().contains("too low"));
        // out of order but above the minimum and unused: accepted
        n.check_and_insert(T + 200, T).unwrap();
    }

    #[test]
    fn ip_weight_slides_over_a_minute() {
        let mut w = IpWeight::default();
        assert!(w.charge("a", 1000, 1200, 0));
        assert!(w.charge("a", 200, 1200, 10));
        assert!(!w.charge("a", 1, 1200, 20));
        assert!(w.charge("b", 1, 1200, 20));
        assert!(w.charge("a", 1000, 1200, 60_000));
        assert!(w.charge("x", 10_000, 0, 0));
        assert_eq!(info_weight("l2Book"), 2);
        assert_eq!(info_weight("meta"), 20);
        assert_eq!(exchange_weight(1), 1);
        assert_eq!(exchange_weight(80), 3);
    }
}
