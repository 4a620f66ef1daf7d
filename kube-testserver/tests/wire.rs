//! The server's answers byte for byte where clients depend on their shape: metadata-only
//! objects, aggregated discovery, the 404 of an unserved resource, the order of fields.

// Tests say what they expect by unwrapping it, helpers included (clippy.toml
// allows it only in test functions): a panic is a failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use axum::http::{HeaderMap, Method, Request, StatusCode};
use futures::{StreamExt, TryStreamExt};
use http_body_util::BodyExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ListParams, PostParams, WatchParams};
use kube::client::Body;
use kube::core::PartialObjectMeta;
use kube::core::WatchEvent;
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, ResourceExt};
use kube_testserver::TestServer;
use serde_json::{Value, json};

const METADATA: &str = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1";
const METADATA_LIST: &str = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1";

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

/// One request as the client library sends it, with the answer as it came.
async fn raw(client: &Client, method: Method, path: &str, accept: &str, body: Option<Value>) -> Answer {
    let mut request = Request::builder().method(method).uri(path).header("accept", accept);
    if body.is_some() {
        request = request.header("content-type", "application/json");
    }
    let body = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
    let response = client
        .send(request.body(Body::from(body)).expect("request"))
        .await
        .expect("answered");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    Answer {
        status,
        headers,
        body: String::from_utf8(bytes.to_vec()).expect("utf-8"),
    }
}

async fn server_with_config_map() -> (TestServer, Client) {
    let server = TestServer::start().await.expect("server");
    let client = server.client().expect("client");
    let config_map: ConfigMap = serde_json::from_value(json!({
        "metadata": {"name": "settings", "labels": {"app": "web"}},
        "data": {"mode": "fast"},
    }))
    .expect("config map");
    Api::<ConfigMap>::namespaced(client.clone(), "default")
        .create(&PostParams::default(), &config_map)
        .await
        .expect("created");
    (server, client)
}

#[tokio::test]
async fn metadata_only_answers_for_get_list_and_watch() {
    let (_server, client) = server_with_config_map().await;
    let path = "/api/v1/namespaces/default/configmaps";

    let got = raw(&client, Method::GET, &format!("{path}/settings"), METADATA, None).await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.body);
    assert_eq!(got.headers["content-type"], "application/json");
    let object = got.json();
    assert_eq!(object["apiVersion"], "meta.k8s.io/v1");
    assert_eq!(object["kind"], "PartialObjectMetadata");
    assert_eq!(object["metadata"]["name"], "settings");
    assert_eq!(object["metadata"]["labels"]["app"], "web");
    assert_eq!(object.as_object().expect("object").len(), 3, "{object}");

    let listed = raw(&client, Method::GET, path, METADATA_LIST, None).await.json();
    assert_eq!(listed["apiVersion"], "meta.k8s.io/v1");
    assert_eq!(listed["kind"], "PartialObjectMetadataList");
    assert!(listed["metadata"]["resourceVersion"].is_string(), "{listed}");
    let item = &listed["items"][0];
    assert_eq!(item["kind"], "PartialObjectMetadata", "{listed}");
    assert_eq!(item["apiVersion"], "meta.k8s.io/v1");
    assert_eq!(item.get("data"), None, "{listed}");

    // The other one of the two kinds is refused as the apiserver refuses it.
    let refused = raw(&client, Method::GET, path, METADATA, None).await;
    assert_eq!(refused.status, StatusCode::NOT_ACCEPTABLE);
    assert_eq!(refused.json()["reason"], "NotAcceptable");
    assert_eq!(
        refused.json()["message"],
        "you requested PartialObjectMetadata, but the requested object is a list (*core.ConfigMapList)"
    );

    let watched = raw(
        &client,
        Method::GET,
        &format!("{path}?watch=true&timeoutSeconds=1"),
        METADATA,
        None,
    )
    .await;
    let event: Value = serde_json::from_str(watched.body.lines().next().expect("one event")).expect("event");
    assert_eq!(event["type"], "ADDED");
    assert_eq!(
        event["object"],
        json!({"apiVersion": "meta.k8s.io/v1", "kind": "PartialObjectMetadata", "metadata": object["metadata"]})
    );
}

#[tokio::test]
async fn kube_rs_metadata_api_and_watcher() {
    let (_server, client) = server_with_config_map().await;
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let meta = config_maps.get_metadata("settings").await.expect("get_metadata");
    assert_eq!(meta.types.expect("types").kind, "PartialObjectMetadata");
    let list = config_maps
        .list_metadata(&ListParams::default())
        .await
        .expect("list_metadata");
    assert_eq!(list.items[0].name_any(), "settings");
    let mut stream = config_maps
        .watch_metadata(&WatchParams::default().timeout(1), "0")
        .await
        .expect("watch_metadata")
        .boxed();
    match stream.try_next().await.expect("event") {
        Some(WatchEvent::Added(meta)) => assert_eq!(meta.name_any(), "settings"),
        other => panic!("expected ADDED, got {other:?}"),
    }
    let first = tokio::time::timeout(
        Duration::from_secs(5),
        watcher(
            Api::<PartialObjectMeta<ConfigMap>>::namespaced(client, "default"),
            watcher::Config::default(),
        )
        .applied_objects()
        .boxed()
        .try_next(),
    )
    .await
    .expect("in time")
    .expect("watcher")
    .expect("an object");
    assert_eq!(first.name_any(), "settings");
}

const KUBECTL_DISCOVERY: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";

#[tokio::test]
async fn aggregated_discovery_by_accept_with_the_old_documents_as_fallback() {
    let (server, kubectl) = support::server_with_widgets().await;
    let client = server.client().expect("client");

    let apis = raw(&client, Method::GET, "/apis", KUBECTL_DISCOVERY, None).await;
    assert_eq!(
        apis.headers["content-type"],
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    );
    let apis = apis.json();
    assert_eq!(apis["kind"], "APIGroupDiscoveryList");
    assert_eq!(apis["apiVersion"], "apidiscovery.k8s.io/v2");
    let example = apis["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|group| group["metadata"]["name"] == "example.com")
        .expect("the CRD's group");
    let widgets = &example["versions"][0]["resources"][0];
    assert_eq!(example["versions"][0]["version"], "v1");
    assert_eq!(example["versions"][0]["freshness"], "Current");
    assert_eq!(widgets["resource"], "widgets");
    assert_eq!(
        widgets["responseKind"],
        json!({"group": "example.com", "version": "v1", "kind": "Widget"})
    );
    assert_eq!(widgets["scope"], "Namespaced");
    assert_eq!(widgets["singularResource"], "widget");
    assert_eq!(widgets["subresources"][0]["subresource"], "status");

    let core = raw(&client, Method::GET, "/api", KUBECTL_DISCOVERY, None).await.json();
    assert_eq!(core["items"][0]["metadata"], json!({"creationTimestamp": null}));
    let resources = &core["items"][0]["versions"][0]["resources"];
    assert!(
        resources
            .as_array()
            .expect("resources")
            .iter()
            .any(|r| r["resource"] == "configmaps"),
        "{core}"
    );

    let beta = raw(
        &client,
        Method::GET,
        "/apis",
        "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json",
        None,
    )
    .await;
    assert_eq!(
        beta.headers["content-type"],
        "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"
    );
    assert_eq!(beta.json()["apiVersion"], "apidiscovery.k8s.io/v2beta1");
    let legacy = raw(&client, Method::GET, "/apis", "application/json", None).await;
    assert_eq!(legacy.headers["content-type"], "application/json");
    assert_eq!(legacy.json()["kind"], "APIGroupList");
    assert_eq!(
        raw(&client, Method::GET, "/api", "", None).await.json()["kind"],
        "APIVersions"
    );

    let discovery = kube::Discovery::new(client)
        .run_aggregated()
        .await
        .expect("kube-rs discovery");
    let (resource, capabilities) = discovery
        .groups()
        .flat_map(|group| group.recommended_resources())
        .find(|(resource, _)| resource.kind == "Widget")
        .expect("Widget discovered");
    assert_eq!(resource.plural, "widgets");
    assert_eq!(capabilities.scope, kube::discovery::Scope::Namespaced);
    // kube-rs names a subresource of aggregated discovery by its own name.
    assert!(capabilities.subresources.iter().any(|(sub, _)| sub.plural == "status"));

    let listed = kubectl
        .run(&["api-resources", "--api-group=example.com"])
        .await
        .ok()
        .stdout;
    assert!(listed.contains("widgets") && listed.contains("Widget"), "{listed}");
}

#[tokio::test]
async fn unserved_resources_get_the_apiservers_404() {
    let server = TestServer::start().await.expect("server");
    let client = server.client().expect("client");
    let expected = json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": "the server could not find the requested resource", "reason": "NotFound",
        "details": {}, "code": 404,
    });
    for path in [
        "/api/v1/namespaces/default/widgets",
        "/api/v1/widgets",
        "/apis/example.com/v1/namespaces/default/widgets",
        "/apis/example.com/v1",
        "/api/v1/namespaces/default/configmaps/settings/status",
    ] {
        let answer = raw(&client, Method::GET, path, "application/json", None).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(answer.json(), expected, "{path}");
    }
    let kubectl = support::Kubectl::new(&server);
    let refused = kubectl
        .run(&["get", "--raw", "/api/v1/namespaces/default/widgets"])
        .await
        .failed();
    assert!(
        refused
            .stderr
            .contains("Error from server (NotFound): the server could not find the requested resource"),
        "{}",
        refused.stderr
    );
}

#[tokio::test]
async fn objects_lead_with_kind_api_version_and_metadata() {
    let (_server, client) = server_with_config_map().await;
    let path = "/api/v1/namespaces/default/configmaps";
    let object_start = r#"{"kind":"ConfigMap","apiVersion":"v1","metadata":{"#;

    let got = raw(
        &client,
        Method::GET,
        &format!("{path}/settings"),
        "application/json",
        None,
    )
    .await;
    assert!(got.body.starts_with(object_start), "{}", got.body);

    let listed = raw(&client, Method::GET, path, "application/json", None).await.body;
    assert!(
        listed.starts_with(r#"{"kind":"ConfigMapList","apiVersion":"v1","metadata":{"#),
        "{listed}"
    );
    assert!(listed.contains(&format!(r#""items":[{object_start}"#)), "{listed}");

    let watched = raw(
        &client,
        Method::GET,
        &format!("{path}?watch=true&timeoutSeconds=1"),
        "application/json",
        None,
    )
    .await
    .body;
    assert!(
        watched.starts_with(&format!(r#"{{"type":"ADDED","object":{object_start}"#)),
        "{watched}"
    );

    let created = raw(
        &client,
        Method::POST,
        path,
        "application/json",
        Some(json!({"data": {"b": "2"}, "metadata": {"name": "more"}, "kind": "ConfigMap", "apiVersion": "v1"})),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert!(created.body.starts_with(object_start), "{}", created.body);

    let missing = raw(
        &client,
        Method::GET,
        &format!("{path}/absent"),
        "application/json",
        None,
    )
    .await;
    assert!(
        missing
            .body
            .starts_with(r#"{"kind":"Status","apiVersion":"v1","metadata":{}"#),
        "{}",
        missing.body
    );
}
