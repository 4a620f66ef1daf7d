//! `x-kubernetes-list-type`: items of `set` lists, and keys of `map` lists, must be unique.

use serde_json::{Map, Value};

use super::{FieldError, Path, Schema, sorted_keys};

/// Items of `set` lists, and keys of `map` lists, must be unique.
pub(super) fn list_type_errors(root: Schema, obj: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if let Value::Object(fields) = obj {
        list_types_in_object(root, fields, &Path::default(), &mut errors);
    }
    errors
}

fn list_types_in_object(s: Schema, fields: &Map<String, Value>, path: &Path, errors: &mut Vec<FieldError>) {
    if let Some(map_value) = s.additional_schema() {
        for key in sorted_keys(fields) {
            if let Some(v) = fields.get(&key) {
                list_types_in_value(map_value, v, &path.key(&key), errors);
            }
        }
    }
    for key in sorted_keys(fields) {
        if let (Some(property), Some(v)) = (s.property(&key), fields.get(&key)) {
            list_types_in_value(property, v, &path.child(&key), errors);
        }
    }
}

fn list_types_in_value(s: Schema, value: &Value, path: &Path, errors: &mut Vec<FieldError>) {
    match value {
        Value::Object(fields) => list_types_in_object(s, fields, path, errors),
        Value::Array(items) => {
            match s.list_type() {
                "set" => {
                    for index in second_occurrences(items) {
                        errors.push(FieldError::duplicate(
                            path.index(index).field_path(),
                            items[index].clone(),
                        ));
                    }
                }
                "map" => check_list_map(s, items, path, errors),
                _ => {}
            }
            if let Some(item_schema) = s.items() {
                for (index, item) in items.iter().enumerate() {
                    list_types_in_value(item_schema, item, &path.index(index), errors);
                }
            }
        }
        _ => {}
    }
}

/// The index of the second occurrence of each value that occurs more than once.
fn second_occurrences(values: &[Value]) -> Vec<usize> {
    let mut found = Vec::new();
    for (index, value) in values.iter().enumerate() {
        let before = values[..index].iter().filter(|earlier| *earlier == value).count();
        if before == 1 {
            found.push(index);
        }
    }
    found
}

fn check_list_map(s: Schema, items: &[Value], path: &Path, errors: &mut Vec<FieldError>) {
    if let Some(index) = items.iter().position(|item| !item.is_null() && !item.is_object()) {
        errors.push(FieldError::invalid(
            path.index(index).field_path(),
            items[index].clone(),
            "must be an object for an array of list-type map",
        ));
        return;
    }
    let key_fields = s.list_map_keys();
    let keys: Vec<Value> = items
        .iter()
        .map(|item| {
            let key: Map<String, Value> = key_fields
                .iter()
                .filter_map(|k| Some((k.to_string(), item.get(*k)?.clone())))
                .collect();
            Value::Object(key)
        })
        .collect();
    for index in second_occurrences(&keys) {
        errors.push(FieldError::duplicate(
            path.index(index).field_path(),
            keys[index].clone(),
        ));
    }
}
