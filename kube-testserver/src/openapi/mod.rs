//! The `/openapi/v3` documents, shaped as kube-apiserver builds them (kube-openapi's
//! builder3 for built-ins, apiextensions-apiserver's builder for CRDs).
//!
//! kubectl 1.32 reads them for two things:
//! - `kubectl apply`'s field-validation check (cli-runtime's `QueryParamVerifierV3`) looks in
//!   the group-version's document for a PATCH operation whose `x-kubernetes-group-version-kind`
//!   names the kind and whose own (operation-level, inline) parameters include
//!   `fieldValidation`. For a CRD whose group-version is not in the index it checks core/v1's
//!   Namespace instead. Any failure makes kubectl fall back to client-side validation through
//!   `/openapi/v2`, which this server does not serve.
//! - `kubectl explain` takes the kind from the `x-kubernetes-group-version-kind` of an operation
//!   on `/apis/<g>/<v>/[namespaces/{namespace}/]<plural>[/{name}]`, then walks the component
//!   schema whose `x-kubernetes-group-version-kind` list holds exactly that
//!   `{group, kind, version}` map, resolving `$ref`s inside `#/components/schemas`.
//!
//! The paths of each document are built in `paths`; the schemas of the built-in kinds are
//! written out in `models` (meta/v1 and the core kinds) and `extension_models`
//! (admissionregistration and apiextensions).

use std::collections::{BTreeSet, HashMap};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::LazyLock;

use serde_json::{Map, Value, json};

use crate::registry::{Builtin, ResourceDef, builtins};

use models::{builtin_model, meta_schemas};
use paths::add_resource_paths;

mod cluster_models;
mod extension_models;
mod models;
mod paths;
#[cfg(test)]
mod tests;
pub mod v2;

const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
const LIST_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta";
const MANAGED_FIELDS_ENTRY: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry";
const OWNER_REFERENCE: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference";
const FIELDS_V1: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1";
const TIME: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Time";
const MICRO_TIME: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime";
const STATUS: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Status";
const STATUS_DETAILS: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.StatusDetails";
const STATUS_CAUSE: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.StatusCause";
const DELETE_OPTIONS: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions";
const PRECONDITIONS: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Preconditions";
const PATCH: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Patch";

const CORE_V1: &str = "io.k8s.api.core.v1";
const EVENTS_V1: &str = "io.k8s.api.events.v1";
const COORDINATION_V1: &str = "io.k8s.api.coordination.v1";
const APIEXTENSIONS_V1: &str = "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1";
const ADMISSIONREGISTRATION_V1: &str = "io.k8s.api.admissionregistration.v1";
const LABEL_SELECTOR: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector";
const LABEL_SELECTOR_REQUIREMENT: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement";

const API_VERSION_DOC: &str = "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources";
const KIND_DOC: &str = "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds";
const OBJECT_METADATA_DOC: &str = "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";
const LIST_METADATA_DOC: &str = "Standard list metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";
const SPEC_STATUS_DOC: &str =
    "More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#spec-and-status";
const DRY_RUN_DOC: &str = "When present, indicates that modifications should not be persisted. An invalid or unrecognized dryRun directive will result in an error response and no further processing of the request. Valid values are: - All: all dry run stages will be processed";
const FIELD_MANAGER_DOC: &str = "fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint.";
const PATCH_FIELD_MANAGER_DOC: &str = "fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint. This field is required for apply requests (application/apply-patch) but optional for non-apply patch types (JsonPatch, MergePatch, StrategicMergePatch).";
const FIELD_VALIDATION_DOC: &str = "fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore: This will ignore any unknown fields that are silently dropped from the object, and will ignore all but the last duplicate field that the decoder encounters. This is the default behavior prior to v1.23. - Warn: This will send a warning via the standard warning response header for each unknown field that is dropped from the object, and for each duplicate field that is encountered. The request will still succeed if there are no other errors, and will only persist the last of any duplicate fields. This is the default in v1.23+ - Strict: This will fail the request with a BadRequest error if any unknown fields would be dropped from the object, or if any duplicate fields are present. The error returned from the server will contain all unknown and duplicate fields encountered.";
const FORCE_DOC: &str = "Force is going to \"force\" Apply requests. It means user will re-acquire conflicting fields owned by other people. Force flag must be unset for non-apply patch requests.";
const GRACE_PERIOD_DOC: &str = "The duration in seconds before the object should be deleted. Value must be non-negative integer. The value zero indicates delete immediately. If this value is nil, the default grace period for the specified type will be used. Defaults to a per object value if not specified. zero means delete immediately.";
const ORPHAN_DOC: &str = "Deprecated: please use the PropagationPolicy, this field will be deprecated in 1.7. Should the dependent objects be orphaned. If true/false, the \"orphan\" finalizer will be added to/removed from the object's finalizers list. Either this field or PropagationPolicy may be set, but not both.";
const PROPAGATION_DOC: &str = "Whether and how garbage collection will be performed. Either this field or OrphanDependents may be set, but not both. The default policy is decided by the existing finalizer set in the metadata.finalizers and the resource-specific default policy. Acceptable values are: 'Orphan' - orphan the dependents; 'Background' - allow the garbage collector to delete the dependents in the background; 'Foreground' - a cascading policy that deletes all dependents in the foreground.";
const RESOURCE_VERSION_DOC: &str = "String that identifies the server's internal version of this object that can be used by clients to determine when objects have changed. Value must be treated as opaque by clients and passed unmodified back to the server. Populated by the system. Read-only. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#concurrency-control-and-consistency";

/// The `/openapi/v3` index: one entry per served group-version, each URL carrying a hash of
/// its document. kubectl's disk cache keys documents by that URL, and the real server marks
/// hashed responses `Cache-Control: public, immutable`, so the hash must change whenever the
/// document does.
pub fn v3_index(defs: &[ResourceDef]) -> Value {
    let gv_paths: BTreeSet<String> = defs.iter().map(gv_path).collect();
    let paths: Map<String, Value> = gv_paths
        .into_iter()
        .filter_map(|path| {
            let doc = v3_group_version(defs, &path)?;
            let url = format!("/openapi/v3/{path}?hash={}", content_hash(&doc));
            Some((path, json!({ "serverRelativeURL": url })))
        })
        .collect();
    json!({ "paths": paths })
}

/// The document for one group-version path such as "api/v1" or "apis/awsaccess.dev/v1alpha1"; None if not served.
pub fn v3_group_version(defs: &[ResourceDef], gv_path_wanted: &str) -> Option<Value> {
    let served: Vec<&ResourceDef> = defs.iter().filter(|def| gv_path(def) == gv_path_wanted).collect();
    if served.is_empty() {
        return None;
    }
    let mut paths = Map::new();
    for def in &served {
        let kind_name = schema_name(def, &def.kind);
        add_resource_paths(def, &kind_name, &schema_name(def, &def.list_kind), &mut paths);
    }
    Some(json!({
        "openapi": "3.0.0",
        "info": { "title": "Kubernetes", "version": "unversioned" },
        "paths": paths,
        "components": { "schemas": kind_schemas(served, custom_kind_schema) },
    }))
}

/// The schemas of the kinds in `defs`, their lists and every schema they refer to, named as
/// kube-openapi names them. A custom resource's own schema comes from `custom`, which differs
/// between the v2 and v3 documents.
fn kind_schemas<'d>(
    defs: impl IntoIterator<Item = &'d ResourceDef>,
    custom: fn(&ResourceDef) -> Value,
) -> Map<String, Value> {
    let mut schemas = meta_schemas();
    for def in defs {
        let kind_name = schema_name(def, &def.kind);
        schemas.insert(schema_name(def, &def.list_kind), list_schema(def, &kind_name));
        let kind_schema = match def.builtin {
            Some(builtin) => {
                let model = builtin_model(builtin);
                schemas.extend(model.helpers);
                with_type_meta(model.schema, def)
            }
            None => custom(def),
        };
        schemas.insert(kind_name, kind_schema);
    }
    schemas
}

fn gv_path(def: &ResourceDef) -> String {
    if def.group.is_empty() {
        format!("api/{}", def.version)
    } else {
        format!("apis/{}/{}", def.group, def.version)
    }
}

/// `DefaultHasher::new()` uses fixed keys, so equal documents hash alike across restarts of
/// one build; a new build may hash differently, which only costs kubectl a cache miss.
fn content_hash(doc: &Value) -> String {
    let mut hasher = DefaultHasher::new();
    doc.to_string().hash(&mut hasher);
    format!("{:016X}", hasher.finish())
}

/// `io.k8s.api.core.v1.Secret` for built-ins; for CRDs the group reversed, as kube-openapi's
/// `ToRESTFriendlyName` does: `dev.awsaccess.v1alpha1.CrossAccountRole`.
fn schema_name(def: &ResourceDef, kind: &str) -> String {
    match def.builtin {
        Some(builtin) => format!("{}.{kind}", builtin_package(builtin)),
        None => {
            let reversed_group: Vec<&str> = def.group.split('.').rev().collect();
            format!("{}.{}.{kind}", reversed_group.join("."), def.version)
        }
    }
}

fn builtin_package(builtin: Builtin) -> &'static str {
    match builtin {
        Builtin::Namespace
        | Builtin::Secret
        | Builtin::ConfigMap
        | Builtin::CoreEvent
        | Builtin::Pod
        | Builtin::Service
        | Builtin::ServiceAccount
        | Builtin::Node
        | Builtin::ComponentStatus => CORE_V1,
        Builtin::Deployment => cluster_models::APPS_V1,
        Builtin::Job => cluster_models::BATCH_V1,
        Builtin::Role | Builtin::RoleBinding | Builtin::ClusterRole | Builtin::ClusterRoleBinding => {
            cluster_models::RBAC_V1
        }
        Builtin::CertificateSigningRequest => cluster_models::CERTIFICATES_V1,
        Builtin::ApiService => cluster_models::APIREGISTRATION_V1,
        Builtin::TokenReview => cluster_models::AUTHENTICATION_V1,
        Builtin::Event => EVENTS_V1,
        Builtin::Lease => COORDINATION_V1,
        Builtin::CustomResourceDefinition => APIEXTENSIONS_V1,
        Builtin::ValidatingWebhookConfiguration | Builtin::MutatingWebhookConfiguration => ADMISSIONREGISTRATION_V1,
    }
}

fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// A `$ref` with sibling keywords, wrapped in `allOf` as builder3's `WrapRefs` does.
fn described_ref(name: &str, description: &str) -> Value {
    json!({ "allOf": [schema_ref(name)], "description": description })
}

fn gvk(group: &str, version: &str, kind: &str) -> Value {
    json!({ "group": group, "kind": kind, "version": version })
}

/// Adds `apiVersion`, `kind`, `metadata` and the group-version-kind extension to a kind's
/// schema, as the CRD builder's `buildKubeNative` does (a CRD's own `metadata` schema is replaced).
fn with_type_meta(mut schema: Map<String, Value>, def: &ResourceDef) -> Value {
    let properties = schema.entry("properties").or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(properties) = properties {
        properties.insert(
            "apiVersion".into(),
            json!({ "type": "string", "description": API_VERSION_DOC }),
        );
        properties.insert("kind".into(), json!({ "type": "string", "description": KIND_DOC }));
        properties.insert("metadata".into(), described_ref(OBJECT_META, OBJECT_METADATA_DOC));
    }
    schema.insert(
        "x-kubernetes-group-version-kind".into(),
        json!([gvk(&def.group, &def.version, &def.kind)]),
    );
    Value::Object(schema)
}

/// A CRD version without a schema gets a bare object: adding properties would make clients
/// treat every other field as unknown.
fn custom_kind_schema(def: &ResourceDef) -> Value {
    match &def.schema {
        Some(Value::Object(schema)) => with_type_meta(schema.clone(), def),
        _ => json!({
            "type": "object",
            "x-kubernetes-group-version-kind": [gvk(&def.group, &def.version, &def.kind)],
        }),
    }
}

fn list_schema(def: &ResourceDef, kind_name: &str) -> Value {
    json!({
        "description": format!("{} is a list of {}", def.list_kind, def.kind),
        "type": "object",
        "required": ["items"],
        "properties": {
            "apiVersion": { "type": "string", "description": API_VERSION_DOC },
            "items": {
                "description": format!("List of {}. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md", def.plural),
                "type": "array",
                "items": schema_ref(kind_name),
            },
            "kind": { "type": "string", "description": KIND_DOC },
            "metadata": described_ref(LIST_META, LIST_METADATA_DOC),
        },
        "x-kubernetes-group-version-kind": [gvk(&def.group, &def.version, &def.list_kind)],
    })
}

/// A built-in kind's schema in the shape of a CRD's `openAPIV3Schema`, every reference resolved:
/// what its Go type and the types inside decode, for pruning and refusing unknown fields as
/// the apiserver's decoder does. A struct that declares no fields (`FieldsV1`) takes anything.
pub fn builtin_schema(builtin: Builtin) -> &'static Value {
    static SCHEMAS: LazyLock<HashMap<Builtin, Value>> = LazyLock::new(|| {
        builtins()
            .iter()
            .filter_map(|def| {
                let builtin = def.builtin?;
                let model = builtin_model(builtin);
                let mut definitions = meta_schemas();
                definitions.extend(model.helpers);
                Some((
                    builtin,
                    resolve_references(&with_type_meta(model.schema, def), &definitions),
                ))
            })
            .collect()
    });
    match SCHEMAS.get(&builtin) {
        Some(schema) => schema,
        None => unreachable!("every built-in kind is registered"),
    }
}

/// `ObjectMeta`'s schema, references resolved: what every object's `metadata` decodes into.
pub fn object_meta_schema() -> &'static Value {
    static SCHEMA: LazyLock<Value> = LazyLock::new(|| resolve_references(&schema_ref(OBJECT_META), &meta_schemas()));
    &SCHEMA
}

fn resolve_references(schema: &Value, definitions: &Map<String, Value>) -> Value {
    let Value::Object(node) = schema else {
        return schema.clone();
    };
    let target = node.get("$ref").or_else(|| match node.get("allOf") {
        Some(Value::Array(all_of)) if all_of.len() == 1 => all_of[0].get("$ref"),
        _ => None,
    });
    if let Some(name) = target
        .and_then(Value::as_str)
        .and_then(|target| target.strip_prefix("#/components/schemas/"))
        && let Some(definition) = definitions.get(name)
    {
        return resolve_references(definition, definitions);
    }
    let mut resolved = Map::new();
    for (key, value) in node {
        let value = match key.as_str() {
            "properties" => Value::Object(
                value
                    .as_object()
                    .map(|properties| {
                        properties
                            .iter()
                            .map(|(name, property)| (name.clone(), resolve_references(property, definitions)))
                            .collect()
                    })
                    .unwrap_or_default(),
            ),
            "items" | "additionalProperties" => resolve_references(value, definitions),
            _ => value.clone(),
        };
        resolved.insert(key.clone(), value);
    }
    let declares_nothing = resolved.get("type").and_then(Value::as_str) == Some("object")
        && !resolved.contains_key("properties")
        && !resolved.contains_key("additionalProperties");
    if declares_nothing {
        resolved.insert("x-kubernetes-preserve-unknown-fields".into(), Value::Bool(true));
    }
    Value::Object(resolved)
}
