//! The kinds a cluster serves without a kubelet (Pods, Services, Nodes, workloads, RBAC,
//! CertificateSigningRequests, APIServices, ComponentStatuses, ServiceAccount tokens) and the
//! `/scale` subresource, through kube-rs and the real kubectl, as kube-rs's own cluster tests
//! use them.

// Tests say what they expect by unwrapping it, helpers included (clippy.toml
// allows it only in test functions): a panic is a failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec, TokenReview, TokenReviewSpec};
use k8s_openapi::api::certificates::v1::CertificateSigningRequest;
use k8s_openapi::api::core::v1::{ComponentStatus, Node, Pod, Service, ServiceAccount};
use k8s_openapi::api::rbac::v1::ClusterRole;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use kube_testserver::TestServer;
use serde_json::json;

use support::Kubectl;

async fn server() -> (TestServer, kube::Client) {
    let server = TestServer::start().await.expect("server");
    let client = server.client().expect("client");
    (server, client)
}

#[tokio::test]
async fn a_new_cluster_holds_what_the_apiserver_bootstraps() {
    let (_server, client) = server().await;
    let kubernetes = Api::<Service>::namespaced(client.clone(), "default")
        .get("kubernetes")
        .await
        .expect("kubernetes service");
    let spec = kubernetes.spec.expect("spec");
    assert_eq!(spec.cluster_ip.as_deref(), Some("10.96.0.1"));
    assert_eq!(spec.ports.expect("ports")[0].port, 443);

    let admin = Api::<ClusterRole>::all(client.clone())
        .get("cluster-admin")
        .await
        .expect("cluster-admin");
    assert_eq!(admin.rules.expect("rules")[0].verbs, ["*"]);

    let scheduler = Api::<ComponentStatus>::all(client.clone())
        .get("scheduler")
        .await
        .expect("scheduler");
    assert_eq!(scheduler.conditions.expect("conditions")[0].status, "True");
    let refused = Api::<ComponentStatus>::all(client.clone())
        .delete("scheduler", &DeleteParams::default())
        .await
        .expect_err("component statuses are read-only");
    assert!(
        matches!(refused, kube::Error::Api(ref e) if e.code == 405),
        "{refused:?}"
    );

    let apps = kube::discovery::group(&client, "apiregistration.k8s.io")
        .await
        .expect("group");
    let (services, _) = apps.recommended_kind("APIService").expect("APIService");
    let listed = Api::<DynamicObject>::all_with(client, &services)
        .list(&ListParams::default())
        .await
        .expect("list");
    let names: Vec<String> = listed.items.iter().filter_map(|s| s.metadata.name.clone()).collect();
    assert!(names.contains(&"v1.apps".to_string()), "{names:?}");
}

#[tokio::test]
async fn service_account_tokens_are_reviewed_by_the_server_that_issued_them() {
    let (server, client) = server().await;
    let accounts: Api<ServiceAccount> = Api::namespaced(client.clone(), "default");
    let account = serde_json::from_value(json!({"metadata": {"name": "robot"}})).expect("account");
    accounts.create(&PostParams::default(), &account).await.expect("create");
    let request = TokenRequest {
        spec: TokenRequestSpec {
            audiences: vec!["api".into()],
            ..Default::default()
        },
        ..Default::default()
    };
    let issued = accounts
        .create_token_request("robot", &PostParams::default(), &request)
        .await
        .expect("token");
    let token = issued.status.expect("status").token;
    assert_eq!(token.split('.').count(), 3, "a JWT's shape: {token}");

    let review = |client: kube::Client, token: String, audience: &str| {
        let audiences = vec![audience.to_string()];
        async move {
            let review = TokenReview {
                spec: TokenReviewSpec {
                    audiences: Some(audiences),
                    token: Some(token),
                },
                ..Default::default()
            };
            Api::<TokenReview>::all(client)
                .create(&PostParams::default(), &review)
                .await
                .expect("review")
                .status
                .expect("status")
        }
    };
    let accepted = review(client.clone(), token.clone(), "api").await;
    assert_eq!(accepted.authenticated, Some(true));
    let user = accepted.user.expect("user");
    assert_eq!(user.username.as_deref(), Some("system:serviceaccount:default:robot"));

    let other_audience = review(client.clone(), token.clone(), "vault").await;
    assert_eq!(other_audience.authenticated, None, "{other_audience:?}");
    assert!(other_audience.error.is_some());

    // Another server never issued it.
    let (_other, other_client) = self::server().await;
    let foreign = review(other_client, token.clone(), "api").await;
    assert_eq!(foreign.authenticated, None);

    accounts
        .delete("robot", &DeleteParams::default())
        .await
        .expect("delete");
    let orphaned = review(client, token, "api").await;
    assert_eq!(orphaned.authenticated, None, "the account is gone");
    drop(server);
}

#[tokio::test]
async fn certificate_signing_requests_are_approved_through_approval() {
    let (_server, client) = server().await;
    let csrs: Api<CertificateSigningRequest> = Api::all(client);
    let csr = serde_json::from_value(json!({
        "metadata": {"name": "fake"},
        "spec": {"request": "AAAA", "signerName": "kubernetes.io/kube-apiserver-client", "usages": ["client auth"]},
    }))
    .expect("csr");
    csrs.create(&PostParams::default(), &csr).await.expect("create");
    let approval = json!({"status": {"conditions": [{"type": "Approved", "status": "True", "reason": "Test"}]}});
    csrs.patch_approval("fake", &PatchParams::default(), &Patch::Merge(approval))
        .await
        .expect("approve");
    let approved = csrs.get_approval("fake").await.expect("get");
    assert_eq!(
        approved.status.expect("status").conditions.expect("conditions")[0].type_,
        "Approved"
    );
    assert_eq!(
        approved.spec.signer_name, "kubernetes.io/kube-apiserver-client",
        "spec kept"
    );
}

#[tokio::test]
async fn nodes_are_selected_by_unschedulable_and_cordoned() {
    let (_server, client) = server().await;
    let nodes: Api<Node> = Api::all(client);
    let node = serde_json::from_value(json!({"metadata": {"name": "worker"}})).expect("node");
    nodes.create(&PostParams::default(), &node).await.expect("create");
    let schedulable = ListParams::default().fields("spec.unschedulable==false");
    assert_eq!(nodes.list(&schedulable).await.expect("list").items.len(), 1);
    nodes.cordon("worker").await.expect("cordon");
    assert_eq!(nodes.list(&schedulable).await.expect("list").items.len(), 0);
    let by_name = ListParams::default().fields("metadata.name=worker");
    assert_eq!(nodes.list(&by_name).await.expect("list").items.len(), 1);
}

#[tokio::test]
async fn scale_reads_and_writes_the_replicas_a_crd_maps() {
    let (_server, client) = server().await;
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let crd = serde_json::from_value(json!({
        "metadata": {"name": "foos.clux.dev"},
        "spec": {
            "group": "clux.dev", "scope": "Namespaced",
            "names": {"kind": "Foo", "plural": "foos"},
            "versions": [{
                "name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}},
                "subresources": {"status": {}, "scale": {
                    "specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.replicas",
                    "labelSelectorPath": ".status.selector",
                }},
            }],
        },
    }))
    .expect("crd");
    crds.create(&PostParams::default(), &crd).await.expect("crd");
    let resource = ApiResource::from_gvk(&GroupVersionKind::gvk("clux.dev", "v1", "Foo"));
    let foos: Api<DynamicObject> = Api::default_namespaced_with(client, &resource);
    let foo = serde_json::from_value(json!({
        "apiVersion": "clux.dev/v1", "kind": "Foo", "metadata": {"name": "baz"}, "spec": {"replicas": 2},
    }))
    .expect("foo");
    foos.create(&PostParams::default(), &foo).await.expect("foo");
    foos.patch_status(
        "baz",
        &PatchParams::default(),
        &Patch::Merge(json!({"status": {"replicas": 1, "selector": "app=foo"}})),
    )
    .await
    .expect("status");

    let scale = foos.get_scale("baz").await.expect("scale");
    assert_eq!(scale.spec.expect("spec").replicas, Some(2));
    assert_eq!(
        scale.status.as_ref().expect("status").selector.as_deref(),
        Some("app=foo")
    );
    let patched = foos
        .patch_scale(
            "baz",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 3}})),
        )
        .await
        .expect("patch scale");
    assert_eq!(patched.spec.expect("spec").replicas, Some(3));
    assert_eq!(patched.status.expect("status").replicas, 1);
    let stored = foos.get("baz").await.expect("foo");
    assert_eq!(stored.data["spec"]["replicas"], 3);

    let mut stale = foos.get_scale("baz").await.expect("scale");
    stale.metadata.resource_version = Some("1".into());
    let refused = foos
        .replace_scale("baz", &PostParams::default(), &stale)
        .await
        .expect_err("stale");
    assert!(
        matches!(refused, kube::Error::Api(ref e) if e.code == 409),
        "{refused:?}"
    );
}

#[tokio::test]
async fn pods_take_ephemeral_containers_and_deployments_scale() {
    let (_server, client) = server().await;
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    let pod = serde_json::from_value(json!({
        "metadata": {"name": "p"},
        "spec": {"restartPolicy": "Never", "containers": [{"name": "main", "image": "busybox"}]},
    }))
    .expect("pod");
    pods.create(&PostParams::default(), &pod).await.expect("pod");
    let debug = |name: &str| json!({"spec": {"ephemeralContainers": [{"name": name, "image": "busybox"}]}});
    let strategic = |name| Patch::Strategic(debug(name));
    pods.patch_ephemeral_containers("p", &PatchParams::default(), &strategic("one"))
        .await
        .expect("one");
    let both = pods
        .patch_ephemeral_containers("p", &PatchParams::default(), &strategic("two"))
        .await
        .expect("two");
    let names: Vec<String> = both
        .spec
        .expect("spec")
        .ephemeral_containers
        .expect("ephemeral")
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, ["one", "two"], "merged by name");
    let removal = pods
        .patch_ephemeral_containers("p", &PatchParams::default(), &Patch::Merge(debug("three")))
        .await
        .expect_err("ephemeral containers are never removed");
    assert!(
        matches!(removal, kube::Error::Api(ref e) if e.code == 422),
        "{removal:?}"
    );

    let deployments: Api<Deployment> = Api::default_namespaced(client);
    let deployment = serde_json::from_value(json!({
        "metadata": {"name": "web"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": "nginx"}]}}},
    }))
    .expect("deployment");
    deployments
        .create(&PostParams::default(), &deployment)
        .await
        .expect("deployment");
    deployments
        .patch_scale(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 4}})),
        )
        .await
        .expect("scale");
    let scaled = deployments.get("web").await.expect("get");
    assert_eq!(scaled.spec.expect("spec").replicas, Some(4));
}

#[tokio::test]
async fn kubectl_prints_the_cluster_kinds() {
    let server = TestServer::start().await.expect("server");
    let kubectl = Kubectl::new(&server);
    let services = kubectl.run(&["get", "services"]).await.ok().stdout;
    let header: Vec<&str> = services.lines().next().unwrap_or_default().split_whitespace().collect();
    assert_eq!(
        header,
        ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"],
        "{services}"
    );
    assert!(
        services.contains("10.96.0.1") && services.contains("443/TCP"),
        "{services}"
    );

    kubectl
        .run_with_input(
            &["apply", "-f", "-"],
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: busybox\nspec:\n  containers:\n  - name: busybox\n    image: busybox\n",
        )
        .await
        .ok();
    let pods = kubectl.run(&["get", "pods"]).await.ok().stdout;
    assert!(pods.starts_with("NAME") && pods.contains("busybox   0/1"), "{pods}");

    let statuses = kubectl.run(&["get", "componentstatuses"]).await.ok();
    assert!(
        statuses.stdout.contains("scheduler") && statuses.stdout.contains("Healthy"),
        "{}",
        statuses.stdout
    );
    let roles = kubectl
        .run(&["get", "clusterrolebinding", "cluster-admin", "-o", "wide"])
        .await
        .ok()
        .stdout;
    assert!(
        roles.contains("ClusterRole/cluster-admin") && roles.contains("system:masters"),
        "{roles}"
    );
    let explained = kubectl.run(&["explain", "clusterrole.rules"]).await.ok().stdout;
    assert!(explained.contains("verbs"), "{explained}");
    let resources = kubectl
        .run(&["api-resources", "--api-group=authentication.k8s.io", "-o", "wide"])
        .await
        .ok()
        .stdout;
    let reviews = resources
        .lines()
        .find(|l| l.starts_with("tokenreviews"))
        .unwrap_or_default();
    assert!(reviews.split_whitespace().any(|verb| verb == "create"), "{resources}");
    assert!(!reviews.contains("list"), "only created: {resources}");
}
