//! `cargo xtask deps` (and a step of `cargo xtask test`): the normal dependency tree of the
//! published crates (es-transport, es-api, es-dsl, es-helpers, all features) has no crate in
//! two semver-incompatible versions (unless `xtask/duplicates-allowed.txt` says why) and no
//! crate version with a RustSec advisory (`xtask/advisories.txt`, a checked-in extract of
//! rustsec/advisory-db: cargo-deny cannot fetch the database on a machine that reaches only
//! the package registries).

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use anyhow::{Context, Result, bail};
use semver::{Version, VersionReq};

use crate::tasks::root;

const PUBLISHED: &[&str] = &["es-transport", "es-api", "es-dsl", "es-helpers"];

/// One crate version of the tree.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Package {
    pub(crate) name: String,
    pub(crate) version: Version,
}

/// The semver-compatibility class of a version: the major, or `0.minor` below 1.0.
fn compat(v: &Version) -> String {
    if v.major == 0 {
        format!("0.{}", v.minor)
    } else {
        v.major.to_string()
    }
}

/// Parses `cargo tree --prefix none --format "{p}"` lines: `name vX.Y.Z [(path)] [(*)]`.
pub(crate) fn parse_tree(text: &str) -> Result<BTreeSet<Package>> {
    let mut out = BTreeSet::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let mut words = line.split_whitespace();
        let (Some(name), Some(v)) = (words.next(), words.next()) else {
            bail!("unexpected `cargo tree` line {line:?}");
        };
        let v = v.strip_prefix('v').unwrap_or(v);
        let version = Version::parse(v).with_context(|| format!("version in {line:?}"))?;
        out.insert(Package {
            name: name.to_owned(),
            version,
        });
    }
    Ok(out)
}

/// The crates present in more than one compatibility class, with their versions.
pub(crate) fn duplicates(tree: &BTreeSet<Package>) -> BTreeMap<String, Vec<Version>> {
    let mut by_name: BTreeMap<&str, BTreeMap<String, Version>> = BTreeMap::new();
    for p in tree {
        by_name
            .entry(&p.name)
            .or_default()
            .insert(compat(&p.version), p.version.clone());
    }
    by_name
        .into_iter()
        .filter(|(_, classes)| classes.len() > 1)
        .map(|(n, classes)| (n.to_owned(), classes.into_values().collect()))
        .collect()
}

/// One advisory of `advisories.txt`.
#[derive(Debug)]
pub(crate) struct Advisory {
    pub(crate) id: String,
    pub(crate) krate: String,
    pub(crate) kind: String,
    patched: Vec<VersionReq>,
    unaffected: Vec<VersionReq>,
    pub(crate) title: String,
}

impl Advisory {
    /// Affected: matches no `patched` and no `unaffected` requirement.
    pub(crate) fn affects(&self, v: &Version) -> bool {
        !self
            .patched
            .iter()
            .chain(&self.unaffected)
            .any(|r| r.matches(v))
    }
}

/// The advisories and the crates they were looked up for.
pub(crate) fn parse_advisories(text: &str) -> Result<(Vec<Advisory>, BTreeSet<String>)> {
    let reqs = |s: &str| -> Result<Vec<VersionReq>> {
        if s == "-" {
            return Ok(Vec::new());
        }
        s.split(';')
            .map(|r| VersionReq::parse(r.trim()).with_context(|| format!("requirement {r:?}")))
            .collect()
    };
    let mut advisories = Vec::new();
    let mut checked = BTreeSet::new();
    for (n, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        match f.as_slice() {
            ["checked", krate] => {
                checked.insert((*krate).to_owned());
            }
            [id, krate, kind, patched, unaffected, title] => advisories.push(Advisory {
                id: (*id).to_owned(),
                krate: (*krate).to_owned(),
                kind: (*kind).to_owned(),
                patched: reqs(patched).with_context(|| format!("line {}", n + 1))?,
                unaffected: reqs(unaffected).with_context(|| format!("line {}", n + 1))?,
                title: (*title).to_owned(),
            }),
            _ => bail!("advisories.txt line {}: {line:?}", n + 1),
        }
    }
    Ok((advisories, checked))
}

/// `name reason…` lines: crates allowed in two versions, and why.
fn parse_allowed(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let (name, why) = l.split_once(char::is_whitespace)?;
            Some((name.to_owned(), why.trim().to_owned()))
        })
        .collect()
}

/// The problems of a tree: unexplained duplicates, affected versions, unchecked crates.
pub(crate) fn problems(
    tree: &BTreeSet<Package>,
    advisories: &[Advisory],
    checked: &BTreeSet<String>,
    allowed: &BTreeMap<String, String>,
) -> Vec<String> {
    let mut out = Vec::new();
    for (name, versions) in duplicates(tree) {
        if !allowed.contains_key(&name) {
            let v: Vec<String> = versions.iter().map(Version::to_string).collect();
            out.push(format!(
                "`{name}` is in the tree in {} incompatible versions ({}): align them, or say why in xtask/duplicates-allowed.txt",
                v.len(),
                v.join(", ")
            ));
        }
    }
    for p in tree.iter().filter(|p| !p.name.starts_with("es-")) {
        if !checked.contains(&p.name) {
            out.push(format!(
                "`{}` {} is new in the tree: look up its RustSec advisories and add them (and a `checked` line) to xtask/advisories.txt",
                p.name, p.version
            ));
        }
        for a in advisories
            .iter()
            .filter(|a| a.krate == p.name && a.affects(&p.version))
        {
            out.push(format!(
                "`{}` {} is affected by {} ({}): {}",
                p.name, p.version, a.id, a.kind, a.title
            ));
        }
    }
    out
}

/// Runs the check; prints what it looked at.
pub(crate) fn check() -> Result<()> {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(root())
        .args(["tree", "-e", "normal", "--all-features"]);
    for p in PUBLISHED {
        cmd.args(["-p", p]);
    }
    cmd.args(["--prefix", "none", "--format", "{p}"]);
    let out = cmd.output().context("running cargo tree")?;
    if !out.status.success() {
        bail!(
            "cargo tree failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let tree = parse_tree(&String::from_utf8_lossy(&out.stdout))?;
    let read = |f: &str| {
        std::fs::read_to_string(root().join("xtask").join(f))
            .with_context(|| format!("reading xtask/{f}"))
    };
    let (advisories, checked) = parse_advisories(&read("advisories.txt")?)?;
    let allowed = parse_allowed(&read("duplicates-allowed.txt")?);
    let found = problems(&tree, &advisories, &checked, &allowed);
    let dups = duplicates(&tree);
    println!(
        "==> dependency check: {} crate versions in the normal tree of {}; {} advisories checked; duplicated: {}",
        tree.len(),
        PUBLISHED.join(", "),
        advisories.len(),
        if dups.is_empty() {
            "none".to_owned()
        } else {
            dups.keys()
                .map(|k| format!("{k} (allowed: {})", allowed.get(k).map_or("no", |s| s)))
                .collect::<Vec<_>>()
                .join("; ")
        }
    );
    if !found.is_empty() {
        bail!("dependency check failed:\n- {}", found.join("\n- "));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(lines: &str) -> BTreeSet<Package> {
        parse_tree(lines).unwrap()
    }

    #[test]
    fn duplicates_are_incompatible_versions_only() {
        let t = tree(
            "syn v2.0.119\nsyn v3.0.10\nsyn v3.0.11 (*)\nwebpki-roots v0.26.11\nwebpki-roots v1.0.10\n\
             base64 v0.22.1\nbase64 v0.22.0\nes-api v0.1.0 (/work/es-api)\n",
        );
        let d = duplicates(&t);
        assert_eq!(d.keys().collect::<Vec<_>>(), ["syn", "webpki-roots"]);
    }

    #[test]
    fn advisories_match_as_rustsec_means_them() {
        let (adv, checked) = parse_advisories(
            "# x\nchecked\tring\nchecked\tbytes\n\
             RUSTSEC-2025-0009\tring\tvulnerability\t>= 0.17.12\t-\tAES panic\n\
             RUSTSEC-2026-0007\tbytes\tvulnerability\t>= 1.11.1\t< 1.2.1\tBytesMut::reserve\n\
             RUSTSEC-2023-0125\taws-sigv4\tvulnerability\t>= 0.55.1;0.54.2\t-\tlogs\n",
        )
        .unwrap();
        let v = |s: &str| Version::parse(s).unwrap();
        assert!(adv[0].affects(&v("0.17.11")));
        assert!(!adv[0].affects(&v("0.17.14")));
        assert!(adv[1].affects(&v("1.5.0")));
        assert!(!adv[1].affects(&v("1.1.0")), "unaffected");
        assert!(!adv[1].affects(&v("1.11.1")));
        // A bare version is a caret requirement: 0.54.2 patches 0.54.x, not 0.53.
        assert!(!adv[2].affects(&v("0.54.3")));
        assert!(adv[2].affects(&v("0.53.0")));
        assert!(checked.contains("ring") && !checked.contains("aws-sigv4"));

        let allowed = BTreeMap::new();
        let t = tree("ring v0.17.11\nbytes v1.11.1\nnew-crate v1.0.0\n");
        let p = problems(&t, &adv, &checked, &allowed);
        assert_eq!(p.len(), 2, "{p:#?}");
        assert!(p[0].contains("RUSTSEC-2025-0009") || p[1].contains("RUSTSEC-2025-0009"));
        assert!(p.iter().any(|m| m.contains("`new-crate` 1.0.0 is new")));
    }

    #[test]
    fn the_checked_in_lists_parse() {
        let root = crate::tasks::root();
        let (adv, checked) =
            parse_advisories(&std::fs::read_to_string(root.join("xtask/advisories.txt")).unwrap())
                .unwrap();
        assert!(!adv.is_empty() && !checked.is_empty());
        parse_allowed(&std::fs::read_to_string(root.join("xtask/duplicates-allowed.txt")).unwrap());
    }
}
