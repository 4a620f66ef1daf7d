//! The Kubernetes side of the operator's time: a proxy that counts the
//! requests the operator sends to kube-testserver (`kube-proxy`), and the
//! floor a trivial client meets writing the same objects (`kube-floor`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::Context;
use futures::{StreamExt, TryStreamExt};
use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use kube::runtime::{WatchStreamExt, watcher};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::roles::{self, Accounts};

/// Requests by kind (`PATCH crossaccountroles/status`, `WATCH crossaccountroles`).
pub type Counts = BTreeMap<String, u64>;

/// What the proxy counted, as it writes it.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Counted {
    pub requests: Counts,
    /// Connections the operator opened.
    pub connections: u64,
}

impl Counted {
    pub fn load(path: &Path) -> anyhow::Result<Counted> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
    }

    /// Requests other than reads (GET, LIST, WATCH).
    pub fn writes(&self) -> u64 {
        self.requests
            .iter()
            .filter(|(kind, _)| !["GET ", "LIST ", "WATCH "].iter().any(|verb| kind.starts_with(verb)))
            .map(|(_, n)| n)
            .sum()
    }

    pub fn total(&self) -> u64 {
        self.requests.values().sum()
    }
}

/// `METHOD resource[/subresource]`, LIST and WATCH told from GET, for a request line's target.
fn kind_of(method: &str, target: &str) -> String {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    // /api/v1/... or /apis/<group>/<version>/...; anything else (discovery, /version) as it is.
    let rest = match segments.first() {
        Some(&"api") if segments.len() >= 2 => &segments[2..],
        Some(&"apis") if segments.len() >= 3 => &segments[3..],
        _ => return format!("{method} {path}"),
    };
    let rest = match rest {
        ["namespaces", _, tail @ ..] if !tail.is_empty() => tail,
        other => other,
    };
    let (resource, named, subresource) = match rest {
        [] => ("(discovery)", false, None),
        [resource] => (*resource, false, None),
        [resource, _name] => (*resource, true, None),
        [resource, _name, sub, ..] => (*resource, true, Some(*sub)),
    };
    let watch = query.split('&').any(|pair| pair == "watch=true" || pair == "watch=1");
    let verb = match (method, named, watch) {
        ("GET", _, true) => "WATCH",
        ("GET", false, false) => "LIST",
        (method, ..) => method,
    };
    match subresource {
        Some(sub) => format!("{verb} {resource}/{sub}"),
        None => format!("{verb} {resource}"),
    }
}

/// Follows one direction of an HTTP/1.1 connection, request by request:
/// heads are parsed for their kind and Content-Length, bodies skipped.
#[derive(Default)]
struct Requests {
    head: Vec<u8>,
    body_left: usize,
    /// A chunked body: the rest of the connection is not parsed.
    lost: bool,
}

impl Requests {
    fn feed(&mut self, bytes: &[u8], mut seen: impl FnMut(String)) {
        let mut input = bytes.to_vec();
        let mut at = 0;
        while at < input.len() && !self.lost {
            if self.body_left > 0 {
                let n = self.body_left.min(input.len() - at);
                self.body_left -= n;
                at += n;
                continue;
            }
            self.head.extend_from_slice(&input[at..]);
            let Some(end) = self.head.windows(4).position(|w| w == b"\r\n\r\n") else {
                return;
            };
            // What follows the head: its body, then the next request.
            input = self.head.split_off(end + 4);
            at = 0;
            let head = String::from_utf8_lossy(&self.head).into_owned();
            self.head.clear();
            let mut lines = head.lines();
            let mut request = lines.next().unwrap_or_default().split(' ');
            let (method, target) = (request.next().unwrap_or("?"), request.next().unwrap_or("?"));
            seen(kind_of(method, target));
            for line in lines {
                let Some((name, value)) = line.split_once(':') else {
                    continue;
                };
                let (name, value) = (name.trim().to_ascii_lowercase(), value.trim());
                if name == "content-length" {
                    self.body_left = value.parse().unwrap_or(0);
                } else if name == "transfer-encoding" && value.contains("chunked") {
                    self.lost = true;
                }
            }
        }
    }
}

/// A TCP proxy to `upstream` that counts the HTTP requests through it and
/// writes the counts to `out` every quarter of a second, until killed. Its
/// address goes to `address_file` once it listens.
pub async fn proxy(upstream: String, address_file: PathBuf, out: PathBuf) -> anyhow::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    std::fs::write(&address_file, listener.local_addr()?.to_string())?;
    let counted = Arc::new(Mutex::new(Counted::default()));
    let writer = counted.clone();
    tokio::spawn(async move {
        let mut last = String::new();
        loop {
            tokio::time::sleep(Duration::from_millis(250)).await;
            let text = {
                let counted = writer.lock().unwrap_or_else(PoisonError::into_inner);
                serde_json::to_string_pretty(&*counted).unwrap_or_default()
            };
            if text != last {
                let partial = out.with_extension("partial");
                if std::fs::write(&partial, &text).is_ok() {
                    let _ = std::fs::rename(&partial, &out);
                }
                last = text;
            }
        }
    });
    loop {
        let (client, _) = listener.accept().await?;
        let upstream = upstream.clone();
        let counted = counted.clone();
        tokio::spawn(async move {
            let Ok(server) = TcpStream::connect(&upstream).await else {
                return;
            };
            let _ = client.set_nodelay(true);
            let _ = server.set_nodelay(true);
            counted.lock().unwrap_or_else(PoisonError::into_inner).connections += 1;
            let (mut client_read, mut client_write) = client.into_split();
            let (mut server_read, mut server_write) = server.into_split();
            let answers = tokio::spawn(async move { tokio::io::copy(&mut server_read, &mut client_write).await });
            let mut requests = Requests::default();
            let mut buffer = vec![0u8; 64 * 1024];
            loop {
                let n = match client_read.read(&mut buffer).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                requests.feed(&buffer[..n], |kind| {
                    *counted
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .requests
                        .entry(kind)
                        .or_default() += 1;
                });
                if server_write.write_all(&buffer[..n]).await.is_err() {
                    break;
                }
            }
            let _ = server_write.shutdown().await;
            let _ = answers.await;
        });
    }
}

/// How long kube-testserver took for each kind of write a trivial client
/// sends it, `concurrency` in flight, with a watch of the namespace open.
#[derive(Debug, Serialize, Deserialize)]
pub struct Floor {
    pub objects: usize,
    pub concurrency: usize,
    /// Step → seconds for all `objects` of it.
    pub seconds: BTreeMap<String, f64>,
    /// Watch events the open watch received meanwhile.
    pub watch_events: u64,
}

/// A status like the one the operator writes for an Observe role that finds no IAM role.
fn status(i: usize, account: &str) -> serde_json::Value {
    let condition = |kind: &str, status: &str| {
        json!({
            "type": kind, "status": status, "reason": "DriftDetected",
            "message": format!("IAM role bench-{i:05} in account {account} does not exist"),
            "lastTransitionTime": "2025-01-01T00:00:00Z", "observedGeneration": 1,
        })
    };
    json!({
        "accountId": account,
        "roleName": format!("bench-{i:05}"),
        "observedGeneration": 1,
        "conditions": [condition("Ready", "False"), condition("Reconciling", "False"), condition("Stalled", "False")],
    })
}

async fn timed<F, Fut>(objects: usize, concurrency: usize, step: F) -> anyhow::Result<f64>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let started = Instant::now();
    futures::stream::iter(0..objects)
        .map(step)
        .buffer_unordered(concurrency)
        .try_collect::<()>()
        .await?;
    Ok(started.elapsed().as_secs_f64())
}

/// Creates `objects` CrossAccountRoles in `namespace`, then adds a finalizer
/// to each (a JSON patch, as the operator does), then writes each one's
/// status twice: by server-side apply (as the operator does) and by a merge
/// patch; each step timed over all objects.
pub async fn floor(accounts: &Accounts, objects: usize, namespace: &str, concurrency: usize) -> anyhow::Result<Floor> {
    let client = kube::Client::try_default()
        .await
        .context("connecting to kube-testserver")?;
    crate::ensure_namespace(&client, namespace).await?;
    let api = Api::<DynamicObject>::namespaced_with(client.clone(), namespace, &roles::resource());
    let events = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counter = events.clone();
    let watch = tokio::spawn(
        watcher(api.clone(), watcher::Config::default())
            .default_backoff()
            .applied_objects()
            .for_each(move |_| {
                counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                futures::future::ready(())
            }),
    );
    let mut seconds = BTreeMap::new();
    let name = |i: usize| format!("bench-{i:05}");
    let api = &api;
    let create = timed(objects, concurrency, |i| async move {
        let object = roles::object(&roles::role(i, accounts), accounts, namespace, true)?;
        api.create(&PostParams::default(), &object).await?;
        Ok(())
    })
    .await
    .context("creating")?;
    seconds.insert("1 create".into(), create);
    let finalizer = timed(objects, concurrency, |i| async move {
        let patch: json_patch::Patch = serde_json::from_value(json!([
            {"op": "test", "path": "/metadata/finalizers", "value": null},
            {"op": "add", "path": "/metadata/finalizers", "value": ["awsaccess.dev/cleanup"]},
        ]))?;
        api.patch(&name(i), &PatchParams::default(), &Patch::<()>::Json(patch))
            .await?;
        Ok(())
    })
    .await
    .context("adding finalizers")?;
    seconds.insert("2 finalizer (JSON patch)".into(), finalizer);
    let apply = timed(objects, concurrency, |i| async move {
        let role = roles::role(i, accounts);
        let patch = json!({
            "apiVersion": "awsaccess.dev/v1alpha1", "kind": "CrossAccountRole",
            "status": status(i, &role.account),
        });
        api.patch_status(
            &name(i),
            &PatchParams::apply("aws-access-operator").force(),
            &Patch::Apply(patch),
        )
        .await?;
        Ok(())
    })
    .await
    .context("applying statuses")?;
    seconds.insert("3 status (server-side apply)".into(), apply);
    let merge = timed(objects, concurrency, |i| async move {
        let role = roles::role(i, accounts);
        let mut status = status(i, &role.account);
        status["roleArn"] = json!(format!("arn:aws:iam::{}:role/{}", role.account, role.name));
        api.patch_status(
            &name(i),
            &PatchParams::default(),
            &Patch::Merge(json!({"status": status})),
        )
        .await?;
        Ok(())
    })
    .await
    .context("merging statuses")?;
    seconds.insert("4 status (merge patch)".into(), merge);
    let list = Instant::now();
    let listed = api.list(&Default::default()).await?.items.len();
    seconds.insert(format!("5 one list of all {listed}"), list.elapsed().as_secs_f64());
    // The last events in flight.
    tokio::time::sleep(Duration::from_millis(500)).await;
    watch.abort();
    Ok(Floor {
        objects,
        concurrency,
        seconds,
        watch_events: events.load(std::sync::atomic::Ordering::Relaxed),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_of_requests() {
        let kind = |m, t| kind_of(m, t);
        assert_eq!(
            kind(
                "PATCH",
                "/apis/awsaccess.dev/v1alpha1/namespaces/b/crossaccountroles/x/status?fieldManager=a&force=true"
            ),
            "PATCH crossaccountroles/status"
        );
        assert_eq!(
            kind(
                "GET",
                "/apis/awsaccess.dev/v1alpha1/crossaccountroles?watch=true&resourceVersion=5"
            ),
            "WATCH crossaccountroles"
        );
        assert_eq!(
            kind("GET", "/apis/awsaccess.dev/v1alpha1/awsaccounts?limit=500"),
            "LIST awsaccounts"
        );
        assert_eq!(
            kind("POST", "/apis/events.k8s.io/v1/namespaces/b/events"),
            "POST events"
        );
        assert_eq!(kind("GET", "/api/v1/namespaces/kube-system"), "GET namespaces");
        assert_eq!(kind("GET", "/version"), "GET /version");
    }

    #[test]
    fn requests_are_counted_across_reads() {
        let mut requests = Requests::default();
        let mut seen = vec![];
        let stream = b"PATCH /api/v1/namespaces/a/pods/p HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloGET /api/v1/pods HTTP/1.1\r\n\r\n";
        for chunk in stream.chunks(7) {
            requests.feed(chunk, |k| seen.push(k));
        }
        assert_eq!(seen, ["PATCH pods", "LIST pods"]);
    }
}
