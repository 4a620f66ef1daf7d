//! The JSON the server writes. Objects are written as the apiserver's encoder writes them:
//! their type first (`kind`, `apiVersion` for the built-in kinds, whose Go structs embed
//! `TypeMeta` in that order; `apiVersion`, `kind` for custom resources, which are maps written
//! with sorted keys), then `metadata`, then the rest, so a client that reads the
//! type of an object before the object (a streaming decoder, a person reading a watch) finds
//! it at the front. This holds for every map that names its type, at any depth: list items,
//! watch objects, Table rows' objects, embedded resources.

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};

/// The fields an object leads with, in this order.
const LEADING: [&str; 3] = ["apiVersion", "kind", "metadata"];
/// The fields a built-in object leads with: kube-rs's tests read the position of `kind`.
const LEADING_BUILTIN: [&str; 3] = ["kind", "apiVersion", "metadata"];

/// Whether `apiVersion` names a built-in group: the core group, an unqualified group (`apps`,
/// `batch`) or one of Kubernetes' own (`*.k8s.io`).
fn builtin_api_version(api_version: &Value) -> bool {
    let Some(api_version) = api_version.as_str() else {
        return false;
    };
    match api_version.rsplit_once('/') {
        None => true,
        Some((group, _)) => !group.contains('.') || group.ends_with(".k8s.io"),
    }
}

/// `value` as JSON text, objects with their type and metadata first.
pub fn to_json(value: &Value) -> String {
    // Serializing a `Value` to a string cannot fail: its keys are strings, its numbers finite.
    serde_json::to_string(&Ordered(value)).unwrap_or_default()
}

/// `object` as JSON text, written as [`to_json`] writes it once its `apiVersion` and `kind` are
/// set to these: a watch sends every change so, and copying a whole object only to retype it
/// cost more than writing it.
pub fn to_json_as(object: &Value, api_version: &str, kind: &str) -> String {
    let Value::Object(map) = object else {
        return to_json(object);
    };
    let (api_version, kind) = (Value::from(api_version), Value::from(kind));
    let retyped = Retyped {
        map,
        type_meta: Some((&api_version, &kind)),
    };
    serde_json::to_string(&retyped).unwrap_or_default()
}

struct Ordered<'a>(&'a Value);

/// A map, with `type_meta` (`apiVersion`, `kind`) in place of its own when given.
struct Retyped<'a> {
    map: &'a Map<String, Value>,
    type_meta: Option<(&'a Value, &'a Value)>,
}

impl Retyped<'_> {
    fn field(&self, key: &str) -> Option<&Value> {
        match (key, self.type_meta) {
            ("apiVersion", Some((api_version, _))) => Some(api_version),
            ("kind", Some((_, kind))) => Some(kind),
            _ => self.map.get(key),
        }
    }
}

impl Serialize for Retyped<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let typed = self.field("apiVersion").is_some() && self.field("kind").is_some();
        let added = ["apiVersion", "kind"]
            .iter()
            .filter(|key| self.type_meta.is_some() && !self.map.contains_key(**key))
            .count();
        let mut out = serializer.serialize_map(Some(self.map.len() + added))?;
        let leading = match self.field("apiVersion") {
            Some(api_version) if builtin_api_version(api_version) => LEADING_BUILTIN,
            _ => LEADING,
        };
        if typed {
            for key in leading {
                if let Some(value) = self.field(key) {
                    out.serialize_entry(key, &Ordered(value))?;
                }
            }
        }
        for (key, value) in self.map {
            if !(typed && leading.contains(&key.as_str())) {
                out.serialize_entry(key, &Ordered(value))?;
            }
        }
        out.end()
    }
}

impl Serialize for Ordered<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Object(map) => Retyped { map, type_meta: None }.serialize(serializer),
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
            r#"{"kind":"ConfigMapList","apiVersion":"v1","metadata":{"resourceVersion":"3"},"items":[{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"c"},"data":{"a":"1"}}]}"#
        );
        // Custom resources are maps, written with sorted keys by the real server.
        assert_eq!(
            to_json(&json!({"spec": {}, "kind": "Foo", "metadata": {"name": "f"}, "apiVersion": "clux.dev/v1"})),
            r#"{"apiVersion":"clux.dev/v1","kind":"Foo","metadata":{"name":"f"},"spec":{}}"#
        );
        // Maps that do not name a type keep their order.
        assert_eq!(
            to_json(&json!({"kind": "x", "b": [1, 2.5, null]})),
            r#"{"b":[1,2.5,null],"kind":"x"}"#
        );
    }

    #[test]
    fn retyped_objects_are_written_as_their_retyped_copies() {
        let objects = [
            json!({"spec": {"a": 1}, "kind": "Foo", "metadata": {"name": "f"}, "apiVersion": "clux.dev/v1"}),
            json!({"spec": {"a": 1}, "metadata": {"name": "f"}}),
            json!({"data": {}, "kind": "ConfigMap", "apiVersion": "v1", "zz": null}),
        ];
        for (api_version, kind) in [("clux.dev/v2", "Foo"), ("v1", "ConfigMap")] {
            for object in &objects {
                let mut copy = object.clone();
                copy["apiVersion"] = json!(api_version);
                copy["kind"] = json!(kind);
                assert_eq!(to_json_as(object, api_version, kind), to_json(&copy));
            }
        }
    }
}
