//! Conditions in kstatus terms, written once per reconcile with server-side
//! apply, and the Events that go with AWS writes.

use std::fmt::Debug;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, Patch, PatchParams};
use kube::core::object::HasStatus;
use kube::runtime::events::{Event, EventType};
use kube::{Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use super::context::Context;
use super::driver::Stop;
use super::error::{Error, KubeContext, Result, named};
pub use crate::api::common::KindStatus;
use crate::api::{ConditionType, Reason};

/// The field manager of everything the operator writes.
pub const MANAGER: &str = "aws-access-operator";

/// Where a reconcile ended, as the three kstatus conditions will say it.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    pub state: State,
    pub reason: Reason,
    pub message: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// AWS matches the spec.
    Ready,
    /// Work under way or waiting on something that will change by itself.
    Reconciling,
    /// Nothing changes until the spec or something outside the operator does.
    Stalled,
    /// `managementPolicy: Observe` and AWS differs: reported, nothing written.
    Drifted,
}

impl Outcome {
    pub fn ready(reason: Reason, message: impl Into<String>) -> Self {
        Outcome {
            state: State::Ready,
            reason,
            message: message.into(),
        }
    }

    pub fn reconciling(reason: Reason, message: impl Into<String>) -> Self {
        Outcome {
            state: State::Reconciling,
            reason,
            message: message.into(),
        }
    }

    pub fn stalled(reason: Reason, message: impl Into<String>) -> Self {
        Outcome {
            state: State::Stalled,
            reason,
            message: message.into(),
        }
    }

    pub fn drifted(message: impl Into<String>) -> Self {
        Outcome {
            state: State::Drifted,
            reason: Reason::DriftDetected,
            message: message.into(),
        }
    }

    pub fn is_ready(&self) -> bool {
        self.state == State::Ready
    }
}

/// The three conditions for `outcome`, keeping each one's
/// `lastTransitionTime` when its status did not change. The message is on
/// `Ready` and on the condition that holds: an abnormal condition that does
/// not hold has nothing to say, and every cached object carried it twice.
pub fn conditions(previous: &[Condition], outcome: &Outcome, generation: Option<i64>) -> Vec<Condition> {
    let now = Time(Timestamp::now());
    let condition = |kind: ConditionType, holds: bool| {
        let status = if holds { "True" } else { "False" };
        let last_transition_time = previous
            .iter()
            .find(|c| c.type_ == kind.as_str() && c.status == status)
            .map(|c| c.last_transition_time.clone())
            .unwrap_or_else(|| now.clone());
        Condition {
            type_: kind.as_str().into(),
            status: status.into(),
            reason: outcome.reason.as_str().into(),
            message: if holds || kind == ConditionType::Ready {
                outcome.message.clone()
            } else {
                String::new()
            },
            last_transition_time,
            observed_generation: generation,
        }
    };
    vec![
        condition(ConditionType::Ready, outcome.state == State::Ready),
        condition(ConditionType::Reconciling, outcome.state == State::Reconciling),
        condition(ConditionType::Stalled, outcome.state == State::Stalled),
    ]
}

/// Replaces the object's whole status: the operator owns every status field,
/// so what it leaves out is removed.
pub async fn write_status<K, S>(api: &Api<K>, object: &K, status: &S) -> Result<()>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug,
    S: Serialize,
{
    let patch = json!({
        "apiVersion": K::api_version(&()),
        "kind": K::kind(&()),
        "status": status,
    });
    // The answer (the whole object) is not decoded: an object the cache
    // holds only in part (`api::guard`) gets its status all the same.
    let request = kube::core::Request::new(api.resource_url()).patch_subresource(
        "status",
        &object.name_any(),
        &PatchParams::apply(MANAGER).force(),
        &Patch::Apply(patch),
    );
    let written = match request {
        Ok(request) => api.clone().into_client().request_text(request).await,
        Err(err) => Err(kube::Error::BuildRequest(err)),
    };
    written
        .map(drop)
        .doing(|| format!("writing the status of {}", named(object)))
}

/// Whether the spec changed since the status last described it: what tells
/// a change the user asked for from one made behind the operator's back.
fn spec_changed<K>(object: &K) -> bool
where
    K: Resource + HasStatus,
    K::Status: KindStatus,
{
    object.status().and_then(|s| s.reconcile().observed_generation) != object.meta().generation
}

/// Whether writes were asked for rather than made to undo drift: the spec
/// changed, or the last reconcile left out a reference that resolves now
/// (granting it is what the spec said all along).
fn asked_for<K>(object: &K) -> bool
where
    K: Resource + HasStatus,
    K::Status: KindStatus,
{
    let waited = object.status().is_some_and(|status| {
        status
            .reconcile()
            .condition(ConditionType::Reconciling)
            .is_some_and(|c| c.status == "True" && c.reason == Reason::ReferenceNotReady.as_str())
    });
    spec_changed(object) || waited
}

/// Records `outcome` in the conditions and writes the status, unless it is
/// exactly what the object already carries (a resync in sync writes nothing).
pub async fn finish<K>(object: &K, api: &Api<K>, status: &mut K::Status, outcome: &Outcome) -> Result<()>
where
    K: Resource<DynamicType = ()> + HasStatus + Clone + DeserializeOwned + Debug,
    K::Status: KindStatus,
{
    let generation = object.meta().generation;
    let reconcile = status.reconcile_mut();
    reconcile.conditions = conditions(&reconcile.conditions, outcome, generation);
    reconcile.observed_generation = generation;
    if object.status() != Some(&*status) {
        write_status(api, object, &*status).await?;
    }
    Ok(())
}

/// Ends a reconcile with one status write: a terminal AWS error becomes a
/// Stalled condition (nothing to retry until something changes); any other
/// failure is reported as Reconciling and returned, for the error policy's backoff.
pub async fn settle<K>(
    object: &K,
    api: &Api<K>,
    status: &mut K::Status,
    result: std::result::Result<Outcome, Stop>,
) -> Result<Outcome>
where
    K: Resource<DynamicType = ()> + HasStatus + Clone + DeserializeOwned + Debug,
    K::Status: KindStatus,
{
    let outcome = match result {
        Ok(outcome) | Err(Stop::Report(outcome) | Stop::Lock(outcome)) => outcome,
        Err(Stop::Fail(Error::Aws(err))) if !err.kind.retryable() => {
            Outcome::stalled(err.kind.reason(), err.to_string())
        }
        Err(Stop::Fail(err)) => {
            finish(
                object,
                api,
                status,
                &Outcome::reconciling(err.reason(), err.to_string()),
            )
            .await?;
            return Err(err);
        }
    };
    finish(object, api, status, &outcome).await?;
    Ok(outcome)
}

/// The Ready outcome once the planned writes to `what` are done, announced
/// with an Event when anything was written: `Created`, `InSync`, `Updated`
/// (the spec changed, or a reference left out resolved) or `DriftCorrected`
/// (AWS changed behind the operator's back, a Warning). `changes` describes
/// each write; `scheduled`, that the operator made them all on its own
/// schedule (a Deny on older sessions), which is an update, never drift.
pub async fn after_writes<K>(
    ctx: &Context,
    object: &K,
    what: &str,
    created: bool,
    changes: &[String],
    scheduled: bool,
) -> Outcome
where
    K: Resource<DynamicType = ()> + HasStatus,
    K::Status: KindStatus,
{
    let described = changes.join("; ");
    let (reason, message) = match (created, changes.is_empty(), scheduled || asked_for(object)) {
        (true, _, _) => (Reason::Created, format!("created {what}")),
        (false, true, _) => (Reason::InSync, format!("{what} matches the spec")),
        (false, false, true) => (Reason::Updated, format!("updated {what}: {described}")),
        (false, false, false) => (
            Reason::DriftCorrected,
            format!("reverted out-of-band changes to {what}: {described}"),
        ),
    };
    if reason == Reason::DriftCorrected {
        ctx.metrics.drift_corrected(&K::kind(&()));
    }
    if created || !changes.is_empty() {
        publish(
            ctx,
            object,
            reason == Reason::DriftCorrected,
            reason,
            "Reconcile",
            message.clone(),
        )
        .await;
    }
    Outcome::ready(reason, message)
}

/// The outcome in `managementPolicy: Observe`: what `Manage` would write, reported and not done.
pub fn observe_only(what: &str, exists: bool, changes: &[String]) -> Outcome {
    if !exists {
        Outcome::drifted(format!("{what} does not exist"))
    } else if changes.is_empty() {
        Outcome::ready(Reason::InSync, format!("{what} matches the spec (observed only)"))
    } else {
        Outcome::drifted(format!(
            "{what} differs from the spec; Manage would: {}",
            changes.join("; ")
        ))
    }
}

/// Publishes an Event about `object`. Events are best effort: failing to
/// record one never fails the reconcile.
pub async fn publish<K: Resource<DynamicType = ()>>(
    ctx: &Context,
    object: &K,
    warning: bool,
    reason: Reason,
    action: &str,
    note: String,
) {
    let event = Event {
        type_: if warning { EventType::Warning } else { EventType::Normal },
        reason: reason.as_str().into(),
        note: Some(note),
        action: action.into(),
        secondary: None,
    };
    if let Err(err) = ctx.recorder.publish(&event, &object.object_ref(&())).await {
        tracing::warn!(%err, "could not publish an Event");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transition_time_moves_only_with_status() {
        let first = conditions(
            &[],
            &Outcome::reconciling(Reason::ReferenceNotReady, "waiting"),
            Some(1),
        );
        let ready_before = first[0].last_transition_time.clone();
        let still_waiting = conditions(
            &first,
            &Outcome::reconciling(Reason::ReferenceNotReady, "still"),
            Some(1),
        );
        assert_eq!(still_waiting[0].last_transition_time, ready_before);
        assert_eq!(still_waiting[1].status, "True");
        assert_eq!(still_waiting[2].status, "False");
        let ready = conditions(&still_waiting, &Outcome::ready(Reason::Created, "made"), Some(2));
        assert_eq!(ready[0].status, "True");
        assert_eq!(ready[0].reason, "Created");
        assert_eq!(ready[0].observed_generation, Some(2));
        assert_eq!(ready[1].status, "False");
    }

    #[test]
    fn drift_in_observe_mode_is_neither_progressing_nor_stalled() {
        let drifted = conditions(&[], &Outcome::drifted("trust policy differs"), Some(1));
        let statuses: Vec<&str> = drifted.iter().map(|c| c.status.as_str()).collect();
        assert_eq!(statuses, ["False", "False", "False"]);
        assert_eq!(drifted[0].reason, "DriftDetected");
    }
}
