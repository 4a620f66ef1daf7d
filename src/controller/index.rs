//! Reverse lookups by index: which objects of a kind name a key (a group,
//! an account, a Secret), so that a change re-reconciles its dependents,
//! and a reconcile finds who else claims a resource, at the same cost with
//! 10 objects or 10 000.
//!
//! An index is kept from the same watch events as its kind's cache, and
//! each event reaches the index before the cache: whatever the cache holds,
//! the index already knows, so a trigger never misses an object a reconcile
//! could have read. An entry may outlive its object for a moment; lookups
//! return references, and the reconcile of one that is gone does nothing.

use std::collections::{HashMap, HashSet};
use std::marker::PhantomData;
use std::ops::Deref;
use std::sync::{Arc, Mutex, PoisonError};

use kube::Resource;
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::watcher;

/// A kind whose objects are looked up by what they name.
pub trait Indexed: Resource<DynamicType = ()> + Clone + Send + Sync + 'static {
    /// The keys the object is found by; several kinds of key share one
    /// index, told apart by a prefix (`group:ns/name`, `account:name`).
    fn index_keys(&self) -> Vec<String>;
}

pub struct Index<K: Indexed> {
    entries: Mutex<Entries>,
    kind: PhantomData<fn() -> K>,
}

struct Entries {
    current: Table,
    /// A relist in progress: the table it builds replaces `current` when
    /// the relist is done, as the cache's store is replaced.
    relisting: Option<Table>,
}

/// Objects are held by `qualified_name` and keys once each, shared between the
/// two maps: an `ObjectRef` is four strings, and with 10 000 objects the
/// tables were a fifth of the operator's heap.
#[derive(Default)]
struct Table {
    by_key: HashMap<Arc<str>, HashSet<Arc<str>>>,
    keys: HashMap<Arc<str>, Box<[Arc<str>]>>,
}

impl Table {
    fn insert(&mut self, object: &str, keys: Vec<String>) {
        let object = self.remove(object).unwrap_or_else(|| Arc::from(object));
        if keys.is_empty() {
            return;
        }
        let keys = keys
            .into_iter()
            .map(|key| {
                let key = match self.by_key.get_key_value(key.as_str()) {
                    Some((shared, _)) => shared.clone(),
                    None => Arc::from(key),
                };
                self.by_key.entry(key.clone()).or_default().insert(object.clone());
                key
            })
            .collect();
        self.keys.insert(object, keys);
    }

    /// Takes the object out of the table, giving back its shared name.
    fn remove(&mut self, object: &str) -> Option<Arc<str>> {
        let (object, keys) = self.keys.remove_entry(object)?;
        for key in keys.iter() {
            if let Some(objects) = self.by_key.get_mut(key) {
                objects.remove(&object);
                if objects.is_empty() {
                    self.by_key.remove(key);
                }
            }
        }
        Some(object)
    }
}

impl<K: Indexed> Default for Index<K> {
    fn default() -> Self {
        Index {
            entries: Mutex::new(Entries {
                current: Table::default(),
                relisting: None,
            }),
            kind: PhantomData,
        }
    }
}

impl<K: Indexed> Index<K> {
    /// Takes in one watch event, before the cache does.
    pub fn apply<T: std::borrow::Borrow<K>>(&self, event: &watcher::Event<T>) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = |object: &T| {
            let object = object.borrow();
            (qualified_name(object), object.index_keys())
        };
        match event {
            watcher::Event::Apply(object) => {
                let (object, keys) = entry(object);
                entries.current.insert(&object, keys);
            }
            watcher::Event::Delete(object) => {
                entries.current.remove(&qualified_name(object.borrow()));
            }
            watcher::Event::Init => entries.relisting = Some(Table::default()),
            watcher::Event::InitApply(object) => {
                let (object, keys) = entry(object);
                entries
                    .relisting
                    .get_or_insert_with(Table::default)
                    .insert(&object, keys);
            }
            watcher::Event::InitDone => {
                if let Some(relisted) = entries.relisting.take() {
                    entries.current = relisted;
                }
            }
        }
    }

    /// The objects found under any of `keys`, each once.
    pub fn lookup<'k>(&self, keys: impl IntoIterator<Item = &'k str>) -> Vec<ObjectRef<K>> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let found: HashSet<&Arc<str>> = keys
            .into_iter()
            .filter_map(|key| entries.current.by_key.get(key))
            .flatten()
            .collect();
        let mut found: Vec<ObjectRef<K>> = found.into_iter().map(|object| reference(object)).collect();
        // The same order whatever the hash: triggers and messages are stable.
        found.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        found
    }
}

/// An object's name within its kind, as one string: `namespace/name`,
/// or `name` for a cluster-scoped kind (neither may contain a `/`).
pub fn qualified_name<K: Resource>(object: &K) -> String {
    let meta = object.meta();
    let name = meta.name.as_deref().unwrap_or_default();
    match &meta.namespace {
        Some(namespace) => format!("{namespace}/{name}"),
        None => name.to_owned(),
    }
}

/// The reference to the object of that `qualified_name`.
pub fn reference<K: Resource<DynamicType = ()>>(qualified_name: &str) -> ObjectRef<K> {
    match qualified_name.split_once('/') {
        Some((namespace, name)) => ObjectRef::new(name).within(namespace),
        None => ObjectRef::new(qualified_name),
    }
}

/// A kind's cache with its index: what reconciles and triggers read.
pub struct Cache<K: Indexed> {
    store: Store<K>,
    index: Arc<Index<K>>,
}

impl<K: Indexed> Clone for Cache<K> {
    fn clone(&self) -> Self {
        Cache {
            store: self.store.clone(),
            index: self.index.clone(),
        }
    }
}

impl<K: Indexed> Deref for Cache<K> {
    type Target = Store<K>;

    fn deref(&self) -> &Store<K> {
        &self.store
    }
}

impl<K: Indexed> Cache<K> {
    /// The cache a watch fills, with the index it keeps (`Index::apply`, before the store's writer).
    pub fn new(store: Store<K>, index: Arc<Index<K>>) -> Self {
        Cache { store, index }
    }

    /// A cache holding `objects`, for `plan`, the webhook and tests, which fill theirs without a watch.
    pub fn of(objects: impl IntoIterator<Item = K>) -> Self {
        let (store, mut writer) = reflector::store();
        let index = Arc::new(Index::default());
        for object in objects {
            let event = watcher::Event::Apply(object);
            index.apply(&event);
            writer.apply_watcher_event(&event);
        }
        Cache { store, index }
    }

    /// The references found under any of `keys`, for triggers.
    pub fn refs<'k>(&self, keys: impl IntoIterator<Item = &'k str>) -> Vec<ObjectRef<K>> {
        self.index.lookup(keys)
    }

    /// The live objects in the cache found under any of `keys`.
    pub fn find<'k>(&self, keys: impl IntoIterator<Item = &'k str>) -> Vec<Arc<K>> {
        self.index
            .lookup(keys)
            .iter()
            .filter_map(|reference| self.store.get(reference))
            .filter(|object| object.meta().deletion_timestamp.is_none())
            .collect()
    }
}

/// The index keys kinds share, one spelling each, so that the key an
/// object is indexed by and the key a trigger looks up are the same.
pub mod keys {
    use kube::{Resource, ResourceExt};

    use crate::api::{AccountRef, AwsAccount, NamespacedRef};

    /// A namespaced object named by a reference held in `from_namespace`.
    pub fn named(prefix: &str, reference: &NamespacedRef, from_namespace: &str) -> String {
        let namespace = reference.namespace.as_deref().unwrap_or(from_namespace);
        format!("{prefix}:{namespace}/{}", reference.name)
    }

    /// A namespaced object itself, as `named` spells references to it.
    pub fn object<K: Resource>(prefix: &str, object: &K) -> String {
        format!(
            "{prefix}:{}/{}",
            object.namespace().unwrap_or_default(),
            object.name_any()
        )
    }

    /// An account a reference names: by AwsAccount name, or by id.
    pub fn account_ref(reference: &AccountRef) -> Option<String> {
        match (&reference.name, &reference.id) {
            (Some(name), _) => Some(format!("account:{name}")),
            (None, Some(id)) => Some(format!("account-id:{id}")),
            (None, None) => None,
        }
    }

    /// What references to an AwsAccount may say: its name, the id in its
    /// spec (an account being adopted), the id in its status.
    pub fn account(account: &AwsAccount) -> Vec<String> {
        let ids = [
            account.spec.account_id.as_deref(),
            account.status.as_ref().and_then(|s| s.account_id.as_deref()),
        ];
        std::iter::once(format!("account:{}", account.name_any()))
            .chain(ids.into_iter().flatten().map(|id| format!("account-id:{id}")))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{CrossAccountRole, CrossAccountRoleSpec, NamespacedRef};
    use kube::ResourceExt;

    fn role(name: &str, trusts: &str) -> CrossAccountRole {
        let mut spec: CrossAccountRoleSpec = serde_json::from_value(serde_json::json!({
            "account": {"name": "dev"},
            "trust": {},
        }))
        .unwrap();
        spec.trust.developer_groups = vec![NamespacedRef {
            name: trusts.into(),
            namespace: None,
        }];
        let mut role = CrossAccountRole::new(name, spec);
        role.metadata.namespace = Some("team".into());
        role
    }

    fn trusting(index: &Index<CrossAccountRole>, group: &str) -> Vec<String> {
        let key = format!("group:team/{group}");
        index.lookup([key.as_str()]).into_iter().map(|r| r.name).collect()
    }

    #[test]
    fn finds_objects_by_the_keys_they_have_now() {
        let index = Index::default();
        index.apply(&watcher::Event::Apply(role("a", "devs")));
        index.apply(&watcher::Event::Apply(role("b", "devs")));
        index.apply(&watcher::Event::Apply(role("c", "ops")));
        assert_eq!(trusting(&index, "devs"), ["a", "b"]);
        // A role that stops naming a group is no longer found by it.
        index.apply(&watcher::Event::Apply(role("a", "ops")));
        assert_eq!(trusting(&index, "devs"), ["b"]);
        assert_eq!(trusting(&index, "ops"), ["a", "c"]);
        index.apply(&watcher::Event::Delete(role("c", "ops")));
        assert_eq!(trusting(&index, "ops"), ["a"]);
        assert_eq!(index.lookup(["account:dev"]).len(), 2);
    }

    #[test]
    fn a_relist_replaces_the_index_when_it_is_done() {
        let index = Index::default();
        index.apply(&watcher::Event::Apply(role("gone", "devs")));
        index.apply(&watcher::Event::<CrossAccountRole>::Init);
        index.apply(&watcher::Event::InitApply(role("new", "devs")));
        // Until the relist is done, lookups answer from what the cache still holds.
        assert_eq!(trusting(&index, "devs"), ["gone"]);
        index.apply(&watcher::Event::<CrossAccountRole>::InitDone);
        assert_eq!(trusting(&index, "devs"), ["new"]);
    }

    #[test]
    fn a_qualified_name_leads_back_to_its_object_namespaced_or_not() {
        let role = role("a", "devs");
        assert_eq!(qualified_name(&role), "team/a");
        assert_eq!(reference::<CrossAccountRole>("team/a"), ObjectRef::from_obj(&role));
        let account: crate::api::AwsAccount = serde_json::from_value(serde_json::json!({
            "apiVersion": "awsaccess.dev/v1alpha1", "kind": "AwsAccount",
            "metadata": {"name": "dev"},
            "spec": {"accountName": "dev", "email": "dev@example.com"},
        }))
        .unwrap();
        assert_eq!(qualified_name(&account), "dev");
        let found = reference::<crate::api::AwsAccount>("dev");
        assert_eq!((found.name.as_str(), found.namespace), ("dev", None));
    }

    #[test]
    fn a_cache_finds_only_live_objects() {
        let mut leaving = role("leaving", "devs");
        leaving.metadata.deletion_timestamp = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
            k8s_openapi::jiff::Timestamp::now(),
        ));
        let cache = Cache::of([role("staying", "devs"), leaving]);
        let found: Vec<String> = cache.find(["group:team/devs"]).iter().map(|r| r.name_any()).collect();
        assert_eq!(found, ["staying"]);
        assert_eq!(cache.refs(["group:team/devs"]).len(), 2);
    }
}
