//! What goes on the wire: compression, GET bodies, headers, product check, logs.

use std::io::Write;
use std::sync::{Arc, Mutex};

use es_tests::proxy::{Action, FaultProxy};
use es_tests::server::OsmemServer;
use es_tests::wire::RequestInfo;
use es_transport::{ErrorKind, Request, RequestOptions, SendGetBodyAs, Transport};

/// Records every request the proxy sees, forwarding them.
fn record(proxy: &FaultProxy) -> Arc<Mutex<Vec<RequestInfo>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    proxy.set_rule(Arc::new(move |req| {
        s.lock().unwrap().push(req.clone());
        None
    }));
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_request_bodies_reach_the_server_intact() {
    let server = OsmemServer::start();
    let proxy = FaultProxy::start(server.addr());
    let seen = record(&proxy);
    let t = Transport::builder(proxy.url().as_str())
        .http_compress(true)
        .build()
        .unwrap();
    let doc = serde_json::json!({"title": "compressed ".repeat(100)});
    t.send(Request::put("/gz/_doc/1?refresh=true").with_json_body(doc.to_string()))
        .await
        .unwrap();
    let got: serde_json::Value = t
        .send(Request::get("/gz/_doc/1"))
        .await
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(got["_source"], doc);
    let reqs = seen.lock().unwrap();
    let put = reqs.iter().find(|r| r.method == "PUT").unwrap();
    assert_eq!(put.header("content-encoding"), Some("gzip"));
    assert!(
        put.body.len() < doc.to_string().len() / 4,
        "body was compressed"
    );
    assert!(
        reqs.iter()
            .all(|r| r.header("accept-encoding") == Some("gzip"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_responses_are_decompressed() {
    let server = OsmemServer::start();
    let proxy = FaultProxy::start(server.addr());
    let body = serde_json::json!({"hello": "world"}).to_string();
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(body.as_bytes()).unwrap();
    let gz = enc.finish().unwrap();
    proxy.set_rule(Arc::new(move |_| {
        Some(Action::Status {
            status: 200,
            headers: vec![
                ("Content-Type".into(), "application/json".into()),
                ("Content-Encoding".into(), "gzip".into()),
                ("X-Elastic-Product".into(), "Elasticsearch".into()),
            ],
            body: gz.clone().into(),
        })
    }));
    let t = Transport::new(proxy.url().as_str()).unwrap();
    let r = t.send(Request::get("/")).await.unwrap();
    assert_eq!(r.text(), body);
    assert!(r.headers().get("content-encoding").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_get_body_as() {
    let server = OsmemServer::start();
    let t = Transport::new(server.url().as_str()).unwrap();
    t.send(Request::put("/g/_doc/1?refresh=true").with_json_body(r#"{"t":"a b"}"#))
        .await
        .unwrap();
    let proxy = FaultProxy::start(server.addr());
    let seen = record(&proxy);
    let query = r#"{"query":{"match":{"t":"a"}}}"#;
    for how in [
        SendGetBodyAs::Get,
        SendGetBodyAs::Post,
        SendGetBodyAs::Source,
    ] {
        let t = Transport::builder(proxy.url().as_str())
            .send_get_body_as(how)
            .build()
            .unwrap();
        let r: serde_json::Value = t
            .send(Request::get("/g/_search").with_json_body(query))
            .await
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(r["hits"]["total"]["value"], 1, "{how:?}");
    }
    let reqs = seen.lock().unwrap();
    assert_eq!(reqs[0].method, "GET");
    assert_eq!(reqs[0].body.as_ref(), query.as_bytes());
    assert_eq!(reqs[1].method, "POST");
    assert_eq!(reqs[2].method, "GET");
    assert!(reqs[2].body.is_empty());
    let q = reqs[2].query().unwrap();
    assert!(
        q.contains("source=%7B%22query%22") && q.contains("source_content_type=application%2Fjson"),
        "{q}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_on_the_wire() {
    let server = OsmemServer::start();
    let proxy = FaultProxy::start(server.addr());
    let seen = record(&proxy);
    let t = Transport::builder(proxy.url().as_str())
        .header("x-team", "search")
        .basic_auth("elastic", "changeme")
        .build()
        .unwrap();
    t.send(
        Request::get("/").with_options(
            RequestOptions::new()
                .opaque_id("job-7")
                .header("x-extra", "1"),
        ),
    )
    .await
    .unwrap();
    let reqs = seen.lock().unwrap();
    let h = &reqs[0];
    assert!(h.header("user-agent").unwrap().starts_with("es-rs/"));
    assert_eq!(h.header("x-team"), Some("search"));
    assert_eq!(h.header("x-extra"), Some("1"));
    assert_eq!(h.header("x-opaque-id"), Some("job-7"));
    assert_eq!(
        h.header("authorization"),
        Some("Basic ZWxhc3RpYzpjaGFuZ2VtZQ==")
    );
    assert!(h.header("host").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn product_check_and_compatibility_mode() {
    let server = OsmemServer::start();
    let proxy = FaultProxy::start(server.addr());
    proxy.set_rule(Arc::new(|_| {
        Some(Action::Status {
            status: 200,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: "{}".into(),
        })
    }));
    let t = Transport::new(proxy.url().as_str()).unwrap();
    let err = t.send(Request::get("/")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnsupportedProduct);
    let t = Transport::builder(proxy.url().as_str())
        .product_check(false)
        .build()
        .unwrap();
    t.send(Request::get("/")).await.unwrap();

    // osmem-server answers 406 to compatibility media types: off by default, a setting.
    let t = Transport::builder(server.url().as_str())
        .compatibility_mode(Some(8))
        .build()
        .unwrap();
    let err = t
        .send(Request::post("/_search").with_json_body("{}"))
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(406));
    let t = Transport::new(server.url().as_str()).unwrap();
    t.send(Request::post("/_search").with_json_body("{}"))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_errors_keep_the_body_and_ignore_returns_the_response() {
    let server = OsmemServer::start();
    let t = Transport::new(server.url().as_str()).unwrap();
    let err = t
        .send(Request::get("/no-such-index/_doc/1"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Api);
    let api = err.api_error().unwrap();
    assert_eq!(api.status().as_u16(), 404);
    assert!(!api.body().is_empty());
    let r = t
        .send(
            Request::get("/no-such-index/_doc/1")
                .with_options(RequestOptions::new().ignore_status([404])),
        )
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_layers_wrap_the_stack() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let server = OsmemServer::start();
    let proxy = FaultProxy::start(server.addr());
    let seen = record(&proxy);
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    let layer =
        tower::util::MapRequestLayer::new(move |mut req: es_transport::layer::HttpRequest| {
            c.fetch_add(1, Ordering::SeqCst);
            req.headers_mut()
                .insert("x-sent-by", "billing".parse().unwrap());
            req
        });
    let t = Transport::builder(proxy.url().as_str())
        .layer(layer)
        .build()
        .unwrap();
    t.send(Request::get("/")).await.unwrap();
    t.send(Request::get("/")).await.unwrap();
    assert_eq!(count.load(Ordering::SeqCst), 2);
    assert!(
        seen.lock()
            .unwrap()
            .iter()
            .all(|r| r.header("x-sent-by") == Some("billing"))
    );
}
