// `validate` and `analysis` name functions as paths; a document has no generic parameters
// and is a struct (not an enum or a union).
use es_dsl::Document;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Document)]
#[es(index = "posts", validate = "check the post", analysis = "1 + 2")]
struct Post {
    title: String,
}

#[derive(Serialize, Deserialize, Document)]
#[es(index = "generic")]
struct Generic<T> {
    value: T,
}

#[derive(Serialize, Deserialize, Document)]
#[es(index = "kinds")]
enum Kind {
    A,
    B,
}

#[derive(Document)]
#[es(index = "bits")]
union Bits {
    a: u32,
    b: f32,
}

fn main() {}
