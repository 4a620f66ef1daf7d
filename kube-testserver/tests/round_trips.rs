//! kubectl's everyday round trips, answered as a real API server answers them: a backup taken
//! with `kubectl get -o yaml` applied back, strict field validation of built-in kinds, the
//! migration from client-side to server-side apply, and the commands that edit live objects.

// Tests say what they expect by unwrapping it, helpers included (clippy.toml
// allows it only in test functions): a panic is a failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::{Path, PathBuf};

use serde_json::Value;
use support::{Kubectl, Run, fixture, server_with_widgets};

/// Fails unless kubectl printed `line` on its standard output.
fn printed(run: &Run, line: &str) {
    assert!(run.stdout.contains(line), "{line:?} not in\n{}", run.stdout);
}

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
    printed(&applied, "configmap/first configured");

    kubectl.run(&["delete", "configmap", "first", "second"]).await.ok();
    let restored = kubectl.run(&["apply", "-f", &file]).await.ok();
    printed(&restored, "configmap/first created");
    printed(&restored, "configmap/second created");

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
    printed(&reapplied, "widget.example.com/alpha configured");
    let alpha = json_of(&kubectl, &["get", "widget", "alpha"]).await;
    assert_eq!(alpha["spec"], before["spec"]);
    assert_eq!(alpha["metadata"]["generation"], 1);

    kubectl.run(&["delete", "widgets", "--all"]).await.ok();
    let restored = kubectl.run(&["apply", "-f", &file]).await.ok();
    printed(&restored, "widget.example.com/alpha created");
    printed(&restored, "widget.example.com/beta created");

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
    printed(&applied, "configmap/migrated serverside-applied");
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

#[tokio::test]
async fn strict_validation_refuses_unknown_fields_of_builtin_kinds() {
    let server = kube_testserver::TestServer::start().await.expect("server");
    let kubectl = Kubectl::new(&server);
    let with_unknown =
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {color: red}\nunknownField: 1\n";

    // kubectl's default --validate=strict sends fieldValidation=Strict; a create decodes the body.
    let refused = kubectl
        .run_with_input(&["apply", "-f", "-"], with_unknown)
        .await
        .failed();
    assert!(
        refused.stderr.contains(
            "Error from server (BadRequest): error when creating \"STDIN\": ConfigMap in version \"v1\" cannot be handled as a ConfigMap: strict decoding error: unknown field \"unknownField\""
        ),
        "{}",
        refused.stderr
    );
    kubectl.run(&["get", "configmap", "settings"]).await.failed();

    let nested =
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: team-a}\nspec: {finalizers: [kubernetes], bogus: 1}\n";
    let refused = kubectl.run_with_input(&["create", "-f", "-"], nested).await.failed();
    assert!(
        refused
            .stderr
            .contains("strict decoding error: unknown field \"spec.bogus\""),
        "{}",
        refused.stderr
    );

    let valid = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {color: red}\n";
    kubectl.run_with_input(&["apply", "-f", "-"], valid).await.ok();

    // Applied again, the change is a strategic merge patch: the patch handler names the patch map.
    let refused = kubectl
        .run_with_input(&["apply", "-f", "-"], with_unknown)
        .await
        .failed();
    assert!(
        refused
            .stderr
            .contains("The request is invalid: patch: Invalid value: \"map["),
        "{}",
        refused.stderr
    );
    assert!(
        refused
            .stderr
            .contains("unknownField:1]\": strict decoding error: unknown field \"unknownField\""),
        "{}",
        refused.stderr
    );

    let live = kubectl
        .run(&["get", "configmap", "settings", "-o", "yaml"])
        .await
        .ok()
        .stdout;
    let refused = kubectl
        .run_with_input(
            &["replace", "-f", "-"],
            &live.replace("\ndata:", "\nunknownField: 1\ndata:"),
        )
        .await
        .failed();
    assert!(
        refused.stderr.contains(
            "error when replacing \"STDIN\": ConfigMap in version \"v1\" cannot be handled as a ConfigMap: strict decoding error: unknown field \"unknownField\""
        ),
        "{}",
        refused.stderr
    );
    let stored = json_of(&kubectl, &["get", "configmap", "settings"]).await;
    assert!(stored.get("unknownField").is_none(), "{stored}");
    assert!(
        !stored["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
            .as_str()
            .unwrap_or_default()
            .contains("unknownField"),
        "no refused write got through"
    );
}

#[tokio::test]
async fn warn_and_ignore_drop_unknown_fields_of_builtin_kinds() {
    let server = kube_testserver::TestServer::start().await.expect("server");
    let kubectl = Kubectl::new(&server);
    let with_unknown =
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: warned}\ndata: {color: red}\nunknownField: 1\n";
    let warned = kubectl
        .run_with_input(&["apply", "--validate=warn", "-f", "-"], with_unknown)
        .await
        .ok();
    assert_eq!(warned.stderr, "Warning: unknown field \"unknownField\"\n");
    let stored = json_of(&kubectl, &["get", "configmap", "warned"]).await;
    assert!(stored.get("unknownField").is_none(), "pruned, never stored: {stored}");
    assert_eq!(stored["data"]["color"], "red");

    // kubectl patch sends no fieldValidation: the server's default is Warn.
    let merge = kubectl
        .run(&[
            "patch",
            "configmap",
            "warned",
            "--type=merge",
            "-p",
            r#"{"data":{"color":"blue"},"spec":{"x":1}}"#,
        ])
        .await
        .ok();
    assert_eq!(merge.stderr, "Warning: unknown field \"spec\"\n");
    let json_patch = kubectl
        .run(&[
            "patch",
            "configmap",
            "warned",
            "--type=json",
            "-p",
            r#"[{"op":"add","path":"/extra","value":1}]"#,
        ])
        .await
        .ok();
    assert_eq!(json_patch.stderr, "Warning: unknown field \"extra\"\n");
    assert!(json_patch.stdout.contains("(no change)"), "{}", json_patch.stdout);
    let strategic = kubectl
        .run(&[
            "patch",
            "configmap",
            "warned",
            "-p",
            r#"{"metadata":{"labelz":{"a":"b"}}}"#,
        ])
        .await
        .ok();
    assert_eq!(strategic.stderr, "Warning: unknown field \"metadata.labelz\"\n");
    let stored = json_of(&kubectl, &["get", "configmap", "warned"]).await;
    assert_eq!(stored["data"]["color"], "blue");
    for (field, value) in [
        ("spec", &stored["spec"]),
        ("extra", &stored["extra"]),
        ("labelz", &stored["metadata"]["labelz"]),
    ] {
        assert!(value.is_null(), "{field} was stored: {stored}");
    }

    let ignored = kubectl
        .run_with_input(
            &["apply", "--validate=false", "-f", "-"],
            &with_unknown.replace("warned", "ignored"),
        )
        .await
        .ok();
    assert_eq!(ignored.stderr, "", "Ignore drops them silently");
    let stored = json_of(&kubectl, &["get", "configmap", "ignored"]).await;
    assert!(stored.get("unknownField").is_none(), "{stored}");
}

#[tokio::test]
async fn server_side_apply_refuses_undeclared_fields_whatever_the_validation() {
    let (_server, kubectl) = server_with_widgets().await;
    let configmap = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: typed}\ndata: {color: red}\nunknownField: 1\n";
    for validate in ["--validate=strict", "--validate=false"] {
        let refused = kubectl
            .run_with_input(&["apply", "--server-side", validate, "-f", "-"], configmap)
            .await
            .failed();
        assert!(
            refused.stderr.contains(
                "Error from server: failed to create typed patch object (default/typed; /v1, Kind=ConfigMap): .unknownField: field not declared in schema"
            ),
            "{validate}: {}",
            refused.stderr
        );
    }
    kubectl.run(&["get", "configmap", "typed"]).await.failed();

    let widget = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: typed, labelz: {a: b}}\nspec: {size: 1, color: red, bogus: 1}\n";
    let refused = kubectl
        .run_with_input(&["apply", "--server-side", "-f", "-"], widget)
        .await
        .failed();
    assert!(
        refused.stderr.contains(
            "failed to create typed patch object (default/typed; example.com/v1, Kind=Widget): errors:\n  .metadata.labelz: field not declared in schema\n  .spec.bogus: field not declared in schema"
        ),
        "{}",
        refused.stderr
    );
}

#[tokio::test]
async fn custom_resource_patches_name_the_patched_object_when_refusing_unknown_fields() {
    let (_server, kubectl) = server_with_widgets().await;
    kubectl.run(&["apply", "-f", &path("widgets.yaml")]).await.ok();
    let typo = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: alpha, labels: {team: alfie}}\nspec: {size: 3, color: red, serial: A-1, bogus: 1}\n";
    // An existing custom resource gets a merge patch; the patch handler decodes what it made.
    let refused = kubectl.run_with_input(&["apply", "-f", "-"], typo).await.failed();
    assert!(
        refused
            .stderr
            .contains("The request is invalid: patch: Invalid value: \"{\\\"apiVersion\\\":\\\"example.com/v1\\\",\\\"kind\\\":\\\"Widget\\\","),
        "{}",
        refused.stderr
    );
    assert!(
        refused
            .stderr
            .contains("}\": strict decoding error: unknown field \"spec.bogus\""),
        "{}",
        refused.stderr
    );
    let alpha = json_of(&kubectl, &["get", "widget", "alpha"]).await;
    assert!(alpha["spec"].get("bogus").is_none());
}

#[tokio::test]
async fn diff_and_server_dry_run_show_a_change_without_storing_it() {
    let (_server, kubectl) = server_with_widgets().await;
    kubectl.run(&["apply", "-f", &path("widgets.yaml")]).await.ok();
    let settings = |color: &str| {
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: settings}}\ndata: {{color: {color}}}\n")
    };
    kubectl
        .run_with_input(&["apply", "-f", "-"], &settings("red"))
        .await
        .ok();
    let before = json_of(&kubectl, &["get", "configmap", "settings"]).await;

    let same = kubectl
        .run_with_input(&["diff", "-f", "-"], &settings("red"))
        .await
        .ok();
    assert_eq!(same.stdout, "");
    let changed = kubectl.run_with_input(&["diff", "-f", "-"], &settings("blue")).await;
    assert_eq!(
        changed.code, 1,
        "kubectl diff exits 1 when there are differences: {}",
        changed.stderr
    );
    printed(&changed, "-  color: red\n+  color: blue\n");

    let widget = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: alpha, labels: {team: alfie}}\nspec: {size: 4, color: red, serial: A-1}\n";
    let changed = kubectl.run_with_input(&["diff", "-f", "-"], widget).await;
    assert_eq!(changed.code, 1, "{}", changed.stderr);
    printed(&changed, "-  size: 3\n+  size: 4\n");
    printed(&changed, "-  generation: 1\n+  generation: 2\n");

    let dry = kubectl
        .run_with_input(&["apply", "--dry-run=server", "-f", "-"], &settings("blue"))
        .await
        .ok();
    assert_eq!(dry.stdout, "configmap/settings configured (server dry run)\n");
    let dry = kubectl
        .run_with_input(
            &["apply", "--server-side", "--dry-run=server", "-f", "-"],
            &settings("blue"),
        )
        .await
        .ok();
    assert_eq!(dry.stdout, "configmap/settings serverside-applied (server dry run)\n");
    let dry = kubectl
        .run_with_input(&["apply", "--dry-run=server", "-f", "-"], widget)
        .await
        .ok();
    assert_eq!(dry.stdout, "widget.example.com/alpha configured (server dry run)\n");

    let after = json_of(&kubectl, &["get", "configmap", "settings"]).await;
    assert_eq!(after, before, "nothing stored");
    let alpha = json_of(&kubectl, &["get", "widget", "alpha"]).await;
    assert_eq!(alpha["spec"]["size"], 3);
}

#[tokio::test]
async fn edit_replace_and_label_change_the_stored_object() {
    let (_server, kubectl) = server_with_widgets().await;
    kubectl.run(&["apply", "-f", &path("widgets.yaml")]).await.ok();
    kubectl
        .run_with_input(
            &["apply", "-f", "-"],
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {color: red}\n",
        )
        .await
        .ok();
    let dir = tempfile::tempdir().expect("temp dir");
    // kubectl runs `sh <script> <file>`: the script is never executed itself, so it cannot be busy.
    let editor = |name: &str, sed: &str| format!("sh {}", write(dir.path(), name, &format!("sed -i '{sed}' \"$1\"\n")));

    let red_to_green = editor("green.sh", "s/color: red/color: green/");
    let edited = kubectl
        .run_with_env(&["edit", "configmap", "settings"], &[("KUBE_EDITOR", &red_to_green)])
        .await
        .ok();
    assert_eq!(edited.stdout, "configmap/settings edited\n");
    assert_eq!(
        json_of(&kubectl, &["get", "configmap", "settings"]).await["data"]["color"],
        "green"
    );

    let unchanged = kubectl
        .run_with_env(&["edit", "configmap", "settings"], &[("KUBE_EDITOR", &red_to_green)])
        .await
        .ok();
    assert!(
        unchanged.stderr.contains("Edit cancelled, no changes made."),
        "{}",
        unchanged.stderr
    );

    let bigger = editor("bigger.sh", "s/size: 3/size: 7/");
    let edited = kubectl
        .run_with_env(&["edit", "widget", "alpha"], &[("KUBE_EDITOR", &bigger)])
        .await
        .ok();
    assert_eq!(edited.stdout, "widget.example.com/alpha edited\n");
    let alpha = json_of(&kubectl, &["get", "widget", "alpha"]).await;
    assert_eq!(alpha["spec"]["size"], 7);
    assert_eq!(alpha["metadata"]["generation"], 2);

    let unknown = editor("unknown.sh", "s/^data:/bogus: 1\\ndata:/");
    let refused = kubectl
        .run_with_env(&["edit", "configmap", "settings"], &[("KUBE_EDITOR", &unknown)])
        .await
        .failed();
    assert!(
        refused.stderr.contains("configmaps \"settings\" is invalid"),
        "{}",
        refused.stderr
    );

    let live = kubectl
        .run(&["get", "configmap", "settings", "-o", "yaml"])
        .await
        .ok()
        .stdout;
    let replaced = kubectl
        .run_with_input(&["replace", "-f", "-"], &live.replace("color: green", "color: blue"))
        .await
        .ok();
    assert_eq!(replaced.stdout, "configmap/settings replaced\n");
    assert_eq!(
        json_of(&kubectl, &["get", "configmap", "settings"]).await["data"]["color"],
        "blue"
    );
    // The copy read before the last replace carries an older resourceVersion.
    let stale = kubectl
        .run_with_input(&["replace", "-f", "-"], &live.replace("color: green", "color: pink"))
        .await
        .failed();
    assert!(
        stale
            .stderr
            .contains("the object has been modified; please apply your changes to the latest version and try again"),
        "{}",
        stale.stderr
    );

    let labeled = kubectl
        .run(&["label", "configmap", "settings", "team=alfie"])
        .await
        .ok();
    assert_eq!(labeled.stdout, "configmap/settings labeled\n");
    let refused = kubectl
        .run(&["label", "configmap", "settings", "team=bravo"])
        .await
        .failed();
    assert!(
        refused
            .stderr
            .contains("'team' already has a value (alfie), and --overwrite is false"),
        "{}",
        refused.stderr
    );
    kubectl
        .run(&["label", "widget", "alpha", "team=bravo", "--overwrite"])
        .await
        .ok();
    let selected = kubectl
        .run(&["get", "widgets", "-l", "team=bravo", "-o", "name"])
        .await
        .ok();
    assert_eq!(selected.stdout, "widget.example.com/alpha\n");
    let unlabeled = kubectl.run(&["label", "configmap", "settings", "team-"]).await.ok();
    assert_eq!(unlabeled.stdout, "configmap/settings unlabeled\n");
    let settings = json_of(&kubectl, &["get", "configmap", "settings"]).await;
    assert!(
        settings["metadata"]
            .get("labels")
            .is_none_or(|labels| labels.get("team").is_none()),
        "{settings}"
    );
}
