//! The lifecycle of CustomResourceDefinitions, as apiextensions-apiserver's controllers
//! run it: validation, status conditions, the kinds served, instance cleanup.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::go_format::go_quote;
use crate::registry::{ResourceDef, defs_from_crd};

use super::{
    EventType, ObjectKey, Propagation, State, finalizers, meta_str, metadata_mut, now_rfc3339, set_finalizers,
};

const CRD_CLEANUP_FINALIZER: &str = "customresourcecleanup.apiextensions.k8s.io";

impl State {
    /// A CRD is Established at once, owns the cleanup finalizer while it
    /// lives, and deletes its instances when it is being deleted.
    pub(super) fn settle_crd(&mut self, key: &ObjectKey) {
        let Some(crd) = self.objects.get(key).cloned() else {
            return;
        };
        let deleting = crd.pointer("/metadata/deletionTimestamp").is_some();
        let mut settled = crd.clone();
        let mut list = finalizers(&settled);
        if !deleting && !list.iter().any(|f| f == CRD_CLEANUP_FINALIZER) {
            list.push(CRD_CLEANUP_FINALIZER.into());
            set_finalizers(&mut settled, list);
        }
        let names = settled.pointer("/spec/names").cloned().unwrap_or_else(|| json!({}));
        let storage: Vec<Value> = settled
            .pointer("/spec/versions")
            .and_then(Value::as_array)
            .map(|versions| {
                versions
                    .iter()
                    .filter(|v| v["storage"].as_bool() == Some(true))
                    .map(|v| v["name"].clone())
                    .collect()
            })
            .unwrap_or_default();
        let now = now_rfc3339();
        let condition = |type_: &str, reason: &str, message: &str| json!({"type": type_, "status": "True", "reason": reason, "message": message, "lastTransitionTime": now});
        let previous_conditions = crd.pointer("/status/conditions").cloned();
        let mut conditions = vec![
            condition("NamesAccepted", "NoConflicts", "no conflicts found"),
            condition(
                "Established",
                "InitialNamesAccepted",
                "the initial names have been accepted",
            ),
        ];
        if deleting {
            conditions.push(condition(
                "Terminating",
                "InstanceDeletionInProgress",
                "CustomResource deletion is in progress",
            ));
        }
        // Keep transition times stable when nothing changed, so the status does not churn.
        if let Some(Value::Array(previous)) = &previous_conditions {
            for condition in conditions.iter_mut() {
                if let Some(same) = previous
                    .iter()
                    .find(|p| p["type"] == condition["type"] && p["status"] == condition["status"])
                {
                    condition["lastTransitionTime"] = same["lastTransitionTime"].clone();
                }
            }
        }
        settled["status"] = json!({"acceptedNames": names, "conditions": conditions, "storedVersions": storage});
        if settled != crd {
            let rv = self.next_rv();
            metadata_mut(&mut settled).insert("resourceVersion".into(), json!(rv));
            self.objects.insert(key.clone(), settled.clone());
            self.record(key, EventType::Modified, settled.clone(), Some(crd));
        }
        self.refresh_defs();
        if deleting {
            let group = settled
                .pointer("/spec/group")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let plural = settled
                .pointer("/spec/names/plural")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let instances: Vec<ObjectKey> = self
                .of_storage(&group, &plural, "", "")
                .map(|(k, _)| k.clone())
                .collect();
            for instance in instances {
                self.delete_key(&instance, Propagation::Background);
            }
            self.finish_crd_if_empty(key);
        }
    }

    pub(super) fn finish_crd_if_empty(&mut self, key: &ObjectKey) {
        let Some(crd) = self.objects.get(key) else { return };
        if crd.pointer("/metadata/deletionTimestamp").is_none() {
            return;
        }
        let group = crd.pointer("/spec/group").and_then(Value::as_str).unwrap_or_default();
        let plural = crd
            .pointer("/spec/names/plural")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if self.of_storage(group, plural, "", "").next().is_some() {
            return;
        }
        self.remove_finalizer(key, CRD_CLEANUP_FINALIZER);
    }

    pub(super) fn refresh_defs(&mut self) {
        let mut defs: Vec<Arc<ResourceDef>> = self.defs.iter().filter(|def| !def.custom).cloned().collect();
        for (_, crd) in self.of_storage("apiextensions.k8s.io", "customresourcedefinitions", "", "") {
            defs.extend(defs_from_crd(crd).into_iter().map(Arc::new));
        }
        self.defs = defs;
    }
}

/// The CRD rules clients run into: the name must be `<plural>.<group>`,
/// and exactly one version is the storage version.
pub(super) fn crd_errors(crd: &Value) -> Vec<(String, String, String)> {
    let mut errors = vec![];
    let name = meta_str(crd, "name").unwrap_or_default();
    let group = crd.pointer("/spec/group").and_then(Value::as_str).unwrap_or_default();
    let plural = crd
        .pointer("/spec/names/plural")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let mut required = |field: &str, present: bool| {
        if !present {
            errors.push((
                "FieldValueRequired".into(),
                field.into(),
                format!("{field}: Required value"),
            ));
        }
    };
    required("spec.group", !group.is_empty());
    required("spec.names.plural", !plural.is_empty());
    required(
        "spec.names.kind",
        crd.pointer("/spec/names/kind")
            .and_then(Value::as_str)
            .is_some_and(|k| !k.is_empty()),
    );
    let scope = crd.pointer("/spec/scope").and_then(Value::as_str).unwrap_or_default();
    if !matches!(scope, "Namespaced" | "Cluster") {
        errors.push((
            "FieldValueNotSupported".into(),
            "spec.scope".into(),
            format!(
                "spec.scope: Unsupported value: {}: supported values: \"Cluster\", \"Namespaced\"",
                go_quote(scope)
            ),
        ));
    }
    if !group.is_empty() && !plural.is_empty() && name != format!("{plural}.{group}") {
        errors.push((
            "FieldValueInvalid".into(),
            "metadata.name".into(),
            format!(
                "metadata.name: Invalid value: {}: must be spec.names.plural+\".\"+spec.group",
                go_quote(name)
            ),
        ));
    }
    let versions = crd
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if versions.is_empty() {
        errors.push((
            "FieldValueInvalid".into(),
            "spec.versions".into(),
            "spec.versions: Invalid value: null: must have exactly one version marked as storage version".into(),
        ));
    } else if versions.iter().filter(|v| v["storage"].as_bool() == Some(true)).count() != 1 {
        errors.push(("FieldValueInvalid".into(), "spec.versions".into(), "spec.versions: Invalid value: []apiextensions.CustomResourceDefinitionVersion: must have exactly one version marked as storage version".into()));
    }
    errors
}
