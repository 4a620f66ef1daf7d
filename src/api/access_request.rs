//! Access on request: `AccessRequest`, a person asking for a CrossAccountRole with `elevation`,
//! for a while, with a reason (others decide with an `AccessApproval`). Who asked is recorded at
//! admission from the API request's user, in an annotation nobody may change afterwards; the
//! grant is an inline policy on the requester's IAM user that AWS itself stops honouring at the
//! end of the window.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{IAM_USER_NAME_PATTERN, OBJECT_NAME_PATTERN, ReconcileStatus, kind_status};

/// The Kubernetes user who created an AccessRequest, stamped by the operator's admission webhook.
pub const REQUESTED_BY_ANNOTATION: &str = "awsaccess.dev/requested-by";

/// A CrossAccountRole with no standing access: only an approved AccessRequest lets someone assume it, for a while.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct Elevation {
    /// The longest window an AccessRequest may ask for, such as `4h` or `30m`.
    #[schemars(length(min = 1, max = 32))]
    pub max_duration: String,
    /// Who may approve or deny a request: Kubernetes users and groups as the API server authenticates them. The requester never counts, whatever these say.
    pub approvers: Approvers,
    /// How many distinct approvers must approve before access is granted. Default: 1.
    #[serde(default = "one")]
    #[schemars(range(min = 1, max = 10))]
    pub approvals: u32,
}

fn one() -> u32 {
    1
}

/// Kubernetes users and groups.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("(has(self.users) && size(self.users) > 0) || (has(self.groups) && size(self.groups) > 0)").message("approvers names nobody: set users or groups"))]
pub struct Approvers {
    /// Kubernetes user names, as `kubectl auth whoami` shows them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 100), inner(length(min = 1, max = 253)))]
    pub users: Vec<String>,
    /// Kubernetes groups; any member may approve.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 100), inner(length(min = 1, max = 253)))]
    pub groups: Vec<String>,
}

/// A CrossAccountRole of the request's own namespace.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LocalRef {
    /// Name of the CrossAccountRole, in this namespace.
    #[schemars(length(min = 1, max = 253), regex(pattern = OBJECT_NAME_PATTERN))]
    pub name: String,
}

/// A person's request to assume a role for a while.
// Clippy takes the repeated `type_ = ...` of the printer columns for duplicated attributes.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, KubeSchema)]
#[kube(
    group = "awsaccess.dev",
    version = "v1alpha1",
    kind = "AccessRequest",
    doc = "A request to assume a CrossAccountRole with `elevation` for a while. Once approved by enough others (AccessApproval), the IAM user gets an inline policy allowing sts:AssumeRole on that role until the end of the window, which AWS enforces itself; at the end, or when the request is deleted or denied, the policy is removed and the role's sessions issued before then are denied. Who created it is recorded at admission (annotation awsaccess.dev/requested-by) and copied into status.",
    namespaced,
    status = "AccessRequestStatus",
    shortname = "accessreq",
    category = "awsaccess",
    derive = "PartialEq",
    validation = Rule::new("size(self.metadata.name) <= 100").message("metadata.name is longer than 100 characters: the grant's IAM policy, awsaccess-elevation-<name>, must fit in 128"),
    printcolumn(name = "USER", type_ = "string", json_path = ".spec.user", description = "IAM user the access is for"),
    printcolumn(name = "ROLE", type_ = "string", json_path = ".spec.role.name", description = "CrossAccountRole asked for"),
    printcolumn(name = "PHASE", type_ = "string", json_path = ".status.phase", description = "Pending, Approved, Active, Expired, Denied or Revoked"),
    printcolumn(name = "UNTIL", type_ = "string", json_path = ".status.expiresAt", description = "When the access ends (a time, not an age: kubectl shows a future date as invalid)"),
    printcolumn(name = "AGE", type_ = "date", json_path = ".metadata.creationTimestamp")
)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("self == oldSelf").message("an AccessRequest cannot be changed: delete it (which revokes it) and make a new one"))]
pub struct AccessRequestSpec {
    /// The IAM user in the identity account who gets the access: the user of an IamUser object of this namespace (its `userName`, default its name).
    #[schemars(regex(pattern = IAM_USER_NAME_PATTERN))]
    pub user: String,
    /// The CrossAccountRole asked for: one of this namespace with `spec.elevation`.
    pub role: LocalRef,
    /// How long the access lasts once granted, such as `1h` or `30m`: at most the role's `elevation.maxDuration`, at least 15 minutes.
    #[schemars(length(min = 1, max = 32))]
    pub duration: String,
    /// Why the access is needed, for the approvers and the trail, such as a ticket.
    #[schemars(length(min = 1, max = 1024))]
    pub reason: String,
}

/// Where a request stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum AccessPhase {
    /// Waiting for approvals.
    Pending,
    /// Approved by enough approvers; the grant is being written.
    Approved,
    /// Granted: the user may assume the role until `expiresAt`.
    Active,
    /// The window ended: the grant is removed and older sessions of the role denied.
    Expired,
    /// An approver denied it before it was granted.
    Denied,
    /// Ended early (an approver denied it while active, or the request was deleted): the grant is removed and older sessions of the role denied.
    Revoked,
}

impl AccessPhase {
    /// Whether nothing more happens to the request.
    pub fn is_final(self) -> bool {
        matches!(self, AccessPhase::Expired | AccessPhase::Denied | AccessPhase::Revoked)
    }
}

/// The trail of a request: who asked, who decided, when access began and ended.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccessRequestStatus {
    /// The Kubernetes user who created the request, recorded at admission.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_by: Option<String>,
    /// The Kubernetes users whose approvals count, recorded at admission on their AccessApprovals.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub approved_by: Vec<String>,
    /// The Kubernetes user whose denial ended the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub denied_by: Option<String>,
    /// `Pending`, `Approved`, `Active`, `Expired`, `Denied` or `Revoked`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<AccessPhase>,
    /// ARN of the role granted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// ARN of the IAM user the grant is on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_arn: Option<String>,
    /// Name of the inline policy on the user that grants the access.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_name: Option<String>,
    /// When the grant was written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub granted_at: Option<Time>,
    /// When the access ends: the grant's condition `DateLessThan aws:CurrentTime`, which AWS enforces even while the operator is down.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Time>,
    /// When the access ended (expired, denied or revoked): the role denies its sessions issued before then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<Time>,
    /// A profile for `~/.aws/config` that assumes the role from the user's `default` profile, while active.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws_config: Option<String>,
    #[serde(flatten)]
    pub reconcile: ReconcileStatus,
}

kind_status!(AccessRequestStatus);

#[cfg(test)]
mod tests {
    use kube::core::cel::Validator;

    use super::*;
    use crate::api::tests::{crd_schema, rule_messages};
    use crate::api::{AccessApproval, CrossAccountRole, Decision};

    const EXAMPLES: &str = r#"
apiVersion: awsaccess.dev/v1alpha1
kind: CrossAccountRole
metadata: {name: alfie-prod-operator, namespace: alfie}
spec:
  account: {name: alfie-prod}
  roleName: AlfieProdOperator
  trust: {developerGroups: [{name: alfie-developers}], developerGroupTrust: Members, requireMfa: true}
  permissions: {managedPolicyArns: [arn:aws:iam::aws:policy/AmazonRDSFullAccess]}
  elevation:
    maxDuration: 4h
    approvers: {users: [carol], groups: [alfie-leads]}
    approvals: 1
---
apiVersion: awsaccess.dev/v1alpha1
kind: AccessRequest
metadata: {name: alice-rds-restart, namespace: alfie}
spec:
  user: alice
  role: {name: alfie-prod-operator}
  duration: 1h
  reason: "INC-1234: restart the stuck RDS instance"
status:
  requestedBy: alice@example.com
  approvedBy: [carol@example.com]
  phase: Active
  grantedAt: "2026-12-06T09:00:00Z"
  expiresAt: "2026-12-06T10:00:00Z"
---
apiVersion: awsaccess.dev/v1alpha1
kind: AccessApproval
metadata: {name: alice-rds-restart-carol, namespace: alfie}
spec:
  request: alice-rds-restart
  decision: Approve
  comment: ok, INC-1234
status:
  approvedBy: carol@example.com
"#;

    fn documents() -> Vec<serde_json::Value> {
        EXAMPLES
            .split("\n---\n")
            .map(|doc| serde_yaml_ng::from_str(doc).unwrap())
            .collect()
    }

    #[test]
    fn the_api_examples_round_trip_and_validate() {
        let docs = documents();
        let role: CrossAccountRole = serde_json::from_value(docs[0].clone()).unwrap();
        let elevation = role.spec.elevation.unwrap();
        assert_eq!(elevation.max_duration, "4h");
        assert_eq!(elevation.approvers.groups, ["alfie-leads"]);
        let request: AccessRequest = serde_json::from_value(docs[1].clone()).unwrap();
        assert_eq!(request.status.unwrap().phase, Some(AccessPhase::Active));
        let approval: AccessApproval = serde_json::from_value(docs[2].clone()).unwrap();
        assert_eq!(approval.spec.decision, Decision::Approve);

        let validator = Validator::new();
        validator
            .validate(&crd_schema::<CrossAccountRole>(), &docs[0], None)
            .unwrap();
        validator
            .validate(&crd_schema::<AccessRequest>(), &docs[1], None)
            .unwrap();
        validator
            .validate(&crd_schema::<AccessApproval>(), &docs[2], None)
            .unwrap();
    }

    #[test]
    fn requests_and_approvals_cannot_be_changed_and_approvers_name_someone() {
        let validator = Validator::new();
        let docs = documents();
        let mut longer = docs[1].clone();
        longer["spec"]["duration"] = "4h".into();
        let errors = validator
            .validate(&crd_schema::<AccessRequest>(), &longer, Some(&docs[1]))
            .unwrap_err();
        assert_eq!(
            rule_messages(&errors),
            ["an AccessRequest cannot be changed: delete it (which revokes it) and make a new one"]
        );
        let mut denial = docs[2].clone();
        denial["spec"]["decision"] = "Deny".into();
        let errors = validator
            .validate(&crd_schema::<AccessApproval>(), &denial, Some(&docs[2]))
            .unwrap_err();
        assert_eq!(
            rule_messages(&errors),
            ["an AccessApproval cannot be changed: make a new one"]
        );

        let mut nobody = docs[0].clone();
        nobody["spec"]["elevation"]["approvers"] = serde_json::json!({});
        let errors = validator
            .validate(&crd_schema::<CrossAccountRole>(), &nobody, None)
            .unwrap_err();
        assert_eq!(rule_messages(&errors), ["approvers names nobody: set users or groups"]);
    }

    #[test]
    fn a_decision_defaults_to_approve_and_elevation_to_one_approval() {
        let spec: crate::api::AccessApprovalSpec = serde_json::from_value(serde_json::json!({"request": "r"})).unwrap();
        assert_eq!(spec.decision, Decision::Approve);
        let elevation: Elevation =
            serde_json::from_value(serde_json::json!({"maxDuration": "1h", "approvers": {"users": ["carol"]}}))
                .unwrap();
        assert_eq!(elevation.approvals, 1);
    }
}
