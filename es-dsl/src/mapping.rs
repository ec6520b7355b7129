//! Mappings from Rust types ([`Mapped`]), the typed field paths ([`FieldPath`]), and the
//! helpers the `Document` / `InnerDoc` derives expand to.

use es_api::types::mapping::{
    BooleanProperty, ByteNumberProperty, DenseVectorProperty, DoubleNumberProperty,
    FlattenedProperty, FloatNumberProperty, GeoPointProperty, IntegerNumberProperty, IpProperty,
    JoinProperty, KeywordProperty, LongNumberProperty, ObjectProperty, Property,
    ShortNumberProperty, TextProperty, UnsignedLongNumberProperty,
};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{Error, Sort};

/// The mapping of a type or a mistake in a field's options.
pub type PropertyResult = Result<Property, Error>;

/// A Rust type's field mapping, and the typed paths of its fields (for structs).
///
/// Implemented for the primitive types (`String` is `text` with a `keyword` sub-field,
/// signed integers are `byte` / `short` / `integer` / `long` by width, an unsigned integer
/// is the smallest signed type that holds all its values (`u8` → `short`, `u16` →
/// `integer`, `u32` → `long`) and `u64` is `unsigned_long`, `f32` / `f64` are `float` /
/// `double`, `bool` is `boolean`), `Vec<T>`, `Option<T>` and `Box<T>` (the mapping of `T`),
/// `HashMap<String, V>` / `BTreeMap<String, V>` (`flattened`: keys are data, not fields),
/// [`std::net::IpAddr`] (`ip`), [`GeoPoint`], [`DenseVector`] (`dense_vector` with `dims`),
/// [`Join`] (`join`, with `#[es(join(parent = "child"))]`), the date types of `chrono` and
/// `time` (`date`, features of the same names), and derived by `InnerDoc` (`object`, or
/// `nested` with `#[es(nested)]`) and `Document`. Other field types (`completion`,
/// `search_as_you_type`, …) through `#[es(type = "…")]`.
pub trait Mapped {
    /// The typed paths of this type's fields: [`FieldPath`] for a leaf.
    type Fields;
    /// The field mapping.
    fn property() -> PropertyResult;
    /// The typed paths under `path`.
    fn fields_at(path: String) -> Self::Fields;
}

/// A field's path (`title`, `comments.author`): usable wherever es-dsl takes a field name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FieldPath(pub String);

impl FieldPath {
    /// The path.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Sorted by this field, ascending.
    pub fn asc(&self) -> Sort {
        Sort::asc(self.0.clone())
    }

    /// Sorted by this field, descending.
    pub fn desc(&self) -> Sort {
        Sort::desc(self.0.clone())
    }

    /// The `keyword` sub-field a `String` field has (for terms aggregations and sorting).
    pub fn keyword(&self) -> FieldPath {
        FieldPath(format!("{}.keyword", self.0))
    }

    /// A sub-field (`fields(raw = "keyword")` is `.sub("raw")`).
    pub fn sub(&self, name: &str) -> FieldPath {
        FieldPath(format!("{}.{name}", self.0))
    }
}

impl std::fmt::Display for FieldPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<FieldPath> for String {
    fn from(p: FieldPath) -> String {
        p.0
    }
}

impl From<&FieldPath> for String {
    fn from(p: &FieldPath) -> String {
        p.0.clone()
    }
}

/// `prefix.name` (or `name` at the top).
#[doc(hidden)]
pub fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}.{name}")
    }
}

macro_rules! leaf {
    ($($t:ty => $p:expr),* $(,)?) => {
        $(
            impl Mapped for $t {
                type Fields = FieldPath;
                fn property() -> PropertyResult {
                    Ok($p)
                }
                fn fields_at(path: String) -> FieldPath {
                    FieldPath(path)
                }
            }
        )*
    };
}

fn text_with_keyword() -> Property {
    let keyword = KeywordProperty {
        ignore_above: Some(256),
        ..Default::default()
    };
    let mut fields = IndexMap::new();
    fields.insert("keyword".to_string(), Property::Keyword(keyword));
    Property::Text(TextProperty {
        fields: Some(fields),
        ..Default::default()
    })
}

leaf! {
    String => text_with_keyword(),
    bool => Property::Boolean(BooleanProperty::default()),
    i8 => Property::Byte(ByteNumberProperty::default()),
    i16 => Property::Short(ShortNumberProperty::default()),
    u8 => Property::Short(ShortNumberProperty::default()),
    i32 => Property::Integer(IntegerNumberProperty::default()),
    u16 => Property::Integer(IntegerNumberProperty::default()),
    i64 => Property::Long(LongNumberProperty::default()),
    u32 => Property::Long(LongNumberProperty::default()),
    u64 => Property::UnsignedLong(UnsignedLongNumberProperty::default()),
    f32 => Property::Float(FloatNumberProperty::default()),
    f64 => Property::Double(DoubleNumberProperty::default()),
    std::net::IpAddr => Property::Ip(IpProperty::default()),
}

impl<T: Mapped> Mapped for Vec<T> {
    type Fields = T::Fields;
    fn property() -> PropertyResult {
        T::property()
    }
    fn fields_at(path: String) -> T::Fields {
        T::fields_at(path)
    }
}

impl<T: Mapped> Mapped for Option<T> {
    type Fields = T::Fields;
    fn property() -> PropertyResult {
        T::property()
    }
    fn fields_at(path: String) -> T::Fields {
        T::fields_at(path)
    }
}

impl<T: Mapped> Mapped for Box<T> {
    type Fields = T::Fields;
    fn property() -> PropertyResult {
        T::property()
    }
    fn fields_at(path: String) -> T::Fields {
        T::fields_at(path)
    }
}

/// A `geo_point`: `{"lat": …, "lon": …}`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GeoPoint {
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
}

leaf! { GeoPoint => Property::GeoPoint(GeoPointProperty::default()) }

/// A `dense_vector` of `N` dimensions (for `knn`), written as an array.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DenseVector<const N: usize>(pub Vec<f32>);

impl<const N: usize> Mapped for DenseVector<N> {
    type Fields = FieldPath;
    fn property() -> PropertyResult {
        Ok(Property::DenseVector(DenseVectorProperty {
            dims: Some(N as i32),
            ..Default::default()
        }))
    }
    fn fields_at(path: String) -> FieldPath {
        FieldPath(path)
    }
}

impl<V> Mapped for std::collections::HashMap<String, V> {
    type Fields = FieldPath;
    fn property() -> PropertyResult {
        Ok(Property::Flattened(FlattenedProperty::default()))
    }
    fn fields_at(path: String) -> FieldPath {
        FieldPath(path)
    }
}

impl<V> Mapped for std::collections::BTreeMap<String, V> {
    type Fields = FieldPath;
    fn property() -> PropertyResult {
        Ok(Property::Flattened(FlattenedProperty::default()))
    }
    fn fields_at(path: String) -> FieldPath {
        FieldPath(path)
    }
}

/// The value of a `join` field (parent/child relations in one index): the document's
/// relation `name`, and for a child its `parent`'s id. Declare the relations on the field
/// with `#[es(join(question = "answer"))]` (several children: `question = ["answer",
/// "comment"]`); index a child with its parent's id as routing
/// ([`crate::Save::routing`]).
///
/// ```
/// use es_dsl::mapping::Join;
/// assert_eq!(serde_json::to_value(Join::new("question")).unwrap(), serde_json::json!({"name": "question"}));
/// assert_eq!(
///     serde_json::to_value(Join::child("answer", "1")).unwrap(),
///     serde_json::json!({"name": "answer", "parent": "1"})
/// );
/// // The short form a parent may be stored with reads too.
/// assert_eq!(serde_json::from_str::<Join>(r#""question""#).unwrap(), Join::new("question"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "JoinRepr")]
pub struct Join {
    /// The relation name of this document (`"question"`, `"answer"`).
    pub name: String,
    /// The parent document's id, for a child.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
}

impl Join {
    /// A document of relation `name` with no parent (a root of the relations).
    pub fn new(name: impl Into<String>) -> Join {
        Join {
            name: name.into(),
            parent: None,
        }
    }

    /// A child of relation `name` whose parent has the id `parent`.
    pub fn child(name: impl Into<String>, parent: impl Into<String>) -> Join {
        Join {
            name: name.into(),
            parent: Some(parent.into()),
        }
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum JoinRepr {
    Name(String),
    Full {
        name: String,
        #[serde(default)]
        parent: Option<String>,
    },
}

impl From<JoinRepr> for Join {
    fn from(r: JoinRepr) -> Join {
        match r {
            JoinRepr::Name(name) => Join::new(name),
            JoinRepr::Full { name, parent } => Join { name, parent },
        }
    }
}

leaf! { Join => Property::Join(JoinProperty::default()) }

#[cfg(feature = "chrono")]
leaf! {
    chrono::DateTime<chrono::Utc> => Property::Date(es_api::types::mapping::DateProperty::default()),
    chrono::NaiveDate => Property::Date(es_api::types::mapping::DateProperty::default()),
}

#[cfg(feature = "time")]
leaf! {
    time::OffsetDateTime => Property::Date(es_api::types::mapping::DateProperty::default()),
}

/// A field option of `#[es(...)]`, as the derives write it.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub enum Opt {
    /// A string.
    Str(&'static str),
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A number.
    Float(f64),
    /// `fields(raw = "keyword")`.
    SubFields(&'static [(&'static str, &'static str)]),
    /// `join(question = "answer")`: each parent relation with its children.
    Relations(&'static [(&'static str, &'static [&'static str])]),
}

impl Opt {
    fn json(&self) -> Value {
        match self {
            Opt::Str(s) => Value::from(*s),
            Opt::Bool(b) => Value::from(*b),
            Opt::Int(i) => Value::from(*i),
            Opt::Float(f) => Value::from(*f),
            Opt::SubFields(subs) => Value::Object(
                subs.iter()
                    .map(|(n, t)| (n.to_string(), serde_json::json!({ "type": t })))
                    .collect(),
            ),
            Opt::Relations(rels) => Value::Object(
                rels.iter()
                    .map(|(parent, children)| {
                        let children = match children {
                            [one] => Value::from(*one),
                            many => Value::from(many.to_vec()),
                        };
                        (parent.to_string(), children)
                    })
                    .collect(),
            ),
        }
    }
}

/// A field's mapping with its `#[es(...)]` options applied: another type (`keyword`, `text`,
/// `type = "…"`), `nested` for an object, then the options. An option the field type does not
/// have is an error naming the field, never dropped.
#[doc(hidden)]
pub fn customize(
    field: &str,
    base: PropertyResult,
    kind: Option<&str>,
    nested: bool,
    opts: &[(&str, Opt)],
) -> PropertyResult {
    let base = base?;
    let mut v = serde_json::to_value(&base).map_err(|e| Error::mapping(field, e.to_string()))?;
    match kind {
        Some("text") => v = serde_json::json!({"type": "text"}),
        Some(k) => {
            let props = v.get("properties").cloned();
            v = serde_json::json!({ "type": k });
            if let Some(p) = props {
                v["properties"] = p;
            }
        }
        None => {}
    }
    if nested {
        if v.get("properties").is_none() {
            return Err(Error::mapping(
                field,
                "`nested` is for fields holding an InnerDoc (objects)",
            ));
        }
        v["type"] = Value::from("nested");
    }
    for (k, o) in opts {
        v[*k] = o.json();
    }
    let p: Property =
        serde_json::from_value(v.clone()).map_err(|e| Error::mapping(field, e.to_string()))?;
    // Every option must survive: the field type may not have it.
    let back = serde_json::to_value(&p).map_err(|e| Error::mapping(field, e.to_string()))?;
    for (k, _) in opts {
        if back.get(*k).is_none() {
            return Err(Error::mapping(
                field,
                format!(
                    "a {} field has no `{k}` option",
                    v["type"].as_str().unwrap_or("object")
                ),
            ));
        }
    }
    if let Property::Join(j) = &p
        && j.relations.as_ref().is_none_or(|r| r.is_empty())
    {
        return Err(Error::mapping(
            field,
            "a join field needs its relations: #[es(join(parent = \"child\"))]",
        ));
    }
    Ok(p)
}

/// An `object` with these properties (the mapping of an `InnerDoc` or `Document`).
#[doc(hidden)]
pub fn object(props: &[(&str, PropertyResult)]) -> PropertyResult {
    let mut map = IndexMap::new();
    for (name, p) in props {
        match p {
            Ok(p) => {
                map.insert(name.to_string(), p.clone());
            }
            Err(e) => return Err(Error::mapping(name, e.to_string())),
        }
    }
    Ok(Property::Object(ObjectProperty {
        properties: Some(map),
        ..Default::default()
    }))
}

/// The index-level options of `#[es(index = …, shards = …, replicas = …, alias = …,
/// dynamic = …)]`.
#[derive(Debug, Clone, Copy, Default)]
pub struct IndexOptions {
    /// `number_of_shards`.
    pub shards: Option<u32>,
    /// `number_of_replicas`.
    pub replicas: Option<u32>,
    /// Aliases created with the index.
    pub aliases: &'static [&'static str],
    /// The mapping's `dynamic` (`"strict"`, …).
    pub dynamic: Option<&'static str>,
}
