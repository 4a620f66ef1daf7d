//! The Secrets the operator may read: only those opted in as external IDs
//! (API.md, tenancy rule 8), which is also all its watch asks for.

use k8s_openapi::api::core::v1::Secret;

/// The label that opts a Secret in; the Secrets the operator generates carry it.
pub const EXTERNAL_ID_LABEL: &str = "awsaccess.dev/external-id";

/// The watch's label selector: only opted-in Secrets.
pub const EXTERNAL_ID_SELECTOR: &str = "awsaccess.dev/external-id=true";

pub fn is_external_id_secret(secret: &Secret) -> bool {
    secret
        .metadata
        .labels
        .as_ref()
        .and_then(|labels| labels.get(EXTERNAL_ID_LABEL))
        .is_some_and(|value| value == "true")
}
