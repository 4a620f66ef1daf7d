//! The reconcile of a kind that owns one resource of AWS Organizations (an
//! OU, a service control policy), the sibling of `owned`: Organizations
//! names its resources by the id it gives them, so the resource is found by
//! the id the status recorded, else by its name where it belongs, and the
//! pieces `owned` has (policies, references left out, claims by owner tag,
//! writes that describe themselves) are shared. The kind supplies what it
//! wants, how to read it, its pure plan, its writes and its deletion.

use async_trait::async_trait;
use kube::api::Api;

use super::owned::{Describe, Policies, Resolved, describe, left_out};
use super::{Reconciler, Stop};
use crate::api::{DeletionPolicy, ManagementPolicy, Ownership, Reason, Tags};
use crate::aws::{AwsErrorKind, AwsResult, Organizations};
use crate::controller::context::Context;
use crate::controller::error::{Error, Result};
use crate::controller::ownership::{Claim, Owner, claim_tagged};
use crate::controller::status::{self, Outcome, applied, finish, publish, write_status};

/// What the status records of the resource.
pub struct Identity<'a> {
    pub id: &'a mut Option<String>,
    pub arn: &'a mut Option<String>,
    pub ownership: &'a mut Option<Ownership>,
}

/// The resource as observed: what tells whose it is.
pub struct Found<'a> {
    pub id: &'a str,
    pub arn: &'a str,
    pub tags: &'a Tags,
}

/// What a creation returns: the new resource's id and ARN.
pub struct Made {
    pub id: String,
    pub arn: String,
}

/// A kind that owns one resource of AWS Organizations.
#[async_trait]
pub trait OrgOwned: Reconciler {
    /// What the resource is called in messages ("organizational unit").
    const NOUN: &'static str;
    type Desired: Send + Sync;
    type Observed: Send + Sync;
    type Change: Describe + Send + Sync;

    fn policies(&self) -> Policies;
    fn identity(status: &mut Self::Status) -> Identity<'_>;
    /// What the resource should be, references resolved as far as they go.
    /// Pure checks come first, so a spec refused costs no AWS call.
    async fn desired(&self, ctx: &Context) -> Result<Resolved<Self::Desired>, Stop>;
    /// Reads the resource with the id recorded, else looks for it by name
    /// where the spec puts it.
    async fn observe(
        orgs: &dyn Organizations,
        desired: &Self::Desired,
        recorded_id: Option<&str>,
    ) -> AwsResult<Self::Observed>;
    /// The resource, when it exists.
    fn found(observed: &Self::Observed) -> Option<Found<'_>>;
    /// Pure: the writes that take what was observed to what is desired.
    fn plan(desired: &Self::Desired, observed: &Self::Observed) -> Vec<Self::Change>;
    /// What `change` does beyond its one-line description, for `plan`:
    /// the statements a policy gains and loses.
    fn explain(_change: &Self::Change, _observed: &Self::Observed) -> Vec<String> {
        vec![]
    }
    /// Performs one write on the resource `id` (empty before it exists);
    /// returns what it created, if it did.
    async fn perform(orgs: &dyn Organizations, id: &str, change: &Self::Change) -> AwsResult<Option<Made>>;
    /// Deletes the resource on the object's deletion, or says why not yet
    /// (`Error::Pending`); `what` names it as messages do.
    async fn delete(orgs: &dyn Organizations, id: &str, what: &str) -> Result<()>;
    /// Names the resource in messages.
    fn what(desired: &Self::Desired) -> String;
    /// Records the kind's own status fields: from what was observed, or,
    /// once the writes are done (`applied`), from what was desired.
    fn record(_status: &mut Self::Status, _desired: &Self::Desired, _observed: &Self::Observed, _applied: bool) {}
}

fn claim<K: OrgOwned>(object: &K, ctx: &Context, observed: &K::Observed) -> Claim {
    claim_tagged(
        K::found(observed).map(|found| found.tags),
        &Owner::of(object, &ctx.config.installation_id),
        object.policies().adopt_existing,
    )
}

fn record_found<K: OrgOwned>(status: &mut K::Status, observed: &K::Observed) {
    let identity = K::identity(status);
    *identity.id = K::found(observed).map(|found| found.id.to_owned());
    *identity.arn = K::found(observed).map(|found| found.arn.to_owned());
}

/// What converging would find and write, read without writing anything:
/// the reconcile acts on it, `plan` prints it.
pub struct Preview<K: OrgOwned> {
    pub desired: K::Desired,
    /// Why each reference left out could not be used.
    pub waiting: Vec<Outcome>,
    pub observed: K::Observed,
    pub claim: Claim,
    pub changes: Vec<K::Change>,
    /// The resource as messages name it.
    pub what: String,
}

/// Resolves and observes the resource, and plans the writes; `recorded_id`
/// is the id the status holds.
pub async fn preview<K: OrgOwned>(object: &K, ctx: &Context, recorded_id: Option<&str>) -> Result<Preview<K>, Stop> {
    let Resolved { desired, waiting } = object.desired(ctx).await?;
    let orgs = ctx.aws.organizations();
    let observed = K::observe(orgs.as_ref(), &desired, recorded_id).await?;
    let claim = claim(object, ctx, &observed);
    let changes = K::plan(&desired, &observed);
    let what = K::what(&desired);
    Ok(Preview {
        desired,
        waiting,
        observed,
        claim,
        changes,
        what,
    })
}

/// Takes the resource to the spec and records it in `status`.
pub async fn converge<K: OrgOwned>(
    object: &K,
    ctx: &Context,
    api: &Api<K>,
    status: &mut K::Status,
) -> Result<Outcome, Stop> {
    let recorded = K::identity(status).id.clone();
    let Preview {
        desired,
        waiting,
        mut observed,
        claim: claimed,
        mut changes,
        what,
    } = preview(object, ctx, recorded.as_deref()).await?;
    let orgs = ctx.aws.organizations();
    let orgs = orgs.as_ref();
    let manage = object.policies().management == ManagementPolicy::Manage;
    if manage && let Some(refusal) = claimed.refusal(&what) {
        return Err(refusal.into());
    }
    record_found::<K>(status, &observed);
    K::record(status, &desired, &observed, false);
    if !manage {
        return Ok(status::observed(
            &what,
            K::found(&observed).is_some(),
            &describe(&changes),
        ));
    }
    if claimed == Claim::Adoptable {
        *K::identity(status).ownership = Some(Ownership::Adopted);
    }
    let mut created = false;
    let mut written = Vec::new();
    let mut next = 0;
    let mut looked_again = false;
    while let Some(change) = changes.get(next) {
        next += 1;
        let id = K::identity(status).id.clone().unwrap_or_default();
        if !change.creates() {
            K::perform(orgs, &id, change).await?;
            written.push(change.describe());
            continue;
        }
        // Claimed before the call: a restart, or a retry after an answer
        // that was lost, finds the resource (tagged as this object's) as ours.
        *K::identity(status).ownership = Some(Ownership::Created);
        write_status(api, object, &*status).await?;
        match K::perform(orgs, &id, change).await {
            Ok(made) => {
                if let Some(Made { id, arn }) = made {
                    let identity = K::identity(status);
                    *identity.id = Some(id);
                    *identity.arn = Some(arn);
                }
                created = true;
            }
            // Made before (its answer lost) or by someone else meanwhile:
            // look, claim, and plan again from what is there; once, so that
            // a name AWS holds where the operator cannot see it is reported
            // rather than tried for ever.
            Err(err) if err.kind == AwsErrorKind::AlreadyExists && !looked_again => {
                looked_again = true;
                observed = K::observe(orgs, &desired, None).await?;
                match claim(object, ctx, &observed) {
                    Claim::Ours => {}
                    Claim::Adoptable => *K::identity(status).ownership = Some(Ownership::Adopted),
                    refused => {
                        *K::identity(status).ownership = None;
                        return Err(refused
                            .refusal(&what)
                            .unwrap_or_else(|| Outcome::stalled(err.kind.reason(), err.to_string()))
                            .into());
                    }
                }
                record_found::<K>(status, &observed);
                changes = K::plan(&desired, &observed);
                next = 0;
            }
            Err(err) => return Err(err.into()),
        }
    }
    K::identity(status).ownership.get_or_insert(Ownership::Created);
    K::record(status, &desired, &observed, true);
    let outcome = applied(ctx, object, &what, created, &written).await;
    Ok(left_out(&what, &waiting).unwrap_or(outcome))
}

/// Deletes the resource on deletion of the object, if the spec says so and
/// it is still this object's. A deletion that must wait says why in the
/// conditions; the object keeps its finalizer until it is done.
pub async fn cleanup<K: OrgOwned>(object: &K, ctx: &Context, api: &Api<K>) -> Result<()> {
    let Policies {
        management, deletion, ..
    } = object.policies();
    if deletion == DeletionPolicy::Retain || management == ManagementPolicy::Observe {
        return Ok(());
    }
    let mut status = object.status().cloned().unwrap_or_default();
    let identity = K::identity(&mut status);
    let (Some(id), Some(_)) = (identity.id.clone(), *identity.ownership) else {
        return Ok(());
    };
    let orgs = ctx.aws.organizations();
    let tags = match orgs.list_tags(&id).await {
        Err(err) if err.kind == AwsErrorKind::NotFound => return Ok(()),
        tags => tags?,
    };
    if claim_tagged(Some(&tags), &Owner::of(object, &ctx.config.installation_id), false) != Claim::Ours {
        return Ok(());
    }
    let what = format!("{} {id}", K::NOUN);
    match K::delete(orgs.as_ref(), &id, &what).await {
        Err(Error::Pending { reason, message }) => {
            let outcome = Outcome::reconciling(reason, message.clone());
            finish(object, api, &mut status, &outcome).await?;
            Err(Error::Pending { reason, message })
        }
        Err(err) => Err(err),
        Ok(()) => {
            publish(ctx, object, false, Reason::Deleted, "Delete", format!("deleted {what}")).await;
            Ok(())
        }
    }
}
