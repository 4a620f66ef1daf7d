//! Decoding: metadata through `metav1.ObjectMeta`, pruning of unknown fields, nulls.

use serde_json::{Map, Value};

use super::{Path, Schema, sorted_keys};

/// The JSON fields of `metav1.ObjectMeta`, and of the structs inside it, that
/// metadata keeps when it is decoded.
const OBJECT_META_FIELDS: &[&str] = &[
    "name",
    "generateName",
    "namespace",
    "selfLink",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "labels",
    "annotations",
    "ownerReferences",
    "finalizers",
    "managedFields",
];
const OWNER_REFERENCE_FIELDS: &[&str] = &["apiVersion", "kind", "name", "uid", "controller", "blockOwnerDeletion"];
const MANAGED_FIELDS_ENTRY_FIELDS: &[&str] = &[
    "manager",
    "operation",
    "apiVersion",
    "time",
    "fieldsType",
    "fieldsV1",
    "subresource",
];

/// Fields a resource root (or an embedded resource) never has pruned.
const TYPE_AND_OBJECT_META: &[&str] = &["apiVersion", "kind", "metadata"];

/// Metadata round-trips through `metav1.ObjectMeta`, which drops unknown fields.
pub(super) fn coerce_object_meta(metadata: &mut Value, parent: &Path, unknown: &mut Vec<String>) {
    let Some(fields) = metadata.as_object_mut() else {
        return;
    };
    let prefix = parent.child("metadata").field_path();
    drop_unknown_fields(fields, OBJECT_META_FIELDS, &prefix, unknown);
    for (list, known) in [
        ("ownerReferences", OWNER_REFERENCE_FIELDS),
        ("managedFields", MANAGED_FIELDS_ENTRY_FIELDS),
    ] {
        let Some(Value::Array(items)) = fields.get_mut(list) else {
            continue;
        };
        for (index, item) in items.iter_mut().enumerate() {
            if let Some(item) = item.as_object_mut() {
                drop_unknown_fields(item, known, &format!("{prefix}.{list}[{index}]"), unknown);
            }
        }
    }
}

fn drop_unknown_fields(fields: &mut Map<String, Value>, known: &[&str], prefix: &str, unknown: &mut Vec<String>) {
    fields.retain(|key, _| {
        let keep = known.contains(&key.as_str());
        if !keep {
            unknown.push(format!("{prefix}.{key}"));
        }
        keep
    });
}

/// Removes the fields `schema` does not declare, recording their paths.
/// At the root (`resource_root`), as in embedded resources, apiVersion, kind
/// and metadata are left alone.
pub(super) fn prune(
    value: &mut Value,
    schema: Option<Schema>,
    resource_root: bool,
    path: &Path,
    unknown: &mut Vec<String>,
) {
    if let Some(s) = schema
        && s.preserves_unknown_fields()
    {
        prune_known_fields(value, Some(s), resource_root, path, unknown);
        return;
    }
    let keeps_type_and_meta = resource_root || schema.is_some_and(|s| s.embedded_resource());
    match value {
        Value::Object(fields) => {
            for key in sorted_keys(fields) {
                if keeps_type_and_meta && TYPE_AND_OBJECT_META.contains(&key.as_str()) {
                    continue;
                }
                match schema.and_then(|s| s.field(&key)) {
                    Some(child) => {
                        if let Some(v) = fields.get_mut(&key) {
                            prune(v, child, false, &path.key(&key), unknown);
                        }
                    }
                    None => {
                        unknown.push(path.key(&key).dotted());
                        fields.remove(&key);
                    }
                }
            }
        }
        Value::Array(items) => {
            let item_schema = schema.and_then(|s| s.items());
            for (index, item) in items.iter_mut().enumerate() {
                prune(item, item_schema, false, &path.index(index), unknown);
            }
        }
        _ => {}
    }
}

/// Under `x-kubernetes-preserve-unknown-fields` unknown fields stay, but the
/// declared ones are still pruned inside.
fn prune_known_fields(
    value: &mut Value,
    schema: Option<Schema>,
    resource_root: bool,
    path: &Path,
    unknown: &mut Vec<String>,
) {
    let Some(s) = schema else { return };
    let keeps_type_and_meta = resource_root || s.embedded_resource();
    match value {
        Value::Object(fields) => {
            for key in sorted_keys(fields) {
                if keeps_type_and_meta && TYPE_AND_OBJECT_META.contains(&key.as_str()) {
                    continue;
                }
                if let (Some(child), Some(v)) = (s.field(&key), fields.get_mut(&key)) {
                    prune(v, child, false, &path.key(&key), unknown);
                }
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter_mut().enumerate() {
                prune_known_fields(item, s.items(), false, &path.index(index), unknown);
            }
        }
        _ => {}
    }
}

/// Drops nulls where the schema allows no null and has no default to put instead.
pub(super) fn prune_nulls(value: &mut Value, schema: Option<Schema>) {
    match value {
        Value::Object(fields) => {
            for key in sorted_keys(fields) {
                let child = schema.and_then(|s| s.field_schema(&key));
                let drop = fields.get(&key).is_some_and(Value::is_null)
                    && child.is_some_and(|c| !c.nullable() && c.default_value().is_none());
                if drop {
                    fields.remove(&key);
                } else if let Some(v) = fields.get_mut(&key) {
                    prune_nulls(v, child);
                }
            }
        }
        Value::Array(items) => {
            let item_schema = schema.and_then(|s| s.items());
            for item in items {
                prune_nulls(item, item_schema);
            }
        }
        _ => {}
    }
}

/// The metadata of embedded resources goes through `ObjectMeta` too.
pub(super) fn coerce_embedded_metadata(
    value: &mut Value,
    schema: Option<Schema>,
    path: &Path,
    unknown: &mut Vec<String>,
) {
    let Some(s) = schema else { return };
    match value {
        Value::Object(fields) => {
            if s.embedded_resource()
                && let Some(metadata) = fields.get_mut("metadata")
            {
                coerce_object_meta(metadata, path, unknown);
            }
            for (key, v) in fields.iter_mut() {
                if let Some(property) = s.property(key) {
                    coerce_embedded_metadata(v, Some(property), &path.child(key), unknown);
                } else if let Some(map_value) = s.additional_schema() {
                    coerce_embedded_metadata(v, Some(map_value), &path.key(key), unknown);
                }
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter_mut().enumerate() {
                coerce_embedded_metadata(item, s.items(), &path.index(index), unknown);
            }
        }
        _ => {}
    }
}
