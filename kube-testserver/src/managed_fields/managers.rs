//! The managers of an object's fields and their encoding in `metadata.managedFields`, decoded,
//! encoded and sorted as apimachinery's managedfields package does.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::field_set::{FieldSet, PathElement};
use crate::go_format::{go_json_string, go_quote};

/// Fields that identify the object rather than configure it; no manager owns them.
const IDENTITY_FIELDS: [&str; 9] = [
    "name",
    "namespace",
    "creationTimestamp",
    "selfLink",
    "uid",
    "clusterName",
    "generation",
    "managedFields",
    "resourceVersion",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Operation {
    Apply,
    Update,
}

impl Operation {
    fn as_str(self) -> &'static str {
        match self {
            Operation::Apply => "Apply",
            Operation::Update => "Update",
        }
    }
}

/// What identifies a `managedFields` entry.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct ManagerId {
    pub(super) manager: String,
    pub(super) operation: Operation,
    /// Part of an updater's identity only: an applier stays one manager across versions.
    pub(super) api_version: Option<String>,
    pub(super) subresource: Option<String>,
}

impl ManagerId {
    /// apimachinery's `BuildManagerIdentifier` JSON, whose order sorts conflict messages.
    pub(super) fn identifier(&self) -> String {
        let mut fields = vec![
            format!("\"manager\":{}", go_json_string(&self.manager)),
            format!("\"operation\":\"{}\"", self.operation.as_str()),
        ];
        if let Some(api_version) = &self.api_version {
            fields.push(format!("\"apiVersion\":{}", go_json_string(api_version)));
        }
        if let Some(subresource) = &self.subresource {
            fields.push(format!("\"subresource\":{}", go_json_string(subresource)));
        }
        format!("{{{}}}", fields.join(","))
    }

    /// How conflict messages name the manager (apimachinery's `printManager`).
    pub(super) fn describe(&self) -> String {
        let mut text = go_quote(&self.manager);
        if let Some(subresource) = &self.subresource {
            text = format!("{text} with subresource {}", go_quote(subresource));
        }
        match &self.api_version {
            Some(api_version) => format!("{text} using {api_version}"),
            None => text,
        }
    }
}

#[derive(Clone, Debug)]
pub(super) struct ManagedEntry {
    pub(super) set: FieldSet,
    pub(super) api_version: String,
    pub(super) time: Option<String>,
}

pub(super) type Managers = BTreeMap<ManagerId, ManagedEntry>;

/// The managers an update request sends in its own `metadata.managedFields`, when the server
/// takes them: `[]` or `[{}]` resets ownership, and undecodable or empty ones are ignored.
pub(super) fn managers_sent_in(object: &Value) -> Option<Managers> {
    let sent = object.get("metadata")?.get("managedFields")?;
    let reset = match sent.as_array() {
        Some(entries) => match entries.as_slice() {
            [] => true,
            [only] => only.as_object().is_some_and(Map::is_empty),
            _ => false,
        },
        None => false,
    };
    if reset {
        return Some(Managers::new());
    }
    decode_managers(object).ok().filter(|managers| !managers.is_empty())
}

pub(super) fn decode_managers(object: &Value) -> Result<Managers, String> {
    let mut managers = Managers::new();
    let entries = match object
        .get("metadata")
        .and_then(|metadata| metadata.get("managedFields"))
    {
        None | Some(Value::Null) => return Ok(managers),
        Some(Value::Array(entries)) => entries,
        Some(_) => return Err("managedFields must be a list".to_owned()),
    };
    for (index, entry) in entries.iter().enumerate() {
        let text = |key: &str| entry.get(key).and_then(Value::as_str).filter(|text| !text.is_empty());
        let operation = match text("operation") {
            Some("Apply") => Operation::Apply,
            Some("Update") => Operation::Update,
            _ => return Err("operation must be `Apply` or `Update`".to_owned()),
        };
        let api_version = text("apiVersion").ok_or("apiVersion must not be empty")?;
        match text("fieldsType") {
            Some("FieldsV1") => {}
            None => {
                return Err(format!("missing fieldsType in managed fields entry {index}"));
            }
            Some(other) => {
                return Err(format!(
                    "invalid fieldsType {} in managed fields entry {index}",
                    go_quote(other)
                ));
            }
        }
        let set = match entry.get("fieldsV1") {
            None | Some(Value::Null) => FieldSet::default(),
            Some(fields) => FieldSet::from_fields_v1(fields)?,
        };
        let id = ManagerId {
            manager: text("manager").unwrap_or_default().to_owned(),
            operation,
            api_version: (operation == Operation::Update).then(|| api_version.to_owned()),
            subresource: text("subresource").map(str::to_owned),
        };
        let time = text("time").map(str::to_owned);
        managers.insert(
            id,
            ManagedEntry {
                set,
                api_version: api_version.to_owned(),
                time,
            },
        );
    }
    Ok(managers)
}

pub(super) fn remove_managed_fields(object: &mut Value) {
    if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        metadata.remove("managedFields");
    }
}

/// Writes `metadata.managedFields` in the apiserver's order: appliers first, then by time,
/// manager, apiVersion and subresource.
pub(super) fn encode_managers(managers: &Managers, object: &mut Value) {
    if managers.is_empty() {
        remove_managed_fields(object);
        return;
    }
    let Some(fields) = object.as_object_mut() else {
        return;
    };
    let metadata = fields.entry("metadata").or_insert_with(|| json!({}));
    let Some(metadata) = metadata.as_object_mut() else {
        return;
    };
    let mut ordered: Vec<(&ManagerId, &ManagedEntry)> = managers.iter().collect();
    ordered.sort_by(|(left_id, left), (right_id, right)| {
        left_id
            .operation
            .cmp(&right_id.operation)
            .then_with(|| unix_seconds(&left.time).cmp(&unix_seconds(&right.time)))
            .then_with(|| left_id.manager.cmp(&right_id.manager))
            .then_with(|| left.api_version.cmp(&right.api_version))
            .then_with(|| left_id.subresource.cmp(&right_id.subresource))
    });
    let entries = ordered
        .into_iter()
        .map(|(id, entry)| {
            let mut encoded = Map::new();
            encoded.insert("manager".to_owned(), json!(id.manager));
            encoded.insert("operation".to_owned(), json!(id.operation.as_str()));
            encoded.insert("apiVersion".to_owned(), json!(entry.api_version));
            if let Some(time) = &entry.time {
                encoded.insert("time".to_owned(), json!(time));
            }
            encoded.insert("fieldsType".to_owned(), json!("FieldsV1"));
            encoded.insert("fieldsV1".to_owned(), entry.set.to_fields_v1());
            if let Some(subresource) = &id.subresource {
                encoded.insert("subresource".to_owned(), json!(subresource));
            }
            Value::Object(encoded)
        })
        .collect();
    metadata.insert("managedFields".to_owned(), Value::Array(entries));
}

/// Entries without a time sort as the epoch, as in the apiserver.
fn unix_seconds(time: &Option<String>) -> i64 {
    time.as_deref()
        .and_then(|time| chrono::DateTime::parse_from_rfc3339(time).ok())
        .map_or(0, |time| time.timestamp())
}

/// A manager's set without the fields nobody owns (apimachinery's strip-meta manager).
pub(super) fn strip_identity_fields(set: &FieldSet) -> FieldSet {
    let mut identity = FieldSet::default();
    for top_level in ["apiVersion", "kind", "metadata"] {
        identity.members.insert(PathElement::Field(top_level.to_owned()));
    }
    for field in IDENTITY_FIELDS {
        identity.insert(&[
            PathElement::Field("metadata".to_owned()),
            PathElement::Field(field.to_owned()),
        ]);
    }
    set.difference(&identity)
}
