//! `cargo fuzz run redaction`: see `es_transport::fuzz_entry::redaction`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| es_transport::fuzz_entry::redaction(data));
