use serde_json::json;

use super::{merge_patch_at, pointer_of, scale_of};
use crate::registry::builtins;

#[test]
fn scale_paths_read_and_write_the_replicas() {
    assert_eq!(pointer_of(".spec.replicas"), "/spec/replicas");
    assert_eq!(
        merge_patch_at(".spec.size.count", json!(3)),
        json!({"spec": {"size": {"count": 3}}})
    );
    let deployments = builtins()
        .into_iter()
        .find(|d| d.plural == "deployments")
        .expect("deployments");
    let deployment = json!({
        "metadata": {"name": "web", "namespace": "default", "resourceVersion": "7", "labels": {"a": "b"}},
        "spec": {"replicas": 3},
    });
    let scale = scale_of(&deployments, &deployment);
    assert_eq!(
        scale,
        json!({
            "kind": "Scale", "apiVersion": "autoscaling/v1",
            "metadata": {"name": "web", "namespace": "default", "resourceVersion": "7"},
            "spec": {"replicas": 3},
            "status": {"replicas": 0},
        })
    );
}
