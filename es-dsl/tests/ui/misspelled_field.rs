// A misspelled field path does not compile.
use es_dsl::{Document, Query};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Document)]
#[es(index = "posts")]
struct Post {
    title: String,
}

fn main() {
    let _q = Query::match_(Post::fields().titel, "rust");
}
