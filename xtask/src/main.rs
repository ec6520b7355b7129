//! Maintainer tasks: `cargo xtask <task>`.
//!
//! - `test`: install the test server if missing, then fmt check, clippy `-D warnings`,
//!   `codegen --check`, and every test of the workspace. `.ci/run` runs exactly this.
//! - `demo`: start a test server and run the demo example against it.
//! - `deps`: the dependency check (no duplicated major, no RustSec advisory; see `deps.rs`),
//!   also a step of `test`.
//! - `bench [transport|api|helpers|dsl]`: benchmarks (against local servers; `dsl` in-process).
//! - `codegen [--check] [--spec DIR]`: generate `es-api/src/generated/` from the REST spec.
//! - `doc [--open]`: the API docs as docs.rs builds them (all features, feature badges).
//! - `yaml [FILTER]`: run the clients YAML suite (or the files whose path contains FILTER)
//!   through `Client::call` against osmem-server; report in `target/yaml-report.txt`.

mod bench_api;
mod bench_dsl;
mod bench_helpers;
mod codegen;
mod deps;
mod tasks;

use anyhow::{Result, bail};

const USAGE: &str = "usage: cargo xtask <test|demo|deps|bench [transport|api|helpers|dsl]|codegen [--check] [--spec DIR]|yaml [FILTER]|doc [--open]>";

fn main() {
    if let Err(e) = run() {
        eprintln!("xtask: {e:#}");
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(task) = args.first() else {
        bail!("{USAGE}")
    };
    let rest = &args[1..];
    match task.as_str() {
        "test" => tasks::test(rest),
        "demo" => tasks::demo(rest),
        "deps" => deps::check(),
        "bench" => tasks::bench(rest),
        "yaml" => tasks::yaml(rest),
        "doc" => tasks::doc(rest),
        "install-osmem" => tasks::ensure_osmem().map(|p| println!("{}", p.display())),
        // codegen arm (the generator lives in src/codegen/)
        "codegen" => tasks::codegen(rest),
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            Ok(())
        }
        other => bail!("unknown task `{other}`\n{USAGE}"),
    }
}

/// Runs the code generator (`src/codegen/`) with the arguments after `codegen`.
pub(crate) fn codegen_dispatch(args: &[String]) -> Result<()> {
    codegen::run(args)
}
