use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use aws_access_operator::aws::sdk::SdkAws;
use aws_access_operator::controller::{self, Config};
use clap::{Args, Parser, Subcommand, ValueEnum};

/// Declarative cross-account AWS access, reconciled from Kubernetes resources.
#[derive(Parser)]
#[command(version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the controllers against the cluster of the current kubeconfig (or in-cluster config)
    /// and the AWS account of the default credential chain.
    Run(RunArgs),
    /// Print the CustomResourceDefinitions of all kinds as one YAML stream.
    Crd,
}

#[derive(Args)]
struct RunArgs {
    /// How often an object in sync is compared with AWS to revert drift (e.g. 10m, 30s).
    #[arg(long, env = "RESYNC_INTERVAL", default_value = "10m", value_parser = humantime::parse_duration)]
    resync_interval: Duration,
    /// Role assumed inside accounts referenced by id or whose AwsAccount names none.
    #[arg(long, env = "DEFAULT_ACCESS_ROLE", default_value = "OrganizationAccountAccessRole")]
    default_access_role: String,
    /// Log format.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

/// Resolves on SIGTERM (Kubernetes stopping the pod) or Ctrl-C.
async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::error!(%err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        _ = terminate => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    tracing::info!("shutting down after the reconciles in flight");
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Crd => {
            let yaml = aws_access_operator::api::crds_yaml().context("rendering the CRDs")?;
            std::io::stdout().write_all(yaml.as_bytes())?;
        }
        Command::Run(args) => {
            let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
            let logs = tracing_subscriber::fmt().with_env_filter(filter);
            match args.log_format {
                LogFormat::Json => logs.json().init(),
                LogFormat::Text => logs.init(),
            }
            let client = kube::Client::try_default().await.context("connecting to Kubernetes")?;
            let aws = Arc::new(SdkAws::from_env().await);
            let config = Config { resync_interval: args.resync_interval, default_access_role: args.default_access_role, ..Config::default() };
            controller::run(client, aws, config, shutdown_signal()).await;
        }
    }
    Ok(())
}
