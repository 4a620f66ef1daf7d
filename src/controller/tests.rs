//! The shared watches against an in-process API server (kube-testserver).

use futures::StreamExt;
use kube::ResourceExt;
use kube::api::{Api, DeleteParams, PostParams};
use serde_json::json;

use super::KindWatch;
use super::testing::cluster;
use crate::api::CrossAccountRole;

const PATIENCE: std::time::Duration = std::time::Duration::from_secs(10);

/// An object without a finalizer goes at once, with no deletion timestamp
/// shown first: its dependents still hear of it, after it left the cache.
#[tokio::test]
async fn a_deletion_reaches_the_subscribers_after_the_cache() {
    let (_kube, client) = cluster(&["team"]).await;
    let watch = KindWatch::<CrossAccountRole>::new();
    let cache = watch.cache.clone();
    let mut changes = Box::pin(watch.subscribe());
    tokio::spawn(watch.run(client.clone()));

    let roles: Api<CrossAccountRole> = Api::namespaced(client, "team");
    let role: CrossAccountRole = serde_json::from_value(json!({
        "apiVersion": "awsaccess.dev/v1alpha1",
        "kind": "CrossAccountRole",
        "metadata": {"name": "app", "namespace": "team"},
        "spec": {"account": {"id": "222222222222"}, "roleName": "App", "trust": {"accounts": [{"id": "111111111111"}]}},
    }))
    .expect("role");
    roles.create(&PostParams::default(), &role).await.expect("create");
    let created = tokio::time::timeout(PATIENCE, changes.next())
        .await
        .expect("the creation");
    assert_eq!(created.map(|r| r.name_any()).as_deref(), Some("app"));

    roles.delete("app", &DeleteParams::default()).await.expect("delete");
    let deleted = tokio::time::timeout(PATIENCE, changes.next())
        .await
        .expect("the deletion")
        .expect("an object");
    assert_eq!(deleted.name_any(), "app");
    assert!(deleted.finalizers().is_empty());
    assert!(cache.state().is_empty(), "the cache lets go first");
}
