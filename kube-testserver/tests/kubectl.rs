//! The server as the real kubectl sees it.

// Tests say what they expect by unwrapping it, helpers included (clippy.toml
// allows it only in test functions): a panic is a failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use support::{Kubectl, finish, fixture, server_with_widgets};

fn path(name: &str) -> String {
    fixture(name).to_str().expect("utf-8 path").to_string()
}

#[tokio::test]
async fn get_shows_printer_columns_and_wide_adds_priority_columns() {
    let (_server, kubectl) = server_with_widgets().await;
    kubectl.run(&["apply", "-f", &path("widgets.yaml")]).await.ok();

    let table = kubectl.run(&["get", "widgets"]).await.ok().stdout;
    let lines: Vec<&str> = table.lines().collect();
    let header: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(header, ["NAME", "SIZE", "READY", "AGE"], "{table}");
    let alpha: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(alpha[..2], ["alpha", "3"], "{table}");
    assert!(lines[2].starts_with("beta"), "{table}");

    let wide = kubectl.run(&["get", "wd", "-o", "wide"]).await.ok().stdout;
    assert!(wide.lines().next().unwrap_or_default().contains("SERIAL"), "{wide}");
    assert!(wide.contains("A-1"), "{wide}");

    let by_category = kubectl.run(&["get", "gadgets"]).await.ok().stdout;
    assert!(
        by_category.contains("alpha") && by_category.contains("beta"),
        "{by_category}"
    );

    let selected = kubectl
        .run(&["get", "widgets", "-l", "team=alfie", "-o", "name"])
        .await
        .ok()
        .stdout;
    assert_eq!(selected.trim(), "widget.example.com/alpha");
}

#[tokio::test]
async fn get_yaml_shows_defaults_and_server_fields() {
    let (_server, kubectl) = server_with_widgets().await;
    kubectl.run(&["apply", "-f", &path("widgets.yaml")]).await.ok();
    let yaml = kubectl.run(&["get", "widget", "alpha", "-o", "yaml"]).await.ok().stdout;
    let object: serde_json::Value = serde_yaml_ng::from_str(&yaml).expect("yaml");
    assert_eq!(object["spec"]["mode"], "Auto", "default applied: {yaml}");
    assert_eq!(object["metadata"]["generation"], 1);
    assert!(object["metadata"]["uid"].is_string());
    assert!(object["metadata"]["resourceVersion"].is_string());
    assert!(object["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"].is_string());
}

#[tokio::test]
async fn status_patch_satisfies_wait_for_ready() {
    let (_server, kubectl) = server_with_widgets().await;
    kubectl.run(&["apply", "-f", &path("widgets.yaml")]).await.ok();
    let waiting = kubectl.spawn(&["wait", "--for=condition=Ready", "widget/alpha", "--timeout=30s"]);
    let status = r#"{"status":{"conditions":[{"type":"Ready","status":"True","reason":"Tested","message":"ok","lastTransitionTime":"2026-01-01T00:00:00Z"}]}}"#;
    kubectl
        .run(&[
            "patch",
            "widget",
            "alpha",
            "--subresource=status",
            "--type=merge",
            "-p",
            status,
        ])
        .await
        .ok();
    let waited = finish(waiting, Duration::from_secs(30)).await.ok();
    assert!(
        waited.stdout.contains("widget.example.com/alpha condition met"),
        "{}",
        waited.stdout
    );

    let table = kubectl.run(&["get", "widget", "alpha"]).await.ok().stdout;
    let row: Vec<&str> = table.lines().nth(1).unwrap_or_default().split_whitespace().collect();
    assert_eq!(row[..3], ["alpha", "3", "True"], "{table}");
    let generation = kubectl
        .run(&["get", "widget", "alpha", "-o", "jsonpath={.metadata.generation}"])
        .await
        .ok()
        .stdout;
    assert_eq!(generation, "1", "a status write does not move the generation");
}

#[tokio::test]
async fn server_side_apply_conflicts_between_managers_until_forced() {
    let (_server, kubectl) = server_with_widgets().await;
    let widget = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: gamma}\nspec: {size: 2, color: red}\n";
    kubectl
        .run_with_input(&["apply", "--server-side", "-f", "-"], widget)
        .await
        .ok();
    kubectl
        .run_with_input(&["apply", "--server-side", "-f", "-"], widget)
        .await
        .ok();

    let changed = widget.replace("size: 2", "size: 4");
    let refused = kubectl
        .run_with_input(
            &["apply", "--server-side", "--field-manager=other", "-f", "-"],
            &changed,
        )
        .await
        .failed();
    assert!(
        refused.stderr.contains("conflict with \"kubectl\""),
        "{}",
        refused.stderr
    );
    assert!(refused.stderr.contains(".spec.size"), "{}", refused.stderr);

    kubectl
        .run_with_input(
            &[
                "apply",
                "--server-side",
                "--field-manager=other",
                "--force-conflicts",
                "-f",
                "-",
            ],
            &changed,
        )
        .await
        .ok();
    let size = kubectl
        .run(&["get", "widget", "gamma", "-o", "jsonpath={.spec.size}"])
        .await
        .ok()
        .stdout;
    assert_eq!(size, "4");
    let managers = kubectl
        .run(&[
            "get",
            "widget",
            "gamma",
            "--show-managed-fields",
            "-o",
            "jsonpath={.metadata.managedFields[*].manager}",
        ])
        .await
        .ok()
        .stdout;
    assert!(managers.contains("other"), "{managers}");
}

#[tokio::test]
async fn delete_waits_for_finalizer() {
    let (server, kubectl) = server_with_widgets().await;
    let widget = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: held, finalizers: [example.com/hold]}\nspec: {size: 1, color: blue}\n";
    kubectl.run_with_input(&["apply", "-f", "-"], widget).await.ok();
    let deleting = kubectl.spawn(&["delete", "widget", "held", "--timeout=30s"]);

    // The object stays, marked for deletion, until the finalizer goes.
    let client = server.client().expect("client");
    let api: kube::Api<kube::api::DynamicObject> = kube::Api::namespaced_with(
        client,
        "default",
        &kube::api::ApiResource {
            group: "example.com".into(),
            version: "v1".into(),
            api_version: "example.com/v1".into(),
            kind: "Widget".into(),
            plural: "widgets".into(),
        },
    );
    let mut marked = false;
    for _ in 0..200 {
        let object = api.get("held").await.expect("still there");
        if object.metadata.deletion_timestamp.is_some() {
            marked = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(marked, "deletionTimestamp set while the finalizer remains");

    kubectl
        .run(&[
            "patch",
            "widget",
            "held",
            "--type=json",
            "-p",
            r#"[{"op":"remove","path":"/metadata/finalizers"}]"#,
        ])
        .await
        .ok();
    let deleted = finish(deleting, Duration::from_secs(30)).await.ok();
    assert!(
        deleted.stdout.contains("widget.example.com \"held\" deleted"),
        "{}",
        deleted.stdout
    );
    kubectl.run(&["get", "widget", "held"]).await.failed();
}

#[tokio::test]
async fn explain_shows_schema_descriptions() {
    let (_server, kubectl) = server_with_widgets().await;
    let top = kubectl.run(&["explain", "widgets"]).await.ok().stdout;
    assert!(top.contains("A Widget is a thing the tests make."), "{top}");
    let field = kubectl.run(&["explain", "widgets.spec.size"]).await.ok().stdout;
    assert!(field.contains("How big the widget is, 1 to 10."), "{field}");
    let recursive = kubectl
        .run(&["explain", "widgets.spec", "--recursive"])
        .await
        .ok()
        .stdout;
    for name in ["size", "color", "pattern", "serial", "mode"] {
        assert!(recursive.contains(name), "{name} in {recursive}");
    }
}

#[tokio::test]
async fn invalid_objects_are_refused_with_the_servers_message() {
    let (_server, kubectl) = server_with_widgets().await;
    let too_big = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: bad}\nspec: {size: 100, color: red}\n";
    let refused = kubectl.run_with_input(&["apply", "-f", "-"], too_big).await.failed();
    assert!(
        refused.stderr.contains("The Widget \"bad\" is invalid: spec.size: Invalid value: 100: spec.size in body should be less than or equal to 10"),
        "{}",
        refused.stderr
    );

    let both =
        "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: bad}\nspec: {size: 1, color: red, pattern: dots}\n";
    let refused = kubectl.run_with_input(&["apply", "-f", "-"], both).await.failed();
    assert!(
        refused.stderr.contains("exactly one of color or pattern must be set"),
        "{}",
        refused.stderr
    );

    let unknown =
        "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: bad}\nspec: {size: 1, color: red, bogus: 1}\n";
    let refused = kubectl.run_with_input(&["apply", "-f", "-"], unknown).await.failed();
    assert!(
        refused.stderr.contains("unknown field \"spec.bogus\""),
        "{}",
        refused.stderr
    );

    kubectl.run(&["apply", "-f", &path("widgets.yaml")]).await.ok();
    let renamed =
        "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: alpha}\nspec: {size: 3, color: red, serial: B-2}\n";
    let refused = kubectl.run_with_input(&["apply", "-f", "-"], renamed).await.failed();
    assert!(refused.stderr.contains("serial is immutable"), "{}", refused.stderr);
    let serial = kubectl
        .run(&["get", "widget", "alpha", "-o", "jsonpath={.spec.serial}"])
        .await
        .ok()
        .stdout;
    assert_eq!(serial, "A-1", "a refused write changes nothing");
}

#[tokio::test]
async fn builtin_kinds_apply_and_reapply() {
    let server = kube_testserver::TestServer::start().await.expect("server");
    let kubectl = Kubectl::new(&server);
    let manifest = |value: &str| {
        format!(
            "apiVersion: v1\nkind: Namespace\nmetadata: {{name: team-a, labels: {{owner: {value}}}}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: settings, namespace: team-a}}\ndata: {{color: {value}, size: '1'}}\n---\napiVersion: v1\nkind: Secret\nmetadata: {{name: token, namespace: team-a}}\nstringData: {{token: {value}}}\n"
        )
    };
    kubectl
        .run_with_input(&["apply", "-f", "-"], &manifest("red"))
        .await
        .ok();
    // A second client-side apply of changed built-ins sends strategic merge patches.
    let changed = manifest("blue").replace(", size: '1'", "");
    kubectl.run_with_input(&["apply", "-f", "-"], &changed).await.ok();

    let data = kubectl
        .run(&["get", "configmap", "settings", "-n", "team-a", "-o", "jsonpath={.data}"])
        .await
        .ok()
        .stdout;
    let data: serde_json::Value = serde_json::from_str(&data).expect("json");
    assert_eq!(
        data,
        serde_json::json!({"color": "blue"}),
        "removed key pruned by the patch"
    );
    let token = kubectl
        .run(&["get", "secret", "token", "-n", "team-a", "-o", "jsonpath={.data.token}"])
        .await
        .ok()
        .stdout;
    assert_eq!(token, "Ymx1ZQ==", "stringData stored base64 in data");
    let label = kubectl
        .run(&["get", "ns", "team-a", "-o", "jsonpath={.metadata.labels.owner}"])
        .await
        .ok()
        .stdout;
    assert_eq!(label, "blue");

    let table = kubectl.run(&["get", "configmaps", "-n", "team-a"]).await.ok().stdout;
    let header: Vec<&str> = table.lines().next().unwrap_or_default().split_whitespace().collect();
    assert_eq!(header, ["NAME", "DATA", "AGE"], "{table}");

    let missing = kubectl
        .run(&["get", "configmap", "nothing", "-n", "team-a"])
        .await
        .failed();
    assert!(
        missing.stderr.contains("configmaps \"nothing\" not found"),
        "{}",
        missing.stderr
    );
    let no_namespace = kubectl
        .run_with_input(
            &["create", "-f", "-"],
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: nowhere}\n",
        )
        .await
        .failed();
    assert!(
        no_namespace.stderr.contains("namespaces \"nowhere\" not found"),
        "{}",
        no_namespace.stderr
    );
}

#[tokio::test]
async fn imperative_create_commands_send_protobuf_and_work() {
    let server = kube_testserver::TestServer::start().await.expect("server");
    let kubectl = Kubectl::new(&server);
    kubectl.run(&["create", "namespace", "alfie"]).await.ok();
    kubectl
        .run(&[
            "create",
            "secret",
            "generic",
            "external-id",
            "-n",
            "alfie",
            "--from-literal=externalId=s3cr3t-value",
        ])
        .await
        .ok();
    kubectl
        .run(&[
            "create",
            "configmap",
            "settings",
            "-n",
            "alfie",
            "--from-literal=color=red",
        ])
        .await
        .ok();
    let secret = kubectl
        .run(&[
            "get",
            "secret",
            "external-id",
            "-n",
            "alfie",
            "-o",
            "jsonpath={.data.externalId}",
        ])
        .await
        .ok()
        .stdout;
    assert_eq!(secret, "czNjcjN0LXZhbHVl");
    let color = kubectl
        .run(&[
            "get",
            "configmap",
            "settings",
            "-n",
            "alfie",
            "-o",
            "jsonpath={.data.color}",
        ])
        .await
        .ok()
        .stdout;
    assert_eq!(color, "red");
    let phase = kubectl
        .run(&["get", "namespace", "alfie", "-o", "jsonpath={.status.phase}"])
        .await
        .ok()
        .stdout;
    assert_eq!(phase, "Active");
}

#[tokio::test]
async fn get_watch_prints_changes_as_rows() {
    use std::io::{BufRead, BufReader};
    let (_server, kubectl) = server_with_widgets().await;
    kubectl.run(&["apply", "-f", &path("widgets.yaml")]).await.ok();
    let mut watching = kubectl.spawn(&["get", "widgets", "--watch", "--request-timeout=10s"]);
    let mut lines = BufReader::new(watching.stdout.take().expect("stdout")).lines();
    // Only once the current rows are printed is the watch open; then a change must print a new row.
    let (initial, lines) = tokio::task::spawn_blocking(move || {
        let initial: Vec<String> = lines.by_ref().take(3).map(|l| l.expect("line")).collect();
        (initial, lines)
    })
    .await
    .expect("reader");
    assert!(
        initial[0].contains("SIZE") && initial[2].starts_with("beta"),
        "{initial:?}"
    );
    kubectl
        .run(&[
            "patch",
            "widget",
            "beta",
            "--type=merge",
            "-p",
            r#"{"spec":{"size":9}}"#,
        ])
        .await
        .ok();
    let changed = tokio::task::spawn_blocking(move || lines.map_while(Result::ok).find(|l| l.starts_with("beta")))
        .await
        .expect("reader")
        .expect("a row for the change");
    assert_eq!(changed.split_whitespace().nth(1), Some("9"), "{changed}");
    let _ = watching.kill();
    let _ = watching.wait();
}
