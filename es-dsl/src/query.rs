//! Queries: [`Query`], its constructors (elasticsearch-dsl's `Q()`), and the `&`, `|`, `!`
//! operators with elasticsearch-dsl's merging rules.

use std::ops::{BitAnd, BitOr, Not};

use es_api::types::OneOrMany;
use es_api::types::SingleKey;
use es_api::types::common::{FieldValue, MinimumShouldMatch};
use es_api::types::query_dsl::{
    BoolQuery, ExistsQuery, IdsQuery, MatchAllQuery, MatchNoneQuery, MatchPhraseQuery, MatchQuery,
    MultiMatchQuery, NestedQuery, PrefixQuery, QueryContainer, QueryStringQuery, RangeQuery,
    RegexpQuery, SimpleQueryStringQuery, TermQuery, TermsQuery, TermsQueryField, UntypedRangeQuery,
    WildcardQuery,
};
use serde::{Deserialize, Serialize};

use crate::Error;

/// A query: any of the specification's query kinds ([`QueryContainer`]), with
/// constructors for the common ones and the `&` (and), `|` (or) and `!` (not) operators.
///
/// Every generated query type converts into a `Query` (`Query::from(MatchAllQuery::default())`),
/// and [`Query::raw`] takes any JSON the server accepts (a plugin's query included).
///
/// ```
/// use es_dsl::Query;
///
/// let q = Query::match_("title", "rust") & Query::term("status", "published")
///     & !Query::term("tags", "draft");
/// assert_eq!(
///     serde_json::to_value(&q).unwrap(),
///     serde_json::json!({"bool": {
///         "must": [
///             {"match": {"title": {"query": "rust"}}},
///             {"term": {"status": {"value": "published"}}}
///         ],
///         "must_not": [{"term": {"tags": {"value": "draft"}}}]
///     }})
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Query(pub QueryContainer);

impl<T: Into<QueryContainer>> From<T> for Query {
    fn from(q: T) -> Self {
        Query(q.into())
    }
}

impl Query {
    /// The specification's query value.
    pub fn into_container(self) -> QueryContainer {
        self.0
    }

    /// Any query as JSON (`{"match": {"title": "rust"}}`); a kind this client does not know
    /// is kept as raw JSON. Fails when the JSON is not a query.
    ///
    /// ```
    /// let q = es_dsl::Query::raw(serde_json::json!({"match": {"title": "rust"}})).unwrap();
    /// assert_eq!(q, es_dsl::Query::match_("title", "rust"));
    /// assert!(es_dsl::Query::raw(serde_json::json!({"match": 1, "term": 2})).is_err());
    /// ```
    pub fn raw(json: serde_json::Value) -> Result<Query, Error> {
        serde_json::from_value(json).map_err(|e| Error::invalid("a query", e))
    }

    /// `match_all`.
    pub fn match_all() -> Query {
        MatchAllQuery::default().into()
    }

    /// `match_none`.
    pub fn match_none() -> Query {
        MatchNoneQuery::default().into()
    }

    /// `match`: full-text search of `field` for `text`.
    pub fn match_(
        field: impl Into<String>,
        text: impl Into<es_api::types::query_dsl::MatchQueryQuery>,
    ) -> Query {
        QueryContainer::Match(SingleKey::new(field, MatchQuery::new(text))).into()
    }

    /// `match_phrase`.
    pub fn match_phrase(field: impl Into<String>, text: impl Into<String>) -> Query {
        QueryContainer::MatchPhrase(SingleKey::new(field, MatchPhraseQuery::new(text))).into()
    }

    /// `multi_match` of `text` over `fields` (`["title^2", "body"]`).
    pub fn multi_match<F: Into<String>>(
        text: impl Into<String>,
        fields: impl IntoIterator<Item = F>,
    ) -> Query {
        let mut q = MultiMatchQuery::new(text);
        q.fields = Some(OneOrMany::Many(
            fields.into_iter().map(Into::into).collect(),
        ));
        q.into()
    }

    /// `term`: an exact value of `field`.
    pub fn term(field: impl Into<String>, value: impl Into<FieldValue>) -> Query {
        QueryContainer::Term(SingleKey::new(field, TermQuery::new(value))).into()
    }

    /// `terms`: any of `values` in `field`.
    pub fn terms<V: Into<FieldValue>>(
        field: impl Into<String>,
        values: impl IntoIterator<Item = V>,
    ) -> Query {
        let values: Vec<FieldValue> = values.into_iter().map(Into::into).collect();
        TermsQuery::new(field, TermsQueryField::from(values)).into()
    }

    /// `range` of `field`: bounds are set on the returned [`Range`].
    ///
    /// ```
    /// let q: es_dsl::Query = es_dsl::Query::range("price").gte(10).lt(20).into();
    /// assert_eq!(
    ///     serde_json::to_value(&q).unwrap(),
    ///     serde_json::json!({"range": {"price": {"gte": 10, "lt": 20}}})
    /// );
    /// ```
    pub fn range(field: impl Into<String>) -> Range {
        Range {
            field: field.into(),
            q: UntypedRangeQuery::default(),
        }
    }

    /// `exists`: documents with a value in `field`.
    pub fn exists(field: impl Into<String>) -> Query {
        ExistsQuery::new(field).into()
    }

    /// `ids`: documents with these ids.
    pub fn ids<I: Into<String>>(ids: impl IntoIterator<Item = I>) -> Query {
        let ids: Vec<String> = ids.into_iter().map(Into::into).collect();
        IdsQuery {
            values: Some(OneOrMany::Many(ids)),
            ..Default::default()
        }
        .into()
    }

    /// `prefix`.
    pub fn prefix(field: impl Into<String>, value: impl Into<String>) -> Query {
        QueryContainer::Prefix(SingleKey::new(field, PrefixQuery::new(value))).into()
    }

    /// `wildcard` (`*` and `?` patterns).
    pub fn wildcard(field: impl Into<String>, pattern: impl Into<String>) -> Query {
        let q = WildcardQuery {
            value: Some(pattern.into()),
            boost: None,
            query_name: None,
            case_insensitive: None,
            rewrite: None,
            wildcard: None,
        };
        QueryContainer::Wildcard(SingleKey::new(field, q)).into()
    }

    /// `regexp`.
    pub fn regexp(field: impl Into<String>, pattern: impl Into<String>) -> Query {
        QueryContainer::Regexp(SingleKey::new(field, RegexpQuery::new(pattern))).into()
    }

    /// `query_string` (Lucene syntax).
    pub fn query_string(query: impl Into<String>) -> Query {
        QueryStringQuery::new(query).into()
    }

    /// `simple_query_string`.
    pub fn simple_query_string(query: impl Into<String>) -> Query {
        SimpleQueryStringQuery::new(query).into()
    }

    /// `nested`: `query` over the objects of `path`.
    pub fn nested(path: impl Into<String>, query: impl Into<Query>) -> Query {
        NestedQuery::new(path, query.into().0).into()
    }

    /// `bool`: clauses are added on the returned [`Bool`].
    ///
    /// ```
    /// use es_dsl::Query;
    /// let q: Query = Query::bool()
    ///     .must(Query::match_("title", "rust"))
    ///     .filter(Query::term("status", "published"))
    ///     .should(Query::term("tags", "async"))
    ///     .minimum_should_match(0)
    ///     .into();
    /// ```
    pub fn bool() -> Bool {
        Bool::default()
    }

    /// `knn`: approximate nearest neighbours of `vector` in `field`.
    pub fn knn(field: impl Into<String>, vector: Vec<f32>, k: i32, num_candidates: i32) -> Query {
        let mut q = es_api::types::common::KnnQuery::new(field);
        q.query_vector = Some(vector.into_iter().map(f64::from).collect());
        q.k = Some(k);
        q.num_candidates = Some(num_candidates);
        QueryContainer::Knn(Box::new(q)).into()
    }

    /// `function_score` around `query`, with `functions` (see
    /// [`es_api::types::query_dsl::FunctionScoreContainer`]).
    pub fn function_score(
        query: impl Into<Query>,
        functions: Vec<es_api::types::query_dsl::FunctionScoreContainer>,
    ) -> Query {
        let q = es_api::types::query_dsl::FunctionScoreQuery {
            query: Some(Box::new(query.into().0)),
            functions: Some(functions),
            ..Default::default()
        };
        q.into()
    }

    /// `constant_score`: `filter` with a constant score of `boost`.
    pub fn constant_score(filter: impl Into<Query>, boost: f64) -> Query {
        let mut q = es_api::types::query_dsl::ConstantScoreQuery::new(filter.into().0);
        q.boost = Some(boost);
        q.into()
    }

    /// The query's `bool`, if it is one whose every setting the merging rules account for
    /// (no `boost` or `_name`: those would be dropped by a merge, so such a bool is nested
    /// instead). A look by reference: nothing is copied.
    fn mergeable_bool(&self) -> Option<&BoolQuery> {
        match &self.0 {
            QueryContainer::Bool(b) if b.boost.is_none() && b.query_name.is_none() => Some(b),
            _ => None,
        }
    }

    /// Whether the merging rules can take this query apart as a `bool` (see
    /// [`Query::take_clauses`]).
    fn is_mergeable_bool(&self) -> bool {
        self.mergeable_bool().is_some()
    }

    /// A mergeable `bool` with only `should` clauses (and no `minimum_should_match`): `|`
    /// extends it.
    fn is_should_only(&self) -> bool {
        self.mergeable_bool().is_some_and(|b| {
            len(&b.must) == 0
                && len(&b.must_not) == 0
                && len(&b.filter) == 0
                && b.minimum_should_match.is_none()
        })
    }

    /// The clauses of a mergeable `bool`, moved out with `Option::take` (no clause is
    /// copied; the emptied bool is then dropped by the caller); `None`, the query untouched,
    /// when it is not one.
    fn take_clauses(&mut self) -> Option<Clauses> {
        match &mut self.0 {
            QueryContainer::Bool(b) if b.boost.is_none() && b.query_name.is_none() => {
                Some(Clauses {
                    must: list(b.must.take()),
                    filter: list(b.filter.take()),
                    should: list(b.should.take()),
                    must_not: list(b.must_not.take()),
                    msm: b.minimum_should_match.take(),
                })
            }
            _ => None,
        }
    }

    fn is_match_all(&self) -> bool {
        matches!(&self.0, QueryContainer::MatchAll(m) if m.boost.is_none() && m.query_name.is_none())
    }

    fn is_match_none(&self) -> bool {
        matches!(&self.0, QueryContainer::MatchNone(m) if m.boost.is_none() && m.query_name.is_none())
    }
}

/// The clauses of a `bool`, as lists.
#[derive(Debug, Default)]
struct Clauses {
    must: Vec<QueryContainer>,
    filter: Vec<QueryContainer>,
    should: Vec<QueryContainer>,
    must_not: Vec<QueryContainer>,
    msm: Option<MinimumShouldMatch>,
}

fn len(o: &Option<Box<OneOrMany<QueryContainer>>>) -> usize {
    o.as_ref().map_or(0, |b| b.len())
}

/// The list, moved out.
fn list(o: Option<Box<OneOrMany<QueryContainer>>>) -> Vec<QueryContainer> {
    o.map(|b| b.into_vec()).unwrap_or_default()
}

fn opt(v: Vec<QueryContainer>) -> Option<Box<OneOrMany<QueryContainer>>> {
    if v.is_empty() {
        None
    } else {
        Some(Box::new(OneOrMany::Many(v)))
    }
}

/// elasticsearch-dsl's `_min_should_match`: the explicit value, else 0 when `should` is
/// empty or a `must`/`filter` is present, else 1. `None` for a non-integer value (such as
/// `"75%"`), which the merging rules cannot reason about.
fn min_should_match(
    msm: Option<&MinimumShouldMatch>,
    should: usize,
    must: usize,
    filter: usize,
) -> Option<i64> {
    match msm {
        Some(MinimumShouldMatch::Integer(n)) => Some(i64::from(*n)),
        Some(_) => None,
        None if should == 0 || must > 0 || filter > 0 => Some(0),
        None => Some(1),
    }
}

/// [`min_should_match`] of a `bool`, by reference.
fn bool_min_should_match(b: &BoolQuery) -> Option<i64> {
    min_should_match(
        b.minimum_should_match.as_ref(),
        len(&b.should),
        len(&b.must),
        len(&b.filter),
    )
}

impl Clauses {
    fn min_should_match(&self) -> Option<i64> {
        min_should_match(
            self.msm.as_ref(),
            self.should.len(),
            self.must.len(),
            self.filter.len(),
        )
    }

    fn into_query(self) -> Query {
        QueryContainer::Bool(Box::new(BoolQuery {
            must: opt(self.must),
            filter: opt(self.filter),
            should: opt(self.should),
            must_not: opt(self.must_not),
            minimum_should_match: self.msm,
            boost: None,
            query_name: None,
        }))
        .into()
    }
}

fn bool_of(
    must: Vec<QueryContainer>,
    should: Vec<QueryContainer>,
    must_not: Vec<QueryContainer>,
) -> Query {
    Clauses {
        must,
        should,
        must_not,
        ..Clauses::default()
    }
    .into_query()
}

/// `a & b` of a mergeable bool `q` and any query `other` (elasticsearch-dsl's `Bool.__and__`).
///
/// Clauses are moved, never copied: adding n clauses one at a time (`Search::filter` in a
/// loop, `a & b & c …`) costs O(n) in all.
fn and_bool(mut q: Clauses, mut other: Query) -> Query {
    let Some(ob) = other.mergeable_bool() else {
        if q.must.is_empty() && q.filter.is_empty() && !q.should.is_empty() && q.msm.is_none() {
            q.msm = Some(MinimumShouldMatch::Integer(1));
        }
        q.must.push(other.0);
        return q.into_query();
    };
    let (Some(m1), Some(m2)) = (q.min_should_match(), bool_min_should_match(ob)) else {
        // A percentage `minimum_should_match`: nest rather than guess.
        return bool_of(vec![q.into_query().0, other.0], vec![], vec![]);
    };
    let Some(mut o) = other.take_clauses() else {
        // Checked mergeable above.
        return bool_of(vec![q.into_query().0, other.0], vec![], vec![]);
    };
    let mine_should = std::mem::take(&mut q.should);
    let other_should = std::mem::take(&mut o.should);
    q.must.append(&mut o.must);
    q.must_not.append(&mut o.must_not);
    q.filter.append(&mut o.filter);
    q.msm = None;
    for (should, min) in [(mine_should, m1), (other_should, m2)] {
        if should.len() as i64 <= min {
            // Every should clause is required.
            q.must.extend(should);
        } else if q.should.is_empty() {
            q.msm = Some(MinimumShouldMatch::Integer(min as i32));
            q.should = should;
        } else if q.min_should_match() == Some(0) && min == 0 {
            q.should.extend(should);
        } else {
            let inner = Clauses {
                should,
                msm: Some(MinimumShouldMatch::Integer(min as i32)),
                ..Clauses::default()
            };
            q.must.push(inner.into_query().0);
        }
    }
    q.into_query()
}

impl<R: Into<Query>> BitAnd<R> for Query {
    type Output = Query;

    /// Both queries must match. Merges as elasticsearch-dsl does (the left operand decides
    /// first, as Python's `__and__` before `__rand__`): `match_all` gives the other query,
    /// `match_none` absorbs, two bools merge their clauses (with `minimum_should_match`
    /// kept), a bool takes the other query as one more `must`. Clauses are moved, not
    /// copied, so a chain of n `&` is linear in n.
    fn bitand(mut self, other: R) -> Query {
        let mut other = other.into();
        if self.is_match_all() {
            return other;
        }
        if self.is_match_none() {
            return self;
        }
        if let Some(q) = self.take_clauses() {
            return and_bool(q, other);
        }
        if other.is_match_all() {
            return self;
        }
        if other.is_match_none() {
            return other;
        }
        match other.take_clauses() {
            Some(q) => and_bool(q, self),
            None => bool_of(vec![self.0, other.0], vec![], vec![]),
        }
    }
}

/// `a | b` of a bool `a` and any query (elasticsearch-dsl's `Bool.__or__`): a should-only
/// bool (either one, the left first) takes the other query, or the other's should clauses,
/// as more should clauses (moved, not copied).
fn or_bool(this: Query, other: Query) -> Query {
    let (mut base, mut rest) = if this.is_should_only() {
        (this, other)
    } else if other.is_should_only() {
        (other, this)
    } else {
        return bool_of(vec![], vec![this.0, other.0], vec![]);
    };
    let Some(mut c) = base.take_clauses() else {
        // Checked mergeable above.
        return bool_of(vec![], vec![base.0, rest.0], vec![]);
    };
    if rest.is_should_only()
        && let Some(mut r) = rest.take_clauses()
    {
        c.should.append(&mut r.should);
    } else {
        c.should.push(rest.0);
    }
    c.into_query()
}

impl<R: Into<Query>> BitOr<R> for Query {
    type Output = Query;

    /// Either query matches. `match_all` absorbs, `match_none` gives the other query, and a
    /// bool of only `should` clauses takes the other query (or the other's should clauses) as
    /// more `should` clauses; the left operand decides first, as in elasticsearch-dsl.
    fn bitor(self, other: R) -> Query {
        let other = other.into();
        if self.is_match_all() {
            return self;
        }
        if self.is_match_none() {
            return other;
        }
        if self.is_mergeable_bool() {
            return or_bool(self, other);
        }
        if other.is_match_all() {
            return other;
        }
        if other.is_match_none() {
            return self;
        }
        if other.is_mergeable_bool() {
            return or_bool(other, self);
        }
        bool_of(vec![], vec![self.0, other.0], vec![])
    }
}

impl Not for Query {
    type Output = Query;

    /// The query must not match: `!match_all` is `match_none` (and back), a bool is negated
    /// clause by clause (De Morgan), a bool of one `must_not` unwraps, anything else becomes
    /// `bool.must_not`.
    fn not(self) -> Query {
        if self.is_match_all() {
            return Query::match_none();
        }
        if self.is_match_none() {
            return Query::match_all();
        }
        let Some(b) = self.mergeable_bool() else {
            return bool_of(vec![], vec![], vec![self.0]);
        };
        if len(&b.must) == 0 && len(&b.filter) == 0 && len(&b.should) == 0 && len(&b.must_not) == 0
        {
            return Query::match_none();
        }
        let Some(min) = bool_min_should_match(b) else {
            return bool_of(vec![], vec![], vec![self.0]);
        };
        let mut this = self;
        let Some(c) = this.take_clauses() else {
            // Checked mergeable above.
            return bool_of(vec![], vec![], vec![this.0]);
        };
        let mut negations: Vec<QueryContainer> = Vec::new();
        for q in c.must.into_iter().chain(c.filter) {
            negations.push((!Query(q)).0);
        }
        negations.extend(c.must_not);
        if !c.should.is_empty() && min > 0 {
            negations.push(bool_of(vec![], vec![], c.should).0);
        }
        if negations.len() == 1
            && let Some(only) = negations.pop()
        {
            return Query(only);
        }
        bool_of(vec![], negations, vec![])
    }
}

/// A `bool` query being built ([`Query::bool`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Bool(BoolQuery);

fn push(slot: &mut Option<Box<OneOrMany<QueryContainer>>>, q: QueryContainer) {
    match slot {
        Some(list) => list.push(q),
        None => *slot = Some(Box::new(OneOrMany::Many(vec![q]))),
    }
}

impl Bool {
    /// A clause that must match (and scores).
    pub fn must(mut self, q: impl Into<Query>) -> Self {
        push(&mut self.0.must, q.into().0);
        self
    }

    /// A clause that must match, in filter context (no score, cacheable).
    pub fn filter(mut self, q: impl Into<Query>) -> Self {
        push(&mut self.0.filter, q.into().0);
        self
    }

    /// A clause that should match.
    pub fn should(mut self, q: impl Into<Query>) -> Self {
        push(&mut self.0.should, q.into().0);
        self
    }

    /// A clause that must not match.
    pub fn must_not(mut self, q: impl Into<Query>) -> Self {
        push(&mut self.0.must_not, q.into().0);
        self
    }

    /// How many `should` clauses must match (`2`, `"75%"`).
    pub fn minimum_should_match(mut self, m: impl Into<MinimumShouldMatch>) -> Self {
        self.0.minimum_should_match = Some(m.into());
        self
    }

    /// The query's boost.
    pub fn boost(mut self, boost: f64) -> Self {
        self.0.boost = Some(boost);
        self
    }

    /// The query's name (`_name`), reported in `matched_queries`.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.0.query_name = Some(name.into());
        self
    }
}

impl From<Bool> for Query {
    fn from(b: Bool) -> Query {
        QueryContainer::Bool(Box::new(b.0)).into()
    }
}

/// A `range` query being built ([`Query::range`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Range {
    field: String,
    q: UntypedRangeQuery,
}

impl Range {
    /// `>= v` (a number, a date or date math such as `"now-1d/d"`, a string).
    pub fn gte(mut self, v: impl Into<serde_json::Value>) -> Self {
        self.q.gte = Some(v.into());
        self
    }

    /// `> v`.
    pub fn gt(mut self, v: impl Into<serde_json::Value>) -> Self {
        self.q.gt = Some(v.into());
        self
    }

    /// `<= v`.
    pub fn lte(mut self, v: impl Into<serde_json::Value>) -> Self {
        self.q.lte = Some(v.into());
        self
    }

    /// `< v`.
    pub fn lt(mut self, v: impl Into<serde_json::Value>) -> Self {
        self.q.lt = Some(v.into());
        self
    }

    /// The date format of the bounds.
    pub fn format(mut self, f: impl Into<String>) -> Self {
        self.q.format = Some(f.into());
        self
    }

    /// The time zone of date bounds (`"+01:00"`, `"Europe/Paris"`).
    pub fn time_zone(mut self, tz: impl Into<String>) -> Self {
        self.q.time_zone = Some(tz.into());
        self
    }

    /// The query's boost.
    pub fn boost(mut self, boost: f64) -> Self {
        self.q.boost = Some(boost);
        self
    }
}

impl From<Range> for Query {
    fn from(r: Range) -> Query {
        QueryContainer::Range(SingleKey::new(r.field, RangeQuery::from(r.q))).into()
    }
}
