//! The signer's nonce counter (PROTOCOL 3.4): millisecond timestamps, fast-forwarded to the
//! clock, strictly increasing across threads, so no nonce is issued twice.
//!
//! The exchange keeps the 100 highest nonces per signer and requires a new one to be above the
//! smallest of them and within (T - 2 days, T + 1 day). A counter that is `max(last + 1, now)`
//! satisfies both while the clock is sane and never produces a duplicate, even for bursts of
//! more than one action per millisecond (it runs ahead of the clock and the clock catches up).

use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
pub struct NonceCounter {
    last: AtomicU64,
}

impl NonceCounter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Returns `max(last + 1, now_ms)` and records it; lock-free and safe to call from any
    /// number of threads.
    pub fn next(&self, now_ms: u64) -> u64 {
        let mut last = self.last.load(Ordering::Relaxed);
        loop {
            let n = now_ms.max(last + 1);
            match self
                .last
                .compare_exchange_weak(last, n, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => return n,
                Err(seen) => last = seen,
            }
        }
    }

    /// Records a nonce chosen by the caller (a `noop` that burns an in-flight action's nonce
    /// reuses it on purpose), so that later [`next`](Self::next) values stay above it.
    pub fn observe(&self, nonce: u64) {
        self.last.fetch_max(nonce, Ordering::AcqRel);
    }

    /// The highest nonce issued or observed so far (0 if none).
    pub fn last(&self) -> u64 {
        self.last.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use std::{collections::HashSet, sync::Arc, thread};

    use super::*;

    #[test]
    fn follows_the_clock_and_runs_ahead_in_bursts() {
        let n = NonceCounter::new();
        assert_eq!(n.next(1000), 1000);
        assert_eq!(n.next(1000), 1001);
        assert_eq!(n.next(1000), 1002);
        // The clock going backwards does not move nonces back.
        assert_eq!(n.next(900), 1003);
        // The clock jumping ahead is followed.
        assert_eq!(n.next(5000), 5000);
        n.observe(7000);
        assert_eq!(n.next(5001), 7001);
        n.observe(10);
        assert_eq!(n.last(), 7001);
    }

    #[test]
    fn threads_never_share_a_nonce() {
        let n = Arc::new(NonceCounter::new());
        let handles: Vec<_> = (0..4)
            .map(|t| {
                let n = Arc::clone(&n);
                thread::spawn(move || {
                    (0..5000)
                        .map(|i| n.next(1000 + (i + t) / 7))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut all = HashSet::new();
        for h in handles {
            let mine = h.join().unwrap();
            assert!(mine.windows(2).all(|w| w[0] < w[1]));
            for x in mine {
                assert!(all.insert(x), "nonce {x} issued twice");
            }
        }
        assert_eq!(all.len(), 20000);
    }
}
