//! `cargo fuzz run gunzip_capped`: see `es_transport::fuzz_entry::gunzip_capped`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| es_transport::fuzz_entry::gunzip_capped(data));
