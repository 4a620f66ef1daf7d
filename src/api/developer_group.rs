//! `DeveloperGroup`: an IAM group in the identity account whose members may assume the listed
//! roles.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{
    AccountRef, DeletionPolicy, IAM_GROUP_NAME_PATTERN, IAM_USER_NAME_PATTERN, MANAGED_POLICY_ARN_PATTERN,
    ManagementPolicy, NamespacedRef, Ownership, ROLE_ARN_PATTERN, ReconcileStatus,
};

/// An IAM group in the identity account whose members may assume the listed roles.
// Clippy takes the repeated `type_ = ...` of the printer columns for duplicated attributes.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, KubeSchema)]
#[kube(
    group = "awsaccess.dev",
    version = "v1alpha1",
    kind = "DeveloperGroup",
    doc = "An IAM group in the identity account whose members may assume the listed roles.",
    namespaced,
    status = "DeveloperGroupStatus",
    shortname = "devgroup",
    category = "awsaccess",
    derive = "PartialEq",
    validation = Rule::new("has(self.spec.groupName) || size(self.metadata.name) <= 128").message("metadata.name is longer than the 128 characters an IAM group name allows: set spec.groupName"),
    printcolumn(name = "GROUP", type_ = "string", json_path = ".status.groupName", description = "IAM group name"),
    printcolumn(name = "MEMBERS", type_ = "integer", json_path = ".status.memberCount", description = "Users in the group"),
    printcolumn(name = "ROLES", type_ = "integer", json_path = ".status.roleCount", description = "Roles the members may assume"),
    printcolumn(name = "READY", type_ = "string", json_path = r#".status.conditions[?(@.type=="Ready")].status"#, description = "Whether AWS matches the spec"),
    printcolumn(name = "AGE", type_ = "date", json_path = ".metadata.creationTimestamp")
)]
#[serde(rename_all = "camelCase")]
pub struct DeveloperGroupSpec {
    /// The identity account the group lives in, where its members' IAM users are. Default: the account of the operator's own credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<AccountRef>,
    /// Name of the IAM group. Default: `metadata.name`. Changing it replaces the group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = IAM_GROUP_NAME_PATTERN))]
    pub group_name: Option<String>,
    /// Names of existing IAM users that make up the group; anyone else in the group is removed. Users that do not exist are listed in `status.missingUsers`. Default: nobody.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 1000), inner(regex(pattern = IAM_USER_NAME_PATTERN)))]
    #[x_kube(merge_strategy = ListMerge::Set)]
    pub members: Vec<String>,
    /// Allow assuming the roles only with an MFA-authenticated session (condition `aws:MultiFactorAuthPresent` on the group's `sts:AssumeRole` permission). Default: false.
    #[serde(default)]
    pub require_mfa: bool,
    /// The roles the members may assume; the group gets `sts:AssumeRole` on each of them, and `status.awsConfig` a profile for each. Default: none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 100))]
    pub access: Vec<RoleAccess>,
    /// ARNs of managed policies attached to the group, besides the generated assume-role policy. Policies attached by anyone else are detached. At most 20, the highest IAM quota per group (the default quota is 10). Default: none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 20), inner(regex(pattern = MANAGED_POLICY_ARN_PATTERN)))]
    #[x_kube(merge_strategy = ListMerge::Set)]
    pub managed_policy_arns: Vec<String>,
    /// What happens to the group when this object is deleted: `Delete` (default) or `Retain`.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,
    /// `Manage` (default) creates and updates the group; `Observe` only reports how AWS differs from the spec.
    #[serde(default)]
    pub management_policy: ManagementPolicy,
    /// Take over a group of this name that already exists and was not created by the operator. Default: false, and such a group makes this object Stalled with reason AlreadyExists.
    #[serde(default)]
    pub adopt_existing: bool,
}

/// One role the group's members may assume: a CrossAccountRole object or any role ARN.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("has(self.role) != has(self.roleArn)").message("set exactly one of role (a CrossAccountRole) or roleArn"))]
pub struct RoleAccess {
    /// A CrossAccountRole, by name and optionally namespace (default: this group's namespace). The group waits only until the role's ARN is known (its account resolved), not for the role to be Ready, so a role that trusts this group converges with it. Exactly one of `role` and `roleArn` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<NamespacedRef>,
    /// ARN of a role not managed by a CrossAccountRole object. Its trust policy must already trust the group's account or members. Exactly one of `role` and `roleArn` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = ROLE_ARN_PATTERN))]
    pub role_arn: Option<String>,
    /// Name of the profile for this role in `status.awsConfig`. Default: the role's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[\w+=,.@-]{1,64}$"))]
    pub profile: Option<String>,
}

/// What the operator last saw of the group in AWS.
/// A role the members may assume, as a profile and as a console link.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    /// The profile's name in `awsConfig` (`spec.access[].profile`).
    pub profile: String,
    /// The role the profile assumes.
    pub role_arn: String,
    /// Opens the AWS console as the role (Switch role), named after the profile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub console_url: Option<String>,
}

/// Members who left the group, and when.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MemberRemoval {
    /// When the operator saw them leave, rounded up to the second: sessions issued before it are denied.
    pub at: Time,
    /// The IAM users who left then.
    pub users: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeveloperGroupStatus {
    /// Id of the account the group lives in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// Name of the group, resolved from `spec.groupName` or `metadata.name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_name: Option<String>,
    /// ARN of the group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_arn: Option<String>,
    /// How the group became this object's; IAM groups take no tags, so this is the record of ownership. Absent while the operator does not own it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ownership: Option<Ownership>,
    /// Users currently in the group.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<String>,
    /// Number of users in the group (the MEMBERS column).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_count: Option<i32>,
    /// Users named in `spec.members` that do not exist in the account.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing_users: Vec<String>,
    /// ARNs of the roles the group's members may assume.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assumable_role_arns: Vec<String>,
    /// Number of roles the members may assume (the ROLES column).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_count: Option<i32>,
    /// Profiles for `~/.aws/config`, one per entry of `spec.access`, each assuming its role from the `default` profile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws_config: Option<String>,
    /// Each profile of `awsConfig` with its role and the link that opens the console as that role.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub profiles: Vec<Profile>,
    /// When members last left the group (taken off `spec.members`, their IamUser Disabled or deleted), and who. Every role the group could assume denies sessions issued before then, until they would have expired; kept here so that a restart of the operator keeps the Deny and lifts it on time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_removal: Option<MemberRemoval>,
    #[serde(flatten)]
    pub reconcile: ReconcileStatus,
}
crate::api::common::kind_status!(DeveloperGroupStatus);

#[cfg(test)]
mod tests {
    use kube::core::cel::Validator;
    use serde_json::json;

    use super::*;
    use crate::api::tests::{crd_schema, rule_messages};

    const EXAMPLE: &str = r#"
apiVersion: awsaccess.dev/v1alpha1
kind: DeveloperGroup
metadata:
  name: alfie-developers
  namespace: alfie
spec:
  account: {name: identity}
  groupName: alfie-developers
  members: [alice, bob]
  requireMfa: true
  access:
    - role: {name: alfie-full-access}
      profile: alfie-development
    - role: {name: alfie-deployment, namespace: alfie}
      profile: alfie-qa
    - roleArn: arn:aws:iam::123456789012:role/AlfieReadOnly
      profile: alfie-production
  managedPolicyArns: [arn:aws:iam::aws:policy/IAMUserChangePassword]
  adoptExisting: false
status:
  groupArn: arn:aws:iam::012345678901:group/alfie-developers
  members: [alice, bob]
  missingUsers: []
  assumableRoleArns: [arn:aws:iam::345678901234:role/AlfieFullAccess]
  awsConfig: |
    [profile alfie-development]
    role_arn = arn:aws:iam::345678901234:role/AlfieFullAccess
    source_profile = default
"#;

    #[test]
    fn api_example_round_trips() {
        let group: DeveloperGroup = serde_yaml_ng::from_str(EXAMPLE).unwrap();
        assert_eq!(group.spec.members, ["alice", "bob"]);
        assert_eq!(
            group.spec.access[1].role.as_ref().unwrap().namespace.as_deref(),
            Some("alfie")
        );
        assert_eq!(
            group.spec.access[2].role_arn.as_deref(),
            Some("arn:aws:iam::123456789012:role/AlfieReadOnly")
        );
        let status = group.status.as_ref().unwrap();
        assert!(
            status
                .aws_config
                .as_ref()
                .unwrap()
                .starts_with("[profile alfie-development]\n")
        );

        let mut expected: serde_json::Value = serde_yaml_ng::from_str(EXAMPLE).unwrap();
        expected["spec"]["deletionPolicy"] = json!("Delete");
        expected["spec"]["managementPolicy"] = json!("Manage");
        // An empty list and an absent one mean the same; the typed status omits it.
        expected["status"].as_object_mut().unwrap().remove("missingUsers");
        assert_eq!(serde_json::to_value(&group).unwrap(), expected);
    }

    #[test]
    fn omitted_fields_take_documented_defaults() {
        let spec: DeveloperGroupSpec = serde_json::from_value(json!({})).unwrap();
        assert_eq!(spec.account, None);
        assert_eq!(spec.group_name, None);
        assert!(spec.members.is_empty() && spec.access.is_empty() && spec.managed_policy_arns.is_empty());
        assert!(!spec.require_mfa && !spec.adopt_existing);
        assert_eq!(spec.deletion_policy, DeletionPolicy::Delete);
        assert_eq!(spec.management_policy, ManagementPolicy::Manage);
    }

    #[test]
    fn access_entries_name_exactly_one_role() {
        let schema = crd_schema::<DeveloperGroup>();
        let group = |access: serde_json::Value| {
            json!({
                "apiVersion": "awsaccess.dev/v1alpha1", "kind": "DeveloperGroup",
                "metadata": {"name": "devs", "namespace": "alfie"}, "spec": {"access": access},
            })
        };
        let validator = Validator::new();
        let example: serde_json::Value = serde_yaml_ng::from_str(EXAMPLE).unwrap();
        validator.validate(&schema, &example, None).unwrap();

        let neither = group(json!([{"profile": "p"}]));
        let both = group(json!([{"role": {"name": "r"}, "roleArn": "arn:aws:iam::123456789012:role/R"}]));
        for invalid in [neither, both] {
            let errors = validator.validate(&schema, &invalid, None).unwrap_err();
            assert_eq!(
                rule_messages(&errors),
                ["set exactly one of role (a CrossAccountRole) or roleArn"]
            );
        }
    }
}
