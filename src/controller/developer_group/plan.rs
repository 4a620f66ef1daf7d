//! Pure: what the group should be, the changes that take AWS there, and
//! what its status says after.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use serde_json::Value;

use crate::api::{DeveloperGroupSpec, DeveloperGroupStatus, MemberRemoval, Profile, Reason};
use crate::aws::GroupState;
use crate::controller::attachments;
use crate::controller::driver::owned::Describe;
use crate::controller::status::Outcome;
use crate::policy::console::switch_role_url;
use crate::policy::document::statement_changes;
use crate::policy::sessions::issued_before;
use crate::policy::trust::{assume_role_policy, render_aws_config};
use crate::policy::validate::{
    GROUP_INLINE_POLICIES_MAX_CHARS, validate_inline_policies_size, validate_managed_policy_arn, validate_profile_name,
    validate_role_arn,
};

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

/// The group as the spec wants it, before AWS says which members exist.
pub struct DesiredAccess {
    pub(super) name: String,
    /// Profile name and role ARN of each access entry that resolves.
    pub(super) profiles: Vec<(String, String)>,
    pub(super) role_arns: Vec<String>,
    pub(super) members: Vec<String>,
    /// Listed members left out: leavers, Disabled by the IamUser that holds them.
    pub(super) disabled: Vec<String>,
    pub(super) require_mfa: bool,
    pub(super) managed_policy_arns: Vec<String>,
}

/// The group, and which of the listed members exist as IAM users.
pub struct ObservedGroup {
    pub(super) group: Option<GroupState>,
    pub(super) users: BTreeMap<String, String>,
}

impl DesiredAccess {
    /// The group to make, and the listed members that are no IAM user.
    fn group(&self, observed: &ObservedGroup) -> (DesiredGroup, Vec<String>) {
        let (members, missing) = split_members(&self.members, &observed.users);
        let desired = DesiredGroup {
            name: self.name.clone(),
            members,
            assume_policy: assume_role_policy(&self.role_arns, self.require_mfa),
            managed_policy_arns: self.managed_policy_arns.iter().cloned().collect(),
        };
        (desired, missing)
    }
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

impl Describe for Change {
    fn describe(&self) -> String {
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

    fn creates(&self) -> bool {
        *self == Change::Create
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

/// The writes that take the group to what `desired` grants the members
/// that exist.
pub(super) fn plan_access(desired: &DesiredAccess, observed: &ObservedGroup) -> Vec<Change> {
    plan(&desired.group(observed).0, observed.group.as_ref())
}

/// IAM measures a group's inline policies together against 5 120
/// characters; over it, PutGroupPolicy fails after the group exists.
pub(super) fn check_assume_policy_size(role_arns: &[String], require_mfa: bool) -> Result<(), Outcome> {
    let Some(policy) = assume_role_policy(role_arns, require_mfa) else {
        return Ok(());
    };
    validate_inline_policies_size([&policy], GROUP_INLINE_POLICIES_MAX_CHARS).map_err(|err| {
        Outcome::stalled(
            Reason::InvalidSpec,
            format!("spec.access: the policy letting the group assume these roles is too large: {err}; split the roles over several groups"),
        )
    })
}

/// The statements a new version of the assume-role policy adds or removes.
pub(super) fn explain(change: &Change, observed: &ObservedGroup) -> Vec<String> {
    let Change::PutPolicy(name, document) = change else {
        return vec![];
    };
    let desired = serde_json::from_str(document).unwrap_or_default();
    let current = observed
        .group
        .as_ref()
        .and_then(|group| group.inline_policies.get(name))
        .cloned()
        .unwrap_or_else(|| serde_json::json!({}));
    statement_changes(&desired, &current)
        .into_iter()
        .map(|line| format!("inline policy {name}: {line}"))
        .collect()
}

/// Everyone out, and the policy that lets members assume roles gone;
/// the group and its other policies stay.
pub(super) fn lock(observed: &ObservedGroup) -> Vec<Change> {
    let Some(group) = &observed.group else {
        return vec![];
    };
    let members = group.members.iter().cloned().map(Change::RemoveMember);
    let assume = group
        .inline_policies
        .contains_key(ASSUME_POLICY_NAME)
        .then(|| Change::DeletePolicy(ASSUME_POLICY_NAME.to_string()));
    members.chain(assume).collect()
}

/// What the status says of the group: its members (and who left since it
/// last listed them, `now`), the roles they may assume, and the AWS config
/// and console links to do it with.
pub(super) fn record(
    status: &mut DeveloperGroupStatus,
    desired: &DesiredAccess,
    observed: &ObservedGroup,
    applied: bool,
    now: Timestamp,
) {
    let (group, missing) = desired.group(observed);
    let previous = std::mem::replace(
        &mut status.members,
        match (applied, &observed.group) {
            (true, _) => group.members.into_iter().collect(),
            (false, Some(current)) => current.members.iter().cloned().collect(),
            (false, None) => vec![],
        },
    );
    record_leavers(status, &previous, now);
    status.member_count = Some(status.members.len() as i32);
    status.missing_users = missing;
    status.assumable_role_arns = desired.role_arns.clone();
    status.role_count = Some(desired.role_arns.len() as i32);
    let account_id = status.account_id.clone().unwrap_or_default();
    let mfa_serial = desired
        .require_mfa
        .then(|| format!("arn:aws:iam::{account_id}:mfa/YOUR-IAM-USER-NAME"));
    status.aws_config =
        (!desired.profiles.is_empty()).then(|| render_aws_config(&desired.profiles, mfa_serial.as_deref(), "default"));
    status.profiles = desired
        .profiles
        .iter()
        .map(|(profile, role_arn)| Profile {
            profile: profile.clone(),
            role_arn: role_arn.clone(),
            console_url: switch_role_url(role_arn, profile),
        })
        .collect();
}

/// Records who the status listed as members and no longer does, whoever
/// took them out (this group, their IamUser as a leaver, someone by hand),
/// and when: the roles the group could assume deny sessions issued before
/// then. A later removal moves the moment forward, which covers the earlier.
fn record_leavers(status: &mut DeveloperGroupStatus, previous: &[String], now: Timestamp) {
    let left: Vec<String> = previous
        .iter()
        .filter(|user| !status.members.contains(user))
        .cloned()
        .collect();
    if !left.is_empty() {
        status.last_removal = Some(MemberRemoval {
            at: Time(issued_before(now)),
            users: left,
        });
    }
}

/// In sync but for listed members that are no IAM user: stalled until
/// someone creates them or takes them off the list.
pub(super) fn conclude(
    group_in_account: &str,
    desired: &DesiredAccess,
    observed: &ObservedGroup,
    outcome: Outcome,
) -> Outcome {
    let (_, missing) = desired.group(observed);
    if missing.is_empty() {
        return match desired.disabled.is_empty() {
            true => outcome,
            false => Outcome {
                message: format!(
                    "{}; left out as leavers (their IamUser is Disabled): {}",
                    outcome.message,
                    desired.disabled.join(", ")
                ),
                ..outcome
            },
        };
    }
    Outcome::stalled(
        Reason::MissingUsers,
        format!(
            "{group_in_account} is in sync except for users that do not exist there: {}; create them or remove them from spec.members",
            missing.join(", ")
        ),
    )
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
    fn whoever_the_status_listed_and_no_longer_does_is_recorded_as_left_the_latest_moment_kept() {
        let seen: Timestamp = "2026-12-06T09:00:00.5Z".parse().unwrap();
        let mut status = DeveloperGroupStatus {
            members: vec!["alice".into()],
            ..DeveloperGroupStatus::default()
        };
        record_leavers(&mut status, &["alice".into(), "bob".into(), "carol".into()], seen);
        let removal = status.last_removal.clone().expect("recorded");
        assert_eq!(removal.users, ["bob", "carol"]);
        assert_eq!(removal.at.0.to_string(), "2026-12-06T09:00:01Z");
        // Nobody left: the record stays as it was.
        record_leavers(&mut status, &["alice".into()], seen.checked_add(HOUR).unwrap());
        assert_eq!(status.last_removal, Some(removal));
        // A later removal moves the moment forward.
        status.members = vec![];
        record_leavers(&mut status, &["alice".into()], seen.checked_add(HOUR).unwrap());
        let later = status.last_removal.expect("recorded");
        assert_eq!(
            (later.users, later.at.0.to_string()),
            (vec!["alice".to_string()], "2026-12-06T10:00:01Z".to_string())
        );
    }

    const HOUR: std::time::Duration = std::time::Duration::from_secs(3600);

    #[test]
    fn missing_users_are_reported_not_added() {
        let existing = BTreeMap::from([("alice".to_string(), "arn:aws:iam::1:user/alice".to_string())]);
        let (present, missing) = split_members(&["alice".into(), "ghost".into()], &existing);
        assert_eq!(present, BTreeSet::from(["alice".to_string()]));
        assert_eq!(missing, ["ghost"]);
    }
}
