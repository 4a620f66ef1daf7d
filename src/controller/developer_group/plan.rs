//! Pure: what the group should be, and the changes that take AWS there.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::api::DeveloperGroupSpec;
use crate::aws::GroupState;
use crate::controller::attachments;
use crate::policy::validate::{validate_managed_policy_arn, validate_profile_name, validate_role_arn};

/// The inline policy through which the group may assume its roles.
pub const ASSUME_POLICY_NAME: &str = "awsaccess-assume-roles";

/// The group as the spec wants it, references resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct DesiredGroup {
    pub name: String,
    /// Listed members that exist as IAM users.
    pub members: BTreeSet<String>,
    pub assume_policy: Option<Value>,
    pub managed_policy_arns: BTreeSet<String>,
}

/// Checks what the schema cannot before anything is written.
pub fn validate(spec: &DeveloperGroupSpec) -> Result<(), String> {
    let mut profiles = BTreeSet::new();
    for (i, access) in spec.access.iter().enumerate() {
        if access.role.is_none() && access.role_arn.is_none() {
            return Err(format!("spec.access[{i}]: set role or roleArn"));
        }
        if let Some(arn) = &access.role_arn {
            validate_role_arn(arn).map_err(|e| format!("spec.access[{i}].roleArn: {e}"))?;
        }
        if let Some(profile) = &access.profile {
            validate_profile_name(profile).map_err(|e| format!("spec.access[{i}].profile: {e}"))?;
            if !profiles.insert(profile.as_str()) {
                return Err(format!(
                    "spec.access[{i}].profile: {profile} is used twice; profile names must be unique"
                ));
            }
        }
    }
    for (i, arn) in spec.managed_policy_arns.iter().enumerate() {
        validate_managed_policy_arn(arn).map_err(|e| format!("spec.managedPolicyArns[{i}]: {e}"))?;
    }
    Ok(())
}

#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    Create,
    AddMember(String),
    RemoveMember(String),
    PutPolicy(String, String),
    DeletePolicy(String),
    Attach(String),
    Detach(String),
}

impl Change {
    pub fn describe(&self) -> String {
        match self {
            Change::Create => "create the group".into(),
            Change::AddMember(user) => format!("add {user}"),
            Change::RemoveMember(user) => format!("remove {user}"),
            Change::PutPolicy(name, _) => format!("put inline policy {name}"),
            Change::DeletePolicy(name) => format!("delete inline policy {name}"),
            Change::Attach(arn) => format!("attach {arn}"),
            Change::Detach(arn) => format!("detach {arn}"),
        }
    }
}

/// The writes that take `current` (None: no such group) to `desired`:
/// grants before revocations, members added before others leave.
pub fn plan(desired: &DesiredGroup, current: Option<&GroupState>) -> Vec<Change> {
    let empty = GroupState::default();
    let mut changes = vec![];
    if current.is_none() {
        changes.push(Change::Create);
    }
    let current = current.unwrap_or(&empty);
    let (add, remove) = attachments::managed(&desired.members, &current.members);
    let inline = desired
        .assume_policy
        .iter()
        .map(|policy| (ASSUME_POLICY_NAME.to_string(), policy.clone()))
        .collect();
    let (put, delete) = attachments::inline(&inline, &current.inline_policies);
    let (attach, detach) = attachments::managed(&desired.managed_policy_arns, &current.managed_policy_arns);
    changes.extend(add.into_iter().map(Change::AddMember));
    changes.extend(
        put.into_iter()
            .map(|(name, document)| Change::PutPolicy(name, document)),
    );
    changes.extend(attach.into_iter().map(Change::Attach));
    changes.extend(remove.into_iter().map(Change::RemoveMember));
    changes.extend(delete.into_iter().map(Change::DeletePolicy));
    changes.extend(detach.into_iter().map(Change::Detach));
    changes
}

/// Members listed in the spec, split into those that exist and those that do not.
pub fn split_members(listed: &[String], existing: &BTreeMap<String, String>) -> (BTreeSet<String>, Vec<String>) {
    let (present, missing): (Vec<&String>, Vec<&String>) = listed.iter().partition(|user| existing.contains_key(*user));
    let mut missing: Vec<String> = missing.into_iter().cloned().collect();
    missing.sort();
    missing.dedup();
    (present.into_iter().cloned().collect(), missing)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::policy::trust::assume_role_policy;

    fn desired(members: &[&str], roles: &[&str]) -> DesiredGroup {
        let arns: Vec<String> = roles.iter().map(|r| r.to_string()).collect();
        DesiredGroup {
            name: "alfie-developers".into(),
            members: members.iter().map(|m| m.to_string()).collect(),
            assume_policy: assume_role_policy(&arns, false),
            managed_policy_arns: BTreeSet::new(),
        }
    }

    #[test]
    fn new_group_gets_members_and_assume_policy() {
        let changes = plan(
            &desired(&["alice", "bob"], &["arn:aws:iam::345678901234:role/AlfieFullAccess"]),
            None,
        );
        let described: Vec<String> = changes.iter().map(Change::describe).collect();
        assert_eq!(
            described,
            [
                "create the group",
                "add alice",
                "add bob",
                "put inline policy awsaccess-assume-roles"
            ]
        );
    }

    #[test]
    fn leavers_are_removed_and_foreign_policies_deleted() {
        let want = desired(&["alice"], &["arn:aws:iam::345678901234:role/AlfieFullAccess"]);
        let current = GroupState {
            arn: "arn:aws:iam::012345678901:group/alfie-developers".into(),
            members: ["alice".to_string(), "mallory".to_string()].into(),
            managed_policy_arns: ["arn:aws:iam::aws:policy/AdministratorAccess".to_string()].into(),
            inline_policies: BTreeMap::from([
                (
                    ASSUME_POLICY_NAME.to_string(),
                    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["sts:AssumeRole"], "Resource": ["arn:aws:iam::345678901234:role/AlfieFullAccess"]}]}),
                ),
                ("by-hand".to_string(), json!({})),
            ]),
        };
        let described: Vec<String> = plan(&want, Some(&current)).iter().map(Change::describe).collect();
        assert_eq!(
            described,
            [
                "remove mallory",
                "delete inline policy by-hand",
                "detach arn:aws:iam::aws:policy/AdministratorAccess"
            ]
        );
    }

    #[test]
    fn no_roles_means_no_assume_policy() {
        let want = desired(&[], &[]);
        let current = GroupState {
            inline_policies: BTreeMap::from([(ASSUME_POLICY_NAME.to_string(), json!({}))]),
            ..GroupState::default()
        };
        assert_eq!(
            plan(&want, Some(&current)),
            vec![Change::DeletePolicy(ASSUME_POLICY_NAME.into())]
        );
    }

    #[test]
    fn missing_users_are_reported_not_added() {
        let existing = BTreeMap::from([("alice".to_string(), "arn:aws:iam::1:user/alice".to_string())]);
        let (present, missing) = split_members(&["alice".into(), "ghost".into()], &existing);
        assert_eq!(present, BTreeSet::from(["alice".to_string()]));
        assert_eq!(missing, ["ghost"]);
    }
}
