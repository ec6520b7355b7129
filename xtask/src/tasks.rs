//! The tasks behind `cargo xtask test|demo|bench`, and finding or installing osmem-server.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};

/// The workspace root (the parent of this crate's folder).
pub(crate) fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn cargo() -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(root());
    c
}

fn run_step(name: &str, mut cmd: Command) -> Result<()> {
    println!("==> {name}");
    let start = Instant::now();
    let status = cmd
        .status()
        .with_context(|| format!("cannot start `{name}`"))?;
    if !status.success() {
        bail!("`{name}` failed ({status})");
    }
    println!("==> {name}: ok in {:.1}s", start.elapsed().as_secs_f64());
    Ok(())
}

fn is_file(p: &Path) -> bool {
    p.is_file()
}

/// Where `pip install --target` puts the server for this workspace.
fn local_osmem() -> PathBuf {
    root().join("target/osmem/osmem_server/bin/osmem-server")
}

/// Finds osmem-server: `OSMEM_SERVER_BIN`, `PATH`, the Python package, then `target/osmem`.
pub(crate) fn find_osmem() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("OSMEM_SERVER_BIN") {
        let p = PathBuf::from(p);
        if is_file(&p) {
            return Some(p);
        }
    }
    if let Some(paths) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&paths) {
            let p = dir.join("osmem-server");
            if is_file(&p) {
                return Some(p);
            }
        }
    }
    let py = Command::new("python3")
        .args([
            "-c",
            "import osmem_server,os;print(os.path.join(os.path.dirname(osmem_server.__file__),'bin','osmem-server'))",
        ])
        .output();
    if let Ok(out) = py
        && out.status.success()
    {
        let p = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if is_file(&p) {
            return Some(p);
        }
    }
    let p = local_osmem();
    is_file(&p).then_some(p)
}

/// Finds osmem-server, installing it with pip into `target/osmem` when missing.
pub(crate) fn ensure_osmem() -> Result<PathBuf> {
    if let Some(p) = find_osmem() {
        return Ok(p);
    }
    println!("==> osmem-server not found: installing it with pip into target/osmem");
    let target = root().join("target/osmem");
    let status = Command::new("python3")
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--target",
        ])
        .arg(&target)
        .arg("osmem-server")
        .status()
        .context("cannot run `python3 -m pip` (is Python 3 with pip installed?)")?;
    if !status.success() {
        bail!("`pip install osmem-server` failed ({status})");
    }
    let p = local_osmem();
    if !is_file(&p) {
        bail!("pip installed osmem-server but {} is missing", p.display());
    }
    Ok(p)
}

/// Finds nginx (for the TLS end-to-end test): `NGINX_BIN`, `PATH`, then `/usr/sbin/nginx`,
/// the same order as `tests/tests/tls_proxy.rs`.
fn find_nginx() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("NGINX_BIN").map(PathBuf::from) {
        return is_file(&p).then_some(p);
    }
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .map(|d| d.join("nginx"))
        .chain([PathBuf::from("/usr/sbin/nginx")])
        .find(|p| is_file(p))
}

/// Finds nginx, installing Debian's package with apt-get when missing and running as root
/// on a Debian-like system; otherwise fails with the command to run.
pub(crate) fn ensure_nginx() -> Result<PathBuf> {
    if let Some(p) = find_nginx() {
        return Ok(p);
    }
    const HOW: &str = "install it with `sudo apt-get install -y nginx` (Debian, Ubuntu), or set \
                       NGINX_BIN to an nginx binary; the TLS end-to-end test (tests/tests/tls_proxy.rs) needs it";
    let root_user = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let apt = Path::new("/usr/bin/apt-get").is_file();
    if !(root_user && apt) {
        bail!(
            "nginx not found, and not installed automatically ({}): {HOW}",
            if apt {
                "not running as root"
            } else {
                "no apt-get"
            }
        );
    }
    println!("==> nginx not found: installing Debian's package `nginx` with apt-get");
    let quiet = |args: &[&str]| -> Result<()> {
        let status = Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .context("cannot run apt-get")?;
        if !status.success() {
            bail!("`apt-get {}` failed ({status}): {HOW}", args.join(" "));
        }
        Ok(())
    };
    quiet(&["update", "-qq"])?;
    quiet(&["install", "-y", "-qq", "--no-install-recommends", "nginx"])?;
    let p = find_nginx()
        .with_context(|| format!("apt-get installed nginx but it is not found: {HOW}"))?;
    println!("==> installed nginx at {}", p.display());
    Ok(p)
}

/// `cargo xtask test`: the whole gate that CI runs.
pub(crate) fn test(args: &[String]) -> Result<()> {
    let quick = args.iter().any(|a| a == "--no-lint");
    let osmem = ensure_osmem()?;
    let nginx = ensure_nginx()?;
    println!("==> using nginx at {}", nginx.display());
    // Safe: single-threaded at this point, before any child process.
    let osmem_env = osmem.display().to_string();
    println!("==> using osmem-server at {osmem_env}");
    if !quick {
        let mut fmt = cargo();
        fmt.args(["fmt", "--all", "--", "--check"]);
        run_step("cargo fmt --check", fmt)?;
        let mut clippy = cargo();
        clippy.args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--all-features",
            "--",
            "-D",
            "warnings",
        ]);
        run_step("cargo clippy --all-features -D warnings", clippy)?;
    }
    if root().join("xtask/src/codegen").is_dir() {
        codegen(&["--check".to_owned()])?;
    }
    crate::deps::check()?;
    let mut t = cargo();
    t.args(["test", "--workspace", "--all-features", "--no-fail-fast"])
        .env("OSMEM_SERVER_BIN", &osmem_env)
        .env("NGINX_BIN", &nginx);
    run_step("cargo test --workspace --all-features", t)
}

/// `cargo xtask demo`: start a server, run the demo example against it, stop the server.
pub(crate) fn demo(_args: &[String]) -> Result<()> {
    let osmem = ensure_osmem()?;
    let mut server = Command::new(&osmem)
        .args([
            "-addr",
            "127.0.0.1:0",
            "-no-stdin-watch",
            "-parent-pid",
            &std::process::id().to_string(),
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot start {}", osmem.display()))?;
    let url = {
        use std::io::BufRead;
        let out = server
            .stdout
            .take()
            .context("no stdout from osmem-server")?;
        let mut line = String::new();
        std::io::BufReader::new(out).read_line(&mut line)?;
        let v: serde_json::Value =
            serde_json::from_str(&line).context("osmem-server did not print its URL")?;
        v["url"]
            .as_str()
            .context("no url in osmem-server's first line")?
            .to_owned()
    };
    println!("==> osmem-server at {url}");
    let mut ex = cargo();
    ex.args(["run", "--quiet", "-p", "es-transport", "--example", "demo"])
        .env("ES_URL", &url);
    let mut r = run_step("demo example", ex);
    if r.is_ok() {
        let mut dsl = cargo();
        dsl.args(["run", "--quiet", "-p", "es-dsl", "--example", "search"])
            .env("ES_URL", &url);
        r = run_step("DSL example", dsl);
    }
    if r.is_ok() {
        let mut blog = cargo();
        blog.args(["run", "--quiet", "-p", "es-dsl", "--example", "blog"])
            .env("ES_URL", &url);
        r = run_step("persistence example", blog);
    }
    // es-api's examples of what users do first.
    for example in [
        "search_highlight",
        "aggregations",
        "errors",
        "blocking",
        "trace_one_request",
    ] {
        if r.is_err() {
            break;
        }
        let mut ex = cargo();
        ex.args(["run", "--quiet", "-p", "es-api", "--example", example])
            .env("ES_URL", &url);
        if example == "blocking" {
            ex.args(["--features", "blocking"]);
        }
        r = run_step(&format!("es-api example {example}"), ex);
    }
    let _ = server.kill();
    let _ = server.wait();
    r
}

/// `cargo xtask bench <which>`.
pub(crate) fn bench(args: &[String]) -> Result<()> {
    let Some((which, rest)) = args.split_first() else {
        bail!("usage: cargo xtask bench <transport|api|helpers|dsl> [args]");
    };
    match which.as_str() {
        "transport" => {
            let osmem = ensure_osmem()?;
            let mut b = cargo();
            b.args(["bench", "-p", "es-tests", "--bench", "transport"])
                .env("OSMEM_SERVER_BIN", osmem.display().to_string());
            run_step("bench transport", b)
        }
        "api" => crate::bench_api::bench_api(rest),
        "helpers" => {
            ensure_osmem()?;
            crate::bench_helpers::bench_helpers_with(rest)
        }
        "dsl" => crate::bench_dsl::bench_dsl(rest),
        other => bail!("unknown benchmark `{other}` (transport, api, helpers, dsl)"),
    }
}

/// `cargo xtask yaml [FILTER]`: the clients YAML suite (`tests/tests/yaml/`), or only the
/// files whose path relative to the suite contains FILTER (`cargo xtask yaml indices/`), with
/// its output shown. The floor (`tests/yaml-floor.txt`) is checked on full runs only.
pub(crate) fn yaml(args: &[String]) -> Result<()> {
    if args.len() > 1 {
        bail!("usage: cargo xtask yaml [FILTER]");
    }
    let osmem = ensure_osmem()?;
    let mut t = cargo();
    t.args([
        "test",
        "-p",
        "es-tests",
        "--test",
        "yaml",
        "--",
        "--nocapture",
    ])
    .env("OSMEM_SERVER_BIN", &osmem)
    .env("YAML_FILTER", args.first().map_or("", String::as_str));
    run_step("cargo test -p es-tests --test yaml", t)
}

/// `cargo xtask codegen`: runs the generator (a separate binary target keeps this file small).
pub(crate) fn codegen(args: &[String]) -> Result<()> {
    crate::codegen_dispatch(args)
}

/// `cargo xtask doc [--open]`: the workspace's API docs the way docs.rs builds them (see
/// `[package.metadata.docs.rs]` in each crate): every feature on, and `--cfg docsrs`, which
/// turns on rustdoc's `doc_cfg` so that each feature-gated item (`send_blocking`, the
/// `aws` signer, …) carries an "Available on crate feature … only" badge. `doc_cfg` is a
/// nightly rustdoc feature, as on docs.rs; on this machine's stable toolchain the task sets
/// `RUSTC_BOOTSTRAP=1` for the rustdoc run only (docs, never the build of the crates).
pub(crate) fn doc(args: &[String]) -> Result<()> {
    let mut c = cargo();
    c.args(["doc", "--workspace", "--all-features", "--no-deps"])
        .args(["--exclude", "xtask"])
        .env("RUSTDOCFLAGS", "--cfg docsrs -D warnings")
        .env("RUSTC_BOOTSTRAP", "1")
        .env("CARGO_TARGET_DIR", root().join("target/docsrs"));
    for a in args {
        match a.as_str() {
            "--open" => {
                c.arg("--open");
            }
            other => bail!("unknown argument `{other}` (doc [--open])"),
        }
    }
    run_step("doc (as docs.rs)", c)?;
    println!(
        "docs in {}",
        root().join("target/docsrs/doc/es_api/index.html").display()
    );
    Ok(())
}
