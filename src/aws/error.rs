//! Errors of the AWS layer: what went wrong, in which call, and what the
//! reconciler should do about it (retry with backoff, or report and wait).

use std::error::Error as StdError;

use aws_sdk_iam::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_iam::operation::RequestId;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;

use crate::api::Reason;

/// One failed AWS call. The message is AWS's own (prefixed with its error code),
/// never anything from the request, so it cannot carry credentials or an external ID.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("AWS {operation} failed: {message}")]
pub struct AwsError {
    pub kind: AwsErrorKind,
    /// The AWS API operation, such as `CreateRole`.
    pub operation: &'static str,
    pub message: String,
    /// AWS's request id, for a support case; None when AWS was not reached.
    pub request_id: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AwsErrorKind {
    NotFound,
    AlreadyExists,
    Throttled,
    MalformedPolicy,
    InvalidInput,
    LimitExceeded,
    AccessDenied,
    ConcurrentModification,
    ServiceFailure,
    /// AWS was not reached, or its answer could not be read.
    Transport,
    /// `MalformedPolicyDocument: Invalid principal` for a principal that exists but
    /// has not yet reached every IAM replica (IAM is eventually consistent): it
    /// passes on a later try.
    PrincipalNotReady,
    Other,
}

impl AwsErrorKind {
    /// True when the same call may succeed later without any change to the spec.
    pub fn retryable(&self) -> bool {
        matches!(
            self,
            Self::Throttled
                | Self::ConcurrentModification
                | Self::ServiceFailure
                | Self::Transport
                | Self::PrincipalNotReady
        )
    }

    /// The condition and Event reason (PascalCase, stable: dashboards depend on it).
    pub fn reason(&self) -> Reason {
        match self {
            Self::NotFound => Reason::NotFound,
            Self::AlreadyExists => Reason::AlreadyExists,
            Self::Throttled => Reason::Throttled,
            Self::MalformedPolicy => Reason::PolicyRejected,
            Self::InvalidInput => Reason::InvalidSpec,
            Self::LimitExceeded => Reason::LimitExceeded,
            Self::AccessDenied => Reason::AccessDenied,
            Self::PrincipalNotReady => Reason::PrincipalNotReady,
            Self::ConcurrentModification | Self::ServiceFailure | Self::Transport | Self::Other => Reason::AwsError,
        }
    }

    /// Classifies an AWS error code (IAM, STS and Organizations spell theirs
    /// differently) and, where the code alone is ambiguous, its message.
    pub fn from_code(code: &str, message: &str) -> Self {
        Self::missing_or_existing(code)
            .or_else(|| Self::refused(code, message))
            .or_else(|| Self::passing(code))
            .unwrap_or(Self::Other)
    }

    /// Codes for a resource that is not there, or already is.
    fn missing_or_existing(code: &str) -> Option<Self> {
        let kind = match code {
            "NoSuchEntity"
            | "AccountNotFoundException"
            | "CreateAccountStatusNotFoundException"
            | "OrganizationalUnitNotFoundException"
            | "ParentNotFoundException"
            | "ChildNotFoundException"
            | "SourceParentNotFoundException"
            | "DestinationParentNotFoundException"
            | "TargetNotFoundException"
            | "RootNotFoundException"
            | "PolicyNotFoundException"
            // Detaching what is not attached: the detachment is done.
            | "PolicyNotAttachedException" => Self::NotFound,
            "EntityAlreadyExists"
            | "DuplicateAccountException"
            | "DuplicateOrganizationalUnitException"
            | "DuplicatePolicyException"
            | "DuplicatePolicyAttachmentException" => Self::AlreadyExists,
            _ => return None,
        };
        Some(kind)
    }

    /// Codes for a request AWS refuses as it stands: the spec, a quota or the
    /// operator's credentials must change (but for a principal not yet replicated).
    fn refused(code: &str, message: &str) -> Option<Self> {
        let kind = match code {
            // IAM checks principals against a replica that may not have seen a
            // principal created a moment ago; the same text for a principal that
            // truly does not exist cannot be told apart here, so the caller bounds
            // the retries.
            "MalformedPolicyDocument" | "MalformedPolicyDocumentException" if message.contains("Invalid principal") => {
                Self::PrincipalNotReady
            }
            "MalformedPolicyDocument" | "MalformedPolicyDocumentException" => Self::MalformedPolicy,
            "InvalidInput" | "InvalidInputException" | "ValidationError" | "ValidationException" => Self::InvalidInput,
            // Organizations reports its quotas (accounts, closures per month) as
            // constraint violations.
            "LimitExceeded" | "LimitExceededException" | "ConstraintViolationException" => Self::LimitExceeded,
            // Not being in an organization is, for the operator, the same as not
            // being allowed to use it: the fix is in the operator's credentials.
            "AccessDenied"
            | "AccessDeniedException"
            | "AccessDeniedForDependencyException"
            | "AWSOrganizationsNotInUseException"
            | "InvalidClientTokenId"
            | "UnrecognizedClientException"
            | "SignatureDoesNotMatch" => Self::AccessDenied,
            _ => return None,
        };
        Some(kind)
    }

    /// Codes for a condition that passes: the same call succeeds later.
    fn passing(code: &str) -> Option<Self> {
        let kind = match code {
            "Throttling" | "ThrottlingException" | "TooManyRequestsException" | "RequestLimitExceeded" => {
                Self::Throttled
            }
            // A DeleteConflict means something was attached while the operator was
            // removing it: a fresh read and another pass settle it.
            // So are an OU that gained an account, a policy attached again, or
            // a policy type disabled, between the operator's read and its write.
            "ConcurrentModification"
            | "ConcurrentModificationException"
            | "DeleteConflict"
            | "OrganizationalUnitNotEmptyException"
            | "PolicyInUseException"
            | "PolicyTypeNotEnabledException" => Self::ConcurrentModification,
            "ServiceFailure"
            | "ServiceException"
            | "ServiceUnavailable"
            | "ServiceUnavailableException"
            | "InternalFailure"
            | "FinalizingOrganizationException" => Self::ServiceFailure,
            _ => return None,
        };
        Some(kind)
    }
}

impl AwsError {
    pub fn new(kind: AwsErrorKind, operation: &'static str, message: impl Into<String>) -> Self {
        Self {
            kind,
            operation,
            message: message.into(),
            request_id: None,
        }
    }

    /// Classifies an error from any AWS SDK client call.
    pub fn from_sdk<E>(operation: &'static str, error: SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
    {
        let request_id = error.meta().request_id().map(str::to_owned);
        let (kind, message) = match &error {
            SdkError::ServiceError(context) => {
                let status = context.raw().status();
                let text = error.message().unwrap_or_default();
                let (kind, message) = match (error.code(), text) {
                    (Some(code), "") => (AwsErrorKind::from_code(code, text), code.to_owned()),
                    (Some(code), text) => (AwsErrorKind::from_code(code, text), format!("{code}: {text}")),
                    (None, _) => (
                        AwsErrorKind::Other,
                        format!("HTTP {} without an AWS error code", status.as_u16()),
                    ),
                };
                // A 5xx without a code this list knows (a load balancer's bare
                // 503, a gateway's 502) is as transient as AWS's own
                // ServiceFailure, and the SDK retries it so: a call sent once
                // must not stall its object on it.
                let kind = match kind {
                    AwsErrorKind::Other if status.is_server_error() => AwsErrorKind::ServiceFailure,
                    kind => kind,
                };
                (kind, message)
            }
            SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) | SdkError::ResponseError(_) => {
                (AwsErrorKind::Transport, DisplayErrorContext(&error).to_string())
            }
            _ => (AwsErrorKind::Other, DisplayErrorContext(&error).to_string()),
        };
        Self {
            kind,
            operation,
            message,
            request_id,
        }
    }
}

/// For `map_err`: `.send().await.map_err(sdk_error("GetRole"))`.
pub fn sdk_error<E>(operation: &'static str) -> impl FnOnce(SdkError<E, HttpResponse>) -> AwsError
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
{
    move |error| AwsError::from_sdk(operation, error)
}

#[cfg(test)]
mod tests {
    use aws_sdk_iam::error::ErrorMetadata;
    use aws_sdk_iam::operation::get_role::GetRoleError;
    use aws_sdk_organizations::operation::describe_account::DescribeAccountError;

    use super::*;

    /// An error AWS answered with `status`.
    fn answered<E>(status: u16, error: E) -> SdkError<E, HttpResponse> {
        let status = aws_smithy_runtime_api::http::StatusCode::try_from(status).expect("an HTTP status");
        SdkError::service_error(error, HttpResponse::new(status, Vec::<u8>::new().into()))
    }

    fn service_error<E>(error: E) -> SdkError<E, HttpResponse> {
        answered(400, error)
    }

    fn metadata(code: &str, message: &str) -> ErrorMetadata {
        ErrorMetadata::builder()
            .code(code)
            .message(message)
            .custom("aws_request_id", "req-1234")
            .build()
    }

    #[test]
    fn iam_codes_map_to_kinds() {
        let cases = [
            ("Throttling", AwsErrorKind::Throttled),
            ("NoSuchEntity", AwsErrorKind::NotFound),
            ("EntityAlreadyExists", AwsErrorKind::AlreadyExists),
            ("MalformedPolicyDocument", AwsErrorKind::MalformedPolicy),
            ("InvalidInput", AwsErrorKind::InvalidInput),
            ("LimitExceeded", AwsErrorKind::LimitExceeded),
            ("AccessDenied", AwsErrorKind::AccessDenied),
            ("ConcurrentModification", AwsErrorKind::ConcurrentModification),
            ("DeleteConflict", AwsErrorKind::ConcurrentModification),
            ("ServiceFailure", AwsErrorKind::ServiceFailure),
            ("UnmodifiableEntity", AwsErrorKind::Other),
        ];
        for (code, kind) in cases {
            let error = AwsError::from_sdk("GetRole", service_error(GetRoleError::generic(metadata(code, "text"))));
            assert_eq!(error.kind, kind, "{code}");
        }
    }

    #[test]
    fn organizations_codes_map_to_kinds() {
        let cases = [
            ("TooManyRequestsException", AwsErrorKind::Throttled),
            ("AccountNotFoundException", AwsErrorKind::NotFound),
            ("DuplicateAccountException", AwsErrorKind::AlreadyExists),
            ("ConstraintViolationException", AwsErrorKind::LimitExceeded),
            ("AWSOrganizationsNotInUseException", AwsErrorKind::AccessDenied),
            ("AccessDeniedException", AwsErrorKind::AccessDenied),
            ("ConcurrentModificationException", AwsErrorKind::ConcurrentModification),
            ("ServiceException", AwsErrorKind::ServiceFailure),
            ("InvalidInputException", AwsErrorKind::InvalidInput),
        ];
        for (code, kind) in cases {
            let error = AwsError::from_sdk(
                "DescribeAccount",
                service_error(DescribeAccountError::generic(metadata(code, "text"))),
            );
            assert_eq!(error.kind, kind, "{code}");
        }
    }

    #[test]
    fn modelled_error_variants_map_by_their_code() {
        let not_found = GetRoleError::NoSuchEntityException(
            aws_sdk_iam::types::error::NoSuchEntityException::builder()
                .message("The role with name Missing cannot be found.")
                .meta(metadata("NoSuchEntity", "The role with name Missing cannot be found."))
                .build(),
        );
        let error = AwsError::from_sdk("GetRole", service_error(not_found));
        assert_eq!(error.kind, AwsErrorKind::NotFound);
        assert_eq!(error.request_id.as_deref(), Some("req-1234"));
        assert_eq!(
            error.to_string(),
            "AWS GetRole failed: NoSuchEntity: The role with name Missing cannot be found."
        );
    }

    #[test]
    fn an_error_without_text_is_named_by_its_code() {
        let bare = GetRoleError::generic(ErrorMetadata::builder().code("Throttling").build());
        let error = AwsError::from_sdk("GetRole", service_error(bare));
        assert_eq!(error.to_string(), "AWS GetRole failed: Throttling");
        assert_eq!(error.request_id, None);
    }

    #[test]
    fn a_server_error_without_a_known_code_is_a_retryable_service_failure() {
        let bare = || GetRoleError::generic(ErrorMetadata::builder().build());
        let error = AwsError::from_sdk("CreateRole", answered(503, bare()));
        assert_eq!(error.kind, AwsErrorKind::ServiceFailure);
        assert!(error.kind.retryable());
        assert_eq!(
            error.to_string(),
            "AWS CreateRole failed: HTTP 503 without an AWS error code"
        );
        let unknown = GetRoleError::generic(metadata("InternalError", "text"));
        assert_eq!(
            AwsError::from_sdk("CreateRole", answered(500, unknown)).kind,
            AwsErrorKind::ServiceFailure
        );
        // A client error stays what its code says, or Other: the request itself is wrong.
        assert_eq!(
            AwsError::from_sdk("CreateRole", answered(403, bare())).kind,
            AwsErrorKind::Other
        );
        let denied = GetRoleError::generic(metadata("AccessDenied", "text"));
        assert_eq!(
            AwsError::from_sdk("CreateRole", answered(500, denied)).kind,
            AwsErrorKind::AccessDenied
        );
    }

    #[test]
    fn invalid_principal_is_eventual_consistency_and_retryable() {
        let invalid_principal = metadata(
            "MalformedPolicyDocument",
            "Invalid principal in policy: \"AWS\":\"arn:aws:iam::123456789012:user/new\"",
        );
        let error = AwsError::from_sdk(
            "UpdateAssumeRolePolicy",
            service_error(GetRoleError::generic(invalid_principal)),
        );
        assert_eq!(error.kind, AwsErrorKind::PrincipalNotReady);
        assert!(error.kind.retryable());

        let malformed = metadata("MalformedPolicyDocument", "Syntax errors in policy.");
        let error = AwsError::from_sdk("PutRolePolicy", service_error(GetRoleError::generic(malformed)));
        assert_eq!(error.kind, AwsErrorKind::MalformedPolicy);
        assert!(!error.kind.retryable());
        assert_eq!(error.kind.reason(), Reason::PolicyRejected);
    }

    #[test]
    fn failures_before_aws_answered_are_transport_and_retryable() {
        let timeout: SdkError<GetRoleError, HttpResponse> = SdkError::timeout_error("operation timed out");
        let error = AwsError::from_sdk("GetRole", timeout);
        assert_eq!(error.kind, AwsErrorKind::Transport);
        assert!(error.kind.retryable());
        assert_eq!(error.request_id, None);

        let unbuildable: SdkError<GetRoleError, HttpResponse> = SdkError::construction_failure("role name missing");
        assert_eq!(AwsError::from_sdk("GetRole", unbuildable).kind, AwsErrorKind::Other);
    }

    #[test]
    fn retryable_and_terminal_kinds_get_their_reasons() {
        assert_eq!(AwsErrorKind::Throttled.reason(), Reason::Throttled);
        assert_eq!(AwsErrorKind::AlreadyExists.reason(), Reason::AlreadyExists);
        assert_eq!(AwsErrorKind::ServiceFailure.reason(), Reason::AwsError);
        for terminal in [
            AwsErrorKind::NotFound,
            AwsErrorKind::AlreadyExists,
            AwsErrorKind::InvalidInput,
            AwsErrorKind::AccessDenied,
            AwsErrorKind::LimitExceeded,
            AwsErrorKind::Other,
        ] {
            assert!(!terminal.retryable(), "{terminal:?}");
        }
    }
}
