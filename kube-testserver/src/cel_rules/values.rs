//! JSON to CEL values, typed by the schema.

use std::collections::HashMap;
use std::sync::Arc;

use cel::Value as CelValue;
use serde_json::{Map, Value};

use crate::schema::Schema;

use super::RESERVED;

/// Whether CEL can see values of this schema at all: untyped nodes (without
/// `x-kubernetes-int-or-string`) are left out of `self`.
pub(super) fn has_cel_type(schema: Schema) -> bool {
    schema.int_or_string() || !schema.type_name().is_empty()
}

/// A property name as CEL sees it (`foo-bar` is `foo__dash__bar`, `namespace` is
/// `__namespace__`); `None` for names it cannot see.
fn escape(name: &str) -> Option<String> {
    let first = name.chars().next()?;
    if first.is_ascii_digit() {
        return None;
    }
    if RESERVED.contains(&name) {
        return Some(format!("__{name}__"));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/'))
    {
        return None;
    }
    // Most names need no escaping: the rewrites below would copy each of them four times.
    if !name.contains("__") && !name.contains(['.', '-', '/']) {
        return Some(name.to_owned());
    }
    Some(
        name.replace("__", "__underscores__")
            .replace('.', "__dot__")
            .replace('-', "__dash__")
            .replace('/', "__slash__"),
    )
}

pub(super) fn to_cel(schema: Schema, value: &Value, resource_root: bool) -> CelValue {
    if schema.int_or_string() {
        return untyped_to_cel(value);
    }
    match (schema.type_name(), value) {
        ("object", Value::Object(fields)) => object_to_cel(schema, fields, resource_root),
        ("array", Value::Array(items)) => {
            let converted = items
                .iter()
                .map(|item| match schema.items() {
                    Some(item_schema) => to_cel(item_schema, item, item_schema.embedded_resource()),
                    None => untyped_to_cel(item),
                })
                .collect();
            CelValue::List(Arc::new(converted))
        }
        ("string", Value::String(text)) if schema.format() == "byte" => {
            use base64::Engine as _;
            match base64::engine::general_purpose::STANDARD.decode(text) {
                Ok(bytes) => CelValue::Bytes(Arc::new(bytes)),
                Err(_) => CelValue::from(text.as_str()),
            }
        }
        ("number", Value::Number(n)) => CelValue::Float(n.as_f64().unwrap_or(f64::NAN)),
        _ => untyped_to_cel(value),
    }
}

fn object_to_cel(schema: Schema, fields: &Map<String, Value>, resource_root: bool) -> CelValue {
    if let Some(map_value) = schema.additional_schema() {
        let entries: HashMap<String, CelValue> = fields
            .iter()
            .map(|(k, v)| (k.clone(), to_cel(map_value, v, map_value.embedded_resource())))
            .collect();
        return CelValue::from(entries);
    }
    // A resource's apiVersion, kind, metadata.name and metadata.generateName are
    // visible even where the schema leaves them out.
    let exposes_type_meta = resource_root && !declares_type_and_object_meta(schema);
    let mut entries = HashMap::new();
    for (key, v) in fields {
        if exposes_type_meta && matches!(key.as_str(), "apiVersion" | "kind" | "metadata") {
            let exposed = if key == "metadata" {
                let names: HashMap<String, CelValue> = ["name", "generateName"]
                    .into_iter()
                    .filter_map(|k| Some((k.to_owned(), untyped_to_cel(v.get(k)?))))
                    .collect();
                CelValue::from(names)
            } else {
                untyped_to_cel(v)
            };
            entries.insert(key.clone(), exposed);
            continue;
        }
        let Some(property) = schema.property(key).filter(|p| has_cel_type(*p)) else {
            continue;
        };
        if let Some(name) = escape(key) {
            entries.insert(name, to_cel(property, v, property.embedded_resource()));
        }
    }
    CelValue::from(entries)
}

fn declares_type_and_object_meta(schema: Schema) -> bool {
    let is = |s: Option<Schema>, t: &str| s.is_some_and(|s| s.type_name() == t);
    let metadata = schema.property("metadata");
    is(schema.property("kind"), "string")
        && is(schema.property("apiVersion"), "string")
        && is(metadata, "object")
        && is(metadata.and_then(|m| m.property("name")), "string")
        && is(metadata.and_then(|m| m.property("generateName")), "string")
}

/// JSON as CEL sees it without a schema: integers as `int`, other numbers as
/// `double`.
pub(super) fn untyped_to_cel(value: &Value) -> CelValue {
    match value {
        Value::Null => CelValue::Null,
        Value::Bool(b) => CelValue::Bool(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => CelValue::Int(i),
            None => CelValue::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(text) => CelValue::from(text.as_str()),
        Value::Array(items) => CelValue::List(Arc::new(items.iter().map(untyped_to_cel).collect())),
        Value::Object(fields) => {
            let entries: HashMap<String, CelValue> =
                fields.iter().map(|(k, v)| (k.clone(), untyped_to_cel(v))).collect();
            CelValue::from(entries)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_follows_kubernetes() {
        assert_eq!(escape("namespace").as_deref(), Some("__namespace__"));
        assert_eq!(
            escape("foo-bar.baz/qux").as_deref(),
            Some("foo__dash__bar__dot__baz__slash__qux")
        );
        assert_eq!(escape("a__b").as_deref(), Some("a__underscores__b"));
        assert_eq!(escape("plain_name1").as_deref(), Some("plain_name1"));
        assert_eq!(escape("1st"), None);
        assert_eq!(escape("a b"), None);
    }
}
