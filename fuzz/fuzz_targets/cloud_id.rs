//! `cargo fuzz run cloud_id`: see `es_transport::fuzz_entry::cloud_id`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| es_transport::fuzz_entry::cloud_id(data));
