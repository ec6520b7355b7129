//! `cargo fuzz run error_body`: see `es_transport::fuzz_entry::error_body`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| es_transport::fuzz_entry::error_body(data));
