//! What the real server's strategies do to built-in kinds before storing.

use serde_json::{Value, json};

use crate::admission;
use crate::registry::{Builtin, ResourceDef};

use super::{meta_str, metadata_mut};

/// What the real server's strategies do to built-in kinds before storing.
pub(super) fn prepare_builtin(def: &ResourceDef, object: &mut Value) {
    match def.builtin {
        Some(Builtin::Secret) => {
            use base64::Engine;
            if let Some(Value::Object(string_data)) = object.as_object_mut().and_then(|o| o.remove("stringData")) {
                let data = object.as_object_mut().and_then(|o| {
                    if !o.get("data").is_some_and(Value::is_object) {
                        o.insert("data".into(), json!({}));
                    }
                    o.get_mut("data").and_then(Value::as_object_mut)
                });
                if let Some(data) = data {
                    for (key, value) in string_data {
                        let text = value.as_str().unwrap_or_default();
                        data.insert(key, json!(base64::engine::general_purpose::STANDARD.encode(text)));
                    }
                }
            }
            if object.get("type").is_none() {
                object["type"] = json!("Opaque");
            }
        }
        Some(Builtin::Namespace) => {
            if object.pointer("/metadata/deletionTimestamp").is_none() {
                object["status"] = json!({"phase": "Active"});
            }
            object["spec"] = json!({"finalizers": ["kubernetes"]});
            let name = meta_str(object, "name").unwrap_or_default().to_string();
            let labels = metadata_mut(object).entry("labels").or_insert_with(|| json!({}));
            if let Some(labels) = labels.as_object_mut() {
                labels.insert("kubernetes.io/metadata.name".into(), json!(name));
            }
        }
        Some(Builtin::CustomResourceDefinition) => {
            if let Some(names) = object.pointer_mut("/spec/names").and_then(Value::as_object_mut) {
                let kind = names
                    .get("kind")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                names.entry("singular").or_insert_with(|| json!(kind.to_lowercase()));
                names.entry("listKind").or_insert_with(|| json!(format!("{kind}List")));
            }
            if let Some(spec) = object.get_mut("spec").and_then(Value::as_object_mut) {
                spec.entry("conversion").or_insert_with(|| json!({"strategy": "None"}));
            }
        }
        Some(Builtin::ValidatingWebhookConfiguration) => admission::default_configuration(object, false),
        Some(Builtin::MutatingWebhookConfiguration) => admission::default_configuration(object, true),
        _ => {}
    }
}
