//! Any text as a config file: a config or a `ConfigError`, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mmfast_core::config::MarketMakerConfig;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = MarketMakerConfig::from_toml_str(text, "<fuzz>", &[]);
    }
});
