//! Error handling: a missing document (404), a create that conflicts (409), and optimistic
//! concurrency (`if_seq_no` / `if_primary_term`), told apart with `ErrorExt`'s predicates.
//!
//! `cargo xtask demo` runs it; against your own cluster:
//! `ES_URL=http://localhost:9200 cargo run -p es-api --example errors`.

use es_api::response::{GetResponse, WriteResponse};
use es_api::{Client, ErrorExt};
use serde_json::{Value, json};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("ES_URL").unwrap_or_else(|_| "http://localhost:9200".into());
    let client = Client::from_url(&url)?;
    let index = "example-errors";
    client.indices().delete(index).ignore_status([404]).await?;

    // 404: a missing document is an error whose `is_not_found()` is true...
    match client.get(index, "nope").await {
        Err(e) if e.is_not_found() => println!("get: no document `nope` (404)"),
        Err(e) => return Err(e.into()),
        Ok(_) => unreachable!("the index was just deleted"),
    }
    // ...or, with ignore_status, an answer to read (`found: false`).
    let missing: GetResponse<Value> = client
        .get(index, "nope")
        .ignore_status([404])
        .await?
        .json()?;
    println!("get with ignore_status([404]): found = {}", missing.found);

    // 409: create refuses an id that exists.
    client.create(index, "1").body(json!({"n": 1})).await?;
    let err = client
        .create(index, "1")
        .body(json!({"n": 2}))
        .await
        .unwrap_err();
    assert!(err.is_conflict());
    println!(
        "create again: conflict (409, {})",
        err.api_error().and_then(|a| a.error_type()).unwrap_or("?")
    );

    // Optimistic concurrency: write only if nobody wrote since we read.
    let read: GetResponse<Value> = client.get(index, "1").await?.json()?;
    let (seq_no, term) = (read.seq_no.unwrap_or(0), read.primary_term.unwrap_or(1));
    let written: WriteResponse = client
        .index(index)
        .id("1")
        .if_seq_no(seq_no)
        .if_primary_term(term)
        .body(json!({"n": 3}))
        .await?
        .json()?;
    println!(
        "conditional write: {:?} (seq_no {})",
        written.result,
        written.seq_no.unwrap_or(0)
    );
    // The same condition again is stale now: a conflict, never a silent overwrite.
    let stale = client
        .index(index)
        .id("1")
        .if_seq_no(seq_no)
        .if_primary_term(term)
        .body(json!({"n": 4}))
        .await
        .unwrap_err();
    assert!(stale.is_conflict());
    println!("stale conditional write: conflict, the document keeps n = 3");

    // Other failures say what happened; transport failures say whether the request may have
    // reached the server (resend only what is safe to resend).
    let down = Client::from_url("http://127.0.0.1:1")?;
    let e = down.info().max_retries(0).await.unwrap_err();
    println!(
        "unreachable node: {:?}, may have reached the server: {}",
        e.kind(),
        e.may_have_reached_server()
    );
    Ok(())
}
