//! Validating admission webhooks as the real API server calls them: a tiny HTTPS webhook in the
//! test, registered with a ValidatingWebhookConfiguration, judged through the real kubectl and
//! kube-rs.
//!
//! The webhook, its certificates and the helpers are here; the tests are in `calls` (reviews,
//! denials, rules and selectors, failures and timeouts), `trust` (CA bundles, service
//! references, deletes, dry runs, the configuration kind) and `mutating` (patches, and the
//! impersonated user every verb carries).

// Tests say what they expect by unwrapping it, helpers included (clippy.toml
// allows it only in test functions): a panic is a failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../support/mod.rs"]
mod support;

mod calls;
mod mutating;
mod trust;

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use base64::Engine;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use k8s_openapi::api::admissionregistration::v1::ValidatingWebhookConfiguration;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, Patch, PatchParams, PostParams};
use kube::{Client, ResourceExt};
use kube_testserver::TestServer;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::{Value, json};
use support::Kubectl;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// A CA and a serving certificate it signed, for the names a webhook answers to.
struct Pki {
    /// The CA certificate, base64 of its PEM, as `clientConfig.caBundle` carries it.
    ca_bundle: String,
    tls: Arc<rustls::ServerConfig>,
}

fn pki(names: &[&str]) -> Pki {
    named_pki("webhook-ca", names)
}

fn named_pki(ca_name: &str, names: &[&str]) -> Pki {
    let ca_key = KeyPair::generate().expect("CA key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(DnType::CommonName, ca_name);
    let ca_cert = ca_params.self_signed(&ca_key).expect("CA certificate");
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().expect("serving key");
    let mut params =
        CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).expect("serving params");
    params.distinguished_name.push(DnType::CommonName, "webhook");
    let cert = params.signed_by(&key, &issuer).expect("serving certificate");
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocols")
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(cert.der().to_vec())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )
        .expect("server config");
    Pki {
        ca_bundle: base64::engine::general_purpose::STANDARD.encode(ca_cert.pem()),
        tls: Arc::new(tls),
    }
}

/// What the test webhook answers a review with.
enum Answer {
    Allow(Vec<&'static str>),
    Deny(Value, Vec<&'static str>),
    /// Never answers: the caller's timeout decides.
    Hang,
    /// Allows the request with this JSON patch (a mutating webhook).
    Patch(Value),
    /// Reads the `limits` ConfigMap from the API server first, as a webhook checking a policy
    /// stored in the cluster does, and allows sizes up to its `max`.
    CheckLimits(Box<Api<ConfigMap>>),
}

type Decide = Arc<dyn Fn(&str, &Value) -> Answer + Send + Sync>;

/// A webhook served over HTTPS on a free loopback port, keeping every review it was sent.
struct Webhook {
    port: u16,
    seen: Arc<Mutex<Vec<(String, Value)>>>,
    task: JoinHandle<()>,
}

impl Drop for Webhook {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Webhook {
    /// Listening (so ready) when it returns.
    async fn start(
        tls: Arc<rustls::ServerConfig>,
        decide: impl Fn(&str, &Value) -> Answer + Send + Sync + 'static,
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("webhook port");
        let port = listener.local_addr().expect("address").port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let decide: Decide = Arc::new(decide);
        let acceptor = tokio_rustls::TlsAcceptor::from(tls);
        let recorded = seen.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else { return };
                let (acceptor, decide, recorded) = (acceptor.clone(), decide.clone(), recorded.clone());
                tokio::spawn(async move {
                    // A client that refuses the certificate ends the handshake: nothing to serve.
                    let Ok(tls) = acceptor.accept(tcp).await else { return };
                    let service = service_fn(move |request| answer(request, decide.clone(), recorded.clone()));
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(tls), service).await;
                });
            }
        });
        Webhook { port, seen, task }
    }

    /// The reviews received so far, with the path and query they were posted to; forgets them.
    fn take(&self) -> Vec<(String, Value)> {
        std::mem::take(&mut *self.seen.lock().expect("reviews"))
    }

    /// The paths called so far, sorted, without the query; forgets them.
    fn paths(&self) -> Vec<String> {
        let mut paths: Vec<String> = self
            .take()
            .into_iter()
            .map(|(path, _)| path.split('?').next().unwrap_or_default().to_string())
            .collect();
        paths.sort();
        paths
    }

    fn url(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{path}", self.port)
    }
}

async fn answer(
    request: hyper::Request<Incoming>,
    decide: Decide,
    seen: Arc<Mutex<Vec<(String, Value)>>>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let path = request.uri().to_string();
    let body = request
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let review: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    seen.lock().expect("reviews").push((path.clone(), review.clone()));
    let uid = review["request"]["uid"].clone();
    let response = match decide(&path, &review) {
        Answer::Allow(warnings) => json!({"uid": uid, "allowed": true, "warnings": warnings}),
        Answer::Deny(status, warnings) => json!({"uid": uid, "allowed": false, "status": status, "warnings": warnings}),
        Answer::Hang => futures::future::pending().await,
        Answer::Patch(patch) => {
            let patch = base64::engine::general_purpose::STANDARD.encode(patch.to_string());
            json!({"uid": uid, "allowed": true, "patchType": "JSONPatch", "patch": patch})
        }
        Answer::CheckLimits(config_maps) => {
            let limits = config_maps
                .get("limits")
                .await
                .expect("the server answers while it waits");
            let max: i64 = limits.data.unwrap_or_default()["max"].parse().expect("max");
            let size = review["request"]["object"]["spec"]["size"].as_i64().unwrap_or(0);
            let allowed = size <= max;
            json!({"uid": uid, "allowed": allowed, "status": {"message": format!("size {size} is over {max}")}})
        }
    };
    let body = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": response});
    Ok(hyper::Response::builder()
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("response"))
}

fn widget_resource() -> ApiResource {
    ApiResource {
        group: "example.com".into(),
        version: "v1".into(),
        api_version: "example.com/v1".into(),
        kind: "Widget".into(),
        plural: "widgets".into(),
    }
}

/// A server with the Widget CRD, a client for it and the widgets of `default`.
async fn server_with_widgets(server: TestServer) -> (TestServer, Client, Api<DynamicObject>) {
    let client = server.client().expect("client");
    let crd: CustomResourceDefinition =
        serde_yaml_ng::from_str(&std::fs::read_to_string(support::fixture("widget-crd.yaml")).expect("fixture"))
            .expect("crd yaml");
    Api::<CustomResourceDefinition>::all(client.clone())
        .create(&PostParams::default(), &crd)
        .await
        .expect("crd created");
    let widgets = Api::namespaced_with(client.clone(), "default", &widget_resource());
    (server, client, widgets)
}

async fn started() -> (TestServer, Client, Api<DynamicObject>) {
    server_with_widgets(TestServer::start().await.expect("server")).await
}

fn widget(name: &str, size: i64, labels: Value) -> DynamicObject {
    serde_json::from_value(json!({
        "apiVersion": "example.com/v1", "kind": "Widget",
        "metadata": {"name": name, "labels": labels},
        "spec": {"size": size, "color": "green"}
    }))
    .expect("widget")
}

/// One webhook of a configuration: `clientConfig` and rules given, the rest as charts write it.
fn hook(name: &str, client_config: Value, rules: Value) -> Value {
    json!({
        "name": name,
        "clientConfig": client_config,
        "rules": rules,
        "sideEffects": "None",
        "admissionReviewVersions": ["v1"],
    })
}

fn url_config(url: String, ca_bundle: &str) -> Value {
    json!({"url": url, "caBundle": ca_bundle})
}

fn widget_rules(operations: &[&str]) -> Value {
    json!([{"apiGroups": ["example.com"], "apiVersions": ["v1"], "operations": operations, "resources": ["widgets"]}])
}

/// Registers a ValidatingWebhookConfiguration through kube-rs's typed API.
async fn register(client: &Client, name: &str, webhooks: Vec<Value>) {
    let configuration: ValidatingWebhookConfiguration = serde_json::from_value(json!({
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": name},
        "webhooks": webhooks,
    }))
    .expect("configuration");
    Api::<ValidatingWebhookConfiguration>::all(client.clone())
        .create(&PostParams::default(), &configuration)
        .await
        .expect("configuration registered");
}

/// The API status of a refused kube-rs call.
fn refusal<T: std::fmt::Debug>(result: Result<T, kube::Error>) -> kube::core::Status {
    match result {
        Err(kube::Error::Api(status)) => *status,
        other => panic!("expected an API error, got {other:?}"),
    }
}

fn json_input(value: Value) -> String {
    serde_json::to_string(&value).expect("json")
}
