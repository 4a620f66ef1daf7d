//! Validating admission webhooks as the real API server calls them: a tiny HTTPS webhook in the
//! test, registered with a ValidatingWebhookConfiguration, judged through the real kubectl and
//! kube-rs.

mod support;

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

#[tokio::test]
async fn allowed_writes_are_stored_after_a_complete_review() {
    let certificates = pki(&["127.0.0.1"]);
    let webhook = Webhook::start(certificates.tls.clone(), |_, _| {
        Answer::Allow(vec!["widgets are watched"])
    })
    .await;
    let (server, client, widgets) = started().await;
    register(
        &client,
        "widgets",
        vec![hook(
            "widgets.example.com",
            url_config(webhook.url("/validate"), &certificates.ca_bundle),
            widget_rules(&["CREATE", "UPDATE"]),
        )],
    )
    .await;

    let created = widgets
        .create(&PostParams::default(), &widget("alpha", 3, json!({"team": "a"})))
        .await
        .expect("allowed");
    let mut reviews = webhook.take();
    assert_eq!(reviews.len(), 1, "one webhook, one call");
    let (path, review) = reviews.remove(0);
    assert_eq!(path, "/validate?timeout=10s");
    assert_eq!(review["apiVersion"], "admission.k8s.io/v1");
    assert_eq!(review["kind"], "AdmissionReview");
    let request = &review["request"];
    assert!(request["uid"].as_str().is_some_and(|uid| !uid.is_empty()));
    assert_eq!(
        request["kind"],
        json!({"group": "example.com", "version": "v1", "kind": "Widget"})
    );
    assert_eq!(
        request["resource"],
        json!({"group": "example.com", "version": "v1", "resource": "widgets"})
    );
    assert_eq!(request["requestKind"], request["kind"]);
    assert_eq!(request["requestResource"], request["resource"]);
    assert!(request.get("subResource").is_none());
    assert_eq!(request["name"], "alpha");
    assert_eq!(request["namespace"], "default");
    assert_eq!(request["operation"], "CREATE");
    assert_eq!(
        request["userInfo"],
        json!({"username": "system:admin", "groups": ["system:masters", "system:authenticated"]})
    );
    assert_eq!(request["object"]["spec"]["size"], 3);
    assert_eq!(
        request["object"]["metadata"]["uid"].as_str(),
        created.metadata.uid.as_deref(),
        "the webhook sees the object as it is stored"
    );
    assert_eq!(request["oldObject"], Value::Null);
    assert_eq!(request["dryRun"], false);
    assert_eq!(request["options"]["kind"], "CreateOptions");
    assert_eq!(request["options"]["apiVersion"], "meta.k8s.io/v1");

    // An update through kubectl, impersonating: the warning is printed, the review has both objects.
    let kubectl = Kubectl::new(&server);
    let update = json_input(json!({
        "apiVersion": "example.com/v1", "kind": "Widget",
        "metadata": {"name": "alpha", "labels": {"team": "a"}},
        "spec": {"size": 4, "color": "green"}
    }));
    let applied = kubectl
        .run_with_input(&["apply", "-f", "-", "--as", "jane", "--as-group", "devs"], &update)
        .await
        .ok();
    assert!(
        applied.stderr.contains("Warning: widgets are watched"),
        "{}",
        applied.stderr
    );
    assert_eq!(applied.stdout.trim(), "widget.example.com/alpha configured");
    let (_, review) = webhook.take().pop().expect("update reviewed");
    let request = &review["request"];
    assert_eq!(request["operation"], "UPDATE");
    assert_eq!(request["oldObject"]["spec"]["size"], 3);
    assert_eq!(request["object"]["spec"]["size"], 4);
    assert_eq!(
        request["userInfo"],
        json!({"username": "jane", "groups": ["devs", "system:authenticated"]})
    );
    assert_eq!(request["options"]["kind"], "UpdateOptions");
    assert_eq!(request["options"]["fieldManager"], "kubectl-client-side-apply");
    let stored = widgets.get("alpha").await.expect("stored");
    assert_eq!(stored.data["spec"]["size"], 4);
}

#[tokio::test]
async fn denials_reach_kubectl_and_kube_rs_as_a_real_server_words_them() {
    let certificates = pki(&["127.0.0.1"]);
    let webhook = Webhook::start(certificates.tls.clone(), |path, review| {
        let size = review["request"]["object"]["spec"]["size"].as_i64().unwrap_or(0);
        match path.split('?').next() {
            Some("/forbid") if size > 5 => Answer::Deny(
                json!({"code": 403, "reason": "Forbidden", "message": format!("size {size} is more than this namespace allows")}),
                vec!["sizes are checked"],
            ),
            Some("/plain") if size == 1 => Answer::Deny(json!({"message": "size 1 is too small"}), vec![]),
            _ => Answer::Allow(vec![]),
        }
    })
    .await;
    let (server, client, widgets) = started().await;
    register(
        &client,
        "sizes",
        vec![
            hook(
                "forbid.sizes.example.com",
                url_config(webhook.url("/forbid"), &certificates.ca_bundle),
                widget_rules(&["CREATE"]),
            ),
            hook(
                "plain.sizes.example.com",
                url_config(webhook.url("/plain"), &certificates.ca_bundle),
                widget_rules(&["CREATE"]),
            ),
        ],
    )
    .await;

    let kubectl = Kubectl::new(&server);
    let big = json_input(json!({
        "apiVersion": "example.com/v1", "kind": "Widget",
        "metadata": {"name": "big"}, "spec": {"size": 7, "color": "red"}
    }));
    let refused = kubectl.run_with_input(&["apply", "-f", "-"], &big).await.failed();
    assert_eq!(
        refused.stderr,
        "Warning: sizes are checked\nError from server (Forbidden): error when creating \"STDIN\": admission webhook \"forbid.sizes.example.com\" denied the request: size 7 is more than this namespace allows\n"
    );

    let status = refusal(
        widgets
            .create(&PostParams::default(), &widget("bigger", 8, json!({})))
            .await,
    );
    assert_eq!(status.code, 403);
    assert_eq!(status.reason, "Forbidden");
    assert_eq!(
        status.message,
        "admission webhook \"forbid.sizes.example.com\" denied the request: size 8 is more than this namespace allows"
    );

    // A refusal without a code is a 400 without a reason.
    let small = json_input(json!({
        "apiVersion": "example.com/v1", "kind": "Widget",
        "metadata": {"name": "small"}, "spec": {"size": 1, "color": "red"}
    }));
    let refused = kubectl.run_with_input(&["apply", "-f", "-"], &small).await.failed();
    assert_eq!(
        refused.stderr,
        "Error from server: error when creating \"STDIN\": admission webhook \"plain.sizes.example.com\" denied the request: size 1 is too small\n"
    );
    let status = refusal(
        widgets
            .create(&PostParams::default(), &widget("tiny", 1, json!({})))
            .await,
    );
    assert_eq!((status.code, status.reason.as_str()), (400, ""));

    assert!(
        widgets.get_opt("big").await.expect("get").is_none(),
        "nothing refused is stored"
    );
    widgets
        .create(&PostParams::default(), &widget("fine", 3, json!({})))
        .await
        .expect("allowed by both");
}

#[tokio::test]
async fn rules_and_selectors_choose_the_webhooks_called() {
    let certificates = pki(&["127.0.0.1"]);
    let webhook = Webhook::start(certificates.tls.clone(), |_, _| Answer::Allow(vec![])).await;
    let (_server, client, widgets) = started().await;
    let config = |path: &str| url_config(webhook.url(path), &certificates.ca_bundle);
    let everything = |scope: &str| json!([{"apiGroups": ["*"], "apiVersions": ["*"], "operations": ["*"], "resources": ["*"], "scope": scope}]);
    let mut team_a = hook("team.example.com", config("/team-a"), widget_rules(&["*"]));
    team_a["namespaceSelector"] = json!({"matchLabels": {"team": "a"}});
    let mut big = hook("big.example.com", config("/big"), widget_rules(&["*"]));
    big["matchConditions"] = json!([
        {"name": "not-deleting", "expression": "request.operation != 'DELETE'"},
        {"name": "big", "expression": "object.spec.size > 5"},
    ]);
    let mut labelled = hook("labelled.example.com", config("/labelled"), everything("Namespaced"));
    labelled["objectSelector"] = json!({"matchExpressions": [{"key": "reviewed", "operator": "Exists"}]});
    register(
        &client,
        "choices",
        vec![
            hook("create.example.com", config("/create-only"), widget_rules(&["CREATE"])),
            team_a,
            big,
            labelled,
            hook(
                "status.example.com",
                config("/status"),
                json!([{"apiGroups": ["example.com"], "apiVersions": ["v1"], "operations": ["UPDATE"], "resources": ["widgets/status"]}]),
            ),
            hook(
                "other.example.com",
                config("/other-group"),
                json!([{"apiGroups": ["other.example.com"], "apiVersions": ["*"], "operations": ["*"], "resources": ["*"]}]),
            ),
            hook("cluster.example.com", config("/cluster"), everything("Cluster")),
        ],
    )
    .await;

    let namespace: Namespace =
        serde_json::from_value(json!({"metadata": {"name": "team-a", "labels": {"team": "a"}}})).expect("namespace");
    Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &namespace)
        .await
        .expect("namespace");
    assert_eq!(webhook.paths(), ["/cluster"], "a Namespace is cluster-scoped");

    widgets
        .create(&PostParams::default(), &widget("plain", 1, json!({})))
        .await
        .expect("create");
    assert_eq!(webhook.paths(), ["/create-only"]);

    widgets
        .create(&PostParams::default(), &widget("large", 6, json!({})))
        .await
        .expect("create");
    assert_eq!(webhook.paths(), ["/big", "/create-only"], "match conditions hold");
    widgets.delete("large", &DeleteParams::default()).await.expect("delete");
    assert!(webhook.paths().is_empty(), "a false condition skips the webhook");

    let team_widgets: Api<DynamicObject> = Api::namespaced_with(client.clone(), "team-a", &widget_resource());
    team_widgets
        .create(&PostParams::default(), &widget("teamed", 1, json!({})))
        .await
        .expect("create in team-a");
    assert_eq!(
        webhook.paths(),
        ["/create-only", "/team-a"],
        "the namespace's labels select"
    );

    let merge = |value: Value| Patch::Merge(value);
    team_widgets
        .patch("teamed", &PatchParams::default(), &merge(json!({"spec": {"size": 2}})))
        .await
        .expect("update in team-a");
    assert_eq!(webhook.paths(), ["/team-a"], "an update is not a create");

    widgets
        .patch(
            "plain",
            &PatchParams::default(),
            &merge(json!({"metadata": {"labels": {"reviewed": "yes"}}})),
        )
        .await
        .expect("label");
    assert_eq!(webhook.paths(), ["/labelled"], "the new object's labels select");

    widgets
        .patch_status(
            "plain",
            &PatchParams::default(),
            &merge(json!({"status": {"conditions": []}})),
        )
        .await
        .expect("status");
    let status_reviews = webhook.take();
    let paths: Vec<&str> = status_reviews.iter().map(|(path, _)| path.as_str()).collect();
    assert_eq!(
        paths,
        ["/status?timeout=10s"],
        "`*` is no subresource, `widgets/status` is"
    );
    assert_eq!(status_reviews[0].1["request"]["subResource"], "status");

    let config_map: ConfigMap =
        serde_json::from_value(json!({"metadata": {"name": "settings", "labels": {"reviewed": "yes"}}}))
            .expect("configmap");
    Api::<ConfigMap>::namespaced(client.clone(), "default")
        .create(&PostParams::default(), &config_map)
        .await
        .expect("configmap");
    assert_eq!(webhook.paths(), ["/labelled"], "wildcards match core kinds too");

    widgets.delete("plain", &DeleteParams::default()).await.expect("delete");
    assert_eq!(
        webhook.paths(),
        ["/labelled"],
        "a delete is selected by the old object's labels"
    );
}

#[tokio::test]
async fn an_unreachable_webhook_refuses_with_fail_and_is_passed_over_with_ignore() {
    let certificates = pki(&["127.0.0.1"]);
    let closed = TcpListener::bind("127.0.0.1:0").await.expect("port");
    let port = closed.local_addr().expect("address").port();
    drop(closed);
    let (server, client, widgets) = started().await;
    let url = format!("https://127.0.0.1:{port}/validate");
    let mut ignored = hook(
        "ignored.example.com",
        url_config(url.clone(), &certificates.ca_bundle),
        widget_rules(&["CREATE"]),
    );
    ignored["failurePolicy"] = json!("Ignore");
    ignored["objectSelector"] = json!({"matchLabels": {"policy": "ignore"}});
    let mut failing = hook(
        "failing.example.com",
        url_config(url, &certificates.ca_bundle),
        widget_rules(&["CREATE"]),
    );
    failing["objectSelector"] = json!({"matchLabels": {"policy": "fail"}});
    register(&client, "down", vec![ignored, failing]).await;

    widgets
        .create(
            &PostParams::default(),
            &widget("ignored", 1, json!({"policy": "ignore"})),
        )
        .await
        .expect("Ignore lets the request through");

    let kubectl = Kubectl::new(&server);
    let manifest = json_input(json!({
        "apiVersion": "example.com/v1", "kind": "Widget",
        "metadata": {"name": "failed", "labels": {"policy": "fail"}}, "spec": {"size": 1, "color": "red"}
    }));
    let refused = kubectl.run_with_input(&["apply", "-f", "-"], &manifest).await.failed();
    assert_eq!(
        refused.stderr,
        format!(
            "Error from server (InternalError): error when creating \"STDIN\": Internal error occurred: failed calling webhook \"failing.example.com\": failed to call webhook: Post \"https://127.0.0.1:{port}/validate?timeout=10s\": dial tcp 127.0.0.1:{port}: connect: connection refused\n"
        )
    );
    let status = refusal(
        widgets
            .create(&PostParams::default(), &widget("failed", 1, json!({"policy": "fail"})))
            .await,
    );
    assert_eq!((status.code, status.reason.as_str()), (500, "InternalError"));
}

#[tokio::test]
async fn a_webhook_that_does_not_answer_in_time_is_a_failed_call() {
    let certificates = pki(&["127.0.0.1"]);
    let webhook = Webhook::start(certificates.tls.clone(), |_, _| Answer::Hang).await;
    let (_server, client, widgets) = started().await;
    let mut hooks = vec![];
    for (name, policy) in [("slow-fail.example.com", "Fail"), ("slow-ignore.example.com", "Ignore")] {
        let mut slow = hook(
            name,
            url_config(webhook.url("/slow"), &certificates.ca_bundle),
            widget_rules(&["CREATE"]),
        );
        slow["timeoutSeconds"] = json!(1);
        slow["failurePolicy"] = json!(policy);
        slow["objectSelector"] = json!({"matchLabels": {"policy": policy}});
        hooks.push(slow);
    }
    register(&client, "slow", hooks).await;

    let post = PostParams::default();
    let (failing, ignoring) = (
        widget("failed", 1, json!({"policy": "Fail"})),
        widget("ignored", 1, json!({"policy": "Ignore"})),
    );
    let started_at = Instant::now();
    let (failed, ignored) = tokio::join!(widgets.create(&post, &failing), widgets.create(&post, &ignoring));
    let elapsed = started_at.elapsed();
    let status = refusal(failed);
    assert_eq!(
        status.message,
        format!(
            "Internal error occurred: failed calling webhook \"slow-fail.example.com\": failed to call webhook: Post \"https://127.0.0.1:{}/slow?timeout=1s\": context deadline exceeded",
            webhook.port
        )
    );
    ignored.expect("Ignore lets a slow webhook's request through");
    assert!(
        elapsed >= Duration::from_secs(1) && elapsed < Duration::from_secs(5),
        "{elapsed:?}"
    );
}

#[tokio::test]
async fn the_ca_bundle_decides_which_certificate_is_trusted() {
    let certificates = pki(&["webhook.system.svc", "127.0.0.1"]);
    let stranger = named_pki("stranger-ca", &["127.0.0.1"]);
    let webhook = Webhook::start(certificates.tls.clone(), |_, _| Answer::Allow(vec![])).await;
    let (_server, client, widgets) = started().await;
    let not_pem = base64::engine::general_purpose::STANDARD.encode("not a certificate");
    let cases = [
        ("trusted", url_config(webhook.url("/v"), &certificates.ca_bundle)),
        ("stranger", url_config(webhook.url("/v"), &stranger.ca_bundle)),
        ("absent", json!({"url": webhook.url("/v")})),
        ("garbage", url_config(webhook.url("/v"), &not_pem)),
        (
            "hostname",
            url_config(format!("https://localhost:{}/v", webhook.port), &certificates.ca_bundle),
        ),
    ];
    let hooks = cases
        .iter()
        .map(|(case, config)| {
            let mut one = hook(
                &format!("{case}.ca.example.com"),
                config.clone(),
                widget_rules(&["CREATE"]),
            );
            one["objectSelector"] = json!({"matchLabels": {"case": case}});
            one
        })
        .collect();
    register(&client, "cas", hooks).await;

    let create = |case: &'static str| {
        let widgets = widgets.clone();
        async move {
            widgets
                .create(&PostParams::default(), &widget(case, 1, json!({"case": case})))
                .await
        }
    };
    create("trusted").await.expect("the bundle signed the certificate");
    let url = webhook.url("/v?timeout=10s");
    let unknown = "tls: failed to verify certificate: x509: certificate signed by unknown authority";
    for case in ["stranger", "absent"] {
        assert_eq!(
            refusal(create(case).await).message,
            format!(
                "Internal error occurred: failed calling webhook \"{case}.ca.example.com\": failed to call webhook: Post \"{url}\": {unknown}"
            )
        );
    }
    assert_eq!(
        refusal(create("garbage").await).message,
        "Internal error occurred: failed calling webhook \"garbage.ca.example.com\": could not get REST client: unable to load root certificates: unable to parse bytes as PEM block"
    );
    assert_eq!(
        refusal(create("hostname").await).message,
        format!(
            "Internal error occurred: failed calling webhook \"hostname.ca.example.com\": failed to call webhook: Post \"https://localhost:{}/v?timeout=10s\": tls: failed to verify certificate: x509: certificate is valid for webhook.system.svc, not localhost",
            webhook.port
        )
    );

    // A caBundle that is not base64 does not decode.
    let body = json!({
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": "undecodable"},
        "webhooks": [hook(
            "bad.example.com",
            json!({"url": webhook.url("/v"), "caBundle": "ab$d"}),
            widget_rules(&["CREATE"]),
        )],
    });
    let raw = client
        .request::<Value>(
            axum::http::Request::post("/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations")
                .header("content-type", "application/json")
                .body(body.to_string().into_bytes())
                .expect("request"),
        )
        .await;
    let status = refusal(raw);
    assert_eq!(status.code, 400);
    assert_eq!(
        status.message,
        "ValidatingWebhookConfiguration in version \"v1\" cannot be handled as a ValidatingWebhookConfiguration: illegal base64 data at input byte 2"
    );
}

#[tokio::test]
async fn service_references_reach_the_mapped_address_and_check_the_service_name() {
    // The certificate names only the service: connecting to 127.0.0.1 still checks that name.
    let certificates = pki(&["webhook.system.svc"]);
    let webhook = Webhook::start(certificates.tls.clone(), |_, _| Answer::Allow(vec![])).await;
    let server = TestServer::builder()
        .service_endpoint("system", "webhook", 443, &format!("https://127.0.0.1:{}", webhook.port))
        .start()
        .await
        .expect("server");
    let (server, client, widgets) = server_with_widgets(server).await;
    let service = |name: &str, port: Option<u16>| {
        let mut service = json!({"namespace": "system", "name": name, "path": "/validate"});
        if let Some(port) = port {
            service["port"] = json!(port);
        }
        json!({"service": service, "caBundle": certificates.ca_bundle})
    };
    let mut mapped = hook(
        "mapped.example.com",
        service("webhook", None),
        widget_rules(&["CREATE"]),
    );
    mapped["objectSelector"] = json!({"matchLabels": {"service": "mapped"}});
    let mut unmapped = hook(
        "unmapped.example.com",
        service("missing", None),
        widget_rules(&["CREATE"]),
    );
    unmapped["objectSelector"] = json!({"matchLabels": {"service": "missing"}});
    let mut later = hook(
        "later.example.com",
        service("webhook", Some(8443)),
        widget_rules(&["CREATE"]),
    );
    later["objectSelector"] = json!({"matchLabels": {"service": "later"}});
    register(&client, "services", vec![mapped, unmapped, later]).await;

    let stored = Api::<ValidatingWebhookConfiguration>::all(client.clone())
        .get("services")
        .await
        .expect("stored");
    let port = stored
        .webhooks
        .as_ref()
        .and_then(|w| w[0].client_config.service.as_ref()?.port);
    assert_eq!(port, Some(443), "the port is defaulted");

    widgets
        .create(
            &PostParams::default(),
            &widget("mapped", 1, json!({"service": "mapped"})),
        )
        .await
        .expect("the mapped service answers");
    assert_eq!(webhook.take()[0].0, "/validate?timeout=10s");

    assert_eq!(
        refusal(
            widgets
                .create(
                    &PostParams::default(),
                    &widget("missing", 1, json!({"service": "missing"}))
                )
                .await
        )
        .message,
        "Internal error occurred: failed calling webhook \"unmapped.example.com\": failed to call webhook: Post \"https://missing.system.svc:443/validate?timeout=10s\": dial tcp: lookup missing.system.svc: no such host"
    );

    // A webhook started after the server is mapped on the running server.
    server.service_endpoint("system", "webhook", 8443, &format!("127.0.0.1:{}", webhook.port));
    widgets
        .create(&PostParams::default(), &widget("later", 1, json!({"service": "later"})))
        .await
        .expect("mapped at run time");
}

#[tokio::test]
async fn deletes_are_reviewed_with_the_old_object() {
    let certificates = pki(&["127.0.0.1"]);
    let webhook = Webhook::start(certificates.tls.clone(), |_, review| {
        let protected = review["request"]["oldObject"]["metadata"]["labels"]["protected"] == "true";
        if protected {
            Answer::Deny(
                json!({"code": 403, "reason": "Forbidden", "message": "protected widgets stay"}),
                vec![],
            )
        } else {
            Answer::Allow(vec![])
        }
    })
    .await;
    let (server, client, widgets) = started().await;
    widgets
        .create(
            &PostParams::default(),
            &widget("guarded", 1, json!({"protected": "true"})),
        )
        .await
        .expect("create");
    widgets
        .create(&PostParams::default(), &widget("plain", 1, json!({})))
        .await
        .expect("create");
    register(
        &client,
        "deletes",
        vec![hook(
            "deletes.example.com",
            url_config(webhook.url("/deletes"), &certificates.ca_bundle),
            widget_rules(&["DELETE"]),
        )],
    )
    .await;

    let kubectl = Kubectl::new(&server);
    let refused = kubectl.run(&["delete", "widget", "guarded"]).await.failed();
    assert_eq!(
        refused.stderr,
        "Error from server (Forbidden): admission webhook \"deletes.example.com\" denied the request: protected widgets stay\n"
    );
    let (_, review) = webhook.take().pop().expect("delete reviewed");
    let request = &review["request"];
    assert_eq!(request["operation"], "DELETE");
    assert_eq!(request["name"], "guarded");
    assert_eq!(request["object"], Value::Null);
    assert_eq!(request["oldObject"]["metadata"]["name"], "guarded");
    assert_eq!(request["options"]["kind"], "DeleteOptions");
    assert_eq!(request["options"]["propagationPolicy"], "Background");
    assert!(widgets.get_opt("guarded").await.expect("get").is_some(), "still there");

    widgets
        .delete("plain", &DeleteParams::default())
        .await
        .expect("allowed");
    assert!(widgets.get_opt("plain").await.expect("get").is_none());

    // A collection delete asks about each object and stops at the refusal.
    let refused = refusal(
        widgets
            .delete_collection(&DeleteParams::default(), &Default::default())
            .await,
    );
    assert_eq!(refused.code, 403);
}

#[tokio::test]
async fn a_webhook_may_read_from_the_server_while_it_judges() {
    let certificates = pki(&["127.0.0.1"]);
    let (_server, client, widgets) = started().await;
    let config_maps = Api::<ConfigMap>::namespaced(client.clone(), "default");
    let limits: ConfigMap =
        serde_json::from_value(json!({"metadata": {"name": "limits"}, "data": {"max": "4"}})).expect("limits");
    config_maps
        .create(&PostParams::default(), &limits)
        .await
        .expect("limits");
    let reader = config_maps.clone();
    let webhook = Webhook::start(certificates.tls.clone(), move |_, _| {
        Answer::CheckLimits(Box::new(reader.clone()))
    })
    .await;
    register(
        &client,
        "limits",
        vec![hook(
            "limits.example.com",
            url_config(webhook.url("/limits"), &certificates.ca_bundle),
            widget_rules(&["CREATE", "UPDATE"]),
        )],
    )
    .await;
    widgets
        .create(&PostParams::default(), &widget("small", 4, json!({})))
        .await
        .expect("within the limit");
    let status = refusal(
        widgets
            .create(&PostParams::default(), &widget("large", 5, json!({})))
            .await,
    );
    assert_eq!(
        status.message,
        "admission webhook \"limits.example.com\" denied the request: size 5 is over 4"
    );
}

#[tokio::test]
async fn server_dry_runs_are_reviewed_as_dry_runs() {
    let certificates = pki(&["127.0.0.1"]);
    let webhook = Webhook::start(certificates.tls.clone(), |_, _| Answer::Allow(vec![])).await;
    let (server, client, widgets) = started().await;
    register(
        &client,
        "dry",
        vec![hook(
            "dry.example.com",
            url_config(webhook.url("/dry"), &certificates.ca_bundle),
            widget_rules(&["CREATE"]),
        )],
    )
    .await;
    let manifest = json_input(json!({
        "apiVersion": "example.com/v1", "kind": "Widget",
        "metadata": {"name": "trial"}, "spec": {"size": 1, "color": "red"}
    }));
    Kubectl::new(&server)
        .run_with_input(&["apply", "--dry-run=server", "-f", "-"], &manifest)
        .await
        .ok();
    let (_, review) = webhook.take().pop().expect("reviewed");
    assert_eq!(review["request"]["dryRun"], true);
    assert_eq!(review["request"]["options"]["dryRun"], json!(["All"]));
    assert!(
        widgets.get_opt("trial").await.expect("get").is_none(),
        "a dry run stores nothing"
    );
}

#[tokio::test]
async fn webhook_configurations_are_served_as_the_real_server_serves_them() {
    let server = TestServer::start().await.expect("server");
    let kubectl = Kubectl::new(&server);
    let manifest = |name: &str, timeout: Option<u64>| {
        let mut webhook = json!({
            "name": "validate.awsaccess.dev",
            "clientConfig": {"service": {"namespace": "aws-access-operator-system", "name": "aws-access-operator-webhook", "path": "/validate"}},
            "rules": [{"apiGroups": ["awsaccess.dev"], "apiVersions": ["v1alpha1"], "operations": ["CREATE", "UPDATE"], "resources": ["crossaccountroles"]}],
            "sideEffects": "None",
            "admissionReviewVersions": ["v1"],
        });
        if let Some(timeout) = timeout {
            webhook["timeoutSeconds"] = json!(timeout);
        }
        json!({
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingWebhookConfiguration",
            "metadata": {"name": name, "annotations": {"cert-manager.io/inject-ca-from": "aws-access-operator-system/serving-cert"}},
            "webhooks": [webhook],
        })
    };
    let apply = |manifest: Value| {
        let input = json_input(manifest);
        let kubectl = &kubectl;
        async move { kubectl.run_with_input(&["apply", "-f", "-"], &input).await }
    };
    let created = apply(manifest("aws-access-operator", None)).await.ok();
    assert_eq!(
        created.stdout.trim(),
        "validatingwebhookconfiguration.admissionregistration.k8s.io/aws-access-operator created"
    );
    let listed = kubectl
        .run(&["get", "validatingwebhookconfigurations"])
        .await
        .ok()
        .stdout;
    let mut lines = listed.lines();
    let header: Vec<&str> = lines.next().expect("header").split_whitespace().collect();
    assert_eq!(header, ["NAME", "WEBHOOKS", "AGE"]);
    let row: Vec<&str> = lines.next().expect("row").split_whitespace().collect();
    assert_eq!(row[..2], ["aws-access-operator", "1"]);

    let yaml = kubectl
        .run(&[
            "get",
            "validatingwebhookconfiguration",
            "aws-access-operator",
            "-o",
            "json",
        ])
        .await
        .ok()
        .stdout;
    let stored: Value = serde_json::from_str(&yaml).expect("json");
    let webhook = &stored["webhooks"][0];
    assert_eq!(webhook["failurePolicy"], "Fail");
    assert_eq!(webhook["matchPolicy"], "Equivalent");
    assert_eq!(webhook["namespaceSelector"], json!({}));
    assert_eq!(webhook["objectSelector"], json!({}));
    assert_eq!(webhook["timeoutSeconds"], 10);
    assert_eq!(webhook["rules"][0]["scope"], "*");
    assert_eq!(webhook["clientConfig"]["service"]["port"], 443);

    let reapplied = apply(manifest("aws-access-operator", Some(5))).await.ok();
    assert_eq!(
        reapplied.stdout.trim(),
        "validatingwebhookconfiguration.admissionregistration.k8s.io/aws-access-operator configured"
    );
    let timeout = kubectl
        .run(&[
            "get",
            "validatingwebhookconfiguration",
            "aws-access-operator",
            "-o",
            "jsonpath={.webhooks[0].timeoutSeconds} {.webhooks[0].clientConfig.service.name}",
        ])
        .await
        .ok()
        .stdout;
    assert_eq!(timeout, "5 aws-access-operator-webhook");

    let mut invalid = manifest("bad", None);
    invalid["webhooks"][0]
        .as_object_mut()
        .expect("webhook")
        .remove("sideEffects");
    let refused = apply(invalid).await.failed();
    assert!(
        refused.stderr.contains(
            "The ValidatingWebhookConfiguration \"bad\" is invalid: webhooks[0].sideEffects: Required value: must specify one of None, NoneOnDryRun"
        ),
        "{}",
        refused.stderr
    );
    let configurations = Api::<ValidatingWebhookConfiguration>::all(server.client().expect("client"))
        .list(&Default::default())
        .await
        .expect("list");
    let names: Vec<String> = configurations.items.iter().map(|c| c.name_any()).collect();
    assert_eq!(names, ["aws-access-operator"]);
}
