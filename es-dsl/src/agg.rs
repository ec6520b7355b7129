//! Aggregations: [`Agg`] and its constructors (elasticsearch-dsl's `A()`), with
//! sub-aggregations by name and pipeline aggregations by bucket path.

use es_api::types::SingleKey;
use es_api::types::aggregations::{
    AggregationContainer, AggregationKind, AverageAggregation, AverageBucketAggregation,
    BucketScriptAggregation, BucketSelectorAggregation, BucketsPath, CalendarInterval,
    CardinalityAggregation, CumulativeSumAggregation, DateHistogramAggregation,
    DerivativeAggregation, ExtendedStatsAggregation, FiltersAggregation, HistogramAggregation,
    MaxAggregation, MaxBucketAggregation, MinAggregation, MinBucketAggregation, NestedAggregation,
    PercentilesAggregation, StatsAggregation, SumAggregation, SumBucketAggregation,
    TermsAggregation, TopHitsAggregation, ValueCountAggregation,
};
use es_api::types::common::{Script, SortOrder};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::{Error, Query};

/// An aggregation: any of the specification's aggregation kinds with its sub-aggregations
/// ([`AggregationContainer`]).
///
/// ```
/// use es_dsl::Agg;
///
/// let a: Agg = Agg::terms("tags").size(10).agg("avg_price", Agg::avg("price")).into();
/// assert_eq!(
///     serde_json::to_value(&a).unwrap(),
///     serde_json::json!({
///         "terms": {"field": "tags", "size": 10},
///         "aggs": {"avg_price": {"avg": {"field": "price"}}}
///     })
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Agg(pub AggregationContainer);

impl<T: Into<AggregationKind>> From<T> for Agg {
    fn from(kind: T) -> Self {
        Agg(AggregationContainer {
            kind: kind.into(),
            aggregations: None,
            meta: None,
        })
    }
}

impl Agg {
    /// The specification's value.
    pub fn into_container(self) -> AggregationContainer {
        self.0
    }

    /// An aggregation from the specification's value.
    pub fn from_container(c: AggregationContainer) -> Agg {
        Agg(c)
    }

    /// Any aggregation as JSON (`{"terms": {"field": "tags"}}`); a kind this client does not
    /// know is kept as raw JSON. Fails when the JSON is not an aggregation.
    pub fn raw(json: serde_json::Value) -> Result<Agg, Error> {
        serde_json::from_value(json).map_err(|e| Error::invalid("an aggregation", e))
    }

    /// Adds a sub-aggregation under `name`.
    pub fn agg(mut self, name: impl Into<String>, sub: impl Into<Agg>) -> Agg {
        self.0
            .aggregations
            .get_or_insert_with(IndexMap::new)
            .insert(name.into(), sub.into().0);
        self
    }

    /// Metadata returned with the result (`meta`).
    pub fn meta(mut self, key: impl Into<String>, value: impl Into<serde_json::Value>) -> Agg {
        self.0
            .meta
            .get_or_insert_with(IndexMap::new)
            .insert(key.into(), value.into());
        self
    }

    /// The sub-aggregations by name.
    pub fn sub_aggs(&self) -> Option<&IndexMap<String, AggregationContainer>> {
        self.0.aggregations.as_ref()
    }

    /// `terms`: a bucket per value of `field` (options on the returned [`Terms`]).
    pub fn terms(field: impl Into<String>) -> Terms {
        Terms {
            terms: TermsAggregation {
                field: Some(field.into()),
                ..Default::default()
            },
            subs: Agg::from(TermsAggregation::default()),
        }
    }

    /// `date_histogram` of `field` by a calendar interval (`month`, `1d`, …).
    pub fn date_histogram(field: impl Into<String>, interval: CalendarInterval) -> Agg {
        DateHistogramAggregation {
            field: Some(field.into()),
            calendar_interval: Some(interval),
            ..Default::default()
        }
        .into()
    }

    /// `date_histogram` of `field` by a fixed interval (`"90m"`, `"1d"`).
    pub fn date_histogram_fixed(field: impl Into<String>, interval: impl Into<String>) -> Agg {
        DateHistogramAggregation {
            field: Some(field.into()),
            fixed_interval: Some(interval.into().into()),
            ..Default::default()
        }
        .into()
    }

    /// `histogram` of `field` with buckets `interval` wide.
    pub fn histogram(field: impl Into<String>, interval: f64) -> Agg {
        HistogramAggregation {
            field: Some(field.into()),
            interval: Some(interval),
            ..Default::default()
        }
        .into()
    }

    /// `range` of `field`: a bucket per `(from, to)` (either end open with `None`; `from` is
    /// included, `to` excluded).
    ///
    /// ```
    /// let a = es_dsl::Agg::range("price", &[(None, Some(100.0)), (Some(100.0), None)]);
    /// assert_eq!(
    ///     serde_json::to_value(&a).unwrap(),
    ///     serde_json::json!({"range": {"field": "price", "ranges": [{"to": 100.0}, {"from": 100.0}]}})
    /// );
    /// ```
    pub fn range(field: impl Into<String>, ranges: &[(Option<f64>, Option<f64>)]) -> Agg {
        let ranges = ranges
            .iter()
            .map(|(from, to)| es_api::types::aggregations::AggregationRange {
                from: from.map(Some),
                to: to.map(Some),
                key: None,
            })
            .collect();
        es_api::types::aggregations::RangeAggregation {
            field: Some(field.into()),
            ranges: Some(ranges),
            ..Default::default()
        }
        .into()
    }

    /// `composite` of terms sources (`[("tag", "tags"), ("status", "status")]`), `size`
    /// buckets a page; the next page is [`Agg::composite_after`] with the result's
    /// `after_key`.
    pub fn composite_terms<N: Into<String>, F: Into<String>>(
        sources: impl IntoIterator<Item = (N, F)>,
        size: i32,
    ) -> Agg {
        let sources = sources
            .into_iter()
            .map(|(n, f)| {
                let terms = es_api::types::aggregations::CompositeTermsAggregation {
                    field: Some(f.into()),
                    ..Default::default()
                };
                SingleKey::new(n, terms)
            })
            .collect();
        es_api::types::aggregations::CompositeAggregation {
            sources: Some(sources),
            size: Some(size),
            after: None,
        }
        .into()
    }

    /// The `after` of a `composite` aggregation (the previous page's `after_key`). Fails on
    /// another kind, or when `after_key` is not an object of source values.
    pub fn composite_after(mut self, after_key: serde_json::Value) -> Result<Agg, Error> {
        let after = serde_json::from_value(after_key)
            .map_err(|e| Error::invalid("a composite after_key", e))?;
        match &mut self.0.kind {
            AggregationKind::Composite(c) => {
                c.after = Some(after);
                Ok(self)
            }
            other => Err(Error::input(format!(
                "`after` is a composite aggregation's, not {:?}'s",
                other.kind_name()
            ))),
        }
    }

    /// `filter`: one bucket of the documents matching `query`.
    pub fn filter(query: impl Into<Query>) -> Agg {
        AggregationKind::Filter(query.into().0).into()
    }

    /// `filters`: one bucket per named query.
    pub fn filters<N: Into<String>, Q: Into<Query>>(
        named: impl IntoIterator<Item = (N, Q)>,
    ) -> Agg {
        let map: IndexMap<String, es_api::types::query_dsl::QueryContainer> = named
            .into_iter()
            .map(|(n, q)| (n.into(), q.into().0))
            .collect();
        FiltersAggregation {
            filters: Some(es_api::types::aggregations::Buckets::Map(map)),
            ..Default::default()
        }
        .into()
    }

    /// `nested`: sub-aggregations over the nested objects of `path`.
    pub fn nested(path: impl Into<String>) -> Agg {
        NestedAggregation {
            path: Some(path.into()),
        }
        .into()
    }

    /// `top_hits`: the `size` best documents of each bucket.
    pub fn top_hits(size: i32) -> Agg {
        TopHitsAggregation {
            size: Some(size),
            ..Default::default()
        }
        .into()
    }

    /// `top_hits`: the `size` first documents of each bucket by `sort`.
    pub fn top_hits_sorted(size: i32, sort: impl Into<crate::Sort>) -> Agg {
        TopHitsAggregation {
            size: Some(size),
            sort: Some(es_api::types::OneOrMany::Many(vec![sort.into().0])),
            ..Default::default()
        }
        .into()
    }

    /// `avg` of `field`.
    pub fn avg(field: impl Into<String>) -> Agg {
        AverageAggregation {
            field: Some(field.into()),
            ..Default::default()
        }
        .into()
    }

    /// `sum` of `field`.
    pub fn sum(field: impl Into<String>) -> Agg {
        SumAggregation {
            field: Some(field.into()),
            ..Default::default()
        }
        .into()
    }

    /// `min` of `field`.
    pub fn min(field: impl Into<String>) -> Agg {
        MinAggregation {
            field: Some(field.into()),
            ..Default::default()
        }
        .into()
    }

    /// `max` of `field`.
    pub fn max(field: impl Into<String>) -> Agg {
        MaxAggregation {
            field: Some(field.into()),
            ..Default::default()
        }
        .into()
    }

    /// `stats` of `field`.
    pub fn stats(field: impl Into<String>) -> Agg {
        StatsAggregation {
            field: Some(field.into()),
            ..Default::default()
        }
        .into()
    }

    /// `extended_stats` of `field`.
    pub fn extended_stats(field: impl Into<String>) -> Agg {
        ExtendedStatsAggregation {
            field: Some(field.into()),
            ..Default::default()
        }
        .into()
    }

    /// `cardinality` (approximate distinct count) of `field`.
    pub fn cardinality(field: impl Into<String>) -> Agg {
        CardinalityAggregation {
            field: Some(field.into()),
            ..Default::default()
        }
        .into()
    }

    /// `value_count` of `field`.
    pub fn value_count(field: impl Into<String>) -> Agg {
        ValueCountAggregation {
            field: Some(field.into()),
            ..Default::default()
        }
        .into()
    }

    /// `percentiles` of `field` (the server's default percents when `percents` is empty).
    pub fn percentiles(field: impl Into<String>, percents: &[f64]) -> Agg {
        PercentilesAggregation {
            field: Some(field.into()),
            percents: (!percents.is_empty()).then(|| percents.to_vec().into()),
            ..Default::default()
        }
        .into()
    }

    /// `avg_bucket`: the mean of the metric at `buckets_path` (`"sales_per_month>sales"`).
    pub fn avg_bucket(buckets_path: impl Into<String>) -> Agg {
        AverageBucketAggregation {
            buckets_path: Some(path(buckets_path)),
            ..Default::default()
        }
        .into()
    }

    /// `sum_bucket` over `buckets_path`.
    pub fn sum_bucket(buckets_path: impl Into<String>) -> Agg {
        SumBucketAggregation {
            buckets_path: Some(path(buckets_path)),
            ..Default::default()
        }
        .into()
    }

    /// `max_bucket` over `buckets_path`.
    pub fn max_bucket(buckets_path: impl Into<String>) -> Agg {
        MaxBucketAggregation {
            buckets_path: Some(path(buckets_path)),
            ..Default::default()
        }
        .into()
    }

    /// `min_bucket` over `buckets_path`.
    pub fn min_bucket(buckets_path: impl Into<String>) -> Agg {
        MinBucketAggregation {
            buckets_path: Some(path(buckets_path)),
            ..Default::default()
        }
        .into()
    }

    /// `derivative` of the metric at `buckets_path`.
    pub fn derivative(buckets_path: impl Into<String>) -> Agg {
        DerivativeAggregation {
            buckets_path: Some(path(buckets_path)),
            ..Default::default()
        }
        .into()
    }

    /// `cumulative_sum` of the metric at `buckets_path`.
    pub fn cumulative_sum(buckets_path: impl Into<String>) -> Agg {
        CumulativeSumAggregation {
            buckets_path: Some(path(buckets_path)),
            ..Default::default()
        }
        .into()
    }

    /// `bucket_script`: `script` over the named bucket paths (`{"total": "total_sales"}`).
    pub fn bucket_script<N: Into<String>, P: Into<String>>(
        paths: impl IntoIterator<Item = (N, P)>,
        script: impl Into<String>,
    ) -> Agg {
        BucketScriptAggregation {
            buckets_path: Some(named_paths(paths)),
            script: Some(inline_script(script)),
            ..Default::default()
        }
        .into()
    }

    /// `bucket_selector`: keeps the buckets for which `script` is true.
    pub fn bucket_selector<N: Into<String>, P: Into<String>>(
        paths: impl IntoIterator<Item = (N, P)>,
        script: impl Into<String>,
    ) -> Agg {
        BucketSelectorAggregation {
            buckets_path: Some(named_paths(paths)),
            script: Some(inline_script(script)),
            ..Default::default()
        }
        .into()
    }
}

fn path(p: impl Into<String>) -> BucketsPath {
    BucketsPath::String(p.into())
}

fn named_paths<N: Into<String>, P: Into<String>>(
    paths: impl IntoIterator<Item = (N, P)>,
) -> BucketsPath {
    BucketsPath::Map(
        paths
            .into_iter()
            .map(|(n, p)| (n.into(), p.into()))
            .collect(),
    )
}

fn inline_script(source: impl Into<String>) -> Script {
    crate::InlineScript::new(source).into()
}

/// A `terms` aggregation being built ([`Agg::terms`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Terms {
    terms: TermsAggregation,
    /// Holds the sub-aggregations and metadata.
    subs: Agg,
}

impl Terms {
    /// How many buckets (the top terms).
    pub fn size(mut self, n: i32) -> Self {
        self.terms.size = Some(n);
        self
    }

    /// Orders the buckets by a key (`"_count"`, `"_key"`, or a sub-aggregation's metric such
    /// as `"avg_price"`); repeated calls add tie-breakers.
    pub fn order(mut self, key: impl Into<String>, order: SortOrder) -> Self {
        let entry = SingleKey::new(key, order);
        match &mut self.terms.order {
            Some(o) => o.push(entry),
            None => self.terms.order = Some(entry.into()),
        }
        self
    }

    /// The least documents a bucket needs.
    pub fn min_doc_count(mut self, n: i32) -> Self {
        self.terms.min_doc_count = Some(n);
        self
    }

    /// Terms per shard (accuracy against cost).
    pub fn shard_size(mut self, n: i32) -> Self {
        self.terms.shard_size = Some(n);
        self
    }

    /// The value documents without the field are counted under.
    pub fn missing(mut self, v: impl Into<es_api::types::aggregations::Missing>) -> Self {
        self.terms.missing = Some(v.into());
        self
    }

    /// Adds a sub-aggregation under `name`.
    pub fn agg(mut self, name: impl Into<String>, sub: impl Into<Agg>) -> Self {
        self.subs = self.subs.agg(name, sub);
        self
    }

    /// The specification's value, to set what the builder has no method for.
    pub fn spec_mut(&mut self) -> &mut TermsAggregation {
        &mut self.terms
    }
}

impl From<Terms> for Agg {
    fn from(t: Terms) -> Agg {
        let mut agg = t.subs;
        agg.0.kind = AggregationKind::Terms(t.terms);
        agg
    }
}
