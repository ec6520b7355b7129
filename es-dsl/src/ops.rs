//! Operations beyond one search: [`UpdateByQuery`], [`MultiSearch`].

use std::future::Future;
use std::marker::PhantomData;
use std::time::Duration;

use es_api::Client;
use es_api::params::Conflicts;
use es_api::response::ByQueryResponse;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::{Error, Query, Search, SearchResults};

/// The client-side timeout of long server-side work (a by-query run, a reindex, one wait on
/// its task): none in practice (about 34 years). Such a request ends by itself, with an
/// answer or a lost connection; a client giving up would not stop the server.
pub(crate) const NO_CLIENT_TIMEOUT: Duration = Duration::from_secs(1 << 30);

/// How long one poll of a task waits at the server (`GET _tasks/<id>?timeout=`) before it
/// answers "not yet" and is sent again.
const TASK_WAIT: &str = "30s";

/// Runs long server-side work (`_update_by_query`, `_delete_by_query`, `_reindex`) exactly
/// once and returns its answer.
///
/// `start(as_task)` sends the request, with no client-side timeout. When the server has a
/// tasks API that this user may read (`GET _tasks` answers), the work is started as a task
/// (`as_task`: `wait_for_completion=false`) and polled with `GET _tasks/<id>?
/// wait_for_completion=true` until it completes: a connection cut or a gateway timeout
/// while polling loses nothing (a poll is a read, resent by the transport), and a poll that
/// finally fails is an error naming the task (the work goes on at the server). Without one
/// (a 4xx answer to `GET _tasks`: osmem-server, a user without the `monitor` privilege), the
/// work runs synchronously in the one request. Either way the start request is never resent
/// after it may have reached the server (the transport does not resend these endpoints), so
/// a lost answer is an error with `may_have_reached_server()`, never a second run.
pub(crate) async fn run_long<F, Fut>(
    client: &Client,
    what: &str,
    start: F,
) -> Result<Value, Failure>
where
    F: FnOnce(bool) -> Fut,
    Fut: Future<Output = es_api::Result<es_api::Response>>,
{
    let as_task = has_tasks_api(client, what).await.map_err(Failure::over)?;
    let answer = start(as_task).await.map_err(|e| {
        // The server's refusal (a 4xx) ends the work; no answer, or a 5xx (a gateway's, or a
        // node's failure part way), does not say.
        let over = !e.outcome_unknown();
        Failure {
            error: e.into(),
            over,
        }
    })?;
    // A complete answer to a synchronous run ends it, readable or not; an unreadable answer
    // to a task's start hides the task, which may be running.
    let answer: Value = answer.json().map_err(|e| Failure {
        error: e.into(),
        over: !as_task,
    })?;
    match answer.get("task").and_then(Value::as_str) {
        // A server that ran it synchronously anyway answers the result itself.
        Some(task) if as_task && answer.get("total").is_none() => {
            poll_task(client, what, task).await
        }
        _ => Ok(answer),
    }
}

/// A failure of [`run_long`]: the error, and whether the work is certainly over at the
/// server (not started, refused, or seen to end), so that what it wrote may be removed.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) error: Error,
    pub(crate) over: bool,
}

impl Failure {
    fn over(error: Error) -> Failure {
        Failure { error, over: true }
    }

    fn unknown(error: Error) -> Failure {
        Failure { error, over: false }
    }
}

impl From<Failure> for Error {
    fn from(f: Failure) -> Error {
        f.error
    }
}

/// Whether `GET _tasks` answers (the cheapest listing: this node, an action that matches
/// nothing). A 4xx answer other than 429 means no tasks API for this user; any other
/// failure is an error, and `what` was not sent.
async fn has_tasks_api(client: &Client, what: &str) -> Result<bool, Error> {
    // Through `call`: es-api puts the tasks namespace behind its `experimental-apis` feature.
    let params = [
        ("nodes", json!("_local")),
        ("actions", json!("es-dsl:probe")),
    ];
    match client.call("tasks.list", params, None).send().await {
        Ok(_) => Ok(true),
        Err(e)
            if e.status()
                .is_some_and(|s| s.is_client_error() && s.as_u16() != 429) =>
        {
            Ok(false)
        }
        Err(e) => Err(Error::input(format!(
            "{what}: not sent: asking the server whether it has a tasks API failed: {e}"
        ))),
    }
}

/// Polls the task until it completes; its `response`, or an error naming the task.
async fn poll_task(client: &Client, what: &str, task: &str) -> Result<Value, Failure> {
    loop {
        let params = [
            ("task_id", json!(task)),
            ("wait_for_completion", json!(true)),
            ("timeout", json!(TASK_WAIT)),
        ];
        let sent = client
            .call("tasks.get", params, None)
            .request_timeout(NO_CLIENT_TIMEOUT)
            .send()
            .await;
        let status: Value = match sent.and_then(|r| r.json()) {
            Ok(v) => v,
            // The wait ran out at the server (408, or a timeout exception): still running.
            Err(e) if still_running(&e) => continue,
            Err(e) => {
                let e = unknown_outcome(Error::from(e), &started(what, task), Some(task));
                return Err(Failure::unknown(e));
            }
        };
        if status["completed"].as_bool() != Some(true) {
            continue;
        }
        if let Some(err) = status.get("error") {
            return Err(Failure::over(Error::input(format!(
                "{what} (task {task}) failed at the server: {err}"
            ))));
        }
        return match status.get("response") {
            Some(resp) => {
                let mut resp = resp.clone();
                if let Some(o) = resp.as_object_mut() {
                    o.insert("task".into(), task.into());
                }
                Ok(resp)
            }
            None => Err(Failure::over(Error::input(format!(
                "{what} (task {task}) completed, but its status has no `response`: {status}"
            )))),
        };
    }
}

/// A by-query answer's failures (the first named) or `timed_out` as an error: the run
/// stopped part way, never a shorter success.
pub(crate) fn check_by_query(what: &str, resp: &ByQueryResponse) -> Result<(), Error> {
    let task = resp
        .task
        .as_deref()
        .map(|t| format!(" (task {t})"))
        .unwrap_or_default();
    if let Some(first) = resp.failures.first() {
        return Err(Error::input(format!(
            "{what}{task}: {} of {} documents failed; first: {first}",
            resp.failures.len(),
            resp.total
        )));
    }
    if resp.timed_out {
        return Err(Error::input(format!(
            "{what}{task} timed out at the server after {} of {} documents: the run is partial",
            resp.updated + resp.deleted + resp.noops,
            resp.total
        )));
    }
    Ok(())
}

/// Whether a poll's failure is the server's wait running out (the task is still running).
fn still_running(e: &es_api::Error) -> bool {
    e.status().is_some_and(|s| s.as_u16() == 408)
        || e.api_error()
            .and_then(|a| a.error_type())
            .is_some_and(|t| t.contains("timeout_exception"))
}

fn started(what: &str, task: &str) -> String {
    format!(
        "{what} was started as task {task} and may still be running, or be done: its outcome is \
         unknown (GET _tasks/{task} tells; do not start it again before)"
    )
}

/// `e` as an error whose outcome is unknown: `note` before its message, the task if one was
/// started; the original error (kind, status) stays reachable through `api()` / `helpers()`,
/// and `may_have_reached_server()` is true.
pub(crate) fn unknown_outcome(e: Error, note: &str, task: Option<&str>) -> Error {
    Error::unknown(e, note, task)
}

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

    /// Runs it once and waits for the end. Failed documents are an error (naming the first
    /// failure), never a shorter success; version conflicts are counted (and are failures
    /// unless [`UpdateByQuery::conflicts_proceed`]).
    ///
    /// Exactly once: where the server has a tasks API (Elasticsearch, for a user with the
    /// `monitor` privilege) the update runs as a task (`wait_for_completion=false`), polled
    /// through `GET _tasks/<id>` until it ends, so that no client, proxy or gateway timeout
    /// cuts it short; a poll that fails for good is an error whose message names the task
    /// (it may still be running: look it up before starting the update again). Without one
    /// (osmem-server) it runs synchronously in one request with no client-side timeout. The
    /// request that starts it is never resent once it may have reached the server: a lost
    /// answer (a connection cut, a gateway 504) is an error with
    /// `api().may_have_reached_server()`, and the update may have run: check before running
    /// it again.
    pub async fn execute(&self, client: &Client) -> Result<ByQueryResponse, Error> {
        let answer = run_long(client, "update by query", |as_task| {
            let mut req = self.request(client).request_timeout(NO_CLIENT_TIMEOUT);
            if as_task {
                req = req.wait_for_completion(false);
            }
            req.send()
        })
        .await?;
        let resp: ByQueryResponse = serde_json::from_value(answer)
            .map_err(|e| Error::invalid("an update by query answer", e))?;
        check_by_query("update by query", &resp)?;
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
