//! `cargo xtask bench api`: GET-by-id of a small document against a null server (another
//! process), es-api against the official `elasticsearch` crate.
//!
//! One client per process, so getrusage counts only that client:
//!
//! ```text
//! es-bench-api --client ours|crate|hyper --mode seq|conc --url http://127.0.0.1:PORT
//!              [--requests N] [--in-flight 64] [--rounds 3] [--parse typed|none]
//! ```
//!
//! `hyper` is a bare hyper-util client, the floor any hyper-based client stands on.
//!
//! All clients run on the same runtime (multi-thread, 2 workers); `conc` is `--in-flight`
//! tasks each looping. After a warm-up, it runs `--rounds` rounds and prints one JSON line
//! with the best round (lowest CPU per request): `{"client", "mode", "requests", "wall_s",
//! "cpu_s", "rps", "cpu_us", "sys_us"}`. With `--parse typed` (the default) both clients parse the body
//! into the same struct ([`Doc`]); with `none` both only read the body bytes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use nix::sys::resource::{UsageWho, getrusage};
use serde::Deserialize;

/// The null server's document, parsed the same way by both clients.
#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Doc {
    _index: String,
    _id: String,
    found: bool,
    _source: Source,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Source {
    title: String,
    n: u64,
}

#[derive(Debug, Clone)]
struct Args {
    client: String,
    mode: String,
    url: String,
    requests: u64,
    in_flight: u64,
    rounds: u32,
    parse: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        client: String::new(),
        mode: "seq".into(),
        url: String::new(),
        requests: 0,
        in_flight: 64,
        rounds: 3,
        parse: true,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut val = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--client" => a.client = val()?,
            "--mode" => a.mode = val()?,
            "--url" => a.url = val()?,
            "--requests" => a.requests = val()?.parse().map_err(|e| format!("--requests: {e}"))?,
            "--in-flight" => {
                a.in_flight = val()?.parse().map_err(|e| format!("--in-flight: {e}"))?
            }
            "--rounds" => a.rounds = val()?.parse().map_err(|e| format!("--rounds: {e}"))?,
            "--parse" => {
                a.parse = match val()?.as_str() {
                    "typed" => true,
                    "none" => false,
                    other => return Err(format!("--parse typed|none, not {other}")),
                }
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if !matches!(a.client.as_str(), "ours" | "crate" | "hyper") {
        return Err("--client ours|crate|hyper".into());
    }
    if a.url.is_empty() {
        return Err("--url URL".into());
    }
    match a.mode.as_str() {
        "seq" => a.in_flight = 1,
        "conc" => {}
        _ => return Err("--mode seq|conc".into()),
    }
    if a.requests == 0 {
        a.requests = if a.in_flight == 1 { 20_000 } else { 64_000 };
    }
    a.requests = a.requests.div_ceil(a.in_flight) * a.in_flight;
    Ok(a)
}

/// (user, system) CPU time of this process (all threads).
fn cpu_time() -> (Duration, Duration) {
    let ru = getrusage(UsageWho::RUSAGE_SELF).expect("getrusage");
    let tv =
        |t: nix::sys::time::TimeVal| Duration::new(t.tv_sec() as u64, (t.tv_usec() as u32) * 1000);
    (tv(ru.user_time()), tv(ru.system_time()))
}

#[derive(Debug, Clone, Copy)]
struct Measure {
    ops: u64,
    wall: Duration,
    cpu: Duration,
    sys: Duration,
}

impl Measure {
    fn cpu_us(&self) -> f64 {
        self.cpu.as_secs_f64() * 1e6 / self.ops as f64
    }
    fn sys_us(&self) -> f64 {
        self.sys.as_secs_f64() * 1e6 / self.ops as f64
    }
    fn rps(&self) -> f64 {
        self.ops as f64 / self.wall.as_secs_f64()
    }
}

/// One GET of `bench/1`; `Ok(())` when the body came back (and parsed, with `parse`).
trait GetOne: Clone + Send + Sync + 'static {
    fn get_one(&self, parse: bool) -> impl std::future::Future<Output = ()> + Send;
}

#[derive(Clone)]
struct Ours(es_api::Client);

impl GetOne for Ours {
    async fn get_one(&self, parse: bool) {
        let resp = self.0.get("bench", "1").send().await.expect("es-api get");
        if parse {
            let doc: Doc = resp.json().expect("es-api body");
            assert!(doc.found);
        } else {
            assert_eq!(resp.bytes().len(), 129);
        }
    }
}

#[derive(Clone)]
struct Crate(Arc<elasticsearch::Elasticsearch>);

impl GetOne for Crate {
    async fn get_one(&self, parse: bool) {
        let resp = self
            .0
            .get(elasticsearch::GetParts::IndexId("bench", "1"))
            .send()
            .await
            .expect("elasticsearch get");
        assert!(resp.status_code().is_success());
        if parse {
            let doc: Doc = resp.json().await.expect("elasticsearch body");
            assert!(doc.found);
        } else {
            assert_eq!(resp.bytes().await.expect("elasticsearch body").len(), 129);
        }
    }
}

/// The floor: a bare hyper-util client (no pool logic, retries, headers …), for reference.
#[derive(Clone)]
struct Bare(
    Arc<
        hyper_util::client::legacy::Client<
            hyper_util::client::legacy::connect::HttpConnector,
            Empty<Bytes>,
        >,
    >,
    http::Uri,
);

impl GetOne for Bare {
    async fn get_one(&self, parse: bool) {
        let req = http::Request::get(self.1.clone())
            .body(Empty::new())
            .expect("request");
        let resp = self.0.request(req).await.expect("hyper get");
        assert!(resp.status().is_success());
        let body = resp
            .into_body()
            .collect()
            .await
            .expect("hyper body")
            .to_bytes();
        if parse {
            let doc: Doc = serde_json::from_slice(&body).expect("hyper body json");
            assert!(doc.found);
        } else {
            assert_eq!(body.len(), 129);
        }
    }
}

fn run_client<C: GetOne>(rt: &tokio::runtime::Runtime, client: C, a: &Args) -> Measure {
    let run = |n: u64| {
        rt.block_on(async {
            let mut set = tokio::task::JoinSet::new();
            for _ in 0..a.in_flight {
                let client = client.clone();
                let parse = a.parse;
                let per_task = n / a.in_flight;
                set.spawn(async move {
                    for _ in 0..per_task {
                        client.get_one(parse).await;
                    }
                });
            }
            while let Some(r) = set.join_next().await {
                r.expect("task");
            }
        })
    };
    run(a.in_flight * 50); // warm up: connections open, allocator warm
    (0..a.rounds.max(1))
        .map(|_| {
            let (u0, s0) = cpu_time();
            let t0 = Instant::now();
            run(a.requests);
            let wall = t0.elapsed();
            let (u1, s1) = cpu_time();
            Measure {
                ops: a.requests,
                wall,
                cpu: (u1 - u0) + (s1 - s0),
                sys: s1 - s0,
            }
        })
        .min_by(|x, y| x.cpu_us().total_cmp(&y.cpu_us()))
        .expect("one round")
}

fn main() {
    let a = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("es-bench-api: {e}");
            std::process::exit(2);
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let m = match a.client.as_str() {
        "ours" => {
            // As many connections as tasks in flight (the crate's reqwest pool is unbounded).
            let transport = es_api::Transport::builder(a.url.as_str())
                .connections_per_node(a.in_flight as usize)
                .build()
                .expect("es-api transport");
            run_client(&rt, Ours(es_api::Client::new(transport)), &a)
        }
        "hyper" => {
            let client =
                hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                    .build_http();
            let uri: http::Uri = format!("{}/bench/_doc/1", a.url).parse().expect("uri");
            run_client(&rt, Bare(Arc::new(client), uri), &a)
        }
        _ => {
            let transport = elasticsearch::http::transport::Transport::single_node(&a.url)
                .expect("elasticsearch transport");
            let client = elasticsearch::Elasticsearch::new(transport);
            run_client(&rt, Crate(Arc::new(client)), &a)
        }
    };
    println!(
        "{{\"client\":\"{}\",\"mode\":\"{}\",\"requests\":{},\"wall_s\":{:.6},\"cpu_s\":{:.6},\"rps\":{:.1},\"cpu_us\":{:.2},\"sys_us\":{:.2}}}",
        a.client,
        a.mode,
        m.ops,
        m.wall.as_secs_f64(),
        m.cpu.as_secs_f64(),
        m.rps(),
        m.cpu_us(),
        m.sys_us()
    );
}
