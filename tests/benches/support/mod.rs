//! Shared pieces of the benchmarks: a null server in another process, CPU time, reports.

#![allow(dead_code, unreachable_pub, missing_docs)]

use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::resource::{UsageWho, getrusage};

/// A null server (`null-server` binary) in its own process, so its CPU is not counted.
#[derive(Debug)]
pub struct NullServer {
    child: Child,
    pub url: String,
    pub urls: Vec<String>,
}

impl NullServer {
    pub fn start() -> Self {
        Self::start_with_listeners(1)
    }

    /// A null server listening on `n` ports (one URL each).
    pub fn start_with_listeners(n: usize) -> Self {
        let exe = std::env::var("CARGO_BIN_EXE_null-server")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|_| {
                let mut p = std::env::current_exe().unwrap();
                p.pop();
                if p.ends_with("deps") {
                    p.pop();
                }
                p.join("null-server")
            });
        let mut child = Command::new(&exe)
            .env("NULL_SERVER_LISTENERS", n.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e} (build it with `cargo build --release -p es-tests --bin null-server`)", exe.display()));
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let v: serde_json::Value =
            serde_json::from_str(&line).expect("null-server printed its URL");
        let urls = v["urls"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|u| u.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        NullServer {
            child,
            url: v["url"].as_str().unwrap().to_owned(),
            urls,
        }
    }
}

impl Drop for NullServer {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

/// User + system CPU time of this process.
pub fn cpu_time() -> Duration {
    let ru = getrusage(UsageWho::RUSAGE_SELF).expect("getrusage");
    let tv =
        |t: nix::sys::time::TimeVal| Duration::new(t.tv_sec() as u64, (t.tv_usec() as u32) * 1000);
    tv(ru.user_time()) + tv(ru.system_time())
}

/// Peak resident set size of this process, in bytes.
pub fn peak_rss() -> u64 {
    getrusage(UsageWho::RUSAGE_SELF).map_or(0, |ru| ru.max_rss() as u64 * 1024)
}

/// One measured run.
#[derive(Debug, Clone, Copy)]
pub struct Measure {
    pub ops: u64,
    pub wall: Duration,
    pub cpu: Duration,
}

impl Measure {
    pub fn per_sec(&self) -> f64 {
        self.ops as f64 / self.wall.as_secs_f64()
    }
    pub fn cpu_us_per_op(&self) -> f64 {
        self.cpu.as_secs_f64() * 1e6 / self.ops as f64
    }
}

/// Runs `f` (which performs `ops` operations) and measures wall and CPU time.
pub fn measure<F: FnOnce()>(ops: u64, f: F) -> Measure {
    let c0 = cpu_time();
    let t0 = Instant::now();
    f();
    Measure {
        ops,
        wall: t0.elapsed(),
        cpu: cpu_time() - c0,
    }
}

/// The best (lowest CPU per op) of `rounds` runs.
pub fn best_of(rounds: usize, mut f: impl FnMut() -> Measure) -> Measure {
    (0..rounds)
        .map(|_| f())
        .min_by(|a, b| a.cpu_us_per_op().total_cmp(&b.cpu_us_per_op()))
        .unwrap()
}
