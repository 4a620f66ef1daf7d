//! Pure: the phase of a partner's access, the CrossAccountRoles that carry
//! it, and what their conditions add up to.

use std::collections::BTreeMap;

use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;

use crate::api::{
    AccountRef, ConditionType, CrossAccountRole, CrossAccountRoleSpec, DeletionPolicy, DeveloperGroupTrust,
    PartnerAccess, PartnerPhase, PartnerRole, Reason, SecretKeyRef, Trust,
};
use crate::controller::status::Outcome;

/// Where the access stands at `now`.
pub fn phase(partner: &PartnerAccess, now: Timestamp) -> PartnerPhase {
    if partner.spec.suspended {
        PartnerPhase::Suspended
    } else if partner.spec.expires_at.as_ref().is_some_and(|at| at.0 <= now) {
        PartnerPhase::Expired
    } else {
        PartnerPhase::Active
    }
}

/// The name of the role object for one target account: stable, readable,
/// and distinct per account.
pub fn child_name(partner: &PartnerAccess, account: &AccountRef) -> String {
    let key = account.name.as_deref().or(account.id.as_deref()).unwrap_or_default();
    format!("{}-{key}", partner.name_any())
}

/// The role objects the access consists of in `phase`, by name: one per
/// account while Active, none once suspended or expired.
pub fn children(
    partner: &PartnerAccess,
    phase: PartnerPhase,
    external_id: &SecretKeyRef,
) -> BTreeMap<String, CrossAccountRoleSpec> {
    if phase != PartnerPhase::Active {
        return BTreeMap::new();
    }
    partner
        .spec
        .accounts
        .iter()
        .map(|account| {
            (
                child_name(partner, account),
                child_spec(partner, account, external_id, false),
            )
        })
        .collect()
}

/// The role spec for one target account: trusting the partner's account
/// with the external ID, and MFA when asked. Role deletion follows the
/// partner object's policy, except when access is revoked, which always
/// removes the roles.
pub fn child_spec(
    partner: &PartnerAccess,
    account: &AccountRef,
    external_id: &SecretKeyRef,
    revoking: bool,
) -> CrossAccountRoleSpec {
    let spec = &partner.spec;
    CrossAccountRoleSpec {
        account: account.clone(),
        role_name: Some(
            spec.role_name
                .clone()
                .unwrap_or_else(|| format!("partner-{}", partner.name_any())),
        ),
        description: Some(format!(
            "Access for partner {} (PartnerAccess {}/{})",
            spec.partner.name,
            partner.namespace().unwrap_or_default(),
            partner.name_any()
        )),
        max_session_duration: spec.max_session_duration,
        trust: Trust {
            accounts: vec![AccountRef {
                id: Some(spec.partner.account_id.clone()),
                name: None,
            }],
            developer_groups: vec![],
            developer_group_trust: DeveloperGroupTrust::Account,
            principals: vec![],
            require_mfa: spec.require_mfa,
            external_id_secret_ref: Some(external_id.clone()),
            // AWS ends the access at expiry even if the operator is down then.
            valid_until: spec.expires_at.clone(),
        },
        permissions: spec.permissions.clone(),
        tags: spec.tags.clone(),
        deletion_policy: if revoking {
            DeletionPolicy::Delete
        } else {
            spec.deletion_policy
        },
        management_policy: spec.management_policy,
        adopt_existing: spec.adopt_existing,
    }
}

/// What the children's conditions add up to while access is Active: any
/// Stalled child stalls the whole, any child not Ready for its current
/// spec keeps it Reconciling.
pub fn aggregate(partner: &PartnerAccess, expected: usize, children: &[&CrossAccountRole]) -> Outcome {
    let condition = |child: &CrossAccountRole, kind: ConditionType| {
        child
            .status
            .as_ref()
            .and_then(|s| s.reconcile.condition(kind).cloned())
            .filter(|c| c.status == "True")
    };
    for child in children {
        if let Some(stalled) = condition(child, ConditionType::Stalled) {
            return Outcome::stalled(
                reason_of(&stalled.reason),
                format!(
                    "role {}: {}",
                    child.name_any(),
                    in_partner_terms(partner, child, &stalled.message)
                ),
            );
        }
    }
    let waiting = children.iter().find(|child| {
        !child
            .status
            .as_ref()
            .is_some_and(|s| s.reconcile.is_ready_at(child.metadata.generation))
    });
    match waiting {
        Some(child) => {
            let detail = child
                .status
                .as_ref()
                .and_then(|s| s.reconcile.condition(ConditionType::Ready).map(|c| c.message.clone()))
                .unwrap_or_else(|| "not reconciled yet".into());
            Outcome::reconciling(
                Reason::ReferenceNotReady,
                format!(
                    "role {}: {}",
                    child.name_any(),
                    in_partner_terms(partner, child, &detail)
                ),
            )
        }
        None if children.len() < expected => {
            Outcome::reconciling(Reason::ReferenceNotReady, "creating the partner's roles")
        }
        None => Outcome::ready(
            Reason::InSync,
            format!("the partner can assume {} role(s)", children.len()),
        ),
    }
}

/// A child's message in the terms of the PartnerAccess the user wrote: the
/// fields the partner's spec sets on its roles are named as the partner's.
pub fn in_partner_terms(partner: &PartnerAccess, child: &CrossAccountRole, message: &str) -> String {
    let account = partner
        .spec
        .accounts
        .iter()
        .position(|account| *account == child.spec.account)
        .map_or_else(|| "spec.accounts".to_string(), |i| format!("spec.accounts[{i}]"));
    message
        .replace("spec.trust.externalIdSecretRef", "spec.externalIdSecretRef")
        .replace("spec.trust.validUntil", "spec.expiresAt")
        .replace("spec.trust.accounts[0]", "spec.partner.accountId")
        .replace("spec.account:", &format!("{account}:"))
}

/// A child's reason carried up; one the operator does not know reads as an AWS error.
fn reason_of(reason: &str) -> Reason {
    reason.parse().unwrap_or(Reason::AwsError)
}

/// The roles to hand to the partner: those whose ARN is known.
pub fn roles(children: &[&CrossAccountRole]) -> Vec<PartnerRole> {
    let mut roles: Vec<PartnerRole> = children
        .iter()
        .filter_map(|child| {
            let status = child.status.as_ref()?;
            Some(PartnerRole {
                account: status.account_id.clone()?,
                role_arn: status.role_arn.clone()?,
            })
        })
        .collect();
    roles.sort_by(|a, b| a.account.cmp(&b.account));
    roles
}

#[cfg(test)]
mod tests {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};

    use super::*;
    use crate::api::{CrossAccountRoleStatus, ReconcileStatus};

    fn partner(yaml: &str) -> PartnerAccess {
        serde_yaml_ng::from_str(yaml).expect("partner access")
    }

    const SEMBIT: &str = r#"
apiVersion: awsaccess.dev/v1alpha1
kind: PartnerAccess
metadata: {name: sembit, namespace: partners}
spec:
  partner: {name: Sembit, accountId: "444455556666"}
  accounts: [{name: companyx-staging}, {id: "555566667777"}]
  requireMfa: true
  expiresAt: "2027-01-31T00:00:00Z"
"#;

    fn at(time: &str) -> Timestamp {
        time.parse().expect("timestamp")
    }

    #[test]
    fn phase_follows_suspension_and_expiry() {
        let mut access = partner(SEMBIT);
        assert_eq!(phase(&access, at("2027-01-30T23:59:59Z")), PartnerPhase::Active);
        assert_eq!(phase(&access, at("2027-01-31T00:00:00Z")), PartnerPhase::Expired);
        access.spec.suspended = true;
        assert_eq!(phase(&access, at("2026-01-01T00:00:00Z")), PartnerPhase::Suspended);
    }

    #[test]
    fn children_trust_the_partner_with_external_id_and_mfa() {
        let access = partner(SEMBIT);
        let secret = SecretKeyRef {
            name: "sembit-external-id".into(),
            key: "externalId".into(),
        };
        let account = &access.spec.accounts[0];
        assert_eq!(child_name(&access, account), "sembit-companyx-staging");
        assert_eq!(child_name(&access, &access.spec.accounts[1]), "sembit-555566667777");
        let spec = child_spec(&access, account, &secret, false);
        assert_eq!(spec.role_name.as_deref(), Some("partner-sembit"));
        assert_eq!(
            spec.trust.accounts,
            vec![AccountRef {
                id: Some("444455556666".into()),
                name: None
            }]
        );
        assert_eq!(spec.trust.external_id_secret_ref, Some(secret.clone()));
        assert!(spec.trust.require_mfa);
        assert_eq!(spec.deletion_policy, DeletionPolicy::Delete);
        let mut retained = access.clone();
        retained.spec.deletion_policy = DeletionPolicy::Retain;
        assert_eq!(
            child_spec(&retained, account, &secret, false).deletion_policy,
            DeletionPolicy::Retain
        );
        assert_eq!(
            child_spec(&retained, account, &secret, true).deletion_policy,
            DeletionPolicy::Delete,
            "revocation always removes the roles"
        );
    }

    fn child(name: &str, generation: i64, observed: i64, conditions: &[(&str, &str, &str)]) -> CrossAccountRole {
        let mut role = CrossAccountRole::new(
            name,
            child_spec(
                &partner(SEMBIT),
                &AccountRef {
                    id: Some("555566667777".into()),
                    name: None,
                },
                &SecretKeyRef {
                    name: "s".into(),
                    key: "k".into(),
                },
                false,
            ),
        );
        role.metadata.generation = Some(generation);
        role.status = Some(CrossAccountRoleStatus {
            account_id: Some("555566667777".into()),
            role_arn: Some(format!("arn:aws:iam::555566667777:role/{name}")),
            reconcile: ReconcileStatus {
                observed_generation: Some(observed),
                conditions: conditions
                    .iter()
                    .map(|(kind, status, reason)| Condition {
                        type_: kind.to_string(),
                        status: status.to_string(),
                        reason: reason.to_string(),
                        message: format!("{reason} detail"),
                        last_transition_time: Time(Timestamp::UNIX_EPOCH),
                        observed_generation: Some(observed),
                    })
                    .collect(),
            },
            ..CrossAccountRoleStatus::default()
        });
        role
    }

    #[test]
    fn children_conditions_add_up() {
        let ready = child("a", 1, 1, &[("Ready", "True", "Created")]);
        let stale = child("b", 2, 1, &[("Ready", "True", "Created")]);
        let stalled = child(
            "c",
            1,
            1,
            &[
                ("Ready", "False", "NamespaceNotAllowed"),
                ("Stalled", "True", "NamespaceNotAllowed"),
            ],
        );
        let access = partner(SEMBIT);
        assert!(aggregate(&access, 1, &[&ready]).is_ready());
        assert_eq!(aggregate(&access, 2, &[&ready]).reason, Reason::ReferenceNotReady);
        let waiting = aggregate(&access, 2, &[&ready, &stale]);
        assert_eq!(waiting.reason, Reason::ReferenceNotReady);
        assert!(waiting.message.starts_with("role b:"), "{}", waiting.message);
        let refused = aggregate(&access, 2, &[&ready, &stalled]);
        assert_eq!(refused.reason, Reason::NamespaceNotAllowed);
        let mut missing = child("d", 1, 1, &[("Ready", "False", "ReferenceNotReady")]);
        missing.spec.account = access.spec.accounts[1].clone();
        let reported = in_partner_terms(
            &access,
            &missing,
            "spec.account: AwsAccount x does not exist; spec.trust.externalIdSecretRef: Secret s does not exist",
        );
        assert_eq!(
            reported,
            "spec.accounts[1]: AwsAccount x does not exist; spec.externalIdSecretRef: Secret s does not exist"
        );
        assert_eq!(
            roles(&[&ready]),
            vec![PartnerRole {
                account: "555566667777".into(),
                role_arn: "arn:aws:iam::555566667777:role/a".into()
            }]
        );
    }
}
