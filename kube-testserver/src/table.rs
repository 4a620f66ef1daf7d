//! The `Table` (meta.k8s.io/v1) answered to `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`,
//! which is what `kubectl get` asks for. Built as the real server does: custom resources through
//! apiextensions-apiserver's `tableconvertor`, built-ins through kube-apiserver's printers
//! (always generated "wide": kubectl drops priority > 0 columns itself unless `-o wide`), and
//! CustomResourceDefinitions through the generic default convertor.

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use serde_json::{Value, json};
use serde_json_path::JsonPath;

use crate::go_format::go_float;
use crate::registry::{Builtin, ResourceDef};

const NAME_DOC: &str = "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
const CREATION_DOC: &str = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

/// `objects`: full objects; `list_rv`: the list's resourceVersion; `include_object`: "None" | "Metadata" (default) | "Object" (the `includeObject` query param).
pub fn table(def: &ResourceDef, objects: &[Value], list_rv: &str, include_object: &str, now: DateTime<Utc>) -> Value {
    let printer = Printer::for_def(def);
    let rows: Vec<Value> = objects
        .iter()
        .map(|object| json!({ "cells": printer.cells(object, now), "object": row_object(object, include_object) }))
        .collect();
    let metadata = if list_rv.is_empty() {
        json!({})
    } else {
        json!({ "resourceVersion": list_rv })
    };
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata,
        "columnDefinitions": printer.columns(),
        "rows": rows,
    })
}

/// What a row carries besides its cells, per `includeObject`; anything but `None` and `Object`
/// gets the default, metadata only.
fn row_object(object: &Value, include_object: &str) -> Value {
    match include_object {
        "None" => Value::Null,
        "Object" => object.clone(),
        _ => json!({
            "kind": "PartialObjectMetadata",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": object.get("metadata").cloned().unwrap_or_else(|| json!({})),
        }),
    }
}

fn column(name: &str, column_type: &str, format: &str, description: &str, priority: i64) -> Value {
    json!({ "name": name, "type": column_type, "format": format, "description": description, "priority": priority })
}

fn name_column(priority: i64) -> Value {
    column("Name", "string", "name", NAME_DOC, priority)
}

fn age_column() -> Value {
    column("Age", "string", "", CREATION_DOC, 0)
}

/// One of a CRD's `additionalPrinterColumns`, with its path already compiled.
struct CustomColumn {
    definition: Value,
    column_type: String,
    path: JsonPath,
}

enum Printer {
    Builtin(Builtin),
    Custom(Vec<CustomColumn>),
}

impl Printer {
    fn for_def(def: &ResourceDef) -> Self {
        match def.builtin {
            Some(builtin) => Printer::Builtin(builtin),
            None => Printer::Custom(custom_columns(&def.printer_columns)),
        }
    }

    fn columns(&self) -> Vec<Value> {
        match self {
            Printer::Custom(columns) => std::iter::once(name_column(0))
                .chain(columns.iter().map(|c| c.definition.clone()))
                .collect(),
            Printer::Builtin(builtin) => builtin_columns(*builtin),
        }
    }

    fn cells(&self, object: &Value, now: DateTime<Utc>) -> Vec<Value> {
        let name = json!(str_at(object, "/metadata/name"));
        match self {
            Printer::Custom(columns) => std::iter::once(name)
                .chain(columns.iter().map(|c| custom_cell(c, object, now)))
                .collect(),
            Printer::Builtin(builtin) => builtin_cells(*builtin, name, object, now),
        }
    }
}

/// Compiles a CRD's printer columns as apiextensions-apiserver's `tableconvertor.New` does: a CRD
/// without columns shows its age, and columns stop at the first path that does not parse.
fn custom_columns(printer_columns: &[Value]) -> Vec<CustomColumn> {
    let default_age = [json!({
        "name": "Age",
        "type": "date",
        "description": CREATION_DOC,
        "jsonPath": ".metadata.creationTimestamp",
    })];
    let declared = if printer_columns.is_empty() {
        &default_age[..]
    } else {
        printer_columns
    };
    declared
        .iter()
        .map_while(|declared| {
            let json_path = declared["jsonPath"].as_str()?;
            let path = JsonPath::parse(&k8s_to_rfc9535(json_path)?).ok()?;
            let column_type = declared["type"].as_str().unwrap_or_default().to_owned();
            let description = match declared["description"].as_str() {
                Some(text) if !text.is_empty() => text.to_owned(),
                _ => format!("Custom resource definition column (in JSONPath format): {json_path}"),
            };
            let definition = column(
                declared["name"].as_str().unwrap_or_default(),
                &column_type,
                declared["format"].as_str().unwrap_or_default(),
                &description,
                declared["priority"].as_i64().unwrap_or(0),
            );
            Some(CustomColumn {
                definition,
                column_type,
                path,
            })
        })
        .collect()
}

/// The first value the column's path finds, rendered as the convertor renders it; no value is `null`
/// (kubectl prints `<none>`).
fn custom_cell(column: &CustomColumn, object: &Value, now: DateTime<Utc>) -> Value {
    let Some(found) = column.path.query(object).first() else {
        return Value::Null;
    };
    match column.column_type.as_str() {
        "string" => Value::String(jsonpath_text(found)),
        "integer" => found
            .as_i64()
            .or_else(|| found.as_f64().map(|f| f as i64))
            .map_or(Value::Null, Value::from),
        "number" => found.as_f64().map_or(Value::Null, Value::from),
        "boolean" => found.as_bool().map_or(Value::Null, Value::from),
        "date" => match found {
            Value::String(text) => Value::String(date_cell(text, now)),
            _ => Value::Null,
        },
        _ => Value::Null,
    }
}

/// client-go jsonpath's `PrintResults` for one value: maps and lists as compact JSON, scalars
/// through Go's `fmt.Fprint`, and a JSON null as text/template's `<no value>`.
fn jsonpath_text(value: &Value) -> String {
    match value {
        Value::Null => "<no value>".to_owned(),
        Value::String(text) => text.clone(),
        Value::Bool(flag) => flag.to_string(),
        Value::Number(number) => match number.as_f64() {
            Some(float) if !number.is_i64() && !number.is_u64() => go_float(float),
            _ => number.to_string(),
        },
        Value::Array(_) | Value::Object(_) => value.to_string(),
    }
}

/// A `date` column: the time since the timestamp, `<unknown>` for an empty one and
/// `<invalid>` for one that does not parse (metav1.Time's query-parameter parsing).
fn date_cell(text: &str, now: DateTime<Utc>) -> String {
    if text.is_empty() || text == "null" {
        return "<unknown>".to_owned();
    }
    match DateTime::parse_from_rfc3339(text) {
        Ok(time) => human_duration(now - time.with_timezone(&Utc)),
        Err(_) => "<invalid>".to_owned(),
    }
}

/// The printers' `translateTimestampSince`: a missing or unreadable timestamp is the zero time.
fn since(timestamp: &Value, now: DateTime<Utc>) -> String {
    match parse_time(timestamp) {
        Some(time) => human_duration(now - time),
        None => "<unknown>".to_owned(),
    }
}

fn parse_time(timestamp: &Value) -> Option<DateTime<Utc>> {
    let text = timestamp.as_str()?;
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|time| time.with_timezone(&Utc))
}

/// apimachinery's `duration.HumanDuration`: about two significant figures (`5s`, `3m20s`,
/// `2d3h`, `4y12d`).
fn human_duration(elapsed: TimeDelta) -> String {
    // Two seconds of clock skew read as "just now".
    let seconds = elapsed.num_seconds();
    if seconds < -1 {
        return "<invalid>".to_owned();
    }
    if seconds < 0 {
        return "0s".to_owned();
    }
    if seconds < 120 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        return with_remainder(minutes, "m", seconds % 60, "s");
    }
    if minutes < 3 * 60 {
        return format!("{minutes}m");
    }
    let hours = minutes / 60;
    if hours < 8 {
        return with_remainder(hours, "h", minutes % 60, "m");
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        return with_remainder(hours / 24, "d", hours % 24, "h");
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        return with_remainder(hours / 24 / 365, "y", (hours / 24) % 365, "d");
    }
    format!("{}y", hours / 24 / 365)
}

fn with_remainder(whole: i64, unit: &str, remainder: i64, remainder_unit: &str) -> String {
    if remainder == 0 {
        format!("{whole}{unit}")
    } else {
        format!("{whole}{unit}{remainder}{remainder_unit}")
    }
}

fn str_at<'a>(object: &'a Value, pointer: &str) -> &'a str {
    object.pointer(pointer).and_then(Value::as_str).unwrap_or_default()
}

fn entry_count(object: &Value, pointer: &str) -> i64 {
    object
        .pointer(pointer)
        .and_then(Value::as_object)
        .map_or(0, |map| map.len() as i64)
}

fn builtin_columns(builtin: Builtin) -> Vec<Value> {
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
        Builtin::ValidatingWebhookConfiguration => vec![
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
    }
}

fn builtin_cells(builtin: Builtin, name: Value, object: &Value, now: DateTime<Utc>) -> Vec<Value> {
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
        Builtin::ValidatingWebhookConfiguration => {
            let webhooks = object["webhooks"].as_array().map_or(0, Vec::len);
            vec![name, json!(webhooks), age()]
        }
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

/// Rewrites a printer column's path in client-go's JSONPath dialect as RFC 9535, the dialect
/// `serde_json_path` reads: `.status.conditions[?(@.type=="Ready")].status` becomes
/// `$['status']['conditions'][?(@['type']=="Ready")]['status']`. Every member name is put in
/// brackets because client-go accepts names (`app.kubernetes.io\/name`, `foo-bar`) that RFC
/// 9535's dot shorthand does not.
fn k8s_to_rfc9535(path: &str) -> Option<String> {
    let mut out = String::from("$");
    append_segments(path.trim(), &mut out)?;
    Some(out)
}

fn append_segments(path: &str, out: &mut String) -> Option<()> {
    let chars: Vec<char> = path.chars().collect();
    let mut at = 0;
    while at < chars.len() {
        match chars[at] {
            ' ' => at += 1,
            '.' if chars.get(at + 1) == Some(&'.') => {
                out.push_str("..");
                at += 2;
                if chars.get(at).is_some_and(|c| c.is_alphanumeric() || *c == '_') {
                    at = append_field(&chars, at, out);
                }
            }
            '.' => at = append_field(&chars, at + 1, out),
            '[' if chars.get(at + 1) == Some(&'?') => {
                let (filter, next) = filter_body(&chars, at)?;
                out.push_str(&format!("[?({})]", filter_to_rfc9535(&filter)?));
                at = next;
            }
            '[' => {
                let close = at + chars[at..].iter().position(|c| *c == ']')?;
                let inside: String = chars[at + 1..close].iter().collect();
                let selectors: Option<Vec<String>> =
                    inside.split(',').map(|part| bracket_selector(part.trim())).collect();
                out.push_str(&format!("[{}]", selectors?.join(",")));
                at = close + 1;
            }
            _ => return None,
        }
    }
    Some(())
}

/// A member name runs to the next `.`, `[`, `]`, `,`, space or brace; a backslash takes the
/// next character literally.
fn append_field(chars: &[char], start: usize, out: &mut String) -> usize {
    let mut name = String::new();
    let mut at = start;
    while let Some(&ch) = chars.get(at) {
        if ch == '\\' {
            if let Some(&escaped) = chars.get(at + 1) {
                name.push(escaped);
            }
            at += 2;
            continue;
        }
        if ch.is_whitespace() || matches!(ch, '.' | ',' | '[' | ']' | '$' | '@' | '{' | '}') {
            break;
        }
        name.push(ch);
        at += 1;
    }
    match name.as_str() {
        "" => {}
        "*" => out.push_str("[*]"),
        _ => out.push_str(&quoted_name(&name)),
    }
    at
}

fn quoted_name(name: &str) -> String {
    format!("[{}]", quoted_key(name))
}

fn quoted_key(name: &str) -> String {
    format!("'{}'", name.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// One selector inside brackets: `*`, a quoted key, or an index or slice.
fn bracket_selector(selector: &str) -> Option<String> {
    if selector == "*" {
        return Some("*".to_owned());
    }
    if let Some(key) = unquote(selector) {
        return Some(quoted_key(&key));
    }
    let is_index_or_slice =
        !selector.is_empty() && selector.chars().all(|c| c.is_ascii_digit() || c == '-' || c == ':');
    is_index_or_slice.then(|| selector.to_owned())
}

fn unquote(text: &str) -> Option<String> {
    let quote = text.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let inner = text.strip_prefix(quote)?.strip_suffix(quote)?;
    Some(inner.replace(&format!("\\{quote}"), &quote.to_string()))
}

/// The text between `[?(` and its closing `)]`, skipping parentheses inside quotes, and the
/// position after the closing bracket.
fn filter_body(chars: &[char], start: usize) -> Option<(String, usize)> {
    if chars.get(start + 2) != Some(&'(') {
        return None;
    }
    let mut quote: Option<char> = None;
    let mut at = start + 3;
    while let Some(&ch) = chars.get(at) {
        match (quote, ch) {
            (Some(_), '\\') => at += 1,
            (Some(open), _) if ch == open => quote = None,
            (None, '\'' | '"') => quote = Some(ch),
            (None, ')') if chars.get(at + 1) == Some(&']') => {
                return Some((chars[start + 3..at].iter().collect(), at + 2));
            }
            _ => {}
        }
        at += 1;
    }
    None
}

/// client-go splits a filter at its first run of `!<>=` into operand, operator, operand; with no
/// operator it tests that the path exists.
fn filter_to_rfc9535(filter: &str) -> Option<String> {
    let Some(op_start) = filter.find(['!', '<', '>', '=']) else {
        return filter_operand(filter.trim());
    };
    let op_len = filter[op_start..]
        .find(|c: char| !matches!(c, '!' | '<' | '>' | '='))
        .unwrap_or(filter.len() - op_start);
    let operator = &filter[op_start..op_start + op_len];
    if !["==", "!=", "<", ">", "<=", ">="].contains(&operator) {
        return None;
    }
    let left = filter_operand(filter[..op_start].trim())?;
    let right = filter_operand(filter[op_start + op_len..].trim())?;
    Some(format!("{left}{operator}{right}"))
}

fn filter_operand(operand: &str) -> Option<String> {
    if let Some(rest) = operand.strip_prefix('@').or_else(|| operand.strip_prefix('$')) {
        let mut out = operand[..1].to_owned();
        append_segments(rest, &mut out)?;
        return Some(out);
    }
    if let Some(text) = unquote(operand) {
        return Some(Value::String(text).to_string());
    }
    let is_literal = matches!(operand, "true" | "false" | "null") || operand.parse::<f64>().is_ok();
    is_literal.then(|| operand.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::{builtins, defs_from_crd};

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2025-03-10T12:00:00Z")
            .expect("time")
            .with_timezone(&Utc)
    }

    fn role_def(columns: Value) -> ResourceDef {
        let crd = json!({
            "spec": {
                "group": "awsaccess.dev",
                "names": { "kind": "CrossAccountRole", "plural": "crossaccountroles" },
                "scope": "Namespaced",
                "versions": [{ "name": "v1alpha1", "served": true, "storage": true, "additionalPrinterColumns": columns }],
            },
        });
        defs_from_crd(&crd).remove(0)
    }

    fn builtin(which: Builtin) -> ResourceDef {
        builtins()
            .into_iter()
            .find(|d| d.builtin == Some(which))
            .expect("builtin")
    }

    fn role(name: &str, status: Value) -> Value {
        json!({
            "apiVersion": "awsaccess.dev/v1alpha1",
            "kind": "CrossAccountRole",
            "metadata": { "name": name, "namespace": "alfie", "creationTimestamp": "2025-03-10T11:56:40Z", "resourceVersion": "7" },
            "spec": { "account": { "name": "alfie-dev" }, "maxSessionDuration": 3600 },
            "status": status,
        })
    }

    fn role_columns() -> Value {
        json!([
            { "name": "Account", "type": "string", "jsonPath": ".spec.account.name" },
            { "name": "Ready", "type": "string", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].status" },
            { "name": "Reason", "type": "string", "jsonPath": ".status.conditions[?(@.type=='Ready')].reason" },
            { "name": "Duration", "type": "integer", "jsonPath": ".spec.maxSessionDuration" },
            { "name": "ARN", "type": "string", "priority": 1, "description": "The role's ARN.", "jsonPath": ".status.roleArn" },
            { "name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp" },
        ])
    }

    #[test]
    fn custom_columns_follow_the_crd() {
        let ready = role(
            "ready",
            json!({
                "roleArn": "arn:aws:iam::345678901234:role/AlfieFullAccess",
                "conditions": [
                    { "type": "Reconciling", "status": "False", "reason": "InSync" },
                    { "type": "Ready", "status": "True", "reason": "Created" },
                ],
            }),
        );
        let fresh = role("fresh", json!({}));
        let table = table(&role_def(role_columns()), &[ready, fresh], "42", "Metadata", now());

        assert_eq!(table["kind"], "Table");
        assert_eq!(table["apiVersion"], "meta.k8s.io/v1");
        assert_eq!(table["metadata"], json!({ "resourceVersion": "42" }));
        let columns = table["columnDefinitions"].as_array().expect("columns");
        let names: Vec<&str> = columns.iter().filter_map(|c| c["name"].as_str()).collect();
        assert_eq!(names, ["Name", "Account", "Ready", "Reason", "Duration", "ARN", "Age"]);
        assert_eq!(
            columns[0],
            json!({ "name": "Name", "type": "string", "format": "name", "description": NAME_DOC, "priority": 0 })
        );
        assert_eq!(
            columns[5],
            json!({ "name": "ARN", "type": "string", "format": "", "description": "The role's ARN.", "priority": 1 })
        );
        assert_eq!(
            columns[1]["description"],
            "Custom resource definition column (in JSONPath format): .spec.account.name"
        );
        assert_eq!(columns[6]["type"], "date");

        assert_eq!(
            table["rows"][0]["cells"],
            json!([
                "ready",
                "alfie-dev",
                "True",
                "Created",
                3600,
                "arn:aws:iam::345678901234:role/AlfieFullAccess",
                "3m20s"
            ])
        );
        // Values the path does not reach are null; kubectl prints them as <none>.
        assert_eq!(
            table["rows"][1]["cells"],
            json!(["fresh", "alfie-dev", null, null, 3600, null, "3m20s"])
        );
        assert_eq!(
            table["rows"][0]["object"],
            json!({
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": { "name": "ready", "namespace": "alfie", "creationTimestamp": "2025-03-10T11:56:40Z", "resourceVersion": "7" },
            })
        );
    }

    #[test]
    fn crd_without_columns_shows_age() {
        let table = table(&role_def(json!([])), &[role("a", json!({}))], "", "Metadata", now());
        assert_eq!(table["metadata"], json!({}));
        let names: Vec<&str> = table["columnDefinitions"]
            .as_array()
            .expect("columns")
            .iter()
            .filter_map(|c| c["name"].as_str())
            .collect();
        assert_eq!(names, ["Name", "Age"]);
        assert_eq!(table["rows"][0]["cells"], json!(["a", "3m20s"]));
    }

    #[test]
    fn include_object_chooses_what_rows_carry() {
        let object = role("a", json!({}));
        let def = role_def(json!([]));
        assert_eq!(
            table(&def, std::slice::from_ref(&object), "1", "None", now())["rows"][0]["object"],
            Value::Null
        );
        assert_eq!(
            table(&def, std::slice::from_ref(&object), "1", "Object", now())["rows"][0]["object"],
            object
        );
        assert_eq!(
            table(&def, &[object], "1", "", now())["rows"][0]["object"]["kind"],
            "PartialObjectMetadata"
        );
    }

    #[test]
    fn cells_are_typed_like_the_convertor() {
        let def = role_def(json!([
            { "name": "Spec", "type": "string", "jsonPath": ".spec.account" },
            { "name": "Ratio", "type": "string", "jsonPath": ".spec.ratio" },
            { "name": "Big", "type": "string", "jsonPath": ".spec.big" },
            { "name": "Null", "type": "string", "jsonPath": ".spec.nothing" },
            { "name": "Truncated", "type": "integer", "jsonPath": ".spec.ratio" },
            { "name": "Number", "type": "number", "jsonPath": ".spec.count" },
            { "name": "Flag", "type": "boolean", "jsonPath": ".spec.flag" },
            { "name": "Mismatch", "type": "boolean", "jsonPath": ".spec.count" },
            { "name": "Bad date", "type": "date", "jsonPath": ".spec.when" },
            { "name": "Empty date", "type": "date", "jsonPath": ".spec.never" },
            { "name": "Annotation", "type": "string", "jsonPath": ".metadata.annotations.app\\.kubernetes\\.io/name" },
            { "name": "Last", "type": "string", "jsonPath": ".spec.list[-1]" },
            { "name": "All", "type": "string", "jsonPath": ".spec.list[*]" },
            { "name": "Hyphen", "type": "string", "jsonPath": ".spec.dash-key" },
        ]));
        let object = json!({
            "metadata": { "name": "x", "annotations": { "app.kubernetes.io/name": "web" } },
            "spec": {
                "account": { "name": "dev", "id": "1" },
                "ratio": 2.5, "big": 1234567.0, "nothing": null, "count": 4, "flag": true,
                "when": "yesterday", "never": "", "list": ["a", "b"], "dash-key": "d",
            },
        });
        let cells = &table(&def, &[object], "", "None", now())["rows"][0]["cells"];
        assert_eq!(
            cells,
            &json!([
                "x",
                "{\"id\":\"1\",\"name\":\"dev\"}",
                "2.5",
                "1.234567e+06",
                "<no value>",
                2,
                4.0,
                true,
                null,
                "<invalid>",
                "<unknown>",
                "web",
                "b",
                "a",
                "d"
            ])
        );
    }

    #[test]
    fn human_duration_matches_apimachinery() {
        let cases = [
            (-3, "<invalid>"),
            (-1, "0s"),
            (0, "0s"),
            (5, "5s"),
            (119, "119s"),
            (120, "2m"),
            (200, "3m20s"),
            (599, "9m59s"),
            (600, "10m"),
            (179 * 60 + 59, "179m"),
            (3 * 3600, "3h"),
            (3 * 3600 + 25 * 60, "3h25m"),
            (8 * 3600, "8h"),
            (47 * 3600, "47h"),
            (51 * 3600, "2d3h"),
            (7 * 86400, "7d"),
            (8 * 86400, "8d"),
            (729 * 86400, "729d"),
            (730 * 86400, "2y"),
            (3 * 365 * 86400 + 40 * 86400, "3y40d"),
            (9 * 365 * 86400, "9y"),
        ];
        for (seconds, expected) in cases {
            assert_eq!(human_duration(TimeDelta::seconds(seconds)), expected, "{seconds}s");
        }
        assert_eq!(human_duration(TimeDelta::milliseconds(-1500)), "0s");
    }

    #[test]
    fn jsonpath_dialect_becomes_rfc9535() {
        let cases = [
            (".status.roleArn", "$['status']['roleArn']"),
            (
                ".status.conditions[?(@.type==\"Ready\")].status",
                "$['status']['conditions'][?(@['type']==\"Ready\")]['status']",
            ),
            (
                ".status.conditions[?(@.type == 'Ready')].status",
                "$['status']['conditions'][?(@['type']==\"Ready\")]['status']",
            ),
            (".spec.items[0].name", "$['spec']['items'][0]['name']"),
            (".spec.items[*]", "$['spec']['items'][*]"),
            (".spec.items[1:3]", "$['spec']['items'][1:3]"),
            (".spec['a.b']", "$['spec']['a.b']"),
            (".spec.*", "$['spec'][*]"),
            ("..name", "$..['name']"),
            (
                ".metadata.labels.app\\.kubernetes\\.io/name",
                "$['metadata']['labels']['app.kubernetes.io/name']",
            ),
            (".spec.replicas[?(@.count>2)]", "$['spec']['replicas'][?(@['count']>2)]"),
            (".spec.items[?(@.ready)]", "$['spec']['items'][?(@['ready'])]"),
        ];
        for (k8s, rfc) in cases {
            assert_eq!(k8s_to_rfc9535(k8s).as_deref(), Some(rfc), "{k8s}");
            assert!(JsonPath::parse(rfc).is_ok(), "{rfc}");
        }
        assert_eq!(k8s_to_rfc9535(".spec.items[?(@.a=~\"x\")]"), None);
        assert_eq!(k8s_to_rfc9535(".spec.items[?(@.a==\"x\""), None);
    }

    #[test]
    fn columns_stop_at_the_first_path_that_does_not_parse() {
        let def = role_def(json!([
            { "name": "Account", "type": "string", "jsonPath": ".spec.account.name" },
            { "name": "Broken", "type": "string", "jsonPath": ".spec[" },
            { "name": "After", "type": "string", "jsonPath": ".spec.after" },
        ]));
        let names: Vec<Value> = table(&def, &[], "", "Metadata", now())["columnDefinitions"]
            .as_array()
            .expect("columns")
            .iter()
            .map(|c| c["name"].clone())
            .collect();
        assert_eq!(names, [json!("Name"), json!("Account")]);
    }

    #[test]
    fn builtin_tables_use_the_printers_columns() {
        let created = json!({ "name": "n", "creationTimestamp": "2025-03-08T09:00:00Z" });
        let cases = [
            (
                Builtin::Namespace,
                json!({ "metadata": created, "status": { "phase": "Terminating" } }),
                json!(["n", "Terminating", "2d3h"]),
            ),
            (
                Builtin::Namespace,
                json!({ "metadata": created }),
                json!(["n", "Active", "2d3h"]),
            ),
            (
                Builtin::Secret,
                json!({ "metadata": created, "type": "kubernetes.io/tls", "data": { "a": "", "b": "" } }),
                json!(["n", "kubernetes.io/tls", 2, "2d3h"]),
            ),
            (
                Builtin::Secret,
                json!({ "metadata": { "name": "n" } }),
                json!(["n", "Opaque", 0, "<unknown>"]),
            ),
            (
                Builtin::ConfigMap,
                json!({ "metadata": created, "data": { "a": "" }, "binaryData": { "b": "" } }),
                json!(["n", 2, "2d3h"]),
            ),
            (
                Builtin::Lease,
                json!({ "metadata": created, "spec": { "holderIdentity": "op-1" } }),
                json!(["n", "op-1", "2d3h"]),
            ),
            (
                Builtin::CustomResourceDefinition,
                json!({ "metadata": created }),
                json!(["n", "2025-03-08T09:00:00Z"]),
            ),
            (
                Builtin::CustomResourceDefinition,
                json!({ "metadata": { "name": "n" } }),
                json!(["n", "0001-01-01T00:00:00Z"]),
            ),
        ];
        for (which, object, expected) in cases {
            let table = table(&builtin(which), &[object], "3", "Metadata", now());
            assert_eq!(table["rows"][0]["cells"], expected, "{which:?}");
            assert_eq!(
                table["columnDefinitions"].as_array().expect("columns").len(),
                expected.as_array().expect("cells").len()
            );
        }
        let header = |which| -> Vec<Value> {
            table(&builtin(which), &[], "", "Metadata", now())["columnDefinitions"]
                .as_array()
                .expect("columns")
                .iter()
                .map(|c| c["name"].clone())
                .collect()
        };
        assert_eq!(
            header(Builtin::Secret),
            [json!("Name"), json!("Type"), json!("Data"), json!("Age")]
        );
        assert_eq!(
            header(Builtin::CustomResourceDefinition),
            [json!("Name"), json!("Created At")]
        );
    }

    #[test]
    fn events_print_the_wide_row_for_both_apis() {
        let core = json!({
            "metadata": { "name": "role.1", "namespace": "alfie" },
            "involvedObject": { "kind": "CrossAccountRole", "name": "alfie-full-access", "fieldPath": "spec.trust" },
            "reason": "Created", "type": "Normal", "message": "  role created\n",
            "firstTimestamp": "2025-03-10T11:00:00Z", "lastTimestamp": "2025-03-10T11:59:55Z", "count": 3,
            "source": { "component": "aws-access-operator" },
        });
        let events_v1 = json!({
            "metadata": { "name": "role.2", "namespace": "alfie" },
            "regarding": { "kind": "AwsAccount", "name": "" },
            "reason": "Created", "type": "Warning", "note": "account created",
            "eventTime": "2025-03-10T11:59:00.123456Z",
            "reportingController": "aws-access-operator", "reportingInstance": "pod-1",
        });
        let series = json!({
            "metadata": { "name": "role.3" },
            "regarding": { "kind": "Secret", "name": "s" },
            "eventTime": "2025-03-10T10:00:00.000000Z",
            "series": { "count": 7, "lastObservedTime": "2025-03-10T11:58:00.000000Z" },
        });
        let core_table = table(&builtin(Builtin::CoreEvent), &[core], "9", "Metadata", now());
        assert_eq!(
            core_table["rows"][0]["cells"],
            json!([
                "5s",
                "Normal",
                "Created",
                "crossaccountrole/alfie-full-access",
                "spec.trust",
                "aws-access-operator",
                "role created",
                "60m",
                3,
                "role.1"
            ])
        );
        let priorities: Vec<i64> = core_table["columnDefinitions"]
            .as_array()
            .expect("columns")
            .iter()
            .filter_map(|c| c["priority"].as_i64())
            .collect();
        assert_eq!(priorities, [0, 0, 0, 0, 1, 1, 0, 1, 1, 1]);
        let rows = table(&builtin(Builtin::Event), &[events_v1, series], "9", "Metadata", now())["rows"].clone();
        assert_eq!(
            rows[0]["cells"],
            json!([
                "59s",
                "Warning",
                "Created",
                "awsaccount",
                "",
                "aws-access-operator, pod-1",
                "account created",
                "59s",
                1,
                "role.2"
            ])
        );
        assert_eq!(
            rows[1]["cells"],
            json!(["2m", "", "", "secret/s", "", "", "", "120m", 7, "role.3"])
        );
    }
}
