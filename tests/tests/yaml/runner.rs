//! Running one test of the suite through `Client::call` against its own osmem-server.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::Duration;

use es_api::es_transport::Transport;
use es_api::{Client, ErrorKind};
use http::Method;
use regex::Regex;
use serde_json::{Map, Value};

use crate::suite::FeatureFlags;

/// How long one request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

/// Features of the YAML format this runner implements (`skip: features` /
/// `requires: test_runner_features` naming only these do not skip).
const FEATURES: &[&str] = &[
    "allowed_warnings",
    "allowed_warnings_regex",
    "warnings",
    "warnings_regex",
    "headers",
    "catch_unauthorized",
    "contains",
    "stash_in_key",
    "stash_in_path",
    "stash_path_replace",
    "default_shards",
    "node_selector",
    "exists",
];

/// How a test ended.
#[derive(Debug, Clone)]
pub(crate) enum Outcome {
    Passed,
    Failed(Failure),
    Skipped(String),
}

/// Where and why a test failed.
#[derive(Debug, Clone)]
pub(crate) struct Failure {
    /// `setup`, `test` or `teardown`, and the step number (1-based) and its text.
    pub(crate) step: String,
    /// The request of the last `do` (method, path, body excerpt), if any.
    pub(crate) request: Option<String>,
    pub(crate) reason: String,
    /// The failure is an error answer of the server to a `do` that expected success.
    pub(crate) server_error: bool,
}

/// A step that did not go through.
enum StepError {
    Fail { reason: String, server_error: bool },
    Skip(String),
}

fn fail(reason: impl Into<String>) -> StepError {
    StepError::Fail {
        reason: reason.into(),
        server_error: false,
    }
}

/// The state of one test: its client, the stash and the last response.
struct Ctx<'a> {
    client: Client,
    flags: &'a FeatureFlags,
    stash: HashMap<String, Value>,
    body: Value,
    last_request: Option<String>,
}

/// Runs one test (setup, steps, teardown) against a server at `url`.
pub(crate) async fn run_test(
    url: &str,
    flags: &FeatureFlags,
    setup: &[Value],
    steps: &[Value],
    teardown: &[Value],
) -> Outcome {
    let transport = match Transport::builder(url)
        .max_retries(0)
        .request_timeout(REQUEST_TIMEOUT)
        .build()
    {
        Ok(t) => t,
        Err(e) => {
            return Outcome::Failed(Failure {
                step: "client".into(),
                request: None,
                reason: format!("cannot build the transport: {e}"),
                server_error: false,
            });
        }
    };
    let mut ctx = Ctx {
        client: Client::new(transport),
        flags,
        stash: HashMap::new(),
        body: Value::Null,
        last_request: None,
    };
    let mut outcome = match ctx.run_steps("setup", setup).await {
        Err(o) => o,
        Ok(()) => match ctx.run_steps("test", steps).await {
            Err(o) => o,
            Ok(()) => Outcome::Passed,
        },
    };
    // Teardown always runs; its failure fails a test that passed (a missing API is no
    // failure there).
    ctx.last_request = None;
    for (i, step) in teardown.iter().enumerate() {
        match ctx.run_step(step).await {
            Ok(()) | Err(StepError::Skip(_)) => {}
            Err(StepError::Fail {
                reason,
                server_error,
            }) => {
                if matches!(outcome, Outcome::Passed) {
                    outcome = Outcome::Failed(Failure {
                        step: format!("teardown step {}: {}", i + 1, compact(step)),
                        request: ctx.last_request.clone(),
                        reason,
                        server_error,
                    });
                }
            }
        }
    }
    outcome
}

/// JSON text of a step, cut to a readable length.
fn compact(v: &Value) -> String {
    excerpt(&v.to_string(), 300)
}

fn excerpt(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// The text of a value used as a string (a string as it is, anything else as JSON).
fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `/regex/` of the YAML format, compiled as the Elasticsearch runner does (comments mode),
/// multi-line like elasticsearch-py's.
fn as_regex(v: &Value) -> Option<Result<Regex, String>> {
    let s = v.as_str()?.trim();
    if s.len() >= 2 && s.starts_with('/') && s.ends_with('/') {
        let inner = &s[1..s.len() - 1];
        Some(Regex::new(&format!("(?mx){inner}")).map_err(|e| format!("bad regex {s}: {e}")))
    } else {
        None
    }
}

/// Numbers compare by value (`1` matches `1.0`), objects by key set, arrays by position.
fn values_equal(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::Number(a), Value::Number(b)) => {
            a == b || a.as_f64().zip(b.as_f64()).is_some_and(|(a, b)| a == b)
        }
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(a, b)| values_equal(a, b))
        }
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(k, v)| b.get(k).is_some_and(|bv| values_equal(v, bv)))
        }
        (a, b) => a == b,
    }
}

/// Every entry of `expected` is in `actual` (for `contains` on a list of objects).
fn is_subset(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => e
            .iter()
            .all(|(k, v)| a.get(k).is_some_and(|av| is_subset(v, av))),
        (e, a) => values_equal(e, a),
    }
}

/// Splits `a.b\.c.0` into `a`, `b.c`, `0`.
fn split_path(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = path.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'.') => {
                cur.push('.');
                chars.next();
            }
            '.' => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// Falsy as the Elasticsearch runner's `is_false`: missing, null, `""`, `false`, `0`.
fn is_falsy(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(v) => {
            let s = text_of(v);
            s.is_empty() || s.eq_ignore_ascii_case("false") || s == "0"
        }
    }
}

/// The status a named `catch` expects.
fn catch_status(name: &str) -> Option<u16> {
    Some(match name {
        "bad_request" => 400,
        "unauthorized" => 401,
        "forbidden" => 403,
        "missing" => 404,
        "request_timeout" => 408,
        "conflict" => 409,
        "unavailable" => 503,
        _ => return None,
    })
}

/// The server has no such API: `no handler found for uri`, or an unknown `/_xxx` path read
/// as an index name.
/// `values` are the parameters sent: a path starting with one of them (`/_bad` for the index
/// `_bad`) is the caller's, not a missing API.
fn lacks_api(status: u16, body: &Value, path: &str, values: &[String]) -> bool {
    if status != 400 && status != 404 && status != 405 {
        return false;
    }
    let err = body.get("error");
    if err
        .and_then(Value::as_str)
        .is_some_and(|e| e.starts_with("no handler found for uri"))
    {
        return true;
    }
    let route = path.split('?').next().unwrap_or_default();
    let segments: Vec<&str> = route.trim_start_matches('/').split('/').collect();
    if !segments[0].starts_with('_') || values.iter().any(|v| v == segments[0]) {
        return false;
    }
    // `/_license` read as the index `_license`.
    let invalid_index = err
        .and_then(|e| e.get("type"))
        .and_then(Value::as_str)
        .is_some_and(|t| t == "invalid_index_name_exception");
    // `POST /_sql` answered by the `/{index}` route: wrong method for an index.
    let index_route = status == 405
        && segments.len() == 1
        && err.and_then(Value::as_str).is_some_and(|e| {
            e.starts_with("Incorrect HTTP method")
                && e.contains("allowed: [HEAD, DELETE, PUT, GET]")
        });
    (status == 400 && invalid_index) || index_route
}

/// The messages of a `Warning` header value: one or several comma-joined warnings, each
/// `299 Elasticsearch-x "message"` with an optional quoted date (RFC 7234 §5.5).
fn warning_texts(header: &str) -> Vec<String> {
    /// A quoted string at the start of `s` (after `"`): its text and what follows it.
    fn quoted(s: &str) -> (String, &str) {
        let mut out = String::new();
        let mut chars = s.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => {
                    if let Some((_, n)) = chars.next() {
                        out.push(n);
                    }
                }
                '"' => return (out, &s[i + 1..]),
                c => out.push(c),
            }
        }
        (out, "")
    }
    let mut out = Vec::new();
    let mut rest = header.trim();
    while !rest.is_empty() {
        // Code and agent, then the quoted message.
        let Some(q) = rest.find('"') else {
            // No quoted text: the rest (up to a comma) as it is.
            let (one, after) = rest.split_once(',').unwrap_or((rest, ""));
            let one = one.trim();
            out.push(one.splitn(3, ' ').nth(2).unwrap_or(one).to_owned());
            rest = after.trim_start();
            continue;
        };
        let (message, after) = quoted(&rest[q + 1..]);
        out.push(message);
        let mut after = after.trim_start();
        // The optional quoted date.
        if let Some(d) = after.strip_prefix('"') {
            after = quoted(d).1.trim_start();
        }
        rest = after.strip_prefix(',').unwrap_or(after).trim_start();
    }
    out
}

fn string_list(v: &Value) -> Vec<String> {
    match v {
        Value::Array(items) => items.iter().map(text_of).collect(),
        Value::Null => Vec::new(),
        other => vec![text_of(other)],
    }
}

impl Ctx<'_> {
    async fn run_steps(&mut self, section: &str, steps: &[Value]) -> Result<(), Outcome> {
        for (i, step) in steps.iter().enumerate() {
            match self.run_step(step).await {
                Ok(()) => {}
                Err(StepError::Skip(reason)) => return Err(Outcome::Skipped(reason)),
                Err(StepError::Fail {
                    reason,
                    server_error,
                }) => {
                    return Err(Outcome::Failed(Failure {
                        step: format!("{section} step {}: {}", i + 1, compact(step)),
                        request: self.last_request.clone(),
                        reason,
                        server_error,
                    }));
                }
            }
        }
        Ok(())
    }

    async fn run_step(&mut self, step: &Value) -> Result<(), StepError> {
        let Some((kind, arg)) = step.as_object().and_then(|m| m.iter().next()) else {
            return Err(fail(format!("not a step: {step}")));
        };
        match kind.as_str() {
            "do" => self.do_step(arg).await,
            "skip" | "requires" => check_skip(arg),
            "set" => {
                for (path, name) in obj(arg)? {
                    let value = self.lookup(path)?.cloned().ok_or_else(|| {
                        fail(format!(
                            "set: nothing at `{path}` in {}",
                            self.body_excerpt()
                        ))
                    })?;
                    self.stash.insert(text_of(name), value);
                }
                Ok(())
            }
            "match" => {
                for (path, expected) in obj(arg)? {
                    let expected = self.resolve(expected);
                    let actual = self.lookup(path)?;
                    self.check_match(path, &expected, actual)?;
                }
                Ok(())
            }
            "length" => {
                for (path, expected) in obj(arg)? {
                    let expected = self.resolve(expected);
                    let actual = self.lookup(path)?;
                    let len = match actual {
                        Some(Value::Array(a)) => a.len(),
                        Some(Value::Object(o)) => o.len(),
                        Some(Value::String(s)) => s.chars().count(),
                        other => {
                            return Err(fail(format!(
                                "length of `{path}`: not a list, object or string: {}",
                                other.map_or("missing".into(), compact)
                            )));
                        }
                    };
                    if !values_equal(&expected, &Value::from(len)) {
                        return Err(fail(format!(
                            "length of `{path}` is {len}, expected {expected}"
                        )));
                    }
                }
                Ok(())
            }
            "is_true" | "is_false" | "exists" => {
                // Stash references are resolved segment by segment in `lookup` (a stashed
                // object starts the path), never pasted into the path as JSON text.
                let path = text_of(arg);
                let actual = self.lookup(&path)?;
                let ok = match kind.as_str() {
                    "is_true" => !is_falsy(actual),
                    "is_false" => is_falsy(actual),
                    _ => actual.is_some_and(|v| !v.is_null()),
                };
                if ok {
                    Ok(())
                } else {
                    Err(fail(format!(
                        "{kind} `{path}` failed: value {}",
                        actual.map_or("missing".into(), compact)
                    )))
                }
            }
            "gt" | "gte" | "lt" | "lte" => {
                for (path, expected) in obj(arg)? {
                    let expected = self.resolve(expected);
                    let actual = self.lookup(path)?;
                    let ord = match (actual, &expected) {
                        (Some(Value::Number(a)), Value::Number(e)) => a
                            .as_f64()
                            .zip(e.as_f64())
                            .and_then(|(a, e)| a.partial_cmp(&e)),
                        (Some(Value::String(a)), Value::String(e)) => Some(a.cmp(e)),
                        _ => None,
                    };
                    let ok = ord.is_some_and(|o| match kind.as_str() {
                        "gt" => o.is_gt(),
                        "gte" => o.is_ge(),
                        "lt" => o.is_lt(),
                        _ => o.is_le(),
                    });
                    if !ok {
                        return Err(fail(format!(
                            "{kind} `{path}`: {} is not {kind} {expected}",
                            actual.map_or("missing".into(), compact)
                        )));
                    }
                }
                Ok(())
            }
            "contains" => {
                for (path, expected) in obj(arg)? {
                    let expected = self.resolve(expected);
                    let actual = self.lookup(path)?;
                    let ok = match actual {
                        Some(Value::Array(items)) => items.iter().any(|i| is_subset(&expected, i)),
                        Some(Value::String(s)) => s.contains(&text_of(&expected)),
                        Some(Value::Object(o)) => is_subset(&expected, &Value::Object(o.clone())),
                        _ => false,
                    };
                    if !ok {
                        return Err(fail(format!(
                            "contains `{path}`: {} does not contain {}",
                            actual.map_or("missing".into(), compact),
                            compact(&expected)
                        )));
                    }
                }
                Ok(())
            }
            other => Err(fail(format!("unsupported step `{other}`"))),
        }
    }

    fn body_excerpt(&self) -> String {
        excerpt(&text_of(&self.body), 400)
    }

    fn check_match(
        &self,
        path: &str,
        expected: &Value,
        actual: Option<&Value>,
    ) -> Result<(), StepError> {
        if let Some(re) = as_regex(expected) {
            let re = re.map_err(fail)?;
            let Some(actual) = actual else {
                return Err(fail(format!(
                    "match `{path}`: missing, expected {expected}"
                )));
            };
            let text = text_of(actual);
            if re.is_match(&text) {
                return Ok(());
            }
            return Err(fail(format!(
                "match `{path}`: {} does not match {expected}",
                excerpt(&text, 400)
            )));
        }
        let ok = match actual {
            None => expected.is_null(),
            Some(a) => values_equal(expected, a),
        };
        if ok {
            Ok(())
        } else {
            Err(fail(format!(
                "match `{path}`: got {}, expected {}",
                actual.map_or("missing".into(), compact),
                compact(expected)
            )))
        }
    }

    /// The value at `path` in the last response (`""` and `$body` are the whole body).
    ///
    /// Stash references are resolved per segment: a path that is one reference is the
    /// stashed value itself; a first segment naming a stashed object or list starts the
    /// path there (`$profile.enabled`); any other reference is a key (`$idx.mappings`, where
    /// `idx` holds an index name), also inside a segment (`x-${id}`).
    fn lookup(&self, path: &str) -> Result<Option<&Value>, StepError> {
        let path = path.trim();
        if path.is_empty() || path == "$body" {
            return Ok(Some(&self.body));
        }
        if let Some(v) = self.stash_ref(path) {
            return Ok(Some(v));
        }
        let path = path.strip_prefix("$body.").unwrap_or(path);
        let mut cur = &self.body;
        for (i, seg) in split_path(path).into_iter().enumerate() {
            let seg = match self.stash_ref(&seg) {
                Some(v @ (Value::Object(_) | Value::Array(_))) if i == 0 => {
                    cur = v;
                    continue;
                }
                Some(v) => text_of(v),
                None => text_of(&self.resolve_str(&seg)),
            };
            let next = match cur {
                Value::Object(m) => m.get(&seg),
                Value::Array(a) => seg.parse::<usize>().ok().and_then(|i| a.get(i)),
                _ => None,
            };
            match next {
                Some(n) => cur = n,
                None => return Ok(None),
            }
        }
        Ok(Some(cur))
    }

    /// `$name` or `${name}` naming a stashed value.
    fn stash_ref(&self, s: &str) -> Option<&Value> {
        let name = s
            .strip_prefix("${")
            .and_then(|r| r.strip_suffix('}'))
            .or_else(|| s.strip_prefix('$'))?;
        self.stash.get(name)
    }

    /// Replaces stash references in keys, values and inside strings.
    fn resolve(&self, v: &Value) -> Value {
        match v {
            Value::String(s) => self.resolve_str(s),
            Value::Array(items) => Value::Array(items.iter().map(|i| self.resolve(i)).collect()),
            Value::Object(m) => {
                let mut out = Map::new();
                for (k, v) in m {
                    out.insert(text_of(&self.resolve_str(k)), self.resolve(v));
                }
                Value::Object(out)
            }
            other => other.clone(),
        }
    }

    fn resolve_str(&self, s: &str) -> Value {
        if let Some(v) = self.stash_ref(s) {
            return v.clone();
        }
        if !s.contains('$') {
            return Value::String(s.to_owned());
        }
        // `${name}` anywhere, and `$name` followed by a non-name character.
        let mut out = String::with_capacity(s.len());
        let mut rest = s;
        while let Some(i) = rest.find('$') {
            out.push_str(&rest[..i]);
            let after = &rest[i + 1..];
            if let Some(inner) = after.strip_prefix('{')
                && let Some(end) = inner.find('}')
                && let Some(v) = self.stash.get(&inner[..end])
            {
                out.push_str(&text_of(v));
                rest = &inner[end + 1..];
                continue;
            }
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            if end > 0
                && let Some(v) = self.stash.get(&after[..end])
            {
                out.push_str(&text_of(v));
                rest = &after[end..];
                continue;
            }
            out.push('$');
            rest = after;
        }
        out.push_str(rest);
        Value::String(out)
    }

    async fn do_step(&mut self, spec: &Value) -> Result<(), StepError> {
        let mut catch = None;
        let mut headers = Vec::new();
        let mut warnings = Vec::new();
        let mut allowed = Vec::new();
        let mut warnings_re = Vec::new();
        let mut allowed_re = Vec::new();
        let mut api = None;
        for (k, v) in obj(spec)? {
            match k.as_str() {
                "catch" => catch = Some(text_of(v)),
                "headers" => {
                    for (name, value) in obj(v)? {
                        headers.push((name.clone(), text_of(&self.resolve(value))));
                    }
                }
                "warnings" => warnings = string_list(v),
                "allowed_warnings" => allowed = string_list(v),
                "warnings_regex" => warnings_re = string_list(v),
                "allowed_warnings_regex" => allowed_re = string_list(v),
                "node_selector" => {}
                _ => {
                    if api.is_some() {
                        return Err(fail(format!("`do` with two APIs: {spec}")));
                    }
                    api = Some((k.clone(), v));
                }
            }
        }
        let Some((name, args)) = api else {
            return Err(fail("`do` without an API"));
        };
        let args = self.resolve(args);
        let mut params = Vec::new();
        let mut body = None;
        let mut ignore = Vec::new();
        let mut values = Vec::new();
        match args {
            Value::Object(m) => {
                for (k, v) in m {
                    match k.as_str() {
                        "body" => body = Some(v),
                        "ignore" => {
                            ignore = match &v {
                                Value::Array(a) => a.iter().filter_map(Value::as_u64).collect(),
                                other => other.as_u64().into_iter().collect(),
                            }
                        }
                        _ => {
                            values.push(text_of(&v));
                            params.push((k, v));
                        }
                    }
                }
            }
            Value::Null => {}
            other => {
                return Err(fail(format!(
                    "`{name}` arguments are not an object: {other}"
                )));
            }
        }
        // What a stack server has only with a feature flag on is not sent.
        if let Some(flag) = self
            .flags
            .needed(&name, params.iter().map(|(k, _)| k.as_str()))
        {
            return Err(StepError::Skip(format!("feature flag: {flag} ({name})")));
        }
        let mut call = self
            .client
            .call(&name, params, body)
            .ignore_status(400..=599);
        for (n, v) in &headers {
            call = call.header(n, v);
        }
        let request = match call.clone().into_request() {
            Ok(r) => r,
            Err(e) => {
                self.last_request = Some(format!("{name} (not sent)"));
                // An unknown endpoint is our API lacking it, never the parameter error that
                // `catch: param` expects.
                if call.endpoint() != name {
                    return Err(fail(format!("es-api has no endpoint `{name}`: {e}")));
                }
                if catch.as_deref() == Some("param") && e.kind() == ErrorKind::Config {
                    return Ok(());
                }
                return Err(fail(format!("the client refused the request: {e}")));
            }
        };
        let mut described = format!("{name}: {} {}", request.method(), request.path());
        if let Some(b) = request.body() {
            let _ = write!(
                described,
                " body {}",
                excerpt(&String::from_utf8_lossy(b), 300)
            );
        }
        let is_head = *request.method() == Method::HEAD;
        let path = request.path().to_owned();
        self.last_request = Some(described.clone());
        if catch.as_deref() == Some("param") {
            return Err(fail(format!(
                "expected a client-side parameter error, but the request was built: {described}"
            )));
        }
        let response = call
            .send()
            .await
            .map_err(|e| fail(format!("transport error: {e}")))?;
        let status = response.status().as_u16();
        let text = response.text();
        let is_json = response
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.contains("json"));
        let parsed = if is_head {
            Value::Bool((200..300).contains(&status))
        } else if is_json && !text.trim().is_empty() {
            serde_json::from_str(&text).unwrap_or(Value::String(text.clone()))
        } else {
            Value::String(text.clone())
        };
        if lacks_api(status, &parsed, &path, &values) {
            return Err(StepError::Skip(format!(
                "server lacks the API: {described} answered {status} {}",
                excerpt(&text, 200)
            )));
        }
        let sent: Vec<String> = response
            .headers()
            .get_all("warning")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(warning_texts)
            .collect();
        self.body = parsed;
        // Warnings: checked where the server sends them.
        if !sent.is_empty() {
            check_warnings(&sent, &warnings, &allowed, &warnings_re, &allowed_re)?;
        }
        let answer = || format!("{status} {}", excerpt(&text, 400));
        match catch {
            None => {
                let error = status >= 400 && !ignore.contains(&u64::from(status));
                if error && !(is_head && status == 404) {
                    return Err(StepError::Fail {
                        reason: format!("the server answered {}", answer()),
                        server_error: true,
                    });
                }
            }
            Some(c) => {
                if status < 400 {
                    return Err(fail(format!(
                        "expected an error ({c}), the server answered {}",
                        answer()
                    )));
                }
                if let Some(want) = catch_status(&c) {
                    if status != want {
                        return Err(fail(format!(
                            "expected {c} ({want}), the server answered {}",
                            answer()
                        )));
                    }
                } else if c == "request" {
                    if (400..=409).contains(&status) && status != 402 {
                        return Err(fail(format!(
                            "expected another error than a named one, the server answered {}",
                            answer()
                        )));
                    }
                } else {
                    // `/regex/` over the error body; a bare word (`resource_not_found_exception`)
                    // as a literal.
                    let ok = match as_regex(&Value::String(c.clone())) {
                        Some(re) => re.map_err(fail)?.is_match(&text),
                        None => text.contains(&c),
                    };
                    if !ok {
                        return Err(fail(format!(
                            "expected an error matching {c}, the server answered {}",
                            answer()
                        )));
                    }
                }
            }
        }
        Ok(())
    }
}

/// The warnings `sent` by the server against the step's: every sent warning must be
/// expected or allowed (literally or by a regex), and every `warnings` entry and every
/// `warnings_regex` pattern must be among those sent.
fn check_warnings(
    sent: &[String],
    warnings: &[String],
    allowed: &[String],
    warnings_re: &[String],
    allowed_re: &[String],
) -> Result<(), StepError> {
    let compile =
        |r: &String| Regex::new(r).map_err(|e| fail(format!("bad warning regex {r:?}: {e}")));
    let required_res = warnings_re
        .iter()
        .map(compile)
        .collect::<Result<Vec<_>, _>>()?;
    let allowed_res = allowed_re
        .iter()
        .map(compile)
        .collect::<Result<Vec<_>, _>>()?;
    for w in sent {
        let expected = warnings.contains(w)
            || allowed.contains(w)
            || required_res
                .iter()
                .chain(&allowed_res)
                .any(|r| r.is_match(w));
        if !expected {
            return Err(fail(format!("unexpected warning {w:?}")));
        }
    }
    for w in warnings {
        if !sent.contains(w) {
            return Err(fail(format!(
                "expected warning {w:?} not sent (sent {sent:?})"
            )));
        }
    }
    for r in &required_res {
        if !sent.iter().any(|w| r.is_match(w)) {
            return Err(fail(format!(
                "no warning matches {:?} (sent {sent:?})",
                r.as_str()
            )));
        }
    }
    Ok(())
}

fn obj(v: &Value) -> Result<&Map<String, Value>, StepError> {
    v.as_object()
        .ok_or_else(|| fail(format!("expected an object, got {v}")))
}

/// `skip:` / `requires:` inside a test.
fn check_skip(arg: &Value) -> Result<(), StepError> {
    let Some(m) = arg.as_object() else {
        return Ok(());
    };
    if m.contains_key("feature_flag") {
        return Err(StepError::Skip(format!(
            "feature flag: {}",
            text_of(&m["feature_flag"])
        )));
    }
    if let Some(reason) = m.get("awaits_fix") {
        return Err(StepError::Skip(format!("awaits fix: {}", text_of(reason))));
    }
    for key in ["features", "test_runner_features"] {
        if let Some(f) = m.get(key) {
            let missing: Vec<String> = string_list(f)
                .into_iter()
                .filter(|f| !FEATURES.contains(&f.as_str()))
                .collect();
            if !missing.is_empty() {
                return Err(StepError::Skip(format!(
                    "runner lacks features {missing:?}"
                )));
            }
        }
    }
    if let Some(v) = m.get("cluster_features") {
        return Err(StepError::Skip(format!(
            "needs cluster features {}",
            text_of(v)
        )));
    }
    if m.get("version").is_some_and(|v| text_of(v).trim() == "all") {
        return Err(StepError::Skip(format!(
            "skipped on all versions: {}",
            m.get("reason").map(text_of).unwrap_or_default()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Warning` values as Elasticsearch sends them (RFC 7234 §5.5: code, agent, quoted text,
    /// optional quoted date); several warnings come comma-joined in one header.
    #[test]
    fn warning_headers_give_every_message() {
        let one = r#"299 Elasticsearch-8.15.0-abc "[types removal] Specifying types is deprecated." "Mon, 01 Jan 2024 00:00:00 GMT""#;
        assert_eq!(
            warning_texts(one),
            vec!["[types removal] Specifying types is deprecated."]
        );
        let two = r#"299 Elasticsearch-8.15.0-abc "first, with a comma" "Mon, 01 Jan 2024 00:00:00 GMT", 299 Elasticsearch-8.15.0-abc "a \"quoted\" second""#;
        assert_eq!(
            warning_texts(two),
            vec!["first, with a comma", "a \"quoted\" second"]
        );
        assert_eq!(
            warning_texts(r#"299 Elasticsearch-9.0.0 "a", 299 Elasticsearch-9.0.0 "b""#),
            vec!["a", "b"]
        );
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    fn reason(r: Result<(), StepError>) -> String {
        match r {
            Ok(()) => "ok".to_owned(),
            Err(StepError::Fail { reason, .. }) => reason,
            Err(StepError::Skip(s)) => format!("skip {s}"),
        }
    }

    #[test]
    fn warnings_regex_is_required_not_only_allowed() {
        let sent = strings(&["index [x] is deprecated", "another one"]);
        // Each expected regex must match a warning sent.
        let r = check_warnings(&sent, &[], &[], &strings(&["deprecated$", "^another"]), &[]);
        assert_eq!(reason(r), "ok");
        let r = check_warnings(
            &sent,
            &[],
            &strings(&["another one"]),
            &strings(&["deprecated$", "^never sent"]),
            &[],
        );
        assert_eq!(
            reason(r),
            r#"no warning matches "^never sent" (sent ["index [x] is deprecated", "another one"])"#
        );
        // A warning neither expected nor allowed fails; an allowed one need not come.
        let r = check_warnings(&sent, &strings(&["another one"]), &[], &[], &[]);
        assert_eq!(reason(r), r#"unexpected warning "index [x] is deprecated""#);
        let r = check_warnings(
            &sent,
            &strings(&["another one"]),
            &strings(&["never sent"]),
            &[],
            &strings(&["^index"]),
        );
        assert_eq!(reason(r), "ok");
        let r = check_warnings(&sent, &[], &[], &strings(&["("]), &[]);
        assert!(reason(r).starts_with(r#"bad warning regex "(""#));
    }
}
