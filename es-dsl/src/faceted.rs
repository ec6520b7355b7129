//! [`FacetedSearch`]: facets defined once, a query string, selected filters applied as
//! elasticsearch-dsl does (as `post_filter`, and to every *other* facet's aggregation).

use es_api::Client;
use es_api::types::aggregations::CalendarInterval;
use indexmap::IndexMap;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::{Agg, Aggs, Bucket, Error, Query, Search, SearchResults};

/// A facet: the aggregation it counts with and the filter a selected value applies.
#[derive(Debug, Clone, PartialEq)]
pub enum Facet {
    /// Values of a keyword field, the `size` most frequent.
    Terms {
        /// The field.
        field: String,
        /// How many values.
        size: i32,
    },
    /// Named ranges of a numeric field: `(name, from, to)`.
    Range {
        /// The field.
        field: String,
        /// The ranges.
        ranges: Vec<(String, Option<f64>, Option<f64>)>,
    },
    /// Buckets `interval` wide.
    Histogram {
        /// The field.
        field: String,
        /// Bucket width.
        interval: f64,
    },
    /// Calendar buckets of a date field.
    DateHistogram {
        /// The field.
        field: String,
        /// Calendar interval.
        interval: CalendarInterval,
    },
    /// A facet over nested objects at `path`.
    Nested {
        /// The nested path.
        path: String,
        /// The facet inside.
        inner: Box<Facet>,
    },
}

impl Facet {
    /// A terms facet.
    pub fn terms(field: impl Into<String>, size: i32) -> Facet {
        Facet::Terms {
            field: field.into(),
            size,
        }
    }

    fn agg(&self) -> Agg {
        match self {
            Facet::Terms { field, size } => Agg::terms(field.clone()).size(*size).into(),
            Facet::Range { field, ranges } => {
                let mut a = Agg::range(field.clone(), &[]);
                if let es_api::types::aggregations::AggregationKind::Range(r) = &mut a.0.kind {
                    r.ranges = Some(
                        ranges
                            .iter()
                            .map(|(k, f, t)| es_api::types::aggregations::AggregationRange {
                                from: f.map(Some),
                                to: t.map(Some),
                                key: Some(k.clone()),
                            })
                            .collect(),
                    );
                }
                a
            }
            Facet::Histogram { field, interval } => {
                let mut a = Agg::histogram(field.clone(), *interval);
                if let es_api::types::aggregations::AggregationKind::Histogram(h) = &mut a.0.kind {
                    h.min_doc_count = Some(1);
                }
                a
            }
            Facet::DateHistogram { field, interval } => {
                let mut a = Agg::date_histogram(field.clone(), *interval);
                if let es_api::types::aggregations::AggregationKind::DateHistogram(h) =
                    &mut a.0.kind
                {
                    h.min_doc_count = Some(1);
                }
                a
            }
            Facet::Nested { path, inner } => Agg::nested(path.clone()).agg("inner", inner.agg()),
        }
    }

    /// The filter of one selected value.
    fn filter(&self, value: &Value) -> Result<Query, Error> {
        Ok(match self {
            Facet::Terms { field, .. } => Query::term(field.clone(), json_to_field_value(value)?),
            Facet::Range { field, ranges } => {
                let name = value.as_str().unwrap_or_default();
                let (_, from, to) = ranges.iter().find(|(k, _, _)| k == name).ok_or_else(|| {
                    Error::input(format!("no range named {value} in the facet on {field}"))
                })?;
                let mut r = Query::range(field.clone());
                if let Some(f) = from {
                    r = r.gte(*f);
                }
                if let Some(t) = to {
                    r = r.lt(*t);
                }
                r.into()
            }
            Facet::Histogram { field, interval } => {
                let v = value.as_f64().ok_or_else(|| {
                    Error::input(format!("a histogram facet value is a number, not {value}"))
                })?;
                Query::range(field.clone()).gte(v).lt(v + interval).into()
            }
            Facet::DateHistogram { field, interval } => {
                let v = value.as_i64().ok_or_else(|| {
                    Error::input(format!(
                        "a date histogram facet value is epoch millis, not {value}"
                    ))
                })?;
                let unit = match interval {
                    CalendarInterval::Second => "1s",
                    CalendarInterval::Minute => "1m",
                    CalendarInterval::Hour => "1h",
                    CalendarInterval::Day => "1d",
                    CalendarInterval::Week => "1w",
                    CalendarInterval::Month => "1M",
                    CalendarInterval::Quarter => "3M",
                    CalendarInterval::Year => "1y",
                };
                Query::range(field.clone())
                    .gte(v)
                    .lt(format!("{v}||+{unit}"))
                    .format("epoch_millis")
                    .into()
            }
            Facet::Nested { path, inner } => Query::nested(path.clone(), inner.filter(value)?),
        })
    }

    fn buckets<'a>(&self, aggs: Aggs<'a>, name: &str) -> Result<Vec<Bucket<'a>>, Error> {
        match self {
            Facet::Terms { .. } => aggs.terms(name),
            Facet::Range { .. } => aggs.range(name),
            Facet::Histogram { .. } | Facet::DateHistogram { .. } => aggs.histogram(name),
            Facet::Nested { inner, .. } => inner.buckets(aggs.single(name)?.aggs(), "inner"),
        }
    }
}

fn json_to_field_value(v: &Value) -> Result<es_api::types::common::FieldValue, Error> {
    serde_json::from_value(v.clone()).map_err(|e| Error::invalid("a facet value", e))
}

/// One value of a facet with its count, and whether it is selected.
#[derive(Debug, Clone, PartialEq)]
pub struct FacetValue {
    /// The value (a term, a range's name, a histogram key); select it with this.
    pub value: Value,
    /// The value as the server formats it (`"true"` for a boolean's `1`, a date), if it does.
    pub label: Option<String>,
    /// Documents with it (counted with the other facets' selections applied).
    pub count: i64,
    /// Whether it is one of the selected values.
    pub selected: bool,
}

/// A faceted search: a text query over some fields, facets counted for navigation, and
/// selected facet values narrowing the hits (values of one facet are ORed, facets ANDed).
///
/// ```
/// use es_dsl::{Facet, FacetedSearch};
/// let fs: FacetedSearch = FacetedSearch::new("posts", ["title", "body"])
///     .facet("tags", Facet::terms("tags", 10))
///     .query("rust")
///     .select("tags", "async");
/// let body = fs.search().unwrap().to_json();
/// assert_eq!(body["post_filter"], serde_json::json!({"term": {"tags": {"value": "async"}}}));
/// // The tags facet counts without its own selection; other facets would count with it.
/// assert_eq!(body["aggregations"]["_filter_tags"]["filter"], serde_json::json!({"match_all": {}}));
/// ```
#[derive(Debug, Clone)]
pub struct FacetedSearch<T = Value> {
    base: Search<T>,
    fields: Vec<String>,
    text: Option<String>,
    facets: IndexMap<String, Facet>,
    selected: IndexMap<String, Vec<Value>>,
}

impl<T> FacetedSearch<T> {
    /// A faceted search of `index`, the text query over `fields` (`"title^2"` boosts).
    pub fn new<F: Into<String>>(
        index: impl Into<String>,
        fields: impl IntoIterator<Item = F>,
    ) -> Self {
        FacetedSearch {
            base: Search::new().index(index),
            fields: fields.into_iter().map(Into::into).collect(),
            text: None,
            facets: IndexMap::new(),
            selected: IndexMap::new(),
        }
    }

    /// The search the facets are added to (sort, size, a fixed filter…).
    pub fn with_search(mut self, f: impl FnOnce(Search<T>) -> Search<T>) -> Self {
        self.base = f(self.base);
        self
    }

    /// Adds a facet.
    pub fn facet(mut self, name: impl Into<String>, facet: Facet) -> Self {
        self.facets.insert(name.into(), facet);
        self
    }

    /// The text query (`multi_match` over the fields).
    pub fn query(mut self, text: impl Into<String>) -> Self {
        self.text = Some(text.into());
        self
    }

    /// Selects a value of a facet (a term, a range's name, a histogram key).
    pub fn select(mut self, facet: impl Into<String>, value: impl Into<Value>) -> Self {
        self.selected
            .entry(facet.into())
            .or_default()
            .push(value.into());
        self
    }

    /// The filter of one facet's selection (its values ORed), if any.
    fn facet_filter(&self, name: &str) -> Result<Option<Query>, Error> {
        let Some(values) = self.selected.get(name) else {
            return Ok(None);
        };
        let facet = self
            .facets
            .get(name)
            .ok_or_else(|| Error::input(format!("a selection of {name:?}, which is no facet")))?;
        let mut q: Option<Query> = None;
        for v in values {
            let f = facet.filter(v)?;
            q = Some(match q {
                Some(cur) => cur | f,
                None => f,
            });
        }
        Ok(q)
    }

    /// The search it sends. Its hits are the selection (the selected values are its post
    /// filter), and so are the documents `search()?.delete(..)` deletes and
    /// `search()?.scan(..)` yields: both carry the post filter.
    pub fn search(&self) -> Result<Search<T>, Error> {
        for name in self.selected.keys() {
            if !self.facets.contains_key(name) {
                return Err(Error::input(format!(
                    "a selection of {name:?}, which is no facet"
                )));
            }
        }
        let mut s = self.base.clone();
        if let Some(text) = &self.text {
            s = s.query(Query::multi_match(text.clone(), self.fields.clone()));
        }
        let mut all: Option<Query> = None;
        for name in self.facets.keys() {
            if let Some(f) = self.facet_filter(name)? {
                all = Some(match all {
                    Some(cur) => cur & f,
                    None => f,
                });
            }
        }
        if let Some(f) = all {
            s = s.post_filter(f);
        }
        for (name, facet) in &self.facets {
            // Every other facet's selection applies to this facet's counts.
            let mut others = Query::match_all();
            for other in self.facets.keys().filter(|o| *o != name) {
                if let Some(f) = self.facet_filter(other)? {
                    others = others & f;
                }
            }
            s = s.agg(
                format!("_filter_{name}"),
                Agg::filter(others).agg(name.clone(), facet.agg()),
            );
        }
        Ok(s)
    }

    /// Runs it: the hits as `T` and each facet's values.
    pub async fn execute(&self, client: &Client) -> Result<FacetedResults<T>, Error>
    where
        T: DeserializeOwned,
    {
        let results = self.search()?.execute(client).await?;
        let mut facets = IndexMap::new();
        for (name, facet) in &self.facets {
            let outer = results.aggs().single(&format!("_filter_{name}"))?;
            let selected = self.selected.get(name);
            let values = facet
                .buckets(outer.aggs(), name)?
                .into_iter()
                .map(|b| FacetValue {
                    selected: selected.is_some_and(|s| s.iter().any(|v| same_value(v, &b.key))),
                    label: b.key_as_string.map(String::from),
                    value: b.key,
                    count: b.doc_count,
                })
                .collect();
            facets.insert(name.clone(), values);
        }
        Ok(FacetedResults { results, facets })
    }
}

fn same_value(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

/// What a [`FacetedSearch`] found.
#[derive(Debug, Clone)]
pub struct FacetedResults<T> {
    /// The hits (narrowed by the selection).
    pub results: SearchResults<T>,
    /// Each facet's values, by facet name.
    pub facets: IndexMap<String, Vec<FacetValue>>,
}
