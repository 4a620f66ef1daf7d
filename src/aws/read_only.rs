//! AWS for the commands that only look (`plan`, `report`): every call that
//! is not a read fails before it leaves the process, whatever code path
//! would make it.

use aws_sdk_iam::config::interceptors::BeforeSerializationInterceptorContextRef;
use aws_sdk_iam::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::orchestrator::Metadata;

/// Refuses every AWS operation but reads.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReadOnly;

/// Whether an operation of IAM, Organizations or STS only reads. AssumeRole
/// changes nothing in AWS: it hands out credentials to read with.
pub fn reads_only(operation: &str) -> bool {
    ["Get", "List", "Describe"]
        .iter()
        .any(|prefix| operation.starts_with(prefix))
        || operation == "AssumeRole"
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
