//! The AWS seam. Reconcilers speak in the small types below and never see an
//! SDK type; `sdk` implements the traits with the AWS SDK for Rust (the
//! integration tests wrap it to count calls and inject failures:
//! tests/integration/support/fault.rs); `fake` is an in-memory AWS behind
//! the same traits, for the unit tests of every driver branch.

pub mod credential_report;
pub mod credentials;
pub mod error;
#[cfg(test)]
pub mod fake;
pub mod inventory;
pub mod pacing;
pub mod read_only;
pub mod sdk;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use async_trait::async_trait;
use k8s_openapi::jiff::Timestamp;
use serde_json::Value;

pub use crate::api::BillingAccess;

pub use error::{AwsError, AwsErrorKind};

pub type AwsResult<T> = Result<T, AwsError>;

/// What IAM assumes for a role created without `MaxSessionDuration`.
pub const DEFAULT_MAX_SESSION_DURATION: i32 = 3600;

/// Treats "already gone" as done, so cleanup is idempotent.
pub fn gone_is_done(result: AwsResult<()>) -> AwsResult<()> {
    match result {
        Err(err) if err.kind == AwsErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// An IAM role as read back from AWS, documents decoded from IAM's URL encoding.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RoleState {
    pub arn: String,
    pub trust_policy: Value,
    pub description: String,
    pub max_session_duration: i32,
    pub permissions_boundary_arn: Option<String>,
    pub tags: BTreeMap<String, String>,
    pub managed_policy_arns: BTreeSet<String>,
    pub inline_policies: BTreeMap<String, Value>,
}

/// What `CreateRole` takes; policies are attached afterwards.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NewRole {
    pub name: String,
    /// The trust policy, as compact JSON.
    pub trust_policy: String,
    pub description: String,
    pub max_session_duration: i32,
    pub permissions_boundary_arn: Option<String>,
    pub tags: BTreeMap<String, String>,
}

/// An IAM group as read back from AWS.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GroupState {
    pub arn: String,
    pub members: BTreeSet<String>,
    pub managed_policy_arns: BTreeSet<String>,
    pub inline_policies: BTreeMap<String, Value>,
}

/// A customer-managed policy as read back from AWS.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ManagedPolicyState {
    pub arn: String,
    pub description: String,
    /// The default version's document, decoded.
    pub document: Value,
    pub default_version: String,
    /// Every version's id, oldest first (the default among them).
    pub versions: Vec<String>,
    /// None when the read carried no tags: the account listing has none for policies.
    pub tags: Option<BTreeMap<String, String>>,
}

/// What IAM's `CreatePolicy` takes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NewManagedPolicy {
    pub name: String,
    pub description: String,
    /// The document, as compact JSON.
    pub document: String,
    pub tags: BTreeMap<String, String>,
}

/// An access key's status, as IAM has it (the SDK's `StatusType` stops at `aws/`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KeyStatus {
    Active,
    Inactive,
}

impl KeyStatus {
    /// IAM's spelling, in status and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyStatus::Active => "Active",
            KeyStatus::Inactive => "Inactive",
        }
    }
}

/// An access key as IAM lists it: never its secret.
#[derive(Clone, Debug, PartialEq)]
pub struct AccessKeyState {
    pub id: String,
    pub status: KeyStatus,
    pub created: Timestamp,
    /// From GetAccessKeyLastUsed; None when never used.
    pub last_used: Option<Timestamp>,
}

/// An IAM user with what IAM requires gone before it can be deleted.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UserState {
    pub arn: String,
    pub path: String,
    pub tags: BTreeMap<String, String>,
    /// Whether it has a console password (a login profile).
    pub login_profile: bool,
    /// When the password was last used to sign in, as GetUser reports it.
    pub password_last_used: Option<Timestamp>,
    /// Oldest first.
    pub access_keys: Vec<AccessKeyState>,
    /// Serial numbers (a virtual device's ARN) of its MFA devices.
    pub mfa_devices: Vec<String>,
    pub inline_policies: BTreeMap<String, Value>,
    pub managed_policy_arns: BTreeSet<String>,
    pub groups: BTreeSet<String>,
}

/// What `CreateUser` takes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NewUser {
    pub name: String,
    pub path: String,
    pub tags: BTreeMap<String, String>,
}

/// A key `CreateAccessKey` made: the only time AWS hands out its secret.
/// Its Debug never shows the secret.
#[derive(Clone, PartialEq)]
pub struct NewAccessKey {
    pub id: String,
    pub secret: String,
}

impl std::fmt::Debug for NewAccessKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewAccessKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// The policy name an IAM policy ARN ends in (`arn:aws:iam::1:policy/path/name`).
pub fn policy_name(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// Every role, group (members included), user and customer-managed policy
/// of one account, keyed by name: what one inventory read returns.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AccountDetails {
    pub roles: BTreeMap<String, RoleState>,
    pub groups: BTreeMap<String, GroupState>,
    /// User name → ARN.
    pub users: BTreeMap<String, String>,
    pub policies: BTreeMap<String, ManagedPolicyState>,
    /// What hangs on each user, by name: the listing carries it, the review reads it.
    pub user_permissions: BTreeMap<String, UserPermissions>,
    /// When each role was made and last used, by name.
    pub role_activity: BTreeMap<String, RoleActivity>,
}

/// A user's tags, groups and policies as the account listing gives them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UserPermissions {
    pub tags: BTreeMap<String, String>,
    pub groups: BTreeSet<String>,
    pub managed_policy_arns: BTreeSet<String>,
    pub inline_policies: BTreeMap<String, Value>,
}

/// A role's `CreateDate` and `RoleLastUsed` (None: not used in IAM's tracking period).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RoleActivity {
    pub created: Option<Timestamp>,
    pub last_used: Option<Timestamp>,
}

pub use credential_report::{CredentialReport, CredentialReportRead, KeyCredentials, UserCredentials};

/// IAM inside one account. Names are IAM names (role, group, user, policy),
/// documents compact JSON.
#[async_trait]
pub trait Iam: Send + Sync {
    /// None when the role does not exist.
    async fn get_role(&self, name: &str) -> AwsResult<Option<RoleState>>;
    /// Returns the new role's ARN.
    async fn create_role(&self, role: &NewRole) -> AwsResult<String>;
    async fn update_trust_policy(&self, role: &str, document: &str) -> AwsResult<()>;
    async fn update_role(&self, role: &str, description: &str, max_session_duration: i32) -> AwsResult<()>;
    async fn put_permissions_boundary(&self, role: &str, policy_arn: &str) -> AwsResult<()>;
    async fn delete_permissions_boundary(&self, role: &str) -> AwsResult<()>;
    async fn attach_role_policy(&self, role: &str, policy_arn: &str) -> AwsResult<()>;
    async fn detach_role_policy(&self, role: &str, policy_arn: &str) -> AwsResult<()>;
    async fn put_role_policy(&self, role: &str, policy_name: &str, document: &str) -> AwsResult<()>;
    async fn delete_role_policy(&self, role: &str, policy_name: &str) -> AwsResult<()>;
    async fn tag_role(&self, role: &str, tags: &BTreeMap<String, String>) -> AwsResult<()>;
    async fn untag_role(&self, role: &str, keys: &[String]) -> AwsResult<()>;
    /// Deletes the role itself; its policies must be gone first.
    async fn delete_role(&self, role: &str) -> AwsResult<()>;

    /// None when the group does not exist.
    async fn get_group(&self, name: &str) -> AwsResult<Option<GroupState>>;
    /// Returns the new group's ARN.
    async fn create_group(&self, name: &str) -> AwsResult<String>;
    /// Deletes the group itself; members and policies must be gone first.
    async fn delete_group(&self, name: &str) -> AwsResult<()>;
    async fn add_user_to_group(&self, group: &str, user: &str) -> AwsResult<()>;
    async fn remove_user_from_group(&self, group: &str, user: &str) -> AwsResult<()>;
    async fn put_group_policy(&self, group: &str, policy_name: &str, document: &str) -> AwsResult<()>;
    async fn delete_group_policy(&self, group: &str, policy_name: &str) -> AwsResult<()>;
    async fn attach_group_policy(&self, group: &str, policy_arn: &str) -> AwsResult<()>;
    async fn detach_group_policy(&self, group: &str, policy_arn: &str) -> AwsResult<()>;
    /// The ARN of each named user that exists; absent names do not exist.
    async fn user_arns(&self, users: &[String]) -> AwsResult<BTreeMap<String, String>>;

    /// The user with its login profile, keys (and their last use), MFA
    /// devices, policies and groups; None when it does not exist.
    async fn get_user(&self, name: &str) -> AwsResult<Option<UserState>>;
    /// Returns the new user's ARN.
    async fn create_user(&self, user: &NewUser) -> AwsResult<String>;
    async fn update_user_path(&self, user: &str, path: &str) -> AwsResult<()>;
    async fn tag_user(&self, user: &str, tags: &BTreeMap<String, String>) -> AwsResult<()>;
    async fn untag_user(&self, user: &str, keys: &[String]) -> AwsResult<()>;
    /// Deletes the user itself; what hangs on it must be gone first.
    async fn delete_user(&self, user: &str) -> AwsResult<()>;
    /// Not safe to repeat blindly: a second one is refused as existing.
    async fn create_login_profile(&self, user: &str, password: &str, reset_required: bool) -> AwsResult<()>;
    async fn delete_login_profile(&self, user: &str) -> AwsResult<()>;
    /// Not safe to repeat blindly: each call makes another key (two at most).
    async fn create_access_key(&self, user: &str) -> AwsResult<NewAccessKey>;
    async fn update_access_key(&self, user: &str, key_id: &str, status: KeyStatus) -> AwsResult<()>;
    async fn delete_access_key(&self, user: &str, key_id: &str) -> AwsResult<()>;
    async fn deactivate_mfa_device(&self, user: &str, serial: &str) -> AwsResult<()>;
    /// Deletes a virtual MFA device (its serial is its ARN) once deactivated.
    async fn delete_virtual_mfa_device(&self, serial: &str) -> AwsResult<()>;
    async fn put_user_policy(&self, user: &str, policy_name: &str, document: &str) -> AwsResult<()>;
    async fn delete_user_policy(&self, user: &str, policy_name: &str) -> AwsResult<()>;
    async fn detach_user_policy(&self, user: &str, policy_arn: &str) -> AwsResult<()>;

    /// None when no customer-managed policy has that ARN.
    async fn get_policy(&self, arn: &str) -> AwsResult<Option<ManagedPolicyState>>;
    /// Returns the new policy's ARN.
    async fn create_policy(&self, policy: &NewManagedPolicy) -> AwsResult<String>;
    /// Adds a version and makes it the default; returns its id. AWS keeps
    /// five versions at most: the caller deletes one first when needed.
    async fn create_policy_version(&self, arn: &str, document: &str) -> AwsResult<String>;
    async fn delete_policy_version(&self, arn: &str, version: &str) -> AwsResult<()>;
    /// Detaches the policy from every role, group and user, deletes its
    /// other versions, then the policy: what IAM requires in that order.
    async fn delete_policy(&self, arn: &str) -> AwsResult<()>;

    /// The whole account in a few paginated calls.
    async fn account_details(&self) -> AwsResult<AccountDetails>;
    /// The account's last credential report, if IAM has one ready.
    async fn get_credential_report(&self) -> AwsResult<CredentialReportRead>;
    /// Asks IAM for a new credential report (IAM makes one at most every
    /// four hours); GetCredentialReport answers in progress until it is made.
    async fn generate_credential_report(&self) -> AwsResult<()>;
    /// The same account with reads that skip any cache, for a difference
    /// about to be corrected or a resource about to be deleted; None when
    /// this one's reads already go to AWS.
    fn fresh(&self) -> Option<&dyn Iam> {
        None
    }
}

/// `iam` with reads straight from AWS.
pub fn fresh(iam: &dyn Iam) -> &dyn Iam {
    iam.fresh().unwrap_or(iam)
}

/// A member account as Organizations describes it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AccountInfo {
    pub id: String,
    pub arn: String,
    pub name: String,
    pub email: String,
    pub state: OrgAccountState,
}

/// An account's state as Organizations reports it (`State`, or the older
/// `Status` where only that is sent).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum OrgAccountState {
    #[default]
    Active,
    PendingActivation,
    Suspended,
    PendingClosure,
    Closed,
    /// A state this version does not know, as AWS spells it.
    Unknown(String),
}

impl OrgAccountState {
    /// Organizations' spelling, for messages.
    pub fn as_str(&self) -> &str {
        match self {
            OrgAccountState::Active => "ACTIVE",
            OrgAccountState::PendingActivation => "PENDING_ACTIVATION",
            OrgAccountState::Suspended => "SUSPENDED",
            OrgAccountState::PendingClosure => "PENDING_CLOSURE",
            OrgAccountState::Closed => "CLOSED",
            OrgAccountState::Unknown(state) => state,
        }
    }
}

/// How a `CreateAccount` request stands.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum CreateAccountState {
    #[default]
    InProgress,
    Succeeded,
    Failed,
    /// A state this version does not know, as AWS spells it.
    Unknown(String),
}

/// The progress of a `CreateAccount` request.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CreateAccountStatus {
    pub request_id: String,
    pub state: CreateAccountState,
    pub account_id: Option<String>,
    pub account_name: String,
    /// AWS's reason when `FAILED`, such as `EMAIL_ALREADY_EXISTS`.
    pub failure_reason: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct NewAccount {
    pub name: String,
    pub email: String,
    pub access_role_name: String,
    pub iam_user_access_to_billing: BillingAccess,
    pub tags: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct OrganizationalUnit {
    pub id: String,
    pub arn: String,
    pub name: String,
}

/// The kinds of Organizations policy the operator manages (the SDK's own
/// enum stops at `aws/`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PolicyType {
    ServiceControlPolicy,
}

impl PolicyType {
    /// Organizations' spelling, in messages and the SDK.
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyType::ServiceControlPolicy => "SERVICE_CONTROL_POLICY",
        }
    }
}

/// A policy as Organizations lists it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PolicySummary {
    pub id: String,
    pub arn: String,
    pub name: String,
    pub description: String,
    /// Made by AWS (`FullAWSAccess`): never the operator's to change.
    pub aws_managed: bool,
}

/// A policy with its document.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Policy {
    pub summary: PolicySummary,
    pub content: Value,
}

/// What `CreatePolicy` and `UpdatePolicy` take; the content is compact JSON.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NewPolicy {
    pub name: String,
    pub description: String,
    pub content: String,
    /// Applied by `CreatePolicy` only.
    pub tags: BTreeMap<String, String>,
}

/// AWS Organizations, called with the operator's own credentials (the
/// management account or a delegated administrator).
#[async_trait]
pub trait Organizations: Send + Sync {
    /// Starts account creation; returns the request id to poll.
    async fn create_account(&self, account: &NewAccount) -> AwsResult<String>;
    async fn describe_create_account_status(&self, request_id: &str) -> AwsResult<CreateAccountStatus>;
    /// Requests in the given states; all pages.
    async fn list_create_account_status(&self, states: &[CreateAccountState]) -> AwsResult<Vec<CreateAccountStatus>>;
    /// Every account of the organization; all pages.
    async fn list_accounts(&self) -> AwsResult<Vec<AccountInfo>>;
    /// None when the account is not a member of this organization.
    async fn describe_account(&self, account_id: &str) -> AwsResult<Option<AccountInfo>>;
    async fn root_id(&self) -> AwsResult<String>;
    /// The direct child OUs of a root or OU; all pages.
    async fn list_organizational_units(&self, parent_id: &str) -> AwsResult<Vec<OrganizationalUnit>>;
    /// The id of the account's parent (a root `r-` or an OU `ou-`).
    async fn parent_of(&self, account_id: &str) -> AwsResult<String>;
    async fn move_account(&self, account_id: &str, from_parent: &str, to_parent: &str) -> AwsResult<()>;
    /// Tags of an account, OU, root or policy, by its id.
    async fn list_tags(&self, resource_id: &str) -> AwsResult<BTreeMap<String, String>>;
    async fn tag_resource(&self, resource_id: &str, tags: &BTreeMap<String, String>) -> AwsResult<()>;
    async fn untag_resource(&self, resource_id: &str, keys: &[String]) -> AwsResult<()>;
    async fn close_account(&self, account_id: &str) -> AwsResult<()>;

    async fn create_organizational_unit(
        &self,
        parent_id: &str,
        name: &str,
        tags: &BTreeMap<String, String>,
    ) -> AwsResult<OrganizationalUnit>;
    /// None when no OU has this id.
    async fn describe_organizational_unit(&self, id: &str) -> AwsResult<Option<OrganizationalUnit>>;
    async fn rename_organizational_unit(&self, id: &str, name: &str) -> AwsResult<()>;
    /// AWS deletes only an empty OU.
    async fn delete_organizational_unit(&self, id: &str) -> AwsResult<()>;
    /// Ids of the accounts directly in a root or OU; all pages.
    async fn list_child_accounts(&self, parent_id: &str) -> AwsResult<Vec<String>>;

    /// The policy types enabled on the root, read fresh: unlike the root's
    /// id, they change.
    /// The policy types enabled in the root, of those the operator manages.
    async fn enabled_policy_types(&self) -> AwsResult<BTreeSet<PolicyType>>;
    async fn enable_policy_type(&self, root_id: &str, policy_type: PolicyType) -> AwsResult<()>;
    /// Policies of one type; all pages.
    async fn list_policies(&self, policy_type: PolicyType) -> AwsResult<Vec<PolicySummary>>;
    /// None when no policy has this id.
    async fn describe_policy(&self, id: &str) -> AwsResult<Option<Policy>>;
    async fn create_policy(&self, policy_type: PolicyType, policy: &NewPolicy) -> AwsResult<PolicySummary>;
    /// Sets name, description and content; tags are left alone.
    async fn update_policy(&self, id: &str, policy: &NewPolicy) -> AwsResult<()>;
    /// AWS deletes only a policy attached nowhere.
    async fn delete_policy(&self, id: &str) -> AwsResult<()>;
    /// Ids of the roots, OUs and accounts the policy is attached to; all pages.
    async fn list_targets_for_policy(&self, id: &str) -> AwsResult<BTreeSet<String>>;
    async fn attach_policy(&self, id: &str, target_id: &str) -> AwsResult<()>;
    async fn detach_policy(&self, id: &str, target_id: &str) -> AwsResult<()>;
}

/// Everything the operator reaches in AWS.
#[async_trait]
pub trait Aws: Send + Sync {
    /// The account the operator's own credentials belong to.
    async fn own_account_id(&self) -> AwsResult<String>;
    /// IAM inside `account_id`: with the operator's own credentials in its own
    /// account, else through the account's `access_role` (assumed once and
    /// cached until shortly before the credentials expire).
    async fn iam(&self, account_id: &str, access_role: &str) -> AwsResult<Arc<dyn Iam>>;
    /// The same, with the writes in a member account made under a role
    /// session named `requester` (the namespace and object asking), so that
    /// its CloudTrail shows who asked for each change.
    async fn iam_for(&self, account_id: &str, access_role: &str, requester: &str) -> AwsResult<Arc<dyn Iam>>;
    fn organizations(&self) -> Arc<dyn Organizations>;
}
