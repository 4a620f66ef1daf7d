//! `AccessApproval`: an approver's decision on an AccessRequest. Who made it is recorded at
//! admission from the API request's user (with their groups), in annotations nobody may change
//! afterwards; the requester can never approve.

use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{OBJECT_NAME_PATTERN, ReconcileStatus, kind_status};

/// The Kubernetes user who created an AccessApproval, stamped by the operator's admission webhook.
pub const APPROVED_BY_ANNOTATION: &str = "awsaccess.dev/approved-by";
/// The groups of that user as the API server authenticated them (a JSON list), stamped with it.
pub const APPROVER_GROUPS_ANNOTATION: &str = "awsaccess.dev/approver-groups";

/// Approve or deny.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Decision {
    /// Count towards the role's `elevation.approvals`.
    #[default]
    Approve,
    /// End the request: before the grant it is Denied, after it Revoked at once.
    Deny,
}

/// An approver's decision on an AccessRequest.
// Clippy takes the repeated `type_ = ...` of the printer columns for duplicated attributes.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, KubeSchema)]
#[kube(
    group = "awsaccess.dev",
    version = "v1alpha1",
    kind = "AccessApproval",
    doc = "An approver's decision on an AccessRequest of the same namespace. Who created it is recorded at admission (annotation awsaccess.dev/approved-by, with the user's groups) and must be an approver the role's elevation names, never the requester: otherwise it is refused at admission and counts for nothing at reconcile. It cannot be changed; deleting it does not undo a grant (a Deny does).",
    namespaced,
    status = "AccessApprovalStatus",
    category = "awsaccess",
    derive = "PartialEq",
    printcolumn(
        name = "REQUEST",
        type_ = "string",
        json_path = ".spec.request",
        description = "AccessRequest decided on"
    ),
    printcolumn(
        name = "DECISION",
        type_ = "string",
        json_path = ".spec.decision",
        description = "Approve or Deny"
    ),
    printcolumn(
        name = "BY",
        type_ = "string",
        json_path = ".status.approvedBy",
        description = "Kubernetes user who decided"
    ),
    printcolumn(name = "AGE", type_ = "date", json_path = ".metadata.creationTimestamp")
)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("self == oldSelf").message("an AccessApproval cannot be changed: make a new one"))]
pub struct AccessApprovalSpec {
    /// Name of the AccessRequest, in this namespace.
    #[schemars(length(min = 1, max = 253), regex(pattern = OBJECT_NAME_PATTERN))]
    pub request: String,
    /// `Approve` (default) or `Deny`.
    #[serde(default)]
    pub decision: Decision,
    /// Why, for the trail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1024))]
    pub comment: Option<String>,
}

/// Who decided.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccessApprovalStatus {
    /// The Kubernetes user who created the approval, recorded at admission; the requester can never approve.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<String>,
    #[serde(flatten)]
    pub reconcile: ReconcileStatus,
}

kind_status!(AccessApprovalStatus);
