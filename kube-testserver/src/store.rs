//! The server's state: every object, one global resourceVersion counter, the
//! retained window of watch events, and the write path every verb shares
//! (admission, generation, finalizers, garbage collection).

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{SecondsFormat, Utc};
use serde_json::{Map, Value, json};
use tokio::sync::{broadcast, watch};

use crate::admission;
use crate::error::{ApiError, ApiResult};
use crate::go_format::{go_json, go_print, go_quote};
use crate::managed_fields;
use crate::openapi;
use crate::registry::{Builtin, ResourceDef, builtins, defs_from_crd};
use crate::schema;
use crate::selector::{FieldSelector, LabelSelector};
use crate::strategic;

const CRD_CLEANUP_FINALIZER: &str = "customresourcecleanup.apiextensions.k8s.io";
const FOREGROUND_FINALIZER: &str = "foregroundDeletion";
const ORPHAN_FINALIZER: &str = "orphan";

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

/// One change, as retained for watches. `previous` lets a watch with a
/// selector turn a change of labels into ADDED or DELETED, as the real
/// server does.
#[derive(Debug)]
pub struct StoredEvent {
    pub rv: u64,
    pub group: String,
    pub plural: String,
    pub namespace: String,
    pub kind: EventType,
    pub object: Value,
    pub previous: Option<Value>,
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
    pub def: ResourceDef,
    pub operation: Operation,
    /// The object as it will be stored (uid, generated name, defaults), or None for a delete.
    pub object: Option<Value>,
    /// The stored object the write replaces or deletes.
    pub old: Option<Value>,
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
    /// What a JSON or merge patch made of the stored object, as the patch handler decodes it.
    Patched(&'a Value),
    /// A strategic merge patch as sent: the patch handler names the patch, not its result.
    StrategicPatch(&'a Value),
    /// A server-side apply, with the ownership it computed. Its configuration was checked for
    /// undeclared fields before it was merged.
    Applied(Option<Value>),
}

pub struct ListResult {
    pub items: Vec<Value>,
    pub resource_version: String,
    pub continue_token: Option<String>,
    pub remaining: Option<usize>,
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
        namespace_matches && self.labels.matches(object) && self.fields.matches(object)
    }
}

/// The start of a watch: what to send first, and the live feed after it.
pub struct WatchStart {
    pub initial: Vec<Arc<StoredEvent>>,
    /// The resourceVersion the initial events bring the client up to.
    pub initial_rv: u64,
    pub live: broadcast::Receiver<Arc<StoredEvent>>,
    pub expired: watch::Receiver<u64>,
}

pub struct Store {
    state: Mutex<State>,
    events: broadcast::Sender<Arc<StoredEvent>>,
    /// Bumped by `expire_watches`: open watch streams end when it moves.
    expiry: watch::Sender<u64>,
}

struct State {
    rv: u64,
    defs: Vec<ResourceDef>,
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

fn owner_uids(object: &Value) -> Vec<String> {
    object
        .pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .map(|refs| {
            refs.iter()
                .filter_map(|r| r["uid"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// The part of an object whose change moves `metadata.generation`.
fn spec_part(object: &Value) -> Value {
    let mut copy = object.clone();
    if let Some(map) = copy.as_object_mut() {
        map.remove("metadata");
        map.remove("status");
    }
    copy
}

/// The object as compared for "did this write change anything". A change of field ownership
/// alone is a change (kubectl's migration from client-side apply writes nothing else), but not
/// a manager's newer timestamp: the apiserver's `IgnoreManagedFieldsTimestampsTransformer`
/// keeps the old ones then, so the write stores nothing.
fn without_volatile(object: &Value) -> Value {
    let mut copy = object.clone();
    if let Some(metadata) = copy.get_mut("metadata").and_then(Value::as_object_mut) {
        metadata.remove("resourceVersion");
        if let Some(Value::Array(entries)) = metadata.get_mut("managedFields") {
            for entry in entries.iter_mut().filter_map(Value::as_object_mut) {
                entry.remove("time");
            }
        }
    }
    copy
}

const DNS1123_SUBDOMAIN: &str = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const DNS1123_LABEL: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";

fn name_errors(name: &str, label_only: bool) -> Option<String> {
    let (pattern, max, what, example) = if label_only {
        (DNS1123_LABEL, 63, "RFC 1123 label", "'my-name',  or '123-abc'")
    } else {
        (DNS1123_SUBDOMAIN, 253, "RFC 1123 subdomain", "'example.com'")
    };
    let full = regex::Regex::new(&format!("^{pattern}$")).ok()?;
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

impl Store {
    pub fn new(window: usize) -> Self {
        let (events, _) = broadcast::channel(65_536);
        let (expiry, _) = watch::channel(0);
        let mut state = State {
            rv: 0,
            defs: builtins(),
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
        self.lock().defs.clone()
    }

    pub fn resolve(&self, group: &str, version: &str, plural: &str) -> Option<ResourceDef> {
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
        state.get(def, namespace, name).map(|o| present(def, o))
    }

    pub fn list(
        &self,
        def: &ResourceDef,
        filter: &Filter,
        limit: Option<usize>,
        continue_token: Option<&str>,
    ) -> ApiResult<ListResult> {
        let state = self.lock();
        let start_after: Option<(String, String)> = match continue_token {
            Some(token) if !token.is_empty() => Some(decode_continue(token)?),
            _ => None,
        };
        let mut matching = state
            .objects
            .iter()
            .filter(|(key, _)| key.group == def.group && key.plural == def.plural)
            .filter(|(key, _)| match &start_after {
                Some((ns, name)) => (&key.namespace, &key.name) > (ns, name),
                None => true,
            })
            .filter(|(_, object)| filter.matches(object));
        let mut items = vec![];
        let mut last_key = None;
        for (key, object) in matching.by_ref() {
            if limit.is_some_and(|l| l > 0 && items.len() >= l) {
                break;
            }
            items.push(present(def, object));
            last_key = Some(key.clone());
        }
        let remaining = matching.count();
        let has_more = limit.is_some_and(|l| l > 0 && items.len() >= l) && remaining > 0;
        let (continue_token, remaining) = if has_more {
            let key = last_key.unwrap_or_else(|| ObjectKey {
                group: String::new(),
                plural: String::new(),
                namespace: String::new(),
                name: String::new(),
            });
            (Some(encode_continue(&key.namespace, &key.name)), Some(remaining + 1))
        } else {
            (None, None)
        };
        // `matching.count()` consumed one more item than remains when the loop broke on the limit.
        let remaining = remaining.map(|r| r - 1);
        Ok(ListResult {
            items,
            resource_version: state.rv.to_string(),
            continue_token,
            remaining,
        })
    }

    pub fn create(
        &self,
        def: &ResourceDef,
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
        def: &ResourceDef,
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
        def: &ResourceDef,
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
        def: &ResourceDef,
        namespace: Option<&str>,
        name: &str,
        options: &DeleteOptions,
    ) -> ApiResult<Value> {
        self.with_state(|state| {
            let pending = state.delete(def, namespace, name, options)?;
            state.commit(pending)
        })
        .map(|w| present(def, &w.object))
    }

    /// A create as far as admission webhooks: decoded, defaulted and validated, not stored.
    pub fn prepare_create(
        &self,
        def: &ResourceDef,
        namespace: Option<&str>,
        body: Value,
        options: &WriteOptions,
    ) -> ApiResult<Pending> {
        self.lock().create(def, namespace, body, options, Source::Body)
    }

    /// An update as far as admission webhooks.
    pub fn prepare_update(
        &self,
        def: &ResourceDef,
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
        def: &ResourceDef,
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
        def: &ResourceDef,
        namespace: Option<&str>,
        name: &str,
        options: &DeleteOptions,
    ) -> ApiResult<Pending> {
        self.lock().delete(def, namespace, name, options)
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
        self.lock()
            .objects
            .iter()
            .filter(|(key, object)| key.group == def.group && key.plural == def.plural && filter.matches(object))
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
        state
            .objects
            .iter()
            .filter(|(key, _)| key.group == def.group && key.plural == def.plural)
            .map(|(_, object)| object.clone())
            .collect()
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

    /// Subscribes to changes after `rv` (None: start with the current state as ADDED events).
    pub fn watch(&self, def: &ResourceDef, filter: &Filter, rv: Option<u64>) -> ApiResult<WatchStart> {
        let state = self.lock();
        // Subscribing under the lock means no event can fall between the backlog and the live feed.
        let live = self.events.subscribe();
        let expired = self.expiry.subscribe();
        let of_kind = |e: &StoredEvent| e.group == def.group && e.plural == def.plural;
        let initial: Vec<Arc<StoredEvent>> = match rv {
            None => state
                .objects
                .iter()
                .filter(|(key, object)| key.group == def.group && key.plural == def.plural && filter.matches(object))
                .map(|(key, object)| {
                    Arc::new(StoredEvent {
                        rv: state.rv,
                        group: key.group.clone(),
                        plural: key.plural.clone(),
                        namespace: key.namespace.clone(),
                        kind: EventType::Added,
                        object: object.clone(),
                        previous: None,
                    })
                })
                .collect(),
            Some(rv) => {
                if rv < state.compacted_through {
                    return Err(ApiError::gone(format!(
                        "too old resource version: {rv} ({})",
                        state.compacted_through
                    )));
                }
                state
                    .history
                    .iter()
                    .filter(|e| e.rv > rv && of_kind(e))
                    .cloned()
                    .collect()
            }
        };
        Ok(WatchStart {
            initial,
            initial_rv: state.rv,
            live,
            expired,
        })
    }

    /// Forgets the retained watch history and ends every open watch, as an
    /// API server restart or etcd compaction does: clients must relist.
    pub fn expire_watches(&self) {
        let mut state = self.lock();
        state.history.clear();
        // Moving past every version a client holds makes each resume a 410, even one from the latest list.
        state.rv += 1;
        state.compacted_through = state.rv;
        self.expiry.send_modify(|generation| *generation += 1);
    }
}

impl Written {
    fn presented(mut self, def: &ResourceDef) -> Self {
        self.object = present(def, &self.object);
        self
    }
}

/// The object as served at `def`'s version: custom resources are stored once
/// and served at every version with the same content (conversion `None`).
pub fn present(def: &ResourceDef, object: &Value) -> Value {
    let mut copy = object.clone();
    copy["apiVersion"] = json!(def.api_version());
    copy["kind"] = json!(def.kind);
    copy
}

fn encode_continue(namespace: &str, name: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(json!({"ns": namespace, "name": name}).to_string())
}

fn decode_continue(token: &str) -> ApiResult<(String, String)> {
    use base64::Engine;
    let invalid = || {
        ApiError::bad_request(
            "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)",
        )
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(token)
        .map_err(|_| invalid())?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    match (value["ns"].as_str(), value["name"].as_str()) {
        (Some(ns), Some(name)) => Ok((ns.to_string(), name.to_string())),
        _ => Err(invalid()),
    }
}

impl State {
    fn def_of(&self, which: Builtin) -> ResourceDef {
        match self.defs.iter().find(|d| d.builtin == Some(which)) {
            Some(def) => def.clone(),
            None => unreachable!("built-in kinds are always registered"),
        }
    }

    fn key(def: &ResourceDef, namespace: Option<&str>, name: &str) -> ObjectKey {
        ObjectKey {
            group: def.group.clone(),
            plural: def.plural.clone(),
            namespace: if def.namespaced {
                namespace.unwrap_or_default().to_string()
            } else {
                String::new()
            },
            name: name.to_string(),
        }
    }

    fn get(&self, def: &ResourceDef, namespace: Option<&str>, name: &str) -> ApiResult<&Value> {
        self.objects
            .get(&Self::key(def, namespace, name))
            .ok_or_else(|| ApiError::not_found(&def.group, &def.plural, name))
    }

    fn record(&mut self, key: &ObjectKey, kind: EventType, object: Value, previous: Option<Value>) {
        let event = Arc::new(StoredEvent {
            rv: self.rv,
            group: key.group.clone(),
            plural: key.plural.clone(),
            namespace: key.namespace.clone(),
            kind,
            object,
            previous,
        });
        self.history.push_back(event.clone());
        while self.history.len() > self.window {
            if let Some(dropped) = self.history.pop_front() {
                self.compacted_through = dropped.rv;
            }
        }
        self.pending.push(event);
    }

    fn next_rv(&mut self) -> String {
        self.rv += 1;
        self.rv.to_string()
    }

    fn create(
        &mut self,
        def: &ResourceDef,
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
            object: Some(body.clone()),
            old: None,
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
    fn commit(&mut self, pending: Pending) -> ApiResult<Written> {
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
                self.after_write(&def, &key)?;
                let object = self.objects.get(&key).cloned().unwrap_or(object);
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
                self.after_write(&def, &key)?;
                let object = self.objects.get(&key).cloned().unwrap_or(new);
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

    /// The namespace an object lands in, checked against the URL and the store.
    fn check_namespace(&self, def: &ResourceDef, namespace: Option<&str>, body: &Value) -> ApiResult<Option<String>> {
        if !def.namespaced {
            return Ok(None);
        }
        let in_body = meta_str(body, "namespace").filter(|s| !s.is_empty());
        let namespace = match (namespace, in_body) {
            (Some(url), Some(body)) if url != body => {
                return Err(ApiError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
            (Some(url), _) => url.to_string(),
            (None, Some(body)) => body.to_string(),
            (None, None) => {
                return Err(ApiError::bad_request(
                    "the server could not find the requested resource",
                ));
            }
        };
        let exists = self.objects.contains_key(&ObjectKey {
            group: String::new(),
            plural: "namespaces".into(),
            namespace: String::new(),
            name: namespace.clone(),
        });
        if !exists {
            return Err(ApiError::not_found("", "namespaces", &namespace));
        }
        Ok(Some(namespace))
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
        if def.builtin == Some(Builtin::ValidatingWebhookConfiguration)
            && let Some(error) = admission::configuration_decoding_error(object)
        {
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
            for error in schema::validate(schema, object, old) {
                let message = error.message();
                errors.push((error.cause_reason().to_string(), error.field.clone(), message));
            }
        }
        if def.builtin == Some(Builtin::CustomResourceDefinition) {
            errors.extend(crd_errors(object));
        }
        if def.builtin == Some(Builtin::ValidatingWebhookConfiguration) {
            errors.extend(admission::configuration_errors(object));
        }
        if !errors.is_empty() {
            return Err(ApiError::invalid(&def.group, &def.qualified_kind(), &name, errors));
        }
        prepare_builtin(def, object);
        Ok(warnings)
    }

    fn update(
        &mut self,
        def: &ResourceDef,
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
        let old = self.get(def, namespace, name)?.clone();
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

    #[allow(clippy::too_many_arguments)]
    fn patch(
        &mut self,
        def: &ResourceDef,
        namespace: Option<&str>,
        name: &str,
        kind: PatchKind,
        patch: Value,
        status: bool,
        options: &WriteOptions,
    ) -> ApiResult<Pending> {
        let existing = self.get(def, namespace, name).ok().cloned();
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
                let as_patched = patched.clone();
                let source = match other {
                    PatchKind::Strategic => Source::StrategicPatch(&patch),
                    _ => Source::Patched(&as_patched),
                };
                self.update_from(def, old, patched, status, options, source)
            }
        }
    }

    /// The shared tail of update and patch: status-subresource rules,
    /// admission, generation, field ownership, finalizers, no-op detection.
    fn update_from(
        &mut self,
        def: &ResourceDef,
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
                match new.get("status") {
                    Some(s) => merged["status"] = s.clone(),
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
        let old_meta = old.get("metadata").cloned().unwrap_or_else(|| json!({}));
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
            match old_meta.get(field) {
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
        if tracks_generation(def) && spec_part(&new) != spec_part(&old) {
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
        let unchanged = !finalized && without_volatile(&new) == without_volatile(&old);
        Ok(Pending {
            def: def.clone(),
            operation: Operation::Update,
            object: Some(new.clone()),
            old: Some(old.clone()),
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
    /// kinds; a Namespace or CRD being deleted cleans up its contents.
    fn after_write(&mut self, def: &ResourceDef, key: &ObjectKey) -> ApiResult<()> {
        if def.builtin == Some(Builtin::CustomResourceDefinition) {
            self.settle_crd(key);
        }
        Ok(())
    }

    /// A CRD is Established at once, owns the cleanup finalizer while it
    /// lives, and deletes its instances when it is being deleted.
    fn settle_crd(&mut self, key: &ObjectKey) {
        let Some(crd) = self.objects.get(key).cloned() else {
            return;
        };
        let deleting = crd.pointer("/metadata/deletionTimestamp").is_some();
        let mut settled = crd.clone();
        let mut list = finalizers(&settled);
        if !deleting && !list.iter().any(|f| f == CRD_CLEANUP_FINALIZER) {
            list.push(CRD_CLEANUP_FINALIZER.into());
            set_finalizers(&mut settled, list);
        }
        let names = settled.pointer("/spec/names").cloned().unwrap_or_else(|| json!({}));
        let storage: Vec<Value> = settled
            .pointer("/spec/versions")
            .and_then(Value::as_array)
            .map(|versions| {
                versions
                    .iter()
                    .filter(|v| v["storage"].as_bool() == Some(true))
                    .map(|v| v["name"].clone())
                    .collect()
            })
            .unwrap_or_default();
        let now = now_rfc3339();
        let condition = |type_: &str, reason: &str, message: &str| json!({"type": type_, "status": "True", "reason": reason, "message": message, "lastTransitionTime": now});
        let previous_conditions = crd.pointer("/status/conditions").cloned();
        let mut conditions = vec![
            condition("NamesAccepted", "NoConflicts", "no conflicts found"),
            condition(
                "Established",
                "InitialNamesAccepted",
                "the initial names have been accepted",
            ),
        ];
        if deleting {
            conditions.push(condition(
                "Terminating",
                "InstanceDeletionInProgress",
                "CustomResource deletion is in progress",
            ));
        }
        // Keep transition times stable when nothing changed, so the status does not churn.
        if let Some(Value::Array(previous)) = &previous_conditions {
            for condition in conditions.iter_mut() {
                if let Some(same) = previous
                    .iter()
                    .find(|p| p["type"] == condition["type"] && p["status"] == condition["status"])
                {
                    condition["lastTransitionTime"] = same["lastTransitionTime"].clone();
                }
            }
        }
        settled["status"] = json!({"acceptedNames": names, "conditions": conditions, "storedVersions": storage});
        if settled != crd {
            let rv = self.next_rv();
            metadata_mut(&mut settled).insert("resourceVersion".into(), json!(rv));
            self.objects.insert(key.clone(), settled.clone());
            self.record(key, EventType::Modified, settled.clone(), Some(crd));
        }
        self.refresh_defs();
        if deleting {
            let group = settled
                .pointer("/spec/group")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let plural = settled
                .pointer("/spec/names/plural")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let instances: Vec<ObjectKey> = self
                .objects
                .keys()
                .filter(|k| k.group == group && k.plural == plural)
                .cloned()
                .collect();
            for instance in instances {
                self.delete_key(&instance, Propagation::Background);
            }
            self.finish_crd_if_empty(key);
        }
    }

    fn finish_crd_if_empty(&mut self, key: &ObjectKey) {
        let Some(crd) = self.objects.get(key) else { return };
        if crd.pointer("/metadata/deletionTimestamp").is_none() {
            return;
        }
        let group = crd.pointer("/spec/group").and_then(Value::as_str).unwrap_or_default();
        let plural = crd
            .pointer("/spec/names/plural")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if self.objects.keys().any(|k| k.group == group && k.plural == plural) {
            return;
        }
        self.remove_finalizer(key, CRD_CLEANUP_FINALIZER);
    }

    fn refresh_defs(&mut self) {
        let mut defs = builtins();
        for (key, crd) in &self.objects {
            if key.group == "apiextensions.k8s.io" && key.plural == "customresourcedefinitions" {
                defs.extend(defs_from_crd(crd));
            }
        }
        self.defs = defs;
    }

    fn delete(
        &mut self,
        def: &ResourceDef,
        namespace: Option<&str>,
        name: &str,
        options: &DeleteOptions,
    ) -> ApiResult<Pending> {
        let key = Self::key(def, namespace, name);
        let object = self.get(def, namespace, name)?.clone();
        if let Some(uid) = &options.precondition_uid
            && meta_str(&object, "uid") != Some(uid.as_str())
        {
            return Err(ApiError::conflict(
                &def.group,
                &def.plural,
                name,
                &format!(
                    "Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
                    meta_str(&object, "uid").unwrap_or_default()
                ),
            ));
        }
        if let Some(rv) = &options.precondition_rv
            && meta_str(&object, "resourceVersion") != Some(rv.as_str())
        {
            return Err(ApiError::conflict(
                &def.group,
                &def.plural,
                name,
                &format!(
                    "Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {}",
                    meta_str(&object, "resourceVersion").unwrap_or_default()
                ),
            ));
        }
        Ok(Pending {
            def: def.clone(),
            operation: Operation::Delete,
            object: None,
            old: Some(object.clone()),
            name: name.to_string(),
            name_generated: false,
            namespace: (!key.namespace.is_empty()).then(|| key.namespace.clone()),
            dry_run: options.dry_run,
            warnings: vec![],
            expected_rv: meta_str(&object, "resourceVersion").map(String::from),
            key,
            step: Step::Delete {
                object,
                propagation: options.propagation,
            },
        })
    }

    /// Deletion as the real server does it: with finalizers pending the
    /// object only gets a `deletionTimestamp`; without, it goes, and its
    /// dependents are collected. Returns the object as last seen.
    fn delete_key(&mut self, key: &ObjectKey, propagation: Propagation) -> Option<Value> {
        let object = self.objects.get(key)?.clone();
        let uid = meta_str(&object, "uid").unwrap_or_default().to_string();
        if propagation == Propagation::Orphan {
            self.orphan_dependents(&uid);
        }
        let mut updated = object.clone();
        let mut list = finalizers(&updated);
        if propagation == Propagation::Foreground
            && !list.iter().any(|f| f == FOREGROUND_FINALIZER)
            && self.has_dependents(&uid)
        {
            list.push(FOREGROUND_FINALIZER.into());
        }
        list.retain(|f| f != ORPHAN_FINALIZER);
        let is_namespace = key.group.is_empty() && key.plural == "namespaces";
        let is_crd = key.group == "apiextensions.k8s.io" && key.plural == "customresourcedefinitions";
        if list.is_empty() && !is_namespace {
            self.remove(key);
            return Some(object);
        }
        set_finalizers(&mut updated, list);
        if updated.pointer("/metadata/deletionTimestamp").is_none() {
            let metadata = metadata_mut(&mut updated);
            metadata.insert("deletionTimestamp".into(), json!(now_rfc3339()));
            metadata.insert("deletionGracePeriodSeconds".into(), json!(0));
        }
        if is_namespace {
            updated["status"] = json!({"phase": "Terminating"});
        }
        if updated != object {
            let rv = self.next_rv();
            metadata_mut(&mut updated).insert("resourceVersion".into(), json!(rv));
            self.objects.insert(key.clone(), updated.clone());
            self.record(key, EventType::Modified, updated.clone(), Some(object));
        }
        if propagation == Propagation::Foreground {
            for dependent in self.dependents(&uid) {
                self.delete_key(&dependent, Propagation::Foreground);
            }
        }
        if is_namespace {
            let contents: Vec<ObjectKey> = self
                .objects
                .keys()
                .filter(|k| k.namespace == key.name)
                .cloned()
                .collect();
            for item in contents {
                self.delete_key(&item, Propagation::Background);
            }
            self.finish_namespace_if_empty(&key.name);
        }
        if is_crd {
            self.settle_crd(key);
        }
        self.objects.get(key).cloned()
    }

    fn dependents(&self, owner_uid: &str) -> Vec<ObjectKey> {
        self.objects
            .iter()
            .filter(|(_, o)| owner_uids(o).iter().any(|u| u == owner_uid))
            .map(|(k, _)| k.clone())
            .collect()
    }

    fn has_dependents(&self, owner_uid: &str) -> bool {
        !owner_uid.is_empty()
            && self
                .objects
                .values()
                .any(|o| owner_uids(o).iter().any(|u| u == owner_uid))
    }

    fn orphan_dependents(&mut self, owner_uid: &str) {
        for key in self.dependents(owner_uid) {
            self.modify(&key, |object| {
                if let Some(Value::Array(refs)) = object.pointer_mut("/metadata/ownerReferences") {
                    refs.retain(|r| r["uid"].as_str() != Some(owner_uid));
                    if refs.is_empty() {
                        metadata_mut(object).remove("ownerReferences");
                    }
                }
            });
        }
    }

    /// A server-side change to a stored object, with its event.
    fn modify(&mut self, key: &ObjectKey, change: impl FnOnce(&mut Value)) {
        let Some(old) = self.objects.get(key).cloned() else {
            return;
        };
        let mut new = old.clone();
        change(&mut new);
        if new == old {
            return;
        }
        let rv = self.next_rv();
        metadata_mut(&mut new).insert("resourceVersion".into(), json!(rv));
        self.objects.insert(key.clone(), new.clone());
        self.record(key, EventType::Modified, new, Some(old));
    }

    fn remove_finalizer(&mut self, key: &ObjectKey, finalizer: &str) {
        let Some(object) = self.objects.get(key).cloned() else {
            return;
        };
        let mut list = finalizers(&object);
        if !list.iter().any(|f| f == finalizer) {
            return;
        }
        list.retain(|f| f != finalizer);
        if list.is_empty() && object.pointer("/metadata/deletionTimestamp").is_some() {
            let mut last = object;
            set_finalizers(&mut last, list);
            let rv = self.next_rv();
            metadata_mut(&mut last).insert("resourceVersion".into(), json!(rv));
            self.objects.insert(key.clone(), last);
            self.remove(key);
        } else {
            self.modify(key, |o| set_finalizers(o, list));
        }
    }

    /// Removes an object for good, then everything that waited on it:
    /// dependents (garbage collection), a foreground-deleting owner, a
    /// terminating namespace, a CRD waiting for its instances.
    fn remove(&mut self, key: &ObjectKey) {
        let Some(mut object) = self.objects.remove(key) else {
            return;
        };
        if object.pointer("/metadata/resourceVersion").and_then(Value::as_str) != Some(&self.rv.to_string()) {
            let rv = self.next_rv();
            metadata_mut(&mut object).insert("resourceVersion".into(), json!(rv));
        }
        self.record(key, EventType::Deleted, object.clone(), None);
        let uid = meta_str(&object, "uid").unwrap_or_default().to_string();
        // Background collection: a dependent goes once none of its owners exist.
        for dependent in self.dependents(&uid) {
            let Some(dependent_object) = self.objects.get(&dependent) else {
                continue;
            };
            let owners = owner_uids(dependent_object);
            let live_owner = owners
                .iter()
                .any(|u| u != &uid && self.objects.values().any(|o| meta_str(o, "uid") == Some(u.as_str())));
            if live_owner {
                let uid = uid.clone();
                self.modify(&dependent, |o| {
                    if let Some(Value::Array(refs)) = o.pointer_mut("/metadata/ownerReferences") {
                        refs.retain(|r| r["uid"].as_str() != Some(uid.as_str()));
                    }
                });
            } else {
                self.delete_key(&dependent, Propagation::Background);
            }
        }
        // Owners in foreground deletion wait for their dependents.
        for owner_uid in owner_uids(&object) {
            let owner_key = self
                .objects
                .iter()
                .find(|(_, o)| meta_str(o, "uid") == Some(owner_uid.as_str()))
                .map(|(k, _)| k.clone());
            if let Some(owner_key) = owner_key {
                let waiting = self
                    .objects
                    .get(&owner_key)
                    .is_some_and(|o| finalizers(o).iter().any(|f| f == FOREGROUND_FINALIZER));
                if waiting && !self.has_dependents(&owner_uid) {
                    self.remove_finalizer(&owner_key, FOREGROUND_FINALIZER);
                }
            }
        }
        if !key.namespace.is_empty() {
            self.finish_namespace_if_empty(&key.namespace.clone());
        }
        let crd_key = self
            .objects
            .iter()
            .find(|(k, o)| {
                k.group == "apiextensions.k8s.io"
                    && o.pointer("/spec/group").and_then(Value::as_str) == Some(key.group.as_str())
                    && o.pointer("/spec/names/plural").and_then(Value::as_str) == Some(key.plural.as_str())
            })
            .map(|(k, _)| k.clone());
        if let Some(crd_key) = crd_key {
            self.finish_crd_if_empty(&crd_key);
        }
        if key.group == "apiextensions.k8s.io" && key.plural == "customresourcedefinitions" {
            self.refresh_defs();
        }
    }

    fn finish_namespace_if_empty(&mut self, namespace: &str) {
        let key = ObjectKey {
            group: String::new(),
            plural: "namespaces".into(),
            namespace: String::new(),
            name: namespace.to_string(),
        };
        let terminating = self
            .objects
            .get(&key)
            .is_some_and(|n| n.pointer("/metadata/deletionTimestamp").is_some());
        if !terminating || self.objects.keys().any(|k| k.namespace == namespace) {
            return;
        }
        let finalizers_left = self.objects.get(&key).map(finalizers).unwrap_or_default();
        if finalizers_left.is_empty() {
            self.remove(&key);
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
        Source::Patched(patched) => invalid_patch(go_json(patched)),
        Source::StrategicPatch(patch) => invalid_patch(go_print(patch)),
        Source::Body | Source::Applied(_) => ApiError::bad_request(format!(
            "{kind} in version \"{version}\" cannot be handled as a {kind}: {detail}",
            kind = def.kind,
            version = def.version
        )),
    }
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

/// What the real server's strategies do to built-in kinds before storing.
fn prepare_builtin(def: &ResourceDef, object: &mut Value) {
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
        Some(Builtin::ValidatingWebhookConfiguration) => admission::default_configuration(object),
        _ => {}
    }
}

/// The CRD rules clients run into: the name must be `<plural>.<group>`,
/// and exactly one version is the storage version.
fn crd_errors(crd: &Value) -> Vec<(String, String, String)> {
    let mut errors = vec![];
    let name = meta_str(crd, "name").unwrap_or_default();
    let group = crd.pointer("/spec/group").and_then(Value::as_str).unwrap_or_default();
    let plural = crd
        .pointer("/spec/names/plural")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let mut required = |field: &str, present: bool| {
        if !present {
            errors.push((
                "FieldValueRequired".into(),
                field.into(),
                format!("{field}: Required value"),
            ));
        }
    };
    required("spec.group", !group.is_empty());
    required("spec.names.plural", !plural.is_empty());
    required(
        "spec.names.kind",
        crd.pointer("/spec/names/kind")
            .and_then(Value::as_str)
            .is_some_and(|k| !k.is_empty()),
    );
    let scope = crd.pointer("/spec/scope").and_then(Value::as_str).unwrap_or_default();
    if !matches!(scope, "Namespaced" | "Cluster") {
        errors.push((
            "FieldValueNotSupported".into(),
            "spec.scope".into(),
            format!(
                "spec.scope: Unsupported value: {}: supported values: \"Cluster\", \"Namespaced\"",
                go_quote(scope)
            ),
        ));
    }
    if !group.is_empty() && !plural.is_empty() && name != format!("{plural}.{group}") {
        errors.push((
            "FieldValueInvalid".into(),
            "metadata.name".into(),
            format!(
                "metadata.name: Invalid value: {}: must be spec.names.plural+\".\"+spec.group",
                go_quote(name)
            ),
        ));
    }
    let versions = crd
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if versions.is_empty() {
        errors.push((
            "FieldValueInvalid".into(),
            "spec.versions".into(),
            "spec.versions: Invalid value: null: must have exactly one version marked as storage version".into(),
        ));
    } else if versions.iter().filter(|v| v["storage"].as_bool() == Some(true)).count() != 1 {
        errors.push(("FieldValueInvalid".into(), "spec.versions".into(), "spec.versions: Invalid value: []apiextensions.CustomResourceDefinitionVersion: must have exactly one version marked as storage version".into()));
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crd() -> Value {
        json!({
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "widgets.example.com"},
            "spec": {"group": "example.com", "scope": "Namespaced",
                "names": {"plural": "widgets", "kind": "Widget"},
                "versions": [{"name": "v1", "served": true, "storage": true, "subresources": {"status": {}},
                    "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                        "spec": {"type": "object", "properties": {"size": {"type": "integer"}}},
                        "status": {"type": "object", "properties": {"ready": {"type": "boolean"}}}}}}}]}
        })
    }

    fn setup() -> (Store, ResourceDef) {
        let store = Store::new(1000);
        let crd_def = store
            .resolve("apiextensions.k8s.io", "v1", "customresourcedefinitions")
            .unwrap();
        store.create(&crd_def, None, crd(), &WriteOptions::default()).unwrap();
        let def = store.resolve("example.com", "v1", "widgets").unwrap();
        (store, def)
    }

    fn widget(name: &str) -> Value {
        json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": name}, "spec": {"size": 1}})
    }

    #[test]
    fn generation_moves_only_with_spec() {
        let (store, def) = setup();
        let created = store
            .create(&def, Some("default"), widget("a"), &WriteOptions::default())
            .unwrap()
            .object;
        assert_eq!(created["metadata"]["generation"], 1);
        let status = json!({"status": {"ready": true}});
        let written = store
            .patch(
                &def,
                Some("default"),
                "a",
                PatchKind::Merge,
                status,
                true,
                &WriteOptions::default(),
            )
            .unwrap()
            .object;
        assert_eq!(written["metadata"]["generation"], 1);
        assert_eq!(written["status"]["ready"], true);
        let spec = json!({"spec": {"size": 2}, "status": {"ready": false}});
        let written = store
            .patch(
                &def,
                Some("default"),
                "a",
                PatchKind::Merge,
                spec,
                false,
                &WriteOptions::default(),
            )
            .unwrap()
            .object;
        assert_eq!(written["metadata"]["generation"], 2);
        assert_eq!(
            written["status"]["ready"], true,
            "a write to the main resource ignores status"
        );
    }

    #[test]
    fn noop_write_keeps_resource_version() {
        let (store, def) = setup();
        let created = store
            .create(&def, Some("default"), widget("a"), &WriteOptions::default())
            .unwrap()
            .object;
        let same = store
            .patch(
                &def,
                Some("default"),
                "a",
                PatchKind::Merge,
                json!({"spec": {"size": 1}}),
                false,
                &WriteOptions::default(),
            )
            .unwrap()
            .object;
        assert_eq!(
            created["metadata"]["resourceVersion"],
            same["metadata"]["resourceVersion"]
        );
    }

    #[test]
    fn a_write_of_ownership_alone_is_stored() {
        let (store, def) = setup();
        let created = store
            .create(&def, Some("default"), widget("a"), &WriteOptions::default())
            .unwrap()
            .object;
        let entry = json!({"manager": "kubectl", "operation": "Apply", "apiVersion": "example.com/v1",
            "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:size": {}}}});
        let migration = json!([
            {"op": "replace", "path": "/metadata/managedFields", "value": [entry]},
            {"op": "replace", "path": "/metadata/resourceVersion", "value": created["metadata"]["resourceVersion"]},
        ]);
        let migrated = store
            .patch(
                &def,
                Some("default"),
                "a",
                PatchKind::Json,
                migration,
                false,
                &WriteOptions::default(),
            )
            .unwrap()
            .object;
        assert_ne!(
            migrated["metadata"]["resourceVersion"],
            created["metadata"]["resourceVersion"]
        );
        assert_eq!(migrated["metadata"]["managedFields"], json!([entry]));

        let mut retimed = entry.clone();
        retimed["time"] = json!("2030-01-01T00:00:00Z");
        let only_time = json!([{"op": "replace", "path": "/metadata/managedFields", "value": [retimed]}]);
        let same = store
            .patch(
                &def,
                Some("default"),
                "a",
                PatchKind::Json,
                only_time,
                false,
                &WriteOptions::default(),
            )
            .unwrap()
            .object;
        assert_eq!(same, migrated, "a newer timestamp alone changes nothing");
    }

    fn configmaps(store: &Store) -> ResourceDef {
        store.resolve("", "v1", "configmaps").unwrap()
    }

    fn options(field_validation: FieldValidation) -> WriteOptions {
        WriteOptions {
            field_manager: "test".into(),
            field_validation,
            ..Default::default()
        }
    }

    #[test]
    fn unknown_fields_of_builtin_kinds_are_pruned_reported_or_refused() {
        let store = Store::new(100);
        let def = configmaps(&store);
        let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "colour": "red"}, "data": {"k": "v"}, "unknownField": 1});

        let refused = store
            .create(&def, Some("default"), body.clone(), &options(FieldValidation::Strict))
            .err()
            .unwrap();
        assert_eq!(refused.code.as_u16(), 400);
        assert_eq!(
            refused.message,
            "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: strict decoding error: unknown field \"metadata.colour\", unknown field \"unknownField\""
        );

        let written = store
            .create(&def, Some("default"), body.clone(), &options(FieldValidation::Warn))
            .unwrap();
        assert_eq!(
            written.warnings,
            ["unknown field \"metadata.colour\"", "unknown field \"unknownField\""]
        );
        assert!(written.object.get("unknownField").is_none());
        assert!(written.object["metadata"].get("colour").is_none());
        assert_eq!(written.object["data"], json!({"k": "v"}));

        let mut ignored = body;
        ignored["metadata"]["name"] = json!("b");
        let written = store
            .create(&def, Some("default"), ignored, &options(FieldValidation::Ignore))
            .unwrap();
        assert!(written.warnings.is_empty());
        assert!(written.object.get("unknownField").is_none());
    }

    #[test]
    fn patches_with_unknown_fields_are_invalid_patches() {
        let store = Store::new(100);
        let def = configmaps(&store);
        let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"k": "v"}});
        store
            .create(&def, Some("default"), body, &options(FieldValidation::Strict))
            .unwrap();
        let strict = options(FieldValidation::Strict);

        let merge = store
            .patch(
                &def,
                Some("default"),
                "a",
                PatchKind::Merge,
                json!({"spec": {"x": 1.5}}),
                false,
                &strict,
            )
            .err()
            .unwrap();
        assert_eq!(merge.code.as_u16(), 422);
        assert!(
            merge.message.starts_with(" \"\" is invalid: patch: Invalid value: \"{\\\"apiVersion\\\":\\\"v1\\\",\\\"data\\\":{\\\"k\\\":\\\"v\\\"},"),
            "{}",
            merge.message
        );
        assert!(
            merge
                .message
                .ends_with("\\\"spec\\\":{\\\"x\\\":1.5}}\": strict decoding error: unknown field \"spec\""),
            "{}",
            merge.message
        );

        let json_patch = json!([{"op": "add", "path": "/extra", "value": [1, 2]}]);
        let refused = store
            .patch(&def, Some("default"), "a", PatchKind::Json, json_patch, false, &strict)
            .err()
            .unwrap();
        assert!(refused.message.contains("\\\"extra\\\":[1,2]"), "{}", refused.message);

        let strategic = store
            .patch(
                &def,
                Some("default"),
                "a",
                PatchKind::Strategic,
                json!({"data": {"k": "w"}, "spec": {"x": [1, "two"]}}),
                false,
                &strict,
            )
            .err()
            .unwrap();
        assert_eq!(
            strategic.message,
            " \"\" is invalid: patch: Invalid value: \"map[data:map[k:w] spec:map[x:[1 two]]]\": strict decoding error: unknown field \"spec\""
        );
        assert_eq!(
            store.get(&def, Some("default"), "a").unwrap()["data"],
            json!({"k": "v"}),
            "refused patches change nothing"
        );

        let warned = store
            .patch(
                &def,
                Some("default"),
                "a",
                PatchKind::Strategic,
                json!({"data": {"k": "w"}, "spec": {"x": 1}}),
                false,
                &options(FieldValidation::Warn),
            )
            .unwrap();
        assert_eq!(warned.warnings, ["unknown field \"spec\""]);
        assert_eq!(warned.object["data"], json!({"k": "w"}));
        assert!(warned.object.get("spec").is_none());
    }

    #[test]
    fn server_side_apply_of_undeclared_fields_fails_whatever_the_validation() {
        let store = Store::new(100);
        let def = configmaps(&store);
        let config = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "default"}, "data": {"k": "v"}, "unknownField": 1});
        let refused = store
            .patch(
                &def,
                Some("default"),
                "a",
                PatchKind::Apply,
                config,
                false,
                &options(FieldValidation::Ignore),
            )
            .err()
            .unwrap();
        assert_eq!(refused.code.as_u16(), 500);
        assert_eq!(refused.reason, "");
        assert_eq!(
            refused.message,
            "failed to create typed patch object (default/a; /v1, Kind=ConfigMap): .unknownField: field not declared in schema"
        );
        assert!(store.get(&def, Some("default"), "a").is_err(), "nothing was created");
    }

    #[test]
    fn stale_update_conflicts() {
        let (store, def) = setup();
        let created = store
            .create(&def, Some("default"), widget("a"), &WriteOptions::default())
            .unwrap()
            .object;
        store
            .patch(
                &def,
                Some("default"),
                "a",
                PatchKind::Merge,
                json!({"spec": {"size": 5}}),
                false,
                &WriteOptions::default(),
            )
            .unwrap();
        let err = store
            .update(&def, Some("default"), "a", created, false, &WriteOptions::default())
            .err()
            .unwrap();
        assert_eq!(err.code.as_u16(), 409);
    }

    #[test]
    fn finalizer_blocks_then_releases_deletion() {
        let (store, def) = setup();
        let mut object = widget("a");
        object["metadata"]["finalizers"] = json!(["example.com/cleanup"]);
        store
            .create(&def, Some("default"), object, &WriteOptions::default())
            .unwrap();
        let options = DeleteOptions {
            propagation: Propagation::Background,
            precondition_uid: None,
            precondition_rv: None,
            dry_run: false,
        };
        let pending = store.delete(&def, Some("default"), "a", &options).unwrap();
        assert!(pending["metadata"]["deletionTimestamp"].is_string());
        assert!(store.get(&def, Some("default"), "a").is_ok());
        store
            .patch(
                &def,
                Some("default"),
                "a",
                PatchKind::Merge,
                json!({"metadata": {"finalizers": null}}),
                false,
                &WriteOptions::default(),
            )
            .unwrap();
        assert_eq!(store.get(&def, Some("default"), "a").err().unwrap().code.as_u16(), 404);
    }

    #[test]
    fn owner_deletion_collects_dependents() {
        let (store, def) = setup();
        let owner = store
            .create(&def, Some("default"), widget("owner"), &WriteOptions::default())
            .unwrap()
            .object;
        let mut dependent = widget("dependent");
        dependent["metadata"]["ownerReferences"] = json!([{"apiVersion": "example.com/v1", "kind": "Widget", "name": "owner", "uid": owner["metadata"]["uid"], "blockOwnerDeletion": true}]);
        store
            .create(&def, Some("default"), dependent, &WriteOptions::default())
            .unwrap();
        let foreground = DeleteOptions {
            propagation: Propagation::Foreground,
            precondition_uid: None,
            precondition_rv: None,
            dry_run: false,
        };
        store.delete(&def, Some("default"), "owner", &foreground).unwrap();
        assert!(store.get(&def, Some("default"), "dependent").is_err());
        assert!(store.get(&def, Some("default"), "owner").is_err());
    }

    #[test]
    fn watch_from_compacted_version_is_gone() {
        let store = Store::new(2);
        let ns = store.resolve("", "v1", "namespaces").unwrap();
        for name in ["a", "b", "c"] {
            store
                .create(&ns, None, json!({"metadata": {"name": name}}), &WriteOptions::default())
                .unwrap();
        }
        let err = store.watch(&ns, &Filter::default(), Some(1)).err().unwrap();
        assert_eq!(err.code.as_u16(), 410);
        assert!(
            store
                .watch(&ns, &Filter::default(), Some(store.current_rv() - 1))
                .is_ok()
        );
    }
}
