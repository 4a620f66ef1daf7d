//! kubectl's everyday round trips, answered as a real API server answers them: a backup taken
//! with `kubectl get -o yaml` applied back, strict field validation of built-in kinds, the
//! migration from client-side to server-side apply, and the commands that edit live objects.

mod support;

use std::path::{Path, PathBuf};

use serde_json::Value;
use support::{Kubectl, fixture, server_with_widgets};

fn path(name: &str) -> String {
    fixture(name).to_str().expect("utf-8 path").to_string()
}

/// Writes `content` into `dir` and returns the path as kubectl takes it.
fn write(dir: &Path, name: &str, content: &str) -> String {
    let file: PathBuf = dir.join(name);
    std::fs::write(&file, content).expect("write file");
    file.to_str().expect("utf-8 path").to_string()
}

async fn json_of(kubectl: &Kubectl, args: &[&str]) -> Value {
    let mut args = args.to_vec();
    args.extend(["-o", "json"]);
    serde_json::from_str(&kubectl.run(&args).await.ok().stdout).expect("kubectl prints JSON")
}

#[tokio::test]
async fn configmap_backup_applies_back_and_restores_after_deletion() {
    let server = kube_testserver::TestServer::start().await.expect("server");
    let kubectl = Kubectl::new(&server);
    kubectl
        .run(&["create", "configmap", "first", "--from-literal=color=red"])
        .await
        .ok();
    kubectl
        .run(&["create", "configmap", "second", "--from-literal=size=2"])
        .await
        .ok();
    let dir = tempfile::tempdir().expect("temp dir");
    let backup = kubectl.run(&["get", "configmaps", "-o", "yaml"]).await.ok().stdout;
    assert!(backup.contains("kind: List"), "{backup}");
    let file = write(dir.path(), "backup.yaml", &backup);
    let before = json_of(&kubectl, &["get", "configmap", "first"]).await;

    // Objects created imperatively have no last-applied configuration yet: kubectl adds it.
    let applied = kubectl.run(&["apply", "-f", &file]).await.ok();
    assert!(
        applied.stdout.contains("configmap/first configured"),
        "{}",
        applied.stdout
    );

    kubectl.run(&["delete", "configmap", "first", "second"]).await.ok();
    let restored = kubectl.run(&["apply", "-f", &file]).await.ok();
    assert!(
        restored.stdout.contains("configmap/first created"),
        "{}",
        restored.stdout
    );
    assert!(
        restored.stdout.contains("configmap/second created"),
        "{}",
        restored.stdout
    );

    let first = json_of(&kubectl, &["get", "configmap", "first"]).await;
    assert_eq!(first["data"]["color"], "red");
    assert_ne!(
        first["metadata"]["uid"], before["metadata"]["uid"],
        "a new object, with a uid of its own"
    );
    let second = json_of(&kubectl, &["get", "configmap", "second"]).await;
    assert_eq!(second["data"]["size"], "2");
}

#[tokio::test]
async fn custom_resource_backup_restores_after_deletion() {
    let (_server, kubectl) = server_with_widgets().await;
    kubectl.run(&["apply", "-f", &path("widgets.yaml")]).await.ok();
    let dir = tempfile::tempdir().expect("temp dir");
    let backup = kubectl.run(&["get", "widgets", "-o", "yaml"]).await.ok().stdout;
    let file = write(dir.path(), "widgets.yaml", &backup);
    let before = json_of(&kubectl, &["get", "widget", "alpha"]).await;

    // The backup becomes the last-applied configuration: the objects are configured, not changed.
    let reapplied = kubectl.run(&["apply", "-f", &file]).await.ok();
    assert!(
        reapplied.stdout.contains("widget.example.com/alpha configured"),
        "{}",
        reapplied.stdout
    );
    let alpha = json_of(&kubectl, &["get", "widget", "alpha"]).await;
    assert_eq!(alpha["spec"], before["spec"]);
    assert_eq!(alpha["metadata"]["generation"], 1);

    kubectl.run(&["delete", "widgets", "--all"]).await.ok();
    let restored = kubectl.run(&["apply", "-f", &file]).await.ok();
    assert!(
        restored.stdout.contains("widget.example.com/alpha created"),
        "{}",
        restored.stdout
    );
    assert!(
        restored.stdout.contains("widget.example.com/beta created"),
        "{}",
        restored.stdout
    );

    let alpha = json_of(&kubectl, &["get", "widget", "alpha"]).await;
    assert_eq!(alpha["spec"]["serial"], "A-1");
    assert_eq!(alpha["metadata"]["labels"]["team"], "alfie");
    assert_eq!(alpha["metadata"]["generation"], 1);
    assert_ne!(alpha["metadata"]["uid"], before["metadata"]["uid"]);
    assert_ne!(
        alpha["metadata"]["resourceVersion"], before["metadata"]["resourceVersion"],
        "the backup's resourceVersion is not sent back"
    );
}

#[tokio::test]
async fn list_items_are_validated_client_side_against_openapi_v2() {
    let (_server, kubectl) = server_with_widgets().await;
    kubectl.run(&["apply", "-f", &path("widgets.yaml")]).await.ok();
    kubectl
        .run(&["create", "configmap", "settings", "--from-literal=color=red"])
        .await
        .ok();
    let dir = tempfile::tempdir().expect("temp dir");

    let configmaps = kubectl.run(&["get", "configmaps", "-o", "yaml"]).await.ok().stdout;
    let typo = configmaps.replace("  kind: ConfigMap\n", "  kind: ConfigMap\n  bogus: 1\n");
    let refused = kubectl
        .run(&["apply", "-f", &write(dir.path(), "configmaps.yaml", &typo)])
        .await
        .failed();
    assert!(
        refused.stderr.contains(
            "error validating data: ValidationError(ConfigMap): unknown field \"bogus\" in io.k8s.api.core.v1.ConfigMap"
        ),
        "{}",
        refused.stderr
    );

    let widgets = kubectl.run(&["get", "widgets", "-o", "yaml"]).await.ok().stdout;
    let typo = widgets.replace("    size: 3\n", "    size: 3\n    bogus: 1\n");
    let refused = kubectl
        .run(&["apply", "-f", &write(dir.path(), "widgets.yaml", &typo)])
        .await
        .failed();
    assert!(
        refused
            .stderr
            .contains("ValidationError(Widget.spec): unknown field \"bogus\" in com.example.v1.Widget.spec"),
        "{}",
        refused.stderr
    );
    let alpha = json_of(&kubectl, &["get", "widget", "alpha"]).await;
    assert!(alpha["spec"].get("bogus").is_none(), "nothing was sent");
}

fn managers(object: &Value) -> Vec<String> {
    let mut names: Vec<String> = object["metadata"]["managedFields"]
        .as_array()
        .expect("managedFields")
        .iter()
        .map(|entry| {
            format!(
                "{} {}",
                entry["manager"].as_str().unwrap_or_default(),
                entry["operation"].as_str().unwrap_or_default()
            )
        })
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn server_side_apply_after_client_side_apply_migrates_ownership() {
    let server = kube_testserver::TestServer::start().await.expect("server");
    let kubectl = Kubectl::new(&server);
    let client_side = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: migrated}\ndata: {color: red, size: '1'}\n";
    kubectl.run_with_input(&["apply", "-f", "-"], client_side).await.ok();

    // kubectl applies server-side, records the annotation under kubectl-last-applied, moves the
    // client-side manager's fields to its own with a JSON patch of managedFields, applies again.
    let server_side = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: migrated}\ndata: {color: blue}\n";
    let applied = kubectl
        .run_with_input(&["apply", "--server-side", "-f", "-"], server_side)
        .await
        .ok();
    assert!(
        applied.stdout.contains("configmap/migrated serverside-applied"),
        "{}",
        applied.stdout
    );
    assert_eq!(applied.stderr, "", "no migration warning");

    let object = json_of(&kubectl, &["get", "configmap", "migrated", "--show-managed-fields"]).await;
    assert_eq!(managers(&object), ["kubectl Apply", "kubectl-last-applied Apply"]);
    assert_eq!(
        object["data"],
        serde_json::json!({"color": "blue"}),
        "what only client-side apply set and the configuration dropped is gone"
    );
    let last_applied: Value = serde_json::from_str(
        object["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
            .as_str()
            .expect("the annotation stays, for a later client-side apply"),
    )
    .expect("json");
    assert_eq!(last_applied["data"], serde_json::json!({"color": "blue"}));

    // Once migrated, applying the same configuration again writes nothing.
    let again = kubectl
        .run_with_input(&["apply", "--server-side", "-f", "-"], server_side)
        .await
        .ok();
    assert_eq!(again.stderr, "");
    let unchanged = json_of(&kubectl, &["get", "configmap", "migrated"]).await;
    assert_eq!(
        unchanged["metadata"]["resourceVersion"],
        object["metadata"]["resourceVersion"]
    );
}

#[tokio::test]
async fn custom_resource_migrates_from_client_side_to_server_side_apply() {
    let (_server, kubectl) = server_with_widgets().await;
    let widget = |size: u8| {
        format!(
            "apiVersion: example.com/v1\nkind: Widget\nmetadata: {{name: moved}}\nspec: {{size: {size}, color: red}}\n"
        )
    };
    kubectl.run_with_input(&["apply", "-f", "-"], &widget(2)).await.ok();
    let applied = kubectl
        .run_with_input(&["apply", "--server-side", "-f", "-"], &widget(3))
        .await
        .ok();
    assert_eq!(applied.stderr, "", "no migration warning");
    let object = json_of(&kubectl, &["get", "widget", "moved", "--show-managed-fields"]).await;
    assert_eq!(managers(&object), ["kubectl Apply", "kubectl-last-applied Apply"]);
    assert_eq!(object["spec"]["size"], 3);
    assert_eq!(
        object["spec"]["mode"], "Auto",
        "pruned with the migrated fields, then defaulted again"
    );
    assert_eq!(object["metadata"]["generation"], 2);
}
