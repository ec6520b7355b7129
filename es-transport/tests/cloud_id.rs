//! Cloud IDs: real-format IDs (with and without ports), the defaults a Cloud ID implies
//! (https, compression on, sniffing off) and their overrides, over a real TLS socket.

mod tls_support;

use std::sync::Arc;

use base64::Engine as _;
use es_transport::{CloudId, ErrorKind, Request, Transport};
use tls_support::{Ca, TestServer, ok_json};

fn cloud_id(name: &str, decoded: &str) -> String {
    format!(
        "{name}:{}",
        base64::engine::general_purpose::STANDARD.encode(decoded)
    )
}

#[test]
fn real_format_ids() {
    // The form the Elastic Cloud console shows.
    let id = "my-deployment:dXMtY2VudHJhbDEuZ2NwLmNsb3VkLmVzLmlvOjQ0MyQ4YWYzYjA4NzVhNjI0ZjQ1YjY3N2E0YjQ1ZTE3ZmY2ZSQ1ZjJjNjNhNTNiNDY0N2RkODc2ZjhhNGI4MWI1MTgzYw==";
    let c = CloudId::parse(id).unwrap();
    assert_eq!(c.name(), "my-deployment");
    assert_eq!(
        c.es_url().to_string(),
        "https://8af3b0875a624f45b677a4b45e17ff6e.us-central1.gcp.cloud.es.io:443"
    );
    assert_eq!(
        c.kibana_url().unwrap().host(),
        "5f2c63a53b4647dd876f8a4b81b5183c.us-central1.gcp.cloud.es.io"
    );

    let t = Transport::builder_from_cloud_id(id).build().unwrap();
    assert_eq!(t.nodes().len(), 1);
    assert_eq!(t.nodes()[0].scheme(), "https");

    // Ports: in the host part (for both), in a component (for that one), or none (443).
    for (decoded, es, kibana) in [
        ("eastus2.azure.elastic-cloud.com:9243$abc$def", 9243, 9243),
        (
            "eastus2.azure.elastic-cloud.com$abc:9200$def:5601",
            9200,
            5601,
        ),
        (
            "eastus2.azure.elastic-cloud.com:9243$abc:9200$def",
            9200,
            9243,
        ),
        ("eastus2.azure.elastic-cloud.com$abc$def", 443, 443),
    ] {
        let c = CloudId::parse(&cloud_id("d", decoded)).unwrap();
        assert_eq!(
            (c.es_url().port(), c.kibana_url().unwrap().port()),
            (es, kibana),
            "{decoded}"
        );
    }
}

#[test]
fn malformed_ids_are_clear_errors() {
    for (id, says) in [
        ("my-deployment:***".to_owned(), "not valid base64"),
        (
            cloud_id("d", "host-without-parts"),
            "no Elasticsearch cluster id",
        ),
        (cloud_id("d", "host:https$abc$def"), "bad port `https`"),
        (cloud_id("d", "host$abc:70000$def"), "bad port `70000`"),
    ] {
        let err = Transport::builder_from_cloud_id(&id).build().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config);
        assert!(
            err.to_string().contains("invalid Cloud ID") && err.to_string().contains(says),
            "{err}"
        );
    }
}

#[tokio::test]
async fn a_cloud_id_connects_over_https_with_compression() {
    // `127` + `.` + `0.0.1`: a Cloud ID whose endpoint is this machine.
    let ca = Ca::new("Cloud CA");
    let server = TestServer::tls(
        &[],
        &ca.server(&["127.0.0.1"]),
        None,
        Arc::new(|_| ok_json("{}")),
    )
    .await;
    let id = cloud_id("local", &format!("0.0.1:{}$127$kibana", server.addr.port()));
    let t = Transport::builder_from_cloud_id(&id)
        .ca_certs_pem(&ca.pem)
        .api_key("id", "key")
        .build()
        .unwrap();
    assert_eq!(
        t.nodes()[0].to_string(),
        format!("https://127.0.0.1:{}", server.addr.port())
    );
    let body = format!(r#"{{"text":"{}"}}"#, "cloud ".repeat(100));
    t.send(Request::post("/idx/_doc").with_json_body(body.clone()))
        .await
        .unwrap();
    let r = &server.requests()[0];
    assert_eq!(
        r.headers["content-encoding"], "gzip",
        "compression is on by default with a Cloud ID"
    );
    assert_eq!(r.headers["authorization"], "ApiKey aWQ6a2V5");

    // The user overrides the implied defaults.
    let t = Transport::builder_from_cloud_id(&id)
        .ca_certs_pem(&ca.pem)
        .http_compress(false)
        .build()
        .unwrap();
    t.send(Request::post("/idx/_doc").with_json_body(body.clone()))
        .await
        .unwrap();
    assert!(
        !server.requests()[1]
            .headers
            .contains_key("content-encoding")
    );
}
