//! Custom resources against the `openAPIV3Schema` of their CustomResourceDefinition
//! version, as the apiextensions-apiserver of Kubernetes 1.32 treats them on create
//! and update: unknown fields pruned, nulls and defaults applied, then the
//! structural schema, `x-kubernetes-list-type` invariants, embedded resources and
//! CEL rules (see `cel_rules`) validated, with the same messages.
//!
//! Where the Go code iterates over maps (and so reports in random order), this
//! module goes through keys in sorted order, so that errors come out stable.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use regex::Regex;
use serde_json::{Map, Number, Value};

use crate::cel_rules;
use crate::go_format::{go_float, go_number, go_quote, go_sharp_v};

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
    let errors = validate(schema, obj, old);
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

/// The validation half of [`admit`], on an already normalized object.
pub fn validate(schema: &Value, obj: &Value, old: Option<&Value>) -> Vec<FieldError> {
    let Some(root) = Schema::new(schema) else {
        return Vec::new();
    };
    let mut errors = Vec::new();
    validate_value(root, obj, &Path::default(), old, &mut errors);
    validate_embedded_resources(obj, Some(root), &Path::default(), &mut errors);
    // A list that was already malformed may stay so: only new breakage is refused.
    if old.is_none_or(|old| list_type_errors(root, old).is_empty()) {
        errors.extend(list_type_errors(root, obj));
    }
    if errors.iter().any(|e| e.kind.blocks_rules()) {
        errors.push(FieldError::invalid(
            Path::default().field_path(),
            Value::Null,
            "some validation rules were not checked because the object was invalid; correct the existing errors to complete validation",
        ));
    } else {
        errors.extend(cel_rules::validate(root, obj, old));
    }
    errors
}

// ---------------------------------------------------------------------------
// Schema view and paths

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

/// Where a value sits in the object.
#[derive(Clone, Debug, Default)]
pub(crate) struct Path(Vec<Segment>);

#[derive(Clone, Debug)]
enum Segment {
    Field(String),
    Key(String),
    Index(usize),
}

impl Path {
    fn with(&self, segment: Segment) -> Path {
        let mut segments = self.0.clone();
        segments.push(segment);
        Path(segments)
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
        self.0.is_empty()
    }

    /// As `field.Path.String()`: `spec.tags[team]`, and `<nil>` for the root.
    pub(crate) fn field_path(&self) -> String {
        if self.is_root() {
            return "<nil>".to_owned();
        }
        let mut out = String::new();
        for segment in &self.0 {
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
        for segment in &self.0 {
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

// ---------------------------------------------------------------------------
// Decoding: metadata, pruning, nulls, defaults

/// The JSON fields of `metav1.ObjectMeta`, and of the structs inside it, that
/// metadata keeps when it is decoded.
const OBJECT_META_FIELDS: &[&str] = &[
    "name",
    "generateName",
    "namespace",
    "selfLink",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "labels",
    "annotations",
    "ownerReferences",
    "finalizers",
    "managedFields",
];
const OWNER_REFERENCE_FIELDS: &[&str] = &["apiVersion", "kind", "name", "uid", "controller", "blockOwnerDeletion"];
const MANAGED_FIELDS_ENTRY_FIELDS: &[&str] = &[
    "manager",
    "operation",
    "apiVersion",
    "time",
    "fieldsType",
    "fieldsV1",
    "subresource",
];

/// Fields a resource root (or an embedded resource) never has pruned.
const TYPE_AND_OBJECT_META: &[&str] = &["apiVersion", "kind", "metadata"];

/// Metadata round-trips through `metav1.ObjectMeta`, which drops unknown fields.
fn coerce_object_meta(metadata: &mut Value, parent: &Path, unknown: &mut Vec<String>) {
    let Some(fields) = metadata.as_object_mut() else {
        return;
    };
    let prefix = parent.child("metadata").field_path();
    drop_unknown_fields(fields, OBJECT_META_FIELDS, &prefix, unknown);
    for (list, known) in [
        ("ownerReferences", OWNER_REFERENCE_FIELDS),
        ("managedFields", MANAGED_FIELDS_ENTRY_FIELDS),
    ] {
        let Some(Value::Array(items)) = fields.get_mut(list) else {
            continue;
        };
        for (index, item) in items.iter_mut().enumerate() {
            if let Some(item) = item.as_object_mut() {
                drop_unknown_fields(item, known, &format!("{prefix}.{list}[{index}]"), unknown);
            }
        }
    }
}

fn drop_unknown_fields(fields: &mut Map<String, Value>, known: &[&str], prefix: &str, unknown: &mut Vec<String>) {
    fields.retain(|key, _| {
        let keep = known.contains(&key.as_str());
        if !keep {
            unknown.push(format!("{prefix}.{key}"));
        }
        keep
    });
}

/// Removes the fields `schema` does not declare, recording their paths.
/// At the root (`resource_root`), as in embedded resources, apiVersion, kind
/// and metadata are left alone.
fn prune(value: &mut Value, schema: Option<Schema>, resource_root: bool, path: &Path, unknown: &mut Vec<String>) {
    if let Some(s) = schema
        && s.preserves_unknown_fields()
    {
        prune_known_fields(value, Some(s), resource_root, path, unknown);
        return;
    }
    let keeps_type_and_meta = resource_root || schema.is_some_and(|s| s.embedded_resource());
    match value {
        Value::Object(fields) => {
            for key in sorted_keys(fields) {
                if keeps_type_and_meta && TYPE_AND_OBJECT_META.contains(&key.as_str()) {
                    continue;
                }
                match schema.and_then(|s| s.field(&key)) {
                    Some(child) => {
                        if let Some(v) = fields.get_mut(&key) {
                            prune(v, child, false, &path.key(&key), unknown);
                        }
                    }
                    None => {
                        unknown.push(path.key(&key).dotted());
                        fields.remove(&key);
                    }
                }
            }
        }
        Value::Array(items) => {
            let item_schema = schema.and_then(|s| s.items());
            for (index, item) in items.iter_mut().enumerate() {
                prune(item, item_schema, false, &path.index(index), unknown);
            }
        }
        _ => {}
    }
}

/// Under `x-kubernetes-preserve-unknown-fields` unknown fields stay, but the
/// declared ones are still pruned inside.
fn prune_known_fields(
    value: &mut Value,
    schema: Option<Schema>,
    resource_root: bool,
    path: &Path,
    unknown: &mut Vec<String>,
) {
    let Some(s) = schema else { return };
    let keeps_type_and_meta = resource_root || s.embedded_resource();
    match value {
        Value::Object(fields) => {
            for key in sorted_keys(fields) {
                if keeps_type_and_meta && TYPE_AND_OBJECT_META.contains(&key.as_str()) {
                    continue;
                }
                if let (Some(child), Some(v)) = (s.field(&key), fields.get_mut(&key)) {
                    prune(v, child, false, &path.key(&key), unknown);
                }
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter_mut().enumerate() {
                prune_known_fields(item, s.items(), false, &path.index(index), unknown);
            }
        }
        _ => {}
    }
}

/// Drops nulls where the schema allows no null and has no default to put instead.
fn prune_nulls(value: &mut Value, schema: Option<Schema>) {
    match value {
        Value::Object(fields) => {
            for key in sorted_keys(fields) {
                let child = schema.and_then(|s| s.field_schema(&key));
                let drop = fields.get(&key).is_some_and(Value::is_null)
                    && child.is_some_and(|c| !c.nullable() && c.default_value().is_none());
                if drop {
                    fields.remove(&key);
                } else if let Some(v) = fields.get_mut(&key) {
                    prune_nulls(v, child);
                }
            }
        }
        Value::Array(items) => {
            let item_schema = schema.and_then(|s| s.items());
            for item in items {
                prune_nulls(item, item_schema);
            }
        }
        _ => {}
    }
}

/// Absent fields, and nulls the schema does not allow, take the schema's default;
/// defaults are then defaulted inside in turn.
fn apply_defaults(value: &mut Value, schema: Option<Schema>) {
    let Some(s) = schema else { return };
    let replaces = |v: &Value, s: Schema| v.is_null() && !s.nullable();
    match value {
        Value::Object(fields) => {
            for (name, property) in s.properties().into_iter().flatten() {
                let Some(property) = Schema::new(property) else {
                    continue;
                };
                let Some(default) = property.default_value() else {
                    continue;
                };
                if fields.get(name).is_none_or(|v| replaces(v, property)) {
                    fields.insert(name.clone(), default.clone());
                }
            }
            let map_values = s.additional_schema();
            for (key, v) in fields.iter_mut() {
                let child = match s.property(key) {
                    Some(property) => property,
                    None => {
                        let Some(map_value) = map_values else {
                            continue;
                        };
                        if replaces(v, map_value) {
                            *v = map_value.default_value().cloned().unwrap_or(Value::Null);
                        }
                        map_value
                    }
                };
                apply_defaults(v, Some(child));
            }
        }
        Value::Array(items) => {
            let item_schema = s.items();
            for item in items {
                if let Some(item_schema) = item_schema
                    && replaces(item, item_schema)
                {
                    *item = item_schema.default_value().cloned().unwrap_or(Value::Null);
                }
                apply_defaults(item, item_schema);
            }
        }
        _ => {}
    }
}

/// The metadata of embedded resources goes through `ObjectMeta` too.
fn coerce_embedded_metadata(value: &mut Value, schema: Option<Schema>, path: &Path, unknown: &mut Vec<String>) {
    let Some(s) = schema else { return };
    match value {
        Value::Object(fields) => {
            if s.embedded_resource()
                && let Some(metadata) = fields.get_mut("metadata")
            {
                coerce_object_meta(metadata, path, unknown);
            }
            for (key, v) in fields.iter_mut() {
                if let Some(property) = s.property(key) {
                    coerce_embedded_metadata(v, Some(property), &path.child(key), unknown);
                } else if let Some(map_value) = s.additional_schema() {
                    coerce_embedded_metadata(v, Some(map_value), &path.key(key), unknown);
                }
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter_mut().enumerate() {
                coerce_embedded_metadata(item, s.items(), &path.index(index), unknown);
            }
        }
        _ => {}
    }
}

// ---------------------------------------------------------------------------
// Ratcheting: which old value a new one corresponds to, and whether it changed

/// The old value that `new_child` (at `key` of an object) replaces, if the schema
/// lets the two be matched up.
pub(crate) fn correlate_field<'o>(schema: Schema, old: Option<&'o Value>, key: &str) -> Option<&'o Value> {
    schema.field_schema(key)?;
    old?.as_object()?.get(key)
}

/// The old item that `new_item` replaces: only lists of type map match items
/// (by their keys); the items of other lists cannot be told apart.
pub(crate) fn correlate_item<'o>(schema: Schema, old: Option<&'o Value>, new_item: &Value) -> Option<&'o Value> {
    if schema.list_type() != "map" {
        return None;
    }
    let keys = schema.list_map_keys();
    old?.as_array()?
        .iter()
        .find(|old_item| same_map_keys(&keys, old_item, new_item))
}

fn same_map_keys(keys: &[&str], a: &Value, b: &Value) -> bool {
    let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else {
        return false;
    };
    keys.iter().all(|k| a.get(*k) == b.get(*k))
}

/// Whether `new` is what `old` was, as the server compares them: items of map
/// lists by key, and fields only where the schema declares them.
pub(crate) fn unchanged(schema: Option<Schema>, new: &Value, old: &Value) -> bool {
    match (new, old) {
        (Value::Array(new_items), Value::Array(old_items)) => {
            if new_items.len() != old_items.len() {
                return false;
            }
            match schema.filter(|s| s.list_type() == "map") {
                Some(s) => new_items.iter().all(|item| {
                    correlate_item(s, Some(old), item).is_some_and(|old_item| unchanged(s.items(), item, old_item))
                }),
                None => new_items == old_items,
            }
        }
        (Value::Object(new_fields), Value::Object(old_fields)) => {
            new_fields.len() == old_fields.len()
                && new_fields.iter().all(|(key, v)| {
                    let child = schema.and_then(|s| s.field_schema(key));
                    child.is_some() && old_fields.get(key).is_some_and(|o| unchanged(child, v, o))
                })
        }
        _ => new == old,
    }
}

// ---------------------------------------------------------------------------
// Structural schema validation (kube-openapi's SchemaValidator)

/// The field of an error kube-openapi names `name`.
fn openapi_field(name: &str) -> String {
    let trimmed = name.strip_prefix('.').unwrap_or(name);
    if trimmed.is_empty() {
        "<nil>".to_owned()
    } else {
        trimmed.to_owned()
    }
}

/// The kube-openapi errors that are not `Validation`s carry no path.
fn composite_error(message: String) -> FieldError {
    FieldError::invalid("<nil>".to_owned(), Value::from(""), message)
}

fn validate_value(s: Schema, data: &Value, path: &Path, old: Option<&Value>, errors: &mut Vec<FieldError>) {
    // Ratcheting: errors in a value the update leaves as it was are forgiven.
    if old.is_some_and(|old| unchanged(Some(s), data, old)) {
        return;
    }
    let name = path.dotted();
    if !check_type(s, data, &name, errors) {
        check_enum(s, data, &name, errors);
        return;
    }
    check_combinators(s, data, path, errors);
    match data {
        Value::String(text) => {
            check_string(s, text, &name, errors);
            check_format(s, text, &name, errors);
        }
        Value::Number(number) => check_number(s, number, &name, errors),
        Value::Array(items) => {
            if let Some(item_schema) = s.items() {
                for (index, item) in items.iter().enumerate() {
                    let old_item = correlate_item(s, old, item);
                    validate_value(item_schema, item, &path.index(index), old_item, errors);
                }
            }
            if let Some(min) = s.count("minItems")
                && (items.len() as i64) < min
            {
                let detail = format!("{name} in body should have at least {min} items");
                errors.push(FieldError::invalid(
                    openapi_field(&name),
                    Value::from(items.len()),
                    detail,
                ));
            }
            if let Some(max) = s.count("maxItems")
                && (items.len() as i64) > max
            {
                errors.push(FieldError::too_many(openapi_field(&name), items.len(), max));
            }
        }
        _ => {}
    }
    check_enum(s, data, &name, errors);
    if let Value::Object(fields) = data {
        check_object(s, fields, path, old, errors);
    }
}

/// The JSON type of a value and the format Go infers for it.
fn json_type(data: &Value) -> (&'static str, &'static str) {
    match data {
        Value::Null => ("null", ""),
        Value::Bool(_) => ("boolean", ""),
        Value::String(_) => ("string", ""),
        Value::Number(n) if n.is_i64() => ("integer", "int64"),
        Value::Number(_) => ("number", "float64"),
        Value::Array(_) => ("array", ""),
        Value::Object(_) => ("object", ""),
    }
}

/// The formats the apiserver knows; others are ignored, as if absent.
fn supported_format<'a>(s: Schema<'a>) -> Option<&'a str> {
    const SUPPORTED: &[&str] = &[
        "bsonobjectid",
        "uri",
        "email",
        "hostname",
        "ipv4",
        "ipv6",
        "cidr",
        "mac",
        "uuid",
        "uuid3",
        "uuid4",
        "uuid5",
        "isbn",
        "isbn10",
        "isbn13",
        "creditcard",
        "ssn",
        "hexcolor",
        "rgbcolor",
        "byte",
        "password",
        "date",
        "duration",
        "datetime",
    ];
    let format = s.format();
    SUPPORTED.contains(&format.replace('-', "").as_str()).then_some(format)
}

/// The type validator; false when `data` is null, after which only `enum` applies.
fn check_type(s: Schema, data: &Value, name: &str, errors: &mut Vec<FieldError>) -> bool {
    let types: Vec<&str> = if s.int_or_string() {
        vec!["integer", "string"]
    } else if s.type_name().is_empty() {
        Vec::new()
    } else {
        vec![s.type_name()]
    };
    let format = supported_format(s);
    let type_error = |expected: &str, actual: &str| {
        let detail = format!("{name} in body must be of type {expected}: {}", go_quote(actual));
        FieldError::type_invalid(openapi_field(name), Value::from(actual), detail)
    };
    if data.is_null() {
        if !types.is_empty() && !types.contains(&"null") && !s.nullable() {
            errors.push(type_error(&types.join(","), "null"));
        }
        return false;
    }
    if types.is_empty() && format.is_none() {
        return true;
    }
    let (actual, actual_format) = json_type(data);
    let integral_number = data.as_f64().is_some_and(|f| f.fract() == 0.0);
    let compatible = types.contains(&actual)
        || (actual == "number" && integral_number && types.contains(&"integer"))
        || (actual == "integer" && types.contains(&"number"));
    let string_or_array = matches!(data, Value::String(_) | Value::Array(_));
    if let Some(format) = format
        && !string_or_array
        && !(compatible || actual_format == format)
    {
        errors.push(type_error(format, actual_format));
        return true;
    }
    let numeric = types.contains(&"number") || types.contains(&"integer");
    if format.is_some() && string_or_array && !numeric {
        return true;
    }
    if !compatible {
        errors.push(type_error(&types.join(","), actual));
    }
    true
}

fn check_string(s: Schema, text: &str, name: &str, errors: &mut Vec<FieldError>) {
    let length = text.chars().count() as i64;
    let field = openapi_field(name);
    if let Some(max) = s.count("maxLength")
        && length > max
    {
        errors.push(FieldError::too_long(field, max));
        return;
    }
    if let Some(min) = s.count("minLength")
        && length < min
    {
        let detail = format!("{name} in body should be at least {min} chars long");
        errors.push(FieldError::invalid(field, Value::from(text), detail));
        return;
    }
    if let Some(pattern) = s.get("pattern").and_then(Value::as_str)
        && !pattern.is_empty()
    {
        let shown = match cached_regex(pattern) {
            Ok(re) if re.is_match(text) => return,
            Ok(_) => pattern.to_owned(),
            Err(e) => format!("{pattern}, but pattern is invalid: {e}"),
        };
        let detail = format!("{name} in body should match '{shown}'");
        errors.push(FieldError::invalid(field, Value::from(text), detail));
    }
}

fn check_format(s: Schema, text: &str, name: &str, errors: &mut Vec<FieldError>) {
    let Some(format) = supported_format(s) else {
        return;
    };
    if !valid_format(&format.replace('-', ""), text) {
        let detail = format!("{name} in body must be of type {format}: {}", go_quote(text));
        errors.push(FieldError::type_invalid(openapi_field(name), Value::from(text), detail));
    }
}

fn check_number(s: Schema, number: &Number, name: &str, errors: &mut Vec<FieldError>) {
    let field = openapi_field(name);
    let bad = || Value::Number(number.clone());
    // Go compares integers as integers, with the bound truncated to one.
    let integer = number.as_i64();
    let value = number.as_f64().unwrap_or(f64::NAN);
    let bound = |b: f64| match integer {
        Some(_) => (b as i64).to_string(),
        None => go_float(b),
    };
    if let Some(factor) = s.number("multipleOf") {
        let (positive, multiple) = match integer {
            Some(i) => {
                let factor = factor as i64;
                (factor > 0, factor > 0 && i % factor == 0)
            }
            None => {
                let quotient = if factor < 1.0 {
                    1.0 / factor * value
                } else {
                    value / factor
                };
                (factor > 0.0, quotient.fract() == 0.0)
            }
        };
        if !positive {
            let shown = bound(factor);
            let detail = format!("factor MultipleOf declared for {name} must be positive: {shown}");
            let factor = integer.map_or(Value::from(factor), |_| Value::from(factor as i64));
            errors.push(FieldError::invalid(field.clone(), factor, detail));
        } else if !multiple {
            let detail = format!("{name} in body should be a multiple of {}", bound(factor));
            errors.push(FieldError::invalid(field.clone(), bad(), detail));
        }
    }
    let below = |min: f64, exclusive: bool| match integer {
        Some(i) => {
            if exclusive {
                i <= min as i64
            } else {
                i < min as i64
            }
        }
        None => {
            if exclusive {
                value <= min
            } else {
                value < min
            }
        }
    };
    let above = |max: f64, exclusive: bool| match integer {
        Some(i) => {
            if exclusive {
                i >= max as i64
            } else {
                i > max as i64
            }
        }
        None => {
            if exclusive {
                value >= max
            } else {
                value > max
            }
        }
    };
    if let Some(min) = s.number("minimum") {
        let exclusive = s.flag("exclusiveMinimum");
        if below(min, exclusive) {
            let relation = if exclusive {
                "greater than"
            } else {
                "greater than or equal to"
            };
            let detail = format!("{name} in body should be {relation} {}", bound(min));
            errors.push(FieldError::invalid(field.clone(), bad(), detail));
        }
    }
    if let Some(max) = s.number("maximum") {
        let exclusive = s.flag("exclusiveMaximum");
        if above(max, exclusive) {
            let relation = if exclusive {
                "less than"
            } else {
                "less than or equal to"
            };
            let detail = format!("{name} in body should be {relation} {}", bound(max));
            errors.push(FieldError::invalid(field, bad(), detail));
        }
    }
}

fn check_enum(s: Schema, data: &Value, name: &str, errors: &mut Vec<FieldError>) {
    let Some(allowed) = s.get("enum").and_then(Value::as_array).filter(|a| !a.is_empty()) else {
        return;
    };
    // A null never matches, not even a null in the enum: kube-openapi skips it.
    if !data.is_null() && allowed.iter().any(|a| !a.is_null() && same_json(a, data)) {
        return;
    }
    let supported: Vec<String> = allowed
        .iter()
        .map(|a| match a {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        })
        .collect();
    errors.push(FieldError::not_supported(openapi_field(name), data.clone(), &supported));
}

/// JSON equality where 1 and 1.0 are the same number.
fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

fn check_object(
    s: Schema,
    fields: &Map<String, Value>,
    path: &Path,
    old: Option<&Value>,
    errors: &mut Vec<FieldError>,
) {
    let name = path.dotted();
    let count = fields.len();
    if let Some(min) = s.count("minProperties")
        && (count as i64) < min
    {
        let detail = format!("{name} in body should have at least {min} properties");
        errors.push(FieldError::invalid(openapi_field(&name), Value::from(count), detail));
    }
    if let Some(max) = s.count("maxProperties")
        && (count as i64) > max
    {
        errors.push(FieldError::too_many(openapi_field(&name), count, max));
    }
    if let Some(map_value) = s.additional_schema() {
        for key in sorted_keys(fields) {
            if s.property(&key).is_some() {
                continue;
            }
            if let Some(v) = fields.get(&key) {
                let old_v = correlate_field(s, old, &key);
                validate_value(map_value, v, &path.key(&key), old_v, errors);
            }
        }
    }
    for key in sorted_keys(fields) {
        if let (Some(property), Some(v)) = (s.property(&key), fields.get(&key)) {
            validate_value(property, v, &path.child(&key), correlate_field(s, old, &key), errors);
        }
    }
    for required in s.get("required").and_then(Value::as_array).into_iter().flatten() {
        if let Some(key) = required.as_str()
            && !fields.contains_key(key)
        {
            errors.push(FieldError::required(openapi_field(&format!("{name}.{key}")), ""));
        }
    }
}

/// `anyOf`, `oneOf`, `allOf` and `not`, each branch validating the same value.
fn check_combinators(s: Schema, data: &Value, path: &Path, errors: &mut Vec<FieldError>) {
    let quoted = go_quote(&path.dotted());
    let run = |branch: Schema| {
        let mut branch_errors = Vec::new();
        validate_value(branch, data, path, None, &mut branch_errors);
        branch_errors
    };
    let any_of = s.sub_schemas("anyOf");
    if !any_of.is_empty() {
        let results: Vec<Vec<FieldError>> = any_of.into_iter().map(run).collect();
        if results.iter().all(|r| !r.is_empty()) {
            errors.push(composite_error(format!(
                "{quoted} must validate at least one schema (anyOf)"
            )));
            errors.extend(results.into_iter().next().into_iter().flatten());
        }
    }
    let one_of = s.sub_schemas("oneOf");
    if !one_of.is_empty() {
        let results: Vec<Vec<FieldError>> = one_of.into_iter().map(run).collect();
        let valid = results.iter().filter(|r| r.is_empty()).count();
        if valid != 1 {
            let found = if valid == 0 {
                "Found none valid".to_owned()
            } else {
                format!("Found {valid} valid alternatives")
            };
            errors.push(composite_error(format!(
                "{quoted} must validate one and only one schema (oneOf). {found}"
            )));
            if valid == 0 {
                errors.extend(results.into_iter().next().into_iter().flatten());
            }
        }
    }
    let all_of = s.sub_schemas("allOf");
    if !all_of.is_empty() {
        let total = all_of.len();
        let mut valid = 0;
        for result in all_of.into_iter().map(run) {
            if result.is_empty() {
                valid += 1;
            }
            errors.extend(result);
        }
        if valid != total {
            let none = if valid == 0 { ". None validated" } else { "" };
            errors.push(composite_error(format!(
                "{quoted} must validate all the schemas (allOf){none}"
            )));
        }
    }
    if let Some(not) = s.get("not").and_then(Schema::new)
        && run(not).is_empty()
    {
        errors.push(composite_error(format!("{quoted} must not validate the schema (not)")));
    }
}

// ---------------------------------------------------------------------------
// Formats

/// Compiled patterns, shared by the `pattern` keyword and the formats.
pub(crate) fn cached_regex(pattern: &str) -> Result<Regex, String> {
    static CACHE: LazyLock<Mutex<HashMap<String, Result<Regex, String>>>> = LazyLock::new(Mutex::default);
    let mut cache = CACHE.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    cache
        .entry(pattern.to_owned())
        .or_insert_with(|| Regex::new(pattern).map_err(|e| e.to_string()))
        .clone()
}

fn matches(pattern: &str, text: &str) -> bool {
    cached_regex(pattern).is_ok_and(|re| re.is_match(text))
}

/// Whether `text` has the format named `format` (normalized, without dashes).
/// Formats too costly to check exactly (isbn, creditcard) are accepted.
fn valid_format(format: &str, text: &str) -> bool {
    use base64::Engine as _;
    match format {
        "datetime" => valid_date_time(text),
        "date" => valid_date(text),
        "duration" => valid_duration(text),
        "byte" => base64::engine::general_purpose::STANDARD.decode(text).is_ok(),
        "uuid" => matches(
            r"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$",
            text,
        ),
        "uuid3" => matches(
            r"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?3[0-9a-f]{3}-?[0-9a-f]{4}-?[0-9a-f]{12}$",
            text,
        ),
        "uuid4" => matches(
            r"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?4[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$",
            text,
        ),
        "uuid5" => matches(
            r"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?5[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$",
            text,
        ),
        "hostname" => {
            matches(
                r"^([a-zA-Z0-9\p{S}\p{L}]((-?[a-zA-Z0-9\p{S}\p{L}]{0,62})?)|([a-zA-Z0-9\p{S}\p{L}](([a-zA-Z0-9-\p{S}\p{L}]{0,61}[a-zA-Z0-9\p{S}\p{L}])?)(\.)){1,}([a-zA-Z\p{L}]){2,63})$",
                text,
            ) && text.len() <= 255
                && text.split('.').all(|label| label.len() <= 63)
        }
        "email" => matches(r"^(?:[^<>@\s]+@[^<>@\s]+|[^<>]*<[^<>@\s]+@[^<>@\s]+>)$", text),
        "ipv4" => text.parse::<std::net::Ipv4Addr>().is_ok(),
        "ipv6" => text.contains(':') && text.parse::<std::net::IpAddr>().is_ok(),
        "cidr" => text.split_once('/').is_some_and(|(ip, bits)| {
            let max = match ip.parse::<std::net::IpAddr>() {
                Ok(std::net::IpAddr::V4(_)) => 32,
                Ok(std::net::IpAddr::V6(_)) => 128,
                Err(_) => return false,
            };
            bits.parse::<u8>().is_ok_and(|b| b <= max) && !bits.starts_with('+')
        }),
        "mac" => matches(
            r"^(?:[0-9A-Fa-f]{2}(?:[:-][0-9A-Fa-f]{2}){5}|[0-9A-Fa-f]{2}(?:[:-][0-9A-Fa-f]{2}){7}|[0-9A-Fa-f]{2}(?:[:-][0-9A-Fa-f]{2}){19}|[0-9A-Fa-f]{4}(?:\.[0-9A-Fa-f]{4}){2,9})$",
            text,
        ),
        "hexcolor" => matches(r"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$", text),
        "rgbcolor" => matches(
            r"^rgb\(\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*,\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*,\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*\)$",
            text,
        ),
        "ssn" => matches(r"^\d{3}[- ]?\d{2}[- ]?\d{4}$", text),
        "bsonobjectid" => matches(r"^[0-9a-fA-F]{24}$", text),
        "uri" => matches(r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*:|/)\S*$", text),
        _ => true,
    }
}

/// `2006-01-02`, with a real day of a real month.
fn valid_date(text: &str) -> bool {
    if !matches(r"^\d{4}-\d{2}-\d{2}$", text) {
        return false;
    }
    let part = |range: std::ops::Range<usize>| text[range].parse::<u32>().ok();
    match (part(0..4), part(5..7), part(8..10)) {
        (Some(y), Some(m), Some(d)) => chrono::NaiveDate::from_ymd_opt(y as i32, m, d).is_some(),
        _ => false,
    }
}

/// strfmt's `IsDateTime`: a date, a `T`, and a time with a zone.
fn valid_date_time(text: &str) -> bool {
    let lower = text.to_lowercase();
    let mut parts = lower.split('t');
    let (Some(date), Some(time)) = (parts.next(), parts.next()) else {
        return false;
    };
    if text.len() < 4 || !valid_date(date) {
        return false;
    }
    let Ok(re) = cached_regex(r"^([0-9]{2}):([0-9]{2}):([0-9]{2})(.[0-9]+)?(z|([+-][0-9]{2}:[0-9]{2}))$") else {
        return false;
    };
    re.captures(time)
        .is_some_and(|c| &c[1] <= "23" && &c[2] <= "59" && &c[3] <= "59")
}

/// Go's `time.ParseDuration`, or the looser "3 days" forms strfmt accepts.
fn valid_duration(text: &str) -> bool {
    if matches(
        r"^[-+]?(?:0|(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:ns|us|µs|μs|ms|s|m|h))+$",
        text,
    ) {
        return true;
    }
    const UNITS: &[&[&str]] = &[
        &["ns", "nano"],
        &["us", "µs", "micro"],
        &["ms", "milli"],
        &["s", "sec"],
        &["m", "min"],
        &["h", "hr", "hour"],
        &["d", "day"],
        &["w", "wk", "week"],
    ];
    let Ok(re) = cached_regex(r"(\d+)\s*([A-Za-zµ]+)") else {
        return false;
    };
    re.captures_iter(text).any(|c| {
        let unit = c[2].trim().to_lowercase();
        UNITS.iter().any(|variants| {
            variants
                .iter()
                .enumerate()
                .any(|(i, variant)| unit == *variant || (i == variants.len() - 1 && unit.starts_with(variant)))
        })
    })
}

// ---------------------------------------------------------------------------
// Embedded resources and list types

fn validate_embedded_resources(value: &Value, schema: Option<Schema>, path: &Path, errors: &mut Vec<FieldError>) {
    let Some(s) = schema else { return };
    match value {
        Value::Object(fields) => {
            if s.embedded_resource() {
                validate_type_meta(fields, path, errors);
            }
            for key in sorted_keys(fields) {
                let Some(v) = fields.get(&key) else { continue };
                if let Some(property) = s.property(&key) {
                    validate_embedded_resources(v, Some(property), &path.child(&key), errors);
                } else if let Some(map_value) = s.additional_schema() {
                    validate_embedded_resources(v, Some(map_value), &path.key(&key), errors);
                }
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                validate_embedded_resources(item, s.items(), &path.index(index), errors);
            }
        }
        _ => {}
    }
}

/// An embedded resource needs an apiVersion and a kind that name a type.
fn validate_type_meta(fields: &Map<String, Value>, path: &Path, errors: &mut Vec<FieldError>) {
    for key in ["apiVersion", "kind"] {
        if !fields.contains_key(key) {
            errors.push(FieldError::required(path.child(key).field_path(), "must not be empty"));
        }
    }
    for key in ["apiVersion", "kind"] {
        let Some(value) = fields.get(key) else {
            continue;
        };
        let field = path.child(key).field_path();
        let Some(text) = value.as_str() else {
            errors.push(FieldError::invalid(field, value.clone(), "must be a string"));
            continue;
        };
        let problem = if text.is_empty() {
            Some("must not be empty".to_owned())
        } else if key == "apiVersion" {
            (text != "/" && text.matches('/').count() > 1).then(|| format!("unexpected GroupVersion string: {text}"))
        } else {
            dns1035_label_problems(&text.to_lowercase())
                .map(|p| format!("may have mixed case, but should otherwise match: {p}"))
        };
        if let Some(problem) = problem {
            errors.push(FieldError::invalid(field, value.clone(), problem));
        }
    }
}

fn dns1035_label_problems(text: &str) -> Option<String> {
    let mut problems = Vec::new();
    if text.len() > 63 {
        problems.push("must be no more than 63 characters".to_owned());
    }
    if !matches("^[a-z]([-a-z0-9]*[a-z0-9])?$", text) {
        problems.push("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')".to_owned());
    }
    (!problems.is_empty()).then(|| problems.join(","))
}

/// Items of `set` lists, and keys of `map` lists, must be unique.
fn list_type_errors(root: Schema, obj: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if let Value::Object(fields) = obj {
        list_types_in_object(root, fields, &Path::default(), &mut errors);
    }
    errors
}

fn list_types_in_object(s: Schema, fields: &Map<String, Value>, path: &Path, errors: &mut Vec<FieldError>) {
    if let Some(map_value) = s.additional_schema() {
        for key in sorted_keys(fields) {
            if let Some(v) = fields.get(&key) {
                list_types_in_value(map_value, v, &path.key(&key), errors);
            }
        }
    }
    for key in sorted_keys(fields) {
        if let (Some(property), Some(v)) = (s.property(&key), fields.get(&key)) {
            list_types_in_value(property, v, &path.child(&key), errors);
        }
    }
}

fn list_types_in_value(s: Schema, value: &Value, path: &Path, errors: &mut Vec<FieldError>) {
    match value {
        Value::Object(fields) => list_types_in_object(s, fields, path, errors),
        Value::Array(items) => {
            match s.list_type() {
                "set" => {
                    for index in second_occurrences(items) {
                        errors.push(FieldError::duplicate(
                            path.index(index).field_path(),
                            items[index].clone(),
                        ));
                    }
                }
                "map" => check_list_map(s, items, path, errors),
                _ => {}
            }
            if let Some(item_schema) = s.items() {
                for (index, item) in items.iter().enumerate() {
                    list_types_in_value(item_schema, item, &path.index(index), errors);
                }
            }
        }
        _ => {}
    }
}

/// The index of the second occurrence of each value that occurs more than once.
fn second_occurrences(values: &[Value]) -> Vec<usize> {
    let mut found = Vec::new();
    for (index, value) in values.iter().enumerate() {
        let before = values[..index].iter().filter(|earlier| *earlier == value).count();
        if before == 1 {
            found.push(index);
        }
    }
    found
}

fn check_list_map(s: Schema, items: &[Value], path: &Path, errors: &mut Vec<FieldError>) {
    if let Some(index) = items.iter().position(|item| !item.is_null() && !item.is_object()) {
        errors.push(FieldError::invalid(
            path.index(index).field_path(),
            items[index].clone(),
            "must be an object for an array of list-type map",
        ));
        return;
    }
    let key_fields = s.list_map_keys();
    let keys: Vec<Value> = items
        .iter()
        .map(|item| {
            let key: Map<String, Value> = key_fields
                .iter()
                .filter_map(|k| Some((k.to_string(), item.get(*k)?.clone())))
                .collect();
            Value::Object(key)
        })
        .collect();
    for index in second_occurrences(&keys) {
        errors.push(FieldError::duplicate(
            path.index(index).field_path(),
            keys[index].clone(),
        ));
    }
}

// ---------------------------------------------------------------------------
// Values in messages

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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// What follows errors that keep CEL rules from running.
    const BLOCKED: &str = "<nil>: Invalid value: \"null\": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation";

    /// A CRD version schema in the shape kubebuilder writes, AwsAccount-like.
    fn account_schema() -> Value {
        json!({
            "type": "object",
            "properties": {
                "apiVersion": {"type": "string"},
                "kind": {"type": "string"},
                "metadata": {"type": "object"},
                "spec": {
                    "type": "object",
                    "required": ["email"],
                    "properties": {
                        "email": {"type": "string", "minLength": 3, "maxLength": 64, "pattern": "^[^@]+@[^@]+$"},
                        "deletionPolicy": {"type": "string", "enum": ["Retain", "Close"], "default": "Retain"},
                        "maxSessionDuration": {"type": "integer", "minimum": 3600, "maximum": 43200},
                        "ratio": {"type": "number", "exclusiveMinimum": true, "minimum": 0.5, "multipleOf": 0.25},
                        "tags": {"type": "object", "additionalProperties": {"type": "string"}, "maxProperties": 2},
                        "allowedNamespaces": {"type": "array", "items": {"type": "string"}, "maxItems": 2, "minItems": 1, "x-kubernetes-list-type": "set"},
                        "port": {"x-kubernetes-int-or-string": true},
                        "note": {"type": "string", "nullable": true},
                        "created": {"type": "string", "format": "date-time"},
                        "statements": {
                            "type": "array",
                            "x-kubernetes-list-type": "map",
                            "x-kubernetes-list-map-keys": ["sid"],
                            "items": {
                                "type": "object",
                                "properties": {
                                    "sid": {"type": "string"},
                                    "effect": {"type": "string", "default": "Allow"}
                                }
                            }
                        },
                        "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": true, "properties": {"known": {"type": "object", "properties": {"a": {"type": "string"}}}}},
                        "template": {"type": "object", "x-kubernetes-embedded-resource": true, "properties": {"spec": {"type": "object", "properties": {"x": {"type": "string"}}}}}
                    }
                },
                "status": {"type": "object", "properties": {"accountId": {"type": "string"}}}
            }
        })
    }

    fn account(spec: Value) -> Value {
        json!({"apiVersion": "awsaccess.dev/v1alpha1", "kind": "AwsAccount", "metadata": {"name": "alfie-dev"}, "spec": spec})
    }

    fn messages(result: Result<Admitted, Vec<FieldError>>) -> Vec<String> {
        match result {
            Ok(admitted) => panic!("admitted: {admitted:?}"),
            Err(errors) => errors.iter().map(FieldError::message).collect(),
        }
    }

    fn rejects(spec: Value) -> Vec<String> {
        messages(admit(&account_schema(), &mut account(spec), None))
    }

    fn admits(spec: Value) -> (Value, Admitted) {
        let mut obj = account(spec);
        let admitted = admit(&account_schema(), &mut obj, None)
            .unwrap_or_else(|e| panic!("rejected: {:?}", e.iter().map(FieldError::message).collect::<Vec<_>>()));
        (obj, admitted)
    }

    #[test]
    fn required_field_is_reported_with_its_cause_reason() {
        let errors = admit(&account_schema(), &mut account(json!({})), None).unwrap_err();
        assert_eq!(errors[0].message(), "spec.email: Required value");
        assert_eq!(errors[0].cause_reason(), "FieldValueRequired");
        assert_eq!(errors[0].body(), "Required value");
    }

    #[test]
    fn numeric_bounds_use_the_kube_openapi_wording() {
        let found = rejects(json!({"email": "a@b.c", "maxSessionDuration": 100}));
        assert_eq!(
            found[0],
            "spec.maxSessionDuration: Invalid value: 100: spec.maxSessionDuration in body should be greater than or equal to 3600"
        );
        let found = rejects(json!({"email": "a@b.c", "maxSessionDuration": 50000}));
        assert_eq!(
            found[0],
            "spec.maxSessionDuration: Invalid value: 50000: spec.maxSessionDuration in body should be less than or equal to 43200"
        );
        let found = rejects(json!({"email": "a@b.c", "ratio": 0.5}));
        assert_eq!(
            found,
            vec!["spec.ratio: Invalid value: 0.5: spec.ratio in body should be greater than 0.5"]
        );
        let found = rejects(json!({"email": "a@b.c", "ratio": 0.6}));
        assert_eq!(
            found,
            vec!["spec.ratio: Invalid value: 0.6: spec.ratio in body should be a multiple of 0.25"]
        );
        admits(json!({"email": "a@b.c", "ratio": 0.75, "maxSessionDuration": 3600}));
    }

    #[test]
    fn enum_lists_the_supported_values() {
        let errors = admit(
            &account_schema(),
            &mut account(json!({"email": "a@b.c", "deletionPolicy": "Foo"})),
            None,
        )
        .unwrap_err();
        assert_eq!(
            errors[0].message(),
            r#"spec.deletionPolicy: Unsupported value: "Foo": supported values: "Retain", "Close""#
        );
        assert_eq!(errors[0].cause_reason(), "FieldValueNotSupported");
    }

    #[test]
    fn wrong_types_name_the_expected_and_actual_type() {
        let found = rejects(json!({"email": "a@b.c", "maxSessionDuration": "long"}));
        assert_eq!(
            found[0],
            r#"spec.maxSessionDuration: Invalid value: "string": spec.maxSessionDuration in body must be of type integer: "string""#
        );
        let found = rejects(json!({"email": ["a@b.c"]}));
        assert_eq!(
            found[0],
            r#"spec.email: Invalid value: "array": spec.email in body must be of type string: "array""#
        );
        let found = rejects(json!({"email": "a@b.c", "port": true}));
        assert_eq!(
            found[0],
            r#"spec.port: Invalid value: "boolean": spec.port in body must be of type integer,string: "boolean""#
        );
        // JSON has no integer type: 3600.0 is an integer.
        admits(json!({"email": "a@b.c", "maxSessionDuration": 3600.0, "port": "http"}));
        admits(json!({"email": "a@b.c", "port": 8080}));
    }

    #[test]
    fn string_lengths_and_patterns() {
        assert_eq!(
            rejects(json!({"email": "a@"})),
            vec![r#"spec.email: Invalid value: "a@": spec.email in body should be at least 3 chars long"#]
        );
        assert_eq!(
            rejects(json!({"email": "x".repeat(65)})),
            vec!["spec.email: Too long: may not be more than 64 bytes", BLOCKED]
        );
        assert_eq!(
            rejects(json!({"email": "nobody"})),
            vec![r#"spec.email: Invalid value: "nobody": spec.email in body should match '^[^@]+@[^@]+$'"#]
        );
    }

    #[test]
    fn counts_of_items_and_properties() {
        let found = rejects(
            json!({"email": "a@b.c", "allowedNamespaces": ["a", "b", "c"], "tags": {"a": "1", "b": "2", "c": "3"}}),
        );
        assert_eq!(
            found,
            vec![
                "spec.allowedNamespaces: Too many: 3: must have at most 2 items",
                "spec.tags: Too many: 3: must have at most 2 items",
                BLOCKED,
            ]
        );
        let found = rejects(json!({"email": "a@b.c", "allowedNamespaces": []}));
        assert_eq!(
            found,
            vec![
                "spec.allowedNamespaces: Invalid value: 0: spec.allowedNamespaces in body should have at least 1 items"
            ]
        );
    }

    #[test]
    fn map_values_are_validated_under_their_key() {
        let found = rejects(json!({"email": "a@b.c", "tags": {"team": 7}}));
        assert_eq!(
            found[0],
            r#"spec.tags.team: Invalid value: "integer": spec.tags.team in body must be of type string: "integer""#
        );
    }

    #[test]
    fn formats_are_checked() {
        admits(json!({"email": "a@b.c", "created": "2024-02-29T10:00:00Z"}));
        admits(json!({"email": "a@b.c", "created": "2024-02-29t10:00:00.123+02:00"}));
        let found = rejects(json!({"email": "a@b.c", "created": "2023-02-29T10:00:00Z"}));
        assert_eq!(
            found[0],
            r#"spec.created: Invalid value: "2023-02-29T10:00:00Z": spec.created in body must be of type date-time: "2023-02-29T10:00:00Z""#
        );
        assert!(valid_format("uuid", "0b9f3b4e-53a1-4c5e-9b7a-0e0c4d8b9f10"));
        assert!(!valid_format("uuid", "0b9f3b4e"));
        assert!(valid_format("duration", "1h30m") && valid_format("duration", "3 days"));
        assert!(!valid_format("duration", "soon"));
        assert!(valid_format("cidr", "10.0.0.0/8") && !valid_format("cidr", "10.0.0.0/33"));
        assert!(valid_format("byte", "aGVsbG8=") && !valid_format("byte", "!!"));
        // int32 and int64 are not formats the server checks.
        let schema = json!({"type": "object", "properties": {"n": {"type": "integer", "format": "int32"}}});
        assert!(validate(&schema, &json!({"n": 9_000_000_000_i64}), None).is_empty());
    }

    #[test]
    fn nulls_are_dropped_defaulted_or_kept_as_the_schema_says() {
        let (obj, _) =
            admits(json!({"email": "a@b.c", "maxSessionDuration": null, "deletionPolicy": null, "note": null}));
        assert_eq!(
            obj["spec"],
            json!({"email": "a@b.c", "deletionPolicy": "Retain", "note": null})
        );
        // A required field that is null is not missing: it has the wrong type.
        let found = rejects(json!({"email": null}));
        assert_eq!(found, vec!["spec.email: Required value", BLOCKED]);
        let schema = json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {"a": {"type": "string", "default": "x"}}}}});
        let mut obj = json!({"spec": {"a": null}});
        normalize(&schema, &mut obj);
        assert_eq!(obj, json!({"spec": {"a": "x"}}));
        let schema =
            json!({"type": "object", "properties": {"a": {"type": "string", "enum": ["x"], "nullable": true}}});
        let found: Vec<String> = validate(&schema, &json!({"a": null}), None)
            .iter()
            .map(FieldError::message)
            .collect();
        assert_eq!(found[0], r#"a: Unsupported value: "null": supported values: "x""#);
    }

    #[test]
    fn defaults_fill_absent_fields_at_every_level() {
        let (obj, _) =
            admits(json!({"email": "a@b.c", "statements": [{"sid": "one"}, {"sid": "two", "effect": "Deny"}]}));
        assert_eq!(obj["spec"]["deletionPolicy"], "Retain");
        assert_eq!(
            obj["spec"]["statements"],
            json!([{"sid": "one", "effect": "Allow"}, {"sid": "two", "effect": "Deny"}])
        );
        // Defaults are defaulted inside, and map values and list items default their nulls.
        let schema = json!({"type": "object", "properties": {
            "outer": {"type": "object", "default": {}, "properties": {"inner": {"type": "integer", "default": 3}}},
            "map": {"type": "object", "additionalProperties": {"type": "string", "default": "d"}},
            "list": {"type": "array", "items": {"type": "string", "default": "i"}}
        }});
        let mut obj = json!({"map": {"k": null}, "list": [null, "x"]});
        normalize(&schema, &mut obj);
        assert_eq!(
            obj,
            json!({"outer": {"inner": 3}, "map": {"k": "d"}, "list": ["i", "x"]})
        );
    }

    #[test]
    fn unknown_fields_are_pruned_and_reported() {
        let mut obj = json!({
            "apiVersion": "awsaccess.dev/v1alpha1", "kind": "AwsAccount",
            "metadata": {"name": "a", "labels": {"x": "y"}, "colour": "red", "ownerReferences": [{"name": "o", "size": 1}]},
            "spec": {"email": "a@b.c", "foo": 1, "statements": [{"sid": "s", "bar": {}}],
                     "extra": {"anything": {"goes": 1}, "known": {"a": "1", "b": "2"}},
                     "template": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "t", "bogus": 1}, "data": {}, "spec": {"x": "1", "y": "2"}}},
            "zzz": true
        });
        let admitted = admit(&account_schema(), &mut obj, None).unwrap();
        assert_eq!(
            admitted.unknown_fields,
            vec![
                "metadata.colour",
                "metadata.ownerReferences[0].size",
                "spec.extra.known.b",
                "spec.foo",
                "spec.statements[0].bar",
                "spec.template.data",
                "spec.template.spec.y",
                "zzz",
                "spec.template.metadata.bogus",
            ]
        );
        assert_eq!(
            obj["metadata"],
            json!({"name": "a", "labels": {"x": "y"}, "ownerReferences": [{"name": "o"}]})
        );
        assert_eq!(
            obj["spec"]["extra"],
            json!({"anything": {"goes": 1}, "known": {"a": "1"}})
        );
        assert_eq!(
            obj["spec"]["template"],
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "t"}, "spec": {"x": "1"}})
        );
        assert_eq!(obj["spec"]["statements"], json!([{"sid": "s", "effect": "Allow"}]));
        assert!(obj.get("zzz").is_none());
    }

    #[test]
    fn without_a_schema_only_type_and_object_meta_survive() {
        let mut obj = json!({"apiVersion": "v1", "kind": "K", "metadata": {"name": "n"}, "spec": {"a": 1}});
        assert_eq!(normalize(&Value::Null, &mut obj), vec!["spec"]);
        assert_eq!(obj, json!({"apiVersion": "v1", "kind": "K", "metadata": {"name": "n"}}));
    }

    #[test]
    fn set_and_map_lists_refuse_duplicates() {
        let found = rejects(
            json!({"email": "a@b.c", "allowedNamespaces": ["a", "a"], "statements": [{"sid": "x"}, {"sid": "x", "effect": "Deny"}, {}, {}]}),
        );
        assert_eq!(
            found,
            vec![
                r#"spec.allowedNamespaces[1]: Duplicate value: "a""#,
                r#"spec.statements[1]: Duplicate value: map[string]interface {}{"sid":"x"}"#,
                "spec.statements[3]: Duplicate value: map[string]interface {}{}",
            ]
        );
        let errors = admit(
            &account_schema(),
            &mut account(json!({"email": "a@b.c", "allowedNamespaces": ["a", "a"]})),
            None,
        )
        .unwrap_err();
        assert_eq!(errors[0].cause_reason(), "FieldValueDuplicate");
    }

    #[test]
    fn embedded_resources_need_type_meta() {
        let found = rejects(json!({"email": "a@b.c", "template": {"metadata": {}}}));
        assert_eq!(
            found,
            vec![
                "spec.template.apiVersion: Required value: must not be empty",
                "spec.template.kind: Required value: must not be empty",
                BLOCKED,
            ]
        );
        let found = rejects(json!({"email": "a@b.c", "template": {"apiVersion": "a/b/c", "kind": "Config_Map"}}));
        assert_eq!(
            found,
            vec![
                r#"spec.template.apiVersion: Invalid value: "a/b/c": unexpected GroupVersion string: a/b/c"#,
                r#"spec.template.kind: Invalid value: "Config_Map": may have mixed case, but should otherwise match: a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"#,
            ]
        );
    }

    #[test]
    fn errors_are_collected_across_the_object_in_a_stable_order() {
        let mut obj = account(json!({"maxSessionDuration": 1, "deletionPolicy": "Gone", "tags": {"b": 1, "a": 2}}));
        obj["status"] = json!({"accountId": 5});
        let found = messages(admit(&account_schema(), &mut obj, None));
        assert_eq!(
            found,
            vec![
                r#"spec.deletionPolicy: Unsupported value: "Gone": supported values: "Retain", "Close""#,
                "spec.maxSessionDuration: Invalid value: 1: spec.maxSessionDuration in body should be greater than or equal to 3600",
                r#"spec.tags.a: Invalid value: "integer": spec.tags.a in body must be of type string: "integer""#,
                r#"spec.tags.b: Invalid value: "integer": spec.tags.b in body must be of type string: "integer""#,
                "spec.email: Required value",
                r#"status.accountId: Invalid value: "integer": status.accountId in body must be of type string: "integer""#,
                BLOCKED,
            ]
        );
    }

    #[test]
    fn updates_ratchet_errors_in_unchanged_values() {
        let schema = account_schema();
        // Stored before the schema tightened.
        let old = account(
            json!({"email": "a@b.c", "maxSessionDuration": 60, "deletionPolicy": "Retain", "allowedNamespaces": ["x", "x"]}),
        );
        let mut same = old.clone();
        same["metadata"]["labels"] = json!({"touched": "yes"});
        assert!(admit(&schema, &mut same, Some(&old)).is_ok());
        let mut changed = old.clone();
        changed["spec"]["maxSessionDuration"] = json!(61);
        let found = messages(admit(&schema, &mut changed, Some(&old)));
        assert_eq!(
            found,
            vec![
                "spec.maxSessionDuration: Invalid value: 61: spec.maxSessionDuration in body should be greater than or equal to 3600"
            ]
        );
        // The same value on create is refused.
        assert!(admit(&schema, &mut old.clone(), None).is_err());
    }

    #[test]
    fn combinators() {
        let schema = json!({"type": "object", "properties": {"spec": {"type": "object",
            "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
            "oneOf": [{"required": ["a"]}, {"required": ["b"]}],
            "not": {"required": ["c"]}}}});
        assert!(validate(&schema, &json!({"spec": {"a": "1"}}), None).is_empty());
        let found: Vec<String> = validate(&schema, &json!({"spec": {"a": "1", "b": "2"}}), None)
            .iter()
            .map(FieldError::message)
            .collect();
        assert_eq!(
            found,
            vec![
                r#"<nil>: Invalid value: "": "spec" must validate one and only one schema (oneOf). Found 2 valid alternatives"#
            ]
        );
        let found: Vec<String> = validate(&schema, &json!({"spec": {}}), None)
            .iter()
            .map(FieldError::message)
            .collect();
        assert_eq!(
            found,
            vec![
                r#"<nil>: Invalid value: "": "spec" must validate one and only one schema (oneOf). Found none valid"#,
                "spec.a: Required value",
                BLOCKED,
            ]
        );
        let any = json!({"type": "object", "properties": {"n": {"type": "integer", "anyOf": [{"minimum": 10}, {"maximum": 1}]}}});
        let found: Vec<String> = validate(&any, &json!({"n": 5}), None)
            .iter()
            .map(FieldError::message)
            .collect();
        assert_eq!(
            found,
            vec![
                r#"<nil>: Invalid value: "": "n" must validate at least one schema (anyOf)"#,
                "n: Invalid value: 5: n in body should be greater than or equal to 10",
            ]
        );
    }
}
