//! Conformance: Elasticsearch's clients YAML suite (`../shared/clients-tests/`), run through
//! es-api's dynamic entry point (`Client::call`), each test against a fresh osmem-server.
//!
//! Every test ends passed, failed (step, request, reason) or skipped (reason). The summary
//! (per folder, then `N passed, M failed, K skipped`) is printed and the whole report is
//! written to `target/yaml-report.txt`. The number passed must not fall below the floor in
//! `tests/yaml-floor.txt` (checked on full runs only).
//!
//! Environment: `YAML_FILTER` runs only the files whose path (relative to the suite) contains
//! it (`cargo xtask yaml FILTER`); `YAML_SUITE_DIR` points at another copy of the suite;
//! `YAML_SPEC_DIR` at another REST API spec (read for its `feature_flag`s);
//! `YAML_JOBS` is how many tests run at once (default 4).

mod runner;
mod suite;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use es_tests::OsmemServer;
use runner::Outcome;

/// The skip reason of the tests of a file that `requires` no stack.
const SERVERLESS_ONLY: &str = "serverless-only file";

/// The longest one test (setup, steps, teardown) may take.
const TEST_TIMEOUT: Duration = Duration::from_secs(60);

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

fn suite_dir() -> PathBuf {
    std::env::var_os("YAML_SUITE_DIR")
        .filter(|v| !v.is_empty())
        .map_or_else(
            || workspace().join("../shared/clients-tests"),
            PathBuf::from,
        )
}

/// The REST API spec the feature flags are read from (`YAML_SPEC_DIR` overrides it).
fn spec_dir() -> PathBuf {
    std::env::var_os("YAML_SPEC_DIR")
        .filter(|v| !v.is_empty())
        .map_or_else(
            || workspace().join("../shared/rest-api-spec/elasticsearch"),
            PathBuf::from,
        )
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .filter(|v| !v.is_empty())
        .map_or_else(|| workspace().join("target"), PathBuf::from)
}

struct TestReport {
    file: String,
    folder: String,
    name: String,
    outcome: Outcome,
    millis: u128,
}

#[derive(Default, Clone, Copy)]
struct Counts {
    passed: usize,
    failed: usize,
    skipped: usize,
}

impl Counts {
    fn add(&mut self, o: &Outcome) {
        match o {
            Outcome::Passed => self.passed += 1,
            Outcome::Failed(_) => self.failed += 1,
            Outcome::Skipped(_) => self.skipped += 1,
        }
    }
}

async fn run_one(
    file: Arc<suite::TestFile>,
    flags: Arc<suite::FeatureFlags>,
    index: usize,
    permits: Arc<tokio::sync::Semaphore>,
) -> TestReport {
    let _permit = permits.acquire_owned().await.expect("semaphore");
    let (name, steps) = &file.tests[index];
    let start = Instant::now();
    let report = |outcome| TestReport {
        file: file.rel.clone(),
        folder: file.folder.clone(),
        name: name.clone(),
        outcome,
        millis: start.elapsed().as_millis(),
    };
    if !file.stack {
        return report(Outcome::Skipped(SERVERLESS_ONLY.into()));
    }
    // A fresh server per test: no state leaks from one test into the next.
    let server =
        match tokio::task::spawn_blocking(|| OsmemServer::try_start(None, &["-no-ja"])).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => panic!("{e}"),
            Err(e) => panic!("starting osmem-server: {e}"),
        };
    let url = server.url();
    let run = runner::run_test(&url, &flags, &file.setup, steps, &file.teardown);
    let outcome = match tokio::time::timeout(TEST_TIMEOUT, run).await {
        Ok(o) => o,
        Err(_) => Outcome::Failed(runner::Failure {
            step: "(whole test)".into(),
            request: None,
            reason: format!("timed out after {TEST_TIMEOUT:?}"),
            server_error: false,
        }),
    };
    drop(server);
    report(outcome)
}

/// Loads the files under `root` (those whose path contains `filter`) and runs every test,
/// `jobs` at once.
fn run_suite(root: &Path, filter: Option<&str>, jobs: usize) -> Vec<TestReport> {
    let flags = Arc::new(suite::FeatureFlags::load(&spec_dir()).unwrap_or_else(|e| panic!("{e}")));
    let mut files = Vec::new();
    for path in suite::discover(root) {
        let file = suite::load(root, &path).unwrap_or_else(|e| panic!("{e}"));
        if filter.is_some_and(|f| !file.rel.contains(f)) {
            continue;
        }
        files.push(Arc::new(file));
    }
    assert!(
        !files.is_empty(),
        "no YAML test file matches {:?} under {}",
        filter,
        root.display()
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let permits = Arc::new(tokio::sync::Semaphore::new(jobs));
        let mut handles = Vec::new();
        for file in &files {
            for i in 0..file.tests.len() {
                handles.push(tokio::spawn(run_one(
                    file.clone(),
                    flags.clone(),
                    i,
                    permits.clone(),
                )));
            }
        }
        let mut out = Vec::new();
        for h in handles {
            out.push(h.await.expect("test task"));
        }
        out
    })
}

/// What a fixture test's name says of its end: `OUTCOME: description`, or
/// `OUTCOME: description => text` where `text` must appear in the step and reason of a
/// failure (or the reason of a skip).
fn fixture_expectation(name: &str) -> (&str, Option<&str>) {
    let outcome = name.split(':').next().unwrap_or_default();
    let reason = name.split_once(" => ").map(|(_, r)| r);
    (outcome, reason)
}

/// The runner itself on `fixtures/`: each test's name says how it must end, and for most
/// failures and skips, why.
#[test]
fn runner_self_check() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/yaml/fixtures");
    let reports = run_suite(&root, None, 4);
    let mut wrong = Vec::new();
    for r in &reports {
        let (outcome, detail) = match &r.outcome {
            Outcome::Passed => ("PASS", String::new()),
            Outcome::Failed(f) => ("FAIL", format!("{}: {}", f.step, f.reason)),
            Outcome::Skipped(reason) => ("SKIP", reason.clone()),
        };
        let (want, want_reason) = fixture_expectation(&r.name);
        let reason_ok = want_reason.is_none_or(|w| detail.contains(w));
        if outcome != want || !reason_ok {
            wrong.push(format!(
                "{} :: {} ended {outcome} ({detail})",
                r.file, r.name
            ));
        }
    }
    assert!(reports.len() >= 30, "{} fixture tests", reports.len());
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // Teardown ran after the failures (its own failure does not replace the test's).
    let first_failing = reports
        .iter()
        .find(|r| r.name.starts_with("FAIL: the first failing step"))
        .expect("fixture");
    match &first_failing.outcome {
        Outcome::Failed(f) => assert!(f.step.starts_with("test step 2"), "{}", f.step),
        _ => unreachable!(),
    }
}

#[test]
fn yaml_suite() {
    let root = suite_dir();
    assert!(
        root.is_dir(),
        "the clients YAML suite is not at {} (set YAML_SUITE_DIR)",
        root.display()
    );
    let filter = std::env::var("YAML_FILTER").ok().filter(|f| !f.is_empty());
    let jobs: usize = std::env::var("YAML_JOBS")
        .ok()
        .and_then(|j| j.parse().ok())
        .filter(|j| *j > 0)
        .unwrap_or(4);
    let started = Instant::now();
    let reports = run_suite(&root, filter.as_deref(), jobs);
    let took = started.elapsed();

    let mut total = Counts::default();
    let mut folders: BTreeMap<&str, Counts> = BTreeMap::new();
    for r in &reports {
        total.add(&r.outcome);
        folders.entry(&r.folder).or_default().add(&r.outcome);
    }
    let mut summary = String::new();
    let _ = writeln!(summary, "clients YAML suite at {}", root.display());
    if let Some(f) = &filter {
        let _ = writeln!(summary, "filter: {f:?}");
    }
    let _ = writeln!(
        summary,
        "{:<24} {:>6} {:>6} {:>7}",
        "folder", "passed", "failed", "skipped"
    );
    for (folder, c) in &folders {
        let _ = writeln!(
            summary,
            "{folder:<24} {:>6} {:>6} {:>7}",
            c.passed, c.failed, c.skipped
        );
    }
    let serverless_only = reports
        .iter()
        .filter(|r| matches!(&r.outcome, Outcome::Skipped(why) if why == SERVERLESS_ONLY))
        .count();
    let _ = writeln!(
        summary,
        "stack tests: {} ({} passed, {} failed, {} skipped); serverless-only: {serverless_only}",
        reports.len() - serverless_only,
        total.passed,
        total.failed,
        total.skipped - serverless_only
    );
    let _ = writeln!(summary, "took {:.1}s", took.as_secs_f64());
    let closing = format!(
        "{} passed, {} failed, {} skipped",
        total.passed, total.failed, total.skipped
    );

    let mut full = summary.clone();
    // The failures where the server answered an error to a request that should succeed,
    // with its answer: what the server lacks or refuses, not the client.
    let _ = writeln!(
        full,
        "\nserver errors (a `do` expecting success got an error):"
    );
    for r in &reports {
        if let Outcome::Failed(f) = &r.outcome
            && f.server_error
        {
            let _ = writeln!(
                full,
                "  {} :: {}\n    {}\n    {}",
                r.file,
                r.name,
                f.request.as_deref().unwrap_or("-"),
                f.reason
            );
        }
    }
    let _ = writeln!(
        full,
        "\nassertion failures (the answer differs from the test's):"
    );
    for r in &reports {
        if let Outcome::Failed(f) = &r.outcome
            && !f.server_error
        {
            let _ = writeln!(full, "  {} :: {}: {}", r.file, r.name, f.reason);
        }
    }
    full.push('\n');
    for r in &reports {
        let status = match &r.outcome {
            Outcome::Passed => "PASS",
            Outcome::Failed(_) => "FAIL",
            Outcome::Skipped(_) => "SKIP",
        };
        let _ = writeln!(full, "{status} {} :: {} ({} ms)", r.file, r.name, r.millis);
        match &r.outcome {
            Outcome::Passed => {}
            Outcome::Skipped(reason) => {
                let _ = writeln!(full, "    reason: {reason}");
            }
            Outcome::Failed(f) => {
                let _ = writeln!(full, "    step: {}", f.step);
                if let Some(req) = &f.request {
                    let _ = writeln!(full, "    request: {req}");
                }
                let _ = writeln!(
                    full,
                    "    {}: {}",
                    if f.server_error {
                        "server error"
                    } else {
                        "reason"
                    },
                    f.reason
                );
            }
        }
    }
    let _ = writeln!(full, "\n{closing}");
    let target = target_dir();
    let _ = std::fs::create_dir_all(&target);
    let report_path = target.join("yaml-report.txt");
    if let Err(e) = std::fs::write(&report_path, &full) {
        eprintln!("cannot write {}: {e}", report_path.display());
    }
    print!("{summary}");
    println!("report: {}", report_path.display());
    println!("{closing}");

    if filter.is_none() {
        let floor_path = workspace().join("tests/yaml-floor.txt");
        let floor: usize = std::fs::read_to_string(&floor_path)
            .ok()
            .and_then(|s| {
                s.lines()
                    .map(str::trim)
                    .find(|l| !l.is_empty() && !l.starts_with('#'))
                    .and_then(|l| l.parse().ok())
            })
            .unwrap_or_else(|| panic!("{} must hold the floor (a number)", floor_path.display()));
        assert!(
            total.passed >= floor,
            "the clients YAML suite passed {} tests, below the floor of {floor} ({}); see {}",
            total.passed,
            floor_path.display(),
            report_path.display()
        );
        if total.passed > floor {
            println!(
                "the floor ({floor}) can be raised to {} in {}",
                total.passed,
                floor_path.display()
            );
        }
    }
}
