//! Label and field selectors, in the grammar `kubectl` and kube-rs send.

use crate::error::{ApiError, ApiResult};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
enum LabelRequirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    DoesNotExist(String),
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct LabelSelector(Vec<LabelRequirement>);

/// Splits on commas that are not inside `( )` set literals.
fn split_top_level(s: &str) -> Vec<&str> {
    let mut parts = vec![];
    let mut depth = 0;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts.into_iter().map(str::trim).filter(|p| !p.is_empty()).collect()
}

fn parse_set(s: &str) -> ApiResult<Vec<String>> {
    let inner = s
        .trim()
        .strip_prefix('(')
        .and_then(|s| s.strip_suffix(')'))
        .ok_or_else(|| ApiError::bad_request(format!("unable to parse requirement: found '{s}', expected: '('")))?;
    Ok(inner
        .split(',')
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect())
}

impl LabelSelector {
    pub fn parse(s: &str) -> ApiResult<Self> {
        let mut requirements = vec![];
        for part in split_top_level(s) {
            let requirement = if let Some(key) = part.strip_prefix('!') {
                LabelRequirement::DoesNotExist(key.trim().to_string())
            } else if let Some((key, value)) = part.split_once("!=") {
                LabelRequirement::NotEquals(key.trim().into(), value.trim().into())
            } else if let Some((key, value)) = part.split_once("==") {
                LabelRequirement::Equals(key.trim().into(), value.trim().into())
            } else if let Some((key, value)) = part.split_once('=') {
                LabelRequirement::Equals(key.trim().into(), value.trim().into())
            } else if let Some((key, set)) = part.split_once(" notin ") {
                LabelRequirement::NotIn(key.trim().into(), parse_set(set)?)
            } else if let Some((key, set)) = part.split_once(" in ") {
                LabelRequirement::In(key.trim().into(), parse_set(set)?)
            } else if part.chars().all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c)) {
                LabelRequirement::Exists(part.to_string())
            } else {
                return Err(ApiError::bad_request(format!("unable to parse requirement: {part}")));
            };
            requirements.push(requirement);
        }
        Ok(LabelSelector(requirements))
    }

    pub fn matches(&self, object: &Value) -> bool {
        let labels = object.pointer("/metadata/labels");
        let label = |key: &str| labels.and_then(|l| l.get(key)).and_then(Value::as_str);
        self.0.iter().all(|requirement| match requirement {
            LabelRequirement::Equals(k, v) => label(k) == Some(v.as_str()),
            LabelRequirement::NotEquals(k, v) => label(k) != Some(v.as_str()),
            LabelRequirement::In(k, values) => label(k).is_some_and(|l| values.iter().any(|v| v == l)),
            LabelRequirement::NotIn(k, values) => !label(k).is_some_and(|l| values.iter().any(|v| v == l)),
            LabelRequirement::Exists(k) => label(k).is_some(),
            LabelRequirement::DoesNotExist(k) => label(k).is_none(),
        })
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldSelector(Vec<(String, bool, String)>);

/// Selectable fields that are booleans: unset, they select as `false`.
const UNSET_BOOLEANS: [&str; 2] = ["spec.unschedulable", "spec.hostNetwork"];

impl FieldSelector {
    /// `allowed` lists the field paths the resource supports besides
    /// `metadata.name` and `metadata.namespace`, as the real server refuses
    /// other fields rather than ignoring them.
    pub fn parse(s: &str, allowed: &[&str]) -> ApiResult<Self> {
        let mut terms = vec![];
        for part in split_top_level(s) {
            let (field, equal, value) = if let Some((f, v)) = part.split_once("!=") {
                (f, false, v)
            } else if let Some((f, v)) = part.split_once("==") {
                (f, true, v)
            } else if let Some((f, v)) = part.split_once('=') {
                (f, true, v)
            } else {
                return Err(ApiError::bad_request(format!(
                    "invalid selector: '{s}'; can't understand '{part}'"
                )));
            };
            let field = field.trim();
            if !matches!(field, "metadata.name" | "metadata.namespace") && !allowed.contains(&field) {
                return Err(ApiError::bad_request(format!("field label not supported: {field}")));
            }
            terms.push((field.to_string(), equal, value.trim().to_string()));
        }
        Ok(FieldSelector(terms))
    }

    /// The selector with its field labels renamed as `labels` (label, field) pairs say.
    pub fn relabeled(self, labels: &[(&str, &str)]) -> Self {
        let terms = self.0.into_iter().map(|(field, equal, value)| {
            let renamed = labels
                .iter()
                .find(|(label, _)| *label == field)
                .map(|(_, to)| to.to_string());
            (renamed.unwrap_or(field), equal, value)
        });
        FieldSelector(terms.collect())
    }

    pub fn matches(&self, object: &Value) -> bool {
        self.0.iter().all(|(field, equal, value)| {
            let pointer = format!("/{}", field.replace('.', "/"));
            let actual = match object.pointer(&pointer) {
                Some(Value::String(s)) => s.clone(),
                // The real server selects on Go's printing of the field, false for an unset bool.
                Some(Value::Null) | None if UNSET_BOOLEANS.contains(&field.as_str()) => "false".to_string(),
                Some(Value::Null) | None => String::new(),
                Some(other) => other.to_string(),
            };
            (actual == *value) == *equal
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn labelled(labels: Value) -> Value {
        json!({"metadata": {"name": "a", "namespace": "ns", "labels": labels}})
    }

    #[test]
    fn label_selector_grammar() {
        let object = labelled(json!({"team": "alfie", "env": "dev"}));
        let cases = [
            ("team=alfie", true),
            ("team==alfie,env=dev", true),
            ("team!=alfie", false),
            ("team in (alfie, bob)", true),
            ("team notin (alfie)", false),
            ("env in (qa,prod),team", false),
            ("team", true),
            ("!team", false),
            ("!missing", true),
            ("", true),
        ];
        for (selector, expected) in cases {
            assert_eq!(
                LabelSelector::parse(selector).unwrap().matches(&object),
                expected,
                "{selector}"
            );
        }
    }

    #[test]
    fn field_selector_refuses_unknown_fields() {
        let object = labelled(json!({}));
        assert!(FieldSelector::parse("metadata.name=a", &[]).unwrap().matches(&object));
        assert!(!FieldSelector::parse("metadata.name!=a", &[]).unwrap().matches(&object));
        assert!(
            FieldSelector::parse("metadata.namespace==ns,metadata.name=a", &[])
                .unwrap()
                .matches(&object)
        );
        let err = FieldSelector::parse("spec.x=1", &[]).unwrap_err();
        assert_eq!(err.message, "field label not supported: spec.x");
        assert!(FieldSelector::parse("type=Opaque", &["type"]).is_ok());
    }
}
