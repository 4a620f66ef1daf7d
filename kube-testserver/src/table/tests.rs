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
