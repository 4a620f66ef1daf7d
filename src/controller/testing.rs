//! What the in-process tests of the controllers share.

use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::Client;
use kube::api::{Api, PostParams};
use kube_testserver::TestServer;
use serde_json::json;

use crate::api::crds;

/// An API server in process with the operator's CRDs and `namespaces`,
/// and a client of it; the server stops when dropped.
pub async fn cluster(namespaces: &[&str]) -> (TestServer, Client) {
    let kube = TestServer::start().await.expect("kube-testserver starts");
    let client = kube.client().expect("client");
    let definitions: Api<CustomResourceDefinition> = Api::all(client.clone());
    for crd in crds() {
        definitions.create(&PostParams::default(), &crd).await.expect("CRD");
    }
    for name in namespaces {
        let namespace: Namespace = serde_json::from_value(json!({"metadata": {"name": name}})).expect("namespace");
        Api::<Namespace>::all(client.clone())
            .create(&PostParams::default(), &namespace)
            .await
            .expect("namespace");
    }
    (kube, client)
}
