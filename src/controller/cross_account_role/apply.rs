//! Carrying the planned changes out, and deleting or releasing a role on
//! cleanup.

use crate::aws::{AwsErrorKind, AwsResult, Iam, NewManagedPolicy, fresh, gone_is_done};
use crate::controller::ownership::OWNER_TAG;

use super::plan::{Change, ObservedRole};
use super::sessions::REVOKE_POLICY_NAME;

/// Performs one change; returns the ARN when it created the role. A
/// revocation that finds its target already gone is done: that is what a
/// retry meets after an answer lost on the way back.
pub(super) async fn perform(iam: &dyn Iam, role: &str, change: &Change) -> AwsResult<Option<String>> {
    match change {
        Change::Create(new_role) => return iam.create_role(new_role).await.map(Some),
        Change::UpdateTrust(document) => iam.update_trust_policy(role, document).await?,
        Change::UpdateRole {
            description,
            max_session_duration,
        } => iam.update_role(role, description, *max_session_duration).await?,
        Change::PutBoundary(arn) => iam.put_permissions_boundary(role, arn).await?,
        Change::DeleteBoundary => gone_is_done(iam.delete_permissions_boundary(role).await)?,
        Change::Attach(arn) => iam.attach_role_policy(role, arn).await?,
        Change::Detach(arn) => gone_is_done(iam.detach_role_policy(role, arn).await)?,
        Change::PutInline(name, document) => iam.put_role_policy(role, name, document).await?,
        Change::DeleteInline(name) => gone_is_done(iam.delete_role_policy(role, name).await)?,
        Change::Tag(tags) => iam.tag_role(role, tags).await?,
        Change::Untag(keys) => iam.untag_role(role, keys).await?,
        Change::CreatePolicy { arn, policy } => create_policy(iam, arn, policy).await?,
        Change::NewPolicyVersion {
            arn,
            document,
            making_room,
        } => {
            if let Some(oldest) = making_room {
                gone_is_done(iam.delete_policy_version(arn, oldest).await)?;
            }
            iam.create_policy_version(arn, document).await?;
        }
        Change::DeletePolicy(arn) => gone_is_done(iam.delete_policy(arn).await)?,
        Change::DenyOlderSessions { document, .. } => iam.put_role_policy(role, REVOKE_POLICY_NAME, document).await?,
        Change::LiftSessionDeny => gone_is_done(iam.delete_role_policy(role, REVOKE_POLICY_NAME).await)?,
    }
    Ok(None)
}

/// Creates a policy, or finds it made by an earlier call whose answer was
/// lost: the owner tag it was created with tells.
async fn create_policy(iam: &dyn Iam, arn: &str, policy: &NewManagedPolicy) -> AwsResult<()> {
    let Err(err) = iam.create_policy(policy).await else {
        return Ok(());
    };
    if err.kind != AwsErrorKind::AlreadyExists {
        return Err(err);
    }
    let found = fresh(iam).get_policy(arn).await?;
    let ours = found
        .and_then(|found| found.tags)
        .is_some_and(|tags| tags.get(OWNER_TAG) == policy.tags.get(OWNER_TAG));
    if ours { Ok(()) } else { Err(err) }
}

/// Deletes the role and everything attached to it, which IAM requires gone
/// first, then the customer-managed policies this object owns.
pub(super) async fn delete(iam: &dyn Iam, role: &str, observed: &ObservedRole) -> AwsResult<()> {
    delete_role(iam, role).await?;
    for policy in observed.owned_policies() {
        gone_is_done(iam.delete_policy(&policy.arn).await)?;
    }
    Ok(())
}

async fn delete_role(iam: &dyn Iam, role: &str) -> AwsResult<()> {
    let Some(current) = iam.get_role(role).await? else {
        return Ok(());
    };
    for arn in &current.managed_policy_arns {
        gone_is_done(iam.detach_role_policy(role, arn).await)?;
    }
    for name in current.inline_policies.keys() {
        gone_is_done(iam.delete_role_policy(role, name).await)?;
    }
    gone_is_done(iam.delete_role(role).await)
}

/// Leaves the role in AWS without this object's owner tag, so that nothing
/// takes it for this object's any more.
pub(super) async fn release(iam: &dyn Iam, role: &str, observed: &ObservedRole) -> AwsResult<()> {
    match &observed.role {
        Some(_) => gone_is_done(iam.untag_role(role, &[OWNER_TAG.to_string()]).await),
        None => Ok(()),
    }
}
