//! Types every kind shares: references to accounts, objects and secrets, the deletion and
//! management policies, IAM permissions, tags and the reconcile status (conditions).

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::KubeSchema;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

/// An AWS account id: exactly twelve digits, leading zeros included (hence a string).
pub const ACCOUNT_ID_PATTERN: &str = r"^[0-9]{12}$";
/// The characters and length IAM accepts in a role name.
pub const IAM_ROLE_NAME_PATTERN: &str = r"^[\w+=,.@-]{1,64}$";
/// The characters and length IAM accepts in a group name.
pub const IAM_GROUP_NAME_PATTERN: &str = r"^[\w+=,.@-]{1,128}$";
/// The characters and length IAM accepts in a user name.
pub const IAM_USER_NAME_PATTERN: &str = r"^[\w+=,.@-]{1,64}$";
/// The characters and length IAM accepts in an inline policy name.
pub const IAM_POLICY_NAME_PATTERN: &str = r"^[\w+=,.@-]{1,128}$";
/// An AWS-managed (`iam::aws:`) or customer-managed (`iam::<account>:`) policy ARN, in any partition (aws, aws-cn, aws-us-gov).
pub const MANAGED_POLICY_ARN_PATTERN: &str = r"^arn:aws[a-z-]*:iam::(aws|[0-9]{12}):policy/.+$";
/// An IAM role ARN, in any partition.
pub const ROLE_ARN_PATTERN: &str = r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$";
/// An IAM or STS principal ARN (account root, user, role, assumed-role session).
pub const PRINCIPAL_ARN_PATTERN: &str = r"^arn:aws[a-z-]*:(iam|sts)::[0-9]{12}:.+$";
/// A Kubernetes object name as used for Secrets, AwsAccounts and the namespaced kinds (RFC 1123 subdomain).
pub const OBJECT_NAME_PATTERN: &str = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
/// A namespace name (RFC 1123 label).
pub const NAMESPACE_PATTERN: &str = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";

/// The shortest session STS allows on a role (one hour), and the IAM default.
pub const MIN_SESSION_DURATION_SECONDS: i32 = 3600;
/// The longest session IAM allows on a role (twelve hours).
pub const MAX_SESSION_DURATION_SECONDS: i32 = 43200;

/// Serde and schema default of every `maxSessionDuration`.
pub fn default_max_session_duration() -> i32 {
    MIN_SESSION_DURATION_SECONDS
}

/// Which AWS account an object works in: either an `AwsAccount` by name, or any account by id.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("has(self.name) != has(self.id)").message("set exactly one of name (an AwsAccount) or id (a 12-digit account id)"))]
pub struct AccountRef {
    /// Name of an AwsAccount object (cluster-scoped). The account must be Active and list this object's namespace in `spec.allowedNamespaces` (or `*`). Exactly one of `name` and `id` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 253), regex(pattern = OBJECT_NAME_PATTERN))]
    pub name: Option<String>,
    /// A 12-digit AWS account id. Where an object works (a role's `account`), it must be the id of an AwsAccount that allows this object's namespace; where it is trusted (`trust.accounts`), an id no AwsAccount represents counts as outside the organization. Exactly one of `name` and `id` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = ACCOUNT_ID_PATTERN))]
    pub id: Option<String>,
}

/// A reference to another object of this API by name, optionally in another namespace.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NamespacedRef {
    /// Name of the referenced object.
    #[schemars(length(min = 1, max = 253), regex(pattern = OBJECT_NAME_PATTERN))]
    pub name: String,
    /// Namespace of the referenced object. Default: the namespace of the object that holds this reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 63), regex(pattern = NAMESPACE_PATTERN))]
    pub namespace: Option<String>,
}

/// A key of a Secret in the namespace of the object that holds this reference.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecretKeyRef {
    /// Name of the Secret, in the same namespace as the referring object.
    #[schemars(length(min = 1, max = 253), regex(pattern = OBJECT_NAME_PATTERN))]
    pub name: String,
    /// Key inside the Secret's `data` whose value is used. Default: `externalId`.
    #[serde(default = "default_secret_key")]
    #[schemars(length(min = 1, max = 253))]
    pub key: String,
}

fn default_secret_key() -> String {
    "externalId".to_owned()
}

/// What happens in AWS to an IAM role or group when its object is deleted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum DeletionPolicy {
    /// Delete what the operator created (never what it did not create or adopt).
    #[default]
    Delete,
    /// Leave it in AWS untouched; only the Kubernetes object goes away.
    Retain,
}

/// What happens in AWS to a member account when its AwsAccount object is deleted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum AccountDeletionPolicy {
    /// Keep the account in the organization, untouched.
    #[default]
    Retain,
    /// Close the account (AWS keeps it suspended for 90 days before it is gone for good).
    Close,
}

/// Whether the operator writes to AWS or only reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ManagementPolicy {
    /// Create, update and (per deletionPolicy) delete in AWS to match the spec.
    #[default]
    Manage,
    /// Only read AWS and report in the conditions how it differs from the spec; write nothing. For adopting an existing setup safely before switching to Manage.
    Observe,
}

/// How the role or group became this object's: `Created` by the operator, or `Adopted` (`adoptExisting: true`). Absent while the operator does not own it (not created yet, or `managementPolicy: Observe`). IAM groups take no tags, so for them this is the only record of ownership; a second object naming the same group or role in the same account is Stalled with reason AlreadyManaged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Ownership {
    /// The operator created it for this object.
    Created,
    /// It existed before and this object took it over (`adoptExisting: true`).
    Adopted,
}

/// The permissions an IAM role grants.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct Permissions {
    /// ARNs of managed policies to attach, AWS-managed (`arn:aws:iam::aws:policy/...`) or customer-managed in the role's account. Policies attached by anyone else are detached. Default: none. At most 20, the highest IAM quota per role (the default quota is 10).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 20), inner(regex(pattern = MANAGED_POLICY_ARN_PATTERN)))]
    #[x_kube(merge_strategy = ListMerge::Set)]
    pub managed_policy_arns: Vec<String>,
    /// Inline policies embedded in the role, unique by name. Inline policies not listed here are deleted. Default: none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["name".into()]))]
    pub inline_policies: Vec<InlinePolicy>,
    /// Customer-managed policies the operator creates in the role's account, tags as owned by this object and attaches to the role. A changed document becomes the policy's new default version (AWS keeps five: the oldest non-default one is deleted first); a policy removed from this list is detached and deleted with all its versions. Hand edits (a new default version, a detach) are reverted at the next resync. A policy of the same name that the operator did not create is left alone (Stalled, AlreadyExists) unless `adoptExisting` is true. Counts with `managedPolicyArns` toward IAM's 20 attached policies per role. Default: none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 20))]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["name".into()]))]
    pub customer_managed_policies: Vec<CustomerManagedPolicy>,
    /// ARN of a managed policy that caps what the role can do, whatever its other policies allow. Default: no boundary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = MANAGED_POLICY_ARN_PATTERN))]
    pub permissions_boundary_arn: Option<String>,
}

/// A policy document embedded in a role under a name.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct InlinePolicy {
    /// Name of the inline policy, unique within the role.
    #[schemars(regex(pattern = IAM_POLICY_NAME_PATTERN))]
    pub name: String,
    /// The IAM policy document as an object (`Version`, `Statement`), written in YAML or JSON. Compared with AWS semantically, so key order and single-element arrays never cause drift.
    #[schemars(schema_with = "free_form_object")]
    pub document: PolicyDocument,
}

/// A managed policy that lives and dies with the role that needs it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomerManagedPolicy {
    /// Name of the policy in the role's account, unique there (IAM policy names are per account).
    #[schemars(regex(pattern = IAM_POLICY_NAME_PATTERN))]
    pub name: String,
    /// What the policy is for, shown in the IAM console. IAM cannot change a policy's description once it exists: a new description applies only to a policy created after the change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1000))]
    pub description: Option<String>,
    /// The IAM policy document as an object (`Version`, `Statement`), at most 6 144 characters without whitespace. Compared with the policy's default version semantically, so key order and single-element arrays never cause a new version.
    #[schemars(schema_with = "free_form_object")]
    pub document: PolicyDocument,
}

/// An IAM policy document, a JSON object (`Version`, `Statement`), held as
/// its compact JSON text with keys sorted, as serde_json writes a map. Every
/// role in the cache carries its documents, and as a tree of JSON values a
/// one-statement document takes over a kilobyte (a B-tree node per object);
/// as text, a tenth of that. A reconcile reads the tree back with
/// [`PolicyDocument::to_value`]. It (de)serialises as the object it is, so
/// manifests, the API server's objects and the CRD are unchanged; equal
/// documents have equal text, so comparing the text compares the documents.
#[derive(Clone, PartialEq, Eq)]
pub struct PolicyDocument(Box<str>);

impl PolicyDocument {
    /// The document of `object`; an error only when its text would nest
    /// too deep to be read back (serde_json stops at 128 levels).
    pub fn new(object: serde_json::Map<String, serde_json::Value>) -> Result<Self, serde_json::Error> {
        let text = serde_json::to_string(&object)?;
        serde_json::from_str::<serde::de::IgnoredAny>(&text)?;
        Ok(PolicyDocument(text.into_boxed_str()))
    }

    fn object(&self) -> Result<serde_json::Map<String, serde_json::Value>, serde_json::Error> {
        serde_json::from_str(&self.0)
    }

    /// The document as JSON values, to validate and compare with AWS.
    pub fn to_value(&self) -> serde_json::Value {
        // `new` read the text back once, so it parses: never null.
        self.object().map(serde_json::Value::Object).unwrap_or_default()
    }
}

impl Default for PolicyDocument {
    fn default() -> Self {
        PolicyDocument("{}".into())
    }
}

impl std::fmt::Debug for PolicyDocument {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for PolicyDocument {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.object().map_err(serde::ser::Error::custom)?.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for PolicyDocument {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let object = serde_json::Map::deserialize(deserializer)?;
        PolicyDocument::new(object).map_err(serde::de::Error::custom)
    }
}

/// Schema of a JSON object whose content the API server keeps as given (IAM documents).
pub(crate) fn free_form_object(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "x-kubernetes-preserve-unknown-fields": true,
    })
}

/// AWS tags: key → value.
pub type Tags = BTreeMap<String, String>;

/// Schema of a `tags` map with the limits AWS puts on tags, so a bad tag fails at `kubectl apply` instead of at the AWS call.
pub(crate) fn tags_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "maxProperties": 50,
        "additionalProperties": {"type": "string", "maxLength": 256},
        "x-kubernetes-validations": [{
            "rule": "self.all(k, size(k) >= 1 && size(k) <= 128 && !k.startsWith('aws:'))",
            "message": "tag keys are 1 to 128 characters and must not start with the reserved prefix aws:",
        }],
    })
}

/// A kind's status: its own fields plus the conditions every kind shares.
pub trait KindStatus: PartialEq + Serialize + Default + Clone + Send + Sync {
    fn reconcile(&self) -> &ReconcileStatus;
    fn reconcile_mut(&mut self) -> &mut ReconcileStatus;
}

/// `KindStatus` for a status with the shared conditions in its `reconcile` field.
macro_rules! kind_status {
    ($status:ty) => {
        impl $crate::api::common::KindStatus for $status {
            fn reconcile(&self) -> &$crate::api::common::ReconcileStatus {
                &self.reconcile
            }
            fn reconcile_mut(&mut self) -> &mut $crate::api::common::ReconcileStatus {
                &mut self.reconcile
            }
        }
    };
}
pub(crate) use kind_status;

/// Status fields every kind shares, flattened into each kind's status.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReconcileStatus {
    /// The `metadata.generation` of the spec that the status describes. Conditions are current only when this equals `metadata.generation`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Current state in kstatus terms, one entry per type: `Ready` (AWS matches the spec), `Reconciling` (work under way), `Stalled` (nothing changes until the spec or something outside the operator changes; the message says what to fix).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["type".into()]))]
    pub conditions: Vec<Condition>,
}

impl ReconcileStatus {
    /// The condition of the given type, if it has been set.
    pub fn condition(&self, condition_type: ConditionType) -> Option<&Condition> {
        self.conditions
            .iter()
            .find(|condition| condition.type_ == condition_type.as_str())
    }

    /// Whether AWS matches the spec of `generation`: an older Ready says nothing about a newer spec, which is what a dependent object (a group granting a role) must wait for.
    pub fn is_ready_at(&self, generation: Option<i64>) -> bool {
        self.observed_generation == generation
            && self
                .condition(ConditionType::Ready)
                .is_some_and(|ready| ready.status == "True")
    }
}

/// The condition types every kind reports (kstatus).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConditionType {
    /// AWS matches the spec as of `observedGeneration`.
    Ready,
    /// Work is under way.
    Reconciling,
    /// Nothing will change until the spec or something outside the operator changes.
    Stalled,
}

impl ConditionType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ready => "Ready",
            Self::Reconciling => "Reconciling",
            Self::Stalled => "Stalled",
        }
    }
}

/// Condition and Event reasons: PascalCase and stable, since users alert
/// and wait on them. Every reason the operator emits is here; the README's
/// troubleshooting table is checked against this list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, strum::IntoStaticStr, strum::EnumString, strum::EnumIter)]
pub enum Reason {
    /// The AWS resource was created and matches the spec.
    Created,
    /// AWS already matched the spec; nothing was written.
    InSync,
    /// A changed spec was carried into AWS.
    Updated,
    /// Out-of-band changes in AWS were reverted to match the spec.
    DriftCorrected,
    /// `managementPolicy: Observe` and AWS differs from the spec; the message lists how.
    DriftDetected,
    /// An AWS operation that takes a while (creating an account) is under way.
    Creating,
    /// A referenced object is missing or not Ready yet.
    ReferenceNotReady,
    /// The account is not an AwsAccount that allows this object's namespace, or a reference crosses namespaces without the other side's consent.
    NamespaceNotAllowed,
    /// The spec asks for what its AwsAccount's `guardrails` do not allow; the message names the field and the guardrail.
    GuardrailViolation,
    /// The spec is contradictory or incomplete in a way the schema cannot catch.
    InvalidSpec,
    /// A policy document was rejected by AWS or by a guardrail.
    PolicyRejected,
    /// A role, group or user of that name exists and was not created by the operator; set `adoptExisting: true` to take it over. Or a Secret an IamUser names exists and is not its own.
    AlreadyExists,
    /// Another object already manages the same role or group in the same account.
    AlreadyManaged,
    /// Some listed group members are not IAM users; the others are in the group.
    MissingUsers,
    /// AWS returned an error; the message carries it.
    AwsError,
    /// AWS throttled the operator; it retries with backoff.
    Throttled,
    /// AWS says the thing acted on does not exist.
    NotFound,
    /// The operator's credentials may not make the call; the message names the action.
    AccessDenied,
    /// An AWS quota was reached (roles per account, accounts closed per month, ...).
    LimitExceeded,
    /// A principal named in a trust policy is too new for IAM to accept yet; retried.
    PrincipalNotReady,
    /// The Kubernetes API failed a read or write; retried.
    KubernetesError,
    /// A PartnerAccess passed its `expiresAt`, or an AccessRequest its window.
    Expired,
    /// A PartnerAccess is suspended, or an AwsAccount is suspended in AWS.
    Suspended,
    /// The AwsAccount's `organizationalUnit` names no OU (yet); the operator looks again with backoff.
    OrganizationalUnitNotFound,
    /// An OrganizationalUnit being deleted (`deletionPolicy: Delete`) still holds accounts or OUs; it is deleted once empty.
    NotEmpty,
    /// AWS failed the CreateAccount request; the message carries AWS's reason (`EMAIL_ALREADY_EXISTS`, ...).
    CreateAccountFailed,
    /// The account is not (or no longer) a member of the operator's organization.
    NotInOrganization,
    /// The account's email in AWS is not `spec.email`: the operator writes nothing to an account it cannot confirm is the one meant.
    EmailDiffers,
    /// The account's name in AWS is not `spec.accountName`; Organizations cannot rename accounts, so the operator reports it.
    NameDiffers,
    /// Event: an existing account or role was taken over.
    Adopted,
    /// Event: the object was deleted and its AWS resource kept (`deletionPolicy: Retain`, Observe).
    Retained,
    /// Event: the AWS resource was deleted (the object was, or the spec moved it).
    Deleted,
    /// Event: the account was closed on deletion (`deletionPolicy: Close`).
    Closed,
    /// Event: a PartnerAccess moved to another partner account; trust rewritten in place.
    PartnerChanged,
    /// Event: a PartnerAccess removed one of its roles.
    RoleRemoved,
    /// Event: a PartnerAccess generated its external ID into a Secret.
    ExternalIdGenerated,
    /// Event: the namespace lost its account, and what the object made there was locked (a role trusts nobody, a group has no members).
    Locked,
    /// Event: an adopted resource, or one kept by `deletionPolicy: Retain`, lost the operator's owner mark when its object went.
    Released,
    /// Event: someone asked for access with an AccessRequest.
    Requested,
    /// An AccessRequest waits for approvals from the approvers its role names.
    AwaitingApproval,
    /// Event: an AccessRequest has the approvals its role needs; the grant is written next.
    Approved,
    /// An AccessRequest's grant is on the IAM user until `status.expiresAt`.
    Granted,
    /// An approver denied an AccessRequest before it was granted.
    Denied,
    /// An AccessRequest was ended early (denied while active, deleted, or its namespace lost an account): the grant is gone and older sessions of the role denied.
    Revoked,
    /// An AccessApproval counts towards its AccessRequest.
    Counted,
    /// An AccessApproval counts for nothing: its approver is the requester or is not named by the role's `elevation.approvers`.
    ApprovalIgnored,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod reason_tests {
    use std::collections::BTreeSet;

    use strum::IntoEnumIterator;

    use super::Reason;

    /// The reasons named in the first column of the README's troubleshooting table.
    fn documented() -> BTreeSet<String> {
        let readme = include_str!("../../README.md");
        let table = readme
            .split("## Troubleshooting by condition reason")
            .nth(1)
            .expect("the README has a troubleshooting section");
        table
            .lines()
            .skip_while(|line| !line.starts_with("| Reason"))
            .skip(2)
            .take_while(|line| line.starts_with('|'))
            .flat_map(|row| {
                let first_cell = row.split('|').nth(1).unwrap_or_default();
                first_cell
                    .split('`')
                    .skip(1)
                    .step_by(2)
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    #[test]
    fn every_reason_is_in_the_readmes_table_and_nothing_else() {
        let emitted: BTreeSet<String> = Reason::iter().map(|r| r.as_str().to_owned()).collect();
        let documented = documented();
        let undocumented: Vec<_> = emitted.difference(&documented).collect();
        let unknown: Vec<_> = documented.difference(&emitted).collect();
        assert!(
            undocumented.is_empty(),
            "reasons missing from the README's table: {undocumented:?}"
        );
        assert!(
            unknown.is_empty(),
            "the README documents reasons the code never emits: {unknown:?}"
        );
    }

    #[test]
    fn a_reason_reads_back_from_its_name() {
        for reason in Reason::iter() {
            assert_eq!(reason.as_str().parse::<Reason>(), Ok(reason));
        }
        assert!("NoSuchReason".parse::<Reason>().is_err());
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_policy_document_reads_and_writes_as_the_object_it_holds() {
        let from_yaml: PolicyDocument = serde_yaml_ng::from_str(
            "{Version: '2012-10-17', Statement: [{Effect: Deny, Action: 'organizations:*', Resource: '*'}]}",
        )
        .unwrap();
        let reordered: PolicyDocument = serde_json::from_str(
            r#"{"Statement": [{"Resource": "*", "Action": "organizations:*", "Effect": "Deny"}], "Version": "2012-10-17"}"#,
        )
        .unwrap();
        assert_eq!(from_yaml, reordered);
        let expected = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "organizations:*", "Resource": "*"}]});
        assert_eq!(from_yaml.to_value(), expected);
        assert_eq!(serde_json::to_value(&from_yaml).unwrap(), expected);
        let as_yaml = serde_yaml_ng::to_string(&from_yaml).unwrap();
        assert_eq!(
            serde_yaml_ng::from_str::<serde_json::Value>(&as_yaml).unwrap(),
            expected
        );
        let other: PolicyDocument = serde_json::from_value(json!({"Version": "2012-10-17", "Statement": []})).unwrap();
        assert_ne!(from_yaml, other);
        assert_eq!(PolicyDocument::default().to_value(), json!({}));
    }

    #[test]
    fn a_policy_document_must_be_an_object() {
        let error = serde_json::from_str::<PolicyDocument>(r#""Allow everything""#).unwrap_err();
        assert!(error.to_string().contains("expected a map"), "{error}");
    }
}
