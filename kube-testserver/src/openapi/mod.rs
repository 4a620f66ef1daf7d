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

use std::collections::{BTreeSet, HashMap};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::LazyLock;

use serde_json::{Map, Value, json};

use crate::registry::{Builtin, ResourceDef, builtins};

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
        Builtin::Namespace | Builtin::Secret | Builtin::ConfigMap | Builtin::CoreEvent => CORE_V1,
        Builtin::Event => EVENTS_V1,
        Builtin::Lease => COORDINATION_V1,
        Builtin::CustomResourceDefinition => APIEXTENSIONS_V1,
        Builtin::ValidatingWebhookConfiguration => ADMISSIONREGISTRATION_V1,
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

fn query_param(name: &str, description: &str, json_type: &str) -> Value {
    json!({
        "name": name,
        "in": "query",
        "description": description,
        "schema": { "type": json_type, "uniqueItems": true },
    })
}

fn path_param(name: &str, description: &str) -> Value {
    json!({
        "name": name,
        "in": "path",
        "description": description,
        "required": true,
        "schema": { "type": "string", "uniqueItems": true },
    })
}

fn list_params() -> Vec<Value> {
    vec![
        query_param(
            "allowWatchBookmarks",
            "allowWatchBookmarks requests watch events with type \"BOOKMARK\". Servers that do not implement bookmarks may ignore this flag and bookmarks are sent at the server's discretion. Clients should not assume bookmarks are returned at any specific interval, nor may they assume the server will send any BOOKMARK event during a session. If this is not a watch, this field is ignored.",
            "boolean",
        ),
        query_param(
            "continue",
            "The continue option should be set when retrieving more results from the server. Since this value is server defined, clients may only use the continue value from a previous query result with identical query parameters (except for the value of continue) and the server may reject a continue value it does not recognize.",
            "string",
        ),
        query_param(
            "fieldSelector",
            "A selector to restrict the list of returned objects by their fields. Defaults to everything.",
            "string",
        ),
        query_param(
            "labelSelector",
            "A selector to restrict the list of returned objects by their labels. Defaults to everything.",
            "string",
        ),
        query_param(
            "limit",
            "limit is a maximum number of responses to return for a list call. If more items exist, the server will set the `continue` field on the list metadata to a value that can be used with the same initial query to retrieve the next set of results.",
            "integer",
        ),
        query_param(
            "resourceVersion",
            "resourceVersion sets a constraint on what resource versions a request may be served from. See https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions for details.\n\nDefaults to unset",
            "string",
        ),
        query_param(
            "resourceVersionMatch",
            "resourceVersionMatch determines how resourceVersion is applied to list calls. It is highly recommended that resourceVersionMatch be set for list calls where resourceVersion is set See https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions for details.\n\nDefaults to unset",
            "string",
        ),
        query_param(
            "sendInitialEvents",
            "`sendInitialEvents=true` may be set together with `watch=true`. In that case, the watch stream will begin with synthetic events to produce the current state of objects in the collection.",
            "boolean",
        ),
        query_param(
            "timeoutSeconds",
            "Timeout for the list/watch call. This limits the duration of the call, regardless of any activity or inactivity.",
            "integer",
        ),
        query_param(
            "watch",
            "Watch for changes to the described resources and return them as a stream of add, update, and remove notifications. Specify resourceVersion.",
            "boolean",
        ),
    ]
}

fn write_params() -> Vec<Value> {
    vec![
        query_param("dryRun", DRY_RUN_DOC, "string"),
        query_param("fieldManager", FIELD_MANAGER_DOC, "string"),
        query_param("fieldValidation", FIELD_VALIDATION_DOC, "string"),
    ]
}

fn patch_params() -> Vec<Value> {
    vec![
        query_param("dryRun", DRY_RUN_DOC, "string"),
        query_param("fieldManager", PATCH_FIELD_MANAGER_DOC, "string"),
        query_param("fieldValidation", FIELD_VALIDATION_DOC, "string"),
        query_param("force", FORCE_DOC, "boolean"),
    ]
}

fn delete_params() -> Vec<Value> {
    vec![
        query_param("dryRun", DRY_RUN_DOC, "string"),
        query_param("gracePeriodSeconds", GRACE_PERIOD_DOC, "integer"),
        query_param("orphanDependents", ORPHAN_DOC, "boolean"),
        query_param("propagationPolicy", PROPAGATION_DOC, "string"),
    ]
}

/// One operation of a path, before the parameters common to the whole path are hoisted.
struct Operation {
    method: &'static str,
    action: &'static str,
    id: String,
    description: String,
    params: Vec<Value>,
    request_body: Option<Value>,
    /// Status code and the schema answered with it.
    responses: Vec<(&'static str, String)>,
}

/// What every operation of one resource shares: how kube-openapi's `GetOperationIDAndTags`
/// names it (`patchAwsaccessDevV1alpha1NamespacedCrossAccountRoleStatus`, tag
/// `awsaccessDev_v1alpha1`) and the kind it acts on. Operations carry the resource's kind, not
/// its list's: explain and kubectl's field-validation check both match on it.
struct ResourceOperations {
    group_version_id: String,
    tag: String,
    gvk: Value,
}

impl ResourceOperations {
    fn of(def: &ResourceDef) -> Self {
        let group = if def.group.is_empty() {
            "core"
        } else {
            def.group.trim_end_matches(".k8s.io")
        };
        ResourceOperations {
            group_version_id: format!(
                "{}{}",
                operation_id_part(group, true),
                operation_id_part(&def.version, true)
            ),
            tag: format!(
                "{}_{}",
                operation_id_part(group, false),
                operation_id_part(&def.version, false)
            ),
            gvk: gvk(&def.group, &def.version, &def.kind),
        }
    }
}

/// kube-openapi's `ToValidOperationID`: drops what is not a letter, digit or `_`, capitalizing
/// the letter after each dropped character.
fn operation_id_part(text: &str, capitalize_first: bool) -> String {
    let mut capitalize = capitalize_first;
    let mut out = String::new();
    for (index, ch) in text.chars().enumerate() {
        if ch.is_alphabetic() || ch == '_' || (index != 0 && ch.is_ascii_digit()) {
            if capitalize {
                out.extend(ch.to_uppercase());
                capitalize = false;
            } else {
                out.push(ch);
            }
        } else {
            capitalize = true;
        }
    }
    out
}

fn media_types(types: &[&str], schema_name: &str) -> Value {
    let content: Map<String, Value> = types
        .iter()
        .map(|media| (media.to_string(), json!({ "schema": schema_ref(schema_name) })))
        .collect();
    Value::Object(content)
}

const RESPONSE_TYPES: [&str; 2] = ["application/json", "application/yaml"];

/// The request body of a patch. Strategic merge patch is left out on purpose: when it is
/// advertised, kubectl computes client-side-apply patches from these (compact) schemas
/// instead of from its compiled-in types, and warns on every field they lack.
fn patch_body() -> Value {
    json!({
        "content": media_types(
            &["application/apply-patch+yaml", "application/json-patch+json", "application/merge-patch+json"],
            PATCH,
        ),
        "required": true,
    })
}

fn object_body(kind_name: &str) -> Value {
    json!({ "content": media_types(&RESPONSE_TYPES, kind_name), "required": true })
}

fn delete_body() -> Value {
    json!({ "content": media_types(&RESPONSE_TYPES, DELETE_OPTIONS) })
}

fn add_resource_paths(def: &ResourceDef, kind_name: &str, list_name: &str, paths: &mut Map<String, Value>) {
    let resource = ResourceOperations::of(def);
    let gv = &resource.group_version_id;
    let kind = &def.kind;
    let prefix = format!("/{}", gv_path(def));
    let scope = if def.namespaced { "Namespaced" } else { "" };
    let name_param = path_param("name", &format!("name of the {kind}"));
    let namespace_param = path_param(
        "namespace",
        "object name and auth scope, such as for teams and projects",
    );
    let article = if kind.starts_with(['A', 'E', 'I', 'O', 'U']) {
        "an"
    } else {
        "a"
    };

    let list = |id: String| Operation {
        method: "get",
        action: "list",
        id,
        description: format!("list or watch objects of kind {kind}"),
        params: list_params(),
        request_body: None,
        responses: vec![("200", list_name.to_owned())],
    };

    if def.namespaced {
        paths.insert(
            format!("{prefix}/{}", def.plural),
            path_item(&resource, vec![], vec![list(format!("list{gv}{kind}ForAllNamespaces"))]),
        );
    }
    let (collection, collection_params) = if def.namespaced {
        (
            format!("{prefix}/namespaces/{{namespace}}/{}", def.plural),
            vec![namespace_param],
        )
    } else {
        (format!("{prefix}/{}", def.plural), vec![])
    };

    let mut collection_ops = vec![
        list(format!("list{gv}{scope}{kind}")),
        Operation {
            method: "post",
            action: "post",
            id: format!("create{gv}{scope}{kind}"),
            description: format!("create {article} {kind}"),
            params: write_params(),
            request_body: Some(object_body(kind_name)),
            responses: vec![
                ("200", kind_name.to_owned()),
                ("201", kind_name.to_owned()),
                ("202", kind_name.to_owned()),
            ],
        },
    ];
    // The real server has no deletecollection for namespaces.
    if def.builtin != Some(Builtin::Namespace) {
        collection_ops.push(Operation {
            method: "delete",
            action: "deletecollection",
            id: format!("delete{gv}Collection{scope}{kind}"),
            description: format!("delete collection of {kind}"),
            params: [list_params(), delete_params()].concat(),
            request_body: Some(delete_body()),
            responses: vec![("200", STATUS.to_owned())],
        });
    }
    paths.insert(
        collection.clone(),
        path_item(&resource, collection_params.clone(), collection_ops),
    );

    let mut item_params = collection_params;
    item_params.push(name_param);
    let object_ops = |subresource: &str| {
        let suffix = operation_id_part(subresource, true);
        let of = if subresource.is_empty() {
            String::new()
        } else {
            format!(" {subresource} of")
        };
        vec![
            Operation {
                method: "get",
                action: "get",
                id: format!("read{gv}{scope}{kind}{suffix}"),
                description: format!("read{of} the specified {kind}"),
                params: vec![],
                request_body: None,
                responses: vec![("200", kind_name.to_owned())],
            },
            Operation {
                method: "put",
                action: "put",
                id: format!("replace{gv}{scope}{kind}{suffix}"),
                description: format!("replace{of} the specified {kind}"),
                params: write_params(),
                request_body: Some(object_body(kind_name)),
                responses: vec![("200", kind_name.to_owned()), ("201", kind_name.to_owned())],
            },
            Operation {
                method: "patch",
                action: "patch",
                id: format!("patch{gv}{scope}{kind}{suffix}"),
                description: format!("partially update{of} the specified {kind}"),
                params: patch_params(),
                request_body: Some(patch_body()),
                responses: vec![("200", kind_name.to_owned()), ("201", kind_name.to_owned())],
            },
        ]
    };

    let mut item_ops = object_ops("");
    item_ops.push(Operation {
        method: "delete",
        action: "delete",
        id: format!("delete{gv}{scope}{kind}"),
        description: format!("delete {article} {kind}"),
        params: delete_params(),
        request_body: Some(delete_body()),
        responses: vec![("200", STATUS.to_owned()), ("202", STATUS.to_owned())],
    });
    paths.insert(
        format!("{collection}/{{name}}"),
        path_item(&resource, item_params.clone(), item_ops),
    );

    if def.status_subresource {
        paths.insert(
            format!("{collection}/{{name}}/status"),
            path_item(&resource, item_params, object_ops("status")),
        );
    }
}

/// Builds a path item as builder3 does: parameters shared by every operation (`pretty`, the
/// path parameters, and for a single operation all of its own) move up to the path, sorted by name.
fn path_item(resource: &ResourceOperations, path_params: Vec<Value>, operations: Vec<Operation>) -> Value {
    let pretty = query_param(
        "pretty",
        "If 'true', then the output is pretty printed. Defaults to 'false' unless the user-agent indicates a browser or command-line HTTP tool (curl and wget).",
        "string",
    );
    let with_common: Vec<Vec<Value>> = operations
        .iter()
        .map(|op| {
            let mut params = path_params.clone();
            params.push(pretty.clone());
            params.extend(op.params.iter().cloned());
            params
        })
        .collect();
    let is_common = |param: &Value| {
        with_common.iter().all(|params| {
            params
                .iter()
                .any(|p| p["name"] == param["name"] && p["in"] == param["in"])
        })
    };

    let mut item = Map::new();
    let mut shared: Vec<Value> = with_common
        .first()
        .map(|params| params.iter().filter(|p| is_common(p)).cloned().collect())
        .unwrap_or_default();
    sort_params(&mut shared);
    item.insert("parameters".into(), Value::Array(shared));

    for (op, params) in operations.into_iter().zip(&with_common) {
        let mut own: Vec<Value> = params.iter().filter(|p| !is_common(p)).cloned().collect();
        sort_params(&mut own);
        let mut responses: Map<String, Value> = op
            .responses
            .iter()
            .map(|(code, schema)| {
                let description = match *code {
                    "201" => "Created",
                    "202" => "Accepted",
                    _ => "OK",
                };
                (
                    code.to_string(),
                    json!({ "description": description, "content": media_types(&RESPONSE_TYPES, schema) }),
                )
            })
            .collect();
        responses.insert("401".into(), json!({ "description": "Unauthorized" }));
        let mut operation = json!({
            "tags": [resource.tag],
            "description": op.description,
            "operationId": op.id,
            "responses": responses,
            "x-kubernetes-action": op.action,
            "x-kubernetes-group-version-kind": resource.gvk,
        });
        if !own.is_empty() {
            operation["parameters"] = Value::Array(own);
        }
        if let Some(body) = op.request_body {
            operation["requestBody"] = body;
        }
        item.insert(op.method.into(), operation);
    }
    Value::Object(item)
}

fn sort_params(params: &mut [Value]) {
    params.sort_by(|a, b| {
        let key = |p: &Value| {
            (
                p["name"].as_str().unwrap_or_default().to_owned(),
                p["in"].as_str().unwrap_or_default().to_owned(),
            )
        };
        key(a).cmp(&key(b))
    });
}

fn string_prop(description: &str) -> Value {
    json!({ "type": "string", "description": description })
}

fn int_prop(format: &str, description: &str) -> Value {
    json!({ "type": "integer", "format": format, "description": description })
}

fn bool_prop(description: &str) -> Value {
    json!({ "type": "boolean", "description": description })
}

fn string_map_prop(description: &str) -> Value {
    json!({ "type": "object", "additionalProperties": { "type": "string", "default": "" }, "description": description })
}

fn string_list_prop(description: &str) -> Value {
    json!({ "type": "array", "items": { "type": "string", "default": "" }, "description": description })
}

fn object_schema(description: &str, properties: Value) -> Value {
    json!({ "description": description, "type": "object", "properties": properties })
}

/// ObjectMeta and the meta/v1 types every document refers to.
fn meta_schemas() -> Map<String, Value> {
    let object_meta = object_schema(
        "ObjectMeta is metadata that all persisted resources must have, which includes all objects users must create.",
        json!({
            "annotations": string_map_prop("Annotations is an unstructured key value map stored with a resource that may be set by external tools to store and retrieve arbitrary metadata. They are not queryable and should be preserved when modifying objects. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/annotations"),
            "creationTimestamp": described_ref(TIME, "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"),
            "deletionGracePeriodSeconds": int_prop("int64", "Number of seconds allowed for this object to gracefully terminate before it will be removed from the system. Only set when deletionTimestamp is also set. May only be shortened. Read-only."),
            "deletionTimestamp": described_ref(TIME, "DeletionTimestamp is RFC 3339 date and time at which this resource will be deleted. This field is set by the server when a graceful deletion is requested by the user, and is not directly settable by a client. The resource is expected to be deleted (no longer visible from resource lists, and not reachable by name) after the time in this field, once the finalizers list is empty. As long as the finalizers list contains items, deletion is blocked.\n\nPopulated by the system when a graceful deletion is requested. Read-only. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"),
            "finalizers": {
                "type": "array",
                "items": { "type": "string", "default": "" },
                "description": "Must be empty before the object is deleted from the registry. Each entry is an identifier for the responsible component that will remove the entry from the list. If the deletionTimestamp of the object is non-nil, entries in this list can only be removed. Finalizers may be processed and removed in any order.  Order is NOT enforced because it introduces significant risk of stuck finalizers.",
                "x-kubernetes-list-type": "set",
                "x-kubernetes-patch-strategy": "merge",
            },
            "generateName": string_prop("GenerateName is an optional prefix, used by the server, to generate a unique name ONLY IF the Name field has not been provided. If this field is used, the name returned to the client will be different than the name passed. This value will also be combined with a unique suffix. The provided value has the same validation rules as the Name field, and may be truncated by the length of the suffix required to make the value unique on the server.\n\nIf this field is specified and the generated name exists, the server will return a 409.\n\nApplied only if Name is not specified. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#idempotency"),
            "generation": int_prop("int64", "A sequence number representing a specific generation of the desired state. Populated by the system. Read-only."),
            "labels": string_map_prop("Map of string keys and values that can be used to organize and categorize (scope and select) objects. May match selectors of replication controllers and services. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels"),
            "managedFields": {
                "type": "array",
                "items": schema_ref(MANAGED_FIELDS_ENTRY),
                "description": "ManagedFields maps workflow-id and version to the set of fields that are managed by that workflow. This is mostly for internal housekeeping, and users typically shouldn't need to set or understand this field. A workflow can be the user's name, a controller's name, or the name of a specific apply path like \"ci-cd\". The set of fields is always in the version that the workflow used when modifying the object.",
                "x-kubernetes-list-type": "atomic",
            },
            "name": string_prop("Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"),
            "namespace": string_prop("Namespace defines the space within which each name must be unique. An empty namespace is equivalent to the \"default\" namespace, but \"default\" is the canonical representation. Not all objects are required to be scoped to a namespace - the value of this field for those objects will be empty.\n\nMust be a DNS_LABEL. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/namespaces"),
            "ownerReferences": {
                "type": "array",
                "items": schema_ref(OWNER_REFERENCE),
                "description": "List of objects depended by this object. If ALL objects in the list have been deleted, this object will be garbage collected. If this object is managed by a controller, then an entry in this list will point to this controller, with the controller field set to true. There cannot be more than one managing controller.",
                "x-kubernetes-list-map-keys": ["uid"],
                "x-kubernetes-list-type": "map",
                "x-kubernetes-patch-merge-key": "uid",
                "x-kubernetes-patch-strategy": "merge",
            },
            "resourceVersion": string_prop("An opaque value that represents the internal version of this object that can be used by clients to determine when objects have changed. May be used for optimistic concurrency, change detection, and the watch operation on a resource or set of resources. Clients must treat these values as opaque and passed unmodified back to the server. They may only be valid for a particular resource or set of resources.\n\nPopulated by the system. Read-only. Value must be treated as opaque by clients and . More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#concurrency-control-and-consistency"),
            "selfLink": string_prop("Deprecated: selfLink is a legacy read-only field that is no longer populated by the system."),
            "uid": string_prop("UID is the unique in time and space value for this object. It is typically generated by the server on successful creation of a resource and is not allowed to change on PUT operations.\n\nPopulated by the system. Read-only. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#uids"),
        }),
    );

    let mut owner_reference = object_schema(
        "OwnerReference contains enough information to let you identify an owning object. An owning object must be in the same namespace as the dependent, or be cluster-scoped, so there is no namespace field.",
        json!({
            "apiVersion": string_prop("API version of the referent."),
            "blockOwnerDeletion": bool_prop("If true, AND if the owner has the \"foregroundDeletion\" finalizer, then the owner cannot be deleted from the key-value store until this reference is removed. See https://kubernetes.io/docs/concepts/architecture/garbage-collection/#foreground-deletion for how the garbage collector interacts with this field and enforces the foreground deletion. Defaults to false. To set this field, a user needs \"delete\" permission of the owner, otherwise 422 (Unprocessable Entity) will be returned."),
            "controller": bool_prop("If true, this reference points to the managing controller."),
            "kind": string_prop("Kind of the referent. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds"),
            "name": string_prop("Name of the referent. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"),
            "uid": string_prop("UID of the referent. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#uids"),
        }),
    );
    owner_reference["required"] = json!(["apiVersion", "kind", "name", "uid"]);
    owner_reference["x-kubernetes-map-type"] = json!("atomic");

    let mut status_cause = object_schema(
        "StatusCause provides more information about an api.Status failure, including cases when multiple errors are encountered.",
        json!({
            "field": string_prop("The field of the resource that has caused this error, as named by its JSON serialization. May include dot and postfix notation for nested attributes. Arrays are zero-indexed.  Fields may appear more than once in an array of causes due to fields having multiple errors. Optional."),
            "message": string_prop("A human-readable description of the cause of the error.  This field may be presented as-is to a reader."),
            "reason": string_prop("A machine-readable description of the cause of the error. If this value is empty there is no information available."),
        }),
    );
    status_cause["x-kubernetes-map-type"] = json!("atomic");

    let mut status = object_schema(
        "Status is a return value for calls that don't return other objects.",
        json!({
            "apiVersion": string_prop(API_VERSION_DOC),
            "code": int_prop("int32", "Suggested HTTP return code for this status, 0 if not set."),
            "details": described_ref(STATUS_DETAILS, "Extended data associated with the reason.  Each reason may define its own extended details. This field is optional and the data returned is not guaranteed to conform to any schema except that defined by the reason type."),
            "kind": string_prop(KIND_DOC),
            "message": string_prop("A human-readable description of the status of this operation."),
            "metadata": described_ref(LIST_META, "Standard list metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds"),
            "reason": string_prop("A machine-readable description of why this operation is in the \"Failure\" status. If this value is empty there is no information available. A Reason clarifies an HTTP status code but does not override it."),
            "status": string_prop("Status of the operation. One of: \"Success\" or \"Failure\". More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#spec-and-status"),
        }),
    );
    status["x-kubernetes-group-version-kind"] = json!([gvk("", "v1", "Status")]);

    let mut delete_options = object_schema(
        "DeleteOptions may be provided when deleting an API object.",
        json!({
            "apiVersion": string_prop(API_VERSION_DOC),
            "dryRun": string_list_prop(DRY_RUN_DOC),
            "gracePeriodSeconds": int_prop("int64", GRACE_PERIOD_DOC),
            "kind": string_prop(KIND_DOC),
            "orphanDependents": bool_prop(ORPHAN_DOC),
            "preconditions": described_ref(PRECONDITIONS, "Must be fulfilled before a deletion is carried out. If not possible, a 409 Conflict status will be returned."),
            "propagationPolicy": string_prop(PROPAGATION_DOC),
        }),
    );
    delete_options["x-kubernetes-group-version-kind"] = json!([gvk("", "v1", "DeleteOptions")]);

    let schemas = [
        (OBJECT_META, object_meta),
        (
            MANAGED_FIELDS_ENTRY,
            object_schema(
                "ManagedFieldsEntry is a workflow-id, a FieldSet and the group version of the resource that the fieldset applies to.",
                json!({
                    "apiVersion": string_prop("APIVersion defines the version of this resource that this field set applies to. The format is \"group/version\" just like the top-level APIVersion field. It is necessary to track the version of a field set because it cannot be automatically converted."),
                    "fieldsType": string_prop("FieldsType is the discriminator for the different fields format and version. There is currently only one possible value: \"FieldsV1\""),
                    "fieldsV1": described_ref(FIELDS_V1, "FieldsV1 holds the first JSON version format as described in the \"FieldsV1\" type."),
                    "manager": string_prop("Manager is an identifier of the workflow managing these fields."),
                    "operation": string_prop("Operation is the type of operation which lead to this ManagedFieldsEntry being created. The only valid values for this field are 'Apply' and 'Update'."),
                    "subresource": string_prop("Subresource is the name of the subresource used to update that object, or empty string if the object was updated through the main resource. The value of this field is used to distinguish between managers, even if they share the same name. For example, a status update will be distinct from a regular update using the same manager name. Note that the APIVersion field is not related to the Subresource field and it always corresponds to the version of the main resource."),
                    "time": described_ref(TIME, "Time is the timestamp of when the ManagedFields entry was added. The timestamp will also be updated if a field is added, the manager changes any of the owned fields value or removes a field. The timestamp does not update when a field is removed from the entry because another manager took it over."),
                }),
            ),
        ),
        (OWNER_REFERENCE, owner_reference),
        (
            FIELDS_V1,
            json!({
                "description": "FieldsV1 stores a set of fields in a data structure like a Trie, in JSON format.\n\nEach key is either a '.' representing the field itself, and will always map to an empty set, or a string representing a sub-field or item. The string will follow one of these four formats: 'f:<name>', where <name> is the name of a field in a struct, or key in a map 'v:<value>', where <value> is the exact json formatted value of a list item 'i:<index>', where <index> is position of a item in a list 'k:<keys>', where <keys> is a map of  a list item's key fields to their unique values If a key maps to an empty Fields value, the field that key represents is part of the set.\n\nThe exact format is defined in sigs.k8s.io/structured-merge-diff",
                "type": "object",
            }),
        ),
        (
            TIME,
            json!({
                "description": "Time is a wrapper around time.Time which supports correct marshaling to YAML and JSON.  Wrappers are provided for many of the factory methods that the time package offers.",
                "type": "string",
                "format": "date-time",
            }),
        ),
        (
            MICRO_TIME,
            json!({
                "description": "MicroTime is version of Time with microsecond level precision.",
                "type": "string",
                "format": "date-time",
            }),
        ),
        (
            LIST_META,
            object_schema(
                "ListMeta describes metadata that synthetic resources must have, including lists and various status objects. A resource may have only one of {ObjectMeta, ListMeta}.",
                json!({
                    "continue": string_prop("continue may be set if the user set a limit on the number of items returned, and indicates that the server has more data available. The value is opaque and may be used to issue another request to the endpoint that served this list to retrieve the next set of available objects."),
                    "remainingItemCount": int_prop("int64", "remainingItemCount is the number of subsequent items in the list which are not included in this list response. If the list request contained label or field selectors, then the number of remaining items is unknown and the field will be left unset and omitted during serialization."),
                    "resourceVersion": string_prop(RESOURCE_VERSION_DOC),
                    "selfLink": string_prop("Deprecated: selfLink is a legacy read-only field that is no longer populated by the system."),
                }),
            ),
        ),
        (STATUS, status),
        (
            STATUS_DETAILS,
            object_schema(
                "StatusDetails is a set of additional properties that MAY be set by the server to provide additional information about a response. The Reason field of a Status object defines what attributes will be set. Clients must ignore fields that do not match the defined type of each attribute, and should assume that any attribute may be empty, invalid, or under defined.",
                json!({
                    "causes": {
                        "type": "array",
                        "items": schema_ref(STATUS_CAUSE),
                        "description": "The Causes array includes more details associated with the StatusReason failure. Not all StatusReasons may provide detailed causes.",
                        "x-kubernetes-list-type": "atomic",
                    },
                    "group": string_prop("The group attribute of the resource associated with the status StatusReason."),
                    "kind": string_prop("The kind attribute of the resource associated with the status StatusReason. On some operations may differ from the requested resource Kind. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds"),
                    "name": string_prop("The name attribute of the resource associated with the status StatusReason (when there is a single name which can be described)."),
                    "retryAfterSeconds": int_prop("int32", "If specified, the time in seconds before the operation should be retried. Some errors may indicate the client must take an alternate action - for those errors this field may indicate how long to wait before taking the alternate action."),
                    "uid": string_prop("UID of the resource. (when there is a single resource which can be described). More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#uids"),
                }),
            ),
        ),
        (STATUS_CAUSE, status_cause),
        (DELETE_OPTIONS, delete_options),
        (
            PRECONDITIONS,
            object_schema(
                "Preconditions must be fulfilled before an operation (update, delete, etc.) is carried out.",
                json!({
                    "resourceVersion": string_prop("Specifies the target ResourceVersion"),
                    "uid": string_prop("Specifies the target UID."),
                }),
            ),
        ),
        (
            PATCH,
            json!({
                "description": "Patch is provided to give a concrete name and type to the Kubernetes PATCH request body.",
                "type": "object",
            }),
        ),
    ];
    schemas
        .into_iter()
        .map(|(name, schema)| (name.to_owned(), schema))
        .collect()
}

/// A built-in kind's own fields (type meta is added later) and the schemas they refer to.
struct BuiltinModel {
    schema: Map<String, Value>,
    helpers: Vec<(String, Value)>,
}

fn model(description: &str, properties: Value, required: &[&str], helpers: Vec<(String, Value)>) -> BuiltinModel {
    let mut schema = Map::new();
    schema.insert("description".into(), json!(description));
    schema.insert("type".into(), json!("object"));
    schema.insert("properties".into(), properties);
    if !required.is_empty() {
        schema.insert("required".into(), json!(required));
    }
    BuiltinModel { schema, helpers }
}

fn named(package: &str, name: &str) -> String {
    format!("{package}.{name}")
}

fn object_reference_schema() -> (String, Value) {
    let mut schema = object_schema(
        "ObjectReference contains enough information to let you inspect or modify the referred object.",
        json!({
            "apiVersion": string_prop("API version of the referent."),
            "fieldPath": string_prop("If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement, such as desiredState.manifest.containers[2]."),
            "kind": string_prop("Kind of the referent. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds"),
            "name": string_prop("Name of the referent. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names/#names"),
            "namespace": string_prop("Namespace of the referent. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/namespaces/"),
            "resourceVersion": string_prop("Specific resourceVersion to which this reference is made, if any. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#concurrency-control-and-consistency"),
            "uid": string_prop("UID of the referent. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names/#uids"),
        }),
    );
    schema["x-kubernetes-map-type"] = json!("atomic");
    (named(CORE_V1, "ObjectReference"), schema)
}

fn event_source_schema() -> (String, Value) {
    (
        named(CORE_V1, "EventSource"),
        object_schema(
            "EventSource contains information for an event.",
            json!({
                "component": string_prop("Component from which the event is generated."),
                "host": string_prop("Node name on which the event is generated."),
            }),
        ),
    )
}

fn event_series_schema(package: &str, description: &str) -> (String, Value) {
    let mut schema = object_schema(
        description,
        json!({
            "count": int_prop("int32", "Number of occurrences in this series up to the last heartbeat time."),
            "lastObservedTime": described_ref(MICRO_TIME, "Time of the last occurrence observed."),
        }),
    );
    if package == EVENTS_V1 {
        schema["required"] = json!(["count", "lastObservedTime"]);
    }
    (named(package, "EventSeries"), schema)
}

fn builtin_model(builtin: Builtin) -> BuiltinModel {
    let reference = named(CORE_V1, "ObjectReference");
    let source = named(CORE_V1, "EventSource");
    match builtin {
        Builtin::Namespace => {
            let spec = named(CORE_V1, "NamespaceSpec");
            let status = named(CORE_V1, "NamespaceStatus");
            let condition = named(CORE_V1, "NamespaceCondition");
            model(
                "Namespace provides a scope for Names. Use of multiple namespaces is optional.",
                json!({
                    "spec": described_ref(&spec, &format!("Spec defines the behavior of the Namespace. {SPEC_STATUS_DOC}")),
                    "status": described_ref(&status, &format!("Status describes the current status of a Namespace. {SPEC_STATUS_DOC}")),
                }),
                &[],
                vec![
                    (
                        spec,
                        object_schema(
                            "NamespaceSpec describes the attributes on a Namespace.",
                            json!({
                                "finalizers": string_list_prop("Finalizers is an opaque list of values that must be empty to permanently remove object from storage. More info: https://kubernetes.io/docs/tasks/administer-cluster/namespaces/"),
                            }),
                        ),
                    ),
                    (
                        status,
                        object_schema(
                            "NamespaceStatus is information about the current status of a Namespace.",
                            json!({
                                "conditions": {
                                    "type": "array",
                                    "items": schema_ref(&condition),
                                    "description": "Represents the latest available observations of a namespace's current state.",
                                    "x-kubernetes-list-map-keys": ["type"],
                                    "x-kubernetes-list-type": "map",
                                    "x-kubernetes-patch-merge-key": "type",
                                    "x-kubernetes-patch-strategy": "merge",
                                },
                                "phase": {
                                    "type": "string",
                                    "enum": ["Active", "Terminating"],
                                    "description": "Phase is the current lifecycle phase of the namespace. More info: https://kubernetes.io/docs/tasks/administer-cluster/namespaces/\n\nPossible enum values:\n - `\"Active\"` means the namespace is available for use in the system\n - `\"Terminating\"` means the namespace is undergoing graceful termination",
                                },
                            }),
                        ),
                    ),
                    (condition, {
                        let mut schema = object_schema(
                            "NamespaceCondition contains details about state of namespace.",
                            json!({
                                "lastTransitionTime": described_ref(TIME, "Last time the condition transitioned from one status to another."),
                                "message": string_prop("Human-readable message indicating details about last transition."),
                                "reason": string_prop("Unique, one-word, CamelCase reason for the condition's last transition."),
                                "status": string_prop("Status of the condition, one of True, False, Unknown."),
                                "type": string_prop("Type of namespace controller condition."),
                            }),
                        );
                        schema["required"] = json!(["type", "status"]);
                        schema
                    }),
                ],
            )
        }
        Builtin::Secret => model(
            "Secret holds secret data of a certain type. The total bytes of the values in the Data field must be less than MaxSecretSize bytes.",
            json!({
                "data": {
                    "type": "object",
                    "additionalProperties": { "type": "string", "format": "byte" },
                    "description": "Data contains the secret data. Each key must consist of alphanumeric characters, '-', '_' or '.'. The serialized form of the secret data is a base64 encoded string, representing the arbitrary (possibly non-string) data value here. Described in https://tools.ietf.org/html/rfc4648#section-4",
                },
                "immutable": bool_prop("Immutable, if set to true, ensures that data stored in the Secret cannot be updated (only object metadata can be modified). If not set to true, the field can be modified at any time. Defaulted to nil."),
                "stringData": string_map_prop("stringData allows specifying non-binary secret data in string form. It is provided as a write-only input field for convenience. All keys and values are merged into the data field on write, overwriting any existing values. The stringData field is never output when reading from the API."),
                "type": string_prop("Used to facilitate programmatic handling of secret data. More info: https://kubernetes.io/docs/concepts/configuration/secret/#secret-types"),
            }),
            &[],
            vec![],
        ),
        Builtin::ConfigMap => model(
            "ConfigMap holds configuration data for pods to consume.",
            json!({
                "binaryData": {
                    "type": "object",
                    "additionalProperties": { "type": "string", "format": "byte" },
                    "description": "BinaryData contains the binary data. Each key must consist of alphanumeric characters, '-', '_' or '.'. BinaryData can contain byte sequences that are not in the UTF-8 range. The keys stored in BinaryData must not overlap with the ones in the Data field, this is enforced during validation process. Using this field will require 1.10+ apiserver and kubelet.",
                },
                "data": string_map_prop("Data contains the configuration data. Each key must consist of alphanumeric characters, '-', '_' or '.'. Values with non-UTF-8 byte sequences must use the BinaryData field. The keys stored in Data must not overlap with the keys in the BinaryData field, this is enforced during validation process."),
                "immutable": bool_prop("Immutable, if set to true, ensures that data stored in the ConfigMap cannot be updated (only object metadata can be modified). If not set to true, the field can be modified at any time. Defaulted to nil."),
            }),
            &[],
            vec![],
        ),
        Builtin::CoreEvent => {
            let series = named(CORE_V1, "EventSeries");
            model(
                "Event is a report of an event somewhere in the cluster.  Events have a limited retention time and triggers and messages may evolve with time.  Event consumers should not rely on the timing of an event with a given Reason reflecting a consistent underlying trigger, or the continued existence of events with that Reason.  Events should be treated as informative, best-effort, supplemental data.",
                json!({
                    "action": string_prop("What action was taken/failed regarding to the Regarding object."),
                    "count": int_prop("int32", "The number of times this event has occurred."),
                    "eventTime": described_ref(MICRO_TIME, "Time when this Event was first observed."),
                    "firstTimestamp": described_ref(TIME, "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)"),
                    "involvedObject": described_ref(&reference, "The object that this event is about."),
                    "lastTimestamp": described_ref(TIME, "The time at which the most recent occurrence of this event was recorded."),
                    "message": string_prop("A human-readable description of the status of this operation."),
                    "reason": string_prop("This should be a short, machine understandable string that gives the reason for the transition into the object's current status."),
                    "related": described_ref(&reference, "Optional secondary object for more complex actions."),
                    "reportingComponent": string_prop("Name of the controller that emitted this Event, e.g. `kubernetes.io/kubelet`."),
                    "reportingInstance": string_prop("ID of the controller instance, e.g. `kubelet-xyzf`."),
                    "series": described_ref(&series, "Data about the Event series this event represents or nil if it's a singleton Event."),
                    "source": described_ref(&source, "The component reporting this event. Should be a short machine understandable string."),
                    "type": string_prop("Type of this event (Normal, Warning), new types could be added in the future"),
                }),
                &["metadata", "involvedObject"],
                vec![
                    object_reference_schema(),
                    event_source_schema(),
                    event_series_schema(
                        CORE_V1,
                        "EventSeries contain information on series of events, i.e. thing that was/is happening continuously for some time.",
                    ),
                ],
            )
        }
        Builtin::Event => {
            let series = named(EVENTS_V1, "EventSeries");
            model(
                "Event is a report of an event somewhere in the cluster. It generally denotes some state change in the system. Events have a limited retention time and triggers and messages may evolve with time.  Event consumers should not rely on the timing of an event with a given Reason reflecting a consistent underlying trigger, or the continued existence of events with that Reason.  Events should be treated as informative, best-effort, supplemental data.",
                json!({
                    "action": string_prop("action is what action was taken/failed regarding to the regarding object. It is machine-readable. This field cannot be empty for new Events and it can have at most 128 characters."),
                    "deprecatedCount": int_prop("int32", "deprecatedCount is the deprecated field assuring backward compatibility with core.v1 Event type."),
                    "deprecatedFirstTimestamp": described_ref(TIME, "deprecatedFirstTimestamp is the deprecated field assuring backward compatibility with core.v1 Event type."),
                    "deprecatedLastTimestamp": described_ref(TIME, "deprecatedLastTimestamp is the deprecated field assuring backward compatibility with core.v1 Event type."),
                    "deprecatedSource": described_ref(&source, "deprecatedSource is the deprecated field assuring backward compatibility with core.v1 Event type."),
                    "eventTime": described_ref(MICRO_TIME, "eventTime is the time when this Event was first observed. It is required."),
                    "note": string_prop("note is a human-readable description of the status of this operation. Maximal length of the note is 1kB, but libraries should be prepared to handle values up to 64kB."),
                    "reason": string_prop("reason is why the action was taken. It is human-readable. This field cannot be empty for new Events and it can have at most 128 characters."),
                    "regarding": described_ref(&reference, "regarding contains the object this Event is about. In most cases it's an Object reporting controller implements, e.g. ReplicaSetController implements ReplicaSets and this event is emitted because it acts on some changes in a ReplicaSet object."),
                    "related": described_ref(&reference, "related is the optional secondary object for more complex actions. E.g. when regarding object triggers a creation or deletion of related object."),
                    "reportingController": string_prop("reportingController is the name of the controller that emitted this Event, e.g. `kubernetes.io/kubelet`. This field cannot be empty for new Events."),
                    "reportingInstance": string_prop("reportingInstance is the ID of the controller instance, e.g. `kubelet-xyzf`. This field cannot be empty for new Events and it can have at most 128 characters."),
                    "series": described_ref(&series, "series is data about the Event series this event represents or nil if it's a singleton Event."),
                    "type": string_prop("type is the type of this event (Normal, Warning), new types could be added in the future. It is machine-readable. This field cannot be empty for new Events."),
                }),
                &["eventTime"],
                vec![
                    object_reference_schema(),
                    event_source_schema(),
                    event_series_schema(
                        EVENTS_V1,
                        "EventSeries contain information on series of events, i.e. thing that was/is happening continuously for some time. How often to update the EventSeries is up to the event reporters.",
                    ),
                ],
            )
        }
        Builtin::Lease => {
            let spec = named(COORDINATION_V1, "LeaseSpec");
            model(
                "Lease defines a lease concept.",
                json!({
                    "spec": described_ref(&spec, &format!("spec contains the specification of the Lease. {SPEC_STATUS_DOC}")),
                }),
                &[],
                vec![(
                    spec,
                    object_schema(
                        "LeaseSpec is a specification of a Lease.",
                        json!({
                            "acquireTime": described_ref(MICRO_TIME, "acquireTime is a time when the current lease was acquired."),
                            "holderIdentity": string_prop("holderIdentity contains the identity of the holder of a current lease. If Coordinated Leader Election is used, the holder identity must be equal to the elected LeaseCandidate.metadata.name field."),
                            "leaseDurationSeconds": int_prop("int32", "leaseDurationSeconds is a duration that candidates for a lease need to wait to force acquire it. This is measured against the time of last observed renewTime."),
                            "leaseTransitions": int_prop("int32", "leaseTransitions is the number of transitions of a lease between holders."),
                            "preferredHolder": string_prop("PreferredHolder signals to a lease holder that the lease has a more optimal holder and should be given up. This field can only be set if Strategy is also set."),
                            "renewTime": described_ref(MICRO_TIME, "renewTime is a time when the current holder of a lease has last updated the lease."),
                            "strategy": string_prop("Strategy indicates the strategy for picking the leader for coordinated leader election. If the field is not specified, there is no active coordination for this lease. (Alpha) Using this field requires the CoordinatedLeaderElection feature gate to be enabled."),
                        }),
                    ),
                )],
            )
        }
        Builtin::CustomResourceDefinition => custom_resource_definition_model(),
        Builtin::ValidatingWebhookConfiguration => validating_webhook_configuration_model(),
    }
}

/// An atomic list of strings, as the admissionregistration types declare theirs.
fn atomic_string_list_prop(description: &str) -> Value {
    let mut list = string_list_prop(description);
    list["x-kubernetes-list-type"] = json!("atomic");
    list
}

fn validating_webhook_configuration_model() -> BuiltinModel {
    let webhook = named(ADMISSIONREGISTRATION_V1, "ValidatingWebhook");
    let client_config = named(ADMISSIONREGISTRATION_V1, "WebhookClientConfig");
    let service = named(ADMISSIONREGISTRATION_V1, "ServiceReference");
    let rule = named(ADMISSIONREGISTRATION_V1, "RuleWithOperations");
    let match_condition = named(ADMISSIONREGISTRATION_V1, "MatchCondition");
    let with_required = |mut schema: Value, required: &[&str]| {
        schema["required"] = json!(required);
        schema
    };
    let mut label_selector = object_schema(
        "A label selector is a label query over a set of resources. The result of matchLabels and matchExpressions are ANDed. An empty label selector matches all objects. A null label selector matches no objects.",
        json!({
            "matchExpressions": {
                "type": "array",
                "items": schema_ref(LABEL_SELECTOR_REQUIREMENT),
                "description": "matchExpressions is a list of label selector requirements. The requirements are ANDed.",
                "x-kubernetes-list-type": "atomic",
            },
            "matchLabels": string_map_prop("matchLabels is a map of {key,value} pairs. A single {key,value} in the matchLabels map is equivalent to an element of matchExpressions, whose key field is \"key\", the operator is \"In\", and the values array contains only \"value\". The requirements are ANDed."),
        }),
    );
    label_selector["x-kubernetes-map-type"] = json!("atomic");
    model(
        "ValidatingWebhookConfiguration describes the configuration of and admission webhook that accept or reject and object without changing it.",
        json!({
            "webhooks": {
                "type": "array",
                "items": schema_ref(&webhook),
                "description": "Webhooks is a list of webhooks and the affected resources and operations.",
                "x-kubernetes-list-map-keys": ["name"],
                "x-kubernetes-list-type": "map",
                "x-kubernetes-patch-merge-key": "name",
                "x-kubernetes-patch-strategy": "merge",
            },
        }),
        &[],
        vec![
            (
                webhook,
                with_required(
                    object_schema(
                        "ValidatingWebhook describes an admission webhook and the resources and operations it applies to.",
                        json!({
                            "admissionReviewVersions": atomic_string_list_prop("AdmissionReviewVersions is an ordered list of preferred `AdmissionReview` versions the Webhook expects. API server will try to use first version in the list which it supports. If none of the versions specified in this list supported by API server, validation will fail for this object. If a persisted webhook configuration specifies allowed versions and does not include any versions known to the API Server, calls to the webhook will fail and be subject to the failure policy."),
                            "clientConfig": described_ref(&client_config, "ClientConfig defines how to communicate with the hook. Required"),
                            "failurePolicy": string_prop("FailurePolicy defines how unrecognized errors from the admission endpoint are handled - allowed values are Ignore or Fail. Defaults to Fail."),
                            "matchConditions": {
                                "type": "array",
                                "items": schema_ref(&match_condition),
                                "description": "MatchConditions is a list of conditions that must be met for a request to be sent to this webhook. Match conditions filter requests that have already been matched by the rules, namespaceSelector, and objectSelector. An empty list of matchConditions matches all requests. There are a maximum of 64 match conditions allowed.",
                                "x-kubernetes-list-map-keys": ["name"],
                                "x-kubernetes-list-type": "map",
                                "x-kubernetes-patch-merge-key": "name",
                                "x-kubernetes-patch-strategy": "merge",
                            },
                            "matchPolicy": string_prop("matchPolicy defines how the \"rules\" list is used to match incoming requests. Allowed values are \"Exact\" or \"Equivalent\". Defaults to \"Equivalent\""),
                            "name": string_prop("The name of the admission webhook. Name should be fully qualified, e.g., imagepolicy.kubernetes.io, where \"imagepolicy\" is the name of the webhook, and kubernetes.io is the name of the organization. Required."),
                            "namespaceSelector": described_ref(LABEL_SELECTOR, "NamespaceSelector decides whether to run the webhook on an object based on whether the namespace for that object matches the selector. If the object itself is a namespace, the matching is performed on object.metadata.labels. If the object is another cluster scoped resource, it never skips the webhook.\n\nDefault to the empty LabelSelector, which matches everything."),
                            "objectSelector": described_ref(LABEL_SELECTOR, "ObjectSelector decides whether to run the webhook based on if the object has matching labels. objectSelector is evaluated against both the oldObject and newObject that would be sent to the webhook, and is considered to match if either object matches the selector. A null object (oldObject in the case of create, or newObject in the case of delete) or an object that cannot have labels (like a DeploymentRollback or a PodProxyOptions object) is not considered to match. Use the object selector only if the webhook is opt-in, because end users may skip the admission webhook by setting the labels. Default to the empty LabelSelector, which matches everything."),
                            "rules": {
                                "type": "array",
                                "items": schema_ref(&rule),
                                "description": "Rules describes what operations on what resources/subresources the webhook cares about. The webhook cares about an operation if it matches _any_ Rule. However, in order to prevent ValidatingAdmissionWebhooks and MutatingAdmissionWebhooks from putting the cluster in a state which cannot be recovered from without completely disabling the plugin, ValidatingAdmissionWebhooks and MutatingAdmissionWebhooks are never called on admission requests for ValidatingWebhookConfiguration and MutatingWebhookConfiguration objects.",
                                "x-kubernetes-list-type": "atomic",
                            },
                            "sideEffects": string_prop("SideEffects states whether this webhook has side effects. Acceptable values are: None, NoneOnDryRun (webhooks created via v1beta1 may also specify Some or Unknown). Webhooks with side effects MUST implement a reconciliation system, since a request may be rejected by a future step in the admission chain and the side effects therefore need to be undone. Requests with the dryRun attribute will be auto-rejected if they match a webhook with sideEffects == Unknown or Some."),
                            "timeoutSeconds": int_prop("int32", "TimeoutSeconds specifies the timeout for this webhook. After the timeout passes, the webhook call will be ignored or the API call will fail based on the failure policy. The timeout value must be between 1 and 30 seconds. Default to 10 seconds."),
                        }),
                    ),
                    &["name", "clientConfig", "sideEffects", "admissionReviewVersions"],
                ),
            ),
            (
                client_config,
                object_schema(
                    "WebhookClientConfig contains the information to make a TLS connection with the webhook",
                    json!({
                        "caBundle": { "type": "string", "format": "byte", "description": "`caBundle` is a PEM encoded CA bundle which will be used to validate the webhook's server certificate. If unspecified, system trust roots on the apiserver are used." },
                        "service": described_ref(&service, "`service` is a reference to the service for this webhook. Either `service` or `url` must be specified.\n\nIf the webhook is running within the cluster, then you should use `service`."),
                        "url": string_prop("`url` gives the location of the webhook, in standard URL form (`scheme://host:port/path`). Exactly one of `url` or `service` must be specified."),
                    }),
                ),
            ),
            (
                service,
                with_required(
                    object_schema(
                        "ServiceReference holds a reference to Service.legacy.k8s.io",
                        json!({
                            "name": string_prop("`name` is the name of the service. Required"),
                            "namespace": string_prop("`namespace` is the namespace of the service. Required"),
                            "path": string_prop("`path` is an optional URL path which will be sent in any request to this service."),
                            "port": int_prop("int32", "If specified, the port on the service that hosting webhook. Default to 443 for backward compatibility. `port` should be a valid port number (1-65535, inclusive)."),
                        }),
                    ),
                    &["namespace", "name"],
                ),
            ),
            (
                rule,
                object_schema(
                    "RuleWithOperations is a tuple of Operations and Resources. It is recommended to make sure that all the tuple expansions are valid.",
                    json!({
                        "apiGroups": atomic_string_list_prop("APIGroups is the API groups the resources belong to. '*' is all groups. If '*' is present, the length of the slice must be one. Required."),
                        "apiVersions": atomic_string_list_prop("APIVersions is the API versions the resources belong to. '*' is all versions. If '*' is present, the length of the slice must be one. Required."),
                        "operations": atomic_string_list_prop("Operations is the operations the admission hook cares about - CREATE, UPDATE, DELETE, CONNECT or * for all of those operations and any future admission operations that are added. If '*' is present, the length of the slice must be one. Required."),
                        "resources": atomic_string_list_prop("Resources is a list of resources this rule applies to.\n\nFor example: 'pods' means pods. 'pods/log' means the log subresource of pods. '*' means all resources, but not subresources. 'pods/*' means all subresources of pods. '*/scale' means all scale subresources. '*/*' means all resources and their subresources.\n\nIf wildcard is present, the validation rule will ensure resources do not overlap with each other.\n\nDepending on the enclosing object, subresources might not be allowed. Required."),
                        "scope": string_prop("scope specifies the scope of this rule. Valid values are \"Cluster\", \"Namespaced\", and \"*\" \"Cluster\" means that only cluster-scoped resources will match this rule. Namespace API objects are cluster-scoped. \"Namespaced\" means that only namespaced resources will match this rule. \"*\" means that there are no scope restrictions. Subresources match the scope of their parent resource. Default is \"*\"."),
                    }),
                ),
            ),
            (
                match_condition,
                with_required(
                    object_schema(
                        "MatchCondition represents a condition which must by fulfilled for a request to be sent to a webhook.",
                        json!({
                            "expression": string_prop("Expression represents the expression which will be evaluated by CEL. Must evaluate to bool. Required."),
                            "name": string_prop("Name is an identifier for this match condition, used for strategic merging of MatchConditions, as well as providing an identifier for logging purposes. A good name should be descriptive of the associated expression. Required."),
                        }),
                    ),
                    &["name", "expression"],
                ),
            ),
            (LABEL_SELECTOR.to_owned(), label_selector),
            (
                LABEL_SELECTOR_REQUIREMENT.to_owned(),
                with_required(
                    object_schema(
                        "A label selector requirement is a selector that contains values, a key, and an operator that relates the key and values.",
                        json!({
                            "key": string_prop("key is the label key that the selector applies to."),
                            "operator": string_prop("operator represents a key's relationship to a set of values. Valid operators are In, NotIn, Exists and DoesNotExist."),
                            "values": atomic_string_list_prop("values is an array of string values. If the operator is In or NotIn, the values array must be non-empty. If the operator is Exists or DoesNotExist, the values array must be empty. This array is replaced during a strategic merge patch."),
                        }),
                    ),
                    &["key", "operator"],
                ),
            ),
        ],
    )
}

fn custom_resource_definition_model() -> BuiltinModel {
    let spec = named(APIEXTENSIONS_V1, "CustomResourceDefinitionSpec");
    let status = named(APIEXTENSIONS_V1, "CustomResourceDefinitionStatus");
    let names = named(APIEXTENSIONS_V1, "CustomResourceDefinitionNames");
    let version = named(APIEXTENSIONS_V1, "CustomResourceDefinitionVersion");
    let column = named(APIEXTENSIONS_V1, "CustomResourceColumnDefinition");
    let selectable_field = named(APIEXTENSIONS_V1, "SelectableField");
    let with_required = |mut schema: Value, required: &[&str]| {
        schema["required"] = json!(required);
        schema
    };
    model(
        "CustomResourceDefinition represents a resource that should be exposed on the API server.  Its name MUST be in the format <.spec.name>.<.spec.group>.",
        json!({
            "spec": described_ref(&spec, "spec describes how the user wants the resources to appear"),
            "status": described_ref(&status, "status indicates the actual state of the CustomResourceDefinition"),
        }),
        &["spec"],
        vec![
            (
                spec.clone(),
                with_required(
                    object_schema(
                        "CustomResourceDefinitionSpec describes how a user wants their resource to appear",
                        json!({
                            "conversion": {
                                "type": "object",
                                "description": "conversion defines conversion settings for the CRD.",
                                "x-kubernetes-preserve-unknown-fields": true,
                            },
                            "group": string_prop("group is the API group of the defined custom resource. The custom resources are served under `/apis/<group>/...`. Must match the name of the CustomResourceDefinition (in the form `<names.plural>.<group>`)."),
                            "names": described_ref(&names, "names specify the resource and kind names for the custom resource."),
                            "preserveUnknownFields": bool_prop("preserveUnknownFields indicates that object fields which are not specified in the OpenAPI schema should be preserved when persisting to storage. apiVersion, kind, metadata and known fields inside metadata are always preserved."),
                            "scope": string_prop("scope indicates whether the defined custom resource is cluster- or namespace-scoped. Allowed values are `Cluster` and `Namespaced`."),
                            "versions": {
                                "type": "array",
                                "items": schema_ref(&version),
                                "description": "versions is the list of all API versions of the defined custom resource. Version names are used to compute the order in which served versions are listed in API discovery.",
                                "x-kubernetes-list-type": "atomic",
                            },
                        }),
                    ),
                    &["group", "names", "scope", "versions"],
                ),
            ),
            (
                status,
                object_schema(
                    "CustomResourceDefinitionStatus indicates the state of the CustomResourceDefinition",
                    json!({
                        "acceptedNames": described_ref(&names, "acceptedNames are the names that are actually being used to serve discovery. They may be different than the names in spec."),
                        "conditions": {
                            "type": "array",
                            "items": { "type": "object", "x-kubernetes-preserve-unknown-fields": true },
                            "description": "conditions indicate state for particular aspects of a CustomResourceDefinition",
                            "x-kubernetes-list-map-keys": ["type"],
                            "x-kubernetes-list-type": "map",
                        },
                        "storedVersions": string_list_prop("storedVersions lists all versions of CustomResources that were ever persisted. Tracking these versions allows a migration path for stored versions in etcd."),
                    }),
                ),
            ),
            (
                names.clone(),
                with_required(
                    object_schema(
                        "CustomResourceDefinitionNames indicates the names to serve this CustomResourceDefinition",
                        json!({
                            "categories": string_list_prop("categories is a list of grouped resources this custom resource belongs to (e.g. 'all'). This is published in API discovery documents, and used by clients to support invocations like `kubectl get all`."),
                            "kind": string_prop("kind is the serialized kind of the resource. It is normally CamelCase and singular. Custom resource instances will use this value as the `kind` attribute in API calls."),
                            "listKind": string_prop("listKind is the serialized kind of the list for this resource. Defaults to \"`kind`List\"."),
                            "plural": string_prop("plural is the plural name of the resource to serve. The custom resources are served under `/apis/<group>/<version>/.../<plural>`. Must match the name of the CustomResourceDefinition (in the form `<names.plural>.<group>`). Must be all lowercase."),
                            "shortNames": string_list_prop("shortNames are short names for the resource, exposed in API discovery documents, and used by clients to support invocations like `kubectl get <shortname>`. It must be all lowercase."),
                            "singular": string_prop("singular is the singular name of the resource. It must be all lowercase. Defaults to lowercased `kind`."),
                        }),
                    ),
                    &["plural", "kind"],
                ),
            ),
            (
                version,
                with_required(
                    object_schema(
                        "CustomResourceDefinitionVersion describes a version for CRD.",
                        json!({
                            "additionalPrinterColumns": {
                                "type": "array",
                                "items": schema_ref(&column),
                                "description": "additionalPrinterColumns specifies additional columns returned in Table output. If no columns are specified, a single column displaying the age of the custom resource is used.",
                                "x-kubernetes-list-type": "atomic",
                            },
                            "deprecated": bool_prop("deprecated indicates this version of the custom resource API is deprecated. When set to true, API requests to this version receive a warning header in the server response. Defaults to false."),
                            "deprecationWarning": string_prop("deprecationWarning overrides the default warning returned to API clients. May only be set when `deprecated` is true."),
                            "name": string_prop("name is the version name, e.g. “v1”, “v2beta1”, etc. The custom resources are served under this version at `/apis/<group>/<version>/...` if `served` is true."),
                            "schema": {
                                "type": "object",
                                "description": "schema describes the schema used for validation, pruning, and defaulting of this version of the custom resource.",
                                "x-kubernetes-preserve-unknown-fields": true,
                            },
                            "selectableFields": {
                                "type": "array",
                                "items": schema_ref(&selectable_field),
                                "description": "selectableFields specifies paths to fields that may be used as field selectors. A maximum of 8 selectable fields are allowed. See https://kubernetes.io/docs/concepts/overview/working-with-objects/field-selectors",
                                "x-kubernetes-list-type": "atomic",
                            },
                            "served": bool_prop("served is a flag enabling/disabling this version from being served via REST APIs"),
                            "storage": bool_prop("storage indicates this version should be used when persisting custom resources to storage. There must be exactly one version with storage=true."),
                            "subresources": {
                                "type": "object",
                                "description": "subresources specify what subresources this version of the defined custom resource have.",
                                "x-kubernetes-preserve-unknown-fields": true,
                            },
                        }),
                    ),
                    &["name", "served", "storage"],
                ),
            ),
            (
                column.clone(),
                with_required(
                    object_schema(
                        "CustomResourceColumnDefinition specifies a column for server side printing.",
                        json!({
                            "description": string_prop("description is a human readable description of this column."),
                            "format": string_prop("format is an optional OpenAPI type definition for this column. The 'name' format is applied to the primary identifier column to assist in clients identifying column is the resource name."),
                            "jsonPath": string_prop("jsonPath is a simple JSON path (i.e. with array notation) which is evaluated against each custom resource to produce the value for this column."),
                            "name": string_prop("name is a human readable name for the column."),
                            "priority": int_prop("int32", "priority is an integer defining the relative importance of this column compared to others. Lower numbers are considered higher priority. Columns that may be omitted in limited space scenarios should be given a priority greater than 0."),
                            "type": string_prop("type is an OpenAPI type definition for this column. See https://github.com/OAI/OpenAPI-Specification/blob/master/versions/2.0.md#data-types for details."),
                        }),
                    ),
                    &["name", "type", "jsonPath"],
                ),
            ),
            (
                selectable_field,
                with_required(
                    object_schema(
                        "SelectableField specifies the JSON path of a field that may be used with field selectors.",
                        json!({
                            "jsonPath": string_prop("jsonPath is a simple JSON path which is evaluated against each custom resource to produce a field selector value. Only JSON paths without the array notation are allowed. Must point to a field of type string, boolean or integer. Types with enum values and strings with formats are allowed. If jsonPath refers to absent field in a resource, the jsonPath evaluates to an empty string. Must not point to metdata fields. Required."),
                        }),
                    ),
                    &["jsonPath"],
                ),
            ),
        ],
    )
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

#[cfg(test)]
mod tests {
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
                "apis/awsaccess.dev/v1alpha1",
                "apis/coordination.k8s.io/v1",
                "apis/events.k8s.io/v1"
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
        role.schema.as_mut().expect("schema")["properties"]["spec"]["properties"]["extra"] =
            json!({ "type": "string" });
        assert_ne!(url(&defs), url(&changed));
        assert_eq!(
            v3_index(&defs)["paths"]["api/v1"],
            v3_index(&changed)["paths"]["api/v1"]
        );
    }

    #[test]
    fn unserved_group_version_has_no_document() {
        assert_eq!(v3_group_version(&sample_defs(), "apis/apps/v1"), None);
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
}
