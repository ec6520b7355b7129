//! A null Elasticsearch server in its own process, for benchmarks: answers every request at
//! once (a small JSON document; `_bulk` with an all-success bulk response).
//!
//! Prints `{"url": "...", "urls": [...]}` on its first line, then serves until its standard
//! input closes. `NULL_SERVER_LISTENERS=n` (default 1) serves on `n` ports (for pools of
//! many nodes), all from one thread, so that n ports cost the server no more threads than
//! one; `url` is the first.

use std::io::Read;

use es_tests::counting::CountingServer;

fn main() {
    let body = std::env::args().nth(1).unwrap_or_else(|| {
        r#"{"_index":"bench","_id":"1","_version":1,"_seq_no":0,"_primary_term":1,"found":true,"_source":{"title":"a small document","n":1}}"#.to_owned()
    });
    let n: usize = std::env::var("NULL_SERVER_LISTENERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
        .max(1);
    let servers: Vec<CountingServer> = match CountingServer::builder()
        .body(body)
        .bulk()
        .try_start_many(n)
    {
        Ok(s) => s,
        Err(e) => {
            eprintln!("null-server: cannot start: {e}");
            std::process::exit(1);
        }
    };
    let urls: Vec<String> = servers.iter().map(CountingServer::url).collect();
    println!("{}", serde_json::json!({ "url": urls[0], "urls": urls }));
    // Serve until the parent closes our stdin (or dies).
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
    eprintln!(
        "null-server: {} connections, {} requests",
        servers.iter().map(CountingServer::connections).sum::<u64>(),
        servers.iter().map(CountingServer::requests).sum::<u64>()
    );
}
