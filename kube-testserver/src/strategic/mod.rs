//! Strategic merge patch (`application/strategic-merge-patch+json`) as the apiserver applies it
//! to the built-in kinds kubectl sends it for (Namespace, Secret, ConfigMap, Event, Lease,
//! CustomResourceDefinition), following k8s.io/apimachinery/pkg/util/strategicpatch.
//!
//! It is JSON merge patch plus the directives `$patch` (`replace`, `delete`), `$retainKeys`,
//! `$deleteFromPrimitiveList/<field>` and `$setElementOrder/<field>`, and lists merge where the
//! Go types say `patchStrategy:"merge"`: `metadata.finalizers` as a set,
//! `metadata.ownerReferences` by `uid`, a Namespace's `status.conditions` by `type`, a
//! Validating- or MutatingWebhookConfiguration's `webhooks` and their `matchConditions` by `name`. Every other
//! list is replaced (a CRD's `spec.versions` and `status.conditions` carry no patch strategy).
//!
//! Maps and directives are merged here, lists in `lists`.

use serde_json::{Map, Value};

use crate::go_format::go_print;

use lists::{
    discard_nulls, is_delete_directive, merge_list, order_items, partition, remove_directives,
    remove_directives_from_list,
};

mod lists;
#[cfg(test)]
mod tests;

const DIRECTIVE: &str = "$patch";
const RETAIN_KEYS: &str = "$retainKeys";
const DELETE_FROM_PRIMITIVE_LIST: &str = "$deleteFromPrimitiveList";
const SET_ELEMENT_ORDER: &str = "$setElementOrder";
const BAD_RETAIN_KEYS: &str = "invalid patch format of retainKeys";

/// Applies a strategic merge patch to `original`, an object of one of the built-in kinds.
/// Errors carry the apiserver's message.
pub fn strategic_merge(original: &Value, patch: &Value) -> Result<Value, String> {
    let Value::Object(patch) = patch else {
        return Err(format!(
            "json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
            json_kind(patch).go_json_name()
        ));
    };
    let Value::Object(original_fields) = original else {
        return Err("invalid JSON document".to_owned());
    };
    let kind = original.get("kind").and_then(Value::as_str);
    let fields = Fields::Root {
        namespace: kind == Some("Namespace"),
        webhooks: matches!(
            kind,
            Some("ValidatingWebhookConfiguration" | "MutatingWebhookConfiguration")
        ),
    };
    merge_map(original_fields.clone(), patch.clone(), fields).map(Value::Object)
}

/// Where a map sits in the object, which decides how its lists merge.
#[derive(Clone, Copy)]
enum Fields {
    Root {
        namespace: bool,
        webhooks: bool,
    },
    ObjectMeta,
    NamespaceStatus,
    /// One of a ValidatingWebhookConfiguration's `webhooks`.
    Webhook,
    Other,
}

/// A list field's `patchStrategy` and `patchMergeKey`.
#[derive(Clone, Copy)]
struct ListStrategy {
    merge: bool,
    merge_key: Option<&'static str>,
    /// Where the maps inside the list sit.
    items: Fields,
}

impl Fields {
    fn map(self, key: &str) -> Fields {
        match (self, key) {
            (Fields::Root { .. }, "metadata") => Fields::ObjectMeta,
            (Fields::Root { namespace: true, .. }, "status") => Fields::NamespaceStatus,
            _ => Fields::Other,
        }
    }

    fn list(self, key: &str) -> ListStrategy {
        let merge_by = |merge_key| ListStrategy {
            merge: true,
            merge_key,
            items: Fields::Other,
        };
        match (self, key) {
            (Fields::ObjectMeta, "finalizers") => merge_by(None),
            (Fields::ObjectMeta, "ownerReferences") => merge_by(Some("uid")),
            (Fields::NamespaceStatus, "conditions") => merge_by(Some("type")),
            (Fields::Root { webhooks: true, .. }, "webhooks") => ListStrategy {
                items: Fields::Webhook,
                ..merge_by(Some("name"))
            },
            (Fields::Webhook, "matchConditions") => merge_by(Some("name")),
            _ => ListStrategy {
                merge: false,
                merge_key: None,
                items: Fields::Other,
            },
        }
    }
}

type Object = Map<String, Value>;

fn merge_map(mut original: Object, mut patch: Object, fields: Fields) -> Result<Object, String> {
    if let Some(directive) = patch.get(DIRECTIVE).cloned() {
        return map_directive(&directive, patch);
    }
    apply_retain_keys(&mut original, &mut patch)?;
    merge_ordered_lists(&mut original, &mut patch, fields)?;
    for (key, patch_value) in patch {
        let (key, is_delete_list) = if key.starts_with(DELETE_FROM_PRIMITIVE_LIST) {
            (directive_target(&key, DELETE_FROM_PRIMITIVE_LIST)?.to_owned(), true)
        } else {
            (key, false)
        };
        if patch_value.is_null() {
            original.remove(&key);
            continue;
        }
        let Some(current) = original.get_mut(&key) else {
            if !is_delete_list && let Some(value) = patch_value_to_store(patch_value) {
                original.insert(key, value);
            }
            continue;
        };
        if json_kind(current) != json_kind(&patch_value) {
            if !is_delete_list {
                match patch_value_to_store(patch_value) {
                    Some(value) => *current = value,
                    None => {
                        original.remove(&key);
                    }
                }
            }
            continue;
        }
        *current = match (std::mem::take(current), patch_value) {
            (Value::Object(current_fields), Value::Object(patch_fields)) => {
                Value::Object(merge_map(current_fields, patch_fields, fields.map(&key))?)
            }
            (Value::Array(current_items), Value::Array(patch_items)) => Value::Array(merge_list(
                current_items,
                patch_items,
                fields.list(&key),
                is_delete_list,
            )?),
            (_, scalar) => scalar,
        };
    }
    Ok(original)
}

/// A patch value for a key the original lacks (or holds with another type): nulls mean nothing
/// there, and a directive alone means the key goes.
fn patch_value_to_store(mut value: Value) -> Option<Value> {
    discard_nulls(&mut value);
    remove_directives(value)
}

/// `$patch` in a map: `replace` takes the patch as the whole map, `delete` empties it.
fn map_directive(directive: &Value, mut patch: Object) -> Result<Object, String> {
    match directive.as_str() {
        Some("replace") => {
            patch.remove(DIRECTIVE);
            Ok(patch)
        }
        Some("delete") => Ok(Object::new()),
        _ => Err(format!(
            "unknown patch type: {} in map: {}",
            go_print(directive),
            go_print(&Value::Object(patch))
        )),
    }
}

/// `$retainKeys`: the original keeps only the listed keys, and the patch may set no others.
fn apply_retain_keys(original: &mut Object, patch: &mut Object) -> Result<(), String> {
    let Some(retained) = patch.remove(RETAIN_KEYS) else {
        return Ok(());
    };
    let Value::Array(retained) = retained else {
        return Err(BAD_RETAIN_KEYS.to_owned());
    };
    let is_retained = |key: &str| retained.iter().any(|name| name.as_str() == Some(key));
    let sets_other_key = patch.iter().any(|(key, value)| {
        !value.is_null()
            && !key.starts_with(DELETE_FROM_PRIMITIVE_LIST)
            && !key.starts_with(SET_ELEMENT_ORDER)
            && !is_retained(key)
    });
    if sets_other_key {
        return Err(BAD_RETAIN_KEYS.to_owned());
    }
    original.retain(|key, _| is_retained(key));
    Ok(())
}

/// `$setElementOrder/<field>`: merges the field's patch list, then orders the result by the
/// directive, keeping items only the server has near their previous neighbours.
fn merge_ordered_lists(original: &mut Object, patch: &mut Object, fields: Fields) -> Result<(), String> {
    let keys: Vec<String> = patch
        .keys()
        .filter(|key| key.starts_with(SET_ELEMENT_ORDER))
        .cloned()
        .collect();
    let directives: Vec<(String, Value)> = keys.iter().filter_map(|key| patch.remove_entry(key)).collect();
    for (directive, order) in directives {
        let Value::Array(order) = order else {
            return Err(bad_arg_type("[]interface {}", &order));
        };
        let field = directive_target(&directive, SET_ELEMENT_ORDER)?.to_owned();
        let current = list_at(original, &field)?;
        let patch_list = list_at(patch, &field)?;
        let strategy = fields.list(&field);
        validate_order(patch_list.as_deref(), &order, strategy.merge_key)?;
        let merged = match (&current, &patch_list) {
            (Some(current), None) => current.clone(),
            (None, Some(patch_list)) => remove_directives_from_list(patch_list.clone()),
            (Some(current), Some(patch_list)) => merge_list(current.clone(), patch_list.clone(), strategy, false)?,
            (None, None) => continue,
        };
        let patch_list = patch_list.unwrap_or_default();
        let current = current.unwrap_or_default();
        let items_are_maps = element_kind(&[&current, &patch_list])? == JsonKind::Object;
        let server_order = match strategy.merge_key {
            Some(key) if items_are_maps && strategy.merge => {
                original_as_go_sees_it_after_merge(current, &patch_list, key)
            }
            _ => current,
        };
        let (in_order, server_only) = partition(merged, &order, strategy.merge_key)?;
        let ordered = order_items(
            in_order,
            server_only,
            &order,
            &server_order,
            strategy.merge_key,
            items_are_maps,
        )?;
        original.insert(field.clone(), Value::Array(ordered));
        patch.remove(&field);
    }
    Ok(())
}

/// The original map list as strategicpatch's `$setElementOrder` pass still sees it after merging
/// the patch list: in Go that slice shares its array with the merged one, so deletions shifted
/// its items in place (leaving the last ones repeated) and new items filled the freed slots. The
/// resulting order decides where server-only items land, so it is reproduced here.
fn original_as_go_sees_it_after_merge(original: Vec<Value>, patch: &[Value], key: &str) -> Vec<Value> {
    let mut shared = original;
    let mut length = shared.len();
    let has_key = |item: &Value, value: &Value| item.get(key) == Some(value);
    for deleted in patch.iter().filter(|item| is_delete_directive(item)) {
        let Some(value) = deleted.get(key) else {
            continue;
        };
        while let Some(index) = shared[..length].iter().position(|item| has_key(item, value)) {
            for slot in index..length - 1 {
                shared[slot] = shared[slot + 1].clone();
            }
            length -= 1;
        }
    }
    let replaces = patch
        .iter()
        .any(|item| item.get(DIRECTIVE).and_then(Value::as_str) == Some("replace"));
    if replaces {
        return shared;
    }
    // Once the array is full, appending moves the list to a new array this view does not see.
    let mut moved_out: Vec<&Value> = Vec::new();
    for added in patch.iter().filter(|item| item.get(DIRECTIVE).is_none()) {
        let Some(value) = added.get(key) else {
            continue;
        };
        let present = shared[..length]
            .iter()
            .chain(moved_out.iter().copied())
            .any(|item| has_key(item, value));
        if present {
            continue;
        }
        if moved_out.is_empty() && length < shared.len() {
            shared[length] = added.clone();
            length += 1;
        } else {
            moved_out.push(added);
        }
    }
    shared
}

fn list_at(fields: &Object, key: &str) -> Result<Option<Vec<Value>>, String> {
    match fields.get(key) {
        None => Ok(None),
        Some(Value::Array(items)) => Ok(Some(items.clone())),
        Some(other) => Err(bad_arg_type("[]interface {}", other)),
    }
}

/// The field a `$deleteFromPrimitiveList/` or `$setElementOrder/` key is about.
fn directive_target<'k>(key: &'k str, prefix: &str) -> Result<&'k str, String> {
    match key.split_once('/') {
        Some((found, target)) if found == prefix => Ok(target),
        _ if prefix == DELETE_FROM_PRIMITIVE_LIST => Err("invalid patch format of primitive list".to_owned()),
        _ => Err("invalid patch format of setElementOrder list".to_owned()),
    }
}

/// The patch list's items must appear in the `$setElementOrder` list, in the same order.
fn validate_order(patch_list: Option<&[Value]>, order: &[Value], merge_key: Option<&str>) -> Result<(), String> {
    let Some(patch_list) = patch_list else {
        return Ok(());
    };
    if order.is_empty() || patch_list.is_empty() {
        return Ok(());
    }
    let kept: Vec<&Value> = match merge_key {
        Some(_) => {
            if let Some(item) = patch_list.iter().find(|item| !item.is_object()) {
                return Err(bad_arg_type("map[string]interface {}", item));
            }
            patch_list.iter().filter(|item| !is_delete_directive(item)).collect()
        }
        None => patch_list.iter().collect(),
    };
    let (mut patch_index, mut order_index) = (0, 0);
    while patch_index < kept.len() && order_index < order.len() {
        if kept[patch_index].get(DIRECTIVE).is_some() {
            patch_index += 1;
            continue;
        }
        if merge_key_values_equal(kept[patch_index], &order[order_index], merge_key)? {
            patch_index += 1;
        }
        order_index += 1;
    }
    if patch_index < kept.len() && order_index >= order.len() {
        return Err(format!(
            "The order in patch list:\n{}\n doesn't match {SET_ELEMENT_ORDER} list:\n{}\n",
            go_print(&Value::Array(patch_list.to_vec())),
            go_print(&Value::Array(order.to_vec()))
        ));
    }
    Ok(())
}

fn merge_key_values_equal(left: &Value, right: &Value, merge_key: Option<&str>) -> Result<bool, String> {
    let Some(key) = merge_key else {
        return Ok(left == right);
    };
    Ok(merge_key_value(left, key)? == merge_key_value(right, key)?)
}

fn merge_key_value<'v>(item: &'v Value, key: &str) -> Result<&'v Value, String> {
    let fields = item
        .as_object()
        .ok_or_else(|| bad_arg_type("map[string]interface {}", item))?;
    fields.get(key).ok_or_else(|| no_merge_key(fields, key))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum JsonKind {
    Null,
    Bool,
    Number,
    String,
    Array,
    Object,
}

impl JsonKind {
    fn go_type(self) -> &'static str {
        match self {
            JsonKind::Null => "<nil>",
            JsonKind::Bool => "bool",
            JsonKind::Number => "float64",
            JsonKind::String => "string",
            JsonKind::Array => "[]interface {}",
            JsonKind::Object => "map[string]interface {}",
        }
    }

    /// How encoding/json names the kind in unmarshal errors.
    fn go_json_name(self) -> &'static str {
        match self {
            JsonKind::Null => "null",
            JsonKind::Bool => "bool",
            JsonKind::Number => "number",
            JsonKind::String => "string",
            JsonKind::Array => "array",
            JsonKind::Object => "object",
        }
    }
}

fn json_kind(value: &Value) -> JsonKind {
    match value {
        Value::Null => JsonKind::Null,
        Value::Bool(_) => JsonKind::Bool,
        Value::Number(_) => JsonKind::Number,
        Value::String(_) => JsonKind::String,
        Value::Array(_) => JsonKind::Array,
        Value::Object(_) => JsonKind::Object,
    }
}

/// The one kind all items of the lists share.
fn element_kind(lists: &[&[Value]]) -> Result<JsonKind, String> {
    let mut shared = None;
    for item in lists.iter().flat_map(|list| list.iter()) {
        let kind = json_kind(item);
        match shared {
            None if kind == JsonKind::Array => {
                return Err("lists of lists are not supported".to_owned());
            }
            None => shared = Some(kind),
            Some(previous) if previous != kind => {
                let lists = lists
                    .iter()
                    .map(|list| go_print(&Value::Array(list.to_vec())))
                    .collect::<Vec<_>>();
                return Err(format!("list element types are not identical: [{}]", lists.join(" ")));
            }
            Some(_) => {}
        }
    }
    shared.ok_or_else(|| "no elements in any of the given slices".to_owned())
}

fn bad_arg_type(expected: &str, actual: &Value) -> String {
    format!("expected a {expected}, but received a {}", json_kind(actual).go_type())
}

fn no_merge_key(fields: &Object, key: &str) -> String {
    format!(
        "map: {} does not contain declared merge key: {key}",
        go_print(&Value::Object(fields.clone()))
    )
}
