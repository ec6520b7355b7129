//! [`Search<T>`]: the search request as a value, executed for typed hits and typed
//! aggregation results.

use std::marker::PhantomData;

use es_api::Client;
use es_api::types::OneOrMany;
use es_api::types::common::{FieldSort, NestedSortValue, SortCombinations, SortOptions, SortOrder};
use es_api::types::query_dsl::FieldAndFormat;
use es_api::types::search::{
    FieldCollapse, Highlight, HighlightField, PointInTimeReference, SearchRequestBody,
    SearchResponse, SourceConfig, SourceFilter, TrackHits,
};
use indexmap::IndexMap;
use serde::de::DeserializeOwned;

use crate::{Agg, Error, Query, SearchResults};

/// Query-string parameters of the search request.
#[derive(Debug, Clone, Default, PartialEq)]
struct Params {
    routing: Option<String>,
    preference: Option<String>,
    request_cache: Option<bool>,
    timeout: Option<String>,
}

/// A search request, built as a value: each call returns a new `Search` (cheap to clone),
/// like elasticsearch-dsl's `Search`. `T` is the type the hits' `_source` is read as.
///
/// ```
/// use es_dsl::{Agg, Query, Search, Sort};
///
/// let s: Search = Search::new()
///     .index("blog-posts")
///     .query(Query::match_("title", "rust"))
///     .filter(Query::term("status", "published"))
///     .exclude(Query::term("tags", "draft"))
///     .agg("by_tag", Agg::terms("tags").size(10))
///     .sort(Sort::desc("published"))
///     .slice(10..20);
/// assert_eq!(
///     s.to_json(),
///     serde_json::json!({
///         "query": {"bool": {
///             "must": [{"match": {"title": {"query": "rust"}}}],
///             "filter": [
///                 {"term": {"status": {"value": "published"}}},
///                 {"bool": {"must_not": [{"term": {"tags": {"value": "draft"}}}]}}
///             ]
///         }},
///         "aggregations": {"by_tag": {"terms": {"field": "tags", "size": 10}}},
///         "sort": [{"published": {"order": "desc"}}],
///         "from": 10,
///         "size": 10
///     })
/// );
/// ```
#[derive(Debug)]
pub struct Search<T = serde_json::Value> {
    indices: Vec<String>,
    body: SearchRequestBody,
    params: Params,
    _doc: PhantomData<fn() -> T>,
}

impl<T> Clone for Search<T> {
    fn clone(&self) -> Self {
        Search {
            indices: self.indices.clone(),
            body: self.body.clone(),
            params: self.params.clone(),
            _doc: PhantomData,
        }
    }
}

impl<T> Default for Search<T> {
    fn default() -> Self {
        Search {
            indices: Vec::new(),
            body: SearchRequestBody::default(),
            params: Params::default(),
            _doc: PhantomData,
        }
    }
}

impl<T> PartialEq for Search<T> {
    fn eq(&self, other: &Self) -> bool {
        self.indices == other.indices && self.body == other.body && self.params == other.params
    }
}

impl<T> Search<T> {
    /// An empty search (all indices, `match_all`).
    pub fn new() -> Self {
        Self::default()
    }

    /// A search of a stored body (`{"query": …, "aggs": …}`), to edit it.
    pub fn from_json(body: serde_json::Value) -> Result<Self, Error> {
        let body = serde_json::from_value(body).map_err(|e| Error::invalid("a search body", e))?;
        Ok(Search {
            body,
            ..Self::default()
        })
    }

    /// The same search with hits read as `U`.
    pub fn doc_type<U>(self) -> Search<U> {
        Search {
            indices: self.indices,
            body: self.body,
            params: self.params,
            _doc: PhantomData,
        }
    }

    /// Adds an index, alias or data stream (patterns allowed) to search.
    pub fn index(mut self, index: impl Into<String>) -> Self {
        self.indices.push(index.into());
        self
    }

    /// The indices searched (empty: all).
    pub fn indices(&self) -> &[String] {
        &self.indices
    }

    /// Adds a query: combined with the current one with `&` (elasticsearch-dsl's
    /// `s.query(...)`). [`Search::set_query`] replaces it.
    pub fn query(mut self, q: impl Into<Query>) -> Self {
        let q = q.into();
        let next = match self.body.query.take() {
            Some(cur) => Query(*cur) & q,
            None => q,
        };
        self.body.query = Some(Box::new(next.0));
        self
    }

    /// Replaces the query.
    pub fn set_query(mut self, q: impl Into<Query>) -> Self {
        self.body.query = Some(Box::new(q.into().0));
        self
    }

    /// The current query.
    pub fn get_query(&self) -> Option<Query> {
        self.body.query.as_ref().map(|q| Query((**q).clone()))
    }

    /// Adds a filter (no scoring): `bool.filter` of the query.
    pub fn filter(self, q: impl Into<Query>) -> Self {
        self.query(Query::bool().filter(q))
    }

    /// Excludes what `q` matches: a negated filter, as elasticsearch-dsl's `exclude`.
    pub fn exclude(self, q: impl Into<Query>) -> Self {
        self.query(Query::bool().filter(!q.into()))
    }

    /// Adds a post filter (applied after the aggregations), combined with `&`.
    pub fn post_filter(mut self, q: impl Into<Query>) -> Self {
        let q = q.into();
        let next = match self.body.post_filter.take() {
            Some(cur) => Query(*cur) & q,
            None => q,
        };
        self.body.post_filter = Some(Box::new(next.0));
        self
    }

    /// Adds an aggregation under `name`.
    pub fn agg(mut self, name: impl Into<String>, agg: impl Into<Agg>) -> Self {
        self.body
            .aggregations
            .get_or_insert_with(IndexMap::new)
            .insert(name.into(), agg.into().0);
        self
    }

    /// Adds a sort key: `"date"`, `"-date"` (descending, as elasticsearch-dsl writes it),
    /// `"_score"`, or a [`Sort`] with options.
    pub fn sort(mut self, key: impl Into<Sort>) -> Self {
        let key = key.into().0;
        match &mut self.body.sort {
            Some(s) => s.push(key),
            None => self.body.sort = Some(Box::new(OneOrMany::Many(vec![key]))),
        }
        self
    }

    /// `from`: hits to skip.
    pub fn from(mut self, n: i32) -> Self {
        self.body.from = Some(n);
        self
    }

    /// `size`: hits to return.
    pub fn size(mut self, n: i32) -> Self {
        self.body.size = Some(n);
        self
    }

    /// Hits `range` (`10..20` is from 10, size 10), like slicing elasticsearch-dsl's
    /// `Search`.
    ///
    /// # Panics
    ///
    /// Never: bounds past `i32::MAX` are capped there (the server's limit is far lower).
    pub fn slice(self, range: std::ops::Range<usize>) -> Self {
        let from = i32::try_from(range.start).unwrap_or(i32::MAX);
        let size = i32::try_from(range.end.saturating_sub(range.start)).unwrap_or(i32::MAX);
        self.from(from).size(size)
    }

    /// `_source`: `false` to return no source.
    pub fn source(mut self, enabled: bool) -> Self {
        self.body.source = Some(SourceConfig::Bool(enabled));
        self
    }

    /// `_source` with only these fields (patterns allowed).
    pub fn source_includes<F: Into<String>>(mut self, fields: impl IntoIterator<Item = F>) -> Self {
        let mut filter = match self.body.source.take() {
            Some(SourceConfig::SourceFilter(f)) => f,
            _ => SourceFilter::default(),
        };
        filter.includes = Some(OneOrMany::Many(
            fields.into_iter().map(Into::into).collect(),
        ));
        self.body.source = Some(SourceConfig::SourceFilter(filter));
        self
    }

    /// `_source` without these fields.
    pub fn source_excludes<F: Into<String>>(mut self, fields: impl IntoIterator<Item = F>) -> Self {
        let mut filter = match self.body.source.take() {
            Some(SourceConfig::SourceFilter(f)) => f,
            _ => SourceFilter::default(),
        };
        filter.excludes = Some(OneOrMany::Many(
            fields.into_iter().map(Into::into).collect(),
        ));
        self.body.source = Some(SourceConfig::SourceFilter(filter));
        self
    }

    /// `fields`: values to return from the mapping (patterns allowed).
    pub fn fields<F: Into<String>>(mut self, fields: impl IntoIterator<Item = F>) -> Self {
        self.body.fields = Some(fields.into_iter().map(|f| FieldAndFormat::new(f)).collect());
        self
    }

    /// Highlights these fields with the default settings ([`Search::highlight_with`] for
    /// options).
    pub fn highlight<F: Into<String>>(self, fields: impl IntoIterator<Item = F>) -> Self {
        let mut h = self
            .body
            .highlight
            .as_deref()
            .cloned()
            .unwrap_or_else(|| Highlight::new(OneOrMany::Many(Vec::new())));
        for f in fields {
            h.fields
                .push(es_api::types::SingleKey::new(f, HighlightField::default()));
        }
        self.highlight_with(h)
    }

    /// The whole `highlight` section.
    pub fn highlight_with(mut self, h: Highlight) -> Self {
        self.body.highlight = Some(Box::new(h));
        self
    }

    /// `collapse` on a field: the best hit per value.
    pub fn collapse(mut self, field: impl Into<String>) -> Self {
        self.body.collapse = Some(Box::new(FieldCollapse::new(field)));
        self
    }

    /// Adds a top-level `knn` search.
    pub fn knn(mut self, knn: es_api::types::common::KnnSearch) -> Self {
        match &mut self.body.knn {
            Some(k) => k.push(knn),
            None => self.body.knn = Some(Box::new(OneOrMany::Many(vec![knn]))),
        }
        self
    }

    /// Adds a `rescore` step.
    pub fn rescore(mut self, rescore: es_api::types::search::Rescore) -> Self {
        match &mut self.body.rescore {
            Some(r) => r.push(rescore),
            None => self.body.rescore = Some(Box::new(OneOrMany::Many(vec![rescore]))),
        }
        self
    }

    /// Adds a script field: `name` computed by the Painless `source`.
    pub fn script_field(mut self, name: impl Into<String>, source: impl Into<String>) -> Self {
        let script: es_api::types::common::Script = crate::InlineScript::new(source).into();
        self.body
            .script_fields
            .get_or_insert_with(IndexMap::new)
            .insert(name.into(), es_api::types::common::ScriptField::new(script));
        self
    }

    /// Adds a runtime field (a field computed at search time).
    pub fn runtime_field(
        mut self,
        name: impl Into<String>,
        field: es_api::types::mapping::RuntimeField,
    ) -> Self {
        self.body
            .runtime_mappings
            .get_or_insert_with(IndexMap::new)
            .insert(name.into(), field);
        self
    }

    /// Adds a suggester: `name` suggests for `text` from the terms of `field`.
    pub fn suggest_term(
        mut self,
        name: impl Into<String>,
        text: impl Into<String>,
        field: impl Into<String>,
    ) -> Self {
        let term = es_api::types::search::TermSuggester::new(field);
        let mut suggester: es_api::types::search::FieldSuggester =
            es_api::types::search::FieldSuggesterKind::Term(term).into();
        suggester.text = Some(text.into());
        let s = self
            .body
            .suggest
            .get_or_insert_with(es_api::types::search::Suggester::default);
        s.suggesters.insert(name.into(), suggester);
        self
    }

    /// `track_total_hits`: `true` (exact), `false`, or a count to count up to.
    pub fn track_total_hits(mut self, t: impl Into<TrackHits>) -> Self {
        self.body.track_total_hits = Some(t.into());
        self
    }

    /// `search_after`: the sort values of the last hit of the previous page.
    pub fn search_after(mut self, values: Vec<es_api::types::common::FieldValue>) -> Self {
        self.body.search_after = Some(values);
        self
    }

    /// Searches a point in time (no index may be named with one).
    pub fn pit(mut self, id: impl Into<String>, keep_alive: impl Into<String>) -> Self {
        let mut p = PointInTimeReference::new(id);
        p.keep_alive = Some(keep_alive.into().into());
        self.body.pit = Some(p);
        self
    }

    /// `routing` (sent as a query parameter).
    pub fn routing(mut self, routing: impl Into<String>) -> Self {
        self.params.routing = Some(routing.into());
        self
    }

    /// `preference` (sent as a query parameter).
    pub fn preference(mut self, preference: impl Into<String>) -> Self {
        self.params.preference = Some(preference.into());
        self
    }

    /// `request_cache` (sent as a query parameter).
    pub fn request_cache(mut self, enabled: bool) -> Self {
        self.params.request_cache = Some(enabled);
        self
    }

    /// The server-side `timeout` (`"2s"`; sent as a query parameter).
    pub fn timeout(mut self, timeout: impl Into<String>) -> Self {
        self.params.timeout = Some(timeout.into());
        self
    }

    /// The request body.
    pub fn body(&self) -> &SearchRequestBody {
        &self.body
    }

    /// The request body, to change what the builder has no method for.
    pub fn body_mut(&mut self) -> &mut SearchRequestBody {
        &mut self.body
    }

    /// The request body as JSON.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(&self.body).expect("a search body is always JSON")
    }

    /// The header and body lines of this search in an `_msearch` request: the indices and
    /// the request parameters an msearch header takes (`routing`, `preference`,
    /// `request_cache`) in the header, and `timeout`, which the header does not take, in
    /// the body (the search body's own `timeout`, unless it has one).
    pub(crate) fn msearch_lines(&self) -> (serde_json::Value, serde_json::Value) {
        let mut header = serde_json::Map::new();
        if !self.indices.is_empty() {
            header.insert("index".into(), serde_json::json!(self.indices));
        }
        if let Some(r) = &self.params.routing {
            header.insert("routing".into(), r.clone().into());
        }
        if let Some(p) = &self.params.preference {
            header.insert("preference".into(), p.clone().into());
        }
        if let Some(c) = self.params.request_cache {
            header.insert("request_cache".into(), c.into());
        }
        let mut body = self.to_json();
        if let (Some(t), Some(b)) = (&self.params.timeout, body.as_object_mut()) {
            b.entry("timeout").or_insert_with(|| t.clone().into());
        }
        (serde_json::Value::Object(header), body)
    }

    fn request(&self, client: &Client) -> Result<es_api::root::Search, Error> {
        if self.body.pit.is_some() && !self.indices.is_empty() {
            return Err(Error::input(
                "a search of a point in time names no index (the point in time has them); not sent",
            ));
        }
        let mut req = client.search().typed_keys(true).body(&self.body);
        if !self.indices.is_empty() {
            req = req.index(self.indices.clone());
        }
        if let Some(r) = &self.params.routing {
            req = req.routing(r.as_str());
        }
        if let Some(p) = &self.params.preference {
            req = req.preference(p.as_str());
        }
        if let Some(c) = self.params.request_cache {
            req = req.request_cache(c);
        }
        if let Some(t) = &self.params.timeout {
            req = req.timeout(t.as_str());
        }
        Ok(req)
    }

    /// Sends the search (with `typed_keys`, so aggregation results are typed) and reads the
    /// response, hits' `_source` as `T`.
    pub async fn execute(&self, client: &Client) -> Result<SearchResults<T>, Error>
    where
        T: DeserializeOwned,
    {
        let resp = self.request(client)?.send().await?;
        let inner: SearchResponse<T> = resp.json()?;
        Ok(SearchResults(inner))
    }

    fn count_request(&self, client: &Client) -> es_api::root::Count {
        let mut req = client.count();
        if !self.indices.is_empty() {
            req = req.index(self.indices.clone());
        }
        if let Some(q) = &self.body.query {
            req = req.body(serde_json::json!({ "query": q }));
        }
        if let Some(r) = &self.params.routing {
            req = req.routing(r.as_str());
        }
        if let Some(p) = &self.params.preference {
            req = req.preference(p.as_str());
        }
        req
    }

    fn read_count(resp: es_api::Response) -> Result<u64, Error> {
        let resp: es_api::response::CountResponse = resp.json()?;
        Ok(resp.count)
    }

    /// Counts the documents the query matches (`_count`).
    pub async fn count(&self, client: &Client) -> Result<u64, Error> {
        Self::read_count(self.count_request(client).send().await?)
    }

    /// The clauses of the search that narrow its hits but that `op` cannot carry: `op` is
    /// refused, naming the first, rather than run on more documents than the search finds.
    fn refuse(&self, op: &str, clauses: &[(&str, bool)]) -> Result<(), Error> {
        match clauses.iter().find(|(_, set)| *set) {
            Some((name, _)) => Err(Error::input(format!(
                "{op} cannot carry the search's `{name}`, which narrows its hits; refusing to \
                 run it on every document the query matches; not sent"
            ))),
            None => Ok(()),
        }
    }

    /// The documents the search finds, as one query: the query in `bool.must` and the post
    /// filter in `bool.filter` (`match_all` with neither). Scores differ (the post filter
    /// does not score); the set of documents is the same.
    fn selection(&self) -> es_api::types::query_dsl::QueryContainer {
        let b = &self.body;
        let query = b.query.as_ref().map(|q| Query((**q).clone()));
        let post = b.post_filter.as_ref().map(|q| Query((**q).clone()));
        match (query, post) {
            (None, None) => Query::match_all().0,
            (Some(q), None) => q.0,
            (q, Some(f)) => {
                let mut both = Query::bool().filter(f);
                if let Some(q) = q {
                    both = both.must(q);
                }
                Query::from(both).0
            }
        }
    }

    fn delete_request(&self, client: &Client) -> Result<es_api::root::DeleteByQuery, Error> {
        if self.indices.is_empty() {
            return Err(Error::input(
                "delete by query needs an index (`.index(..)`); refusing to delete from every index; not sent",
            ));
        }
        let b = &self.body;
        self.refuse(
            "delete by query",
            &[
                ("knn", b.knn.is_some()),
                ("retriever", b.retriever.is_some()),
                ("rank", b.rank.is_some()),
                ("collapse", b.collapse.is_some()),
                ("min_score", b.min_score.is_some()),
                ("terminate_after", b.terminate_after.is_some()),
                ("runtime_mappings", b.runtime_mappings.is_some()),
                ("pit", b.pit.is_some()),
            ],
        )?;
        let mut body = serde_json::json!({ "query": self.selection() });
        if let Some(slice) = &b.slice {
            body["slice"] =
                serde_json::to_value(slice).map_err(|e| Error::invalid("a slice", e))?;
        }
        let mut req = client.delete_by_query(self.indices.clone()).body(body);
        if let Some(r) = &self.params.routing {
            req = req.routing(r.as_str());
        }
        Ok(req)
    }

    /// Deletes every document the search finds (`_delete_by_query`): those its query and
    /// its post filter match (folded into one `bool`), within its manual `slice` if it has
    /// one; every document of the indices when it has neither. Not a page of hits: `from`,
    /// `size`, `sort`, `search_after`, the aggregations and what shapes the hits
    /// (`_source`, highlight, `rescore`, …) do not change what is deleted. A search whose
    /// hits are narrowed by what a delete by query cannot carry (`knn`, `retriever`,
    /// `rank`, `collapse`, `min_score`, `terminate_after`, runtime fields, a point in time)
    /// is refused, and nothing is sent.
    ///
    /// Run once, like [`crate::UpdateByQuery::execute`]: as a task polled until it ends where
    /// the server has a tasks API, else synchronously, with no client-side timeout; never
    /// resent once it may have reached the server, so a lost answer is an error with
    /// `api().may_have_reached_server()` (the documents may be deleted: check before running
    /// it again). Failures and a server-side `timed_out` are an error (the run is partial);
    /// version conflicts are counted in the answer.
    pub async fn delete(
        &self,
        client: &Client,
    ) -> Result<es_api::response::ByQueryResponse, Error> {
        let req = self.delete_request(client)?;
        let answer = crate::ops::run_long(client, "delete by query", |as_task| {
            let mut req = req.request_timeout(crate::ops::NO_CLIENT_TIMEOUT);
            if as_task {
                req = req.wait_for_completion(false);
            }
            req.send()
        })
        .await?;
        let resp: es_api::response::ByQueryResponse = serde_json::from_value(answer)
            .map_err(|e| Error::invalid("a delete by query answer", e))?;
        crate::ops::check_by_query("delete by query", &resp)?;
        Ok(resp)
    }

    /// Every document the search finds, through es-helpers' point-in-time scan
    /// (`search_after` pages, the point in time closed at the end or on drop). The query,
    /// the post filter, `min_score`, a manual `slice`, `_source`, `fields`, doc value,
    /// stored and script fields and runtime fields carry over; the aggregations, sort,
    /// `from`, `size`, `search_after` and `rescore` (which only reorders) do not. A search
    /// narrowed by what paging cannot carry (`knn`, `retriever`, `rank`, `collapse`,
    /// `terminate_after`, its own point in time) yields one error and nothing else: nothing
    /// is sent.
    ///
    /// Must be polled within a Tokio runtime.
    pub fn scan(&self, client: &Client) -> es_helpers::scan::ScanStream<T>
    where
        T: DeserializeOwned + Send + 'static,
    {
        self.scan_helper(client).stream::<T>()
    }

    /// The es-helpers point-in-time scan behind [`Search::scan`] and
    /// [`Search::scan_blocking`]. A search that cannot be scanned gets a refused scan
    /// (`Scan::refuse`): its stream yields that error (`es_helpers::ErrorKind::Refused`),
    /// sending nothing.
    fn scan_helper(&self, client: &Client) -> es_helpers::scan::Scan {
        let b = &self.body;
        let scan = es_helpers::scan::Scan::new(client, self.indices.join(",")).point_in_time();
        let refused = self.refuse(
            "a scan",
            &[
                ("knn", b.knn.is_some()),
                ("retriever", b.retriever.is_some()),
                ("rank", b.rank.is_some()),
                ("collapse", b.collapse.is_some()),
                ("terminate_after", b.terminate_after.is_some()),
                ("pit", b.pit.is_some()),
            ],
        );
        if let Err(e) = refused {
            return scan.refuse(e.to_string());
        }
        let body = SearchRequestBody {
            query: b.query.clone(),
            post_filter: b.post_filter.clone(),
            min_score: b.min_score,
            slice: b.slice.clone(),
            source: b.source.clone(),
            fields: b.fields.clone(),
            docvalue_fields: b.docvalue_fields.clone(),
            stored_fields: b.stored_fields.clone(),
            runtime_mappings: b.runtime_mappings.clone(),
            script_fields: b.script_fields.clone(),
            ..Default::default()
        };
        scan.query(body)
    }

    /// [`Search::scan`], blocking: every matching document as an [`Iterator`] of
    /// `Result<Hit<T>>`, pulled page by page on es-api's shared blocking runtime. At most two
    /// pages of hits are in memory at a time, however large the index: the one being iterated
    /// and the next, requested in the background meanwhile.
    ///
    /// The iterator waits once per page (the other calls return a hit of the page already
    /// read). It ends after the last hit, or after the first error. Dropping it early
    /// releases the point in time (on the shared runtime, without waiting for the answer).
    /// Inside an async task use [`Search::scan`]: this works there too, but blocks the task's
    /// thread and runs each page's wait on a short-lived helper thread.
    ///
    /// ```no_run
    /// # fn run(client: es_dsl::es_api::Client) -> Result<(), es_dsl::Error> {
    /// use es_dsl::{Query, Search};
    /// let search = Search::<serde_json::Value>::new()
    ///     .index("logs-*")
    ///     .filter(Query::term("level", "error"));
    /// for hit in search.scan_blocking(&client) {
    ///     let hit = hit?;
    ///     println!("{:?}: {:?}", hit.id, hit.source);
    /// }
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "blocking")]
    pub fn scan_blocking(&self, client: &Client) -> ScanIter<T>
    where
        T: DeserializeOwned + Send + 'static,
    {
        ScanIter {
            pages: Some(self.scan_helper(client).pages::<T>()),
            hits: Vec::new().into_iter(),
        }
    }

    /// [`Search::execute`], blocking (es-api's shared runtime; not from inside one).
    #[cfg(feature = "blocking")]
    pub fn execute_blocking(&self, client: &Client) -> Result<SearchResults<T>, Error>
    where
        T: DeserializeOwned,
    {
        let resp = self.request(client)?.send_blocking()?;
        let inner: SearchResponse<T> = resp.json()?;
        Ok(SearchResults(inner))
    }

    /// [`Search::count`], blocking.
    #[cfg(feature = "blocking")]
    pub fn count_blocking(&self, client: &Client) -> Result<u64, Error> {
        Self::read_count(self.count_request(client).send_blocking()?)
    }

    /// [`Search::delete`], blocking.
    #[cfg(feature = "blocking")]
    pub fn delete_blocking(
        &self,
        client: &Client,
    ) -> Result<es_api::response::ByQueryResponse, Error> {
        es_api::blocking::block_on(self.delete(client))
    }
}

/// The hits of [`Search::scan_blocking`]: an [`Iterator`] of `Result<Hit<T>>` that drives
/// es-helpers' point-in-time scan ([`es_helpers::scan::Scan::pages`]) on es-api's shared
/// blocking runtime, one wait per page: the other calls return a hit of the page already read.
#[cfg(feature = "blocking")]
pub struct ScanIter<T: Send + 'static> {
    /// The pages still to come; `None` once ended (or ended by an error).
    pages: Option<es_helpers::scan::ScanPages<T>>,
    /// The rest of the current page.
    hits: std::vec::IntoIter<es_api::response::Hit<T>>,
}

#[cfg(feature = "blocking")]
impl<T: Send + 'static> std::fmt::Debug for ScanIter<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScanIter")
            .field("buffered", &self.hits.len())
            .field("ended", &self.pages.is_none())
            .finish_non_exhaustive()
    }
}

#[cfg(feature = "blocking")]
impl<T: Send + 'static> Iterator for ScanIter<T> {
    type Item = Result<es_api::response::Hit<T>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        use futures_util::StreamExt;
        loop {
            if let Some(hit) = self.hits.next() {
                return Some(Ok(hit));
            }
            let pages = self.pages.as_mut()?;
            let next = es_api::blocking::block_on(async {
                Ok::<_, es_helpers::Error>(pages.next().await)
            });
            match next {
                // Pages are never empty; an empty one would only loop once more.
                Ok(Some(Ok(page))) => self.hits = page.into_iter(),
                Ok(Some(Err(e))) => {
                    // The stream has ended itself (its contexts released): so does the iterator.
                    self.end();
                    return Some(Err(e.into()));
                }
                Ok(None) => {
                    self.end();
                    return None;
                }
                // The wait itself could not be run (no helper thread): nothing more can be read.
                Err(e) => {
                    self.end();
                    return Some(Err(e.into()));
                }
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let more = if self.pages.is_some() {
            None
        } else {
            Some(self.hits.len())
        };
        (self.hits.len(), more)
    }
}

#[cfg(feature = "blocking")]
impl<T: Send + 'static> ScanIter<T> {
    /// Drops the pages on the shared runtime, so that the release of a point in time still
    /// open (an iterator dropped early) is spawned there rather than skipped for want of a
    /// runtime.
    fn end(&mut self) {
        if let Some(pages) = self.pages.take() {
            // An error only when no helper thread could be started (on a thread of another
            // runtime): the future, dropped here, then spawns the release on that runtime.
            let _ = es_api::blocking::block_on(async move {
                drop(pages);
                Ok::<(), es_api::Error>(())
            });
        }
    }
}

#[cfg(feature = "blocking")]
impl<T: Send + 'static> Drop for ScanIter<T> {
    fn drop(&mut self) {
        self.end();
    }
}

/// A sort key: a field ascending or descending, with `missing`, `mode`, `nested` (sorting
/// by a field of nested objects) and the other options of the specification's
/// [`FieldSort`] on [`Sort::spec_mut`].
///
/// ```
/// use es_dsl::{Query, Sort};
/// use es_dsl::es_api::types::common::SortMode;
///
/// // The reference's nested sorting example: offers' average price, blue offers only.
/// let sort = Sort::asc("offer.price")
///     .mode(SortMode::Avg)
///     .nested_filter("offer", Query::term("offer.color", "blue"));
/// assert_eq!(
///     serde_json::to_value(&sort.0).unwrap(),
///     serde_json::json!({"offer.price": {
///         "mode": "avg",
///         "order": "asc",
///         "nested": {"path": "offer", "filter": {"term": {"offer.color": {"value": "blue"}}}}
///     }})
/// );
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Sort(pub SortCombinations);

impl Sort {
    /// `field` ascending.
    pub fn asc(field: impl Into<String>) -> Sort {
        Sort::ordered(field, SortOrder::Asc)
    }

    /// `field` descending.
    pub fn desc(field: impl Into<String>) -> Sort {
        Sort::ordered(field, SortOrder::Desc)
    }

    fn ordered(field: impl Into<String>, order: SortOrder) -> Sort {
        let field = field.into();
        let fs = FieldSort {
            order: Some(order),
            ..Default::default()
        };
        if field == "_score" || field == "_doc" {
            // These are sort kinds of their own, not fields.
            let by = es_api::types::common::ScoreSort { order: Some(order) };
            let kind = if field == "_score" {
                SortOptions::Score(by)
            } else {
                SortOptions::Doc(by)
            };
            return Sort(SortCombinations::SortOptions(kind));
        }
        Sort(SortCombinations::SortOptions(SortOptions::Field(field, fs)))
    }

    /// Where documents without the field go: `"_last"`, `"_first"`, or a value. (No effect
    /// on `_score`, `_doc` and the other non-field sorts.)
    pub fn missing(mut self, v: impl Into<es_api::types::aggregations::Missing>) -> Sort {
        if let Some(fs) = self.spec_mut() {
            fs.missing = Some(v.into());
        }
        self
    }

    /// Which value of a many-valued field sorts the document: `min`, `max`, `sum`, `avg`,
    /// `median`. (No effect on non-field sorts.)
    pub fn mode(mut self, mode: es_api::types::common::SortMode) -> Sort {
        if let Some(fs) = self.spec_mut() {
            fs.mode = Some(mode);
        }
        self
    }

    /// Sorts by a field inside the nested objects at `path`. Called again, it adds a deeper
    /// level inside the last one (the reference's multi-level example: `"parent"`, then
    /// `"parent.child"`). (No effect on non-field sorts.)
    pub fn nested(self, path: impl Into<String>) -> Sort {
        self.nest(NestedSortValue::new(path.into()))
    }

    /// [`Sort::nested`], counting only the nested objects that match `filter`.
    pub fn nested_filter(self, path: impl Into<String>, filter: impl Into<Query>) -> Sort {
        let mut level = NestedSortValue::new(path.into());
        level.filter = Some(Box::new(filter.into().0));
        self.nest(level)
    }

    /// The most nested objects per document considered for the deepest [`Sort::nested`]
    /// level set so far (no effect without one).
    pub fn nested_max_children(mut self, n: i32) -> Sort {
        if let Some(level) = self.spec_mut().and_then(|fs| fs.nested.as_mut()) {
            deepest(level).max_children = Some(n);
        }
        self
    }

    fn nest(mut self, level: NestedSortValue) -> Sort {
        if let Some(fs) = self.spec_mut() {
            match fs.nested.as_mut() {
                Some(outer) => deepest(outer).nested = Some(Box::new(level)),
                None => fs.nested = Some(level),
            }
        }
        self
    }

    /// The field sort's options (`None` for `_score`, `_doc` and the other non-field sorts).
    ///
    /// Calling it changes a bare field name (`Sort::from("title")`, sent as `"title"`) into a
    /// field sort with no option set (sent as `{"title": {}}`), whether or not an option is
    /// then set: the server sorts the same way, but the request body differs.
    ///
    /// ```
    /// use es_dsl::Sort;
    /// let mut sort = Sort::from("title");
    /// assert_eq!(serde_json::to_value(&sort.0).unwrap(), serde_json::json!("title"));
    /// assert!(sort.spec_mut().is_some());
    /// assert_eq!(
    ///     serde_json::to_value(&sort.0).unwrap(),
    ///     serde_json::json!({"title": {}})
    /// );
    /// ```
    pub fn spec_mut(&mut self) -> Option<&mut FieldSort> {
        if let SortCombinations::Field(f) = &mut self.0
            && f != "_score"
            && f != "_doc"
        {
            let field = std::mem::take(f);
            self.0 = SortCombinations::SortOptions(SortOptions::Field(field, FieldSort::default()));
        }
        match &mut self.0 {
            SortCombinations::SortOptions(SortOptions::Field(_, fs)) => Some(fs),
            _ => None,
        }
    }
}

/// The innermost level of a nested sort.
fn deepest(mut level: &mut NestedSortValue) -> &mut NestedSortValue {
    while level.nested.is_some() {
        match level.nested {
            Some(ref mut inner) => level = inner,
            None => break,
        }
    }
    level
}

impl From<&str> for Sort {
    /// `"field"` ascending by the server's default, `"-field"` descending.
    fn from(s: &str) -> Sort {
        match s.strip_prefix('-') {
            Some(field) if !field.is_empty() => Sort::desc(field),
            _ => Sort(SortCombinations::Field(s.to_string())),
        }
    }
}

impl From<String> for Sort {
    fn from(s: String) -> Sort {
        Sort::from(s.as_str())
    }
}

impl From<SortCombinations> for Sort {
    fn from(s: SortCombinations) -> Sort {
        Sort(s)
    }
}
