//! Admission webhooks, run as kube-apiserver's `MutatingAdmissionWebhook` and
//! `ValidatingAdmissionWebhook` plugins run them (k8s.io/apiserver/pkg/admission/plugin/webhook).
//! Mutating webhooks first, one at a time in the order of their configurations' names, each sent
//! the object as those before patched it (a `JSONPatch` in the response); the patched object is
//! then validated again (schema, CEL rules). Then every validating webhook whose rules,
//! `namespaceSelector` and `objectSelector` match the request is sent an AdmissionReview, all of
//! them at once. One refusal refuses the request with the webhook's status; a webhook that cannot
//! be called refuses it too (`failurePolicy: Fail`) or is passed over (`Ignore`). Their warnings
//! become `Warning` headers. `userInfo` is the impersonated user of `Impersonate-User` and
//! `Impersonate-Group` (`kubectl --as`, `--as-group`) on every verb.
//!
//! There is no cluster network: a `clientConfig.service` reaches whatever address the test maps
//! the service to ([`Admission::set_service_endpoint`]), while the certificate is still checked
//! against `<service>.<namespace>.svc`, as the real server checks it.
//!
//! The webhooks' matching is in `matching`, the AdmissionReview and the reading of its answer
//! in `review`, and the defaults and validation of ValidatingWebhookConfiguration objects
//! in `configuration`.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::Duration;

use axum::http::{HeaderMap, Uri};
use serde_json::{Map, Value, json};

use crate::error::{ApiError, ApiResult};
use crate::go_format::go_quote;
use crate::registry::{Builtin, ResourceDef};
use crate::store::{Operation, Pending, Store};
use crate::webhook_client::{self, Endpoint};

use matching::should_call;
use review::{read_response, refusal_status, review};

mod configuration;
mod matching;
mod review;

pub use configuration::{configuration_decoding_error, configuration_errors, default_configuration};

const ADMISSION_GROUP: &str = "admissionregistration.k8s.io";
const DEFAULT_TIMEOUT_SECONDS: u64 = 10;
/// client-go caps the body it quotes in an unstructured error.
const MAX_UNSTRUCTURED_BODY: usize = 2048;

/// The webhook caller of one server: where services are, as the test says.
#[derive(Default)]
pub struct Admission {
    /// `(namespace, name, port)` of a service to the `host:port` it is reached at.
    services: RwLock<HashMap<(String, String, u16), String>>,
}

/// What the HTTP layer knows of a request that the store does not.
pub struct RequestInfo {
    pub subresource: Option<String>,
    /// `userInfo` of the AdmissionRequest.
    pub user: Value,
    /// `dryRun`, `fieldManager` and `fieldValidation` as the query gave them, for the
    /// `options` of a create or update.
    pub query_options: Map<String, Value>,
    /// The `DeleteOptions` of a delete.
    pub delete_options: Option<Value>,
}

impl RequestInfo {
    pub fn new(subresource: Option<&str>, headers: &HeaderMap, query: &HashMap<String, String>) -> Self {
        let mut query_options = Map::new();
        if query.get("dryRun").is_some_and(|v| v == "All") {
            query_options.insert("dryRun".into(), json!(["All"]));
        }
        for field in ["fieldManager", "fieldValidation"] {
            if let Some(value) = query.get(field).filter(|v| !v.is_empty()) {
                query_options.insert(field.into(), json!(value));
            }
        }
        RequestInfo {
            subresource: subresource.map(String::from),
            user: user_info(headers),
            query_options,
            delete_options: None,
        }
    }

    /// The `options` of the AdmissionRequest: `CreateOptions`, `UpdateOptions` (patches too) or
    /// `DeleteOptions`.
    fn options(&self, operation: Operation) -> Value {
        let kind = match operation {
            Operation::Create => "CreateOptions",
            Operation::Update => "UpdateOptions",
            Operation::Delete => "DeleteOptions",
        };
        let mut options = match (operation, &self.delete_options) {
            (Operation::Delete, Some(Value::Object(given))) => given.clone(),
            (Operation::Delete, _) => Map::new(),
            _ => self.query_options.clone(),
        };
        options.insert("kind".into(), json!(kind));
        options.insert("apiVersion".into(), json!("meta.k8s.io/v1"));
        Value::Object(options)
    }
}

/// Who makes the request: this server authenticates nobody, so everyone is the cluster admin
/// kubeadm's kubeconfig names, unless the request impersonates someone.
pub fn user_info(headers: &HeaderMap) -> Value {
    let Some(username) = headers.get("impersonate-user").and_then(|v| v.to_str().ok()) else {
        return json!({"username": "system:admin", "groups": ["system:masters", "system:authenticated"]});
    };
    let mut groups: Vec<String> = headers
        .get_all("impersonate-group")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(String::from)
        .collect();
    // The impersonation filter adds what authentication would have.
    if groups.is_empty()
        && let Some(rest) = username.strip_prefix("system:serviceaccount:")
        && let Some((namespace, _)) = rest.split_once(':')
    {
        groups.push("system:serviceaccounts".into());
        groups.push(format!("system:serviceaccounts:{namespace}"));
    }
    if !groups.iter().any(|g| g == "system:authenticated") {
        groups.push("system:authenticated".into());
    }
    let mut user = json!({"username": username, "groups": groups});
    if let Some(uid) = headers.get("impersonate-uid").and_then(|v| v.to_str().ok()) {
        user["uid"] = json!(uid);
    }
    user
}

/// The request as admission sees it (`admission.Attributes`).
struct Attributes<'a> {
    def: &'a ResourceDef,
    subresource: String,
    operation: Operation,
    /// The name as the request gave it: empty for a create by `generateName`.
    name: String,
    /// The namespace of the request: the namespace's own name for an update or delete of a Namespace.
    namespace: String,
    object: Option<&'a Value>,
    old: Option<&'a Value>,
    dry_run: bool,
    user: &'a Value,
    options: Value,
}

/// One webhook to call, at the version of the resource its rules matched.
struct Invocation<'a> {
    webhook: &'a Value,
    def: ResourceDef,
}

/// What one webhook call came to.
#[derive(Default)]
struct Outcome {
    warnings: Vec<String>,
    refusal: Option<ApiError>,
    /// A mutating webhook's JSON patch.
    patch: Option<json_patch::Patch>,
}

impl Admission {
    /// Where the service `namespace/name` listens on `port`: `https://127.0.0.1:9443` (or `host:port`).
    pub fn set_service_endpoint(&self, namespace: &str, name: &str, port: u16, url: &str) {
        let mut services = self.services.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        services.insert((namespace.into(), name.into(), port), host_port(url));
    }

    /// Runs the validating webhooks that match `pending`. Returns their warnings, or the error
    /// that refuses the request (carrying the warnings).
    pub async fn validate(&self, store: &Store, pending: &Pending, request: &RequestInfo) -> ApiResult<Vec<String>> {
        // Webhooks never see webhook configurations (`IsExemptAdmissionConfigurationResource`).
        if pending.def.group == ADMISSION_GROUP {
            return Ok(vec![]);
        }
        let configurations = store.builtin_objects(Builtin::ValidatingWebhookConfiguration);
        if configurations.is_empty() {
            return Ok(vec![]);
        }
        let attributes = Attributes::of(pending, request);
        let defs = store.defs();
        let mut invocations = vec![];
        for webhook in configurations
            .iter()
            .flat_map(|c| c["webhooks"].as_array().into_iter().flatten())
        {
            if let Some(invocation) = should_call(webhook, &attributes, &defs, store)? {
                invocations.push(invocation);
            }
        }
        if invocations.is_empty() {
            return Ok(vec![]);
        }
        let outcomes = futures::future::join_all(
            invocations
                .iter()
                .map(|invocation| self.call(invocation, &attributes, false)),
        )
        .await;
        let mut warnings = vec![];
        let mut refusal = None;
        for outcome in outcomes {
            warnings.extend(outcome.warnings);
            if refusal.is_none() {
                refusal = outcome.refusal;
            }
        }
        match refusal {
            Some(mut error) => {
                error.warnings = warnings;
                Err(error)
            }
            None => Ok(warnings),
        }
    }

    /// Runs the mutating webhooks that match `pending` (`MutatingAdmissionWebhook`), one after
    /// another in the order of their configurations' names, each shown the object as those before
    /// left it. Returns that object (None: unchanged) with their warnings, or the error that
    /// refuses the request. Deletes are not mutated.
    pub async fn mutate(
        &self,
        store: &Store,
        pending: &Pending,
        request: &RequestInfo,
    ) -> ApiResult<(Option<Value>, Vec<String>)> {
        let Some(original) = pending.object().filter(|_| pending.def.group != ADMISSION_GROUP) else {
            return Ok((None, vec![]));
        };
        let mut configurations = store.builtin_objects(Builtin::MutatingWebhookConfiguration);
        configurations.sort_by(|a, b| a["metadata"]["name"].as_str().cmp(&b["metadata"]["name"].as_str()));
        let defs = store.defs();
        let mut object = original.clone();
        let mut warnings = vec![];
        for webhook in configurations
            .iter()
            .flat_map(|c| c["webhooks"].as_array().into_iter().flatten())
        {
            let mut attributes = Attributes::of(pending, request);
            attributes.object = Some(&object);
            let Some(invocation) = should_call(webhook, &attributes, &defs, store)? else {
                continue;
            };
            let outcome = self.call(&invocation, &attributes, true).await;
            warnings.extend(outcome.warnings);
            if let Some(mut error) = outcome.refusal {
                error.warnings = warnings;
                return Err(error);
            }
            if let Some(patch) = outcome.patch {
                json_patch::patch(&mut object, &patch).map_err(|err| {
                    ApiError::internal_error(&format!(
                        "Internal error occurred: JSON patch of webhook {} failed: {err}",
                        go_quote(webhook["name"].as_str().unwrap_or_default())
                    ))
                })?;
            }
        }
        Ok(((object != *original).then_some(object), warnings))
    }

    async fn call(&self, invocation: &Invocation<'_>, attributes: &Attributes<'_>, mutating: bool) -> Outcome {
        let webhook = invocation.webhook;
        let name = webhook["name"].as_str().unwrap_or_default();
        let fail_open = webhook["failurePolicy"].as_str() == Some("Ignore");
        let calling_failure = |reason: String| {
            let error = format!("failed calling webhook {}: {reason}", go_quote(name));
            if fail_open {
                tracing::warn!(webhook = name, %error, "failed calling webhook, failing open");
                Outcome::default()
            } else {
                tracing::warn!(webhook = name, %error, "failed calling webhook, failing closed");
                Outcome {
                    refusal: Some(ApiError::internal_error(&error)),
                    ..Outcome::default()
                }
            }
        };
        if attributes.dry_run {
            match webhook["sideEffects"].as_str() {
                Some("None" | "NoneOnDryRun") => {}
                None => return calling_failure("Webhook SideEffects is nil".into()),
                Some(_) => {
                    return Outcome {
                        refusal: Some(ApiError::bad_request(format!(
                            "admission webhook {} does not support dry run",
                            go_quote(name)
                        ))),
                        ..Outcome::default()
                    };
                }
            }
        }
        let Some(review_version) = webhook["admissionReviewVersions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .find(|v| matches!(*v, "v1" | "v1beta1"))
        else {
            return calling_failure(
                "could not create admission objects: webhook does not accept known AdmissionReview versions (v1, v1beta1)"
                    .into(),
            );
        };
        let uid = uuid::Uuid::new_v4().to_string();
        let review = review(&uid, review_version, invocation, attributes);
        let seconds = webhook["timeoutSeconds"]
            .as_u64()
            .unwrap_or(DEFAULT_TIMEOUT_SECONDS)
            .clamp(1, 30);
        let endpoint = match self.endpoint(&webhook["clientConfig"], seconds) {
            Ok(endpoint) => endpoint,
            Err(reason) => return calling_failure(reason),
        };
        let reply = match webhook_client::post(&endpoint, review.to_string().into_bytes(), Duration::from_secs(seconds))
            .await
        {
            Ok(reply) => reply,
            Err(error) => return calling_failure(error.reason(&endpoint.url)),
        };
        let (response, patch) = match read_response(&reply, &uid, review_version, mutating) {
            Ok(read) => read,
            Err(reason) => return calling_failure(reason),
        };
        let warnings = response["warnings"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(String::from)
            .collect();
        let refusal = (response["allowed"].as_bool() != Some(true))
            .then(|| ApiError::from_status(refusal_status(name, response.get("status"))));
        Outcome {
            warnings,
            refusal,
            patch,
        }
    }

    /// How to reach a webhook, as client-go's `hookClientConfig` builds its client. An error is
    /// the reason the call fails before any connection.
    fn endpoint(&self, client_config: &Value, timeout_seconds: u64) -> Result<Endpoint, String> {
        use base64::Engine;
        let ca_bundle = match client_config["caBundle"].as_str() {
            Some(encoded) => Some(
                base64::engine::general_purpose::STANDARD
                    .decode(encoded)
                    .map_err(|e| format!("could not get REST client: {e}"))?,
            ),
            None => None,
        };
        let query = format!("timeout={timeout_seconds}s");
        if let Some(service) = client_config.get("service").filter(|s| s.is_object()) {
            let namespace = service["namespace"].as_str().unwrap_or_default();
            let name = service["name"].as_str().unwrap_or_default();
            let port = service["port"]
                .as_u64()
                .and_then(|p| u16::try_from(p).ok())
                .unwrap_or(443);
            let path = service["path"].as_str().unwrap_or_default();
            let server_name = format!("{name}.{namespace}.svc");
            let authority = format!("{server_name}:{port}");
            let services = self.services.read().unwrap_or_else(|poisoned| poisoned.into_inner());
            return Ok(Endpoint {
                url: format!("https://{authority}{path}?{query}"),
                // Without a mapping the service name is looked up as the real server's resolver
                // does, and is not found.
                dial: services.get(&(namespace.into(), name.into(), port)).cloned(),
                server_name,
                authority,
                path_and_query: format!("{}?{query}", if path.is_empty() { "/" } else { path }),
                ca_bundle,
            });
        }
        let Some(url) = client_config["url"].as_str() else {
            return Err("webhook configuration must have either service or URL".into());
        };
        let uri: Uri = url
            .parse()
            .map_err(|e| format!("could not get REST client: Unparsable URL: {e}"))?;
        let (Some(scheme), Some(authority), Some(host)) = (uri.scheme_str(), uri.authority(), uri.host()) else {
            return Err(format!("could not get REST client: Unparsable URL: {url}"));
        };
        // client-go's URL keeps the path as written, without a `/` when there is none.
        let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
        let path = after_scheme.find('/').map_or("", |slash| &after_scheme[slash..]);
        let port = uri.port_u16().unwrap_or(443);
        Ok(Endpoint {
            url: format!("{scheme}://{authority}{path}?{query}"),
            dial: Some(format!("{host}:{port}")),
            server_name: host.to_string(),
            authority: authority.to_string(),
            path_and_query: format!("{}?{query}", if path.is_empty() { "/" } else { path }),
            ca_bundle,
        })
    }
}

/// `https://127.0.0.1:9443/anything` or `127.0.0.1:9443` to `127.0.0.1:9443`.
fn host_port(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.split('/').next().unwrap_or(rest).to_string()
}

impl<'a> Attributes<'a> {
    fn of(pending: &'a Pending, request: &'a RequestInfo) -> Self {
        let name = if pending.name_generated {
            String::new()
        } else {
            pending.name.clone()
        };
        let mut namespace = pending.namespace.clone().unwrap_or_default();
        if pending.def.builtin == Some(Builtin::Namespace) && pending.operation != Operation::Create {
            namespace = pending.name.clone();
        }
        Attributes {
            def: &pending.def,
            subresource: request.subresource.clone().unwrap_or_default(),
            operation: pending.operation,
            name,
            namespace,
            object: pending.object(),
            old: pending.old(),
            dry_run: pending.dry_run,
            user: &request.user,
            options: request.options(pending.operation),
        }
    }

    fn is_namespace_resource(&self) -> bool {
        self.def.group.is_empty() && self.def.version == "v1" && self.def.plural == "namespaces"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_endpoints_take_host_and_port() {
        assert_eq!(host_port("https://127.0.0.1:9443"), "127.0.0.1:9443");
        assert_eq!(host_port("https://127.0.0.1:9443/x"), "127.0.0.1:9443");
        assert_eq!(host_port("127.0.0.1:9443"), "127.0.0.1:9443");
    }
}
