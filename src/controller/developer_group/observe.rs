//! Reading the group and its listed members from IAM, and the documents of
//! the customer-managed policies it would attach, which its account's
//! guardrails judge.

use std::collections::BTreeMap;

use serde_json::Value;

use super::plan::ObservedGroup;
use crate::api::DeveloperGroup;
use crate::aws::{AwsResult, Iam};

/// The group under `name`, and which listed members exist as IAM users.
pub(super) async fn group_and_users(iam: &dyn Iam, group: &DeveloperGroup, name: &str) -> AwsResult<ObservedGroup> {
    Ok(ObservedGroup {
        group: iam.get_group(name).await?,
        users: iam.user_arns(&group.spec.members).await?,
    })
}

/// The default version's document of each policy that exists, by ARN.
pub(super) async fn policy_documents(iam: &dyn Iam, arns: &[&String]) -> AwsResult<BTreeMap<String, Value>> {
    let mut documents = BTreeMap::new();
    for arn in arns {
        if let Some(policy) = iam.get_policy(arn).await? {
            documents.insert(arn.to_string(), policy.document);
        }
    }
    Ok(documents)
}
