//! API errors in the `Status` shape the real server returns, so clients
//! (kubectl's messages, kube-rs's `ErrorResponse`) read them as they would
//! from a real cluster.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::go_format::go_quote;
use crate::json::to_json;

#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: StatusCode,
    pub reason: &'static str,
    pub message: String,
    pub details: Option<Value>,
    /// A whole `Status` to answer with instead of one built from the fields above (a webhook's
    /// own status, with its reason and details).
    pub status: Option<Box<Value>>,
    /// `Warning` headers of the refused request (what admission webhooks said before refusing).
    pub warnings: Vec<String>,
}

impl ApiError {
    fn new(code: StatusCode, reason: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            code,
            reason,
            message: message.into(),
            details: None,
            status: None,
            warnings: Vec::new(),
        }
    }

    fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    pub fn not_found(group: &str, resource: &str, name: &str) -> Self {
        let qualified = qualify(resource, group);
        Self::new(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("{qualified} {} not found", go_quote(name)),
        )
        .with_details(json!({"name": name, "group": group, "kind": resource}))
    }

    /// A path the server does not serve at all: the real server answers with a bare 404.
    /// What the apiserver answers at a path where it serves nothing (a resource, subresource,
    /// group or version it does not serve): `NewGenericServerResponse(404, …)`, details empty.
    pub fn no_route() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "NotFound",
            "the server could not find the requested resource",
        )
        .with_details(json!({}))
    }

    pub fn already_exists(group: &str, resource: &str, name: &str) -> Self {
        let qualified = qualify(resource, group);
        Self::new(
            StatusCode::CONFLICT,
            "AlreadyExists",
            format!("{qualified} {} already exists", go_quote(name)),
        )
        .with_details(json!({"name": name, "group": group, "kind": resource}))
    }

    /// The optimistic-concurrency failure clients retry on.
    pub fn conflict(group: &str, resource: &str, name: &str, why: &str) -> Self {
        let qualified = qualify(resource, group);
        Self::new(
            StatusCode::CONFLICT,
            "Conflict",
            format!("Operation cannot be fulfilled on {qualified} {}: {why}", go_quote(name)),
        )
        .with_details(json!({"name": name, "group": group, "kind": resource}))
    }

    pub fn modified(group: &str, resource: &str, name: &str) -> Self {
        Self::conflict(
            group,
            resource,
            name,
            "the object has been modified; please apply your changes to the latest version and try again",
        )
    }

    /// Server-side apply conflicts with other field managers.
    pub fn apply_conflict(group: &str, resource: &str, name: &str, message: String, causes: Vec<Value>) -> Self {
        Self::new(StatusCode::CONFLICT, "Conflict", message)
            .with_details(json!({"name": name, "group": group, "kind": resource, "causes": causes}))
    }

    /// 422 with the "is invalid" sentence kubectl prints verbatim.
    pub fn invalid(group: &str, kind_qualified: &str, name: &str, causes: Vec<(String, String, String)>) -> Self {
        let messages: Vec<&str> = causes.iter().map(|(_, _, message)| message.as_str()).collect();
        let joined = if messages.len() == 1 {
            messages[0].to_string()
        } else {
            format!("[{}]", messages.join(", "))
        };
        let kind = kind_qualified.split('.').next().unwrap_or(kind_qualified);
        let causes: Vec<Value> = causes
            .into_iter()
            .map(|(reason, field, message)| {
                // A cause carries the message without its field, which has a key of its own.
                let body = message
                    .strip_prefix(&format!("{field}: "))
                    .unwrap_or(&message)
                    .to_string();
                json!({"reason": reason, "message": body, "field": field})
            })
            .collect();
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid",
            format!("{kind_qualified} {} is invalid: {joined}", go_quote(name)),
        )
        .with_details(json!({"name": name, "group": group, "kind": kind, "causes": causes}))
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BadRequest", message)
    }

    pub fn forbidden(group: &str, resource: &str, name: &str, why: &str) -> Self {
        let qualified = qualify(resource, group);
        Self::new(
            StatusCode::FORBIDDEN,
            "Forbidden",
            format!("{qualified} {} is forbidden: {why}", go_quote(name)),
        )
        .with_details(json!({"name": name, "group": group, "kind": resource}))
    }

    pub fn method_not_allowed(message: impl Into<String>) -> Self {
        Self::new(StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed", message)
    }

    pub fn unsupported_media_type(content_type: &str, accepted: &[&str]) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: {}",
                accepted.join(", ")
            ),
        )
        .with_details(json!({"causes": [{"reason": "UnexpectedHeader", "message": format!("unsupported media type {content_type:?}"), "field": "Content-Type"}]}))
    }

    /// What the apiserver answers for an error that is not an API status (`ErrorToAPIStatus`):
    /// 500 without a reason, which kubectl prints as `Error from server: <message>`.
    /// `errNotAcceptable` of the apiserver's response transforms.
    pub fn not_acceptable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_ACCEPTABLE, "NotAcceptable", message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "", message)
    }

    /// `apierrors.NewInternalError`: 500 `InternalError`, the error as the only cause.
    pub fn internal_error(error: &str) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            format!("Internal error occurred: {error}"),
        )
        .with_details(json!({"causes": [{"message": error}]}))
    }

    /// An error answered with `status`, a complete `Status` object, as its body.
    pub fn from_status(status: Value) -> Self {
        let code = status["code"]
            .as_u64()
            .and_then(|code| u16::try_from(code).ok())
            .and_then(|code| StatusCode::from_u16(code).ok())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let message = status["message"].as_str().unwrap_or_default().to_string();
        ApiError {
            status: Some(Box::new(status)),
            ..Self::new(code, "", message)
        }
    }

    pub fn gone(message: impl Into<String>) -> Self {
        Self::new(StatusCode::GONE, "Expired", message)
    }

    pub fn status_body(&self) -> Value {
        if let Some(status) = &self.status {
            return status.as_ref().clone();
        }
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "code": self.code.as_u16(),
        });
        if !self.reason.is_empty() {
            status["reason"] = json!(self.reason);
        }
        if let Some(details) = &self.details {
            status["details"] = details.clone();
        }
        status
    }
}

fn qualify(resource: &str, group: &str) -> String {
    if group.is_empty() {
        resource.to_string()
    } else {
        format!("{resource}.{group}")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (
            self.code,
            [("content-type", "application/json")],
            to_json(&self.status_body()),
        )
            .into_response();
        for warning in &self.warnings {
            if let Ok(value) = HeaderValue::from_str(&warning_header(warning)) {
                response.headers_mut().append("warning", value);
            }
        }
        response
    }
}

/// A `Warning` header value as the apiserver writes it: code 299, no agent, the text quoted.
pub fn warning_header(text: &str) -> String {
    format!("299 - {}", Value::String(text.to_string()))
}

pub type ApiResult<T> = Result<T, ApiError>;
