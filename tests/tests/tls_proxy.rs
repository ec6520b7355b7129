//! End to end through a real TLS-terminating reverse proxy with basic auth: nginx (Debian
//! package `nginx`) in front of osmem-server, with a CA made at test time. Index and search
//! pass with the right credentials; wrong ones are an API error 401; a client that does not
//! trust the CA fails with a TLS error.
//!
//! nginx is found through `NGINX_BIN`, then `PATH`, then `/usr/sbin/nginx`; without it the
//! test fails and says how to install it.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use es_tests::server::OsmemServer;
use es_transport::{ErrorKind, Request, Transport};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType,
};

const USER: &str = "elastic";
const PASSWORD: &str = "changeme-e2e";

/// A CA, and a server certificate for `localhost` / 127.0.0.1 it signed: (CA PEM, cert PEM, key PEM).
fn make_pki() -> (String, String, String) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "es-tests proxy CA");
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().unwrap();
    let mut leaf = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    leaf.subject_alt_names
        .push(SanType::IpAddress([127, 0, 0, 1].into()));
    leaf.distinguished_name
        .push(DnType::CommonName, "localhost");
    let cert = leaf.signed_by(&key, &issuer).unwrap();
    (ca_cert.pem(), cert.pem(), key.serialize_pem())
}

fn find_nginx() -> PathBuf {
    const INSTALL: &str = "this test needs a real TLS proxy: install nginx with `apt-get install -y nginx` \
                           (Debian), or point NGINX_BIN at an nginx binary";
    if let Some(p) = std::env::var_os("NGINX_BIN").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        assert!(
            p.is_file(),
            "NGINX_BIN={} is not a file; {INSTALL}",
            p.display()
        );
        return p;
    }
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join("nginx"));
    on_path
        .chain([PathBuf::from("/usr/sbin/nginx")])
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("nginx not found (NGINX_BIN, PATH, /usr/sbin/nginx); {INSTALL}"))
}

/// A fresh private directory for one nginx.
fn temp_dir() -> PathBuf {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    let d = std::env::temp_dir().join(format!(
        "es-tls-proxy-{}-{:x}",
        std::process::id(),
        h.finish()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// nginx in the foreground as one process (`master_process off`), stopped and cleaned up on drop.
struct Nginx {
    child: Child,
    dir: PathBuf,
    port: u16,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn config(dir: &Path, port: u16, upstream: std::net::SocketAddr) -> String {
    let d = dir.display();
    format!(
        r#"
master_process off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log info;
events {{ worker_connections 64; }}
http {{
    access_log {d}/access.log;
    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    server {{
        listen 127.0.0.1:{port} ssl;
        server_name localhost;
        ssl_certificate {d}/server.crt;
        ssl_certificate_key {d}/server.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        auth_basic "elasticsearch";
        auth_basic_user_file {d}/htpasswd;
        client_max_body_size 10m;
        location / {{
            proxy_pass http://{upstream};
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Authorization "";
        }}
    }}
}}
"#
    )
}

impl Nginx {
    fn start(upstream: std::net::SocketAddr, cert: &str, key: &str) -> Nginx {
        let bin = find_nginx();
        let mut last_error = String::new();
        // The port is picked free, then bound by nginx: retry if someone took it meanwhile.
        for _ in 0..3 {
            let dir = temp_dir();
            let port = free_port();
            std::fs::write(dir.join("server.crt"), cert).unwrap();
            std::fs::write(dir.join("server.key"), key).unwrap();
            // nginx's own "{PLAIN}" password scheme.
            std::fs::write(
                dir.join("htpasswd"),
                format!("{USER}:{{PLAIN}}{PASSWORD}\n"),
            )
            .unwrap();
            std::fs::write(dir.join("nginx.conf"), config(&dir, port, upstream)).unwrap();
            let child = Command::new(&bin)
                .arg("-p")
                .arg(&dir)
                .arg("-e")
                .arg(dir.join("error.log"))
                .arg("-c")
                .arg(dir.join("nginx.conf"))
                .arg("-g")
                .arg("daemon off;")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.display()));
            let mut nginx = Nginx { child, dir, port };
            for _ in 0..100 {
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return nginx;
                }
                if let Ok(Some(_)) = nginx.child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            last_error = std::fs::read_to_string(nginx.dir.join("error.log")).unwrap_or_default();
            if let Some(mut e) = nginx.child.stderr.take() {
                use std::io::Read;
                let _ = nginx.child.kill();
                let _ = e.read_to_string(&mut last_error);
            }
        }
        panic!("nginx did not start:\n{last_error}");
    }

    fn url(&self) -> String {
        format!("https://localhost:{}", self.port)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn index_and_search_through_a_tls_basic_auth_proxy() {
    let server = OsmemServer::start();
    let (ca, cert, key) = make_pki();
    let nginx = Nginx::start(server.addr(), &cert, &key);
    let url = nginx.url();

    // The right credentials: index, then search, gzipped bodies and all.
    let t = Transport::builder(url.as_str())
        .ca_certs_pem(&ca)
        .basic_auth(USER, PASSWORD)
        .http_compress(true)
        .build()
        .unwrap();
    let resp = t
        .send(
            Request::put("/books/_doc/1?refresh=true")
                .with_json_body(r#"{"title":"The Rust Programming Language"}"#),
        )
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201);
    let found: serde_json::Value = t
        .send(
            Request::post("/books/_search")
                .with_json_body(r#"{"query":{"match":{"title":"rust"}}}"#),
        )
        .await
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(found["hits"]["total"]["value"], 1, "{found}");
    assert_eq!(
        found["hits"]["hits"][0]["_source"]["title"],
        "The Rust Programming Language"
    );

    // Credentials in the URL work the same.
    let t = Transport::builder(format!(
        "https://{USER}:{PASSWORD}@localhost:{}",
        nginx.port
    ))
    .ca_certs_pem(&ca)
    .build()
    .unwrap();
    let got: serde_json::Value = t
        .send(Request::get("/books/_doc/1"))
        .await
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(got["found"], true);

    // Wrong or missing credentials: an API error 401 from the proxy.
    for b in [
        Transport::builder(url.as_str())
            .ca_certs_pem(&ca)
            .basic_auth(USER, "wrong"),
        Transport::builder(url.as_str()).ca_certs_pem(&ca),
    ] {
        let err = b
            .build()
            .unwrap()
            .send(Request::get("/books/_search"))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Api, "{err}");
        assert_eq!(err.status().map(|s| s.as_u16()), Some(401), "{err}");
    }

    // A client that does not trust the CA: a TLS error that says why.
    let err = Transport::builder(url.as_str())
        .basic_auth(USER, PASSWORD)
        .max_retries(0)
        .build()
        .unwrap()
        .send(Request::get("/"))
        .await
        .unwrap_err();
    assert!(err.is_tls(), "{err}");
    assert!(
        err.to_string().contains("unknown certificate authority"),
        "{err}"
    );
    assert!(!err.to_string().contains(PASSWORD));
}
