//! `cargo fuzz run sniff_body`: see `es_transport::fuzz_entry::sniff_body`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| es_transport::fuzz_entry::sniff_body(data));
