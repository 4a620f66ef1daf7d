//! Carrying the planned changes out, and emptying and deleting a group on
//! cleanup.

use crate::aws::{AwsResult, Iam, gone_is_done};

use super::plan::Change;

/// Performs one change; returns the ARN when it created the group. A
/// revocation that finds its target already gone is done: that is what a
/// retry meets after an answer lost on the way back.
pub(super) async fn perform(iam: &dyn Iam, group: &str, change: &Change) -> AwsResult<Option<String>> {
    match change {
        Change::Create => return iam.create_group(group).await.map(Some),
        Change::AddMember(user) => iam.add_user_to_group(group, user).await?,
        Change::RemoveMember(user) => gone_is_done(iam.remove_user_from_group(group, user).await)?,
        Change::PutPolicy(name, document) => iam.put_group_policy(group, name, document).await?,
        Change::DeletePolicy(name) => gone_is_done(iam.delete_group_policy(group, name).await)?,
        Change::Attach(arn) => iam.attach_group_policy(group, arn).await?,
        Change::Detach(arn) => gone_is_done(iam.detach_group_policy(group, arn).await)?,
    }
    Ok(None)
}

/// Empties the group (members, policies), which IAM requires, then deletes it.
pub(super) async fn delete(iam: &dyn Iam, name: &str) -> AwsResult<()> {
    let Some(current) = iam.get_group(name).await? else {
        return Ok(());
    };
    for user in &current.members {
        gone_is_done(iam.remove_user_from_group(name, user).await)?;
    }
    for policy in current.inline_policies.keys() {
        gone_is_done(iam.delete_group_policy(name, policy).await)?;
    }
    for arn in &current.managed_policy_arns {
        gone_is_done(iam.detach_group_policy(name, arn).await)?;
    }
    gone_is_done(iam.delete_group(name).await)
}
