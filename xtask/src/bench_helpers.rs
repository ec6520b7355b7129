//! `cargo xtask bench helpers`: the side-by-side helpers benchmark.
//!
//! The peers (the `elasticsearch` crate, elasticsearch-py) are heavy, so the benchmark lives in
//! the separate Cargo workspace `bench/` (package `bench/helpers`, excluded from the main
//! workspace: `cargo test --workspace` never builds them). This task builds it in release mode (into `target/bench`), makes sure
//! osmem-server is installed, and runs its driver, which installs elasticsearch-py into
//! `target/pybench` when missing, runs every client in its own process (docs/s, getrusage
//! CPU, peak RSS) against osmem-server and a null server, and prints a markdown table.
//!
//! Arguments after `helpers` go to the driver: `--docs N` (null server, default 200,000),
//! `--osmem-docs N` (default 200,000), `--big-docs N` (the memory-bound run, default
//! 10,000,000; 0 skips it), `--rounds N` (interleaved rounds of the scan rows, best of each,
//! default 3), `--no-python`, `--no-osmem`, `--scan-only` (load the index with one bulk, then
//! the scans only), `--compare-bulk EXE` (ours bulk with this build and with EXE, the same
//! benchmark built at another commit, interleaved against the null server: bulk before/after).

use std::process::Command;

use anyhow::{Context, Result, bail};

/// Builds and runs the helpers benchmark, passing `args` to its driver.
pub(crate) fn bench_helpers_with(args: &[String]) -> Result<()> {
    let root = crate::tasks::root();
    let osmem = crate::tasks::ensure_osmem()?;
    let target = root.join("target/bench");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    println!("==> build es-bench-helpers (release, bench/ workspace)");
    let status = Command::new(&cargo)
        .current_dir(root.join("bench"))
        .args([
            "build",
            "--release",
            "-p",
            "es-bench-helpers",
            "--bin",
            "helpers-bench",
        ])
        .env("CARGO_TARGET_DIR", &target)
        .status()
        .context("cannot run cargo build for bench/")?;
    if !status.success() {
        bail!("building bench/ failed ({status})");
    }
    println!("==> run helpers-bench {}", args.join(" "));
    let status = Command::new(target.join("release/helpers-bench"))
        .current_dir(&root)
        .args(args)
        .env("OSMEM_SERVER_BIN", &osmem)
        .status()
        .context("cannot run helpers-bench")?;
    if !status.success() {
        bail!("helpers-bench failed ({status})");
    }
    Ok(())
}
