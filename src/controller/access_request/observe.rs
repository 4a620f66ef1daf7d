//! The AWS reads of a request: the requester's IAM user and the grant on it.

use serde_json::Value;

use crate::aws::{AwsResult, Iam};

/// The IAM user as far as the request needs it: its ARN, and the grant `policy` if it has it.
pub struct ObservedUser {
    pub arn: Option<String>,
    pub grant: Option<Value>,
}

pub(super) async fn user(iam: &dyn Iam, user_name: &str, policy: &str) -> AwsResult<ObservedUser> {
    let user = iam.get_user(user_name).await?;
    Ok(ObservedUser {
        arn: user.as_ref().map(|user| user.arn.clone()),
        grant: user.and_then(|mut user| user.inline_policies.remove(policy)),
    })
}
