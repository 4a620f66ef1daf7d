//! Which webhooks a request is shown to (`ShouldCallHook`): rules, selectors and
//! `matchConditions`.

use serde_json::{Map, Value};

use crate::cel_rules;
use crate::error::{ApiError, ApiResult};
use crate::registry::ResourceDef;
use crate::store::{Operation, Store};

use super::review::review;
use super::{Attributes, Invocation};

/// `ShouldCallHook`: the selectors, then the rules (at the request's version, then, for
/// `matchPolicy: Equivalent`, at the other versions the resource is served at).
pub(super) fn should_call<'w>(
    webhook: &'w Value,
    attributes: &Attributes,
    defs: &[ResourceDef],
    store: &Store,
) -> ApiResult<Option<Invocation<'w>>> {
    let namespace_match = match_namespace(webhook, attributes, store);
    if matches!(namespace_match, Ok(false)) || !match_object(webhook, attributes) {
        return Ok(None);
    }
    let rules: Vec<&Value> = webhook["rules"].as_array().into_iter().flatten().collect();
    let at = |def: &ResourceDef| rules.iter().any(|rule| rule_matches(rule, def, attributes));
    let def = if at(attributes.def) {
        Some(attributes.def.clone())
    } else if webhook["matchPolicy"].as_str() != Some("Exact") {
        defs.iter()
            .filter(|d| d.group == attributes.def.group && d.plural == attributes.def.plural)
            .find(|d| d.version != attributes.def.version && at(d))
            .cloned()
    } else {
        None
    };
    let Some(def) = def else {
        return Ok(None);
    };
    namespace_match?;
    let invocation = Invocation { webhook, def };
    if !match_conditions(&invocation, attributes)? {
        return Ok(None);
    }
    Ok(Some(invocation))
}

/// `matchConditions`, CEL over `object`, `oldObject` and `request`: any false skips the webhook;
/// an expression that fails refuses the request (`failurePolicy: Fail`) or skips the webhook.
fn match_conditions(invocation: &Invocation, attributes: &Attributes) -> ApiResult<bool> {
    let conditions: Vec<&Value> = invocation.webhook["matchConditions"]
        .as_array()
        .into_iter()
        .flatten()
        .collect();
    if conditions.is_empty() {
        return Ok(true);
    }
    let review = review("", "v1", invocation, attributes);
    let request = &review["request"];
    let variables = [
        ("object", &request["object"]),
        ("oldObject", &request["oldObject"]),
        ("request", request),
    ];
    let mut failures = vec![];
    for condition in conditions {
        let expression = condition["expression"].as_str().unwrap_or_default();
        match cel_rules::evaluate_match_condition(expression, &variables) {
            Ok(true) => {}
            Ok(false) => return Ok(false),
            Err(failure) => failures.push(failure),
        }
    }
    if failures.is_empty() {
        return Ok(true);
    }
    if invocation.webhook["failurePolicy"].as_str() == Some("Ignore") {
        return Ok(false);
    }
    let why = if failures.len() == 1 {
        failures.remove(0)
    } else {
        format!("[{}]", failures.join(", "))
    };
    Err(ApiError::forbidden(
        &attributes.def.group,
        &attributes.def.plural,
        &attributes.name,
        &why,
    ))
}

/// `MatchNamespaceSelector`: cluster-scoped objects other than namespaces always match; a
/// Namespace being created or updated is matched by its own labels.
fn match_namespace(webhook: &Value, attributes: &Attributes, store: &Store) -> ApiResult<bool> {
    if attributes.namespace.is_empty() && attributes.def.plural != "namespaces" {
        return Ok(true);
    }
    let selector = &webhook["namespaceSelector"];
    if selector_is_empty(selector) {
        return Ok(true);
    }
    let own_labels = attributes.def.plural == "namespaces"
        && attributes.subresource.is_empty()
        && matches!(attributes.operation, Operation::Create | Operation::Update);
    let labels = if own_labels {
        attributes.object.map(labels_of).unwrap_or_default()
    } else {
        let labels = store
            .namespace_labels(&attributes.namespace)
            .ok_or_else(|| ApiError::not_found("", "namespaces", &attributes.namespace))?;
        labels.as_object().cloned().unwrap_or_default()
    };
    Ok(selector_matches(selector, &labels))
}

/// `MatchObjectSelector`: the new object's labels or the old one's.
fn match_object(webhook: &Value, attributes: &Attributes) -> bool {
    let selector = &webhook["objectSelector"];
    selector_is_empty(selector)
        || [attributes.object, attributes.old]
            .into_iter()
            .flatten()
            .any(|object| selector_matches(selector, &labels_of(object)))
}

fn labels_of(object: &Value) -> Map<String, Value> {
    object
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

fn selector_is_empty(selector: &Value) -> bool {
    let none = |field: &str| match &selector[field] {
        Value::Null => true,
        Value::Object(map) => map.is_empty(),
        Value::Array(items) => items.is_empty(),
        _ => false,
    };
    none("matchLabels") && none("matchExpressions")
}

/// A `metav1.LabelSelector` against a set of labels: every `matchLabels` pair and every
/// expression must hold.
pub fn selector_matches(selector: &Value, labels: &Map<String, Value>) -> bool {
    let pairs = selector["matchLabels"]
        .as_object()
        .is_none_or(|pairs| pairs.iter().all(|(key, value)| labels.get(key) == Some(value)));
    let expressions = selector["matchExpressions"].as_array().is_none_or(|expressions| {
        expressions.iter().all(|expression| {
            let key = expression["key"].as_str().unwrap_or_default();
            let values: Vec<&str> = expression["values"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            let value = labels.get(key).and_then(Value::as_str);
            match expression["operator"].as_str() {
                Some("In") => value.is_some_and(|v| values.contains(&v)),
                Some("NotIn") => value.is_none_or(|v| !values.contains(&v)),
                Some("Exists") => labels.contains_key(key),
                Some("DoesNotExist") => !labels.contains_key(key),
                _ => false,
            }
        })
    });
    pairs && expressions
}

/// One rule of a webhook against the request at `def`'s group and version (`rules.Matcher`).
fn rule_matches(rule: &Value, def: &ResourceDef, attributes: &Attributes) -> bool {
    let strings = |field: &str| -> Vec<&str> {
        rule[field]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect()
    };
    let exact_or_wildcard = |field: &str, requested: &str| strings(field).iter().any(|i| *i == "*" || *i == requested);
    let scope = match rule["scope"].as_str() {
        None | Some("*") => true,
        Some("Namespaced") => !attributes.is_namespace_resource() && !attributes.namespace.is_empty(),
        Some("Cluster") => attributes.is_namespace_resource() || attributes.namespace.is_empty(),
        Some(_) => false,
    };
    let operation = strings("operations")
        .iter()
        .any(|op| *op == "*" || *op == attributes.operation.as_str());
    let resource = strings("resources").iter().any(|entry| {
        let (resource, subresource) = entry.split_once('/').unwrap_or((entry, ""));
        (resource == "*" || resource == def.plural) && (subresource == "*" || subresource == attributes.subresource)
    });
    scope
        && operation
        && exact_or_wildcard("apiGroups", &def.group)
        && exact_or_wildcard("apiVersions", &def.version)
        && resource
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Map<String, Value> {
        pairs.iter().map(|(k, v)| (k.to_string(), json!(v))).collect()
    }

    #[test]
    fn label_selectors_match_as_metav1_selectors_do() {
        let selector = json!({
            "matchLabels": {"team": "a"},
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["web", "api"]},
                {"key": "legacy", "operator": "DoesNotExist"},
                {"key": "env", "operator": "NotIn", "values": ["prod"]},
            ],
        });
        assert!(selector_matches(&selector, &labels(&[("team", "a"), ("tier", "web")])));
        assert!(!selector_matches(&selector, &labels(&[("team", "b"), ("tier", "web")])));
        assert!(!selector_matches(&selector, &labels(&[("team", "a"), ("tier", "db")])));
        assert!(!selector_matches(
            &selector,
            &labels(&[("team", "a"), ("tier", "web"), ("legacy", "")])
        ));
        assert!(!selector_matches(
            &selector,
            &labels(&[("team", "a"), ("tier", "web"), ("env", "prod")])
        ));
        assert!(selector_is_empty(&json!({})));
        assert!(selector_is_empty(&Value::Null));
        assert!(!selector_is_empty(&selector));
    }
}
