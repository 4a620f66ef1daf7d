//! Custom resources against the `openAPIV3Schema` of their CustomResourceDefinition
//! version, as the apiextensions-apiserver of Kubernetes 1.32 treats them on create
//! and update: unknown fields pruned, nulls and defaults applied, then the
//! structural schema, `x-kubernetes-list-type` invariants, embedded resources and
//! CEL rules (see `cel_rules`) validated, with the same messages.
//!
//! Where the Go code iterates over maps (and so reports in random order), this
//! module goes through keys in sorted order, so that errors come out stable.
//!
//! The steps live in their own modules: `prune` (decoding: metadata, unknown fields,
//! nulls), `default`, `ratchet` (which old value a new one corresponds to), `validate`
//! (kube-openapi's SchemaValidator and embedded resources), `formats` and `list_types`.

mod default;
mod formats;
mod list_types;
mod prune;
mod ratchet;
mod validate;

pub(crate) use formats::cached_regex;
pub(crate) use ratchet::{correlate_field, correlate_item, unchanged};
#[cfg(test)]
mod tests;

use std::rc::Rc;

use serde_json::{Map, Value};

use crate::cel_rules;
use crate::go_format::{go_number, go_quote, go_sharp_v};

use default::apply_defaults;
use list_types::list_type_errors;
use prune::{coerce_embedded_metadata, coerce_object_meta, prune, prune_nulls};
use validate::{validate_embedded_resources, validate_value};

/// One field error, as `k8s.io/apimachinery/pkg/util/validation/field.Error`.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldError {
    /// The path as the apiserver prints it: `spec.maxSessionDuration`,
    /// `spec.tags[team]`, `spec.items[0]`, or `<nil>` for the object itself.
    pub field: String,
    pub kind: FieldErrorKind,
    /// The offending value; `None` when the message leaves it out.
    pub bad_value: Option<Value>,
    pub detail: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldErrorKind {
    Required,
    Invalid,
    NotSupported,
    TooLong,
    TooMany,
    TypeInvalid,
    Forbidden,
    Duplicate,
}

impl FieldErrorKind {
    fn title(self) -> &'static str {
        match self {
            Self::Required => "Required value",
            Self::Invalid | Self::TypeInvalid => "Invalid value",
            Self::NotSupported => "Unsupported value",
            Self::TooLong => "Too long",
            Self::TooMany => "Too many",
            Self::Forbidden => "Forbidden",
            Self::Duplicate => "Duplicate value",
        }
    }

    /// Kinds whose message never shows the value.
    fn omits_value(self) -> bool {
        matches!(self, Self::Required | Self::Forbidden | Self::TooLong)
    }

    /// Errors after which the server does not run CEL rules: they would only fail
    /// on the same malformed values.
    fn blocks_rules(self) -> bool {
        matches!(
            self,
            Self::NotSupported | Self::Required | Self::TooLong | Self::TooMany | Self::TypeInvalid
        )
    }
}

impl FieldError {
    /// Formatted exactly as the apiserver prints one error, e.g.
    /// `spec.maxSessionDuration: Invalid value: 100: spec.maxSessionDuration in body should be greater than or equal to 3600`.
    pub fn message(&self) -> String {
        format!("{}: {}", self.field, self.body())
    }

    /// The message without the field: the `message` of a `StatusCause`.
    pub fn body(&self) -> String {
        let mut body = self.kind.title().to_owned();
        if !self.kind.omits_value()
            && let Some(value) = &self.bad_value
        {
            body.push_str(": ");
            body.push_str(&go_value(value));
        }
        if !self.detail.is_empty() {
            body.push_str(": ");
            body.push_str(&self.detail);
        }
        body
    }

    /// The `reason` of a StatusCause.
    pub fn cause_reason(&self) -> &'static str {
        match self.kind {
            FieldErrorKind::Required => "FieldValueRequired",
            FieldErrorKind::Invalid => "FieldValueInvalid",
            FieldErrorKind::NotSupported => "FieldValueNotSupported",
            FieldErrorKind::TooLong => "FieldValueTooLong",
            FieldErrorKind::TooMany => "FieldValueTooMany",
            FieldErrorKind::TypeInvalid => "FieldValueTypeInvalid",
            FieldErrorKind::Forbidden => "FieldValueForbidden",
            FieldErrorKind::Duplicate => "FieldValueDuplicate",
        }
    }

    fn new(field: String, kind: FieldErrorKind, bad_value: Option<Value>, detail: String) -> Self {
        Self {
            field,
            kind,
            bad_value,
            detail,
        }
    }

    pub(crate) fn required(field: String, detail: impl Into<String>) -> Self {
        Self::new(field, FieldErrorKind::Required, None, detail.into())
    }

    pub(crate) fn invalid(field: String, value: Value, detail: impl Into<String>) -> Self {
        Self::new(field, FieldErrorKind::Invalid, Some(value), detail.into())
    }

    pub(crate) fn forbidden(field: String, detail: impl Into<String>) -> Self {
        Self::new(field, FieldErrorKind::Forbidden, None, detail.into())
    }

    pub(crate) fn duplicate(field: String, value: Value) -> Self {
        Self::new(field, FieldErrorKind::Duplicate, Some(value), String::new())
    }

    fn type_invalid(field: String, value: Value, detail: String) -> Self {
        Self::new(field, FieldErrorKind::TypeInvalid, Some(value), detail)
    }

    fn not_supported(field: String, value: Value, supported: &[String]) -> Self {
        let detail = if supported.is_empty() {
            String::new()
        } else {
            let quoted: Vec<String> = supported.iter().map(|v| go_quote(v)).collect();
            format!("supported values: {}", quoted.join(", "))
        };
        Self::new(field, FieldErrorKind::NotSupported, Some(value), detail)
    }

    fn too_long(field: String, max: i64) -> Self {
        Self::new(
            field,
            FieldErrorKind::TooLong,
            None,
            format!("may not be more than {max} bytes"),
        )
    }

    fn too_many(field: String, actual: usize, max: i64) -> Self {
        let detail = format!("must have at most {max} items");
        Self::new(field, FieldErrorKind::TooMany, Some(Value::from(actual)), detail)
    }
}

/// What admission changed besides defaulting.
#[cfg(test)]
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Admitted {
    /// Paths of the fields the schema does not declare, which were pruned, as the
    /// server names them in `unknown field "spec.foo"` (strict field validation
    /// refuses them instead): `metadata.foo`, `spec.foo`, `spec.items[0].foo`.
    pub unknown_fields: Vec<String>,
}

/// Default, prune, then validate `obj` (a whole custom resource: apiVersion, kind,
/// metadata, spec, status) in place.
/// `old` is the stored object on update (None on create): for CEL transition rules
/// (`oldSelf`) and for ratcheting, which forgives errors in values left unchanged.
/// The store runs the two halves itself, with strict field validation between them.
#[cfg(test)]
pub fn admit(schema: &Value, obj: &mut Value, old: Option<&Value>) -> Result<Admitted, Vec<FieldError>> {
    let unknown_fields = normalize(schema, obj);
    let errors = validate(schema, &cel_rules::Programs::default(), obj, old);
    if errors.is_empty() {
        Ok(Admitted { unknown_fields })
    } else {
        Err(errors)
    }
}

/// The decoding half of [`admit`]: drops what the schema does not declare
/// (unknown `metadata` fields included), then nulls the schema does not allow,
/// then applies defaults. Returns the paths of the unknown fields, in the server's
/// order, so that a strict request can be refused before validation.
pub fn normalize(schema: &Value, obj: &mut Value) -> Vec<String> {
    let mut unknown = prune_unknown(schema, obj);
    let no_schema = Value::Object(Map::new());
    let root = Schema::new(schema).or(Schema::new(&no_schema));
    prune_nulls(obj, root);
    let mut embedded = Vec::new();
    coerce_embedded_metadata(obj, root, &Path::default(), &mut embedded);
    embedded.sort();
    unknown.append(&mut embedded);
    apply_defaults(obj, root);
    unknown
}

/// The first step of [`normalize`], and all that decoding into a built-in kind's Go type does
/// with a schema: drops what it does not declare (unknown `metadata` fields included) and
/// returns their paths.
pub fn prune_unknown(schema: &Value, obj: &mut Value) -> Vec<String> {
    // Without a schema, everything but apiVersion, kind and metadata goes.
    let no_schema = Value::Object(Map::new());
    let root = Schema::new(schema).or(Schema::new(&no_schema));
    let mut unknown = Vec::new();
    if let Some(metadata) = obj.get_mut("metadata") {
        coerce_object_meta(metadata, &Path::default(), &mut unknown);
    }
    let mut pruned = Vec::new();
    prune(obj, root, true, &Path::default(), &mut pruned);
    pruned.sort();
    unknown.append(&mut pruned);
    unknown
}

/// The validation half of [`admit`], on an already normalized object. `programs` holds what the
/// schema's CEL rules compile to.
pub fn validate(schema: &Value, programs: &cel_rules::Programs, obj: &Value, old: Option<&Value>) -> Vec<FieldError> {
    let Some(root) = Schema::new(schema) else {
        return Vec::new();
    };
    let mut errors = Vec::new();
    validate_value(root, obj, &Path::default(), old, &mut errors);
    validate_embedded_resources(obj, Some(root), &Path::default(), &mut errors);
    // A list that was already malformed may stay so: only new breakage is refused. The old
    // object is looked at only when the new one breaks a list.
    let list_errors = list_type_errors(root, obj);
    if !list_errors.is_empty() && old.is_none_or(|old| list_type_errors(root, old).is_empty()) {
        errors.extend(list_errors);
    }
    if errors.iter().any(|e| e.kind.blocks_rules()) {
        errors.push(FieldError::invalid(
            Path::default().field_path(),
            Value::Null,
            "some validation rules were not checked because the object was invalid; correct the existing errors to complete validation",
        ));
    } else {
        errors.extend(cel_rules::validate(root, programs, obj, old));
    }
    errors
}

/// One node of an `openAPIV3Schema`, read straight from its JSON.
#[derive(Clone, Copy)]
pub(crate) struct Schema<'a>(&'a Map<String, Value>);

impl<'a> Schema<'a> {
    pub(crate) fn new(value: &'a Value) -> Option<Self> {
        value.as_object().map(Schema)
    }

    fn get(&self, key: &str) -> Option<&'a Value> {
        self.0.get(key)
    }

    fn flag(&self, key: &str) -> bool {
        self.get(key).and_then(Value::as_bool).unwrap_or(false)
    }

    fn number(&self, key: &str) -> Option<f64> {
        self.get(key).and_then(Value::as_f64)
    }

    fn count(&self, key: &str) -> Option<i64> {
        self.get(key).and_then(Value::as_i64)
    }

    pub(crate) fn type_name(&self) -> &'a str {
        self.get("type").and_then(Value::as_str).unwrap_or("")
    }

    pub(crate) fn format(&self) -> &'a str {
        self.get("format").and_then(Value::as_str).unwrap_or("")
    }

    pub(crate) fn nullable(&self) -> bool {
        self.flag("nullable")
    }

    pub(crate) fn int_or_string(&self) -> bool {
        self.flag("x-kubernetes-int-or-string")
    }

    fn preserves_unknown_fields(&self) -> bool {
        self.flag("x-kubernetes-preserve-unknown-fields")
    }

    pub(crate) fn embedded_resource(&self) -> bool {
        self.flag("x-kubernetes-embedded-resource")
    }

    /// A `default: null` is no default, as in the Go structs.
    fn default_value(&self) -> Option<&'a Value> {
        self.get("default").filter(|d| !d.is_null())
    }

    pub(crate) fn properties(&self) -> Option<&'a Map<String, Value>> {
        self.get("properties").and_then(Value::as_object)
    }

    pub(crate) fn property(&self, name: &str) -> Option<Schema<'a>> {
        self.properties().and_then(|p| p.get(name)).and_then(Schema::new)
    }

    pub(crate) fn items(&self) -> Option<Schema<'a>> {
        self.get("items").and_then(Schema::new)
    }

    /// `additionalProperties`: `None` when absent or false, `Some(None)` when true
    /// (any value, without a schema), `Some(Some(schema))` for a map.
    fn additional_properties(&self) -> Option<Option<Schema<'a>>> {
        match self.get("additionalProperties")? {
            Value::Bool(true) => Some(None),
            Value::Object(schema) => Some(Some(Schema(schema))),
            _ => None,
        }
    }

    pub(crate) fn additional_schema(&self) -> Option<Schema<'a>> {
        self.additional_properties().flatten()
    }

    /// How the schema covers the key `key` of an object: `None` when it does not
    /// (an unknown field), `Some(None)` when it allows anything there.
    fn field(&self, key: &str) -> Option<Option<Schema<'a>>> {
        match self.property(key) {
            Some(property) => Some(Some(property)),
            None => self.additional_properties(),
        }
    }

    /// The schema of the value at `key`, a declared property or a map value.
    pub(crate) fn field_schema(&self, key: &str) -> Option<Schema<'a>> {
        self.field(key).flatten()
    }

    pub(crate) fn list_type(&self) -> &'a str {
        self.get("x-kubernetes-list-type").and_then(Value::as_str).unwrap_or("")
    }

    fn list_map_keys(&self) -> Vec<&'a str> {
        self.get("x-kubernetes-list-map-keys")
            .and_then(Value::as_array)
            .map(|keys| keys.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    }

    pub(crate) fn validations(&self) -> &'a [Value] {
        self.get("x-kubernetes-validations")
            .and_then(Value::as_array)
            .map_or(&[], Vec::as_slice)
    }

    fn sub_schemas(&self, key: &str) -> Vec<Schema<'a>> {
        self.get(key)
            .and_then(Value::as_array)
            .map(|all| all.iter().filter_map(Schema::new).collect())
            .unwrap_or_default()
    }
}

/// Where a value sits in the object: its last segment and the path of its parent, shared. The
/// walks extend a path at every node, where copying all of it was a good part of a write's cost.
#[derive(Clone, Debug, Default)]
pub(crate) struct Path(Option<Rc<Link>>);

#[derive(Debug)]
struct Link {
    parent: Path,
    segment: Segment,
}

#[derive(Debug)]
enum Segment {
    Field(String),
    Key(String),
    Index(usize),
}

impl Path {
    fn with(&self, segment: Segment) -> Path {
        Path(Some(Rc::new(Link {
            parent: self.clone(),
            segment,
        })))
    }

    /// The segments from the root down.
    fn segments(&self) -> Vec<&Segment> {
        let mut segments = Vec::new();
        let mut at = self;
        while let Some(link) = &at.0 {
            segments.push(&link.segment);
            at = &link.parent;
        }
        segments.reverse();
        segments
    }

    pub(crate) fn child(&self, name: &str) -> Path {
        self.with(Segment::Field(name.to_owned()))
    }

    pub(crate) fn key(&self, key: &str) -> Path {
        self.with(Segment::Key(key.to_owned()))
    }

    pub(crate) fn index(&self, index: usize) -> Path {
        self.with(Segment::Index(index))
    }

    pub(crate) fn is_root(&self) -> bool {
        self.0.is_none()
    }

    /// As `field.Path.String()`: `spec.tags[team]`, and `<nil>` for the root.
    pub(crate) fn field_path(&self) -> String {
        if self.is_root() {
            return "<nil>".to_owned();
        }
        let mut out = String::new();
        for segment in self.segments() {
            match segment {
                Segment::Field(name) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(name);
                }
                Segment::Key(key) => out.push_str(&format!("[{key}]")),
                Segment::Index(index) => out.push_str(&format!("[{index}]")),
            }
        }
        out
    }

    /// As kube-openapi and pruning name a value, map keys like fields:
    /// `spec.tags.team`, `spec.items[0]`, and `` for the root.
    fn dotted(&self) -> String {
        let mut out = String::new();
        for segment in self.segments() {
            match segment {
                Segment::Field(name) | Segment::Key(name) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(name);
                }
                Segment::Index(index) => out.push_str(&format!("[{index}]")),
            }
        }
        out
    }
}

fn sorted_keys(map: &Map<String, Value>) -> Vec<String> {
    let mut keys: Vec<String> = map.keys().cloned().collect();
    keys.sort();
    keys
}

/// A value as `field.Error` prints it: strings quoted, numbers and booleans as
/// is, anything else as Go's `%#v` of the decoded JSON.
fn go_value(value: &Value) -> String {
    match value {
        Value::String(text) => go_quote(text),
        Value::Null => go_quote("null"),
        Value::Number(number) => go_number(number),
        Value::Bool(b) => b.to_string(),
        Value::Array(_) | Value::Object(_) => go_sharp_v(value),
    }
}
