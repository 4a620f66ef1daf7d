//! Carrying the planned changes out, and deleting a role on cleanup.

use crate::aws::{AwsResult, Iam, gone_is_done};

use super::plan::Change;

/// Performs one change; returns the ARN when it created the role. A
/// revocation that finds its target already gone is done: that is what a
/// retry meets after an answer lost on the way back.
pub async fn perform(iam: &dyn Iam, role: &str, change: &Change) -> AwsResult<Option<String>> {
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
    }
    Ok(None)
}

/// Deletes the role and everything attached to it, which IAM requires gone first.
pub async fn delete_role(iam: &dyn Iam, role: &str) -> AwsResult<()> {
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
