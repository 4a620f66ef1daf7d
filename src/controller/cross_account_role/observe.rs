//! Reading the role from IAM, with the customer-managed policies that
//! concern it: those the spec lists, and those this object made that it no
//! longer lists.

use std::collections::BTreeMap;

use super::plan::{ObservedRole, policy_arn_prefix};
use crate::api::CrossAccountRole;
use crate::aws::{AwsResult, Iam, ManagedPolicyState, fresh, policy_name};
use crate::controller::driver::owned::Target;
use crate::controller::ownership::{Claim, Owner, claim_tagged};

/// The role under the target's name and the policies that go with it.
pub(super) async fn role_and_policies(
    iam: &dyn Iam,
    role: &CrossAccountRole,
    target: &Target,
) -> AwsResult<ObservedRole> {
    let current = iam.get_role(&target.name).await?;
    let partition_from = current.as_ref().map(|current| current.arn.as_str());
    let prefix = policy_arn_prefix(partition_from, role.status.as_ref(), &target.account.id);
    Ok(ObservedRole {
        role: current,
        policies: listed_policies(iam, role, &prefix, &target.owner).await?,
        retired: retired_policies(iam, role, &target.owner).await?,
    })
}

/// Each customer-managed policy the spec lists, by name, where it exists.
async fn listed_policies(
    iam: &dyn Iam,
    role: &CrossAccountRole,
    prefix: &str,
    owner: &Owner,
) -> AwsResult<BTreeMap<String, Option<(ManagedPolicyState, Claim)>>> {
    let mut policies = BTreeMap::new();
    for listed in &role.spec.permissions.customer_managed_policies {
        let existing = policy(iam, &format!("{prefix}{}", listed.name), owner).await?;
        policies.insert(listed.name.clone(), existing);
    }
    Ok(policies)
}

/// The policies the status records as made by this object that the spec
/// no longer lists, and that still carry this object's owner tag.
async fn retired_policies(iam: &dyn Iam, role: &CrossAccountRole, owner: &Owner) -> AwsResult<Vec<ManagedPolicyState>> {
    let recorded = role
        .status
        .as_ref()
        .map(|status| status.customer_managed_policy_arns.as_slice())
        .unwrap_or_default();
    let mut retired = vec![];
    for arn in recorded {
        let listed = role
            .spec
            .permissions
            .customer_managed_policies
            .iter()
            .any(|p| p.name.eq_ignore_ascii_case(policy_name(arn)));
        if !listed && let Some((policy, Claim::Ours)) = policy(iam, arn, owner).await? {
            retired.push(policy);
        }
    }
    Ok(retired)
}

/// A customer-managed policy and whether this object may manage it: only
/// with its owner tag, which the account listing does not carry for
/// policies, so one read without its tags is read again from AWS.
async fn policy(iam: &dyn Iam, arn: &str, owner: &Owner) -> AwsResult<Option<(ManagedPolicyState, Claim)>> {
    let mut found = iam.get_policy(arn).await?;
    if found.as_ref().is_some_and(|policy| policy.tags.is_none()) {
        found = fresh(iam).get_policy(arn).await?;
    }
    Ok(found.map(|policy| {
        // Adopting a policy is not offered: its owner tag is its only proof of ownership.
        let claim = claim_tagged(Some(&policy.tags.clone().unwrap_or_default()), owner, false);
        (policy, claim)
    }))
}
