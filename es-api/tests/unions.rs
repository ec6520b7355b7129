//! Untagged unions whose variants differ by the kind of JSON value are read by a generated
//! visitor (one pass, no buffering): each kind lands in its variant, integers prefer the
//! integer variant as serde's untagged order would, and an error names what was wrong
//! instead of "data did not match any variant".

use es_api::types::aggregations::{Buckets, StringTermsBucket};
use es_api::types::common::{FieldValue, MinimumShouldMatch};
use es_api::types::search::{HitsMetadataTotal, TrackHits};
use serde_json::json;

fn read<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, String> {
    serde_json::from_str(text).map_err(|e| e.to_string())
}

#[test]
fn each_kind_lands_in_its_variant() {
    assert_eq!(read::<FieldValue>("null"), Ok(FieldValue::Null));
    assert_eq!(read::<FieldValue>("true"), Ok(FieldValue::Bool(true)));
    assert_eq!(read::<FieldValue>("-3"), Ok(FieldValue::Long(-3)));
    assert_eq!(read::<FieldValue>("42"), Ok(FieldValue::Long(42)));
    assert_eq!(read::<FieldValue>("1.5"), Ok(FieldValue::Double(1.5)));
    assert_eq!(
        read::<FieldValue>(r#""kimchy""#),
        Ok(FieldValue::String("kimchy".into()))
    );
    // An integer too large for the integer variant goes to the number variant, as serde's
    // untagged order (integer first, then number) did.
    assert_eq!(
        read::<FieldValue>("18446744073709551615"),
        Ok(FieldValue::Double(18446744073709551615.0))
    );
    // Escaped strings (serde_json hands them over as owned or scratch-buffer strings).
    assert_eq!(
        read::<FieldValue>(r#""a\"b""#),
        Ok(FieldValue::String("a\"b".into()))
    );

    assert_eq!(
        read::<HitsMetadataTotal>("7"),
        Ok(HitsMetadataTotal::Long(7))
    );
    let total = read::<HitsMetadataTotal>(r#"{"value": 10000, "relation": "gte"}"#).unwrap();
    assert!(matches!(total, HitsMetadataTotal::TotalHits(t) if t.value == 10000));

    assert_eq!(read::<TrackHits>("false"), Ok(TrackHits::Bool(false)));
    assert_eq!(read::<TrackHits>("100"), Ok(TrackHits::Integer(100)));
    assert_eq!(
        read::<MinimumShouldMatch>(r#""75%""#),
        Ok(MinimumShouldMatch::String("75%".into()))
    );
    assert_eq!(
        read::<MinimumShouldMatch>("2"),
        Ok(MinimumShouldMatch::Integer(2))
    );
}

#[test]
fn buckets_are_an_array_or_a_keyed_object() {
    // The two forms of the terms aggregation's buckets (`keyed: false` / `keyed: true`).
    let array: Buckets<StringTermsBucket> =
        read(r#"[{"key": "rust", "doc_count": 3}, {"key": "go", "doc_count": 1}]"#).unwrap();
    match &array {
        Buckets::Array(b) => assert_eq!(b.len(), 2),
        other => panic!("expected an array, got {other:?}"),
    }
    let keyed: Buckets<StringTermsBucket> =
        read(r#"{"rust": {"key": "rust", "doc_count": 3}}"#).unwrap();
    match &keyed {
        Buckets::Map(m) => assert_eq!(m["rust"].doc_count, 3),
        other => panic!("expected a map, got {other:?}"),
    }
    // Written back the same way it was read.
    assert_eq!(
        serde_json::to_value(&keyed).unwrap(),
        json!({"rust": {"key": "rust", "doc_count": 3}})
    );
}

#[test]
fn errors_say_what_was_wrong() {
    // A kind no variant takes.
    let e = read::<TrackHits>(r#""yes""#).unwrap_err();
    assert!(e.contains("expected a boolean, or an integer"), "{e}");
    // The right kind with a bad value: the variant's own error, not "did not match".
    let e = read::<TrackHits>("4294967296").unwrap_err();
    assert!(e.contains("invalid value: integer `4294967296`"), "{e}");
    assert!(!e.contains("did not match any variant"), "{e}");
    // Inside an object variant: the missing field is named.
    let e = read::<HitsMetadataTotal>(r#"{"relation": "eq"}"#).unwrap_err();
    assert!(e.contains("missing field `value`"), "{e}");
    let e = read::<Buckets<StringTermsBucket>>(r#"[{"key": "x"}]"#).unwrap_err();
    assert!(e.contains("missing field `doc_count`"), "{e}");
}

/// The same union read by serde's derived untagged enum, for comparison.
macro_rules! untagged_mirror {
    ($name:ident { $($v:ident($t:ty)),* $(,)? } $(, $unit:ident)?) => {
        #[derive(Debug, serde::Deserialize, serde::Serialize)]
        #[serde(untagged)]
        enum $name {
            $($unit,)?
            $($v($t),)*
        }
    };
}

untagged_mirror!(FieldValueMirror { Bool(bool), Long(i64), Double(f64), String(String) }, Null);
untagged_mirror!(MissingMirror { Bool(bool), Integer(i32), Double(f64), String(String) });
untagged_mirror!(TrackHitsMirror { Bool(bool), Integer(i32) });
untagged_mirror!(MinimumShouldMatchMirror { Integer(i32), String(String) });
untagged_mirror!(TotalMirror { Long(i64), Object(serde_json::Map<String, serde_json::Value>) });

/// Reads `text` as the generated union and as its untagged mirror: both succeed with the
/// same JSON written back (numbers keep integer-ness), or both fail.
fn same_as_untagged<G, M>(text: &str)
where
    G: serde::de::DeserializeOwned + serde::Serialize,
    M: serde::de::DeserializeOwned + serde::Serialize,
{
    let g = serde_json::from_str::<G>(text).map(|g| serde_json::to_value(g).unwrap());
    let m = serde_json::from_str::<M>(text).map(|m| serde_json::to_value(m).unwrap());
    match (&g, &m) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "{text}"),
        (Err(_), Err(_)) => {}
        _ => panic!("{text}: generated {g:?}, untagged {m:?}"),
    }
}

#[test]
fn the_visitor_reads_what_serde_untagged_reads() {
    let inputs = [
        "null",
        "true",
        "false",
        "-1",
        "0",
        "2147483648",
        "9223372036854775807",
        "18446744073709551615",
        "-9223372036854775808",
        "1.5",
        "1e3",
        "\"x\"",
        "\"\"",
        "[]",
        "{}",
        "[1]",
        "{\"a\": 1}",
    ];
    for text in inputs {
        same_as_untagged::<FieldValue, FieldValueMirror>(text);
        same_as_untagged::<es_api::types::aggregations::Missing, MissingMirror>(text);
        same_as_untagged::<TrackHits, TrackHitsMirror>(text);
        same_as_untagged::<MinimumShouldMatch, MinimumShouldMatchMirror>(text);
    }
    // An object variant: the generated one checks the fields, the mirror takes any object;
    // both read integers alike and refuse everything else but objects.
    for text in [
        "7",
        "-1",
        "18446744073709551615",
        "1.5",
        "\"x\"",
        "true",
        "null",
        "[]",
    ] {
        same_as_untagged::<HitsMetadataTotal, TotalMirror>(text);
    }
    same_as_untagged::<HitsMetadataTotal, TotalMirror>(r#"{"value": 3, "relation": "eq"}"#);
}
