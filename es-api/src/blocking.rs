//! The blocking facade (feature `blocking`): every builder gets `send_blocking()`, which runs
//! the request on one tokio runtime shared by the process, the way `reqwest::blocking` hides
//! its runtime.
//!
//! The runtime has one worker thread, started on first use; it keeps driving the
//! transport's pooled connections between calls.
//!
//! On a thread that belongs to a tokio runtime (inside `spawn_blocking` or `block_in_place`,
//! where blocking is allowed, but tokio would refuse to start another runtime's `block_on`
//! with "Cannot start a runtime from within a runtime"), the request is handed to a short-lived
//! helper thread and the caller waits for it: no panic. Inside an async task, use
//! `.send().await`: `send_blocking()` works there too, but it blocks that worker thread for the
//! whole request, and on a current-thread runtime whose connections the client also uses,
//! those connections cannot make progress until the request times out.
//!
//! ```no_run
//! # fn run() -> es_api::Result<()> {
//! let client = es_api::Client::from_url("http://localhost:9200")?;
//! let exists: bool = client.indices().exists("my-index").send_blocking()?;
//! let info = client.info().send_blocking()?;
//! println!("{exists} {}", info.text());
//! # Ok(())
//! # }
//! ```

use std::future::Future;
use std::sync::OnceLock;

use tokio::runtime::{Builder, Runtime};

fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("es-api-blocking")
            .enable_all()
            .build()
            .expect("cannot start the es-api blocking runtime")
    })
}

/// Runs `future` (a request of this crate, or of a crate built on it: es-dsl's persistence
/// uses it for its `_blocking` methods) to completion on the shared runtime, and returns its
/// result; see the module docs for calls from a thread of another tokio runtime.
///
/// # Errors
/// The future's own; or, on a thread of a tokio runtime when no helper thread can be
/// started, a `Config` error (nothing was sent).
///
/// # Example
/// ```no_run
/// # fn run() -> es_api::Result<()> {
/// let client = es_api::Client::from_url("http://localhost:9200")?;
/// let (a, b) = es_api::blocking::block_on(async {
///     let a = client.count().index("a").send().await?;
///     let b = client.count().index("b").send().await?;
///     Ok::<_, es_api::Error>((a.status(), b.status()))
/// })?;
/// # let _ = (a, b); Ok(())
/// # }
/// ```
pub fn block_on<F, T, E>(future: F) -> Result<T, E>
where
    F: Future<Output = Result<T, E>> + Send,
    T: Send,
    E: From<crate::Error> + Send,
{
    if tokio::runtime::Handle::try_current().is_err() {
        return runtime().block_on(future);
    }
    std::thread::scope(|s| {
        let waiter = std::thread::Builder::new()
            .name("es-api-blocking-call".into())
            .spawn_scoped(s, || runtime().block_on(future));
        match waiter {
            Ok(handle) => handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            // Nothing was sent.
            Err(e) => Err(E::from(crate::Error::custom(
                crate::ErrorKind::Config,
                format!(
                    "send_blocking() on a thread of a tokio runtime needs a helper thread, \
                     which could not be started ({e}); use `.send().await` there"
                ),
            ))),
        }
    })
}
