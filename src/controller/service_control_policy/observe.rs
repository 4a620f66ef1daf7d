//! Reading the policy, its tags and attachments, and the root's policy types.

use super::plan::{DesiredPolicy, ObservedPolicy, PolicyState};
use crate::aws::{AwsResult, Organizations, PolicyType};

/// The policy with the recorded id, else the customer-managed one of the
/// desired name (policy names are unique in an organization).
pub(super) async fn policy(
    orgs: &dyn Organizations,
    desired: &DesiredPolicy,
    recorded_id: Option<&str>,
) -> AwsResult<ObservedPolicy> {
    let root_id = orgs.root_id().await?;
    let recorded = match recorded_id {
        Some(id) => orgs.describe_policy(id).await?,
        None => None,
    };
    let found = match recorded {
        Some(policy) => Some(policy),
        None => {
            let named = orgs
                .list_policies(PolicyType::ServiceControlPolicy)
                .await?
                .into_iter()
                .find(|policy| !policy.aws_managed && policy.name == desired.name);
            match named {
                Some(summary) => orgs.describe_policy(&summary.id).await?,
                None => None,
            }
        }
    };
    let policy = match found {
        Some(policy) => Some(PolicyState {
            tags: orgs.list_tags(&policy.summary.id).await?,
            targets: orgs.list_targets_for_policy(&policy.summary.id).await?,
            summary: policy.summary,
            content: policy.content,
        }),
        None => None,
    };
    // Disabling the type detaches every policy of it, so one attached
    // anywhere shows it enabled without reading the root.
    let enabled = match &policy {
        Some(policy) if !policy.targets.is_empty() => true,
        _ => orgs
            .enabled_policy_types()
            .await?
            .contains(&PolicyType::ServiceControlPolicy),
    };
    Ok(ObservedPolicy {
        root_id,
        enabled,
        policy,
    })
}
