//! The guardrail view of `report`: every role and group in AWS that breaks
//! its account's guardrails, whoever made it (by hand, or before the
//! guardrail tightened). Each is judged as the reconcile would judge a spec
//! asking for what it has, by the same `controller::guardrails` functions.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{Finding, Inventory, SERVICE_LINKED_PATH, Severity, owner_of};
use crate::api::{AwsAccount, CrossAccountRoleSpec, DeveloperGroupSpec};
use crate::aws::{AccountDetails, GroupState, RoleState, policy_name};
use crate::controller::developer_group::ASSUME_POLICY_NAME;
use crate::controller::guardrails;
use crate::controller::tenancy::Account;
use crate::policy::document::normalize;
use crate::policy::guardrails::breaches;

/// The findings for every account of `inventory` an AwsAccount of
/// `accounts` represents; `own` is the identity account.
pub fn findings(inventory: &Inventory, accounts: &[AwsAccount], own: &str) -> Vec<Finding> {
    let mut found = vec![];
    for object in accounts {
        let Some(id) = object.status.as_ref().and_then(|s| s.account_id.as_deref()) else {
            continue;
        };
        let Some(details) = inventory.accounts.get(id) else {
            continue;
        };
        let account = Account {
            id: id.to_owned(),
            access_role: object.spec.access_role_name.clone(),
            object: kube::ResourceExt::name_any(object),
            guardrails: object.spec.guardrails.clone(),
        };
        found.extend(role_findings(&account, details));
        found.extend(group_findings(&account, details, id == own));
    }
    found
}

/// A finding per refusal the roles' specs would get, but for service-linked roles.
fn role_findings(account: &Account, details: &AccountDetails) -> Vec<Finding> {
    let mut found = vec![];
    for (name, role) in details
        .roles
        .iter()
        .filter(|(_, r)| !r.arn.contains(SERVICE_LINKED_PATH))
    {
        let Some(spec) = role_as_spec(&account.id, role, details) else {
            continue;
        };
        let by_partner = requires(role, "sts:externalid");
        for refusal in guardrails::role(account, &spec, by_partner).refusals {
            let message = format!(
                "role {name} breaks a guardrail, as its spec would be told: {}",
                refusal.message
            );
            found.push(Finding::new(Severity::Medium, &role.arn, message).managed_by(owner_of(&role.tags)));
        }
    }
    found
}

/// A finding per broken guardrail of each group; `identity`: the account is the identity account.
fn group_findings(account: &Account, details: &AccountDetails, identity: bool) -> Vec<Finding> {
    let customer: BTreeMap<String, Value> = details
        .policies
        .values()
        .map(|p| (p.arn.clone(), p.document.clone()))
        .collect();
    let denied = guardrails::denied_for_groups(account, identity);
    let mut found = vec![];
    for (name, group) in &details.groups {
        let severity = if group.members.is_empty() {
            Severity::Low
        } else {
            Severity::High
        };
        let broken = group_breaches(account, identity, group, &customer, &denied);
        found.extend(broken.into_iter().map(|message| {
            Finding::new(
                severity,
                &group.arn,
                format!("group {name} breaks a guardrail: {message}"),
            )
        }));
    }
    found
}

/// What a group's spec asking for its managed policies would be refused,
/// then each of its inline policies that allows a `denied` action.
fn group_breaches(
    account: &Account,
    identity: bool,
    group: &GroupState,
    customer: &BTreeMap<String, Value>,
    denied: &[String],
) -> Vec<String> {
    let Ok(spec) =
        serde_json::from_value::<DeveloperGroupSpec>(json!({"managedPolicyArns": group.managed_policy_arns}))
    else {
        return vec![];
    };
    let mut broken: Vec<String> = guardrails::group(account, identity, &spec, customer)
        .refusals
        .into_iter()
        .map(|refusal| refusal.message)
        .collect();
    // Its inline policies count too, but for the operator's own grant of sts:AssumeRole.
    let inline: Vec<(&String, &Value)> = group
        .inline_policies
        .iter()
        .filter(|(policy, _)| *policy != ASSUME_POLICY_NAME)
        .collect();
    let documents: Vec<&Value> = inline.iter().map(|(_, document)| *document).collect();
    let whose = format!("AwsAccount {}'s guardrails", account.object);
    broken.extend(
        breaches(&documents, denied)
            .iter()
            .map(|breach| breach.message(&format!("inline policy {}", inline[breach.document].0), &whose)),
    );
    broken
}

/// Whether every Allow of the trust policy requires the condition key.
fn requires(role: &RoleState, key: &str) -> bool {
    let trust = normalize(&role.trust_policy);
    let allows: Vec<&Value> = trust["Statement"]
        .as_array()
        .map(|s| s.iter().filter(|s| s["Effect"] == "Allow").collect())
        .unwrap_or_default();
    !allows.is_empty()
        && allows.iter().all(|statement| {
            statement["Condition"]
                .as_object()
                .is_some_and(|operators| operators.values().any(|keys| keys.get(key).is_some()))
        })
}

/// The spec that would ask for exactly what the role has.
fn role_as_spec(account: &str, role: &RoleState, details: &AccountDetails) -> Option<CrossAccountRoleSpec> {
    let local: BTreeMap<&str, &Value> = details
        .policies
        .values()
        .map(|p| (p.arn.as_str(), &p.document))
        .collect();
    let (customer, managed): (Vec<&String>, Vec<&String>) = role
        .managed_policy_arns
        .iter()
        .partition(|arn| local.contains_key(arn.as_str()));
    let inline: Vec<Value> = role
        .inline_policies
        .iter()
        .map(|(name, document)| json!({"name": name, "document": document}))
        .collect();
    let customer: Vec<Value> = customer
        .iter()
        .map(|arn| json!({"name": policy_name(arn), "document": local[arn.as_str()]}))
        .collect();
    serde_json::from_value(json!({
        "account": {"id": account},
        "maxSessionDuration": role.max_session_duration,
        "trust": {"requireMfa": requires(role, "aws:multifactorauthpresent")},
        "permissions": {
            "managedPolicyArns": managed,
            "inlinePolicies": inline,
            "customerManagedPolicies": customer,
            "permissionsBoundaryArn": role.permissions_boundary_arn,
        },
    }))
    .ok()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::api::AwsAccountStatus;

    fn aws_account(name: &str, id: &str, guardrails: Value) -> AwsAccount {
        let mut account: AwsAccount = serde_json::from_value(json!({
            "apiVersion": "awsaccess.dev/v1alpha1",
            "kind": "AwsAccount",
            "metadata": {"name": name},
            "spec": {"accountName": name, "email": format!("{name}@example.com"), "guardrails": guardrails},
        }))
        .expect("an AwsAccount");
        account.status = Some(AwsAccountStatus {
            account_id: Some(id.into()),
            ..AwsAccountStatus::default()
        });
        account
    }

    /// A role made by hand with a policy prod's guardrails do not allow, and one within them.
    fn prod() -> AccountDetails {
        AccountDetails {
            roles: BTreeMap::from([
                (
                    "HandMade".to_string(),
                    RoleState {
                        arn: "arn:aws:iam::222222222222:role/HandMade".into(),
                        trust_policy: json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"}, "Action": "sts:AssumeRole"}]}),
                        max_session_duration: 3600,
                        managed_policy_arns: BTreeSet::from(
                            ["arn:aws:iam::aws:policy/AdministratorAccess".to_string()],
                        ),
                        ..RoleState::default()
                    },
                ),
                (
                    "Fine".to_string(),
                    RoleState {
                        arn: "arn:aws:iam::222222222222:role/Fine".into(),
                        max_session_duration: 3600,
                        managed_policy_arns: BTreeSet::from(["arn:aws:iam::aws:policy/ReadOnlyAccess".to_string()]),
                        ..RoleState::default()
                    },
                ),
            ]),
            ..AccountDetails::default()
        }
    }

    /// A group with a member, granted IAM escalation by a managed and an inline policy.
    fn identity() -> AccountDetails {
        AccountDetails {
            groups: BTreeMap::from([(
                "admins".to_string(),
                GroupState {
                    arn: "arn:aws:iam::111111111111:group/admins".into(),
                    members: BTreeSet::from(["mallory".to_string()]),
                    managed_policy_arns: BTreeSet::from(["arn:aws:iam::aws:policy/AdministratorAccess".to_string()]),
                    inline_policies: BTreeMap::from([(
                        "helpdesk".to_string(),
                        json!({"Statement": [{"Effect": "Allow", "Action": "iam:CreateAccessKey", "Resource": "*"}]}),
                    )]),
                },
            )]),
            ..AccountDetails::default()
        }
    }

    fn found() -> Vec<Finding> {
        let inventory = Inventory {
            accounts: BTreeMap::from([
                ("111111111111".to_string(), identity()),
                ("222222222222".to_string(), prod()),
            ]),
            ..Inventory::default()
        };
        let accounts = [
            aws_account("identity", "111111111111", json!({})),
            aws_account(
                "prod",
                "222222222222",
                json!({"allowedManagedPolicyArns": ["arn:aws:iam::aws:policy/ReadOnlyAccess"]}),
            ),
        ];
        findings(&inventory, &accounts, "111111111111")
    }

    #[test]
    fn only_what_breaks_a_guardrail_is_found() {
        let found = found();
        let messages: Vec<&str> = found.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(found.len(), 3, "{messages:#?}");
    }

    #[test]
    fn a_role_made_by_hand_is_told_what_its_spec_would_be() {
        let found = found();
        let role = found
            .iter()
            .find(|f| f.arn.ends_with(":role/HandMade"))
            .expect("HandMade");
        assert_eq!(role.severity, Severity::Medium);
        assert!(
            role.message
                .contains("is not in AwsAccount prod's guardrails.allowedManagedPolicyArns"),
            "{}",
            role.message
        );
    }

    #[test]
    fn a_group_with_members_breaks_guardrails_by_its_managed_and_inline_policies() {
        let found = found();
        let group: Vec<&Finding> = found.iter().filter(|f| f.arn.ends_with(":group/admins")).collect();
        assert!(
            group.iter().all(|f| f.severity == Severity::High),
            "a group with members"
        );
        assert!(group.iter().any(|f| f.message.contains("AdministratorAccess")));
        assert!(
            group
                .iter()
                .any(|f| f.message.contains("inline policy helpdesk") && f.message.contains("iam:CreateAccessKey"))
        );
    }
}
