//! The JSON the server writes. Objects are written as the apiserver's encoder writes them:
//! `apiVersion` and `kind` first, then `metadata`, then the rest, so a client that reads the
//! type of an object before the object (a streaming decoder, a person reading a watch) finds
//! it at the front. This holds for every map that names its type, at any depth: list items,
//! watch objects, Table rows' objects, embedded resources.

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

/// The fields an object leads with, in this order.
const LEADING: [&str; 3] = ["apiVersion", "kind", "metadata"];

/// `value` as JSON text, objects with their type and metadata first.
pub fn to_json(value: &Value) -> String {
    // Serializing a `Value` to a string cannot fail: its keys are strings, its numbers finite.
    serde_json::to_string(&Ordered(value)).unwrap_or_default()
}

struct Ordered<'a>(&'a Value);

impl Serialize for Ordered<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Object(map) => {
                let typed = map.contains_key("apiVersion") && map.contains_key("kind");
                let mut out = serializer.serialize_map(Some(map.len()))?;
                if typed {
                    for key in LEADING {
                        if let Some(value) = map.get(key) {
                            out.serialize_entry(key, &Ordered(value))?;
                        }
                    }
                }
                for (key, value) in map {
                    if !(typed && LEADING.contains(&key.as_str())) {
                        out.serialize_entry(key, &Ordered(value))?;
                    }
                }
                out.end()
            }
            Value::Array(items) => serializer.collect_seq(items.iter().map(Ordered)),
            other => other.serialize(serializer),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn objects_lead_with_type_and_metadata_at_every_depth() {
        let list = json!({
            "items": [{"data": {"a": "1"}, "kind": "ConfigMap", "metadata": {"name": "c"}, "apiVersion": "v1"}],
            "kind": "ConfigMapList", "apiVersion": "v1", "metadata": {"resourceVersion": "3"},
        });
        assert_eq!(
            to_json(&list),
            r#"{"apiVersion":"v1","kind":"ConfigMapList","metadata":{"resourceVersion":"3"},"items":[{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"a":"1"}}]}"#
        );
        // Maps that do not name a type keep their order.
        assert_eq!(
            to_json(&json!({"kind": "x", "b": [1, 2.5, null]})),
            r#"{"b":[1,2.5,null],"kind":"x"}"#
        );
    }
}
