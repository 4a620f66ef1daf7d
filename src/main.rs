use std::io::Write;

use anyhow::Context;
use clap::{Parser, Subcommand};

/// Declarative cross-account AWS access, reconciled from Kubernetes resources.
#[derive(Parser)]
#[command(version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the CustomResourceDefinitions of all kinds as one YAML stream.
    Crd,
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Crd => {
            let yaml = aws_access_operator::api::crds_yaml().context("rendering the CRDs")?;
            std::io::stdout().write_all(yaml.as_bytes())?;
        }
    }
    Ok(())
}
