//! Mutating webhooks: their JSON patch is applied before the object is validated again and
//! stored, the validating webhooks see the patched object, and a patch the schema refuses
//! refuses the write. Every verb carries the impersonated user (`Impersonate-User`,
//! `Impersonate-Group`: `kubectl --as`, kube-rs `impersonate`) in `userInfo`.

use kube::Client;
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams, PostParams};
use serde_json::{Value, json};

use super::{Answer, Webhook, hook, pki, register, started, url_config, widget, widget_resource, widget_rules};

/// A client of `server` acting as `user` in `groups`.
fn as_user(server: &kube_testserver::TestServer, user: &str, groups: &[&str]) -> Client {
    let mut config = kube::Config::new(server.url().parse().expect("url"));
    config.auth_info.impersonate = Some(user.into());
    config.auth_info.impersonate_groups = Some(groups.iter().map(|g| g.to_string()).collect());
    Client::try_from(config).expect("client")
}

async fn register_mutating(client: &Client, name: &str, webhooks: Vec<Value>) {
    let configurations = Api::<DynamicObject>::all_with(
        client.clone(),
        &kube::api::ApiResource {
            group: "admissionregistration.k8s.io".into(),
            version: "v1".into(),
            api_version: "admissionregistration.k8s.io/v1".into(),
            kind: "MutatingWebhookConfiguration".into(),
            plural: "mutatingwebhookconfigurations".into(),
        },
    );
    let configuration: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration",
        "metadata": {"name": name}, "webhooks": webhooks,
    }))
    .expect("configuration");
    let stored = configurations
        .create(&PostParams::default(), &configuration)
        .await
        .expect("registered");
    assert_eq!(stored.data["webhooks"][0]["reinvocationPolicy"], "Never", "defaulted");
}

#[tokio::test]
async fn a_mutating_webhook_s_patch_is_stored_and_seen_by_the_validating_ones() {
    let (server, client, _) = started().await;
    let pki = pki(&["127.0.0.1"]);
    // Stamps who creates a widget; a size of 13 it turns into a string, which the schema refuses.
    let mutating = Webhook::start(pki.tls.clone(), |_, review| {
        let request = &review["request"];
        let by = request["userInfo"]["username"].as_str().unwrap_or_default().to_string();
        match request["object"]["spec"]["size"].as_i64() {
            Some(13) => Answer::Patch(json!([{"op": "replace", "path": "/spec/size", "value": "thirteen"}])),
            _ => {
                Answer::Patch(json!([{"op": "add", "path": "/metadata/annotations", "value": {"example.com/by": by}}]))
            }
        }
    })
    .await;
    let validating = Webhook::start(pki.tls.clone(), |_, _| Answer::Allow(vec![])).await;
    let rules = widget_rules(&["CREATE"]);
    register_mutating(
        &client,
        "stamp",
        vec![hook(
            "stamp.example.com",
            url_config(mutating.url("/mutate"), &pki.ca_bundle),
            rules.clone(),
        )],
    )
    .await;
    register(
        &client,
        "check",
        vec![hook(
            "check.example.com",
            url_config(validating.url("/validate"), &pki.ca_bundle),
            widget_rules(&["*"]),
        )],
    )
    .await;

    let carol = as_user(&server, "carol", &["leads"]);
    let widgets: Api<DynamicObject> = Api::namespaced_with(carol.clone(), "default", &widget_resource());
    let made = widgets
        .create(&PostParams::default(), &widget("w1", 1, json!({})))
        .await
        .expect("create");
    assert_eq!(made.metadata.annotations.as_ref().unwrap()["example.com/by"], "carol");
    let seen = mutating.take();
    assert_eq!(
        seen[0].1["request"]["userInfo"]["groups"],
        json!(["leads", "system:authenticated"])
    );
    let checked = validating.take();
    assert_eq!(
        checked[0].1["request"]["object"]["metadata"]["annotations"]["example.com/by"], "carol",
        "validated after mutation"
    );

    // A patch the schema refuses refuses the write.
    let err = widgets
        .create(&PostParams::default(), &widget("w13", 13, json!({})))
        .await
        .unwrap_err();
    let kube::Error::Api(status) = err else {
        panic!("an API error")
    };
    assert_eq!(status.code, 422, "{status:?}");
    assert!(widgets.get_opt("w13").await.expect("get").is_none());

    // Every verb carries the impersonated user to the webhooks.
    validating.take();
    widgets
        .patch(
            "w1",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"size": 2}})),
        )
        .await
        .expect("patch");
    let mut replaced = widgets.get("w1").await.expect("get");
    replaced.data["spec"]["size"] = json!(3);
    widgets
        .replace("w1", &PostParams::default(), &replaced)
        .await
        .expect("update");
    widgets.delete("w1", &DeleteParams::default()).await.expect("delete");
    let users: Vec<(String, Value)> = validating
        .take()
        .into_iter()
        .map(|(_, review)| {
            (
                review["request"]["operation"].as_str().unwrap().to_string(),
                review["request"]["userInfo"]["username"].clone(),
            )
        })
        .collect();
    assert_eq!(
        users,
        [
            ("UPDATE".to_string(), json!("carol")),
            ("UPDATE".to_string(), json!("carol")),
            ("DELETE".to_string(), json!("carol"))
        ]
    );
    assert!(
        mutating.take().is_empty(),
        "the mutating webhook's rules name CREATE only"
    );
}
