// Field option values of the wrong kind, join relations that name no children, a second
// field type.
use es_dsl::Document;
use es_dsl::mapping::Join;
use serde::{Deserialize, Serialize};

const ZERO: i32 = 0;

#[derive(Serialize, Deserialize, Document)]
#[es(index = "posts")]
struct Post {
    #[es(analyzer = 1)]
    title: String,
    #[es(null_value = ZERO)]
    count: Option<i32>,
    #[es(join())]
    none: Join,
    #[es(join(question = 1, answer = []))]
    bad: Join,
    #[es(keyword, join(question = "answer"))]
    twice: Join,
    #[es(text, type = "ip")]
    address: String,
}

fn main() {}
