//! The generated specification types (`es_api::types`): coverage counted against
//! schema.json, and golden JSON written by hand from Elasticsearch's reference documentation
//! (`tests/golden/`, not produced by this code) read and written back unchanged.

use std::path::{Path, PathBuf};

use es_api::types::aggregations::{Aggregate, AggregationContainer};
use es_api::types::mapping::{Property, TypeMapping};
use es_api::types::query_dsl::QueryContainer;
use es_api::types::search::SearchRequestBody;
use es_api::types::{DeserializeTagged, ExternallyTagged, TypedKeys};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

fn schema() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/elasticsearch-specification/schema.json");
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn spec_type<'a>(schema: &'a Value, ns: &str, name: &str) -> &'a Value {
    schema["types"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"]["namespace"] == ns && t["name"]["name"] == name)
        .unwrap_or_else(|| panic!("{ns}::{name} not in schema.json"))
}

/// The kinds of a container: its properties that are not container properties.
fn kinds(schema: &Value, ns: &str, name: &str) -> Vec<String> {
    spec_type(schema, ns, name)["properties"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["containerProperty"] != true)
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect()
}

/// The union members of a type alias, each with its tag (`variantName` or literal `tag`).
fn union_tags(schema: &Value, ns: &str, name: &str, tag: Option<&str>) -> Vec<String> {
    let alias = spec_type(schema, ns, name);
    alias["type"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            let t = spec_type(
                schema,
                item["type"]["namespace"].as_str().unwrap(),
                item["type"]["name"].as_str().unwrap(),
            );
            match tag {
                None => t["variantName"].as_str().unwrap().to_string(),
                Some(tag) => literal(schema, t, tag).unwrap(),
            }
        })
        .collect()
}

fn literal(schema: &Value, t: &Value, tag: &str) -> Option<String> {
    for p in t["properties"].as_array().into_iter().flatten() {
        if p["name"] == tag && p["type"]["kind"] == "literal_value" {
            return p["type"]["value"].as_str().map(String::from);
        }
    }
    let parent = &t["inherits"]["type"];
    literal(
        schema,
        spec_type(
            schema,
            parent["namespace"].as_str()?,
            parent["name"].as_str()?,
        ),
        tag,
    )
}

/// A kind is covered when `{"kind": {}}` is routed to a typed variant: it reads as one, or
/// fails inside it (a required property is missing); an uncovered kind would be read as
/// `Unknown` raw JSON.
#[test]
fn every_query_kind_is_a_typed_variant() {
    let schema = schema();
    let kinds = kinds(&schema, "_types.query_dsl", "QueryContainer");
    assert_eq!(kinds.len(), 61, "schema.json's query kinds");
    let mut covered = 0;
    for k in &kinds {
        match serde_json::from_value::<QueryContainer>(json!({ k: {} })) {
            Ok(QueryContainer::Unknown(..)) => panic!("{k} is not a typed variant"),
            Ok(q) => assert_eq!(q.kind_name(), k),
            Err(e) => assert!(!e.to_string().contains("unknown field"), "{k}: {e}"),
        }
        covered += 1;
    }
    assert_eq!(covered, 61);
    // An unknown kind (a plugin's) is kept, not an error, and written back unchanged.
    let plugin = json!({"my_plugin_query": {"field": "x", "level": 3}});
    let q: QueryContainer = serde_json::from_value(plugin.clone()).unwrap();
    assert!(matches!(&q, QueryContainer::Unknown(k, _) if k == "my_plugin_query"));
    assert_eq!(serde_json::to_value(&q).unwrap(), plugin);
}

#[test]
fn every_aggregation_kind_is_a_typed_variant() {
    let schema = schema();
    let kinds = kinds(&schema, "_types.aggregations", "AggregationContainer");
    // 83 properties, of which `aggregations` (alias `aggs`) and `meta` are container
    // properties, not kinds: 81 kinds.
    assert_eq!(kinds.len(), 81, "schema.json's aggregation kinds");
    for k in &kinds {
        match serde_json::from_value::<AggregationContainer>(json!({ k: {} })) {
            Ok(a) => {
                assert_ne!(a.kind.kind_name(), "", "{k}");
                assert!(
                    !matches!(
                        a.kind,
                        es_api::types::aggregations::AggregationKind::Unknown(..)
                    ),
                    "{k} is not a typed variant"
                );
            }
            Err(e) => assert!(!e.to_string().contains("unknown field"), "{k}: {e}"),
        }
    }
}

#[test]
fn every_aggregate_result_variant_is_typed() {
    let schema = schema();
    let tags = union_tags(&schema, "_types.aggregations", "Aggregate", None);
    assert_eq!(tags.len(), 73, "schema.json's Aggregate variants");
    let mut typed = 0;
    for tag in &tags {
        // The smallest body the variant's own type reads: `{}` plus each field it reports
        // missing (so an error from anything but that type, an unknown tag included, fails).
        let parse = |v: Value| Aggregate::deserialize_tagged(Some(tag), v);
        // Where a required field is an object with required fields of its own, no plain
        // value: the start is then the reference's response example, cut down.
        // change_point's `type` is a one-key union (`"type": {"stationary": {}}`).
        let start = match tag.as_str() {
            "change_point" => json!({"type": {"stationary": {}}}),
            // top_hits' `hits` is a hits object (`{"hits": []}` at the least).
            "top_hits" => json!({"hits": {"hits": []}}),
            // geo_line is a GeoJSON feature.
            "geo_line" => json!({
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": [[-71.34, 41.12]]},
                "properties": {"complete": true}
            }),
            _ => json!({}),
        };
        let body = minimal_body(tag, start, &parse);
        let r = parse(body.clone()).unwrap_or_else(|e| panic!("{tag}: {body} is refused: {e}"));
        assert!(!matches!(r, Aggregate::Unknown(..)), "{tag}: untyped");
        assert_eq!(r.tag(), Some(tag.as_str()), "{tag}: another variant");
        typed += 1;
    }
    assert_eq!(typed, 73);
    // Without typed_keys the result has no tag: kept raw.
    let raw: TypedKeys<Aggregate> =
        serde_json::from_value(json!({"by_tag": {"buckets": []}})).unwrap();
    assert!(matches!(&raw["by_tag"], Aggregate::Unknown(None, _)));
}

/// `start` plus, for each field `parse` reports missing (serde's "missing field `x`"), the
/// first of a few plain values that it accepts there; panics when a refusal is anything else.
fn minimal_body<T, E: std::fmt::Display>(
    what: &str,
    start: Value,
    parse: &dyn Fn(Value) -> Result<T, E>,
) -> Value {
    let Value::Object(mut body) = start else {
        panic!("{what}: the start body is an object");
    };
    for _ in 0..32 {
        let msg = match parse(Value::Object(body.clone())) {
            Ok(_) => return Value::Object(body),
            Err(e) => e.to_string(),
        };
        let Some(field) = missing_field(&msg) else {
            panic!(
                "{what}: {} refused, not for a missing field: {msg}",
                Value::Object(body)
            );
        };
        let candidates = [
            json!(0),
            json!([]),
            json!({}),
            json!("x"),
            json!(false),
            Value::Null,
        ];
        let accepted = candidates.into_iter().find(|c| {
            let mut b = body.clone();
            b.insert(field.clone(), c.clone());
            match parse(Value::Object(b)) {
                Ok(_) => true,
                Err(e) => missing_field(&e.to_string()).is_some_and(|f| f != field),
            }
        });
        let Some(value) = accepted else {
            panic!("{what}: no plain value for its required field {field}");
        };
        body.insert(field, value);
    }
    panic!("{what}: more than 32 required fields")
}

fn missing_field(msg: &str) -> Option<String> {
    let rest = msg.split("missing field `").nth(1)?;
    Some(rest.split('`').next()?.to_string())
}

#[test]
fn every_mapping_field_type_is_typed() {
    let schema = schema();
    let tags = union_tags(&schema, "_types.mapping", "Property", Some("type"));
    assert_eq!(tags.len(), 53, "schema.json's Property variants");
    let mut typed = 0;
    for tag in &tags {
        let parse = |mut v: Value| {
            v["type"] = json!(tag);
            serde_json::from_value::<Property>(v)
        };
        let body = minimal_body(tag, json!({}), &parse);
        let p = parse(body.clone()).unwrap_or_else(|e| panic!("{tag}: {body} is refused: {e}"));
        assert!(!matches!(p, Property::Unknown(_)), "{tag}: untyped");
        assert_eq!(p.tag(), Some(tag.as_str()), "{tag}: another variant");
        typed += 1;
    }
    assert_eq!(typed, 53);
}

use es_tests::json::same_json as same;

fn golden_files(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}

/// Reads every example of `dir` as `T` and writes it back: the JSON must be the
/// documentation's (or its `normalized` long form). Returns the kinds (file stems) seen.
fn round_trip<T: DeserializeOwned + Serialize>(dir: &str) -> Vec<String> {
    let mut failures = Vec::new();
    let mut kinds = Vec::new();
    for file in golden_files(dir) {
        let stem = file.file_stem().unwrap().to_string_lossy().to_string();
        let examples: Vec<Value> =
            serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        assert!(!examples.is_empty(), "{stem}: no examples");
        for (i, ex) in examples.iter().enumerate() {
            let input = &ex["json"];
            let expected = ex.get("normalized").unwrap_or(input);
            match serde_json::from_value::<T>(input.clone()) {
                Err(e) => failures.push(format!("{stem}[{i}]: does not parse: {e}")),
                Ok(v) => {
                    // Through text, as sent: an `f32` is written in its shortest form.
                    let out: Value =
                        serde_json::from_str(&serde_json::to_string(&v).unwrap()).unwrap();
                    if !same(&out, expected) {
                        failures.push(format!(
                            "{stem}[{i}]: written back differently:\n  doc:  {expected}\n  ours: {out}"
                        ));
                    }
                }
            }
        }
        kinds.push(stem);
    }
    assert!(
        failures.is_empty(),
        "{} of the golden examples failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    kinds
}

#[test]
fn golden_queries_from_the_reference_round_trip() {
    let kinds = round_trip::<QueryContainer>("query");
    let expected = self::kinds(&schema(), "_types.query_dsl", "QueryContainer");
    let missing: Vec<_> = expected.iter().filter(|k| !kinds.contains(k)).collect();
    assert!(
        missing.is_empty(),
        "query kinds without a golden file: {missing:?}"
    );
}

#[test]
fn golden_aggregations_from_the_reference_round_trip() {
    let kinds = round_trip::<AggregationContainer>("aggregation");
    let expected = self::kinds(&schema(), "_types.aggregations", "AggregationContainer");
    let missing: Vec<_> = expected.iter().filter(|k| !kinds.contains(k)).collect();
    assert!(
        missing.is_empty(),
        "aggregation kinds without a golden file: {missing:?}"
    );
}

/// A `typed_keys` search response (the shape of the terms aggregation page's example, with
/// `typed_keys`), read and written back.
#[test]
fn typed_keys_aggregation_results() {
    let body = json!({
        "took": 3,
        "timed_out": false,
        "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
        "hits": {"total": {"value": 5, "relation": "eq"}, "max_score": null, "hits": []},
        "aggregations": {
            "sterms#genres": {
                "doc_count_error_upper_bound": 0,
                "sum_other_doc_count": 0,
                "buckets": [
                    {"key": "electronic", "doc_count": 6, "avg#avg_price": {"value": 12.5}},
                    {"key": "rock", "doc_count": 3, "avg#avg_price": {"value": null}}
                ]
            },
            "max#max_price": {"value": 200.0}
        }
    });
    let r: es_api::types::search::SearchResponse = serde_json::from_value(body.clone()).unwrap();
    let aggs = r.aggregations.as_ref().unwrap();
    let Aggregate::StringTerms(genres) = &aggs["genres"] else {
        panic!("{:?}", aggs["genres"]);
    };
    let es_api::types::aggregations::Buckets::Array(buckets) = &genres.buckets else {
        panic!("array buckets expected");
    };
    assert_eq!(buckets[0].doc_count, 6);
    let Aggregate::Avg(avg) = &buckets[0].aggregations["avg_price"] else {
        panic!()
    };
    assert_eq!(avg.value, Some(12.5));
    assert!(matches!(aggs["max_price"], Aggregate::Max(_)));
    // Written back with the tags.
    let out = serde_json::to_value(&r).unwrap();
    assert!(same(&out["aggregations"], &body["aggregations"]), "{out}");
}

/// A mapping as the mapping reference writes it: `text` with a `keyword` sub-field, an
/// object without `type` (the default tag), `nested`, and a plugin's field type.
#[test]
fn mappings_read_and_write_back() {
    let mapping = json!({
        "dynamic": "strict",
        "properties": {
            "title": {"type": "text", "fields": {"raw": {"type": "keyword", "ignore_above": 256}}},
            "user": {"properties": {"name": {"type": "keyword"}, "age": {"type": "integer"}}},
            "comments": {"type": "nested", "properties": {"author": {"type": "keyword"}}},
            "location": {"type": "geo_point"},
            "price": {"type": "scaled_float", "scaling_factor": 100},
            "custom": {"type": "my_plugin_type", "option": 1}
        }
    });
    let m: TypeMapping = serde_json::from_value(mapping.clone()).unwrap();
    let props = m.properties.as_ref().unwrap();
    assert!(matches!(props["title"], Property::Text(_)));
    assert!(matches!(props["user"], Property::Object(_)));
    assert!(matches!(props["comments"], Property::Nested(_)));
    assert!(matches!(props["custom"], Property::Unknown(_)));
    let out = serde_json::to_value(&m).unwrap();
    // The default tag is written out: `"type": "object"` means the same to the server.
    let mut expected = mapping.clone();
    expected["properties"]["user"]["type"] = json!("object");
    assert!(same(&out, &expected), "{out}");
}

/// A search request body of the search API reference, read and written back.
#[test]
fn search_request_body_round_trips() {
    let body = json!({
        "from": 0,
        "size": 20,
        "query": {"bool": {"must": [{"match": {"title": {"query": "rust"}}}],
                            "filter": [{"term": {"status": {"value": "published"}}}]}},
        "sort": [{"date": {"order": "desc"}}, "_score"],
        "_source": {"includes": ["title", "date"]},
        "aggs": {"by_tag": {"terms": {"field": "tags", "size": 10},
                            "aggs": {"avg_price": {"avg": {"field": "price"}}}}},
        "highlight": {"fields": {"title": {}}},
        "track_total_hits": true
    });
    let b: SearchRequestBody = serde_json::from_value(body.clone()).unwrap();
    let out = serde_json::to_value(&b).unwrap();
    // `aggs` is an alias of `aggregations`: written under the canonical name.
    let mut expected = body.clone();
    let aggs = expected.as_object_mut().unwrap().remove("aggs").unwrap();
    expected["aggregations"] = aggs;
    assert!(same(&out, &expected), "{out}");
}
