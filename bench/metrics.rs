//! What the operator says about itself: `/metrics` and `/readyz` over plain
//! HTTP, and what Linux says about its process (`/proc/<pid>`).

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The controller whose reconciles the benchmark counts.
pub const ROLE_CONTROLLER: &str = "CrossAccountRole";

/// One `awsaccess_aws_calls_total` series.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Call {
    pub service: String,
    pub operation: String,
    pub outcome: String,
}

/// The counters the benchmark reads, at one moment.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Snapshot {
    pub aws_calls: BTreeMap<Call, u64>,
    /// `controller_runtime_reconcile_total`, summed over results, per controller.
    pub reconciles: BTreeMap<String, u64>,
    /// The same, `result="success"` only: a failed reconcile is retried, so an
    /// object counts as reconciled once it has succeeded.
    pub successes: BTreeMap<String, u64>,
    pub reconcile_errors: BTreeMap<String, u64>,
}

impl Snapshot {
    pub fn role_reconciles(&self) -> u64 {
        self.reconciles.get(ROLE_CONTROLLER).copied().unwrap_or(0)
    }

    pub fn role_successes(&self) -> u64 {
        self.successes.get(ROLE_CONTROLLER).copied().unwrap_or(0)
    }

    pub fn all_errors(&self) -> u64 {
        self.reconcile_errors.values().sum()
    }

    /// The AWS calls made since `before`, series that did not move left out.
    pub fn calls_since(&self, before: &Snapshot) -> Vec<(Call, u64)> {
        self.aws_calls
            .iter()
            .map(|(call, n)| (call.clone(), n - before.aws_calls.get(call).copied().unwrap_or(0)))
            .filter(|(_, n)| *n > 0)
            .collect()
    }

    fn parse(text: &str) -> anyhow::Result<Snapshot> {
        let mut snapshot = Snapshot::default();
        for line in text.lines().filter(|line| !line.starts_with('#') && !line.is_empty()) {
            let (series, value) = line
                .rsplit_once(' ')
                .with_context(|| format!("metrics line without a value: {line}"))?;
            let (name, labels) = match series.split_once('{') {
                Some((name, rest)) => (name, labels_of(rest.trim_end_matches('}'))),
                None => (series, BTreeMap::new()),
            };
            let label = |key: &str| labels.get(key).cloned().unwrap_or_default();
            // Counters are integers; a float that is one (1.0) is read as such.
            let count = || -> anyhow::Result<u64> {
                let value: f64 = value.parse().with_context(|| format!("metrics value in {line}"))?;
                Ok(value as u64)
            };
            match name {
                "awsaccess_aws_calls_total" => {
                    let call = Call {
                        service: label("service"),
                        operation: label("operation"),
                        outcome: label("outcome"),
                    };
                    *snapshot.aws_calls.entry(call).or_default() += count()?;
                }
                "controller_runtime_reconcile_total" => {
                    *snapshot.reconciles.entry(label("controller")).or_default() += count()?;
                    if label("result") == "success" {
                        *snapshot.successes.entry(label("controller")).or_default() += count()?;
                    }
                }
                "controller_runtime_reconcile_errors_total" => {
                    *snapshot.reconcile_errors.entry(label("controller")).or_default() += count()?;
                }
                _ => {}
            }
        }
        Ok(snapshot)
    }
}

/// `a="x",b="y"` into a map; the operator's label values hold no quotes or commas.
fn labels_of(text: &str) -> BTreeMap<String, String> {
    text.split(',')
        .filter_map(|pair| pair.split_once('='))
        .map(|(key, value)| (key.to_owned(), value.trim_matches('"').to_owned()))
        .collect()
}

/// The operator's metrics endpoint.
#[derive(Clone, Debug)]
pub struct Endpoint {
    pub address: String,
}

impl Endpoint {
    pub async fn snapshot(&self) -> anyhow::Result<Snapshot> {
        let (status, body) = self.get("/metrics").await?;
        if status != 200 {
            bail!("GET http://{}/metrics answered {status}", self.address);
        }
        Snapshot::parse(&body)
    }

    /// Whether `/readyz` says the caches have synced; an error while nothing listens yet.
    pub async fn ready(&self) -> anyhow::Result<bool> {
        Ok(self.get("/readyz").await?.0 == 200)
    }

    /// Polls until the counters stop moving for `quiet` with at least
    /// `min_successes` role reconciles succeeded, and returns the last snapshot.
    pub async fn settled(&self, min_successes: u64, quiet: Duration, timeout: Duration) -> anyhow::Result<Snapshot> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut last = self.snapshot().await?;
        let mut unchanged_since = tokio::time::Instant::now();
        loop {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let now = self.snapshot().await?;
            if now != last {
                last = now;
                unchanged_since = tokio::time::Instant::now();
            } else if last.role_successes() >= min_successes && unchanged_since.elapsed() >= quiet {
                return Ok(last);
            }
            if tokio::time::Instant::now() > deadline {
                bail!(
                    "the operator did not settle within {timeout:?}: {} of at least {min_successes} role reconciles succeeded",
                    last.role_successes()
                );
            }
        }
    }

    /// One HTTP/1.1 GET with `Connection: close`; the status code and the body.
    async fn get(&self, path: &str) -> anyhow::Result<(u16, String)> {
        let mut stream = TcpStream::connect(&self.address)
            .await
            .with_context(|| format!("connecting to the operator at {}", self.address))?;
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.address
        );
        stream.write_all(request.as_bytes()).await?;
        let mut response = String::new();
        stream.read_to_string(&mut response).await?;
        let (head, body) = response
            .split_once("\r\n\r\n")
            .with_context(|| format!("no HTTP response from {}{path}", self.address))?;
        if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
            bail!(
                "{}{path} answered chunked, which this reader does not decode",
                self.address
            );
        }
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .with_context(|| format!("no status line from {}{path}", self.address))?;
        Ok((status, body.to_owned()))
    }
}

/// What /proc says of a process: its resident set now and at its peak, the
/// CPU it used, and its open file descriptors (mostly connections it keeps).
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct ProcessStats {
    pub rss_kib: u64,
    pub peak_rss_kib: u64,
    pub cpu_seconds: f64,
    pub open_fds: usize,
}

/// A `Vm...:   1234 kB` line of /proc/<pid>/status.
fn kib(status: &str, field: &str) -> anyhow::Result<u64> {
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.trim_start_matches(':').split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .with_context(|| format!("no {field} in /proc/<pid>/status"))
}

/// The resident set of a process now (VmRSS).
pub fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    kib(&read_status(pid)?, "VmRSS")
}

fn read_status(pid: u32) -> anyhow::Result<String> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("reading /proc/{pid}/status: has the operator exited?"))
}

impl ProcessStats {
    /// `clock_ticks` is `getconf CLK_TCK`, the unit of utime and stime.
    pub fn read(pid: u32, clock_ticks: u64) -> anyhow::Result<ProcessStats> {
        let status = read_status(pid)?;
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
        // The command name (field 2) may hold spaces; the fields after its ')' do not.
        // utime and stime are fields 14 and 15, the 12th and 13th after it.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .context("malformed /proc/<pid>/stat")?
            .1
            .split_whitespace()
            .collect();
        let ticks = |i: usize| -> anyhow::Result<u64> {
            fields
                .get(i)
                .and_then(|field| field.parse().ok())
                .context("malformed /proc/<pid>/stat")
        };
        let cpu_seconds = (ticks(11)? + ticks(12)?) as f64 / clock_ticks as f64;
        Ok(ProcessStats {
            rss_kib: kib(&status, "VmRSS")?,
            peak_rss_kib: kib(&status, "VmHWM")?,
            cpu_seconds,
            open_fds: std::fs::read_dir(format!("/proc/{pid}/fd"))?.count(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_counters_of_the_operators_metrics() {
        let text = r#"# HELP controller_runtime_reconcile Total number of reconciliations per controller
# TYPE controller_runtime_reconcile counter
controller_runtime_reconcile_total{controller="CrossAccountRole",result="success"} 3
controller_runtime_reconcile_total{controller="CrossAccountRole",result="error"} 1
controller_runtime_reconcile_errors_total{controller="CrossAccountRole"} 1
awsaccess_aws_calls_total{service="iam",operation="GetRole",outcome="success"} 7
awsaccess_aws_calls_total{service="iam",operation="GetRole",outcome="client_error"} 2
# EOF
"#;
        let snapshot = Snapshot::parse(text).unwrap();
        assert_eq!(snapshot.role_reconciles(), 4);
        assert_eq!(snapshot.role_successes(), 3);
        assert_eq!(snapshot.all_errors(), 1);
        let before =
            Snapshot::parse("awsaccess_aws_calls_total{service=\"iam\",operation=\"GetRole\",outcome=\"success\"} 5\n")
                .unwrap();
        let calls = snapshot.calls_since(&before);
        assert_eq!(calls.len(), 2);
        assert!(calls.iter().any(|(call, n)| call.outcome == "success" && *n == 2));
    }
}
