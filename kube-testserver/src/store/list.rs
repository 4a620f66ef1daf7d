//! Lists, paged with `limit` and `continue` tokens.

use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult};
use crate::registry::ResourceDef;

use super::{Filter, ObjectKey, Store, present};

pub struct ListResult {
    pub items: Vec<Value>,
    pub resource_version: String,
    pub continue_token: Option<String>,
    pub remaining: Option<usize>,
}

impl Store {
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
        let (group, plural) = def.storage();
        let (from_namespace, from_name) = start_after.clone().unwrap_or_default();
        // A range from the continue token's key on, not a walk over the pages already sent.
        let mut matching = state
            .of_storage(group, plural, &from_namespace, &from_name)
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
