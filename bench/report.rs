//! The results of one `scripts/bench.sh` run, side by side, as markdown.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::path::Path;

use anyhow::Context;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::apiserver::{Counted, Floor};
use crate::aws::{PlainResult, Recorded};
use crate::roles::Accounts;
use crate::{Created, FirstPass, Pass, Restart};

#[derive(Debug, Serialize, Deserialize)]
pub struct PlainRun {
    pub result: PlainResult,
    pub recorded: Recorded,
    /// The organization it ran in (its own moto's).
    #[serde(default)]
    pub accounts: Option<Accounts>,
}

/// Every plain program's run in the directory (`plain-*.json`), fastest first.
fn plain_runs(dir: &Path) -> anyhow::Result<Vec<PlainRun>> {
    let mut runs = vec![];
    for entry in std::fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if name.starts_with("plain-") && name.ends_with(".json") && !name.ends_with("-accounts.json") {
            runs.push(load::<PlainRun>(dir, &name)?);
        }
    }
    runs.sort_by(|a, b| a.result.seconds.total_cmp(&b.result.seconds));
    Ok(runs)
}

/// `(roles, seconds)` marks as `0.4 s, 1.2 s, …`.
fn curve(marks: &[(usize, f64)]) -> String {
    match marks.is_empty() {
        true => "–".into(),
        false => marks
            .iter()
            .map(|(_, t)| format!("{t:.1} s"))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

fn concurrency(plain: &PlainResult) -> String {
    match plain.per_account {
        true => format!("{} per account", plain.concurrency),
        false => plain.concurrency.to_string(),
    }
}

fn load<T: DeserializeOwned>(dir: &Path, name: &str) -> anyhow::Result<T> {
    let path = dir.join(name);
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

fn load_optional<T: DeserializeOwned>(dir: &Path, name: &str) -> anyhow::Result<Option<T>> {
    match dir.join(name).exists() {
        true => load(dir, name).map(Some),
        false => Ok(None),
    }
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Read,
    Write,
    /// Credentials and identity, neither reading nor changing what is managed.
    Sts,
}

impl Kind {
    fn of(service: &str, operation: &str) -> Kind {
        if service.eq_ignore_ascii_case("sts") {
            Kind::Sts
        } else if ["Get", "List", "Describe"]
            .iter()
            .any(|verb| operation.starts_with(verb))
        {
            Kind::Read
        } else {
            Kind::Write
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Read => "read",
            Kind::Write => "write",
            Kind::Sts => "STS",
        }
    }

    fn plural(self) -> &'static str {
        match self {
            Kind::Read => "reads",
            Kind::Write => "writes",
            Kind::Sts => "STS calls",
        }
    }
}

/// Calls per (kind, service, operation): all of them, and those that did not succeed.
#[derive(Default)]
struct Column {
    calls: BTreeMap<(Kind, String, String), (u64, u64)>,
}

impl Column {
    fn of_pass(pass: &Pass) -> Column {
        let mut column = Column::default();
        for (call, n) in &pass.calls {
            let key = (
                Kind::of(&call.service, &call.operation),
                call.service.clone(),
                call.operation.clone(),
            );
            let entry = column.calls.entry(key).or_default();
            entry.0 += n;
            if call.outcome != "success" {
                entry.1 += n;
            }
        }
        column
    }

    fn of_plain(plain: &PlainResult) -> Column {
        let mut column = Column::default();
        for (operation, n) in &plain.calls {
            let service = if operation == "AssumeRole" { "sts" } else { "iam" };
            column.calls.insert(
                (Kind::of(service, operation), service.into(), operation.clone()),
                (*n, 0),
            );
        }
        column
    }

    fn cell(&self, key: &(Kind, String, String)) -> String {
        match self.calls.iter().find(|(k, _)| k.0 == key.0 && k.2 == key.2) {
            None => "0".into(),
            Some((_, (n, 0))) => n.to_string(),
            Some((_, (n, failed))) => format!("{n} ({failed} not 2xx)"),
        }
    }

    fn total(&self, kind: Kind) -> u64 {
        self.calls
            .iter()
            .filter(|(k, _)| k.0 == kind)
            .map(|(_, (n, _))| n)
            .sum()
    }

    fn assume_roles(&self) -> u64 {
        self.calls
            .iter()
            .filter(|(k, _)| k.2 == "AssumeRole")
            .map(|(_, (n, _))| n)
            .sum()
    }
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

fn per(n: u64, objects: usize) -> String {
    format!("{:.2}", n as f64 / objects.max(1) as f64)
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|line| line.strip_prefix("model name"))
                .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

/// Why reconciles failed, from an operator log: the error of each
/// "reconcile failed" line, without the details in parentheses.
fn failures(dir: &Path, run: &str) -> BTreeMap<String, u64> {
    let log = std::fs::read_to_string(dir.join("logs").join(format!("{run}-operator.log"))).unwrap_or_default();
    let mut tally = BTreeMap::new();
    for line in log.lines().filter(|line| line.contains("reconcile failed")) {
        let plain = strip_colours(line);
        let Some((_, error)) = plain.split_once(" error=") else {
            continue;
        };
        let error = error.split(" aws_request_id=").next().unwrap_or(error);
        let error = error.split(" (").next().unwrap_or(error);
        *tally.entry(error.to_owned()).or_default() += 1;
    }
    tally
}

/// The operator's text logs carry ANSI colour codes (ESC [ ... m).
fn strip_colours(line: &str) -> String {
    let mut plain = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            chars.by_ref().find(|c| *c == 'm');
        } else {
            plain.push(c);
        }
    }
    plain
}

/// The one-minute load average the script saved from /proc/loadavg.
fn load_average(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name))
        .ok()
        .and_then(|text| text.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "unknown".into())
}

fn outcomes(tally: &BTreeMap<String, u64>) -> String {
    tally
        .iter()
        .map(|(outcome, n)| format!("{n} {outcome}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn render(dir: &Path) -> anyhow::Result<String> {
    let first: FirstPass = load(dir, "first.json")?;
    let restart: Restart = load(dir, "restart.json")?;
    let lifted: Option<FirstPass> = load_optional(dir, "first-lifted.json")?;
    let plains = plain_runs(dir)?;
    let plain = plains.first().context("no plain program's result (plain-*.json)")?;
    let created: Option<Created> = load_optional(dir, "objects-create.json")?;
    let cached: Option<Restart> = load_optional(dir, "objects-restart.json")?;
    let resync = restart.resync.as_ref().context("restart.json has no resync pass")?;
    let (n, m) = (first.roles, first.accounts);
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let mut out = String::new();

    writeln!(
        out,
        "## aws-access-operator benchmark: {n} CrossAccountRoles in {m} member accounts\n"
    )?;
    writeln!(
        out,
        "{cores} cores ({}), release build; moto, kube-testserver, the operator and the benchmark on this one machine, over loopback. Load average (1 min) when the run started {}, when it ended {}.\n",
        cpu_model(),
        load_average(dir, "loadavg-start"),
        load_average(dir, "loadavg-end"),
    )?;

    let columns = [
        ("first pass", Column::of_pass(&first.pass)),
        ("restart pass", Column::of_pass(&restart.startup)),
        ("resync pass", Column::of_pass(resync)),
        ("plain", Column::of_plain(&plain.result)),
    ];

    writeln!(out, "### Apply to Ready\n")?;
    let passes: Vec<(&str, &FirstPass, String)> = std::iter::once(("default pacing", &first, "first".to_owned()))
        .chain(lifted.as_ref().map(|l| ("pacing lifted", l, "first-lifted".to_owned())))
        .collect();
    let settings = std::fs::read_to_string(dir.join("lifted.env")).unwrap_or_default();
    let header: Vec<&str> = passes.iter().map(|(label, ..)| *label).collect();
    writeln!(out, "| {n} roles, {m} accounts | {} |", header.join(" | "))?;
    writeln!(out, "|---|{}", "---:|".repeat(passes.len()))?;
    let row = |out: &mut String, label: &str, cell: &dyn Fn(&FirstPass, &str) -> String| -> std::fmt::Result {
        let cells: Vec<String> = passes.iter().map(|(_, pass, run)| cell(pass, run)).collect();
        writeln!(out, "| {label} | {} |", cells.join(" | "))
    };
    let plain_label = format!(
        "fastest plain program ({}, {})",
        plain.result.language,
        concurrency(&plain.result)
    );
    row(&mut out, "operator: first create → all Ready", &|p, _| {
        format!("{:.1} s", p.ready_seconds)
    })?;
    row(&mut out, &plain_label, &|_, _| format!("{:.1} s", plain.result.seconds))?;
    row(&mut out, "**operator / fastest plain**", &|p, _| {
        format!("**{:.2}×**", p.ready_seconds / plain.result.seconds)
    })?;
    row(&mut out, "operator: all created (kube-rs, 16 in flight)", &|p, _| {
        format!("{:.1} s", p.create_seconds)
    })?;
    row(&mut out, "AWS calls: operator / plain", &|p, _| {
        let calls: u64 = p.pass.calls.iter().map(|(_, n)| n).sum();
        format!("{calls} / {}", plain.result.calls.values().sum::<u64>())
    })?;
    row(&mut out, "AWS writes: operator / plain", &|p, _| {
        format!(
            "{} / {}",
            Column::of_pass(&p.pass).total(Kind::Write),
            Column::of_plain(&plain.result).total(Kind::Write)
        )
    })?;
    row(&mut out, "role reconciles (per role)", &|p, _| {
        format!("{} ({})", p.pass.reconciles, per(p.pass.reconciles, n))
    })?;
    row(&mut out, "reconcile errors", &|p, _| p.reconcile_errors.to_string())?;
    let kube: Vec<Option<Counted>> = passes
        .iter()
        .map(|(_, _, run)| Counted::load(&dir.join(format!("{run}-kube.json"))).ok())
        .collect();
    if kube.iter().any(Option::is_some) {
        let cell = |i: usize, f: &dyn Fn(&Counted) -> String| kube[i].as_ref().map_or("–".into(), f);
        let cells = |f: &dyn Fn(&Counted) -> String| (0..passes.len()).map(|i| cell(i, f)).collect::<Vec<_>>();
        writeln!(
            out,
            "| Kubernetes requests from the operator (per role) | {} |",
            cells(&|c| format!("{} ({})", c.total(), per(c.total(), n))).join(" | ")
        )?;
        writeln!(
            out,
            "| of which writes (per role) | {} |",
            cells(&|c| format!("{} ({})", c.writes(), per(c.writes(), n))).join(" | ")
        )?;
        let kinds: BTreeSet<&String> = kube.iter().flatten().flat_map(|c| c.requests.keys()).collect();
        for kind in kinds {
            writeln!(
                out,
                "| &nbsp;&nbsp;`{kind}` | {} |",
                cells(&|c| c.requests.get(kind).copied().unwrap_or(0).to_string()).join(" | ")
            )?;
        }
    }
    row(
        &mut out,
        "AwsAccounts, applied and Ready before the roles (not in the time above)",
        &|p, _| p.accounts_ready_seconds.map_or("–".into(), |t| format!("{t:.1} s")),
    )?;
    row(
        &mut out,
        "Ready: first role, a tenth, half, nine tenths, all",
        &|p, _| curve(&p.ready_curve),
    )?;
    let processes: BTreeSet<&String> = passes.iter().flat_map(|(_, p, _)| p.cpu.keys()).collect();
    for process in processes {
        row(&mut out, &format!("CPU time, {process}"), &|p, _| {
            p.cpu.get(process).map_or("–".into(), |t| format!("{t:.1} s"))
        })?;
    }
    row(&mut out, "operator peak RSS (VmHWM)", &|p, _| {
        mib(p.process.peak_rss_kib)
    })?;
    row(&mut out, "outcomes", &|p, _| outcomes(&p.outcomes))?;
    writeln!(
        out,
        "\nOperator: from the first create request (kube-rs, 16 in flight) until every role was Ready=True at its generation, seen through a watch; `--resync-interval 1h`, so this is the first pass alone; default pacing is the operator's default IAM limits; pacing lifted ran with {}. Kubernetes requests are counted by a proxy between the operator and kube-testserver (`bench kube-proxy`), start-up lists and watches included.",
        if settings.trim().is_empty() {
            "the IAM limits out of the way".to_owned()
        } else {
            format!("`{}`", settings.trim())
        }
    )?;
    writeln!(
        out,
        "Plain program: against a fresh moto each, AssumeRole into each member account through OrganizationAccountAccessRole once, then CreateRole (carrying an owner tag as long as the operator's) + AttachRolePolicy + PutRolePolicy per role; the fastest of these:\n"
    )?;
    writeln!(
        out,
        "| plain program | roles in flight | wall time | calls per second | CPU time: program, moto |"
    )?;
    writeln!(out, "|---|---|---:|---:|---:|")?;
    for run in &plains {
        let calls: u64 = run.result.calls.values().sum();
        let cpu = |name: &str| run.result.cpu.get(name).map_or("–".into(), |t| format!("{t:.1} s"));
        writeln!(
            out,
            "| {} | {} | {:.2} s | {:.0} | {}, {} |",
            run.result.language,
            concurrency(&run.result),
            run.result.seconds,
            calls as f64 / run.result.seconds,
            cpu("plain program"),
            cpu("moto")
        )?;
    }
    writeln!(out)?;
    if let Some(floor) = load_optional::<Floor>(dir, "kube-floor.json")? {
        writeln!(
            out,
            "kube-testserver alone (`bench kube-floor`: a trivial kube-rs client, {} requests in flight, a watch of the namespace open), {} objects:\n",
            floor.concurrency, floor.objects
        )?;
        writeln!(out, "| step, over all objects | wall time | per second |")?;
        writeln!(out, "|---|---:|---:|")?;
        for (step, seconds) in &floor.seconds {
            let step = step.split_once(' ').map_or(step.as_str(), |(_, s)| s);
            writeln!(
                out,
                "| {step} | {seconds:.2} s | {:.0} |",
                floor.objects as f64 / seconds
            )?;
        }
        writeln!(out)?;
    }

    writeln!(out, "### AWS calls by operation\n")?;
    writeln!(
        out,
        "From the operator's `awsaccess_aws_calls_total`, as differences between snapshots. First pass: the create above. Restart pass: a new operator process over the {n} roles in sync, every role reconciled once. Resync pass: the next {} reconciles, one per role, `--resync-interval {:.0}s` after the restart pass.\n",
        resync.reconciles,
        restart.resync_interval_seconds.unwrap_or_default()
    )?;
    writeln!(
        out,
        "| operation | kind | first pass | restart pass | resync pass | plain |"
    )?;
    writeln!(out, "|---|---|---:|---:|---:|---:|")?;
    let keys: BTreeSet<(Kind, String, String)> = columns
        .iter()
        .flat_map(|(_, column)| column.calls.keys().cloned())
        .map(|(kind, service, operation)| (kind, service.to_ascii_lowercase(), operation))
        .collect();
    for key in &keys {
        let cells: Vec<String> = columns.iter().map(|(_, column)| column.cell(key)).collect();
        writeln!(
            out,
            "| {} {} | {} | {} |",
            key.1,
            key.2,
            key.0.name(),
            cells.join(" | ")
        )?;
    }
    for kind in [Kind::Read, Kind::Write, Kind::Sts] {
        let totals: Vec<String> = columns.iter().map(|(_, c)| c.total(kind).to_string()).collect();
        writeln!(out, "| **total {}** | | {} |", kind.plural(), totals.join(" | "))?;
    }
    for kind in [Kind::Read, Kind::Write] {
        let ratios: Vec<String> = columns.iter().map(|(_, c)| per(c.total(kind), n)).collect();
        writeln!(out, "| {} per role | | {} |", kind.plural(), ratios.join(" | "))?;
    }
    writeln!(
        out,
        "| role reconciles | | {} | {} | {} | |",
        first.pass.reconciles, restart.startup.reconciles, resync.reconciles
    )?;
    writeln!(
        out,
        "| requests moto served (its recording) | | {} | {} | {} | {} |\n",
        first.pass.recorded.requests,
        restart.startup.recorded.requests,
        resync.recorded.requests,
        plain.recorded.requests
    )?;

    writeln!(out, "### AssumeRole per account\n")?;
    writeln!(
        out,
        "The metric has no account label; per account is from moto's recording of each AssumeRole's RoleArn, the metric's total below it. The plain program ran against another moto, whose member accounts have other ids: rows are the accounts in the order they were created.\n"
    )?;
    writeln!(out, "| account | first pass | restart pass | resync pass | plain |")?;
    writeln!(out, "|---|---:|---:|---:|---:|")?;
    let operator_accounts: Accounts = load(dir, "accounts.json")?;
    let plain_accounts: Accounts = plain
        .accounts
        .clone()
        .context("the fastest plain run names no accounts")?;
    let recordings = [
        (&first.pass.recorded, &operator_accounts),
        (&restart.startup.recorded, &operator_accounts),
        (&resync.recorded, &operator_accounts),
        (&plain.recorded, &plain_accounts),
    ];
    for i in 0..m {
        let cells: Vec<String> = recordings
            .iter()
            .map(|(recorded, accounts)| {
                let n = recorded.assume_role_by_account.get(&accounts.members[i]);
                n.copied().unwrap_or(0).to_string()
            })
            .collect();
        writeln!(out, "| member {} | {} |", i + 1, cells.join(" | "))?;
    }
    let others: Vec<String> = recordings
        .iter()
        .map(|(recorded, accounts)| {
            let n: u64 = recorded
                .assume_role_by_account
                .iter()
                .filter(|(account, _)| !accounts.members.contains(account))
                .map(|(_, n)| n)
                .sum();
            n.to_string()
        })
        .collect();
    writeln!(out, "| any other account | {} |", others.join(" | "))?;
    let metric: Vec<String> = columns.iter().map(|(_, c)| c.assume_roles().to_string()).collect();
    writeln!(
        out,
        "| metric total (plain: its own count) | {} |\n",
        metric.join(" | ")
    )?;

    writeln!(out, "### The operator process\n")?;
    let k = cached.as_ref().map(|c| c.objects);
    let header = match k {
        Some(k) => format!("| | {n} roles (Manage) | {k} roles (Observe) |\n|---|---:|---:|"),
        None => format!("| | {n} roles (Manage) |\n|---|---:|"),
    };
    writeln!(out, "{header}")?;
    let row = |out: &mut String, label: &str, ours: String, theirs: Option<String>| -> std::fmt::Result {
        match (k, theirs) {
            (Some(_), Some(theirs)) => writeln!(out, "| {label} | {ours} | {theirs} |"),
            (Some(_), None) => writeln!(out, "| {label} | {ours} | |"),
            (None, _) => writeln!(out, "| {label} | {ours} |"),
        }
    };
    row(
        &mut out,
        "creating the objects (kube-rs, 16 in flight)",
        format!("{:.1} s", first.create_seconds),
        created.as_ref().map(|c| format!("{:.1} s", c.seconds)),
    )?;
    row(
        &mut out,
        "start → /readyz (caches synced)",
        format!("{:.2} s", restart.ready_seconds),
        cached.as_ref().map(|c| format!("{:.2} s", c.ready_seconds)),
    )?;
    row(
        &mut out,
        "start → first reconcile finished",
        format!("{:.2} s", restart.first_reconcile_seconds),
        cached.as_ref().map(|c| format!("{:.2} s", c.first_reconcile_seconds)),
    )?;
    row(
        &mut out,
        "start → every object reconciled (succeeded once)",
        format!("{:.1} s", restart.startup_pass_seconds),
        cached.as_ref().map(|c| format!("{:.1} s", c.startup_pass_seconds)),
    )?;
    row(
        &mut out,
        "start → first, a tenth, half, nine tenths, all showing DriftDetected",
        "".into(),
        cached.as_ref().map(|c| curve(&c.outcome_curve)),
    )?;
    row(
        &mut out,
        "role reconciles (per object)",
        format!(
            "{} ({})",
            restart.startup.reconciles,
            per(restart.startup.reconciles, n)
        ),
        cached
            .as_ref()
            .map(|c| format!("{} ({})", c.startup.reconciles, per(c.startup.reconciles, c.objects))),
    )?;
    if let Some(cached) = &cached {
        let kube = Counted::load(&dir.join("objects-kube.json")).ok();
        if let Some(kube) = &kube {
            row(
                &mut out,
                "Kubernetes requests from the operator: all, writes (per object)",
                "".into(),
                Some(format!(
                    "{} ({}), {} ({})",
                    kube.total(),
                    per(kube.total(), cached.objects),
                    kube.writes(),
                    per(kube.writes(), cached.objects)
                )),
            )?;
            for (kind, count) in &kube.requests {
                row(
                    &mut out,
                    &format!("&nbsp;&nbsp;`{kind}`"),
                    "".into(),
                    Some(count.to_string()),
                )?;
            }
        }
        for (process, seconds) in &cached.cpu {
            row(
                &mut out,
                &format!("CPU time to all reconciled, {process}"),
                restart.cpu.get(process).map_or("".into(), |t| format!("{t:.1} s")),
                Some(format!("{seconds:.1} s")),
            )?;
        }
    }
    row(
        &mut out,
        "RSS when /readyz first answered 200 (caches synced)",
        mib(restart.rss_at_ready_kib),
        cached.as_ref().map(|c| mib(c.rss_at_ready_kib)),
    )?;
    row(
        &mut out,
        "peak RSS (VmHWM), process that created them",
        mib(first.process.peak_rss_kib),
        None,
    )?;
    row(
        &mut out,
        "peak RSS (VmHWM), process started over them",
        format!("{} (restart + resync pass)", mib(restart.process.peak_rss_kib)),
        cached
            .as_ref()
            .map(|c| format!("{} (start + one pass)", mib(c.process.peak_rss_kib))),
    )?;
    row(
        &mut out,
        "RSS at the end (VmRSS)",
        mib(restart.process.rss_kib),
        cached.as_ref().map(|c| mib(c.process.rss_kib)),
    )?;
    row(
        &mut out,
        "open file descriptors at the end",
        restart.process.open_fds.to_string(),
        cached.as_ref().map(|c| c.process.open_fds.to_string()),
    )?;
    row(
        &mut out,
        "operator CPU time",
        format!(
            "{:.1} s (first pass), {:.1} s (restart + resync pass)",
            first.process.cpu_seconds, restart.process.cpu_seconds
        ),
        cached.as_ref().map(|c| format!("{:.1} s", c.process.cpu_seconds)),
    )?;
    row(
        &mut out,
        "reconcile errors (`controller_runtime_reconcile_errors_total`)",
        format!("{} + {}", first.reconcile_errors, restart.reconcile_errors),
        cached.as_ref().map(|c| c.reconcile_errors.to_string()),
    )?;
    row(
        &mut out,
        "outcomes at the end",
        outcomes(&restart.outcomes),
        cached.as_ref().map(|c| outcomes(&c.outcomes)),
    )?;
    if let Some(cached) = &cached {
        let calls = Column::of_pass(&cached.startup);
        let mut by_outcome: BTreeMap<&str, u64> = BTreeMap::new();
        for (call, n) in &cached.startup.calls {
            *by_outcome.entry(call.outcome.as_str()).or_default() += n;
        }
        let by_outcome: Vec<String> = by_outcome.iter().map(|(outcome, n)| format!("{n} {outcome}")).collect();
        writeln!(
            out,
            "\nThe {} Observe roles were created before the operator started (their IAM roles do not exist, so each reports drift); the operator cached them all and reconciled each until it succeeded once: {} role reconciles, {} AWS reads, {} writes, {} STS calls; AWS calls by outcome: {} (a GetRole that finds no role counts as a client error).",
            cached.objects,
            cached.startup.reconciles,
            calls.total(Kind::Read),
            calls.total(Kind::Write),
            calls.total(Kind::Sts),
            by_outcome.join(", ")
        )?;
    }
    let runs = [
        ("first pass", "first"),
        ("restart and resync pass", "restart"),
        ("Observe roles", "objects"),
    ];
    let failed: Vec<(&str, BTreeMap<String, u64>)> = runs
        .iter()
        .map(|(label, run)| (*label, failures(dir, run)))
        .filter(|(_, tally)| !tally.is_empty())
        .collect();
    if !failed.is_empty() {
        writeln!(
            out,
            "\nFailed reconciles by error, from the operator's logs (each was retried with backoff):\n"
        )?;
        writeln!(out, "| run | error | reconciles |")?;
        writeln!(out, "|---|---|---:|")?;
        for (label, tally) in failed {
            for (error, n) in tally {
                writeln!(out, "| {label} | {error} | {n} |")?;
            }
        }
        writeln!(out)?;
    }
    writeln!(
        out,
        "Start times are from just before the process was spawned, read by polling `/readyz` and `/metrics` every 10 ms; the first reconcile is the first increment of `controller_runtime_reconcile_total`."
    )?;
    Ok(out)
}
