//! Namespaces as objects land in them and as they terminate: an object's namespace must
//! exist, and a terminating namespace goes once it is empty.

use serde_json::Value;

use crate::error::{ApiError, ApiResult};
use crate::registry::ResourceDef;

use super::{ObjectKey, State, finalizers, meta_str};

impl State {
    /// The namespace an object lands in, checked against the URL and the store.
    pub(super) fn check_namespace(
        &self,
        def: &ResourceDef,
        namespace: Option<&str>,
        body: &Value,
    ) -> ApiResult<Option<String>> {
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

    pub(super) fn finish_namespace_if_empty(&mut self, namespace: &str) {
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
