//! The operator binary as users run it (`aws-access-operator run`), as a
//! child process a test can kill with SIGKILL and start again: nothing of a
//! killed run survives but what it wrote to Kubernetes and AWS.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use tokio::process::{Child, Command};

pub struct OperatorProcess {
    kubeconfig: PathBuf,
    aws_endpoint: String,
    resync_interval: String,
    /// Every run's stdout and stderr, one after the other.
    log: PathBuf,
    /// A directory of its own for HOME, so no profile of the machine's user is read.
    home: PathBuf,
    child: Option<Child>,
    runs: usize,
}

impl Drop for OperatorProcess {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            // Gone already is fine; a leftover operator would keep writing to AWS.
            let _ = child.start_kill();
        }
    }
}

impl OperatorProcess {
    /// Starts the operator against the API server of `kubeconfig` and AWS at
    /// `aws_endpoint`, as the management account of moto, logging at debug
    /// level into `dir`.
    pub fn start(kubeconfig: &Path, aws_endpoint: &str, resync_interval: &str, dir: &Path) -> OperatorProcess {
        let home = dir.join("home");
        std::fs::create_dir_all(&home).expect("a HOME for the operator");
        let mut operator = OperatorProcess {
            kubeconfig: kubeconfig.to_owned(),
            aws_endpoint: aws_endpoint.to_owned(),
            resync_interval: resync_interval.to_owned(),
            log: dir.join("operator.log"),
            home,
            child: None,
            runs: 0,
        };
        operator.spawn();
        operator
    }

    fn spawn(&mut self) {
        self.runs += 1;
        let mut log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("the operator's log file");
        writeln!(log, "==== run {} ====", self.runs).expect("write the log");
        let stderr = log.try_clone().expect("a second handle on the log");
        let child = Command::new(env!("CARGO_BIN_EXE_aws-access-operator"))
            .args(["run", "--metrics-address", "127.0.0.1:0", "--resync-interval"])
            .arg(&self.resync_interval)
            // Only what is set here: no credentials, profile or endpoint of the machine.
            .env_clear()
            .env("HOME", &self.home)
            .env("KUBECONFIG", &self.kubeconfig)
            .env("AWS_ENDPOINT_URL", &self.aws_endpoint)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", "us-east-1")
            .env("RUST_LOG", "debug")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(stderr))
            .kill_on_drop(true)
            .spawn()
            .expect("start the operator binary");
        self.child = Some(child);
    }

    /// SIGKILL: no shutdown, no reconcile finished, no status written after.
    /// Panics if the operator had exited by itself.
    pub async fn kill(&mut self) {
        let mut child = self.child.take().expect("a running operator");
        if let Some(status) = child.try_wait().expect("the operator's state") {
            panic!(
                "the operator exited by itself ({status}) in run {}:\n{}",
                self.runs,
                self.log_tail()
            );
        }
        child.start_kill().expect("SIGKILL");
        child.wait().await.expect("reap the operator");
    }

    /// Starts a fresh operator after `kill`, as a restarted pod.
    pub fn start_again(&mut self) {
        assert!(self.child.is_none(), "one operator at a time");
        self.spawn();
    }

    pub fn runs(&self) -> usize {
        self.runs
    }

    /// Everything every run printed.
    pub fn log(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(&self.log).unwrap_or_default()).into_owned()
    }

    /// The last lines, to explain a failure.
    pub fn log_tail(&self) -> String {
        let log = self.log();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(60)..].join("\n")
    }
}
