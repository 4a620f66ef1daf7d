use super::*;

fn crd() -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced",
            "names": {"plural": "widgets", "kind": "Widget"},
            "versions": [{"name": "v1", "served": true, "storage": true, "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "spec": {"type": "object", "properties": {"size": {"type": "integer"}}},
                    "status": {"type": "object", "properties": {"ready": {"type": "boolean"}}}}}}}]}
    })
}

fn setup() -> (Store, Arc<ResourceDef>) {
    let store = Store::new(1000);
    let crd_def = store
        .resolve("apiextensions.k8s.io", "v1", "customresourcedefinitions")
        .unwrap();
    store.create(&crd_def, None, crd(), &WriteOptions::default()).unwrap();
    let def = store.resolve("example.com", "v1", "widgets").unwrap();
    (store, def)
}

fn widget(name: &str) -> Value {
    json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": name}, "spec": {"size": 1}})
}

#[test]
fn generation_moves_only_with_spec() {
    let (store, def) = setup();
    let created = store
        .create(&def, Some("default"), widget("a"), &WriteOptions::default())
        .unwrap()
        .object;
    assert_eq!(created["metadata"]["generation"], 1);
    let status = json!({"status": {"ready": true}});
    let written = store
        .patch(
            &def,
            Some("default"),
            "a",
            PatchKind::Merge,
            status,
            true,
            &WriteOptions::default(),
        )
        .unwrap()
        .object;
    assert_eq!(written["metadata"]["generation"], 1);
    assert_eq!(written["status"]["ready"], true);
    let spec = json!({"spec": {"size": 2}, "status": {"ready": false}});
    let written = store
        .patch(
            &def,
            Some("default"),
            "a",
            PatchKind::Merge,
            spec,
            false,
            &WriteOptions::default(),
        )
        .unwrap()
        .object;
    assert_eq!(written["metadata"]["generation"], 2);
    assert_eq!(
        written["status"]["ready"], true,
        "a write to the main resource ignores status"
    );
}

#[test]
fn noop_write_keeps_resource_version() {
    let (store, def) = setup();
    let created = store
        .create(&def, Some("default"), widget("a"), &WriteOptions::default())
        .unwrap()
        .object;
    let same = store
        .patch(
            &def,
            Some("default"),
            "a",
            PatchKind::Merge,
            json!({"spec": {"size": 1}}),
            false,
            &WriteOptions::default(),
        )
        .unwrap()
        .object;
    assert_eq!(
        created["metadata"]["resourceVersion"],
        same["metadata"]["resourceVersion"]
    );
}

#[test]
fn a_write_of_ownership_alone_is_stored() {
    let (store, def) = setup();
    let created = store
        .create(&def, Some("default"), widget("a"), &WriteOptions::default())
        .unwrap()
        .object;
    let entry = json!({"manager": "kubectl", "operation": "Apply", "apiVersion": "example.com/v1",
        "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:size": {}}}});
    let migration = json!([
        {"op": "replace", "path": "/metadata/managedFields", "value": [entry]},
        {"op": "replace", "path": "/metadata/resourceVersion", "value": created["metadata"]["resourceVersion"]},
    ]);
    let migrated = store
        .patch(
            &def,
            Some("default"),
            "a",
            PatchKind::Json,
            migration,
            false,
            &WriteOptions::default(),
        )
        .unwrap()
        .object;
    assert_ne!(
        migrated["metadata"]["resourceVersion"],
        created["metadata"]["resourceVersion"]
    );
    assert_eq!(migrated["metadata"]["managedFields"], json!([entry]));

    let mut retimed = entry.clone();
    retimed["time"] = json!("2030-01-01T00:00:00Z");
    let only_time = json!([{"op": "replace", "path": "/metadata/managedFields", "value": [retimed]}]);
    let same = store
        .patch(
            &def,
            Some("default"),
            "a",
            PatchKind::Json,
            only_time,
            false,
            &WriteOptions::default(),
        )
        .unwrap()
        .object;
    assert_eq!(same, migrated, "a newer timestamp alone changes nothing");
}

fn configmaps(store: &Store) -> Arc<ResourceDef> {
    store.resolve("", "v1", "configmaps").unwrap()
}

fn options(field_validation: FieldValidation) -> WriteOptions {
    WriteOptions {
        field_manager: "test".into(),
        field_validation,
        ..Default::default()
    }
}

#[test]
fn unknown_fields_of_builtin_kinds_are_pruned_reported_or_refused() {
    let store = Store::new(100);
    let def = configmaps(&store);
    let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "colour": "red"}, "data": {"k": "v"}, "unknownField": 1});

    let refused = store
        .create(&def, Some("default"), body.clone(), &options(FieldValidation::Strict))
        .err()
        .unwrap();
    assert_eq!(refused.code.as_u16(), 400);
    assert_eq!(
        refused.message,
        "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: strict decoding error: unknown field \"metadata.colour\", unknown field \"unknownField\""
    );

    let written = store
        .create(&def, Some("default"), body.clone(), &options(FieldValidation::Warn))
        .unwrap();
    assert_eq!(
        written.warnings,
        ["unknown field \"metadata.colour\"", "unknown field \"unknownField\""]
    );
    assert!(written.object.get("unknownField").is_none());
    assert!(written.object["metadata"].get("colour").is_none());
    assert_eq!(written.object["data"], json!({"k": "v"}));

    let mut ignored = body;
    ignored["metadata"]["name"] = json!("b");
    let written = store
        .create(&def, Some("default"), ignored, &options(FieldValidation::Ignore))
        .unwrap();
    assert!(written.warnings.is_empty());
    assert!(written.object.get("unknownField").is_none());
}

#[test]
fn patches_with_unknown_fields_are_invalid_patches() {
    let store = Store::new(100);
    let def = configmaps(&store);
    let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"k": "v"}});
    store
        .create(&def, Some("default"), body, &options(FieldValidation::Strict))
        .unwrap();
    let strict = options(FieldValidation::Strict);

    let merge = store
        .patch(
            &def,
            Some("default"),
            "a",
            PatchKind::Merge,
            json!({"spec": {"x": 1.5}}),
            false,
            &strict,
        )
        .err()
        .unwrap();
    assert_eq!(merge.code.as_u16(), 422);
    assert!(
        merge.message.starts_with(" \"\" is invalid: patch: Invalid value: \"{\\\"apiVersion\\\":\\\"v1\\\",\\\"data\\\":{\\\"k\\\":\\\"v\\\"},"),
        "{}",
        merge.message
    );
    assert!(
        merge
            .message
            .ends_with("\\\"spec\\\":{\\\"x\\\":1.5}}\": strict decoding error: unknown field \"spec\""),
        "{}",
        merge.message
    );

    let json_patch = json!([{"op": "add", "path": "/extra", "value": [1, 2]}]);
    let refused = store
        .patch(&def, Some("default"), "a", PatchKind::Json, json_patch, false, &strict)
        .err()
        .unwrap();
    assert!(refused.message.contains("\\\"extra\\\":[1,2]"), "{}", refused.message);

    let strategic = store
        .patch(
            &def,
            Some("default"),
            "a",
            PatchKind::Strategic,
            json!({"data": {"k": "w"}, "spec": {"x": [1, "two"]}}),
            false,
            &strict,
        )
        .err()
        .unwrap();
    assert_eq!(
        strategic.message,
        " \"\" is invalid: patch: Invalid value: \"map[data:map[k:w] spec:map[x:[1 two]]]\": strict decoding error: unknown field \"spec\""
    );
    assert_eq!(
        store.get(&def, Some("default"), "a").unwrap()["data"],
        json!({"k": "v"}),
        "refused patches change nothing"
    );

    let warned = store
        .patch(
            &def,
            Some("default"),
            "a",
            PatchKind::Strategic,
            json!({"data": {"k": "w"}, "spec": {"x": 1}}),
            false,
            &options(FieldValidation::Warn),
        )
        .unwrap();
    assert_eq!(warned.warnings, ["unknown field \"spec\""]);
    assert_eq!(warned.object["data"], json!({"k": "w"}));
    assert!(warned.object.get("spec").is_none());
}

#[test]
fn server_side_apply_of_undeclared_fields_fails_whatever_the_validation() {
    let store = Store::new(100);
    let def = configmaps(&store);
    let config = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "default"}, "data": {"k": "v"}, "unknownField": 1});
    let refused = store
        .patch(
            &def,
            Some("default"),
            "a",
            PatchKind::Apply,
            config,
            false,
            &options(FieldValidation::Ignore),
        )
        .err()
        .unwrap();
    assert_eq!(refused.code.as_u16(), 500);
    assert_eq!(refused.reason, "");
    assert_eq!(
        refused.message,
        "failed to create typed patch object (default/a; /v1, Kind=ConfigMap): .unknownField: field not declared in schema"
    );
    assert!(store.get(&def, Some("default"), "a").is_err(), "nothing was created");
}

#[test]
fn stale_update_conflicts() {
    let (store, def) = setup();
    let created = store
        .create(&def, Some("default"), widget("a"), &WriteOptions::default())
        .unwrap()
        .object;
    store
        .patch(
            &def,
            Some("default"),
            "a",
            PatchKind::Merge,
            json!({"spec": {"size": 5}}),
            false,
            &WriteOptions::default(),
        )
        .unwrap();
    let err = store
        .update(&def, Some("default"), "a", created, false, &WriteOptions::default())
        .err()
        .unwrap();
    assert_eq!(err.code.as_u16(), 409);
}

#[test]
fn finalizer_blocks_then_releases_deletion() {
    let (store, def) = setup();
    let mut object = widget("a");
    object["metadata"]["finalizers"] = json!(["example.com/cleanup"]);
    store
        .create(&def, Some("default"), object, &WriteOptions::default())
        .unwrap();
    let options = DeleteOptions {
        propagation: Propagation::Background,
        precondition_uid: None,
        precondition_rv: None,
        dry_run: false,
    };
    let pending = store.delete(&def, Some("default"), "a", &options).unwrap();
    assert!(pending["metadata"]["deletionTimestamp"].is_string());
    assert!(store.get(&def, Some("default"), "a").is_ok());
    store
        .patch(
            &def,
            Some("default"),
            "a",
            PatchKind::Merge,
            json!({"metadata": {"finalizers": null}}),
            false,
            &WriteOptions::default(),
        )
        .unwrap();
    assert_eq!(store.get(&def, Some("default"), "a").err().unwrap().code.as_u16(), 404);
}

/// A client that has seen an object's latest version (the watch resumes
/// from its resourceVersion) must still be told it was deleted.
#[test]
fn a_deletion_has_a_resource_version_of_its_own() {
    let (store, def) = setup();
    let created = store
        .create(&def, Some("default"), widget("a"), &WriteOptions::default())
        .unwrap()
        .object;
    let seen: u64 = created["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let options = DeleteOptions {
        propagation: Propagation::Background,
        precondition_uid: None,
        precondition_rv: None,
        dry_run: false,
    };
    store.delete(&def, Some("default"), "a", &options).unwrap();
    let resumed = store.watch(&def, &Filter::default(), Some(seen)).unwrap();
    let kinds: Vec<_> = resumed.initial.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [EventType::Deleted]);
    assert!(resumed.initial[0].rv > seen);
}

#[test]
fn owner_deletion_collects_dependents() {
    let (store, def) = setup();
    let owner = store
        .create(&def, Some("default"), widget("owner"), &WriteOptions::default())
        .unwrap()
        .object;
    let mut dependent = widget("dependent");
    dependent["metadata"]["ownerReferences"] = json!([{"apiVersion": "example.com/v1", "kind": "Widget", "name": "owner", "uid": owner["metadata"]["uid"], "blockOwnerDeletion": true}]);
    store
        .create(&def, Some("default"), dependent, &WriteOptions::default())
        .unwrap();
    let foreground = DeleteOptions {
        propagation: Propagation::Foreground,
        precondition_uid: None,
        precondition_rv: None,
        dry_run: false,
    };
    store.delete(&def, Some("default"), "owner", &foreground).unwrap();
    assert!(store.get(&def, Some("default"), "dependent").is_err());
    assert!(store.get(&def, Some("default"), "owner").is_err());
}

#[test]
fn watch_from_compacted_version_is_gone() {
    let store = Store::new(2);
    let ns = store.resolve("", "v1", "namespaces").unwrap();
    for name in ["a", "b", "c"] {
        store
            .create(&ns, None, json!({"metadata": {"name": name}}), &WriteOptions::default())
            .unwrap();
    }
    let err = store.watch(&ns, &Filter::default(), Some(1)).err().unwrap();
    assert_eq!(err.code.as_u16(), 410);
    assert!(
        store
            .watch(&ns, &Filter::default(), Some(store.current_rv() - 1))
            .is_ok()
    );
}
