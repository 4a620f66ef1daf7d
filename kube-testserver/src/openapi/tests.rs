use super::*;
use crate::registry::defs_from_crd;

fn crd(kind: &str, plural: &str, scope: &str, spec_properties: Value) -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": { "name": format!("{plural}.awsaccess.dev") },
        "spec": {
            "group": "awsaccess.dev",
            "names": { "kind": kind, "listKind": format!("{kind}List"), "plural": plural, "singular": kind.to_lowercase() },
            "scope": scope,
            "versions": [{
                "name": "v1alpha1",
                "served": true,
                "storage": true,
                "subresources": { "status": {} },
                "schema": { "openAPIV3Schema": {
                    "description": format!("{kind} is a test kind."),
                    "type": "object",
                    "properties": {
                        "metadata": { "type": "object" },
                        "spec": { "description": "What the user wants.", "type": "object", "properties": spec_properties },
                        "status": { "type": "object", "properties": { "roleArn": { "type": "string" } } },
                    },
                }},
            }],
        },
    })
}

fn sample_defs() -> Vec<ResourceDef> {
    let mut defs = builtins();
    defs.extend(defs_from_crd(&crd(
        "CrossAccountRole",
        "crossaccountroles",
        "Namespaced",
        json!({
            "roleName": { "description": "Name of the IAM role.", "type": "string" },
            "trust": { "type": "object", "properties": { "requireMfa": { "type": "boolean" } } },
        }),
    )));
    defs.extend(defs_from_crd(&crd(
        "AwsAccount",
        "awsaccounts",
        "Cluster",
        json!({
            "email": { "type": "string" },
        }),
    )));
    defs
}

fn doc(gv_path: &str) -> Value {
    v3_group_version(&sample_defs(), gv_path).expect("group-version is served")
}

/// cli-runtime's `supportsQueryParamV3`: Go ranges over the paths in random order and
/// stops at the first PATCH for the kind, so every such PATCH must carry the parameter.
fn patch_ops_with_field_validation(doc: &Value, group: &str, version: &str, kind: &str) -> Vec<bool> {
    let wanted = gvk(group, version, kind);
    doc["paths"]
        .as_object()
        .expect("paths")
        .values()
        .filter_map(|item| item.get("patch"))
        .filter(|patch| patch["x-kubernetes-group-version-kind"] == wanted)
        .map(|patch| {
            patch["parameters"].as_array().is_some_and(|params| {
                params
                    .iter()
                    .any(|p| p["name"] == "fieldValidation" && p["in"] == "query")
            })
        })
        .collect()
}

/// kubectl explain's template: the kind from an operation on the resource's paths, then
/// the component schema listing exactly that group-version-kind.
fn explain_schema<'a>(doc: &'a Value, prefix: &str, version: &str, plural: &str) -> &'a Value {
    let candidates = [
        format!("{prefix}/{version}/{plural}"),
        format!("{prefix}/{version}/{plural}/{{name}}"),
        format!("{prefix}/{version}/namespaces/{{namespace}}/{plural}"),
        format!("{prefix}/{version}/namespaces/{{namespace}}/{plural}/{{name}}"),
    ];
    let op_gvk = candidates
        .iter()
        .filter_map(|path| doc["paths"].get(path))
        .flat_map(|item| ["get", "post", "put", "patch", "delete"].map(|m| &item[m]))
        .map(|op| &op["x-kubernetes-group-version-kind"])
        .find(|gvk| gvk.is_object())
        .expect("an operation names the kind");
    doc["components"]["schemas"]
        .as_object()
        .expect("schemas")
        .values()
        .find(|schema| {
            schema["x-kubernetes-group-version-kind"]
                .as_array()
                .is_some_and(|list| list.contains(op_gvk))
        })
        .expect("a schema lists the kind")
}

fn collect_refs<'a>(value: &'a Value, refs: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get("$ref") {
                refs.push(target);
            }
            map.values().for_each(|v| collect_refs(v, refs));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, refs)),
        _ => {}
    }
}

#[test]
fn index_lists_every_served_group_version_with_its_hashed_url() {
    let index = v3_index(&sample_defs());
    let paths = index["paths"].as_object().expect("paths");
    let keys: Vec<&str> = paths.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "api/v1",
            "apis/admissionregistration.k8s.io/v1",
            "apis/apiextensions.k8s.io/v1",
            "apis/apiregistration.k8s.io/v1",
            "apis/apps/v1",
            "apis/authentication.k8s.io/v1",
            "apis/awsaccess.dev/v1alpha1",
            "apis/batch/v1",
            "apis/certificates.k8s.io/v1",
            "apis/coordination.k8s.io/v1",
            "apis/events.k8s.io/v1",
            "apis/rbac.authorization.k8s.io/v1"
        ]
    );
    let url = paths["apis/awsaccess.dev/v1alpha1"]["serverRelativeURL"]
        .as_str()
        .expect("url");
    let hash = url
        .strip_prefix("/openapi/v3/apis/awsaccess.dev/v1alpha1?hash=")
        .expect("url shape");
    assert_eq!(hash.len(), 16);
    assert!(hash.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase()));
}

#[test]
fn hash_follows_the_document() {
    let url =
        |defs: &[ResourceDef]| v3_index(defs)["paths"]["apis/awsaccess.dev/v1alpha1"]["serverRelativeURL"].clone();
    let defs = sample_defs();
    assert_eq!(url(&defs), url(&sample_defs()));
    let mut changed = defs.clone();
    let role = changed
        .iter_mut()
        .find(|d| d.kind == "CrossAccountRole")
        .expect("role def");
    role.schema.as_mut().expect("schema")["properties"]["spec"]["properties"]["extra"] = json!({ "type": "string" });
    assert_ne!(url(&defs), url(&changed));
    assert_eq!(
        v3_index(&defs)["paths"]["api/v1"],
        v3_index(&changed)["paths"]["api/v1"]
    );
}

#[test]
fn unserved_group_version_has_no_document() {
    assert_eq!(v3_group_version(&sample_defs(), "apis/apps/v1beta1"), None);
    assert_eq!(v3_group_version(&sample_defs(), "apis/awsaccess.dev/v1"), None);
}

#[test]
fn patch_operations_support_field_validation_for_custom_kinds() {
    let doc = doc("apis/awsaccess.dev/v1alpha1");
    // main resource and /status, each must say yes
    assert_eq!(
        patch_ops_with_field_validation(&doc, "awsaccess.dev", "v1alpha1", "CrossAccountRole"),
        [true, true]
    );
    assert_eq!(
        patch_ops_with_field_validation(&doc, "awsaccess.dev", "v1alpha1", "AwsAccount"),
        [true, true]
    );
    let namespaced = &doc["paths"]["/apis/awsaccess.dev/v1alpha1/namespaces/{namespace}/crossaccountroles/{name}"];
    assert_eq!(namespaced["patch"]["x-kubernetes-action"], "patch");
    let param_names: Vec<&str> = namespaced["patch"]["parameters"]
        .as_array()
        .expect("params")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(param_names, ["dryRun", "fieldManager", "fieldValidation", "force"]);
    let shared: Vec<&str> = namespaced["parameters"]
        .as_array()
        .expect("path params")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(shared, ["name", "namespace", "pretty"]);
    assert!(
        doc["paths"]
            .get("/apis/awsaccess.dev/v1alpha1/awsaccounts/{name}/status")
            .is_some()
    );
    assert!(
        doc["paths"]
            .get("/apis/awsaccess.dev/v1alpha1/namespaces/{namespace}/awsaccounts")
            .is_none()
    );
}

#[test]
fn builtin_kinds_support_field_validation_including_the_namespace_kubectl_falls_back_to() {
    for (gv_path, group, kind) in [
        ("api/v1", "", "Namespace"),
        ("api/v1", "", "Secret"),
        ("api/v1", "", "ConfigMap"),
        ("api/v1", "", "Event"),
        ("apis/events.k8s.io/v1", "events.k8s.io", "Event"),
        ("apis/coordination.k8s.io/v1", "coordination.k8s.io", "Lease"),
        (
            "apis/apiextensions.k8s.io/v1",
            "apiextensions.k8s.io",
            "CustomResourceDefinition",
        ),
        (
            "apis/admissionregistration.k8s.io/v1",
            "admissionregistration.k8s.io",
            "ValidatingWebhookConfiguration",
        ),
    ] {
        let support = patch_ops_with_field_validation(&doc(gv_path), group, "v1", kind);
        assert!(
            !support.is_empty() && support.iter().all(|s| *s),
            "{gv_path} {kind}: {support:?}"
        );
    }
}

#[test]
fn patch_bodies_do_not_offer_strategic_merge_patch() {
    let doc = doc("api/v1");
    let content = &doc["paths"]["/api/v1/namespaces/{namespace}/secrets/{name}"]["patch"]["requestBody"]["content"];
    assert!(content.get("application/merge-patch+json").is_some());
    assert!(content.get("application/strategic-merge-patch+json").is_none());
}

#[test]
fn explain_finds_custom_kinds_with_their_schema_and_object_meta() {
    let doc = doc("apis/awsaccess.dev/v1alpha1");
    let schemas = &doc["components"]["schemas"];
    let role = explain_schema(&doc, "/apis/awsaccess.dev", "v1alpha1", "crossaccountroles");
    assert_eq!(role, &schemas["dev.awsaccess.v1alpha1.CrossAccountRole"]);
    assert_eq!(role["description"], "CrossAccountRole is a test kind.");
    assert_eq!(
        role["properties"]["spec"]["properties"]["roleName"]["description"],
        "Name of the IAM role."
    );
    assert_eq!(role["properties"]["apiVersion"]["type"], "string");
    assert_eq!(role["properties"]["kind"]["type"], "string");
    assert_eq!(
        role["properties"]["metadata"]["allOf"],
        json!([{ "$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta" }])
    );
    let account = explain_schema(&doc, "/apis/awsaccess.dev", "v1alpha1", "awsaccounts");
    assert_eq!(account, &schemas["dev.awsaccess.v1alpha1.AwsAccount"]);
    let list = &schemas["dev.awsaccess.v1alpha1.CrossAccountRoleList"];
    assert_eq!(
        list["x-kubernetes-group-version-kind"],
        json!([gvk("awsaccess.dev", "v1alpha1", "CrossAccountRoleList")])
    );
    assert_eq!(
        list["properties"]["items"]["items"]["$ref"],
        "#/components/schemas/dev.awsaccess.v1alpha1.CrossAccountRole"
    );
    let meta = &schemas[OBJECT_META]["properties"];
    assert_eq!(
        meta["ownerReferences"]["items"]["$ref"],
        format!("#/components/schemas/{OWNER_REFERENCE}")
    );
    assert_eq!(
        meta["managedFields"]["items"]["$ref"],
        format!("#/components/schemas/{MANAGED_FIELDS_ENTRY}")
    );
}

#[test]
fn explain_finds_builtin_kinds_under_their_real_names() {
    for (gv_path, prefix, plural, name) in [
        ("api/v1", "/api", "namespaces", "io.k8s.api.core.v1.Namespace"),
        ("api/v1", "/api", "secrets", "io.k8s.api.core.v1.Secret"),
        ("api/v1", "/api", "configmaps", "io.k8s.api.core.v1.ConfigMap"),
        ("api/v1", "/api", "events", "io.k8s.api.core.v1.Event"),
        (
            "apis/events.k8s.io/v1",
            "/apis/events.k8s.io",
            "events",
            "io.k8s.api.events.v1.Event",
        ),
        (
            "apis/coordination.k8s.io/v1",
            "/apis/coordination.k8s.io",
            "leases",
            "io.k8s.api.coordination.v1.Lease",
        ),
        (
            "apis/apiextensions.k8s.io/v1",
            "/apis/apiextensions.k8s.io",
            "customresourcedefinitions",
            "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition",
        ),
    ] {
        let doc = doc(gv_path);
        let schemas = &doc["components"]["schemas"];
        assert_eq!(explain_schema(&doc, prefix, "v1", plural), &schemas[name], "{name}");
        assert!(schemas[name]["properties"]["metadata"].is_object(), "{name}");
        assert!(
            schemas[format!("{name}List")]["x-kubernetes-group-version-kind"].is_array(),
            "{name}List"
        );
    }
}

#[test]
fn every_reference_resolves_inside_its_document() {
    let defs = sample_defs();
    let index = v3_index(&defs);
    for gv_path in index["paths"].as_object().expect("paths").keys() {
        let doc = v3_group_version(&defs, gv_path).expect("served");
        let mut refs = Vec::new();
        collect_refs(&doc, &mut refs);
        for target in refs {
            let name = target.strip_prefix("#/components/schemas/").expect("local ref");
            assert!(doc["components"]["schemas"].get(name).is_some(), "{gv_path}: {target}");
        }
    }
}

#[test]
fn custom_kind_without_schema_is_a_bare_object() {
    let mut defs = sample_defs();
    let role = defs
        .iter_mut()
        .find(|d| d.kind == "CrossAccountRole")
        .expect("role def");
    role.schema = None;
    let doc = v3_group_version(&defs, "apis/awsaccess.dev/v1alpha1").expect("served");
    assert_eq!(
        doc["components"]["schemas"]["dev.awsaccess.v1alpha1.CrossAccountRole"],
        json!({ "type": "object", "x-kubernetes-group-version-kind": [gvk("awsaccess.dev", "v1alpha1", "CrossAccountRole")] })
    );
}

#[test]
fn operation_ids_follow_kube_openapi() {
    let doc = doc("apis/awsaccess.dev/v1alpha1");
    let item = &doc["paths"]["/apis/awsaccess.dev/v1alpha1/namespaces/{namespace}/crossaccountroles/{name}/status"];
    assert_eq!(
        item["patch"]["operationId"],
        "patchAwsaccessDevV1alpha1NamespacedCrossAccountRoleStatus"
    );
    assert_eq!(item["patch"]["tags"], json!(["awsaccessDev_v1alpha1"]));
    let all = &doc["paths"]["/apis/awsaccess.dev/v1alpha1/crossaccountroles"]["get"];
    assert_eq!(
        all["operationId"],
        "listAwsaccessDevV1alpha1CrossAccountRoleForAllNamespaces"
    );
    assert_eq!(
        all["x-kubernetes-group-version-kind"],
        gvk("awsaccess.dev", "v1alpha1", "CrossAccountRole")
    );
    let core = doc_op_id("api/v1", "/api/v1/namespaces/{name}", "patch");
    assert_eq!(core, "patchCoreV1Namespace");
    let lease = doc_op_id(
        "apis/coordination.k8s.io/v1",
        "/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases",
        "delete",
    );
    assert_eq!(lease, "deleteCoordinationV1CollectionNamespacedLease");
}

fn doc_op_id(gv_path: &str, path: &str, method: &str) -> String {
    doc(gv_path)["paths"][path][method]["operationId"]
        .as_str()
        .expect("operationId")
        .to_owned()
}
