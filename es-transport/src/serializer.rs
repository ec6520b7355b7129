//! Serializers: how bodies become bytes and bytes become values. JSON by default; pluggable.

use std::fmt::Debug;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// Turns values into request bodies and response bodies into values.
///
/// Object-safe (through `erased_serde`), so a transport holds an `Arc<dyn Serializer>` that
/// the user can replace (for example with one that writes floats differently, or a faster
/// JSON library). Use the generic helpers on `dyn Serializer`: [`to_vec`](trait.Serializer.html#method.to_vec),
/// [`from_slice`](trait.Serializer.html#method.from_slice), [`ndjson_line`](trait.Serializer.html#method.ndjson_line).
///
/// A serializer must write compact output (no newline inside a value): NDJSON bodies rely on it.
///
/// # Example
/// ```
/// use es_transport::{JsonSerializer, Serializer};
///
/// let s: &dyn Serializer = &JsonSerializer;
/// let bytes = s.to_vec(&serde_json::json!({"a": [1, 2]})).unwrap();
/// assert_eq!(bytes, br#"{"a":[1,2]}"#);
/// let v: serde_json::Value = s.from_slice(&bytes).unwrap();
/// assert_eq!(v["a"][1], 2);
/// ```
pub trait Serializer: Send + Sync + Debug + 'static {
    /// The content type of what [`Serializer::serialize`] writes.
    fn mimetype(&self) -> &'static str {
        "application/json"
    }

    /// Appends `value`, serialized, to `out`.
    ///
    /// # Errors
    /// When the value cannot be serialized.
    fn serialize(&self, value: &dyn erased_serde::Serialize, out: &mut Vec<u8>) -> Result<()>;

    /// Gives `visit` a deserializer over `bytes`.
    ///
    /// # Errors
    /// When `bytes` are not valid for this format, or `visit` fails.
    fn deserialize<'de>(
        &self,
        bytes: &'de [u8],
        visit: &mut dyn FnMut(
            &mut dyn erased_serde::Deserializer<'de>,
        ) -> Result<(), erased_serde::Error>,
    ) -> Result<()>;
}

impl dyn Serializer {
    /// Serializes `value` into a new buffer.
    ///
    /// # Errors
    /// When the value cannot be serialized.
    pub fn to_vec<T: Serialize + ?Sized>(&self, value: &T) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(128);
        self.serialize(&value, &mut out)?;
        Ok(out)
    }

    /// Appends `value` and a newline to `out`: one NDJSON line.
    ///
    /// # Errors
    /// When the value cannot be serialized.
    pub fn ndjson_line<T: Serialize + ?Sized>(&self, value: &T, out: &mut Vec<u8>) -> Result<()> {
        self.serialize(&value, out)?;
        out.push(b'\n');
        Ok(())
    }

    /// Deserializes a `T` from `bytes`.
    ///
    /// # Errors
    /// When the bytes are not a valid `T`.
    pub fn from_slice<T: DeserializeOwned>(&self, bytes: &[u8]) -> Result<T> {
        let mut out: Option<T> = None;
        self.deserialize(bytes, &mut |d| {
            out = Some(erased_serde::deserialize::<T>(d)?);
            Ok(())
        })?;
        out.ok_or_else(|| Error::serialization("the serializer produced no value"))
    }
}

/// The default serializer: compact JSON with `serde_json`.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonSerializer;

impl Serializer for JsonSerializer {
    fn serialize(&self, value: &dyn erased_serde::Serialize, out: &mut Vec<u8>) -> Result<()> {
        let mut ser = serde_json::Serializer::new(out);
        value
            .erased_serialize(&mut <dyn erased_serde::Serializer>::erase(&mut ser))
            .map_err(|e| Error::serialization(format!("cannot serialize the body: {e}")))
    }

    fn deserialize<'de>(
        &self,
        bytes: &'de [u8],
        visit: &mut dyn FnMut(
            &mut dyn erased_serde::Deserializer<'de>,
        ) -> Result<(), erased_serde::Error>,
    ) -> Result<()> {
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let mut erased = <dyn erased_serde::Deserializer<'_>>::erase(&mut de);
        visit(&mut erased)
            .map_err(|e| crate::response::json_error(&serde::de::Error::custom(e), bytes))?;
        de.end().map_err(|e| crate::response::json_error(&e, bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
    struct Doc {
        title: String,
        n: u32,
    }

    #[test]
    fn round_trip_and_ndjson() {
        let s: &dyn Serializer = &JsonSerializer;
        let d = Doc {
            title: "a\nb".into(),
            n: 3,
        };
        let mut out = Vec::new();
        s.ndjson_line(&serde_json::json!({"index": {"_id": "1"}}), &mut out)
            .unwrap();
        s.ndjson_line(&d, &mut out).unwrap();
        assert_eq!(
            out,
            b"{\"index\":{\"_id\":\"1\"}}\n{\"title\":\"a\\nb\",\"n\":3}\n"
        );
        let back: Doc = s.from_slice(br#"{"title":"a\nb","n":3}"#).unwrap();
        assert_eq!(back, d);
    }

    #[test]
    fn errors() {
        let s: &dyn Serializer = &JsonSerializer;
        assert!(s.from_slice::<Doc>(br#"{"title":1}"#).is_err());
        assert!(
            s.from_slice::<Doc>(br#"{"title":"x","n":1} trailing"#)
                .is_err()
        );
        let mut m = std::collections::HashMap::new();
        m.insert(vec![1u8], 1);
        assert!(s.to_vec(&m).is_err());
    }

    #[test]
    fn obj_safe() {
        fn _f(_: &dyn Serializer) {}
    }
}
