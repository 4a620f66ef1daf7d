//! What the group's references resolve to: the account it lives in (the
//! identity account unless it names one), the roles its access entries
//! grant, the managed policies its account's guardrails let it attach, and
//! which object's status claims the IAM group.

use std::collections::BTreeMap;

use kube::ResourceExt;

use super::observe;
use super::plan::{self, DesiredAccess};
use super::triggers;
use crate::api::{ConditionType, CrossAccountRole, DeveloperGroup, DeveloperGroupStatus, NamespacedRef, Reason};
use crate::controller::context::Context;
use crate::controller::driver::Stop;
use crate::controller::driver::owned::{Resolved, Target};
use crate::controller::guardrails;
use crate::controller::iam_user;
use crate::controller::ownership::{Claim, Owner, object_id, requester};
use crate::controller::refs;
use crate::controller::status::Outcome;
use crate::controller::tenancy;

/// The account the group lives in, which must let it adopt an existing
/// group if its spec asks to, and the group's name there.
pub(super) async fn target(group: &DeveloperGroup, ctx: &Context) -> Result<Target, Stop> {
    let account = refs::group_account(ctx, group).await?;
    tenancy::adoption(&account, group.spec.adopt_existing)?;
    Ok(Target {
        account,
        name: group.spec.group_name.clone().unwrap_or_else(|| group.name_any()),
        owner: Owner::of(group, &ctx.config.installation_id),
    })
}

/// Fails closed: an access entry whose role cannot be resolved is left
/// out of the group's policy (and named as waiting), while everything
/// else, members leaving above all, goes ahead.
pub(super) async fn desired(
    group: &DeveloperGroup,
    ctx: &Context,
    target: &Target,
) -> Result<Resolved<DesiredAccess>, Stop> {
    let (profiles, mut waiting) = access_profiles(group, ctx, target);
    let mut role_arns: Vec<String> = profiles.iter().map(|(_, arn)| arn.clone()).collect();
    role_arns.sort();
    role_arns.dedup();
    plan::check_assume_policy_size(&role_arns, group.spec.require_mfa)?;
    let allowed = allowed_policies(group, ctx, target).await?;
    waiting.extend(allowed.refusals);
    // A leaver stays out, whatever the list says, until enabled again (or,
    // deleted, for good).
    let (disabled, members): (Vec<String>, Vec<String>) = group
        .spec
        .members
        .iter()
        .cloned()
        .partition(|member| iam_user::triggers::leaving(&ctx.stores, &target.account.id, member));
    Ok(Resolved {
        desired: DesiredAccess {
            name: target.name.clone(),
            profiles,
            role_arns,
            members,
            disabled,
            require_mfa: group.spec.require_mfa,
            managed_policy_arns: allowed.granted,
        },
        waiting,
    })
}

/// The profile name and role ARN of each access entry that resolves, and
/// why each other one does not.
fn access_profiles(group: &DeveloperGroup, ctx: &Context, target: &Target) -> (Vec<(String, String)>, Vec<Outcome>) {
    let namespace = group.namespace().unwrap_or_default();
    let mut profiles = vec![];
    let mut waiting = vec![];
    for (i, access) in group.spec.access.iter().enumerate() {
        let resolved = match (&access.role_arn, &access.role) {
            (Some(arn), _) => tenancy::role_arn_allowed(&target.account, arn, &format!("spec.access[{i}].roleArn"))
                .map(|()| arn.clone()),
            (None, Some(reference)) => {
                let role = refs::role(&ctx.stores, reference, &namespace);
                role_arn(group, role.as_deref(), reference).map_err(|outcome| Outcome {
                    message: format!("spec.access[{i}].role: {}", outcome.message),
                    ..outcome
                })
            }
            // validate refused the spec before anything was resolved.
            (None, None) => continue,
        };
        let arn = match resolved {
            Ok(arn) => arn,
            Err(outcome) => {
                waiting.push(outcome);
                continue;
            }
        };
        let profile = access
            .profile
            .clone()
            .unwrap_or_else(|| arn.rsplit('/').next().unwrap_or_default().to_string());
        profiles.push((profile, arn));
    }
    (profiles, waiting)
}

/// The ARN a CrossAccountRole reference stands for (rule 4): a role of the
/// group's namespace, or of another whose trust names the group, that the
/// operator manages for that object as its spec is now, and that is not
/// granted only on request (`elevation`). Never the ARN its
/// spec alone would give: a role the operator refused (a protected name, a
/// namespace not allowed) must not become assumable through a group.
fn role_arn(
    group: &DeveloperGroup,
    role: Option<&CrossAccountRole>,
    reference: &NamespacedRef,
) -> Result<String, Outcome> {
    let group_namespace = group.namespace().unwrap_or_default();
    let role_namespace = reference.namespace.as_deref().unwrap_or(&group_namespace);
    let Some(role) = role else {
        return Err(Outcome::reconciling(
            Reason::ReferenceNotReady,
            format!("CrossAccountRole {role_namespace}/{} does not exist", reference.name),
        ));
    };
    if !tenancy::consents(role, &group.name_any(), &group_namespace) {
        return Err(Outcome::stalled(
            Reason::NamespaceNotAllowed,
            format!(
                "CrossAccountRole {role_namespace}/{} is in another namespace and its spec.trust.developerGroups does not name DeveloperGroup {group_namespace}/{}; a group grants another namespace's role only with that role's consent",
                reference.name,
                group.name_any()
            ),
        ));
    }
    if role.spec.elevation.is_some() {
        return Err(Outcome::stalled(
            Reason::InvalidSpec,
            format!(
                "CrossAccountRole {role_namespace}/{} sets spec.elevation: nobody holds standing access to it, so no group grants it; its people ask for it with an AccessRequest",
                reference.name
            ),
        ));
    }
    held_role_arn(role).ok_or_else(|| {
        Outcome::reconciling(
            Reason::ReferenceNotReady,
            format!(
                "CrossAccountRole {role_namespace}/{} has no role the operator holds yet",
                reference.name
            ),
        )
    })
}

/// The role the operator holds for that object under its current name:
/// an edit of its permissions keeps it granted, a refused or locked one
/// (a protected name, a namespace taken away) is not.
pub fn held_role_arn(role: &CrossAccountRole) -> Option<String> {
    let name = role.spec.role_name.clone().unwrap_or_else(|| role.name_any());
    role.status.as_ref().and_then(|status| {
        let locked = status
            .reconcile
            .condition(ConditionType::Stalled)
            .is_some_and(|c| c.status == "True" && c.reason == Reason::NamespaceNotAllowed.as_str());
        let held = status.ownership.is_some() && status.role_name.as_deref() == Some(name.as_str()) && !locked;
        held.then(|| status.role_arn.clone()).flatten()
    })
}

/// The managed policies the account's guardrails let the group attach;
/// each customer-managed one is judged by its default version.
async fn allowed_policies(
    group: &DeveloperGroup,
    ctx: &Context,
    target: &Target,
) -> Result<guardrails::Allowed<Vec<String>>, Stop> {
    let account = &target.account;
    let customer_managed: Vec<&String> = group
        .spec
        .managed_policy_arns
        .iter()
        .filter(|arn| !arn.contains(":iam::aws:policy/"))
        .collect();
    let documents = match customer_managed.is_empty() {
        true => BTreeMap::new(),
        false => {
            let iam = ctx
                .aws
                .iam_for(
                    &account.id,
                    &account.access_role,
                    &requester(group, ctx.config.write_sessions),
                )
                .await?;
            observe::policy_documents(iam.as_ref(), &customer_managed).await?
        }
    };
    let identity = ctx.aws.own_account_id().await? == account.id;
    Ok(guardrails::group(account, identity, &group.spec, &documents))
}

/// Groups carry no tags: the claim is this object's status, and another
/// object's status claiming the same group makes it theirs.
pub(super) fn claim(
    ctx: &Context,
    group: &DeveloperGroup,
    status: &DeveloperGroupStatus,
    target: &Target,
    exists: bool,
) -> Claim {
    let claims = |s: &DeveloperGroupStatus| {
        s.ownership.is_some()
            && s.account_id.as_deref() == Some(target.account.id.as_str())
            && s.group_name.as_deref() == Some(target.name.as_str())
    };
    if claims(status) {
        return Claim::Ours;
    }
    let me = object_id(group);
    let other = ctx
        .stores
        .groups
        .find([triggers::claim_key(&target.account.id, &target.name).as_str()])
        .into_iter()
        .find(|g| object_id(g.as_ref()) != me && g.status.as_ref().is_some_and(claims));
    match (other, exists) {
        (Some(other), _) => Claim::OwnedBy(object_id(other.as_ref())),
        (None, false) => Claim::Free,
        (None, true) if group.spec.adopt_existing => Claim::Adoptable,
        (None, true) => Claim::Foreign,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_role_granted_only_on_request_is_left_out_of_the_group() {
        let group: DeveloperGroup = serde_json::from_value(json!({
            "apiVersion": "awsaccess.dev/v1alpha1", "kind": "DeveloperGroup",
            "metadata": {"name": "developers", "namespace": "alfie"},
            "spec": {"access": [{"role": {"name": "prod-operator"}}]},
        }))
        .unwrap();
        let mut role: CrossAccountRole = serde_json::from_value(json!({
            "apiVersion": "awsaccess.dev/v1alpha1", "kind": "CrossAccountRole",
            "metadata": {"name": "prod-operator", "namespace": "alfie"},
            "spec": {"account": {"id": "222222222222"}, "trust": {"developerGroups": [{"name": "developers"}]}},
            "status": {"roleName": "prod-operator", "roleArn": "arn:aws:iam::222222222222:role/prod-operator", "ownership": "Created"},
        }))
        .unwrap();
        let reference = NamespacedRef {
            name: "prod-operator".into(),
            namespace: None,
        };
        assert_eq!(
            role_arn(&group, Some(&role), &reference).unwrap(),
            "arn:aws:iam::222222222222:role/prod-operator"
        );
        role.spec.elevation =
            Some(serde_json::from_value(json!({"maxDuration": "1h", "approvers": {"users": ["carol"]}})).unwrap());
        let refused = role_arn(&group, Some(&role), &reference).unwrap_err();
        assert_eq!(refused.reason, Reason::InvalidSpec);
        assert!(refused.message.contains("sets spec.elevation"), "{}", refused.message);
    }
}
