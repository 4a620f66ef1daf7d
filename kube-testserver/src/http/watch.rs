//! Watch streams: newline-delimited JSON events, initial events, bookmarks, timeouts.

use std::collections::HashMap;
use std::convert::Infallible;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::error::{ApiError, ApiResult};
use crate::json::{to_json, to_json_as};
use crate::registry::{Builtin, ResourceDef};
use crate::store::{EventType, Filter, StoredEvent, present};
use crate::table;

use super::negotiate::{Shape, partial_object_json};
use super::{App, Target};

/// Real servers end a watch after 30 to 60 minutes when the client names no timeout.
const DEFAULT_WATCH_TIMEOUT: Duration = Duration::from_secs(1800);
/// How often an idle watch that allows bookmarks hears the current resourceVersion.
const BOOKMARK_INTERVAL: Duration = Duration::from_secs(5);

/// One watch event line for a subscriber, or None when its filter hides the
/// change. A change that moves an object into or out of the selection is
/// ADDED or DELETED for that subscriber.
fn translate(event: &StoredEvent, filter: &Filter) -> Option<&'static str> {
    let now = filter.matches(&event.object);
    match event.kind {
        EventType::Added => now.then_some("ADDED"),
        EventType::Deleted => now.then_some("DELETED"),
        EventType::Modified => {
            let before = event.previous.as_ref().is_some_and(|p| filter.matches(p));
            match (before, now) {
                (true, true) => Some("MODIFIED"),
                (false, true) => Some("ADDED"),
                (true, false) => Some("DELETED"),
                (false, false) => None,
            }
        }
    }
}

/// One line of a watch stream. "type" comes first, as the real server writes it: a client may
/// read the object as it streams only once it knows what the event is.
fn event_line(kind: &str, object_json: &str) -> Bytes {
    Bytes::from(format!("{{\"type\":{},\"object\":{object_json}}}\n", json!(kind)))
}

/// Whether a stored object of `def` must be converted to be served at `def`'s version, beyond
/// its apiVersion and kind: only Events are stored in another shape than one they are served in.
fn converts(def: &ResourceDef) -> bool {
    matches!(def.builtin, Some(Builtin::Event | Builtin::CoreEvent))
}

pub(super) fn watch(
    app: &App,
    target: &Target,
    filter: &Filter,
    query: &HashMap<String, String>,
    shape: Shape,
) -> ApiResult<Response> {
    let def = target.def.clone();
    let send_initial = query.get("sendInitialEvents").is_some_and(|v| v == "true");
    let bookmarks = query.get("allowWatchBookmarks").is_some_and(|v| v == "true");
    let rv = match query.get("resourceVersion").map(String::as_str) {
        None | Some("") | Some("0") => None,
        Some(_) if send_initial => None,
        Some(rv) => Some(
            rv.parse::<u64>()
                .map_err(|_| ApiError::bad_request(format!("invalid resource version: {rv}")))?,
        ),
    };
    let timeout = query
        .get("timeoutSeconds")
        .and_then(|t| t.parse::<u64>().ok())
        .map(Duration::from_secs)
        .unwrap_or(DEFAULT_WATCH_TIMEOUT);
    let (tx, rx) = mpsc::channel::<Result<Bytes, Infallible>>(256);
    let encode = move |kind: &str, object: &Value| -> Bytes {
        let json = match shape {
            Shape::Table if kind != "BOOKMARK" && kind != "ERROR" => to_json(&table::table(
                &def,
                std::slice::from_ref(object),
                "",
                "Metadata",
                chrono::Utc::now(),
            )),
            // A list kind fails to transform each event's object, which the apiserver then
            // sends as it is (`watchEmbeddedEncoder.doEncode`).
            Shape::Metadata { list: false, version } => partial_object_json(object, version),
            _ => to_json(object),
        };
        event_line(kind, &json)
    };
    let start = match app.store.watch(&target.def, filter, rv) {
        Ok(start) => start,
        Err(gone) => {
            // The real server reports an expired resourceVersion inside the stream.
            let line = encode("ERROR", &gone.status_body());
            let body = Body::from_stream(futures::stream::iter([Ok::<_, Infallible>(line)]));
            return Ok(([("content-type", "application/json")], body).into_response());
        }
    };
    let filter = filter.clone();
    let form_of_shape = format!("{} {} {shape:?}", target.def.api_version(), target.def.kind);
    let (def, encode_event) = (target.def.clone(), encode.clone());
    let api_version = def.api_version();
    // An event's line, encoded once for every watcher that sees it as this one does.
    let line = move |kind: &'static str, event: &StoredEvent| -> Bytes {
        if shape == Shape::Table {
            // A Table row tells the age of the object now: not shared.
            return encode_event(kind, &present(&def, &event.object));
        }
        event.encoded(&format!("{kind} {form_of_shape}"), |object| match shape {
            // No copy of the whole object first, unless the kind's versions differ in more than
            // apiVersion and kind: metadata watchers keep only the metadata, the others' lines
            // are written retyped.
            Shape::Metadata { list: false, .. } if !converts(&def) => encode_event(kind, object),
            Shape::Object if !converts(&def) => event_line(kind, &to_json_as(object, &api_version, &def.kind)),
            _ => encode_event(kind, &present(&def, object)),
        })
    };
    let def = target.def.clone();
    tokio::spawn(async move {
        let bookmark = |rv: u64, initial_end: bool| {
            let mut object = json!({"kind": def.kind, "apiVersion": def.api_version(), "metadata": {"resourceVersion": rv.to_string()}});
            if initial_end {
                object["metadata"]["annotations"] = json!({"k8s.io/initial-events-end": "true"});
            }
            object
        };
        let mut last_rv = start.initial_rv;
        for event in &start.initial {
            if let Some(kind) = translate(event, &filter)
                && tx.send(Ok(line(kind, event))).await.is_err()
            {
                return;
            }
        }
        if send_initial
            && bookmarks
            && tx
                .send(Ok(encode("BOOKMARK", &bookmark(start.initial_rv, true))))
                .await
                .is_err()
        {
            return;
        }
        let mut live = start.live;
        let mut expired = start.expired;
        let deadline = tokio::time::sleep(timeout);
        tokio::pin!(deadline);
        let mut ticker = tokio::time::interval(BOOKMARK_INTERVAL);
        ticker.tick().await;
        loop {
            tokio::select! {
                received = live.recv() => match received {
                    Ok(event) => {
                        if event.rv <= start.initial_rv || !def.stores(&event.group, &event.plural) {
                            last_rv = last_rv.max(event.rv);
                            continue;
                        }
                        last_rv = event.rv;
                        if let Some(kind) = translate(&event, &filter)
                            && tx.send(Ok(line(kind, &event))).await.is_err() {
                                return;
                            }
                    }
                    // A lagging or closed feed ends the watch; the client resumes from its last resourceVersion.
                    Err(_) => return,
                },
                _ = ticker.tick(), if bookmarks => {
                    if tx.send(Ok(encode("BOOKMARK", &bookmark(last_rv, false)))).await.is_err() {
                        return;
                    }
                }
                _ = expired.changed() => return,
                _ = &mut deadline => return,
                _ = tx.closed() => return,
            }
        }
    });
    let stream = tokio_stream::wrappers::ReceiverStream::new(rx);
    Ok((
        [
            ("content-type", "application/json"),
            ("cache-control", "no-cache, private"),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}
