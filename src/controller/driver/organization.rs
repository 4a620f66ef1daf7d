//! The reconcile of a kind that owns one resource of AWS Organizations (an
//! OU, a service control policy), the sibling of `owned`: Organizations
//! names its resources by the id it gives them, so the resource is found by
//! the id the status recorded, else by its name where it belongs, and the
//! pieces `owned` has (policies, references left out, claims by owner tag,
//! writes that describe themselves) are shared. The kind supplies what it
//! wants, how to read it, its pure plan, its writes and its deletion.

use async_trait::async_trait;
use kube::api::Api;

use super::create::{self, Creating, Creation, create_then_reclaim};
use super::owned::{Describe, Policies, Resolved, Written, describe, left_out};
use super::{Reconciler, Stop};
use crate::api::{DeletionPolicy, ManagementPolicy, Ownership, Reason, Tags};
use crate::aws::{AwsErrorKind, AwsResult, Organizations};
use crate::controller::context::Context;
use crate::controller::error::{Error, Result};
use crate::controller::ownership::{Claim, OWNER_TAG, Owner, claim_tagged};
use crate::controller::status::{self, Outcome, after_writes, finish, publish, write_status};

/// What the status records of the resource.
pub struct Identity<'a> {
    pub id: &'a mut Option<String>,
    pub arn: &'a mut Option<String>,
    pub ownership: &'a mut Option<Ownership>,
}

/// The resource as observed: what tells whose it is.
pub struct Existing<'a> {
    pub id: &'a str,
    pub arn: &'a str,
    pub tags: &'a Tags,
}

/// What a creation returns: the new resource's id and ARN.
pub struct NewResource {
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
    fn existing(observed: &Self::Observed) -> Option<Existing<'_>>;
    /// Pure: the writes that take what was observed to what is desired.
    fn plan(desired: &Self::Desired, observed: &Self::Observed) -> Vec<Self::Change>;
    /// What `change` does beyond its one-line description, for `plan`:
    /// the statements a policy gains and loses.
    fn explain(_change: &Self::Change, _observed: &Self::Observed) -> Vec<String> {
        vec![]
    }
    /// Performs one write on the resource `id` (empty before it exists);
    /// returns what it created, if it did.
    async fn perform(orgs: &dyn Organizations, id: &str, change: &Self::Change) -> AwsResult<Option<NewResource>>;
    /// Deletes the resource on the object's deletion, or says why not yet
    /// (`Error::Pending`); `label` names it as messages do.
    async fn delete(orgs: &dyn Organizations, id: &str, label: &str) -> Result<()>;
    /// Names the resource in messages.
    fn label(desired: &Self::Desired) -> String;
    /// Records the kind's own status fields: from what was observed, or,
    /// once the writes are done (`applied`), from what was desired.
    fn record(_status: &mut Self::Status, _desired: &Self::Desired, _observed: &Self::Observed, _applied: bool) {}
}

fn claim<K: OrgOwned>(object: &K, ctx: &Context, observed: &K::Observed) -> Claim {
    claim_tagged(
        K::existing(observed).map(|found| found.tags),
        &Owner::of(object, &ctx.config.installation_id),
        object.policies().adopt_existing,
    )
}

fn record_found<K: OrgOwned>(status: &mut K::Status, observed: &K::Observed) {
    let identity = K::identity(status);
    *identity.id = K::existing(observed).map(|found| found.id.to_owned());
    *identity.arn = K::existing(observed).map(|found| found.arn.to_owned());
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
    pub label: String,
}

/// Resolves and observes the resource, and plans the writes; `recorded_id`
/// is the id the status holds.
pub async fn preview<K: OrgOwned>(object: &K, ctx: &Context, recorded_id: Option<&str>) -> Result<Preview<K>, Stop> {
    let Resolved { desired, waiting } = object.desired(ctx).await?;
    let orgs = ctx.aws.organizations();
    let observed = K::observe(orgs.as_ref(), &desired, recorded_id).await?;
    let claim = claim(object, ctx, &observed);
    let changes = K::plan(&desired, &observed);
    let label = K::label(&desired);
    Ok(Preview {
        desired,
        waiting,
        observed,
        claim,
        changes,
        label,
    })
}

/// Takes the resource to the spec and records it in `status`: the preview,
/// the refusal, the record of what is there, then the writes, or in
/// Observe mode the report.
pub async fn converge<K: OrgOwned>(
    object: &K,
    ctx: &Context,
    api: &Api<K>,
    status: &mut K::Status,
) -> Result<Outcome, Stop> {
    let recorded = K::identity(status).id.clone();
    let preview = preview(object, ctx, recorded.as_deref()).await?;
    let manage = object.policies().management == ManagementPolicy::Manage;
    if manage && let Some(refusal) = preview.claim.refusal(&preview.label) {
        return Err(refusal.into());
    }
    let identity = K::identity(status);
    let finishing_creation = create::unfinished(*identity.ownership, identity.arn.as_deref());
    record_found::<K>(status, &preview.observed);
    K::record(status, &preview.desired, &preview.observed, false);
    if !manage {
        let exists = K::existing(&preview.observed).is_some();
        return Ok(status::observe_only(
            &preview.label,
            exists,
            &describe(&preview.changes),
        ));
    }
    if preview.claim == Claim::Adoptable {
        *K::identity(status).ownership = Some(Ownership::Adopted);
    }
    let written = write(object, ctx, api, status, &preview).await?;
    let observed = written.found.as_ref().unwrap_or(&preview.observed);
    K::identity(status).ownership.get_or_insert(Ownership::Created);
    K::record(status, &preview.desired, observed, true);
    let outcome = after_writes(
        ctx,
        object,
        &preview.label,
        written.created || finishing_creation,
        &written.changes,
        written.scheduled,
    )
    .await;
    Ok(left_out(&preview.label, &preview.waiting).unwrap_or(outcome))
}

/// Writes the difference in order, the creation (once) among it; after a
/// creation that found the resource there already, what is left is planned
/// again from what was found.
async fn write<K: OrgOwned>(
    object: &K,
    ctx: &Context,
    api: &Api<K>,
    status: &mut K::Status,
    preview: &Preview<K>,
) -> Result<Written<K::Observed>, Stop> {
    let orgs = ctx.aws.organizations();
    let orgs = orgs.as_ref();
    let mut written = Written {
        created: false,
        changes: vec![],
        // Organizations is written as the spec says, on no schedule of its own.
        scheduled: false,
        found: None,
    };
    let creation = preview.changes.iter().position(Describe::creates);
    let (before, from_creation) = preview.changes.split_at(creation.unwrap_or(preview.changes.len()));
    let replanned;
    let mut after = from_creation.iter().skip(1).collect::<Vec<_>>();
    for change in before {
        perform::<K>(orgs, status, change, &mut written).await?;
    }
    if let Some(creation) = from_creation.first() {
        let creating = CreatingInOrganization {
            object,
            ctx,
            api,
            orgs,
            desired: &preview.desired,
            creation,
            label: &preview.label,
        };
        match create_then_reclaim(&creating, status).await? {
            Creation::NewResource(made) => {
                if let Some(NewResource { id, arn }) = made {
                    let identity = K::identity(status);
                    *identity.id = Some(id);
                    *identity.arn = Some(arn);
                }
                written.created = true;
            }
            Creation::Found(found) => {
                record_found::<K>(status, &found);
                replanned = K::plan(&preview.desired, &found);
                after = replanned.iter().collect();
                written.found = Some(found);
            }
        }
    }
    for change in after {
        perform::<K>(orgs, status, change, &mut written).await?;
    }
    Ok(written)
}

async fn perform<K: OrgOwned>(
    orgs: &dyn Organizations,
    status: &mut K::Status,
    change: &K::Change,
    written: &mut Written<K::Observed>,
) -> Result<(), Stop> {
    let id = K::identity(status).id.clone().unwrap_or_default();
    K::perform(orgs, &id, change).await?;
    written.changes.push(change.describe());
    Ok(())
}

/// The creation of a resource of Organizations (`create::create_then_reclaim`).
struct CreatingInOrganization<'a, K: OrgOwned> {
    object: &'a K,
    ctx: &'a Context,
    api: &'a Api<K>,
    orgs: &'a dyn Organizations,
    desired: &'a K::Desired,
    creation: &'a K::Change,
    label: &'a str,
}

#[async_trait]
impl<K: OrgOwned> Creating for CreatingInOrganization<'_, K> {
    type Status = K::Status;
    type NewResource = Option<NewResource>;
    type Existing = K::Observed;

    fn ownership(status: &mut K::Status) -> &mut Option<Ownership> {
        K::identity(status).ownership
    }

    async fn write_claim(&self, status: &K::Status) -> Result<()> {
        write_status(self.api, self.object, status).await
    }

    async fn create(&self) -> AwsResult<Option<NewResource>> {
        K::perform(self.orgs, "", self.creation).await
    }

    /// Looks where the spec puts it, by name: the id was never recorded.
    async fn look(&self) -> Result<K::Observed, Stop> {
        Ok(K::observe(self.orgs, self.desired, None).await?)
    }

    fn claim(&self, _status: &K::Status, found: &K::Observed) -> Claim {
        claim(self.object, self.ctx, found)
    }

    fn label(&self) -> String {
        self.label.to_owned()
    }
}

/// Deletes the resource on deletion of the object, if the spec says so and
/// it is still this object's. A deletion that must wait says why in the
/// conditions; the object keeps its finalizer until it is done.
pub async fn cleanup<K: OrgOwned>(object: &K, ctx: &Context, api: &Api<K>) -> Result<()> {
    let Policies {
        management, deletion, ..
    } = object.policies();
    if management == ManagementPolicy::Observe {
        return Ok(());
    }
    let mut status = object.status().cloned().unwrap_or_default();
    let identity = K::identity(&mut status);
    let (Some(id), Some(ownership)) = (identity.id.clone(), *identity.ownership) else {
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
    let label = format!("{} {id}", K::NOUN);
    if deletion == DeletionPolicy::Retain || ownership == Ownership::Adopted {
        // Kept in AWS, as an adopted or retained IAM resource is: without
        // the owner mark, so that no later object takes it over as its own.
        orgs.untag_resource(&id, &[OWNER_TAG.to_string()]).await?;
        let note = format!("released {label}: kept in AWS without the operator's owner mark");
        publish(ctx, object, false, Reason::Released, "Delete", note).await;
        return Ok(());
    }
    match K::delete(orgs.as_ref(), &id, &label).await {
        Err(Error::Pending { reason, message }) => {
            let outcome = Outcome::reconciling(reason, message.clone());
            finish(object, api, &mut status, &outcome).await?;
            Err(Error::Pending { reason, message })
        }
        Err(err) => Err(err),
        Ok(()) => {
            publish(
                ctx,
                object,
                false,
                Reason::Deleted,
                "Delete",
                format!("deleted {label}"),
            )
            .await;
            Ok(())
        }
    }
}
