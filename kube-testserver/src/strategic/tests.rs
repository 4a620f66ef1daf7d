use super::*;
use serde_json::json;

fn config_map() -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "settings",
            "namespace": "default",
            "labels": {"app": "web", "tier": "front"},
            "finalizers": ["a.example.com/one", "b.example.com/two"],
            "ownerReferences": [
                {"apiVersion": "v1", "kind": "Namespace", "name": "x", "uid": "u1"},
                {"apiVersion": "v1", "kind": "Namespace", "name": "y", "uid": "u2"}
            ]
        },
        "data": {"mode": "fast", "size": "3"}
    })
}

#[test]
fn data_changes_and_null_removes_a_key() {
    let patched = strategic_merge(
        &config_map(),
        &json!({"data": {"mode": "slow", "size": null, "new": "1"}}),
    )
    .unwrap();

    assert_eq!(patched["data"], json!({"mode": "slow", "new": "1"}));
    assert_eq!(patched["metadata"]["name"], "settings");
}

#[test]
fn labels_merge_and_finalizers_merge_as_a_set() {
    let patch = json!({"metadata": {
        "labels": {"tier": null, "team": "a"},
        "finalizers": ["c.example.com/three", "a.example.com/one"]
    }});

    let patched = strategic_merge(&config_map(), &patch).unwrap();

    assert_eq!(patched["metadata"]["labels"], json!({"app": "web", "team": "a"}));
    assert_eq!(
        patched["metadata"]["finalizers"],
        json!(["c.example.com/three", "a.example.com/one", "b.example.com/two"])
    );
}

#[test]
fn delete_directives_remove_list_items_and_empty_maps() {
    let patch = json!({
        "metadata": {
            "ownerReferences": [{"$patch": "delete", "uid": "u1"}],
            "$deleteFromPrimitiveList/finalizers": ["a.example.com/one"],
            "labels": {"$patch": "delete"}
        }
    });

    let patched = strategic_merge(&config_map(), &patch).unwrap();

    assert_eq!(
        patched["metadata"]["ownerReferences"],
        json!([{"apiVersion": "v1", "kind": "Namespace", "name": "y", "uid": "u2"}])
    );
    assert_eq!(patched["metadata"]["finalizers"], json!(["b.example.com/two"]));
    assert_eq!(patched["metadata"]["labels"], json!({}));
}

#[test]
fn owner_references_merge_by_uid() {
    let patch = json!({"metadata": {"ownerReferences": [
        {"uid": "u2", "name": "renamed"},
        {"apiVersion": "v1", "kind": "Namespace", "name": "z", "uid": "u3"}
    ]}});

    let patched = strategic_merge(&config_map(), &patch).unwrap();

    let names: Vec<&Value> = patched["metadata"]["ownerReferences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|reference| &reference["name"])
        .collect();
    assert_eq!(names, vec!["x", "renamed", "z"]);
}

#[test]
fn replace_directives_take_the_patch_as_is() {
    let patch = json!({
        "data": {"$patch": "replace", "only": "this"},
        "metadata": {"ownerReferences": [{"$patch": "replace"}, {"uid": "u9", "name": "solo"}]}
    });

    let patched = strategic_merge(&config_map(), &patch).unwrap();

    assert_eq!(patched["data"], json!({"only": "this"}));
    assert_eq!(
        patched["metadata"]["ownerReferences"],
        json!([{"uid": "u9", "name": "solo"}])
    );
}

#[test]
fn set_element_order_orders_the_merged_list() {
    let patch = json!({"metadata": {
        "$setElementOrder/finalizers": ["b.example.com/two", "c.example.com/three", "a.example.com/one"],
        "finalizers": ["c.example.com/three"]
    }});

    let patched = strategic_merge(&config_map(), &patch).unwrap();

    assert_eq!(
        patched["metadata"]["finalizers"],
        json!(["b.example.com/two", "c.example.com/three", "a.example.com/one"])
    );
}

#[test]
fn set_element_order_places_server_only_items_as_go_does_after_deletions() {
    let mut original = config_map();
    original["metadata"]["ownerReferences"] =
        json!([{"uid": "u1"}, {"uid": "u2", "name": "b"}, {"uid": "u4", "name": "c"}]);
    let patch = json!({"metadata": {
        "$setElementOrder/ownerReferences": [{"uid": "u2"}, {"uid": "u3"}],
        "ownerReferences": [{"uid": "u3"}, {"$patch": "delete", "uid": "u1"}]
    }});

    let patched = strategic_merge(&original, &patch).unwrap();

    assert_eq!(
        patched["metadata"]["ownerReferences"],
        json!([{"uid": "u2", "name": "b"}, {"uid": "u4", "name": "c"}, {"uid": "u3"}])
    );
}

#[test]
fn retain_keys_clears_the_unlisted_keys_and_rejects_others_in_the_patch() {
    let patched = strategic_merge(
        &config_map(),
        &json!({"data": {"$retainKeys": ["mode"], "mode": "slow"}}),
    )
    .unwrap();
    assert_eq!(patched["data"], json!({"mode": "slow"}));

    let error = strategic_merge(&config_map(), &json!({"data": {"$retainKeys": ["mode"], "size": "4"}})).unwrap_err();
    assert_eq!(error, "invalid patch format of retainKeys");
}

#[test]
fn directive_errors_carry_the_apiserver_message() {
    let error = strategic_merge(&config_map(), &json!({"data": {"$patch": "merge"}})).unwrap_err();
    assert_eq!(error, "unknown patch type: merge in map: map[$patch:merge]");

    let error = strategic_merge(&config_map(), &json!([])).unwrap_err();
    assert_eq!(
        error,
        "json: cannot unmarshal array into Go value of type map[string]interface {}"
    );
}

#[test]
fn unknown_lists_are_replaced_and_nulls_in_new_values_dropped() {
    let lease = json!({
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": "leader"},
        "spec": {"holderIdentity": "a", "items": [1, 2]}
    });

    let patched = strategic_merge(&lease, &json!({"spec": {"items": [3], "extra": {"x": null, "y": 1}}})).unwrap();

    assert_eq!(
        patched["spec"],
        json!({"holderIdentity": "a", "items": [3], "extra": {"y": 1}})
    );
}

#[test]
fn namespace_conditions_merge_by_type_but_crd_conditions_are_replaced() {
    let status = json!({"conditions": [
        {"type": "NamespaceDeletionDiscoveryFailure", "status": "False"},
        {"type": "NamespaceContentRemaining", "status": "False"}
    ]});
    let patch = json!({"status": {"conditions": [{"type": "NamespaceContentRemaining", "status": "True"}]}});
    let namespace = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}, "status": status});
    let crd = json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "roles.awsaccess.dev"},
        "status": status
    });

    let namespace = strategic_merge(&namespace, &patch).unwrap();
    let crd = strategic_merge(&crd, &patch).unwrap();

    assert_eq!(
        namespace["status"]["conditions"],
        json!([
            {"type": "NamespaceDeletionDiscoveryFailure", "status": "False"},
            {"type": "NamespaceContentRemaining", "status": "True"}
        ])
    );
    assert_eq!(crd["status"]["conditions"], patch["status"]["conditions"]);
}

#[test]
fn the_patch_kubectl_apply_sends_for_a_changed_config_map() {
    let previous = r#"{"apiVersion":"v1","data":{"mode":"fast","size":"3"},"kind":"ConfigMap","metadata":{"annotations":{},"name":"settings","namespace":"default"}}"#;
    let next = r#"{"apiVersion":"v1","data":{"mode":"slow"},"kind":"ConfigMap","metadata":{"annotations":{},"name":"settings","namespace":"default"}}"#;
    let live = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "settings",
            "namespace": "default",
            "uid": "7c1",
            "resourceVersion": "12",
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": format!("{previous}\n")}
        },
        "data": {"mode": "fast", "size": "3"}
    });
    let patch: Value = serde_json::from_str(&format!(
        r#"{{"data":{{"mode":"slow","size":null}},"metadata":{{"annotations":{{"kubectl.kubernetes.io/last-applied-configuration":{}}}}}}}"#,
        Value::String(format!("{next}\n"))
    ))
    .unwrap();

    let patched = strategic_merge(&live, &patch).unwrap();

    assert_eq!(patched["data"], json!({"mode": "slow"}));
    assert_eq!(
        patched["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"],
        format!("{next}\n")
    );
    assert_eq!(patched["metadata"]["uid"], "7c1");
}
