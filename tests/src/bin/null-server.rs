//! A null Elasticsearch server in its own process, for benchmarks: answers every request at
//! once (a small JSON document; `_bulk` with an all-success bulk response).
//!
//! Prints `{"url": "..."}` on its first line, then serves until its standard input closes.

use std::io::Read;

use es_tests::counting::CountingServer;

fn main() {
    let body = std::env::args().nth(1).unwrap_or_else(|| {
        r#"{"_index":"bench","_id":"1","_version":1,"_seq_no":0,"_primary_term":1,"found":true,"_source":{"title":"a small document","n":1}}"#.to_owned()
    });
    let server = CountingServer::builder().body(body).bulk().start();
    println!("{}", serde_json::json!({ "url": server.url() }));
    // Serve until the parent closes our stdin (or dies).
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
    eprintln!(
        "null-server: {} connections, {} requests",
        server.connections(),
        server.requests()
    );
}
