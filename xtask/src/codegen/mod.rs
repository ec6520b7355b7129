//! `cargo xtask codegen [--check] [--spec DIR] [--out DIR]`: generates `es-api/src/generated/`
//! from the REST API JSON spec.
//!
//! Pipeline: read the spec dir ([`spec`]) → normalize into an IR ([`model`]) → render text
//! ([`render`]) → rustfmt → write, or compare in `--check` mode ([`ensure`]).

mod ensure;
mod model;
mod naming;
mod render;
mod resend;
mod spec;
mod types;

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};

const USAGE: &str = "\
usage: cargo xtask codegen [--check] [--spec DIR] [--schema FILE | --no-types] [--out DIR]

  --check     fail if the checked-in code differs from a fresh generation
  --spec DIR  the REST API spec directory (default: ../shared/rest-api-spec/elasticsearch,
              relative to the workspace root)
  --schema FILE  the compiled specification schema the types are generated from (default:
              ../shared/elasticsearch-specification/schema.json)
  --no-types  generate the endpoints only (no `types/`)
  --out DIR   where to write (default: es-api/src/generated)";

#[derive(Debug)]
struct Flags {
    check: bool,
    spec: Option<PathBuf>,
    schema: Option<PathBuf>,
    no_types: bool,
    out: Option<PathBuf>,
}

fn parse_flags(args: &[String]) -> Result<Option<Flags>> {
    let mut flags = Flags {
        check: false,
        spec: None,
        schema: None,
        no_types: false,
        out: None,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--check" => flags.check = true,
            "--spec" => flags.spec = Some(it.next().context("--spec needs a directory")?.into()),
            "--schema" => flags.schema = Some(it.next().context("--schema needs a file")?.into()),
            "--no-types" => flags.no_types = true,
            "--out" => flags.out = Some(it.next().context("--out needs a directory")?.into()),
            "-h" | "--help" => return Ok(None),
            other => bail!("unknown argument {other:?}\n\n{USAGE}"),
        }
    }
    Ok(Some(flags))
}

/// The workspace root (the parent of the xtask package).
pub(crate) fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

/// Entry point of the `codegen` subcommand; `args` excludes the subcommand name.
pub(crate) fn run(args: &[String]) -> Result<()> {
    let Some(flags) = parse_flags(args)? else {
        println!("{USAGE}");
        return Ok(());
    };
    let root = workspace_root();
    let spec_dir = flags
        .spec
        .unwrap_or_else(|| root.join("../shared/rest-api-spec/elasticsearch"));
    let out_dir = flags
        .out
        .unwrap_or_else(|| root.join("es-api/src/generated"));
    let started = Instant::now();
    let schema = if flags.no_types {
        None
    } else {
        Some(
            flags
                .schema
                .unwrap_or_else(|| root.join("../shared/elasticsearch-specification/schema.json")),
        )
    };
    let files = generate(
        &spec_dir,
        schema.as_deref(),
        &root.join("target/xtask-codegen"),
    )?;
    let total: usize = files.values().map(String::len).sum();
    if flags.check {
        let diff = ensure::diff(&files, &out_dir)?;
        if !diff.is_empty() {
            bail!("{}", ensure::check_message(&diff, &out_dir));
        }
        eprintln!(
            "codegen: {} is up to date ({} files, {} KB, {:.1?})",
            out_dir.display(),
            files.len(),
            total / 1024,
            started.elapsed()
        );
    } else {
        let diff = ensure::write(&files, &out_dir)?;
        eprintln!(
            "codegen: wrote {} ({} files, {} KB; {} changed, {} new, {} removed) in {:.1?}",
            out_dir.display(),
            files.len(),
            total / 1024,
            diff.changed.len(),
            diff.missing.len(),
            diff.stale.len(),
            started.elapsed()
        );
    }
    Ok(())
}

/// Reads the spec in `spec_dir` and returns the formatted files (path relative to the
/// output dir → text). `scratch` is a temporary directory for rustfmt.
fn generate(
    spec_dir: &Path,
    schema: Option<&Path>,
    scratch: &Path,
) -> Result<std::collections::BTreeMap<String, String>> {
    let spec = spec::read_dir(spec_dir)?;
    let api = model::build(&spec)?;
    let mut files = render::render(&api)?;
    if let Some(schema) = schema {
        files.extend(types::render(schema)?);
    }
    let scratch = scratch.join(format!("run-{}", std::process::id()));
    ensure::format(&files, &scratch)
}
