// Shapes that cannot be mapped: a flattened field, a tuple struct, an enum, an InnerDoc
// with index options.
use es_dsl::{Document, InnerDoc};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct Extra {
    a: String,
}

#[derive(Serialize, Deserialize, Document)]
#[es(index = "posts")]
struct Flat {
    #[serde(flatten)]
    extra: Extra,
}

#[derive(Serialize, Deserialize, Document)]
#[es(index = "tuples")]
struct Tuple(String);

#[derive(Serialize, Deserialize, InnerDoc)]
#[es(index = "inner")]
struct Inner {
    a: String,
}

fn main() {}
