//! `helpers-bench`: the side-by-side helpers benchmark (`cargo xtask bench helpers`).
//!
//! `helpers-bench [--docs N] [--osmem-docs N] [--big-docs N] [--rounds N] [--no-python]
//! [--no-osmem] [--scan-only] [--compare-bulk EXE]` starts osmem-server and a null server (in
//! its own process), then runs every client case in its own process (`helpers-bench client
//! CASE URL DOCS CONCURRENCY`, or `python3 bench/helpers/pybench.py ...`), each reporting its
//! own docs/s, CPU (getrusage) and peak RSS; it prints a markdown table with ratios to ours.
//!
//! Scans (against osmem-server, after the bulk rows loaded the index): ours by scroll into a
//! typed `Doc` and into `serde_json::Value`, ours into `Doc` a page at a time (`Scan::pages`),
//! ours by point in time (skipped, with the reason, when the server has no point-in-time API),
//! the `elasticsearch` crate's hand-rolled scroll into the same `Doc`, elasticsearch-py's
//! `helpers.scan`: `--rounds` (default 3) interleaved rounds, best round of each; the ours /
//! crate CPU-per-document ratios follow the table.
//! `--scan-only` loads the index with one ours bulk and runs the scans only.
//!
//! `--compare-bulk EXE`: bulk before/after. EXE is this benchmark built at another commit;
//! ours bulk (1, 2, 4 in flight) with both binaries, interleaved, against the null server,
//! `--rounds` rounds, best of each; prints docs/s and CPU per document, this / other.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use es_helpers::scan::ScanMode;
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
        in_stock: n.is_multiple_of(2),
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
        "ours-scan" => ours_scan::<Doc>(url, ScanMode::Scroll).await?,
        "ours-scan-value" => ours_scan::<Value>(url, ScanMode::Scroll).await?,
        "ours-scan-pages" => ours_scan_pages(url).await?,
        "ours-scan-pit" => ours_scan::<Doc>(url, ScanMode::PointInTime).await?,
        "probe-pit" => {
            // Whether the server has a point-in-time API: a 1-hit point-in-time scan.
            let client = es_api::Client::new(es_api::Transport::builder(url.to_owned()).build()?);
            let mut hits = es_helpers::scan::Scan::new(&client, "bench")
                .size(1)
                .point_in_time()
                .stream::<serde::de::IgnoredAny>();
            let skip = match hits.try_next().await {
                Ok(_) => Value::Null,
                Err(e) => Value::String(format!("point-in-time scan failed: {e}")),
            };
            drop(hits);
            println!(
                "{}",
                json!({"case": case, "docs": 0, "secs": 0.0, "cpu": 0.0, "rss_kb": 0, "skip": skip})
            );
            return Ok(());
        }
        "crate-bulk" => crate_bulk(url, docs, concurrency).await?,
        "crate-scroll" => crate_scroll(url).await?,
        "transport-scroll" => transport_scroll::<SearchHit<Doc>>(url).await?,
        "transport-scroll-fullhit" => transport_scroll::<FullHit<Doc>>(url).await?,
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

/// Ours: every hit of `bench` with its `_source` as `T`, 1,000 per page.
async fn ours_scan<T: serde::de::DeserializeOwned + Send + 'static>(
    url: &str,
    mode: ScanMode,
) -> Result<u64> {
    let client = es_api::Client::new(es_api::Transport::builder(url.to_owned()).build()?);
    let hits = es_helpers::scan::Scan::new(&client, "bench")
        .size(CHUNK as u32)
        .mode(mode)
        .stream::<T>();
    Ok(hits
        .try_fold(0u64, |n, hit| async move {
            std::hint::black_box(&hit);
            Ok(n + 1)
        })
        .await?)
}

/// Ours, a page at a time (`Scan::pages`): the same scroll as `ours-scan` into `Doc`, each
/// page's hits read in a plain loop.
async fn ours_scan_pages(url: &str) -> Result<u64> {
    let client = es_api::Client::new(es_api::Transport::builder(url.to_owned()).build()?);
    let pages = es_helpers::scan::Scan::new(&client, "bench")
        .size(CHUNK as u32)
        .pages::<Doc>();
    Ok(pages
        .try_fold(0u64, |mut n, page| async move {
            for hit in page {
                std::hint::black_box(&hit);
                n += 1;
            }
            Ok(n)
        })
        .await?)
}

/// A search or scroll response of the `elasticsearch` crate's hand-rolled scroll, with the
/// hits' `_source` as `T` (the same struct as ours).
#[derive(Deserialize)]
struct SearchResp<T> {
    #[serde(rename = "_scroll_id", default)]
    scroll_id: Option<String>,
    hits: SearchHits<T>,
}

#[derive(Deserialize)]
struct SearchHits<T> {
    hits: Vec<SearchHit<T>>,
}

/// A search or scroll response with hits of type `H`.
#[derive(Deserialize)]
struct SearchRespOf<H> {
    #[serde(rename = "_scroll_id", default)]
    scroll_id: Option<String>,
    hits: SearchHitsOf<H>,
}

#[derive(Deserialize)]
struct SearchHitsOf<H> {
    hits: Vec<H>,
}

/// Diagnostic: a hit with the fields the helper's `Hit` reads (`_index`, `_id`, `_score`,
/// `_routing`, `_source`, `_seq_no`, `_primary_term`, `_version`, `sort`).
#[derive(Deserialize)]
#[allow(dead_code)]
struct FullHit<T> {
    #[serde(rename = "_index", default)]
    index: String,
    #[serde(rename = "_id", default)]
    id: Option<String>,
    #[serde(rename = "_score", default)]
    score: Option<f64>,
    #[serde(rename = "_source")]
    source: Option<T>,
    #[serde(rename = "_routing", default)]
    routing: Option<String>,
    #[serde(rename = "_version", default)]
    version: Option<i64>,
    #[serde(rename = "_seq_no", default)]
    seq_no: Option<i64>,
    #[serde(rename = "_primary_term", default)]
    primary_term: Option<i64>,
    #[serde(default)]
    sort: Option<Vec<Value>>,
}

#[derive(Deserialize)]
struct SearchHit<T> {
    #[serde(rename = "_id")]
    #[allow(dead_code)]
    id: String,
    #[serde(rename = "_source")]
    source: T,
}

/// The `elasticsearch` crate, scroll by hand: a search with `scroll=5m`, `size` 1,000 and
/// `sort: ["_doc"]` (what ours and elasticsearch-py send), then `scroll` with the latest
/// scroll id until a page comes back empty, then `clear_scroll`. Each page is read with
/// `response.json::<SearchResp<Doc>>()`. One request at a time (no prefetch).
async fn crate_scroll(url: &str) -> Result<u64> {
    use elasticsearch::http::transport::Transport;
    use elasticsearch::{ClearScrollParts, Elasticsearch, ScrollParts, SearchParts};

    let es = Elasticsearch::new(Transport::single_node(url)?);
    let mut page: SearchResp<Doc> = es
        .search(SearchParts::Index(&["bench"]))
        .scroll("5m")
        .size(CHUNK as i64)
        .body(json!({"sort": ["_doc"]}))
        .send()
        .await?
        .error_for_status_code()?
        .json()
        .await?;
    let mut n = 0u64;
    let mut scroll_id = None;
    loop {
        if let Some(id) = page.scroll_id.take() {
            scroll_id = Some(id);
        }
        if page.hits.hits.is_empty() {
            break;
        }
        for hit in page.hits.hits {
            std::hint::black_box(&hit.source);
            n += 1;
        }
        let id = scroll_id.as_deref().context("no scroll id")?;
        page = es
            .scroll(ScrollParts::None)
            .body(json!({"scroll": "5m", "scroll_id": id}))
            .send()
            .await?
            .error_for_status_code()?
            .json()
            .await?;
    }
    if let Some(id) = scroll_id {
        es.clear_scroll(ClearScrollParts::None)
            .body(json!({"scroll_id": [id]}))
            .send()
            .await?
            .error_for_status_code()?;
    }
    Ok(n)
}

/// Diagnostic: the crate's hand-rolled scroll loop over our transport (`es_transport`,
/// `Response::json::<SearchResp<Doc>>`), no prefetch: what a scan costs without the helper.
/// `H`: the hit type (`SearchHit<Doc>`: `_id` and `_source` only; `FullHit<Doc>`: the
/// fields of the helper's `Hit`).
async fn transport_scroll<H: serde::de::DeserializeOwned>(url: &str) -> Result<u64> {
    use es_api::es_transport::{Request, Transport};

    let t = Transport::builder(url.to_owned()).build()?;
    let mut page: SearchRespOf<H> = t
        .send(
            Request::post(format!("/bench/_search?scroll=5m&size={CHUNK}"))
                .with_json_body(r#"{"sort":["_doc"]}"#),
        )
        .await?
        .json()?;
    let mut n = 0u64;
    let mut scroll_id = None;
    loop {
        if let Some(id) = page.scroll_id.take() {
            scroll_id = Some(id);
        }
        if page.hits.hits.is_empty() {
            break;
        }
        for hit in page.hits.hits {
            std::hint::black_box(&hit);
            n += 1;
        }
        let id = scroll_id.as_deref().context("no scroll id")?;
        let body = serde_json::to_vec(&json!({"scroll": "5m", "scroll_id": id}))?;
        page = t
            .send(Request::post("/_search/scroll").with_json_body(body))
            .await?
            .json()?;
    }
    if let Some(id) = scroll_id {
        let body = serde_json::to_vec(&json!({"scroll_id": [id]}))?;
        t.send(Request::delete("/_search/scroll").with_json_body(body))
            .await?;
    }
    Ok(n)
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
    /// Set by a probe: why the case cannot run against this server.
    #[serde(default)]
    skip: Option<String>,
}

impl Measure {
    fn us_per_doc(&self) -> f64 {
        self.cpu * 1e6 / self.docs.max(1) as f64
    }
}

/// Runs every command of `cases` `rounds` times, interleaved (case 1, case 2, …, then again),
/// and keeps each case's best round (lowest CPU per document); prints every round's CPU per
/// document on stderr.
fn best_of_rounds(
    rounds: usize,
    cases: &mut [(String, Command)],
) -> Result<Vec<(Measure, Vec<f64>)>> {
    let mut best: Vec<Option<Measure>> = vec![None; cases.len()];
    let mut all: Vec<Vec<f64>> = vec![Vec::new(); cases.len()];
    for round in 1..=rounds {
        for (i, (label, cmd)) in cases.iter_mut().enumerate() {
            let m = run(cmd)?;
            eprintln!(
                "  round {round}: {label}: {} docs, {:.3} µs CPU/doc, {:.0} docs/s",
                m.docs,
                m.us_per_doc(),
                m.docs as f64 / m.secs
            );
            all[i].push(m.us_per_doc());
            if best[i]
                .as_ref()
                .is_none_or(|b| m.us_per_doc() < b.us_per_doc())
            {
                best[i] = Some(m);
            }
        }
    }
    Ok(best
        .into_iter()
        .map(|m| m.expect("at least one round"))
        .zip(all)
        .collect())
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
    let mut rounds: usize = 3;
    let (mut python, mut osmem, mut scan_only) = (true, true, false);
    let mut compare_bulk: Option<std::path::PathBuf> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--docs" => docs = it.next().context("--docs N")?.parse()?,
            "--osmem-docs" => osmem_docs = it.next().context("--osmem-docs N")?.parse()?,
            "--big-docs" => big_docs = it.next().context("--big-docs N")?.parse()?,
            "--rounds" => rounds = it.next().context("--rounds N")?.parse::<usize>()?.max(1),
            "--no-python" => python = false,
            "--no-osmem" => osmem = false,
            "--scan-only" => scan_only = true,
            "--compare-bulk" => {
                compare_bulk = Some(it.next().context("--compare-bulk EXE")?.into());
            }
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
    if compare_bulk.is_some() || scan_only {
        // Bulk before/after or scans only: no null-server bulk peers, no memory-bound run.
        big_docs = 0;
    }
    if compare_bulk.is_some() {
        python = false;
    }
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

    if let Some(other) = &compare_bulk {
        let r = compare_bulk_run(&me, other, &null_url, docs, rounds);
        drop(null.stdin.take());
        let _ = null.wait();
        return r;
    }

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
    let mut notes: Vec<String> = Vec::new();
    let mut targets = Vec::new();
    if !scan_only {
        targets.push(("null", null_url.clone(), docs));
    }
    if let Some(s) = &server {
        targets.push(("osmem", s.url(), osmem_docs));
    }
    for (target, url, n) in &targets {
        let base1 = rows.len();
        let mut bulk_cases = vec![
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
        ];
        if scan_only {
            // Only what loads the index for the scans.
            bulk_cases.drain(..2);
            bulk_cases.truncate(1);
        }
        for (label, cmd, base) in bulk_cases {
            let mut cmd = cmd;
            eprintln!("{target}: {label} ...");
            rows.push(Row {
                target,
                label: label.into(),
                base,
                m: run(&mut cmd)?,
            });
        }
        if python && !scan_only {
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
            scans(
                &mut rows,
                &mut notes,
                target,
                url,
                rounds,
                &ours,
                python.then_some(&py),
            )?;
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
                format!("{:.2}×", m.us_per_doc() / b.us_per_doc()),
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
            m.us_per_doc(),
            m.rss_kb as f64 / 1024.0,
        );
        let _ = &m.case;
    }
    for n in &notes {
        println!("{n}");
    }
    Ok(())
}

/// Builds a client command: `(url, case, docs, concurrency)`.
type CaseCmd<'a> = dyn Fn(&str, &str, u64, usize) -> Command + 'a;

/// The scan rows (against osmem-server, after the bulk rows loaded the index): ours by
/// scroll into the typed `Doc` and into `Value`, ours by point in time (when the server has
/// one), the `elasticsearch` crate's hand-rolled scroll into `Doc`, elasticsearch-py's
/// `helpers.scan`; `rounds` interleaved rounds, best round of each.
fn scans(
    rows: &mut Vec<Row>,
    notes: &mut Vec<String>,
    target: &'static str,
    url: &str,
    rounds: usize,
    ours: &CaseCmd<'_>,
    py: Option<&CaseCmd<'_>>,
) -> Result<()> {
    let probe = run(&mut ours(url, "probe-pit", 0, 1))?;
    let mut cases: Vec<(String, Command)> = vec![
        (
            "ours scan, typed Doc (scroll)".into(),
            ours(url, "ours-scan", 0, 1),
        ),
        (
            "ours scan, serde_json::Value (scroll)".into(),
            ours(url, "ours-scan-value", 0, 1),
        ),
        (
            "ours scan, typed Doc (scroll), a page at a time (Scan::pages)".into(),
            ours(url, "ours-scan-pages", 0, 1),
        ),
    ];
    let pit_row = match &probe.skip {
        None => {
            cases.push((
                "ours scan, typed Doc (point in time)".into(),
                ours(url, "ours-scan-pit", 0, 1),
            ));
            Some(cases.len() - 1)
        }
        Some(why) => {
            let msg = format!("skipped: ours scan by point in time ({why})");
            eprintln!("{msg}");
            notes.push(msg);
            None
        }
    };
    let crate_row = cases.len();
    cases.push((
        "elasticsearch crate, hand-rolled scroll, typed Doc".into(),
        ours(url, "crate-scroll", 0, 1),
    ));
    // Diagnostics: the same hand-rolled loop over es-transport alone, with the crate's
    // minimal hit (`_id`, `_source`) and with every field the helper's `Hit` reads; what is
    // left between the second and ours is the helper's stream machinery.
    cases.push((
        "diagnostic: es-transport, hand-rolled scroll, hit = _id + _source".into(),
        ours(url, "transport-scroll", 0, 1),
    ));
    cases.push((
        "diagnostic: es-transport, hand-rolled scroll, hit = the helper's Hit fields".into(),
        ours(url, "transport-scroll-fullhit", 0, 1),
    ));
    if let Some(py) = py {
        cases.push((
            "elasticsearch-py helpers.scan".into(),
            py(url, "scan", 0, 1),
        ));
    }
    eprintln!("{target}: scans, {rounds} interleaved rounds ...");
    let results = best_of_rounds(rounds, &mut cases)?;
    let base = rows.len();
    let expected = results[0].0.docs;
    for (i, ((label, _), (m, _))) in cases.iter().zip(&results).enumerate() {
        if m.docs != expected {
            notes.push(format!(
                "WARNING: {label} read {} hits, ours {expected}",
                m.docs
            ));
        }
        rows.push(Row {
            target,
            label: format!("{label}, best of {rounds}"),
            base: (i != 0).then_some(base),
            m: m.clone(),
        });
    }
    let krate = &results[crate_row];
    let mut ratio = |label: &str, i: usize| {
        let (m, per_round) = &results[i];
        let rounds: Vec<String> = per_round
            .iter()
            .zip(&krate.1)
            .map(|(o, c)| format!("{:.2}", o / c))
            .collect();
        notes.push(format!(
            "scan: {label} / elasticsearch crate hand-rolled scroll (typed Doc) = **{:.2}×** CPU per doc (best rounds: {:.3} / {:.3} µs; per round: {}; target ≤ 0.5×)",
            m.us_per_doc() / krate.0.us_per_doc(),
            m.us_per_doc(),
            krate.0.us_per_doc(),
            rounds.join(", ")
        ));
    };
    ratio("ours typed Doc (scroll)", 0);
    ratio("ours Value (scroll)", 1);
    ratio("ours typed Doc (scroll, Scan::pages)", 2);
    if let Some(i) = pit_row {
        ratio("ours typed Doc (point in time)", i);
    }
    Ok(())
}

/// Bulk before/after: ours bulk at 1, 2 and 4 in flight against the null server, with this
/// binary and with `other` (the same benchmark built at another commit), interleaved,
/// `rounds` rounds, best round of each (highest docs/s; its CPU per document alongside).
fn compare_bulk_run(
    me: &std::path::Path,
    other: &std::path::Path,
    url: &str,
    docs: u64,
    rounds: usize,
) -> Result<()> {
    let mut cases: Vec<(String, Command)> = Vec::new();
    for c in [1usize, 2, 4] {
        for (who, exe) in [("this build", me), ("other build", other)] {
            let mut cmd = Command::new(exe);
            cmd.args([
                "client",
                "ours-bulk",
                url,
                &docs.to_string(),
                &c.to_string(),
            ]);
            cases.push((format!("{who} / {c} in flight"), cmd));
        }
    }
    let mut best: Vec<Option<Measure>> = vec![None; cases.len()];
    let mut per_round: Vec<Vec<f64>> = vec![Vec::new(); cases.len()];
    for round in 1..=rounds {
        for (i, (label, cmd)) in cases.iter_mut().enumerate() {
            let m = run(cmd)?;
            let rate = m.docs as f64 / m.secs;
            eprintln!(
                "  round {round}: {label}: {rate:.0} docs/s, {:.3} µs CPU/doc",
                m.us_per_doc()
            );
            per_round[i].push(rate);
            if best[i]
                .as_ref()
                .is_none_or(|b| rate > b.docs as f64 / b.secs)
            {
                best[i] = Some(m);
            }
        }
    }
    println!("other build: {}", other.display());
    println!(
        "| in flight | this build docs/s | other build docs/s | this / other docs/s | this µs CPU/doc | other µs CPU/doc | this / other CPU | per-round docs/s ratios |"
    );
    println!("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
    for (k, c) in [1, 2, 4].iter().enumerate() {
        let (a, b) = (
            best[2 * k].as_ref().expect("a round"),
            best[2 * k + 1].as_ref().expect("a round"),
        );
        let (ra, rb) = (a.docs as f64 / a.secs, b.docs as f64 / b.secs);
        let rr: Vec<String> = per_round[2 * k]
            .iter()
            .zip(&per_round[2 * k + 1])
            .map(|(x, y)| format!("{:.2}", x / y))
            .collect();
        println!(
            "| {c} | {ra:.0} | {rb:.0} | {:.3}× | {:.3} | {:.3} | {:.2}× | {} |",
            ra / rb,
            a.us_per_doc(),
            b.us_per_doc(),
            a.us_per_doc() / b.us_per_doc(),
            rr.join(", ")
        );
    }
    Ok(())
}
