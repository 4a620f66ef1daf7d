//! `/openapi/v2`: the Swagger 2.0 document kube-apiserver still serves beside OpenAPI v3, as
//! JSON or in the gnostic protobuf form client-go's discovery client asks for
//! (`application/com.github.proto-openapi.spec.v2@v1.0+protobuf`).
//!
//! kubectl 1.32 reads only its `definitions`, in two places:
//! - Client-side validation of a `kind: List` (what `kubectl get -o yaml` prints for several
//!   objects). cli-runtime's `QueryParamVerifierV3` answers "unsupported" for `v1/List`, so under
//!   the default `--validate=strict` kubectl validates each item against the definition whose
//!   `x-kubernetes-group-version-kind` names it, and refuses the whole file when `/openapi/v2`
//!   cannot be fetched.
//! - `kubectl apply` computes strategic merge patches of built-in kinds from the definition's
//!   patch strategies and merge keys, falling back to compiled-in types on any difficulty.
//!
//! Paths are left out: kubectl reads them only when the v3 documents fail.
//!
//! The definitions are the v3 component schemas with `#/definitions/` references; a described
//! reference is a `$ref` with a sibling `description`, as kube-openapi's v2 builder writes it.
//! Custom resources go through apiextensions-apiserver's v2 publishing: a schema that preserves
//! unknown fields at its root becomes a bare object, the others lose what kubectl's validator
//! cannot read (`ToStructuralOpenAPIV2`).

use prost::Message;
use serde_json::{Map, Value, json};

use super::{OBJECT_META, OBJECT_METADATA_DOC, described_ref, gvk, kind_schemas, with_type_meta};
use crate::registry::ResourceDef;

/// The media type kube-openapi answers protobuf requests with. client-go asks for the older
/// spelling with `@`, which Go's `mime.ParseMediaType` cannot read back from a response.
pub const PROTOBUF_MEDIA_TYPE: &str = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";

const EMBEDDED_API_VERSION_DOC: &str = "apiVersion defines the versioned schema of this representation of an object. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources";
const EMBEDDED_KIND_DOC: &str = "kind is a string value representing the type of this object. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds";

/// The Swagger 2.0 document of every served kind.
pub fn document(defs: &[ResourceDef]) -> Value {
    let mut definitions = kind_schemas(defs, custom_kind_schema);
    for schema in definitions.values_mut() {
        rewrite_references(schema);
    }
    json!({
        "swagger": "2.0",
        "info": { "title": "Kubernetes", "version": "unversioned" },
        "paths": {},
        "definitions": definitions,
    })
}

/// The document encoded as gnostic's `openapi.v2.Document`.
pub fn protobuf(document: &Value) -> Vec<u8> {
    let definitions = document["definitions"]
        .as_object()
        .map(named_schemas)
        .unwrap_or_default();
    Document {
        swagger: document["swagger"].as_str().unwrap_or_default().to_owned(),
        info: Some(Info {
            title: document["info"]["title"].as_str().unwrap_or_default().to_owned(),
            version: document["info"]["version"].as_str().unwrap_or_default().to_owned(),
        }),
        paths: Some(Paths::default()),
        definitions: Some(Definitions {
            additional_properties: definitions,
        }),
    }
    .encode_to_vec()
}

/// apiextensions-apiserver's v2 builder (`buildKubeNative`): kubectl would refuse every unknown
/// field of a kind that declares properties, so a kind that preserves them at its root (or has
/// no schema) is published as a bare object.
fn custom_kind_schema(def: &ResourceDef) -> Value {
    match &def.schema {
        Some(Value::Object(schema)) if !preserves_unknown_fields(schema) => {
            let mut schema = schema.clone();
            to_structural_v2(&mut schema);
            with_type_meta(schema, def)
        }
        _ => json!({
            "type": "object",
            "x-kubernetes-group-version-kind": [gvk(&def.group, &def.version, &def.kind)],
        }),
    }
}

fn preserves_unknown_fields(schema: &Map<String, Value>) -> bool {
    schema.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true))
}

/// apiextensions-apiserver's `ToStructuralOpenAPIV2` plus the v2 side of
/// `addEmbeddedProperties`, on one node and then its children: kube-openapi's v2 parser in
/// kubectl cannot read junctors, reads a typed node as closed and an array without items as
/// broken, so nullable and unknown-preserving nodes lose their type or structure.
fn to_structural_v2(node: &mut Map<String, Value>) {
    for junctor in ["allOf", "oneOf", "anyOf", "not"] {
        node.remove(junctor);
    }
    if node.remove("nullable") == Some(Value::Bool(true)) {
        for key in ["type", "items", "properties"] {
            node.remove(key);
        }
    }
    let preserves = preserves_unknown_fields(node);
    if preserves {
        node.remove("items");
        node.remove("properties");
    }
    if node.get("type").and_then(Value::as_str) == Some("array") && !node.contains_key("items") {
        node.remove("type");
    }
    // A nullable field may be sent as null, which kubectl's validator would read as missing.
    let nullable: Vec<String> = node
        .get("properties")
        .and_then(Value::as_object)
        .map(|properties| {
            properties
                .iter()
                .filter(|(_, property)| property.get("nullable") == Some(&Value::Bool(true)))
                .map(|(name, _)| name.clone())
                .collect()
        })
        .unwrap_or_default();
    let nullable_values = node
        .get("additionalProperties")
        .is_some_and(|values| values.get("nullable") == Some(&Value::Bool(true)));
    if nullable_values {
        node.remove("required");
    } else if let Some(Value::Array(required)) = node.get_mut("required") {
        required.retain(|name| name.as_str().is_none_or(|name| !nullable.iter().any(|n| n == name)));
        if required.is_empty() {
            node.remove("required");
        }
    }
    if !preserves && node.get("x-kubernetes-embedded-resource") == Some(&Value::Bool(true)) {
        add_embedded_type_meta(node);
    }
    if let Some(Value::Object(properties)) = node.get_mut("properties") {
        for property in properties.values_mut() {
            if let Value::Object(property) = property {
                to_structural_v2(property);
            }
        }
    }
    for key in ["items", "additionalProperties"] {
        if let Some(Value::Object(child)) = node.get_mut(key) {
            to_structural_v2(child);
        }
    }
}

/// An embedded resource declares the fields every object has, which kubectl would otherwise
/// report as unknown.
fn add_embedded_type_meta(node: &mut Map<String, Value>) {
    if let Value::Object(properties) = node.entry("properties").or_insert_with(|| json!({})) {
        properties.insert(
            "apiVersion".into(),
            json!({ "type": "string", "description": EMBEDDED_API_VERSION_DOC }),
        );
        properties.insert(
            "kind".into(),
            json!({ "type": "string", "description": EMBEDDED_KIND_DOC }),
        );
        properties.insert("metadata".into(), described_ref(OBJECT_META, OBJECT_METADATA_DOC));
    }
    if let Value::Array(required) = node.entry("required").or_insert_with(|| json!([])) {
        for name in ["kind", "apiVersion"] {
            if !required.iter().any(|r| r == name) {
                required.push(json!(name));
            }
        }
    }
}

/// v3 references become v2 ones; builder3 wraps a described reference in `allOf`, the v2
/// builder keeps the description beside the `$ref`.
fn rewrite_references(value: &mut Value) {
    match value {
        Value::Object(node) => {
            let wrapped = match node.get("allOf") {
                Some(Value::Array(all_of)) if all_of.len() == 1 => all_of[0].get("$ref").cloned(),
                _ => None,
            };
            if let Some(target) = wrapped {
                node.remove("allOf");
                node.insert("$ref".into(), target);
            }
            if let Some(Value::String(target)) = node.get_mut("$ref") {
                *target = target.replace("#/components/schemas/", "#/definitions/");
            }
            node.values_mut().for_each(rewrite_references);
        }
        Value::Array(items) => items.iter_mut().for_each(rewrite_references),
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------------
// gnostic's openapi.v2 messages (github.com/google/gnostic-models, OpenAPIv2.proto), only the
// fields this document fills
// ---------------------------------------------------------------------------------------------

#[derive(Clone, PartialEq, Message)]
struct Document {
    #[prost(string, tag = "1")]
    swagger: String,
    #[prost(message, optional, tag = "2")]
    info: Option<Info>,
    #[prost(message, optional, tag = "8")]
    paths: Option<Paths>,
    #[prost(message, optional, tag = "9")]
    definitions: Option<Definitions>,
}

#[derive(Clone, PartialEq, Message)]
struct Info {
    #[prost(string, tag = "1")]
    title: String,
    #[prost(string, tag = "2")]
    version: String,
}

#[derive(Clone, PartialEq, Message)]
struct Paths {}

#[derive(Clone, PartialEq, Message)]
struct Definitions {
    #[prost(message, repeated, tag = "1")]
    additional_properties: Vec<NamedSchema>,
}

#[derive(Clone, PartialEq, Message)]
struct NamedSchema {
    #[prost(string, tag = "1")]
    name: String,
    #[prost(message, optional, tag = "2")]
    value: Option<Schema>,
}

/// A value gnostic keeps as the YAML text it was read from; JSON text is YAML too.
#[derive(Clone, PartialEq, Message)]
struct Any {
    #[prost(string, tag = "2")]
    yaml: String,
}

#[derive(Clone, PartialEq, Message)]
struct NamedAny {
    #[prost(string, tag = "1")]
    name: String,
    #[prost(message, optional, tag = "2")]
    value: Option<Any>,
}

#[derive(Clone, PartialEq, Message)]
struct Schema {
    #[prost(string, tag = "1")]
    xref: String,
    #[prost(string, tag = "2")]
    format: String,
    #[prost(string, tag = "3")]
    title: String,
    #[prost(string, tag = "4")]
    description: String,
    #[prost(message, optional, tag = "5")]
    default: Option<Any>,
    #[prost(double, tag = "6")]
    multiple_of: f64,
    #[prost(double, tag = "7")]
    maximum: f64,
    #[prost(bool, tag = "8")]
    exclusive_maximum: bool,
    #[prost(double, tag = "9")]
    minimum: f64,
    #[prost(bool, tag = "10")]
    exclusive_minimum: bool,
    #[prost(int64, tag = "11")]
    max_length: i64,
    #[prost(int64, tag = "12")]
    min_length: i64,
    #[prost(string, tag = "13")]
    pattern: String,
    #[prost(int64, tag = "14")]
    max_items: i64,
    #[prost(int64, tag = "15")]
    min_items: i64,
    #[prost(bool, tag = "16")]
    unique_items: bool,
    #[prost(int64, tag = "17")]
    max_properties: i64,
    #[prost(int64, tag = "18")]
    min_properties: i64,
    #[prost(string, repeated, tag = "19")]
    required: Vec<String>,
    #[prost(message, repeated, tag = "20")]
    enumeration: Vec<Any>,
    #[prost(message, optional, tag = "21")]
    additional_properties: Option<AdditionalPropertiesItem>,
    #[prost(message, optional, tag = "22")]
    type_item: Option<TypeItem>,
    #[prost(message, optional, tag = "23")]
    items: Option<ItemsItem>,
    #[prost(message, repeated, tag = "24")]
    all_of: Vec<Schema>,
    #[prost(message, optional, tag = "25")]
    properties: Option<Properties>,
    #[prost(bool, tag = "27")]
    read_only: bool,
    #[prost(message, optional, tag = "30")]
    example: Option<Any>,
    #[prost(message, repeated, tag = "31")]
    vendor_extension: Vec<NamedAny>,
}

#[derive(Clone, PartialEq, Message)]
struct AdditionalPropertiesItem {
    #[prost(oneof = "AdditionalProperties", tags = "1, 2")]
    oneof: Option<AdditionalProperties>,
}

#[derive(Clone, PartialEq, prost::Oneof)]
enum AdditionalProperties {
    #[prost(message, tag = "1")]
    Schema(Box<Schema>),
    #[prost(bool, tag = "2")]
    Boolean(bool),
}

#[derive(Clone, PartialEq, Message)]
struct TypeItem {
    #[prost(string, repeated, tag = "1")]
    value: Vec<String>,
}

#[derive(Clone, PartialEq, Message)]
struct ItemsItem {
    #[prost(message, repeated, tag = "1")]
    schema: Vec<Schema>,
}

#[derive(Clone, PartialEq, Message)]
struct Properties {
    #[prost(message, repeated, tag = "1")]
    additional_properties: Vec<NamedSchema>,
}

fn named_schemas(schemas: &Map<String, Value>) -> Vec<NamedSchema> {
    schemas
        .iter()
        .map(|(name, schema)| NamedSchema {
            name: name.clone(),
            value: Some(schema_message(schema)),
        })
        .collect()
}

fn any(value: &Value) -> Any {
    Any {
        yaml: value.to_string(),
    }
}

fn schema_message(schema: &Value) -> Schema {
    let text = |key: &str| schema.get(key).and_then(Value::as_str).unwrap_or_default().to_owned();
    let number = |key: &str| schema.get(key).and_then(Value::as_f64).unwrap_or_default();
    let count = |key: &str| schema.get(key).and_then(Value::as_i64).unwrap_or_default();
    let flag = |key: &str| schema.get(key).and_then(Value::as_bool).unwrap_or_default();
    let strings = |value: &Value| -> Vec<String> {
        match value {
            Value::String(one) => vec![one.clone()],
            Value::Array(many) => many.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
            _ => vec![],
        }
    };
    let schemas = |value: &Value| -> Vec<Schema> {
        match value {
            Value::Array(many) => many.iter().map(schema_message).collect(),
            one => vec![schema_message(one)],
        }
    };
    Schema {
        xref: text("$ref"),
        format: text("format"),
        title: text("title"),
        description: text("description"),
        default: schema.get("default").map(any),
        multiple_of: number("multipleOf"),
        maximum: number("maximum"),
        exclusive_maximum: flag("exclusiveMaximum"),
        minimum: number("minimum"),
        exclusive_minimum: flag("exclusiveMinimum"),
        max_length: count("maxLength"),
        min_length: count("minLength"),
        pattern: text("pattern"),
        max_items: count("maxItems"),
        min_items: count("minItems"),
        unique_items: flag("uniqueItems"),
        max_properties: count("maxProperties"),
        min_properties: count("minProperties"),
        required: schema.get("required").map(strings).unwrap_or_default(),
        enumeration: schema
            .get("enum")
            .and_then(Value::as_array)
            .map(|values| values.iter().map(any).collect())
            .unwrap_or_default(),
        additional_properties: schema.get("additionalProperties").and_then(|values| {
            let oneof = match values {
                Value::Bool(allowed) => AdditionalProperties::Boolean(*allowed),
                Value::Object(_) => AdditionalProperties::Schema(Box::new(schema_message(values))),
                _ => return None,
            };
            Some(AdditionalPropertiesItem { oneof: Some(oneof) })
        }),
        type_item: schema.get("type").map(|types| TypeItem { value: strings(types) }),
        items: schema.get("items").map(|items| ItemsItem { schema: schemas(items) }),
        all_of: schema.get("allOf").map(schemas).unwrap_or_default(),
        properties: schema
            .get("properties")
            .and_then(Value::as_object)
            .map(|properties| Properties {
                additional_properties: named_schemas(properties),
            }),
        read_only: flag("readOnly"),
        example: schema.get("example").map(any),
        vendor_extension: schema
            .as_object()
            .map(|node| {
                node.iter()
                    .filter(|(key, _)| key.starts_with("x-"))
                    .map(|(key, value)| NamedAny {
                        name: key.clone(),
                        value: Some(any(value)),
                    })
                    .collect()
            })
            .unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::{builtins, defs_from_crd};

    fn gadget_crd(schema: Value) -> Value {
        json!({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": { "name": "gadgets.example.com" },
            "spec": {
                "group": "example.com",
                "names": { "kind": "Gadget", "listKind": "GadgetList", "plural": "gadgets" },
                "scope": "Namespaced",
                "versions": [{ "name": "v1", "served": true, "storage": true, "schema": { "openAPIV3Schema": schema } }],
            },
        })
    }

    fn document_with(schema: Value) -> Value {
        let mut defs = builtins();
        defs.extend(defs_from_crd(&gadget_crd(schema)));
        document(&defs)
    }

    fn collect_refs(value: &Value, refs: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(target)) = map.get("$ref") {
                    refs.push(target.clone());
                }
                assert!(!map.contains_key("allOf"), "no v3 reference wrapping left: {value}");
                map.values().for_each(|v| collect_refs(v, refs));
            }
            Value::Array(items) => items.iter().for_each(|v| collect_refs(v, refs)),
            _ => {}
        }
    }

    #[test]
    fn references_point_into_definitions_and_keep_their_description() {
        let doc = document_with(json!({ "type": "object" }));
        let mut refs = Vec::new();
        collect_refs(&doc, &mut refs);
        assert!(!refs.is_empty());
        for target in refs {
            let name = target.strip_prefix("#/definitions/").expect("a definitions reference");
            assert!(doc["definitions"].get(name).is_some(), "{target}");
        }
        let metadata = &doc["definitions"]["io.k8s.api.core.v1.ConfigMap"]["properties"]["metadata"];
        assert_eq!(
            metadata["$ref"],
            "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
        );
        assert_eq!(metadata["description"], OBJECT_METADATA_DOC);
    }

    #[test]
    fn kinds_and_lists_carry_their_group_version_kind() {
        let doc = document_with(json!({ "type": "object" }));
        for (name, kind) in [
            ("io.k8s.api.core.v1.ConfigMap", gvk("", "v1", "ConfigMap")),
            ("io.k8s.api.core.v1.ConfigMapList", gvk("", "v1", "ConfigMapList")),
            ("com.example.v1.Gadget", gvk("example.com", "v1", "Gadget")),
            ("com.example.v1.GadgetList", gvk("example.com", "v1", "GadgetList")),
        ] {
            assert_eq!(
                doc["definitions"][name]["x-kubernetes-group-version-kind"],
                json!([kind]),
                "{name}"
            );
        }
    }

    #[test]
    fn custom_schemas_lose_what_kubectl_cannot_validate() {
        let doc = document_with(json!({
            "type": "object",
            "properties": {
                "spec": {
                    "type": "object",
                    "required": ["size", "note"],
                    "anyOf": [{ "required": ["size"] }],
                    "properties": {
                        "size": { "type": "integer", "x-kubernetes-int-or-string": true, "anyOf": [{ "type": "integer" }, { "type": "string" }] },
                        "note": { "type": "string", "nullable": true },
                        "tags": { "type": "array", "nullable": true, "items": { "type": "string" } },
                        "extra": { "type": "object", "x-kubernetes-preserve-unknown-fields": true, "properties": { "a": { "type": "string" } } },
                        "template": { "type": "object", "x-kubernetes-embedded-resource": true, "properties": { "spec": { "type": "object" } } },
                    },
                },
            },
        }));
        let spec = &doc["definitions"]["com.example.v1.Gadget"]["properties"]["spec"];
        assert!(spec.get("anyOf").is_none());
        assert_eq!(spec["required"], json!(["size"]), "a nullable field is not required");
        let properties = &spec["properties"];
        assert!(properties["size"].get("anyOf").is_none());
        assert_eq!(properties["note"], json!({}), "nullable: untyped");
        assert_eq!(properties["tags"], json!({}), "nullable: no items either");
        assert_eq!(
            properties["extra"],
            json!({ "type": "object", "x-kubernetes-preserve-unknown-fields": true })
        );
        let template = &properties["template"];
        assert_eq!(template["required"], json!(["kind", "apiVersion"]));
        for field in ["apiVersion", "kind", "metadata", "spec"] {
            assert!(template["properties"].get(field).is_some(), "{field}");
        }
    }

    #[test]
    fn a_schema_preserving_unknown_fields_at_its_root_is_a_bare_object() {
        let doc = document_with(
            json!({ "type": "object", "x-kubernetes-preserve-unknown-fields": true, "properties": { "spec": { "type": "object" } } }),
        );
        assert_eq!(
            doc["definitions"]["com.example.v1.Gadget"],
            json!({ "type": "object", "x-kubernetes-group-version-kind": [gvk("example.com", "v1", "Gadget")] })
        );
    }

    #[test]
    fn protobuf_holds_every_definition_with_extensions_as_yaml() {
        let doc = document_with(
            json!({ "type": "object", "properties": { "spec": { "type": "object", "additionalProperties": { "type": "string" } } } }),
        );
        let decoded = Document::decode(protobuf(&doc).as_slice()).expect("decodes");
        assert_eq!(decoded.swagger, "2.0");
        let definitions = decoded.definitions.expect("definitions").additional_properties;
        assert_eq!(
            definitions.len(),
            doc["definitions"].as_object().expect("definitions").len()
        );
        let gadget = definitions
            .iter()
            .find(|d| d.name == "com.example.v1.Gadget")
            .and_then(|d| d.value.clone())
            .expect("gadget");
        let extension = &gadget.vendor_extension[0];
        assert_eq!(extension.name, "x-kubernetes-group-version-kind");
        let yaml: Value = serde_yaml_ng::from_str(&extension.value.as_ref().expect("value").yaml).expect("yaml");
        assert_eq!(yaml, json!([gvk("example.com", "v1", "Gadget")]));
        assert_eq!(gadget.type_item.expect("type").value, ["object"]);
        let properties = gadget.properties.expect("properties").additional_properties;
        let spec = properties
            .iter()
            .find(|p| p.name == "spec")
            .and_then(|p| p.value.clone())
            .expect("spec");
        let values = spec.additional_properties.and_then(|a| a.oneof);
        assert!(
            matches!(values, Some(AdditionalProperties::Schema(s)) if s.type_item.as_ref().is_some_and(|t| t.value == ["string"]))
        );
        let metadata = properties
            .iter()
            .find(|p| p.name == "metadata")
            .and_then(|p| p.value.clone())
            .expect("metadata");
        assert_eq!(
            metadata.xref,
            "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
        );
    }
}
