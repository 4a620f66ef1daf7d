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

mod admission;
mod bootstrap;
mod cel_rules;
mod discovery;
mod error;
mod events;
mod go_format;
mod http;
mod json;
mod managed_fields;
mod openapi;
mod protobuf;
mod registry;
mod schema;
mod selector;
mod store;
mod strategic;
mod subresources;
mod table;
mod webhook_client;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use admission::Admission;
pub use bootstrap::seed;
pub use store::Store;

/// How many watch events the server retains: a watch that resumes from an
/// older resourceVersion gets `410 Gone` and must relist.
pub const DEFAULT_WATCH_WINDOW: usize = 10_000;

/// Serves the API on `listener` until the future is dropped, calling no webhook services.
pub async fn serve(listener: TcpListener, store: Arc<Store>) -> std::io::Result<()> {
    serve_with(listener, store, Arc::new(Admission::default())).await
}

/// Serves the API on `listener`, calling admission webhooks' services where `admission` says.
pub async fn serve_with(listener: TcpListener, store: Arc<Store>, admission: Arc<Admission>) -> std::io::Result<()> {
    let address = listener.local_addr()?.to_string();
    axum::serve(
        listener,
        http::router(http::App {
            store,
            admission,
            address,
        }),
    )
    .await
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
    admission: Arc<Admission>,
    task: JoinHandle<()>,
    kubeconfig: PathBuf,
    _dir: tempfile::TempDir,
}

pub struct Builder {
    watch_window: usize,
    services: HashMap<(String, String, u16), String>,
}

impl Builder {
    /// Retain only this many watch events, so tests can reach `410 Gone` quickly.
    pub fn watch_window(mut self, events: usize) -> Self {
        self.watch_window = events;
        self
    }

    /// Where admission webhooks registered with `clientConfig.service` (`namespace`/`name`,
    /// `port`) are reached, since there is no cluster network: `https://127.0.0.1:9443`. The
    /// certificate is still checked against `<name>.<namespace>.svc`.
    pub fn service_endpoint(mut self, namespace: &str, name: &str, port: u16, url: &str) -> Self {
        self.services.insert((namespace.into(), name.into(), port), url.into());
        self
    }

    pub async fn start(self) -> anyhow::Result<TestServer> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .context("binding a loopback port")?;
        let address = listener.local_addr()?;
        let store = Arc::new(Store::new(self.watch_window));
        bootstrap::seed(&store);
        let admission = Arc::new(Admission::default());
        for ((namespace, name, port), url) in &self.services {
            admission.set_service_endpoint(namespace, name, *port, url);
        }
        let (served, admitting) = (store.clone(), admission.clone());
        let task = tokio::spawn(async move {
            if let Err(err) = serve_with(listener, served, admitting).await {
                tracing::error!(%err, "kube-testserver stopped");
            }
        });
        let dir = tempfile::tempdir().context("creating the kubeconfig directory")?;
        let kubeconfig = dir.path().join("kubeconfig");
        std::fs::write(&kubeconfig, kubeconfig_yaml(&format!("http://{address}"))).context("writing the kubeconfig")?;
        Ok(TestServer {
            address,
            store,
            admission,
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
            services: HashMap::new(),
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

    /// Maps (or remaps) a webhook service to an address, as [`Builder::service_endpoint`] does,
    /// for webhooks started after the server.
    pub fn service_endpoint(&self, namespace: &str, name: &str, port: u16, url: &str) {
        self.admission.set_service_endpoint(namespace, name, port, url);
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
