//! Pure: the tag writes that take AWS's tags on a role or an account to the
//! desired ones. Tags not desired are removed, whoever added them.

use crate::api::Tags;

/// What to tag (new or changed values) and which keys to untag.
pub fn diff(desired: &Tags, current: &Tags) -> (Tags, Vec<String>) {
    let changed = desired
        .iter()
        .filter(|(k, v)| current.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let removed = current.keys().filter(|k| !desired.contains_key(*k)).cloned().collect();
    (changed, removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(pairs: &[(&str, &str)]) -> Tags {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn added_changed_and_removed_tags() {
        let desired = tags(&[("team", "alfie"), ("env", "dev")]);
        let current = tags(&[("team", "bob"), ("cost", "x")]);
        assert_eq!(
            diff(&desired, &current),
            (tags(&[("team", "alfie"), ("env", "dev")]), vec!["cost".to_string()])
        );
        assert_eq!(diff(&desired, &desired), (Tags::new(), vec![]));
    }
}
