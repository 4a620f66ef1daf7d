//! Events: what a controller records through events.k8s.io/v1 (kube-rs's `Recorder`) is what
//! `kubectl describe` and `kubectl get events` read through core/v1, and the other way round.

// Tests say what they expect by unwrapping it, helpers included (clippy.toml
// allows it only in test functions): a panic is a failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Event as CoreEvent, ObjectReference};
use k8s_openapi::api::events::v1::Event;
use kube::Api;
use kube::api::{ApiResource, DynamicObject, ListParams, PostParams, WatchEvent, WatchParams};
use kube::runtime::events::{Event as Recorded, EventType, Recorder, Reporter};
use serde_json::json;
use support::{fixture, server_with_widgets};

fn widget_resource() -> ApiResource {
    ApiResource {
        group: "example.com".into(),
        version: "v1".into(),
        api_version: "example.com/v1".into(),
        kind: "Widget".into(),
        plural: "widgets".into(),
    }
}

#[tokio::test]
async fn kubectl_describe_and_get_events_show_what_a_recorder_published() {
    let (server, kubectl) = server_with_widgets().await;
    let widgets = fixture("widgets.yaml");
    kubectl
        .run(&["apply", "-f", widgets.to_str().expect("utf-8")])
        .await
        .ok();
    let client = server.client().expect("client");
    let alpha = Api::<DynamicObject>::namespaced_with(client.clone(), "default", &widget_resource())
        .get("alpha")
        .await
        .expect("alpha");
    let reference = ObjectReference {
        api_version: Some("example.com/v1".into()),
        kind: Some("Widget".into()),
        name: alpha.metadata.name.clone(),
        namespace: Some("default".into()),
        uid: alpha.metadata.uid.clone(),
        ..Default::default()
    };
    let recorder = Recorder::new(
        client,
        Reporter {
            controller: "widget-controller".into(),
            instance: Some("widget-controller-0".into()),
        },
    );
    let event = Recorded {
        type_: EventType::Warning,
        reason: "SizeTooSmall".into(),
        note: Some("size 3 is below the minimum of 4".into()),
        action: "Reconcile".into(),
        secondary: None,
    };
    recorder.publish(&event, &reference).await.expect("recorded");
    // The second one is a merge patch of the first's series, as the Recorder sends it.
    recorder.publish(&event, &reference).await.expect("recorded again");

    let described = kubectl.run(&["describe", "widget", "alpha"]).await.ok().stdout;
    let events_line = described
        .lines()
        .find(|line| line.contains("SizeTooSmall"))
        .unwrap_or_else(|| panic!("no event in describe:\n{described}"));
    for expected in ["Warning", "widget-controller", "size 3 is below the minimum of 4"] {
        assert!(events_line.contains(expected), "{expected}: {described}");
    }
    assert!(!described.contains("Events:  <none>"), "{described}");

    let listed = kubectl.run(&["get", "events", "-n", "default"]).await.ok().stdout;
    let row = listed
        .lines()
        .find(|line| line.contains("SizeTooSmall"))
        .unwrap_or_else(|| panic!("no event in get events:\n{listed}"));
    for expected in ["Warning", "widget/alpha", "size 3 is below the minimum of 4"] {
        assert!(row.contains(expected), "{expected}: {listed}");
    }

    let yaml = kubectl
        .run(&["get", "events", "-n", "default", "-o", "yaml"])
        .await
        .ok()
        .stdout;
    let list: serde_json::Value = serde_yaml_ng::from_str(&yaml).expect("yaml");
    let item = &list["items"][0];
    assert_eq!(item["apiVersion"], "v1", "{yaml}");
    assert_eq!(item["involvedObject"]["name"], "alpha");
    assert_eq!(item["message"], "size 3 is below the minimum of 4");
    assert_eq!(item["reportingComponent"], "widget-controller");
    assert_eq!(item["series"]["count"], 2, "{yaml}");
}

#[tokio::test]
async fn one_event_through_two_apis() {
    let server = kube_testserver::TestServer::start().await.expect("server");
    let client = server.client().expect("client");
    let core: Api<CoreEvent> = Api::namespaced(client.clone(), "default");
    let events: Api<Event> = Api::namespaced(client, "default");
    let mut watch = core.watch(&WatchParams::default(), "0").await.expect("watch").boxed();

    let written: Event = serde_json::from_value(json!({
        "metadata": {"name": "made.1"},
        "eventTime": "2026-01-01T00:00:00.000000Z",
        "regarding": {"kind": "ConfigMap", "name": "settings", "namespace": "default"},
        "note": "settings made", "reason": "Made", "type": "Normal", "action": "Create",
        "reportingController": "maker", "reportingInstance": "maker-0",
    }))
    .expect("event");
    events.create(&PostParams::default(), &written).await.expect("created");
    let as_core = core.get("made.1").await.expect("read through core/v1");
    assert_eq!(as_core.message.as_deref(), Some("settings made"));
    assert_eq!(as_core.involved_object.name.as_deref(), Some("settings"));
    assert_eq!(as_core.reporting_component.as_deref(), Some("maker"));

    let seen = tokio::time::timeout(Duration::from_secs(5), watch.next())
        .await
        .expect("watch event in time")
        .expect("stream open")
        .expect("watch event");
    match seen {
        WatchEvent::Added(event) => assert_eq!(event.message.as_deref(), Some("settings made")),
        other => panic!("expected ADDED, got {other:?}"),
    }

    let old_style: CoreEvent = serde_json::from_value(json!({
        "metadata": {"name": "old.1"},
        "involvedObject": {"kind": "Secret", "name": "token", "namespace": "default"},
        "message": "token rotated", "reason": "Rotated", "type": "Normal", "count": 3,
        "source": {"component": "rotator"},
    }))
    .expect("event");
    core.create(&PostParams::default(), &old_style).await.expect("created");
    let as_events = events.get("old.1").await.expect("read through events.k8s.io/v1");
    assert_eq!(as_events.note.as_deref(), Some("token rotated"));
    assert_eq!(as_events.deprecated_count, Some(3));
    assert_eq!(
        as_events.deprecated_source.and_then(|s| s.component).as_deref(),
        Some("rotator")
    );

    for (api, selector, expected) in [
        ("events", "regarding.name=settings", "made.1"),
        ("core", "involvedObject.kind=Secret", "old.1"),
        ("core", "source=maker", "made.1"),
        ("core", "reportingComponent=maker", "made.1"),
        ("core", "source=rotator", "old.1"),
        ("events", "reportingController=maker", "made.1"),
        ("events", "type=Normal,reason=Rotated", "old.1"),
    ] {
        let params = ListParams::default().fields(selector);
        let found: Vec<String> = if api == "core" {
            core.list(&params)
                .await
                .expect(selector)
                .items
                .into_iter()
                .filter_map(|e| e.metadata.name)
                .collect()
        } else {
            events
                .list(&params)
                .await
                .expect(selector)
                .items
                .into_iter()
                .filter_map(|e| e.metadata.name)
                .collect()
        };
        assert_eq!(found, [expected], "{api} {selector}");
    }
    let refused = events
        .list(&ListParams::default().fields("involvedObject.name=settings"))
        .await
        .expect_err("core's label on events.k8s.io");
    assert!(
        refused
            .to_string()
            .contains("field label not supported: involvedObject.name"),
        "{refused}"
    );
}
