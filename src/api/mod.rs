//! The operator's API, `awsaccess.dev/v1alpha1`: the kinds users write and the status
//! they read back (contract: API.md of the project's shared docs). Types only; no client code.

pub mod access_approval;
pub mod access_request;
pub mod aws_account;
pub mod common;
pub mod cross_account_role;
pub mod developer_group;
pub mod guard;
pub mod iam_user;
pub mod organizational_unit;
pub mod partner_access;
pub mod service_control_policy;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;

pub use common::{
    AccountDeletionPolicy, AccountRef, ConditionType, CustomerManagedPolicy, DeletionPolicy, InlinePolicy,
    ManagementPolicy, NamespacedRef, Ownership, Permissions, PolicyDocument, Reason, ReconcileStatus, SecretKeyRef,
    Tags,
};

/// Each kind's public types, at the top of `api` too.
macro_rules! kind_exports {
    ($($field:ident: $kind:ident => $module:ident,)*) => {
        $(pub use $module::*;)*
    };
}
crate::kinds::for_each_kind!(kind_exports);

/// The CustomResourceDefinitions of every kind, in the order they depend on each other.
pub fn crds() -> Vec<CustomResourceDefinition> {
    macro_rules! crds_of {
        ($($field:ident: $kind:ident => $module:ident,)*) => {
            vec![$($kind::crd()),*]
        };
    }
    crate::kinds::for_each_kind!(crds_of)
}

/// The CRDs as one YAML stream: what `aws-access-operator crd` prints and `crds/` holds.
pub fn crds_yaml() -> Result<String, serde_yaml_ng::Error> {
    let documents = crds()
        .iter()
        .map(serde_yaml_ng::to_string)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(documents.iter().map(|doc| format!("---\n{doc}")).collect())
}

#[cfg(test)]
pub(crate) mod tests {
    use kube::core::cel::{ValidationErrors, compile_schema, estimate_rule_cost};
    use serde_json::{Value, json};

    use super::*;

    /// The openAPIV3Schema of a kind's CRD, as JSON.
    pub(crate) fn crd_schema<K: CustomResourceExt>() -> Value {
        openapi_schema(&K::crd())
    }

    fn openapi_schema(crd: &CustomResourceDefinition) -> Value {
        let version = &crd.spec.versions[0];
        serde_json::to_value(&version.schema.as_ref().unwrap().open_api_v3_schema).unwrap()
    }

    pub(crate) fn rule_messages(errors: &ValidationErrors) -> Vec<&str> {
        errors.iter().map(|error| error.message.as_str()).collect()
    }

    /// Every node of a schema with its JSON path, parents before children.
    fn schema_nodes<'a>(path: String, node: &'a Value, out: &mut Vec<(String, &'a Value)>) {
        out.push((path.clone(), node));
        if let Some(properties) = node.get("properties").and_then(Value::as_object) {
            for (name, child) in properties {
                schema_nodes(format!("{path}.{name}"), child, out);
            }
        }
        for keyword in ["items", "additionalProperties"] {
            if let Some(child) = node.get(keyword).filter(|child| child.is_object()) {
                schema_nodes(format!("{path}[{keyword}]"), child, out);
            }
        }
    }

    /// The structural-schema rules of apiextensions that a derived schema can break.
    fn structural_violations(schema: &Value) -> Vec<String> {
        let mut nodes = Vec::new();
        schema_nodes(String::new(), schema, &mut nodes);
        let mut violations = Vec::new();
        for (path, node) in nodes {
            let free_form = node.get("x-kubernetes-preserve-unknown-fields") == Some(&json!(true))
                || node.get("x-kubernetes-int-or-string") == Some(&json!(true));
            if !free_form && !node.get("type").is_some_and(Value::is_string) {
                violations.push(format!("{path}: no single type"));
            }
            for forbidden in ["$ref", "$defs", "definitions", "oneOf", "anyOf", "allOf", "not"] {
                if node.get(forbidden).is_some() {
                    violations.push(format!("{path}: {forbidden}"));
                }
            }
            if node.get("properties").is_some() && node.get("additionalProperties").is_some() {
                violations.push(format!("{path}: both properties and additionalProperties"));
            }
            if let Some(keys) = node.get("x-kubernetes-list-map-keys").and_then(Value::as_array) {
                let required = &node["items"]["required"];
                for key in keys {
                    let defaulted = node["items"]["properties"][key.as_str().unwrap()]
                        .get("default")
                        .is_some();
                    if !defaulted && !required.as_array().is_some_and(|required| required.contains(key)) {
                        violations.push(format!("{path}: list map key {key} is neither required nor defaulted"));
                    }
                }
            }
        }
        violations
    }

    fn crd_by_kind(kind: &str) -> Value {
        let crd = crds().into_iter().find(|crd| crd.spec.names.kind == kind).unwrap();
        serde_json::to_value(crd).unwrap()
    }

    fn rules_at(crd: &Value, pointer: &str) -> Vec<String> {
        let schema = &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"];
        let node = schema
            .pointer(pointer)
            .unwrap_or_else(|| panic!("no schema node at {pointer}"));
        node["x-kubernetes-validations"]
            .as_array()
            .map(|rules| {
                rules
                    .iter()
                    .map(|rule| rule["rule"].as_str().unwrap().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    fn pattern_at(crd: &Value, pointer: &str) -> String {
        let schema = &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"];
        schema
            .pointer(pointer)
            .unwrap_or_else(|| panic!("no schema node at {pointer}"))["pattern"]
            .as_str()
            .unwrap_or_else(|| panic!("no pattern at {pointer}"))
            .to_owned()
    }

    #[test]
    fn every_crd_is_structural_and_described() {
        for crd in crds() {
            let kind = &crd.spec.names.kind;
            let schema = openapi_schema(&crd);
            assert_eq!(structural_violations(&schema), Vec::<String>::new(), "{kind}");

            let mut nodes = Vec::new();
            schema_nodes(String::new(), &schema, &mut nodes);
            let undescribed: Vec<_> = nodes
                .iter()
                .filter(|(path, node)| {
                    // List items and map values are described by their list or map; apiVersion,
                    // kind and metadata are described by Kubernetes itself.
                    !path.ends_with("[items]")
                        && !path.ends_with("[additionalProperties]")
                        && ![".apiVersion", ".kind", ".metadata"].contains(&path.as_str())
                        && node.get("description").is_none_or(|description| description == "")
                })
                .map(|(path, _)| path.clone())
                .collect();
            assert_eq!(
                undescribed,
                Vec::<String>::new(),
                "{kind}: fields without a description"
            );
        }
    }

    #[test]
    fn every_cel_rule_compiles_within_the_cost_budget() {
        for crd in crds() {
            let schema = openapi_schema(&crd);
            let compiled = compile_schema(&schema);
            assert!(
                !compiled.has_errors(),
                "{}: {:?}",
                crd.spec.names.kind,
                compiled.compilation_errors()
            );
            let mut nodes = Vec::new();
            schema_nodes(String::new(), &schema, &mut nodes);
            for (path, node) in nodes {
                for rule in node["x-kubernetes-validations"].as_array().into_iter().flatten() {
                    let warnings = estimate_rule_cost(rule["rule"].as_str().unwrap(), &compiled);
                    assert!(warnings.is_empty(), "{path}: {warnings:?}");
                }
            }
        }
    }

    #[test]
    fn names_scope_and_categories() {
        let expected = [
            ("AwsAccount", "awsaccounts", "awsacct", "Cluster"),
            ("CrossAccountRole", "crossaccountroles", "xar", "Namespaced"),
            ("DeveloperGroup", "developergroups", "devgroup", "Namespaced"),
            ("PartnerAccess", "partneraccesses", "partner", "Namespaced"),
            ("OrganizationalUnit", "organizationalunits", "ou", "Cluster"),
            ("ServiceControlPolicy", "servicecontrolpolicies", "scp", "Cluster"),
            ("IamUser", "iamusers", "iamuser", "Namespaced"),
            ("AccessRequest", "accessrequests", "accessreq", "Namespaced"),
        ];
        let crds = crds();
        // AccessApproval has no short name of its own: `accessreq` would be too close.
        assert_eq!(crds.len(), expected.len() + 1);
        assert_eq!(crds[expected.len()].spec.names.plural, "accessapprovals");
        for (crd, (kind, plural, short_name, scope)) in crds.iter().zip(expected) {
            assert_eq!(crd.spec.group, "awsaccess.dev");
            assert_eq!(crd.spec.names.kind, kind);
            assert_eq!(crd.spec.names.plural, plural);
            assert_eq!(crd.spec.names.short_names, Some(vec![short_name.to_owned()]));
            assert_eq!(crd.spec.names.categories, Some(vec!["awsaccess".to_owned()]));
            assert_eq!(crd.spec.scope, scope);
            let version = &crd.spec.versions[0];
            assert_eq!(
                (version.name.as_str(), version.served, version.storage),
                ("v1alpha1", true, true)
            );
            let subresources = serde_json::to_value(&version.subresources).unwrap();
            assert_eq!(subresources, json!({"status": {}}), "{kind}");
        }
    }

    const READY: &str = r#"READY string .status.conditions[?(@.type=="Ready")].status"#;
    const REASON: &str = r#"REASON string .status.conditions[?(@.type=="Ready")].reason"#;
    const AGE: &str = "AGE date .metadata.creationTimestamp";

    /// The kind's printer columns as `NAME type jsonPath`, ` (wide)` after those `-o wide` adds.
    fn printer_columns(kind: &str) -> Vec<String> {
        let crd = crd_by_kind(kind);
        crd["spec"]["versions"][0]["additionalPrinterColumns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|column| {
                let wide = match column["priority"].as_i64() {
                    Some(1) => " (wide)",
                    _ => "",
                };
                let (name, type_, path) = (&column["name"], &column["type"], &column["jsonPath"]);
                format!(
                    "{} {} {}{wide}",
                    name.as_str().unwrap(),
                    type_.as_str().unwrap(),
                    path.as_str().unwrap()
                )
            })
            .collect()
    }

    #[test]
    fn printer_columns_of_the_cluster_kinds_match_the_api_document() {
        let expected = [
            (
                "AwsAccount",
                vec![
                    "ACCOUNT-ID string .status.accountId",
                    "ACCOUNT-NAME string .spec.accountName",
                    "OU string .spec.organizationalUnit",
                    "STATE string .status.state",
                    READY,
                    AGE,
                ],
            ),
            (
                "OrganizationalUnit",
                vec!["OU-ID string .status.id", "PATH string .status.path", READY, AGE],
            ),
            (
                "ServiceControlPolicy",
                vec![
                    "POLICY-ID string .status.policyId",
                    "TARGETS integer .status.targetCount",
                    READY,
                    AGE,
                ],
            ),
        ];
        for (kind, columns) in expected {
            assert_eq!(printer_columns(kind), columns, "{kind}");
        }
    }

    #[test]
    fn printer_columns_of_the_namespaced_kinds_match_the_api_document() {
        let expected = [
            (
                "CrossAccountRole",
                vec![
                    "ACCOUNT string .status.accountId",
                    "ROLE string .status.roleName",
                    READY,
                    REASON,
                    AGE,
                    "ARN string .status.roleArn (wide)",
                ],
            ),
            (
                "DeveloperGroup",
                vec![
                    "GROUP string .status.groupName",
                    "MEMBERS integer .status.memberCount",
                    "ROLES integer .status.roleCount",
                    READY,
                    AGE,
                ],
            ),
            (
                "PartnerAccess",
                vec![
                    "PARTNER string .spec.partner.name",
                    "PARTNER-ACCOUNT string .spec.partner.accountId",
                    "PHASE string .status.phase",
                    "EXPIRES string .spec.expiresAt",
                    READY,
                    AGE,
                ],
            ),
            (
                "IamUser",
                vec![
                    "USER string .status.userName",
                    "STATE string .spec.state",
                    "MFA boolean .status.mfaActive",
                    READY,
                    AGE,
                ],
            ),
            (
                "AccessRequest",
                vec![
                    "USER string .spec.user",
                    "ROLE string .spec.role.name",
                    "PHASE string .status.phase",
                    "UNTIL string .status.expiresAt",
                    AGE,
                ],
            ),
        ];
        for (kind, columns) in expected {
            assert_eq!(printer_columns(kind), columns, "{kind}");
        }
    }

    #[test]
    fn the_account_schema_carries_its_validation_rules() {
        let account = crd_by_kind("AwsAccount");
        assert_eq!(
            rules_at(&account, "/properties/spec/properties/email"),
            ["self == oldSelf"]
        );
        assert_eq!(
            rules_at(&account, "/properties/spec/properties/accountId"),
            ["self == oldSelf"]
        );
        assert_eq!(
            rules_at(&account, "/properties/spec"),
            ["has(self.accountId) == has(oldSelf.accountId)"]
        );
        assert_eq!(
            pattern_at(&account, "/properties/spec/properties/accountId"),
            r"^[0-9]{12}$"
        );
        assert_eq!(
            pattern_at(&account, "/properties/spec/properties/accessRoleName"),
            r"^[\w+=,.@-]{1,64}$"
        );
    }

    #[test]
    fn the_role_schema_carries_its_validation_rules() {
        let role = crd_by_kind("CrossAccountRole");
        let account_ref = "/properties/spec/properties/account";
        assert_eq!(rules_at(&role, account_ref), ["has(self.name) != has(self.id)"]);
        assert_eq!(
            pattern_at(&role, &format!("{account_ref}/properties/id")),
            r"^[0-9]{12}$"
        );
        assert_eq!(
            rules_at(&role, "/properties/spec/properties/trust/properties/accounts/items"),
            ["has(self.name) != has(self.id)"]
        );
        assert_eq!(
            pattern_at(&role, "/properties/spec/properties/roleName"),
            r"^[\w+=,.@-]{1,64}$"
        );
        let duration = &role["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["maxSessionDuration"];
        assert_eq!(
            (duration["minimum"].as_f64(), duration["maximum"].as_f64()),
            (Some(3600.0), Some(43200.0))
        );
        assert_eq!(rules_at(&role, "/properties/spec/properties/tags").len(), 1);
    }

    #[test]
    fn the_role_schema_checks_policy_arns_and_keeps_documents_free_form() {
        let role = crd_by_kind("CrossAccountRole");
        let permissions = "/properties/spec/properties/permissions/properties";
        assert_eq!(
            pattern_at(&role, &format!("{permissions}/managedPolicyArns/items")),
            r"^arn:aws[a-z-]*:iam::(aws|[0-9]{12}):policy/.+$"
        );
        assert_eq!(
            pattern_at(&role, &format!("{permissions}/permissionsBoundaryArn")),
            r"^arn:aws[a-z-]*:iam::(aws|[0-9]{12}):policy/.+$"
        );
        let schema = crd_schema::<CrossAccountRole>();
        let document = &schema["properties"]["spec"]["properties"]["permissions"]["properties"]["inlinePolicies"]["items"]
            ["properties"]["document"];
        assert_eq!(document["x-kubernetes-preserve-unknown-fields"], true);
        assert_eq!(document["type"], "object");
    }

    #[test]
    fn the_group_and_partner_schemas_carry_their_validation_rules() {
        let group = crd_by_kind("DeveloperGroup");
        assert_eq!(
            pattern_at(&group, "/properties/spec/properties/groupName"),
            r"^[\w+=,.@-]{1,128}$"
        );
        assert_eq!(
            rules_at(&group, "/properties/spec/properties/access/items"),
            ["has(self.role) != has(self.roleArn)"]
        );

        let partner = crd_by_kind("PartnerAccess");
        assert_eq!(
            pattern_at(&partner, "/properties/spec/properties/partner/properties/accountId"),
            r"^[0-9]{12}$"
        );
    }

    #[test]
    fn conditions_merge_by_type_under_server_side_apply() {
        for crd in crds() {
            let schema = openapi_schema(&crd);
            let conditions = &schema["properties"]["status"]["properties"]["conditions"];
            assert_eq!(conditions["x-kubernetes-list-type"], "map", "{}", crd.spec.names.kind);
            assert_eq!(conditions["x-kubernetes-list-map-keys"], json!(["type"]));
            let required = conditions["items"]["required"].as_array().unwrap();
            for field in ["type", "status", "reason", "message", "lastTransitionTime"] {
                assert!(required.contains(&json!(field)), "{field}");
            }
            let observed_generation = &schema["properties"]["status"]["properties"]["observedGeneration"];
            assert_eq!(observed_generation["type"], "integer");
        }
    }
}
