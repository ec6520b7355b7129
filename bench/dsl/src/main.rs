//! `dsl-bench`: es-dsl side by side with its peers (`cargo xtask bench dsl`).
//!
//! `dsl-bench [--rounds N] [--budget-ms MS] [--no-python]`
//!
//! 1. Build and serialize a search with a 30-clause `bool` query and 5 aggregations (three
//!    of them with sub-aggregations, three levels deep): es-dsl (`Search`, `Query::bool()`,
//!    `Agg`, then `serde_json::to_vec(search.body())`) against the same body built with
//!    `serde_json::json!` (then `serde_json::to_vec`) and elasticsearch-py's
//!    `elasticsearch.dsl` (`Search(...)`, `to_dict()`, `json.dumps`). Also, for reference,
//!    the same query added clause by clause (`Search::query` / `Search::filter`, which merge
//!    with elasticsearch-dsl's rules) on both sides.
//! 2. Parse a 1,000-hit response with 5 aggregations (`typed_keys` names: `sterms#by_tag`,
//!    `date_histogram#per_month`, …) into es-dsl's typed results
//!    (`serde_json::from_slice::<SearchResponse<Doc>>`) against parsing it into
//!    `serde_json::Value`, and against `json.loads` + elasticsearch.dsl's `Response`, every
//!    client then reading the same values (every hit's id, title, price and quantity, every
//!    bucket's count and metric), so Python's lazy wrappers do their work.
//!
//! Each round runs every Rust case in a process of its own (`dsl-bench --case NAME`, in an
//! order rotated per round), then one round of `bench/dsl/pybench.py` (all Python cases, one
//! process). A case is timed with
//! `Instant` over a batch of about `--budget-ms` (default 300 ms) after a warm-up of a quarter
//! of that, which also sizes the batch; results go through `black_box`. Reported: the median
//! over the rounds (default 7) of each case's time per operation, and ratios of those medians.
//! Before measuring, the bodies of all builders are checked equal (as JSON values) and every
//! reader's checksum of the values read is checked equal.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use es_dsl::es_api::types::aggregations::{Aggregate, Buckets, CalendarInterval};
use es_dsl::es_api::types::search::SearchResponse;
use es_dsl::{Agg, Query, Search};
use serde::Deserialize;
use serde_json::{Value, json};

// ===== the search =====

/// The inputs of the 30 clauses (the same as pybench.py's).
struct QueryData {
    must: [(&'static str, &'static str); 5],
    term_filters: [(&'static str, &'static str); 10],
    ranges: [(&'static str, i64, i64); 5],
    terms: [(&'static str, [&'static str; 3]); 5],
    should: [(&'static str, &'static str); 3],
    must_not: [(&'static str, &'static str); 2],
}

const QUERY: QueryData = QueryData {
    must: [
        ("title", "search engine"),
        ("body", "inverted index"),
        ("summary", "fast queries"),
        ("description", "rust client"),
        ("notes", "typed builders"),
    ],
    term_filters: [
        ("status", "published"),
        ("category", "books"),
        ("lang", "en"),
        ("region", "eu"),
        ("format", "hardcover"),
        ("publisher", "acme"),
        ("license", "cc-by"),
        ("audience", "adult"),
        ("series", "none"),
        ("stock_state", "available"),
    ],
    ranges: [
        ("price", 10, 100),
        ("pages", 50, 900),
        ("rating", 3, 6),
        ("year", 1990, 2026),
        ("quantity", 1, 1000),
    ],
    terms: [
        ("tags", ["rust", "async", "search"]),
        ("author", ["ann", "bob", "cyd"]),
        ("color", ["red", "green", "blue"]),
        ("size", ["s", "m", "l"]),
        ("material", ["paper", "cloth", "leather"]),
    ],
    should: [
        ("title", "quick start"),
        ("body", "step by step"),
        ("summary", "best practices"),
    ],
    must_not: [("status", "draft"), ("tags", "deprecated")],
};

fn with_aggs(s: Search<Doc>) -> Search<Doc> {
    s.agg(
        "by_tag",
        Agg::terms("tags")
            .size(10)
            .agg("avg_price", Agg::avg("price")),
    )
    .agg(
        "per_month",
        Agg::date_histogram("published", CalendarInterval::Month).agg(
            "by_category",
            Agg::terms("category")
                .size(5)
                .agg("max_price", Agg::max("price")),
        ),
    )
    .agg("price_stats", Agg::stats("price"))
    .agg(
        "price_histogram",
        Agg::histogram("price", 5.0).agg("sum_qty", Agg::sum("quantity")),
    )
    .agg("unique_authors", Agg::cardinality("author"))
}

fn finish(s: Search<Doc>) -> Search<Doc> {
    s.sort("-published")
        .source_includes(["title", "price", "tags"])
        .track_total_hits(true)
        .size(20)
}

/// es-dsl: the `bool` built at once, then the search.
fn build_dsl(d: &QueryData) -> Search<Doc> {
    let mut b = Query::bool();
    for (f, t) in d.must {
        b = b.must(Query::match_(f, t));
    }
    for (f, v) in d.term_filters {
        b = b.filter(Query::term(f, v));
    }
    for (f, lo, hi) in d.ranges {
        b = b.filter(Query::range(f).gte(lo).lt(hi));
    }
    for (f, vs) in d.terms {
        b = b.filter(Query::terms(f, vs));
    }
    for (f, t) in d.should {
        b = b.should(Query::match_phrase(f, t));
    }
    for (f, v) in d.must_not {
        b = b.must_not(Query::term(f, v));
    }
    let b = b.minimum_should_match(1);
    with_aggs(finish(Search::<Doc>::new().index("products").query(b)))
}

/// es-dsl: the same query added clause by clause, each merged into the current one.
fn build_dsl_incremental(d: &QueryData) -> Search<Doc> {
    let mut s = Search::<Doc>::new().index("products");
    for (f, t) in d.must {
        s = s.query(Query::match_(f, t));
    }
    for (f, v) in d.term_filters {
        s = s.filter(Query::term(f, v));
    }
    for (f, lo, hi) in d.ranges {
        s = s.filter(Query::range(f).gte(lo).lt(hi));
    }
    for (f, vs) in d.terms {
        s = s.filter(Query::terms(f, vs));
    }
    for (f, v) in d.must_not {
        s = s.query(!Query::term(f, v));
    }
    let mut should = Query::bool();
    for (f, t) in d.should {
        should = should.should(Query::match_phrase(f, t));
    }
    s = s.query(should.minimum_should_match(1));
    with_aggs(finish(s))
}

/// The same body with `serde_json::json!`.
fn build_json(d: &QueryData) -> Value {
    let must: Vec<Value> = d
        .must
        .iter()
        .map(|(f, t)| json!({"match": {(*f): {"query": t}}}))
        .collect();
    let mut filter: Vec<Value> = d
        .term_filters
        .iter()
        .map(|(f, v)| json!({"term": {(*f): {"value": v}}}))
        .collect();
    filter.extend(
        d.ranges
            .iter()
            .map(|(f, lo, hi)| json!({"range": {(*f): {"gte": lo, "lt": hi}}})),
    );
    filter.extend(d.terms.iter().map(|(f, vs)| json!({"terms": {(*f): vs}})));
    let should: Vec<Value> = d
        .should
        .iter()
        .map(|(f, t)| json!({"match_phrase": {(*f): {"query": t}}}))
        .collect();
    let must_not: Vec<Value> = d
        .must_not
        .iter()
        .map(|(f, v)| json!({"term": {(*f): {"value": v}}}))
        .collect();
    json!({
        "query": {"bool": {
            "must": must,
            "filter": filter,
            "should": should,
            "must_not": must_not,
            "minimum_should_match": 1
        }},
        "aggregations": {
            "by_tag": {
                "terms": {"field": "tags", "size": 10},
                "aggs": {"avg_price": {"avg": {"field": "price"}}}
            },
            "per_month": {
                "date_histogram": {"field": "published", "calendar_interval": "month"},
                "aggs": {"by_category": {
                    "terms": {"field": "category", "size": 5},
                    "aggs": {"max_price": {"max": {"field": "price"}}}
                }}
            },
            "price_stats": {"stats": {"field": "price"}},
            "price_histogram": {
                "histogram": {"field": "price", "interval": 5.0},
                "aggs": {"sum_qty": {"sum": {"field": "quantity"}}}
            },
            "unique_authors": {"cardinality": {"field": "author"}}
        },
        "sort": [{"published": {"order": "desc"}}],
        "_source": {"includes": ["title", "price", "tags"]},
        "track_total_hits": true,
        "size": 20
    })
}

// ===== the response =====

/// The document of the hits (`_source`), read by the typed parse.
#[derive(Debug, Deserialize)]
#[allow(dead_code)] // read by serde; the walk reads some fields only
struct Doc {
    title: String,
    body: String,
    tags: Vec<String>,
    category: String,
    author: String,
    price: f64,
    quantity: i64,
    published: String,
    in_stock: bool,
}

const HITS: usize = 1000;
const BODY: &str = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore";
const TAGS: [&str; 10] = [
    "rust", "async", "search", "db", "web", "cli", "net", "gui", "ml", "os",
];
const CATEGORIES: [&str; 5] = ["books", "music", "games", "tools", "garden"];

/// A 1,000-hit search response with 5 aggregations; with `typed_keys` names when `typed`
/// (what es-dsl asks for), plain names otherwise (what elasticsearch.dsl gets).
fn response(typed: bool) -> Value {
    let k = |tag: &str, name: &str| {
        if typed {
            format!("{tag}#{name}")
        } else {
            name.to_owned()
        }
    };
    let hits: Vec<Value> = (0..HITS)
        .map(|n| {
            json!({
                "_index": "products",
                "_id": n.to_string(),
                "_score": 1.0 + (HITS - n) as f64 / 1024.0,
                "_source": {
                    "title": format!("Product number {n}"),
                    "body": BODY,
                    "tags": [TAGS[n % 10], TAGS[(n + 3) % 10], TAGS[(n + 7) % 10]],
                    "category": CATEGORIES[n % 5],
                    "author": format!("author-{}", n % 97),
                    "price": (n % 400) as f64 * 0.25 + 0.5,
                    "quantity": n % 50,
                    "published": format!("2025-{:02}-{:02}T10:00:00Z", n % 12 + 1, n % 28 + 1),
                    "in_stock": n % 3 != 0
                }
            })
        })
        .collect();
    let by_tag: Vec<Value> = TAGS
        .iter()
        .enumerate()
        .map(|(i, t)| {
            json!({
                "key": t,
                "doc_count": 300 - i * 7,
                (k("avg", "avg_price")): {"value": 20.5 + i as f64 * 1.25}
            })
        })
        .collect();
    let per_month: Vec<Value> = (0..12u64)
        .map(|m| {
            let cats: Vec<Value> = CATEGORIES
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    json!({
                        "key": c,
                        "doc_count": 20 - i,
                        (k("max", "max_price")): {"value": 90.0 + (m * 5 + i as u64) as f64 * 0.25}
                    })
                })
                .collect();
            json!({
                "key_as_string": format!("2025-{:02}-01T00:00:00.000Z", m + 1),
                "key": 1_735_689_600_000u64 + m * 2_678_400_000,
                "doc_count": 83 + m,
                (k("sterms", "by_category")): {
                    "doc_count_error_upper_bound": 0,
                    "sum_other_doc_count": 0,
                    "buckets": cats
                }
            })
        })
        .collect();
    let histogram: Vec<Value> = (0..20u64)
        .map(|i| {
            json!({
                "key": i as f64 * 5.0,
                "doc_count": 50,
                (k("sum", "sum_qty")): {"value": 1225.0 + i as f64}
            })
        })
        .collect();
    json!({
        "took": 12,
        "timed_out": false,
        "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
        "hits": {
            "total": {"value": 12345, "relation": "eq"},
            "max_score": 1.9765625,
            "hits": hits
        },
        "aggregations": {
            (k("sterms", "by_tag")): {
                "doc_count_error_upper_bound": 0,
                "sum_other_doc_count": 1234,
                "buckets": by_tag
            },
            (k("date_histogram", "per_month")): {"buckets": per_month},
            (k("stats", "price_stats")): {
                "count": 1000, "min": 0.5, "max": 100.25, "avg": 50.375, "sum": 50375.0
            },
            (k("histogram", "price_histogram")): {"buckets": histogram},
            (k("cardinality", "unique_authors")): {"value": 97}
        }
    })
}

fn array<T>(b: &Buckets<T>) -> &[T] {
    match b {
        Buckets::Array(v) => v,
        Buckets::Map(_) => panic!("keyed buckets"),
    }
}

fn metric(a: Option<&Aggregate>) -> f64 {
    match a {
        Some(Aggregate::Avg(x)) => x.value.unwrap_or(0.0),
        Some(Aggregate::Max(x)) => x.value.unwrap_or(0.0),
        Some(Aggregate::Sum(x)) => x.value.unwrap_or(0.0),
        other => panic!("not a single-value metric: {other:?}"),
    }
}

/// Reads every hit's id, title, price and quantity and every bucket's count and metric
/// (the same values, in the same order, as pybench.py's `read`); answers their sum.
fn walk_typed(r: &SearchResponse<Doc>) -> f64 {
    let mut total = 0.0;
    for h in &r.hits.hits {
        let d = h.source.as_ref().expect("_source");
        total += d.price
            + d.quantity as f64
            + d.title.len() as f64
            + h.id.as_ref().map_or(0, String::len) as f64;
    }
    total += r.hits.hits.len() as f64;
    let aggs = r.aggregations.as_ref().expect("aggregations");
    let Some(Aggregate::StringTerms(by_tag)) = aggs.get("by_tag") else {
        panic!("by_tag")
    };
    for b in array(&by_tag.buckets) {
        total += b.doc_count as f64 + metric(b.aggregations.get("avg_price"));
    }
    let Some(Aggregate::DateHistogram(per_month)) = aggs.get("per_month") else {
        panic!("per_month")
    };
    for b in array(&per_month.buckets) {
        total += b.doc_count as f64;
        let Some(Aggregate::StringTerms(cats)) = b.aggregations.get("by_category") else {
            panic!("by_category")
        };
        for c in array(&cats.buckets) {
            total += c.doc_count as f64 + metric(c.aggregations.get("max_price"));
        }
    }
    let Some(Aggregate::Stats(st)) = aggs.get("price_stats") else {
        panic!("price_stats")
    };
    total += st.avg.unwrap_or(0.0) + st.count as f64;
    let Some(Aggregate::Histogram(hist)) = aggs.get("price_histogram") else {
        panic!("price_histogram")
    };
    for b in array(&hist.buckets) {
        total += b.doc_count as f64 + metric(b.aggregations.get("sum_qty"));
    }
    let Some(Aggregate::Cardinality(card)) = aggs.get("unique_authors") else {
        panic!("unique_authors")
    };
    total + card.value as f64
}

/// [`walk_typed`] over a `serde_json::Value` of the same response (keys with their tags).
fn walk_value(v: &Value) -> f64 {
    fn f(v: &Value) -> f64 {
        v.as_f64().expect("a number")
    }
    fn arr(v: &Value) -> &[Value] {
        v.as_array().expect("an array")
    }
    let mut total = 0.0;
    let hits = arr(&v["hits"]["hits"]);
    for h in hits {
        let d = &h["_source"];
        total += f(&d["price"])
            + f(&d["quantity"])
            + d["title"].as_str().map_or(0, str::len) as f64
            + h["_id"].as_str().map_or(0, str::len) as f64;
    }
    total += hits.len() as f64;
    let aggs = &v["aggregations"];
    for b in arr(&aggs["sterms#by_tag"]["buckets"]) {
        total += f(&b["doc_count"]) + f(&b["avg#avg_price"]["value"]);
    }
    for b in arr(&aggs["date_histogram#per_month"]["buckets"]) {
        total += f(&b["doc_count"]);
        for c in arr(&b["sterms#by_category"]["buckets"]) {
            total += f(&c["doc_count"]) + f(&c["max#max_price"]["value"]);
        }
    }
    let st = &aggs["stats#price_stats"];
    total += f(&st["avg"]) + f(&st["count"]);
    for b in arr(&aggs["histogram#price_histogram"]["buckets"]) {
        total += f(&b["doc_count"]) + f(&b["sum#sum_qty"]["value"]);
    }
    total + f(&aggs["cardinality#unique_authors"]["value"])
}

// ===== measuring =====

/// Nanoseconds per call of `f`: a warm-up of a quarter of `budget` (which also sizes the
/// batch), then one timed batch of about `budget`.
fn measure<R>(budget: Duration, mut f: impl FnMut() -> R) -> f64 {
    let t0 = Instant::now();
    let mut n = 0u64;
    while n < 3 || t0.elapsed() < budget / 4 {
        black_box(f());
        n += 1;
    }
    let per = t0.elapsed().as_secs_f64() / n as f64;
    let iters = ((budget.as_secs_f64() / per) as u64).max(3);
    let t0 = Instant::now();
    for _ in 0..iters {
        black_box(f());
    }
    t0.elapsed().as_secs_f64() * 1e9 / iters as f64
}

/// The Rust cases, in table order.
const RUST_CASES: [&str; 5] = [
    "build_dsl",
    "build_json",
    "build_dsl_incremental",
    "parse_typed",
    "parse_value",
];

fn rust_case(case: &str, budget: Duration, response: &[u8]) -> f64 {
    let q = black_box(&QUERY);
    match case {
        "build_dsl" => measure(budget, || {
            serde_json::to_vec(build_dsl(q).body()).expect("serialize")
        }),
        "build_json" => measure(budget, || {
            serde_json::to_vec(&build_json(q)).expect("serialize")
        }),
        "build_dsl_incremental" => measure(budget, || {
            serde_json::to_vec(build_dsl_incremental(q).body()).expect("serialize")
        }),
        "parse_typed" => measure(budget, || {
            let r: SearchResponse<Doc> =
                serde_json::from_slice(black_box(response)).expect("typed parse");
            walk_typed(&r)
        }),
        "parse_value" => measure(budget, || {
            let v: Value = serde_json::from_slice(black_box(response)).expect("Value parse");
            walk_value(&v)
        }),
        other => unreachable!("case {other}"),
    }
}

/// The Python cases, in table order.
const PY_CASES: [&str; 4] = ["build", "build_incremental", "parse", "loads"];

/// One run of pybench.py.
#[derive(Debug, Deserialize)]
struct PyRun {
    /// ns per operation by case.
    ns: std::collections::BTreeMap<String, f64>,
    body: Value,
    body_incremental: Value,
    checksum: f64,
    python: String,
    elasticsearch: String,
}

fn py_run(pypath: &Path, script: &Path, plain: &Path, budget_ms: u64, case: &str) -> Result<PyRun> {
    let out = Command::new("python3")
        .arg(script)
        .arg(plain)
        .arg(budget_ms.to_string())
        .arg(case)
        .env("PYTHONPATH", pypath)
        .output()
        .context("cannot run python3")?;
    if !out.status.success() {
        bail!(
            "pybench.py failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let text = String::from_utf8(out.stdout)?;
    let line = text.lines().last().context("no output from pybench.py")?;
    serde_json::from_str(line).with_context(|| format!("pybench.py printed {line}"))
}

/// elasticsearch.dsl writes the top-level aggregations as `aggs`, es-dsl as `aggregations`
/// (the server takes both).
fn normalize_py(mut body: Value) -> Value {
    if let Some(m) = body.as_object_mut()
        && let Some(aggs) = m.remove("aggs")
    {
        m.insert("aggregations".into(), aggs);
    }
    body
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// The number of `rustc` processes running now (other people's builds).
fn rustc_running() -> usize {
    Command::new("pgrep")
        .args(["-c", "-x", "rustc"])
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0)
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

struct Opts {
    rounds: usize,
    budget_ms: u64,
    python: bool,
    /// Measure this one Rust case (a child process of the driver) and print its ns/op.
    case: Option<String>,
}

fn parse_args() -> Result<Opts> {
    let mut o = Opts {
        rounds: 7,
        budget_ms: 300,
        python: true,
        case: None,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--rounds" => o.rounds = it.next().context("--rounds N")?.parse()?,
            "--budget-ms" => o.budget_ms = it.next().context("--budget-ms MS")?.parse()?,
            "--no-python" => o.python = false,
            "--case" => o.case = Some(it.next().context("--case NAME")?.clone()),
            other => {
                bail!(
                    "unknown argument {other} (dsl-bench [--rounds N] [--budget-ms MS] [--no-python])"
                )
            }
        }
    }
    ensure!(o.rounds > 0, "--rounds must be at least 1");
    Ok(o)
}

fn ensure_python(pypath: &Path) -> Result<()> {
    if pypath.join("elasticsearch/dsl").is_dir() {
        return Ok(());
    }
    eprintln!("installing elasticsearch-py into {}", pypath.display());
    let st = Command::new("python3")
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--target",
        ])
        .arg(pypath)
        .arg("elasticsearch")
        .status()
        .context("cannot run `python3 -m pip`")?;
    ensure!(st.success(), "pip install elasticsearch failed ({st})");
    Ok(())
}

/// Runs one Rust case in a fresh process (`dsl-bench --case NAME`), so that no case runs on
/// a heap shaped by another (glibc's free lists left by one parse slowed the next by up to
/// 1.5x when they shared a process); answers ns per operation.
fn rust_round(me: &Path, case: &str, budget_ms: u64) -> Result<f64> {
    let out = Command::new(me)
        .args(["--case", case, "--budget-ms", &budget_ms.to_string()])
        .output()
        .with_context(|| format!("cannot run {}", me.display()))?;
    if !out.status.success() {
        bail!(
            "dsl-bench --case {case} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let text = String::from_utf8(out.stdout)?;
    text.trim()
        .parse()
        .with_context(|| format!("dsl-bench --case {case} printed {text:?}"))
}

fn main() -> Result<()> {
    let o = parse_args()?;
    let budget = Duration::from_millis(o.budget_ms);
    if let Some(case) = &o.case {
        ensure!(RUST_CASES.contains(&case.as_str()), "unknown case {case}");
        let typed = serde_json::to_vec(&response(true))?;
        println!("{}", rust_case(case, budget, &typed));
        return Ok(());
    }
    let me = std::env::current_exe()?;
    // bench/dsl -> the repository root.
    let root: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .context("repo root")?
        .to_path_buf();
    let out_dir = root.join("target/bench-dsl");
    std::fs::create_dir_all(&out_dir)?;
    let typed = serde_json::to_vec(&response(true))?;
    let plain = serde_json::to_vec(&response(false))?;
    let plain_path = out_dir.join("response-plain.json");
    std::fs::write(out_dir.join("response-typed-keys.json"), &typed)?;
    std::fs::write(&plain_path, &plain)?;

    // The builders build the same body, and the readers read the same values.
    let dsl_body = serde_json::to_value(build_dsl(&QUERY).body())?;
    let json_body = build_json(&QUERY);
    ensure!(
        dsl_body == json_body,
        "es-dsl and json! bodies differ:\nes-dsl: {dsl_body}\njson!:  {json_body}"
    );
    let incr_body = serde_json::to_value(build_dsl_incremental(&QUERY).body())?;
    ensure!(
        incr_body == dsl_body,
        "es-dsl clause by clause differs:\n{incr_body}\n{dsl_body}"
    );
    let body_len = serde_json::to_vec(build_dsl(&QUERY).body())?.len();
    let parsed: SearchResponse<Doc> = serde_json::from_slice(&typed)?;
    let checksum = walk_typed(&parsed);
    let value_sum = walk_value(&serde_json::from_slice(&typed)?);
    ensure!(
        close(checksum, value_sum),
        "typed and Value reads differ: {checksum} vs {value_sum}"
    );
    drop(parsed);

    let pypath = root.join("target/pybench");
    let script = root.join("bench/dsl/pybench.py");
    if o.python {
        ensure_python(&pypath)?;
    }

    println!(
        "dsl-bench: {} rounds, {} ms per case per round; request body {} bytes; response {} bytes ({} hits; {} bytes without typed_keys); load average before: {}, rustc processes running: {}",
        o.rounds,
        o.budget_ms,
        body_len,
        typed.len(),
        HITS,
        plain.len(),
        load_average(),
        rustc_running()
    );
    let mut rust: Vec<Vec<f64>> = vec![Vec::new(); RUST_CASES.len()];
    let mut py: Vec<Vec<f64>> = vec![Vec::new(); PY_CASES.len()];
    let mut versions = String::new();
    for round in 0..o.rounds {
        for i in 0..RUST_CASES.len() {
            let c = (i + round) % RUST_CASES.len();
            rust[c].push(rust_round(&me, RUST_CASES[c], o.budget_ms)?);
        }
        let mut cells: Vec<String> = RUST_CASES
            .iter()
            .zip(&rust)
            .map(|(c, v)| format!("{c} {:.1}", v[round] / 1e3))
            .collect();
        if o.python {
            for i in 0..PY_CASES.len() {
                let c = (i + round) % PY_CASES.len();
                let p = py_run(&pypath, &script, &plain_path, o.budget_ms, PY_CASES[c])?;
                if round == 0 {
                    let body = normalize_py(p.body.clone());
                    ensure!(
                        body == dsl_body,
                        "elasticsearch.dsl and es-dsl bodies differ:\npy:     {body}\nes-dsl: {dsl_body}"
                    );
                    let body = normalize_py(p.body_incremental.clone());
                    ensure!(
                        body == dsl_body,
                        "elasticsearch.dsl clause by clause differs:\n{body}"
                    );
                    ensure!(
                        close(p.checksum, checksum),
                        "Python read {} where Rust read {checksum}",
                        p.checksum
                    );
                    versions = format!("Python {}, elasticsearch-py {}", p.python, p.elasticsearch);
                }
                py[c].push(*p.ns.get(PY_CASES[c]).context("pybench.py: no time")?);
            }
            cells.extend(
                PY_CASES
                    .iter()
                    .zip(&py)
                    .map(|(c, v)| format!("py {c} {:.1}", v[round] / 1e3)),
            );
        }
        println!("  round {}: µs/op {}", round + 1, cells.join(", "));
    }
    let load_after = format!(
        "{}, rustc processes running: {}",
        load_average(),
        rustc_running()
    );

    let med = |v: &[f64]| median(v.to_vec());
    let spread = |v: &[f64]| {
        let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = v.iter().copied().fold(0.0, f64::max);
        format!("{:.1} – {:.1}", lo / 1e3, hi / 1e3)
    };
    let (b_dsl, b_json, b_incr, p_typed, p_value) = (
        med(&rust[0]),
        med(&rust[1]),
        med(&rust[2]),
        med(&rust[3]),
        med(&rust[4]),
    );
    let met = |ok: bool| if ok { "met" } else { "MISSED" };
    // The same ratio within each round (its cases ran minutes apart at most, seconds for
    // the Rust ones): how much the noise moves it.
    let rounds = |a: &[f64], b: &[f64]| {
        let r: Vec<f64> = a.iter().zip(b).map(|(x, y)| x / y).collect();
        let lo = r.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = r.iter().copied().fold(0.0, f64::max);
        format!("rounds {lo:.2}–{hi:.2}")
    };

    println!();
    if o.python {
        println!("{versions}; load average after: {load_after}");
    } else {
        println!("load average after: {load_after}");
    }
    println!();
    println!(
        "| measurement | implementation | µs/op (median of {}) | min – max | ratio |",
        o.rounds
    );
    println!("| --- | --- | ---: | ---: | --- |");
    let row = |m: &str, who: &str, v: &[f64], ratio: String| {
        println!(
            "| {m} | {who} | {:.1} | {} | {ratio} |",
            med(v) / 1e3,
            spread(v)
        );
    };
    let build = "build + serialize (30-clause bool, 5 aggs)";
    row(build, "es-dsl", &rust[0], "(reference)".into());
    let r = b_dsl / b_json;
    row(
        build,
        "`serde_json::json!`",
        &rust[1],
        format!(
            "es-dsl / json! = **{r:.2}×** ({}; target ≤ 1.5×: {})",
            rounds(&rust[0], &rust[1]),
            met(r <= 1.5)
        ),
    );
    if o.python {
        let py_build = &py[0];
        let r = med(py_build) / b_dsl;
        row(
            build,
            "elasticsearch.dsl (`to_dict` + `json.dumps`)",
            py_build,
            format!(
                "Python / es-dsl = **{r:.1}×** ({}; target ≥ 20×: {})",
                rounds(py_build, &rust[0]),
                met(r >= 20.0)
            ),
        );
    }
    let incr = "same query added clause by clause";
    row(
        incr,
        "es-dsl (`Search::query` / `filter`)",
        &rust[2],
        format!("/ es-dsl built at once = {:.2}×", b_incr / b_dsl),
    );
    if o.python {
        let py_incr = &py[1];
        row(
            incr,
            "elasticsearch.dsl (`s.query` / `s.filter`)",
            py_incr,
            format!("Python / es-dsl = {:.1}×", med(py_incr) / b_incr),
        );
    }
    let parse = "parse 1,000 hits + 5 aggs, read every hit and bucket";
    row(
        parse,
        "es-dsl `SearchResponse<Doc>`",
        &rust[3],
        "(reference)".into(),
    );
    let r = p_typed / p_value;
    row(
        parse,
        "`serde_json::Value`",
        &rust[4],
        format!(
            "typed / Value = **{r:.2}×** ({}; target ≤ 1.0×: {})",
            rounds(&rust[3], &rust[4]),
            met(r <= 1.0)
        ),
    );
    if o.python {
        let py_parse = &py[2];
        let r = med(py_parse) / p_typed;
        row(
            parse,
            "elasticsearch.dsl (`json.loads` + `Response`)",
            py_parse,
            format!(
                "Python / es-dsl = **{r:.1}×** ({}; target ≥ 20×: {})",
                rounds(py_parse, &rust[3]),
                met(r >= 20.0)
            ),
        );
        let loads = &py[3];
        row(
            parse,
            "Python `json.loads` alone (floor)",
            loads,
            format!("/ es-dsl = {:.1}×", med(loads) / p_typed),
        );
    }
    Ok(())
}
