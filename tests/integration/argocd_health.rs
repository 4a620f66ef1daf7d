//! `deploy/argocd/health.lua`, the Argo CD health check of every kind, run
//! the way Argo CD tests its own (`resource_customizations/*/health_test.yaml`):
//! each sample object in `testdata/` must give the listed status and message.
//!
//! Argo CD evaluates the script in gopher-lua, a Lua 5.1, with only the base,
//! table and package libraries open and the object as the global `obj` (JSON
//! numbers as floats). The VM here is set up the same, so a script that leans
//! on `string.*` or on Lua 5.4 fails here as it would in Argo CD.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use mlua::{Lua, LuaOptions, StdLib, Table};
use serde::Deserialize;
use serde_yaml_ng::Value;

const KINDS: [&str; 6] = [
    "AwsAccount",
    "CrossAccountRole",
    "DeveloperGroup",
    "PartnerAccess",
    "OrganizationalUnit",
    "ServiceControlPolicy",
];

/// Argo CD's valid health statuses; anything else it shows as Unknown.
const STATUSES: [&str; 6] = ["Healthy", "Progressing", "Degraded", "Suspended", "Missing", "Unknown"];

#[derive(Deserialize)]
struct Cases {
    tests: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Case {
    health_status: Health,
    input_path: String,
}

#[derive(Debug, Deserialize, PartialEq)]
struct Health {
    status: String,
    #[serde(default)]
    message: String,
}

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/argocd")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

fn cases() -> Vec<Case> {
    let cases: Cases = serde_yaml_ng::from_str(&read(&dir().join("health_test.yaml"))).expect("health_test.yaml");
    cases.tests
}

/// The object as Argo CD hands it over: maps and arrays as tables, numbers as floats.
fn to_lua(lua: &Lua, value: &Value) -> mlua::Result<mlua::Value> {
    Ok(match value {
        Value::Null => mlua::Value::Nil,
        Value::Bool(b) => mlua::Value::Boolean(*b),
        Value::Number(n) => mlua::Value::Number(n.as_f64().unwrap_or_default()),
        Value::String(s) => mlua::Value::String(lua.create_string(s)?),
        Value::Sequence(items) => {
            let table = lua.create_table()?;
            for item in items {
                table.push(to_lua(lua, item)?)?;
            }
            mlua::Value::Table(table)
        }
        Value::Mapping(entries) => {
            let table = lua.create_table()?;
            for (key, item) in entries {
                table.set(key.as_str().expect("string keys"), to_lua(lua, item)?)?;
            }
            mlua::Value::Table(table)
        }
        Value::Tagged(tagged) => to_lua(lua, &tagged.value)?,
    })
}

/// Runs the health script on `object` in a VM opened like Argo CD's.
fn health(script: &str, object: &Value) -> Health {
    // The base library is always open; add what Argo CD adds (its `os` is a
    // reduced one the script does not use).
    let lua = Lua::new_with(StdLib::TABLE | StdLib::PACKAGE, LuaOptions::default()).expect("Lua VM");
    lua.globals()
        .set("obj", to_lua(&lua, object).expect("object to Lua"))
        .expect("set obj");
    let hs: Table = lua
        .load(script)
        .set_name("health.lua")
        .eval()
        .unwrap_or_else(|err| panic!("health.lua failed: {err}"));
    Health {
        status: hs.get("status").expect("hs.status is a string"),
        message: hs
            .get::<Option<String>>("message")
            .expect("hs.message is a string")
            .unwrap_or_default(),
    }
}

#[test]
fn every_sample_object_gets_its_expected_health() {
    let script = read(&dir().join("health.lua"));
    let mut failures = Vec::new();
    for case in cases() {
        let object: Value = serde_yaml_ng::from_str(&read(&dir().join(&case.input_path))).expect("sample object");
        let got = health(&script, &object);
        assert!(
            STATUSES.contains(&got.status.as_str()),
            "{}: {:?} is no Argo CD health status",
            case.input_path,
            got.status
        );
        if got != case.health_status {
            failures.push(format!(
                "{}: expected {:?}, got {:?}",
                case.input_path, case.health_status, got
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn cases_cover_every_kind_and_every_sample() {
    let cases = cases();
    let used: BTreeSet<&str> = cases.iter().map(|case| case.input_path.as_str()).collect();
    let samples: BTreeSet<String> = std::fs::read_dir(dir().join("testdata"))
        .expect("testdata/")
        .map(|entry| format!("testdata/{}", entry.expect("entry").file_name().to_string_lossy()))
        .collect();
    assert_eq!(
        used,
        samples.iter().map(String::as_str).collect(),
        "every sample in testdata/ has a case, and only those"
    );

    let kinds: BTreeSet<String> = cases
        .iter()
        .map(|case| {
            let object: Value = serde_yaml_ng::from_str(&read(&dir().join(&case.input_path))).expect("sample object");
            object["kind"].as_str().expect("kind").to_owned()
        })
        .collect();
    assert_eq!(kinds, KINDS.map(String::from).into());
    let statuses: BTreeSet<&str> = cases.iter().map(|case| case.health_status.status.as_str()).collect();
    assert_eq!(statuses, ["Degraded", "Healthy", "Progressing"].into());
}

#[test]
fn argocd_cm_carries_the_script_for_each_kind() {
    let script = read(&dir().join("health.lua"));
    let cm: Value = serde_yaml_ng::from_str(&read(&dir().join("argocd-cm.yaml"))).expect("argocd-cm.yaml");
    assert_eq!(cm["metadata"]["name"].as_str(), Some("argocd-cm"));
    let data = cm["data"].as_mapping().expect("data");
    let keys: BTreeSet<&str> = data.keys().filter_map(Value::as_str).collect();
    let wanted: BTreeSet<String> = KINDS
        .iter()
        .map(|kind| format!("resource.customizations.health.awsaccess.dev_{kind}"))
        .collect();
    assert_eq!(keys, wanted.iter().map(String::as_str).collect());
    for (key, value) in data {
        assert!(
            value.as_str() == Some(script.as_str()),
            "{key:?} differs from health.lua: run scripts/sync-argocd-cm.sh"
        );
    }
}
