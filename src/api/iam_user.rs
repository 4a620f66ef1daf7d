//! `IamUser`: a person or a service account in the identity account; console access with a
//! generated first password and MFA required, or access keys in a Secret, rotated.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{
    AccountRef, DeletionPolicy, IAM_USER_NAME_PATTERN, OBJECT_NAME_PATTERN, Ownership, ReconcileStatus, Tags,
};

/// The characters and length IAM accepts in a path: `/`, or `/` names `/`.
pub const IAM_PATH_PATTERN: &str = r"^/([\x21-\x7E]{0,510}/)?$";

/// A person or a service account in the identity account.
// Clippy takes the repeated `type_ = ...` of the printer columns for duplicated attributes.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, KubeSchema)]
#[kube(
    group = "awsaccess.dev",
    version = "v1alpha1",
    kind = "IamUser",
    doc = "An IAM user in the identity account: a person (console sign-in with a generated first password, MFA required by policy) or a service account (access keys in a Secret, rotated). Group membership stays on DeveloperGroup, whose members name IAM users.",
    namespaced,
    status = "IamUserStatus",
    shortname = "iamuser",
    category = "awsaccess",
    derive = "PartialEq",
    validation = Rule::new("has(self.spec.userName) || size(self.metadata.name) <= 64").message("metadata.name is longer than the 64 characters an IAM user name allows: set spec.userName"),
    printcolumn(name = "USER", type_ = "string", json_path = ".status.userName", description = "IAM user name"),
    printcolumn(name = "STATE", type_ = "string", json_path = ".spec.state", description = "Active or Disabled"),
    printcolumn(name = "MFA", type_ = "boolean", json_path = ".status.mfaActive", description = "Whether the user has an MFA device"),
    printcolumn(name = "READY", type_ = "string", json_path = r#".status.conditions[?(@.type=="Ready")].status"#, description = "Whether AWS matches the spec"),
    printcolumn(name = "AGE", type_ = "date", json_path = ".metadata.creationTimestamp")
)]
#[serde(rename_all = "camelCase")]
pub struct IamUserSpec {
    /// The identity account the user lives in. Default: the AwsAccount of the operator's own account, which must allow this namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<AccountRef>,
    /// Name of the IAM user. Default: `metadata.name`. Changing it replaces the user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = IAM_USER_NAME_PATTERN))]
    pub user_name: Option<String>,
    /// The user's IAM path, such as `/people/`. Default: `/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 512), regex(pattern = IAM_PATH_PATTERN))]
    pub path: Option<String>,
    /// Tags on the user; the operator adds its owner tag besides these. At most 49; keys 1 to 128 characters, not starting with `aws:`; values up to 256 characters.
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    #[schemars(schema_with = "crate::api::common::tags_schema")]
    pub tags: Tags,
    /// Sign-in to the AWS console with a password: for a person.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub console: Option<ConsoleAccess>,
    /// Attach AWS's policy "manage your own MFA device, nothing else until signed in with MFA" (inline policy `awsaccess-require-mfa`), which still lets the user change the first password. Default: false.
    #[serde(default)]
    pub require_mfa: bool,
    /// Programmatic access with an access key written to a Secret: for a service account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_keys: Option<AccessKeys>,
    /// `Active` (default) or `Disabled`: a leaver. Disabled removes the console password, sets every access key Inactive and takes the user out of every group, keeping the user and its ARN for the audit trail. Back to Active restores the console (a new password in the Secret) and programmatic access (a new key in the Secret: a key set Inactive is never made Active again).
    #[serde(default)]
    pub state: UserState,
    /// What happens to the user when this object is deleted: `Delete` (default: login profile, access keys, MFA devices, policies and group memberships removed first, as IAM requires) or `Retain` (kept, the operator's owner tag removed).
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,
    /// Take over a user of this name that already exists and was not created by the operator, where the account's guardrails allow adoption. Default: false, and such a user makes this object Stalled with reason AlreadyExists.
    #[serde(default)]
    pub adopt_existing: bool,
}

/// Console sign-in with a password.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConsoleAccess {
    /// Give the user a console password. Default: false.
    #[serde(default)]
    pub enabled: bool,
    /// The Secret of this namespace the first password is generated into (key `password`, with `userName` and `signInUrl`), owned by this object; required when `enabled`. A Secret of that name that this object did not make is never overwritten. The user must change the password at first sign-in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 253), regex(pattern = OBJECT_NAME_PATTERN))]
    pub password_secret_name: Option<String>,
}

/// An access key in a Secret, rotated after a set age.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccessKeys {
    /// The Secret of this namespace the key is written to (keys `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`), owned by this object. A Secret of that name that this object did not make is never overwritten.
    #[schemars(length(min = 1, max = 253), regex(pattern = OBJECT_NAME_PATTERN))]
    pub secret_name: String,
    /// Age after which the key is replaced, such as `90d`, `12h` or `30s`: a new key is made and written to the Secret, the old one set Inactive after `gracePeriod` and deleted after another. Never more than two keys. Default: never rotated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 32))]
    pub rotate_after: Option<String>,
    /// How long the old key keeps working after a rotation, for whatever still holds it, such as `1h`; it is then set Inactive, and deleted once Inactive for as long again. Default: `24h`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 32))]
    pub grace_period: Option<String>,
}

/// Whether the user may work.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum UserState {
    /// The user signs in and uses its keys as the spec says.
    #[default]
    Active,
    /// A leaver: no console password, every key Inactive, in no group; the user and its ARN are kept.
    Disabled,
}

/// An access key as the status shows it: never its secret.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccessKeyStatus {
    /// The access key id (`AKIA...`).
    pub id: String,
    /// `Active` or `Inactive`.
    pub status: String,
    /// When AWS made the key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<Time>,
    /// When the key was last used, as AWS reports it (it may lag by hours).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<Time>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct IamUserStatus {
    /// Id of the account the user lives in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// Name of the user, resolved from `spec.userName` or `metadata.name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    /// ARN of the user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_arn: Option<String>,
    /// How the user became this object's: `Created` or `Adopted`. The owner tag on the user is the proof; this says whether to delete or release it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ownership: Option<Ownership>,
    /// Where the user signs in to the console.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign_in_url: Option<String>,
    /// Whether the user has an MFA device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mfa_active: Option<bool>,
    /// When the user last signed in with the password (GetUser's `PasswordLastUsed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_last_used: Option<Time>,
    /// Whether the user has a console password now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub console_access: Option<bool>,
    /// The user's access keys: id, status, age and last use; never a secret.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub access_keys: Vec<AccessKeyStatus>,
    /// The IAM groups the user is in.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    #[serde(flatten)]
    pub reconcile: ReconcileStatus,
}
crate::api::common::kind_status!(IamUserStatus);

#[cfg(test)]
mod tests {
    use kube::core::cel::Validator;
    use serde_json::json;

    use super::*;
    use crate::api::tests::crd_schema;

    const EXAMPLE: &str = r#"
apiVersion: awsaccess.dev/v1alpha1
kind: IamUser
metadata: {name: alice, namespace: alfie}
spec:
  account: {name: identity}
  userName: alice
  path: /people/
  tags: {team: alfie}
  console:
    enabled: true
    passwordSecretName: alice-console
  requireMfa: true
  accessKeys:
    secretName: ci-bot-aws
    rotateAfter: 90d
  state: Active
  deletionPolicy: Delete
"#;

    #[test]
    fn api_example_round_trips_and_validates() {
        let user: IamUser = serde_yaml_ng::from_str(EXAMPLE).unwrap();
        assert_eq!(user.spec.path.as_deref(), Some("/people/"));
        assert_eq!(user.spec.state, UserState::Active);
        assert_eq!(
            user.spec.access_keys.as_ref().unwrap().rotate_after.as_deref(),
            Some("90d")
        );
        let schema = crd_schema::<IamUser>();
        let example: serde_json::Value = serde_yaml_ng::from_str(EXAMPLE).unwrap();
        Validator::new().validate(&schema, &example, None).unwrap();
    }

    #[test]
    fn omitted_fields_take_documented_defaults() {
        let spec: IamUserSpec = serde_json::from_value(json!({})).unwrap();
        assert_eq!(spec.state, UserState::Active);
        assert_eq!(spec.deletion_policy, DeletionPolicy::Delete);
        assert!(!spec.require_mfa && !spec.adopt_existing);
        assert!(spec.console.is_none() && spec.access_keys.is_none());
    }
}
