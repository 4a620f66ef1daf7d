//! Reviews as the apiserver sends them, denials, rules and selectors, calls that fail.

use super::*;

#[tokio::test]
async fn allowed_writes_are_stored_after_a_complete_review() {
    let certificates = pki(&["127.0.0.1"]);
    let webhook = Webhook::start(certificates.tls.clone(), |_, _| {
        Answer::Allow(vec!["widgets are watched"])
    })
    .await;
    let (server, client, widgets) = started().await;
    register(
        &client,
        "widgets",
        vec![hook(
            "widgets.example.com",
            url_config(webhook.url("/validate"), &certificates.ca_bundle),
            widget_rules(&["CREATE", "UPDATE"]),
        )],
    )
    .await;

    let created = widgets
        .create(&PostParams::default(), &widget("alpha", 3, json!({"team": "a"})))
        .await
        .expect("allowed");
    let mut reviews = webhook.take();
    assert_eq!(reviews.len(), 1, "one webhook, one call");
    let (path, review) = reviews.remove(0);
    assert_eq!(path, "/validate?timeout=10s");
    assert_eq!(review["apiVersion"], "admission.k8s.io/v1");
    assert_eq!(review["kind"], "AdmissionReview");
    let request = &review["request"];
    assert!(request["uid"].as_str().is_some_and(|uid| !uid.is_empty()));
    assert_eq!(
        request["kind"],
        json!({"group": "example.com", "version": "v1", "kind": "Widget"})
    );
    assert_eq!(
        request["resource"],
        json!({"group": "example.com", "version": "v1", "resource": "widgets"})
    );
    assert_eq!(request["requestKind"], request["kind"]);
    assert_eq!(request["requestResource"], request["resource"]);
    assert!(request.get("subResource").is_none());
    assert_eq!(request["name"], "alpha");
    assert_eq!(request["namespace"], "default");
    assert_eq!(request["operation"], "CREATE");
    assert_eq!(
        request["userInfo"],
        json!({"username": "system:admin", "groups": ["system:masters", "system:authenticated"]})
    );
    assert_eq!(request["object"]["spec"]["size"], 3);
    assert_eq!(
        request["object"]["metadata"]["uid"].as_str(),
        created.metadata.uid.as_deref(),
        "the webhook sees the object as it is stored"
    );
    assert_eq!(request["oldObject"], Value::Null);
    assert_eq!(request["dryRun"], false);
    assert_eq!(request["options"]["kind"], "CreateOptions");
    assert_eq!(request["options"]["apiVersion"], "meta.k8s.io/v1");

    // An update through kubectl, impersonating: the warning is printed, the review has both objects.
    let kubectl = Kubectl::new(&server);
    let update = json_input(json!({
        "apiVersion": "example.com/v1", "kind": "Widget",
        "metadata": {"name": "alpha", "labels": {"team": "a"}},
        "spec": {"size": 4, "color": "green"}
    }));
    let applied = kubectl
        .run_with_input(&["apply", "-f", "-", "--as", "jane", "--as-group", "devs"], &update)
        .await
        .ok();
    assert!(
        applied.stderr.contains("Warning: widgets are watched"),
        "{}",
        applied.stderr
    );
    assert_eq!(applied.stdout.trim(), "widget.example.com/alpha configured");
    let (_, review) = webhook.take().pop().expect("update reviewed");
    let request = &review["request"];
    assert_eq!(request["operation"], "UPDATE");
    assert_eq!(request["oldObject"]["spec"]["size"], 3);
    assert_eq!(request["object"]["spec"]["size"], 4);
    assert_eq!(
        request["userInfo"],
        json!({"username": "jane", "groups": ["devs", "system:authenticated"]})
    );
    assert_eq!(request["options"]["kind"], "UpdateOptions");
    assert_eq!(request["options"]["fieldManager"], "kubectl-client-side-apply");
    let stored = widgets.get("alpha").await.expect("stored");
    assert_eq!(stored.data["spec"]["size"], 4);
}

#[tokio::test]
async fn denials_reach_kubectl_and_kube_rs_as_a_real_server_words_them() {
    let certificates = pki(&["127.0.0.1"]);
    let webhook = Webhook::start(certificates.tls.clone(), |path, review| {
        let size = review["request"]["object"]["spec"]["size"].as_i64().unwrap_or(0);
        match path.split('?').next() {
            Some("/forbid") if size > 5 => Answer::Deny(
                json!({"code": 403, "reason": "Forbidden", "message": format!("size {size} is more than this namespace allows")}),
                vec!["sizes are checked"],
            ),
            Some("/plain") if size == 1 => Answer::Deny(json!({"message": "size 1 is too small"}), vec![]),
            _ => Answer::Allow(vec![]),
        }
    })
    .await;
    let (server, client, widgets) = started().await;
    register(
        &client,
        "sizes",
        vec![
            hook(
                "forbid.sizes.example.com",
                url_config(webhook.url("/forbid"), &certificates.ca_bundle),
                widget_rules(&["CREATE"]),
            ),
            hook(
                "plain.sizes.example.com",
                url_config(webhook.url("/plain"), &certificates.ca_bundle),
                widget_rules(&["CREATE"]),
            ),
        ],
    )
    .await;

    let kubectl = Kubectl::new(&server);
    let big = json_input(json!({
        "apiVersion": "example.com/v1", "kind": "Widget",
        "metadata": {"name": "big"}, "spec": {"size": 7, "color": "red"}
    }));
    let refused = kubectl.run_with_input(&["apply", "-f", "-"], &big).await.failed();
    assert_eq!(
        refused.stderr,
        "Warning: sizes are checked\nError from server (Forbidden): error when creating \"STDIN\": admission webhook \"forbid.sizes.example.com\" denied the request: size 7 is more than this namespace allows\n"
    );

    let status = refusal(
        widgets
            .create(&PostParams::default(), &widget("bigger", 8, json!({})))
            .await,
    );
    assert_eq!(status.code, 403);
    assert_eq!(status.reason, "Forbidden");
    assert_eq!(
        status.message,
        "admission webhook \"forbid.sizes.example.com\" denied the request: size 8 is more than this namespace allows"
    );

    // A refusal without a code is a 400 without a reason.
    let small = json_input(json!({
        "apiVersion": "example.com/v1", "kind": "Widget",
        "metadata": {"name": "small"}, "spec": {"size": 1, "color": "red"}
    }));
    let refused = kubectl.run_with_input(&["apply", "-f", "-"], &small).await.failed();
    assert_eq!(
        refused.stderr,
        "Error from server: error when creating \"STDIN\": admission webhook \"plain.sizes.example.com\" denied the request: size 1 is too small\n"
    );
    let status = refusal(
        widgets
            .create(&PostParams::default(), &widget("tiny", 1, json!({})))
            .await,
    );
    assert_eq!((status.code, status.reason.as_str()), (400, ""));

    assert!(
        widgets.get_opt("big").await.expect("get").is_none(),
        "nothing refused is stored"
    );
    widgets
        .create(&PostParams::default(), &widget("fine", 3, json!({})))
        .await
        .expect("allowed by both");
}

#[tokio::test]
async fn rules_and_selectors_choose_the_webhooks_called() {
    let certificates = pki(&["127.0.0.1"]);
    let webhook = Webhook::start(certificates.tls.clone(), |_, _| Answer::Allow(vec![])).await;
    let (_server, client, widgets) = started().await;
    let config = |path: &str| url_config(webhook.url(path), &certificates.ca_bundle);
    let everything = |scope: &str| json!([{"apiGroups": ["*"], "apiVersions": ["*"], "operations": ["*"], "resources": ["*"], "scope": scope}]);
    let mut team_a = hook("team.example.com", config("/team-a"), widget_rules(&["*"]));
    team_a["namespaceSelector"] = json!({"matchLabels": {"team": "a"}});
    let mut big = hook("big.example.com", config("/big"), widget_rules(&["*"]));
    big["matchConditions"] = json!([
        {"name": "not-deleting", "expression": "request.operation != 'DELETE'"},
        {"name": "big", "expression": "object.spec.size > 5"},
    ]);
    let mut labelled = hook("labelled.example.com", config("/labelled"), everything("Namespaced"));
    labelled["objectSelector"] = json!({"matchExpressions": [{"key": "reviewed", "operator": "Exists"}]});
    register(
        &client,
        "choices",
        vec![
            hook("create.example.com", config("/create-only"), widget_rules(&["CREATE"])),
            team_a,
            big,
            labelled,
            hook(
                "status.example.com",
                config("/status"),
                json!([{"apiGroups": ["example.com"], "apiVersions": ["v1"], "operations": ["UPDATE"], "resources": ["widgets/status"]}]),
            ),
            hook(
                "other.example.com",
                config("/other-group"),
                json!([{"apiGroups": ["other.example.com"], "apiVersions": ["*"], "operations": ["*"], "resources": ["*"]}]),
            ),
            hook("cluster.example.com", config("/cluster"), everything("Cluster")),
        ],
    )
    .await;

    let namespace: Namespace =
        serde_json::from_value(json!({"metadata": {"name": "team-a", "labels": {"team": "a"}}})).expect("namespace");
    Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &namespace)
        .await
        .expect("namespace");
    assert_eq!(webhook.paths(), ["/cluster"], "a Namespace is cluster-scoped");

    widgets
        .create(&PostParams::default(), &widget("plain", 1, json!({})))
        .await
        .expect("create");
    assert_eq!(webhook.paths(), ["/create-only"]);

    widgets
        .create(&PostParams::default(), &widget("large", 6, json!({})))
        .await
        .expect("create");
    assert_eq!(webhook.paths(), ["/big", "/create-only"], "match conditions hold");
    widgets.delete("large", &DeleteParams::default()).await.expect("delete");
    assert!(webhook.paths().is_empty(), "a false condition skips the webhook");

    let team_widgets: Api<DynamicObject> = Api::namespaced_with(client.clone(), "team-a", &widget_resource());
    team_widgets
        .create(&PostParams::default(), &widget("teamed", 1, json!({})))
        .await
        .expect("create in team-a");
    assert_eq!(
        webhook.paths(),
        ["/create-only", "/team-a"],
        "the namespace's labels select"
    );

    let merge = |value: Value| Patch::Merge(value);
    team_widgets
        .patch("teamed", &PatchParams::default(), &merge(json!({"spec": {"size": 2}})))
        .await
        .expect("update in team-a");
    assert_eq!(webhook.paths(), ["/team-a"], "an update is not a create");

    widgets
        .patch(
            "plain",
            &PatchParams::default(),
            &merge(json!({"metadata": {"labels": {"reviewed": "yes"}}})),
        )
        .await
        .expect("label");
    assert_eq!(webhook.paths(), ["/labelled"], "the new object's labels select");

    widgets
        .patch_status(
            "plain",
            &PatchParams::default(),
            &merge(json!({"status": {"conditions": []}})),
        )
        .await
        .expect("status");
    let status_reviews = webhook.take();
    let paths: Vec<&str> = status_reviews.iter().map(|(path, _)| path.as_str()).collect();
    assert_eq!(
        paths,
        ["/status?timeout=10s"],
        "`*` is no subresource, `widgets/status` is"
    );
    assert_eq!(status_reviews[0].1["request"]["subResource"], "status");

    let config_map: ConfigMap =
        serde_json::from_value(json!({"metadata": {"name": "settings", "labels": {"reviewed": "yes"}}}))
            .expect("configmap");
    Api::<ConfigMap>::namespaced(client.clone(), "default")
        .create(&PostParams::default(), &config_map)
        .await
        .expect("configmap");
    assert_eq!(webhook.paths(), ["/labelled"], "wildcards match core kinds too");

    widgets.delete("plain", &DeleteParams::default()).await.expect("delete");
    assert_eq!(
        webhook.paths(),
        ["/labelled"],
        "a delete is selected by the old object's labels"
    );
}

#[tokio::test]
async fn an_unreachable_webhook_refuses_with_fail_and_is_passed_over_with_ignore() {
    let certificates = pki(&["127.0.0.1"]);
    let closed = TcpListener::bind("127.0.0.1:0").await.expect("port");
    let port = closed.local_addr().expect("address").port();
    drop(closed);
    let (server, client, widgets) = started().await;
    let url = format!("https://127.0.0.1:{port}/validate");
    let mut ignored = hook(
        "ignored.example.com",
        url_config(url.clone(), &certificates.ca_bundle),
        widget_rules(&["CREATE"]),
    );
    ignored["failurePolicy"] = json!("Ignore");
    ignored["objectSelector"] = json!({"matchLabels": {"policy": "ignore"}});
    let mut failing = hook(
        "failing.example.com",
        url_config(url, &certificates.ca_bundle),
        widget_rules(&["CREATE"]),
    );
    failing["objectSelector"] = json!({"matchLabels": {"policy": "fail"}});
    register(&client, "down", vec![ignored, failing]).await;

    widgets
        .create(
            &PostParams::default(),
            &widget("ignored", 1, json!({"policy": "ignore"})),
        )
        .await
        .expect("Ignore lets the request through");

    let kubectl = Kubectl::new(&server);
    let manifest = json_input(json!({
        "apiVersion": "example.com/v1", "kind": "Widget",
        "metadata": {"name": "failed", "labels": {"policy": "fail"}}, "spec": {"size": 1, "color": "red"}
    }));
    let refused = kubectl.run_with_input(&["apply", "-f", "-"], &manifest).await.failed();
    assert_eq!(
        refused.stderr,
        format!(
            "Error from server (InternalError): error when creating \"STDIN\": Internal error occurred: failed calling webhook \"failing.example.com\": failed to call webhook: Post \"https://127.0.0.1:{port}/validate?timeout=10s\": dial tcp 127.0.0.1:{port}: connect: connection refused\n"
        )
    );
    let status = refusal(
        widgets
            .create(&PostParams::default(), &widget("failed", 1, json!({"policy": "fail"})))
            .await,
    );
    assert_eq!((status.code, status.reason.as_str()), (500, "InternalError"));
}

#[tokio::test]
async fn a_webhook_that_does_not_answer_in_time_is_a_failed_call() {
    let certificates = pki(&["127.0.0.1"]);
    let webhook = Webhook::start(certificates.tls.clone(), |_, _| Answer::Hang).await;
    let (_server, client, widgets) = started().await;
    let mut hooks = vec![];
    for (name, policy) in [("slow-fail.example.com", "Fail"), ("slow-ignore.example.com", "Ignore")] {
        let mut slow = hook(
            name,
            url_config(webhook.url("/slow"), &certificates.ca_bundle),
            widget_rules(&["CREATE"]),
        );
        slow["timeoutSeconds"] = json!(1);
        slow["failurePolicy"] = json!(policy);
        slow["objectSelector"] = json!({"matchLabels": {"policy": policy}});
        hooks.push(slow);
    }
    register(&client, "slow", hooks).await;

    let post = PostParams::default();
    let (failing, ignoring) = (
        widget("failed", 1, json!({"policy": "Fail"})),
        widget("ignored", 1, json!({"policy": "Ignore"})),
    );
    let started_at = Instant::now();
    let (failed, ignored) = tokio::join!(widgets.create(&post, &failing), widgets.create(&post, &ignoring));
    let elapsed = started_at.elapsed();
    let status = refusal(failed);
    assert_eq!(
        status.message,
        format!(
            "Internal error occurred: failed calling webhook \"slow-fail.example.com\": failed to call webhook: Post \"https://127.0.0.1:{}/slow?timeout=1s\": context deadline exceeded",
            webhook.port
        )
    );
    ignored.expect("Ignore lets a slow webhook's request through");
    assert!(
        elapsed >= Duration::from_secs(1) && elapsed < Duration::from_secs(5),
        "{elapsed:?}"
    );
}
