//! `helpers-bench`: the side-by-side helpers benchmark (`cargo xtask bench helpers`).
//!
//! `helpers-bench [--docs N] [--osmem-docs N] [--big-docs N] [--no-python] [--no-osmem]`
//! starts osmem-server and a null server (in its own process), then runs every client case
//! in its own process (`helpers-bench client CASE URL DOCS CONCURRENCY`, or
//! `python3 bench/helpers/pybench.py ...`), each reporting its own docs/s, CPU (getrusage) and peak
//! RSS; it prints a markdown table with ratios to ours.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use futures_util::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

const BODY: &str = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore";
const CHUNK: usize = 1000;

/// The benchmark document: about 200 bytes of JSON, the same as pybench.py's.
#[derive(Serialize, Deserialize)]
struct Doc {
    n: u64,
    title: String,
    body: String,
    tags: [String; 3],
    price: f64,
    in_stock: bool,
}

#[derive(Serialize)]
struct DocRef {
    n: u64,
    title: String,
    body: &'static str,
    tags: [&'static str; 3],
    price: f64,
    in_stock: bool,
}

fn doc(n: u64) -> DocRef {
    DocRef {
        n,
        title: format!("Document number {n}"),
        body: BODY,
        tags: ["alpha", "beta", "gamma"],
        price: n as f64 * 0.25,
        in_stock: n % 2 == 0,
    }
}

fn usage() -> (f64, u64) {
    let ru = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_SELF)
        .expect("getrusage");
    let tv = |t: nix::sys::time::TimeVal| t.tv_sec() as f64 + t.tv_usec() as f64 / 1e6;
    (
        tv(ru.user_time()) + tv(ru.system_time()),
        ru.max_rss() as u64,
    )
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("client") => {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()?;
            rt.block_on(client(
                &args[1],
                &args[2],
                args[3].parse()?,
                args[4].parse()?,
            ))
        }
        Some("null-server") => null_server(),
        _ => driver(&args),
    }
}

// ===== the clients =====

async fn client(case: &str, url: &str, docs: u64, concurrency: usize) -> Result<()> {
    let started = Instant::now();
    let ok = match case {
        "ours-bulk" => {
            let client = es_api::Client::new(es_api::Transport::builder(url.to_owned()).build()?);
            let actions =
                (0..docs).map(|n| es_helpers::bulk::BulkAction::index(doc(n)).id(n.to_string()));
            let s = es_helpers::bulk::Bulk::new(&client)
                .index("bench")
                .chunk_size(CHUNK)
                .concurrency(concurrency)
                .run_iter(actions)
                .await?;
            s.succeeded()
        }
        "ours-scan" => {
            let client = es_api::Client::new(es_api::Transport::builder(url.to_owned()).build()?);
            let hits = es_helpers::scan::Scan::new(&client, "bench")
                .size(CHUNK as u32)
                .stream::<Doc>();
            hits.try_fold(0u64, |n, _| async move { Ok(n + 1) }).await?
        }
        "crate-bulk" => crate_bulk(url, docs, concurrency).await?,
        other => bail!("unknown case {other}"),
    };
    let secs = started.elapsed().as_secs_f64();
    let (cpu, rss_kb) = usage();
    println!(
        "{}",
        json!({"case": case, "docs": ok, "secs": secs, "cpu": cpu, "rss_kb": rss_kb})
    );
    Ok(())
}

/// The `elasticsearch` crate with bulk bodies built by hand: chunks of `BulkOperations`,
/// `concurrency` requests in flight, each response parsed to count the successes.
async fn crate_bulk(url: &str, docs: u64, concurrency: usize) -> Result<u64> {
    use elasticsearch::http::transport::Transport;
    use elasticsearch::{BulkOperation, BulkOperations, BulkParts, Elasticsearch};

    let es = Elasticsearch::new(Transport::single_node(url)?);
    let chunks = (0..docs).step_by(CHUNK).map(move |start| {
        let mut ops = BulkOperations::new();
        for n in start..(start + CHUNK as u64).min(docs) {
            ops.push(BulkOperation::index(doc(n)).id(n.to_string()))
                .expect("serialize");
        }
        ops
    });
    let es2 = es.clone();
    let results = futures_util::stream::iter(chunks)
        .map(move |ops| {
            let es = es2.clone();
            async move {
                let resp = es
                    .bulk(BulkParts::Index("bench"))
                    .body(vec![ops])
                    .send()
                    .await?;
                let body: Value = resp.json().await?;
                let items = body["items"].as_array().map_or(&[][..], Vec::as_slice);
                let ok = items
                    .iter()
                    .filter(|i| {
                        i.as_object()
                            .and_then(|m| m.values().next())
                            .and_then(|v| v["status"].as_u64())
                            .is_some_and(|s| (200..300).contains(&s))
                    })
                    .count();
                anyhow::Ok(ok as u64)
            }
        })
        .buffer_unordered(concurrency);
    results
        .try_fold(0u64, |a, n| async move { Ok(a + n) })
        .await
}

fn null_server() -> Result<()> {
    let server = es_tests::CountingServer::builder().bulk().start();
    println!("{}", json!({"url": server.url()}));
    std::io::stdout().flush()?;
    let mut sink = String::new();
    let _ = std::io::stdin().read_line(&mut sink);
    Ok(())
}

// ===== the driver =====

#[derive(Debug, Clone, Deserialize)]
struct Measure {
    case: String,
    docs: u64,
    secs: f64,
    cpu: f64,
    rss_kb: u64,
}

struct Row {
    target: &'static str,
    label: String,
    base: Option<usize>,
    m: Measure,
}

fn run(cmd: &mut Command) -> Result<Measure> {
    let out = cmd
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("running {cmd:?}"))?;
    if !out.status.success() {
        bail!("{cmd:?} failed: {}", String::from_utf8_lossy(&out.stdout));
    }
    let text = String::from_utf8(out.stdout)?;
    let line = text.lines().last().context("no output")?;
    serde_json::from_str(line).with_context(|| format!("bad output {line}"))
}

fn driver(args: &[String]) -> Result<()> {
    let mut docs: u64 = 200_000;
    let mut osmem_docs: u64 = 200_000;
    let mut big_docs: u64 = 10_000_000;
    let (mut python, mut osmem) = (true, true);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--docs" => docs = it.next().context("--docs N")?.parse()?,
            "--osmem-docs" => osmem_docs = it.next().context("--osmem-docs N")?.parse()?,
            "--big-docs" => big_docs = it.next().context("--big-docs N")?.parse()?,
            "--no-python" => python = false,
            "--no-osmem" => osmem = false,
            other => bail!("unknown argument {other}"),
        }
    }
    // bench/helpers -> the repository root.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .context("repo root")?
        .to_path_buf();
    let me = std::env::current_exe()?;
    let pybench = root.join("bench/helpers/pybench.py");
    let pypath = root.join("target/pybench");
    if python && !pypath.join("elasticsearch").exists() {
        eprintln!("installing elasticsearch-py into {}", pypath.display());
        let st = Command::new("python3")
            .args(["-m", "pip", "install", "--quiet", "--target"])
            .arg(&pypath)
            .arg("elasticsearch")
            .status()?;
        if !st.success() {
            bail!("pip install elasticsearch failed");
        }
    }

    // The null server, in its own process.
    let mut null = Command::new(&me)
        .arg("null-server")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let mut line = String::new();
    BufReader::new(null.stdout.take().context("stdout")?).read_line(&mut line)?;
    let null_url = serde_json::from_str::<Value>(&line)?["url"]
        .as_str()
        .context("url")?
        .to_owned();
    let server = osmem.then(|| es_tests::OsmemServer::start_with_args(&["-no-ja"]));

    let ours = |url: &str, case: &str, n: u64, c: usize| {
        let mut cmd = Command::new(&me);
        cmd.args(["client", case, url, &n.to_string(), &c.to_string()]);
        cmd
    };
    let py = |url: &str, case: &str, n: u64, c: usize| {
        let mut cmd = Command::new("python3");
        cmd.arg(&pybench)
            .args([case, url, &n.to_string(), &c.to_string()])
            .env("PYTHONPATH", &pypath);
        cmd
    };

    let mut rows: Vec<Row> = Vec::new();
    let mut targets = vec![("null", null_url.clone(), docs)];
    if let Some(s) = &server {
        targets.push(("osmem", s.url(), osmem_docs));
    }
    for (target, url, n) in &targets {
        let base1 = rows.len();
        for (label, cmd, base) in [
            (
                "ours bulk (1 in flight)",
                ours(url, "ours-bulk", *n, 1),
                None,
            ),
            (
                "ours bulk (2 in flight)",
                ours(url, "ours-bulk", *n, 2),
                None,
            ),
            (
                "ours bulk (4 in flight)",
                ours(url, "ours-bulk", *n, 4),
                None,
            ),
            (
                "elasticsearch crate, hand-built bulk (1 in flight)",
                ours(url, "crate-bulk", *n, 1),
                Some(base1),
            ),
            (
                "elasticsearch crate, hand-built bulk (4 in flight)",
                ours(url, "crate-bulk", *n, 4),
                Some(base1 + 2),
            ),
        ] {
            let mut cmd = cmd;
            eprintln!("{target}: {label} ...");
            rows.push(Row {
                target,
                label: label.into(),
                base,
                m: run(&mut cmd)?,
            });
        }
        if python {
            for (label, cmd, base) in [
                (
                    "elasticsearch-py helpers.bulk",
                    py(url, "bulk", *n, 1),
                    Some(base1),
                ),
                (
                    "elasticsearch-py parallel_bulk (2 threads)",
                    py(url, "parallel_bulk", *n, 2),
                    Some(base1 + 1),
                ),
                (
                    "elasticsearch-py parallel_bulk (4 threads)",
                    py(url, "parallel_bulk", *n, 4),
                    Some(base1 + 2),
                ),
            ] {
                let mut cmd = cmd;
                eprintln!("{target}: {label} ...");
                rows.push(Row {
                    target,
                    label: label.into(),
                    base,
                    m: run(&mut cmd)?,
                });
            }
        }
        if *target == "osmem" {
            let base = rows.len();
            eprintln!("{target}: scans ...");
            rows.push(Row {
                target,
                label: "ours scan (scroll)".into(),
                base: None,
                m: run(&mut ours(url, "ours-scan", 0, 1))?,
            });
            if python {
                rows.push(Row {
                    target,
                    label: "elasticsearch-py helpers.scan".into(),
                    base: Some(base),
                    m: run(&mut py(url, "scan", 0, 1))?,
                });
            }
        }
    }
    if big_docs > 0 {
        eprintln!("null: ours bulk of {big_docs} docs (memory bound) ...");
        for c in [1, 4] {
            let m = run(&mut ours(&null_url, "ours-bulk", big_docs, c))?;
            rows.push(Row {
                target: "null",
                label: format!("ours bulk, {big_docs} docs ({c} in flight)"),
                base: None,
                m,
            });
        }
    }
    drop(null.stdin.take());
    let _ = null.wait();
    drop(server);

    println!(
        "| server | client | docs | docs/s | client CPU s | µs CPU/doc | peak RSS MiB | docs/s vs ours | CPU vs ours | RSS vs ours |"
    );
    println!("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for r in &rows {
        let m = &r.m;
        let rate = m.docs as f64 / m.secs;
        let (vs_rate, vs_cpu, vs_rss) = match r.base.map(|b| &rows[b].m) {
            Some(b) => (
                format!("{:.2}×", rate / (b.docs as f64 / b.secs)),
                format!("{:.2}×", m.cpu / b.cpu),
                format!("{:.2}×", m.rss_kb as f64 / b.rss_kb as f64),
            ),
            None => ("(ours)".into(), String::new(), String::new()),
        };
        println!(
            "| {} | {} | {} | {:.0} | {:.2} | {:.2} | {:.1} | {vs_rate} | {vs_cpu} | {vs_rss} |",
            r.target,
            r.label,
            m.docs,
            rate,
            m.cpu,
            m.cpu * 1e6 / m.docs.max(1) as f64,
            m.rss_kb as f64 / 1024.0,
        );
        let _ = &m.case;
    }
    Ok(())
}
