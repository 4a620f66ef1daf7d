//! Pure: the phase of a partner's access, the CrossAccountRoles that carry
//! it and the Secret of its generated external ID, what of them a preview
//! finds to apply or remove, and what their conditions add up to.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::jiff::Timestamp;
use kube::{Resource, ResourceExt};

use crate::api::{
    AccountRef, ConditionType, CrossAccountRole, CrossAccountRoleSpec, DeletionPolicy, DeveloperGroupTrust,
    PartnerAccess, PartnerPhase, PartnerRole, Reason, SecretKeyRef, Trust,
};
use crate::controller::driver::owned::Owned;
use crate::controller::secrets::EXTERNAL_ID_LABEL;
use crate::controller::status::Outcome;
use crate::plan::ObjectPlan;
use crate::plan::kinds::change;

/// Marks the CrossAccountRoles of one PartnerAccess, so they are listed without scanning the namespace.
pub const PARTNER_LABEL: &str = "awsaccess.dev/partner-access";
/// The key of the generated external ID in its Secret.
const EXTERNAL_ID_KEY: &str = "externalId";

/// What converging would find, read without writing anything: the
/// reconcile writes the difference, `plan` prints the children it makes.
pub struct PartnerPreview {
    pub external_id: ExternalId,
    pub phase: PartnerPhase,
    /// The role objects the access consists of in `phase`, by name.
    pub wanted: BTreeMap<String, CrossAccountRoleSpec>,
    /// The CrossAccountRoles this PartnerAccess owns, as listed.
    pub existing: Vec<CrossAccountRole>,
}

/// Where the roles' trust reads the external ID.
pub struct ExternalId {
    pub reference: SecretKeyRef,
    /// The operator's own Secret, when the spec names none.
    pub generated: Option<Generated>,
}

/// The Secret the operator generates the external ID into, as it stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Generated {
    Missing,
    /// This object's; `labelled` once opted in as an external ID's Secret.
    Ours {
        labelled: bool,
    },
}

impl PartnerPreview {
    /// The children the spec no longer wants: removed.
    pub fn unwanted(&self) -> impl Iterator<Item = &CrossAccountRole> {
        self.existing
            .iter()
            .filter(|child| !self.wanted.contains_key(&child.name_any()))
    }

    /// The wanted children missing or with another spec: applied.
    pub fn stale(&self) -> impl Iterator<Item = (&String, &CrossAccountRoleSpec)> {
        self.wanted.iter().filter(|(name, spec)| {
            self.existing
                .iter()
                .find(|child| child.name_any() == **name)
                .is_none_or(|child| child.spec != **spec)
        })
    }

    /// The children already as wanted, whose conditions count.
    fn current(&self) -> Vec<&CrossAccountRole> {
        self.existing
            .iter()
            .filter(|child| self.wanted.get(&child.name_any()) == Some(&child.spec))
            .collect()
    }

    /// The roles to hand to the partner: none while access is revoked.
    pub fn roles(&self) -> Vec<PartnerRole> {
        roles(&self.current())
    }

    /// What the reconcile reports once the children are applied: while
    /// revoked, whether the roles are gone yet; else what the conditions
    /// of the current children add up to.
    pub fn outcome(&self, partner: &PartnerAccess) -> Outcome {
        let (reason, what) = match self.phase {
            PartnerPhase::Active => return aggregate(partner, self.wanted.len(), &self.current()),
            PartnerPhase::Suspended => (Reason::Suspended, "suspended"),
            PartnerPhase::Expired => (Reason::Expired, "expired"),
        };
        if self.existing.is_empty() {
            Outcome::ready(
                reason,
                format!("access {what}: the partner's roles are removed from AWS"),
            )
        } else {
            Outcome::reconciling(
                reason,
                format!("access {what}: removing {} role(s) from AWS", self.existing.len()),
            )
        }
    }

    /// The wanted children as the API server will hold them once applied:
    /// the existing object with the new spec, in a new generation, or a new one.
    pub fn applied_children(&self, partner: &PartnerAccess) -> Vec<CrossAccountRole> {
        let applied = |(name, spec): (&String, &CrossAccountRoleSpec)| {
            let Some(existing) = self.existing.iter().find(|child| child.name_any() == *name) else {
                let mut new = child(partner, name, spec.clone());
                new.metadata.generation = Some(1);
                return new;
            };
            let mut applied = existing.clone();
            if applied.spec != *spec {
                applied.spec = spec.clone();
                applied.metadata.generation = applied.metadata.generation.map(|g| g + 1);
            }
            applied
        };
        self.wanted.iter().map(applied).collect()
    }
}

/// A child role object as the operator applies it: labelled with its
/// partner and owned by it.
pub fn child(partner: &PartnerAccess, name: &str, spec: CrossAccountRoleSpec) -> CrossAccountRole {
    let mut child = CrossAccountRole::new(name, spec);
    child.metadata.namespace = partner.namespace();
    child.metadata.labels = Some(BTreeMap::from([(PARTNER_LABEL.to_string(), partner.name_any())]));
    child.metadata.owner_references = partner.controller_owner_ref(&()).map(|owner| vec![owner]);
    child
}

/// Where the external ID of a PartnerAccess that names none is generated.
pub fn generated_secret_ref(partner: &PartnerAccess) -> SecretKeyRef {
    SecretKeyRef {
        name: format!("{}-external-id", partner.name_any()),
        key: EXTERNAL_ID_KEY.into(),
    }
}

/// The Secret the operator generates `external_id` into: owned by the
/// partner, and labelled as an external ID's, which opts it in to be read.
pub fn external_id_secret(partner: &PartnerAccess, external_id: String) -> Secret {
    Secret {
        metadata: ObjectMeta {
            name: Some(generated_secret_ref(partner).name),
            namespace: partner.namespace(),
            owner_references: partner.controller_owner_ref(&()).map(|owner| vec![owner]),
            labels: Some(BTreeMap::from([
                (PARTNER_LABEL.to_string(), partner.name_any()),
                (EXTERNAL_ID_LABEL.to_string(), "true".to_string()),
            ])),
            ..ObjectMeta::default()
        },
        data: Some(BTreeMap::from([(
            EXTERNAL_ID_KEY.to_string(),
            ByteString(external_id.into_bytes()),
        )])),
        type_: Some("Opaque".into()),
        ..Secret::default()
    }
}

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
            external_id_secret_ref: Some(Box::new(external_id.clone())),
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
        elevation: None,
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

/// A role the partner no longer has: its object goes, and with it the
/// role it made, if it made one.
pub(crate) fn removed(child: &CrossAccountRole, source: &str) -> ObjectPlan {
    let mut plan = ObjectPlan::of(child, source);
    let recorded = child.status.as_ref().filter(|s| s.ownership.is_some());
    if let Some((Some(account), Some(role))) = recorded.map(|s| (&s.account_id, &s.role_name)) {
        plan.target = Some(format!(
            "{} {role} in account {account}",
            <CrossAccountRole as Owned>::NOUN
        ));
        plan.changes.push(change(format!("delete role {role}")));
    }
    plan
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
        assert_eq!(spec.trust.external_id_secret_ref.as_deref(), Some(&secret));
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

    fn preview(phase: PartnerPhase, existing: Vec<CrossAccountRole>) -> PartnerPreview {
        let reference = generated_secret_ref(&partner(SEMBIT));
        PartnerPreview {
            wanted: children(&partner(SEMBIT), phase, &reference),
            external_id: ExternalId {
                reference,
                generated: None,
            },
            phase,
            existing,
        }
    }

    #[test]
    fn the_preview_applies_what_differs_and_removes_what_the_spec_no_longer_has() {
        let access = partner(SEMBIT);
        let wanted = preview(PartnerPhase::Active, vec![]).wanted;
        let (first, second) = ("sembit-555566667777", "sembit-companyx-staging");
        let mut stale = CrossAccountRole::new(first, wanted[first].clone());
        stale.spec.description = Some("edited by hand".into());
        stale.metadata.generation = Some(3);
        let gone = CrossAccountRole::new("sembit-old", wanted[first].clone());
        let mut current = CrossAccountRole::new(second, wanted[second].clone());
        current.metadata.generation = Some(1);
        let active = preview(PartnerPhase::Active, vec![stale, gone.clone(), current]);
        let names = |roles: Vec<&CrossAccountRole>| roles.iter().map(|r| r.name_any()).collect::<Vec<_>>();
        assert_eq!(names(active.unwanted().collect()), ["sembit-old"]);
        assert_eq!(
            active.stale().map(|(name, _)| name.as_str()).collect::<Vec<_>>(),
            [first]
        );
        let applied = active.applied_children(&access);
        assert_eq!(
            applied
                .iter()
                .map(|c| (c.name_any(), c.metadata.generation))
                .collect::<Vec<_>>(),
            [(first.to_string(), Some(4)), (second.to_string(), Some(1))]
        );
        assert_eq!(applied[0].spec, wanted[first], "the spec as applied");
        // Only the child already as wanted counts, and it has not reported yet.
        assert_eq!(active.outcome(&access).reason, Reason::ReferenceNotReady);

        let suspended = preview(PartnerPhase::Suspended, vec![gone]);
        assert_eq!(names(suspended.unwanted().collect()), ["sembit-old"]);
        assert_eq!(
            suspended.outcome(&access).message,
            "access suspended: removing 1 role(s) from AWS"
        );
        assert!(suspended.roles().is_empty());
        assert!(preview(PartnerPhase::Expired, vec![]).outcome(&access).is_ready());
    }

    #[test]
    fn new_children_and_the_generated_secret_are_the_partners() {
        let mut access = partner(SEMBIT);
        access.metadata.uid = Some("uid-1".into());
        let new = preview(PartnerPhase::Active, vec![]).applied_children(&access);
        assert_eq!(new[0].metadata.generation, Some(1));
        assert_eq!(new[0].labels()[PARTNER_LABEL], "sembit");
        assert_eq!(new[0].owner_references()[0].uid, "uid-1");
        let secret = external_id_secret(&access, "x".repeat(48));
        assert_eq!(secret.metadata.name.as_deref(), Some("sembit-external-id"));
        assert_eq!(secret.metadata.namespace.as_deref(), Some("partners"));
        assert_eq!(secret.labels()[EXTERNAL_ID_LABEL], "true");
        assert_eq!(secret.owner_references()[0].uid, "uid-1");
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
