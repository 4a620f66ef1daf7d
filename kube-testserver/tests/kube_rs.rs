//! The server as kube-rs sees it: the runtime's Controller, reflector and
//! watcher, `Api::entry`, finalizers and garbage collection.

// Tests say what they expect by unwrapping it, helpers included (clippy.toml
// allows it only in test functions): a panic is a failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, Patch, PatchParams, PostParams};
use kube::runtime::controller::Action;
use kube::runtime::finalizer::{Event as Finalizer, finalizer};
use kube::runtime::watcher::{self, Event};
use kube::runtime::{Controller, WatchStreamExt, predicates};
use kube::{Client, ResourceExt};
use kube_testserver::TestServer;
use serde_json::json;

fn widget_resource() -> ApiResource {
    ApiResource {
        group: "example.com".into(),
        version: "v1".into(),
        api_version: "example.com/v1".into(),
        kind: "Widget".into(),
        plural: "widgets".into(),
    }
}

async fn server_with_crd() -> (TestServer, Client, Api<DynamicObject>) {
    let server = TestServer::start().await.expect("server");
    let client = server.client().expect("client");
    let crd: CustomResourceDefinition =
        serde_yaml_ng::from_str(&std::fs::read_to_string(support::fixture("widget-crd.yaml")).expect("fixture"))
            .expect("crd yaml");
    Api::<CustomResourceDefinition>::all(client.clone())
        .create(&PostParams::default(), &crd)
        .await
        .expect("crd created");
    let widgets = Api::namespaced_with(client.clone(), "default", &widget_resource());
    (server, client, widgets)
}

fn widget(name: &str, size: i64) -> DynamicObject {
    serde_json::from_value(json!({
        "apiVersion": "example.com/v1", "kind": "Widget",
        "metadata": {"name": name},
        "spec": {"size": size, "color": "green"}
    }))
    .expect("widget")
}

/// Polls `check` until it holds, for at most ten seconds.
async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    for _ in 0..400 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("timed out waiting for {what}");
}

struct Counter {
    reconciles: AtomicUsize,
    api: Api<DynamicObject>,
}

#[tokio::test]
async fn controller_reconciles_objects_made_before_and_after_it_starts() {
    let (_server, _client, widgets) = server_with_crd().await;
    widgets
        .create(&PostParams::default(), &widget("before", 1))
        .await
        .expect("create");

    let context = Arc::new(Counter {
        reconciles: AtomicUsize::new(0),
        api: widgets.clone(),
    });

    // The controller marks each object it reconciles in status, which must not trigger another reconcile.
    let controller = Controller::new_with(widgets.clone(), watcher::Config::default(), widget_resource())
        .run(
            |object: Arc<DynamicObject>, ctx: Arc<Counter>| async move {
                ctx.reconciles.fetch_add(1, Ordering::SeqCst);
                let status = Patch::Merge(json!({"status": {"conditions": [{"type": "Ready", "status": "True", "reason": "Seen", "message": "", "lastTransitionTime": "2026-01-01T00:00:00Z"}]}}));
                ctx.api.patch_status(&object.name_any(), &PatchParams::default(), &status).await?;
                Ok::<_, kube::Error>(Action::await_change())
            },
            |_object, _error: &kube::Error, _ctx| Action::requeue(Duration::from_millis(100)),
            context.clone(),
        )
        .for_each(|_| async {});
    let running = tokio::spawn(controller);

    widgets
        .create(&PostParams::default(), &widget("after", 2))
        .await
        .expect("create");
    for name in ["before", "after"] {
        eventually(name, async || {
            widgets
                .get(name)
                .await
                .ok()
                .and_then(|w| w.data.pointer("/status/conditions/0/status").cloned())
                == Some(json!("True"))
        })
        .await;
    }
    running.abort();
}

#[tokio::test]
async fn generation_predicate_filters_status_only_changes() {
    let (_server, _client, widgets) = server_with_crd().await;
    widgets
        .create(&PostParams::default(), &widget("one", 1))
        .await
        .expect("create");
    let seen = Arc::new(AtomicUsize::new(0));
    let counted = seen.clone();
    let stream = watcher::watcher(widgets.clone(), watcher::Config::default())
        .applied_objects()
        .predicate_filter(predicates::generation, Default::default())
        .try_for_each(move |_| {
            counted.fetch_add(1, Ordering::SeqCst);
            async { Ok(()) }
        });
    let running = tokio::spawn(stream);
    eventually("first sighting", async || seen.load(Ordering::SeqCst) == 1).await;

    let status = Patch::Merge(json!({"status": {"conditions": [{"type": "Ready", "status": "False"}]}}));
    widgets
        .patch_status("one", &PatchParams::default(), &status)
        .await
        .expect("status");
    let spec = Patch::Merge(json!({"spec": {"size": 7}}));
    let changed = widgets
        .patch("one", &PatchParams::default(), &spec)
        .await
        .expect("spec");
    assert_eq!(changed.metadata.generation, Some(2));
    eventually("spec change seen", async || seen.load(Ordering::SeqCst) == 2).await;
    // The status change came first and was filtered: exactly two sightings.
    assert_eq!(seen.load(Ordering::SeqCst), 2);
    running.abort();
}

#[tokio::test]
async fn finalizer_helper_runs_cleanup_on_delete() {
    let (_server, client, widgets) = server_with_crd().await;
    let cleaned = Arc::new(AtomicUsize::new(0));
    let ctx = cleaned.clone();
    let api = widgets.clone();
    let controller = Controller::new_with(widgets.clone(), watcher::Config::default(), widget_resource())
        .run(
            move |object: Arc<DynamicObject>, cleaned: Arc<AtomicUsize>| {
                let api = api.clone();
                async move {
                    finalizer(&api, "example.com/cleanup", object, |event| async move {
                        if let Finalizer::Cleanup(_) = event {
                            cleaned.fetch_add(1, Ordering::SeqCst);
                        }
                        Ok::<_, kube::Error>(Action::await_change())
                    })
                    .await
                }
            },
            |_object, _error, _ctx| Action::requeue(Duration::from_millis(100)),
            ctx,
        )
        .for_each(|_| async {});
    let running = tokio::spawn(controller);

    widgets
        .create(&PostParams::default(), &widget("doomed", 1))
        .await
        .expect("create");
    eventually("finalizer added", async || {
        widgets
            .get("doomed")
            .await
            .map(|w| w.finalizers().contains(&"example.com/cleanup".to_string()))
            .unwrap_or(false)
    })
    .await;
    widgets
        .delete("doomed", &DeleteParams::default())
        .await
        .expect("delete");
    eventually("object gone", async || {
        widgets.get_opt("doomed").await.expect("get").is_none()
    })
    .await;
    assert_eq!(cleaned.load(Ordering::SeqCst), 1);
    drop(client);
    running.abort();
}

#[tokio::test]
async fn watcher_relists_after_410_gone() {
    let server = TestServer::start().await.expect("server");
    let client = server.client().expect("client");
    let maps: Api<ConfigMap> = Api::default_namespaced(client);
    let map =
        |name: &str| -> ConfigMap { serde_json::from_value(json!({"metadata": {"name": name}})).expect("configmap") };
    maps.create(&PostParams::default(), &map("first"))
        .await
        .expect("create");

    let mut events = watcher::watcher(maps.clone(), watcher::Config::default()).boxed();
    let mut inits = 0;
    // The first listing.
    while let Some(event) = events.try_next().await.expect("watch") {
        match event {
            Event::Init => inits += 1,
            Event::InitDone => break,
            _ => {}
        }
    }
    assert_eq!(inits, 1);

    server.expire_watches();
    maps.create(&PostParams::default(), &map("second"))
        .await
        .expect("create");
    // The watch ended; resuming from the old resourceVersion is Gone, so the watcher lists again and finds both.
    let mut relisted = vec![];
    let mut restarted = false;
    loop {
        let next = tokio::time::timeout(Duration::from_secs(10), events.next())
            .await
            .expect("watcher moves on in time");
        match next.expect("the watcher stream does not end") {
            Ok(Event::Init) => restarted = true,
            Ok(Event::InitApply(object)) => relisted.push(object.name_any()),
            Ok(Event::InitDone) if restarted => break,
            Ok(_) => {}
            // The 410 surfaces as one error item before the watcher relists.
            Err(_) => {}
        }
    }
    assert!(restarted, "watcher restarted with a fresh list");
    relisted.sort();
    assert_eq!(relisted, ["first", "second"]);
}

#[tokio::test]
async fn streaming_list_watcher_gets_initial_events_then_changes() {
    let server = TestServer::start().await.expect("server");
    let client = server.client().expect("client");
    let maps: Api<ConfigMap> = Api::default_namespaced(client);
    maps.create(
        &PostParams::default(),
        &serde_json::from_value(json!({"metadata": {"name": "a"}})).expect("cm"),
    )
    .await
    .expect("create");
    let mut events = watcher::watcher(maps.clone(), watcher::Config::default().streaming_lists()).boxed();
    let mut initial = vec![];
    while let Some(event) = events.try_next().await.expect("watch") {
        match event {
            Event::InitApply(object) => initial.push(object.name_any()),
            Event::InitDone => break,
            _ => {}
        }
    }
    assert_eq!(initial, ["a"]);
    maps.create(
        &PostParams::default(),
        &serde_json::from_value(json!({"metadata": {"name": "b"}})).expect("cm"),
    )
    .await
    .expect("create");
    let next = tokio::time::timeout(Duration::from_secs(10), events.try_next())
        .await
        .expect("in time")
        .expect("watch");
    match next {
        Some(Event::Apply(object)) => assert_eq!(object.name_any(), "b"),
        other => panic!("expected the new object, got {other:?}"),
    }
}

#[tokio::test]
async fn entry_api_creates_then_updates() {
    let server = TestServer::start().await.expect("server");
    let maps: Api<ConfigMap> = Api::default_namespaced(server.client().expect("client"));
    maps.entry("settings")
        .await
        .expect("entry")
        .or_insert(|| serde_json::from_value(json!({"data": {"color": "red"}})).expect("cm"))
        .commit(&PostParams::default())
        .await
        .expect("insert");
    maps.entry("settings")
        .await
        .expect("entry")
        .and_modify(|map| {
            map.data.get_or_insert_default().insert("color".into(), "blue".into());
        })
        .or_insert(ConfigMap::default)
        .commit(&PostParams::default())
        .await
        .expect("update");
    let stored = maps.get("settings").await.expect("get");
    assert_eq!(stored.data.expect("data")["color"], "blue");
}

#[tokio::test]
async fn owner_references_are_garbage_collected() {
    let server = TestServer::start().await.expect("server");
    let client = server.client().expect("client");
    let namespaces: Api<Namespace> = Api::all(client.clone());
    namespaces
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "gc"}})).expect("ns"),
        )
        .await
        .expect("ns");
    let maps: Api<ConfigMap> = Api::namespaced(client, "gc");
    for (propagation, owner_name) in [
        (None, "owner-background"),
        (Some(kube::api::PropagationPolicy::Foreground), "owner-foreground"),
    ] {
        let owner = maps
            .create(
                &PostParams::default(),
                &serde_json::from_value(json!({"metadata": {"name": owner_name}})).expect("cm"),
            )
            .await
            .expect("owner");
        let dependent: ConfigMap = serde_json::from_value(json!({"metadata": {"name": format!("{owner_name}-child"), "ownerReferences": [{
            "apiVersion": "v1", "kind": "ConfigMap", "name": owner_name, "uid": owner.uid().expect("uid"), "blockOwnerDeletion": true
        }]}}))
        .expect("cm");
        maps.create(&PostParams::default(), &dependent)
            .await
            .expect("dependent");
        let params = DeleteParams {
            propagation_policy: propagation,
            ..DeleteParams::default()
        };
        maps.delete(owner_name, &params).await.expect("delete owner");
        eventually("dependent collected", async || {
            maps.get_opt(&format!("{owner_name}-child"))
                .await
                .expect("get")
                .is_none()
        })
        .await;
        assert!(maps.get_opt(owner_name).await.expect("get").is_none());
    }

    // Deleting a namespace removes what is in it, then the namespace.
    namespaces
        .delete("gc", &DeleteParams::default())
        .await
        .expect("delete ns");
    eventually("namespace gone", async || {
        namespaces.get_opt("gc").await.expect("get").is_none()
    })
    .await;
}
