//! The books allocate nothing per frame once warm (SPEC 12: zero allocations on the hot path),
//! counted with a wrapping global allocator. Its own test binary, so the count is not disturbed
//! by other tests.

use mmfast_core::book::{BinanceBook, HlBook};

mod common;

#[global_allocator]
static GLOBAL: common::CountingAlloc = common::CountingAlloc;

fn hl_frame(time: u64, shift: u64) -> Vec<u8> {
    let lv = |px: u64| format!(r#"{{"n":3,"px":"{px}.0","sz":"1.25"}}"#);
    let bids: Vec<String> = (0..20).map(|i| lv(105_000 + shift - i)).collect();
    let asks: Vec<String> = (0..20).map(|i| lv(105_001 + shift + i)).collect();
    format!(
        r#"{{"channel":"l2Book","data":{{"coin":"BTC","time":{time},"levels":[[{}],[{}]]}}}}"#,
        bids.join(","),
        asks.join(",")
    )
    .into_bytes()
}

fn diff(first: u64, shift: u64) -> Vec<u8> {
    let lv = |px: u64, q: u64| format!(r#"["{}.{}","{q}.000"]"#, px / 10, px % 10);
    let bids: Vec<String> = (0..10)
        .map(|i| lv(618_000 - i * 3 - shift, (i + shift) % 3))
        .collect();
    let asks: Vec<String> = (0..10)
        .map(|i| lv(618_001 + i * 3 + shift, (i + shift) % 3))
        .collect();
    format!(
        r#"{{"stream":"btcusdt@depth@0ms","data":{{"e":"depthUpdate","E":1,"T":1,"s":"BTCUSDT","U":{first},"u":{},"pu":{},"b":[{}],"a":[{}]}}}}"#,
        first + 4,
        first - 1,
        bids.join(","),
        asks.join(",")
    )
    .into_bytes()
}

#[test]
fn books_do_not_allocate_per_frame() {
    let hl_frames: Vec<Vec<u8>> = (0..50).map(|i| hl_frame(1000 + i, i % 7)).collect();
    let diffs: Vec<Vec<u8>> = (0..200).map(|i| diff(100 + 5 * i, i % 5)).collect();
    let snapshot =
        br#"{"lastUpdateId":100,"bids":[["61800.0","1.000"]],"asks":[["61800.1","1.000"]]}"#;

    let mut hl = HlBook::new(5).unwrap();
    let mut bn = BinanceBook::new();
    bn.apply_snapshot(snapshot).unwrap();
    // Warm-up: the first frames may size the scratch buffers.
    for f in &hl_frames {
        hl.apply(f).unwrap();
    }
    for f in &diffs[..100] {
        assert!(bn.apply(f).unwrap().applied());
    }
    let before = common::allocations();
    for f in &hl_frames {
        hl.apply(f).unwrap();
    }
    let mut changes = 0;
    for f in &diffs[100..] {
        assert!(bn.apply_with(f, |_| changes += 1).unwrap().applied());
    }
    let after = common::allocations();
    assert!(bn.synced() && changes == 2000);
    assert_eq!(after - before, 0, "allocations while applying warm frames");
}
