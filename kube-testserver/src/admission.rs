//! Validating admission webhooks, run as kube-apiserver's `ValidatingAdmissionWebhook` plugin runs
//! them (k8s.io/apiserver/pkg/admission/plugin/webhook): after defaulting, schema validation and
//! CEL rules, before the object is stored, every webhook of every ValidatingWebhookConfiguration
//! whose rules, `namespaceSelector` and `objectSelector` match the request is sent an
//! AdmissionReview, all of them at once. One refusal refuses the request with the webhook's
//! status; a webhook that cannot be called refuses it too (`failurePolicy: Fail`) or is passed
//! over (`Ignore`). Their warnings become `Warning` headers.
//!
//! There is no cluster network: a `clientConfig.service` reaches whatever address the test maps
//! the service to ([`Admission::set_service_endpoint`]), while the certificate is still checked
//! against `<service>.<namespace>.svc`, as the real server checks it.
//!
//! Also here: the defaults and the validation of ValidatingWebhookConfiguration objects.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::Duration;

use axum::http::{HeaderMap, Uri};
use serde_json::{Map, Value, json};

use crate::cel_rules;
use crate::error::{ApiError, ApiResult};
use crate::go_format::go_quote;
use crate::registry::{Builtin, ResourceDef};
use crate::store::{Operation, Pending, Store};
use crate::webhook_client::{self, Endpoint, Reply};

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
        let outcomes =
            futures::future::join_all(invocations.iter().map(|invocation| self.call(invocation, &attributes))).await;
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

    async fn call(&self, invocation: &Invocation<'_>, attributes: &Attributes<'_>) -> Outcome {
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
                    warnings: vec![],
                    refusal: Some(ApiError::internal_error(&error)),
                }
            }
        };
        if attributes.dry_run {
            match webhook["sideEffects"].as_str() {
                Some("None" | "NoneOnDryRun") => {}
                None => return calling_failure("Webhook SideEffects is nil".into()),
                Some(_) => {
                    return Outcome {
                        warnings: vec![],
                        refusal: Some(ApiError::bad_request(format!(
                            "admission webhook {} does not support dry run",
                            go_quote(name)
                        ))),
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
        let response = match read_response(&reply, &uid, review_version) {
            Ok(response) => response,
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
        Outcome { warnings, refusal }
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
            object: pending.object.as_ref(),
            old: pending.old.as_ref(),
            dry_run: pending.dry_run,
            user: &request.user,
            options: request.options(pending.operation),
        }
    }

    fn is_namespace_resource(&self) -> bool {
        self.def.group.is_empty() && self.def.version == "v1" && self.def.plural == "namespaces"
    }
}

/// `ShouldCallHook`: the selectors, then the rules (at the request's version, then, for
/// `matchPolicy: Equivalent`, at the other versions the resource is served at).
fn should_call<'w>(
    webhook: &'w Value,
    attributes: &Attributes,
    defs: &[ResourceDef],
    store: &Store,
) -> ApiResult<Option<Invocation<'w>>> {
    let namespace_match = match_namespace(webhook, attributes, store);
    if matches!(namespace_match, Ok(false)) || !match_object(webhook, attributes) {
        return Ok(None);
    }
    let rules: Vec<&Value> = webhook["rules"].as_array().into_iter().flatten().collect();
    let at = |def: &ResourceDef| rules.iter().any(|rule| rule_matches(rule, def, attributes));
    let def = if at(attributes.def) {
        Some(attributes.def.clone())
    } else if webhook["matchPolicy"].as_str() != Some("Exact") {
        defs.iter()
            .filter(|d| d.group == attributes.def.group && d.plural == attributes.def.plural)
            .find(|d| d.version != attributes.def.version && at(d))
            .cloned()
    } else {
        None
    };
    let Some(def) = def else {
        return Ok(None);
    };
    namespace_match?;
    let invocation = Invocation { webhook, def };
    if !match_conditions(&invocation, attributes)? {
        return Ok(None);
    }
    Ok(Some(invocation))
}

/// `matchConditions`, CEL over `object`, `oldObject` and `request`: any false skips the webhook;
/// an expression that fails refuses the request (`failurePolicy: Fail`) or skips the webhook.
fn match_conditions(invocation: &Invocation, attributes: &Attributes) -> ApiResult<bool> {
    let conditions: Vec<&Value> = invocation.webhook["matchConditions"]
        .as_array()
        .into_iter()
        .flatten()
        .collect();
    if conditions.is_empty() {
        return Ok(true);
    }
    let review = review("", "v1", invocation, attributes);
    let request = &review["request"];
    let variables = [
        ("object", &request["object"]),
        ("oldObject", &request["oldObject"]),
        ("request", request),
    ];
    let mut failures = vec![];
    for condition in conditions {
        let expression = condition["expression"].as_str().unwrap_or_default();
        match cel_rules::evaluate_match_condition(expression, &variables) {
            Ok(true) => {}
            Ok(false) => return Ok(false),
            Err(failure) => failures.push(failure),
        }
    }
    if failures.is_empty() {
        return Ok(true);
    }
    if invocation.webhook["failurePolicy"].as_str() == Some("Ignore") {
        return Ok(false);
    }
    let why = if failures.len() == 1 {
        failures.remove(0)
    } else {
        format!("[{}]", failures.join(", "))
    };
    Err(ApiError::forbidden(
        &attributes.def.group,
        &attributes.def.plural,
        &attributes.name,
        &why,
    ))
}

/// `MatchNamespaceSelector`: cluster-scoped objects other than namespaces always match; a
/// Namespace being created or updated is matched by its own labels.
fn match_namespace(webhook: &Value, attributes: &Attributes, store: &Store) -> ApiResult<bool> {
    if attributes.namespace.is_empty() && attributes.def.plural != "namespaces" {
        return Ok(true);
    }
    let selector = &webhook["namespaceSelector"];
    if selector_is_empty(selector) {
        return Ok(true);
    }
    let own_labels = attributes.def.plural == "namespaces"
        && attributes.subresource.is_empty()
        && matches!(attributes.operation, Operation::Create | Operation::Update);
    let labels = if own_labels {
        attributes.object.map(labels_of).unwrap_or_default()
    } else {
        let labels = store
            .namespace_labels(&attributes.namespace)
            .ok_or_else(|| ApiError::not_found("", "namespaces", &attributes.namespace))?;
        labels.as_object().cloned().unwrap_or_default()
    };
    Ok(selector_matches(selector, &labels))
}

/// `MatchObjectSelector`: the new object's labels or the old one's.
fn match_object(webhook: &Value, attributes: &Attributes) -> bool {
    let selector = &webhook["objectSelector"];
    selector_is_empty(selector)
        || [attributes.object, attributes.old]
            .into_iter()
            .flatten()
            .any(|object| selector_matches(selector, &labels_of(object)))
}

fn labels_of(object: &Value) -> Map<String, Value> {
    object
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

fn selector_is_empty(selector: &Value) -> bool {
    let none = |field: &str| match &selector[field] {
        Value::Null => true,
        Value::Object(map) => map.is_empty(),
        Value::Array(items) => items.is_empty(),
        _ => false,
    };
    none("matchLabels") && none("matchExpressions")
}

/// A `metav1.LabelSelector` against a set of labels: every `matchLabels` pair and every
/// expression must hold.
pub fn selector_matches(selector: &Value, labels: &Map<String, Value>) -> bool {
    let pairs = selector["matchLabels"]
        .as_object()
        .is_none_or(|pairs| pairs.iter().all(|(key, value)| labels.get(key) == Some(value)));
    let expressions = selector["matchExpressions"].as_array().is_none_or(|expressions| {
        expressions.iter().all(|expression| {
            let key = expression["key"].as_str().unwrap_or_default();
            let values: Vec<&str> = expression["values"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            let value = labels.get(key).and_then(Value::as_str);
            match expression["operator"].as_str() {
                Some("In") => value.is_some_and(|v| values.contains(&v)),
                Some("NotIn") => value.is_none_or(|v| !values.contains(&v)),
                Some("Exists") => labels.contains_key(key),
                Some("DoesNotExist") => !labels.contains_key(key),
                _ => false,
            }
        })
    });
    pairs && expressions
}

/// One rule of a webhook against the request at `def`'s group and version (`rules.Matcher`).
fn rule_matches(rule: &Value, def: &ResourceDef, attributes: &Attributes) -> bool {
    let strings = |field: &str| -> Vec<&str> {
        rule[field]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect()
    };
    let exact_or_wildcard = |field: &str, requested: &str| strings(field).iter().any(|i| *i == "*" || *i == requested);
    let scope = match rule["scope"].as_str() {
        None | Some("*") => true,
        Some("Namespaced") => !attributes.is_namespace_resource() && !attributes.namespace.is_empty(),
        Some("Cluster") => attributes.is_namespace_resource() || attributes.namespace.is_empty(),
        Some(_) => false,
    };
    let operation = strings("operations")
        .iter()
        .any(|op| *op == "*" || *op == attributes.operation.as_str());
    let resource = strings("resources").iter().any(|entry| {
        let (resource, subresource) = entry.split_once('/').unwrap_or((entry, ""));
        (resource == "*" || resource == def.plural) && (subresource == "*" || subresource == attributes.subresource)
    });
    scope
        && operation
        && exact_or_wildcard("apiGroups", &def.group)
        && exact_or_wildcard("apiVersions", &def.version)
        && resource
}

/// The AdmissionReview sent to one webhook (`CreateV1AdmissionReview`).
fn review(uid: &str, review_version: &str, invocation: &Invocation, attributes: &Attributes) -> Value {
    let at_version = |object: Option<&Value>| match object {
        Some(object) => {
            let mut object = object.clone();
            object["apiVersion"] = json!(invocation.def.api_version());
            object["kind"] = json!(invocation.def.kind);
            object
        }
        None => Value::Null,
    };
    let request_def = attributes.def;
    let mut request = json!({
        "uid": uid,
        "kind": {"group": invocation.def.group, "version": invocation.def.version, "kind": invocation.def.kind},
        "resource": {"group": invocation.def.group, "version": invocation.def.version, "resource": invocation.def.plural},
        "requestKind": {"group": request_def.group, "version": request_def.version, "kind": request_def.kind},
        "requestResource": {"group": request_def.group, "version": request_def.version, "resource": request_def.plural},
        "operation": attributes.operation.as_str(),
        "userInfo": attributes.user,
        "object": at_version(attributes.object),
        "oldObject": at_version(attributes.old),
        "dryRun": attributes.dry_run,
        "options": attributes.options,
    });
    if !attributes.subresource.is_empty() {
        request["subResource"] = json!(attributes.subresource);
        request["requestSubResource"] = json!(attributes.subresource);
    }
    if !attributes.name.is_empty() {
        request["name"] = json!(attributes.name);
    }
    if !attributes.namespace.is_empty() {
        request["namespace"] = json!(attributes.namespace);
    }
    json!({"kind": "AdmissionReview", "apiVersion": format!("admission.k8s.io/{review_version}"), "request": request})
}

/// The webhook's `response`, read as client-go's REST client and `VerifyAdmissionResponse` read
/// it. An error is the reason the call failed.
fn read_response(reply: &Reply, uid: &str, review_version: &str) -> Result<Value, String> {
    let content_type = reply.content_type.as_deref().unwrap_or("application/json");
    let media_type = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let decode = |body: &[u8]| -> Result<Value, String> {
        match media_type.as_str() {
            "application/yaml" => serde_yaml_ng::from_slice(body).map_err(|e| e.to_string()),
            _ => serde_json::from_slice(body).map_err(|e| e.to_string()),
        }
    };
    let decodable = matches!(media_type.as_str(), "application/json" | "application/yaml");
    if !(200..=206).contains(&reply.status) {
        // A `Status` in the body is the error; anything else gets client-go's generic words.
        if decodable
            && let Ok(status) = decode(&reply.body)
            && status["kind"] == "Status"
            && status["status"] == "Failure"
        {
            return Err(format!(
                "failed to call webhook: {}",
                status["message"].as_str().unwrap_or_default()
            ));
        }
        let is_text = reply.content_type.is_none() || media_type.starts_with("text/");
        let server_message = if is_text {
            let body = &reply.body[..reply.body.len().min(MAX_UNSTRUCTURED_BODY)];
            String::from_utf8_lossy(body).trim().to_string()
        } else {
            "unknown".to_string()
        };
        return Err(format!(
            "failed to call webhook: {}",
            generic_server_response(reply.status, &server_message)
        ));
    }
    if !decodable {
        return Err(format!(
            "failed to call webhook: serializer for {content_type} doesn't exist"
        ));
    }
    if reply.body.is_empty() {
        return Err(format!(
            "failed to call webhook: 0-length response with status code: {} and content type: {content_type}",
            reply.status
        ));
    }
    let review = decode(&reply.body)
        .map_err(|e| format!("failed to call webhook: couldn't get version/kind; json parse error: {e}"))?;
    let invalid = |why: String| format!("received invalid webhook response: {why}");
    let response = match review.get("response") {
        Some(response @ Value::Object(_)) => response.clone(),
        _ => return Err(invalid("webhook response was absent".into())),
    };
    if review_version == "v1" {
        let got = response["uid"].as_str().unwrap_or_default();
        if got != uid {
            return Err(invalid(format!(
                "expected response.uid={}, got {}",
                go_quote(uid),
                go_quote(got)
            )));
        }
        let api_version = review["apiVersion"].as_str().unwrap_or_default();
        let kind = review["kind"].as_str().unwrap_or_default();
        if api_version != "admission.k8s.io/v1" || kind != "AdmissionReview" {
            let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
            return Err(invalid(format!(
                "expected webhook response of admission.k8s.io/v1, Kind=AdmissionReview, got {group}/{version}, Kind={kind}"
            )));
        }
        if response["patch"].as_str().is_some_and(|p| !p.is_empty()) {
            return Err(invalid("validating webhook may not return response.patch".into()));
        }
        if !response["patchType"].is_null() {
            return Err(invalid("validating webhook may not return response.patchType".into()));
        }
    }
    Ok(response)
}

/// apimachinery's `NewGenericServerResponse`, for a non-2xx answer without a `Status`.
fn generic_server_response(code: u16, server_message: &str) -> String {
    match code {
        409 => "the server reported a conflict".into(),
        404 => "the server could not find the requested resource".into(),
        400 => "the server rejected our request for an unknown reason".into(),
        401 => "the server has asked for the client to provide credentials".into(),
        403 | 415 => server_message.into(),
        406 if server_message.is_empty() || server_message == "unknown" => {
            "the server was unable to respond with a content type that the client supports".into()
        }
        406 => server_message.into(),
        405 => "the server does not allow this method on the requested resource".into(),
        422 => "the server rejected our request due to an error in our request".into(),
        503 => "the server is currently unable to handle the request".into(),
        504 => {
            "the server was unable to return a response in the time allotted, but may still be processing the request"
                .into()
        }
        429 => "the server has received too many requests and has asked us to try again later".into(),
        code if code >= 500 => format!(
            "an error on the server ({}) has prevented the request from succeeding",
            go_quote(server_message)
        ),
        code => format!("the server responded with the status code {code} but did not return more information"),
    }
}

/// The status a refusing webhook's request fails with (`ToStatusErr`): its own, at least a 400,
/// the message prefixed with the webhook's name.
fn refusal_status(webhook: &str, result: Option<&Value>) -> Value {
    let empty = json!({});
    let result = result.filter(|r| r.is_object()).unwrap_or(&empty);
    let text = |field: &str| result[field].as_str().unwrap_or_default();
    let code = result["code"].as_i64().unwrap_or(0).max(400);
    let status = match text("status") {
        "" | "Success" => "Failure",
        other => other,
    };
    let denied_by = format!("admission webhook {} denied the request", go_quote(webhook));
    let message = if !text("message").is_empty() {
        format!("{denied_by}: {}", text("message"))
    } else if !text("reason").is_empty() {
        format!("{denied_by}: {}", text("reason"))
    } else {
        format!("{denied_by} without explanation")
    };
    let mut body = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": status,
        "message": message,
        "code": code,
    });
    if !text("reason").is_empty() {
        body["reason"] = json!(text("reason"));
    }
    if result["details"].is_object() {
        body["details"] = result["details"].clone();
    }
    body
}

/// What the real server defaults in a ValidatingWebhookConfiguration (`SetDefaults_ValidatingWebhook`,
/// `SetDefaults_Rule`, `SetDefaults_ServiceReference`).
pub fn default_configuration(configuration: &mut Value) {
    let Some(webhooks) = configuration.get_mut("webhooks").and_then(Value::as_array_mut) else {
        return;
    };
    for webhook in webhooks.iter_mut().filter_map(Value::as_object_mut) {
        webhook.entry("failurePolicy").or_insert_with(|| json!("Fail"));
        webhook.entry("matchPolicy").or_insert_with(|| json!("Equivalent"));
        webhook.entry("namespaceSelector").or_insert_with(|| json!({}));
        webhook.entry("objectSelector").or_insert_with(|| json!({}));
        webhook
            .entry("timeoutSeconds")
            .or_insert_with(|| json!(DEFAULT_TIMEOUT_SECONDS));
        if let Some(rules) = webhook.get_mut("rules").and_then(Value::as_array_mut) {
            for rule in rules.iter_mut().filter_map(Value::as_object_mut) {
                rule.entry("scope").or_insert_with(|| json!("*"));
            }
        }
        if let Some(service) = webhook
            .get_mut("clientConfig")
            .and_then(|c| c.get_mut("service"))
            .and_then(Value::as_object_mut)
        {
            service.entry("port").or_insert_with(|| json!(443));
        }
    }
}

/// A `caBundle` that is not base64 fails decoding, before validation, as `[]byte` fields do.
pub fn configuration_decoding_error(configuration: &Value) -> Option<String> {
    use base64::Engine;
    configuration["webhooks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|webhook| webhook.pointer("/clientConfig/caBundle"))
        .find_map(|bundle| match bundle {
            Value::Null => None,
            Value::String(text) => match base64::engine::general_purpose::STANDARD.decode(text) {
                Ok(_) => None,
                Err(base64::DecodeError::InvalidByte(offset, _)) => {
                    Some(format!("illegal base64 data at input byte {offset}"))
                }
                Err(_) => Some(format!("illegal base64 data at input byte {}", text.len())),
            },
            other => Some(format!(
                "json: cannot unmarshal {} into Go struct field WebhookClientConfig.webhooks.clientConfig.caBundle of type []uint8",
                match other {
                    Value::Bool(_) => "bool",
                    Value::Number(_) => "number",
                    Value::Array(_) => "array",
                    _ => "object",
                }
            )),
        })
}

type FieldError = (String, String, String);

fn required(field: &str, detail: &str) -> FieldError {
    let body = if detail.is_empty() {
        "Required value".to_string()
    } else {
        format!("Required value: {detail}")
    };
    ("FieldValueRequired".into(), field.into(), format!("{field}: {body}"))
}

fn invalid(field: &str, value: &str, detail: &str) -> FieldError {
    (
        "FieldValueInvalid".into(),
        field.into(),
        format!("{field}: Invalid value: {value}: {detail}"),
    )
}

fn not_supported(field: &str, value: &str, supported: &[&str]) -> FieldError {
    let supported: Vec<String> = supported.iter().map(|s| go_quote(s)).collect();
    (
        "FieldValueNotSupported".into(),
        field.into(),
        format!(
            "{field}: Unsupported value: {}: supported values: {}",
            go_quote(value),
            supported.join(", ")
        ),
    )
}

fn go_string_slice(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| go_quote(s)).collect();
    format!("[]string{{{}}}", quoted.join(", "))
}

/// `ValidateValidatingWebhookConfiguration`, for the mistakes a hand-written or chart-rendered
/// manifest makes: names, client configs, rules, side effects, review versions, timeouts, selectors.
pub fn configuration_errors(configuration: &Value) -> Vec<FieldError> {
    let mut errors = vec![];
    let mut names: Vec<&str> = vec![];
    for (index, webhook) in configuration["webhooks"].as_array().into_iter().flatten().enumerate() {
        let path = format!("webhooks[{index}]");
        let text = |field: &str| webhook[field].as_str();
        let name = text("name").unwrap_or_default();
        errors.extend(fully_qualified_name_errors(&format!("{path}.name"), name));
        for (rule_index, rule) in webhook["rules"].as_array().into_iter().flatten().enumerate() {
            errors.extend(rule_errors(&format!("{path}.rules[{rule_index}]"), rule));
        }
        if let Some(policy) = text("failurePolicy")
            && !matches!(policy, "Fail" | "Ignore")
        {
            errors.push(not_supported(
                &format!("{path}.failurePolicy"),
                policy,
                &["Fail", "Ignore"],
            ));
        }
        if let Some(policy) = text("matchPolicy")
            && !matches!(policy, "Equivalent" | "Exact")
        {
            errors.push(not_supported(
                &format!("{path}.matchPolicy"),
                policy,
                &["Equivalent", "Exact"],
            ));
        }
        match text("sideEffects") {
            None => errors.push(required(
                &format!("{path}.sideEffects"),
                "must specify one of None, NoneOnDryRun",
            )),
            Some("None" | "NoneOnDryRun") => {}
            Some(other) => errors.push(not_supported(
                &format!("{path}.sideEffects"),
                other,
                &["None", "NoneOnDryRun"],
            )),
        }
        if let Some(timeout) = webhook["timeoutSeconds"].as_i64()
            && !(1..=30).contains(&timeout)
        {
            errors.push(invalid(
                &format!("{path}.timeoutSeconds"),
                &timeout.to_string(),
                "the timeout value must be between 1 and 30 seconds",
            ));
        }
        for selector in ["namespaceSelector", "objectSelector"] {
            errors.extend(selector_errors(&format!("{path}.{selector}"), &webhook[selector]));
        }
        errors.extend(client_config_errors(
            &format!("{path}.clientConfig"),
            &webhook["clientConfig"],
        ));
        let mut condition_names: Vec<&str> = vec![];
        for (condition_index, condition) in webhook["matchConditions"].as_array().into_iter().flatten().enumerate() {
            let at = format!("{path}.matchConditions[{condition_index}]");
            let condition_name = condition["name"].as_str().unwrap_or_default();
            if condition_name.is_empty() {
                errors.push(required(&format!("{at}.name"), ""));
            } else if condition_names.contains(&condition_name) {
                errors.push((
                    "FieldValueDuplicate".into(),
                    format!("{at}.name"),
                    format!("{at}.name: Duplicate value: {}", go_quote(condition_name)),
                ));
            } else {
                condition_names.push(condition_name);
            }
            if condition["expression"].as_str().unwrap_or_default().is_empty() {
                errors.push(required(&format!("{at}.expression"), ""));
            }
        }
        let versions: Vec<&str> = webhook["admissionReviewVersions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let versions_path = format!("{path}.admissionReviewVersions");
        if versions.is_empty() {
            errors.push(required(&versions_path, "must specify one of v1, v1beta1"));
        } else {
            for (version_index, version) in versions.iter().enumerate() {
                if versions[..version_index].contains(version) {
                    errors.push(invalid(
                        &format!("{versions_path}[{version_index}]"),
                        &go_quote(version),
                        "duplicate version",
                    ));
                }
            }
            if !versions.iter().any(|v| matches!(*v, "v1" | "v1beta1")) {
                errors.push(invalid(
                    &versions_path,
                    &go_string_slice(&versions),
                    "must include at least one of v1, v1beta1",
                ));
            }
        }
        if !name.is_empty() {
            if names.contains(&name) {
                errors.push((
                    "FieldValueDuplicate".into(),
                    format!("{path}.name"),
                    format!("{path}.name: Duplicate value: {}", go_quote(name)),
                ));
            } else {
                names.push(name);
            }
        }
    }
    errors
}

fn fully_qualified_name_errors(field: &str, name: &str) -> Vec<FieldError> {
    if name.is_empty() {
        return vec![required(field, "")];
    }
    let name = name.strip_suffix('.').unwrap_or(name);
    let label = regex::Regex::new(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$");
    if name.len() > 253 || !label.is_ok_and(|re| re.is_match(name)) {
        return vec![invalid(
            field,
            &go_quote(name),
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
        )];
    }
    if name.split('.').count() < 3 {
        return vec![invalid(
            field,
            &go_quote(name),
            "should be a domain with at least three segments separated by dots",
        )];
    }
    vec![]
}

fn rule_errors(path: &str, rule: &Value) -> Vec<FieldError> {
    let mut errors = vec![];
    let strings = |field: &str| -> Vec<&str> {
        rule[field]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect()
    };
    let operations = strings("operations");
    if operations.is_empty() {
        errors.push(required(&format!("{path}.operations"), ""));
    }
    if operations.len() > 1 && operations.contains(&"*") {
        errors.push(invalid(
            &format!("{path}.operations"),
            &go_string_slice(&operations).replace("[]string", "[]admissionregistration.OperationType"),
            "if '*' is present, must not specify other operations",
        ));
    }
    for (index, operation) in operations.iter().enumerate() {
        if !matches!(*operation, "*" | "CONNECT" | "CREATE" | "DELETE" | "UPDATE") {
            errors.push(not_supported(
                &format!("{path}.operations[{index}]"),
                operation,
                &["*", "CONNECT", "CREATE", "DELETE", "UPDATE"],
            ));
        }
    }
    for field in ["apiGroups", "apiVersions", "resources"] {
        let values = strings(field);
        if values.is_empty() {
            errors.push(required(&format!("{path}.{field}"), ""));
        }
        if field != "resources" && values.len() > 1 && values.contains(&"*") {
            let what = if field == "apiGroups" {
                "API groups"
            } else {
                "API versions"
            };
            errors.push(invalid(
                &format!("{path}.{field}"),
                &go_string_slice(&values),
                &format!("if '*' is present, must not specify other {what}"),
            ));
        }
    }
    if let Some(scope) = rule["scope"].as_str()
        && !matches!(scope, "*" | "Cluster" | "Namespaced")
    {
        errors.push(not_supported(
            &format!("{path}.scope"),
            scope,
            &["*", "Cluster", "Namespaced"],
        ));
    }
    errors
}

fn selector_errors(path: &str, selector: &Value) -> Vec<FieldError> {
    let mut errors = vec![];
    for (index, expression) in selector["matchExpressions"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let at = format!("{path}.matchExpressions[{index}]");
        let operator = expression["operator"].as_str().unwrap_or_default();
        let has_values = expression["values"].as_array().is_some_and(|v| !v.is_empty());
        match operator {
            "In" | "NotIn" if !has_values => errors.push(required(
                &format!("{at}.values"),
                "must be specified when `operator` is 'In' or 'NotIn'",
            )),
            "Exists" | "DoesNotExist" if has_values => errors.push((
                "FieldValueForbidden".into(),
                format!("{at}.values"),
                format!("{at}.values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'"),
            )),
            "In" | "NotIn" | "Exists" | "DoesNotExist" => {}
            other => errors.push(invalid(
                &format!("{at}.operator"),
                &go_quote(other),
                "not a valid selector operator",
            )),
        }
    }
    errors
}

fn client_config_errors(path: &str, client_config: &Value) -> Vec<FieldError> {
    let url = client_config["url"].as_str();
    let service = client_config.get("service").filter(|s| s.is_object());
    match (url, service) {
        (Some(_), Some(_)) | (None, None) => vec![required(path, "exactly one of url or service is required")],
        (Some(url), None) => {
            let field = format!("{path}.url");
            const FORM: &str = "; desired format: https://host[/path]";
            let mut errors = vec![];
            let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
            if scheme != "https" {
                errors.push(invalid(
                    &field,
                    &go_quote(scheme),
                    &format!("'https' is the only allowed URL scheme{FORM}"),
                ));
            }
            let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
            if host.is_empty() {
                errors.push(invalid(&field, "\"\"", &format!("host must be specified{FORM}")));
            }
            if let Some((_, fragment)) = url.split_once('#') {
                errors.push(invalid(
                    &field,
                    &go_quote(fragment),
                    "fragments are not permitted in the URL",
                ));
            }
            if let Some((_, query)) = url.split('#').next().unwrap_or(url).split_once('?') {
                errors.push(invalid(
                    &field,
                    &go_quote(query),
                    "query parameters are not permitted in the URL",
                ));
            }
            errors
        }
        (None, Some(service)) => {
            let mut errors = vec![];
            let field = format!("{path}.service");
            if service["name"].as_str().unwrap_or_default().is_empty() {
                errors.push(required(&format!("{field}.name"), ""));
            }
            if service["namespace"].as_str().unwrap_or_default().is_empty() {
                errors.push(required(&format!("{field}.namespace"), ""));
            }
            if let Some(port) = service["port"].as_i64()
                && !(1..=65535).contains(&port)
            {
                errors.push(invalid(
                    &format!("{field}.port"),
                    &port.to_string(),
                    "port is not valid: must be between 1 and 65535, inclusive",
                ));
            }
            if let Some(service_path) = service["path"].as_str()
                && !service_path.is_empty()
                && service_path != "/"
                && !service_path.starts_with('/')
            {
                errors.push(invalid(
                    &format!("{field}.path"),
                    &go_quote(service_path),
                    "must start with a '/'",
                ));
            }
            errors
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Map<String, Value> {
        pairs.iter().map(|(k, v)| (k.to_string(), json!(v))).collect()
    }

    #[test]
    fn label_selectors_match_as_metav1_selectors_do() {
        let selector = json!({
            "matchLabels": {"team": "a"},
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["web", "api"]},
                {"key": "legacy", "operator": "DoesNotExist"},
                {"key": "env", "operator": "NotIn", "values": ["prod"]},
            ],
        });
        assert!(selector_matches(&selector, &labels(&[("team", "a"), ("tier", "web")])));
        assert!(!selector_matches(&selector, &labels(&[("team", "b"), ("tier", "web")])));
        assert!(!selector_matches(&selector, &labels(&[("team", "a"), ("tier", "db")])));
        assert!(!selector_matches(
            &selector,
            &labels(&[("team", "a"), ("tier", "web"), ("legacy", "")])
        ));
        assert!(!selector_matches(
            &selector,
            &labels(&[("team", "a"), ("tier", "web"), ("env", "prod")])
        ));
        assert!(selector_is_empty(&json!({})));
        assert!(selector_is_empty(&Value::Null));
        assert!(!selector_is_empty(&selector));
    }

    #[test]
    fn refusals_carry_the_webhooks_status_at_least_a_400() {
        let status = refusal_status("deny.example.com", Some(&json!({"message": "no", "code": 0})));
        assert_eq!(status["code"], 400);
        assert_eq!(status["status"], "Failure");
        assert_eq!(
            status["message"],
            "admission webhook \"deny.example.com\" denied the request: no"
        );
        assert!(status.get("reason").is_none());
        let status = refusal_status(
            "deny.example.com",
            Some(&json!({"code": 403, "reason": "Forbidden", "status": "Success"})),
        );
        assert_eq!(status["code"], 403);
        assert_eq!(status["status"], "Failure");
        assert_eq!(
            status["message"],
            "admission webhook \"deny.example.com\" denied the request: Forbidden"
        );
        assert_eq!(
            refusal_status("x.example.com", None)["message"],
            "admission webhook \"x.example.com\" denied the request without explanation"
        );
    }

    fn reply(status: u16, content_type: Option<&str>, body: &str) -> Reply {
        Reply {
            status,
            content_type: content_type.map(String::from),
            body: axum::body::Bytes::from(body.to_string()),
        }
    }

    #[test]
    fn responses_are_checked_as_the_apiserver_checks_them() {
        let ok =
            r#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"u1","allowed":true}}"#;
        assert!(read_response(&reply(200, Some("application/json"), ok), "u1", "v1").is_ok());
        assert_eq!(
            read_response(&reply(200, None, ok), "u2", "v1").err().as_deref(),
            Some("received invalid webhook response: expected response.uid=\"u2\", got \"u1\"")
        );
        let no_kind = r#"{"response":{"uid":"u1","allowed":true}}"#;
        assert_eq!(
            read_response(&reply(200, None, no_kind), "u1", "v1").err().as_deref(),
            Some(
                "received invalid webhook response: expected webhook response of admission.k8s.io/v1, Kind=AdmissionReview, got /, Kind="
            )
        );
        assert_eq!(
            read_response(&reply(404, Some("text/plain"), "404 page not found\n"), "u1", "v1")
                .err()
                .as_deref(),
            Some("failed to call webhook: the server could not find the requested resource")
        );
        assert_eq!(
            read_response(&reply(500, Some("text/plain"), "boom"), "u1", "v1")
                .err()
                .as_deref(),
            Some("failed to call webhook: an error on the server (\"boom\") has prevented the request from succeeding")
        );
        assert!(
            read_response(&reply(200, None, "not json"), "u1", "v1")
                .err()
                .is_some_and(|e| e.starts_with("failed to call webhook: couldn't get version/kind; json parse error: "))
        );
        assert_eq!(
            read_response(&reply(200, None, ""), "u1", "v1").err().as_deref(),
            Some("failed to call webhook: 0-length response with status code: 200 and content type: application/json")
        );
    }

    #[test]
    fn configurations_get_the_real_defaults() {
        let mut configuration = json!({"webhooks": [{
            "name": "a.example.com",
            "clientConfig": {"service": {"namespace": "system", "name": "webhook"}},
            "rules": [{"operations": ["CREATE"], "apiGroups": ["*"], "apiVersions": ["*"], "resources": ["*"]}],
        }]});
        default_configuration(&mut configuration);
        let webhook = &configuration["webhooks"][0];
        assert_eq!(webhook["failurePolicy"], "Fail");
        assert_eq!(webhook["matchPolicy"], "Equivalent");
        assert_eq!(webhook["namespaceSelector"], json!({}));
        assert_eq!(webhook["objectSelector"], json!({}));
        assert_eq!(webhook["timeoutSeconds"], 10);
        assert_eq!(webhook["rules"][0]["scope"], "*");
        assert_eq!(webhook["clientConfig"]["service"]["port"], 443);
    }

    #[test]
    fn configurations_are_validated_with_the_real_messages() {
        let configuration = json!({"webhooks": [
            {
                "name": "short.name",
                "clientConfig": {"url": "http://example.com/x"},
                "admissionReviewVersions": ["v2"],
                "timeoutSeconds": 31,
                "rules": [{"operations": ["MAKE"], "apiGroups": [], "apiVersions": ["v1"], "resources": ["widgets"]}],
            },
            {
                "name": "ok.example.com",
                "sideEffects": "Some",
                "clientConfig": {},
                "admissionReviewVersions": ["v1"],
            },
        ]});
        let messages: Vec<String> = configuration_errors(&configuration)
            .into_iter()
            .map(|(_, _, message)| message)
            .collect();
        assert_eq!(
            messages,
            [
                "webhooks[0].name: Invalid value: \"short.name\": should be a domain with at least three segments separated by dots",
                "webhooks[0].rules[0].operations[0]: Unsupported value: \"MAKE\": supported values: \"*\", \"CONNECT\", \"CREATE\", \"DELETE\", \"UPDATE\"",
                "webhooks[0].rules[0].apiGroups: Required value",
                "webhooks[0].sideEffects: Required value: must specify one of None, NoneOnDryRun",
                "webhooks[0].timeoutSeconds: Invalid value: 31: the timeout value must be between 1 and 30 seconds",
                "webhooks[0].clientConfig.url: Invalid value: \"http\": 'https' is the only allowed URL scheme; desired format: https://host[/path]",
                "webhooks[0].admissionReviewVersions: Invalid value: []string{\"v2\"}: must include at least one of v1, v1beta1",
                "webhooks[1].sideEffects: Unsupported value: \"Some\": supported values: \"None\", \"NoneOnDryRun\"",
                "webhooks[1].clientConfig: Required value: exactly one of url or service is required",
            ]
        );
    }

    #[test]
    fn bad_ca_bundles_fail_decoding() {
        assert_eq!(
            configuration_decoding_error(&json!({"webhooks": [{"clientConfig": {"caBundle": "ab$d"}}]})).as_deref(),
            Some("illegal base64 data at input byte 2")
        );
        assert_eq!(
            configuration_decoding_error(&json!({"webhooks": [{"clientConfig": {"caBundle": "YWJj"}}]})),
            None
        );
    }

    #[test]
    fn service_endpoints_take_host_and_port() {
        assert_eq!(host_port("https://127.0.0.1:9443"), "127.0.0.1:9443");
        assert_eq!(host_port("https://127.0.0.1:9443/x"), "127.0.0.1:9443");
        assert_eq!(host_port("127.0.0.1:9443"), "127.0.0.1:9443");
    }
}
