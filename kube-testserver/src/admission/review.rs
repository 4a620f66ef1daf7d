//! The AdmissionReview a webhook is sent, and its answer read as the apiserver reads it.

use serde_json::{Value, json};

use crate::go_format::go_quote;
use crate::webhook_client::Reply;

use super::{Attributes, Invocation, MAX_UNSTRUCTURED_BODY};

/// The AdmissionReview sent to one webhook (`CreateV1AdmissionReview`).
pub(super) fn review(uid: &str, review_version: &str, invocation: &Invocation, attributes: &Attributes) -> Value {
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

/// The webhook's `response` and, from a mutating webhook that allows the request, its JSON
/// patch, read as client-go's REST client and `VerifyAdmissionResponse` read them. An error is
/// the reason the call failed.
pub(super) fn read_response(
    reply: &Reply,
    uid: &str,
    review_version: &str,
    mutating: bool,
) -> Result<(Value, Option<json_patch::Patch>), String> {
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
        if !mutating && patch_bytes(&response["patch"]).is_ok_and(|bytes| bytes.is_some_and(|b| !b.is_empty())) {
            return Err(invalid("validating webhook may not return response.patch".into()));
        }
        if !mutating && !response["patchType"].is_null() {
            return Err(invalid("validating webhook may not return response.patchType".into()));
        }
    }
    let patch = match patch_bytes(&response["patch"]).map_err(invalid)? {
        Some(bytes) if mutating && !bytes.is_empty() => {
            Some(json_patch_of(&bytes, &response["patchType"]).map_err(invalid)?)
        }
        _ => None,
    };
    Ok((response, patch))
}

/// The bytes of a `[]byte` field as Go's JSON decoder reads them: base64 text, or (as kube-rs
/// writes `patch`) an array of byte values.
fn patch_bytes(field: &Value) -> Result<Option<Vec<u8>>, String> {
    use base64::Engine;
    match field {
        Value::Null => Ok(None),
        Value::String(encoded) => base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map(Some)
            .map_err(|err| format!("response.patch is not base64: {err}")),
        Value::Array(values) => values
            .iter()
            .map(|value| value.as_u64().and_then(|byte| u8::try_from(byte).ok()))
            .collect::<Option<Vec<u8>>>()
            .map(Some)
            .ok_or_else(|| "response.patch is an array of something other than bytes".to_string()),
        _ => Err("response.patch is neither base64 text nor an array of bytes".into()),
    }
}

/// A mutating webhook's `patch`: a JSON patch, `patchType: JSONPatch` the only type.
fn json_patch_of(bytes: &[u8], patch_type: &Value) -> Result<json_patch::Patch, String> {
    match patch_type.as_str() {
        Some("JSONPatch") => {}
        None => return Err("webhook returned response.patch but not response.patchType".into()),
        Some(other) => {
            return Err(format!(
                "webhook returned invalid response.patchType of {}",
                go_quote(other)
            ));
        }
    }
    serde_json::from_slice(bytes).map_err(|err| format!("response.patch is not a JSON patch: {err}"))
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
pub(super) fn refusal_status(webhook: &str, result: Option<&Value>) -> Value {
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

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(read_response(&reply(200, Some("application/json"), ok), "u1", "v1", false).is_ok());
        assert_eq!(
            read_response(&reply(200, None, ok), "u2", "v1", false).err().as_deref(),
            Some("received invalid webhook response: expected response.uid=\"u2\", got \"u1\"")
        );
        let no_kind = r#"{"response":{"uid":"u1","allowed":true}}"#;
        assert_eq!(
            read_response(&reply(200, None, no_kind), "u1", "v1", false)
                .err()
                .as_deref(),
            Some(
                "received invalid webhook response: expected webhook response of admission.k8s.io/v1, Kind=AdmissionReview, got /, Kind="
            )
        );
        assert_eq!(
            read_response(
                &reply(404, Some("text/plain"), "404 page not found\n"),
                "u1",
                "v1",
                false
            )
            .err()
            .as_deref(),
            Some("failed to call webhook: the server could not find the requested resource")
        );
        assert_eq!(
            read_response(&reply(500, Some("text/plain"), "boom"), "u1", "v1", false)
                .err()
                .as_deref(),
            Some("failed to call webhook: an error on the server (\"boom\") has prevented the request from succeeding")
        );
        assert!(
            read_response(&reply(200, None, "not json"), "u1", "v1", false)
                .err()
                .is_some_and(|e| e.starts_with("failed to call webhook: couldn't get version/kind; json parse error: "))
        );
        assert_eq!(
            read_response(&reply(200, None, ""), "u1", "v1", false).err().as_deref(),
            Some("failed to call webhook: 0-length response with status code: 200 and content type: application/json")
        );
    }

    #[test]
    fn a_mutating_webhook_s_patch_is_read_and_a_validating_one_s_refused() {
        use base64::Engine;
        let patch = base64::engine::general_purpose::STANDARD
            .encode(r#"[{"op":"add","path":"/metadata/annotations","value":{"by":"carol"}}]"#);
        let body = format!(
            r#"{{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{{"uid":"u1","allowed":true,"patchType":"JSONPatch","patch":"{patch}"}}}}"#
        );
        let (_, read) = read_response(&reply(200, None, &body), "u1", "v1", true).unwrap();
        let mut object = json!({"metadata": {"name": "x"}});
        json_patch::patch(&mut object, &read.unwrap()).unwrap();
        assert_eq!(object["metadata"]["annotations"]["by"], "carol");
        assert_eq!(
            read_response(&reply(200, None, &body), "u1", "v1", false)
                .err()
                .as_deref(),
            Some("received invalid webhook response: validating webhook may not return response.patch")
        );
        // kube-rs writes the patch as an array of bytes, which Go's decoder reads as well.
        let bytes: Vec<u8> = br#"[{"op":"add","path":"/metadata/labels","value":{"a":"b"}}]"#.to_vec();
        let array = format!(
            r#"{{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{{"uid":"u1","allowed":true,"patchType":"JSONPatch","patch":{}}}}}"#,
            serde_json::to_string(&bytes).unwrap()
        );
        let (_, read) = read_response(&reply(200, None, &array), "u1", "v1", true).unwrap();
        json_patch::patch(&mut object, &read.unwrap()).unwrap();
        assert_eq!(object["metadata"]["labels"]["a"], "b");
        let untyped = body.replace(r#""patchType":"JSONPatch","#, "");
        assert_eq!(
            read_response(&reply(200, None, &untyped), "u1", "v1", true)
                .err()
                .as_deref(),
            Some("received invalid webhook response: webhook returned response.patch but not response.patchType")
        );
    }
}
