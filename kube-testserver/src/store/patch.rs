//! Patches: JSON merge, JSON (RFC 6902), strategic merge and server-side apply, each
//! computed against the stored object before the shared update path.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult};
use crate::managed_fields;
use crate::openapi;
use crate::registry::ResourceDef;
use crate::strategic;

use super::{FieldValidation, PatchKind, Pending, Source, State, WriteOptions, meta_str, now_rfc3339};

impl State {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn patch(
        &mut self,
        def: &Arc<ResourceDef>,
        namespace: Option<&str>,
        name: &str,
        kind: PatchKind,
        patch: Value,
        status: bool,
        options: &WriteOptions,
    ) -> ApiResult<Pending> {
        let existing = self.get(def, namespace, name).ok();
        let subresource = status.then_some("status");
        match kind {
            PatchKind::Apply => {
                let schema = def.schema.as_ref().or(def.builtin.map(openapi::builtin_schema));
                if let Some(error) = schema.and_then(|schema| {
                    managed_fields::undeclared_fields_error(&patch, schema, openapi::object_meta_schema())
                }) {
                    return Err(typed_patch_error(&patch, &error));
                }
                let now = now_rfc3339();
                let applied = managed_fields::apply(existing.as_ref(), &patch, &options.field_manager, options.force, def.schema.as_ref(), subresource, def.status_subresource, &now)
                    .map_err(|conflicts| {
                        let causes = conflicts
                            .iter()
                            .map(|c| json!({"reason": "FieldManagerConflict", "message": c.cause_message(), "field": c.field}))
                            .collect();
                        ApiError::apply_conflict(&def.group, &def.plural, name, managed_fields::conflict_message(&conflicts), causes)
                    })?;
                let managed = Source::Applied(applied.pointer("/metadata/managedFields").cloned());
                match existing {
                    None => {
                        if status {
                            return Err(ApiError::not_found(&def.group, &def.plural, name));
                        }
                        self.create(def, namespace, applied, options, managed)
                    }
                    Some(old) => self.update_from(def, old, applied, status, options, managed),
                }
            }
            other => {
                let old = existing.ok_or_else(|| ApiError::not_found(&def.group, &def.plural, name))?;
                let patched = match other {
                    PatchKind::Merge => {
                        let mut doc = old.clone();
                        json_patch::merge(&mut doc, &patch);
                        doc
                    }
                    PatchKind::Json => {
                        let operations: json_patch::Patch = serde_json::from_value(patch.clone()).map_err(|e| {
                            ApiError::bad_request(format!(
                                "the server rejected our request due to an error in our request: {e}"
                            ))
                        })?;
                        let mut doc = old.clone();
                        apply_json_patch(&mut doc, operations).map_err(|e| {
                            ApiError::invalid(
                                &def.group,
                                &def.qualified_kind(),
                                name,
                                vec![(
                                    "FieldValueInvalid".into(),
                                    String::new(),
                                    format!("the server rejected our request due to an error in our request: {e}"),
                                )],
                            )
                        })?;
                        doc
                    }
                    PatchKind::Strategic => {
                        if def.custom {
                            return Err(ApiError::unsupported_media_type(
                                "application/strategic-merge-patch+json",
                                &[
                                    "application/json-patch+json",
                                    "application/merge-patch+json",
                                    "application/apply-patch+yaml",
                                ],
                            ));
                        }
                        strategic::strategic_merge(&old, &patch).map_err(ApiError::bad_request)?
                    }
                    PatchKind::Apply => unreachable!("handled above"),
                };
                let precondition = patch_rv(&patched, &old);
                if let Some(false) = precondition {
                    return Err(ApiError::modified(&def.group, &def.plural, name));
                }
                // Only a strict request's refusal shows the patched object as it was.
                let as_patched = (options.field_validation == FieldValidation::Strict).then(|| patched.clone());
                let source = match other {
                    PatchKind::Strategic => Source::StrategicPatch(&patch),
                    _ => Source::Patched(as_patched.as_ref()),
                };
                self.update_from(def, old, patched, status, options, source)
            }
        }
    }
}

/// RFC 6902 as the API server's library reads it: a `test` for `null` at a
/// path that does not exist succeeds (clients such as kube-rs's finalizer
/// helper rely on it to mean "not set yet").
fn apply_json_patch(doc: &mut Value, operations: json_patch::Patch) -> Result<(), json_patch::PatchError> {
    for operation in operations.0 {
        if let json_patch::PatchOperation::Test(test) = &operation
            && test.value.is_null()
            && doc.pointer(test.path.as_str()).is_none()
        {
            continue;
        }
        json_patch::patch(doc, &[operation])?;
    }
    Ok(())
}

/// A patch that names `metadata.resourceVersion` is a precondition on it.
fn patch_rv(patched: &Value, old: &Value) -> Option<bool> {
    let wanted = meta_str(patched, "resourceVersion")?;
    Some(Some(wanted) == meta_str(old, "resourceVersion"))
}

/// The field manager's failure to type an applied configuration, whatever `fieldValidation`
/// says. It is no API status, so the apiserver answers 500 without a reason, naming the
/// configuration as `objectGVKNN` does: `default/name; /v1, Kind=ConfigMap`.
fn typed_patch_error(config: &Value, error: &str) -> ApiError {
    let api_version = config.get("apiVersion").and_then(Value::as_str).unwrap_or_default();
    let group_version = if api_version.contains('/') {
        api_version.to_owned()
    } else {
        format!("/{api_version}")
    };
    ApiError::internal(format!(
        "failed to create typed patch object ({}/{}; {group_version}, Kind={}): {error}",
        meta_str(config, "namespace").unwrap_or_default(),
        meta_str(config, "name").unwrap_or_default(),
        config.get("kind").and_then(Value::as_str).unwrap_or_default(),
    ))
}
