//! What a namespace may grant in an account (API.md, "Guardrails"): the
//! spec as its AwsAccount's guardrails allow it, and a refusal naming the
//! field and the guardrail for each part left out. Pure, so that the
//! reconcile, `plan` and the admission webhook answer alike: what violates
//! is not granted, what was granted before a guardrail tightened goes at
//! the next reconcile, and the rest converges.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::status::Outcome;
use super::tenancy::Account;
use crate::api::{CrossAccountRoleSpec, DeveloperGroupSpec, Permissions, Reason};
use crate::policy::glob;
use crate::policy::guardrails::{IAM_ESCALATION_ACTIONS, aws_managed_policy, breaches};

/// The part of a spec the guardrails let through.
#[derive(Clone, Debug, PartialEq)]
pub struct Allowed<T> {
    pub granted: T,
    /// One per part left out, Stalled with reason GuardrailViolation.
    pub refusals: Vec<Outcome>,
}

fn refusal(message: String) -> Outcome {
    Outcome::stalled(Reason::GuardrailViolation, message)
}

fn whose(account: &Account, guardrail: &str) -> String {
    format!("AwsAccount {}'s guardrails.{guardrail}", account.object)
}

/// What a role may be in `account`: its permissions, session length and
/// whether its trust may be granted at all.
#[derive(Clone, Debug, PartialEq)]
pub struct RoleGrant {
    pub permissions: Permissions,
    pub max_session_duration: i32,
    /// False when the trust breaks a guardrail (MFA): the role trusts nobody.
    pub trust: bool,
}

/// `spec` as `account`'s guardrails allow it. `made_by_partner`: the role
/// is a PartnerAccess's, which trusts the partner's account, not people.
pub fn role(account: &Account, spec: &CrossAccountRoleSpec, made_by_partner: bool) -> Allowed<RoleGrant> {
    let mut refusals = vec![];
    let mut permissions = spec.permissions.clone();
    permissions.permissions_boundary_arn = boundary(
        account,
        spec.permissions.permissions_boundary_arn.as_ref(),
        &mut refusals,
    );
    permissions.managed_policy_arns = allowed_managed(
        account,
        &spec.permissions.managed_policy_arns,
        "spec.permissions.managedPolicyArns",
        &mut refusals,
    );
    if let Some(denied) = &account.guardrails.denied_actions {
        leave_out_denied_documents(account, denied, &mut permissions, &mut refusals);
    }
    let max_session_duration = session_duration(account, spec.max_session_duration, &mut refusals);
    let trust = !(account.guardrails.require_mfa && !made_by_partner && !spec.trust.require_mfa);
    if !trust {
        refusals.push(refusal(format!(
            "spec.trust.requireMfa: {} is true: every role there that people assume requires MFA, so this one trusts nobody until it does",
            whose(account, "requireMfa")
        )));
    }
    Allowed {
        granted: RoleGrant {
            permissions,
            max_session_duration,
            trust,
        },
        refusals,
    }
}

/// The boundary a role gets: the guardrail's when there is one, whatever the spec asks.
fn boundary(account: &Account, asked: Option<&String>, refusals: &mut Vec<Outcome>) -> Option<String> {
    let Some(boundary) = &account.guardrails.permissions_boundary_arn else {
        return asked.cloned();
    };
    if let Some(asked) = asked.filter(|asked| *asked != boundary) {
        refusals.push(refusal(format!(
            "spec.permissions.permissionsBoundaryArn: {asked} is not {boundary}, the boundary {} puts on every role there",
            whose(account, "permissionsBoundaryArn")
        )));
    }
    Some(boundary.clone())
}

/// Removes from `permissions` every inline and customer-managed policy
/// whose document allows an action of `denied`, refusing each once.
fn leave_out_denied_documents(
    account: &Account,
    denied: &[String],
    permissions: &mut Permissions,
    refusals: &mut Vec<Outcome>,
) {
    let inline: Vec<Value> = permissions
        .inline_policies
        .iter()
        .map(|p| p.document.to_value())
        .collect();
    let customer: Vec<Value> = permissions
        .customer_managed_policies
        .iter()
        .map(|p| p.document.to_value())
        .collect();
    let fields = (0..inline.len())
        .map(|i| format!("spec.permissions.inlinePolicies[{i}].document"))
        .chain((0..customer.len()).map(|i| format!("spec.permissions.customerManagedPolicies[{i}].document")));
    let documents: Vec<&Value> = inline.iter().chain(&customer).collect();
    let fields: Vec<String> = fields.collect();
    let mut refused = BTreeSet::new();
    for breach in breaches(&documents, denied) {
        if refused.insert(breach.document) {
            refusals.push(refusal(
                breach.message(&fields[breach.document], &whose(account, "deniedActions")),
            ));
        }
    }
    // Documents are numbered inline policies first, as `documents` lists them.
    permissions.inline_policies = not_refused(&permissions.inline_policies, 0, &refused);
    permissions.customer_managed_policies = not_refused(&permissions.customer_managed_policies, inline.len(), &refused);
}

/// The `items` whose number, counted from `first`, is not in `refused`.
fn not_refused<T: Clone>(items: &[T], first: usize, refused: &BTreeSet<usize>) -> Vec<T> {
    items
        .iter()
        .enumerate()
        .filter(|(i, _)| !refused.contains(&(first + i)))
        .map(|(_, item)| item.clone())
        .collect()
}

/// The session length a role gets: the spec's, at most the guardrail's.
fn session_duration(account: &Account, asked: i32, refusals: &mut Vec<Outcome>) -> i32 {
    let Some(longest) = account
        .guardrails
        .max_session_duration
        .filter(|longest| asked > *longest)
    else {
        return asked;
    };
    refusals.push(refusal(format!(
        "spec.maxSessionDuration: {asked}s is longer than the {longest}s {} allows; the role allows {longest}s",
        whose(account, "maxSessionDuration")
    )));
    longest
}

/// The managed policy ARNs `allowedManagedPolicyArns` lets through.
fn allowed_managed(account: &Account, arns: &[String], field: &str, refusals: &mut Vec<Outcome>) -> Vec<String> {
    let Some(allowed) = &account.guardrails.allowed_managed_policy_arns else {
        return arns.to_vec();
    };
    let mut kept = vec![];
    for (i, arn) in arns.iter().enumerate() {
        if allowed.iter().any(|glob| glob::matches(glob, arn)) {
            kept.push(arn.clone());
        } else {
            refusals.push(refusal(format!(
                "{field}[{i}]: {arn} is not in {}",
                whose(account, "allowedManagedPolicyArns")
            )));
        }
    }
    kept
}

/// The actions a group's policies may not allow in `account`: its
/// `deniedActions`, or in the identity account by default IAM escalation.
pub fn denied_for_groups(account: &Account, identity: bool) -> Vec<String> {
    match (&account.guardrails.denied_actions, identity) {
        (Some(denied), _) => denied.clone(),
        (None, true) => IAM_ESCALATION_ACTIONS.iter().map(|a| a.to_string()).collect(),
        (None, false) => vec![],
    }
}

/// The managed policies a group may attach in `account`, the identity
/// account when `identity` (whose default refuses IAM escalation).
/// `customer` holds the default version's document of each
/// customer-managed policy named, as far as it could be read: one that is
/// not there is let through here and judged where it can be read.
pub fn group(
    account: &Account,
    identity: bool,
    spec: &DeveloperGroupSpec,
    customer: &BTreeMap<String, Value>,
) -> Allowed<Vec<String>> {
    let mut refusals = vec![];
    let field = "spec.managedPolicyArns";
    let listed = allowed_managed(account, &spec.managed_policy_arns, field, &mut refusals);
    let denied = denied_for_groups(account, identity);
    if denied.is_empty() {
        return Allowed {
            granted: listed,
            refusals,
        };
    }
    let explicitly_allowed = |arn: &str| {
        account
            .guardrails
            .allowed_managed_policy_arns
            .iter()
            .flatten()
            .any(|glob| glob::matches(glob, arn))
    };
    let whose_denied = match account.guardrails.denied_actions {
        Some(_) => whose(account, "deniedActions"),
        None => format!(
            "the identity account's default (AwsAccount {}), which refuses IAM escalation to groups,",
            account.object
        ),
    };
    let mut granted = vec![];
    for arn in listed {
        let i = spec
            .managed_policy_arns
            .iter()
            .position(|a| *a == arn)
            .unwrap_or_default();
        let document = aws_managed_policy(&arn).or_else(|| customer.get(&arn).cloned());
        let aws_managed = arn.contains(":iam::aws:policy/");
        match document {
            Some(document) => {
                if let Some(breach) = breaches(&[&document], &denied).first() {
                    refusals.push(refusal(breach.message(&format!("{field}[{i}] ({arn})"), &whose_denied)));
                    continue;
                }
            }
            None if aws_managed && !explicitly_allowed(&arn) => {
                refusals.push(refusal(format!(
                    "{field}[{i}]: {arn} is an AWS-managed policy the operator does not know to be free of what {whose_denied} denies; name it in guardrails.allowedManagedPolicyArns to allow it"
                )));
                continue;
            }
            None => {}
        }
        granted.push(arn);
    }
    Allowed { granted, refusals }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::api::AccountGuardrails;

    fn account(guardrails: AccountGuardrails) -> Account {
        Account {
            id: "111122223333".into(),
            access_role: "OrganizationAccountAccessRole".into(),
            object: "alfie-prod".into(),
            guardrails,
        }
    }

    fn role_spec(permissions: Value) -> CrossAccountRoleSpec {
        serde_json::from_value(json!({
            "account": {"name": "alfie-prod"},
            "trust": {"accounts": [{"id": "123456789012"}]},
            "maxSessionDuration": 7200,
            "permissions": permissions,
        }))
        .expect("a role spec")
    }

    fn messages(refusals: &[Outcome]) -> Vec<&str> {
        refusals.iter().map(|o| o.message.as_str()).collect()
    }

    #[test]
    fn a_managed_policy_outside_the_allowed_globs_is_left_out_and_named() {
        let prod = account(AccountGuardrails {
            allowed_managed_policy_arns: Some(vec![
                "arn:aws:iam::aws:policy/ReadOnlyAccess".into(),
                "arn:aws:iam::aws:policy/job-function/*".into(),
            ]),
            ..Default::default()
        });
        let spec = role_spec(json!({"managedPolicyArns": [
            "arn:aws:iam::aws:policy/AdministratorAccess",
            "arn:aws:iam::aws:policy/ReadOnlyAccess",
            "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess",
        ]}));
        let allowed = role(&prod, &spec, false);
        assert_eq!(
            allowed.granted.permissions.managed_policy_arns,
            [
                "arn:aws:iam::aws:policy/ReadOnlyAccess",
                "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"
            ]
        );
        assert_eq!(
            messages(&allowed.refusals),
            [
                "spec.permissions.managedPolicyArns[0]: arn:aws:iam::aws:policy/AdministratorAccess is not in AwsAccount alfie-prod's guardrails.allowedManagedPolicyArns"
            ]
        );
        assert!(allowed.refusals.iter().all(|o| o.reason == Reason::GuardrailViolation));
    }

    #[test]
    fn a_document_allowing_a_denied_action_is_left_out_the_rest_kept() {
        let prod = account(AccountGuardrails {
            denied_actions: Some(vec!["iam:*".into(), "organizations:*".into()]),
            ..Default::default()
        });
        let spec = role_spec(json!({
            "inlinePolicies": [
                {"name": "s3", "document": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}},
                {"name": "sneaky", "document": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"}]}},
            ],
            "customerManagedPolicies": [
                {"name": "put", "document": {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "IAM:Put*", "Resource": "*"}}},
            ],
        }));
        let allowed = role(&prod, &spec, false);
        let kept: Vec<&str> = allowed
            .granted
            .permissions
            .inline_policies
            .iter()
            .map(|p| p.name.as_str())
            .collect();
        assert_eq!(kept, ["s3"]);
        assert!(allowed.granted.permissions.customer_managed_policies.is_empty());
        let said = messages(&allowed.refusals);
        assert_eq!(said.len(), 2, "{said:?}");
        assert!(
            said[0].starts_with("spec.permissions.inlinePolicies[1].document.Statement[0]: NotAction"),
            "{}",
            said[0]
        );
        assert!(
            said[1].starts_with("spec.permissions.customerManagedPolicies[0].document.Statement: Action \"IAM:Put*\""),
            "{}",
            said[1]
        );
        assert!(
            said[1].ends_with("AwsAccount alfie-prod's guardrails.deniedActions denies (\"iam:*\")"),
            "{}",
            said[1]
        );
    }

    #[test]
    fn the_boundary_is_put_on_every_role_and_no_other_may_be_named() {
        let boundary = "arn:aws:iam::111122223333:policy/TenantBoundary";
        let prod = account(AccountGuardrails {
            permissions_boundary_arn: Some(boundary.into()),
            ..Default::default()
        });
        let none = role(&prod, &role_spec(json!({})), false);
        assert_eq!(
            none.granted.permissions.permissions_boundary_arn.as_deref(),
            Some(boundary)
        );
        assert!(none.refusals.is_empty());
        let other = role(
            &prod,
            &role_spec(json!({"permissionsBoundaryArn": "arn:aws:iam::aws:policy/PowerUserAccess"})),
            false,
        );
        assert_eq!(
            other.granted.permissions.permissions_boundary_arn.as_deref(),
            Some(boundary)
        );
        assert!(messages(&other.refusals)[0].starts_with("spec.permissions.permissionsBoundaryArn: "));
    }

    #[test]
    fn sessions_are_cut_and_people_need_mfa() {
        let prod = account(AccountGuardrails {
            max_session_duration: Some(3600),
            require_mfa: true,
            ..Default::default()
        });
        let allowed = role(&prod, &role_spec(json!({})), false);
        assert_eq!(allowed.granted.max_session_duration, 3600);
        assert!(!allowed.granted.trust);
        let said = messages(&allowed.refusals);
        assert!(said[0].starts_with("spec.maxSessionDuration: 7200s"), "{said:?}");
        assert!(said[1].starts_with("spec.trust.requireMfa: "), "{said:?}");
        assert!(
            role(&prod, &role_spec(json!({})), true).granted.trust,
            "a partner's account is not people"
        );
    }

    fn group_spec(arns: &[&str]) -> DeveloperGroupSpec {
        serde_json::from_value(json!({"managedPolicyArns": arns})).expect("a group spec")
    }

    #[test]
    fn the_identity_account_refuses_iam_escalation_to_groups_by_default() {
        let identity = account(AccountGuardrails::default());
        let customer = BTreeMap::from([(
            "arn:aws:iam::111122223333:policy/HelpDesk".to_string(),
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["iam:CreateLoginProfile", "iam:UpdateLoginProfile"], "Resource": "*"}]}),
        )]);
        let spec = group_spec(&[
            "arn:aws:iam::aws:policy/AdministratorAccess",
            "arn:aws:iam::aws:policy/IAMUserChangePassword",
            "arn:aws:iam::aws:policy/ReadOnlyAccess",
            "arn:aws:iam::aws:policy/AmazonSomethingNew",
            "arn:aws:iam::111122223333:policy/HelpDesk",
            "arn:aws:iam::111122223333:policy/Unread",
        ]);
        let allowed = group(&identity, true, &spec, &customer);
        assert_eq!(
            allowed.granted,
            [
                "arn:aws:iam::aws:policy/IAMUserChangePassword",
                "arn:aws:iam::aws:policy/ReadOnlyAccess",
                "arn:aws:iam::111122223333:policy/Unread",
            ]
        );
        let said = messages(&allowed.refusals);
        assert_eq!(said.len(), 3, "{said:?}");
        assert!(
            said[0].starts_with(
                "spec.managedPolicyArns[0] (arn:aws:iam::aws:policy/AdministratorAccess).Statement[0]: Action \"*\""
            ),
            "{}",
            said[0]
        );
        assert!(
            said[1].starts_with(
                "spec.managedPolicyArns[3]: arn:aws:iam::aws:policy/AmazonSomethingNew is an AWS-managed policy"
            ),
            "{}",
            said[1]
        );
        assert!(said[2].contains("iam:CreateLoginProfile"), "{}", said[2]);
        // A member account has no such default; the platform team may lift the identity account's.
        assert!(group(&identity, false, &spec, &customer).refusals.is_empty());
        let lifted = account(AccountGuardrails {
            denied_actions: Some(vec![]),
            ..Default::default()
        });
        assert!(group(&lifted, true, &spec, &customer).refusals.is_empty());
    }
}
