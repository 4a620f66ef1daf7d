use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use kube_testserver::{Admission, DEFAULT_WATCH_WINDOW, Store, kubeconfig_yaml, serve_with};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// An in-memory Kubernetes API server for tests and local runs: plain HTTP, no auth.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:6443")]
    listen: SocketAddr,
    /// Write a kubeconfig for this server to PATH once it listens.
    #[arg(long, value_name = "PATH")]
    write_kubeconfig: Option<PathBuf>,
    /// Watch events retained; older resourceVersions get 410 Gone.
    #[arg(long, default_value_t = DEFAULT_WATCH_WINDOW)]
    watch_window: usize,
    /// Where an admission webhook's service is reached, as NAMESPACE/NAME:PORT=URL
    /// (`system/webhook:443=https://127.0.0.1:9443`); repeatable. There is no cluster network.
    #[arg(long, value_name = "NAMESPACE/NAME:PORT=URL", value_parser = parse_service_endpoint)]
    service_endpoint: Vec<ServiceEndpoint>,
}

#[derive(Clone, Debug)]
struct ServiceEndpoint {
    namespace: String,
    name: String,
    port: u16,
    url: String,
}

fn parse_service_endpoint(text: &str) -> Result<ServiceEndpoint, String> {
    let usage = || format!("{text:?} is not NAMESPACE/NAME:PORT=URL");
    let (service, url) = text.split_once('=').ok_or_else(usage)?;
    let (namespace, rest) = service.split_once('/').ok_or_else(usage)?;
    let (name, port) = rest.split_once(':').ok_or_else(usage)?;
    Ok(ServiceEndpoint {
        namespace: namespace.into(),
        name: name.into(),
        port: port.parse().map_err(|_| usage())?,
        url: url.into(),
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let args = Args::parse();
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    let url = format!("http://{}", listener.local_addr()?);
    if let Some(path) = &args.write_kubeconfig {
        std::fs::write(path, kubeconfig_yaml(&url)).with_context(|| format!("writing {}", path.display()))?;
    }
    println!("kube-testserver listening on {url}");
    let store = Arc::new(Store::new(args.watch_window));
    kube_testserver::seed(&store);
    let admission = Arc::new(Admission::default());
    for endpoint in &args.service_endpoint {
        admission.set_service_endpoint(&endpoint.namespace, &endpoint.name, endpoint.port, &endpoint.url);
    }
    tokio::select! {
        served = serve_with(listener, store, admission) => served.context("serving")?,
        _ = tokio::signal::ctrl_c() => {}
    }
    Ok(())
}
