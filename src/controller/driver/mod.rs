//! One reconcile for every kind: the finalizer, the status written once per
//! reconcile, and how a step ends a reconcile early. A kind supplies its
//! `converge` and its `cleanup`; kinds that own one named resource in IAM
//! share the whole observe → plan → apply as well (`owned`), and kinds that
//! own one resource of Organizations its sibling (`organization`).

mod create;
pub mod organization;
pub mod owned;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use kube::api::{Api, Patch, PatchParams};
use kube::core::object::HasStatus;
use kube::runtime::controller::Action;
use kube::{Client, Resource, ResourceExt};
use serde::de::DeserializeOwned;
use serde_json::json;

use super::context::{Config, Context};
use super::error::{Error, KubeContext, Result, named};
use super::status::{KindStatus, Outcome, settle};
use super::tenancy::Refused;
use crate::api::Reason;
use crate::api::guard::{self, unreadable};
use crate::aws::AwsError;

/// The finalizer every kind that cleans up in AWS puts on its objects.
pub const FINALIZER: &str = "awsaccess.dev/cleanup";

/// Why a step ends a reconcile before its end: an outcome to report (a
/// refusal, a wait on something else), or a failure to retry with backoff.
#[derive(Debug)]
pub enum Stop {
    Report(Outcome),
    /// The object may no longer work where it made its resource (its
    /// namespace lost the account, or the account's AwsAccount is gone):
    /// what it made there stops granting, then the outcome is reported.
    Lock(Outcome),
    Fail(Error),
}

impl Stop {
    /// Says which reference a report is about: `field: message`.
    pub fn about(self, field: &str) -> Self {
        let prefixed = |outcome: Outcome| Outcome {
            message: format!("{field}: {}", outcome.message),
            ..outcome
        };
        match self {
            Stop::Report(outcome) => Stop::Report(prefixed(outcome)),
            Stop::Lock(outcome) => Stop::Lock(prefixed(outcome)),
            failure => failure,
        }
    }
}

impl From<Refused> for Stop {
    fn from(refused: Refused) -> Self {
        match refused.lock {
            true => Stop::Lock(refused.outcome),
            false => Stop::Report(refused.outcome),
        }
    }
}

impl From<Outcome> for Stop {
    fn from(outcome: Outcome) -> Self {
        Stop::Report(outcome)
    }
}

impl From<Error> for Stop {
    fn from(error: Error) -> Self {
        Stop::Fail(error)
    }
}

impl From<AwsError> for Stop {
    fn from(error: AwsError) -> Self {
        Stop::Fail(error.into())
    }
}

/// When to look at an object again after a reconcile that ended well.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// At the resync interval, to find drift.
    Resync,
    /// Sooner, because something is expected to change (an account being created).
    After(Duration),
    /// Waiting on something outside the operator that may appear at any
    /// moment: soon, then less and less often, as after a failure.
    Backoff,
}

/// A kind the operator reconciles.
#[async_trait]
pub trait Reconciler:
    Resource<DynamicType = ()>
    + HasStatus<Status: KindStatus>
    + Clone
    + DeserializeOwned
    + std::fmt::Debug
    + Send
    + Sync
    + 'static
{
    /// Whether deleting the object must wait for `cleanup`: not when its
    /// AWS side belongs to owned objects (garbage collection deletes them),
    /// nor when it only observes. Without a finalizer, its deletion reaches
    /// its dependents from the watch (`KindWatch::subscribe`).
    fn cleans_up(&self) -> bool {
        true
    }

    /// The API the object is read and written through: its namespace's, or the cluster's.
    fn api(&self, client: Client) -> Api<Self>;

    /// Takes AWS towards the spec, recording in `status` what the kind
    /// reports; the driver writes the status once, after.
    async fn converge(&self, ctx: &Context, api: &Api<Self>, status: &mut Self::Status) -> Result<Outcome, Stop>;

    /// Undoes in AWS what the object made, as its deletion policy says.
    async fn cleanup(&self, ctx: &Context, api: &Api<Self>) -> Result<()>;

    /// When to look again after `outcome`, which left `status`.
    fn next(&self, _outcome: &Outcome, _status: &Self::Status, _config: &Config) -> Next {
        Next::Resync
    }
}

/// The reconcile of any kind: finalizer first, then converge (or cleanup on
/// deletion), then one status write.
pub async fn reconcile<K: Reconciler>(object: Arc<K>, ctx: Arc<Context>) -> Result<Action> {
    let api = object.api(ctx.client.clone());
    let deleting = object.meta().deletion_timestamp.is_some();
    // An object may hold the finalizer from a time it cleaned up (it
    // managed before it observed): its deletion still removes it.
    let finalized = object.finalizers().iter().any(|f| f == FINALIZER);
    match (deleting, finalized) {
        (false, true) => converge_and_record(object.as_ref(), &ctx, &api).await,
        (false, false) if !object.cleans_up() => converge_and_record(object.as_ref(), &ctx, &api).await,
        (false, false) => {
            let object = add_finalizer(&api, object.as_ref()).await?;
            converge_and_record(&object, &ctx, &api).await
        }
        (true, true) => {
            object.cleanup(&ctx, &api).await?;
            remove_finalizer(&api, object.as_ref()).await?;
            Ok(Action::await_change())
        }
        (true, false) => Ok(Action::await_change()),
    }
}

async fn converge_and_record<K: Reconciler>(object: &K, ctx: &Context, api: &Api<K>) -> Result<Action> {
    let mut status = object.status().cloned().unwrap_or_default();
    // An object read only in part is never acted on: what was cut off may be
    // what limits it. Its deletion still works, from the fields that remain.
    let result = match unreadable(object) {
        Some(why) => Err(Stop::Report(Outcome::stalled(Reason::InvalidSpec, why.to_string()))),
        None => object.converge(ctx, api, &mut status).await,
    };
    let outcome = settle(object, api, &mut status, result).await?;
    Ok(match object.next(&outcome, &status, &ctx.config) {
        Next::Backoff => Action::requeue(ctx.next_retry(object)),
        Next::Resync => {
            ctx.succeeded(object);
            Action::requeue(ctx.config.resync_interval)
        }
        Next::After(delay) => {
            ctx.succeeded(object);
            Action::requeue(delay)
        }
    })
}

/// Adds the finalizer and returns the object as the API server now has it.
///
/// The patch tests the finalizers the cached object shows, so that no other
/// controller's finalizer is lost. The cache may lag behind a finalizer this
/// very controller added a moment ago (a reference changed and triggered the
/// object again before the watch delivered it): then the test fails, and one
/// fresh read tells whether there is anything left to add.
async fn add_finalizer<K: Reconciler>(api: &Api<K>, object: &K) -> Result<K> {
    match patch_finalizers(api, object, |finalizers| finalizers.push(FINALIZER.into())).await {
        Err(err) if err.api_status().is_some_and(|status| status.code == 422) => {
            let fresh = object_from(
                api,
                kube::core::Request::new(api.resource_url()).get(&object.name_any(), &Default::default()),
                || format!("reading {} to add the finalizer", named(object)),
            )
            .await?;
            if fresh.finalizers().iter().any(|f| f == FINALIZER) {
                return Ok(fresh);
            }
            patch_finalizers(api, &fresh, |finalizers| finalizers.push(FINALIZER.into())).await
        }
        result => result,
    }
}

async fn remove_finalizer<K: Reconciler>(api: &Api<K>, object: &K) -> Result<K> {
    patch_finalizers(api, object, |finalizers| finalizers.retain(|f| f != FINALIZER)).await
}

/// A JSON patch of `metadata.finalizers` that applies only if they are still
/// what `object` shows.
async fn patch_finalizers<K: Reconciler>(api: &Api<K>, object: &K, change: impl FnOnce(&mut Vec<String>)) -> Result<K> {
    let before = object.meta().finalizers.clone();
    let mut after = before.clone().unwrap_or_default();
    change(&mut after);
    let action = || format!("writing the finalizers of {}", named(object));
    let patch: json_patch::Patch = serde_json::from_value(json!([
        {"op": "test", "path": "/metadata/finalizers", "value": before},
        {"op": "add", "path": "/metadata/finalizers", "value": after},
    ]))
    .map_err(kube::Error::SerdeError)
    .doing(action)?;
    let request = kube::core::Request::new(api.resource_url()).patch(
        &object.name_any(),
        &PatchParams::default(),
        &Patch::<()>::Json(patch),
    );
    object_from(api, request, action).await
}

/// Sends a request that answers with the object, and decodes the answer
/// one object at a time (`api::guard`), as the cache does; `action` names
/// the call in errors.
async fn object_from<K: Reconciler>(
    api: &Api<K>,
    request: std::result::Result<http::Request<Vec<u8>>, kube::core::request::Error>,
    action: impl FnOnce() -> String,
) -> Result<K> {
    let answer = match request {
        Ok(request) => api.clone().into_client().request_text(request).await,
        Err(err) => Err(kube::Error::BuildRequest(err)),
    };
    answer
        .and_then(|answer| {
            guard::decode(&answer)
                .map_err(|undecodable| kube::Error::SerdeError(serde::de::Error::custom(undecodable.error)))
        })
        .doing(action)
}
