//! The subresources and request-only kinds that are not plain reads and writes of a stored
//! object: `/scale` (custom resources with `subresources.scale`, Deployments), a Pod's
//! `/ephemeralcontainers`, a ServiceAccount's `/token`, TokenReviews, and the read-only
//! ComponentStatuses. A CertificateSigningRequest's `/approval` is a write of `.status` and is
//! routed with `/status`.
//!
//! These write through the store directly, not through validating admission webhooks: the
//! webhooks the operator registers match its own kinds, never these subresources.

use std::sync::Arc;

use axum::body::Bytes;
use axum::http::{Method, StatusCode};
use serde_json::{Map, Value, json};

use crate::error::{ApiError, ApiResult};
use crate::registry::{Builtin, ResourceDef};
use crate::store::{PatchKind, Store, WriteOptions};

mod tokens;

/// One request against a resource, as the HTTP layer parsed it.
pub struct Request<'a> {
    pub method: &'a Method,
    pub def: &'a Arc<ResourceDef>,
    pub namespace: Option<&'a str>,
    pub name: Option<&'a str>,
    pub subresource: Option<&'a str>,
    pub content_type: &'a str,
    pub body: &'a Bytes,
}

/// The answer to `request` when it is one this module serves; None for the HTTP layer's own
/// handling. `options` reads the write options of the request, only for writes.
pub fn serve(
    store: &Store,
    request: &Request,
    options: impl Fn() -> ApiResult<WriteOptions>,
) -> ApiResult<Option<(StatusCode, Value)>> {
    let def = request.def;
    let not_allowed = || {
        Err(ApiError::method_not_allowed(format!(
            "the server does not allow this method on the requested resource ({})",
            request.method
        )))
    };
    match (def.builtin, request.subresource, request.name) {
        (Some(builtin), None, _) if builtin.create_only() => match (request.method, request.name) {
            (&Method::POST, None) => Ok(Some((StatusCode::CREATED, tokens::review(store, &body_json(request)?)))),
            _ => not_allowed(),
        },
        (Some(builtin), _, _) if builtin.read_only() && request.method != Method::GET => not_allowed(),
        (_, Some("scale"), Some(name)) if def.scale.is_some() => scale(store, request, name, options).map(Some),
        (Some(Builtin::ServiceAccount), Some("token"), Some(name)) => match request.method {
            &Method::POST => {
                let answer = tokens::token_request(store, def, request.namespace, name, &body_json(request)?)?;
                Ok(Some((StatusCode::CREATED, answer)))
            }
            _ => not_allowed(),
        },
        (Some(Builtin::Pod), Some("ephemeralcontainers"), Some(name)) => {
            ephemeral_containers(store, request, name, options).map(Some)
        }
        _ => Ok(None),
    }
}

fn body_json(request: &Request) -> ApiResult<Value> {
    serde_json::from_slice(request.body).map_err(|e| ApiError::bad_request(format!("invalid body: {e}")))
}

/// `.spec.replicas` as the JSON pointer `/spec/replicas`.
fn pointer_of(path: &str) -> String {
    path.trim_start_matches('.').split('.').fold(String::new(), |mut p, s| {
        p.push('/');
        p.push_str(s);
        p
    })
}

/// A merge patch setting the field at `path` (`.spec.replicas`) to `value`.
fn merge_patch_at(path: &str, value: Value) -> Value {
    path.trim_start_matches('.')
        .split('.')
        .rev()
        .fold(value, |inner, segment| {
            Value::Object(Map::from_iter([(segment.to_owned(), inner)]))
        })
}

/// The object's autoscaling/v1 Scale, read through the paths its scale subresource declares.
fn scale_of(def: &ResourceDef, object: &Value) -> Value {
    let paths = def.scale.clone().unwrap_or_default();
    let at = |key: &str| {
        paths[key]
            .as_str()
            .and_then(|path| object.pointer(&pointer_of(path)))
            .cloned()
    };
    let metadata = &object["metadata"];
    let mut scale_metadata = Map::new();
    for key in ["name", "namespace", "uid", "resourceVersion", "creationTimestamp"] {
        if let Some(value) = metadata.get(key) {
            scale_metadata.insert(key.into(), value.clone());
        }
    }
    let mut status = json!({ "replicas": at("statusReplicasPath").unwrap_or(json!(0)) });
    if let Some(selector) = at("labelSelectorPath").filter(Value::is_string) {
        status["selector"] = selector;
    }
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": scale_metadata,
        "spec": { "replicas": at("specReplicasPath").unwrap_or(json!(0)) },
        "status": status,
    })
}

fn scale(
    store: &Store,
    request: &Request,
    name: &str,
    options: impl Fn() -> ApiResult<WriteOptions>,
) -> ApiResult<(StatusCode, Value)> {
    let def = request.def;
    let object = store.get(def, request.namespace, name)?;
    let current = scale_of(def, &object);
    let wanted = match *request.method {
        Method::GET => return Ok((StatusCode::OK, current)),
        Method::PUT => body_json(request)?,
        Method::PATCH => apply_patch(&current, request.content_type, &body_json(request)?)?,
        _ => {
            return Err(ApiError::method_not_allowed(
                "the server does not allow this method on the requested resource",
            ));
        }
    };
    let stale = wanted
        .pointer("/metadata/resourceVersion")
        .is_some_and(|rv| Some(rv) != object.pointer("/metadata/resourceVersion"));
    if stale {
        return Err(ApiError::conflict(
            &def.group,
            &def.plural,
            name,
            "the object has been modified; please apply your changes to the latest version and try again",
        ));
    }
    let Some(replicas) = wanted.pointer("/spec/replicas").and_then(Value::as_i64) else {
        return Err(ApiError::bad_request("spec.replicas: Required value"));
    };
    if replicas < 0 {
        return Err(ApiError::bad_request(format!(
            "spec.replicas: Invalid value: {replicas}: must be greater than or equal to 0"
        )));
    }
    let spec_path = def
        .scale
        .as_ref()
        .and_then(|s| s["specReplicasPath"].as_str())
        .unwrap_or(".spec.replicas");
    let patch = merge_patch_at(spec_path, json!(replicas));
    let written = store.patch(
        def,
        request.namespace,
        name,
        PatchKind::Merge,
        patch,
        false,
        &options()?,
    )?;
    Ok((StatusCode::OK, scale_of(def, &written.object)))
}

/// A merge or JSON patch applied to a subresource's body (strategic merge on a Scale is a merge).
fn apply_patch(current: &Value, content_type: &str, patch: &Value) -> ApiResult<Value> {
    let mut patched = current.clone();
    match content_type {
        "application/json-patch+json" => {
            let operations: json_patch::Patch = serde_json::from_value(patch.clone())
                .map_err(|e| ApiError::bad_request(format!("invalid JSON patch: {e}")))?;
            json_patch::patch(&mut patched, &operations).map_err(|e| ApiError::bad_request(e.to_string()))?;
        }
        "application/merge-patch+json" | "application/strategic-merge-patch+json" => {
            json_patch::merge(&mut patched, patch)
        }
        other => {
            return Err(ApiError::unsupported_media_type(
                other,
                &[
                    "application/json-patch+json",
                    "application/merge-patch+json",
                    "application/strategic-merge-patch+json",
                ],
            ));
        }
    }
    Ok(patched)
}

/// A Pod's ephemeral containers: read as the whole Pod, written only in `spec.ephemeralContainers`
/// (a strategic merge patch merges them by `name`, as `patchMergeKey:"name"` says).
fn ephemeral_containers(
    store: &Store,
    request: &Request,
    name: &str,
    options: impl Fn() -> ApiResult<WriteOptions>,
) -> ApiResult<(StatusCode, Value)> {
    let def = request.def;
    let pod = store.get(def, request.namespace, name)?;
    let containers = match *request.method {
        Method::GET => return Ok((StatusCode::OK, pod)),
        Method::PUT => body_json(request)?.pointer("/spec/ephemeralContainers").cloned(),
        Method::PATCH if request.content_type == "application/strategic-merge-patch+json" => {
            let patch = body_json(request)?;
            let mut merged: Vec<Value> = pod["spec"]["ephemeralContainers"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            for container in patch
                .pointer("/spec/ephemeralContainers")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                match merged.iter_mut().find(|c| c["name"] == container["name"]) {
                    Some(existing) => json_patch::merge(existing, container),
                    None => merged.push(container.clone()),
                }
            }
            Some(Value::Array(merged))
        }
        Method::PATCH => apply_patch(&pod, request.content_type, &body_json(request)?)?
            .pointer("/spec/ephemeralContainers")
            .cloned(),
        _ => {
            return Err(ApiError::method_not_allowed(
                "the server does not allow this method on the requested resource",
            ));
        }
    };
    let existing = pod["spec"]["ephemeralContainers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let wanted = containers.and_then(|c| c.as_array().cloned()).unwrap_or_default();
    // As the real server's validation: ephemeral containers are added, never changed or removed.
    let kept = existing
        .iter()
        .all(|old| wanted.iter().any(|new| new["name"] == old["name"]));
    if !kept {
        return Err(ApiError::invalid(
            &def.group,
            &def.qualified_kind(),
            name,
            vec![(
                "FieldValueForbidden".into(),
                "spec.ephemeralContainers".into(),
                "spec.ephemeralContainers: Forbidden: existing ephemeral containers may not be removed".into(),
            )],
        ));
    }
    let patch = json!({ "spec": { "ephemeralContainers": wanted } });
    let written = store.patch(
        def,
        request.namespace,
        name,
        PatchKind::Merge,
        patch,
        false,
        &options()?,
    )?;
    Ok((StatusCode::OK, written.object))
}

#[cfg(test)]
mod tests;
