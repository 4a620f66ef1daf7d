//! `AwsAccount`: a member account of the organization, created through Organizations or
//! adopted by id.

use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{
    ACCOUNT_ID_PATTERN, AccountDeletionPolicy, IAM_ROLE_NAME_PATTERN, MANAGED_POLICY_ARN_PATTERN,
    MAX_SESSION_DURATION_SECONDS, MIN_SESSION_DURATION_SECONDS, ManagementPolicy, ReconcileStatus, Tags,
};

/// A namespace name, or `*` for every namespace.
const ALLOWED_NAMESPACE_PATTERN: &str = r"^(\*|[a-z0-9]([-a-z0-9]*[a-z0-9])?)$";

/// A member account of the AWS organization: created through Organizations, or adopted when `spec.accountId` names an existing one.
// Clippy takes the repeated `type_ = ...` of the printer columns for duplicated attributes.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, KubeSchema)]
#[kube(
    group = "awsaccess.dev",
    version = "v1alpha1",
    kind = "AwsAccount",
    doc = "A member account of the AWS organization: created through Organizations, or adopted when spec.accountId names an existing one.",
    status = "AwsAccountStatus",
    shortname = "awsacct",
    category = "awsaccess",
    derive = "PartialEq",
    printcolumn(
        name = "ACCOUNT-ID",
        type_ = "string",
        json_path = ".status.accountId",
        description = "AWS account id"
    ),
    printcolumn(
        name = "ACCOUNT-NAME",
        type_ = "string",
        json_path = ".spec.accountName",
        description = "Account name in the organization"
    ),
    printcolumn(
        name = "OU",
        type_ = "string",
        json_path = ".spec.organizationalUnit",
        description = "Organizational unit (empty: the root)"
    ),
    printcolumn(
        name = "STATE",
        type_ = "string",
        json_path = ".status.state",
        description = "Account state in AWS"
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
#[x_kube(validation = Rule::new("has(self.accountId) == has(oldSelf.accountId)").message("accountId can be neither added nor removed after creation: create a new AwsAccount to adopt an account"))]
pub struct AwsAccountSpec {
    /// Name of the account in the organization (1 to 50 printable ASCII characters).
    #[schemars(length(min = 1, max = 50), regex(pattern = r"^[\x20-\x7E]+$"))]
    pub account_name: String,
    /// Email address of the account's root user; unique across all of AWS. Immutable: AWS changes it only through the root user.
    #[schemars(length(min = 6, max = 64), regex(pattern = r"^[^\s@]+@[^\s@]+\.[^\s@]+$"))]
    #[x_kube(validation = Rule::new("self == oldSelf").message("email is immutable"))]
    pub email: String,
    /// Where the account sits: an OU path from the root (`Workloads/Development`) or an OU id (`ou-ab12-cd34ef56`). Default: the organization root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        length(min = 1, max = 1024),
        regex(pattern = r"^(ou-[0-9a-z]{4,32}-[0-9a-z]{8,32}|[^/]+(/[^/]+)*)$")
    )]
    pub organizational_unit: Option<String>,
    /// Role in the account that the operator assumes to work inside it; Organizations creates it with new accounts. Default: `OrganizationAccountAccessRole`.
    #[serde(default = "default_access_role_name")]
    #[schemars(regex(pattern = IAM_ROLE_NAME_PATTERN))]
    pub access_role_name: String,
    /// Whether IAM users and roles in the account may see billing, when their policies allow it. Applied when the account is created. Default: `Allow`.
    #[serde(default)]
    pub iam_user_access_to_billing: BillingAccess,
    /// Tags on the account in Organizations. At most 50; keys 1 to 128 characters, not starting with `aws:`; values up to 256 characters. Default: none.
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    #[schemars(schema_with = "crate::api::common::tags_schema")]
    pub tags: Tags,
    /// Adopt this existing member account instead of creating one. Set at creation only; it can be neither changed, added nor removed later.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = ACCOUNT_ID_PATTERN))]
    #[x_kube(validation = Rule::new("self == oldSelf").message("accountId is immutable"))]
    pub account_id: Option<String>,
    /// Namespaces whose CrossAccountRoles, DeveloperGroups, PartnerAccesses and IamUsers may work in this account; `["*"]`: every namespace. Absent or empty: none (the secure default: opening an account to a namespace is the platform team's explicit act). Taking a namespace away locks at once what its objects made here (roles trust nobody, groups lose their members) and deletes nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(inner(length(max = 63), regex(pattern = ALLOWED_NAMESPACE_PATTERN)))]
    #[x_kube(merge_strategy = ListMerge::Set)]
    pub allowed_namespaces: Option<Vec<String>>,
    /// What the namespaces allowed here may ask for in this account. Default: trust outside the organization only through a PartnerAccess, no adoption, no raw role ARNs granted by groups.
    #[serde(default, skip_serializing_if = "AccountGuardrails::is_default")]
    pub guardrails: AccountGuardrails,
    /// What happens to the account when this object is deleted: `Retain` (default) leaves it in the organization, `Close` closes it (an adopted account too, but only when written here: the default never closes). When AWS refuses to close (it closes only a limited number of accounts per 30 days), the object stays, Stalled, until AWS accepts or this is set back to `Retain`.
    #[serde(default)]
    pub deletion_policy: AccountDeletionPolicy,
    /// `Manage` (default) creates and updates the account; `Observe` only reports how AWS differs from the spec.
    #[serde(default)]
    pub management_policy: ManagementPolicy,
}

/// What namespaces may ask for in one account (API.md, "Tenancy and guardrails").
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountGuardrails {
    /// A managed policy put as the permissions boundary on every role made here for a namespace; a spec may name no other boundary. Default: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = MANAGED_POLICY_ARN_PATTERN))]
    pub permissions_boundary_arn: Option<String>,
    /// The managed policies roles and groups here may attach, as globs (`arn:aws:iam::aws:policy/job-function/*`); a policy matching none is not attached. Absent: any (but see `deniedActions` for the identity account's groups).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(inner(length(min = 1, max = 2048)))]
    pub allowed_managed_policy_arns: Option<Vec<String>>,
    /// Actions no inline or customer-managed policy statement here may Allow (`iam:*`, `organizations:*`): wildcards count on both sides (`*` and `iam:Put*` match `iam:*`), case does not, and a `NotAction` that leaves one allowed counts too; an unconditional Deny of it on every resource makes an Allow harmless. A policy that breaks this is not granted. Absent: none in a member account; in the identity account, a DeveloperGroup's policies (AWS-managed ones by name, customer-managed ones by their default version) may not allow IAM escalation (`iam:CreateUser`, `iam:CreateAccessKey`, `iam:Attach*Policy`, `iam:Put*Policy`, `iam:PassRole`, ... and any change to the organization). `[]`: none there either.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(inner(length(min = 1, max = 128)))]
    pub denied_actions: Option<Vec<String>>,
    /// Every role here that people assume (not a PartnerAccess's, which trusts the partner's account) must require MFA (`trust.requireMfa: true`). Default: false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub require_mfa: bool,
    /// The longest session a role here may allow, in seconds (3600 to 43200); a longer `maxSessionDuration` is cut to it. Default: IAM's limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = MIN_SESSION_DURATION_SECONDS, max = MAX_SESSION_DURATION_SECONDS))]
    pub max_session_duration: Option<i32>,
    /// Whether a role here may trust principals outside the organization (accounts no AwsAccount represents): `Deny`, `PartnerAccessOnly` (default: only the roles of a PartnerAccess, which always require an external ID) or `Allow`.
    #[serde(default)]
    pub trust_outside_organization: TrustOutsideOrganization,
    /// Whether objects may take over existing roles, groups and policies here with `adoptExisting: true`. Never the account's access role, the operator's own role, `AWSReserved*` roles, service-linked roles or `protectedRoleNames`. Default: false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_adoption: bool,
    /// Role names no namespace's object may name here, created or adopted (a break-glass role, roles other tools manage).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(inner(regex(pattern = IAM_ROLE_NAME_PATTERN)))]
    #[x_kube(merge_strategy = ListMerge::Set)]
    pub protected_role_names: Vec<String>,
    /// For the identity account: the raw `roleArn` values a DeveloperGroup's `access` may grant, as globs (`*` any run of characters, `?` one). Default: none; roles made by CrossAccountRoles are granted by reference instead.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(inner(length(min = 1, max = 2048)))]
    #[x_kube(merge_strategy = ListMerge::Set)]
    pub allowed_role_arns: Vec<String>,
}

impl AccountGuardrails {
    fn is_default(&self) -> bool {
        *self == AccountGuardrails::default()
    }
}

/// Whether roles may trust principals outside the organization.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum TrustOutsideOrganization {
    /// Never, not even through a PartnerAccess.
    Deny,
    /// Only the roles a PartnerAccess makes, which always require an external ID.
    #[default]
    PartnerAccessOnly,
    /// Any role may trust any account or principal.
    Allow,
}

fn default_access_role_name() -> String {
    "OrganizationAccountAccessRole".to_owned()
}

/// Whether IAM identities in an account may access billing (`IamUserAccessToBilling`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum BillingAccess {
    /// IAM users and roles with the right permissions see billing.
    #[default]
    Allow,
    /// Only the root user sees billing.
    Deny,
}

/// What the operator last saw of the account in AWS.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AwsAccountStatus {
    /// The account's id, once created or adopted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// The account's ARN in Organizations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    /// Lifecycle state of the account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<AccountState>,
    /// Id of the OU the account sits in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organizational_unit_id: Option<String>,
    /// Id of the CreateAccount request, recorded before polling so that a restarted operator resumes it instead of creating a second account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_account_request_id: Option<String>,
    #[serde(flatten)]
    pub reconcile: ReconcileStatus,
}
crate::api::common::kind_status!(AwsAccountStatus);

/// Lifecycle state of the account: `Creating` (CreateAccount running), `Active`, `Suspended` (by AWS), `PendingClosure` (being closed after `deletionPolicy: Close`; AWS keeps it for 90 days), `Failed` (CreateAccount failed; the Stalled condition says why).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum AccountState {
    /// CreateAccount is running.
    Creating,
    /// The account exists and is usable.
    Active,
    /// AWS suspended the account.
    Suspended,
    /// The account is being closed (`deletionPolicy: Close`); AWS keeps it for 90 days.
    PendingClosure,
    /// CreateAccount failed; the Stalled condition says why.
    Failed,
}

#[cfg(test)]
mod tests {
    use kube::core::cel::Validator;
    use serde_json::json;

    use super::*;
    use crate::api::tests::{crd_schema, rule_messages};

    const EXAMPLE: &str = r#"
apiVersion: awsaccess.dev/v1alpha1
kind: AwsAccount
metadata:
  name: alfie-dev
spec:
  accountName: alfie-development
  email: aws+alfie-dev@example.com
  organizationalUnit: Workloads/Development
  accessRoleName: OrganizationAccountAccessRole
  iamUserAccessToBilling: Allow
  tags: {team: alfie, env: dev}
  allowedNamespaces: [alfie, platform]
  deletionPolicy: Retain
status:
  accountId: "345678901234"
  arn: arn:aws:organizations::012345678901:account/o-abcdef1234/345678901234
  state: Active
  organizationalUnitId: ou-ab12-cd34ef56
  createAccountRequestId: car-0123456789abcdef
  observedGeneration: 3
  conditions:
    - type: Ready
      status: "True"
      reason: InSync
      message: ""
      lastTransitionTime: "2026-01-02T03:04:05Z"
      observedGeneration: 3
"#;

    fn minimal_spec() -> serde_json::Value {
        json!({"accountName": "alfie-development", "email": "aws+alfie-dev@example.com"})
    }

    fn with_spec(spec: serde_json::Value) -> serde_json::Value {
        json!({"apiVersion": "awsaccess.dev/v1alpha1", "kind": "AwsAccount", "metadata": {"name": "alfie-dev"}, "spec": spec})
    }

    #[test]
    fn api_example_round_trips() {
        let account: AwsAccount = serde_yaml_ng::from_str(EXAMPLE).unwrap();
        assert_eq!(
            account.spec.organizational_unit.as_deref(),
            Some("Workloads/Development")
        );
        assert_eq!(account.spec.tags["team"], "alfie");
        assert_eq!(
            account.spec.allowed_namespaces,
            Some(vec!["alfie".to_owned(), "platform".to_owned()])
        );
        let status = account.status.as_ref().unwrap();
        assert_eq!(status.state, Some(AccountState::Active));
        assert!(status.reconcile.is_ready_at(Some(3)));
        assert!(!status.reconcile.is_ready_at(Some(4)));

        let source: serde_json::Value = serde_yaml_ng::from_str(EXAMPLE).unwrap();
        let mut expected = source.clone();
        // Retain is the default deletion policy, Manage the default management policy: the
        // typed object spells both out.
        expected["spec"]["managementPolicy"] = json!("Manage");
        assert_eq!(serde_json::to_value(&account).unwrap(), expected);
    }

    #[test]
    fn omitted_fields_take_documented_defaults() {
        let spec: AwsAccountSpec = serde_json::from_value(minimal_spec()).unwrap();
        assert_eq!(spec.access_role_name, "OrganizationAccountAccessRole");
        assert_eq!(spec.iam_user_access_to_billing, BillingAccess::Allow);
        assert_eq!(spec.deletion_policy, AccountDeletionPolicy::Retain);
        assert_eq!(spec.management_policy, ManagementPolicy::Manage);
        assert_eq!(spec.organizational_unit, None);
        assert_eq!(spec.allowed_namespaces, None);

        let spec_schema = &crd_schema::<AwsAccount>()["properties"]["spec"]["properties"];
        assert_eq!(
            spec_schema["accessRoleName"]["default"],
            "OrganizationAccountAccessRole"
        );
        assert_eq!(spec_schema["iamUserAccessToBilling"]["default"], "Allow");
        assert_eq!(spec_schema["deletionPolicy"]["default"], "Retain");
        assert_eq!(spec_schema["managementPolicy"]["default"], "Manage");
    }

    #[test]
    fn email_and_account_id_are_immutable() {
        let schema = crd_schema::<AwsAccount>();
        let validator = Validator::new();
        let created = with_spec(minimal_spec());

        let mut new_email = minimal_spec();
        new_email["email"] = json!("other@example.com");
        let errors = validator
            .validate(&schema, &with_spec(new_email), Some(&created))
            .unwrap_err();
        assert_eq!(rule_messages(&errors), ["email is immutable"]);

        let mut adopted = minimal_spec();
        adopted["accountId"] = json!("345678901234");
        let errors = validator
            .validate(&schema, &with_spec(adopted.clone()), Some(&created))
            .unwrap_err();
        assert!(rule_messages(&errors)[0].starts_with("accountId can be neither added nor removed"));

        let errors = validator
            .validate(&schema, &created, Some(&with_spec(adopted.clone())))
            .unwrap_err();
        assert!(rule_messages(&errors)[0].starts_with("accountId can be neither added nor removed"));

        let mut other_id = adopted.clone();
        other_id["accountId"] = json!("999999999999");
        let errors = validator
            .validate(&schema, &with_spec(other_id), Some(&with_spec(adopted.clone())))
            .unwrap_err();
        assert_eq!(rule_messages(&errors), ["accountId is immutable"]);

        let mut other_tags = adopted.clone();
        other_tags["tags"] = json!({"team": "alfie"});
        validator
            .validate(&schema, &with_spec(other_tags), Some(&with_spec(adopted)))
            .unwrap();
        validator.validate(&schema, &created, None).unwrap();
    }
}
