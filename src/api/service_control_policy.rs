//! `ServiceControlPolicy`: an SCP of the organization, compiled from guardrails and raw
//! statements, attached to exactly the targets listed.

use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{
    AccountRef, DeletionPolicy, IAM_ROLE_NAME_PATTERN, ManagementPolicy, Ownership, ReconcileStatus, Tags,
};
use super::organizational_unit::OrganizationalUnitRef;

/// A service control policy: guardrails compiled into Deny statements, raw statements after them, attached to exactly `spec.targets`.
// Clippy takes the repeated `type_ = ...` of the printer columns for duplicated attributes.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, KubeSchema)]
#[kube(
    group = "awsaccess.dev",
    version = "v1alpha1",
    kind = "ServiceControlPolicy",
    doc = "A service control policy (SCP) of the AWS organization: guardrails compiled into Deny statements, raw statements after them, attached to exactly spec.targets.",
    status = "ServiceControlPolicyStatus",
    shortname = "scp",
    category = "awsaccess",
    derive = "PartialEq",
    printcolumn(
        name = "POLICY-ID",
        type_ = "string",
        json_path = ".status.policyId",
        description = "Policy id"
    ),
    printcolumn(
        name = "TARGETS",
        type_ = "integer",
        json_path = ".status.targetCount",
        description = "Roots, OUs and accounts the policy is attached to"
    ),
    printcolumn(
        name = "READY",
        type_ = "string",
        json_path = r#".status.conditions[?(@.type=="Ready")].status"#,
        description = "Whether AWS matches the spec"
    ),
    printcolumn(name = "AGE", type_ = "date", json_path = ".metadata.creationTimestamp")
)]
#[serde(rename_all = "camelCase")]
pub struct ServiceControlPolicySpec {
    /// Name of the policy in Organizations (1 to 128 printable ASCII characters), unique among the organization's policies. Changing it renames the policy in place. Default: `metadata.name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 128), regex(pattern = r"^[\x20-\x7E]+$"))]
    pub policy_name: Option<String>,
    /// Description of the policy in Organizations (up to 512 characters). Default: empty.
    #[serde(default)]
    #[schemars(length(max = 512))]
    pub description: String,
    /// Intent compiled into Deny statements, which come first in the policy.
    #[serde(default)]
    pub guardrails: Guardrails,
    /// A policy document (`Version`, `Statement`) whose statements are appended after the guardrails' own. Compared with AWS by meaning, so key order never causes drift. The compiled document must fit AWS's 5,120 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::api::common::free_form_object")]
    pub document: Option<serde_json::Map<String, serde_json::Value>>,
    /// Where the policy is attached: the whole attachment set. An attachment made elsewhere by hand is removed, one removed by hand is restored. A target whose object is not Ready yet is left out (reason ReferenceNotReady) while the others are attached.
    #[serde(default)]
    pub targets: Targets,
    /// Tags on the policy in Organizations, besides the operator's owner tag (AWS takes 50 in all); keys 1 to 128 characters, not starting with `aws:`; values up to 256 characters. Default: none.
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    #[schemars(schema_with = "crate::api::common::tags_schema")]
    pub tags: Tags,
    /// Take over a policy of this name that the operator did not create. Without it, such a policy makes this object Stalled with reason AlreadyExists.
    #[serde(default)]
    pub adopt_existing: bool,
    /// What happens to the policy when this object is deleted: `Delete` (default) detaches it everywhere and deletes it; `Retain` leaves it, attachments included.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,
    /// `Manage` (default) writes the policy and its attachments; `Observe` only reports how AWS differs from the spec.
    #[serde(default)]
    pub management_policy: ManagementPolicy,
}

/// Intent, compiled into Deny statements with fixed `Sid`s.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct Guardrails {
    /// Deny `organizations:LeaveOrganization`: no account leaves the organization on its own (`Sid` DenyLeavingOrganization).
    #[serde(default)]
    pub deny_leaving_organization: bool,
    /// Deny every request to a region not listed (`StringNotEquals aws:RequestedRegion`), except the actions of global services, which AWS serves from us-east-1 whatever the caller's region: IAM, Organizations, STS, CloudFront, Route 53 and Route 53 Domains, Support, Trusted Advisor, Budgets, Cost Explorer and Cost and Usage Reports, billing (aws-portal), pricing, Health, Global Accelerator, Network Manager, Shield, WAF (classic, regional and v2), Firewall Manager, Direct Connect, KMS, ACM, IAM Identity Center (sso), the marketplace, the account's S3 listing and public-access settings, and `ec2:DescribeRegions` (`Sid` DenyOutsideAllowedRegions). Empty: no region restriction.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(inner(regex(pattern = r"^[a-z]{2}(-[a-z]+)+-[0-9]$")))]
    #[x_kube(merge_strategy = ListMerge::Set)]
    pub allowed_regions: Vec<String>,
    /// Deny every action to the accounts' root users (`StringLike aws:PrincipalArn arn:aws:iam::*:root`, `Sid` DenyRootUser).
    #[serde(default)]
    pub deny_root_user: bool,
    /// IAM roles (by name, in every account the policy reaches) that no one may change or delete, except the organization's access role that the operator and the management account work through (`ArnNotLike aws:PrincipalArn arn:aws:iam::*:role/<access role>`, `Sid` ProtectRoles). The denied actions are IAM's role writes: delete, update, trust, policies, boundary, tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(inner(regex(pattern = IAM_ROLE_NAME_PATTERN)))]
    #[x_kube(merge_strategy = ListMerge::Set)]
    pub protect_roles: Vec<String>,
    /// The EC2 instance types that may be launched, as globs (`t3.*`, `m6i.large`): `ec2:RunInstances` of any other `ec2:InstanceType` is denied (`StringNotLike`, `Sid` DenyOtherInstanceTypes). Empty: any type.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(inner(length(min = 1, max = 64), regex(pattern = r"^[a-z0-9.*?-]+$")))]
    #[x_kube(merge_strategy = ListMerge::Set)]
    pub allowed_instance_types: Vec<String>,
    /// Deny `iam:CreateUser`, `iam:CreateAccessKey`, `iam:CreateLoginProfile` and `iam:UpdateLoginProfile` in the accounts reached: people and automation sign in to the identity account and assume roles (`Sid` DenyIamUsers).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deny_iam_users: bool,
    /// Deny stopping, deleting or disabling CloudTrail, GuardDuty, AWS Config, Security Hub and IAM Access Analyzer (`Sid` ProtectSecurityServices).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub protect_security_services: bool,
    /// Deny `ec2:RunInstances` unless `ec2:MetadataHttpTokens` is `required`: instances only with IMDSv2 (`Sid` RequireImdsV2).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub require_imds_v2: bool,
    /// Deny `ec2:DisableEbsEncryptionByDefault` (`Sid` DenyDisablingEbsEncryption).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deny_disabling_ebs_encryption: bool,
}

/// Where the policy is attached.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Targets {
    /// Attach to the organization's root, so that it reaches every account. Default: false.
    #[serde(default)]
    pub root: bool,
    /// OUs to attach to: OrganizationalUnit objects (`name`) or OUs by id.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub organizational_units: Vec<OrganizationalUnitRef>,
    /// Accounts to attach to: AwsAccount objects (`name`) or accounts by id.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accounts: Vec<AccountRef>,
}

/// What the operator last saw of the policy in AWS.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServiceControlPolicyStatus {
    /// The policy's id, recorded as soon as it is created or found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_id: Option<String>,
    /// The policy's ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    /// Ids of the roots, OUs and accounts the policy is attached to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attached_to: Vec<String>,
    /// How many targets the policy is attached to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_count: Option<i32>,
    /// How the policy became this object's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ownership: Option<Ownership>,
    #[serde(flatten)]
    pub reconcile: ReconcileStatus,
}
crate::api::common::kind_status!(ServiceControlPolicyStatus);
