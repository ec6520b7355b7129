//! TLS against a loopback rustls server with certificates made at test time: trusted CA (file,
//! directory, PEM), unknown CA, wrong host name, expired certificate, fingerprint pinning,
//! verification off, and mutual TLS.

mod tls_support;

use std::path::PathBuf;
use std::sync::Arc;

use es_transport::{Error, Request, Transport, TransportBuilder};
use tls_support::{Ca, Handler, TestServer, ok_json, self_signed};

fn hello() -> Handler {
    Arc::new(|_| ok_json(r#"{"tagline":"You Know, for Search"}"#))
}

fn builder(url: &str) -> TransportBuilder {
    Transport::builder(url).max_retries(0)
}

async fn get(t: &Transport) -> Result<u16, Error> {
    t.send(Request::get("/")).await.map(|r| r.status().as_u16())
}

async fn must_fail(b: TransportBuilder, why: &str) -> Error {
    let t = b.build().unwrap();
    let err = get(&t).await.unwrap_err();
    let msg = err.to_string();
    assert!(err.is_tls(), "not a TLS error: {msg}");
    assert!(!err.may_have_reached_server());
    assert!(msg.contains(why), "`{msg}` does not say `{why}`");
    err
}

/// A fresh directory under the system temp dir.
fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "es-transport-tls-{name}-{}-{}",
        std::process::id(),
        fastrand_u64()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn fastrand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u8(0);
    h.finish()
}

#[tokio::test]
async fn trusted_ca_from_pem_file_and_dir_passes() {
    let ca = Ca::new("Test CA");
    let leaf = ca.server(&["localhost", "127.0.0.1"]);
    let server = TestServer::tls(&[], &leaf, None, hello()).await;

    // PEM in memory, by name and by IP address.
    for host in ["localhost", "127.0.0.1"] {
        let t = builder(&server.url("https", host))
            .ca_certs_pem(&ca.pem)
            .build()
            .unwrap();
        assert_eq!(get(&t).await.unwrap(), 200, "{host}");
    }

    // A file, and a directory holding the CA among files that are not certificates.
    let dir = temp_dir("ca");
    std::fs::write(dir.join("ca.pem"), &ca.pem).unwrap();
    std::fs::write(dir.join("README"), "not a certificate").unwrap();
    let t = builder(&server.url("https", "localhost"))
        .ca_certs_file(dir.join("ca.pem"))
        .build()
        .unwrap();
    assert_eq!(get(&t).await.unwrap(), 200);
    let t = builder(&server.url("https", "localhost"))
        .ca_certs_dir(&dir)
        .build()
        .unwrap();
    assert_eq!(get(&t).await.unwrap(), 200);
    std::fs::remove_dir_all(&dir).unwrap();

    // Connections are reused: one handshake for several requests.
    let t = builder(&server.url("https", "localhost"))
        .ca_certs_pem(&ca.pem)
        .build()
        .unwrap();
    for _ in 0..3 {
        get(&t).await.unwrap();
    }
    assert_eq!(t.node_stats()[0].connections_opened, 1);
}

#[tokio::test]
async fn unknown_ca_fails() {
    let ca = Ca::new("Server CA");
    let other = Ca::new("Other CA");
    let server = TestServer::tls(&[], &ca.server(&["localhost"]), None, hello()).await;
    let url = server.url("https", "localhost");
    must_fail(
        builder(&url).ca_certs_pem(&other.pem),
        "unknown certificate authority",
    )
    .await;
    // The default roots do not know a test CA either.
    must_fail(builder(&url), "unknown certificate authority").await;
}

#[tokio::test]
async fn wrong_host_name_fails() {
    let ca = Ca::new("Test CA");
    let server = TestServer::tls(&[], &ca.server(&["es.example.com"]), None, hello()).await;
    let err = must_fail(
        builder(&server.url("https", "localhost")).ca_certs_pem(&ca.pem),
        "not valid for the host name `localhost`",
    )
    .await;
    assert!(err.to_string().contains("es.example.com"), "{err}");
}

#[tokio::test]
async fn expired_certificate_fails() {
    let ca = Ca::new("Test CA");
    let server = TestServer::tls(&[], &ca.expired_server(&["localhost"]), None, hello()).await;
    must_fail(
        builder(&server.url("https", "localhost")).ca_certs_pem(&ca.pem),
        "expired",
    )
    .await;
}

#[tokio::test]
async fn fingerprint_pins_the_leaf() {
    let leaf = self_signed(&["somewhere.else"]);
    let server = TestServer::tls(&[], &leaf, None, hello()).await;
    let url = server.url("https", "localhost");
    let fp = leaf.fingerprint();
    // Self-signed and for another name: pinned, it passes, whatever the fingerprint's form.
    for form in [
        fp.clone(),
        fp.replace(':', "").to_lowercase(),
        fp.to_lowercase(),
    ] {
        let t = builder(&url).ssl_assert_fingerprint(form).build().unwrap();
        assert_eq!(get(&t).await.unwrap(), 200);
    }
    // Any other certificate fails, even one a trusted CA signed.
    let other = self_signed(&["localhost"]).fingerprint();
    let err = must_fail(
        builder(&url).ssl_assert_fingerprint(&other),
        "fingerprint mismatch",
    )
    .await;
    assert!(
        err.to_string().contains(&fp),
        "names the presented fingerprint: {err}"
    );
    let ca = Ca::new("Test CA");
    let trusted = TestServer::tls(&[], &ca.server(&["localhost"]), None, hello()).await;
    must_fail(
        builder(&trusted.url("https", "localhost"))
            .ca_certs_pem(&ca.pem)
            .ssl_assert_fingerprint(&other),
        "fingerprint mismatch",
    )
    .await;
    // A malformed fingerprint fails the build.
    let err = builder(&url)
        .ssl_assert_fingerprint("12:34")
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("SHA-256"), "{err}");
}

#[tokio::test]
async fn fingerprint_of_the_ca_in_the_chain() {
    // Elasticsearch 8 prints its HTTP CA's fingerprint; the server sends that CA in its chain.
    let ca = Ca::new("Elasticsearch HTTP CA");
    let server = TestServer::tls_with_ca_in_chain(&ca, &ca.server(&["localhost"]), hello()).await;
    let ca_fp = tls_support::fingerprint(&ca.der);
    let t = builder(&server.url("https", "localhost"))
        .ssl_assert_fingerprint(&ca_fp)
        .build()
        .unwrap();
    assert_eq!(get(&t).await.unwrap(), 200);
    // With a pinned CA, the host name is still checked.
    let named = TestServer::tls_with_ca_in_chain(&ca, &ca.server(&["other.host"]), hello()).await;
    must_fail(
        builder(&named.url("https", "localhost")).ssl_assert_fingerprint(&ca_fp),
        "not valid for the host name",
    )
    .await;
}

#[tokio::test]
async fn verify_certs_off_accepts_anything() {
    // (The WARN it logs is checked in secrets_in_logs.rs, where logs are captured reliably.)
    let server = TestServer::tls(&[], &self_signed(&["not.localhost"]), None, hello()).await;
    let t = builder(&server.url("https", "localhost"))
        .verify_certs(false)
        .build()
        .unwrap();
    assert_eq!(get(&t).await.unwrap(), 200);
    // The default does verify.
    must_fail(
        builder(&server.url("https", "localhost")),
        "unknown certificate authority",
    )
    .await;
}

#[tokio::test]
async fn mutual_tls() {
    let ca = Ca::new("Test CA");
    let client_ca = Ca::new("Client CA");
    let server = TestServer::tls(&[], &ca.server(&["localhost"]), Some(&client_ca), hello()).await;
    let url = server.url("https", "localhost");
    let client = client_ca.client("es-client");

    // Client certificate from PEM data, and from files.
    let t = builder(&url)
        .ca_certs_pem(&ca.pem)
        .client_cert_pem(&client.pem, &client.key_pem)
        .build()
        .unwrap();
    assert_eq!(get(&t).await.unwrap(), 200);
    let dir = temp_dir("client");
    std::fs::write(dir.join("client.crt"), &client.pem).unwrap();
    std::fs::write(dir.join("client.key"), &client.key_pem).unwrap();
    let t = builder(&url)
        .ca_certs_pem(&ca.pem)
        .client_cert_files(dir.join("client.crt"), dir.join("client.key"))
        .build()
        .unwrap();
    assert_eq!(get(&t).await.unwrap(), 200);
    std::fs::remove_dir_all(&dir).unwrap();

    // Without one, or with one from a CA the server does not trust, the server refuses.
    // (With TLS 1.3 the server's refusal arrives just after the client's side of the
    // handshake completes; the transport still reports it as a TLS error.)
    let stranger = Ca::new("Stranger CA").client("es-client");
    for b in [
        builder(&url).ca_certs_pem(&ca.pem),
        builder(&url)
            .ca_certs_pem(&ca.pem)
            .client_cert_pem(&stranger.pem, &stranger.key_pem),
    ] {
        let err = get(&b.build().unwrap()).await.unwrap_err();
        let msg = err.to_string();
        assert!(err.is_tls(), "{msg}");
        assert!(
            msg.contains("CertificateRequired")
                || msg.contains("client certificate")
                || msg.contains("UnknownCA")
                || msg.contains("BadCertificate"),
            "{msg}"
        );
    }
    assert_eq!(
        server.requests().len(),
        2,
        "only the requests with a good client certificate got through"
    );
    assert!(!server.tls_errors.lock().unwrap().is_empty());
}

#[tokio::test]
async fn plain_http_server_on_an_https_url_says_so() {
    let server = TestServer::plain(hello()).await;
    let err = must_fail(builder(&server.url("https", "localhost")), "https").await;
    assert!(err.to_string().contains("plain HTTP"), "{err}");
}
