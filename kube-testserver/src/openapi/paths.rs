//! The paths of a group-version's document: one path item per resource, its collection and
//! its `status` subresource, with the operations and parameters builder3 gives them.

use serde_json::{Map, Value, json};

use crate::registry::{Builtin, ResourceDef};

use super::{
    DELETE_OPTIONS, DRY_RUN_DOC, FIELD_MANAGER_DOC, FIELD_VALIDATION_DOC, FORCE_DOC, GRACE_PERIOD_DOC, ORPHAN_DOC,
    PATCH, PATCH_FIELD_MANAGER_DOC, PROPAGATION_DOC, STATUS, gv_path, gvk, schema_ref,
};

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

pub(super) fn add_resource_paths(def: &ResourceDef, kind_name: &str, list_name: &str, paths: &mut Map<String, Value>) {
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
