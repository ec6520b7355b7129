//! Operations beyond one search: [`UpdateByQuery`], [`MultiSearch`].

use std::marker::PhantomData;

use es_api::Client;
use es_api::params::Conflicts;
use es_api::response::ByQueryResponse;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::{Error, Query, Search, SearchResults};

/// `_update_by_query`: a script run on every document a query matches.
///
/// ```
/// use es_dsl::{Query, UpdateByQuery};
/// let u = UpdateByQuery::new("posts")
///     .query(Query::term("status", "draft"))
///     .script("ctx._source.status = params.s", serde_json::json!({"s": "review"}))
///     .conflicts_proceed();
/// assert_eq!(u.body()["script"]["source"], "ctx._source.status = params.s");
/// ```
#[derive(Debug, Clone)]
pub struct UpdateByQuery {
    index: String,
    query: Option<Query>,
    script: Option<Value>,
    proceed: bool,
    slices: Option<u32>,
    refresh: bool,
}

impl UpdateByQuery {
    /// An update of `index` (a name, list or pattern).
    pub fn new(index: impl Into<String>) -> Self {
        UpdateByQuery {
            index: index.into(),
            query: None,
            script: None,
            proceed: false,
            slices: None,
            refresh: false,
        }
    }

    /// The documents to update (combined with `&`; all without one).
    pub fn query(mut self, q: impl Into<Query>) -> Self {
        let q = q.into();
        self.query = Some(match self.query.take() {
            Some(cur) => cur & q,
            None => q,
        });
        self
    }

    /// The Painless script and its params.
    pub fn script(mut self, source: impl Into<String>, params: Value) -> Self {
        self.script = Some(json!({"source": source.into(), "params": params, "lang": "painless"}));
        self
    }

    /// Count version conflicts and go on (`conflicts=proceed`), rather than stop at the first.
    pub fn conflicts_proceed(mut self) -> Self {
        self.proceed = true;
        self
    }

    /// Run in `n` slices in parallel.
    pub fn slices(mut self, n: u32) -> Self {
        self.slices = Some(n);
        self
    }

    /// Refresh the index when done.
    pub fn refresh(mut self) -> Self {
        self.refresh = true;
        self
    }

    /// The request body.
    pub fn body(&self) -> Value {
        let mut b = json!({});
        if let Some(q) = &self.query {
            b["query"] = serde_json::to_value(q).expect("a query is JSON");
        }
        if let Some(s) = &self.script {
            b["script"] = s.clone();
        }
        b
    }

    fn request(&self, client: &Client) -> es_api::root::UpdateByQuery {
        let mut req = client.update_by_query(self.index.clone()).body(self.body());
        if self.proceed {
            req = req.conflicts(Conflicts::Proceed);
        }
        if let Some(n) = self.slices {
            req = req.slices(n.to_string().as_str());
        }
        if self.refresh {
            req = req.refresh(true);
        }
        req
    }

    /// Runs it and waits. Failed documents are an error (naming the first failure), never a
    /// shorter success; version conflicts are counted (and are failures unless
    /// [`UpdateByQuery::conflicts_proceed`]).
    pub async fn execute(&self, client: &Client) -> Result<ByQueryResponse, Error> {
        let resp: ByQueryResponse = self.request(client).send().await?.json()?;
        if let Some(first) = resp.failures.first() {
            return Err(Error::input(format!(
                "update by query: {} of {} documents failed; first: {first}",
                resp.failures.len(),
                resp.total
            )));
        }
        Ok(resp)
    }

    /// Starts it as a task (`wait_for_completion=false`) and returns the task id to poll
    /// with `client.tasks().get(id)`.
    pub async fn start(&self, client: &Client) -> Result<String, Error> {
        let resp: Value = self
            .request(client)
            .wait_for_completion(false)
            .send()
            .await?
            .json()?;
        resp["task"]
            .as_str()
            .map(String::from)
            .ok_or_else(|| Error::input(format!("no task id in the answer: {resp}")))
    }
}

/// A slot of a [`MultiSearch`]: reads its result as the `T` of the search added.
#[derive(Debug)]
pub struct Slot<T>(usize, PhantomData<fn() -> T>);

impl<T> Clone for Slot<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Slot<T> {}

/// `_msearch`: several searches in one request, each read with its own document type.
///
/// ```no_run
/// # async fn run(client: es_dsl::es_api::Client) -> Result<(), es_dsl::Error> {
/// use es_dsl::{MultiSearch, Query, Search};
/// # #[derive(serde::Deserialize)] struct Post; #[derive(serde::Deserialize)] struct User;
/// let mut ms = MultiSearch::new();
/// let posts = ms.add(Search::<Post>::new().index("posts").query(Query::match_("title", "rust")));
/// let users = ms.add(Search::<User>::new().index("users"));
/// let results = ms.execute(&client).await?;
/// let posts = results.get(posts)?; // SearchResults<Post>
/// let users = results.get(users)?; // SearchResults<User>
/// # Ok(()) }
/// ```
#[derive(Debug, Default, Clone)]
pub struct MultiSearch {
    lines: Vec<Value>,
}

impl MultiSearch {
    /// No searches yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a search; the slot reads its result. Its indices and its `routing`,
    /// `preference` and `request_cache` go in its header line, its `timeout` in its body.
    ///
    /// ```
    /// use es_dsl::{MultiSearch, Query, Search};
    /// let mut ms = MultiSearch::new();
    /// ms.add(Search::<serde_json::Value>::new().index("posts").routing("user1").preference("_local"));
    /// assert_eq!(
    ///     ms.lines()[0],
    ///     serde_json::json!({"index": ["posts"], "routing": "user1", "preference": "_local"})
    /// );
    /// ```
    pub fn add<T>(&mut self, search: Search<T>) -> Slot<T> {
        let slot = Slot(self.lines.len() / 2, PhantomData);
        let (header, body) = search.msearch_lines();
        self.lines.push(header);
        self.lines.push(body);
        slot
    }

    /// The request's lines: a header and a body per search, in order.
    pub fn lines(&self) -> &[Value] {
        &self.lines
    }

    /// Sends them (with `typed_keys`).
    pub async fn execute(&self, client: &Client) -> Result<MultiSearchResults, Error> {
        if self.lines.is_empty() {
            return Err(Error::input("a multi search of no search; not sent"));
        }
        let resp: Value = client
            .msearch()
            .typed_keys(true)
            .body(self.lines.iter())
            .send()
            .await?
            .json()?;
        let Some(Value::Array(responses)) = resp.get("responses").cloned() else {
            return Err(Error::input(format!(
                "an _msearch answer without responses: {resp}"
            )));
        };
        if responses.len() != self.lines.len() / 2 {
            return Err(Error::input(format!(
                "{} searches sent, {} answers",
                self.lines.len() / 2,
                responses.len()
            )));
        }
        Ok(MultiSearchResults(responses))
    }
}

/// The answers of a [`MultiSearch`].
#[derive(Debug, Clone)]
pub struct MultiSearchResults(Vec<Value>);

impl MultiSearchResults {
    /// The result of one search, read as its type; a search the server refused is an error
    /// with the server's reason.
    pub fn get<T: DeserializeOwned>(&self, slot: Slot<T>) -> Result<SearchResults<T>, Error> {
        let v = self
            .0
            .get(slot.0)
            .ok_or_else(|| Error::input("a slot of another multi search"))?;
        if let Some(err) = v.get("error") {
            return Err(Error::input(format!(
                "search {} failed (status {}): {err}",
                slot.0, v["status"]
            )));
        }
        serde_json::from_value(v.clone()).map_err(|e| Error::invalid("a search response", e))
    }
}
