//! Pure: the policy as the spec wants it, the writes that take AWS there
//! (content compared by meaning, attachments as a whole set), and what its
//! status says after.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::api::{ServiceControlPolicySpec, ServiceControlPolicyStatus, Tags};
use crate::aws::{NewPolicy, PolicySummary};
use crate::controller::driver::owned::Describe;
use crate::controller::tags;
use crate::policy::document::{canonical_json, equivalent, statement_changes};
use crate::policy::scp;

/// The policy as the spec wants it, its targets resolved as far as they go.
#[derive(Clone, Debug, PartialEq)]
pub struct DesiredPolicy {
    pub name: String,
    pub description: String,
    /// The compiled document.
    pub content: Value,
    /// The spec's tags plus the owner tag.
    pub tags: Tags,
    /// Ids of the roots, OUs and accounts to attach to: all of them, and only them.
    pub targets: BTreeSet<String>,
}

/// The policy as Organizations shows it, with what it depends on.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ObservedPolicy {
    pub root_id: String,
    /// Whether service control policies are enabled on the root.
    pub enabled: bool,
    pub policy: Option<PolicyState>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct PolicyState {
    pub summary: PolicySummary,
    pub content: Value,
    pub tags: Tags,
    pub targets: BTreeSet<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    EnablePolicyType {
        root_id: String,
    },
    Create(NewPolicy),
    /// Name, description and content; `fields` says which differ.
    Update {
        policy: NewPolicy,
        fields: Vec<&'static str>,
    },
    Tag(Tags),
    Untag(Vec<String>),
    Attach(String),
    Detach(String),
}

impl Describe for Change {
    fn describe(&self) -> String {
        match self {
            Change::EnablePolicyType { root_id } => format!("enable service control policies on root {root_id}"),
            Change::Create(policy) => format!("create policy {}", policy.name),
            Change::Update { fields, .. } => format!("update the policy's {}", fields.join(", ")),
            Change::Tag(tags) => format!("tag {}", tags.keys().cloned().collect::<Vec<_>>().join(", ")),
            Change::Untag(keys) => format!("untag {}", keys.join(", ")),
            Change::Attach(target) => format!("attach to {target}"),
            Change::Detach(target) => format!("detach from {target}"),
        }
    }

    fn creates(&self) -> bool {
        matches!(self, Change::Create(_))
    }
}

/// The statements a change adds to or removes from the policy's content.
pub fn explain(change: &Change, observed: &ObservedPolicy) -> Vec<String> {
    let none = Value::Object(serde_json::Map::new());
    let (desired, current) = match change {
        Change::Create(policy) => (&policy.content, none),
        Change::Update { policy, fields } if fields.contains(&"content") => (
            &policy.content,
            observed.policy.as_ref().map_or(none, |p| p.content.clone()),
        ),
        _ => return vec![],
    };
    let desired = serde_json::from_str::<Value>(desired).unwrap_or_default();
    statement_changes(&desired, &current)
        .into_iter()
        .map(|line| format!("content: {line}"))
        .collect()
}

/// The compiled document, or why it cannot be sent: checked before any AWS
/// call. `access_role` is the role the organization's management works
/// through, the one `protectRoles` exempts.
pub fn content(spec: &ServiceControlPolicySpec, access_role: &str) -> Result<Value, String> {
    let content = scp::compile(&spec.guardrails, spec.document.as_ref(), access_role);
    scp::check(&content)?;
    Ok(content)
}

fn new_policy(desired: &DesiredPolicy) -> NewPolicy {
    NewPolicy {
        name: desired.name.clone(),
        description: desired.description.clone(),
        content: canonical_json(&desired.content),
        tags: desired.tags.clone(),
    }
}

/// Enabling the policy type first (nothing attaches without it), then the
/// policy, then attachments before detachments.
pub fn plan(desired: &DesiredPolicy, observed: &ObservedPolicy) -> Vec<Change> {
    let mut changes = Vec::new();
    if !observed.enabled {
        changes.push(Change::EnablePolicyType {
            root_id: observed.root_id.clone(),
        });
    }
    let (current_tags, current_targets) = match &observed.policy {
        None => {
            changes.push(Change::Create(new_policy(desired)));
            (desired.tags.clone(), BTreeSet::new())
        }
        Some(current) => {
            let fields: Vec<&'static str> = [
                ("name", current.summary.name == desired.name),
                ("description", current.summary.description == desired.description),
                ("content", equivalent(&current.content, &desired.content)),
            ]
            .into_iter()
            .filter(|(_, same)| !same)
            .map(|(field, _)| field)
            .collect();
            if !fields.is_empty() {
                changes.push(Change::Update {
                    policy: new_policy(desired),
                    fields,
                });
            }
            (current.tags.clone(), current.targets.clone())
        }
    };
    let (tag, untag) = tags::diff(&desired.tags, &current_tags);
    if !tag.is_empty() {
        changes.push(Change::Tag(tag));
    }
    if !untag.is_empty() {
        changes.push(Change::Untag(untag));
    }
    changes.extend(
        desired
            .targets
            .difference(&current_targets)
            .cloned()
            .map(Change::Attach),
    );
    changes.extend(
        current_targets
            .difference(&desired.targets)
            .cloned()
            .map(Change::Detach),
    );
    changes
}

/// What the status says the policy is attached to: the targets just
/// written, else those AWS shows.
pub(super) fn record(
    status: &mut ServiceControlPolicyStatus,
    desired: &DesiredPolicy,
    observed: &ObservedPolicy,
    applied: bool,
) {
    let attached = match (&observed.policy, applied) {
        (_, true) => desired.targets.clone(),
        (Some(policy), false) => policy.targets.clone(),
        (None, false) => BTreeSet::new(),
    };
    status.target_count = Some(attached.len() as i32);
    status.attached_to = attached.into_iter().collect();
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn desired() -> DesiredPolicy {
        DesiredPolicy {
            name: "WorkloadsBaseline".into(),
            description: "No leaving".into(),
            content: json!({"Version": "2012-10-17", "Statement": [{"Sid": "DenyLeavingOrganization", "Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"}]}),
            tags: [(
                "awsaccess.dev/owner".to_owned(),
                "ServiceControlPolicy//baseline".to_owned(),
            )]
            .into(),
            targets: ["ou-ab12-11111111".to_owned(), "123456789012".to_owned()].into(),
        }
    }

    fn in_sync() -> ObservedPolicy {
        let desired = desired();
        ObservedPolicy {
            root_id: "r-ab12".into(),
            enabled: true,
            policy: Some(PolicyState {
                summary: PolicySummary {
                    id: "p-12345678".into(),
                    name: desired.name.clone(),
                    description: desired.description.clone(),
                    ..Default::default()
                },
                // The same meaning, written otherwise: no drift.
                content: json!({"Statement": {"Resource": "*", "Action": ["organizations:leaveorganization"], "Effect": "Deny", "Sid": "DenyLeavingOrganization"}, "Version": "2012-10-17"}),
                tags: desired.tags.clone(),
                targets: desired.targets.clone(),
            }),
        }
    }

    #[test]
    fn a_new_policy_enables_the_type_then_is_created_then_attached() {
        let observed = ObservedPolicy {
            root_id: "r-ab12".into(),
            enabled: false,
            policy: None,
        };
        let described: Vec<String> = plan(&desired(), &observed).iter().map(Describe::describe).collect();
        assert_eq!(
            described,
            [
                "enable service control policies on root r-ab12",
                "create policy WorkloadsBaseline",
                "attach to 123456789012",
                "attach to ou-ab12-11111111",
            ]
        );
    }

    #[test]
    fn the_same_meaning_is_no_change() {
        assert_eq!(plan(&desired(), &in_sync()), []);
    }

    #[test]
    fn content_edited_and_attachments_moved_by_hand_are_all_reverted() {
        let mut observed = in_sync();
        let policy = observed.policy.as_mut().unwrap();
        policy.content =
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]});
        policy.targets = ["ou-ab12-11111111".to_owned(), "ou-ab12-99999999".to_owned()].into();
        let changes = plan(&desired(), &observed);
        let described: Vec<String> = changes.iter().map(Describe::describe).collect();
        assert_eq!(
            described,
            [
                "update the policy's content",
                "attach to 123456789012",
                "detach from ou-ab12-99999999",
            ]
        );
        let Change::Update { policy, .. } = &changes[0] else {
            panic!("not an update: {changes:?}")
        };
        assert_eq!(policy.content, canonical_json(&desired().content));
    }

    #[test]
    fn an_empty_target_set_detaches_everywhere() {
        let desired = DesiredPolicy {
            targets: BTreeSet::new(),
            ..desired()
        };
        let described: Vec<String> = plan(&desired, &in_sync()).iter().map(Describe::describe).collect();
        assert_eq!(described, ["detach from 123456789012", "detach from ou-ab12-11111111"]);
    }
}
