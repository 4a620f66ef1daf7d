//! Deletion: preconditions, finalizers, `deletionTimestamp`, and garbage collection of
//! dependents by `ownerReferences` (background, foreground, orphan).

use std::sync::Arc;

use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult};
use crate::registry::ResourceDef;

use super::{
    DeleteOptions, EventType, ObjectKey, Operation, Pending, Propagation, State, Step, finalizers, meta_str,
    metadata_mut, now_rfc3339, set_finalizers,
};

const FOREGROUND_FINALIZER: &str = "foregroundDeletion";
const ORPHAN_FINALIZER: &str = "orphan";

impl State {
    pub(super) fn delete(
        &mut self,
        def: &Arc<ResourceDef>,
        namespace: Option<&str>,
        name: &str,
        options: &DeleteOptions,
    ) -> ApiResult<Pending> {
        let key = Self::key(def, namespace, name);
        let object = self.get(def, namespace, name)?;
        if let Some(uid) = &options.precondition_uid
            && meta_str(&object, "uid") != Some(uid.as_str())
        {
            return Err(ApiError::conflict(
                &def.group,
                &def.plural,
                name,
                &format!(
                    "Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
                    meta_str(&object, "uid").unwrap_or_default()
                ),
            ));
        }
        if let Some(rv) = &options.precondition_rv
            && meta_str(&object, "resourceVersion") != Some(rv.as_str())
        {
            return Err(ApiError::conflict(
                &def.group,
                &def.plural,
                name,
                &format!(
                    "Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {}",
                    meta_str(&object, "resourceVersion").unwrap_or_default()
                ),
            ));
        }
        Ok(Pending {
            def: def.clone(),
            operation: Operation::Delete,
            name: name.to_string(),
            name_generated: false,
            namespace: (!key.namespace.is_empty()).then(|| key.namespace.clone()),
            dry_run: options.dry_run,
            warnings: vec![],
            expected_rv: meta_str(&object, "resourceVersion").map(String::from),
            key,
            step: Step::Delete {
                object,
                propagation: options.propagation,
            },
        })
    }

    /// Deletion as the real server does it: with finalizers pending the
    /// object only gets a `deletionTimestamp`; without, it goes, and its
    /// dependents are collected. Returns the object as last seen.
    pub(super) fn delete_key(&mut self, key: &ObjectKey, propagation: Propagation) -> Option<Value> {
        let object = self.objects.get(key)?.clone();
        let uid = meta_str(&object, "uid").unwrap_or_default().to_string();
        if propagation == Propagation::Orphan {
            self.orphan_dependents(&uid);
        }
        let mut updated = object.clone();
        let mut list = finalizers(&updated);
        if propagation == Propagation::Foreground
            && !list.iter().any(|f| f == FOREGROUND_FINALIZER)
            && self.has_dependents(&uid)
        {
            list.push(FOREGROUND_FINALIZER.into());
        }
        list.retain(|f| f != ORPHAN_FINALIZER);
        let is_namespace = key.group.is_empty() && key.plural == "namespaces";
        let is_crd = key.group == "apiextensions.k8s.io" && key.plural == "customresourcedefinitions";
        if list.is_empty() && !is_namespace {
            self.remove(key);
            return Some(object);
        }
        set_finalizers(&mut updated, list);
        if updated.pointer("/metadata/deletionTimestamp").is_none() {
            let metadata = metadata_mut(&mut updated);
            metadata.insert("deletionTimestamp".into(), json!(now_rfc3339()));
            metadata.insert("deletionGracePeriodSeconds".into(), json!(0));
        }
        if is_namespace {
            updated["status"] = json!({"phase": "Terminating"});
        }
        if updated != object {
            let rv = self.next_rv();
            metadata_mut(&mut updated).insert("resourceVersion".into(), json!(rv));
            self.objects.insert(key.clone(), updated.clone());
            self.record(key, EventType::Modified, updated.clone(), Some(object));
        }
        if propagation == Propagation::Foreground {
            for dependent in self.dependents(&uid) {
                self.delete_key(&dependent, Propagation::Foreground);
            }
        }
        if is_namespace {
            let contents: Vec<ObjectKey> = self
                .objects
                .keys()
                .filter(|k| k.namespace == key.name)
                .cloned()
                .collect();
            for item in contents {
                self.delete_key(&item, Propagation::Background);
            }
            self.finish_namespace_if_empty(&key.name);
        }
        if is_crd {
            self.settle_crd(key);
        }
        self.objects.get(key).cloned()
    }

    fn dependents(&self, owner_uid: &str) -> Vec<ObjectKey> {
        self.objects
            .iter()
            .filter(|(_, o)| owner_uids(o).iter().any(|u| u == owner_uid))
            .map(|(k, _)| k.clone())
            .collect()
    }

    fn has_dependents(&self, owner_uid: &str) -> bool {
        !owner_uid.is_empty()
            && self
                .objects
                .values()
                .any(|o| owner_uids(o).iter().any(|u| u == owner_uid))
    }

    fn orphan_dependents(&mut self, owner_uid: &str) {
        for key in self.dependents(owner_uid) {
            self.modify(&key, |object| {
                if let Some(Value::Array(refs)) = object.pointer_mut("/metadata/ownerReferences") {
                    refs.retain(|r| r["uid"].as_str() != Some(owner_uid));
                    if refs.is_empty() {
                        metadata_mut(object).remove("ownerReferences");
                    }
                }
            });
        }
    }

    /// A server-side change to a stored object, with its event.
    fn modify(&mut self, key: &ObjectKey, change: impl FnOnce(&mut Value)) {
        let Some(old) = self.objects.get(key).cloned() else {
            return;
        };
        let mut new = old.clone();
        change(&mut new);
        if new == old {
            return;
        }
        let rv = self.next_rv();
        metadata_mut(&mut new).insert("resourceVersion".into(), json!(rv));
        self.objects.insert(key.clone(), new.clone());
        self.record(key, EventType::Modified, new, Some(old));
    }

    pub(super) fn remove_finalizer(&mut self, key: &ObjectKey, finalizer: &str) {
        let Some(object) = self.objects.get(key).cloned() else {
            return;
        };
        let mut list = finalizers(&object);
        if !list.iter().any(|f| f == finalizer) {
            return;
        }
        list.retain(|f| f != finalizer);
        if list.is_empty() && object.pointer("/metadata/deletionTimestamp").is_some() {
            let mut last = object;
            set_finalizers(&mut last, list);
            self.objects.insert(key.clone(), last);
            self.remove(key);
        } else {
            self.modify(key, |o| set_finalizers(o, list));
        }
    }

    /// Removes an object for good, then everything that waited on it:
    /// dependents (garbage collection), a foreground-deleting owner, a
    /// terminating namespace, a CRD waiting for its instances.
    pub(super) fn remove(&mut self, key: &ObjectKey) {
        let Some(mut object) = self.objects.remove(key) else {
            return;
        };
        // A deletion is a write of its own: a watch that has seen the
        // object's last version must still see it go.
        let rv = self.next_rv();
        metadata_mut(&mut object).insert("resourceVersion".into(), json!(rv));
        self.record(key, EventType::Deleted, object.clone(), None);
        let uid = meta_str(&object, "uid").unwrap_or_default().to_string();
        // Background collection: a dependent goes once none of its owners exist.
        for dependent in self.dependents(&uid) {
            let Some(dependent_object) = self.objects.get(&dependent) else {
                continue;
            };
            let owners = owner_uids(dependent_object);
            let live_owner = owners
                .iter()
                .any(|u| u != &uid && self.objects.values().any(|o| meta_str(o, "uid") == Some(u.as_str())));
            if live_owner {
                let uid = uid.clone();
                self.modify(&dependent, |o| {
                    if let Some(Value::Array(refs)) = o.pointer_mut("/metadata/ownerReferences") {
                        refs.retain(|r| r["uid"].as_str() != Some(uid.as_str()));
                    }
                });
            } else {
                self.delete_key(&dependent, Propagation::Background);
            }
        }
        // Owners in foreground deletion wait for their dependents.
        for owner_uid in owner_uids(&object) {
            let owner_key = self
                .objects
                .iter()
                .find(|(_, o)| meta_str(o, "uid") == Some(owner_uid.as_str()))
                .map(|(k, _)| k.clone());
            if let Some(owner_key) = owner_key {
                let waiting = self
                    .objects
                    .get(&owner_key)
                    .is_some_and(|o| finalizers(o).iter().any(|f| f == FOREGROUND_FINALIZER));
                if waiting && !self.has_dependents(&owner_uid) {
                    self.remove_finalizer(&owner_key, FOREGROUND_FINALIZER);
                }
            }
        }
        if !key.namespace.is_empty() {
            self.finish_namespace_if_empty(&key.namespace.clone());
        }
        let crd_key = self
            .objects
            .iter()
            .find(|(k, o)| {
                k.group == "apiextensions.k8s.io"
                    && o.pointer("/spec/group").and_then(Value::as_str) == Some(key.group.as_str())
                    && o.pointer("/spec/names/plural").and_then(Value::as_str) == Some(key.plural.as_str())
            })
            .map(|(k, _)| k.clone());
        if let Some(crd_key) = crd_key {
            self.finish_crd_if_empty(&crd_key);
        }
        if key.group == "apiextensions.k8s.io" && key.plural == "customresourcedefinitions" {
            self.refresh_defs();
        }
    }
}

fn owner_uids(object: &Value) -> Vec<String> {
    object
        .pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .map(|refs| {
            refs.iter()
                .filter_map(|r| r["uid"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}
