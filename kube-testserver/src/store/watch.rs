//! The retained window of watch events and the start of a watch: what a client is sent
//! first, and the live feed after it.

use std::sync::Arc;

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
                .objects
                .iter()
                .filter(|(key, object)| def.stores(&key.group, &key.plural) && filter.matches(object))
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

impl State {
    pub(super) fn record(&mut self, key: &ObjectKey, kind: EventType, object: Value, previous: Option<Value>) {
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
}
