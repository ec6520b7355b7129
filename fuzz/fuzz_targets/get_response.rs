//! `cargo fuzz run get_response`: a `GetResponse<serde_json::Value>` read from bytes as `Response::json` does;
//! no panic, and a value that parsed serializes again and parses back.
#![no_main]

use es_api::response::*;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(v) = serde_json::from_slice::<GetResponse<serde_json::Value>>(data) {
        let again = serde_json::to_vec(&v).expect("a parsed value serializes");
        serde_json::from_slice::<GetResponse<serde_json::Value>>(&again).expect("and parses back");
    }
});
