// Every mistake of the field options is reported, each at its place, in one compile.
use es_dsl::Document;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Document)]
#[es(index = "posts")]
struct Post {
    #[es(analyser = "english")]
    title: String,
    #[es(keyword, text)]
    tags: Vec<String>,
    #[es(ignore_above = -1)]
    code: String,
    #[es(index = "no")]
    note: String,
    #[es(type = "")]
    other: String,
}

fn main() {}
