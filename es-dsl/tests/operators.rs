//! The `&`, `|`, `!` merging rules against what elasticsearch-dsl produces: every entry of
//! `tests/golden/operators.json` was checked against elasticsearch-dsl's own `to_dict()`
//! (its tests and documentation are the sources named in each entry), not produced here.

use es_dsl::Query;
use serde_json::Value;

use es_tests::json::same_json as same;

#[test]
fn operators_merge_as_elasticsearch_dsl_does() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/operators.json");
    let entries: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert!(entries.len() >= 40, "{} entries", entries.len());
    let mut failures = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        let left = Query::raw(e["left"].clone()).unwrap_or_else(|err| panic!("entry {i}: {err}"));
        let got = match e["op"].as_str().unwrap() {
            "and" => left & Query::raw(e["right"].clone()).unwrap(),
            "or" => left | Query::raw(e["right"].clone()).unwrap(),
            "not" => !left,
            other => panic!("entry {i}: op {other}"),
        };
        let got = serde_json::to_value(&got).unwrap();
        if !same(&got, &e["result"]) {
            failures.push(format!(
                "{i} {} ({}):\n  elasticsearch-dsl: {}\n  ours:              {got}",
                e["rule"], e["expr"], e["result"]
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} differ:\n{}",
        failures.len(),
        entries.len(),
        failures.join("\n")
    );
}
