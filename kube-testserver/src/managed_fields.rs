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

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;

use serde_json::{Map, Value, json};

use crate::go_format::{go_json, go_json_string, go_quote};

const LAST_APPLIED_ANNOTATION: &str = "kubectl.kubernetes.io/last-applied-configuration";
/// Only applies by kubectl's own server-side field manager upgrade client-side-applied objects.
const KUBECTL_MANAGER: &str = "kubectl";
const BEFORE_FIRST_APPLY_MANAGER: &str = "before-first-apply";
/// apimachinery's `TotalAnnotationSizeLimitB`: a last-applied annotation exceeding it is dropped.
const TOTAL_ANNOTATION_SIZE_LIMIT: usize = 256 * 1024;
/// Fields that identify the object rather than configure it; no manager owns them.
const IDENTITY_FIELDS: [&str; 9] = [
    "name",
    "namespace",
    "creationTimestamp",
    "selfLink",
    "uid",
    "clusterName",
    "generation",
    "managedFields",
    "resourceVersion",
];

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

// ---------------------------------------------------------------------------------------------
// Managers and their encoding in metadata.managedFields
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Operation {
    Apply,
    Update,
}

impl Operation {
    fn as_str(self) -> &'static str {
        match self {
            Operation::Apply => "Apply",
            Operation::Update => "Update",
        }
    }
}

/// What identifies a `managedFields` entry.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct ManagerId {
    manager: String,
    operation: Operation,
    /// Part of an updater's identity only: an applier stays one manager across versions.
    api_version: Option<String>,
    subresource: Option<String>,
}

impl ManagerId {
    /// apimachinery's `BuildManagerIdentifier` JSON, whose order sorts conflict messages.
    fn identifier(&self) -> String {
        let mut fields = vec![
            format!("\"manager\":{}", go_json_string(&self.manager)),
            format!("\"operation\":\"{}\"", self.operation.as_str()),
        ];
        if let Some(api_version) = &self.api_version {
            fields.push(format!("\"apiVersion\":{}", go_json_string(api_version)));
        }
        if let Some(subresource) = &self.subresource {
            fields.push(format!("\"subresource\":{}", go_json_string(subresource)));
        }
        format!("{{{}}}", fields.join(","))
    }

    /// How conflict messages name the manager (apimachinery's `printManager`).
    fn describe(&self) -> String {
        let mut text = go_quote(&self.manager);
        if let Some(subresource) = &self.subresource {
            text = format!("{text} with subresource {}", go_quote(subresource));
        }
        match &self.api_version {
            Some(api_version) => format!("{text} using {api_version}"),
            None => text,
        }
    }
}

#[derive(Clone, Debug)]
struct ManagedEntry {
    set: FieldSet,
    api_version: String,
    time: Option<String>,
}

type Managers = BTreeMap<ManagerId, ManagedEntry>;

/// The managers an update request sends in its own `metadata.managedFields`, when the server
/// takes them: `[]` or `[{}]` resets ownership, and undecodable or empty ones are ignored.
fn managers_sent_in(object: &Value) -> Option<Managers> {
    let sent = object.get("metadata")?.get("managedFields")?;
    let reset = match sent.as_array() {
        Some(entries) => match entries.as_slice() {
            [] => true,
            [only] => only.as_object().is_some_and(Map::is_empty),
            _ => false,
        },
        None => false,
    };
    if reset {
        return Some(Managers::new());
    }
    decode_managers(object).ok().filter(|managers| !managers.is_empty())
}

fn decode_managers(object: &Value) -> Result<Managers, String> {
    let mut managers = Managers::new();
    let entries = match object
        .get("metadata")
        .and_then(|metadata| metadata.get("managedFields"))
    {
        None | Some(Value::Null) => return Ok(managers),
        Some(Value::Array(entries)) => entries,
        Some(_) => return Err("managedFields must be a list".to_owned()),
    };
    for (index, entry) in entries.iter().enumerate() {
        let text = |key: &str| entry.get(key).and_then(Value::as_str).filter(|text| !text.is_empty());
        let operation = match text("operation") {
            Some("Apply") => Operation::Apply,
            Some("Update") => Operation::Update,
            _ => return Err("operation must be `Apply` or `Update`".to_owned()),
        };
        let api_version = text("apiVersion").ok_or("apiVersion must not be empty")?;
        match text("fieldsType") {
            Some("FieldsV1") => {}
            None => {
                return Err(format!("missing fieldsType in managed fields entry {index}"));
            }
            Some(other) => {
                return Err(format!(
                    "invalid fieldsType {} in managed fields entry {index}",
                    go_quote(other)
                ));
            }
        }
        let set = match entry.get("fieldsV1") {
            None | Some(Value::Null) => FieldSet::default(),
            Some(fields) => FieldSet::from_fields_v1(fields)?,
        };
        let id = ManagerId {
            manager: text("manager").unwrap_or_default().to_owned(),
            operation,
            api_version: (operation == Operation::Update).then(|| api_version.to_owned()),
            subresource: text("subresource").map(str::to_owned),
        };
        let time = text("time").map(str::to_owned);
        managers.insert(
            id,
            ManagedEntry {
                set,
                api_version: api_version.to_owned(),
                time,
            },
        );
    }
    Ok(managers)
}

fn remove_managed_fields(object: &mut Value) {
    if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        metadata.remove("managedFields");
    }
}

/// Writes `metadata.managedFields` in the apiserver's order: appliers first, then by time,
/// manager, apiVersion and subresource.
fn encode_managers(managers: &Managers, object: &mut Value) {
    if managers.is_empty() {
        remove_managed_fields(object);
        return;
    }
    let Some(fields) = object.as_object_mut() else {
        return;
    };
    let metadata = fields.entry("metadata").or_insert_with(|| json!({}));
    let Some(metadata) = metadata.as_object_mut() else {
        return;
    };
    let mut ordered: Vec<(&ManagerId, &ManagedEntry)> = managers.iter().collect();
    ordered.sort_by(|(left_id, left), (right_id, right)| {
        left_id
            .operation
            .cmp(&right_id.operation)
            .then_with(|| unix_seconds(&left.time).cmp(&unix_seconds(&right.time)))
            .then_with(|| left_id.manager.cmp(&right_id.manager))
            .then_with(|| left.api_version.cmp(&right.api_version))
            .then_with(|| left_id.subresource.cmp(&right_id.subresource))
    });
    let entries = ordered
        .into_iter()
        .map(|(id, entry)| {
            let mut encoded = Map::new();
            encoded.insert("manager".to_owned(), json!(id.manager));
            encoded.insert("operation".to_owned(), json!(id.operation.as_str()));
            encoded.insert("apiVersion".to_owned(), json!(entry.api_version));
            if let Some(time) = &entry.time {
                encoded.insert("time".to_owned(), json!(time));
            }
            encoded.insert("fieldsType".to_owned(), json!("FieldsV1"));
            encoded.insert("fieldsV1".to_owned(), entry.set.to_fields_v1());
            if let Some(subresource) = &id.subresource {
                encoded.insert("subresource".to_owned(), json!(subresource));
            }
            Value::Object(encoded)
        })
        .collect();
    metadata.insert("managedFields".to_owned(), Value::Array(entries));
}

/// Entries without a time sort as the epoch, as in the apiserver.
fn unix_seconds(time: &Option<String>) -> i64 {
    time.as_deref()
        .and_then(|time| chrono::DateTime::parse_from_rfc3339(time).ok())
        .map_or(0, |time| time.timestamp())
}

/// A manager's set without the fields nobody owns (apimachinery's strip-meta manager).
fn strip_identity_fields(set: &FieldSet) -> FieldSet {
    let mut identity = FieldSet::default();
    for top_level in ["apiVersion", "kind", "metadata"] {
        identity.members.insert(PathElement::Field(top_level.to_owned()));
    }
    for field in IDENTITY_FIELDS {
        identity.insert(&[
            PathElement::Field("metadata".to_owned()),
            PathElement::Field(field.to_owned()),
        ]);
    }
    set.difference(&identity)
}

// ---------------------------------------------------------------------------------------------
// Field paths and sets
// ---------------------------------------------------------------------------------------------

/// One step of a field path.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum PathElement {
    Field(String),
    /// A map-list item: its key fields sorted by name, each value in Go's JSON form.
    Key(Vec<(String, String)>),
    /// A set item, in Go's JSON form.
    Value(String),
    Index(u64),
}

impl PathElement {
    /// The `f:`, `k:`, `v:` or `i:` key of `fieldsV1`.
    fn serialize(&self) -> String {
        match self {
            PathElement::Field(name) => format!("f:{name}"),
            PathElement::Key(fields) => {
                let fields: Vec<String> = fields
                    .iter()
                    .map(|(name, value)| format!("{}:{value}", go_json_string(name)))
                    .collect();
                format!("k:{{{}}}", fields.join(","))
            }
            PathElement::Value(value) => format!("v:{value}"),
            PathElement::Index(index) => format!("i:{index}"),
        }
    }

    /// Parses a `fieldsV1` key; `None` for kinds of element the server skips too.
    fn deserialize(text: &str) -> Result<Option<Self>, String> {
        let Some((kind, rest)) = text.split_at_checked(2) else {
            return Err(format!("key must be 2 characters long: {text}"));
        };
        let parse = |json: &str| serde_json::from_str::<Value>(json).map_err(|error| error.to_string());
        let element = match kind {
            "f:" => PathElement::Field(rest.to_owned()),
            "v:" => PathElement::Value(go_json(&parse(rest)?)),
            "k:" => match parse(rest)? {
                Value::Object(fields) => {
                    let mut fields: Vec<(String, String)> = fields
                        .iter()
                        .map(|(name, value)| (name.clone(), go_json(value)))
                        .collect();
                    fields.sort();
                    PathElement::Key(fields)
                }
                _ => return Err(format!("key path element is not an object: {text}")),
            },
            "i:" => PathElement::Index(rest.parse().map_err(|_| format!("invalid index: {text}"))?),
            _ if kind.ends_with(':') => return Ok(None),
            _ => return Err(format!("missing colon: {text}")),
        };
        Ok(Some(element))
    }
}

impl fmt::Display for PathElement {
    /// The form of conflict messages: `.name`, `[type="Ready"]`, `[="value"]`, `[3]`.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathElement::Field(name) => write!(formatter, ".{name}"),
            PathElement::Key(fields) => {
                let fields: Vec<String> = fields
                    .iter()
                    .map(|(name, value)| format!("{name}={}", go_value_string(value)))
                    .collect();
                write!(formatter, "[{}]", fields.join(","))
            }
            PathElement::Value(value) => write!(formatter, "[={}]", go_value_string(value)),
            PathElement::Index(index) => write!(formatter, "[{index}]"),
        }
    }
}

fn path_string(path: &[PathElement]) -> String {
    path.iter().map(PathElement::to_string).collect()
}

/// structured-merge-diff's `value.ToString` of a JSON scalar: strings Go-quoted, the rest as is.
fn go_value_string(json_text: &str) -> String {
    match serde_json::from_str::<Value>(json_text) {
        Ok(Value::String(text)) => go_quote(&text),
        _ => json_text.to_owned(),
    }
}

/// A set of field paths: `members` end here, `children` continue.
#[derive(Clone, Debug, Default, PartialEq)]
struct FieldSet {
    members: BTreeSet<PathElement>,
    /// Never holds an empty set.
    children: BTreeMap<PathElement, FieldSet>,
}

impl FieldSet {
    /// The fields a value sets (structured-merge-diff's `ToFieldSet`): leaves, list items, and
    /// maps that are empty, null or keys of a map rather than declared fields.
    fn of_value(value: &Value, shape: Shape) -> FieldSet {
        let mut set = FieldSet::default();
        set.collect(value, shape, &mut Vec::new());
        set
    }

    fn collect(&mut self, value: &Value, shape: Shape, path: &mut Vec<PathElement>) {
        match value {
            Value::Object(fields) => {
                if shape.map_is_atomic() {
                    self.insert(path);
                    return;
                }
                for (key, child) in fields {
                    let (child_shape, declared) = shape.field(key);
                    path.push(PathElement::Field(key.clone()));
                    self.collect(child, child_shape, path);
                    if child.is_null() || child.as_object().is_some_and(Map::is_empty) || !declared {
                        self.insert(path);
                    }
                    path.pop();
                }
            }
            Value::Array(items) => {
                let kind = shape.list_kind();
                if kind == ListKind::Atomic {
                    self.insert(path);
                    return;
                }
                let item_shape = shape.item();
                let elements: Vec<Option<PathElement>> = items
                    .iter()
                    .map(|item| item_path_element(item, &kind, item_shape))
                    .collect();
                for (item, element) in items.iter().zip(&elements) {
                    let Some(element) = element else {
                        continue;
                    };
                    path.push(element.clone());
                    // Items that repeat a key are owned as a whole, their fields untracked.
                    if elements.iter().flatten().filter(|other| *other == element).count() == 1 {
                        self.collect(item, item_shape, path);
                    }
                    self.insert(path);
                    path.pop();
                }
            }
            _ => self.insert(path),
        }
    }

    fn insert(&mut self, path: &[PathElement]) {
        match path {
            // The object itself is never owned.
            [] => {}
            [last] => {
                self.members.insert(last.clone());
            }
            [first, rest @ ..] => self.children.entry(first.clone()).or_default().insert(rest),
        }
    }

    fn has(&self, path: &[PathElement]) -> bool {
        match path {
            [] => false,
            [last] => self.members.contains(last),
            [first, rest @ ..] => self.children.get(first).is_some_and(|children| children.has(rest)),
        }
    }

    fn is_empty(&self) -> bool {
        self.members.is_empty() && self.children.is_empty()
    }

    fn union(&self, other: &FieldSet) -> FieldSet {
        let mut union = self.clone();
        union.members.extend(other.members.iter().cloned());
        for (element, children) in &other.children {
            let merged = match union.children.get(element) {
                Some(mine) => mine.union(children),
                None => children.clone(),
            };
            union.children.insert(element.clone(), merged);
        }
        union
    }

    fn intersection(&self, other: &FieldSet) -> FieldSet {
        let members = self.members.intersection(&other.members).cloned().collect();
        let children = self
            .children
            .iter()
            .filter_map(|(element, mine)| {
                let common = mine.intersection(other.children.get(element)?);
                (!common.is_empty()).then(|| (element.clone(), common))
            })
            .collect();
        FieldSet { members, children }
    }

    /// Removes the paths of `other`, not what lies below its members.
    fn difference(&self, other: &FieldSet) -> FieldSet {
        let members = self.members.difference(&other.members).cloned().collect();
        let children = self
            .children
            .iter()
            .filter_map(|(element, mine)| {
                let rest = match other.children.get(element) {
                    Some(theirs) => mine.difference(theirs),
                    None => mine.clone(),
                };
                (!rest.is_empty()).then(|| (element.clone(), rest))
            })
            .collect();
        FieldSet { members, children }
    }

    /// Removes the paths of `other` and everything below its members.
    fn recursive_difference(&self, other: &FieldSet) -> FieldSet {
        let members = self.members.difference(&other.members).cloned().collect();
        let children = self
            .children
            .iter()
            .filter(|(element, _)| !other.members.contains(element))
            .filter_map(|(element, mine)| {
                let rest = match other.children.get(element) {
                    Some(theirs) => mine.recursive_difference(theirs),
                    None => mine.clone(),
                };
                (!rest.is_empty()).then(|| (element.clone(), rest))
            })
            .collect();
        FieldSet { members, children }
    }

    /// Makes declared fields with owned children members too, so that removing them removes the
    /// whole field (structured-merge-diff's `EnsureNamedFieldsAreMembers`, used when pruning).
    fn with_named_fields_as_members(&self, shape: Shape) -> FieldSet {
        let mut members = self.members.clone();
        let mut children = BTreeMap::new();
        for (element, nested) in &self.children {
            let nested_shape = match element {
                PathElement::Field(name) => {
                    let (field_shape, declared) = shape.field(name);
                    if declared {
                        members.insert(element.clone());
                    }
                    field_shape
                }
                PathElement::Key(_) => shape.item(),
                PathElement::Value(_) | PathElement::Index(_) => Shape::Deduced,
            };
            children.insert(element.clone(), nested.with_named_fields_as_members(nested_shape));
        }
        FieldSet { members, children }
    }

    /// Every path, in the order the apiserver lists conflicts: members, then children.
    fn paths(&self) -> Vec<Vec<PathElement>> {
        let mut paths = Vec::new();
        self.collect_paths(&mut Vec::new(), &mut paths);
        paths
    }

    fn collect_paths(&self, prefix: &mut Vec<PathElement>, paths: &mut Vec<Vec<PathElement>>) {
        for member in &self.members {
            let mut path = prefix.clone();
            path.push(member.clone());
            paths.push(path);
        }
        for (element, nested) in &self.children {
            prefix.push(element.clone());
            nested.collect_paths(prefix, paths);
            prefix.pop();
        }
    }

    fn to_fields_v1(&self) -> Value {
        Value::Object(self.fields_v1_contents(false))
    }

    /// `"."` marks a path that is a member and has children.
    fn fields_v1_contents(&self, includes_itself: bool) -> Map<String, Value> {
        let mut contents = Map::new();
        if includes_itself && !self.is_empty() {
            contents.insert(".".to_owned(), json!({}));
        }
        for member in &self.members {
            if !self.children.contains_key(member) {
                contents.insert(member.serialize(), json!({}));
            }
        }
        for (element, nested) in &self.children {
            let contents_of_child = nested.fields_v1_contents(self.members.contains(element));
            contents.insert(element.serialize(), Value::Object(contents_of_child));
        }
        contents
    }

    fn from_fields_v1(fields: &Value) -> Result<FieldSet, String> {
        Ok(Self::read_fields_v1(fields)?.0)
    }

    /// The set below a `fieldsV1` node, and whether the node itself is a member.
    fn read_fields_v1(node: &Value) -> Result<(FieldSet, bool), String> {
        let Value::Object(entries) = node else {
            return Err(format!("fieldsV1 entries must be objects, got {node}"));
        };
        let mut set = FieldSet::default();
        let mut is_member = false;
        for (key, child) in entries {
            if key == "." {
                is_member = true;
                continue;
            }
            let Some(element) = PathElement::deserialize(key)? else {
                continue;
            };
            let (nested, child_is_member) = Self::read_fields_v1(child)?;
            if child_is_member {
                set.members.insert(element.clone());
            }
            if !nested.is_empty() {
                set.children.insert(element, nested);
            }
        }
        // A node with nothing below it is a leaf, hence a member.
        if set.is_empty() {
            is_member = true;
        }
        Ok((set, is_member))
    }
}

// ---------------------------------------------------------------------------------------------
// Schema: how maps and lists at a path merge
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq, Eq)]
enum ListKind<'s> {
    Atomic,
    Set,
    Map(Vec<&'s str>),
}

/// The schema of one node of an object.
#[derive(Clone, Copy, Debug)]
enum Shape<'s> {
    /// A node of a custom resource's OpenAPI schema. `preserve_unknown` is inherited from
    /// ancestors, as kube-openapi does; `resource` marks the root and embedded resources, whose
    /// `apiVersion`, `kind` and `metadata` are always declared.
    Custom {
        node: &'s Value,
        preserve_unknown: bool,
        resource: bool,
    },
    /// Where no schema says otherwise (structured-merge-diff's `__untyped_deduced_`): granular
    /// maps whose keys are not declared fields, atomic lists.
    Deduced,
    Builtin(Builtin),
}

/// The nodes of built-in kinds whose merge rules differ from a plain struct.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Builtin {
    Root,
    ObjectMeta,
    Status,
    /// A struct: every key is a declared field, lists are atomic.
    Struct,
    AtomicStruct,
    StringMap,
    Finalizers,
    OwnerReferences,
    Conditions,
}

impl<'s> Shape<'s> {
    fn root(schema: Option<&'s Value>) -> Self {
        match schema {
            Some(node) => Shape::custom(node, false, true),
            None => Shape::Builtin(Builtin::Root),
        }
    }

    fn custom(node: &'s Value, inherited_preserve_unknown: bool, resource: bool) -> Self {
        let flag = |name: &str| node.get(name) == Some(&Value::Bool(true));
        Shape::Custom {
            node,
            preserve_unknown: inherited_preserve_unknown || flag("x-kubernetes-preserve-unknown-fields"),
            resource: resource || flag("x-kubernetes-embedded-resource"),
        }
    }

    /// The shape of a map's value at `name`, and whether `name` is a declared field.
    fn field(self, name: &str) -> (Shape<'s>, bool) {
        match self {
            Shape::Custom {
                node,
                preserve_unknown,
                resource,
            } => {
                if resource {
                    match name {
                        "metadata" => return (Shape::Builtin(Builtin::ObjectMeta), true),
                        "apiVersion" | "kind" => return (Shape::Builtin(Builtin::Struct), true),
                        _ => {}
                    }
                }
                if let Some(property) = node.get("properties").and_then(|properties| properties.get(name)) {
                    return (Shape::custom(property, preserve_unknown, false), true);
                }
                match node.get("additionalProperties") {
                    Some(values @ Value::Object(_)) => (Shape::custom(values, preserve_unknown, false), false),
                    _ => (Shape::Deduced, false),
                }
            }
            Shape::Deduced => (Shape::Deduced, false),
            Shape::Builtin(builtin) => builtin.field(name),
        }
    }

    fn map_is_atomic(self) -> bool {
        match self {
            Shape::Custom { node, .. } => node.get("x-kubernetes-map-type").and_then(Value::as_str) == Some("atomic"),
            Shape::Deduced => false,
            Shape::Builtin(builtin) => builtin == Builtin::AtomicStruct,
        }
    }

    fn list_kind(self) -> ListKind<'s> {
        match self {
            Shape::Custom { node, .. } => {
                match node.get("x-kubernetes-list-type").and_then(Value::as_str) {
                    Some("set") => ListKind::Set,
                    Some("map") => {
                        let keys: Vec<&str> = node
                            .get("x-kubernetes-list-map-keys")
                            .and_then(Value::as_array)
                            .map(|keys| keys.iter().filter_map(Value::as_str).collect())
                            .unwrap_or_default();
                        // An associative list without keys is a set to structured-merge-diff.
                        if keys.is_empty() {
                            ListKind::Set
                        } else {
                            ListKind::Map(keys)
                        }
                    }
                    _ => ListKind::Atomic,
                }
            }
            Shape::Deduced => ListKind::Atomic,
            Shape::Builtin(Builtin::Finalizers) => ListKind::Set,
            Shape::Builtin(Builtin::OwnerReferences) => ListKind::Map(vec!["uid"]),
            Shape::Builtin(Builtin::Conditions) => ListKind::Map(vec!["type"]),
            Shape::Builtin(_) => ListKind::Atomic,
        }
    }

    fn item(self) -> Shape<'s> {
        match self {
            Shape::Custom {
                node, preserve_unknown, ..
            } => match node.get("items") {
                Some(items @ Value::Object(_)) => Shape::custom(items, preserve_unknown, false),
                _ => Shape::Deduced,
            },
            Shape::Deduced => Shape::Deduced,
            Shape::Builtin(Builtin::OwnerReferences) => Shape::Builtin(Builtin::AtomicStruct),
            Shape::Builtin(_) => Shape::Builtin(Builtin::Struct),
        }
    }

    fn drops_null(self) -> bool {
        match self {
            Shape::Custom { node, .. } => node.get("nullable") != Some(&Value::Bool(true)),
            Shape::Deduced => false,
            Shape::Builtin(_) => true,
        }
    }

    /// The schema default of a field, which stands in for a missing list-map key.
    fn default_value(self) -> Option<&'s Value> {
        match self {
            Shape::Custom { node, .. } => node.get("default"),
            Shape::Deduced | Shape::Builtin(_) => None,
        }
    }
}

impl Builtin {
    fn field(self, name: &str) -> (Shape<'static>, bool) {
        let child = match (self, name) {
            (Builtin::StringMap, _) => return (Shape::Builtin(Builtin::Struct), false),
            (Builtin::Root, "metadata") => Builtin::ObjectMeta,
            (Builtin::Root, "status") => Builtin::Status,
            (Builtin::Root, "data" | "binaryData" | "stringData") => Builtin::StringMap,
            // Events' object references are `+structType=atomic`.
            (Builtin::Root, "involvedObject" | "regarding" | "related") => Builtin::AtomicStruct,
            (Builtin::ObjectMeta, "labels" | "annotations") => Builtin::StringMap,
            (Builtin::ObjectMeta, "finalizers") => Builtin::Finalizers,
            (Builtin::ObjectMeta, "ownerReferences") => Builtin::OwnerReferences,
            (Builtin::Status, "conditions") => Builtin::Conditions,
            _ => Builtin::Struct,
        };
        (Shape::Builtin(child), true)
    }
}

/// structured-merge-diff's refusal to make a typed value of an applied configuration with fields
/// `schema` (a CRD's `openAPIV3Schema`, or a built-in kind's in that shape) does not declare:
/// `.spec.bogus: field not declared in schema`, several under `errors:`. `object_meta` is the
/// schema of every resource's `metadata`. Below `x-kubernetes-preserve-unknown-fields`, in maps
/// and in objects declaring no properties anything goes.
pub fn undeclared_fields_error(config: &Value, schema: &Value, object_meta: &Value) -> Option<String> {
    let mut found = Vec::new();
    find_undeclared(
        config,
        Shape::root(Some(schema)),
        object_meta,
        &mut Vec::new(),
        &mut found,
    );
    match found.as_slice() {
        [] => None,
        [one] => Some(one.clone()),
        many => Some(format!("errors:\n  {}", many.join("\n  "))),
    }
}

fn find_undeclared(
    value: &Value,
    shape: Shape,
    object_meta: &Value,
    path: &mut Vec<PathElement>,
    found: &mut Vec<String>,
) {
    match value {
        Value::Object(fields) => {
            let (closed, resource) = match shape {
                Shape::Custom {
                    node,
                    preserve_unknown,
                    resource,
                } => (
                    !preserve_unknown
                        && node.get("additionalProperties").is_none()
                        && node
                            .get("properties")
                            .and_then(Value::as_object)
                            .is_some_and(|properties| !properties.is_empty()),
                    resource,
                ),
                Shape::Deduced | Shape::Builtin(_) => (false, false),
            };
            let mut keys: Vec<&String> = fields.keys().collect();
            keys.sort();
            for key in keys {
                let (field_shape, declared) = match key.as_str() {
                    "metadata" if resource => (Shape::custom(object_meta, false, false), true),
                    _ => shape.field(key),
                };
                path.push(PathElement::Field(key.clone()));
                if closed && !declared {
                    found.push(format!("{}: field not declared in schema", path_string(path)));
                } else {
                    find_undeclared(&fields[key], field_shape, object_meta, path, found);
                }
                path.pop();
            }
        }
        Value::Array(items) => {
            let kind = shape.list_kind();
            let item_shape = shape.item();
            for (index, item) in items.iter().enumerate() {
                let element = item_path_element(item, &kind, item_shape).unwrap_or(PathElement::Index(index as u64));
                path.push(element);
                find_undeclared(item, item_shape, object_meta, path, found);
                path.pop();
            }
        }
        _ => {}
    }
}

/// How a set or map list names its item; `None` for items structured-merge-diff rejects.
fn item_path_element(item: &Value, kind: &ListKind, item_shape: Shape) -> Option<PathElement> {
    match kind {
        ListKind::Atomic => None,
        ListKind::Set => match item {
            Value::Object(_) | Value::Array(_) | Value::Null => None,
            scalar => Some(PathElement::Value(go_json(scalar))),
        },
        ListKind::Map(keys) => {
            let fields = item.as_object()?;
            let mut key_fields: Vec<(String, String)> = keys
                .iter()
                .filter_map(|key| {
                    let value = fields.get(*key).or_else(|| item_shape.field(key).0.default_value())?;
                    Some(((*key).to_owned(), go_json(value)))
                })
                .collect();
            if key_fields.is_empty() {
                return None;
            }
            key_fields.sort();
            Some(PathElement::Key(key_fields))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Walks over values: compare, merge, remove
// ---------------------------------------------------------------------------------------------

/// What a change added, modified and removed (structured-merge-diff's `Compare`).
#[derive(Debug, Default)]
struct Comparison {
    added: FieldSet,
    modified: FieldSet,
    removed: FieldSet,
}

/// What a value is to the comparison walk.
enum Node {
    Absent,
    Map,
    List,
    Leaf,
}

fn node(value: Option<&Value>) -> Node {
    match value {
        None => Node::Absent,
        Some(Value::Object(_)) => Node::Map,
        Some(Value::Array(_)) => Node::List,
        Some(_) => Node::Leaf,
    }
}

impl Comparison {
    fn of(old: &Value, new: &Value, shape: Shape) -> Comparison {
        let mut comparison = Comparison::default();
        comparison.walk(Some(old), Some(new), shape, &mut Vec::new());
        comparison
    }

    fn walk(&mut self, old: Option<&Value>, new: Option<&Value>, shape: Shape, path: &mut Vec<PathElement>) {
        match (node(old), node(new)) {
            (Node::Map | Node::Absent, Node::Map | Node::Absent) => {
                let old_fields = old.and_then(Value::as_object);
                let new_fields = new.and_then(Value::as_object);
                let empty = |fields: Option<&Map<String, Value>>| fields.is_none_or(Map::is_empty);
                if shape.map_is_atomic() || (empty(old_fields) && empty(new_fields)) {
                    return self.leaf(old, new, path);
                }
                let new_only = new_fields
                    .into_iter()
                    .flatten()
                    .map(|(key, _)| key)
                    .filter(|key| old_fields.is_none_or(|fields| !fields.contains_key(*key)));
                let keys: Vec<&String> = old_fields.into_iter().flat_map(Map::keys).chain(new_only).collect();
                for key in keys {
                    path.push(PathElement::Field(key.clone()));
                    let old_child = old_fields.and_then(|fields| fields.get(key));
                    let new_child = new_fields.and_then(|fields| fields.get(key));
                    self.walk(old_child, new_child, shape.field(key).0, path);
                    path.pop();
                }
                self.presence(old, new, path);
            }
            (Node::List | Node::Absent, Node::List | Node::Absent) => {
                let old_items = old.and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
                let new_items = new.and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
                let kind = shape.list_kind();
                if kind == ListKind::Atomic || (old_items.is_empty() && new_items.is_empty()) {
                    return self.leaf(old, new, path);
                }
                let item_shape = shape.item();
                let old_groups = group_items(old_items, &kind, item_shape);
                let new_groups = group_items(new_items, &kind, item_shape);
                let new_only = new_groups.keys().filter(|element| !old_groups.contains_key(*element));
                let elements: Vec<&PathElement> = old_groups.keys().chain(new_only).collect();
                for element in elements {
                    let olds = old_groups.get(element).map_or(&[][..], Vec::as_slice);
                    let news = new_groups.get(element).map_or(&[][..], Vec::as_slice);
                    path.push(element.clone());
                    // Repeated items are compared as a whole, as structured-merge-diff does.
                    match (olds, news) {
                        ([_, _, ..], [_, _, ..]) => {
                            if olds != news {
                                self.modified.insert(path);
                            }
                        }
                        ([_, _, ..], _) => {
                            if let Some(new_item) = news.first() {
                                self.walk(None, Some(new_item), item_shape, path);
                            }
                            self.removed.insert(path);
                        }
                        (_, [_, _, ..]) => {
                            if let Some(old_item) = olds.first() {
                                self.walk(Some(old_item), None, item_shape, path);
                            }
                            self.added.insert(path);
                        }
                        _ => self.walk(olds.first().copied(), news.first().copied(), item_shape, path),
                    }
                    path.pop();
                }
                self.presence(old, new, path);
            }
            _ => self.leaf(old, new, path),
        }
    }

    fn leaf(&mut self, old: Option<&Value>, new: Option<&Value>, path: &[PathElement]) {
        match (old, new) {
            (None, Some(_)) => self.added.insert(path),
            (Some(_), None) => self.removed.insert(path),
            (Some(old), Some(new)) if old != new => self.modified.insert(path),
            _ => {}
        }
    }

    fn presence(&mut self, old: Option<&Value>, new: Option<&Value>, path: &[PathElement]) {
        match (old, new) {
            (None, _) => self.added.insert(path),
            (_, None) => self.removed.insert(path),
            _ => {}
        }
    }
}

/// The items of a set or map list by path element.
fn group_items<'v>(items: &'v [Value], kind: &ListKind, item_shape: Shape) -> BTreeMap<PathElement, Vec<&'v Value>> {
    let mut grouped: BTreeMap<PathElement, Vec<&Value>> = BTreeMap::new();
    for item in items {
        if let Some(element) = item_path_element(item, kind, item_shape) {
            grouped.entry(element).or_default().push(item);
        }
    }
    grouped
}

/// Merges an applied configuration into the live object, the configuration winning on leaves.
fn merge(live: &Value, applied: &Value, shape: Shape) -> Value {
    match (live, applied) {
        (Value::Object(live_fields), Value::Object(applied_fields)) => merge_maps(live_fields, applied_fields, shape),
        (Value::Array(live_items), Value::Array(applied_items)) => merge_lists(live_items, applied_items, shape),
        // A null is walked as an empty granular map or list, which keeps the live one.
        (Value::Object(live_fields), Value::Null) if !live_fields.is_empty() && !shape.map_is_atomic() => live.clone(),
        (Value::Array(live_items), Value::Null) if !live_items.is_empty() && shape.list_kind() != ListKind::Atomic => {
            live.clone()
        }
        _ => applied.clone(),
    }
}

fn merge_maps(live: &Map<String, Value>, applied: &Map<String, Value>, shape: Shape) -> Value {
    if shape.map_is_atomic() || (live.is_empty() && applied.is_empty()) {
        return Value::Object(applied.clone());
    }
    let mut merged = Map::new();
    for (key, live_value) in live {
        let value = match applied.get(key) {
            Some(applied_value) => merge(live_value, applied_value, shape.field(key).0),
            None => live_value.clone(),
        };
        merged.insert(key.clone(), value);
    }
    for (key, applied_value) in applied {
        if !live.contains_key(key) {
            merged.insert(key.clone(), applied_value.clone());
        }
    }
    Value::Object(merged)
}

/// structured-merge-diff's list merge: items match by path element; live-only items stay where
/// they were, around the applied items, which keep the configuration's order.
fn merge_lists(live: &[Value], applied: &[Value], shape: Shape) -> Value {
    let kind = shape.list_kind();
    if kind == ListKind::Atomic || (live.is_empty() && applied.is_empty()) {
        return Value::Array(applied.to_vec());
    }
    let item_shape = shape.item();
    let elements_of = |items: &'_ [Value]| -> Vec<PathElement> {
        items
            .iter()
            .filter_map(|item| item_path_element(item, &kind, item_shape))
            .collect()
    };
    let live_elements = elements_of(live);
    let applied_elements = elements_of(applied);
    let live_items: Vec<&Value> = live
        .iter()
        .filter(|item| item_path_element(item, &kind, item_shape).is_some())
        .collect();
    // A repeated live element has no single value to merge with: the applied item wins.
    let mut live_by_element: BTreeMap<&PathElement, Option<&Value>> = BTreeMap::new();
    for (element, item) in live_elements.iter().zip(&live_items) {
        live_by_element
            .entry(element)
            .and_modify(|value| *value = None)
            .or_insert(Some(*item));
    }
    let applied_by_element = group_items(applied, &kind, item_shape);
    let merge_item = |element: &PathElement| -> Option<Value> {
        let applied_item = applied_by_element.get(element)?.first()?;
        Some(match live_by_element.get(element).copied().flatten() {
            Some(live_item) => merge(live_item, applied_item, item_shape),
            None => (*applied_item).clone(),
        })
    };

    let mut shared: VecDeque<&PathElement> = applied_elements
        .iter()
        .filter(|element| live_by_element.contains_key(element))
        .collect();
    let mut next_shared = shared.pop_front();
    let mut merged_applied: BTreeSet<&PathElement> = BTreeSet::new();
    let mut merged = Vec::new();
    let (mut live_index, mut applied_index) = (0, 0);
    while live_index < live_elements.len() || applied_index < applied_elements.len() {
        if live_index < live_elements.len() && applied_index < applied_elements.len() {
            let element = &live_elements[live_index];
            if *element == applied_elements[applied_index] {
                merged_applied.insert(element);
                merged.extend(merge_item(element));
                live_index += 1;
                applied_index += 1;
                next_shared = shared.pop_front();
                continue;
            }
            if applied_by_element.contains_key(element) && next_shared.is_some_and(|next| next != element) {
                // A shared item that comes later in the applied order.
                live_index += 1;
                continue;
            }
        }
        if live_index < live_elements.len() {
            let element = &live_elements[live_index];
            if !applied_by_element.contains_key(element) {
                merged.push(live_items[live_index].clone());
                live_index += 1;
                continue;
            }
            if merged_applied.contains(element) {
                live_index += 1;
            }
        }
        if applied_index < applied_elements.len() {
            let element = &applied_elements[applied_index];
            merged_applied.insert(element);
            merged.extend(merge_item(element));
            applied_index += 1;
            if next_shared == Some(element) {
                next_shared = shared.pop_front();
            }
        }
    }
    Value::Array(merged)
}

/// `value` without the paths of `remove` (structured-merge-diff's `RemoveItems`).
fn remove_fields(value: &Value, remove: &FieldSet, shape: Shape) -> Value {
    remove_items(value, remove, shape).unwrap_or_else(|| json!({}))
}

/// `None` when nothing is left: structured-merge-diff leaves a null there, which the apiserver
/// then drops.
fn remove_items(value: &Value, remove: &FieldSet, shape: Shape) -> Option<Value> {
    match value {
        Value::Object(fields) => {
            if fields.is_empty() || shape.map_is_atomic() {
                return None;
            }
            let mut kept = Map::new();
            for (key, child) in fields {
                let element = PathElement::Field(key.clone());
                if remove.members.contains(&element) {
                    continue;
                }
                let rest = match remove.children.get(&element) {
                    Some(nested) => remove_items(child, nested, shape.field(key).0),
                    None => Some(child.clone()),
                };
                if let Some(rest) = rest {
                    kept.insert(key.clone(), rest);
                }
            }
            (!kept.is_empty()).then_some(Value::Object(kept))
        }
        Value::Array(items) => {
            let kind = shape.list_kind();
            if items.is_empty() || kind == ListKind::Atomic {
                return None;
            }
            let item_shape = shape.item();
            let kept: Vec<Value> = items
                .iter()
                .filter_map(|item| {
                    let Some(element) = item_path_element(item, &kind, item_shape) else {
                        return Some(item.clone());
                    };
                    if remove.members.contains(&element) {
                        return None;
                    }
                    match remove.children.get(&element) {
                        Some(nested) => remove_items(item, nested, item_shape),
                        None => Some(item.clone()),
                    }
                })
                .collect();
            (!kept.is_empty()).then_some(Value::Array(kept))
        }
        scalar => Some(scalar.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: &str = "2025-01-01T00:00:00Z";
    const LATER: &str = "2025-01-01T00:05:00Z";
    const API_VERSION: &str = "awsaccess.dev/v1alpha1";

    fn schema() -> Value {
        json!({
            "type": "object",
            "properties": {
                "apiVersion": {"type": "string"},
                "kind": {"type": "string"},
                "metadata": {"type": "object"},
                "spec": {
                    "type": "object",
                    "properties": {
                        "roleName": {"type": "string"},
                        "path": {"type": "string"},
                        "policies": {"type": "array", "items": {"type": "string"}},
                        "accounts": {
                            "type": "array",
                            "x-kubernetes-list-type": "set",
                            "items": {"type": "string"}
                        },
                        "tags": {"type": "object", "additionalProperties": {"type": "string"}}
                    }
                },
                "status": {
                    "type": "object",
                    "properties": {
                        "phase": {"type": "string"},
                        "conditions": {
                            "type": "array",
                            "x-kubernetes-list-type": "map",
                            "x-kubernetes-list-map-keys": ["type"],
                            "items": {
                                "type": "object",
                                "properties": {
                                    "type": {"type": "string"},
                                    "status": {"type": "string"},
                                    "reason": {"type": "string"}
                                }
                            }
                        }
                    }
                }
            }
        })
    }

    fn role(spec: Value) -> Value {
        json!({
            "apiVersion": API_VERSION,
            "kind": "CrossAccountRole",
            "metadata": {"name": "deploy", "namespace": "team-a"},
            "spec": spec
        })
    }

    fn stored(object: Value) -> Value {
        let mut object = object;
        object["metadata"]["uid"] = json!("0b5e8a1c");
        object["metadata"]["resourceVersion"] = json!("7");
        object
    }

    fn apply_role(live: Option<&Value>, config: &Value, manager: &str, force: bool) -> Result<Value, Vec<Conflict>> {
        let schema = schema();
        apply(live, config, manager, force, Some(&schema), None, true, NOW).map(stored)
    }

    fn entries(object: &Value) -> Vec<Value> {
        object["metadata"]["managedFields"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    fn entry_of(object: &Value, manager: &str) -> Value {
        entries(object)
            .into_iter()
            .find(|entry| entry["manager"] == manager)
            .unwrap_or_else(|| panic!("no entry for {manager} in {object}"))
    }

    #[test]
    fn apply_creates_the_object_and_owns_exactly_the_configured_fields() {
        let mut config = role(json!({"roleName": "deployer", "policies": ["a", "b"]}));
        config["metadata"]["labels"] = json!({"team": "a"});

        let created = apply_role(None, &config, "kubectl", false).unwrap();

        assert_eq!(created["spec"], json!({"roleName": "deployer", "policies": ["a", "b"]}));
        assert_eq!(created["metadata"]["labels"], json!({"team": "a"}));
        assert_eq!(
            entries(&created),
            vec![json!({
                "manager": "kubectl",
                "operation": "Apply",
                "apiVersion": API_VERSION,
                "time": NOW,
                "fieldsType": "FieldsV1",
                "fieldsV1": {
                    "f:metadata": {"f:labels": {"f:team": {}}},
                    "f:spec": {"f:policies": {}, "f:roleName": {}}
                }
            })]
        );
    }

    #[test]
    fn reapplying_the_same_configuration_changes_nothing_not_even_the_time() {
        let config = role(json!({"roleName": "deployer"}));
        let created = apply_role(None, &config, "kubectl", false).unwrap();
        let schema = schema();

        let again = apply(
            Some(&created),
            &config,
            "kubectl",
            false,
            Some(&schema),
            None,
            true,
            LATER,
        )
        .unwrap();

        assert_eq!(again, created);
    }

    #[test]
    fn a_field_dropped_from_the_configuration_is_removed() {
        let created = apply_role(
            None,
            &role(json!({"roleName": "deployer", "path": "/ci/"})),
            "kubectl",
            false,
        )
        .unwrap();

        let updated = apply_role(Some(&created), &role(json!({"roleName": "deployer"})), "kubectl", false).unwrap();

        assert_eq!(updated["spec"], json!({"roleName": "deployer"}));
        assert_eq!(
            entry_of(&updated, "kubectl")["fieldsV1"],
            json!({"f:spec": {"f:roleName": {}}})
        );
    }

    #[test]
    fn a_whole_struct_dropped_from_the_configuration_goes_with_its_fields() {
        let created = apply_role(None, &role(json!({"roleName": "deployer"})), "kubectl", false).unwrap();
        let mut config = role(json!(null));
        config.as_object_mut().unwrap().remove("spec");

        let updated = apply_role(Some(&created), &config, "kubectl", false).unwrap();

        assert_eq!(updated.get("spec"), None);
        assert_eq!(updated["metadata"]["name"], "deploy");
        assert_eq!(updated["metadata"]["uid"], "0b5e8a1c");
        assert_eq!(updated["metadata"].get("managedFields"), None);
    }

    #[test]
    fn managers_applying_the_same_value_share_it_and_it_survives_one_of_them_leaving() {
        let config = role(json!({"roleName": "deployer"}));
        let first = apply_role(None, &config, "alice", false).unwrap();
        let shared = apply_role(Some(&first), &config, "bob", false).unwrap();
        assert_eq!(
            entry_of(&shared, "alice")["fieldsV1"],
            json!({"f:spec": {"f:roleName": {}}})
        );
        assert_eq!(
            entry_of(&shared, "bob")["fieldsV1"],
            json!({"f:spec": {"f:roleName": {}}})
        );

        let alice_leaves = apply_role(Some(&shared), &role(json!({"path": "/x/"})), "alice", false).unwrap();

        assert_eq!(alice_leaves["spec"], json!({"roleName": "deployer", "path": "/x/"}));
        assert_eq!(
            entry_of(&alice_leaves, "alice")["fieldsV1"],
            json!({"f:spec": {"f:path": {}}})
        );
    }

    #[test]
    fn a_different_value_for_a_field_owned_by_another_applier_conflicts() {
        let first = apply_role(None, &role(json!({"roleName": "deployer"})), "alice", false).unwrap();

        let conflicts = apply_role(Some(&first), &role(json!({"roleName": "admin"})), "bob", false).unwrap_err();

        assert_eq!(conflicts.len(), 1);
        assert_eq!(conflicts[0].manager, "alice");
        assert_eq!(conflicts[0].field, ".spec.roleName");
        assert_eq!(conflicts[0].cause_message(), "conflict with \"alice\"");
        assert_eq!(
            conflict_message(&conflicts),
            "Apply failed with 1 conflict: conflict with \"alice\": .spec.roleName"
        );
    }

    #[test]
    fn conflicts_with_an_updater_name_its_api_version_and_several_are_grouped_by_manager() {
        let schema = schema();
        let mut created = role(json!({"roleName": "deployer", "path": "/ci/"}));
        record_update(
            None,
            &mut created,
            "kubectl-client-side-apply",
            Some(&schema),
            None,
            true,
            NOW,
        );
        let created = stored(created);
        let mut labelled = created.clone();
        labelled["metadata"]["labels"] = json!({"team": "a"});
        record_update(
            Some(&created),
            &mut labelled,
            "labeller",
            Some(&schema),
            None,
            true,
            LATER,
        );

        let one = apply_role(Some(&labelled), &role(json!({"roleName": "admin"})), "operator", false).unwrap_err();
        assert_eq!(
            conflict_message(&one),
            "Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using awsaccess.dev/v1alpha1: .spec.roleName"
        );
        assert_eq!(
            one[0].cause_message(),
            "conflict with \"kubectl-client-side-apply\" using awsaccess.dev/v1alpha1"
        );

        let mut config = role(json!({"roleName": "admin", "path": "/prod/"}));
        config["metadata"]["labels"] = json!({"team": "b"});
        let several = apply_role(Some(&labelled), &config, "operator", false).unwrap_err();
        assert_eq!(
            conflict_message(&several),
            "Apply failed with 3 conflicts: conflicts with \"kubectl-client-side-apply\" using awsaccess.dev/v1alpha1:\n\
             - .spec.path\n\
             - .spec.roleName\n\
             conflicts with \"labeller\" using awsaccess.dev/v1alpha1:\n\
             - .metadata.labels.team"
        );
    }

    #[test]
    fn force_takes_the_field_from_its_owner() {
        let first = apply_role(
            None,
            &role(json!({"roleName": "deployer", "path": "/ci/"})),
            "alice",
            false,
        )
        .unwrap();

        let forced = apply_role(Some(&first), &role(json!({"roleName": "admin"})), "bob", true).unwrap();

        assert_eq!(forced["spec"], json!({"roleName": "admin", "path": "/ci/"}));
        assert_eq!(
            entry_of(&forced, "alice")["fieldsV1"],
            json!({"f:spec": {"f:path": {}}})
        );
        assert_eq!(
            entry_of(&forced, "bob")["fieldsV1"],
            json!({"f:spec": {"f:roleName": {}}})
        );
    }

    #[test]
    fn status_applies_touch_only_status_and_main_applies_ignore_it() {
        let schema = schema();
        let created = apply_role(None, &role(json!({"roleName": "deployer"})), "kubectl", false).unwrap();
        let mut status_config = role(json!({"roleName": "hijacked"}));
        status_config["status"] = json!({"phase": "Ready"});

        let with_status = apply(
            Some(&created),
            &status_config,
            "operator",
            false,
            Some(&schema),
            Some("status"),
            true,
            LATER,
        )
        .unwrap();

        assert_eq!(with_status["spec"], json!({"roleName": "deployer"}));
        assert_eq!(with_status["status"], json!({"phase": "Ready"}));
        assert_eq!(
            entry_of(&with_status, "operator"),
            json!({
                "manager": "operator",
                "operation": "Apply",
                "apiVersion": API_VERSION,
                "time": LATER,
                "fieldsType": "FieldsV1",
                "fieldsV1": {"f:status": {"f:phase": {}}},
                "subresource": "status"
            })
        );

        let mut main_config = role(json!({"roleName": "deployer"}));
        main_config["status"] = json!({"phase": "Failed"});
        let main = apply(
            Some(&with_status),
            &main_config,
            "kubectl",
            false,
            Some(&schema),
            None,
            true,
            LATER,
        )
        .unwrap();
        assert_eq!(main["status"], json!({"phase": "Ready"}));
        assert_eq!(
            entry_of(&main, "kubectl")["fieldsV1"],
            json!({"f:spec": {"f:roleName": {}}})
        );
    }

    #[test]
    fn an_update_takes_the_fields_it_changes_and_empty_managers_go() {
        let schema = schema();
        let created = apply_role(None, &role(json!({"roleName": "deployer"})), "kubectl", false).unwrap();
        let mut edited = created.clone();
        edited["spec"]["roleName"] = json!("admin");
        edited["spec"]["path"] = json!("/ci/");

        record_update(
            Some(&created),
            &mut edited,
            "kubectl-edit",
            Some(&schema),
            None,
            true,
            LATER,
        );

        assert_eq!(
            entries(&edited),
            vec![json!({
                "manager": "kubectl-edit",
                "operation": "Update",
                "apiVersion": API_VERSION,
                "time": LATER,
                "fieldsType": "FieldsV1",
                "fieldsV1": {"f:spec": {"f:path": {}, "f:roleName": {}}}
            })]
        );
    }

    #[test]
    fn an_update_that_changes_nothing_records_nothing() {
        let schema = schema();
        let created = apply_role(None, &role(json!({"roleName": "deployer"})), "kubectl", false).unwrap();
        let mut unchanged = created.clone();
        unchanged["metadata"]["resourceVersion"] = json!("8");

        record_update(
            Some(&created),
            &mut unchanged,
            "controller",
            Some(&schema),
            None,
            true,
            LATER,
        );

        assert_eq!(entries(&unchanged), entries(&created));
    }

    #[test]
    fn managed_fields_sent_in_an_update_replace_the_recorded_ones_and_an_empty_list_clears_them() {
        let schema = schema();
        let created = apply_role(None, &role(json!({"roleName": "deployer"})), "kubectl", false).unwrap();
        let mut migrated = created.clone();
        migrated["metadata"]["managedFields"][0]["manager"] = json!("renamed");
        record_update(
            Some(&created),
            &mut migrated,
            "kubectl",
            Some(&schema),
            None,
            true,
            LATER,
        );
        assert_eq!(entries(&migrated).len(), 1);
        assert_eq!(
            entry_of(&migrated, "renamed")["fieldsV1"],
            json!({"f:spec": {"f:roleName": {}}})
        );

        let mut cleared = created.clone();
        cleared["metadata"]["managedFields"] = json!([]);
        cleared["spec"]["path"] = json!("/ci/");
        record_update(
            Some(&created),
            &mut cleared,
            "kubectl-edit",
            Some(&schema),
            None,
            true,
            LATER,
        );
        assert_eq!(cleared["metadata"].get("managedFields"), None);
    }

    #[test]
    fn creation_by_update_owns_maps_themselves_as_the_apiserver_records_them() {
        let mut config_map = json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "settings", "namespace": "default", "labels": {"app": "web"}},
            "data": {"mode": "fast"}
        });

        record_update(None, &mut config_map, "kubectl-create", None, None, false, NOW);

        assert_eq!(
            entry_of(&config_map, "kubectl-create")["fieldsV1"],
            json!({
                "f:data": {".": {}, "f:mode": {}},
                "f:metadata": {"f:labels": {".": {}, "f:app": {}}}
            })
        );
    }

    #[test]
    fn server_side_apply_after_create_conflicts_only_on_differing_values() {
        let config = json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "settings", "namespace": "default"},
            "data": {"mode": "fast", "size": "3"}
        });
        let mut created = config.clone();
        record_update(None, &mut created, "kubectl-create", None, None, false, NOW);
        let created = stored(created);

        let same = apply(Some(&created), &config, "kubectl", false, None, None, false, LATER).unwrap();
        assert_eq!(same["data"], config["data"]);
        assert_eq!(
            entry_of(&same, "kubectl")["fieldsV1"],
            json!({"f:data": {"f:mode": {}, "f:size": {}}})
        );
        assert_eq!(entry_of(&same, "kubectl").get("time"), None);

        let mut changed = config.clone();
        changed["data"]["size"] = json!("5");
        let conflicts = apply(Some(&created), &changed, "kubectl", false, None, None, false, LATER).unwrap_err();
        assert_eq!(
            conflict_message(&conflicts),
            "Apply failed with 1 conflict: conflict with \"kubectl-create\" using v1: .data.size"
        );
    }

    #[test]
    fn fields_of_an_untracked_object_belong_to_before_first_apply() {
        let live = json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "settings", "namespace": "default", "uid": "1"},
            "data": {"mode": "fast"}
        });
        let mut config = live.clone();
        config["metadata"].as_object_mut().unwrap().remove("uid");
        config["data"]["mode"] = json!("slow");

        let conflicts = apply(Some(&live), &config, "deployer", false, None, None, false, NOW).unwrap_err();

        assert_eq!(
            conflicts[0].cause_message(),
            "conflict with \"before-first-apply\" using v1"
        );
        assert_eq!(conflicts[0].field, ".data.mode");
    }

    #[test]
    fn kubectl_takes_over_fields_client_side_apply_set_and_keeps_the_annotation_in_step() {
        let last_applied = r#"{"apiVersion":"v1","data":{"mode":"fast"},"kind":"ConfigMap","metadata":{"annotations":{},"name":"settings","namespace":"default"}}"#;
        let mut live = json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": "settings",
                "namespace": "default",
                "annotations": {LAST_APPLIED_ANNOTATION: format!("{last_applied}\n")}
            },
            "data": {"mode": "fast"}
        });
        record_update(None, &mut live, "kubectl-client-side-apply", None, None, false, NOW);
        let live = stored(live);
        let config = json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "settings", "namespace": "default"},
            "data": {"mode": "slow"}
        });

        let other = apply(Some(&live), &config, "deployer", false, None, None, false, LATER).unwrap_err();
        assert_eq!(other[0].field, ".data.mode");

        let upgraded = apply(Some(&live), &config, "kubectl", false, None, None, false, LATER).unwrap();
        assert_eq!(upgraded["data"]["mode"], "slow");
        assert_eq!(
            upgraded["metadata"]["annotations"][LAST_APPLIED_ANNOTATION],
            "{\"apiVersion\":\"v1\",\"data\":{\"mode\":\"slow\"},\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"settings\",\"namespace\":\"default\"}}\n"
        );
        assert_eq!(
            entry_of(&upgraded, "kubectl")["fieldsV1"],
            json!({"f:data": {"f:mode": {}}})
        );
    }

    #[test]
    fn conditions_merge_by_type_between_managers() {
        let schema = schema();
        let created = apply_role(None, &role(json!({"roleName": "deployer"})), "kubectl", false).unwrap();
        let mut ready = role(json!({}));
        ready["status"] = json!({"conditions": [{"type": "Ready", "status": "True"}]});
        let mut synced = role(json!({}));
        synced["status"] = json!({"conditions": [{"type": "Synced", "status": "False", "reason": "Pending"}]});
        let status_apply = |live: &Value, config: &Value, manager: &str| {
            apply(
                Some(live),
                config,
                manager,
                false,
                Some(&schema),
                Some("status"),
                true,
                NOW,
            )
            .map(stored)
        };

        let with_ready = status_apply(&created, &ready, "readiness").unwrap();
        let with_both = status_apply(&with_ready, &synced, "syncer").unwrap();

        assert_eq!(
            with_both["status"]["conditions"],
            json!([
                {"type": "Ready", "status": "True"},
                {"type": "Synced", "status": "False", "reason": "Pending"}
            ])
        );
        assert_eq!(
            entry_of(&with_both, "readiness")["fieldsV1"],
            json!({"f:status": {"f:conditions": {"k:{\"type\":\"Ready\"}": {".": {}, "f:status": {}, "f:type": {}}}}})
        );

        let mut not_ready = ready.clone();
        not_ready["status"]["conditions"][0]["status"] = json!("False");
        let conflicts = status_apply(&with_both, &not_ready, "syncer").unwrap_err();
        assert_eq!(conflicts[0].field, ".status.conditions[type=\"Ready\"].status");
        assert_eq!(
            conflicts[0].cause_message(),
            "conflict with \"readiness\" with subresource \"status\""
        );

        let mut without_ready = ready;
        without_ready["status"]["conditions"] = json!([]);
        let dropped = status_apply(&with_both, &without_ready, "readiness").unwrap();
        assert_eq!(
            dropped["status"]["conditions"],
            json!([{"type": "Synced", "status": "False", "reason": "Pending"}])
        );
    }

    #[test]
    fn sets_merge_by_value_and_granular_maps_by_key() {
        let mut first = role(json!({"accounts": ["111", "222"], "tags": {"env": "prod"}}));
        first["metadata"]["finalizers"] = json!(["awsaccess.dev/cleanup"]);
        let created = apply_role(None, &first, "alice", false).unwrap();

        let mut second = role(json!({"accounts": ["333"], "tags": {"team": "a"}}));
        second["metadata"]["finalizers"] = json!(["example.com/audit"]);
        let merged = apply_role(Some(&created), &second, "bob", false).unwrap();

        assert_eq!(merged["spec"]["accounts"], json!(["111", "222", "333"]));
        assert_eq!(merged["spec"]["tags"], json!({"env": "prod", "team": "a"}));
        assert_eq!(
            merged["metadata"]["finalizers"],
            json!(["awsaccess.dev/cleanup", "example.com/audit"])
        );
        assert_eq!(
            entry_of(&merged, "bob")["fieldsV1"],
            json!({
                "f:metadata": {"f:finalizers": {"v:\"example.com/audit\"": {}}},
                "f:spec": {"f:accounts": {"v:\"333\"": {}}, "f:tags": {"f:team": {}}}
            })
        );
    }

    #[test]
    fn atomic_lists_are_owned_and_replaced_whole() {
        let created = apply_role(None, &role(json!({"policies": ["a", "b"]})), "alice", false).unwrap();

        let conflicts = apply_role(Some(&created), &role(json!({"policies": ["c"]})), "bob", false).unwrap_err();
        assert_eq!(conflicts[0].field, ".spec.policies");

        let forced = apply_role(Some(&created), &role(json!({"policies": ["c"]})), "bob", true).unwrap();
        assert_eq!(forced["spec"]["policies"], json!(["c"]));
    }

    #[test]
    fn a_null_in_the_configuration_unsets_the_field() {
        let created = apply_role(
            None,
            &role(json!({"roleName": "deployer", "path": "/ci/"})),
            "alice",
            false,
        )
        .unwrap();

        let unset = apply_role(
            Some(&created),
            &role(json!({"roleName": "deployer", "path": null})),
            "alice",
            false,
        )
        .unwrap();

        assert_eq!(unset["spec"], json!({"roleName": "deployer"}));
    }

    #[test]
    fn fields_v1_round_trips() {
        let encoded = json!({
            "f:metadata": {"f:labels": {".": {}, "f:app": {}}, "f:finalizers": {"v:\"a<b\"": {}}},
            "f:spec": {"f:items": {"k:{\"name\":\"x\",\"port\":80}": {".": {}, "f:name": {}}}, "f:list": {"i:3": {}}}
        });

        let set = FieldSet::from_fields_v1(&encoded).unwrap();

        assert_eq!(
            set.to_fields_v1(),
            json!({
                "f:metadata": {"f:labels": {".": {}, "f:app": {}}, "f:finalizers": {"v:\"a\\u003cb\"": {}}},
                "f:spec": {"f:items": {"k:{\"name\":\"x\",\"port\":80}": {".": {}, "f:name": {}}}, "f:list": {"i:3": {}}}
            })
        );
        let paths: Vec<String> = set.paths().iter().map(|path| path_string(path)).collect();
        assert!(paths.contains(&".spec.items[name=\"x\",port=80]".to_owned()));
        assert!(paths.contains(&".metadata.finalizers[=\"a<b\"]".to_owned()));
    }

    #[test]
    fn items_an_update_repeats_stay_when_their_applier_drops_them() {
        let schema = schema();
        let created = apply_role(None, &role(json!({})), "kubectl", false).unwrap();
        let status_apply = |live: &Value, conditions: Value| {
            let mut config = role(json!({}));
            config["status"] = json!({"conditions": conditions});
            apply(
                Some(live),
                &config,
                "readiness",
                false,
                Some(&schema),
                Some("status"),
                true,
                NOW,
            )
            .map(stored)
        };
        let applied = status_apply(
            &created,
            json!([{"type": "Ready", "status": "True"}, {"type": "Synced", "status": "True"}]),
        )
        .unwrap();
        let mut repeated = applied.clone();
        repeated["status"]["conditions"] = json!([
            {"type": "Ready", "status": "True"},
            {"type": "Ready", "status": "False"},
            {"type": "Synced", "status": "True"}
        ]);
        record_update(
            Some(&applied),
            &mut repeated,
            "updater",
            Some(&schema),
            Some("status"),
            true,
            LATER,
        );

        let dropped = status_apply(&repeated, json!([{"type": "Synced", "status": "True"}])).unwrap();

        assert_eq!(dropped["status"]["conditions"], repeated["status"]["conditions"]);
        assert_eq!(
            entry_of(&dropped, "updater")["fieldsV1"],
            json!({"f:status": {"f:conditions": {"k:{\"type\":\"Ready\"}": {}}}})
        );
    }

    #[test]
    fn entries_sort_appliers_first_then_by_time() {
        let schema = schema();
        let mut created = role(json!({"roleName": "deployer"}));
        record_update(None, &mut created, "zeta-creator", Some(&schema), None, true, NOW);
        let created = stored(created);
        let applied = apply(
            Some(&created),
            &role(json!({"roleName": "deployer", "path": "/x/"})),
            "alpha",
            false,
            Some(&schema),
            None,
            true,
            LATER,
        )
        .unwrap();

        let managers: Vec<Value> = entries(&applied).iter().map(|entry| entry["manager"].clone()).collect();

        assert_eq!(managers, vec![json!("alpha"), json!("zeta-creator")]);
    }

    #[test]
    fn undeclared_fields_are_named_as_structured_merge_diff_paths() {
        let object_meta = json!({"type": "object", "properties": {"name": {"type": "string"}, "namespace": {"type": "string"}, "labels": {"type": "object", "additionalProperties": {"type": "string"}}}});
        let config = json!({
            "apiVersion": API_VERSION, "kind": "CrossAccountRole",
            "metadata": {"name": "deploy", "labels": {"any": "key"}, "labelz": {}},
            "spec": {"roleName": "deployer", "tags": {"free": "form"}, "bogus": 1},
            "status": {"conditions": [{"type": "Ready", "status": "True", "extra": 1}]},
            "zzz": true
        });
        let error = undeclared_fields_error(&config, &schema(), &object_meta).expect("refused");
        assert_eq!(
            error,
            "errors:\n  .metadata.labelz: field not declared in schema\n  .spec.bogus: field not declared in schema\n  .status.conditions[type=\"Ready\"].extra: field not declared in schema\n  .zzz: field not declared in schema"
        );
        let one = json!({"apiVersion": API_VERSION, "kind": "CrossAccountRole", "spec": {"path": "/", "nope": 1}});
        assert_eq!(
            undeclared_fields_error(&one, &schema(), &object_meta).as_deref(),
            Some(".spec.nope: field not declared in schema")
        );
        assert_eq!(
            undeclared_fields_error(&role(json!({"roleName": "x"})), &schema(), &object_meta),
            None
        );
    }
}
