//! The columns and cells of the built-in kinds, as kube-apiserver's printers make them.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use crate::registry::Builtin;

use super::{CREATION_DOC, age_column, column, entry_count, name_column, parse_time, since, str_at};

pub(super) fn builtin_columns(builtin: Builtin) -> Vec<Value> {
    match builtin {
        Builtin::Namespace => vec![
            name_column(0),
            column("Status", "string", "", "The status of the namespace", 0),
            age_column(),
        ],
        Builtin::Secret => vec![
            name_column(0),
            column(
                "Type",
                "string",
                "",
                "Used to facilitate programmatic handling of secret data. More info: https://kubernetes.io/docs/concepts/configuration/secret/#secret-types",
                0,
            ),
            column(
                "Data",
                "string",
                "",
                "Data contains the secret data. Each key must consist of alphanumeric characters, '-', '_' or '.'. The serialized form of the secret data is a base64 encoded string, representing the arbitrary (possibly non-string) data value here. Described in https://tools.ietf.org/html/rfc4648#section-4",
                0,
            ),
            age_column(),
        ],
        Builtin::ConfigMap => vec![
            name_column(0),
            column(
                "Data",
                "string",
                "",
                "Data contains the configuration data. Each key must consist of alphanumeric characters, '-', '_' or '.'. Values with non-UTF-8 byte sequences must use the BinaryData field. The keys stored in Data must not overlap with the keys in the BinaryData field, this is enforced during validation process.",
                0,
            ),
            age_column(),
        ],
        Builtin::Lease => vec![
            name_column(0),
            column(
                "Holder",
                "string",
                "",
                "holderIdentity contains the identity of the holder of a current lease. If Coordinated Leader Election is used, the holder identity must be equal to the elected LeaseCandidate.metadata.name field.",
                0,
            ),
            age_column(),
        ],
        Builtin::CoreEvent | Builtin::Event => vec![
            column(
                "Last Seen",
                "string",
                "",
                "The time at which the most recent occurrence of this event was recorded.",
                0,
            ),
            column(
                "Type",
                "string",
                "",
                "Type of this event (Normal, Warning), new types could be added in the future",
                0,
            ),
            column(
                "Reason",
                "string",
                "",
                "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.",
                0,
            ),
            column("Object", "string", "", "The object that this event is about.", 0),
            column(
                "Subobject",
                "string",
                "",
                "If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement, such as desiredState.manifest.containers[2]. For example, if the object reference is to a container within a pod, this would take on a value like: \"spec.containers{name}\" (where \"name\" refers to the name of the container that triggered the event) or if no container name is specified \"spec.containers[2]\" (container with index 2 in this pod). This syntax is chosen only to have some well-defined way of referencing a part of an object.",
                1,
            ),
            column(
                "Source",
                "string",
                "",
                "The component reporting this event. Should be a short machine understandable string.",
                1,
            ),
            column(
                "Message",
                "string",
                "",
                "A human-readable description of the status of this operation.",
                0,
            ),
            column(
                "First Seen",
                "string",
                "",
                "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)",
                1,
            ),
            column("Count", "string", "", "The number of times this event has occurred.", 1),
            name_column(1),
        ],
        Builtin::CustomResourceDefinition => vec![name_column(0), column("Created At", "date", "", CREATION_DOC, 0)],
        Builtin::ValidatingWebhookConfiguration | Builtin::MutatingWebhookConfiguration => vec![
            name_column(0),
            column(
                "Webhooks",
                "integer",
                "",
                "Webhooks indicates the number of webhooks in the configuration",
                0,
            ),
            age_column(),
        ],
        other => super::cluster::cluster_columns(other),
    }
}

pub(super) fn builtin_cells(builtin: Builtin, name: Value, object: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let age = || json!(since(&object["metadata"]["creationTimestamp"], now));
    // Secret type and namespace phase are defaulted when the real server decodes an object,
    // so a stored object without them still prints the defaults.
    let or_default = |pointer: &str, default: &str| {
        let stored = str_at(object, pointer);
        json!(if stored.is_empty() { default } else { stored })
    };
    match builtin {
        Builtin::Namespace => vec![name, or_default("/status/phase", "Active"), age()],
        Builtin::Secret => vec![
            name,
            or_default("/type", "Opaque"),
            json!(entry_count(object, "/data")),
            age(),
        ],
        Builtin::ConfigMap => vec![
            name,
            json!(entry_count(object, "/data") + entry_count(object, "/binaryData")),
            age(),
        ],
        Builtin::Lease => vec![name, json!(str_at(object, "/spec/holderIdentity")), age()],
        Builtin::CoreEvent => event_cells(&CORE_EVENT_FIELDS, name, object, now),
        Builtin::Event => event_cells(&EVENTS_V1_EVENT_FIELDS, name, object, now),
        Builtin::CustomResourceDefinition => {
            // The default convertor prints the creation time itself; Go's zero time when unset.
            let created = parse_time(&object["metadata"]["creationTimestamp"]).map_or_else(
                || "0001-01-01T00:00:00Z".to_owned(),
                |time| time.to_rfc3339_opts(SecondsFormat::Secs, true),
            );
            vec![name, json!(created)]
        }
        Builtin::ValidatingWebhookConfiguration | Builtin::MutatingWebhookConfiguration => {
            let webhooks = object["webhooks"].as_array().map_or(0, Vec::len);
            vec![name, json!(webhooks), age()]
        }
        other => super::cluster::cluster_cells(other, name, object, now),
    }
}

/// Where core/v1 and events.k8s.io/v1 keep what the event printer reads: the server converts
/// both to one internal type before printing.
struct EventFields {
    first_timestamp: &'static str,
    last_timestamp: &'static str,
    count: &'static str,
    regarding: &'static str,
    message: &'static str,
    source: &'static str,
    reporting_controller: &'static str,
}

const CORE_EVENT_FIELDS: EventFields = EventFields {
    first_timestamp: "firstTimestamp",
    last_timestamp: "lastTimestamp",
    count: "count",
    regarding: "involvedObject",
    message: "message",
    source: "source",
    reporting_controller: "reportingComponent",
};

const EVENTS_V1_EVENT_FIELDS: EventFields = EventFields {
    first_timestamp: "deprecatedFirstTimestamp",
    last_timestamp: "deprecatedLastTimestamp",
    count: "deprecatedCount",
    regarding: "regarding",
    message: "note",
    source: "deprecatedSource",
    reporting_controller: "reportingController",
};

fn first_non_empty<'a>(first: &'a str, second: &'a str) -> &'a str {
    if first.is_empty() { second } else { first }
}

/// kube-apiserver's `printEvent` in its wide form.
fn event_cells(fields: &EventFields, name: Value, event: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let first_seen = if parse_time(&event[fields.first_timestamp]).is_some() {
        since(&event[fields.first_timestamp], now)
    } else {
        since(&event["eventTime"], now)
    };
    let mut last_seen = if parse_time(&event[fields.last_timestamp]).is_some() {
        since(&event[fields.last_timestamp], now)
    } else {
        first_seen.clone()
    };
    let mut count = event[fields.count].as_i64().unwrap_or(0);
    if event["series"].is_object() {
        last_seen = since(&event["series"]["lastObservedTime"], now);
        count = event["series"]["count"].as_i64().unwrap_or(0);
    } else if count == 0 {
        // Singleton events of the new API carry no count.
        count = 1;
    }

    let regarding = &event[fields.regarding];
    let kind = regarding["kind"].as_str().unwrap_or_default().to_lowercase();
    let target = match regarding["name"].as_str() {
        Some(object_name) if !object_name.is_empty() => format!("{kind}/{object_name}"),
        _ => kind,
    };
    let source = &event[fields.source];
    let component = first_non_empty(
        source["component"].as_str().unwrap_or_default(),
        event[fields.reporting_controller].as_str().unwrap_or_default(),
    );
    let instance = first_non_empty(
        source["host"].as_str().unwrap_or_default(),
        event["reportingInstance"].as_str().unwrap_or_default(),
    );
    let source_text = if instance.is_empty() {
        component.to_owned()
    } else {
        format!("{component}, {instance}")
    };

    vec![
        json!(last_seen),
        json!(event["type"].as_str().unwrap_or_default()),
        json!(event["reason"].as_str().unwrap_or_default()),
        json!(target),
        json!(regarding["fieldPath"].as_str().unwrap_or_default()),
        json!(source_text),
        json!(event[fields.message].as_str().unwrap_or_default().trim()),
        json!(first_seen),
        json!(count),
        name,
    ]
}
