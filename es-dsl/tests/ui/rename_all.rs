// es-dsl reads serde's `rename_all = "..."`: an unknown rule (serde refuses it too) and the
// `rename_all(serialize = ..., deserialize = ...)` form are errors.
use es_dsl::Document;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Document)]
#[es(index = "posts")]
#[serde(rename_all = "Title Case")]
struct Post {
    title: String,
}

#[derive(Serialize, Deserialize, Document)]
#[es(index = "split")]
#[serde(rename_all(serialize = "camelCase", deserialize = "snake_case"))]
struct Split {
    title: String,
}

fn main() {}
