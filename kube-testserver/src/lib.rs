//! An in-memory Kubernetes API server for tests and local runs.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! let server = kube_testserver::TestServer::start().await?;
//! let client = server.client()?;
//! // kubectl --kubeconfig server.kubeconfig_path() get namespaces
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]

mod cel_rules;
mod discovery;
mod error;
mod go_format;
mod http;
mod managed_fields;
mod openapi;
mod protobuf;
mod registry;
mod schema;
mod selector;
mod store;
mod strategic;
mod table;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use store::Store;

/// How many watch events the server retains: a watch that resumes from an
/// older resourceVersion gets `410 Gone` and must relist.
pub const DEFAULT_WATCH_WINDOW: usize = 10_000;

/// Serves the API on `listener` until the future is dropped.
pub async fn serve(listener: TcpListener, store: Arc<Store>) -> std::io::Result<()> {
    let address = listener.local_addr()?.to_string();
    axum::serve(listener, http::router(http::App { store, address })).await
}

/// A kubeconfig that points kubectl and kube-rs at `url`, with no credentials.
pub fn kubeconfig_yaml(url: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: kube-testserver\n  cluster:\n    server: {url}\ncontexts:\n- name: kube-testserver\n  context:\n    cluster: kube-testserver\n    user: kube-testserver\n    namespace: default\ncurrent-context: kube-testserver\nusers:\n- name: kube-testserver\n  user: {{}}\n"
    )
}

/// A running server on a free loopback port; dropping it stops the server.
pub struct TestServer {
    address: SocketAddr,
    store: Arc<Store>,
    task: JoinHandle<()>,
    kubeconfig: PathBuf,
    _dir: tempfile::TempDir,
}

pub struct Builder {
    watch_window: usize,
}

impl Builder {
    /// Retain only this many watch events, so tests can reach `410 Gone` quickly.
    pub fn watch_window(mut self, events: usize) -> Self {
        self.watch_window = events;
        self
    }

    pub async fn start(self) -> anyhow::Result<TestServer> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .context("binding a loopback port")?;
        let address = listener.local_addr()?;
        let store = Arc::new(Store::new(self.watch_window));
        let served = store.clone();
        let task = tokio::spawn(async move {
            if let Err(err) = serve(listener, served).await {
                tracing::error!(%err, "kube-testserver stopped");
            }
        });
        let dir = tempfile::tempdir().context("creating the kubeconfig directory")?;
        let kubeconfig = dir.path().join("kubeconfig");
        std::fs::write(&kubeconfig, kubeconfig_yaml(&format!("http://{address}"))).context("writing the kubeconfig")?;
        Ok(TestServer {
            address,
            store,
            task,
            kubeconfig,
            _dir: dir,
        })
    }
}

impl TestServer {
    pub fn builder() -> Builder {
        Builder {
            watch_window: DEFAULT_WATCH_WINDOW,
        }
    }

    pub async fn start() -> anyhow::Result<TestServer> {
        Self::builder().start().await
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    pub fn kubeconfig_path(&self) -> &Path {
        &self.kubeconfig
    }

    /// A client for this server, in the `default` namespace.
    pub fn client(&self) -> anyhow::Result<kube::Client> {
        let config = kube::Config::new(self.url().parse()?);
        Ok(kube::Client::try_from(config)?)
    }

    /// Ends every open watch and forgets the event history, as a restarted
    /// API server or an etcd compaction would: watchers must relist.
    pub fn expire_watches(&self) {
        self.store.expire_watches();
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
