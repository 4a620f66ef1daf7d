//! Measures what one write costs the server as the number of stored objects grows:
//! `cargo run --release -p kube-testserver --example write_cost -- --objects 10000`.
//!
//! The server runs on its own runtime, whose threads are named `kts-server`, so its CPU time
//! is read from those threads alone (`/proc/self/task/*/schedstat`), apart from the client's.
//! Installs the operator's CrossAccountRole CRD, creates N objects, then times N status
//! server-side applies and N JSON patches of `metadata.finalizers`, with no watch open and
//! with three (two full, one metadata-only, as the operator's controllers open them).

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use axum::body::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, StatusCode};
use serde_json::{Value, json};
use tokio::net::TcpStream;

const SERVER_THREAD: &str = "kts-server";
const NAMESPACE: &str = "default";
const CRD_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../crds/awsaccess.dev.yaml");
const BASE: &str = "/apis/awsaccess.dev/v1alpha1/namespaces/default/crossaccountroles";
const METADATA_ONLY: &str = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json";

fn main() -> anyhow::Result<()> {
    let objects = std::env::args()
        .skip_while(|a| a != "--objects")
        .nth(1)
        .map(|n| n.parse::<usize>())
        .transpose()?
        .unwrap_or(1000);
    let server_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(SERVER_THREAD)
        .enable_all()
        .build()?;
    let server = server_runtime.block_on(kube_testserver::TestServer::start())?;
    let client_runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    client_runtime.block_on(run(&server, objects))
}

async fn run(server: &kube_testserver::TestServer, objects: usize) -> anyhow::Result<()> {
    let mut client = Client::connect(server).await?;
    install_crd(&mut client).await?;
    println!("{objects} objects stored");
    timed(objects, "create", async {
        for i in 0..objects {
            client
                .send(Method::POST, BASE, "application/json", None, role(i))
                .await?;
        }
        Ok(())
    })
    .await?;
    for watches in [0, 3] {
        let mut open = vec![];
        for accept in [None, None, Some(METADATA_ONLY)].into_iter().take(watches) {
            open.push(watch(server, accept).await?);
        }
        let round = watches;
        timed(objects, &format!("status apply, {watches} watches"), async {
            for i in 0..objects {
                let path = format!("{BASE}/{}/status?fieldManager=bench&force=true", name(i));
                let body = status(i, round);
                client
                    .send(Method::PATCH, &path, "application/apply-patch+yaml", None, body)
                    .await?;
            }
            Ok(())
        })
        .await?;
        timed(objects, &format!("finalizer JSON patch, {watches} watches"), async {
            for i in 0..objects {
                let path = format!("{BASE}/{}", name(i));
                let body = if round == 0 {
                    json!([{"op": "test", "path": "/metadata/finalizers", "value": null},
                           {"op": "add", "path": "/metadata/finalizers", "value": ["awsaccess.dev/cleanup"]}])
                } else {
                    json!([{"op": "remove", "path": "/metadata/finalizers"}])
                };
                client
                    .send(Method::PATCH, &path, "application/json-patch+json", None, body)
                    .await?;
            }
            Ok(())
        })
        .await?;
        for task in open {
            task.abort();
        }
    }
    Ok(())
}

/// Runs `work` (`ops` requests) and prints the wall time and the server's CPU time per op.
async fn timed(ops: usize, what: &str, work: impl Future<Output = anyhow::Result<()>>) -> anyhow::Result<()> {
    let (cpu, wall) = (server_cpu()?, Instant::now());
    work.await?;
    let (cpu, wall) = (server_cpu()? - cpu, wall.elapsed());
    let per = |d: Duration| d.as_secs_f64() * 1e3 / ops as f64;
    println!(
        "{what:<34} wall {:>8.3} ms/op   server CPU {:>8.3} ms/op   (total wall {:.2} s)",
        per(wall),
        per(cpu),
        wall.as_secs_f64()
    );
    Ok(())
}

/// The CPU time of the server runtime's threads so far.
fn server_cpu() -> anyhow::Result<Duration> {
    let mut total = 0u64;
    for task in std::fs::read_dir("/proc/self/task")? {
        let dir = task?.path();
        let comm = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
        if !comm.starts_with(SERVER_THREAD) {
            continue;
        }
        let schedstat = std::fs::read_to_string(dir.join("schedstat")).unwrap_or_default();
        total += schedstat
            .split_whitespace()
            .next()
            .and_then(|ns| ns.parse::<u64>().ok())
            .unwrap_or(0);
    }
    Ok(Duration::from_nanos(total))
}

fn name(i: usize) -> String {
    format!("role-{i:05}")
}

fn role(i: usize) -> Value {
    json!({
        "apiVersion": "awsaccess.dev/v1alpha1", "kind": "CrossAccountRole",
        "metadata": {"name": name(i), "namespace": NAMESPACE, "labels": {"team": "alfie"}},
        "spec": {
            "account": {"name": "alfie-dev"},
            "roleName": format!("Role{i}"),
            "trust": {"developerGroups": [{"name": "alfie-developers"}]},
            "permissions": {"managedPolicyArns": ["arn:aws:iam::aws:policy/ReadOnlyAccess"]},
        },
    })
}

/// A status as the operator applies it; `round` makes each round a real change.
fn status(i: usize, round: usize) -> Value {
    let condition = |type_: &str, status: &str| {
        json!({"type": type_, "status": status, "reason": "InSync", "message": format!("role Role{i} matches the spec ({round})"),
               "observedGeneration": 1, "lastTransitionTime": "2026-01-12T09:30:00Z"})
    };
    json!({
        "apiVersion": "awsaccess.dev/v1alpha1", "kind": "CrossAccountRole",
        "metadata": {"name": name(i), "namespace": NAMESPACE},
        "status": {
            "accountId": "345678901234",
            "roleArn": format!("arn:aws:iam::345678901234:role/Role{i}"),
            "observedGeneration": 1,
            "conditions": [condition("Ready", "True"), condition("Reconciling", "False"), condition("Stalled", "False")],
        },
    })
}

async fn install_crd(client: &mut Client) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(CRD_PATH).with_context(|| format!("reading {CRD_PATH}"))?;
    let crd = serde_yaml_ng::Deserializer::from_str(&text)
        .map(<Value as serde::Deserialize>::deserialize)
        .filter_map(Result::ok)
        .find(|doc| doc.pointer("/metadata/name") == Some(&json!("crossaccountroles.awsaccess.dev")))
        .context("the CrossAccountRole CRD")?;
    let path = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";
    client.send(Method::POST, path, "application/json", None, crd).await?;
    Ok(())
}

/// One HTTP/1.1 connection, requests one at a time.
struct Client {
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
}

impl Client {
    async fn connect(server: &kube_testserver::TestServer) -> anyhow::Result<Client> {
        let stream = TcpStream::connect(server.address()).await?;
        let (sender, connection) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
        tokio::spawn(connection);
        Ok(Client { sender })
    }

    async fn send(
        &mut self,
        method: Method,
        path: &str,
        content_type: &str,
        accept: Option<&str>,
        body: Value,
    ) -> anyhow::Result<Bytes> {
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header("host", "localhost")
            .header("content-type", content_type);
        if let Some(accept) = accept {
            request = request.header("accept", accept);
        }
        let request = request.body(Full::new(Bytes::from(body.to_string())))?;
        let response = self.sender.send_request(request).await?;
        let code = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        if !(code == StatusCode::OK || code == StatusCode::CREATED) {
            bail!("{path}: {code}: {}", String::from_utf8_lossy(&body));
        }
        Ok(body)
    }
}

/// Opens a watch from now on and drains it in the background.
async fn watch(
    server: &kube_testserver::TestServer,
    accept: Option<&'static str>,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let stream = TcpStream::connect(server.address()).await?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    let mut request = Request::builder()
        .uri(format!("{BASE}?watch=true&resourceVersion={}", u64::MAX / 2))
        .header("host", "localhost");
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    let response = sender.send_request(request.body(Full::new(Bytes::new()))?).await?;
    let mut body = response.into_body();
    Ok(tokio::spawn(async move {
        while let Some(Ok(_frame)) = body.frame().await {}
    }))
}
