use std::io::Write;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use aws_access_operator::aws::Aws;
use aws_access_operator::aws::inventory::Inventoried;
use aws_access_operator::aws::pacing::{Limits, ServiceLimits};
use aws_access_operator::aws::read_only::{ReadOnly, ThroughReadRole};
use aws_access_operator::aws::sdk::SdkAws;
use aws_access_operator::controller::context::WriteSessions;
use aws_access_operator::controller::{self, Config, Telemetry};
use aws_access_operator::leader::{self, Elector, LeaseConfig, Timing, WallClock};
use aws_access_operator::telemetry;
use aws_access_operator::{plan, report, webhook};
use aws_sdk_iam::config::SharedInterceptor;
use clap::builder::TypedValueParser as _;
use clap::{Args, Parser, Subcommand, ValueEnum};
use tracing_subscriber::util::SubscriberInitExt as _;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    Run(Box<RunArgs>),
    /// Print the CustomResourceDefinitions of all kinds as one YAML stream.
    Crd,
    /// Print the AWS changes that applying the manifests would make, against the cluster and AWS
    /// as they are now; writes nothing. Exit 0: nothing to change; 2: changes; 1: error.
    Plan(PlanArgs),
    /// Review the organization's security, read from AWS rather than from the specs: every role of
    /// every account, whom it trusts and which users may assume it; the users' credentials and
    /// groups, escalation paths to administrator, and the OUs' service control policies. Exit 0;
    /// with --fail-on, 2 when a finding at or above that severity exists; 1: error.
    Report(ReportArgs),
}

#[derive(Args)]
struct ReportArgs {
    /// Output format; html is one self-contained page (no script, font or image fetched).
    #[arg(short = 'o', long = "output", value_enum, default_value_t = ReportFormat::Markdown)]
    output: ReportFormat,
    /// Exit 2 when any finding of this severity or a worse one exists (for a scheduled CI job).
    #[arg(long, value_enum)]
    fail_on: Option<FailOn>,
    /// An account's credential report younger than this is read rather than made again (IAM
    /// makes one at most every four hours).
    #[arg(long, env = "REVIEW_CREDENTIAL_REPORT_MAX_AGE", default_value = "4h", value_parser = humantime::parse_duration)]
    credential_report_max_age: Duration,
    #[command(flatten)]
    review: ReviewArgs,
    #[command(flatten)]
    access: AccessArgs,
    #[command(flatten)]
    read: ReadArgs,
}

#[derive(Clone, Copy, ValueEnum)]
enum ReportFormat {
    Markdown,
    Json,
    Csv,
    Svg,
    Html,
}

#[derive(Clone, Copy, ValueEnum)]
enum FailOn {
    High,
    Medium,
    Low,
}

impl FailOn {
    fn severity(self) -> report::Severity {
        match self {
            FailOn::High => report::Severity::High,
            FailOn::Medium => report::Severity::Medium,
            FailOn::Low => report::Severity::Low,
        }
    }
}

/// What the security review counts as old or unused (`report`, and the operator's metric).
#[derive(Args)]
struct ReviewArgs {
    /// An active access key made or rotated longer ago than this is old (e.g. 90d).
    #[arg(long, env = "REVIEW_KEY_MAX_AGE", default_value = "90d", value_parser = humantime::parse_duration)]
    key_max_age: Duration,
    /// A console password or active access key not used for longer than this is unused.
    #[arg(long, env = "REVIEW_CREDENTIALS_UNUSED_AFTER", default_value = "90d", value_parser = humantime::parse_duration)]
    credentials_unused_after: Duration,
    /// A role not assumed for longer than this (or never, and made longer ago) is unused.
    #[arg(long, env = "REVIEW_ROLE_UNUSED_AFTER", default_value = "90d", value_parser = humantime::parse_duration)]
    role_unused_after: Duration,
}

impl ReviewArgs {
    fn options(&self, access_role: String, credential_report_max_age: Duration) -> report::ReviewOptions {
        report::ReviewOptions {
            access_role,
            credential_report_max_age,
            thresholds: report::Thresholds {
                now: k8s_openapi::jiff::Timestamp::now(),
                key_max_age: self.key_max_age,
                credentials_unused_after: self.credentials_unused_after,
                role_unused_after: self.role_unused_after,
            },
        }
    }
}

#[derive(Args)]
struct PlanArgs {
    /// Manifest files or directories (a directory's *.yaml, *.yml and *.json files).
    #[arg(short = 'f', long = "filename", required = true, num_args = 1..)]
    files: Vec<std::path::PathBuf>,
    /// Read the directories' subdirectories too, as `kubectl apply -R`.
    #[arg(short = 'R', long)]
    recursive: bool,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = PlanFormat::Text)]
    output: PlanFormat,
    #[command(flatten)]
    access: AccessArgs,
    #[command(flatten)]
    read: ReadArgs,
    #[command(flatten)]
    installation: InstallationArgs,
}

/// How the commands reach inside the accounts, as `run` does.
#[derive(Args)]
struct AccessArgs {
    /// Role assumed inside accounts whose AwsAccount names none.
    #[arg(long, env = "DEFAULT_ACCESS_ROLE", default_value = "OrganizationAccountAccessRole")]
    default_access_role: String,
}

/// How `plan` and `report` enter member accounts.
#[derive(Args)]
struct ReadArgs {
    /// Enter every member account through this role, whatever its AwsAccount names, instead of
    /// the access role (an administrator): a read-only role of one name in every account
    /// (deploy/iam/read-role.yaml creates it).
    #[arg(long, env = "READ_ROLE")]
    read_role: Option<String>,
}

/// Which installation of the operator this is.
#[derive(Args)]
struct InstallationArgs {
    /// Names this installation in the owner tags on AWS resources, so that two clusters sharing
    /// an organization never take each other's resources (default: the kube-system namespace's UID).
    #[arg(long, env = "INSTALLATION_ID", value_parser = clap::builder::StringValueParser::new().try_map(parse_installation_id))]
    installation_id: Option<String>,
}

fn parse_installation_id(value: String) -> Result<String, String> {
    let valid = !value.is_empty() && value.len() <= 64 && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    valid
        .then_some(value)
        .ok_or_else(|| "1 to 64 letters, digits and hyphens".to_string())
}

#[derive(Clone, Copy, ValueEnum)]
enum PlanFormat {
    Text,
    Json,
}

#[derive(Args)]
struct RunArgs {
    /// How often an object in sync is compared with AWS to revert drift (e.g. 10m, 30s).
    #[arg(long, env = "RESYNC_INTERVAL", default_value = "10m", value_parser = humantime::parse_duration)]
    resync_interval: Duration,
    #[command(flatten)]
    access: AccessArgs,
    #[command(flatten)]
    installation: InstallationArgs,
    /// Log format.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// Serve the validating admission webhook (HTTPS, on --webhook-address) with the certificate
    /// and key in this directory (tls.crt, tls.key); absent, no webhook is served.
    #[arg(long, env = "WEBHOOK_CERT_DIR")]
    webhook_cert_dir: Option<std::path::PathBuf>,
    /// Address of the admission webhook.
    #[arg(long, env = "WEBHOOK_ADDRESS", default_value = "0.0.0.0:9443")]
    webhook_address: std::net::SocketAddr,
    /// Address of the /metrics, /healthz and /readyz endpoints.
    #[arg(long, env = "METRICS_ADDRESS", default_value = "0.0.0.0:8080")]
    metrics_address: std::net::SocketAddr,
    /// Run the controllers only while holding the Lease, so that one of several replicas writes to AWS.
    #[arg(long, env = "LEADER_ELECTION")]
    leader_election: bool,
    /// Name of the Lease, in --pod-namespace.
    #[arg(long, env = "LEASE_NAME", default_value = "aws-access-operator")]
    lease_name: String,
    /// This replica's name, the pod's (the chart passes it from the downward API): the Lease
    /// holder's name and the reporting instance of the Events it records.
    #[arg(long, env = "POD_NAME")]
    pod_name: Option<String>,
    /// The namespace of the Lease, the pod's (the chart passes it from the downward API).
    #[arg(long, env = "POD_NAMESPACE", default_value = "default")]
    pod_namespace: String,
    /// How long after a replica last saw the Lease renewed it may take the Lease over (whole seconds).
    #[arg(long, env = "LEASE_DURATION", default_value = "15s", value_parser = humantime::parse_duration)]
    lease_duration: Duration,
    /// How long the leader keeps leading without a successful renewal before it exits; shorter than the lease duration.
    #[arg(long, env = "RENEW_DEADLINE", default_value = "10s", value_parser = humantime::parse_duration)]
    renew_deadline: Duration,
    /// How often the leader renews the Lease and the other replicas try to take it; shorter than the renew deadline.
    #[arg(long, env = "RETRY_PERIOD", default_value = "2s", value_parser = humantime::parse_duration)]
    retry_period: Duration,
    /// Reconciles run at once, per kind; the rest wait their turn.
    #[arg(long, env = "MAX_CONCURRENT_RECONCILES", default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..))]
    max_concurrent_reconciles: u16,
    /// What the role session of each write in a member account is named for, which the account's CloudTrail shows
    /// as the caller: `object` (namespace.name; one AssumeRole per object written) or `namespace` (one per
    /// namespace and account an hour, for many objects at once).
    #[arg(long, env = "WRITE_SESSIONS", value_enum, default_value = "object")]
    write_sessions: WriteSessions,
    /// IAM calls started per second into each account (IAM throttles per account).
    #[arg(long, env = "IAM_CALLS_PER_SECOND", default_value_t = Limits::IAM.calls_per_second)]
    iam_calls_per_second: NonZeroU32,
    /// IAM calls waiting for their answer at once, per account.
    #[arg(long, env = "IAM_CALLS_IN_FLIGHT", default_value_t = Limits::IAM.in_flight, value_parser = clap::value_parser!(u16).range(1..).map(usize::from))]
    iam_calls_in_flight: usize,
    /// Organizations calls started per second (Organizations throttles per organization).
    #[arg(long, env = "ORGANIZATIONS_CALLS_PER_SECOND", default_value_t = Limits::ORGANIZATIONS.calls_per_second)]
    organizations_calls_per_second: NonZeroU32,
    /// How often the security review behind the `awsaccess_review_findings` metric runs (what
    /// `report` finds), and how old a credential report it reuses may be.
    #[arg(long, env = "REVIEW_INTERVAL", default_value = "4h", value_parser = humantime::parse_duration)]
    review_interval: Duration,
    #[command(flatten)]
    review: ReviewArgs,
    /// Organizations calls waiting for their answer at once.
    #[arg(long, env = "ORGANIZATIONS_CALLS_IN_FLIGHT", default_value_t = Limits::ORGANIZATIONS.in_flight, value_parser = clap::value_parser!(u16).range(1..).map(usize::from))]
    organizations_calls_in_flight: usize,
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

/// AWS that only reads: every other call fails before it is sent.
async fn read_only_aws(read: ReadArgs) -> Arc<dyn aws_access_operator::aws::Aws> {
    let read_only = SharedInterceptor::new(ReadOnly);
    let mut aws: Arc<dyn aws_access_operator::aws::Aws> =
        Arc::new(SdkAws::from_env(vec![read_only], ServiceLimits::default()).await);
    if let Some(role) = read.read_role {
        aws = Arc::new(ThroughReadRole { aws, role });
    }
    // The inventory, as the reconcilers read: a few calls per account.
    Arc::new(Inventoried::new(aws, Duration::MAX))
}

async fn plan(args: PlanArgs) -> anyhow::Result<i32> {
    let documents = plan::manifests::read(&args.files, args.recursive)?;
    let client = plan::read_only_client().await?;
    let config = Config {
        default_access_role: args.access.default_access_role,
        installation_id: controller::installation_id(&client, args.installation.installation_id).await?,
        ..Config::default()
    };
    let plan = plan::plan(client, read_only_aws(args.read).await, config, documents).await?;
    let out = match args.output {
        PlanFormat::Text => plan.text(),
        PlanFormat::Json => serde_json::to_string_pretty(&plan)? + "\n",
    };
    std::io::stdout().write_all(out.as_bytes())?;
    Ok(plan.exit_code())
}

async fn report(args: ReportArgs) -> anyhow::Result<i32> {
    let aws = read_only_aws(args.read).await;
    let cluster = report::ClusterView::read(plan::read_only_client().await).await;
    let options = args
        .review
        .options(args.access.default_access_role, args.credential_report_max_age);
    let report = report::review(aws.as_ref(), &cluster, &options).await?;
    let out = match args.output {
        ReportFormat::Markdown => report::markdown(&report),
        ReportFormat::Json => serde_json::to_string_pretty(&report)? + "\n",
        ReportFormat::Csv => report::csv(&report)?,
        ReportFormat::Svg => report::svg(&report),
        ReportFormat::Html => report::html(&report),
    };
    std::io::stdout().write_all(out.as_bytes())?;
    let failing = args.fail_on.is_some_and(|level| report.fails_on(level.severity()));
    Ok(if failing { 2 } else { 0 })
}

/// Ends a command that only reads with its exit code, or 1 and the error
/// and its causes on one line, as scripts and CI logs want it.
fn exit_with(result: anyhow::Result<i32>) -> ! {
    match result {
        Ok(code) => std::process::exit(code),
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::exit(1)
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // clap exits 2 on a usage error, which `plan` means as "changes listed": 1 instead.
    let cli = Cli::try_parse().unwrap_or_else(|err| {
        let _ = err.print();
        std::process::exit(if err.use_stderr() { 1 } else { 0 })
    });
    match cli.command {
        Command::Report(args) => exit_with(report(args).await),
        Command::Plan(args) => exit_with(plan(args).await),
        Command::Crd => crd(),
        Command::Run(args) => run(*args).await,
    }
}

fn crd() -> anyhow::Result<()> {
    let yaml = aws_access_operator::api::crds_yaml().context("rendering the CRDs")?;
    std::io::stdout().write_all(yaml.as_bytes())?;
    Ok(())
}

async fn run(args: RunArgs) -> anyhow::Result<()> {
    let directives = std::env::var("RUST_LOG");
    let json = matches!(args.log_format, LogFormat::Json);
    telemetry::logs(directives.as_deref().unwrap_or("info"), json, std::io::stdout).init();
    // Refused before anything starts: a bad combination could let two replicas lead at once.
    let timing = args
        .leader_election
        .then(|| Timing::new(args.lease_duration, args.renew_deadline, args.retry_period))
        .transpose()
        .context("invalid --lease-duration, --renew-deadline or --retry-period")?;
    let telemetry = Telemetry::default();
    serve_telemetry(&telemetry, args.metrics_address).await?;
    let client = kube::Client::try_default().await.context("connecting to Kubernetes")?;
    let counter = SharedInterceptor::new(telemetry.metrics.aws_call_counter());
    let aws: Arc<dyn Aws> = Arc::new(SdkAws::from_env(vec![counter], service_limits(&args)).await);
    let config = Config {
        resync_interval: args.resync_interval,
        default_access_role: args.access.default_access_role,
        concurrency: args.max_concurrent_reconciles,
        installation_id: controller::installation_id(&client, args.installation.installation_id).await?,
        instance: args.pod_name.clone(),
        write_sessions: args.write_sessions,
        admission_webhooks: args.webhook_cert_dir.is_some(),
        ..Config::default()
    };
    if let Some(dir) = &args.webhook_cert_dir {
        serve_webhook(dir, args.webhook_address, &client, &aws, &config).await?;
    }
    let review = report::metrics::keep_counted(
        aws.clone(),
        client.clone(),
        args.review
            .options(config.default_access_role.clone(), args.review_interval),
        telemetry.metrics.clone(),
        args.review_interval,
    );
    let shutdown = futures::FutureExt::shared(Box::pin(shutdown_signal()));
    let controllers = controller::run(client.clone(), aws, config, telemetry, shutdown.clone());
    let duties = leader::duties(controllers, review);
    let Some(timing) = timing else {
        duties.await;
        return Ok(());
    };
    let lease = LeaseConfig {
        namespace: args.pod_namespace,
        name: args.lease_name,
        holder: args
            .pod_name
            .unwrap_or_else(|| format!("aws-access-operator-{}", std::process::id())),
        timing,
        clock: WallClock::default(),
    };
    lead(Elector::new(client, lease), duties, shutdown).await
}

/// The /metrics, /healthz and /readyz endpoints, served until the process ends.
async fn serve_telemetry(telemetry: &Telemetry, address: std::net::SocketAddr) -> anyhow::Result<()> {
    let (metrics, readiness) = (telemetry.metrics.clone(), telemetry.readiness.clone());
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("listening on {address}"))?;
    tokio::spawn(async move {
        if let Err(err) = telemetry::serve(listener, metrics, readiness).await {
            tracing::error!(%err, %address, "the metrics and health endpoints stopped");
        }
    });
    Ok(())
}

fn service_limits(args: &RunArgs) -> ServiceLimits {
    ServiceLimits {
        iam: Limits {
            calls_per_second: args.iam_calls_per_second,
            in_flight: args.iam_calls_in_flight,
        },
        organizations: Limits {
            calls_per_second: args.organizations_calls_per_second,
            in_flight: args.organizations_calls_in_flight,
        },
    }
}

/// The admission webhook, served with the certificate and key in `dir` until the process ends.
async fn serve_webhook(
    dir: &std::path::Path,
    address: std::net::SocketAddr,
    client: &kube::Client,
    aws: &Arc<dyn Aws>,
    config: &Config,
) -> anyhow::Result<()> {
    // Every replica answers admission, leader or not: it only reads.
    let tls = webhook::tls_from(dir)?;
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("listening on {address} for the webhook"))?;
    tokio::spawn(webhook::serve(
        listener,
        tls,
        client.clone(),
        aws.clone(),
        config.clone(),
    ));
    Ok(())
}

/// Runs the leader's duties once this replica holds the Lease, for as long as it keeps it.
async fn lead(
    mut elector: Elector,
    duties: impl Future<Output = ()>,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    tokio::select! {
        _ = elector.acquire() => {}
        // A replica stopped while waiting for the lease has nothing to finish.
        _ = shutdown => return Ok(()),
    }
    let leading = elector.lead(duties).await;
    anyhow::ensure!(
        leading,
        "lost the leader lease; exiting so that only one replica writes to AWS"
    );
    Ok(())
}
