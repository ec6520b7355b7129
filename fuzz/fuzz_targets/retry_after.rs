//! `cargo fuzz run retry_after`: see `es_transport::fuzz_entry::retry_after`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| es_transport::fuzz_entry::retry_after(data));
