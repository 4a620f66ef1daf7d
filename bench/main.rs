//! The benchmark `scripts/bench.sh` runs: each subcommand is one step of it
//! against moto, kube-testserver and an operator the script started, and
//! writes what it measured as JSON; `report` prints them side by side.
//!
//! The objects are created with kube-rs, 16 requests at a time (kubectl
//! apply of thousands of objects measures kubectl), and watched until the
//! operator reports on their current generation.

mod apiserver;
mod aws;
mod metrics;
mod report;
mod roles;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use aws_access_operator::api::AwsAccount;
use clap::{Args, Parser, Subcommand};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::{WatchStreamExt, watcher};
use serde::{Deserialize, Serialize};

use metrics::{Call, Endpoint, ProcessStats};
use roles::Accounts;

/// Requests in flight while creating objects.
const CREATE_CONCURRENCY: usize = 16;
/// How often the metrics are read while timing the start (the resolution of those figures).
const START_POLL: Duration = Duration::from_millis(10);

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Make an organization with member accounts in the moto at AWS_ENDPOINT_URL.
    Setup {
        #[arg(long)]
        accounts: usize,
        #[arg(long)]
        out: PathBuf,
    },
    /// Time the plain program: the minimal IAM writes for the roles, no operator.
    Plain {
        #[arg(long)]
        accounts_file: PathBuf,
        #[arg(long)]
        roles: usize,
        #[arg(long, default_value_t = 4)]
        concurrency: usize,
        /// `--concurrency` roles in flight in each account, rather than overall.
        #[arg(long)]
        per_account: bool,
        #[arg(long)]
        recording: PathBuf,
        /// The length of moto's recording before the program started.
        #[arg(long, default_value_t = 0)]
        recording_offset: u64,
        /// Do not run: take the result another program wrote (bench/plain.py).
        #[arg(long)]
        result_from: Option<PathBuf>,
        /// Processes whose CPU time the run is charged: NAME=PID (`moto=123`).
        #[arg(long = "cpu-of", value_parser = parse_process)]
        cpu_of: Vec<(String, u32)>,
        /// `getconf CLK_TCK`.
        #[arg(long, default_value_t = 100)]
        clock_ticks: u64,
        #[arg(long)]
        out: PathBuf,
    },
    /// Create the roles with the operator running; time until all are Ready.
    FirstPass {
        #[arg(long)]
        accounts_file: PathBuf,
        #[arg(long)]
        roles: usize,
        #[command(flatten)]
        operator: Operator,
        #[arg(long)]
        out: PathBuf,
    },
    /// Create objects with no operator running (for a start with them in place).
    Create {
        #[arg(long)]
        accounts_file: PathBuf,
        #[arg(long)]
        objects: usize,
        #[arg(long)]
        namespace: String,
        /// `managementPolicy: Observe`: the operator reads AWS and writes nothing.
        #[arg(long)]
        observe: bool,
        #[arg(long)]
        out: PathBuf,
    },
    /// An operator just started over existing objects: time to ready and to
    /// the first reconcile, the pass over all of them, and optionally one
    /// resync pass after it.
    Restart {
        #[arg(long)]
        objects: usize,
        /// When the script started the operator, in seconds since the epoch.
        #[arg(long)]
        started_at: f64,
        /// The operator's --resync-interval in seconds; measure one resync pass too.
        #[arg(long)]
        resync_pass: Option<f64>,
        /// The length of moto's recording before the operator started.
        #[arg(long)]
        recording_offset: u64,
        /// Also time until every object shows this outcome at its
        /// generation (`Ready=False DriftDetected`), seen through a watch.
        #[arg(long)]
        until_outcome: Option<String>,
        #[command(flatten)]
        operator: Operator,
        #[arg(long)]
        out: PathBuf,
    },
    /// Count the HTTP requests sent through to kube-testserver at
    /// `upstream`, by kind, into `out` (rewritten as they come), until killed.
    KubeProxy {
        /// host:port of kube-testserver.
        #[arg(long)]
        upstream: String,
        /// Where the proxy's own host:port is written once it listens.
        #[arg(long)]
        address_file: PathBuf,
        #[arg(long)]
        out: PathBuf,
    },
    /// Time kube-testserver alone serving the writes the operator makes for
    /// `objects` roles, from a trivial client: the floor of the Kubernetes side.
    KubeFloor {
        #[arg(long)]
        accounts_file: PathBuf,
        #[arg(long)]
        objects: usize,
        #[arg(long)]
        namespace: String,
        #[arg(long, default_value_t = CREATE_CONCURRENCY)]
        concurrency: usize,
        #[arg(long)]
        out: PathBuf,
    },
    /// Print the results in the directory as markdown.
    Report {
        #[arg(long)]
        dir: PathBuf,
    },
}

/// The operator under test and what the benchmark reads of it.
#[derive(Args)]
struct Operator {
    /// Its --metrics-address.
    #[arg(long)]
    metrics: String,
    #[arg(long)]
    pid: u32,
    /// `getconf CLK_TCK`, the unit of the CPU times in /proc.
    #[arg(long)]
    clock_ticks: u64,
    #[arg(long)]
    namespace: String,
    /// moto's request recording (MOTO_RECORDER_FILEPATH).
    #[arg(long)]
    recording: PathBuf,
    /// Longest wait for any one step, in seconds.
    #[arg(long, default_value_t = 1800)]
    timeout: u64,
    /// The other processes whose CPU time the pass is charged: NAME=PID, repeatable
    /// (`kube-testserver=123`, `moto=456`).
    #[arg(long = "cpu-of", value_parser = parse_process)]
    cpu_of: Vec<(String, u32)>,
}

fn parse_process(text: &str) -> Result<(String, u32), String> {
    let (name, pid) = text
        .split_once('=')
        .ok_or_else(|| format!("{text:?} is not NAME=PID"))?;
    Ok((
        name.to_owned(),
        pid.parse().map_err(|_| format!("{text:?}: not a pid"))?,
    ))
}

/// CPU seconds used so far by each named process, this one as `bench`.
fn cpu_times(processes: &[(String, u32)], clock_ticks: u64) -> BTreeMap<String, f64> {
    let mut times: BTreeMap<String, f64> = processes
        .iter()
        .filter_map(|(name, pid)| Some((name.clone(), ProcessStats::read(*pid, clock_ticks).ok()?.cpu_seconds)))
        .collect();
    if let Ok(own) = ProcessStats::read(std::process::id(), clock_ticks) {
        times.insert("bench (creating, watching)".into(), own.cpu_seconds);
    }
    times
}

/// The CPU each process used between two readings.
fn cpu_since(before: &BTreeMap<String, f64>, after: &BTreeMap<String, f64>) -> BTreeMap<String, f64> {
    after
        .iter()
        .map(|(name, t)| (name.clone(), t - before.get(name).copied().unwrap_or(0.0)))
        .collect()
}

impl Operator {
    fn endpoint(&self) -> Endpoint {
        Endpoint {
            address: self.metrics.clone(),
        }
    }

    fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout)
    }

    fn alive(&self) -> anyhow::Result<()> {
        if !Path::new(&format!("/proc/{}", self.pid)).exists() {
            bail!("the operator (pid {}) exited; see its log", self.pid);
        }
        Ok(())
    }

    fn process(&self) -> anyhow::Result<ProcessStats> {
        ProcessStats::read(self.pid, self.clock_ticks)
    }
}

/// The AWS calls of a stretch of the run, from the operator's metrics and moto's recording.
#[derive(Debug, Serialize, Deserialize)]
pub struct Pass {
    pub calls: Vec<(Call, u64)>,
    pub reconciles: u64,
    pub recorded: aws::Recorded,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct FirstPass {
    pub roles: usize,
    pub accounts: usize,
    /// From the first create request until the last one returned.
    pub create_seconds: f64,
    /// From the first create request until every role was Ready at its generation.
    pub ready_seconds: f64,
    /// From the first create request until the first role, a tenth, half,
    /// nine tenths of them were Ready: (roles, seconds).
    #[serde(default)]
    pub ready_curve: Vec<(usize, f64)>,
    /// CPU seconds each process used from the first create until all were Ready.
    #[serde(default)]
    pub cpu: BTreeMap<String, f64>,
    /// From applying the AwsAccounts until every one was Ready at its
    /// generation, before the roles' pass starts.
    #[serde(default)]
    pub accounts_ready_seconds: Option<f64>,
    pub pass: Pass,
    pub reconcile_errors: u64,
    /// Ready status and reason at the end → objects.
    pub outcomes: BTreeMap<String, u64>,
    pub process: ProcessStats,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Created {
    pub objects: usize,
    pub seconds: f64,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Restart {
    pub objects: usize,
    /// From process start until /readyz answered 200 (the caches have synced).
    pub ready_seconds: f64,
    /// The resident set then: the caches filled, few reconciles under way yet.
    pub rss_at_ready_kib: u64,
    /// From process start until the reconcile counter first moved.
    pub first_reconcile_seconds: f64,
    /// From process start until as many reconciles as objects had succeeded.
    pub startup_pass_seconds: f64,
    /// With `--until-outcome`: from process start until the first, a tenth,
    /// half, nine tenths and all objects showed it at their generation.
    #[serde(default)]
    pub outcome_curve: Vec<(usize, f64)>,
    /// CPU seconds each process used from the start until the startup pass
    /// was done (the later of the counter and the outcomes).
    #[serde(default)]
    pub cpu: BTreeMap<String, f64>,
    pub startup: Pass,
    pub resync_interval_seconds: Option<f64>,
    /// One reconcile of every object at the resync interval, all in sync.
    pub resync: Option<Pass>,
    /// From process start until the resync pass had succeeded for every object.
    pub resync_done_seconds: Option<f64>,
    pub reconcile_errors: u64,
    pub outcomes: BTreeMap<String, u64>,
    pub process: ProcessStats,
}

fn write(out: &Path, value: &impl Serialize) -> anyhow::Result<()> {
    std::fs::write(out, serde_json::to_string_pretty(value)?).with_context(|| format!("writing {}", out.display()))
}

fn now_epoch() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
}

async fn ensure_namespace(client: &kube::Client, name: &str) -> anyhow::Result<()> {
    let namespace: Namespace = serde_json::from_value(serde_json::json!({"metadata": {"name": name}}))?;
    match Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &namespace)
        .await
    {
        Err(kube::Error::Api(status)) if status.code == 409 => Ok(()),
        result => result.map(drop).context("creating the namespace"),
    }
}

/// The AwsAccounts tenancy asks for: the identity account and every member
/// account, adopted as `aws::setup` made them, open to every namespace.
async fn open_accounts(client: &kube::Client, accounts: &Accounts) -> anyhow::Result<()> {
    let api = Api::<AwsAccount>::all(client.clone());
    let members = accounts
        .members
        .iter()
        .enumerate()
        .map(|(i, id)| (format!("bench-member-{i}"), id.clone()));
    let all = std::iter::once(("master".to_string(), accounts.identity.clone())).chain(members);
    for (name, id) in all {
        let account: AwsAccount = serde_json::from_value(serde_json::json!({
            "apiVersion": "awsaccess.dev/v1alpha1",
            "kind": "AwsAccount",
            "metadata": {"name": name},
            "spec": {"accountName": name, "email": format!("{name}@example.com"), "accountId": id, "allowedNamespaces": ["*"]},
        }))?;
        api.patch(&name, &PatchParams::apply("bench").force(), &Patch::Apply(&account))
            .await
            .with_context(|| format!("applying AwsAccount {name}"))?;
    }
    Ok(())
}

/// Creates the benchmark's objects, CREATE_CONCURRENCY at a time, after
/// the AwsAccounts that let their namespace work in the accounts.
async fn create(
    client: &kube::Client,
    accounts: &Accounts,
    count: usize,
    namespace: &str,
    observe: bool,
) -> anyhow::Result<()> {
    open_accounts(client, accounts).await?;
    let api = Api::<DynamicObject>::namespaced_with(client.clone(), namespace, &roles::resource());
    futures::stream::iter(0..count)
        .map(|i| {
            let api = api.clone();
            async move {
                let object = roles::object(&roles::role(i, accounts), accounts, namespace, observe)?;
                api.create(&PostParams::default(), &object)
                    .await
                    .with_context(|| format!("creating CrossAccountRole {namespace}/bench-{i:05}"))?;
                anyhow::Ok(())
            }
        })
        .buffer_unordered(CREATE_CONCURRENCY)
        .try_collect()
        .await
}

/// Ready status and reason of every object in the namespace → how many.
async fn outcomes(client: &kube::Client, namespace: &str) -> anyhow::Result<BTreeMap<String, u64>> {
    let api = Api::<DynamicObject>::namespaced_with(client.clone(), namespace, &roles::resource());
    let mut tally = BTreeMap::new();
    for object in api.list(&ListParams::default()).await? {
        let outcome = roles::outcome(&object).unwrap_or_else(|| "not reconciled at its generation".into());
        *tally.entry(outcome).or_default() += 1;
    }
    Ok(tally)
}

/// Resolves once `count` objects in the namespace are Ready=True at their
/// generation, with when (since `started`) the first, a tenth, half and
/// nine tenths of them were.
async fn all_ready(
    client: kube::Client,
    namespace: String,
    count: usize,
    started: Instant,
) -> anyhow::Result<Vec<(usize, f64)>> {
    all_with(client, namespace, count, started, "Ready=True".into()).await
}

/// The same for an outcome (`roles::outcome`) that starts with `wanted`.
async fn all_with(
    client: kube::Client,
    namespace: String,
    count: usize,
    started: Instant,
    wanted: String,
) -> anyhow::Result<Vec<(usize, f64)>> {
    let marks: Vec<usize> = [1, count / 10, count / 2, count * 9 / 10]
        .into_iter()
        .filter(|n| *n > 0)
        .collect();
    let mut curve = vec![];
    let api = Api::<DynamicObject>::namespaced_with(client, &namespace, &roles::resource());
    let mut ready = HashSet::new();
    let mut objects = std::pin::pin!(
        watcher(api, watcher::Config::default())
            .default_backoff()
            .applied_objects()
    );
    while let Some(object) = objects.next().await {
        let object = match object {
            Ok(object) => object,
            Err(err) => {
                eprintln!("bench: the watch failed ({err}); retrying");
                continue;
            }
        };
        let name = object.metadata.name.clone().unwrap_or_default();
        if roles::outcome(&object).is_some_and(|outcome| outcome.starts_with(&wanted)) {
            ready.insert(name);
        } else {
            ready.remove(&name);
        }
        if marks.get(curve.len()) == Some(&ready.len()) {
            curve.push((ready.len(), started.elapsed().as_secs_f64()));
        }
        if ready.len() == count {
            curve.push((count, started.elapsed().as_secs_f64()));
            return Ok(curve);
        }
    }
    bail!("the watch of {namespace} ended")
}

/// Seconds from `started` until `count` AwsAccounts are Ready at their generation (polled).
async fn accounts_ready(client: kube::Client, count: usize, started: Instant) -> anyhow::Result<f64> {
    let resource = kube::api::ApiResource {
        group: "awsaccess.dev".into(),
        version: "v1alpha1".into(),
        api_version: "awsaccess.dev/v1alpha1".into(),
        kind: "AwsAccount".into(),
        plural: "awsaccounts".into(),
    };
    let api = Api::<DynamicObject>::all_with(client, &resource);
    loop {
        let listed = api.list(&ListParams::default()).await?;
        let ready = listed
            .items
            .iter()
            .filter(|account| roles::outcome(account).is_some_and(|o| o.starts_with("Ready=True")))
            .count();
        if ready >= count {
            return Ok(started.elapsed().as_secs_f64());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn first_pass(accounts: &Accounts, count: usize, operator: &Operator) -> anyhow::Result<FirstPass> {
    let client = kube::Client::try_default()
        .await
        .context("connecting to kube-testserver")?;
    let endpoint = operator.endpoint();
    wait_ready(&endpoint, operator).await?;
    ensure_namespace(&client, &operator.namespace).await?;
    // The accounts are the platform team's, Ready before a team applies its
    // roles, as the plain program is handed accounts it can work in: timed
    // on their own, not in the roles' pass.
    let accounts_started = Instant::now();
    open_accounts(&client, accounts).await?;
    let accounts_ready_seconds = tokio::time::timeout(
        operator.timeout(),
        accounts_ready(client.clone(), accounts.members.len() + 1, accounts_started),
    )
    .await
    .with_context(|| format!("not every AwsAccount was Ready within {:?}", operator.timeout()))??;
    let before = endpoint.snapshot().await?;
    let offset = aws::recording_offset(&operator.recording)?;
    let mut processes = operator.cpu_of.clone();
    processes.push(("operator".into(), operator.pid));
    let cpu_before = cpu_times(&processes, operator.clock_ticks);
    // Watching from before the first create, so no Ready is missed.
    let started = Instant::now();
    let ready = tokio::spawn(all_ready(client.clone(), operator.namespace.clone(), count, started));
    create(&client, accounts, count, &operator.namespace, false).await?;
    let create_seconds = started.elapsed().as_secs_f64();
    let ready_curve = tokio::time::timeout(operator.timeout(), ready)
        .await
        .with_context(|| format!("not every role was Ready within {:?}", operator.timeout()))???;
    let ready_seconds = started.elapsed().as_secs_f64();
    let cpu = cpu_since(&cpu_before, &cpu_times(&processes, operator.clock_ticks));
    // The counters move just after the last status write; wait for them to stop.
    let after = endpoint
        .settled(count as u64, Duration::from_secs(2), operator.timeout())
        .await?;
    Ok(FirstPass {
        roles: count,
        accounts: accounts.members.len(),
        create_seconds,
        ready_seconds,
        ready_curve,
        cpu,
        accounts_ready_seconds: Some(accounts_ready_seconds),
        pass: Pass {
            calls: after.calls_since(&before),
            reconciles: after.role_reconciles() - before.role_reconciles(),
            recorded: aws::recorded_since(&operator.recording, offset)?,
        },
        reconcile_errors: after.all_errors(),
        outcomes: outcomes(&client, &operator.namespace).await?,
        process: operator.process()?,
    })
}

async fn wait_ready(endpoint: &Endpoint, operator: &Operator) -> anyhow::Result<()> {
    let deadline = Instant::now() + operator.timeout();
    while !endpoint.ready().await.unwrap_or(false) {
        operator.alive()?;
        if Instant::now() > deadline {
            bail!(
                "the operator's /readyz did not answer 200 within {:?}",
                operator.timeout()
            );
        }
        tokio::time::sleep(START_POLL).await;
    }
    Ok(())
}

/// Polls until the role reconciles that succeeded reach `count`; the snapshot then.
async fn reconciled(endpoint: &Endpoint, operator: &Operator, count: u64) -> anyhow::Result<metrics::Snapshot> {
    let deadline = Instant::now() + operator.timeout();
    loop {
        let snapshot = endpoint.snapshot().await?;
        if snapshot.role_successes() >= count {
            return Ok(snapshot);
        }
        operator.alive()?;
        if Instant::now() > deadline {
            bail!(
                "{} of {count} reconciles succeeded after {:?}",
                snapshot.role_successes(),
                operator.timeout()
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn restart(
    count: usize,
    started_at: f64,
    resync: Option<f64>,
    recording_offset: u64,
    until_outcome: Option<String>,
    operator: &Operator,
) -> anyhow::Result<Restart> {
    let endpoint = operator.endpoint();
    let mut processes = operator.cpu_of.clone();
    processes.push(("operator".into(), operator.pid));
    let mut cpu_before = cpu_times(&processes, operator.clock_ticks);
    // The operator's CPU from its start: all of it is the startup pass's.
    cpu_before.remove("operator");
    let outcomes_seen = match until_outcome {
        Some(wanted) => {
            let client = kube::Client::try_default()
                .await
                .context("connecting to kube-testserver")?;
            // Started `since` seconds after the process: the curve is from the process start.
            let since = now_epoch() - started_at;
            let watch = all_with(client, operator.namespace.clone(), count, Instant::now(), wanted);
            Some(tokio::spawn(async move {
                let curve = watch.await?;
                anyhow::Ok(curve.into_iter().map(|(n, t)| (n, t + since)).collect::<Vec<_>>())
            }))
        }
        None => None,
    };
    let deadline = Instant::now() + operator.timeout();
    let (mut ready_at, mut first_at, mut rss_at_ready) = (None, None, 0);
    // Before the metrics listener is up, connecting fails: not yet.
    while ready_at.is_none() || first_at.is_none() {
        if ready_at.is_none() && endpoint.ready().await.unwrap_or(false) {
            ready_at = Some(now_epoch());
            rss_at_ready = metrics::rss_kib(operator.pid)?;
        }
        if first_at.is_none() && endpoint.snapshot().await.is_ok_and(|s| s.role_reconciles() > 0) {
            first_at = Some(now_epoch());
        }
        operator.alive()?;
        if Instant::now() > deadline {
            bail!(
                "the operator did not become ready and reconcile within {:?}",
                operator.timeout()
            );
        }
        tokio::time::sleep(START_POLL).await;
    }
    let (ready_at, first_at) = (ready_at.unwrap_or_default(), first_at.unwrap_or_default());
    let startup = reconciled(&endpoint, operator, count as u64).await?;
    let startup_done_at = now_epoch();
    let outcome_curve = match outcomes_seen {
        Some(watch) => tokio::time::timeout(operator.timeout(), watch)
            .await
            .context("the objects did not all reach the outcome")???,
        None => vec![],
    };
    let cpu = cpu_since(&cpu_before, &cpu_times(&processes, operator.clock_ticks));
    let startup_pass = Pass {
        calls: startup.calls_since(&metrics::Snapshot::default()),
        reconciles: startup.role_reconciles(),
        recorded: aws::recorded_since(&operator.recording, recording_offset)?,
    };
    let mut last = startup.clone();
    let mut resync_done = None;
    let resync_pass = match resync {
        None => None,
        Some(interval) => {
            // Each object comes due `interval` after its own reconcile ended, so
            // the first resync is due at first_at + interval and the first of the
            // pass after it at first_at + 2 × interval, at the earliest: each
            // pass must end before the next can begin, or they would mix.
            if startup_done_at >= first_at + interval {
                bail!(
                    "the startup pass took {:.1} s, longer than the resync interval of {interval} s; rerun with a longer --resync",
                    startup_done_at - first_at
                );
            }
            let offset = aws::recording_offset(&operator.recording)?;
            let end = reconciled(&endpoint, operator, 2 * count as u64).await?;
            let resync_done_at = now_epoch();
            if resync_done_at >= first_at + 2.0 * interval {
                bail!(
                    "the resync pass ended {:.1} s after the first reconcile, when the pass after it may have begun (resync interval {interval} s); rerun with a longer --resync",
                    resync_done_at - first_at
                );
            }
            resync_done = Some(resync_done_at - started_at);
            let pass = Pass {
                calls: end.calls_since(&startup),
                reconciles: end.role_reconciles() - startup.role_reconciles(),
                recorded: aws::recorded_since(&operator.recording, offset)?,
            };
            last = end;
            Some(pass)
        }
    };
    let client = kube::Client::try_default()
        .await
        .context("connecting to kube-testserver")?;
    Ok(Restart {
        objects: count,
        ready_seconds: ready_at - started_at,
        rss_at_ready_kib: rss_at_ready,
        first_reconcile_seconds: first_at - started_at,
        startup_pass_seconds: startup_done_at - started_at,
        outcome_curve,
        cpu,
        startup: startup_pass,
        resync_interval_seconds: resync,
        resync: resync_pass,
        resync_done_seconds: resync_done,
        reconcile_errors: last.all_errors(),
        outcomes: outcomes(&client, &operator.namespace).await?,
        process: operator.process()?,
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Setup { accounts, out } => write(&out, &aws::set_up(accounts).await?)?,
        Command::Plain {
            accounts_file,
            roles,
            concurrency,
            per_account,
            recording,
            recording_offset,
            result_from,
            cpu_of,
            clock_ticks,
            out,
        } => {
            let accounts = Accounts::load(&accounts_file)?;
            let (result, offset) = match result_from {
                Some(path) => {
                    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
                    let result: aws::PlainResult =
                        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
                    (result, recording_offset)
                }
                None => {
                    let offset = aws::recording_offset(&recording)?;
                    let before = cpu_times(&cpu_of, clock_ticks);
                    let mut result = aws::plain(&accounts, roles, concurrency, per_account).await?;
                    result.cpu = cpu_since(&before, &cpu_times(&cpu_of, clock_ticks));
                    if let Some(own) = result.cpu.remove("bench (creating, watching)") {
                        result.cpu.insert("plain program".into(), own);
                    }
                    (result, offset)
                }
            };
            if result.roles != roles {
                bail!("the plain program wrote {} roles, not {roles}", result.roles);
            }
            let recorded = aws::recorded_since(&recording, offset)?;
            let accounts = Some(accounts);
            write(
                &out,
                &report::PlainRun {
                    result,
                    recorded,
                    accounts,
                },
            )?;
        }
        Command::FirstPass {
            accounts_file,
            roles,
            operator,
            out,
        } => {
            let accounts = Accounts::load(&accounts_file)?;
            write(&out, &first_pass(&accounts, roles, &operator).await?)?;
        }
        Command::Create {
            accounts_file,
            objects,
            namespace,
            observe,
            out,
        } => {
            let accounts = Accounts::load(&accounts_file)?;
            let client = kube::Client::try_default()
                .await
                .context("connecting to kube-testserver")?;
            ensure_namespace(&client, &namespace).await?;
            let started = Instant::now();
            create(&client, &accounts, objects, &namespace, observe).await?;
            let seconds = started.elapsed().as_secs_f64();
            write(&out, &Created { objects, seconds })?;
        }
        Command::Restart {
            objects,
            started_at,
            resync_pass,
            recording_offset,
            until_outcome,
            operator,
            out,
        } => {
            let result = restart(
                objects,
                started_at,
                resync_pass,
                recording_offset,
                until_outcome,
                &operator,
            )
            .await?;
            write(&out, &result)?;
        }
        Command::KubeProxy {
            upstream,
            address_file,
            out,
        } => apiserver::proxy(upstream, address_file, out).await?,
        Command::KubeFloor {
            accounts_file,
            objects,
            namespace,
            concurrency,
            out,
        } => {
            let accounts = Accounts::load(&accounts_file)?;
            write(
                &out,
                &apiserver::floor(&accounts, objects, &namespace, concurrency).await?,
            )?;
        }
        Command::Report { dir } => print!("{}", report::render(&dir)?),
    }
    Ok(())
}
