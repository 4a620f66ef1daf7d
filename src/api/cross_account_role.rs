//! `CrossAccountRole`: an IAM role in a target account, with the trust policy naming who may
//! assume it and the permissions it grants.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::access_request::Elevation;
use super::common::{
    AccountRef, DeletionPolicy, IAM_ROLE_NAME_PATTERN, MAX_SESSION_DURATION_SECONDS, MIN_SESSION_DURATION_SECONDS,
    ManagementPolicy, NamespacedRef, Ownership, PRINCIPAL_ARN_PATTERN, Permissions, ReconcileStatus, SecretKeyRef,
    Tags, default_max_session_duration,
};

/// An IAM role in a target account: who may assume it (trust) and what it may do (permissions).
// Clippy takes the repeated `type_ = ...` of the printer columns for duplicated attributes.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, KubeSchema)]
#[kube(
    group = "awsaccess.dev",
    version = "v1alpha1",
    kind = "CrossAccountRole",
    doc = "An IAM role in a target account, with a trust policy naming who may assume it and the permissions it grants.",
    namespaced,
    status = "CrossAccountRoleStatus",
    shortname = "xar",
    category = "awsaccess",
    derive = "PartialEq",
    validation = Rule::new("has(self.spec.roleName) || size(self.metadata.name) <= 64").message("metadata.name is longer than the 64 characters an IAM role name allows: set spec.roleName"),
    printcolumn(name = "ACCOUNT", type_ = "string", json_path = ".status.accountId", description = "Account the role lives in"),
    printcolumn(name = "ROLE", type_ = "string", json_path = ".status.roleName", description = "IAM role name"),
    printcolumn(name = "READY", type_ = "string", json_path = r#".status.conditions[?(@.type=="Ready")].status"#, description = "Whether AWS matches the spec"),
    printcolumn(name = "REASON", type_ = "string", json_path = r#".status.conditions[?(@.type=="Ready")].reason"#, description = "Reason of the Ready condition"),
    printcolumn(name = "AGE", type_ = "date", json_path = ".metadata.creationTimestamp"),
    printcolumn(name = "ARN", type_ = "string", json_path = ".status.roleArn", description = "IAM role ARN", priority = 1)
)]
#[serde(rename_all = "camelCase")]
pub struct CrossAccountRoleSpec {
    /// The account the role lives in.
    pub account: AccountRef,
    /// Name of the IAM role. Default: `metadata.name`. Changing it replaces the role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = IAM_ROLE_NAME_PATTERN))]
    pub role_name: Option<String>,
    /// Description of the role shown in the IAM console. Default: none. At most 1000 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1000))]
    pub description: Option<String>,
    /// Longest session, in seconds, that assuming the role may ask for: 3600 (one hour, default) to 43200 (twelve hours).
    #[serde(default = "default_max_session_duration")]
    #[schemars(range(min = MIN_SESSION_DURATION_SECONDS, max = MAX_SESSION_DURATION_SECONDS))]
    pub max_session_duration: i32,
    /// Who may assume the role: the role's trust policy.
    pub trust: Trust,
    /// What the role may do. Default: nothing.
    #[serde(default)]
    pub permissions: Permissions,
    /// Tags on the role; the operator adds its own ownership tags besides these. At most 50; keys 1 to 128 characters, not starting with `aws:`; values up to 256 characters.
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    #[schemars(schema_with = "crate::api::common::tags_schema")]
    pub tags: Tags,
    /// What happens to the role when this object is deleted: `Delete` (default) or `Retain`.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,
    /// `Manage` (default) creates and updates the role; `Observe` only reports how AWS differs from the spec.
    #[serde(default)]
    pub management_policy: ManagementPolicy,
    /// Take over a role of this name that already exists and was not created by the operator. Default: false, and such a role makes this object Stalled with reason AlreadyExists.
    #[serde(default)]
    pub adopt_existing: bool,
    /// Access on request: no DeveloperGroup gets standing `sts:AssumeRole` on this role; a person asks with an AccessRequest, others approve with AccessApprovals, and the grant ends on time. The trust policy is unchanged and must still admit the person. Default: none, standing access as `trust` and groups say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elevation: Option<Box<Elevation>>,
}

/// The principals a role trusts, and the conditions on assuming it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("(has(self.accounts) && size(self.accounts) > 0) || (has(self.developerGroups) && size(self.developerGroups) > 0) || (has(self.principals) && size(self.principals) > 0)").message("trust names nobody: set accounts, developerGroups or principals"))]
pub struct Trust {
    /// Accounts whose root is trusted: any identity in them that its own policies allow may assume the role.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 100))]
    pub accounts: Vec<AccountRef>,
    /// DeveloperGroups whose members may assume the role. IAM groups cannot be principals, so the trust goes to the group's account or its members (see `developerGroupTrust`), and the group gets the matching `sts:AssumeRole` permission.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 100))]
    pub developer_groups: Vec<NamespacedRef>,
    /// How `developerGroups` are trusted: `Account` (default) trusts each group's identity account as a whole, so the group's own permission decides; `Members` trusts only the ARNs of the groups' current members.
    #[serde(default)]
    pub developer_group_trust: DeveloperGroupTrust,
    /// Further IAM or STS principal ARNs to trust (users, roles, account roots).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 100), inner(regex(pattern = PRINCIPAL_ARN_PATTERN)))]
    #[x_kube(merge_strategy = ListMerge::Set)]
    pub principals: Vec<String>,
    /// Require MFA to assume the role (condition `aws:MultiFactorAuthPresent`). Default: false.
    #[serde(default)]
    pub require_mfa: bool,
    /// Secret key holding the external ID callers must pass (condition `sts:ExternalId`). Default: no external ID required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id_secret_ref: Option<Box<SecretKeyRef>>,
    /// The moment the trust ends, enforced by AWS itself (condition `DateLessThan` on `aws:CurrentTime`), so access ends on time even while the operator is down. PartnerAccess sets it from its `expiresAt`. Default: no end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<Time>,
}

/// How a role trusts the DeveloperGroups it names.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum DeveloperGroupTrust {
    /// Trust the root of each group's identity account; the group's identity policy decides.
    #[default]
    Account,
    /// Trust only the user ARNs of the groups' members, updated as membership changes.
    Members,
}

/// A Deny on the role's sessions issued before someone left a group that could assume it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionsDenied {
    /// Sessions issued before this moment are denied everything (condition `aws:TokenIssueTime`).
    pub issued_before: Time,
    /// When the Deny is lifted: `issuedBefore` plus the longest session the role allows, when every session it denies has expired.
    pub until: Time,
    /// Who left which group, such as `alice left developers`, or whose elevation ended, such as `alice's AccessRequest alice-rds-restart expired`.
    pub reason: String,
}

/// What the operator last saw of the role in AWS.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CrossAccountRoleStatus {
    /// Id of the account the role lives in, resolved from `spec.account`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// Name of the role, resolved from `spec.roleName` or `metadata.name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_name: Option<String>,
    /// ARN of the role, for trust policies and `aws sts assume-role`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// How the role became this object's. Absent while the operator does not own it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ownership: Option<Ownership>,
    /// ARNs of the customer-managed policies this object owns (`spec.permissions.customerManagedPolicies`), in the role's account.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub customer_managed_policy_arns: Vec<String>,
    /// Opens the AWS console as this role (Switch role), for those the trust policy allows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub console_url: Option<String>,
    /// Sessions of this role issued before a member left a DeveloperGroup that could assume it, or before an AccessRequest for it ended, are denied (inline policy `awsaccess-revoke-older-sessions`) until they would have expired. Absent when no such Deny is in force.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sessions_denied: Option<Box<SessionsDenied>>,
    #[serde(flatten)]
    pub reconcile: ReconcileStatus,
}
crate::api::common::kind_status!(CrossAccountRoleStatus);

#[cfg(test)]
mod tests {
    use kube::core::cel::Validator;
    use serde_json::json;

    use super::*;
    use crate::api::tests::{crd_schema, rule_messages};

    const EXAMPLE: &str = r#"
apiVersion: awsaccess.dev/v1alpha1
kind: CrossAccountRole
metadata:
  name: alfie-full-access
  namespace: alfie
spec:
  account: {name: alfie-dev}
  roleName: AlfieFullAccess
  description: Full access for Alfie developers
  maxSessionDuration: 3600
  trust:
    accounts: [{id: "012345678901"}]
    developerGroups: [{name: alfie-developers}]
    developerGroupTrust: Account
    principals: ["arn:aws:iam::012345678901:user/alice"]
    requireMfa: true
    externalIdSecretRef: {name: alfie-external-id, key: externalId}
  permissions:
    managedPolicyArns: [arn:aws:iam::aws:policy/AdministratorAccess]
    inlinePolicies:
      - name: deny-org-changes
        document: {Version: "2012-10-17", Statement: [{Effect: Deny, Action: "organizations:*", Resource: "*"}]}
    permissionsBoundaryArn: arn:aws:iam::aws:policy/PowerUserAccess
  tags: {team: alfie}
  deletionPolicy: Delete
  adoptExisting: false
status:
  accountId: "345678901234"
  roleArn: arn:aws:iam::345678901234:role/AlfieFullAccess
"#;

    fn role(name: &str, spec: serde_json::Value) -> serde_json::Value {
        json!({
            "apiVersion": "awsaccess.dev/v1alpha1", "kind": "CrossAccountRole",
            "metadata": {"name": name, "namespace": "alfie"}, "spec": spec,
        })
    }

    #[test]
    fn api_example_round_trips() {
        let role: CrossAccountRole = serde_yaml_ng::from_str(EXAMPLE).unwrap();
        assert_eq!(role.spec.account.name.as_deref(), Some("alfie-dev"));
        assert_eq!(role.spec.trust.developer_group_trust, DeveloperGroupTrust::Account);
        assert_eq!(
            role.spec.trust.external_id_secret_ref.as_ref().unwrap().key,
            "externalId"
        );
        let document = role.spec.permissions.inline_policies[0].document.to_value();
        assert_eq!(document["Statement"][0]["Action"], "organizations:*");

        let mut expected: serde_json::Value = serde_yaml_ng::from_str(EXAMPLE).unwrap();
        expected["spec"]["managementPolicy"] = json!("Manage");
        assert_eq!(serde_json::to_value(&role).unwrap(), expected);
    }

    #[test]
    fn omitted_fields_take_documented_defaults() {
        let spec: CrossAccountRoleSpec = serde_json::from_value(json!({
            "account": {"id": "345678901234"},
            "trust": {"accounts": [{"id": "012345678901"}], "externalIdSecretRef": {"name": "partner-id"}},
        }))
        .unwrap();
        assert_eq!(spec.role_name, None);
        assert_eq!(spec.max_session_duration, 3600);
        assert_eq!(spec.trust.developer_group_trust, DeveloperGroupTrust::Account);
        assert!(!spec.trust.require_mfa);
        assert_eq!(spec.trust.external_id_secret_ref.unwrap().key, "externalId");
        assert_eq!(spec.permissions, Permissions::default());
        assert_eq!(spec.deletion_policy, DeletionPolicy::Delete);
        assert_eq!(spec.management_policy, ManagementPolicy::Manage);
        assert!(!spec.adopt_existing);

        let spec_schema = &crd_schema::<CrossAccountRole>()["properties"]["spec"]["properties"];
        assert_eq!(spec_schema["maxSessionDuration"]["default"], 3600);
        assert_eq!(
            spec_schema["trust"]["properties"]["developerGroupTrust"]["default"],
            "Account"
        );
        assert_eq!(spec_schema["deletionPolicy"]["default"], "Delete");
        assert_eq!(spec_schema["managementPolicy"]["default"], "Manage");
    }

    #[test]
    fn cel_rules_accept_the_example_and_reject_what_they_describe() {
        let schema = crd_schema::<CrossAccountRole>();
        let validator = Validator::new();
        let example: serde_json::Value = serde_yaml_ng::from_str(EXAMPLE).unwrap();
        validator.validate(&schema, &example, None).unwrap();

        let both = json!({"account": {"name": "alfie-dev", "id": "345678901234"}, "trust": {"accounts": [{}]}});
        let errors = validator.validate(&schema, &role("r", both), None).unwrap_err();
        assert_eq!(
            rule_messages(&errors),
            [
                "set exactly one of name (an AwsAccount) or id (a 12-digit account id)",
                "set exactly one of name (an AwsAccount) or id (a 12-digit account id)",
            ]
        );

        let nobody = json!({"account": {"id": "345678901234"}, "trust": {"requireMfa": true}});
        let errors = validator.validate(&schema, &role("r", nobody), None).unwrap_err();
        assert_eq!(
            rule_messages(&errors),
            ["trust names nobody: set accounts, developerGroups or principals"]
        );

        let unnamed =
            json!({"account": {"id": "345678901234"}, "trust": {"principals": ["arn:aws:iam::012345678901:root"]}});
        let long_name = "a".repeat(65);
        let errors = validator
            .validate(&schema, &role(&long_name, unnamed.clone()), None)
            .unwrap_err();
        assert!(rule_messages(&errors)[0].starts_with("metadata.name is longer than"));
        let mut named = unnamed;
        named["roleName"] = json!("Short");
        validator.validate(&schema, &role(&long_name, named), None).unwrap();
    }

    #[test]
    fn tag_keys_are_checked() {
        let schema = crd_schema::<CrossAccountRole>();
        let spec = json!({
            "account": {"id": "345678901234"},
            "trust": {"accounts": [{"id": "012345678901"}]},
            "tags": {"aws:cloudformation:stack-name": "x"},
        });
        let errors = Validator::new().validate(&schema, &role("r", spec), None).unwrap_err();
        assert!(rule_messages(&errors)[0].starts_with("tag keys are 1 to 128 characters"));
    }
}
