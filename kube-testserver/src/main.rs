use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use kube_testserver::{DEFAULT_WATCH_WINDOW, Store, kubeconfig_yaml, serve};

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
    tokio::select! {
        served = serve(listener, store) => served.context("serving")?,
        _ = tokio::signal::ctrl_c() => {}
    }
    Ok(())
}
