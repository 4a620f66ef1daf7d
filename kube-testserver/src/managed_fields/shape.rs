//! How maps and lists at a path merge: the schema of each node of an object (a custom resource's
//! `openAPIV3Schema`, the Go types of built-in kinds), and the fields an applied configuration
//! has that its schema does not declare.

use serde_json::Value;

use super::field_set::{PathElement, path_string};
use crate::go_format::go_json;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum ListKind<'s> {
    Atomic,
    Set,
    Map(Vec<&'s str>),
}

/// The schema of one node of an object.
#[derive(Clone, Copy, Debug)]
pub(super) enum Shape<'s> {
    /// A node of a custom resource's OpenAPI schema. `preserve_unknown` is inherited from
    /// ancestors, as kube-openapi does; `resource` marks the root and embedded resources, whose
    /// `apiVersion`, `kind` and `metadata` are always declared.
    Custom {
        node: &'s Value,
        preserve_unknown: bool,
        resource: bool,
    },
    /// Where no schema says otherwise (structured-merge-diff's `__untyped_deduced_`): granular
    /// maps whose keys are not declared fields, atomic lists.
    Deduced,
    Builtin(Builtin),
}

/// The nodes of built-in kinds whose merge rules differ from a plain struct.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Builtin {
    Root,
    ObjectMeta,
    Status,
    /// A struct: every key is a declared field, lists are atomic.
    Struct,
    AtomicStruct,
    StringMap,
    Finalizers,
    OwnerReferences,
    Conditions,
    /// A ValidatingWebhookConfiguration's `webhooks`: `+listType=map`, keyed by `name`.
    Webhooks,
}

impl<'s> Shape<'s> {
    pub(super) fn root(schema: Option<&'s Value>) -> Self {
        match schema {
            Some(node) => Shape::custom(node, false, true),
            None => Shape::Builtin(Builtin::Root),
        }
    }

    fn custom(node: &'s Value, inherited_preserve_unknown: bool, resource: bool) -> Self {
        let flag = |name: &str| node.get(name) == Some(&Value::Bool(true));
        Shape::Custom {
            node,
            preserve_unknown: inherited_preserve_unknown || flag("x-kubernetes-preserve-unknown-fields"),
            resource: resource || flag("x-kubernetes-embedded-resource"),
        }
    }

    /// The shape of a map's value at `name`, and whether `name` is a declared field.
    pub(super) fn field(self, name: &str) -> (Shape<'s>, bool) {
        match self {
            Shape::Custom {
                node,
                preserve_unknown,
                resource,
            } => {
                if resource {
                    match name {
                        "metadata" => return (Shape::Builtin(Builtin::ObjectMeta), true),
                        "apiVersion" | "kind" => return (Shape::Builtin(Builtin::Struct), true),
                        _ => {}
                    }
                }
                if let Some(property) = node.get("properties").and_then(|properties| properties.get(name)) {
                    return (Shape::custom(property, preserve_unknown, false), true);
                }
                match node.get("additionalProperties") {
                    Some(values @ Value::Object(_)) => (Shape::custom(values, preserve_unknown, false), false),
                    _ => (Shape::Deduced, false),
                }
            }
            Shape::Deduced => (Shape::Deduced, false),
            Shape::Builtin(builtin) => builtin.field(name),
        }
    }

    pub(super) fn map_is_atomic(self) -> bool {
        match self {
            Shape::Custom { node, .. } => node.get("x-kubernetes-map-type").and_then(Value::as_str) == Some("atomic"),
            Shape::Deduced => false,
            Shape::Builtin(builtin) => builtin == Builtin::AtomicStruct,
        }
    }

    pub(super) fn list_kind(self) -> ListKind<'s> {
        match self {
            Shape::Custom { node, .. } => {
                match node.get("x-kubernetes-list-type").and_then(Value::as_str) {
                    Some("set") => ListKind::Set,
                    Some("map") => {
                        let keys: Vec<&str> = node
                            .get("x-kubernetes-list-map-keys")
                            .and_then(Value::as_array)
                            .map(|keys| keys.iter().filter_map(Value::as_str).collect())
                            .unwrap_or_default();
                        // An associative list without keys is a set to structured-merge-diff.
                        if keys.is_empty() {
                            ListKind::Set
                        } else {
                            ListKind::Map(keys)
                        }
                    }
                    _ => ListKind::Atomic,
                }
            }
            Shape::Deduced => ListKind::Atomic,
            Shape::Builtin(Builtin::Finalizers) => ListKind::Set,
            Shape::Builtin(Builtin::OwnerReferences) => ListKind::Map(vec!["uid"]),
            Shape::Builtin(Builtin::Conditions) => ListKind::Map(vec!["type"]),
            Shape::Builtin(Builtin::Webhooks) => ListKind::Map(vec!["name"]),
            Shape::Builtin(_) => ListKind::Atomic,
        }
    }

    pub(super) fn item(self) -> Shape<'s> {
        match self {
            Shape::Custom {
                node, preserve_unknown, ..
            } => match node.get("items") {
                Some(items @ Value::Object(_)) => Shape::custom(items, preserve_unknown, false),
                _ => Shape::Deduced,
            },
            Shape::Deduced => Shape::Deduced,
            Shape::Builtin(Builtin::OwnerReferences) => Shape::Builtin(Builtin::AtomicStruct),
            Shape::Builtin(_) => Shape::Builtin(Builtin::Struct),
        }
    }

    pub(super) fn drops_null(self) -> bool {
        match self {
            Shape::Custom { node, .. } => node.get("nullable") != Some(&Value::Bool(true)),
            Shape::Deduced => false,
            Shape::Builtin(_) => true,
        }
    }

    /// The schema default of a field, which stands in for a missing list-map key.
    fn default_value(self) -> Option<&'s Value> {
        match self {
            Shape::Custom { node, .. } => node.get("default"),
            Shape::Deduced | Shape::Builtin(_) => None,
        }
    }
}

impl Builtin {
    pub(super) fn field(self, name: &str) -> (Shape<'static>, bool) {
        let child = match (self, name) {
            (Builtin::StringMap, _) => return (Shape::Builtin(Builtin::Struct), false),
            (Builtin::Root, "metadata") => Builtin::ObjectMeta,
            (Builtin::Root, "status") => Builtin::Status,
            (Builtin::Root, "data" | "binaryData" | "stringData") => Builtin::StringMap,
            // Events' object references are `+structType=atomic`.
            (Builtin::Root, "involvedObject" | "regarding" | "related") => Builtin::AtomicStruct,
            (Builtin::Root, "webhooks") => Builtin::Webhooks,
            (Builtin::ObjectMeta, "labels" | "annotations") => Builtin::StringMap,
            (Builtin::ObjectMeta, "finalizers") => Builtin::Finalizers,
            (Builtin::ObjectMeta, "ownerReferences") => Builtin::OwnerReferences,
            (Builtin::Status, "conditions") => Builtin::Conditions,
            _ => Builtin::Struct,
        };
        (Shape::Builtin(child), true)
    }
}

/// structured-merge-diff's refusal to make a typed value of an applied configuration with fields
/// `schema` (a CRD's `openAPIV3Schema`, or a built-in kind's in that shape) does not declare:
/// `.spec.bogus: field not declared in schema`, several under `errors:`. `object_meta` is the
/// schema of every resource's `metadata`. Below `x-kubernetes-preserve-unknown-fields`, in maps
/// and in objects declaring no properties anything goes.
pub fn undeclared_fields_error(config: &Value, schema: &Value, object_meta: &Value) -> Option<String> {
    let mut found = Vec::new();
    find_undeclared(
        config,
        Shape::root(Some(schema)),
        object_meta,
        &mut Vec::new(),
        &mut found,
    );
    match found.as_slice() {
        [] => None,
        [one] => Some(one.clone()),
        many => Some(format!("errors:\n  {}", many.join("\n  "))),
    }
}

fn find_undeclared(
    value: &Value,
    shape: Shape,
    object_meta: &Value,
    path: &mut Vec<PathElement>,
    found: &mut Vec<String>,
) {
    match value {
        Value::Object(fields) => {
            let (closed, resource) = match shape {
                Shape::Custom {
                    node,
                    preserve_unknown,
                    resource,
                } => (
                    !preserve_unknown
                        && node.get("additionalProperties").is_none()
                        && node
                            .get("properties")
                            .and_then(Value::as_object)
                            .is_some_and(|properties| !properties.is_empty()),
                    resource,
                ),
                Shape::Deduced | Shape::Builtin(_) => (false, false),
            };
            let mut keys: Vec<&String> = fields.keys().collect();
            keys.sort();
            for key in keys {
                let (field_shape, declared) = match key.as_str() {
                    "metadata" if resource => (Shape::custom(object_meta, false, false), true),
                    _ => shape.field(key),
                };
                path.push(PathElement::Field(key.clone()));
                if closed && !declared {
                    found.push(format!("{}: field not declared in schema", path_string(path)));
                } else {
                    find_undeclared(&fields[key], field_shape, object_meta, path, found);
                }
                path.pop();
            }
        }
        Value::Array(items) => {
            let kind = shape.list_kind();
            let item_shape = shape.item();
            for (index, item) in items.iter().enumerate() {
                let element = item_path_element(item, &kind, item_shape).unwrap_or(PathElement::Index(index as u64));
                path.push(element);
                find_undeclared(item, item_shape, object_meta, path, found);
                path.pop();
            }
        }
        _ => {}
    }
}

/// How a set or map list names its item; `None` for items structured-merge-diff rejects.
pub(super) fn item_path_element(item: &Value, kind: &ListKind, item_shape: Shape) -> Option<PathElement> {
    match kind {
        ListKind::Atomic => None,
        ListKind::Set => match item {
            Value::Object(_) | Value::Array(_) | Value::Null => None,
            scalar => Some(PathElement::Value(go_json(scalar))),
        },
        ListKind::Map(keys) => {
            let fields = item.as_object()?;
            let mut key_fields: Vec<(String, String)> = keys
                .iter()
                .filter_map(|key| {
                    let value = fields.get(*key).or_else(|| item_shape.field(key).0.default_value())?;
                    Some(((*key).to_owned(), go_json(value)))
                })
                .collect();
            if key_fields.is_empty() {
                return None;
            }
            key_fields.sort();
            Some(PathElement::Key(key_fields))
        }
    }
}
