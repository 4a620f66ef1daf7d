//! What a request asks for besides its URL: its media types, body, and the options and
//! selectors in its query.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::http::HeaderMap;
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult};
use crate::events;
use crate::go_format::go_quote;
use crate::registry::Builtin;
use crate::selector::{FieldSelector, LabelSelector};
use crate::store::{DeleteOptions, FieldValidation, Filter, Propagation, WriteOptions};

use super::Target;

pub(super) fn content_type(headers: &HeaderMap) -> String {
    headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or(v).trim().to_string())
        .unwrap_or_default()
}

pub(super) fn parse_body(body: &Bytes, content_type: &str) -> ApiResult<Value> {
    if body.is_empty() {
        return Err(ApiError::bad_request("the request body is empty"));
    }
    if content_type == "application/vnd.kubernetes.protobuf" {
        return crate::protobuf::decode(body).map_err(|e| {
            ApiError::unsupported_media_type(
                &format!("{content_type} ({e})"),
                &[
                    "application/json",
                    "application/yaml",
                    "application/vnd.kubernetes.protobuf",
                ],
            )
        });
    }
    if content_type.contains("cbor") {
        return Err(ApiError::unsupported_media_type(
            content_type,
            &[
                "application/json",
                "application/yaml",
                "application/vnd.kubernetes.protobuf",
            ],
        ));
    }
    let parsed = if content_type.contains("yaml") {
        json_as_yaml(body).map_or_else(
            || serde_yaml_ng::from_slice::<Value>(body).map_err(|e| e.to_string()),
            Ok,
        )
    } else {
        serde_json::from_slice::<Value>(body).map_err(|e| e.to_string())
    };
    parsed.map_err(|e| ApiError::bad_request(format!("the body of the request could not be decoded: {e}")))
}

/// A YAML body that is JSON (as clients send applies) read by the JSON parser, many times
/// faster, to what the YAML parser reads from it. None when it is not JSON, or holds a number
/// that is no integer, which the JSON parser might round otherwise: the YAML parser reads those.
fn json_as_yaml(body: &[u8]) -> Option<Value> {
    let value: Value = serde_json::from_slice(body).ok()?;
    (!has_fraction(&value)).then_some(value)
}

fn has_fraction(value: &Value) -> bool {
    match value {
        Value::Number(number) => number.is_f64(),
        Value::Array(items) => items.iter().any(has_fraction),
        Value::Object(fields) => fields.values().any(has_fraction),
        Value::Null | Value::Bool(_) | Value::String(_) => false,
    }
}

pub(super) fn write_options(query: &HashMap<String, String>, headers: &HeaderMap) -> ApiResult<WriteOptions> {
    let field_manager = match query.get("fieldManager") {
        Some(manager) if !manager.is_empty() => manager.clone(),
        _ => headers
            .get("user-agent")
            .and_then(|v| v.to_str().ok())
            .and_then(|ua| ua.split('/').next())
            .filter(|s| !s.is_empty())
            .unwrap_or("unknown")
            .to_string(),
    };
    let field_validation = match query.get("fieldValidation").map(String::as_str) {
        None | Some("") | Some("Warn") => FieldValidation::Warn,
        Some("Strict") => FieldValidation::Strict,
        Some("Ignore") => FieldValidation::Ignore,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "fieldValidation: Unsupported value: {}: supported values: \"Ignore\", \"Strict\", \"Warn\"",
                go_quote(other)
            )));
        }
    };
    Ok(WriteOptions {
        field_manager,
        field_validation,
        dry_run: query.get("dryRun").is_some_and(|v| v == "All"),
        force: query.get("force").is_some_and(|v| v == "true"),
    })
}

pub(super) fn filter(target: &Target, query: &HashMap<String, String>) -> ApiResult<Filter> {
    let events_labels = events::EVENTS_FIELD_LABELS.map(|(label, _)| label);
    let allowed_fields: &[&str] = match target.def.builtin {
        Some(Builtin::CoreEvent) => &events::CORE_FIELD_LABELS,
        Some(Builtin::Event) => &events_labels,
        Some(Builtin::Secret) => &["type"],
        Some(Builtin::Namespace) => &["status.phase"],
        Some(other) => other.field_labels(),
        _ => &[],
    };
    let mut fields = FieldSelector::parse(
        query.get("fieldSelector").map(String::as_str).unwrap_or_default(),
        allowed_fields,
    )?;
    if target.def.builtin == Some(Builtin::Event) {
        // Selected on the fields of the stored Event, which core/v1 names.
        fields = fields.relabeled(&events::EVENTS_FIELD_LABELS);
    }
    Ok(Filter {
        namespace: target.namespace.clone(),
        labels: LabelSelector::parse(query.get("labelSelector").map(String::as_str).unwrap_or_default())?,
        fields,
    })
}

pub(super) fn delete_options(query: &HashMap<String, String>, body: &Bytes) -> ApiResult<DeleteOptions> {
    let body: Value = if body.is_empty() {
        json!({})
    } else {
        serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("invalid DeleteOptions: {e}")))?
    };
    let policy = body["propagationPolicy"]
        .as_str()
        .map(String::from)
        .or_else(|| query.get("propagationPolicy").cloned())
        .or_else(|| (body["orphanDependents"].as_bool() == Some(true)).then(|| "Orphan".to_string()));
    let propagation = match policy.as_deref() {
        None | Some("") | Some("Background") => Propagation::Background,
        Some("Foreground") => Propagation::Foreground,
        Some("Orphan") => Propagation::Orphan,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "propagationPolicy: Unsupported value: {}: supported values: \"Foreground\", \"Background\", \"Orphan\"",
                go_quote(other)
            )));
        }
    };
    let dry_run = body["dryRun"].as_array().is_some_and(|a| a.iter().any(|v| v == "All"))
        || query.get("dryRun").is_some_and(|v| v == "All");
    Ok(DeleteOptions {
        propagation,
        precondition_uid: body
            .pointer("/preconditions/uid")
            .and_then(Value::as_str)
            .map(String::from),
        precondition_rv: body
            .pointer("/preconditions/resourceVersion")
            .and_then(Value::as_str)
            .map(String::from),
        dry_run,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_apply_bodies_read_as_yaml_reads_them() {
        let bodies = [
            r#"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "name": "b"}, "data": {"n": "1"}}"#,
            r#"{"a": [1, -2, 18446744073709551615, true, null, "yes", "\u00e9\n"], "b": {}}"#,
            r#"{"f": 0.1, "g": 1e3, "h": -0}"#,
        ];
        for body in bodies {
            let yaml: Value = serde_yaml_ng::from_slice(body.as_bytes()).unwrap();
            let parsed = parse_body(&Bytes::from(body), "application/apply-patch+yaml").unwrap();
            assert_eq!(parsed, yaml, "{body}");
        }
        assert!(json_as_yaml(bodies[2].as_bytes()).is_none());
    }
}
