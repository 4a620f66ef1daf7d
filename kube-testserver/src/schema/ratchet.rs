//! Ratcheting: which old value a new one corresponds to, and whether it changed.

use serde_json::Value;

use super::Schema;

/// The old value that `new_child` (at `key` of an object) replaces, if the schema
/// lets the two be matched up.
pub(crate) fn correlate_field<'o>(schema: Schema, old: Option<&'o Value>, key: &str) -> Option<&'o Value> {
    schema.field_schema(key)?;
    old?.as_object()?.get(key)
}

/// The old item that `new_item` replaces: only lists of type map match items
/// (by their keys); the items of other lists cannot be told apart.
pub(crate) fn correlate_item<'o>(schema: Schema, old: Option<&'o Value>, new_item: &Value) -> Option<&'o Value> {
    if schema.list_type() != "map" {
        return None;
    }
    let keys = schema.list_map_keys();
    old?.as_array()?
        .iter()
        .find(|old_item| same_map_keys(&keys, old_item, new_item))
}

fn same_map_keys(keys: &[&str], a: &Value, b: &Value) -> bool {
    let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else {
        return false;
    };
    keys.iter().all(|k| a.get(*k) == b.get(*k))
}

/// Whether `new` is what `old` was, as the server compares them: items of map
/// lists by key, and fields only where the schema declares them.
pub(crate) fn unchanged(schema: Option<Schema>, new: &Value, old: &Value) -> bool {
    match (new, old) {
        (Value::Array(new_items), Value::Array(old_items)) => {
            if new_items.len() != old_items.len() {
                return false;
            }
            match schema.filter(|s| s.list_type() == "map") {
                Some(s) => new_items.iter().all(|item| {
                    correlate_item(s, Some(old), item).is_some_and(|old_item| unchanged(s.items(), item, old_item))
                }),
                None => new_items == old_items,
            }
        }
        (Value::Object(new_fields), Value::Object(old_fields)) => {
            new_fields.len() == old_fields.len()
                && new_fields.iter().all(|(key, v)| {
                    let child = schema.and_then(|s| s.field_schema(key));
                    child.is_some() && old_fields.get(key).is_some_and(|o| unchanged(child, v, o))
                })
        }
        _ => new == old,
    }
}
