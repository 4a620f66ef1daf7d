//! Reading the user from IAM, with what hangs on it.

use k8s_openapi::jiff::Timestamp;

use super::plan::ObservedUser;
use crate::aws::{AwsResult, Iam};

/// The user under `name`, and when it was read.
pub(super) async fn user(iam: &dyn Iam, name: &str) -> AwsResult<ObservedUser> {
    Ok(ObservedUser {
        user: iam.get_user(name).await?,
        at: Timestamp::now(),
    })
}
