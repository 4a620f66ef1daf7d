//! Events: core/v1 and events.k8s.io/v1 serve one resource (kube-apiserver's
//! `pkg/registry/core/event`), each through its own version of the type. An Event is stored as
//! the API it was written through shaped it and converted when read through the other, field by
//! field as `pkg/apis/events/v1/conversion.go` converts them: `involvedObject` is `regarding`,
//! `message` is `note`, `source` is `deprecatedSource`, `firstTimestamp`, `lastTimestamp` and
//! `count` are the `deprecated…` ones, `reportingComponent` is `reportingController`; the
//! other fields have the same names in both.

use serde_json::{Map, Value, json};

pub const CORE_API_VERSION: &str = "v1";
pub const EVENTS_API_VERSION: &str = "events.k8s.io/v1";

/// The fields of a core/v1 Event that have another name in events.k8s.io/v1.
const RENAMED: [(&str, &str); 7] = [
    ("involvedObject", "regarding"),
    ("message", "note"),
    ("source", "deprecatedSource"),
    ("firstTimestamp", "deprecatedFirstTimestamp"),
    ("lastTimestamp", "deprecatedLastTimestamp"),
    ("count", "deprecatedCount"),
    ("reportingComponent", "reportingController"),
];

/// The fields both versions name alike.
const SHARED: [&str; 7] = [
    "eventTime",
    "series",
    "related",
    "action",
    "reason",
    "type",
    "reportingInstance",
];

/// The field selectors core/v1 Events support besides `metadata.name` and `metadata.namespace`
/// (`ToSelectableFields` of the event strategy).
pub const CORE_FIELD_LABELS: [&str; 11] = [
    "involvedObject.kind",
    "involvedObject.namespace",
    "involvedObject.name",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "involvedObject.resourceVersion",
    "involvedObject.fieldPath",
    "reason",
    "reportingComponent",
    "source",
    "type",
];

/// The field selectors of events.k8s.io/v1 and the core/v1 field each stands for
/// (`AddFieldLabelConversionsForEvent`).
pub const EVENTS_FIELD_LABELS: [(&str, &str); 11] = [
    ("regarding.kind", "involvedObject.kind"),
    ("regarding.namespace", "involvedObject.namespace"),
    ("regarding.name", "involvedObject.name"),
    ("regarding.uid", "involvedObject.uid"),
    ("regarding.apiVersion", "involvedObject.apiVersion"),
    ("regarding.resourceVersion", "involvedObject.resourceVersion"),
    ("regarding.fieldPath", "involvedObject.fieldPath"),
    ("reason", "reason"),
    ("reportingController", "reportingComponent"),
    ("source", "source"),
    ("type", "type"),
];

/// Whether `object` is an Event of either API.
pub fn is_event(object: &Value) -> bool {
    object["kind"] == "Event"
        && matches!(
            object["apiVersion"].as_str(),
            Some(CORE_API_VERSION | EVENTS_API_VERSION)
        )
}

/// The Event in the shape of `api_version` (core `v1` or `events.k8s.io/v1`); an object
/// already in that shape comes back as it is.
pub fn in_version(event: &Value, api_version: &str) -> Value {
    let from = event["apiVersion"].as_str().unwrap_or_default();
    match (from, api_version) {
        (EVENTS_API_VERSION, CORE_API_VERSION) => to_core(event),
        (CORE_API_VERSION, EVENTS_API_VERSION) => to_events(event),
        _ => event.clone(),
    }
}

fn to_core(event: &Value) -> Value {
    let mut core = head(event, CORE_API_VERSION);
    for field in SHARED {
        copy(event, field, &mut core, field);
    }
    for (core_name, events_name) in RENAMED {
        copy(event, events_name, &mut core, core_name);
    }
    // What Go's encoder writes for the zero values of fields without `omitempty`, or of
    // structs, where `omitempty` does not apply.
    for (field, zero) in [
        ("involvedObject", json!({})),
        ("source", json!({})),
        ("firstTimestamp", Value::Null),
        ("lastTimestamp", Value::Null),
        ("eventTime", Value::Null),
        ("reportingComponent", json!("")),
        ("reportingInstance", json!("")),
    ] {
        core.entry(field).or_insert(zero);
    }
    Value::Object(core)
}

fn to_events(event: &Value) -> Value {
    let mut events = head(event, EVENTS_API_VERSION);
    for field in SHARED {
        copy(event, field, &mut events, field);
    }
    for (core_name, events_name) in RENAMED {
        copy(event, core_name, &mut events, events_name);
    }
    // `omitempty` in events.k8s.io/v1, not in core/v1.
    for field in ["reportingController", "reportingInstance"] {
        if events.get(field).is_some_and(|v| v == "") {
            events.remove(field);
        }
    }
    for (field, zero) in [
        ("regarding", json!({})),
        ("deprecatedSource", json!({})),
        ("deprecatedFirstTimestamp", Value::Null),
        ("deprecatedLastTimestamp", Value::Null),
        ("eventTime", Value::Null),
    ] {
        events.entry(field).or_insert(zero);
    }
    Value::Object(events)
}

fn head(event: &Value, api_version: &str) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("apiVersion".into(), json!(api_version));
    out.insert("kind".into(), json!("Event"));
    if let Some(metadata) = event.get("metadata") {
        out.insert("metadata".into(), metadata.clone());
    }
    out
}

fn copy(from: &Value, from_field: &str, to: &mut Map<String, Value>, to_field: &str) {
    if let Some(value) = from.get(from_field) {
        to.insert(to_field.into(), value.clone());
    }
}

/// The Event as field selectors see it, whichever API wrote it: the core/v1 fields, with
/// `source` the reporting component (`source.component`, else `reportingComponent`).
pub fn selectable(event: &Value) -> Value {
    let mut core = in_version(event, CORE_API_VERSION);
    let component = match core.pointer("/source/component").and_then(Value::as_str) {
        Some(component) if !component.is_empty() => component.to_owned(),
        _ => core["reportingComponent"].as_str().unwrap_or_default().to_owned(),
    };
    core["source"] = json!(component);
    core
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recorded() -> Value {
        json!({
            "apiVersion": "events.k8s.io/v1", "kind": "Event",
            "metadata": {"name": "w.1", "namespace": "default"},
            "eventTime": "2026-01-01T00:00:00.000000Z",
            "regarding": {"apiVersion": "example.com/v1", "kind": "Widget", "name": "w", "namespace": "default", "uid": "u1"},
            "related": {"kind": "Secret", "name": "s"},
            "note": "made it", "reason": "Created", "type": "Normal", "action": "Create",
            "reportingController": "widget-controller", "reportingInstance": "widget-controller-0",
            "series": {"count": 2, "lastObservedTime": "2026-01-01T00:01:00.000000Z"},
        })
    }

    #[test]
    fn events_v1_reads_as_core_v1_and_back() {
        let core = in_version(&recorded(), CORE_API_VERSION);
        assert_eq!(
            core,
            json!({
                "apiVersion": "v1", "kind": "Event",
                "metadata": {"name": "w.1", "namespace": "default"},
                "eventTime": "2026-01-01T00:00:00.000000Z",
                "involvedObject": {"apiVersion": "example.com/v1", "kind": "Widget", "name": "w", "namespace": "default", "uid": "u1"},
                "related": {"kind": "Secret", "name": "s"},
                "message": "made it", "reason": "Created", "type": "Normal", "action": "Create",
                "reportingComponent": "widget-controller", "reportingInstance": "widget-controller-0",
                "series": {"count": 2, "lastObservedTime": "2026-01-01T00:01:00.000000Z"},
                "source": {}, "firstTimestamp": null, "lastTimestamp": null,
            })
        );
        let mut back = in_version(&core, EVENTS_API_VERSION);
        assert_eq!(back["deprecatedSource"], json!({}));
        assert_eq!(back["deprecatedFirstTimestamp"], Value::Null);
        let map = back.as_object_mut().unwrap();
        for zero in [
            "deprecatedSource",
            "deprecatedFirstTimestamp",
            "deprecatedLastTimestamp",
        ] {
            map.remove(zero);
        }
        assert_eq!(back, recorded());
    }

    #[test]
    fn core_v1_reads_as_events_v1() {
        let core = json!({
            "apiVersion": "v1", "kind": "Event", "metadata": {"name": "e", "namespace": "ns"},
            "involvedObject": {"kind": "ConfigMap", "name": "c"}, "message": "hello", "reason": "Made",
            "source": {"component": "kubectl", "host": "h"}, "count": 3, "type": "Warning",
            "firstTimestamp": "2026-01-01T00:00:00Z", "lastTimestamp": "2026-01-01T00:05:00Z",
            "reportingComponent": "", "reportingInstance": "",
        });
        let events = in_version(&core, EVENTS_API_VERSION);
        assert_eq!(
            events,
            json!({
                "apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "e", "namespace": "ns"},
                "regarding": {"kind": "ConfigMap", "name": "c"}, "note": "hello", "reason": "Made",
                "deprecatedSource": {"component": "kubectl", "host": "h"}, "deprecatedCount": 3, "type": "Warning",
                "deprecatedFirstTimestamp": "2026-01-01T00:00:00Z", "deprecatedLastTimestamp": "2026-01-01T00:05:00Z",
                "eventTime": null,
            })
        );
    }

    #[test]
    fn selectable_source_falls_back_to_the_reporting_controller() {
        let view = selectable(&recorded());
        assert_eq!(view["source"], "widget-controller");
        assert_eq!(view["involvedObject"]["kind"], "Widget");
        let core = json!({"apiVersion": "v1", "kind": "Event", "source": {"component": "kubelet"}});
        assert_eq!(selectable(&core)["source"], "kubelet");
    }
}
