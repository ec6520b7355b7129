//! Formatting and the write-or-check step: rustfmt on a scratch copy, then either update
//! `es-api/src/generated/` (only files whose text changed, stale files removed) or compare it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// Formats `files` (relative path → text) with `rustfmt --edition 2024`, in a scratch
/// directory under `scratch`. Returns the formatted texts.
pub(crate) fn format(
    files: &BTreeMap<String, String>,
    scratch: &Path,
) -> Result<BTreeMap<String, String>> {
    if scratch.exists() {
        std::fs::remove_dir_all(scratch)
            .with_context(|| format!("clearing {}", scratch.display()))?;
    }
    let mut paths = Vec::new();
    for (rel, text) in files {
        let path = scratch.join(rel);
        std::fs::create_dir_all(path.parent().expect("a file has a parent"))?;
        std::fs::write(&path, text)?;
        paths.push(path);
    }
    // One rustfmt process per chunk of files keeps it fast and under argument limits.
    for chunk in paths.chunks(200) {
        let output = Command::new(std::env::var_os("RUSTFMT").unwrap_or_else(|| "rustfmt".into()))
            .args(["--edition", "2024", "--color", "never"])
            .args(chunk)
            .output()
            .context("running rustfmt (install it with `rustup component add rustfmt`)")?;
        if !output.status.success() {
            bail!(
                "rustfmt failed on generated code (a generator bug):\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }
    let mut formatted = BTreeMap::new();
    for (rel, path) in files.keys().zip(&paths) {
        formatted.insert(rel.clone(), std::fs::read_to_string(path)?);
    }
    std::fs::remove_dir_all(scratch).ok();
    Ok(formatted)
}

/// Lists the `.rs` files under `dir`, relative to it, with `/` separators.
fn existing(dir: &Path) -> Result<BTreeMap<String, PathBuf>> {
    let mut out = BTreeMap::new();
    if !dir.exists() {
        return Ok(out);
    }
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).with_context(|| format!("listing {}", d.display()))? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path
                    .strip_prefix(dir)?
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/");
                out.insert(rel, path);
            }
        }
    }
    Ok(out)
}

fn normalize(text: &str) -> String {
    text.replace("\r\n", "\n")
}

/// What differs between the generated files and a directory.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Diff {
    pub(crate) changed: Vec<String>,
    pub(crate) missing: Vec<String>,
    pub(crate) stale: Vec<String>,
}

impl Diff {
    pub(crate) fn is_empty(&self) -> bool {
        self.changed.is_empty() && self.missing.is_empty() && self.stale.is_empty()
    }
}

/// Compares `files` with the contents of `dir`.
pub(crate) fn diff(files: &BTreeMap<String, String>, dir: &Path) -> Result<Diff> {
    let on_disk = existing(dir)?;
    let mut diff = Diff::default();
    for (rel, text) in files {
        match on_disk.get(rel) {
            None => diff.missing.push(rel.clone()),
            Some(path) => {
                let current = std::fs::read_to_string(path).unwrap_or_default();
                if normalize(&current) != normalize(text) {
                    diff.changed.push(rel.clone());
                }
            }
        }
    }
    diff.stale = on_disk
        .keys()
        .filter(|k| !files.contains_key(*k))
        .cloned()
        .collect();
    Ok(diff)
}

/// Writes `files` into `dir`: only files whose text changed are rewritten, stale `.rs`
/// files are deleted (and directories left empty by that). Returns the diff applied.
pub(crate) fn write(files: &BTreeMap<String, String>, dir: &Path) -> Result<Diff> {
    let diff = diff(files, dir)?;
    for rel in diff.changed.iter().chain(&diff.missing) {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().expect("a file has a parent"))?;
        std::fs::write(&path, normalize(&files[rel]))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    for rel in &diff.stale {
        let path = dir.join(rel);
        std::fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
        if let Some(parent) = path.parent() {
            // Only succeeds when empty.
            let _ = std::fs::remove_dir(parent);
        }
    }
    Ok(diff)
}

/// The `--check` failure message.
pub(crate) fn check_message(diff: &Diff, dir: &Path) -> String {
    let mut lines = vec![format!(
        "{} is out of date with the spec: run `cargo xtask codegen` and commit the result.",
        dir.display()
    )];
    let list = |label: &str, names: &[String], lines: &mut Vec<String>| {
        for name in names.iter().take(10) {
            lines.push(format!("  {label} {name}"));
        }
        if names.len() > 10 {
            lines.push(format!("  … and {} more {label}", names.len() - 10));
        }
    };
    list("changed:", &diff.changed, &mut lines);
    list("missing:", &diff.missing, &mut lines);
    list("stale:  ", &diff.stale, &mut lines);
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_then_check_round_trips_and_removes_stale_files() {
        let dir = std::env::temp_dir().join(format!("xtask-ensure-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("old")).unwrap();
        std::fs::write(dir.join("old/gone.rs"), "x").unwrap();
        std::fs::write(dir.join("keep.rs"), "a\r\nb\r\n").unwrap();
        let files = BTreeMap::from([
            ("keep.rs".to_owned(), "a\nb\n".to_owned()),
            ("ns/new.rs".to_owned(), "n\n".to_owned()),
        ]);
        let applied = write(&files, &dir).unwrap();
        assert_eq!(applied.missing, ["ns/new.rs"]);
        assert!(applied.changed.is_empty(), "CRLF vs LF is not a change");
        assert_eq!(applied.stale, ["old/gone.rs"]);
        assert!(!dir.join("old").exists());
        assert!(diff(&files, &dir).unwrap().is_empty());
        std::fs::write(dir.join("keep.rs"), "edited").unwrap();
        let d = diff(&files, &dir).unwrap();
        assert_eq!(d.changed, ["keep.rs"]);
        assert!(check_message(&d, &dir).contains("run `cargo xtask codegen`"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
