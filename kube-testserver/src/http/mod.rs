//! The HTTP face of the store: URL routing as the real API server lays it
//! out, content negotiation (JSON, YAML apply bodies, Table), and watch
//! streams as newline-delimited JSON.
//!
//! The query parameters and bodies of requests are read in `params`, watch streams served in
//! `watch`.

mod negotiate;
mod params;
mod watch;

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::admission::{Admission, RequestInfo};
use crate::discovery;
use crate::error::{ApiError, ApiResult, warning_header};
use crate::json::to_json;
use crate::openapi;
use crate::registry::ResourceDef;
use crate::store::{PatchKind, Pending, Store, Written};
use crate::table;

use negotiate::{Shape, metadata_only};
use params::{content_type, delete_options, filter, parse_body, write_options};
use watch::watch;

/// How many times a write whose object changed while webhooks judged it is tried again.
const WRITE_ATTEMPTS: usize = 16;

#[derive(Clone)]
pub struct App {
    pub store: Arc<Store>,
    pub admission: Arc<Admission>,
    pub address: String,
}

pub fn router(app: App) -> Router {
    Router::new().fallback(handle).with_state(app)
}

fn json_response(code: StatusCode, body: &Value, warnings: &[String]) -> Response {
    let mut response = (code, [("content-type", "application/json")], to_json(body)).into_response();
    for warning in warnings {
        if let Ok(value) = HeaderValue::from_str(&warning_header(warning)) {
            response.headers_mut().append("warning", value);
        }
    }
    response
}

async fn handle(State(app): State<App>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    match route(&app, &method, &uri, &headers, body).await {
        Ok(response) => response,
        Err(err) => err.into_response(),
    }
}

/// A request against one resource, parsed from the URL.
struct Target {
    def: Arc<ResourceDef>,
    namespace: Option<String>,
    name: Option<String>,
    subresource: Option<String>,
}

async fn route(app: &App, method: &Method, uri: &Uri, headers: &HeaderMap, body: Bytes) -> ApiResult<Response> {
    let path = uri.path();
    let segments: Vec<&str> = path.trim_matches('/').split('/').filter(|s| !s.is_empty()).collect();
    let query: HashMap<String, String> = axum::extract::Query::try_from_uri(uri)
        .map(|axum::extract::Query(query)| query)
        .map_err(|e| ApiError::bad_request(format!("invalid query: {e}")))?;
    let ok = |body: Value| Ok(json_response(StatusCode::OK, &body, &[]));
    // Discovery alone needs every kind: a copy of them all (schemas included) is made for it
    // only, not for each read and write of an object.
    let defs = || app.store.defs();
    match segments.as_slice() {
        ["version"] => ok(discovery::version()),
        ["healthz" | "readyz" | "livez"] => Ok((StatusCode::OK, "ok").into_response()),
        ["api" | "apis"] if let Some(version) = negotiate::aggregated_discovery(headers) => {
            let body = discovery::aggregated(&defs(), segments[0] == "api", version);
            let content_type = format!("application/json;g=apidiscovery.k8s.io;v={version};as=APIGroupDiscoveryList");
            let mut response = json_response(StatusCode::OK, &body, &[]);
            if let Ok(value) = HeaderValue::from_str(&content_type) {
                response.headers_mut().insert("content-type", value);
            }
            // The answer depends on Accept: caches must keep the two documents apart.
            response
                .headers_mut()
                .insert("vary", HeaderValue::from_static("Accept"));
            Ok(response)
        }
        ["api"] => ok(discovery::core_versions(&app.address)),
        ["apis"] => ok(discovery::group_list(&defs())),
        ["openapi", "v2"] => Ok(openapi_v2(&defs(), headers)),
        ["openapi", "v3"] => ok(openapi::v3_index(&defs())),
        ["openapi", "v3", rest @ ..] => {
            openapi::v3_group_version(&defs(), &rest.join("/")).map_or_else(|| Err(ApiError::no_route()), ok)
        }
        ["api", "v1"] => discovery::resource_list(&defs(), "", "v1").map_or_else(|| Err(ApiError::no_route()), ok),
        ["apis", group] => discovery::group(&defs(), group).map_or_else(|| Err(ApiError::no_route()), ok),
        ["apis", group, version] => {
            discovery::resource_list(&defs(), group, version).map_or_else(|| Err(ApiError::no_route()), ok)
        }
        ["api", "v1", rest @ ..] => {
            let target = parse_target(app, "", "v1", rest).ok_or_else(ApiError::no_route)?;
            serve_resource(app, method, &target, &query, headers, body).await
        }
        ["apis", group, version, rest @ ..] => {
            let target = parse_target(app, group, version, rest).ok_or_else(ApiError::no_route)?;
            serve_resource(app, method, &target, &query, headers, body).await
        }
        _ => Err(ApiError::no_route()),
    }
}

/// The v2 document in the form the request accepts: client-go's discovery client takes only
/// gnostic's protobuf, anything else gets JSON.
fn openapi_v2(defs: &[ResourceDef], headers: &HeaderMap) -> Response {
    let document = openapi::v2::document(defs);
    let wants_protobuf = headers
        .get("accept")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("com.github.proto-openapi.spec.v2"));
    if wants_protobuf {
        (
            [("content-type", openapi::v2::PROTOBUF_MEDIA_TYPE)],
            openapi::v2::protobuf(&document),
        )
            .into_response()
    } else {
        json_response(StatusCode::OK, &document, &[])
    }
}

/// `[namespaces/{ns}/]{plural}[/{name}[/{subresource}]]` under one group-version.
fn parse_target(app: &App, group: &str, version: &str, rest: &[&str]) -> Option<Target> {
    let resolve = |plural: &str| app.store.resolve(group, version, plural);
    if rest.len() >= 3
        && rest[0] == "namespaces"
        && let Some(def) = resolve(rest[2]).filter(|d| d.namespaced)
    {
        if rest.len() > 5 {
            return None;
        }
        return Some(Target {
            def,
            namespace: Some(rest[1].to_string()),
            name: rest.get(3).map(|s| s.to_string()),
            subresource: rest.get(4).map(|s| s.to_string()),
        });
    }
    if rest.is_empty() || rest.len() > 3 {
        return None;
    }
    Some(Target {
        def: resolve(rest[0])?,
        namespace: None,
        name: rest.get(1).map(|s| s.to_string()),
        subresource: rest.get(2).map(|s| s.to_string()),
    })
}

async fn serve_resource(
    app: &App,
    method: &Method,
    target: &Target,
    query: &HashMap<String, String>,
    headers: &HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let store = &app.store;
    let def = &target.def;
    let namespace = target.namespace.as_deref();
    let request_content_type = content_type(headers);
    let request = crate::subresources::Request {
        method,
        def,
        namespace,
        name: target.name.as_deref(),
        subresource: target.subresource.as_deref(),
        content_type: &request_content_type,
        body: &body,
    };
    if let Some((code, answer)) = crate::subresources::serve(store, &request, || write_options(query, headers))? {
        return Ok(json_response(code, &answer, &[]));
    }
    let status = match target.subresource.as_deref() {
        None => false,
        Some("status") if def.status_subresource => true,
        // A CertificateSigningRequest's approval is written as its status.
        Some("approval") if def.builtin == Some(crate::registry::Builtin::CertificateSigningRequest) => true,
        Some(_) => return Err(ApiError::no_route()),
    };
    let shape = negotiate::shape(headers);
    // Written objects come back in the shape asked for too, except as a Table.
    let written_shape = |object: Value| match shape {
        Shape::Metadata { version, .. } => negotiate::partial_object(&object, version),
        _ => object,
    };
    let include_object = query.get("includeObject").map(String::as_str).unwrap_or("Metadata");
    match (method.clone(), target.name.as_deref()) {
        (Method::GET, None) => {
            let filter = filter(target, query)?;
            if query.get("watch").is_some_and(|w| w == "true" || w == "1") {
                return watch(app, target, &filter, query, shape);
            }
            let limit = query.get("limit").and_then(|l| l.parse().ok());
            let list = store.list(def, &filter, limit, query.get("continue").map(String::as_str))?;
            let mut metadata = json!({"resourceVersion": list.resource_version});
            if let Some(token) = &list.continue_token {
                metadata["continue"] = json!(token);
            }
            if let Some(remaining) = list.remaining {
                metadata["remainingItemCount"] = json!(remaining);
            }
            if shape == Shape::Table {
                let mut table = table::table(
                    def,
                    &list.items,
                    &list.resource_version,
                    include_object,
                    chrono::Utc::now(),
                );
                table["metadata"] = metadata;
                return Ok(json_response(StatusCode::OK, &table, &[]));
            }
            let body = json!({"kind": def.list_kind, "apiVersion": def.api_version(), "metadata": metadata, "items": list.items});
            Ok(json_response(
                StatusCode::OK,
                &metadata_only(def, body, true, shape)?,
                &[],
            ))
        }
        (Method::GET, Some(name)) => {
            let object = store.get(def, namespace, name)?;
            if shape == Shape::Table {
                let rv = object
                    .pointer("/metadata/resourceVersion")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                let table = table::table(
                    def,
                    std::slice::from_ref(&object),
                    &rv,
                    include_object,
                    chrono::Utc::now(),
                );
                return Ok(json_response(StatusCode::OK, &table, &[]));
            }
            Ok(json_response(
                StatusCode::OK,
                &metadata_only(def, object, false, shape)?,
                &[],
            ))
        }
        (Method::POST, None) => {
            let options = write_options(query, headers)?;
            let object = parse_body(&body, &content_type(headers))?;
            let request = RequestInfo::new(None, headers, query);
            let written = admitted(app, &request, || {
                store.prepare_create(def, namespace, object.clone(), &options)
            })
            .await?;
            Ok(json_response(
                StatusCode::CREATED,
                &written_shape(written.object),
                &written.warnings,
            ))
        }
        (Method::PUT, Some(name)) => {
            let options = write_options(query, headers)?;
            let object = parse_body(&body, &content_type(headers))?;
            let request = RequestInfo::new(target.subresource.as_deref(), headers, query);
            let written = admitted(app, &request, || {
                store.prepare_update(def, namespace, name, object.clone(), status, &options)
            })
            .await?;
            Ok(json_response(
                StatusCode::OK,
                &written_shape(written.object),
                &written.warnings,
            ))
        }
        (Method::PATCH, Some(name)) => {
            let mut options = write_options(query, headers)?;
            let content_type = content_type(headers);
            let kind = match content_type.as_str() {
                "application/merge-patch+json" => PatchKind::Merge,
                "application/json-patch+json" => PatchKind::Json,
                "application/strategic-merge-patch+json" => PatchKind::Strategic,
                "application/apply-patch+yaml" | "application/apply-patch+json" => PatchKind::Apply,
                other => {
                    return Err(ApiError::unsupported_media_type(
                        other,
                        &[
                            "application/json-patch+json",
                            "application/merge-patch+json",
                            "application/apply-patch+yaml",
                            "application/strategic-merge-patch+json",
                        ],
                    ));
                }
            };
            if matches!(kind, PatchKind::Apply) {
                if query.get("fieldManager").is_none_or(|m| m.is_empty()) {
                    return Err(ApiError::bad_request(
                        "PATCH, application/apply-patch+yaml requires fieldManager to be set",
                    ));
                }
            } else if options.force {
                return Err(ApiError::bad_request(
                    "force: Invalid value: true: may not be specified for non-apply patch",
                ));
            }
            if !matches!(kind, PatchKind::Apply) {
                options.force = false;
            }
            let patch = parse_body(&body, &content_type)?;
            let request = RequestInfo::new(target.subresource.as_deref(), headers, query);
            let written = admitted(app, &request, || {
                store.prepare_patch(def, namespace, name, kind, patch.clone(), status, &options)
            })
            .await?;
            let code = if written.created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            Ok(json_response(code, &written_shape(written.object), &written.warnings))
        }
        (Method::DELETE, Some(name)) => {
            let options = delete_options(query, &body)?;
            let mut request = RequestInfo::new(None, headers, query);
            request.delete_options = Some(admitted_delete_options(query, &body));
            let Written { object, warnings, .. } =
                admitted(app, &request, || store.prepare_delete(def, namespace, name, &options)).await?;
            if object.pointer("/metadata/deletionTimestamp").is_some() && store.get(def, namespace, name).is_ok() {
                return Ok(json_response(StatusCode::OK, &written_shape(object), &warnings));
            }
            let status = json!({
                "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                "details": {"name": name, "group": def.group, "kind": def.plural, "uid": object.pointer("/metadata/uid")},
            });
            Ok(json_response(StatusCode::OK, &status, &warnings))
        }
        (Method::DELETE, None) => {
            let options = delete_options(query, &body)?;
            let filter = filter(target, query)?;
            let mut request = RequestInfo::new(None, headers, query);
            request.delete_options = Some(admitted_delete_options(query, &body));
            // One delete per object, each through admission, as the real server's DeleteCollection does.
            let (mut deleted, mut warnings) = (vec![], vec![]);
            for (namespace, name) in store.names(def, &filter) {
                let namespace = namespace.as_deref();
                match admitted(app, &request, || store.prepare_delete(def, namespace, &name, &options)).await {
                    Ok(written) => {
                        deleted.push(written.object);
                        warnings.extend(written.warnings);
                    }
                    Err(err) if err.code == StatusCode::NOT_FOUND => {}
                    Err(err) => return Err(err),
                }
            }
            let body = json!({"kind": def.list_kind, "apiVersion": def.api_version(), "metadata": {"resourceVersion": store.current_rv().to_string()}, "items": deleted});
            Ok(json_response(StatusCode::OK, &body, &warnings))
        }
        _ => Err(ApiError::method_not_allowed(format!(
            "the server does not allow this method on the requested resource ({method})"
        ))),
    }
}

/// A write through admission: prepared by the store, changed by the mutating webhooks and
/// judged by the validating webhooks that match it, then stored, unless the object changed meanwhile, when it is prepared and judged
/// again (the real server's optimistic update loop).
async fn admitted(app: &App, request: &RequestInfo, prepare: impl Fn() -> ApiResult<Pending>) -> ApiResult<Written> {
    let mut conflict = None;
    for _ in 0..WRITE_ATTEMPTS {
        let mut pending = prepare()?;
        let decoding_warnings = pending.warnings.clone();
        conflict = Some(ApiError::modified(
            &pending.def.group,
            &pending.def.plural,
            &pending.name,
        ));
        let mutating_warnings = match app.admission.mutate(&app.store, &pending, request).await {
            Ok((Some(object), warnings)) => {
                app.store.mutated(&mut pending, object)?;
                warnings
            }
            Ok((None, warnings)) => warnings,
            Err(mut refusal) => {
                refusal.warnings.splice(0..0, decoding_warnings);
                return Err(refusal);
            }
        };
        let webhook_warnings = match app.admission.validate(&app.store, &pending, request).await {
            Ok(warnings) => mutating_warnings.into_iter().chain(warnings).collect::<Vec<_>>(),
            Err(mut refusal) => {
                refusal.warnings.splice(0..0, decoding_warnings);
                return Err(refusal);
            }
        };
        if let Some(mut written) = app.store.commit(pending)? {
            written.warnings.extend(webhook_warnings);
            return Ok(written);
        }
    }
    Err(conflict.unwrap_or_else(|| ApiError::internal("the write was never attempted")))
}

/// The `DeleteOptions` a delete's webhooks are shown: the body's, or the query's.
fn admitted_delete_options(query: &HashMap<String, String>, body: &Bytes) -> Value {
    let mut options = serde_json::from_slice::<Value>(body)
        .ok()
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({}));
    if options.get("propagationPolicy").is_none()
        && let Some(policy) = query.get("propagationPolicy")
    {
        options["propagationPolicy"] = json!(policy);
    }
    if options.get("dryRun").is_none() && query.get("dryRun").is_some_and(|v| v == "All") {
        options["dryRun"] = json!(["All"]);
    }
    if let Some(map) = options.as_object_mut() {
        map.remove("kind");
        map.remove("apiVersion");
    }
    options
}
