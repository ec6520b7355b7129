//! The blocking facade (feature `blocking`): every builder gets `send_blocking()`, which runs
//! the request on one tokio runtime shared by the process, the way `reqwest::blocking` hides
//! its runtime.
//!
//! The runtime has one worker thread, started on first use; it keeps driving the
//! transport's pooled connections between calls. Calling `send_blocking()` from inside an
//! async runtime panics (use `.send().await` there).
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

/// Runs `future` to completion on the shared runtime.
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    runtime().block_on(future)
}
