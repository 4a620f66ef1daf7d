//! Pure: how the policies of an IAM principal (a role, a group) go from what
//! AWS has to what is desired. Set differences for managed policies, and
//! documents compared by meaning for inline ones, so that IAM's reordering
//! and encoding never cause a write.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::policy::document::{canonical_json, equivalent};

/// Managed policy ARNs to attach, then those to detach.
pub fn managed(desired: &BTreeSet<String>, current: &BTreeSet<String>) -> (Vec<String>, Vec<String>) {
    (
        desired.difference(current).cloned().collect(),
        current.difference(desired).cloned().collect(),
    )
}

/// Inline policies to put (name, compact JSON), then the names to delete.
pub fn inline(
    desired: &BTreeMap<String, Value>,
    current: &BTreeMap<String, Value>,
) -> (Vec<(String, String)>, Vec<String>) {
    let put = desired
        .iter()
        .filter(|(name, document)| !current.get(*name).is_some_and(|actual| equivalent(document, actual)))
        .map(|(name, document)| (name.clone(), canonical_json(document)))
        .collect();
    let delete = current
        .keys()
        .filter(|name| !desired.contains_key(*name))
        .cloned()
        .collect();
    (put, delete)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn only_differences_are_written() {
        let set = |items: &[&str]| items.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
        assert_eq!(
            managed(&set(&["a", "b"]), &set(&["b", "c"])),
            (vec!["a".to_string()], vec!["c".to_string()])
        );
        let desired = BTreeMap::from([
            (
                "same".to_string(),
                json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}),
            ),
            ("new".to_string(), json!({"Version": "2012-10-17", "Statement": []})),
        ]);
        let current = BTreeMap::from([
            (
                "same".to_string(),
                json!({"Statement": {"Resource": ["*"], "Action": ["s3:*"], "Effect": "Allow"}, "Version": "2012-10-17"}),
            ),
            ("old".to_string(), json!({})),
        ]);
        let (put, delete) = inline(&desired, &current);
        assert_eq!(put.iter().map(|(name, _)| name.as_str()).collect::<Vec<_>>(), ["new"]);
        assert_eq!(delete, ["old"]);
    }
}
