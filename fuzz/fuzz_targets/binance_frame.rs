//! Any bytes into the Binance parser and book: never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mmfast_core::book::{parse_binance_frame, BinanceBook};

fuzz_target!(|data: &[u8]| {
    let _ = parse_binance_frame(data);
    let mut book = BinanceBook::new();
    let _ = book.apply_snapshot(data);
    let _ = book.apply(data);
});
