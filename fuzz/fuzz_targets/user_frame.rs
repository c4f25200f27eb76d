//! Any bytes as a user frame or an exchange answer: never a panic; accepted values bounded.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mmfast_core::engine::frames::{
    parse_exchange_response, parse_user_frame, UserFrame, MAX_ABS_SIZE, MAX_PRICE,
};

fuzz_target!(|data: &[u8]| {
    if let Ok(UserFrame::Fills { fills, .. }) = parse_user_frame(data, "ETH") {
        for f in fills {
            assert!(f.px > 0.0 && f.px <= MAX_PRICE && f.sz > 0.0 && f.sz <= MAX_ABS_SIZE);
            assert!(f.start_position.is_none_or(|p| p.abs() <= MAX_ABS_SIZE));
        }
    }
    let _ = parse_exchange_response(data);
});
