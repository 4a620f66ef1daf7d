//! The `Table` (meta.k8s.io/v1) answered to `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`,
//! which is what `kubectl get` asks for. Built as the real server does: custom resources through
//! apiextensions-apiserver's `tableconvertor`, built-ins through kube-apiserver's printers
//! (always generated "wide": kubectl drops priority > 0 columns itself unless `-o wide`), and
//! CustomResourceDefinitions through the generic default convertor.
//!
//! The built-in kinds' columns and cells are in `builtins`; `jsonpath` rewrites a printer
//! column's client-go JSONPath for `serde_json_path`.

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};
use serde_json_path::JsonPath;

use crate::go_format::go_float;
use crate::registry::{Builtin, ResourceDef};

use builtins::{builtin_cells, builtin_columns};
use jsonpath::k8s_to_rfc9535;

mod builtins;
mod cluster;
mod jsonpath;
#[cfg(test)]
mod tests;

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
