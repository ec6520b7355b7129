//! `cargo xtask bench api`: es-api against the official `elasticsearch` crate. Flags:
//! `--rounds N`, `--parse typed|none`, `--no-pin`, `--build-times`, `--only-build-times`.
//!
//! - GET-by-id of a small document against the `null-server` (another process), sequential
//!   and 64 in flight, each client in its own process (`bench/api`, the `es-bench-api`
//!   binary of the separate `bench/` workspace) so getrusage counts only that client; rounds
//!   interleave the clients and the best round (lowest CPU per request) is reported. The
//!   server and the clients are pinned to different CPUs with `taskset` (`--no-pin` to not).
//! - `--build-times`: clean release builds, each in a fresh target directory and one after
//!   the other: `cargo build --release -p es-api` and a crate depending only on
//!   `elasticsearch` (the features of the bench), plus the time of `cargo xtask codegen`
//!   (into a temporary directory).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::tasks::root;

const BENCH_PKG: &str = "es-bench-api";
const MODES: [(&str, &str); 2] = [("seq", "sequential"), ("conc", "64 in flight")];
/// `hyper` is a bare hyper-util client: the floor under any hyper-based client, for reference.
const CLIENTS: [(&str, &str); 3] = [
    ("crate", "elasticsearch crate"),
    ("ours", "es-api"),
    ("hyper", "bare hyper-util (floor)"),
];

#[derive(Debug)]
struct Opts {
    rounds: u32,
    parse: String,
    build_times: bool,
    runtime: bool,
    pin: bool,
}

fn parse_opts(args: &[String]) -> Result<Opts> {
    let mut o = Opts {
        rounds: 3,
        parse: "typed".into(),
        build_times: false,
        runtime: true,
        pin: true,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "api" => {}
            "--rounds" => {
                o.rounds = it
                    .next()
                    .context("--rounds needs a number")?
                    .parse()
                    .context("--rounds")?;
            }
            "--parse" => o.parse = it.next().context("--parse typed|none")?.clone(),
            "--build-times" => o.build_times = true,
            "--no-pin" => o.pin = false,
            "--only-build-times" => {
                o.build_times = true;
                o.runtime = false;
            }
            other => bail!(
                "unknown argument `{other}` (bench api [--rounds N] [--parse typed|none] [--no-pin] [--build-times] [--only-build-times])"
            ),
        }
    }
    Ok(o)
}

fn cargo_bin() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

fn cargo_in(dir: &Path) -> Command {
    let mut c = Command::new(cargo_bin());
    c.current_dir(dir);
    c
}

/// Runs `cmd`, failing on a non-zero exit; answers the wall time.
fn timed(name: &str, mut cmd: Command) -> Result<Duration> {
    println!("==> {name}");
    let t0 = Instant::now();
    let status = cmd
        .status()
        .with_context(|| format!("cannot start `{name}`"))?;
    let took = t0.elapsed();
    if !status.success() {
        bail!("`{name}` failed ({status})");
    }
    println!("==> {name}: ok in {:.1}s", took.as_secs_f64());
    Ok(took)
}

/// The target directory of the workspace at `ws` (`CARGO_TARGET_DIR` wins).
fn target_dir(ws: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| ws.join("target"), PathBuf::from)
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
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

/// CPU sets (`taskset -c` lists) for the server and the clients: the server alone on the last
/// CPU, the clients on the others. Without it, the sequential numbers jump between two modes
/// (≈ 10 and ≈ 25–35 µs per request for every client) depending on where the scheduler puts
/// the threads. `None` without `taskset` or with one CPU.
#[derive(Debug, Clone)]
struct Pinning {
    server: String,
    clients: String,
}

impl Pinning {
    fn detect(enabled: bool) -> Option<Self> {
        let n = std::thread::available_parallelism().map_or(1, |n| n.get());
        let have_taskset = Command::new("taskset")
            .arg("-V")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        (enabled && n >= 2 && have_taskset).then(|| Pinning {
            server: (n - 1).to_string(),
            clients: if n == 2 {
                "0".into()
            } else {
                format!("0-{}", n - 2)
            },
        })
    }
}

/// `exe`, under `taskset -c cpus` when pinned.
fn command(exe: &Path, cpus: Option<&str>) -> Command {
    match cpus {
        Some(cpus) => {
            let mut c = Command::new("taskset");
            c.args(["-c", cpus]).arg(exe);
            c
        }
        None => Command::new(exe),
    }
}

/// The null server in its own process; stops when its stdin closes.
struct NullServer {
    child: Child,
    url: String,
}

impl NullServer {
    fn start(exe: &Path, cpus: Option<&str>) -> Result<Self> {
        let mut child = command(exe, cpus)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("cannot start {}", exe.display()))?;
        let mut line = String::new();
        BufReader::new(child.stdout.take().context("null-server stdout")?).read_line(&mut line)?;
        let v: serde_json::Value =
            serde_json::from_str(&line).with_context(|| format!("null-server said {line:?}"))?;
        let url = v["url"]
            .as_str()
            .context("null-server printed no url")?
            .to_owned();
        Ok(NullServer { child, url })
    }
}

impl Drop for NullServer {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

/// One client run: requests/s and CPU µs per request.
#[derive(Debug, Clone, Copy)]
struct Run {
    rps: f64,
    cpu_us: f64,
}

fn run_client(
    exe: &Path,
    cpus: Option<&str>,
    url: &str,
    client: &str,
    mode: &str,
    parse: &str,
) -> Result<Run> {
    let out = command(exe, cpus)
        .args([
            "--client", client, "--mode", mode, "--url", url, "--rounds", "1", "--parse", parse,
        ])
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("cannot start {}", exe.display()))?;
    if !out.status.success() {
        bail!(
            "{BENCH_PKG} --client {client} --mode {mode} failed ({})",
            out.status
        );
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let v: serde_json::Value = serde_json::from_str(text.trim())
        .with_context(|| format!("{BENCH_PKG} printed {text:?}"))?;
    Ok(Run {
        rps: v["rps"].as_f64().context("rps")?,
        cpu_us: v["cpu_us"].as_f64().context("cpu_us")?,
    })
}

fn runtime_bench(o: &Opts) -> Result<()> {
    let main_ws = root();
    let bench_ws = main_ws.join("bench");
    let mut ns = cargo_in(&main_ws);
    ns.args([
        "build",
        "--release",
        "-p",
        "es-tests",
        "--bin",
        "null-server",
    ]);
    timed("build null-server (release)", ns)?;
    let mut b = cargo_in(&bench_ws);
    b.args(["build", "--release", "--manifest-path"])
        .arg(bench_ws.join("Cargo.toml"))
        .args(["-p", BENCH_PKG]);
    timed(&format!("build {BENCH_PKG} (release, bench/ workspace)"), b)?;
    let exe = target_dir(&bench_ws).join("release").join(BENCH_PKG);
    let pin = Pinning::detect(o.pin);
    let server = NullServer::start(
        &target_dir(&main_ws).join("release/null-server"),
        pin.as_ref().map(|p| p.server.as_str()),
    )?;
    let client_cpus = pin.as_ref().map(|p| p.clients.as_str());

    println!(
        "\nGET /bench/_doc/1 against a null server at {} ({} rounds, interleaved, best by CPU; body parse: {}; {}; load average before: {})",
        server.url,
        o.rounds,
        o.parse,
        pin.as_ref().map_or_else(
            || "not pinned".to_owned(),
            |p| format!("server on CPU {}, clients on CPU {}", p.server, p.clients)
        ),
        load_average()
    );
    let mut best: BTreeMap<(&str, &str), Run> = BTreeMap::new();
    for round in 1..=o.rounds {
        for (mode, _) in MODES {
            for (client, _) in CLIENTS {
                let r = run_client(&exe, client_cpus, &server.url, client, mode, &o.parse)?;
                println!(
                    "  round {round} {client:>5} {mode:>4}: {:>9.0} req/s {:>7.2} µs CPU/req",
                    r.rps, r.cpu_us
                );
                let slot = best.entry((client, mode)).or_insert(r);
                if r.cpu_us < slot.cpu_us {
                    *slot = r;
                }
            }
        }
    }
    drop(server);

    println!(
        "\n{:<36} {:>12} {:>16}",
        "client / mode", "requests/s", "CPU µs/request"
    );
    for (mode, mode_name) in MODES {
        for (client, client_name) in CLIENTS {
            let r = best[&(client, mode)];
            println!(
                "{:<36} {:>12.0} {:>16.2}",
                format!("{client_name} / {mode_name}"),
                r.rps,
                r.cpu_us
            );
        }
    }
    println!();
    for (mode, mode_name) in MODES {
        let (c, ours, bare) = (
            best[&("crate", mode)],
            best[&("ours", mode)],
            best[&("hyper", mode)],
        );
        let cpu = ours.cpu_us / c.cpu_us;
        println!(
            "{mode_name}: es-api / elasticsearch crate = {cpu:.2}x CPU per request ({}), {:.2}x requests/s; bare hyper-util / crate = {:.2}x CPU",
            if cpu <= 0.5 {
                "target <= 0.5x: met"
            } else {
                "target <= 0.5x: MISSED"
            },
            ours.rps / c.rps,
            bare.cpu_us / c.cpu_us
        );
    }
    println!("load average after: {}", load_average());
    Ok(())
}

/// The `elasticsearch = ...` dependency line of the bench, so both measure the same thing.
fn crate_dependency_line(bench_ws: &Path) -> Result<String> {
    let manifest = std::fs::read_to_string(bench_ws.join("api/Cargo.toml"))?;
    manifest
        .lines()
        .find(|l| l.trim_start().starts_with("elasticsearch ="))
        .map(str::to_owned)
        .context("no `elasticsearch = ...` line in bench/api/Cargo.toml")
}

fn build_times() -> Result<()> {
    let main_ws = root();
    let bench_ws = main_ws.join("bench");
    let busy = rustc_running();
    if busy > 0 {
        println!("{busy} rustc processes running; waiting up to 3 minutes for them to finish");
        let t0 = Instant::now();
        while rustc_running() > 0 && t0.elapsed() < Duration::from_secs(180) {
            std::thread::sleep(Duration::from_secs(5));
        }
    }
    let scratch = std::env::temp_dir().join(format!("es-bench-build-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch)?;
    let result = build_times_in(&main_ws, &bench_ws, &scratch);
    let _ = std::fs::remove_dir_all(&scratch);
    result
}

fn build_times_in(main_ws: &Path, bench_ws: &Path, scratch: &Path) -> Result<()> {
    // The crate-only package: same dependency line (version, features) as the bench, same
    // resolved versions (the bench's lock file) when there is one.
    let pkg = scratch.join("es-crate-only");
    std::fs::create_dir_all(pkg.join("src"))?;
    std::fs::write(
        pkg.join("Cargo.toml"),
        format!(
            "[package]\nname = \"es-crate-only\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n[dependencies]\n{}\n\n[workspace]\n",
            crate_dependency_line(bench_ws)?
        ),
    )?;
    std::fs::write(pkg.join("src/lib.rs"), "pub use elasticsearch;\n")?;
    if bench_ws.join("Cargo.lock").is_file() {
        std::fs::copy(bench_ws.join("Cargo.lock"), pkg.join("Cargo.lock"))?;
    }
    // Downloads are not part of the build time.
    let mut f = cargo_in(main_ws);
    f.arg("fetch");
    timed("cargo fetch (main workspace)", f)?;
    let mut f = cargo_in(&pkg);
    f.arg("fetch");
    timed("cargo fetch (elasticsearch-only crate)", f)?;

    let load_before = load_average();
    let mut ours = cargo_in(main_ws);
    ours.args(["build", "--release", "-p", "es-api"])
        .env("CARGO_TARGET_DIR", scratch.join("target-es-api"));
    let ours = timed("clean `cargo build --release -p es-api`", ours)?;
    let mut theirs = cargo_in(&pkg);
    theirs
        .args(["build", "--release"])
        .env("CARGO_TARGET_DIR", scratch.join("target-elasticsearch"));
    let theirs = timed(
        "clean `cargo build --release` of a crate using only `elasticsearch`",
        theirs,
    )?;
    let mut gen_cmd = cargo_in(main_ws);
    gen_cmd
        .args(["xtask", "codegen", "--out"])
        .arg(scratch.join("generated"));
    let codegen = timed("cargo xtask codegen (into a temporary directory)", gen_cmd)?;

    println!(
        "\nclean release builds (all dependencies from scratch; {} jobs; load average before: {load_before}, after: {}):",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_average()
    );
    println!("  es-api:              {:>7.1}s", ours.as_secs_f64());
    println!("  elasticsearch crate: {:>7.1}s", theirs.as_secs_f64());
    println!(
        "  ratio es-api / crate: {:.2}x ({})",
        ours.as_secs_f64() / theirs.as_secs_f64(),
        if ours <= theirs {
            "target: no slower: met"
        } else {
            "target: no slower: MISSED"
        }
    );
    println!("  cargo xtask codegen: {:>7.1}s", codegen.as_secs_f64());
    Ok(())
}

/// `cargo xtask bench api [...]`.
pub(crate) fn bench_api(args: &[String]) -> Result<()> {
    let o = parse_opts(args)?;
    if o.runtime {
        runtime_bench(&o)?;
    }
    if o.build_times {
        build_times()?;
    }
    Ok(())
}
