//! ServiceAccount tokens: `POST …/serviceaccounts/{name}/token` issues one (a TokenRequest),
//! `POST /apis/authentication.k8s.io/v1/tokenreviews` says whose it is.
//!
//! A token is shaped as the real server's (a JWT with the `kubernetes.io` claims) so clients
//! that read its claims work, but it is not signed: the server remembers the tokens it issued
//! and authenticates only those, while the ServiceAccount they were issued for still exists
//! with the same uid, as the real server checks a bound token.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult};
use crate::registry::{Builtin, ResourceDef, builtins};
use crate::store::Store;

/// The audience of a token requested without one: the API server's own.
const API_AUDIENCE: &str = "https://kubernetes.default.svc.cluster.local";
const DEFAULT_EXPIRATION_SECONDS: i64 = 3600;
/// The shortest validity the real server grants (10 minutes).
const MIN_EXPIRATION_SECONDS: i64 = 600;

#[derive(Clone)]
struct Issued {
    namespace: String,
    name: String,
    uid: String,
    audiences: Vec<String>,
    expires: i64,
    jti: String,
}

/// Tokens issued, per store: several servers may run in one test process, and one server
/// must not accept another's tokens. A store's address identifies it while it lives.
static ISSUED: LazyLock<Mutex<HashMap<(usize, String), Issued>>> = LazyLock::new(Default::default);

fn store_id(store: &Store) -> usize {
    std::ptr::from_ref(store) as usize
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|a| a.iter().filter_map(|s| s.as_str().map(String::from)).collect())
        .unwrap_or_default()
}

fn encode(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

/// Issues a token for the ServiceAccount `namespace/name`; the answer is the TokenRequest.
pub(super) fn token_request(
    store: &Store,
    def: &ResourceDef,
    namespace: Option<&str>,
    name: &str,
    body: &Value,
) -> ApiResult<Value> {
    let account = store.get(def, namespace, name)?;
    let namespace = namespace.unwrap_or_default();
    let uid = account
        .pointer("/metadata/uid")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let mut audiences = strings(&body["spec"]["audiences"]);
    if audiences.is_empty() {
        audiences = vec![API_AUDIENCE.to_owned()];
    }
    let seconds = body["spec"]["expirationSeconds"]
        .as_i64()
        .unwrap_or(DEFAULT_EXPIRATION_SECONDS);
    if seconds < MIN_EXPIRATION_SECONDS {
        return Err(ApiError::invalid(
            "authentication.k8s.io",
            "TokenRequest.authentication.k8s.io",
            "",
            vec![(
                "FieldValueInvalid".into(),
                "spec.expirationSeconds".into(),
                format!(
                    "spec.expirationSeconds: Invalid value: {seconds}: may not specify a duration less than 10 minutes"
                ),
            )],
        ));
    }
    let now = chrono::Utc::now();
    let expires = now.timestamp() + seconds;
    let jti = uuid::Uuid::new_v4().to_string();
    let header = json!({ "alg": "RS256", "kid": "kube-testserver" });
    let claims = json!({
        "aud": audiences,
        "exp": expires,
        "iat": now.timestamp(),
        "iss": API_AUDIENCE,
        "jti": jti,
        "kubernetes.io": { "namespace": namespace, "serviceaccount": { "name": name, "uid": uid } },
        "nbf": now.timestamp(),
        "sub": format!("system:serviceaccount:{namespace}:{name}"),
    });
    let signature = URL_SAFE_NO_PAD.encode(uuid::Uuid::new_v4().as_bytes());
    let token = format!("{}.{}.{signature}", encode(&header), encode(&claims));
    let issued = Issued {
        namespace: namespace.to_owned(),
        name: name.to_owned(),
        uid,
        audiences: audiences.clone(),
        expires,
        jti,
    };
    ISSUED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .insert((store_id(store), token.clone()), issued);
    let expiration = chrono::DateTime::from_timestamp(expires, 0)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default();
    Ok(json!({
        "kind": "TokenRequest",
        "apiVersion": "authentication.k8s.io/v1",
        "metadata": { "name": name, "namespace": namespace, "creationTimestamp": null },
        "spec": {
            "audiences": audiences,
            "expirationSeconds": seconds,
            "boundObjectRef": body["spec"]["boundObjectRef"].clone(),
        },
        "status": { "token": token, "expirationTimestamp": expiration },
    }))
}

/// The answer to a TokenReview: who the token is, for which of the requested audiences.
pub(super) fn review(store: &Store, body: &Value) -> Value {
    let spec = &body["spec"];
    let token = spec["token"].as_str().unwrap_or_default();
    let mut wanted = strings(&spec["audiences"]);
    if wanted.is_empty() {
        wanted = vec![API_AUDIENCE.to_owned()];
    }
    let status = match authenticate(store, token, &wanted) {
        Ok((issued, audiences)) => json!({
            "authenticated": true,
            "user": {
                "username": format!("system:serviceaccount:{}:{}", issued.namespace, issued.name),
                "uid": issued.uid,
                "groups": [
                    "system:serviceaccounts",
                    format!("system:serviceaccounts:{}", issued.namespace),
                    "system:authenticated",
                ],
                "extra": { "authentication.kubernetes.io/credential-id": [format!("JTI={}", issued.jti)] },
            },
            "audiences": audiences,
        }),
        Err(error) => json!({ "user": {}, "error": error }),
    };
    json!({
        "kind": "TokenReview",
        "apiVersion": "authentication.k8s.io/v1",
        "metadata": { "creationTimestamp": null },
        "spec": spec,
        "status": status,
    })
}

/// A copy of what was issued for `token`, and the audiences both it and the review name.
fn authenticate(store: &Store, token: &str, wanted: &[String]) -> Result<(Issued, Vec<String>), String> {
    const INVALID: &str = "[invalid bearer token, Token has been invalidated]";
    let issued = {
        let tokens = ISSUED.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let Some(issued) = tokens.get(&(store_id(store), token.to_owned())) else {
            return Err(INVALID.to_owned());
        };
        issued.clone()
    };
    if issued.expires <= chrono::Utc::now().timestamp() {
        return Err("[invalid bearer token, service account token has expired]".to_owned());
    }
    let audiences: Vec<String> = wanted
        .iter()
        .filter(|a| issued.audiences.contains(a))
        .cloned()
        .collect();
    if audiences.is_empty() {
        return Err(format!(
            "[invalid bearer token, token audiences {:?} is invalid for the target audiences {:?}]",
            issued.audiences, wanted
        ));
    }
    let accounts = builtins()
        .into_iter()
        .find(|d| d.builtin == Some(Builtin::ServiceAccount));
    let current_uid = accounts
        .and_then(|def| store.get(&def, Some(&issued.namespace), &issued.name).ok())
        .and_then(|account| {
            account
                .pointer("/metadata/uid")
                .and_then(Value::as_str)
                .map(String::from)
        });
    if current_uid.as_deref() != Some(issued.uid.as_str()) {
        return Err(INVALID.to_owned());
    }
    Ok((issued, audiences))
}
