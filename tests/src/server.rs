//! [`OsmemServer`]: a real `osmem-server` process on a loopback port.
//!
//! `osmem-server` is an in-memory Elasticsearch/OpenSearch-compatible server
//! published on PyPI (`pip install osmem-server`). [`find_binary`] locates
//! it; [`OsmemServer::start`] runs it on a free port and kills it on drop.

use std::collections::VecDeque;
use std::fmt;
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long the server may take to print its URL.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(20);
/// How long the Python lookup may take.
const PYTHON_TIMEOUT: Duration = Duration::from_secs(15);
/// Attempts of [`OsmemServer::start_on`] while the port is busy.
const START_ON_ATTEMPTS: usize = 40;
/// stderr lines kept for error messages.
const STDERR_LINES: usize = 100;

/// How to install `osmem-server`; part of every "not found" message.
pub const INSTALL_HINT: &str = "osmem-server (the in-memory Elasticsearch-compatible test server) was not found.\n\
Install it in one of these ways:\n  \
- run the tests with `cargo xtask test` (it runs `pip install --target target/osmem osmem-server` when missing), or\n  \
- `pip install osmem-server` (puts `osmem-server` on PATH / makes the `osmem_server` Python package importable), or\n  \
- set OSMEM_SERVER_BIN=/path/to/osmem-server";

fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

fn binary_name() -> &'static str {
    if cfg!(windows) {
        "osmem-server.exe"
    } else {
        "osmem-server"
    }
}

fn search_path() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(binary_name()))
        .find(|p| p.is_file())
}

fn search_python() -> Option<PathBuf> {
    let script = "import osmem_server,os;print(os.path.join(os.path.dirname(osmem_server.__file__),'bin','osmem-server'))";
    for python in ["python3", "python"] {
        let Ok(mut child) = Command::new(python)
            .args(["-c", script])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
        else {
            continue;
        };
        let deadline = Instant::now() + PYTHON_TIMEOUT;
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break Some(status),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    break None;
                }
            }
        };
        if !status.is_some_and(|s| s.success()) {
            continue;
        }
        let mut out = String::new();
        if let Some(stdout) = child.stdout.as_mut() {
            let _ = std::io::Read::read_to_string(stdout, &mut out);
        }
        let mut p = PathBuf::from(out.trim());
        if cfg!(windows) {
            p.set_extension("exe");
        }
        if p.is_file() {
            return Some(p);
        }
    }
    None
}

/// Locates the `osmem-server` binary: env `OSMEM_SERVER_BIN`, then
/// `osmem-server` on `PATH`, then the `osmem_server` Python package, then
/// `<workspace>/target/osmem/osmem_server/bin/osmem-server` (where
/// `cargo xtask test` installs it). The error says how to install it.
pub fn find_binary() -> Result<PathBuf, String> {
    static FOUND: OnceLock<PathBuf> = OnceLock::new();
    if let Some(p) = FOUND.get() {
        return Ok(p.clone());
    }
    let mut looked = Vec::new();
    let found = if let Some(env) = std::env::var_os("OSMEM_SERVER_BIN").filter(|v| !v.is_empty()) {
        let p = PathBuf::from(env);
        if !p.is_file() {
            return Err(format!(
                "OSMEM_SERVER_BIN={} is not a file.\n{INSTALL_HINT}",
                p.display()
            ));
        }
        Some(p)
    } else {
        looked.push("$OSMEM_SERVER_BIN (unset)".to_string());
        looked.push("osmem-server on PATH".to_string());
        search_path()
            .or_else(|| {
                looked.push("the osmem_server Python package (python3)".to_string());
                search_python()
            })
            .or_else(|| {
                let p = workspace_root()
                    .join("target")
                    .join("osmem")
                    .join("osmem_server")
                    .join("bin")
                    .join(binary_name());
                looked.push(p.display().to_string());
                p.is_file().then_some(p)
            })
    };
    match found {
        Some(p) => Ok(FOUND.get_or_init(|| p).clone()),
        None => Err(format!(
            "{INSTALL_HINT}\n(looked at: {})",
            looked.join("; ")
        )),
    }
}

/// A running `osmem-server` on a loopback port. Killed on drop (and it exits
/// by itself if the test process dies, via `-parent-pid`).
pub struct OsmemServer {
    child: Option<Child>,
    url: String,
    addr: SocketAddr,
    info: serde_json::Value,
    stderr_tail: Arc<Mutex<VecDeque<String>>>,
    readers: Vec<JoinHandle<()>>,
}

impl fmt::Debug for OsmemServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OsmemServer")
            .field("url", &self.url)
            .field("pid", &self.pid())
            .finish_non_exhaustive()
    }
}

/// Why one spawn attempt failed.
struct SpawnError {
    port_busy: bool,
    message: String,
}

fn tail_text(tail: &Mutex<VecDeque<String>>) -> String {
    let tail = tail.lock().unwrap_or_else(|e| e.into_inner());
    tail.iter().cloned().collect::<Vec<_>>().join("\n")
}

impl OsmemServer {
    /// Starts a server on a free loopback port.
    ///
    /// # Panics
    ///
    /// If the binary cannot be found (with the install instructions) or the
    /// server does not come up: a test that needs the server fails loudly.
    #[track_caller]
    pub fn start() -> Self {
        Self::start_with_args(&[])
    }

    /// Starts a server on a free loopback port with extra arguments (e.g.
    /// `["-seed", "dir"]`).
    ///
    /// # Panics
    ///
    /// Like [`OsmemServer::start`].
    #[track_caller]
    pub fn start_with_args(args: &[&str]) -> Self {
        match Self::try_start(None, args) {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        }
    }

    /// Starts a server on this address, e.g. to bring a stopped "node" back
    /// on its old port. Retries for a few seconds while the port is busy.
    ///
    /// # Panics
    ///
    /// Like [`OsmemServer::start`], or if the port stays busy.
    #[track_caller]
    pub fn start_on(addr: SocketAddr) -> Self {
        Self::start_on_with_args(addr, &[])
    }

    /// [`OsmemServer::start_on`] with extra arguments.
    ///
    /// # Panics
    ///
    /// Like [`OsmemServer::start_on`].
    #[track_caller]
    pub fn start_on_with_args(addr: SocketAddr, args: &[&str]) -> Self {
        match Self::try_start(Some(addr), args) {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        }
    }

    /// Starts a server on `addr` (or a free loopback port), returning an
    /// error (with install instructions when the binary is missing) instead
    /// of panicking.
    pub fn try_start(addr: Option<SocketAddr>, args: &[&str]) -> Result<Self, String> {
        let bin = find_binary()?;
        let listen = addr.map_or_else(|| "127.0.0.1:0".to_string(), |a| a.to_string());
        let attempts = if addr.is_some() { START_ON_ATTEMPTS } else { 3 };
        let mut last = String::new();
        for _ in 0..attempts {
            match Self::spawn_once(&bin, &listen, args) {
                Ok(s) => return Ok(s),
                Err(e) if e.port_busy || addr.is_none() => {
                    last = e.message;
                    std::thread::sleep(Duration::from_millis(150));
                }
                Err(e) => return Err(e.message),
            }
        }
        Err(last)
    }

    fn spawn_once(bin: &Path, listen: &str, args: &[&str]) -> Result<Self, SpawnError> {
        let fail = |message: String| SpawnError {
            port_busy: false,
            message,
        };
        let mut child = Command::new(bin)
            .args(["-addr", listen, "-no-stdin-watch", "-parent-pid"])
            .arg(std::process::id().to_string())
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| fail(format!("cannot run {}: {e}\n{INSTALL_HINT}", bin.display())))?;
        let stderr_tail = Arc::new(Mutex::new(VecDeque::new()));
        let mut readers = Vec::new();
        if let Some(stderr) = child.stderr.take() {
            let tail = stderr_tail.clone();
            readers.push(std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines() {
                    let Ok(line) = line else { break };
                    let mut tail = tail.lock().unwrap_or_else(|e| e.into_inner());
                    if tail.len() >= STDERR_LINES {
                        tail.pop_front();
                    }
                    tail.push_back(line);
                }
            }));
        }
        let (tx, rx) = std::sync::mpsc::channel();
        if let Some(stdout) = child.stdout.take() {
            readers.push(std::thread::spawn(move || {
                let mut reader = BufReader::new(stdout);
                let mut first = String::new();
                if reader.read_line(&mut first).is_ok_and(|n| n > 0) {
                    let _ = tx.send(first);
                }
                drop(tx);
                // Keep draining so the server never blocks on a full pipe.
                let mut sink = Vec::new();
                while reader.read_until(b'\n', &mut sink).is_ok_and(|n| n > 0) {
                    sink.clear();
                }
            }));
        }
        let mut server = OsmemServer {
            child: Some(child),
            url: String::new(),
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            info: serde_json::Value::Null,
            stderr_tail,
            readers,
        };
        let first = rx.recv_timeout(STARTUP_TIMEOUT);
        let parsed = first
            .as_deref()
            .ok()
            .and_then(|line| serde_json::from_str::<serde_json::Value>(line.trim()).ok())
            .and_then(|info| {
                let url = info.get("url")?.as_str()?.trim_end_matches('/').to_string();
                let addr: SocketAddr = url.strip_prefix("http://")?.parse().ok()?;
                Some((info, url, addr))
            });
        let Some((info, url, addr)) = parsed else {
            server.stop();
            let stderr = tail_text(&server.stderr_tail);
            let what = match first {
                Ok(line) => format!("printed an unexpected first line: {line:?}"),
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    format!("did not print its URL within {STARTUP_TIMEOUT:?}")
                }
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                    "exited before printing its URL".to_string()
                }
            };
            let lower = stderr.to_ascii_lowercase();
            return Err(SpawnError {
                port_busy: lower.contains("address already in use") || lower.contains("bind"),
                message: format!(
                    "osmem-server ({}) -addr {listen} {what}; stderr:\n{stderr}",
                    bin.display()
                ),
            });
        };
        server.info = info;
        server.url = url;
        server.addr = addr;
        // The URL is printed once listening; still make sure it accepts.
        let deadline = Instant::now() + Duration::from_secs(5);
        while TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_err() {
            if Instant::now() > deadline {
                server.stop();
                return Err(fail(format!(
                    "osmem-server at {addr} does not accept connections"
                )));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(server)
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The listening port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The process id, while running.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The JSON line the server printed at startup (`url`, `pid`, `version`, ...).
    pub fn info(&self) -> &serde_json::Value {
        &self.info
    }

    /// The server version it reported at startup.
    pub fn version(&self) -> Option<&str> {
        self.info.get("version").and_then(|v| v.as_str())
    }

    /// The last lines the server wrote to stderr.
    pub fn stderr_tail(&self) -> String {
        tail_text(&self.stderr_tail)
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// Kills the server and waits for it to exit (idempotent). Its port is
    /// then refused until something binds it again (see
    /// [`OsmemServer::start_on`]).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
    }
}

impl Drop for OsmemServer {
    fn drop(&mut self) {
        self.stop();
    }
}
