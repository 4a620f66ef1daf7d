use super::*;

const NOW: &str = "2025-01-01T00:00:00Z";
const LATER: &str = "2025-01-01T00:05:00Z";
const API_VERSION: &str = "awsaccess.dev/v1alpha1";

fn schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "spec": {
                "type": "object",
                "properties": {
                    "roleName": {"type": "string"},
                    "path": {"type": "string"},
                    "policies": {"type": "array", "items": {"type": "string"}},
                    "accounts": {
                        "type": "array",
                        "x-kubernetes-list-type": "set",
                        "items": {"type": "string"}
                    },
                    "tags": {"type": "object", "additionalProperties": {"type": "string"}}
                }
            },
            "status": {
                "type": "object",
                "properties": {
                    "phase": {"type": "string"},
                    "conditions": {
                        "type": "array",
                        "x-kubernetes-list-type": "map",
                        "x-kubernetes-list-map-keys": ["type"],
                        "items": {
                            "type": "object",
                            "properties": {
                                "type": {"type": "string"},
                                "status": {"type": "string"},
                                "reason": {"type": "string"}
                            }
                        }
                    }
                }
            }
        }
    })
}

fn role(spec: Value) -> Value {
    json!({
        "apiVersion": API_VERSION,
        "kind": "CrossAccountRole",
        "metadata": {"name": "deploy", "namespace": "team-a"},
        "spec": spec
    })
}

fn stored(object: Value) -> Value {
    let mut object = object;
    object["metadata"]["uid"] = json!("0b5e8a1c");
    object["metadata"]["resourceVersion"] = json!("7");
    object
}

fn apply_role(live: Option<&Value>, config: &Value, manager: &str, force: bool) -> Result<Value, Vec<Conflict>> {
    let schema = schema();
    apply(live, config, manager, force, Some(&schema), None, true, NOW).map(stored)
}

fn entries(object: &Value) -> Vec<Value> {
    object["metadata"]["managedFields"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn entry_of(object: &Value, manager: &str) -> Value {
    entries(object)
        .into_iter()
        .find(|entry| entry["manager"] == manager)
        .unwrap_or_else(|| panic!("no entry for {manager} in {object}"))
}

#[test]
fn apply_creates_the_object_and_owns_exactly_the_configured_fields() {
    let mut config = role(json!({"roleName": "deployer", "policies": ["a", "b"]}));
    config["metadata"]["labels"] = json!({"team": "a"});

    let created = apply_role(None, &config, "kubectl", false).unwrap();

    assert_eq!(created["spec"], json!({"roleName": "deployer", "policies": ["a", "b"]}));
    assert_eq!(created["metadata"]["labels"], json!({"team": "a"}));
    assert_eq!(
        entries(&created),
        vec![json!({
            "manager": "kubectl",
            "operation": "Apply",
            "apiVersion": API_VERSION,
            "time": NOW,
            "fieldsType": "FieldsV1",
            "fieldsV1": {
                "f:metadata": {"f:labels": {"f:team": {}}},
                "f:spec": {"f:policies": {}, "f:roleName": {}}
            }
        })]
    );
}

#[test]
fn reapplying_the_same_configuration_changes_nothing_not_even_the_time() {
    let config = role(json!({"roleName": "deployer"}));
    let created = apply_role(None, &config, "kubectl", false).unwrap();
    let schema = schema();

    let again = apply(
        Some(&created),
        &config,
        "kubectl",
        false,
        Some(&schema),
        None,
        true,
        LATER,
    )
    .unwrap();

    assert_eq!(again, created);
}

#[test]
fn a_field_dropped_from_the_configuration_is_removed() {
    let created = apply_role(
        None,
        &role(json!({"roleName": "deployer", "path": "/ci/"})),
        "kubectl",
        false,
    )
    .unwrap();

    let updated = apply_role(Some(&created), &role(json!({"roleName": "deployer"})), "kubectl", false).unwrap();

    assert_eq!(updated["spec"], json!({"roleName": "deployer"}));
    assert_eq!(
        entry_of(&updated, "kubectl")["fieldsV1"],
        json!({"f:spec": {"f:roleName": {}}})
    );
}

#[test]
fn a_whole_struct_dropped_from_the_configuration_goes_with_its_fields() {
    let created = apply_role(None, &role(json!({"roleName": "deployer"})), "kubectl", false).unwrap();
    let mut config = role(json!(null));
    config.as_object_mut().unwrap().remove("spec");

    let updated = apply_role(Some(&created), &config, "kubectl", false).unwrap();

    assert_eq!(updated.get("spec"), None);
    assert_eq!(updated["metadata"]["name"], "deploy");
    assert_eq!(updated["metadata"]["uid"], "0b5e8a1c");
    assert_eq!(updated["metadata"].get("managedFields"), None);
}

#[test]
fn managers_applying_the_same_value_share_it_and_it_survives_one_of_them_leaving() {
    let config = role(json!({"roleName": "deployer"}));
    let first = apply_role(None, &config, "alice", false).unwrap();
    let shared = apply_role(Some(&first), &config, "bob", false).unwrap();
    assert_eq!(
        entry_of(&shared, "alice")["fieldsV1"],
        json!({"f:spec": {"f:roleName": {}}})
    );
    assert_eq!(
        entry_of(&shared, "bob")["fieldsV1"],
        json!({"f:spec": {"f:roleName": {}}})
    );

    let alice_leaves = apply_role(Some(&shared), &role(json!({"path": "/x/"})), "alice", false).unwrap();

    assert_eq!(alice_leaves["spec"], json!({"roleName": "deployer", "path": "/x/"}));
    assert_eq!(
        entry_of(&alice_leaves, "alice")["fieldsV1"],
        json!({"f:spec": {"f:path": {}}})
    );
}

#[test]
fn a_different_value_for_a_field_owned_by_another_applier_conflicts() {
    let first = apply_role(None, &role(json!({"roleName": "deployer"})), "alice", false).unwrap();

    let conflicts = apply_role(Some(&first), &role(json!({"roleName": "admin"})), "bob", false).unwrap_err();

    assert_eq!(conflicts.len(), 1);
    assert_eq!(conflicts[0].manager, "alice");
    assert_eq!(conflicts[0].field, ".spec.roleName");
    assert_eq!(conflicts[0].cause_message(), "conflict with \"alice\"");
    assert_eq!(
        conflict_message(&conflicts),
        "Apply failed with 1 conflict: conflict with \"alice\": .spec.roleName"
    );
}

#[test]
fn conflicts_with_an_updater_name_its_api_version_and_several_are_grouped_by_manager() {
    let schema = schema();
    let mut created = role(json!({"roleName": "deployer", "path": "/ci/"}));
    record_update(
        None,
        &mut created,
        "kubectl-client-side-apply",
        Some(&schema),
        None,
        true,
        NOW,
    );
    let created = stored(created);
    let mut labelled = created.clone();
    labelled["metadata"]["labels"] = json!({"team": "a"});
    record_update(
        Some(&created),
        &mut labelled,
        "labeller",
        Some(&schema),
        None,
        true,
        LATER,
    );

    let one = apply_role(Some(&labelled), &role(json!({"roleName": "admin"})), "operator", false).unwrap_err();
    assert_eq!(
        conflict_message(&one),
        "Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using awsaccess.dev/v1alpha1: .spec.roleName"
    );
    assert_eq!(
        one[0].cause_message(),
        "conflict with \"kubectl-client-side-apply\" using awsaccess.dev/v1alpha1"
    );

    let mut config = role(json!({"roleName": "admin", "path": "/prod/"}));
    config["metadata"]["labels"] = json!({"team": "b"});
    let several = apply_role(Some(&labelled), &config, "operator", false).unwrap_err();
    assert_eq!(
        conflict_message(&several),
        "Apply failed with 3 conflicts: conflicts with \"kubectl-client-side-apply\" using awsaccess.dev/v1alpha1:\n\
         - .spec.path\n\
         - .spec.roleName\n\
         conflicts with \"labeller\" using awsaccess.dev/v1alpha1:\n\
         - .metadata.labels.team"
    );
}

#[test]
fn force_takes_the_field_from_its_owner() {
    let first = apply_role(
        None,
        &role(json!({"roleName": "deployer", "path": "/ci/"})),
        "alice",
        false,
    )
    .unwrap();

    let forced = apply_role(Some(&first), &role(json!({"roleName": "admin"})), "bob", true).unwrap();

    assert_eq!(forced["spec"], json!({"roleName": "admin", "path": "/ci/"}));
    assert_eq!(
        entry_of(&forced, "alice")["fieldsV1"],
        json!({"f:spec": {"f:path": {}}})
    );
    assert_eq!(
        entry_of(&forced, "bob")["fieldsV1"],
        json!({"f:spec": {"f:roleName": {}}})
    );
}

#[test]
fn status_applies_touch_only_status_and_main_applies_ignore_it() {
    let schema = schema();
    let created = apply_role(None, &role(json!({"roleName": "deployer"})), "kubectl", false).unwrap();
    let mut status_config = role(json!({"roleName": "hijacked"}));
    status_config["status"] = json!({"phase": "Ready"});

    let with_status = apply(
        Some(&created),
        &status_config,
        "operator",
        false,
        Some(&schema),
        Some("status"),
        true,
        LATER,
    )
    .unwrap();

    assert_eq!(with_status["spec"], json!({"roleName": "deployer"}));
    assert_eq!(with_status["status"], json!({"phase": "Ready"}));
    assert_eq!(
        entry_of(&with_status, "operator"),
        json!({
            "manager": "operator",
            "operation": "Apply",
            "apiVersion": API_VERSION,
            "time": LATER,
            "fieldsType": "FieldsV1",
            "fieldsV1": {"f:status": {"f:phase": {}}},
            "subresource": "status"
        })
    );

    let mut main_config = role(json!({"roleName": "deployer"}));
    main_config["status"] = json!({"phase": "Failed"});
    let main = apply(
        Some(&with_status),
        &main_config,
        "kubectl",
        false,
        Some(&schema),
        None,
        true,
        LATER,
    )
    .unwrap();
    assert_eq!(main["status"], json!({"phase": "Ready"}));
    assert_eq!(
        entry_of(&main, "kubectl")["fieldsV1"],
        json!({"f:spec": {"f:roleName": {}}})
    );
}

#[test]
fn an_update_takes_the_fields_it_changes_and_empty_managers_go() {
    let schema = schema();
    let created = apply_role(None, &role(json!({"roleName": "deployer"})), "kubectl", false).unwrap();
    let mut edited = created.clone();
    edited["spec"]["roleName"] = json!("admin");
    edited["spec"]["path"] = json!("/ci/");

    record_update(
        Some(&created),
        &mut edited,
        "kubectl-edit",
        Some(&schema),
        None,
        true,
        LATER,
    );

    assert_eq!(
        entries(&edited),
        vec![json!({
            "manager": "kubectl-edit",
            "operation": "Update",
            "apiVersion": API_VERSION,
            "time": LATER,
            "fieldsType": "FieldsV1",
            "fieldsV1": {"f:spec": {"f:path": {}, "f:roleName": {}}}
        })]
    );
}

#[test]
fn an_update_that_changes_nothing_records_nothing() {
    let schema = schema();
    let created = apply_role(None, &role(json!({"roleName": "deployer"})), "kubectl", false).unwrap();
    let mut unchanged = created.clone();
    unchanged["metadata"]["resourceVersion"] = json!("8");

    record_update(
        Some(&created),
        &mut unchanged,
        "controller",
        Some(&schema),
        None,
        true,
        LATER,
    );

    assert_eq!(entries(&unchanged), entries(&created));
}

#[test]
fn managed_fields_sent_in_an_update_replace_the_recorded_ones_and_an_empty_list_clears_them() {
    let schema = schema();
    let created = apply_role(None, &role(json!({"roleName": "deployer"})), "kubectl", false).unwrap();
    let mut migrated = created.clone();
    migrated["metadata"]["managedFields"][0]["manager"] = json!("renamed");
    record_update(
        Some(&created),
        &mut migrated,
        "kubectl",
        Some(&schema),
        None,
        true,
        LATER,
    );
    assert_eq!(entries(&migrated).len(), 1);
    assert_eq!(
        entry_of(&migrated, "renamed")["fieldsV1"],
        json!({"f:spec": {"f:roleName": {}}})
    );

    let mut cleared = created.clone();
    cleared["metadata"]["managedFields"] = json!([]);
    cleared["spec"]["path"] = json!("/ci/");
    record_update(
        Some(&created),
        &mut cleared,
        "kubectl-edit",
        Some(&schema),
        None,
        true,
        LATER,
    );
    assert_eq!(cleared["metadata"].get("managedFields"), None);
}

#[test]
fn creation_by_update_owns_maps_themselves_as_the_apiserver_records_them() {
    let mut config_map = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "settings", "namespace": "default", "labels": {"app": "web"}},
        "data": {"mode": "fast"}
    });

    record_update(None, &mut config_map, "kubectl-create", None, None, false, NOW);

    assert_eq!(
        entry_of(&config_map, "kubectl-create")["fieldsV1"],
        json!({
            "f:data": {".": {}, "f:mode": {}},
            "f:metadata": {"f:labels": {".": {}, "f:app": {}}}
        })
    );
}

#[test]
fn server_side_apply_after_create_conflicts_only_on_differing_values() {
    let config = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "settings", "namespace": "default"},
        "data": {"mode": "fast", "size": "3"}
    });
    let mut created = config.clone();
    record_update(None, &mut created, "kubectl-create", None, None, false, NOW);
    let created = stored(created);

    let same = apply(Some(&created), &config, "kubectl", false, None, None, false, LATER).unwrap();
    assert_eq!(same["data"], config["data"]);
    assert_eq!(
        entry_of(&same, "kubectl")["fieldsV1"],
        json!({"f:data": {"f:mode": {}, "f:size": {}}})
    );
    assert_eq!(entry_of(&same, "kubectl").get("time"), None);

    let mut changed = config.clone();
    changed["data"]["size"] = json!("5");
    let conflicts = apply(Some(&created), &changed, "kubectl", false, None, None, false, LATER).unwrap_err();
    assert_eq!(
        conflict_message(&conflicts),
        "Apply failed with 1 conflict: conflict with \"kubectl-create\" using v1: .data.size"
    );
}

#[test]
fn fields_of_an_untracked_object_belong_to_before_first_apply() {
    let live = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "settings", "namespace": "default", "uid": "1"},
        "data": {"mode": "fast"}
    });
    let mut config = live.clone();
    config["metadata"].as_object_mut().unwrap().remove("uid");
    config["data"]["mode"] = json!("slow");

    let conflicts = apply(Some(&live), &config, "deployer", false, None, None, false, NOW).unwrap_err();

    assert_eq!(
        conflicts[0].cause_message(),
        "conflict with \"before-first-apply\" using v1"
    );
    assert_eq!(conflicts[0].field, ".data.mode");
}

#[test]
fn kubectl_takes_over_fields_client_side_apply_set_and_keeps_the_annotation_in_step() {
    let last_applied = r#"{"apiVersion":"v1","data":{"mode":"fast"},"kind":"ConfigMap","metadata":{"annotations":{},"name":"settings","namespace":"default"}}"#;
    let mut live = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "settings",
            "namespace": "default",
            "annotations": {LAST_APPLIED_ANNOTATION: format!("{last_applied}\n")}
        },
        "data": {"mode": "fast"}
    });
    record_update(None, &mut live, "kubectl-client-side-apply", None, None, false, NOW);
    let live = stored(live);
    let config = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "settings", "namespace": "default"},
        "data": {"mode": "slow"}
    });

    let other = apply(Some(&live), &config, "deployer", false, None, None, false, LATER).unwrap_err();
    assert_eq!(other[0].field, ".data.mode");

    let upgraded = apply(Some(&live), &config, "kubectl", false, None, None, false, LATER).unwrap();
    assert_eq!(upgraded["data"]["mode"], "slow");
    assert_eq!(
        upgraded["metadata"]["annotations"][LAST_APPLIED_ANNOTATION],
        "{\"apiVersion\":\"v1\",\"data\":{\"mode\":\"slow\"},\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"settings\",\"namespace\":\"default\"}}\n"
    );
    assert_eq!(
        entry_of(&upgraded, "kubectl")["fieldsV1"],
        json!({"f:data": {"f:mode": {}}})
    );
}

#[test]
fn conditions_merge_by_type_between_managers() {
    let schema = schema();
    let created = apply_role(None, &role(json!({"roleName": "deployer"})), "kubectl", false).unwrap();
    let mut ready = role(json!({}));
    ready["status"] = json!({"conditions": [{"type": "Ready", "status": "True"}]});
    let mut synced = role(json!({}));
    synced["status"] = json!({"conditions": [{"type": "Synced", "status": "False", "reason": "Pending"}]});
    let status_apply = |live: &Value, config: &Value, manager: &str| {
        apply(
            Some(live),
            config,
            manager,
            false,
            Some(&schema),
            Some("status"),
            true,
            NOW,
        )
        .map(stored)
    };

    let with_ready = status_apply(&created, &ready, "readiness").unwrap();
    let with_both = status_apply(&with_ready, &synced, "syncer").unwrap();

    assert_eq!(
        with_both["status"]["conditions"],
        json!([
            {"type": "Ready", "status": "True"},
            {"type": "Synced", "status": "False", "reason": "Pending"}
        ])
    );
    assert_eq!(
        entry_of(&with_both, "readiness")["fieldsV1"],
        json!({"f:status": {"f:conditions": {"k:{\"type\":\"Ready\"}": {".": {}, "f:status": {}, "f:type": {}}}}})
    );

    let mut not_ready = ready.clone();
    not_ready["status"]["conditions"][0]["status"] = json!("False");
    let conflicts = status_apply(&with_both, &not_ready, "syncer").unwrap_err();
    assert_eq!(conflicts[0].field, ".status.conditions[type=\"Ready\"].status");
    assert_eq!(
        conflicts[0].cause_message(),
        "conflict with \"readiness\" with subresource \"status\""
    );

    let mut without_ready = ready;
    without_ready["status"]["conditions"] = json!([]);
    let dropped = status_apply(&with_both, &without_ready, "readiness").unwrap();
    assert_eq!(
        dropped["status"]["conditions"],
        json!([{"type": "Synced", "status": "False", "reason": "Pending"}])
    );
}

#[test]
fn sets_merge_by_value_and_granular_maps_by_key() {
    let mut first = role(json!({"accounts": ["111", "222"], "tags": {"env": "prod"}}));
    first["metadata"]["finalizers"] = json!(["awsaccess.dev/cleanup"]);
    let created = apply_role(None, &first, "alice", false).unwrap();

    let mut second = role(json!({"accounts": ["333"], "tags": {"team": "a"}}));
    second["metadata"]["finalizers"] = json!(["example.com/audit"]);
    let merged = apply_role(Some(&created), &second, "bob", false).unwrap();

    assert_eq!(merged["spec"]["accounts"], json!(["111", "222", "333"]));
    assert_eq!(merged["spec"]["tags"], json!({"env": "prod", "team": "a"}));
    assert_eq!(
        merged["metadata"]["finalizers"],
        json!(["awsaccess.dev/cleanup", "example.com/audit"])
    );
    assert_eq!(
        entry_of(&merged, "bob")["fieldsV1"],
        json!({
            "f:metadata": {"f:finalizers": {"v:\"example.com/audit\"": {}}},
            "f:spec": {"f:accounts": {"v:\"333\"": {}}, "f:tags": {"f:team": {}}}
        })
    );
}

#[test]
fn atomic_lists_are_owned_and_replaced_whole() {
    let created = apply_role(None, &role(json!({"policies": ["a", "b"]})), "alice", false).unwrap();

    let conflicts = apply_role(Some(&created), &role(json!({"policies": ["c"]})), "bob", false).unwrap_err();
    assert_eq!(conflicts[0].field, ".spec.policies");

    let forced = apply_role(Some(&created), &role(json!({"policies": ["c"]})), "bob", true).unwrap();
    assert_eq!(forced["spec"]["policies"], json!(["c"]));
}

#[test]
fn a_null_in_the_configuration_unsets_the_field() {
    let created = apply_role(
        None,
        &role(json!({"roleName": "deployer", "path": "/ci/"})),
        "alice",
        false,
    )
    .unwrap();

    let unset = apply_role(
        Some(&created),
        &role(json!({"roleName": "deployer", "path": null})),
        "alice",
        false,
    )
    .unwrap();

    assert_eq!(unset["spec"], json!({"roleName": "deployer"}));
}

#[test]
fn fields_v1_round_trips() {
    let encoded = json!({
        "f:metadata": {"f:labels": {".": {}, "f:app": {}}, "f:finalizers": {"v:\"a<b\"": {}}},
        "f:spec": {"f:items": {"k:{\"name\":\"x\",\"port\":80}": {".": {}, "f:name": {}}}, "f:list": {"i:3": {}}}
    });

    let set = FieldSet::from_fields_v1(&encoded).unwrap();

    assert_eq!(
        set.to_fields_v1(),
        json!({
            "f:metadata": {"f:labels": {".": {}, "f:app": {}}, "f:finalizers": {"v:\"a\\u003cb\"": {}}},
            "f:spec": {"f:items": {"k:{\"name\":\"x\",\"port\":80}": {".": {}, "f:name": {}}}, "f:list": {"i:3": {}}}
        })
    );
    let paths: Vec<String> = set.paths().iter().map(|path| path_string(path)).collect();
    assert!(paths.contains(&".spec.items[name=\"x\",port=80]".to_owned()));
    assert!(paths.contains(&".metadata.finalizers[=\"a<b\"]".to_owned()));
}

#[test]
fn items_an_update_repeats_stay_when_their_applier_drops_them() {
    let schema = schema();
    let created = apply_role(None, &role(json!({})), "kubectl", false).unwrap();
    let status_apply = |live: &Value, conditions: Value| {
        let mut config = role(json!({}));
        config["status"] = json!({"conditions": conditions});
        apply(
            Some(live),
            &config,
            "readiness",
            false,
            Some(&schema),
            Some("status"),
            true,
            NOW,
        )
        .map(stored)
    };
    let applied = status_apply(
        &created,
        json!([{"type": "Ready", "status": "True"}, {"type": "Synced", "status": "True"}]),
    )
    .unwrap();
    let mut repeated = applied.clone();
    repeated["status"]["conditions"] = json!([
        {"type": "Ready", "status": "True"},
        {"type": "Ready", "status": "False"},
        {"type": "Synced", "status": "True"}
    ]);
    record_update(
        Some(&applied),
        &mut repeated,
        "updater",
        Some(&schema),
        Some("status"),
        true,
        LATER,
    );

    let dropped = status_apply(&repeated, json!([{"type": "Synced", "status": "True"}])).unwrap();

    assert_eq!(dropped["status"]["conditions"], repeated["status"]["conditions"]);
    assert_eq!(
        entry_of(&dropped, "updater")["fieldsV1"],
        json!({"f:status": {"f:conditions": {"k:{\"type\":\"Ready\"}": {}}}})
    );
}

#[test]
fn entries_sort_appliers_first_then_by_time() {
    let schema = schema();
    let mut created = role(json!({"roleName": "deployer"}));
    record_update(None, &mut created, "zeta-creator", Some(&schema), None, true, NOW);
    let created = stored(created);
    let applied = apply(
        Some(&created),
        &role(json!({"roleName": "deployer", "path": "/x/"})),
        "alpha",
        false,
        Some(&schema),
        None,
        true,
        LATER,
    )
    .unwrap();

    let managers: Vec<Value> = entries(&applied).iter().map(|entry| entry["manager"].clone()).collect();

    assert_eq!(managers, vec![json!("alpha"), json!("zeta-creator")]);
}

#[test]
fn undeclared_fields_are_named_as_structured_merge_diff_paths() {
    let object_meta = json!({"type": "object", "properties": {"name": {"type": "string"}, "namespace": {"type": "string"}, "labels": {"type": "object", "additionalProperties": {"type": "string"}}}});
    let config = json!({
        "apiVersion": API_VERSION, "kind": "CrossAccountRole",
        "metadata": {"name": "deploy", "labels": {"any": "key"}, "labelz": {}},
        "spec": {"roleName": "deployer", "tags": {"free": "form"}, "bogus": 1},
        "status": {"conditions": [{"type": "Ready", "status": "True", "extra": 1}]},
        "zzz": true
    });
    let error = undeclared_fields_error(&config, &schema(), &object_meta).expect("refused");
    assert_eq!(
        error,
        "errors:\n  .metadata.labelz: field not declared in schema\n  .spec.bogus: field not declared in schema\n  .status.conditions[type=\"Ready\"].extra: field not declared in schema\n  .zzz: field not declared in schema"
    );
    let one = json!({"apiVersion": API_VERSION, "kind": "CrossAccountRole", "spec": {"path": "/", "nope": 1}});
    assert_eq!(
        undeclared_fields_error(&one, &schema(), &object_meta).as_deref(),
        Some(".spec.nope: field not declared in schema")
    );
    assert_eq!(
        undeclared_fields_error(&role(json!({"roleName": "x"})), &schema(), &object_meta),
        None
    );
}
