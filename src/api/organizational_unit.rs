//! `OrganizationalUnit`: an OU of the organization, nested under the root or another OU.

use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{ManagementPolicy, OBJECT_NAME_PATTERN, Ownership, ReconcileStatus, Tags};

/// An OU id (`ou-ab12-cd34ef56`) or the root's id (`r-ab12`).
pub const OU_OR_ROOT_ID_PATTERN: &str = r"^(ou-[0-9a-z]{4,32}-[0-9a-z]{8,32}|r-[0-9a-z]{4,32})$";

/// An organizational unit of the AWS organization, under the root or under another OrganizationalUnit.
// Clippy takes the repeated `type_ = ...` of the printer columns for duplicated attributes.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, KubeSchema)]
#[kube(
    group = "awsaccess.dev",
    version = "v1alpha1",
    kind = "OrganizationalUnit",
    doc = "An organizational unit (OU) of the AWS organization, under the root or under another OrganizationalUnit.",
    status = "OrganizationalUnitStatus",
    shortname = "ou",
    category = "awsaccess",
    derive = "PartialEq",
    printcolumn(name = "OU-ID", type_ = "string", json_path = ".status.id", description = "OU id"),
    printcolumn(
        name = "PATH",
        type_ = "string",
        json_path = ".status.path",
        description = "OU path from the root, as AwsAccount.spec.organizationalUnit takes it"
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
#[x_kube(validation = Rule::new("has(self.parent) == has(oldSelf.parent)").message("parent is immutable: AWS cannot move an OU; create a new OrganizationalUnit instead"))]
pub struct OrganizationalUnitSpec {
    /// Name of the OU in AWS (1 to 128 printable ASCII characters). Changing it renames the OU in place. Default: `metadata.name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 128), regex(pattern = r"^[\x20-\x7E]+$"))]
    pub ou_name: Option<String>,
    /// Where the OU sits: another OrganizationalUnit (`name`), or an existing OU or the root by id (`id`). Absent: the organization's root. Immutable, since AWS cannot move an OU.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self == oldSelf").message("parent is immutable: AWS cannot move an OU; create a new OrganizationalUnit instead"))]
    pub parent: Option<OrganizationalUnitRef>,
    /// Tags on the OU in Organizations, besides the operator's owner tag (AWS takes 50 in all); keys 1 to 128 characters, not starting with `aws:`; values up to 256 characters. Default: none.
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    #[schemars(schema_with = "crate::api::common::tags_schema")]
    pub tags: Tags,
    /// Take over an OU of this name under this parent that the operator did not create. Without it, such an OU makes this object Stalled with reason AlreadyExists.
    #[serde(default)]
    pub adopt_existing: bool,
    /// What happens to the OU when this object is deleted: `Retain` (default) leaves it; `Delete` deletes it once it is empty, and until then the object stays, its condition naming the accounts and OUs still inside.
    #[serde(default)]
    pub deletion_policy: OrganizationalUnitDeletionPolicy,
    /// `Manage` (default) creates, renames and tags the OU; `Observe` only reports how AWS differs from the spec.
    #[serde(default)]
    pub management_policy: ManagementPolicy,
}

/// An OU: an OrganizationalUnit object by name, or an OU or root in AWS by id.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("has(self.name) != has(self.id)").message("set exactly one of name (an OrganizationalUnit) or id (ou-... or r-...)"))]
pub struct OrganizationalUnitRef {
    /// Name of an OrganizationalUnit object; it is used once it is Ready. Exactly one of `name` and `id` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 253), regex(pattern = OBJECT_NAME_PATTERN))]
    pub name: Option<String>,
    /// Id of an existing OU (`ou-ab12-cd34ef56`) or of the root (`r-ab12`). Exactly one of `name` and `id` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = OU_OR_ROOT_ID_PATTERN))]
    pub id: Option<String>,
}

/// What happens in AWS to an OU when its object is deleted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum OrganizationalUnitDeletionPolicy {
    /// Leave the OU in AWS untouched.
    #[default]
    Retain,
    /// Delete the OU the operator created or adopted, once no account and no OU is left inside.
    Delete,
}

/// What the operator last saw of the OU in AWS.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrganizationalUnitStatus {
    /// The OU's id, recorded as soon as it is created or found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The OU's ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    /// OU names from the root down (`Workloads/Prod`): what `AwsAccount.spec.organizationalUnit` takes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// How the OU became this object's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ownership: Option<Ownership>,
    #[serde(flatten)]
    pub reconcile: ReconcileStatus,
}
crate::api::common::kind_status!(OrganizationalUnitStatus);

#[cfg(test)]
mod tests {
    use kube::core::cel::Validator;
    use serde_json::json;

    use super::*;
    use crate::api::tests::{crd_schema, rule_messages};

    fn with_spec(spec: serde_json::Value) -> serde_json::Value {
        json!({"apiVersion": "awsaccess.dev/v1alpha1", "kind": "OrganizationalUnit", "metadata": {"name": "workloads-prod"}, "spec": spec})
    }

    #[test]
    fn the_parent_can_be_neither_changed_added_nor_removed_but_the_name_can() {
        let schema = crd_schema::<OrganizationalUnit>();
        let validator = Validator::new();
        let created = with_spec(json!({"ouName": "Prod", "parent": {"name": "workloads"}}));
        let moved = with_spec(json!({"ouName": "Prod", "parent": {"name": "sandbox"}}));
        let errors = validator.validate(&schema, &moved, Some(&created)).unwrap_err();
        assert!(rule_messages(&errors)[0].starts_with("parent is immutable"));
        let at_root = with_spec(json!({"ouName": "Prod"}));
        let errors = validator.validate(&schema, &at_root, Some(&created)).unwrap_err();
        assert!(rule_messages(&errors)[0].starts_with("parent is immutable"));
        let renamed = with_spec(json!({"ouName": "Production", "parent": {"name": "workloads"}}));
        validator.validate(&schema, &renamed, Some(&created)).unwrap();
        let both = with_spec(json!({"parent": {"name": "workloads", "id": "r-ab12"}}));
        assert!(validator.validate(&schema, &both, None).is_err());
    }

    #[test]
    fn omitted_fields_take_documented_defaults() {
        let spec: OrganizationalUnitSpec = serde_json::from_value(json!({})).unwrap();
        assert_eq!(spec.deletion_policy, OrganizationalUnitDeletionPolicy::Retain);
        assert_eq!(spec.management_policy, ManagementPolicy::Manage);
        assert!(!spec.adopt_existing);
        let spec_schema = &crd_schema::<OrganizationalUnit>()["properties"]["spec"]["properties"];
        assert_eq!(spec_schema["deletionPolicy"]["default"], "Retain");
    }
}
