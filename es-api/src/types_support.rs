//! Hand-written building blocks of the generated specification types ([`crate::types`]):
//! the JSON shapes the specification uses that serde has no attribute for.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use indexmap::IndexMap;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

/// A value the specification types as `T | T[]`: one value or an array, written back in
/// the form it was read.
///
/// ```
/// use es_api::types::OneOrMany;
/// let one: OneOrMany<String> = serde_json::from_str(r#""title""#).unwrap();
/// let many: OneOrMany<String> = serde_json::from_str(r#"["title", "body"]"#).unwrap();
/// assert_eq!(one.len(), 1);
/// assert_eq!(many.iter().collect::<Vec<_>>(), ["title", "body"]);
/// assert_eq!(serde_json::to_string(&one).unwrap(), r#""title""#);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany<T> {
    /// A single value.
    One(T),
    /// An array.
    Many(Vec<T>),
}

impl<T> OneOrMany<T> {
    /// The number of values.
    pub fn len(&self) -> usize {
        match self {
            OneOrMany::One(_) => 1,
            OneOrMany::Many(v) => v.len(),
        }
    }

    /// True for an empty array.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The values in order.
    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        match self {
            OneOrMany::One(v) => std::slice::from_ref(v).iter(),
            OneOrMany::Many(v) => v.iter(),
        }
    }

    /// The values as a `Vec`.
    pub fn into_vec(self) -> Vec<T> {
        match self {
            OneOrMany::One(v) => vec![v],
            OneOrMany::Many(v) => v,
        }
    }

    /// Appends a value (a single value becomes an array).
    pub fn push(&mut self, value: T) {
        let this = std::mem::replace(self, OneOrMany::Many(Vec::new()));
        let mut v = this.into_vec();
        v.push(value);
        *self = OneOrMany::Many(v);
    }
}

impl<T> Default for OneOrMany<T> {
    fn default() -> Self {
        OneOrMany::Many(Vec::new())
    }
}

impl<T> From<T> for OneOrMany<T> {
    fn from(v: T) -> Self {
        OneOrMany::One(v)
    }
}

impl<T> From<Vec<T>> for OneOrMany<T> {
    fn from(v: Vec<T>) -> Self {
        OneOrMany::Many(v)
    }
}

impl<T> IntoIterator for OneOrMany<T> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;
    fn into_iter(self) -> Self::IntoIter {
        self.into_vec().into_iter()
    }
}

/// A dictionary of exactly one entry, keyed by a field name: the `{"user.id": {...}}` of
/// `{"term": {"user.id": {"value": "kimchy"}}}`.
///
/// ```
/// use es_api::types::SingleKey;
/// let t: SingleKey<String, u32> = serde_json::from_str(r#"{"age": 3}"#).unwrap();
/// assert_eq!((t.key.as_str(), t.value), ("age", 3));
/// assert!(serde_json::from_str::<SingleKey<String, u32>>(r#"{"a": 1, "b": 2}"#).is_err());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct SingleKey<K, V> {
    /// The key (a field name).
    pub key: K,
    /// The value under it.
    pub value: V,
}

impl<K, V> SingleKey<K, V> {
    /// One entry.
    pub fn new(key: impl Into<K>, value: impl Into<V>) -> Self {
        SingleKey {
            key: key.into(),
            value: value.into(),
        }
    }
}

impl<K: Serialize, V: Serialize> Serialize for SingleKey<K, V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry(&self.key, &self.value)?;
        map.end()
    }
}

impl<'de, K: Deserialize<'de>, V: Deserialize<'de>> Deserialize<'de> for SingleKey<K, V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Vis<K, V>(PhantomData<(K, V)>);
        impl<'de, K: Deserialize<'de>, V: Deserialize<'de>> Visitor<'de> for Vis<K, V> {
            type Value = SingleKey<K, V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object with exactly one key")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let Some((key, value)) = map.next_entry()? else {
                    return Err(de::Error::custom(
                        "an empty object: exactly one key is expected",
                    ));
                };
                if map.next_key::<de::IgnoredAny>()?.is_some() {
                    return Err(de::Error::custom(
                        "more than one key: exactly one is expected",
                    ));
                }
                Ok(SingleKey { key, value })
            }
        }
        deserializer.deserialize_map(Vis(PhantomData))
    }
}

/// A union whose variant is named outside the value: the `sterms` of the key
/// `"sterms#by_tag"` in a response asked with `typed_keys`.
pub trait ExternallyTagged {
    /// The tag of this variant (`sterms`, `avg`, …), `None` for a value read without one.
    fn tag(&self) -> Option<&str>;
}

/// Reading a value of an [`ExternallyTagged`] union, given its tag.
pub trait DeserializeTagged<'de>: Sized {
    /// Reads the variant `tag` names (an unknown or missing tag keeps the raw JSON).
    fn deserialize_tagged<D: Deserializer<'de>>(
        tag: Option<&str>,
        deserializer: D,
    ) -> Result<Self, D::Error>;
}

/// The key `tag#name`, or `name` without a tag.
#[doc(hidden)]
pub fn typed_key<'a>(name: &'a str, tag: Option<&str>) -> Cow<'a, str> {
    match tag {
        Some(t) => Cow::Owned(format!("{t}#{name}")),
        None => Cow::Borrowed(name),
    }
}

/// Values by name, read from `typed_keys` keys (`"sterms#by_tag"` is the `by_tag` entry,
/// an `sterms` variant) and written back with their tags. Derefs to the map by name.
///
/// ```
/// use es_api::types::aggregations::Aggregate;
/// use es_api::types::TypedKeys;
/// let aggs: TypedKeys<Aggregate> =
///     serde_json::from_str(r#"{"avg#avg_price": {"value": 10.5}}"#).unwrap();
/// assert!(matches!(aggs["avg_price"], Aggregate::Avg(_)));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct TypedKeys<T>(pub IndexMap<String, T>);

impl<T> Default for TypedKeys<T> {
    fn default() -> Self {
        TypedKeys(IndexMap::new())
    }
}

impl<T> std::ops::Deref for TypedKeys<T> {
    type Target = IndexMap<String, T>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl<T> std::ops::DerefMut for TypedKeys<T> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl<T> TypedKeys<T> {
    /// Reads the value of `key` (`tag#name`) from `map` and stores it under `name`.
    #[doc(hidden)]
    pub fn insert_next<'de, A: MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
    ) -> Result<(), A::Error>
    where
        T: DeserializeTagged<'de>,
    {
        let (tag, name) = match key.split_once('#') {
            Some((t, n)) => (Some(t), n),
            None => (None, key),
        };
        let value = map.next_value_seed(TaggedSeed::<T>(tag, PhantomData))?;
        self.0.insert(name.to_string(), value);
        Ok(())
    }
}

struct TaggedSeed<'a, T>(Option<&'a str>, PhantomData<T>);

impl<'de, T: DeserializeTagged<'de>> de::DeserializeSeed<'de> for TaggedSeed<'_, T> {
    type Value = T;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<T, D::Error> {
        T::deserialize_tagged(self.0, deserializer)
    }
}

impl<T: Serialize + ExternallyTagged> Serialize for TypedKeys<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(&typed_key(k, v.tag()), v)?;
        }
        map.end()
    }
}

impl<'de, T: DeserializeTagged<'de>> Deserialize<'de> for TypedKeys<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Vis<T>(PhantomData<T>);
        impl<'de, T: DeserializeTagged<'de>> Visitor<'de> for Vis<T> {
            type Value = TypedKeys<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of `tag#name` keys")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = TypedKeys::default();
                while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                    out.insert_next(key.as_ref(), &mut map)?;
                }
                Ok(out)
            }
        }
        deserializer.deserialize_map(Vis(PhantomData))
    }
}

/// An enum value read from a string, or from a boolean or number the server writes for
/// some of them (`"dynamic": true`).
#[doc(hidden)]
#[derive(Debug)]
pub struct StrOrScalar<'de>(pub Cow<'de, str>);

impl<'de> Deserialize<'de> for StrOrScalar<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Vis;
        impl<'de> Visitor<'de> for Vis {
            type Value = StrOrScalar<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(StrOrScalar(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(StrOrScalar(Cow::Owned(v.to_string())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(StrOrScalar(Cow::Owned(v)))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(StrOrScalar(Cow::Borrowed(if v { "true" } else { "false" })))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(StrOrScalar(Cow::Owned(v.to_string())))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(StrOrScalar(Cow::Owned(v.to_string())))
            }
        }
        deserializer.deserialize_any(Vis)
    }
}

/// `inner` with the tag property set (an internally tagged union's variant, written).
#[doc(hidden)]
pub fn with_tag(tag_name: &str, tag: &str, inner: serde_json::Value) -> serde_json::Value {
    match inner {
        serde_json::Value::Object(mut m) => {
            m.insert(
                tag_name.to_string(),
                serde_json::Value::String(tag.to_string()),
            );
            serde_json::Value::Object(m)
        }
        other => other,
    }
}

/// `v` without the tag property (an internally tagged union's variant, read).
#[doc(hidden)]
pub fn without_tag(tag_name: &str, mut v: serde_json::Value) -> serde_json::Value {
    if let serde_json::Value::Object(m) = &mut v {
        m.remove(tag_name);
    }
    v
}

/// The `Deserialize` body of an untagged union whose variants each take one kind of JSON
/// value: reads the value once (`deserialize_any`) and hands it to the variant of its kind,
/// so that an error is that variant's own. Written out by `cargo xtask codegen` (see
/// `kind_dispatch` in `xtask/src/codegen/types.rs`):
/// `by_kind!(deserializer, Ty<G..>, [G..], "expecting", { kind => Variant, .. })` with kinds
/// `null`, `bool`, `int`, `float`, `int_float` / `float_int` (integers tried on both, in
/// that order), `str`, `seq`, `map`.
macro_rules! by_kind {
    ($d:ident, $ty:ty, [$($g:ident),*], $expecting:literal, { $($kind:ident => $($v:ident)/+),* $(,)? }) => {{
        struct V<$($g),*>(::std::marker::PhantomData<fn() -> $ty>);
        impl<'de, $($g: ::serde::Deserialize<'de>),*> ::serde::de::Visitor<'de> for V<$($g),*> {
            type Value = $ty;
            fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str($expecting)
            }
            $( $crate::types_support::by_kind!(@arm $ty, $kind, $($v)/+); )*
        }
        $d.deserialize_any(V(::std::marker::PhantomData))
    }};
    (@arm $ty:ty, null, $v:ident) => {
        fn visit_unit<E: ::serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(<$ty>::$v)
        }
        fn visit_none<E: ::serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(<$ty>::$v)
        }
    };
    (@arm $ty:ty, bool, $v:ident) => {
        fn visit_bool<E: ::serde::de::Error>(self, v: bool) -> Result<Self::Value, E> {
            $crate::types_support::by_kind!(@read $ty, $v, ::serde::de::value::BoolDeserializer::<E>::new(v))
        }
    };
    (@arm $ty:ty, int, $v:ident) => {
        $crate::types_support::by_kind!(@ints $ty, $v);
    };
    (@arm $ty:ty, float, $v:ident) => {
        $crate::types_support::by_kind!(@ints $ty, $v);
        $crate::types_support::by_kind!(@float $ty, $v);
    };
    (@arm $ty:ty, int_float, $i:ident / $f:ident) => {
        $crate::types_support::by_kind!(@ints $ty, $i / $f);
        $crate::types_support::by_kind!(@float $ty, $f);
    };
    (@arm $ty:ty, float_int, $f:ident / $i:ident) => {
        $crate::types_support::by_kind!(@ints $ty, $f / $i);
        $crate::types_support::by_kind!(@float $ty, $f);
    };
    (@arm $ty:ty, str, $v:ident) => {
        fn visit_str<E: ::serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
            $crate::types_support::by_kind!(@read $ty, $v, ::serde::de::value::StrDeserializer::<E>::new(v))
        }
        fn visit_borrowed_str<E: ::serde::de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
            $crate::types_support::by_kind!(@read $ty, $v, ::serde::de::value::BorrowedStrDeserializer::<E>::new(v))
        }
        fn visit_string<E: ::serde::de::Error>(self, v: String) -> Result<Self::Value, E> {
            $crate::types_support::by_kind!(@read $ty, $v, ::serde::de::value::StringDeserializer::<E>::new(v))
        }
    };
    (@arm $ty:ty, seq, $v:ident) => {
        fn visit_seq<A: ::serde::de::SeqAccess<'de>>(self, a: A) -> Result<Self::Value, A::Error> {
            $crate::types_support::by_kind!(@read $ty, $v, ::serde::de::value::SeqAccessDeserializer::new(a))
        }
    };
    (@arm $ty:ty, map, $v:ident) => {
        fn visit_map<A: ::serde::de::MapAccess<'de>>(self, a: A) -> Result<Self::Value, A::Error> {
            $crate::types_support::by_kind!(@read $ty, $v, ::serde::de::value::MapAccessDeserializer::new(a))
        }
    };
    // Integers: to one variant, or to the first of two and, when it refuses, the second.
    (@ints $ty:ty, $v:ident) => {
        fn visit_i64<E: ::serde::de::Error>(self, v: i64) -> Result<Self::Value, E> {
            $crate::types_support::by_kind!(@read $ty, $v, ::serde::de::value::I64Deserializer::<E>::new(v))
        }
        fn visit_u64<E: ::serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
            $crate::types_support::by_kind!(@read $ty, $v, ::serde::de::value::U64Deserializer::<E>::new(v))
        }
    };
    (@ints $ty:ty, $first:ident / $second:ident) => {
        fn visit_i64<E: ::serde::de::Error>(self, v: i64) -> Result<Self::Value, E> {
            $crate::types_support::by_kind!(@read $ty, $first, ::serde::de::value::I64Deserializer::<E>::new(v))
                .or_else(|_: E| $crate::types_support::by_kind!(@read $ty, $second, ::serde::de::value::I64Deserializer::<E>::new(v)))
        }
        fn visit_u64<E: ::serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
            $crate::types_support::by_kind!(@read $ty, $first, ::serde::de::value::U64Deserializer::<E>::new(v))
                .or_else(|_: E| $crate::types_support::by_kind!(@read $ty, $second, ::serde::de::value::U64Deserializer::<E>::new(v)))
        }
    };
    (@float $ty:ty, $v:ident) => {
        fn visit_f64<E: ::serde::de::Error>(self, v: f64) -> Result<Self::Value, E> {
            $crate::types_support::by_kind!(@read $ty, $v, ::serde::de::value::F64Deserializer::<E>::new(v))
        }
    };
    (@read $ty:ty, $v:ident, $de:expr) => {
        ::serde::Deserialize::deserialize($de).map(<$ty>::$v)
    };
}
pub(crate) use by_kind;
