//! The server's state: every object, one global resourceVersion counter, the
//! retained window of watch events, and the write path every verb shares
//! (admission, generation, finalizers, garbage collection).
//!
//! Split as the real API server's packages are: the generic write path (`write`, as
//! `registry/generic/registry.Store`'s create and update), patches (`patch`, as the
//! `endpoints/handlers` patcher), deletion and garbage collection (`delete`), the built-in
//! kinds' strategies (`strategy`), the CRD lifecycle (`crds`, as apiextensions-apiserver's
//! controllers), namespaces (`namespaces`, as the namespace lifecycle admission and
//! controller), lists (`list`) and the watch history (`watch`).

mod crds;
mod delete;
mod list;
mod namespaces;
mod patch;
mod strategy;
#[cfg(test)]
mod tests;
mod watch;
mod write;

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{SecondsFormat, Utc};
use serde_json::{Map, Value, json};
use tokio::sync::broadcast;

use crate::error::{ApiError, ApiResult};
use crate::events;
use crate::registry::{Builtin, ResourceDef, builtins};
use crate::selector::{FieldSelector, LabelSelector};
use crate::{openapi, schema};

pub use watch::StoredEvent;

/// The metadata only the server writes, which no mutating webhook's patch changes.
const SERVER_SET_METADATA: [&str; 8] = [
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "creationTimestamp",
    "generation",
    "managedFields",
    "deletionTimestamp",
];

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ObjectKey {
    pub group: String,
    pub plural: String,
    pub namespace: String,
    pub name: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventType {
    Added,
    Modified,
    Deleted,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum FieldValidation {
    Ignore,
    #[default]
    Warn,
    Strict,
}

#[derive(Clone, Debug, Default)]
pub struct WriteOptions {
    pub field_manager: String,
    pub field_validation: FieldValidation,
    pub dry_run: bool,
    pub force: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Propagation {
    Background,
    Foreground,
    Orphan,
}

#[derive(Clone, Debug)]
pub struct DeleteOptions {
    pub propagation: Propagation,
    pub precondition_uid: Option<String>,
    pub precondition_rv: Option<String>,
    pub dry_run: bool,
}

#[derive(Clone, Copy)]
pub enum PatchKind {
    Merge,
    Json,
    Strategic,
    Apply,
}

/// What a write does, in the words of admission (`AdmissionRequest.operation`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    Create,
    Update,
    Delete,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "CREATE",
            Operation::Update => "UPDATE",
            Operation::Delete => "DELETE",
        }
    }
}

/// A write the store has decoded, defaulted and validated (schema, CEL rules) but not yet
/// stored: what validating admission webhooks are shown before [`Store::commit`] stores it.
pub struct Pending {
    pub def: Arc<ResourceDef>,
    pub operation: Operation,
    pub name: String,
    /// Whether the server made the name up from `generateName`.
    pub name_generated: bool,
    /// The object's namespace; None for cluster-scoped kinds.
    pub namespace: Option<String>,
    pub dry_run: bool,
    /// Warnings of decoding (unknown fields), for the `Warning` header.
    pub warnings: Vec<String>,
    key: ObjectKey,
    /// The resourceVersion of the stored object the write was computed from (None: absent).
    expected_rv: Option<String>,
    step: Step,
}

impl Pending {
    /// The object as it will be stored (uid, generated name, defaults), or None for a delete.
    pub fn object(&self) -> Option<&Value> {
        match &self.step {
            Step::Create { object } => Some(object),
            Step::Update { new, .. } => Some(new),
            Step::Delete { .. } => None,
        }
    }

    /// The stored object the write replaces or deletes.
    pub fn old(&self) -> Option<&Value> {
        match &self.step {
            Step::Create { .. } => None,
            Step::Update { old, .. } => Some(old),
            Step::Delete { object, .. } => Some(object),
        }
    }
}

enum Step {
    Create {
        object: Value,
    },
    Update {
        old: Value,
        new: Value,
        finalized: bool,
        unchanged: bool,
    },
    Delete {
        object: Value,
        propagation: Propagation,
    },
}

/// What a write hands back: the object and any warnings for the `Warning` header.
pub struct Written {
    pub object: Value,
    pub created: bool,
    pub warnings: Vec<String>,
}

/// Where the object a write stores came from. It decides how the apiserver words a strict
/// decoding failure (its create and update handlers decode the body, its patch handler the
/// patched object) and who owns the object's fields.
enum Source<'a> {
    /// A create or update body.
    Body,
    /// What a JSON or merge patch made of the stored object, as the patch handler decodes it;
    /// kept only for a request with strict field validation, whose refusal shows it.
    Patched(Option<&'a Value>),
    /// A strategic merge patch as sent: the patch handler names the patch, not its result.
    StrategicPatch(&'a Value),
    /// A server-side apply, with the ownership it computed. Its configuration was checked for
    /// undeclared fields before it was merged.
    Applied(Option<Value>),
}

/// Which objects a list or watch selects.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub namespace: Option<String>,
    pub labels: LabelSelector,
    pub fields: FieldSelector,
}

impl Filter {
    pub fn matches(&self, object: &Value) -> bool {
        let namespace_matches = match &self.namespace {
            Some(ns) => object.pointer("/metadata/namespace").and_then(Value::as_str) == Some(ns.as_str()),
            None => true,
        };
        let fields_match = if events::is_event(object) {
            self.fields.matches(&events::selectable(object))
        } else {
            self.fields.matches(object)
        };
        namespace_matches && self.labels.matches(object) && fields_match
    }
}

pub struct Store {
    state: Mutex<State>,
    events: broadcast::Sender<Arc<StoredEvent>>,
    /// Bumped by `expire_watches`: open watch streams end when it moves.
    expiry: tokio::sync::watch::Sender<u64>,
}

struct State {
    rv: u64,
    /// Shared with the requests that resolve them, so that a request copies no kind.
    defs: Vec<Arc<ResourceDef>>,
    objects: BTreeMap<ObjectKey, Value>,
    history: VecDeque<Arc<StoredEvent>>,
    window: usize,
    /// Events up to and including this resourceVersion are no longer retained.
    compacted_through: u64,
    /// Events of the current operation, published once the lock is released.
    pending: Vec<Arc<StoredEvent>>,
}

pub fn now_rfc3339() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn meta_str<'a>(object: &'a Value, field: &str) -> Option<&'a str> {
    object
        .get("metadata")
        .and_then(|m| m.get(field))
        .and_then(Value::as_str)
}

fn metadata_mut(object: &mut Value) -> &mut Map<String, Value> {
    if !object.get("metadata").is_some_and(Value::is_object) {
        object["metadata"] = json!({});
    }
    match object.get_mut("metadata") {
        Some(Value::Object(map)) => map,
        _ => unreachable!("metadata was just made an object"),
    }
}

fn finalizers(object: &Value) -> Vec<String> {
    object
        .pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|f| f.as_str().map(String::from)).collect())
        .unwrap_or_default()
}

fn set_finalizers(object: &mut Value, list: Vec<String>) {
    let metadata = metadata_mut(object);
    if list.is_empty() {
        metadata.remove("finalizers");
    } else {
        metadata.insert("finalizers".into(), json!(list));
    }
}

impl Store {
    #[allow(
        clippy::panic,
        reason = "the initial namespaces are constants: a failure is a bug every test meets at once"
    )]
    pub fn new(window: usize) -> Self {
        let (events, _) = broadcast::channel(65_536);
        let (expiry, _) = tokio::sync::watch::channel(0);
        let mut state = State {
            rv: 0,
            defs: builtins().into_iter().map(Arc::new).collect(),
            objects: BTreeMap::new(),
            history: VecDeque::new(),
            window: window.max(1),
            compacted_through: 0,
            pending: vec![],
        };
        for namespace in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            let def = state.def_of(Builtin::Namespace);
            let object = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}});
            // Startup namespaces are always valid; an error here is a programming error caught by every test.
            let created = state
                .create(
                    &def,
                    None,
                    object,
                    &WriteOptions {
                        field_manager: "kube-apiserver".into(),
                        ..Default::default()
                    },
                    Source::Body,
                )
                .and_then(|pending| state.commit(pending));
            if let Err(err) = created {
                panic!("creating namespace {namespace}: {}", err.message);
            }
        }
        state.pending.clear();
        Store {
            state: Mutex::new(state),
            events,
            expiry,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves the state as it was before the
        // failed operation's commit, so continuing is safe.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs one operation and publishes its events in order.
    fn with_state<T>(&self, operation: impl FnOnce(&mut State) -> ApiResult<T>) -> ApiResult<T> {
        let mut state = self.lock();
        let result = operation(&mut state);
        for event in state.pending.drain(..) {
            // No receivers is not an error: nobody is watching.
            let _ = self.events.send(event);
        }
        result
    }

    pub fn defs(&self) -> Vec<ResourceDef> {
        self.lock().defs.iter().map(|def| ResourceDef::clone(def)).collect()
    }

    pub fn resolve(&self, group: &str, version: &str, plural: &str) -> Option<Arc<ResourceDef>> {
        self.lock()
            .defs
            .iter()
            .find(|d| d.group == group && d.version == version && d.plural == plural)
            .cloned()
    }

    pub fn current_rv(&self) -> u64 {
        self.lock().rv
    }

    pub fn get(&self, def: &ResourceDef, namespace: Option<&str>, name: &str) -> ApiResult<Value> {
        let state = self.lock();
        state.get(def, namespace, name).map(|o| typed(def, o))
    }

    pub fn create(
        &self,
        def: &Arc<ResourceDef>,
        namespace: Option<&str>,
        body: Value,
        options: &WriteOptions,
    ) -> ApiResult<Written> {
        self.with_state(|state| {
            let pending = state.create(def, namespace, body, options, Source::Body)?;
            state.commit(pending)
        })
        .map(|w| w.presented(def))
    }

    pub fn update(
        &self,
        def: &Arc<ResourceDef>,
        namespace: Option<&str>,
        name: &str,
        body: Value,
        status: bool,
        options: &WriteOptions,
    ) -> ApiResult<Written> {
        self.with_state(|state| {
            let pending = state.update(def, namespace, name, body, status, options)?;
            state.commit(pending)
        })
        .map(|w| w.presented(def))
    }

    #[allow(clippy::too_many_arguments)]
    pub fn patch(
        &self,
        def: &Arc<ResourceDef>,
        namespace: Option<&str>,
        name: &str,
        kind: PatchKind,
        patch: Value,
        status: bool,
        options: &WriteOptions,
    ) -> ApiResult<Written> {
        self.with_state(|state| {
            let pending = state.patch(def, namespace, name, kind, patch, status, options)?;
            state.commit(pending)
        })
        .map(|w| w.presented(def))
    }

    pub fn delete(
        &self,
        def: &Arc<ResourceDef>,
        namespace: Option<&str>,
        name: &str,
        options: &DeleteOptions,
    ) -> ApiResult<Value> {
        self.with_state(|state| {
            let pending = state.delete(def, namespace, name, options)?;
            state.commit(pending)
        })
        .map(|w| present_owned(def, w.object))
    }

    /// A create as far as admission webhooks: decoded, defaulted and validated, not stored.
    pub fn prepare_create(
        &self,
        def: &Arc<ResourceDef>,
        namespace: Option<&str>,
        body: Value,
        options: &WriteOptions,
    ) -> ApiResult<Pending> {
        self.lock().create(def, namespace, body, options, Source::Body)
    }

    /// An update as far as admission webhooks.
    pub fn prepare_update(
        &self,
        def: &Arc<ResourceDef>,
        namespace: Option<&str>,
        name: &str,
        body: Value,
        status: bool,
        options: &WriteOptions,
    ) -> ApiResult<Pending> {
        self.lock().update(def, namespace, name, body, status, options)
    }

    /// A patch as far as admission webhooks: an update, or a create for an apply of a new object.
    #[allow(clippy::too_many_arguments)]
    pub fn prepare_patch(
        &self,
        def: &Arc<ResourceDef>,
        namespace: Option<&str>,
        name: &str,
        kind: PatchKind,
        patch: Value,
        status: bool,
        options: &WriteOptions,
    ) -> ApiResult<Pending> {
        self.lock().patch(def, namespace, name, kind, patch, status, options)
    }

    /// A delete as far as admission webhooks: preconditions checked, nothing removed.
    pub fn prepare_delete(
        &self,
        def: &Arc<ResourceDef>,
        namespace: Option<&str>,
        name: &str,
        options: &DeleteOptions,
    ) -> ApiResult<Pending> {
        self.lock().delete(def, namespace, name, options)
    }

    /// A prepared write's object as mutating admission left it, decoded and validated again, as
    /// the apiserver validates only after mutation. What the server set (identity, versions,
    /// field ownership) stays its own.
    pub fn mutated(&self, pending: &mut Pending, mut object: Value) -> ApiResult<()> {
        let def = pending.def.clone();
        let Some(before) = pending.object() else {
            return Ok(());
        };
        for field in SERVER_SET_METADATA {
            match before.pointer(&format!("/metadata/{field}")) {
                Some(value) => metadata_mut(&mut object).insert(field.into(), value.clone()),
                None => metadata_mut(&mut object).remove(field),
            };
        }
        match (&def.schema, def.builtin) {
            (Some(schema), _) => drop(schema::normalize(schema, &mut object)),
            (None, Some(builtin)) => drop(schema::prune_unknown(openapi::builtin_schema(builtin), &mut object)),
            (None, None) => {}
        }
        if let Some(schema) = &def.schema {
            let errors: Vec<(String, String, String)> = schema::validate(schema, &def.programs, &object, pending.old())
                .iter()
                .map(|error| (error.cause_reason().to_string(), error.field.clone(), error.message()))
                .collect();
            if !errors.is_empty() {
                return Err(ApiError::invalid(
                    &def.group,
                    &def.qualified_kind(),
                    &pending.name,
                    errors,
                ));
            }
        }
        match &mut pending.step {
            Step::Create { object: stored } => *stored = object,
            Step::Update { new, unchanged, .. } => {
                *unchanged = *unchanged && *new == object;
                *new = object;
            }
            Step::Delete { .. } => {}
        }
        Ok(())
    }

    /// Stores a prepared write, as the object was when it was prepared. None when the object
    /// changed in between (another write won the race): the caller prepares it again, as the real
    /// server's optimistic update loop runs admission again.
    pub fn commit(&self, pending: Pending) -> ApiResult<Option<Written>> {
        let def = pending.def.clone();
        self.with_state(|state| {
            let current = state
                .objects
                .get(&pending.key)
                .and_then(|o| meta_str(o, "resourceVersion"));
            if current != pending.expected_rv.as_deref() {
                return Ok(None);
            }
            state.commit(pending).map(Some)
        })
        .map(|written| written.map(|w| w.presented(&def)))
    }

    /// The names of the objects of `def` that `filter` selects, in storage order.
    pub fn names(&self, def: &ResourceDef, filter: &Filter) -> Vec<(Option<String>, String)> {
        let state = self.lock();
        state
            .of_kind(def)
            .filter(|(_, object)| filter.matches(object))
            .map(|(key, _)| {
                (
                    (!key.namespace.is_empty()).then(|| key.namespace.clone()),
                    key.name.clone(),
                )
            })
            .collect()
    }

    /// Every stored object of a built-in kind, in name order.
    pub fn builtin_objects(&self, which: Builtin) -> Vec<Value> {
        let state = self.lock();
        let def = state.def_of(which);
        state.of_kind(&def).map(|(_, object)| object.clone()).collect()
    }

    /// The labels of a namespace, None when it does not exist.
    pub fn namespace_labels(&self, namespace: &str) -> Option<Value> {
        let state = self.lock();
        state
            .objects
            .get(&ObjectKey {
                group: String::new(),
                plural: "namespaces".into(),
                namespace: String::new(),
                name: namespace.to_string(),
            })
            .map(|n| n.pointer("/metadata/labels").cloned().unwrap_or_else(|| json!({})))
    }
}

impl Written {
    fn presented(mut self, def: &ResourceDef) -> Self {
        self.object = present_owned(def, self.object);
        self
    }
}

/// The object as served at `def`'s version: custom resources are stored once
/// and served at every version with the same content (conversion `None`); Events are
/// converted between core/v1 and events.k8s.io/v1.
pub fn present(def: &ResourceDef, object: &Value) -> Value {
    typed(def, in_version(def, object))
}

/// [`present`] for an object the caller gives up, which is then not copied.
fn present_owned(def: &ResourceDef, object: Value) -> Value {
    match def.builtin {
        Some(Builtin::Event | Builtin::CoreEvent) => present(def, &object),
        _ => typed(def, object),
    }
}

/// An object in `def`'s version, with the apiVersion and kind it is served with.
fn typed(def: &ResourceDef, mut object: Value) -> Value {
    object["apiVersion"] = json!(def.api_version());
    object["kind"] = json!(def.kind);
    object
}

/// A stored object in the shape of `def`'s version: only Events have two.
fn in_version(def: &ResourceDef, object: &Value) -> Value {
    match def.builtin {
        Some(Builtin::Event | Builtin::CoreEvent) => events::in_version(object, &def.api_version()),
        _ => object.clone(),
    }
}

impl State {
    fn def_of(&self, which: Builtin) -> Arc<ResourceDef> {
        match self.defs.iter().find(|d| d.builtin == Some(which)) {
            Some(def) => def.clone(),
            None => unreachable!("built-in kinds are always registered"),
        }
    }

    /// The stored objects of `def`'s kind, in key order: a range of the map, not a scan of
    /// every object, so that asking about one kind costs nothing per object of the others
    /// (admission asks for webhook configurations on every write).
    fn of_kind<'a>(&'a self, def: &ResourceDef) -> impl Iterator<Item = (&'a ObjectKey, &'a Value)> + 'a {
        let (group, plural) = def.storage();
        self.of_storage(group, plural, "", "")
    }

    /// The objects stored under `group`/`plural` from (`namespace`, `name`) on, in key order.
    fn of_storage<'a>(
        &'a self,
        group: &str,
        plural: &str,
        namespace: &str,
        name: &str,
    ) -> impl Iterator<Item = (&'a ObjectKey, &'a Value)> + 'a {
        let start = ObjectKey {
            group: group.to_owned(),
            plural: plural.to_owned(),
            namespace: namespace.to_owned(),
            name: name.to_owned(),
        };
        let (group, plural) = (start.group.clone(), start.plural.clone());
        self.objects
            .range(start..)
            .take_while(move |(key, _)| key.group == group && key.plural == plural)
    }

    fn key(def: &ResourceDef, namespace: Option<&str>, name: &str) -> ObjectKey {
        ObjectKey {
            group: def.storage().0.to_owned(),
            plural: def.storage().1.to_owned(),
            namespace: if def.namespaced {
                namespace.unwrap_or_default().to_string()
            } else {
                String::new()
            },
            name: name.to_string(),
        }
    }

    /// A stored object, in the shape of `def`'s version.
    fn get(&self, def: &ResourceDef, namespace: Option<&str>, name: &str) -> ApiResult<Value> {
        self.objects
            .get(&Self::key(def, namespace, name))
            .map(|object| in_version(def, object))
            .ok_or_else(|| ApiError::not_found(&def.group, &def.plural, name))
    }

    fn next_rv(&mut self) -> String {
        self.rv += 1;
        self.rv.to_string()
    }
}
