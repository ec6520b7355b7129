//! [`SearchResults<T>`]: a search response with typed hits, and [`Aggs`] to read the typed
//! aggregation results by name (a missing or mistyped name is an error, never a panic).

use es_api::types::aggregations::{
    Aggregate, Buckets, CompositeAggregateKey, KeyedPercentilesValue, Percentiles,
};
use es_api::types::common::{FieldValue, ShardStatistics};
use es_api::types::search::{Hit, HitsMetadata, HitsMetadataTotal, SearchResponse, Suggest};
use es_api::types::{DeserializeTagged, ExternallyTagged, TypedKeys};
use serde_json::Value;

use crate::Error;

/// A search response: the specification's [`SearchResponse`] (also through `Deref`), with
/// the hits' documents as `T` and the aggregation results through [`SearchResults::aggs`].
///
/// ```
/// use es_dsl::SearchResults;
/// let body = serde_json::json!({
///     "took": 1, "timed_out": false,
///     "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
///     "hits": {"total": {"value": 1, "relation": "eq"}, "max_score": 1.0,
///              "hits": [{"_index": "posts", "_id": "1", "_score": 1.0, "_source": {"title": "Rust"}}]},
///     "aggregations": {"sterms#by_tag": {"doc_count_error_upper_bound": 0, "sum_other_doc_count": 0,
///         "buckets": [{"key": "rust", "doc_count": 1, "avg#avg_price": {"value": 10.0}}]}}
/// });
/// let results: SearchResults<serde_json::Value> = serde_json::from_value(body).unwrap();
/// assert_eq!(results.total(), Some(1));
/// let tags = results.aggs().terms("by_tag").unwrap();
/// assert_eq!(tags[0].key_str(), Some("rust"));
/// assert_eq!(tags[0].doc_count, 1);
/// assert_eq!(tags[0].aggs().value("avg_price").unwrap(), Some(10.0));
/// assert!(results.aggs().terms("no_such").is_err());
/// assert!(results.aggs().value("by_tag").is_err()); // not a single-value metric
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
#[serde(bound(
    serialize = "T: serde::Serialize",
    deserialize = "T: serde::de::DeserializeOwned"
))]
pub struct SearchResults<T>(pub SearchResponse<T>);

impl<T> std::ops::Deref for SearchResults<T> {
    type Target = SearchResponse<T>;
    fn deref(&self) -> &SearchResponse<T> {
        &self.0
    }
}

impl<T> SearchResults<T> {
    /// The hits (`_id`, `_index`, `_score`, `sort`, `highlight`, `inner_hits`, `fields`, and
    /// `source: Option<T>`).
    pub fn hits(&self) -> &[Hit<T>] {
        &self.0.hits.hits
    }

    /// The hits' documents (`_source`), in order; hits without a source are skipped.
    pub fn documents(&self) -> impl Iterator<Item = &T> {
        self.0.hits.hits.iter().filter_map(|h| h.source.as_ref())
    }

    /// The total hit count, when the server counted it (`track_total_hits`).
    pub fn total(&self) -> Option<u64> {
        total_of(&self.0.hits)
    }

    /// Milliseconds the search took on the server.
    pub fn took(&self) -> i64 {
        self.0.took
    }

    /// Shard counts (`total`, `successful`, `failed`, …).
    pub fn shards(&self) -> &ShardStatistics {
        &self.0.shards
    }

    /// The sort values of the last hit: the `search_after` of the next page.
    pub fn last_sort(&self) -> Option<&Vec<FieldValue>> {
        self.0.hits.hits.last()?.sort.as_ref()
    }

    /// The aggregation results by name.
    pub fn aggs(&self) -> Aggs<'_> {
        Aggs(self.0.aggregations.as_ref())
    }

    /// The entries of the suggester `name`, typed (`term`, `phrase`, `completion`): one
    /// per token of the text for a `term` suggester, each with its options. Read from a
    /// response asked with `typed_keys` (as [`crate::Search::execute`] asks), whose keys are
    /// `term#name`; a missing name is an error naming the suggesters there are.
    pub fn suggest(&self, name: &str) -> Result<Vec<Suggest<T>>, Error>
    where
        T: serde::de::DeserializeOwned + Clone,
    {
        let map = self.0.suggest.as_ref();
        let found = map.and_then(|m| {
            m.iter()
                .find_map(|(key, entries)| match key.split_once('#') {
                    Some((tag, n)) if n == name => Some((Some(tag), entries)),
                    None if key == name => Some((None, entries)),
                    _ => None,
                })
        });
        let Some((tag, entries)) = found else {
            let names: Vec<&str> = map
                .iter()
                .flat_map(|m| {
                    m.keys()
                        .map(|k| k.split_once('#').map_or(k.as_str(), |(_, n)| n))
                })
                .collect();
            return Err(Error::input(format!(
                "no suggester named {name:?} (suggesters: {names:?})"
            )));
        };
        entries
            .iter()
            .map(|entry| match (entry, tag) {
                // The response map is read without the tag: read the entry as its tag says.
                (Suggest::Unknown(None, raw), Some(tag)) => {
                    Suggest::deserialize_tagged(Some(tag), raw.clone())
                        .map_err(|e| Error::invalid("a suggestion", e))
                }
                (other, _) => Ok(other.clone()),
            })
            .collect()
    }

    /// The option texts of the suggester `name`: per entry (token) in order, its options
    /// best first. An entry of an unknown kind is an error.
    pub fn suggestion_texts(&self, name: &str) -> Result<Vec<Vec<String>>, Error>
    where
        T: serde::de::DeserializeOwned + Clone,
    {
        self.suggest(name)?
            .iter()
            .map(|entry| match entry {
                Suggest::Term(t) => Ok(t.options.iter().map(|o| o.text.clone()).collect()),
                Suggest::Phrase(p) => Ok(p.options.iter().map(|o| o.text.clone()).collect()),
                Suggest::Completion(c) => Ok(c.options.iter().map(|o| o.text.clone()).collect()),
                Suggest::Unknown(tag, _) => Err(Error::input(format!(
                    "suggester {name:?}: a result of an unknown kind ({tag:?})"
                ))),
            })
            .collect()
    }

    /// The specification's response.
    pub fn into_inner(self) -> SearchResponse<T> {
        self.0
    }
}

fn total_of<T>(hits: &HitsMetadata<T>) -> Option<u64> {
    match hits.total.as_ref()? {
        HitsMetadataTotal::TotalHits(t) => u64::try_from(t.value).ok(),
        HitsMetadataTotal::Long(n) => u64::try_from(*n).ok(),
    }
}

/// Aggregation results by name (of a response, or of a bucket for its sub-aggregations).
#[derive(Debug, Clone, Copy)]
pub struct Aggs<'a>(Option<&'a TypedKeys<Aggregate>>);

/// A bucket of a bucket aggregation: its key, its document count, and its sub-aggregations.
#[derive(Debug, Clone, PartialEq)]
pub struct Bucket<'a> {
    /// The key: a string, a number, an array (`multi_terms`), an object (`composite`), or
    /// the filter's name (`filters`); `null` for an unnamed range.
    pub key: Value,
    /// The key as the server formatted it (dates, ranges).
    pub key_as_string: Option<&'a str>,
    /// Documents in the bucket.
    pub doc_count: i64,
    /// `from` and `to` of a range bucket.
    pub range: Option<(Option<f64>, Option<f64>)>,
    subs: Option<&'a TypedKeys<Aggregate>>,
}

impl<'a> Bucket<'a> {
    /// The key as a string, if it is one.
    pub fn key_str(&self) -> Option<&str> {
        self.key.as_str()
    }

    /// The bucket's sub-aggregations by name.
    pub fn aggs(&self) -> Aggs<'a> {
        Aggs(self.subs)
    }
}

fn field_value(v: &FieldValue) -> Value {
    match v {
        FieldValue::Null => Value::Null,
        FieldValue::Bool(b) => Value::Bool(*b),
        FieldValue::Long(n) => Value::from(*n),
        FieldValue::Double(n) => Value::from(*n),
        FieldValue::String(s) => Value::String(s.clone()),
    }
}

fn composite_key(k: &CompositeAggregateKey) -> Value {
    Value::Object(k.iter().map(|(n, v)| (n.clone(), field_value(v))).collect())
}

fn buckets<B>(b: &Buckets<B>) -> Vec<(Option<&String>, &B)> {
    match b {
        Buckets::Array(v) => v.iter().map(|x| (None, x)).collect(),
        Buckets::Map(m) => m.iter().map(|(k, x)| (Some(k), x)).collect(),
    }
}

/// Builds the `Bucket`s of a bucket aggregation's buckets.
macro_rules! bucket_list {
    ($b:expr, |$x:ident, $name:ident| $key:expr, $kas:expr, $range:expr) => {
        buckets($b)
            .into_iter()
            .map(|($name, $x)| Bucket {
                key: $key,
                key_as_string: $kas,
                doc_count: $x.doc_count,
                range: $range,
                subs: Some(&$x.aggregations),
            })
            .collect()
    };
}

impl<'a> Aggs<'a> {
    /// The names of the results.
    pub fn names(&self) -> Vec<&'a str> {
        self.0
            .map(|m| m.keys().map(String::as_str).collect())
            .unwrap_or_default()
    }

    /// The result named `name`; an error naming the results there are when it is missing.
    pub fn get(&self, name: &str) -> Result<&'a Aggregate, Error> {
        self.0.and_then(|m| m.get(name)).ok_or_else(|| {
            Error::input(format!(
                "no aggregation result named {name:?} (results: {:?})",
                self.names()
            ))
        })
    }

    fn wrong(name: &str, wanted: &str, got: &Aggregate) -> Error {
        let tag = got.tag().unwrap_or("untagged (read without typed_keys)");
        Error::input(format!(
            "aggregation {name:?} is a {tag} result, not {wanted}"
        ))
    }

    /// The buckets of a terms-like result: `terms` (string, long, double, unmapped),
    /// `multi_terms`, `rare_terms`, `significant_terms`.
    pub fn terms(&self, name: &str) -> Result<Vec<Bucket<'a>>, Error> {
        Ok(match self.get(name)? {
            Aggregate::StringTerms(t) => {
                bucket_list!(&t.buckets, |x, _n| field_value(&x.key), None, None)
            }
            Aggregate::LongTerms(t) => bucket_list!(
                &t.buckets,
                |x, _n| Value::from(x.key),
                x.key_as_string.as_deref(),
                None
            ),
            Aggregate::DoubleTerms(t) => bucket_list!(
                &t.buckets,
                |x, _n| Value::from(x.key),
                x.key_as_string.as_deref(),
                None
            ),
            Aggregate::MultiTerms(t) => bucket_list!(
                &t.buckets,
                |x, _n| Value::Array(x.key.iter().map(field_value).collect()),
                x.key_as_string.as_deref(),
                None
            ),
            Aggregate::StringRareTerms(t) => {
                bucket_list!(&t.buckets, |x, _n| Value::String(x.key.clone()), None, None)
            }
            Aggregate::LongRareTerms(t) => bucket_list!(
                &t.buckets,
                |x, _n| Value::from(x.key),
                x.key_as_string.as_deref(),
                None
            ),
            Aggregate::SignificantStringTerms(t) => {
                bucket_list!(&t.buckets, |x, _n| Value::String(x.key.clone()), None, None)
            }
            Aggregate::SignificantLongTerms(t) => bucket_list!(
                &t.buckets,
                |x, _n| Value::from(x.key),
                x.key_as_string.as_deref(),
                None
            ),
            Aggregate::UnmappedTerms(_)
            | Aggregate::UnmappedRareTerms(_)
            | Aggregate::UnmappedSignificantTerms(_) => Vec::new(),
            other => return Err(Self::wrong(name, "a terms result", other)),
        })
    }

    /// The buckets of a histogram: `histogram`, `date_histogram`, `auto_date_histogram`.
    pub fn histogram(&self, name: &str) -> Result<Vec<Bucket<'a>>, Error> {
        Ok(match self.get(name)? {
            Aggregate::Histogram(h) => bucket_list!(
                &h.buckets,
                |x, _n| Value::from(x.key),
                x.key_as_string.as_deref(),
                None
            ),
            Aggregate::DateHistogram(h) => bucket_list!(
                &h.buckets,
                |x, _n| Value::from(x.key),
                x.key_as_string.as_deref(),
                None
            ),
            Aggregate::AutoDateHistogram(h) => bucket_list!(
                &h.buckets,
                |x, _n| Value::from(x.key),
                x.key_as_string.as_deref(),
                None
            ),
            other => return Err(Self::wrong(name, "a histogram result", other)),
        })
    }

    /// The buckets of a range result: `range`, `date_range`, `geo_distance`.
    pub fn range(&self, name: &str) -> Result<Vec<Bucket<'a>>, Error> {
        let list = match self.get(name)? {
            Aggregate::Range(r) => &r.buckets,
            Aggregate::DateRange(r) => &r.buckets,
            Aggregate::GeoDistance(r) => &r.buckets,
            other => return Err(Self::wrong(name, "a range result", other)),
        };
        Ok(bucket_list!(
            list,
            |x, n| match (&x.key, n) {
                (Some(k), _) | (None, Some(k)) => Value::String(k.clone()),
                (None, None) => Value::Null,
            },
            None,
            Some((x.from, x.to))
        ))
    }

    /// The buckets of a `filters` result, keyed by the filters' names (or their positions
    /// for anonymous filters).
    pub fn filters(&self, name: &str) -> Result<Vec<Bucket<'a>>, Error> {
        match self.get(name)? {
            Aggregate::Filters(f) => Ok(bucket_list!(
                &f.buckets,
                |x, n| match (n, &x.key) {
                    (Some(k), _) | (None, Some(k)) => Value::String(k.clone()),
                    (None, None) => Value::Null,
                },
                None,
                None
            )),
            other => Err(Self::wrong(name, "a filters result", other)),
        }
    }

    /// The single bucket of `filter`, `nested`, `reverse_nested`, `global`, `missing`,
    /// `sampler`, `children` or `parent`.
    pub fn single(&self, name: &str) -> Result<Bucket<'a>, Error> {
        let (doc_count, subs) = match self.get(name)? {
            Aggregate::Filter(b) => (b.doc_count, &b.aggregations),
            Aggregate::Nested(b) => (b.doc_count, &b.aggregations),
            Aggregate::ReverseNested(b) => (b.doc_count, &b.aggregations),
            Aggregate::Global(b) => (b.doc_count, &b.aggregations),
            Aggregate::Missing(b) => (b.doc_count, &b.aggregations),
            Aggregate::Sampler(b) => (b.doc_count, &b.aggregations),
            Aggregate::Children(b) => (b.doc_count, &b.aggregations),
            Aggregate::Parent(b) => (b.doc_count, &b.aggregations),
            other => return Err(Self::wrong(name, "a single-bucket result", other)),
        };
        Ok(Bucket {
            key: Value::String(name.to_string()),
            key_as_string: None,
            doc_count,
            range: None,
            subs: Some(subs),
        })
    }

    /// The buckets of a `composite` result and its `after_key` (the next page's `after`;
    /// `None` on the last page).
    pub fn composite(&self, name: &str) -> Result<(Vec<Bucket<'a>>, Option<Value>), Error> {
        match self.get(name)? {
            Aggregate::Composite(c) => Ok((
                bucket_list!(&c.buckets, |x, _n| composite_key(&x.key), None, None),
                c.after_key.as_ref().map(composite_key),
            )),
            other => Err(Self::wrong(name, "a composite result", other)),
        }
    }

    /// The value of a single-value metric: `avg`, `sum`, `min`, `max`, `cardinality`,
    /// `value_count`, `weighted_avg`, `median_absolute_deviation`, `rate`, and the pipeline
    /// results (`avg_bucket`, `derivative`, `cumulative_sum`, …). `None` when the server
    /// had no value (an empty bucket's `avg`).
    pub fn value(&self, name: &str) -> Result<Option<f64>, Error> {
        Ok(match self.get(name)? {
            Aggregate::Avg(a) => a.value,
            Aggregate::Sum(a) => a.value,
            Aggregate::Min(a) => a.value,
            Aggregate::Max(a) => a.value,
            Aggregate::Cardinality(a) => Some(a.value as f64),
            Aggregate::ValueCount(a) => a.value,
            Aggregate::WeightedAvg(a) => a.value,
            Aggregate::MedianAbsoluteDeviation(a) => a.value,
            Aggregate::SimpleValue(a) => a.value,
            Aggregate::Derivative(a) => a.value,
            Aggregate::BucketMetricValue(a) => a.value,
            Aggregate::CumulativeCardinality(a) => Some(a.value as f64),
            Aggregate::Rate(a) => Some(a.value),
            other => return Err(Self::wrong(name, "a single-value metric", other)),
        })
    }

    /// The percentiles of a `percentiles` (or `percentile_ranks`) result, as (percent, value)
    /// pairs in the server's order.
    pub fn percentiles(&self, name: &str) -> Result<Vec<(String, Option<f64>)>, Error> {
        let values = match self.get(name)? {
            Aggregate::TDigestPercentiles(p) => &p.values,
            Aggregate::HdrPercentiles(p) => &p.values,
            Aggregate::TDigestPercentileRanks(p) => &p.values,
            Aggregate::HdrPercentileRanks(p) => &p.values,
            Aggregate::PercentilesBucket(p) => &p.values,
            other => return Err(Self::wrong(name, "a percentiles result", other)),
        };
        Ok(match values {
            Percentiles::KeyedPercentiles(m) => m
                .iter()
                .filter(|(k, _)| !k.ends_with("_as_string"))
                .map(|(k, v)| {
                    let v = match v {
                        KeyedPercentilesValue::Double(f) => Some(*f),
                        KeyedPercentilesValue::String(s) => s.parse().ok(),
                        KeyedPercentilesValue::Null => None,
                    };
                    (k.clone(), v)
                })
                .collect(),
            Percentiles::ArrayPercentilesItemList(items) => items
                .iter()
                .map(|i| (format_percent(i.key), i.value))
                .collect(),
        })
    }

    /// The hits of a `top_hits` result (documents as JSON; read them with
    /// `serde_json::from_value`).
    pub fn top_hits(&self, name: &str) -> Result<&'a HitsMetadata<Value>, Error> {
        match self.get(name)? {
            Aggregate::TopHits(t) => Ok(&t.hits),
            other => Err(Self::wrong(name, "a top_hits result", other)),
        }
    }
}

fn format_percent(p: f64) -> String {
    let s = format!("{p}");
    if s.contains('.') { s } else { format!("{s}.0") }
}
