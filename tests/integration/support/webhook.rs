//! The operator's admission webhook as the chart registers it: the chart rendered by the real
//! helm, the operator's webhook server with the chart's certificate where the chart's Service
//! would route, and `kubectl apply` as a given person (`--as`, `--as-group`).

use std::path::{Path, PathBuf};
use std::process::Command;

use aws_access_operator::controller::Config;
use aws_access_operator::webhook;
use base64::Engine;
use serde_json::Value;
use tokio::task::JoinHandle;

use super::operator::Env;

/// The namespace the chart is rendered for.
pub const NAMESPACE: &str = "ops";
/// The webhook's Service in the chart.
pub const SERVICE: &str = "ops-aws-access-operator-webhook";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The chart as `helm template` renders it for release `ops` in namespace `ops`.
pub fn chart() -> Vec<Value> {
    let helm = std::env::var_os("HELM_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(".tools/bin/helm"));
    let out = Command::new(&helm)
        .args([
            "template",
            "ops",
            "charts/aws-access-operator",
            "--namespace",
            NAMESPACE,
        ])
        .current_dir(root())
        .output()
        .unwrap_or_else(|err| panic!("running {} ({err}): run scripts/setup.sh", helm.display()));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    serde_yaml_ng::Deserializer::from_str(&text)
        .map(|doc| serde::Deserialize::deserialize(doc).expect("YAML"))
        .filter(|doc: &Value| !doc.is_null())
        .collect()
}

pub fn one<'a>(docs: &'a [Value], kind: &str) -> &'a Value {
    let found: Vec<&Value> = docs.iter().filter(|d| d["kind"] == kind).collect();
    assert_eq!(found.len(), 1, "one {kind} in the chart");
    found[0]
}

/// The chart's serving certificate and key, written where the operator reads them.
fn certificate_dir(secret: &Value) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for file in ["tls.crt", "tls.key"] {
        let encoded = secret["data"][file].as_str().expect("base64 PEM");
        let pem = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .expect("base64");
        std::fs::write(dir.path().join(file), pem).expect("write");
    }
    dir
}

/// The operator's webhook server, with the chart's certificate, where the chart's Service
/// routes; the chart's documents are returned for the test to register what it needs.
pub async fn serve(env: &Env, config: Config) -> (JoinHandle<()>, Vec<Value>) {
    let docs = chart();
    let certificates = certificate_dir(one(&docs, "Secret"));
    let tls = webhook::tls_from(certificates.path()).expect("the chart's certificate and key");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let port = listener.local_addr().expect("address").port();
    let server = tokio::spawn(webhook::serve(
        listener,
        tls,
        env.client.clone(),
        env.aws.clone(),
        config,
    ));
    env.kube
        .service_endpoint(NAMESPACE, SERVICE, 443, &format!("https://127.0.0.1:{port}"));
    (server, docs)
}

/// `kubectl apply -f` of `object`; its exit status and what it printed.
pub async fn kubectl_apply(env: &Env, object: &Value) -> (bool, String) {
    kubectl_apply_as(env, object, None, &[]).await
}

/// `kubectl apply -f` of `object` as Kubernetes user `user` in `groups` (impersonated, as
/// `--as` and `--as-group` do), or as the admin without a user.
pub async fn kubectl_apply_as(env: &Env, object: &Value, user: Option<&str>, groups: &[&str]) -> (bool, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("object.json");
    std::fs::write(&file, object.to_string()).expect("write");
    let kubeconfig = env.kube.kubeconfig_path().to_owned();
    let mut args = vec!["apply".to_string(), "-f".into(), file.to_str().expect("path").into()];
    args.extend(user.map(|user| format!("--as={user}")));
    args.extend(groups.iter().map(|group| format!("--as-group={group}")));
    let output = tokio::task::spawn_blocking(move || {
        Command::new("kubectl")
            .args(&args)
            .env("KUBECONFIG", kubeconfig)
            .env("KUBECACHEDIR", dir.path())
            .env("HOME", dir.path())
            .output()
            .expect("kubectl on PATH")
    })
    .await
    .expect("kubectl");
    let said = String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
    (output.status.success(), said)
}
