//! Carrying the planned changes out, and detaching and deleting the policy
//! on cleanup.

use crate::aws::{AwsError, AwsErrorKind, AwsResult, Organizations, PolicyType, gone_is_done};
use crate::controller::driver::organization::NewResource;
use crate::controller::error::Result;

use super::plan::Change;

/// Performs one change; returns the policy's id and ARN when it created it.
pub(super) async fn perform(orgs: &dyn Organizations, id: &str, change: &Change) -> AwsResult<Option<NewResource>> {
    match change {
        Change::EnablePolicyType { root_id } => orgs
            .enable_policy_type(root_id, PolicyType::ServiceControlPolicy)
            .await
            .map_err(|err| refused_policy_type(root_id, err))?,
        Change::Create(policy) => {
            let created = orgs.create_policy(PolicyType::ServiceControlPolicy, policy).await?;
            return Ok(Some(NewResource {
                id: created.id,
                arn: created.arn,
            }));
        }
        Change::Update { policy, .. } => orgs.update_policy(id, policy).await?,
        Change::Tag(tags) => orgs.tag_resource(id, tags).await?,
        Change::Untag(keys) => orgs.untag_resource(id, keys).await?,
        Change::Attach(target) => match orgs.attach_policy(id, target).await {
            // Attached meanwhile: what was asked for holds.
            Err(err) if err.kind == AwsErrorKind::AlreadyExists => {}
            result => result?,
        },
        Change::Detach(target) => gone_is_done(orgs.detach_policy(id, target).await)?,
    }
    Ok(None)
}

/// A refused EnablePolicyType says who can enable the type: the operator
/// cannot attach any service control policy until then.
fn refused_policy_type(root_id: &str, err: AwsError) -> AwsError {
    if err.kind.retryable() {
        return err;
    }
    AwsError {
        message: format!(
            "{}; service control policies are not enabled on root {root_id}, and attaching any needs them: the organization's management account must enable them (EnablePolicyType), or allow the operator to",
            err.message
        ),
        ..err
    }
}

/// Detaches the policy from every target, which Organizations requires,
/// then deletes it; a policy already gone is done.
pub(super) async fn delete(orgs: &dyn Organizations, id: &str) -> Result<()> {
    let targets = match orgs.list_targets_for_policy(id).await {
        Err(err) if err.kind == AwsErrorKind::NotFound => return Ok(()),
        targets => targets?,
    };
    for target in &targets {
        gone_is_done(orgs.detach_policy(id, target).await)?;
    }
    Ok(gone_is_done(orgs.delete_policy(id).await)?)
}
