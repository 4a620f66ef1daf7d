//! What an answer is shaped as, from the `Accept` header, as the apiserver's `negotiation`
//! package and `handlers/response.go` read it: the object as it is, a Table, or its metadata
//! only (`PartialObjectMetadata`, `PartialObjectMetadataList` of meta.k8s.io). Only JSON is
//! written: media ranges of other types (protobuf, CBOR) are passed over for the next one.

use axum::http::HeaderMap;
use serde_json::{Map, Value, json};

use crate::error::{ApiError, ApiResult};
use crate::json::to_json;
use crate::registry::{Builtin, ResourceDef};

/// One media range of an `Accept` header: `application/json;as=Table;g=meta.k8s.io;v=v1`.
pub(super) struct MediaRange {
    pub(super) essence: String,
    params: Vec<(String, String)>,
}

impl MediaRange {
    pub(super) fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// Whether the range lets the server answer JSON.
    pub(super) fn is_json(&self) -> bool {
        matches!(self.essence.as_str(), "application/json" | "application/*" | "*/*")
    }
}

/// The media ranges of the `Accept` header, in the client's order.
pub(super) fn accepted(headers: &HeaderMap) -> Vec<MediaRange> {
    let accept = headers.get("accept").and_then(|v| v.to_str().ok()).unwrap_or_default();
    accept
        .split(',')
        .filter(|range| !range.trim().is_empty())
        .map(|range| {
            let mut parts = range.split(';');
            let essence = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
            let params = parts
                .filter_map(|param| param.split_once('='))
                .map(|(key, value)| (key.trim().to_owned(), value.trim().trim_matches('"').to_owned()))
                .collect();
            MediaRange { essence, params }
        })
        .collect()
}

/// The apidiscovery.k8s.io version of aggregated discovery the request asks for before any
/// plain JSON (`v2`, or `v2beta1` as older clients ask), or None for the legacy documents.
pub(super) fn aggregated_discovery(headers: &HeaderMap) -> Option<&'static str> {
    for range in accepted(headers).iter().filter(|range| range.is_json()) {
        match (range.param("as"), range.param("g"), range.param("v")) {
            (None, _, _) => return None,
            (Some("APIGroupDiscoveryList"), Some("apidiscovery.k8s.io"), Some("v2")) => return Some("v2"),
            (Some("APIGroupDiscoveryList"), Some("apidiscovery.k8s.io"), Some("v2beta1")) => return Some("v2beta1"),
            _ => {}
        }
    }
    None
}

/// What an answer about objects is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Shape {
    Object,
    Table,
    /// meta.k8s.io's `PartialObjectMetadata` (or, `list`, `PartialObjectMetadataList`) at
    /// `version`, `v1` or `v1beta1`.
    Metadata {
        list: bool,
        version: &'static str,
    },
}

/// The first JSON media range the server can answer, as `AllowsMediaTypeTransform` accepts
/// them; the object as it is when none asks for anything the server knows.
pub(super) fn shape(headers: &HeaderMap) -> Shape {
    for range in accepted(headers).iter().filter(|range| range.is_json()) {
        let version = match range.param("v") {
            Some("v1") => "v1",
            Some("v1beta1") => "v1beta1",
            _ => "",
        };
        let meta = range.param("g") == Some("meta.k8s.io") && !version.is_empty();
        match range.param("as") {
            None => return Shape::Object,
            Some("Table") if meta => return Shape::Table,
            Some("PartialObjectMetadata") if meta => return Shape::Metadata { list: false, version },
            Some("PartialObjectMetadataList") if meta => return Shape::Metadata { list: true, version },
            Some(_) => {}
        }
    }
    Shape::Object
}

/// `asPartialObjectMetadata`: an object's metadata as meta.k8s.io's type. A `Status` stays
/// as it is.
pub(super) fn partial_object(object: &Value, version: &str) -> Value {
    if object["kind"] == "Status" {
        return object.clone();
    }
    json!({
        "apiVersion": format!("meta.k8s.io/{version}"),
        "kind": "PartialObjectMetadata",
        "metadata": object.get("metadata").cloned().unwrap_or_else(|| json!({})),
    })
}

/// [`partial_object`] as JSON text, written without copying the metadata out first: a
/// metadata watch sends every change so.
pub(super) fn partial_object_json(object: &Value, version: &str) -> String {
    if object["kind"] == "Status" {
        return to_json(object);
    }
    let empty = Value::Object(Map::new());
    let metadata = object.get("metadata").unwrap_or(&empty);
    format!(
        r#"{{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/{version}","metadata":{}}}"#,
        to_json(metadata)
    )
}

/// `asPartialObjectMetadataList`: the list's metadata and each item's.
pub(super) fn partial_list(metadata: Value, items: &[Value], version: &str) -> Value {
    let items: Vec<Value> = items.iter().map(|item| partial_object(item, version)).collect();
    json!({
        "apiVersion": format!("meta.k8s.io/{version}"),
        "kind": "PartialObjectMetadataList",
        "metadata": metadata,
        "items": items,
    })
}

/// The object `what` (a single object, or a list) in the shape the request accepts, or the
/// apiserver's 406 when it asked for the other one of the two metadata kinds.
pub(super) fn metadata_only(def: &ResourceDef, what: Value, list: bool, shape: Shape) -> ApiResult<Value> {
    match shape {
        Shape::Metadata { list: wanted_list, .. } if wanted_list != list => {
            let message = if list {
                format!(
                    "you requested PartialObjectMetadata, but the requested object is a list ({})",
                    go_type(def, true)
                )
            } else {
                format!(
                    "you requested PartialObjectMetadataList, but the requested object is not a list ({})",
                    go_type(def, false)
                )
            };
            Err(ApiError::not_acceptable(message))
        }
        Shape::Metadata { version, .. } if list => Ok(partial_list(
            what["metadata"].clone(),
            what["items"].as_array().map(Vec::as_slice).unwrap_or_default(),
            version,
        )),
        Shape::Metadata { version, .. } => Ok(partial_object(&what, version)),
        _ => Ok(what),
    }
}

/// The Go type the apiserver holds a resource's objects in, as `%T` prints it.
fn go_type(def: &ResourceDef, list: bool) -> String {
    let package = match def.builtin {
        None => return format!("*unstructured.Unstructured{}", if list { "List" } else { "" }),
        Some(Builtin::Lease) => "coordination",
        Some(Builtin::CustomResourceDefinition) => "apiextensions",
        Some(Builtin::ValidatingWebhookConfiguration | Builtin::MutatingWebhookConfiguration) => {
            "admissionregistration"
        }
        Some(_) => "core",
    };
    format!("*{package}.{}{}", def.kind, if list { "List" } else { "" })
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn accepting(accept: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("accept", HeaderValue::from_str(accept).unwrap());
        headers
    }

    #[test]
    fn partial_objects_are_written_as_their_copies_are() {
        for object in [
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "labels": {"x": "y"}}, "data": {}}),
            json!({"apiVersion": "v1", "kind": "ConfigMap"}),
            json!({"apiVersion": "v1", "kind": "Status", "status": "Failure", "code": 410}),
        ] {
            for version in ["v1", "v1beta1"] {
                assert_eq!(
                    partial_object_json(&object, version),
                    to_json(&partial_object(&object, version))
                );
            }
        }
    }

    #[test]
    fn the_first_json_range_the_server_knows_decides() {
        let client_go_metadata = "application/vnd.kubernetes.protobuf;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json";
        assert_eq!(
            shape(&accepting(client_go_metadata)),
            Shape::Metadata {
                list: false,
                version: "v1"
            }
        );
        assert_eq!(
            shape(&accepting(
                "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1beta1"
            )),
            Shape::Metadata {
                list: true,
                version: "v1beta1"
            }
        );
        let kubectl_get = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
        assert_eq!(shape(&accepting(kubectl_get)), Shape::Table);
        assert_eq!(
            shape(&accepting("application/json;as=Widget;g=example.com;v=v1, */*")),
            Shape::Object
        );
        assert_eq!(shape(&HeaderMap::new()), Shape::Object);
    }

    #[test]
    fn metadata_answers_keep_only_metadata() {
        let object = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"k": "v"}});
        assert_eq!(
            partial_object(&object, "v1"),
            json!({"apiVersion": "meta.k8s.io/v1", "kind": "PartialObjectMetadata", "metadata": {"name": "a"}})
        );
        let list = partial_list(json!({"resourceVersion": "7"}), &[object], "v1");
        assert_eq!(list["kind"], "PartialObjectMetadataList");
        assert_eq!(list["items"][0]["kind"], "PartialObjectMetadata");
        assert_eq!(list["items"][0].get("data"), None);
        assert_eq!(partial_list(json!({}), &[], "v1")["items"], json!([]));
    }
}
