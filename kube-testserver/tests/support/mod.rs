//! What every test of the server starts from: a server, a way to run the
//! real kubectl against it, and the fixtures.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use kube_testserver::TestServer;

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

/// The real kubectl on PATH, pointed at one server, with a discovery cache
/// of its own so tests cannot see each other's resources.
pub struct Kubectl {
    kubeconfig: PathBuf,
    cache: tempfile::TempDir,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(output: Output) -> Self {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Panics with kubectl's own words when it failed.
    pub fn ok(self) -> Self {
        assert_eq!(
            self.code, 0,
            "kubectl failed:\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }

    pub fn failed(self) -> Self {
        assert_ne!(self.code, 0, "kubectl succeeded unexpectedly:\nstdout: {}", self.stdout);
        self
    }
}

impl Kubectl {
    pub fn new(server: &TestServer) -> Self {
        Kubectl {
            kubeconfig: server.kubeconfig_path().to_path_buf(),
            cache: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new("kubectl");
        command
            .args(args)
            .env("KUBECONFIG", &self.kubeconfig)
            .env("KUBECACHEDIR", self.cache.path())
            .env("HOME", self.cache.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }

    /// Runs kubectl to completion on a blocking thread, so the server on the test's runtime keeps serving.
    pub async fn run(&self, args: &[&str]) -> Run {
        self.run_with_env(args, &[]).await
    }

    /// Runs kubectl with extra environment variables (`KUBE_EDITOR` for `kubectl edit`).
    pub async fn run_with_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut command = self.command(args);
        command.envs(env.iter().copied());
        let output = tokio::task::spawn_blocking(move || command.output().expect("kubectl on PATH"))
            .await
            .expect("kubectl thread");
        Run::from(output)
    }

    /// Runs kubectl with `stdin` as its standard input (for `-f -`).
    pub async fn run_with_input(&self, args: &[&str], stdin: &str) -> Run {
        let mut command = self.command(args);
        command.stdin(Stdio::piped());
        let input = stdin.to_string();
        let output = tokio::task::spawn_blocking(move || {
            use std::io::Write;
            let mut child = command.spawn().expect("kubectl on PATH");
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(input.as_bytes())
                .expect("write stdin");
            child.wait_with_output().expect("kubectl output")
        })
        .await
        .expect("kubectl thread");
        Run::from(output)
    }

    /// Starts kubectl and leaves it running (for `wait`, `delete` that blocks, `get -w`).
    pub fn spawn(&self, args: &[&str]) -> Child {
        self.command(args).spawn().expect("kubectl on PATH")
    }
}

/// Waits for a spawned kubectl to exit, up to `limit`.
pub async fn finish(child: Child, limit: Duration) -> Run {
    let output = tokio::time::timeout(limit, tokio::task::spawn_blocking(move || child.wait_with_output()))
        .await
        .expect("kubectl did not finish in time")
        .expect("kubectl thread")
        .expect("kubectl output");
    Run::from(output)
}

/// A server with the Widget CRD applied and Established.
pub async fn server_with_widgets() -> (TestServer, Kubectl) {
    let server = TestServer::start().await.expect("server starts");
    let kubectl = Kubectl::new(&server);
    kubectl
        .run(&["apply", "-f", fixture("widget-crd.yaml").to_str().expect("utf-8 path")])
        .await
        .ok();
    (server, kubectl)
}
