//! AWS for the commands that only look (`plan`, `report`): every call that
//! is not a read fails before it leaves the process, whatever code path
//! would make it.

use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_iam::config::interceptors::BeforeSerializationInterceptorContextRef;
use aws_sdk_iam::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::orchestrator::Metadata;

use super::{Aws, AwsResult, Iam, Organizations};

/// Refuses every AWS operation but reads.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReadOnly;

/// Whether an operation of IAM, Organizations or STS only reads. AssumeRole
/// changes nothing in AWS: it hands out credentials to read with; nor does
/// GenerateCredentialReport, which makes the report GetCredentialReport reads
/// (IAMReadOnlyAccess allows it).
pub fn reads_only(operation: &str) -> bool {
    ["Get", "List", "Describe"]
        .iter()
        .any(|prefix| operation.starts_with(prefix))
        || operation == "AssumeRole"
        || operation == "GenerateCredentialReport"
}

impl Intercept for ReadOnly {
    fn name(&self) -> &'static str {
        "ReadOnly"
    }

    // Not before execution: the operation's name is in the bag only from here on.
    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let operation = cfg.load::<Metadata>().map(|m| m.name().to_string()).unwrap_or_default();
        if reads_only(&operation) {
            return Ok(());
        }
        Err(format!("{operation} refused: this command only reads AWS").into())
    }
}

/// `plan` and `report` with `--read-role`: every member account is entered
/// through that one role, whatever its AwsAccount names, so that the
/// credentials a pipeline holds never reach an account's administrator role.
pub struct ThroughReadRole {
    pub aws: Arc<dyn Aws>,
    pub role: String,
}

#[async_trait]
impl Aws for ThroughReadRole {
    async fn own_account_id(&self) -> AwsResult<String> {
        self.aws.own_account_id().await
    }

    async fn iam(&self, account_id: &str, _access_role: &str) -> AwsResult<Arc<dyn Iam>> {
        self.aws.iam(account_id, &self.role).await
    }

    async fn iam_for(&self, account_id: &str, _access_role: &str, requester: &str) -> AwsResult<Arc<dyn Iam>> {
        self.aws.iam_for(account_id, &self.role, requester).await
    }

    fn organizations(&self) -> Arc<dyn Organizations> {
        self.aws.organizations()
    }
}

#[cfg(test)]
mod tests {
    use super::reads_only;

    #[test]
    fn only_reads_pass() {
        for read in [
            "GetRole",
            "GetAccountAuthorizationDetails",
            "ListAccounts",
            "DescribeAccount",
            "AssumeRole",
            "GetCallerIdentity",
            "GenerateCredentialReport",
        ] {
            assert!(reads_only(read), "{read}");
        }
        for write in [
            "CreateRole",
            "UpdateAssumeRolePolicy",
            "PutRolePolicy",
            "TagRole",
            "AddUserToGroup",
            "CreateAccount",
            "MoveAccount",
            "DeleteRole",
            "",
        ] {
            assert!(!reads_only(write), "{write}");
        }
    }
}
