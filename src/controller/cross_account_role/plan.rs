//! Pure: what the role should be, the changes that take AWS there, and
//! what its status says after.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::jiff::Timestamp;
use serde_json::Value;

use super::sessions::{self, REVOKE_POLICY_NAME, Revocation};
use crate::api::{CrossAccountRoleSpec, CrossAccountRoleStatus, Reason, SessionsDenied};
use crate::aws::{ManagedPolicyState, NewManagedPolicy, NewRole, RoleState, policy_name};
use crate::controller::driver::owned::Describe;
use crate::controller::ownership::{Claim, OWNER_TAG, Owner, claim_tagged};
use crate::controller::status::Outcome;
use crate::controller::{attachments, tags};
use crate::policy::console::switch_role_url;
use crate::policy::document::{canonical_json, equivalent, statement_changes};
use crate::policy::sessions::deny_sessions_issued_before;
use crate::policy::trust::trust_nobody;
use crate::policy::validate::{
    MANAGED_POLICY_MAX_CHARS, ROLE_INLINE_POLICIES_MAX_CHARS, TRUST_POLICY_DEFAULT_MAX_CHARS,
    validate_inline_policies_size, validate_managed_policy_arn, validate_policy_document, validate_principal_arn,
    validate_trust_policy,
};

/// The role as the spec wants it, references resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct DesiredRole {
    pub name: String,
    pub trust_policy: Value,
    pub description: String,
    pub max_session_duration: i32,
    pub permissions_boundary_arn: Option<String>,
    /// The spec's tags plus the owner tag.
    pub tags: BTreeMap<String, String>,
    pub managed_policy_arns: BTreeSet<String>,
    pub inline_policies: BTreeMap<String, Value>,
    /// The customer-managed policies to create and attach, by name.
    pub customer_policies: BTreeMap<String, DesiredPolicy>,
    /// False while the role may trust nobody: an existing role is locked
    /// until its references resolve, a missing one is not created for nothing.
    pub create_if_missing: bool,
    /// The latest removal from a group that could assume the role: its
    /// older sessions are denied while they may live.
    pub revocation: Option<Revocation>,
}

impl DesiredRole {
    /// The Deny on older sessions, while it holds for the role as it is now.
    pub fn sessions_denied(&self, current: Option<&RoleState>) -> Option<SessionsDenied> {
        self.revocation.as_ref()?.in_force(self.max_session_duration, current)
    }

    /// The inline policies the role carries: the spec's, and the Deny on
    /// older sessions while it holds.
    fn inline_policies(&self, current: Option<&RoleState>) -> BTreeMap<String, Value> {
        let mut inline = self.inline_policies.clone();
        if let Some(denied) = self.sessions_denied(current) {
            inline.insert(REVOKE_POLICY_NAME.to_string(), sessions::document(&denied));
        }
        inline
    }

    /// The write of an inline policy: the Deny on older sessions says what it is.
    fn put_inline(&self, current: Option<&RoleState>, name: String, document: String) -> Change {
        match self.sessions_denied(current) {
            Some(denied) if name == REVOKE_POLICY_NAME => Change::DenyOlderSessions { document, denied },
            _ => Change::PutInline(name, document),
        }
    }
}

/// A customer-managed policy as the spec wants it.
#[derive(Clone, Debug, PartialEq)]
pub struct DesiredPolicy {
    /// Where it is made: a policy's ARN follows from its account and name.
    pub arn: String,
    pub description: String,
    pub document: Value,
}

/// The role as read back from AWS, with the customer-managed policies that
/// concern it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ObservedRole {
    pub role: Option<RoleState>,
    /// Each policy the spec lists, None where none of that name exists,
    /// with whether this object may manage it.
    pub policies: BTreeMap<String, Option<(ManagedPolicyState, Claim)>>,
    /// Policies this object made that the spec no longer lists.
    pub retired: Vec<ManagedPolicyState>,
}

impl ObservedRole {
    /// The policies that go with the role when it is deleted.
    pub fn owned_policies(&self) -> impl Iterator<Item = &ManagedPolicyState> {
        let listed = self.policies.values().flatten();
        listed
            .filter(|(_, claim)| matches!(claim, Claim::Ours | Claim::Adoptable))
            .map(|(policy, _)| policy)
            .chain(&self.retired)
    }
}

/// AWS keeps at most this many versions of a managed policy.
const POLICY_VERSIONS_KEPT: usize = 5;

/// Checks what the schema cannot before anything is written: ARNs, policy
/// documents and their sizes. The message names the field and what is wrong.
pub fn validate(spec: &CrossAccountRoleSpec) -> Result<(), String> {
    for (i, principal) in spec.trust.principals.iter().enumerate() {
        validate_principal_arn(principal).map_err(|e| format!("spec.trust.principals[{i}]: {e}"))?;
    }
    for (i, arn) in spec.permissions.managed_policy_arns.iter().enumerate() {
        validate_managed_policy_arn(arn).map_err(|e| format!("spec.permissions.managedPolicyArns[{i}]: {e}"))?;
    }
    if let Some(arn) = &spec.permissions.permissions_boundary_arn {
        validate_managed_policy_arn(arn).map_err(|e| format!("spec.permissions.permissionsBoundaryArn: {e}"))?;
    }
    validate_inline(spec)?;
    let mut names = BTreeSet::new();
    for (i, policy) in spec.permissions.customer_managed_policies.iter().enumerate() {
        let field = format!("spec.permissions.customerManagedPolicies[{i}]");
        if !names.insert(policy.name.to_lowercase()) {
            return Err(format!(
                "{field}.name: {} is listed twice; IAM policy names are unique in an account",
                policy.name
            ));
        }
        validate_policy_document(&policy.document.to_value(), MANAGED_POLICY_MAX_CHARS)
            .map_err(|e| format!("{field}.document: {e}"))?;
    }
    let attached = spec.permissions.managed_policy_arns.len() + spec.permissions.customer_managed_policies.len();
    if attached > MAX_ATTACHED_POLICIES {
        return Err(format!(
            "spec.permissions: {attached} managed policies (managedPolicyArns and customerManagedPolicies together); IAM attaches at most {MAX_ATTACHED_POLICIES} to a role"
        ));
    }
    Ok(())
}

/// The spec's inline policies: unique names, none the operator's own, and
/// room left beside them for the Deny on older sessions, which must fit
/// whenever a member leaves.
fn validate_inline(spec: &CrossAccountRoleSpec) -> Result<(), String> {
    let mut names = BTreeSet::new();
    let documents: Vec<Value> = spec
        .permissions
        .inline_policies
        .iter()
        .map(|p| p.document.to_value())
        .collect();
    for (i, (policy, document)) in spec.permissions.inline_policies.iter().zip(&documents).enumerate() {
        if !names.insert(policy.name.as_str()) {
            return Err(format!(
                "spec.permissions.inlinePolicies[{i}].name: {} is listed twice; inline policy names must be unique",
                policy.name
            ));
        }
        if policy.name == REVOKE_POLICY_NAME {
            return Err(format!(
                "spec.permissions.inlinePolicies[{i}].name: {REVOKE_POLICY_NAME} is the operator's own (its Deny on sessions issued before a member left); name the policy otherwise"
            ));
        }
        validate_policy_document(document, ROLE_INLINE_POLICIES_MAX_CHARS)
            .map_err(|e| format!("spec.permissions.inlinePolicies[{i}].document: {e}"))?;
    }
    let deny = deny_sessions_issued_before(Timestamp::UNIX_EPOCH);
    validate_inline_policies_size(documents.iter().chain([&deny]), ROLE_INLINE_POLICIES_MAX_CHARS).map_err(|e| {
        format!(
            "spec.permissions.inlinePolicies: {e}, counting the room kept for the operator's Deny on older sessions"
        )
    })
}

/// IAM's highest quota of managed policies attached to one role.
const MAX_ATTACHED_POLICIES: usize = 20;

/// The desired role from the spec and the resolved trust policy.
/// `policy_arn_prefix` is `arn:<partition>:iam::<account>:policy/`.
pub fn desired(
    spec: &CrossAccountRoleSpec,
    name: &str,
    trust_policy: Value,
    owner: &Owner,
    policy_arn_prefix: &str,
) -> Result<DesiredRole, String> {
    validate_trust_policy(&trust_policy, TRUST_POLICY_DEFAULT_MAX_CHARS).map_err(|e| format!("spec.trust: {e}"))?;
    let mut tags = spec.tags.clone();
    tags.insert(OWNER_TAG.into(), owner.tag().into());
    Ok(DesiredRole {
        name: name.into(),
        trust_policy,
        description: spec.description.clone().unwrap_or_default(),
        max_session_duration: spec.max_session_duration,
        permissions_boundary_arn: spec.permissions.permissions_boundary_arn.clone(),
        tags,
        managed_policy_arns: spec.permissions.managed_policy_arns.iter().cloned().collect(),
        inline_policies: spec
            .permissions
            .inline_policies
            .iter()
            .map(|p| (p.name.clone(), p.document.to_value()))
            .collect(),
        customer_policies: spec
            .permissions
            .customer_managed_policies
            .iter()
            .map(|p| {
                let policy = DesiredPolicy {
                    arn: format!("{policy_arn_prefix}{}", p.name),
                    description: p.description.clone().unwrap_or_default(),
                    document: p.document.to_value(),
                };
                (p.name.clone(), policy)
            })
            .collect(),
        create_if_missing: true,
        revocation: None,
    })
}

/// One AWS write.
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    Create(NewRole),
    UpdateTrust(String),
    UpdateRole {
        description: String,
        max_session_duration: i32,
    },
    PutBoundary(String),
    DeleteBoundary,
    Attach(String),
    Detach(String),
    PutInline(String, String),
    DeleteInline(String),
    Tag(BTreeMap<String, String>),
    Untag(Vec<String>),
    CreatePolicy {
        arn: String,
        policy: NewManagedPolicy,
    },
    /// A new default version of a policy, after deleting the version named
    /// when AWS already keeps as many as it allows.
    NewPolicyVersion {
        arn: String,
        document: String,
        making_room: Option<String>,
    },
    DeletePolicy(String),
    /// The Deny on sessions issued before a member left, put or moved forward.
    DenyOlderSessions {
        document: String,
        denied: SessionsDenied,
    },
    /// The sessions the Deny refused have all expired: it goes.
    LiftSessionDeny,
}

impl Describe for Change {
    /// For Events and drift messages. Never the trust policy's content: it
    /// may carry an external ID.
    fn describe(&self) -> String {
        match self {
            Change::Create(role) => format!("create role {}", role.name),
            Change::UpdateTrust(_) => "update the trust policy".into(),
            Change::UpdateRole {
                description,
                max_session_duration,
            } => {
                format!("set description {description:?} and max session duration {max_session_duration}s")
            }
            Change::PutBoundary(arn) => format!("set permissions boundary {arn}"),
            Change::DeleteBoundary => "remove the permissions boundary".into(),
            Change::Attach(arn) => format!("attach {arn}"),
            Change::Detach(arn) => format!("detach {arn}"),
            Change::PutInline(name, _) => format!("put inline policy {name}"),
            Change::DeleteInline(name) => format!("delete inline policy {name}"),
            Change::Tag(tags) => format!("tag {}", tags.keys().cloned().collect::<Vec<_>>().join(", ")),
            Change::Untag(keys) => format!("untag {}", keys.join(", ")),
            Change::CreatePolicy { policy, .. } => format!("create policy {}", policy.name),
            Change::NewPolicyVersion { arn, making_room, .. } => match making_room {
                Some(oldest) => format!("set a new default version of {arn}, deleting its oldest version {oldest}"),
                None => format!("set a new default version of {arn}"),
            },
            Change::DeletePolicy(arn) => format!("delete policy {arn}"),
            Change::DenyOlderSessions { denied, .. } => format!(
                "sessions issued before {} denied until {}: {}",
                denied.issued_before.0, denied.until.0, denied.reason
            ),
            Change::LiftSessionDeny => {
                format!("inline policy {REVOKE_POLICY_NAME} lifted: the sessions it denied have expired")
            }
        }
    }

    fn creates(&self) -> bool {
        matches!(self, Change::Create(_))
    }

    /// The Deny on older sessions follows removals and the clock, not the spec.
    fn scheduled(&self) -> bool {
        matches!(self, Change::DenyOlderSessions { .. } | Change::LiftSessionDeny)
    }
}

/// The writes that take `current` (None: no such role) to `desired`, in a
/// safe order: new permissions are granted before old ones are revoked.
pub fn plan(desired: &DesiredRole, observed: &ObservedRole) -> Vec<Change> {
    match &observed.role {
        None if !desired.create_if_missing => vec![],
        None => create(desired, observed),
        Some(current) => update(desired, current, observed),
    }
}

/// The role created with everything the spec gives it.
fn create(desired: &DesiredRole, observed: &ObservedRole) -> Vec<Change> {
    let mut changes = vec![Change::Create(NewRole {
        name: desired.name.clone(),
        trust_policy: canonical_json(&desired.trust_policy),
        description: desired.description.clone(),
        max_session_duration: desired.max_session_duration,
        permissions_boundary_arn: desired.permissions_boundary_arn.clone(),
        tags: desired.tags.clone(),
    })];
    let (policy_changes, attached) = customer_policies(desired, observed);
    changes.extend(policy_changes);
    changes.extend(
        desired
            .managed_policy_arns
            .iter()
            .chain(&attached)
            .cloned()
            .map(Change::Attach),
    );
    changes.extend(
        desired
            .inline_policies(None)
            .into_iter()
            .map(|(name, doc)| desired.put_inline(None, name, canonical_json(&doc))),
    );
    changes
}

/// The writes that take the existing role to `desired`.
fn update(desired: &DesiredRole, current: &RoleState, observed: &ObservedRole) -> Vec<Change> {
    let mut changes = settings(desired, current);
    let (policy_changes, attached) = customer_policies(desired, observed);
    changes.extend(policy_changes);
    let wanted = desired.managed_policy_arns.iter().chain(&attached).cloned().collect();
    let (attach, detach) = attachments::managed(&wanted, &current.managed_policy_arns);
    changes.extend(attach.into_iter().map(Change::Attach));
    changes.extend(detach.into_iter().map(Change::Detach));
    let (put, delete) = attachments::inline(&desired.inline_policies(Some(current)), &current.inline_policies);
    changes.extend(
        put.into_iter()
            .map(|(name, document)| desired.put_inline(Some(current), name, document)),
    );
    changes.extend(delete.into_iter().map(|name| match name == REVOKE_POLICY_NAME {
        true => Change::LiftSessionDeny,
        false => Change::DeleteInline(name),
    }));
    let (changed_tags, removed) = tags::diff(&desired.tags, &current.tags);
    if !changed_tags.is_empty() {
        changes.push(Change::Tag(changed_tags));
    }
    if !removed.is_empty() {
        changes.push(Change::Untag(removed));
    }
    changes.extend(
        observed
            .retired
            .iter()
            .map(|policy| Change::DeletePolicy(policy.arn.clone())),
    );
    changes
}

/// The writes to the role itself: its trust policy, description, maximum
/// session and permissions boundary.
fn settings(desired: &DesiredRole, current: &RoleState) -> Vec<Change> {
    let mut changes = vec![];
    if !equivalent(&desired.trust_policy, &current.trust_policy) {
        changes.push(Change::UpdateTrust(canonical_json(&desired.trust_policy)));
    }
    if desired.description != current.description || desired.max_session_duration != current.max_session_duration {
        changes.push(Change::UpdateRole {
            description: desired.description.clone(),
            max_session_duration: desired.max_session_duration,
        });
    }
    match (&desired.permissions_boundary_arn, &current.permissions_boundary_arn) {
        (Some(wanted), Some(actual)) if wanted == actual => {}
        (Some(wanted), _) => changes.push(Change::PutBoundary(wanted.clone())),
        (None, Some(_)) => changes.push(Change::DeleteBoundary),
        (None, None) => {}
    }
    changes
}

/// The writes that make each customer-managed policy what the spec says,
/// and the ARNs to attach.
fn customer_policies(desired: &DesiredRole, observed: &ObservedRole) -> (Vec<Change>, BTreeSet<String>) {
    let mut changes = vec![];
    let mut attached = BTreeSet::new();
    for (name, policy) in &desired.customer_policies {
        let Some(Some((current, _))) = observed.policies.get(name) else {
            changes.push(Change::CreatePolicy {
                arn: policy.arn.clone(),
                policy: NewManagedPolicy {
                    name: name.clone(),
                    description: policy.description.clone(),
                    document: canonical_json(&policy.document),
                    tags: desired.tags.clone(),
                },
            });
            attached.insert(policy.arn.clone());
            continue;
        };
        if !equivalent(&policy.document, &current.document) {
            let making_room = (current.versions.len() >= POLICY_VERSIONS_KEPT)
                .then(|| {
                    current
                        .versions
                        .iter()
                        .find(|id| **id != current.default_version)
                        .cloned()
                })
                .flatten();
            changes.push(Change::NewPolicyVersion {
                arn: current.arn.clone(),
                document: canonical_json(&policy.document),
                making_room,
            });
        }
        attached.insert(current.arn.clone());
    }
    (changes, attached)
}

/// The statements a change adds to or removes from the trust policy, an
/// inline policy or a customer-managed policy.
pub fn explain(change: &Change, observed: &ObservedRole) -> Vec<String> {
    let parse = |document: &str| serde_json::from_str::<Value>(document).unwrap_or_default();
    let none = Value::Object(serde_json::Map::new());
    let current = observed.role.as_ref();
    let (label, desired, current) = match change {
        Change::Create(role) => ("trust policy".to_string(), parse(&role.trust_policy), none),
        Change::UpdateTrust(document) => (
            "trust policy".to_string(),
            parse(document),
            current.map_or(none, |role| role.trust_policy.clone()),
        ),
        Change::PutInline(name, document) => (
            format!("inline policy {name}"),
            parse(document),
            current
                .and_then(|role| role.inline_policies.get(name))
                .cloned()
                .unwrap_or(none),
        ),
        Change::CreatePolicy { policy, .. } => (format!("policy {}", policy.name), parse(&policy.document), none),
        Change::NewPolicyVersion { arn, document, .. } => (
            format!("policy {}", policy_name(arn)),
            parse(document),
            observed
                .policies
                .values()
                .flatten()
                .find(|(policy, _)| policy.arn == *arn)
                .map_or(none, |(policy, _)| policy.document.clone()),
        ),
        _ => return vec![],
    };
    statement_changes(&desired, &current)
        .into_iter()
        .map(|line| format!("{label}: {line}"))
        .collect()
}

/// In sync, and saying so with the Deny on older sessions while it holds:
/// the people who stay see why their session stopped working.
pub(super) fn conclude(desired: &DesiredRole, observed: &ObservedRole, outcome: Outcome) -> Outcome {
    match desired.sessions_denied(observed.role.as_ref()) {
        Some(denied) => Outcome {
            message: format!(
                "{}; sessions issued before {} denied until {} ({}): assume the role again",
                outcome.message, denied.issued_before.0, denied.until.0, denied.reason
            ),
            ..outcome
        },
        None => outcome,
    }
}

/// Whether this object may manage the role that exists under its name. A
/// service-linked role is AWS's, whatever its tags say.
pub fn claim(current: Option<&RoleState>, owner: &Owner, adopt_existing: bool) -> Claim {
    if current.is_some_and(|role| role.arn.contains(":role/aws-service-role/")) {
        return Claim::Foreign;
    }
    claim_tagged(current.map(|role| &role.tags), owner, adopt_existing)
}

/// The writes that make an existing role trust nobody, and nothing else.
pub fn lock(account_id: &str, current: Option<&RoleState>) -> Vec<Change> {
    let nobody = trust_nobody(account_id);
    match current {
        Some(role) if !equivalent(&nobody, &role.trust_policy) => vec![Change::UpdateTrust(canonical_json(&nobody))],
        _ => vec![],
    }
}

/// A customer-managed policy is never adopted: one of that name the
/// operator did not make stays someone else's.
pub(super) fn refuse_part(observed: &ObservedRole) -> Option<Outcome> {
    observed.policies.values().flatten().find_map(|(policy, claim)| match claim {
        Claim::Foreign => Some(Outcome::stalled(
            Reason::AlreadyExists,
            format!(
                "customer-managed policy {} already exists and was not created by the operator, which never takes a policy over; rename the policy in the spec, or delete the existing one",
                policy.arn
            ),
        )),
        claim => claim.refusal(&format!("customer-managed policy {}", policy.arn)),
    })
}

/// `arn:<partition>:iam::<account>:policy/`, the partition that of the
/// role's ARN as read or recorded (the default one before the role exists).
pub(super) fn policy_arn_prefix(
    role_arn: Option<&str>,
    status: Option<&CrossAccountRoleStatus>,
    account_id: &str,
) -> String {
    let partition = role_arn
        .or_else(|| status.and_then(|s| s.role_arn.as_deref()))
        .and_then(|arn| arn.split(':').nth(1))
        .unwrap_or("aws");
    format!("arn:{partition}:iam::{account_id}:policy/")
}

/// What the status says of the role's policies, once written, the Deny on
/// older sessions in force, and where to switch to it in the console.
pub(super) fn record(
    status: &mut CrossAccountRoleStatus,
    desired: &DesiredRole,
    observed: &ObservedRole,
    applied: bool,
) {
    status.sessions_denied = desired.sessions_denied(observed.role.as_ref()).map(Box::new);
    if applied {
        // The observed ARN where the policy exists: it may sit under a path.
        status.customer_managed_policy_arns = desired
            .customer_policies
            .iter()
            .map(|(name, policy)| match observed.policies.get(name) {
                Some(Some((existing, _))) => existing.arn.clone(),
                _ => policy.arn.clone(),
            })
            .collect();
    }
    status.console_url = status.role_arn.as_deref().and_then(|arn| {
        let display = format!(
            "{} @ {}",
            status.role_name.as_deref().unwrap_or_default(),
            status.account_id.as_deref().unwrap_or_default()
        );
        switch_role_url(arn, &display)
    });
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::api::CrossAccountRoleSpec;

    fn spec() -> CrossAccountRoleSpec {
        serde_yaml_ng::from_str(
            r#"
account: {id: "345678901234"}
roleName: AlfieFullAccess
description: Full access
maxSessionDuration: 3600
trust: {accounts: [{id: "012345678901"}]}
permissions:
  managedPolicyArns: [arn:aws:iam::aws:policy/AdministratorAccess]
  inlinePolicies:
    - name: deny-org-changes
      document: {Version: "2012-10-17", Statement: [{Effect: Deny, Action: "organizations:*", Resource: "*"}]}
tags: {team: alfie}
"#,
        )
        .expect("spec")
    }

    const PREFIX: &str = "arn:aws:iam::345678901234:policy/";

    fn role(state: RoleState) -> ObservedRole {
        ObservedRole {
            role: Some(state),
            ..ObservedRole::default()
        }
    }

    fn trust() -> Value {
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::012345678901:root"}, "Action": "sts:AssumeRole"}]})
    }

    fn in_sync(desired: &DesiredRole) -> RoleState {
        RoleState {
            arn: "arn:aws:iam::345678901234:role/AlfieFullAccess".into(),
            // As IAM hands it back: a one-item list where we wrote a string, keys in another order.
            trust_policy: json!({"Statement": [{"Action": ["sts:AssumeRole"], "Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::012345678901:root"]}}], "Version": "2012-10-17"}),
            description: desired.description.clone(),
            max_session_duration: 3600,
            permissions_boundary_arn: None,
            tags: desired.tags.clone(),
            managed_policy_arns: desired.managed_policy_arns.clone(),
            inline_policies: BTreeMap::from([(
                "deny-org-changes".into(),
                json!({"Statement": {"Resource": ["*"], "Action": "organizations:*", "Effect": "Deny"}, "Version": "2012-10-17"}),
            )]),
        }
    }

    #[test]
    fn a_missing_role_is_created_with_its_policies() {
        let desired = desired(
            &spec(),
            "AlfieFullAccess",
            trust(),
            &Owner::new("CrossAccountRole/alfie/full".into(), "test"),
            PREFIX,
        )
        .unwrap();
        let changes = plan(&desired, &ObservedRole::default());
        assert!(
            matches!(&changes[0], Change::Create(role) if role.name == "AlfieFullAccess" && role.tags[OWNER_TAG] == "CrossAccountRole/alfie/full@test")
        );
        assert_eq!(
            changes[1],
            Change::Attach("arn:aws:iam::aws:policy/AdministratorAccess".into())
        );
        assert!(matches!(&changes[2], Change::PutInline(name, _) if name == "deny-org-changes"));
        assert_eq!(changes.len(), 3);
    }

    #[test]
    fn a_role_in_sync_needs_no_write_whatever_the_json_shape() {
        let desired = desired(
            &spec(),
            "AlfieFullAccess",
            trust(),
            &Owner::new("o".into(), "test"),
            PREFIX,
        )
        .unwrap();
        assert_eq!(plan(&desired, &role(in_sync(&desired))), vec![]);
    }

    #[test]
    fn drift_is_reverted_granting_before_revoking() {
        let desired = desired(
            &spec(),
            "AlfieFullAccess",
            trust(),
            &Owner::new("o".into(), "test"),
            PREFIX,
        )
        .unwrap();
        let mut drifted = in_sync(&desired);
        drifted.trust_policy = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]});
        drifted.managed_policy_arns = BTreeSet::from(["arn:aws:iam::aws:policy/ReadOnlyAccess".to_string()]);
        drifted.inline_policies.insert("by-hand".into(), json!({}));
        drifted.tags.insert("extra".into(), "x".into());
        drifted.tags.insert("team".into(), "bob".into());
        drifted.permissions_boundary_arn = Some("arn:aws:iam::aws:policy/PowerUserAccess".into());
        let changes = plan(&desired, &role(drifted));
        let described: Vec<String> = changes.iter().map(Change::describe).collect();
        assert_eq!(
            described,
            [
                "update the trust policy",
                "remove the permissions boundary",
                "attach arn:aws:iam::aws:policy/AdministratorAccess",
                "detach arn:aws:iam::aws:policy/ReadOnlyAccess",
                "delete inline policy by-hand",
                "tag team",
                "untag extra",
            ]
        );
    }

    #[test]
    fn bad_input_names_the_field() {
        let mut bad = spec();
        bad.permissions.managed_policy_arns = vec!["AdministratorAccess".into()];
        assert!(
            validate(&bad)
                .unwrap_err()
                .starts_with("spec.permissions.managedPolicyArns[0]: ")
        );
        let bad = with_inline_statement(json!([{"Effect": "Maybe", "Action": "s3:*", "Resource": "*"}]));
        assert!(
            validate(&bad)
                .unwrap_err()
                .starts_with("spec.permissions.inlinePolicies[0].document: ")
        );
        let mut bad = spec();
        bad.trust.principals = vec!["not-an-arn".into()];
        assert!(validate(&bad).unwrap_err().starts_with("spec.trust.principals[0]: "));
        let big = "x".repeat(11_000);
        let bad = with_inline_statement(
            json!([{"Sid": "Big", "Effect": "Deny", "Action": "s3:*", "Resource": format!("arn:aws:s3:::{big}")}]),
        );
        assert!(
            validate(&bad).unwrap_err().contains("10240"),
            "{}",
            validate(&bad).unwrap_err()
        );
        assert_eq!(validate(&spec()), Ok(()));
    }

    fn with_policy(document: Value) -> CrossAccountRoleSpec {
        let mut spec = spec();
        spec.permissions.customer_managed_policies = vec![crate::api::CustomerManagedPolicy {
            name: "read-write-prod-app-from-dev".into(),
            description: Some("Update the app".into()),
            document: serde_json::from_value(document).unwrap(),
        }];
        spec
    }

    /// The example's spec with its inline policy's Statement replaced.
    fn with_inline_statement(statement: Value) -> CrossAccountRoleSpec {
        let mut spec = spec();
        let mut document = spec.permissions.inline_policies[0].document.to_value();
        document["Statement"] = statement;
        spec.permissions.inline_policies[0].document = serde_json::from_value(document).unwrap();
        spec
    }

    fn app_policy(action: &str) -> Value {
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}]})
    }

    fn existing_policy(document: Value, versions: &[&str], default: &str) -> ManagedPolicyState {
        ManagedPolicyState {
            arn: format!("{PREFIX}read-write-prod-app-from-dev"),
            description: "Update the app".into(),
            document,
            default_version: default.into(),
            versions: versions.iter().map(|v| v.to_string()).collect(),
            tags: None,
        }
    }

    #[test]
    fn a_customer_managed_policy_is_created_before_it_is_attached() {
        let spec = with_policy(app_policy("s3:GetObject"));
        let desired = desired(
            &spec,
            "AlfieFullAccess",
            trust(),
            &Owner::new("o".into(), "test"),
            PREFIX,
        )
        .unwrap();
        let described: Vec<String> = plan(&desired, &ObservedRole::default())
            .iter()
            .map(Change::describe)
            .collect();
        assert_eq!(
            described,
            [
                "create role AlfieFullAccess",
                "create policy read-write-prod-app-from-dev",
                "attach arn:aws:iam::aws:policy/AdministratorAccess",
                "attach arn:aws:iam::345678901234:policy/read-write-prod-app-from-dev",
                "put inline policy deny-org-changes",
            ]
        );
    }

    #[test]
    fn a_changed_policy_gets_a_new_default_version_within_five() {
        let spec = with_policy(app_policy("s3:PutObject"));
        let desired = desired(
            &spec,
            "AlfieFullAccess",
            trust(),
            &Owner::new("o".into(), "test"),
            PREFIX,
        )
        .unwrap();
        let mut observed = role(in_sync(&desired));
        let arn = format!("{PREFIX}read-write-prod-app-from-dev");
        observed.role.as_mut().unwrap().managed_policy_arns.insert(arn.clone());
        let same = existing_policy(app_policy("s3:PutObject"), &["v1"], "v1");
        observed
            .policies
            .insert("read-write-prod-app-from-dev".into(), Some((same, Claim::Ours)));
        assert_eq!(plan(&desired, &observed), vec![], "in sync: no write");

        let full = existing_policy(app_policy("s3:GetObject"), &["v2", "v3", "v4", "v5", "v6"], "v2");
        observed
            .policies
            .insert("read-write-prod-app-from-dev".into(), Some((full, Claim::Ours)));
        assert_eq!(
            plan(&desired, &observed),
            vec![Change::NewPolicyVersion {
                arn: arn.clone(),
                document: canonical_json(&app_policy("s3:PutObject")),
                making_room: Some("v3".into()),
            }],
            "the oldest version that is not the default makes room"
        );
        let roomy = existing_policy(app_policy("s3:GetObject"), &["v1", "v2"], "v2");
        observed
            .policies
            .insert("read-write-prod-app-from-dev".into(), Some((roomy, Claim::Ours)));
        assert!(matches!(
            &plan(&desired, &observed)[..],
            [Change::NewPolicyVersion { making_room: None, .. }]
        ));
    }

    #[test]
    fn a_policy_dropped_from_the_spec_is_detached_then_deleted() {
        let desired = desired(
            &spec(),
            "AlfieFullAccess",
            trust(),
            &Owner::new("o".into(), "test"),
            PREFIX,
        )
        .unwrap();
        let mut observed = role(in_sync(&desired));
        let arn = format!("{PREFIX}read-write-prod-app-from-dev");
        observed.role.as_mut().unwrap().managed_policy_arns.insert(arn.clone());
        observed.retired = vec![existing_policy(app_policy("s3:GetObject"), &["v1"], "v1")];
        assert_eq!(
            plan(&desired, &observed),
            vec![Change::Detach(arn.clone()), Change::DeletePolicy(arn)]
        );
    }

    #[test]
    fn customer_managed_policies_are_checked_before_aws() {
        let mut bad = with_policy(app_policy("s3:GetObject"));
        bad.permissions
            .customer_managed_policies
            .push(bad.permissions.customer_managed_policies[0].clone());
        assert!(
            validate(&bad)
                .unwrap_err()
                .starts_with("spec.permissions.customerManagedPolicies[1].name: "),
        );
        let big = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": format!("arn:aws:s3:::{}", "x".repeat(7000))}]});
        let error = validate(&with_policy(big)).unwrap_err();
        assert!(
            error.starts_with("spec.permissions.customerManagedPolicies[0].document: ") && error.contains("6144"),
            "{error}"
        );
        let mut crowded = with_policy(app_policy("s3:GetObject"));
        crowded.permissions.managed_policy_arns = (0..20).map(|i| format!("arn:aws:iam::aws:policy/P{i}")).collect();
        assert!(validate(&crowded).unwrap_err().contains("at most 20"));
    }

    #[test]
    fn only_an_untagged_role_can_be_adopted_and_only_when_asked() {
        let desired = desired(
            &spec(),
            "R",
            trust(),
            &Owner::new("CrossAccountRole/a/r".into(), "test"),
            PREFIX,
        )
        .unwrap();
        let mut existing = in_sync(&desired);
        assert_eq!(
            claim(
                Some(&existing),
                &Owner::new("CrossAccountRole/a/r".into(), "test"),
                false
            ),
            Claim::Ours
        );
        assert_eq!(
            claim(
                Some(&existing),
                &Owner::new("CrossAccountRole/b/r".into(), "test"),
                true
            ),
            Claim::OwnedBy("CrossAccountRole/a/r@test".into())
        );
        existing.tags.remove(OWNER_TAG);
        assert_eq!(
            claim(
                Some(&existing),
                &Owner::new("CrossAccountRole/a/r".into(), "test"),
                false
            ),
            Claim::Foreign
        );
        assert_eq!(
            claim(
                Some(&existing),
                &Owner::new("CrossAccountRole/a/r".into(), "test"),
                true
            ),
            Claim::Adoptable
        );
        assert_eq!(
            claim(None, &Owner::new("CrossAccountRole/a/r".into(), "test"), false),
            Claim::Free
        );
    }

    #[test]
    fn a_tag_from_before_installations_is_ours_and_another_installations_is_not() {
        let owner = Owner::new("CrossAccountRole/a/r".into(), "blue");
        let mut existing = RoleState::default();
        existing.tags.insert(OWNER_TAG.into(), "CrossAccountRole/a/r".into());
        assert_eq!(claim(Some(&existing), &owner, false), Claim::Ours);
        existing
            .tags
            .insert(OWNER_TAG.into(), "CrossAccountRole/a/r@green".into());
        assert_eq!(
            claim(Some(&existing), &owner, true),
            Claim::OwnedBy("CrossAccountRole/a/r@green".into())
        );
        let service_linked = RoleState {
            arn: "arn:aws:iam::111122223333:role/aws-service-role/support.amazonaws.com/AWSServiceRoleForSupport"
                .into(),
            ..RoleState::default()
        };
        assert_eq!(claim(Some(&service_linked), &owner, true), Claim::Foreign);
    }

    #[test]
    fn a_locked_role_trusts_nobody_and_keeps_the_rest() {
        let desired = desired(&spec(), "R", trust(), &Owner::new("o".into(), "test"), PREFIX).unwrap();
        let existing = in_sync(&desired);
        let changes = lock("111122223333", Some(&existing));
        let [Change::UpdateTrust(document)] = changes.as_slice() else {
            panic!("{changes:?}");
        };
        assert!(equivalent(
            &serde_json::from_str(document).unwrap(),
            &trust_nobody("111122223333")
        ));
        let locked = RoleState {
            trust_policy: trust_nobody("111122223333"),
            ..existing
        };
        assert_eq!(lock("111122223333", Some(&locked)), vec![]);
        assert_eq!(lock("111122223333", None), vec![]);
    }
}
