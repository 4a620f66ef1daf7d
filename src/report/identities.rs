//! Findings about the identities themselves, as AWS Security Hub's IAM
//! controls check them: console users without MFA (IAM.5), old or unused
//! keys and passwords (IAM.3, IAM.8), policies on users (IAM.2), users whose
//! groups no DeveloperGroup manages (leftover permissions after a move),
//! unused roles, and customer-managed policies allowing `*` on `*` (IAM.1)
//! or a whole service (IAM.21).

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::jiff::Timestamp;
use serde_json::Value;

use super::{Finding, Inventory, SERVICE_LINKED_PATH, Severity, owner_of};
use crate::aws::{AccountDetails, UserCredentials};
use crate::controller::access_request::plan::POLICY_PREFIX;
use crate::controller::developer_group::ASSUME_POLICY_NAME;
use crate::controller::iam_user::plan::MFA_POLICY_NAME;
use crate::policy::document::normalize;

/// What counts as old or unused, and when "now" is.
#[derive(Clone, Debug)]
pub struct Thresholds {
    pub now: Timestamp,
    /// An active access key made or rotated longer ago is old.
    pub key_max_age: Duration,
    /// A password or active key not used for longer is unused.
    pub credentials_unused_after: Duration,
    /// A role not assumed for longer (or never, and made longer ago) is unused.
    pub role_unused_after: Duration,
}

impl Thresholds {
    /// Whole days from `then` to now when longer ago than `limit`.
    fn older(&self, then: Timestamp, limit: Duration) -> Option<u64> {
        let age = self.now.duration_since(then);
        (age.is_positive() && age.unsigned_abs() > limit).then(|| age.as_secs() as u64 / 86_400)
    }
}

/// Which IAM groups the operator manages: group ARN → the DeveloperGroup
/// (`Kind/namespace/name`). None when the cluster could not be read: then
/// a group holding the operator's own inline policy counts as managed.
pub type ManagedGroups = Option<BTreeMap<String, String>>;

pub fn findings(inventory: &Inventory, thresholds: &Thresholds, managed_groups: &ManagedGroups) -> Vec<Finding> {
    let mut found = vec![];
    for (account, details) in &inventory.accounts {
        if let Some(report) = inventory.credentials.get(account) {
            for user in &report.users {
                let owner = details.user_permissions.get(&user.user).and_then(|p| owner_of(&p.tags));
                found.extend(
                    credential_findings(user, thresholds)
                        .into_iter()
                        .map(|f| f.managed_by(owner.clone())),
                );
            }
        }
        found.extend(user_findings(details, managed_groups));
        found.extend(unused_roles(details, thresholds));
        found.extend(broad_policies(details));
    }
    found
}

fn credential_findings(user: &UserCredentials, thresholds: &Thresholds) -> Vec<Finding> {
    let finding = |severity, message: String| Finding::new(severity, &user.arn, message);
    let mut found = vec![];
    let name = &user.user;
    if user.password_enabled && !user.mfa_active {
        found.push(finding(
            Severity::High,
            format!("user {name} signs in to the console with a password and no MFA device"),
        ));
    }
    let password_used = user.password_last_used.or(user.created);
    if let Some(days) = password_used
        .filter(|_| user.password_enabled)
        .and_then(|at| thresholds.older(at, thresholds.credentials_unused_after))
    {
        found.push(finding(
            Severity::Medium,
            format!("user {name}'s console password has not been used for {days} days: remove it"),
        ));
    }
    for key in &user.access_keys {
        let number = key.number;
        if let Some(days) = key
            .last_rotated
            .and_then(|at| thresholds.older(at, thresholds.key_max_age))
        {
            found.push(finding(
                Severity::Medium,
                format!("user {name}'s access key {number} is {days} days old: rotate it"),
            ));
        }
        if let Some(days) = key
            .last_used
            .or(key.last_rotated)
            .and_then(|at| thresholds.older(at, thresholds.credentials_unused_after))
        {
            found.push(finding(
                Severity::Medium,
                format!("user {name}'s access key {number} has not been used for {days} days: deactivate it"),
            ));
        }
    }
    found
}

/// Policies on the user itself, and groups no DeveloperGroup manages.
fn user_findings(details: &AccountDetails, managed_groups: &ManagedGroups) -> Vec<Finding> {
    let managed = |group: &str| {
        let Some(state) = details.groups.get(group) else {
            return false;
        };
        match managed_groups {
            Some(groups) => groups.contains_key(&state.arn),
            None => state.inline_policies.contains_key(ASSUME_POLICY_NAME),
        }
    };
    let mut found = vec![];
    for (name, permissions) in &details.user_permissions {
        let arn = details.users.get(name).map(String::as_str).unwrap_or_default();
        let owner = owner_of(&permissions.tags);
        let finding = |severity, message: String| Finding::new(severity, arn, message).managed_by(owner.clone());
        let direct: Vec<&str> = permissions
            .inline_policies
            .keys()
            .map(String::as_str)
            // An elevation's grant is the operator's, for a while: the Elevations section shows it;
            // the MFA policy of a user the operator manages is the spec's `requireMfa`.
            .filter(|policy| !policy.starts_with(POLICY_PREFIX))
            .filter(|policy| owner.is_none() || *policy != MFA_POLICY_NAME)
            .chain(permissions.managed_policy_arns.iter().map(String::as_str))
            .collect();
        if !direct.is_empty() {
            found.push(finding(
                Severity::Low,
                format!(
                    "user {name} has policies attached directly ({}): grant them through a DeveloperGroup",
                    direct.join(", ")
                ),
            ));
        }
        let leftover: Vec<&String> = permissions.groups.iter().filter(|g| !managed(g)).collect();
        for group in &leftover {
            found.push(finding(
                Severity::Medium,
                format!(
                    "user {name} is in group {group}, which no DeveloperGroup manages: leftover permissions from an earlier role?"
                ),
            ));
        }
        if leftover.is_empty() && !permissions.groups.iter().any(|g| managed(g)) {
            found.push(finding(
                Severity::Low,
                format!("user {name} is in no group the operator manages: add it to a DeveloperGroup or remove it"),
            ));
        }
    }
    found
}

fn unused_roles(details: &AccountDetails, thresholds: &Thresholds) -> Vec<Finding> {
    let mut found = vec![];
    for (name, role) in &details.roles {
        if role.arn.contains(SERVICE_LINKED_PATH) {
            continue;
        }
        let Some(activity) = details.role_activity.get(name) else {
            continue;
        };
        let when = activity.last_used.or(activity.created);
        let Some(days) = when.and_then(|at| thresholds.older(at, thresholds.role_unused_after)) else {
            continue;
        };
        let message = match activity.last_used {
            Some(_) => format!("role {name} has not been assumed for {days} days: delete it if no one needs it"),
            None => {
                format!("role {name} was made {days} days ago and has never been assumed: delete it if no one needs it")
            }
        };
        found.push(Finding::new(Severity::Low, &role.arn, message).managed_by(owner_of(&role.tags)));
    }
    found
}

fn strings(value: &Value) -> Vec<&str> {
    match value {
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        Value::String(item) => vec![item.as_str()],
        _ => vec![],
    }
}

/// What an Allow on every resource grants that is too broad: every action
/// (`*`, `*:*`, or a NotAction), else the services it grants whole (`s3:*`).
fn broad_grants(document: &Value) -> (bool, Vec<String>) {
    let normalized = normalize(document);
    let mut everything = false;
    let mut services = vec![];
    for statement in normalized["Statement"].as_array().into_iter().flatten() {
        let every_resource = strings(&statement["Resource"]).contains(&"*") || statement.get("NotResource").is_some();
        if statement["Effect"] != "Allow" || !every_resource {
            continue;
        }
        if statement.get("NotAction").is_some() {
            everything = true;
        }
        for action in strings(&statement["Action"]) {
            if action == "*" || action == "*:*" {
                everything = true;
            } else if let Some((service, "*")) = action.split_once(':') {
                services.push(format!("{service}:*"));
            }
        }
    }
    services.sort();
    services.dedup();
    (everything, services)
}

fn broad_policies(details: &AccountDetails) -> Vec<Finding> {
    let mut found = vec![];
    for (name, policy) in &details.policies {
        let (everything, services) = broad_grants(&policy.document);
        if everything {
            found.push(Finding::new(
                Severity::High,
                &policy.arn,
                format!("customer-managed policy {name} allows every action on every resource (\"*\" on \"*\")"),
            ));
        } else if !services.is_empty() {
            found.push(Finding::new(
                Severity::Medium,
                &policy.arn,
                format!(
                    "customer-managed policy {name} allows whole services on every resource ({}): name the actions needed",
                    services.join(", ")
                ),
            ));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use serde_json::json;

    use super::*;
    use crate::aws::{
        CredentialReport, GroupState, KeyCredentials, ManagedPolicyState, RoleActivity, RoleState, UserPermissions,
    };
    use crate::controller::ownership::OWNER_TAG;

    const ACCOUNT: &str = "111111111111";

    fn at(text: &str) -> Timestamp {
        text.parse().expect("a time")
    }

    fn thresholds() -> Thresholds {
        let ninety = Duration::from_secs(90 * 86_400);
        Thresholds {
            now: at("2026-12-01T00:00:00Z"),
            key_max_age: ninety,
            credentials_unused_after: ninety,
            role_unused_after: ninety,
        }
    }

    fn arn(user: &str) -> String {
        format!("arn:aws:iam::{ACCOUNT}:user/{user}")
    }

    fn row(user: &str) -> UserCredentials {
        UserCredentials {
            user: user.into(),
            arn: arn(user),
            created: Some(at("2026-11-01T00:00:00Z")),
            ..UserCredentials::default()
        }
    }

    fn run(details: AccountDetails, users: Vec<UserCredentials>, managed: &ManagedGroups) -> Vec<Finding> {
        let inventory = Inventory {
            accounts: BTreeMap::from([(ACCOUNT.to_string(), details)]),
            credentials: BTreeMap::from([(ACCOUNT.to_string(), CredentialReport { generated: None, users })]),
            ..Inventory::default()
        };
        findings(&inventory, &thresholds(), managed)
    }

    fn messages(found: &[Finding]) -> Vec<(Severity, &str)> {
        found.iter().map(|f| (f.severity, f.message.as_str())).collect()
    }

    #[test]
    fn credentials_without_mfa_old_or_unused_are_found() {
        let console = UserCredentials {
            password_enabled: true,
            password_last_used: Some(at("2026-11-30T00:00:00Z")),
            ..row("alice")
        };
        let with_mfa = UserCredentials {
            mfa_active: true,
            ..console.clone()
        };
        let stale = UserCredentials {
            password_enabled: true,
            mfa_active: true,
            created: Some(at("2026-01-01T00:00:00Z")),
            access_keys: vec![KeyCredentials {
                number: 2,
                last_rotated: Some(at("2026-01-01T00:00:00Z")),
                last_used: Some(at("2026-11-30T00:00:00Z")),
            }],
            ..row("bob")
        };
        let found = run(
            AccountDetails::default(),
            vec![
                console,
                UserCredentials {
                    user: "carol".into(),
                    ..with_mfa
                },
                stale,
            ],
            &None,
        );
        assert_eq!(
            messages(&found),
            [
                (
                    Severity::High,
                    "user alice signs in to the console with a password and no MFA device"
                ),
                (
                    Severity::Medium,
                    "user bob's console password has not been used for 334 days: remove it"
                ),
                (Severity::Medium, "user bob's access key 2 is 334 days old: rotate it"),
            ]
        );
        assert_eq!(found[0].arn, arn("alice"));
    }

    fn details_with_users() -> AccountDetails {
        let group = |arn: &str, inline: &[&str]| GroupState {
            arn: arn.into(),
            inline_policies: inline.iter().map(|p| (p.to_string(), json!({}))).collect(),
            ..GroupState::default()
        };
        let user = |groups: &[&str], inline: &[&str], tags: &[(&str, &str)]| UserPermissions {
            groups: groups.iter().map(|g| g.to_string()).collect(),
            inline_policies: inline.iter().map(|p| (p.to_string(), json!({}))).collect(),
            tags: tags.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            ..UserPermissions::default()
        };
        AccountDetails {
            groups: BTreeMap::from([
                ("team".into(), group("arn:team", &[ASSUME_POLICY_NAME])),
                ("old-team".into(), group("arn:old-team", &["s3"])),
            ]),
            users: ["alice", "dave", "erin", "frank"]
                .iter()
                .map(|u| (u.to_string(), arn(u)))
                .collect(),
            user_permissions: BTreeMap::from([
                // An elevation's grant is not a policy attached directly.
                ("alice".into(), user(&["team"], &["awsaccess-elevation-alice-rds"], &[])),
                ("dave".into(), user(&["team", "old-team"], &[], &[])),
                (
                    "erin".into(),
                    user(&["team"], &["extra"], &[(OWNER_TAG, "IamUser/people/erin@default")]),
                ),
                ("frank".into(), user(&[], &[], &[])),
            ]),
            ..AccountDetails::default()
        }
    }

    #[test]
    fn direct_policies_and_groups_no_developer_group_manages_are_found() {
        let managed = Some(BTreeMap::from([(
            "arn:team".to_string(),
            "DeveloperGroup/people/team".to_string(),
        )]));
        let found = run(details_with_users(), vec![], &managed);
        assert_eq!(
            messages(&found),
            [
                (
                    Severity::Medium,
                    "user dave is in group old-team, which no DeveloperGroup manages: leftover permissions from an earlier role?"
                ),
                (
                    Severity::Low,
                    "user erin has policies attached directly (extra): grant them through a DeveloperGroup"
                ),
                (
                    Severity::Low,
                    "user frank is in no group the operator manages: add it to a DeveloperGroup or remove it"
                ),
            ]
        );
        assert_eq!(found[1].managed_by.as_deref(), Some("IamUser/people/erin"));
        assert_eq!(found[0].managed_by, None);
        let without_cluster = run(details_with_users(), vec![], &None);
        assert_eq!(
            messages(&without_cluster),
            messages(&found),
            "without the cluster, the operator's inline policy marks its groups"
        );
    }

    #[test]
    fn a_role_unused_or_never_used_and_old_is_found() {
        let role = |name: &str| RoleState {
            arn: format!("arn:aws:iam::{ACCOUNT}:role/{name}"),
            ..RoleState::default()
        };
        let activity = |created: &str, used: Option<&str>| RoleActivity {
            created: Some(at(created)),
            last_used: used.map(at),
        };
        let details = AccountDetails {
            roles: ["used", "idle", "never", "new"]
                .iter()
                .map(|n| (n.to_string(), role(n)))
                .collect(),
            role_activity: BTreeMap::from([
                (
                    "used".into(),
                    activity("2025-01-01T00:00:00Z", Some("2026-11-20T00:00:00Z")),
                ),
                (
                    "idle".into(),
                    activity("2025-01-01T00:00:00Z", Some("2026-08-01T00:00:00Z")),
                ),
                ("never".into(), activity("2025-12-01T00:00:00Z", None)),
                ("new".into(), activity("2026-11-01T00:00:00Z", None)),
            ]),
            ..AccountDetails::default()
        };
        assert_eq!(
            messages(&run(details, vec![], &Some(BTreeMap::new()))),
            [
                (
                    Severity::Low,
                    "role idle has not been assumed for 122 days: delete it if no one needs it"
                ),
                (
                    Severity::Low,
                    "role never was made 365 days ago and has never been assumed: delete it if no one needs it"
                ),
            ]
        );
    }

    #[test]
    fn customer_managed_policies_allowing_everything_or_whole_services_are_found() {
        let policy = |name: &str, document: Value| {
            (
                name.to_string(),
                ManagedPolicyState {
                    arn: format!("arn:aws:iam::{ACCOUNT}:policy/{name}"),
                    document,
                    ..ManagedPolicyState::default()
                },
            )
        };
        let details = AccountDetails {
            policies: BTreeMap::from([
                policy(
                    "admin",
                    json!({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}),
                ),
                policy(
                    "not-action",
                    json!({"Statement": [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]}),
                ),
                policy(
                    "s3",
                    json!({"Statement": [{"Effect": "Allow", "Action": ["S3:*", "ec2:Describe*"], "Resource": ["*"]}]}),
                ),
                policy(
                    "scoped",
                    json!({"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"}]}),
                ),
                policy(
                    "denied",
                    json!({"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}),
                ),
            ]),
            ..AccountDetails::default()
        };
        let found = run(details, vec![], &Some(BTreeMap::new()));
        let found: BTreeSet<(Severity, &str)> = messages(&found).into_iter().collect();
        assert_eq!(
            found,
            BTreeSet::from([
                (
                    Severity::High,
                    "customer-managed policy admin allows every action on every resource (\"*\" on \"*\")"
                ),
                (
                    Severity::High,
                    "customer-managed policy not-action allows every action on every resource (\"*\" on \"*\")"
                ),
                (
                    Severity::Medium,
                    "customer-managed policy s3 allows whole services on every resource (s3:*): name the actions needed"
                ),
            ])
        );
    }
}
