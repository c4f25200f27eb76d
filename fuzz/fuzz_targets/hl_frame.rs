//! Any bytes into a Hyperliquid book: never a panic; an accepted book is never crossed.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mmfast_core::book::HlBook;

fuzz_target!(|data: &[u8]| {
    let mut book = HlBook::new(4).unwrap();
    // Two frames from one input: a snapshot or bbo can then meet a held book.
    let mid = data.len() / 2;
    for part in [&data[..mid], &data[mid..], data] {
        let _ = book.apply(part);
        if let (Some(b), Some(a)) = (book.best_bid(), book.best_ask()) {
            assert!(b.px < a.px, "crossed book accepted");
        }
    }
});
