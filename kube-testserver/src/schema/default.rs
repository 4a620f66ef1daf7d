//! Defaulting: absent fields take the schema's `default`.

use serde_json::Value;

use super::Schema;

/// Absent fields, and nulls the schema does not allow, take the schema's default;
/// defaults are then defaulted inside in turn.
pub(super) fn apply_defaults(value: &mut Value, schema: Option<Schema>) {
    let Some(s) = schema else { return };
    let replaces = |v: &Value, s: Schema| v.is_null() && !s.nullable();
    match value {
        Value::Object(fields) => {
            for (name, property) in s.properties().into_iter().flatten() {
                let Some(property) = Schema::new(property) else {
                    continue;
                };
                let Some(default) = property.default_value() else {
                    continue;
                };
                if fields.get(name).is_none_or(|v| replaces(v, property)) {
                    fields.insert(name.clone(), default.clone());
                }
            }
            let map_values = s.additional_schema();
            for (key, v) in fields.iter_mut() {
                let child = match s.property(key) {
                    Some(property) => property,
                    None => {
                        let Some(map_value) = map_values else {
                            continue;
                        };
                        if replaces(v, map_value) {
                            *v = map_value.default_value().cloned().unwrap_or(Value::Null);
                        }
                        map_value
                    }
                };
                apply_defaults(v, Some(child));
            }
        }
        Value::Array(items) => {
            let item_schema = s.items();
            for item in items {
                if let Some(item_schema) = item_schema
                    && replaces(item, item_schema)
                {
                    *item = item_schema.default_value().cloned().unwrap_or(Value::Null);
                }
                apply_defaults(item, item_schema);
            }
        }
        _ => {}
    }
}
