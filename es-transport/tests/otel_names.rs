//! OpenTelemetry names on spans and metrics events (issue 8), read field by field by a
//! capturing `tracing` layer: the `es.request` span and its `es.attempt` spans nested under
//! it, and the `elasticsearch.metrics` events per operation (`db.client.operation.duration`)
//! and per attempt (`http.client.request.duration`, `http.request.resend_count`).
//!
//! Alone in its own test binary, one test: `tracing` caches per-callsite interest
//! process-wide, so a scoped subscriber is only reliable when no other test thread logs at
//! the same time.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use es_tests::{Action, FaultProxy, Mode, OsmemServer, RequestInfo};
use es_transport::{ErrorKind, Request, RequestOptions, Transport};
use serde_json::{Value, json};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

/// Fields by name, as JSON values (f64, u64, i64, bool, str; anything else as its `Debug`).
#[derive(Debug, Clone, Default)]
struct Fields(BTreeMap<String, Value>);

impl Visit for Fields {
    fn record_f64(&mut self, f: &Field, v: f64) {
        self.0.insert(f.name().into(), json!(v));
    }
    fn record_i64(&mut self, f: &Field, v: i64) {
        self.0.insert(f.name().into(), json!(v));
    }
    fn record_u64(&mut self, f: &Field, v: u64) {
        self.0.insert(f.name().into(), json!(v));
    }
    fn record_bool(&mut self, f: &Field, v: bool) {
        self.0.insert(f.name().into(), json!(v));
    }
    fn record_str(&mut self, f: &Field, v: &str) {
        self.0.insert(f.name().into(), json!(v));
    }
    fn record_debug(&mut self, f: &Field, v: &dyn std::fmt::Debug) {
        self.0.insert(f.name().into(), json!(format!("{v:?}")));
    }
}

impl Fields {
    fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name)
    }
}

#[derive(Debug, Clone)]
struct SpanRec {
    id: u64,
    name: &'static str,
    parent: Option<u64>,
    fields: Fields,
}

#[derive(Debug, Clone)]
struct EventRec {
    target: String,
    span: Option<u64>,
    fields: Fields,
}

#[derive(Default)]
struct Captured {
    spans: Vec<SpanRec>,
    events: Vec<EventRec>,
}

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Captured>>);

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Capture {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        let parent = ctx
            .span(id)
            .and_then(|s| s.parent())
            .map(|p| p.id().into_u64());
        self.0.lock().unwrap().spans.push(SpanRec {
            id: id.into_u64(),
            name: attrs.metadata().name(),
            parent,
            fields,
        });
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, _ctx: Context<'_, S>) {
        let mut c = self.0.lock().unwrap();
        // Span ids may be reused once closed: the latest span with this id.
        if let Some(s) = c.spans.iter_mut().rev().find(|s| s.id == id.into_u64()) {
            values.record(&mut s.fields);
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let span = ctx.event_span(event).map(|s| s.id().into_u64());
        self.0.lock().unwrap().events.push(EventRec {
            target: event.metadata().target().to_owned(),
            span,
            fields,
        });
    }
}

impl Capture {
    fn take(&self) -> Captured {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

/// The one `es.request` span of a capture, and its `es.attempt` spans in order.
fn request_and_attempts(c: &Captured) -> (SpanRec, Vec<SpanRec>) {
    let requests: Vec<&SpanRec> = c.spans.iter().filter(|s| s.name == "es.request").collect();
    assert_eq!(requests.len(), 1, "{:?}", c.spans);
    let attempts = c
        .spans
        .iter()
        .filter(|s| s.name == "es.attempt")
        .cloned()
        .collect();
    (requests[0].clone(), attempts)
}

/// The metrics events with this message.
fn metrics<'a>(c: &'a Captured, message: &str) -> Vec<&'a EventRec> {
    c.events
        .iter()
        .filter(|e| {
            e.target == "elasticsearch.metrics" && e.fields.get("message") == Some(&json!(message))
        })
        .collect()
}

fn assert_duration(f: &Fields, name: &str) {
    let secs = f.get(name).and_then(Value::as_f64);
    assert!(
        secs.is_some_and(|s| s > 0.0 && s < 30.0),
        "{name} in seconds (f64): {f:?}"
    );
}

#[test]
fn spans_and_metrics_follow_opentelemetry_names() {
    let server = OsmemServer::start();
    let proxy = FaultProxy::start(server.addr());
    let capture = Capture::default();
    let subscriber = tracing_subscriber::registry().with(capture.clone());
    let port = json!(proxy.port());
    // `GET /` meets one 503, then goes through.
    let info_calls = Arc::new(AtomicU64::new(0));
    let calls = info_calls.clone();
    proxy.set_rule(Arc::new(move |r: &RequestInfo| {
        (r.path_only() == "/" && calls.fetch_add(1, Ordering::SeqCst) == 0)
            .then(|| Action::status(503))
    }));
    tracing::subscriber::with_default(subscriber, || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let t = Transport::builder(proxy.url().as_str())
                .max_retries(1)
                .retry_backoff(Duration::from_millis(1), Duration::from_millis(5))
                .build()
                .unwrap();
            // Warm up (the product check, the server's first answer), not captured.
            t.send(Request::get("/_cluster/health")).await.unwrap();
            capture.take();

            // A 404: one attempt, failed with its status.
            let e = t
                .send(Request::get("/missing-otel/_doc/1").with_endpoint("get"))
                .await
                .unwrap_err();
            assert_eq!(e.status().map(|s| s.as_u16()), Some(404), "{e}");
            let c = capture.take();
            let (req, attempts) = request_and_attempts(&c);
            let f = &req.fields;
            assert_eq!(f.get("db.system.name"), Some(&json!("elasticsearch")));
            assert_eq!(f.get("db.operation.name"), Some(&json!("get")));
            // An OpenTelemetry exporter shows a CLIENT span with an error.
            assert_eq!(f.get("otel.kind"), Some(&json!("client")));
            assert_eq!(f.get("otel.status_code"), Some(&json!("ERROR")));
            assert_eq!(f.get("http.request.method"), Some(&json!("GET")));
            assert_eq!(f.get("url.path"), Some(&json!("/missing-otel/_doc/1")));
            assert_eq!(f.get("http.response.status_code"), Some(&json!(404)));
            assert_eq!(f.get("error.type"), Some(&json!("404")));
            assert_eq!(f.get("server.address"), Some(&json!("127.0.0.1")));
            assert_eq!(f.get("server.port"), Some(&port));
            assert_eq!(attempts.len(), 1, "{attempts:?}");
            let a = &attempts[0];
            assert_eq!(a.parent, Some(req.id), "es.attempt under es.request");
            assert_eq!(a.fields.get("http.request.resend_count"), Some(&json!(0)));
            assert_eq!(a.fields.get("http.response.status_code"), Some(&json!(404)));
            assert_eq!(a.fields.get("error.type"), Some(&json!("404")));
            assert_eq!(a.fields.get("server.address"), Some(&json!("127.0.0.1")));
            assert_eq!(a.fields.get("server.port"), Some(&port));

            let ops = metrics(&c, "operation");
            assert_eq!(ops.len(), 1, "{:?}", c.events);
            let op = &ops[0].fields;
            assert_duration(op, "db.client.operation.duration");
            assert_eq!(op.get("db.system.name"), Some(&json!("elasticsearch")));
            assert_eq!(op.get("db.operation.name"), Some(&json!("get")));
            assert_eq!(op.get("http.request.method"), Some(&json!("GET")));
            assert_eq!(op.get("server.address"), Some(&json!("127.0.0.1")));
            assert_eq!(op.get("server.port"), Some(&port));
            assert_eq!(op.get("http.response.status_code"), Some(&json!(404)));
            assert_eq!(op.get("error.type"), Some(&json!("404")));
            for old in ["node", "latency_us", "ok", "retry"] {
                assert!(op.get(old).is_none(), "{old}: {op:?}");
            }
            let tries = metrics(&c, "attempt");
            assert_eq!(tries.len(), 1, "{:?}", c.events);
            let at = &tries[0].fields;
            assert_eq!(tries[0].span, Some(a.id), "the attempt event in its span");
            assert_duration(at, "http.client.request.duration");
            assert_eq!(at.get("db.system.name"), Some(&json!("elasticsearch")));
            assert_eq!(at.get("db.operation.name"), Some(&json!("get")));
            assert_eq!(at.get("http.request.resend_count"), Some(&json!(0)));
            assert_eq!(at.get("http.response.status_code"), Some(&json!(404)));
            assert_eq!(at.get("error.type"), Some(&json!("404")));
            assert_eq!(at.get("server.port"), Some(&port));
            for old in ["node", "latency_us", "ok", "retry"] {
                assert!(at.get(old).is_none(), "{old}: {at:?}");
            }

            // One retry: a 503, then a 200 on the second attempt.
            t.send(Request::get("/").with_endpoint("info"))
                .await
                .unwrap();
            let c = capture.take();
            let (req, attempts) = request_and_attempts(&c);
            assert_eq!(req.fields.get("db.operation.name"), Some(&json!("info")));
            assert_eq!(
                req.fields.get("http.response.status_code"),
                Some(&json!(200))
            );
            assert!(req.fields.get("error.type").is_none(), "{req:?}");
            assert_eq!(attempts.len(), 2, "{attempts:?}");
            for (n, a) in attempts.iter().enumerate() {
                assert_eq!(a.parent, Some(req.id), "attempt {n} under es.request");
                assert_eq!(
                    a.fields.get("http.request.resend_count"),
                    Some(&json!(n)),
                    "{a:?}"
                );
            }
            assert_eq!(
                attempts[0].fields.get("http.response.status_code"),
                Some(&json!(503))
            );
            assert_eq!(
                attempts[1].fields.get("http.response.status_code"),
                Some(&json!(200))
            );
            assert!(attempts[1].fields.get("error.type").is_none());
            let tries = metrics(&c, "attempt");
            let resends: Vec<_> = tries
                .iter()
                .map(|e| {
                    (
                        e.fields.get("http.request.resend_count").cloned(),
                        e.fields.get("http.response.status_code").cloned(),
                        e.fields.get("error.type").cloned(),
                    )
                })
                .collect();
            assert_eq!(
                resends,
                [
                    (Some(json!(0)), Some(json!(503)), Some(json!("503"))),
                    (Some(json!(1)), Some(json!(200)), None),
                ]
            );
            let ops = metrics(&c, "operation");
            assert_eq!(ops.len(), 1, "{:?}", c.events);
            assert_eq!(
                ops[0].fields.get("http.response.status_code"),
                Some(&json!(200))
            );
            assert!(ops[0].fields.get("error.type").is_none(), "{:?}", ops[0]);
            assert_eq!(info_calls.load(Ordering::SeqCst), 2);

            // No answer at all: error.type is the error's kind, no status.
            proxy.set_mode(Mode::Refuse);
            t.close_idle_connections();
            let e = t
                .send(Request::get("/_cluster/health").with_endpoint("cluster.health"))
                .await
                .unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Connect, "{e}");
            let c = capture.take();
            let ops = metrics(&c, "operation");
            assert_eq!(ops.len(), 1, "{:?}", c.events);
            let op = &ops[0].fields;
            assert_eq!(op.get("db.operation.name"), Some(&json!("cluster.health")));
            assert_eq!(op.get("error.type"), Some(&json!("Connect")));
            assert!(op.get("http.response.status_code").is_none(), "{op:?}");
            assert_eq!(op.get("server.port"), Some(&port));
            let tries = metrics(&c, "attempt");
            assert_eq!(tries.len(), 2, "{:?}", c.events);
            for (n, e) in tries.iter().enumerate() {
                assert_eq!(e.fields.get("http.request.resend_count"), Some(&json!(n)));
                assert_eq!(e.fields.get("error.type"), Some(&json!("Connect")));
            }
            proxy.set_mode(Mode::Forward);

            // The node stats event.
            t.node_stats();
            let c = capture.take();
            let stats: Vec<_> = metrics(&c, "node stats");
            assert_eq!(stats.len(), 1, "{:?}", c.events);
            let s = &stats[0].fields;
            assert_eq!(s.get("db.system.name"), Some(&json!("elasticsearch")));
            assert_eq!(s.get("server.address"), Some(&json!("127.0.0.1")));
            assert_eq!(s.get("server.port"), Some(&port));
            assert_eq!(
                s.get("elasticsearch.node.requests"),
                Some(&json!(6)),
                "{s:?}"
            );
            assert!(
                s.get("elasticsearch.node.mean_duration")
                    .is_some_and(Value::is_f64)
            );

            // An ignored 404 is a successful operation, without error.type; its attempt
            // still failed as an HTTP request, with error.type "404".
            let resp = t
                .send(
                    Request::get("/missing-otel/_doc/1")
                        .with_endpoint("get")
                        .with_options(RequestOptions::new().ignore_status([404])),
                )
                .await
                .unwrap();
            assert_eq!(resp.status().as_u16(), 404);
            let c = capture.take();
            let (req, attempts) = request_and_attempts(&c);
            assert_eq!(
                req.fields.get("http.response.status_code"),
                Some(&json!(404))
            );
            assert!(req.fields.get("error.type").is_none(), "{req:?}");
            assert!(req.fields.get("otel.status_code").is_none(), "{req:?}");
            assert_eq!(req.fields.get("otel.kind"), Some(&json!("client")));
            let ops = metrics(&c, "operation");
            assert_eq!(ops.len(), 1, "{:?}", c.events);
            assert_eq!(
                ops[0].fields.get("http.response.status_code"),
                Some(&json!(404))
            );
            assert!(ops[0].fields.get("error.type").is_none(), "{:?}", ops[0]);
            assert_eq!(attempts.len(), 1, "{attempts:?}");
            assert_eq!(attempts[0].fields.get("error.type"), Some(&json!("404")));
            let tries = metrics(&c, "attempt");
            assert_eq!(tries.len(), 1, "{:?}", c.events);
            assert_eq!(tries[0].fields.get("error.type"), Some(&json!("404")));
        });
    });
}
