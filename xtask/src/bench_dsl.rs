//! `cargo xtask bench dsl`: es-dsl side by side with `serde_json::json!`,
//! `serde_json::Value` and elasticsearch-py's `elasticsearch.dsl`.
//!
//! The benchmark is the `dsl-bench` binary of `bench/dsl` in the separate Cargo workspace
//! `bench/` (excluded from the main one). This task builds it in release mode (into
//! `target/bench`) and runs it; it installs elasticsearch-py into `target/pybench` with pip
//! when missing, measures a search built and serialized (30-clause `bool`, 5 aggregations) and
//! a 1,000-hit response parsed, the Python side in `bench/dsl/pybench.py`, and prints a
//! markdown table of medians and ratios.
//!
//! Arguments after `dsl` go to `dsl-bench`: `--rounds N` (default 7), `--budget-ms MS`
//! (time per case per round, default 300), `--no-python`.

use std::process::Command;

use anyhow::{Context, Result, bail};

/// Builds and runs the DSL benchmark, passing `args` to it.
pub(crate) fn bench_dsl(args: &[String]) -> Result<()> {
    let root = crate::tasks::root();
    let target = root.join("target/bench");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    println!("==> build es-bench-dsl (release, bench/ workspace)");
    let status = Command::new(&cargo)
        .current_dir(root.join("bench"))
        .args([
            "build",
            "--release",
            "-p",
            "es-bench-dsl",
            "--bin",
            "dsl-bench",
        ])
        .env("CARGO_TARGET_DIR", &target)
        .status()
        .context("cannot run cargo build for bench/")?;
    if !status.success() {
        bail!("building bench/dsl failed ({status})");
    }
    println!("==> run dsl-bench {}", args.join(" "));
    let status = Command::new(target.join("release/dsl-bench"))
        .current_dir(&root)
        .args(args)
        .status()
        .context("cannot run dsl-bench")?;
    if !status.success() {
        bail!("dsl-bench failed ({status})");
    }
    Ok(())
}
