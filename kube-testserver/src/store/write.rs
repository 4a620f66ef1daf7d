//! The write path create and update share (and patch ends in): identity, names,
//! decoding and validation, generation, field ownership, no-op detection, and storing the
//! result.

use std::sync::Arc;

use serde_json::{Map, Value, json};

use crate::admission;
use crate::error::{ApiError, ApiResult};
use crate::go_format::{go_json, go_print, go_quote};
use crate::managed_fields;
use crate::openapi;
use crate::registry::{Builtin, ResourceDef};
use crate::schema;

use super::crds::crd_errors;
use super::strategy::prepare_builtin;
use super::{
    EventType, FieldValidation, ObjectKey, Operation, Pending, Source, State, Step, WriteOptions, Written, finalizers,
    meta_str, metadata_mut, now_rfc3339,
};

impl State {
    pub(super) fn create(
        &mut self,
        def: &Arc<ResourceDef>,
        namespace: Option<&str>,
        mut body: Value,
        options: &WriteOptions,
        source: Source,
    ) -> ApiResult<Pending> {
        check_kind(def, &body)?;
        let namespace = self.check_namespace(def, namespace, &body)?;
        let metadata = metadata_mut(&mut body);
        let name_generated = metadata
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .is_empty();
        if name_generated {
            match metadata.get("generateName").and_then(Value::as_str) {
                Some(prefix) if !prefix.is_empty() => {
                    let suffix: String = uuid::Uuid::new_v4().simple().to_string()[..5].to_string();
                    metadata.insert("name".into(), json!(format!("{prefix}{suffix}")));
                }
                _ => {
                    return Err(ApiError::invalid(
                        &def.group,
                        &def.qualified_kind(),
                        "",
                        vec![(
                            "FieldValueRequired".into(),
                            "metadata.name".into(),
                            "metadata.name: Required value: name or generateName is required".into(),
                        )],
                    ));
                }
            }
        }
        for field in [
            "resourceVersion",
            "uid",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "managedFields",
            "creationTimestamp",
            "generation",
            "selfLink",
        ] {
            metadata.remove(field);
        }
        if let Some(ns) = &namespace {
            metadata.insert("namespace".into(), json!(ns));
        } else {
            metadata.remove("namespace");
        }
        let name = meta_str(&body, "name").unwrap_or_default().to_string();
        let key = Self::key(def, namespace.as_deref(), &name);
        if def.status_subresource
            && def.custom
            && let Some(map) = body.as_object_mut()
        {
            map.remove("status");
        }
        if self.objects.contains_key(&key) {
            return Err(ApiError::already_exists(&def.group, &def.plural, &name));
        }
        if let Some(ns) = &namespace {
            let namespace_object = self.objects.get(&ObjectKey {
                group: String::new(),
                plural: "namespaces".into(),
                namespace: String::new(),
                name: ns.clone(),
            });
            if namespace_object.is_some_and(|n| n.pointer("/metadata/deletionTimestamp").is_some()) {
                return Err(ApiError::forbidden(
                    &def.group,
                    &def.plural,
                    &name,
                    &format!("unable to create new content in namespace {ns} because it is being terminated"),
                ));
            }
        }
        let warnings = self.admit(def, &mut body, None, options, &source)?;
        let metadata = metadata_mut(&mut body);
        metadata.insert("uid".into(), json!(uuid::Uuid::new_v4().to_string()));
        metadata.insert("creationTimestamp".into(), json!(now_rfc3339()));
        if tracks_generation(def) {
            metadata.insert("generation".into(), json!(1));
        }
        match source {
            Source::Applied(Some(managed)) => {
                metadata_mut(&mut body).insert("managedFields".into(), managed);
            }
            _ => managed_fields::record_update(
                None,
                &mut body,
                &options.field_manager,
                def.schema.as_ref(),
                None,
                def.status_subresource,
                &now_rfc3339(),
            ),
        }
        Ok(Pending {
            def: def.clone(),
            operation: Operation::Create,
            name,
            name_generated,
            namespace,
            dry_run: options.dry_run,
            warnings,
            key,
            expected_rv: None,
            step: Step::Create { object: body },
        })
    }

    /// Stores a prepared write (or, for a dry run, only answers what it would store).
    pub(super) fn commit(&mut self, pending: Pending) -> ApiResult<Written> {
        let Pending {
            def,
            dry_run,
            warnings,
            key,
            step,
            ..
        } = pending;
        match step {
            Step::Create { mut object } => {
                if dry_run {
                    return Ok(Written {
                        object,
                        created: true,
                        warnings,
                    });
                }
                let rv = self.next_rv();
                metadata_mut(&mut object).insert("resourceVersion".into(), json!(rv));
                self.objects.insert(key.clone(), object.clone());
                self.record(&key, EventType::Added, object.clone(), None);
                let object = self.after_write(&def, &key, object);
                Ok(Written {
                    object,
                    created: true,
                    warnings,
                })
            }
            Step::Update {
                old,
                mut new,
                finalized,
                unchanged,
            } => {
                if unchanged {
                    return Ok(Written {
                        object: old,
                        created: false,
                        warnings,
                    });
                }
                if dry_run {
                    return Ok(Written {
                        object: new,
                        created: false,
                        warnings,
                    });
                }
                let rv = self.next_rv();
                metadata_mut(&mut new).insert("resourceVersion".into(), json!(rv));
                if finalized {
                    self.objects.insert(key.clone(), new.clone());
                    self.remove(&key);
                    return Ok(Written {
                        object: new,
                        created: false,
                        warnings,
                    });
                }
                self.objects.insert(key.clone(), new.clone());
                self.record(&key, EventType::Modified, new.clone(), Some(old));
                let object = self.after_write(&def, &key, new);
                Ok(Written {
                    object,
                    created: false,
                    warnings,
                })
            }
            Step::Delete { object, propagation } => {
                let object = if dry_run {
                    object
                } else {
                    self.delete_key(&key, propagation).unwrap_or(object)
                };
                Ok(Written {
                    object,
                    created: false,
                    warnings,
                })
            }
        }
    }

    /// Decoding and validation. Custom resources get their CRD schema's pruning, nulls and
    /// defaults; built-ins lose what their Go types do not declare. Unknown fields are then
    /// refused or reported as `options.field_validation` asks, before anything is validated, as
    /// the apiserver's decoder does. Returns the warnings.
    fn admit(
        &self,
        def: &ResourceDef,
        object: &mut Value,
        old: Option<&Value>,
        options: &WriteOptions,
        source: &Source,
    ) -> ApiResult<Vec<String>> {
        let webhooks = matches!(
            def.builtin,
            Some(Builtin::ValidatingWebhookConfiguration | Builtin::MutatingWebhookConfiguration)
        );
        if webhooks && let Some(error) = admission::configuration_decoding_error(object) {
            return Err(ApiError::bad_request(format!(
                "{kind} in version {version} cannot be handled as a {kind}: {error}",
                kind = def.kind,
                version = go_quote(&def.version),
            )));
        }
        let unknown = match (&def.schema, def.builtin) {
            (Some(schema), _) => schema::normalize(schema, object),
            (None, Some(builtin)) => schema::prune_unknown(openapi::builtin_schema(builtin), object),
            (None, None) => Vec::new(),
        };
        let unknown: Vec<String> = unknown
            .iter()
            .map(|path| format!("unknown field \"{}\"", path.trim_start_matches('.')))
            .collect();
        let warnings = match options.field_validation {
            FieldValidation::Strict if !unknown.is_empty() => {
                return Err(strict_decoding_error(def, source, &unknown));
            }
            FieldValidation::Ignore => vec![],
            _ => unknown,
        };
        let name = meta_str(object, "name").unwrap_or_default().to_string();
        let mut errors: Vec<(String, String, String)> = vec![];
        let label_only = def.builtin == Some(Builtin::Namespace);
        if old.is_none()
            && let Some(message) = name_errors(&name, label_only)
        {
            errors.push(("FieldValueInvalid".into(), "metadata.name".into(), message));
        }
        if let Some(schema) = &def.schema {
            for error in schema::validate(schema, &def.programs, object, old) {
                let message = error.message();
                errors.push((error.cause_reason().to_string(), error.field.clone(), message));
            }
        }
        if def.builtin == Some(Builtin::CustomResourceDefinition) {
            errors.extend(crd_errors(object));
        }
        if webhooks {
            errors.extend(admission::configuration_errors(
                object,
                def.builtin == Some(Builtin::MutatingWebhookConfiguration),
            ));
        }
        if !errors.is_empty() {
            return Err(ApiError::invalid(&def.group, &def.qualified_kind(), &name, errors));
        }
        prepare_builtin(def, object);
        Ok(warnings)
    }

    pub(super) fn update(
        &mut self,
        def: &Arc<ResourceDef>,
        namespace: Option<&str>,
        name: &str,
        mut body: Value,
        status: bool,
        options: &WriteOptions,
    ) -> ApiResult<Pending> {
        check_kind(def, &body)?;
        if let Some(body_name) = meta_str(&body, "name")
            && body_name != name
        {
            return Err(ApiError::bad_request(
                "the name of the object does not match the name on the URL",
            ));
        }
        let old = self.get(def, namespace, name)?;
        match meta_str(&body, "resourceVersion") {
            Some(rv) if rv != meta_str(&old, "resourceVersion").unwrap_or_default() => {
                return Err(ApiError::modified(&def.group, &def.plural, name));
            }
            None if def.custom => {
                return Err(ApiError::invalid(
                    &def.group,
                    &def.qualified_kind(),
                    name,
                    vec![(
                        "FieldValueInvalid".into(),
                        "metadata.resourceVersion".into(),
                        "metadata.resourceVersion: Invalid value: 0x0: must be specified for an update".into(),
                    )],
                ));
            }
            _ => {}
        }
        if let Some(ns) = namespace {
            metadata_mut(&mut body).insert("namespace".into(), json!(ns));
        }
        self.update_from(def, old, body, status, options, Source::Body)
    }

    /// The shared tail of update and patch: status-subresource rules,
    /// admission, generation, field ownership, finalizers, no-op detection.
    pub(super) fn update_from(
        &mut self,
        def: &Arc<ResourceDef>,
        old: Value,
        mut new: Value,
        status: bool,
        options: &WriteOptions,
        source: Source,
    ) -> ApiResult<Pending> {
        let name = meta_str(&old, "name").unwrap_or_default().to_string();
        if def.status_subresource {
            if status {
                let mut merged = old.clone();
                match new.as_object_mut().and_then(|fields| fields.remove("status")) {
                    Some(s) => merged["status"] = s,
                    None => {
                        if let Some(map) = merged.as_object_mut() {
                            map.remove("status");
                        }
                    }
                }
                new = merged;
            } else {
                match old.get("status") {
                    Some(s) => new["status"] = s.clone(),
                    None => {
                        if let Some(map) = new.as_object_mut() {
                            map.remove("status");
                        }
                    }
                }
            }
        }
        // Identity and server-owned metadata always come from the stored object.
        let old_meta = old.get("metadata");
        let metadata = metadata_mut(&mut new);
        // managedFields stay as sent: clients (kubectl's migration from client-side apply) may rewrite them.
        for field in [
            "name",
            "namespace",
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "generation",
            "resourceVersion",
        ] {
            match old_meta.and_then(|meta| meta.get(field)) {
                Some(v) => metadata.insert(field.into(), v.clone()),
                None => metadata.remove(field),
            };
        }
        new["apiVersion"] = old["apiVersion"].clone();
        new["kind"] = old["kind"].clone();
        if old.pointer("/metadata/deletionTimestamp").is_some() {
            let before = finalizers(&old);
            if let Some(added) = finalizers(&new).into_iter().find(|f| !before.contains(f)) {
                return Err(ApiError::invalid(
                    &def.group,
                    &def.qualified_kind(),
                    &name,
                    vec![(
                        "FieldValueForbidden".into(),
                        "metadata.finalizers".into(),
                        format!(
                            "metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{{{}}}",
                            go_quote(&added)
                        ),
                    )],
                ));
            }
        }
        let warnings = self.admit(def, &mut new, Some(&old), options, &source)?;
        if tracks_generation(def) && !same_spec(&new, &old) {
            let generation = old.pointer("/metadata/generation").and_then(Value::as_i64).unwrap_or(0) + 1;
            metadata_mut(&mut new).insert("generation".into(), json!(generation));
        }
        match source {
            Source::Applied(Some(managed)) => {
                metadata_mut(&mut new).insert("managedFields".into(), managed);
            }
            _ => managed_fields::record_update(
                Some(&old),
                &mut new,
                &options.field_manager,
                def.schema.as_ref(),
                status.then_some("status"),
                def.status_subresource,
                &now_rfc3339(),
            ),
        }
        let namespace = meta_str(&old, "namespace").map(String::from);
        let key = Self::key(def, namespace.as_deref(), &name);
        let finalized = old.pointer("/metadata/deletionTimestamp").is_some() && finalizers(&new).is_empty();
        let unchanged = !finalized && same_apart_from_volatile(&new, &old);
        Ok(Pending {
            def: def.clone(),
            operation: Operation::Update,
            name,
            name_generated: false,
            namespace,
            dry_run: options.dry_run,
            warnings,
            key,
            expected_rv: meta_str(&old, "resourceVersion").map(String::from),
            step: Step::Update {
                old,
                new,
                finalized,
                unchanged,
            },
        })
    }

    /// Side effects of a stored write on other objects: CRDs register their
    /// kinds; a Namespace or CRD being deleted cleans up its contents. Returns the object as
    /// stored in the end, `written` unless the side effects changed it.
    fn after_write(&mut self, def: &ResourceDef, key: &ObjectKey, written: Value) -> Value {
        if def.builtin != Some(Builtin::CustomResourceDefinition) {
            return written;
        }
        self.settle_crd(key);
        self.objects.get(key).cloned().unwrap_or(written)
    }
}

/// Whether two objects agree on the part whose change moves `metadata.generation`: all but
/// `metadata` and `status`.
fn same_spec(a: &Value, b: &Value) -> bool {
    match (a.as_object(), b.as_object()) {
        (Some(a), Some(b)) => same_except(a, b, &["metadata", "status"]),
        _ => a == b,
    }
}

/// Whether a write changes nothing. A change of field ownership alone is a change (kubectl's
/// migration from client-side apply writes nothing else), but not a manager's newer timestamp:
/// the apiserver's `IgnoreManagedFieldsTimestampsTransformer` keeps the old ones then, so the
/// write stores nothing. Compared in place: the objects are large, and copies of them were a
/// good part of a write's cost.
fn same_apart_from_volatile(new: &Value, old: &Value) -> bool {
    let (Some(new), Some(old)) = (new.as_object(), old.as_object()) else {
        return new == old;
    };
    if !same_except(new, old, &["metadata"]) {
        return false;
    }
    match (new.get("metadata"), old.get("metadata")) {
        (Some(Value::Object(new)), Some(Value::Object(old))) => {
            same_except(new, old, &["resourceVersion", "managedFields"])
                && same_managed_fields(new.get("managedFields"), old.get("managedFields"))
        }
        (new, old) => new == old,
    }
}

/// Whether two `managedFields` agree but for the times of their entries.
fn same_managed_fields(new: Option<&Value>, old: Option<&Value>) -> bool {
    match (new, old) {
        (Some(Value::Array(new)), Some(Value::Array(old))) => {
            new.len() == old.len()
                && new.iter().zip(old).all(|pair| match pair {
                    (Value::Object(new), Value::Object(old)) => same_except(new, old, &["time"]),
                    (new, old) => new == old,
                })
        }
        (new, old) => new == old,
    }
}

/// Whether two maps are equal once the keys `skip` are left out of both.
fn same_except(a: &Map<String, Value>, b: &Map<String, Value>, skip: &[&str]) -> bool {
    let kept = |map: &Map<String, Value>| map.keys().filter(|key| !skip.contains(&key.as_str())).count();
    kept(a) == kept(b)
        && a.iter()
            .filter(|(key, _)| !skip.contains(&key.as_str()))
            .all(|(key, value)| b.get(key) == Some(value))
}

const DNS1123_SUBDOMAIN: &str = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const DNS1123_LABEL: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";

fn name_errors(name: &str, label_only: bool) -> Option<String> {
    let (pattern, max, what, example) = if label_only {
        (DNS1123_LABEL, 63, "RFC 1123 label", "'my-name',  or '123-abc'")
    } else {
        (DNS1123_SUBDOMAIN, 253, "RFC 1123 subdomain", "'example.com'")
    };
    let full = schema::cached_regex(&format!("^{pattern}$")).ok()?;
    if name.len() > max {
        return Some(format!(
            "metadata.name: Invalid value: {}: must be no more than {max} characters",
            go_quote(name)
        ));
    }
    if full.is_match(name) {
        return None;
    }
    let chars = if label_only { "'-'" } else { "'-' or '.'" };
    Some(format!(
        "metadata.name: Invalid value: {}: a lowercase {what} must consist of lower case alphanumeric characters, {chars}, and must start and end with an alphanumeric character (e.g. {example}, regex used for validation is '{pattern}')",
        go_quote(name)
    ))
}

fn tracks_generation(def: &ResourceDef) -> bool {
    def.custom || matches!(def.builtin, Some(Builtin::CustomResourceDefinition))
}

/// The apiserver's refusal of unknown fields under `fieldValidation=Strict`. A body fails to
/// decode (`transformDecodeError`, 400); a patched object is an invalid `patch` (422), shown as
/// the JSON it became, or for a strategic merge patch as Go prints the patch map.
fn strict_decoding_error(def: &ResourceDef, source: &Source, unknown: &[String]) -> ApiError {
    let detail = format!("strict decoding error: {}", unknown.join(", "));
    let invalid_patch = |shown: String| {
        ApiError::invalid(
            "",
            "",
            "",
            vec![(
                "FieldValueInvalid".into(),
                "patch".into(),
                format!("patch: Invalid value: {}: {detail}", go_quote(&shown)),
            )],
        )
    };
    match source {
        Source::Patched(patched) => invalid_patch(patched.map(go_json).unwrap_or_default()),
        Source::StrategicPatch(patch) => invalid_patch(go_print(patch)),
        Source::Body | Source::Applied(_) => ApiError::bad_request(format!(
            "{kind} in version \"{version}\" cannot be handled as a {kind}: {detail}",
            kind = def.kind,
            version = def.version
        )),
    }
}

fn check_kind(def: &ResourceDef, body: &Value) -> ApiResult<()> {
    let kind = body.get("kind").and_then(Value::as_str).unwrap_or_default();
    let api_version = body.get("apiVersion").and_then(Value::as_str).unwrap_or_default();
    if (!kind.is_empty() && kind != def.kind) || (!api_version.is_empty() && api_version != def.api_version()) {
        return Err(ApiError::bad_request(format!(
            "the API version in the data ({api_version}) does not match the expected API version ({})",
            def.api_version()
        )));
    }
    if !body.is_object() {
        return Err(ApiError::bad_request("the body of the request is not an object"));
    }
    Ok(())
}
