// The document's options: an index is required and must be a valid name; `dynamic` is
// one of four values; unknown options are named.
use es_dsl::Document;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Document)]
#[es(shards = 1, dynamic = "sometimes", replica = 1)]
struct NoIndex {
    title: String,
}

#[derive(Serialize, Deserialize, Document)]
#[es(index = "Bad Name")]
struct BadIndex {
    title: String,
}

fn main() {}
