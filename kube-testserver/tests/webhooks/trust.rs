//! Which certificates are trusted, service references, deletes, dry runs, and the
//! ValidatingWebhookConfiguration kind itself.

use super::*;

#[tokio::test]
async fn the_ca_bundle_decides_which_certificate_is_trusted() {
    let certificates = pki(&["webhook.system.svc", "127.0.0.1"]);
    let stranger = named_pki("stranger-ca", &["127.0.0.1"]);
    let webhook = Webhook::start(certificates.tls.clone(), |_, _| Answer::Allow(vec![])).await;
    let (_server, client, widgets) = started().await;
    let not_pem = base64::engine::general_purpose::STANDARD.encode("not a certificate");
    let cases = [
        ("trusted", url_config(webhook.url("/v"), &certificates.ca_bundle)),
        ("stranger", url_config(webhook.url("/v"), &stranger.ca_bundle)),
        ("absent", json!({"url": webhook.url("/v")})),
        ("garbage", url_config(webhook.url("/v"), &not_pem)),
        (
            "hostname",
            url_config(format!("https://localhost:{}/v", webhook.port), &certificates.ca_bundle),
        ),
    ];
    let hooks = cases
        .iter()
        .map(|(case, config)| {
            let mut one = hook(
                &format!("{case}.ca.example.com"),
                config.clone(),
                widget_rules(&["CREATE"]),
            );
            one["objectSelector"] = json!({"matchLabels": {"case": case}});
            one
        })
        .collect();
    register(&client, "cas", hooks).await;

    let create = |case: &'static str| {
        let widgets = widgets.clone();
        async move {
            widgets
                .create(&PostParams::default(), &widget(case, 1, json!({"case": case})))
                .await
        }
    };
    create("trusted").await.expect("the bundle signed the certificate");
    let url = webhook.url("/v?timeout=10s");
    let unknown = "tls: failed to verify certificate: x509: certificate signed by unknown authority";
    for case in ["stranger", "absent"] {
        assert_eq!(
            refusal(create(case).await).message,
            format!(
                "Internal error occurred: failed calling webhook \"{case}.ca.example.com\": failed to call webhook: Post \"{url}\": {unknown}"
            )
        );
    }
    assert_eq!(
        refusal(create("garbage").await).message,
        "Internal error occurred: failed calling webhook \"garbage.ca.example.com\": could not get REST client: unable to load root certificates: unable to parse bytes as PEM block"
    );
    assert_eq!(
        refusal(create("hostname").await).message,
        format!(
            "Internal error occurred: failed calling webhook \"hostname.ca.example.com\": failed to call webhook: Post \"https://localhost:{}/v?timeout=10s\": tls: failed to verify certificate: x509: certificate is valid for webhook.system.svc, not localhost",
            webhook.port
        )
    );

    // A caBundle that is not base64 does not decode.
    let body = json!({
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": "undecodable"},
        "webhooks": [hook(
            "bad.example.com",
            json!({"url": webhook.url("/v"), "caBundle": "ab$d"}),
            widget_rules(&["CREATE"]),
        )],
    });
    let raw = client
        .request::<Value>(
            axum::http::Request::post("/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations")
                .header("content-type", "application/json")
                .body(body.to_string().into_bytes())
                .expect("request"),
        )
        .await;
    let status = refusal(raw);
    assert_eq!(status.code, 400);
    assert_eq!(
        status.message,
        "ValidatingWebhookConfiguration in version \"v1\" cannot be handled as a ValidatingWebhookConfiguration: illegal base64 data at input byte 2"
    );
}

#[tokio::test]
async fn service_references_reach_the_mapped_address_and_check_the_service_name() {
    // The certificate names only the service: connecting to 127.0.0.1 still checks that name.
    let certificates = pki(&["webhook.system.svc"]);
    let webhook = Webhook::start(certificates.tls.clone(), |_, _| Answer::Allow(vec![])).await;
    let server = TestServer::builder()
        .service_endpoint("system", "webhook", 443, &format!("https://127.0.0.1:{}", webhook.port))
        .start()
        .await
        .expect("server");
    let (server, client, widgets) = server_with_widgets(server).await;
    let service = |name: &str, port: Option<u16>| {
        let mut service = json!({"namespace": "system", "name": name, "path": "/validate"});
        if let Some(port) = port {
            service["port"] = json!(port);
        }
        json!({"service": service, "caBundle": certificates.ca_bundle})
    };
    let mut mapped = hook(
        "mapped.example.com",
        service("webhook", None),
        widget_rules(&["CREATE"]),
    );
    mapped["objectSelector"] = json!({"matchLabels": {"service": "mapped"}});
    let mut unmapped = hook(
        "unmapped.example.com",
        service("missing", None),
        widget_rules(&["CREATE"]),
    );
    unmapped["objectSelector"] = json!({"matchLabels": {"service": "missing"}});
    let mut later = hook(
        "later.example.com",
        service("webhook", Some(8443)),
        widget_rules(&["CREATE"]),
    );
    later["objectSelector"] = json!({"matchLabels": {"service": "later"}});
    register(&client, "services", vec![mapped, unmapped, later]).await;

    let stored = Api::<ValidatingWebhookConfiguration>::all(client.clone())
        .get("services")
        .await
        .expect("stored");
    let port = stored
        .webhooks
        .as_ref()
        .and_then(|w| w[0].client_config.service.as_ref()?.port);
    assert_eq!(port, Some(443), "the port is defaulted");

    widgets
        .create(
            &PostParams::default(),
            &widget("mapped", 1, json!({"service": "mapped"})),
        )
        .await
        .expect("the mapped service answers");
    assert_eq!(webhook.take()[0].0, "/validate?timeout=10s");

    assert_eq!(
        refusal(
            widgets
                .create(
                    &PostParams::default(),
                    &widget("missing", 1, json!({"service": "missing"}))
                )
                .await
        )
        .message,
        "Internal error occurred: failed calling webhook \"unmapped.example.com\": failed to call webhook: Post \"https://missing.system.svc:443/validate?timeout=10s\": dial tcp: lookup missing.system.svc: no such host"
    );

    // A webhook started after the server is mapped on the running server.
    server.service_endpoint("system", "webhook", 8443, &format!("127.0.0.1:{}", webhook.port));
    widgets
        .create(&PostParams::default(), &widget("later", 1, json!({"service": "later"})))
        .await
        .expect("mapped at run time");
}

#[tokio::test]
async fn deletes_are_reviewed_with_the_old_object() {
    let certificates = pki(&["127.0.0.1"]);
    let webhook = Webhook::start(certificates.tls.clone(), |_, review| {
        let protected = review["request"]["oldObject"]["metadata"]["labels"]["protected"] == "true";
        if protected {
            Answer::Deny(
                json!({"code": 403, "reason": "Forbidden", "message": "protected widgets stay"}),
                vec![],
            )
        } else {
            Answer::Allow(vec![])
        }
    })
    .await;
    let (server, client, widgets) = started().await;
    widgets
        .create(
            &PostParams::default(),
            &widget("guarded", 1, json!({"protected": "true"})),
        )
        .await
        .expect("create");
    widgets
        .create(&PostParams::default(), &widget("plain", 1, json!({})))
        .await
        .expect("create");
    register(
        &client,
        "deletes",
        vec![hook(
            "deletes.example.com",
            url_config(webhook.url("/deletes"), &certificates.ca_bundle),
            widget_rules(&["DELETE"]),
        )],
    )
    .await;

    let kubectl = Kubectl::new(&server);
    let refused = kubectl.run(&["delete", "widget", "guarded"]).await.failed();
    assert_eq!(
        refused.stderr,
        "Error from server (Forbidden): admission webhook \"deletes.example.com\" denied the request: protected widgets stay\n"
    );
    let (_, review) = webhook.take().pop().expect("delete reviewed");
    let request = &review["request"];
    assert_eq!(request["operation"], "DELETE");
    assert_eq!(request["name"], "guarded");
    assert_eq!(request["object"], Value::Null);
    assert_eq!(request["oldObject"]["metadata"]["name"], "guarded");
    assert_eq!(request["options"]["kind"], "DeleteOptions");
    assert_eq!(request["options"]["propagationPolicy"], "Background");
    assert!(widgets.get_opt("guarded").await.expect("get").is_some(), "still there");

    widgets
        .delete("plain", &DeleteParams::default())
        .await
        .expect("allowed");
    assert!(widgets.get_opt("plain").await.expect("get").is_none());

    // A collection delete asks about each object and stops at the refusal.
    let refused = refusal(
        widgets
            .delete_collection(&DeleteParams::default(), &Default::default())
            .await,
    );
    assert_eq!(refused.code, 403);
}

#[tokio::test]
async fn a_webhook_may_read_from_the_server_while_it_judges() {
    let certificates = pki(&["127.0.0.1"]);
    let (_server, client, widgets) = started().await;
    let config_maps = Api::<ConfigMap>::namespaced(client.clone(), "default");
    let limits: ConfigMap =
        serde_json::from_value(json!({"metadata": {"name": "limits"}, "data": {"max": "4"}})).expect("limits");
    config_maps
        .create(&PostParams::default(), &limits)
        .await
        .expect("limits");
    let reader = config_maps.clone();
    let webhook = Webhook::start(certificates.tls.clone(), move |_, _| {
        Answer::CheckLimits(Box::new(reader.clone()))
    })
    .await;
    register(
        &client,
        "limits",
        vec![hook(
            "limits.example.com",
            url_config(webhook.url("/limits"), &certificates.ca_bundle),
            widget_rules(&["CREATE", "UPDATE"]),
        )],
    )
    .await;
    widgets
        .create(&PostParams::default(), &widget("small", 4, json!({})))
        .await
        .expect("within the limit");
    let status = refusal(
        widgets
            .create(&PostParams::default(), &widget("large", 5, json!({})))
            .await,
    );
    assert_eq!(
        status.message,
        "admission webhook \"limits.example.com\" denied the request: size 5 is over 4"
    );
}

#[tokio::test]
async fn server_dry_runs_are_reviewed_as_dry_runs() {
    let certificates = pki(&["127.0.0.1"]);
    let webhook = Webhook::start(certificates.tls.clone(), |_, _| Answer::Allow(vec![])).await;
    let (server, client, widgets) = started().await;
    register(
        &client,
        "dry",
        vec![hook(
            "dry.example.com",
            url_config(webhook.url("/dry"), &certificates.ca_bundle),
            widget_rules(&["CREATE"]),
        )],
    )
    .await;
    let manifest = json_input(json!({
        "apiVersion": "example.com/v1", "kind": "Widget",
        "metadata": {"name": "trial"}, "spec": {"size": 1, "color": "red"}
    }));
    Kubectl::new(&server)
        .run_with_input(&["apply", "--dry-run=server", "-f", "-"], &manifest)
        .await
        .ok();
    let (_, review) = webhook.take().pop().expect("reviewed");
    assert_eq!(review["request"]["dryRun"], true);
    assert_eq!(review["request"]["options"]["dryRun"], json!(["All"]));
    assert!(
        widgets.get_opt("trial").await.expect("get").is_none(),
        "a dry run stores nothing"
    );
}

#[tokio::test]
async fn webhook_configurations_are_served_as_the_real_server_serves_them() {
    let server = TestServer::start().await.expect("server");
    let kubectl = Kubectl::new(&server);
    let manifest = |name: &str, timeout: Option<u64>| {
        let mut webhook = json!({
            "name": "validate.awsaccess.dev",
            "clientConfig": {"service": {"namespace": "aws-access-operator-system", "name": "aws-access-operator-webhook", "path": "/validate"}},
            "rules": [{"apiGroups": ["awsaccess.dev"], "apiVersions": ["v1alpha1"], "operations": ["CREATE", "UPDATE"], "resources": ["crossaccountroles"]}],
            "sideEffects": "None",
            "admissionReviewVersions": ["v1"],
        });
        if let Some(timeout) = timeout {
            webhook["timeoutSeconds"] = json!(timeout);
        }
        json!({
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingWebhookConfiguration",
            "metadata": {"name": name, "annotations": {"cert-manager.io/inject-ca-from": "aws-access-operator-system/serving-cert"}},
            "webhooks": [webhook],
        })
    };
    let apply = |manifest: Value| {
        let input = json_input(manifest);
        let kubectl = &kubectl;
        async move { kubectl.run_with_input(&["apply", "-f", "-"], &input).await }
    };
    let created = apply(manifest("aws-access-operator", None)).await.ok();
    assert_eq!(
        created.stdout.trim(),
        "validatingwebhookconfiguration.admissionregistration.k8s.io/aws-access-operator created"
    );
    let listed = kubectl
        .run(&["get", "validatingwebhookconfigurations"])
        .await
        .ok()
        .stdout;
    let mut lines = listed.lines();
    let header: Vec<&str> = lines.next().expect("header").split_whitespace().collect();
    assert_eq!(header, ["NAME", "WEBHOOKS", "AGE"]);
    let row: Vec<&str> = lines.next().expect("row").split_whitespace().collect();
    assert_eq!(row[..2], ["aws-access-operator", "1"]);

    let yaml = kubectl
        .run(&[
            "get",
            "validatingwebhookconfiguration",
            "aws-access-operator",
            "-o",
            "json",
        ])
        .await
        .ok()
        .stdout;
    let stored: Value = serde_json::from_str(&yaml).expect("json");
    let webhook = &stored["webhooks"][0];
    assert_eq!(webhook["failurePolicy"], "Fail");
    assert_eq!(webhook["matchPolicy"], "Equivalent");
    assert_eq!(webhook["namespaceSelector"], json!({}));
    assert_eq!(webhook["objectSelector"], json!({}));
    assert_eq!(webhook["timeoutSeconds"], 10);
    assert_eq!(webhook["rules"][0]["scope"], "*");
    assert_eq!(webhook["clientConfig"]["service"]["port"], 443);

    let reapplied = apply(manifest("aws-access-operator", Some(5))).await.ok();
    assert_eq!(
        reapplied.stdout.trim(),
        "validatingwebhookconfiguration.admissionregistration.k8s.io/aws-access-operator configured"
    );
    let timeout = kubectl
        .run(&[
            "get",
            "validatingwebhookconfiguration",
            "aws-access-operator",
            "-o",
            "jsonpath={.webhooks[0].timeoutSeconds} {.webhooks[0].clientConfig.service.name}",
        ])
        .await
        .ok()
        .stdout;
    assert_eq!(timeout, "5 aws-access-operator-webhook");

    let mut invalid = manifest("bad", None);
    invalid["webhooks"][0]
        .as_object_mut()
        .expect("webhook")
        .remove("sideEffects");
    let refused = apply(invalid).await.failed();
    assert!(
        refused.stderr.contains(
            "The ValidatingWebhookConfiguration \"bad\" is invalid: webhooks[0].sideEffects: Required value: must specify one of None, NoneOnDryRun"
        ),
        "{}",
        refused.stderr
    );
    let configurations = Api::<ValidatingWebhookConfiguration>::all(server.client().expect("client"))
        .list(&Default::default())
        .await
        .expect("list");
    let names: Vec<String> = configurations.items.iter().map(|c| c.name_any()).collect();
    assert_eq!(names, ["aws-access-operator"]);
}
