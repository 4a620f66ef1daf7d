//! `PartnerAccess`: roles in some accounts that trust an outside partner's AWS account and
//! require an external ID; revocable, optionally time-bound, transferable.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{
    ACCOUNT_ID_PATTERN, AccountRef, DeletionPolicy, IAM_ROLE_NAME_PATTERN, MAX_SESSION_DURATION_SECONDS,
    MIN_SESSION_DURATION_SECONDS, ManagementPolicy, Permissions, ReconcileStatus, SecretKeyRef, Tags,
    default_max_session_duration,
};

/// Access for an outside partner to some accounts, through roles that trust the partner's AWS account and require an external ID.
// Clippy takes the repeated `type_ = ...` of the printer columns for duplicated attributes.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, KubeSchema)]
#[kube(
    group = "awsaccess.dev",
    version = "v1alpha1",
    kind = "PartnerAccess",
    doc = "Access for an outside development partner to some accounts, through roles that trust the partner's own AWS account and require an external ID. Revocable at any time, optionally time-bound, transferable to another partner by changing spec.partner.",
    namespaced,
    status = "PartnerAccessStatus",
    shortname = "partner",
    category = "awsaccess",
    derive = "PartialEq",
    validation = Rule::new("has(self.spec.roleName) || size(self.metadata.name) <= 56").message("metadata.name is too long for the default role name partner-<name> (64 characters at most): set spec.roleName"),
    printcolumn(name = "PARTNER", type_ = "string", json_path = ".spec.partner.name", description = "Partner name"),
    printcolumn(name = "PARTNER-ACCOUNT", type_ = "string", json_path = ".spec.partner.accountId", description = "AWS account the roles trust"),
    printcolumn(name = "PHASE", type_ = "string", json_path = ".status.phase", description = "Active, Suspended or Expired"),
    printcolumn(name = "EXPIRES", type_ = "string", json_path = ".spec.expiresAt", description = "When the access ends by itself"),
    printcolumn(name = "READY", type_ = "string", json_path = r#".status.conditions[?(@.type=="Ready")].status"#, description = "Whether AWS matches the spec"),
    printcolumn(name = "AGE", type_ = "date", json_path = ".metadata.creationTimestamp")
)]
#[serde(rename_all = "camelCase")]
pub struct PartnerAccessSpec {
    /// The partner, and the AWS account of theirs that the roles trust. Changing it transfers the access to another partner.
    pub partner: Partner,
    /// The accounts the partner gets a role in. At least one.
    #[schemars(length(min = 1, max = 100))]
    pub accounts: Vec<AccountRef>,
    /// Name of the role created in each account. Default: `partner-<metadata.name>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = IAM_ROLE_NAME_PATTERN))]
    pub role_name: Option<String>,
    /// What the roles may do. Default: nothing.
    #[serde(default)]
    pub permissions: Permissions,
    /// Secret key holding the external ID the partner must pass when assuming the roles. Default: the operator generates one into Secret `<metadata.name>-external-id`, key `externalId` (see `status.externalIdSecret`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id_secret_ref: Option<SecretKeyRef>,
    /// Require MFA to assume the roles (condition `aws:MultiFactorAuthPresent`). Default: false.
    #[serde(default)]
    pub require_mfa: bool,
    /// Longest session, in seconds, the partner may ask for: 3600 (one hour, default) to 43200 (twelve hours).
    #[serde(default = "default_max_session_duration")]
    #[schemars(range(min = MIN_SESSION_DURATION_SECONDS, max = MAX_SESSION_DURATION_SECONDS))]
    pub max_session_duration: i32,
    /// When the access ends by itself (RFC 3339): the roles are removed and the phase becomes Expired. Default: never.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Time>,
    /// Remove the access now but keep this object, to restore it later by setting false. Default: false.
    #[serde(default)]
    pub suspended: bool,
    /// Tags on the roles; the operator adds its own ownership tags besides these. At most 50; keys 1 to 128 characters, not starting with `aws:`; values up to 256 characters.
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    #[schemars(schema_with = "crate::api::common::tags_schema")]
    pub tags: Tags,
    /// What happens to the roles when this object is deleted: `Delete` (default) or `Retain`.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,
    /// `Manage` (default) creates and updates the roles; `Observe` only reports how AWS differs from the spec.
    #[serde(default)]
    pub management_policy: ManagementPolicy,
    /// Take over roles of this name that already exist and were not created by the operator. Default: false, and such a role makes this object Stalled with reason AlreadyExists.
    #[serde(default)]
    pub adopt_existing: bool,
}

/// An outside partner and their AWS account.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Partner {
    /// The partner's name, for people (shown in `kubectl get`, used in role descriptions).
    #[schemars(length(min = 1, max = 128))]
    pub name: String,
    /// The partner's 12-digit AWS account id, which the roles trust.
    #[schemars(regex(pattern = ACCOUNT_ID_PATTERN))]
    pub account_id: String,
}

/// What the operator last saw of the partner's roles in AWS.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PartnerAccessStatus {
    /// Whether the partner has access now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<PartnerPhase>,
    /// The roles the partner may assume, one per account.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<PartnerRole>,
    /// Name of the Secret, in this namespace, holding the external ID to hand to the partner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id_secret: Option<String>,
    /// The partner account the roles trusted at the last reconcile. When `spec.partner.accountId` differs, the access is being transferred (recorded with an Event).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner_account_id: Option<String>,
    #[serde(flatten)]
    pub reconcile: ReconcileStatus,
}
crate::api::common::kind_status!(PartnerAccessStatus);

/// Whether the partner has access now: `Active` (the roles exist and trust the partner), `Suspended` (`spec.suspended` is true; the roles are removed), `Expired` (`spec.expiresAt` has passed; the roles are removed).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum PartnerPhase {
    /// The roles exist and trust the partner.
    Active,
    /// `spec.suspended` is true: the roles are removed.
    Suspended,
    /// `spec.expiresAt` has passed: the roles are removed.
    Expired,
}

/// A role the partner may assume.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PartnerRole {
    /// Id of the account the role lives in.
    pub account: String,
    /// ARN of the role.
    pub role_arn: String,
}

#[cfg(test)]
mod tests {
    use kube::core::cel::Validator;
    use serde_json::json;

    use super::*;
    use crate::api::tests::{crd_schema, rule_messages};

    const EXAMPLE: &str = r#"
apiVersion: awsaccess.dev/v1alpha1
kind: PartnerAccess
metadata:
  name: sembit
  namespace: partners
spec:
  partner: {name: Sembit, accountId: "444455556666"}
  accounts: [{name: companyx-staging}]
  roleName: SembitAccess
  permissions:
    managedPolicyArns: [arn:aws:iam::aws:policy/PowerUserAccess]
  requireMfa: false
  maxSessionDuration: 3600
  expiresAt: "2027-01-31T00:00:00Z"
  suspended: false
status:
  phase: Active
  roles: [{account: "555566667777", roleArn: arn:aws:iam::555566667777:role/SembitAccess}]
  externalIdSecret: sembit-external-id
"#;

    #[test]
    fn api_example_round_trips() {
        let access: PartnerAccess = serde_yaml_ng::from_str(EXAMPLE).unwrap();
        assert_eq!(access.spec.partner.account_id, "444455556666");
        assert_eq!(
            access.spec.expires_at.as_ref().unwrap().0.to_string(),
            "2027-01-31T00:00:00Z"
        );
        let status = access.status.as_ref().unwrap();
        assert_eq!(status.phase, Some(PartnerPhase::Active));
        assert_eq!(status.roles[0].role_arn, "arn:aws:iam::555566667777:role/SembitAccess");

        let mut expected: serde_json::Value = serde_yaml_ng::from_str(EXAMPLE).unwrap();
        expected["spec"]["deletionPolicy"] = json!("Delete");
        expected["spec"]["managementPolicy"] = json!("Manage");
        expected["spec"]["adoptExisting"] = json!(false);
        assert_eq!(serde_json::to_value(&access).unwrap(), expected);
    }

    #[test]
    fn omitted_fields_take_documented_defaults() {
        let spec: PartnerAccessSpec = serde_json::from_value(json!({
            "partner": {"name": "Sembit", "accountId": "444455556666"},
            "accounts": [{"id": "555566667777"}],
        }))
        .unwrap();
        assert_eq!(spec.role_name, None);
        assert_eq!(spec.external_id_secret_ref, None);
        assert_eq!(spec.max_session_duration, 3600);
        assert_eq!(spec.expires_at, None);
        assert!(!spec.suspended && !spec.require_mfa && !spec.adopt_existing);
        assert_eq!(spec.deletion_policy, DeletionPolicy::Delete);
    }

    #[test]
    fn default_role_name_must_fit_iam() {
        let schema = crd_schema::<PartnerAccess>();
        let access = |name: &str| {
            json!({
                "apiVersion": "awsaccess.dev/v1alpha1", "kind": "PartnerAccess",
                "metadata": {"name": name, "namespace": "partners"},
                "spec": {"partner": {"name": "Sembit", "accountId": "444455556666"}, "accounts": [{"name": "staging"}]},
            })
        };
        let validator = Validator::new();
        validator.validate(&schema, &access(&"a".repeat(56)), None).unwrap();
        let errors = validator.validate(&schema, &access(&"a".repeat(57)), None).unwrap_err();
        assert!(rule_messages(&errors)[0].starts_with("metadata.name is too long"));
    }
}
