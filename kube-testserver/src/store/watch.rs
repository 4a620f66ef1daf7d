//! The retained window of watch events and the start of a watch: what a client is sent
//! first, and the live feed after it.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use serde_json::Value;
use tokio::sync::{broadcast, watch};

use crate::error::{ApiError, ApiResult};
use crate::registry::ResourceDef;

use super::{EventType, Filter, ObjectKey, State, Store};

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
    /// The event's watch lines as encoded so far, by what tells them apart (event type, version,
    /// shape): every watcher that sees the event the same way shares one encoding.
    encoded: Mutex<Vec<(String, Bytes)>>,
}

impl StoredEvent {
    fn new(rv: u64, key: &ObjectKey, kind: EventType, object: Value, previous: Option<Value>) -> Self {
        StoredEvent {
            rv,
            group: key.group.clone(),
            plural: key.plural.clone(),
            namespace: key.namespace.clone(),
            kind,
            object,
            previous,
            encoded: Mutex::new(Vec::new()),
        }
    }

    /// The line `encode` makes for watchers that see this event as `form`, made once: the
    /// first watcher to need it encodes it while the others wait, then all share it.
    pub fn encoded(&self, form: &str, encode: impl FnOnce(&Value) -> Bytes) -> Bytes {
        // A panic in another watcher's encode leaves at worst a missing entry: carry on.
        let mut cache = self.encoded.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((_, line)) = cache.iter().find(|(key, _)| key == form) {
            return line.clone();
        }
        let line = encode(&self.object);
        cache.push((form.to_owned(), line.clone()));
        line
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

impl Store {
    /// Subscribes to changes after `rv` (None: start with the current state as ADDED events).
    pub fn watch(&self, def: &ResourceDef, filter: &Filter, rv: Option<u64>) -> ApiResult<WatchStart> {
        let state = self.lock();
        // Subscribing under the lock means no event can fall between the backlog and the live feed.
        let live = self.events.subscribe();
        let expired = self.expiry.subscribe();
        let of_kind = |e: &StoredEvent| def.stores(&e.group, &e.plural);
        let initial: Vec<Arc<StoredEvent>> = match rv {
            None => state
                .of_kind(def)
                .filter(|(_, object)| filter.matches(object))
                .map(|(key, object)| Arc::new(StoredEvent::new(state.rv, key, EventType::Added, object.clone(), None)))
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

impl State {
    pub(super) fn record(&mut self, key: &ObjectKey, kind: EventType, object: Value, previous: Option<Value>) {
        let event = Arc::new(StoredEvent::new(self.rv, key, kind, object, previous));
        self.history.push_back(event.clone());
        while self.history.len() > self.window {
            if let Some(dropped) = self.history.pop_front() {
                self.compacted_through = dropped.rv;
            }
        }
        self.pending.push(event);
    }
}
