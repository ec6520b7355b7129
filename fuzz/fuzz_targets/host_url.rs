//! `cargo fuzz run host_url`: see `es_transport::fuzz_entry::host_url`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| es_transport::fuzz_entry::host_url(data));
