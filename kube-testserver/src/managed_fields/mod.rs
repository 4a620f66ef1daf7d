//! Server-side apply and field ownership (`metadata.managedFields`) as the kube-apiserver does
//! them.
//!
//! The merge, comparison, pruning and field-set algebra follow sigs.k8s.io/structured-merge-diff;
//! the managers wrapped around them follow k8s.io/apimachinery/pkg/util/managedfields: identity
//! fields are never owned, fields of an object nobody tracked belong to "before-first-apply",
//! `kubectl` applies may take over what client-side apply recorded in
//! `kubectl.kubernetes.io/last-applied-configuration`, and entries are encoded and sorted the
//! same way.
//!
//! How lists and maps merge comes from the custom resource's `openAPIV3Schema`
//! (`x-kubernetes-list-type` / `x-kubernetes-list-map-keys`, atomic when unspecified;
//! `x-kubernetes-map-type`; `x-kubernetes-preserve-unknown-fields`). `metadata` always has
//! ObjectMeta's rules: `labels`/`annotations` granular maps, `finalizers` a set,
//! `ownerReferences` a map keyed by `uid`. Built-in kinds (no schema) use the rules of their Go
//! types: `status.conditions` keyed by `type`, Event object references atomic, the rest
//! structs and atomic lists.
//!
//! This module holds the apply and update operations; beneath them, `managers` reads and writes
//! the entries of `metadata.managedFields`, `field_set` holds paths and sets of fields, `shape`
//! the schema of each node, and `merge` the walks that compare, merge and remove values.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::go_format::go_json;

mod field_set;
mod managers;
mod merge;
mod shape;
#[cfg(test)]
mod tests;

use field_set::{FieldSet, PathElement, path_string};
use managers::{
    ManagedEntry, ManagerId, Managers, Operation, decode_managers, encode_managers, managers_sent_in,
    remove_managed_fields, strip_identity_fields,
};
use merge::{Comparison, merge, remove_fields};
use shape::Shape;
pub use shape::undeclared_fields_error;

const LAST_APPLIED_ANNOTATION: &str = "kubectl.kubernetes.io/last-applied-configuration";
/// Only applies by kubectl's own server-side field manager upgrade client-side-applied objects.
const KUBECTL_MANAGER: &str = "kubectl";
const BEFORE_FIRST_APPLY_MANAGER: &str = "before-first-apply";
/// apimachinery's `TotalAnnotationSizeLimitB`: a last-applied annotation exceeding it is dropped.
const TOTAL_ANNOTATION_SIZE_LIMIT: usize = 256 * 1024;

/// A field another manager owns with a different value than the applied configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conflict {
    /// The owner's name, as in `managedFields[].manager`.
    pub manager: String,
    /// The field as the apiserver prints it: `.spec.roleName`, `.status.conditions[type="Ready"]`.
    pub field: String,
    owner: ManagerId,
    path: Vec<PathElement>,
}

impl Conflict {
    /// The `message` of this conflict's `StatusCause` (whose `reason` is `FieldManagerConflict`
    /// and `field` is [`Conflict::field`]): `conflict with "kubectl-create" using v1`.
    pub fn cause_message(&self) -> String {
        format!("conflict with {}", self.owner.describe())
    }
}

/// The apiserver's message for a failed apply:
/// `Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using awsaccess.dev/v1alpha1: .spec.roleName`,
/// or, for several, one `conflicts with <manager>:` line per manager followed by its `- <field>` lines.
pub fn conflict_message(conflicts: &[Conflict]) -> String {
    if let [only] = conflicts {
        return format!(
            "Apply failed with 1 conflict: conflict with {}: {}",
            only.owner.describe(),
            only.field
        );
    }
    // The apiserver groups by the manager's JSON identifier and sorts those strings.
    let mut by_manager: BTreeMap<String, (&ManagerId, Vec<&str>)> = BTreeMap::new();
    for conflict in conflicts {
        by_manager
            .entry(conflict.owner.identifier())
            .or_insert_with(|| (&conflict.owner, Vec::new()))
            .1
            .push(&conflict.field);
    }
    let mut lines = Vec::new();
    for (owner, fields) in by_manager.values() {
        lines.push(format!("conflicts with {}:", owner.describe()));
        lines.extend(fields.iter().map(|field| format!("- {field}")));
    }
    format!("Apply failed with {} conflicts: {}", conflicts.len(), lines.join("\n"))
}

/// Server-side apply of `config` (the applied configuration as sent) by `manager` onto `live`
/// (`None`: the object does not exist yet and is created from the configuration).
///
/// `schema` is the custom resource's `openAPIV3Schema` (`None` for built-in kinds).
/// `subresource` is `Some("status")` for an apply to `/status`: only the configuration's
/// `.status` counts and everything else of `live` is kept. `status_subresource` says the kind has
/// a status subresource, so an apply to the main resource ignores the configuration's `.status`.
/// `now` (RFC 3339) stamps the manager's entry when the object changes.
///
/// Returns the merged object with `metadata.managedFields` updated, or the conflicts (none when
/// `force`, which takes the fields from their other managers). Checking the configuration itself
/// (kind and apiVersion, no `metadata.managedFields`) is the caller's job.
#[allow(clippy::too_many_arguments)] // one positional argument per property of the request
pub fn apply(
    live: Option<&Value>,
    config: &Value,
    manager: &str,
    force: bool,
    schema: Option<&Value>,
    subresource: Option<&str>,
    status_subresource: bool,
    now: &str,
) -> Result<Value, Vec<Conflict>> {
    let request = Request::new(schema, subresource, status_subresource, string_at(config, "apiVersion"));
    let mut live_object = live.cloned().unwrap_or_else(|| json!({}));
    // Ownership the server cannot read is dropped rather than making the object unappliable.
    let mut managers = decode_managers(&live_object).unwrap_or_default();
    remove_managed_fields(&mut live_object);
    if managers.is_empty() {
        // Whatever exists before the first apply belongs to a pseudo-manager, so it can conflict.
        let owner = request.manager(BEFORE_FIRST_APPLY_MANAGER, Operation::Update);
        request.record_changes(&json!({}), &live_object, &mut managers, owner, now);
    }
    let applied = request.scope.applied_part(config);
    let applier = request.manager(manager, Operation::Apply);

    let mut updated = managers.clone();
    let merged = match request.merge_config(&live_object, &applied, &mut updated, &applier, force) {
        Ok(merged) => merged,
        Err(conflicts) if manager == KUBECTL_MANAGER => {
            let remaining = conflicts_not_taken_over(conflicts, &live_object, &request);
            if !remaining.is_empty() {
                return Err(remaining);
            }
            updated = managers;
            request.merge_config(&live_object, &applied, &mut updated, &applier, true)?
        }
        Err(conflicts) => return Err(conflicts),
    };
    let mut managers = updated;
    let changed = merged != live_object;
    if let Some(entry) = managers.get_mut(&applier) {
        entry.set = strip_identity_fields(&entry.set);
        if changed {
            entry.time = Some(now.to_owned());
        }
    }
    managers.retain(|_, entry| !entry.set.is_empty());

    let mut result = merged;
    drop_applied_nulls(&mut result, &applied, request.shape);
    request.scope.keep_untouched(&mut result, &live_object);
    if manager == KUBECTL_MANAGER {
        sync_last_applied(&mut result, config);
    }
    encode_managers(&managers, &mut result);
    Ok(result)
}

/// Records a non-apply write (create, update or patch; operation `Update`) by `manager`: the
/// fields whose value differs between `old` and `new` (all of them when `old` is `None`) become
/// owned by the manager's `Update` entry and leave every other manager's set; managers left
/// owning nothing are dropped. Arguments mean what they mean for [`apply`].
///
/// As in the apiserver, `managedFields` sent in `new` replace the recorded ones (that is how
/// kubectl migrates client-side-apply ownership), `[]` or `[{}]` clears them, and an existing
/// object without managed fields stays untracked. Writes to a subresource always keep the
/// recorded ones.
#[allow(clippy::too_many_arguments)] // one positional argument per property of the request
pub fn record_update(
    old: Option<&Value>,
    new: &mut Value,
    manager: &str,
    schema: Option<&Value>,
    subresource: Option<&str>,
    status_subresource: bool,
    now: &str,
) {
    let request = Request::new(schema, subresource, status_subresource, string_at(new, "apiVersion"));
    let mut live = old.cloned().unwrap_or_else(|| json!({}));
    let recorded = decode_managers(&live).unwrap_or_default();
    let mut managers = match subresource {
        Some(_) => recorded,
        None => managers_sent_in(new).unwrap_or(recorded),
    };
    remove_managed_fields(new);
    remove_managed_fields(&mut live);
    if managers.is_empty() && old.is_some() {
        return;
    }
    let owner = request.manager(manager, Operation::Update);
    request.record_changes(&live, new, &mut managers, owner, now);
    encode_managers(&managers, new);
}

/// What every step of one write needs to know.
struct Request<'s> {
    shape: Shape<'s>,
    scope: Scope,
    subresource: Option<String>,
    api_version: String,
}

impl<'s> Request<'s> {
    fn new(schema: Option<&'s Value>, subresource: Option<&str>, status_subresource: bool, api_version: &str) -> Self {
        Request {
            shape: Shape::root(schema),
            scope: Scope::new(subresource, status_subresource),
            subresource: subresource.filter(|name| !name.is_empty()).map(str::to_owned),
            api_version: api_version.to_owned(),
        }
    }

    fn manager(&self, name: &str, operation: Operation) -> ManagerId {
        ManagerId {
            manager: if name.is_empty() { "unknown" } else { name }.to_owned(),
            operation,
            api_version: (operation == Operation::Update).then(|| self.api_version.clone()),
            subresource: self.subresource.clone(),
        }
    }

    /// The fields that differ between `old` and `new`, limited to what this write may own.
    fn compare(&self, old: &Value, new: &Value) -> Comparison {
        let comparison = Comparison::of(old, new, self.shape);
        Comparison {
            added: self.scope.filter(comparison.added),
            modified: self.scope.filter(comparison.modified),
            removed: self.scope.filter(comparison.removed),
        }
    }

    /// The Update path: `owner` takes every changed field.
    fn record_changes(&self, old: &Value, new: &Value, managers: &mut Managers, owner: ManagerId, now: &str) {
        let comparison = self.compare(old, new);
        release_changed_fields(managers, None, &comparison);
        let taken = strip_identity_fields(&comparison.modified.union(&comparison.added));
        if taken.is_empty() {
            return;
        }
        let entry = managers.entry(owner).or_insert_with(|| ManagedEntry {
            set: FieldSet::default(),
            api_version: self.api_version.clone(),
            time: None,
        });
        entry.set = entry.set.union(&taken);
        entry.api_version.clone_from(&self.api_version);
        entry.time = Some(now.to_owned());
    }

    /// structured-merge-diff's `Updater.Apply`: merge, make the applier own exactly the
    /// configuration's fields, prune what it dropped, and settle the changed fields.
    fn merge_config(
        &self,
        live: &Value,
        config: &Value,
        managers: &mut Managers,
        applier: &ManagerId,
        force: bool,
    ) -> Result<Value, Vec<Conflict>> {
        let merged = merge(live, config, self.shape);
        let previous = managers.get(applier);
        let last_applied = previous.map(|entry| entry.set.clone()).filter(|set| !set.is_empty());
        let time = previous.and_then(|entry| entry.time.clone());
        managers.insert(
            applier.clone(),
            ManagedEntry {
                set: self.scope.filter(FieldSet::of_value(config, self.shape)),
                api_version: self.api_version.clone(),
                time,
            },
        );
        let merged = match last_applied {
            // Configuring the same fields as last time drops none: every field pruning would
            // remove is the applier's again, and added back. Skipping it saves most of a
            // repeated apply's cost (a controller applying its status).
            Some(last_applied) if managers.get(applier).is_some_and(|entry| entry.set == last_applied) => merged,
            Some(last_applied) => prune(merged, managers, &last_applied, self.shape),
            None => merged,
        };
        let comparison = self.compare(live, &merged);
        let contested = contested_fields(managers, applier, &comparison);
        if !force && !contested.is_empty() {
            return Err(conflicts_from(contested));
        }
        release_changed_fields(managers, Some(applier), &comparison);
        Ok(merged)
    }
}

/// Removes `last_applied`'s fields from `merged` unless some manager (the applier's new
/// configuration included) still owns them: structured-merge-diff's `prune` with its
/// add-back-owned and add-back-dangling passes.
fn prune(merged: Value, managers: &Managers, last_applied: &FieldSet, shape: Shape) -> Value {
    let last_applied = last_applied.with_named_fields_as_members(shape);
    let fields_of = |value: &Value| FieldSet::of_value(value, shape).with_named_fields_as_members(shape);
    let merged_fields = fields_of(&merged);
    let without_last_applied = remove_fields(&merged, &last_applied, shape);
    let owned = managers
        .values()
        .fold(FieldSet::default(), |owned, entry| owned.union(&entry.set))
        .with_named_fields_as_members(shape);
    let kept = fields_of(&without_last_applied).union(&owned);
    let owned_added_back = remove_fields(&merged, &merged_fields.difference(&kept), shape);
    let dropped = merged_fields
        .difference(&fields_of(&owned_added_back))
        .intersection(&last_applied);
    remove_fields(&merged, &dropped, shape)
}

/// The fields of other managers that this change modifies or adds.
fn contested_fields(managers: &Managers, acting: &ManagerId, comparison: &Comparison) -> Vec<(ManagerId, FieldSet)> {
    let changed = comparison.modified.union(&comparison.added);
    managers
        .iter()
        .filter(|(id, _)| *id != acting)
        .map(|(id, entry)| (id.clone(), entry.set.intersection(&changed)))
        .filter(|(_, contested)| !contested.is_empty())
        .collect()
}

/// Changed and removed fields leave every manager but `acting`; managers left empty go.
fn release_changed_fields(managers: &mut Managers, acting: Option<&ManagerId>, comparison: &Comparison) {
    let changed = comparison.modified.union(&comparison.added);
    for (id, entry) in managers.iter_mut() {
        if Some(id) != acting {
            entry.set = entry.set.difference(&changed).difference(&comparison.removed);
        }
    }
    managers.retain(|_, entry| !entry.set.is_empty());
}

fn conflicts_from(contested: Vec<(ManagerId, FieldSet)>) -> Vec<Conflict> {
    let mut conflicts: Vec<Conflict> = contested
        .into_iter()
        .flat_map(|(owner, fields)| {
            fields.paths().into_iter().map(move |path| Conflict {
                manager: owner.manager.clone(),
                field: path_string(&path),
                owner: owner.clone(),
                path,
            })
        })
        .collect();
    conflicts.sort_by_cached_key(|conflict| conflict.owner.identifier());
    conflicts
}

/// The conflicts kubectl may not override: those on fields client-side apply set (per the
/// last-applied annotation) and nobody changed since, are the ones an upgrade takes over.
fn conflicts_not_taken_over(conflicts: Vec<Conflict>, live: &Value, request: &Request) -> Vec<Conflict> {
    match client_side_applied_fields(live, request) {
        Some(taken_over) => conflicts
            .into_iter()
            .filter(|conflict| !taken_over.has(&conflict.path))
            .collect(),
        None => conflicts,
    }
}

fn client_side_applied_fields(live: &Value, request: &Request) -> Option<FieldSet> {
    let text = live
        .get("metadata")?
        .get("annotations")?
        .get(LAST_APPLIED_ANNOTATION)?
        .as_str()
        .filter(|text| !text.is_empty())?;
    let last_applied: Value = serde_json::from_str(text).ok()?;
    if string_at(&last_applied, "apiVersion") != request.api_version {
        return None;
    }
    let changed_since = Comparison::of(&last_applied, live, request.shape);
    Some(
        FieldSet::of_value(&last_applied, request.shape)
            .difference(&changed_since.modified)
            .difference(&changed_since.added)
            .difference(&changed_since.removed),
    )
}

/// Keeps a client-side-apply annotation in step with kubectl's server-side applies, so a later
/// client-side apply diffs against what was applied last.
fn sync_last_applied(object: &mut Value, config: &Value) {
    let Some(annotations) = object
        .get_mut("metadata")
        .and_then(|metadata| metadata.get_mut("annotations"))
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    let present = annotations
        .get(LAST_APPLIED_ANNOTATION)
        .and_then(Value::as_str)
        .is_some_and(|text| !text.is_empty());
    if !present {
        return;
    }
    let mut applied = config.clone();
    if let Some(applied_annotations) = applied
        .get_mut("metadata")
        .and_then(|metadata| metadata.get_mut("annotations"))
        .and_then(Value::as_object_mut)
    {
        applied_annotations.remove(LAST_APPLIED_ANNOTATION);
    }
    // The apiserver writes it with encoding/json's Encoder, which ends it with a newline.
    annotations.insert(
        LAST_APPLIED_ANNOTATION.to_owned(),
        Value::String(go_json(&applied) + "\n"),
    );
    let size: usize = annotations
        .iter()
        .map(|(key, value)| key.len() + value.as_str().map_or(0, str::len))
        .sum();
    if size > TOTAL_ANNOTATION_SIZE_LIMIT {
        annotations.remove(LAST_APPLIED_ANNOTATION);
    }
}

/// An explicit null in an applied configuration unsets a field the schema knows and does not
/// declare nullable: structured-merge-diff keeps the null, and the apiserver's decoding (built-in
/// kinds) or pruning (custom resources) then drops it. Fields nothing describes keep it.
fn drop_applied_nulls(object: &mut Value, applied: &Value, shape: Shape) {
    let (Some(object), Some(applied)) = (object.as_object_mut(), applied.as_object()) else {
        return;
    };
    for (key, applied_value) in applied {
        let field_shape = shape.field(key).0;
        if applied_value.is_null() {
            if field_shape.drops_null() && object.get(key).is_some_and(Value::is_null) {
                object.remove(key);
            }
        } else if let Some(value) = object.get_mut(key) {
            drop_applied_nulls(value, applied_value, field_shape);
        }
    }
}

fn string_at<'v>(object: &'v Value, key: &str) -> &'v str {
    object.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// Which part of the object a write covers: the apiserver's reset fields of the strategy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scope {
    Whole,
    /// The main resource of a kind with a status subresource: `.status` is not written there.
    MainResource,
    /// The status subresource: only `.status` is written.
    Status,
}

impl Scope {
    fn new(subresource: Option<&str>, status_subresource: bool) -> Self {
        match subresource {
            Some("status") => Scope::Status,
            _ if status_subresource => Scope::MainResource,
            _ => Scope::Whole,
        }
    }

    /// The fields of `set` a write in this scope may own.
    fn filter(self, set: FieldSet) -> FieldSet {
        let status = PathElement::Field("status".to_owned());
        match self {
            Scope::Whole => set,
            Scope::MainResource => {
                let mut status_tree = FieldSet::default();
                status_tree.members.insert(status);
                set.recursive_difference(&status_tree)
            }
            Scope::Status => {
                let mut kept = FieldSet::default();
                if set.members.contains(&status) {
                    kept.members.insert(status.clone());
                }
                if let Some(children) = set.children.get(&status) {
                    kept.children.insert(status, children.clone());
                }
                kept
            }
        }
    }

    /// The part of an applied configuration a write in this scope takes into account.
    fn applied_part(self, config: &Value) -> Value {
        match self {
            Scope::Whole => config.clone(),
            Scope::MainResource => {
                let mut applied = config.clone();
                if let Some(fields) = applied.as_object_mut() {
                    fields.remove("status");
                }
                applied
            }
            Scope::Status => {
                let mut applied = Map::new();
                if let Some(status) = config.get("status") {
                    applied.insert("status".to_owned(), status.clone());
                }
                Value::Object(applied)
            }
        }
    }

    /// Puts back from `live` what a write in this scope may not change.
    fn keep_untouched(self, result: &mut Value, live: &Value) {
        let source_of_status = match self {
            Scope::Whole => return,
            Scope::MainResource => live.get("status").cloned(),
            Scope::Status => {
                let status = result.get("status").cloned();
                *result = live.clone();
                status
            }
        };
        if let Some(fields) = result.as_object_mut() {
            match source_of_status {
                Some(status) => fields.insert("status".to_owned(), status),
                None => fields.remove("status"),
            };
        }
    }
}
