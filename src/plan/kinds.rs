//! How `plan` plans each kind, from the pieces its reconcile is made of.

use async_trait::async_trait;

use super::{ObjectPlan, PlannedChange};
use crate::api::ManagementPolicy;
use crate::controller::context::Context;
use crate::controller::driver::Stop;
use crate::controller::driver::organization::{self, OrgOwned};
use crate::controller::driver::owned::{self, Describe, Owned};
use crate::controller::status::{Outcome, State};

/// A kind `plan` knows.
#[async_trait]
pub trait Planned: Sync {
    /// The object's plan, then those of the objects it would make.
    async fn planned(&self, ctx: &Context, source: &str) -> Vec<ObjectPlan>;
}

pub(crate) fn change(change: String) -> PlannedChange {
    PlannedChange {
        change,
        details: vec![],
    }
}

/// Where the reconcile would have stopped: a refusal is an error, a wait a note.
pub(crate) fn stopped(plan: &mut ObjectPlan, stop: Stop) {
    match stop {
        Stop::Report(outcome) | Stop::Lock(outcome) if outcome.state == State::Stalled => {
            plan.error = Some(outcome.message)
        }
        Stop::Report(outcome) | Stop::Lock(outcome) => plan.notes.push(outcome.message),
        Stop::Fail(error) => plan.error = Some(error.to_string()),
    }
}

/// The plan as laid, with where the reconcile would have stopped, if it would.
pub(crate) fn settled(mut plan: ObjectPlan, laid: Result<(), Stop>) -> ObjectPlan {
    if let Err(stop) = laid {
        stopped(&mut plan, stop);
    }
    plan
}

const OBSERVE_ONLY: &str = "managementPolicy Observe writes nothing; the difference reported";

/// What a preview found, laid into the plan: the target, the references
/// left out, and the changes, unless Observe mode keeps them to notes or
/// the object may not take what exists.
pub(crate) fn lay_out(
    plan: &mut ObjectPlan,
    what: String,
    waiting: &[Outcome],
    changes: Vec<PlannedChange>,
    observe_only: bool,
    refusal: Option<Outcome>,
) -> Result<(), Stop> {
    plan.target = Some(what);
    // A reference the operator refuses (tenancy, a guardrail) is an error,
    // as its Stalled condition would be; one that waits is a note.
    let (refused, waits): (Vec<&Outcome>, Vec<&Outcome>) = waiting.iter().partition(|o| o.state == State::Stalled);
    plan.notes.extend(waits.iter().map(|o| o.message.clone()));
    if !refused.is_empty() {
        plan.error = Some(
            refused
                .iter()
                .map(|o| o.message.as_str())
                .collect::<Vec<_>>()
                .join("; "),
        );
    }
    if observe_only {
        plan.notes
            .extend(changes.iter().map(|c| format!("{OBSERVE_ONLY}: {}", c.change)));
        return Ok(());
    }
    if let Some(refusal) = refusal {
        return Err(refusal.into());
    }
    plan.changes.extend(changes);
    Ok(())
}

/// The plan of a kind the `owned` driver reconciles.
pub(crate) async fn owned<K: Owned>(object: &K, ctx: &Context, source: &str) -> ObjectPlan {
    let mut plan = ObjectPlan::of(object, source);
    let observe_only = object.policies().management == ManagementPolicy::Observe;
    let laid = async {
        let mut status = object.status().cloned().unwrap_or_default();
        let preview = owned::preview(object, ctx, &status).await?;
        let moved = owned::moved::<K>(&mut status, &preview.target)
            .filter(|_| !observe_only)
            .map(|(account, name)| {
                change(format!(
                    "delete {} {name} in account {account}: the spec moved it",
                    K::NOUN
                ))
            });
        let changes = moved
            .into_iter()
            .chain(preview.changes.iter().map(|c| PlannedChange {
                change: c.describe(),
                details: K::explain(c, &preview.observed),
            }))
            .collect();
        let what = owned::label::<K>(&preview.target);
        lay_out(
            &mut plan,
            what,
            &preview.waiting,
            changes,
            observe_only,
            preview.refusal(object),
        )
    }
    .await;
    settled(plan, laid)
}

/// The plan of a kind the `organization` driver reconciles.
pub(crate) async fn organization<K: OrgOwned>(object: &K, ctx: &Context, source: &str) -> ObjectPlan {
    let mut plan = ObjectPlan::of(object, source);
    let observe_only = object.policies().management == ManagementPolicy::Observe;
    let laid = async {
        let mut status = object.status().cloned().unwrap_or_default();
        let recorded = K::identity(&mut status).id.clone();
        let preview = organization::preview(object, ctx, recorded.as_deref()).await?;
        let changes = preview
            .changes
            .iter()
            .map(|c| PlannedChange {
                change: c.describe(),
                details: K::explain(c, &preview.observed),
            })
            .collect();
        let refusal = preview.claim.refusal(&preview.label);
        lay_out(
            &mut plan,
            preview.label.clone(),
            &preview.waiting,
            changes,
            observe_only,
            refusal,
        )
    }
    .await;
    settled(plan, laid)
}
