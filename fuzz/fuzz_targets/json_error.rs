//! `cargo fuzz run json_error`: see `es_transport::fuzz_entry::json_error`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| es_transport::fuzz_entry::json_error(data));
