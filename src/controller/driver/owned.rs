//! The reconcile of a kind that owns one named resource in one AWS account
//! (an IAM role, an IAM group, and the kinds to come), written once:
//! validate, resolve where it lives and what it should be, observe, claim,
//! plan, then write only the difference, or in Observe mode report it. The
//! kind supplies its identity, its observe, its plan and its writes.

use std::sync::Arc;

use async_trait::async_trait;
use kube::api::Api;

use super::create::{self, Creating, Creation, create_then_reclaim};
use super::{Reconciler, Stop};
use crate::api::{DeletionPolicy, ManagementPolicy, Ownership, Reason};
use crate::aws::{AwsResult, Iam, fresh};
use crate::controller::context::Context;
use crate::controller::error::Result;
use crate::controller::ownership::{Claim, Owner, requester};
use crate::controller::refs::{self, Account};
use crate::controller::status::{self, Outcome, State, after_writes, publish, write_status};

/// Where the resource lives, what it is called, and the owner tag that
/// marks it as this object's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub account: Account,
    pub name: String,
    pub owner: Owner,
}

/// The spec's say over the resource's life, common to every owned kind.
#[derive(Clone, Copy, Debug)]
pub struct Policies {
    pub management: ManagementPolicy,
    pub deletion: DeletionPolicy,
    pub adopt_existing: bool,
}

/// `Owned::policies` for a kind whose spec carries the three usual fields.
macro_rules! policies_from_spec {
    () => {
        fn policies(&self) -> $crate::controller::driver::owned::Policies {
            $crate::controller::driver::owned::Policies {
                management: self.spec.management_policy,
                deletion: self.spec.deletion_policy,
                adopt_existing: self.spec.adopt_existing,
            }
        }
    };
}
pub(crate) use policies_from_spec;

/// What the status records of the resource, whatever the kind calls the fields.
pub struct Identity<'a> {
    pub account_id: &'a mut Option<String>,
    pub name: &'a mut Option<String>,
    pub arn: &'a mut Option<String>,
    pub ownership: &'a mut Option<Ownership>,
}

/// The resource as the spec wants it, and the references it could not use.
/// A missing reference shrinks what is granted; it never holds the rest back.
pub struct Resolved<D> {
    pub desired: D,
    /// Why each reference left out could not be used; messages name the field.
    pub waiting: Vec<Outcome>,
}

impl<D> Resolved<D> {
    pub fn complete(desired: D) -> Self {
        Resolved {
            desired,
            waiting: vec![],
        }
    }
}

/// One AWS write, as Events and drift messages describe it.
pub trait Describe {
    /// Never a document's content: a trust policy may carry an external ID.
    fn describe(&self) -> String;
    /// Whether this write creates the resource.
    fn creates(&self) -> bool;
    /// Whether the operator makes this write on its own schedule (a role's
    /// Deny on older sessions, put when a member leaves and lifted when
    /// they expire): an update, never reported as drift.
    fn scheduled(&self) -> bool {
        false
    }
}

/// A kind that owns one named resource in one AWS account (IAM); kinds
/// that own a resource of Organizations run through `organization`.
#[async_trait]
pub trait Owned: Reconciler {
    /// What the resource is called in messages ("IAM role").
    const NOUN: &'static str;
    /// What `observe` reads back from AWS.
    type Observed: Send + Sync;
    type Desired: Send + Sync;
    type Change: Describe + Send + Sync;

    fn policies(&self) -> Policies;
    fn identity(status: &mut Self::Status) -> Identity<'_>;
    /// Checks what the schema cannot, before anything is read; the message names the field.
    fn validate(&self) -> Result<(), String>;
    /// Where the resource belongs, or why that is not known yet.
    async fn target(&self, ctx: &Context) -> Result<Target, Stop>;
    /// What the resource should be, references resolved as far as they go.
    async fn desired(&self, ctx: &Context, target: &Target) -> Result<Resolved<Self::Desired>, Stop>;
    async fn observe(&self, iam: &dyn Iam, target: &Target) -> AwsResult<Self::Observed>;
    /// The resource's ARN, when it exists.
    fn arn(observed: &Self::Observed) -> Option<&str>;
    /// Whether this object may manage what exists at `target`.
    fn claim(&self, ctx: &Context, status: &Self::Status, target: &Target, observed: &Self::Observed) -> Claim;
    /// Why a part of the resource that has an owner of its own (a role's
    /// customer-managed policy) may not be taken, when the resource may.
    fn refuse_part(&self, _observed: &Self::Observed) -> Option<Outcome> {
        None
    }
    /// Pure: the writes that take what was observed to what is desired,
    /// creation first, grants before revocations.
    fn plan(desired: &Self::Desired, observed: &Self::Observed) -> Vec<Self::Change>;
    /// What `change` does beyond its one-line description, for `plan`:
    /// the statements a policy gains and loses.
    fn explain(_change: &Self::Change, _observed: &Self::Observed) -> Vec<String> {
        vec![]
    }
    /// Performs one write; returns the ARN when it created the resource.
    async fn perform(iam: &dyn Iam, name: &str, change: &Self::Change) -> AwsResult<Option<String>>;
    /// Performs one write of the reconcile for this object: `perform`,
    /// unless the kind's writes reach beyond IAM (an IamUser writes the
    /// password and the key AWS hands out into its Secrets).
    async fn perform_for(
        &self,
        _ctx: &Context,
        iam: &dyn Iam,
        target: &Target,
        change: &Self::Change,
    ) -> Result<Option<String>, Stop> {
        Ok(Self::perform(iam, &target.name, change).await?)
    }
    /// Whether the resource is read again after writes, before the status
    /// records it: for a kind whose writes make what only AWS names (an
    /// access key's id). Costs reads only when something was written.
    const READ_BACK: bool = false;
    /// Deletes the resource and whatever IAM requires gone first, and what
    /// the object owns with it.
    async fn delete(iam: &dyn Iam, name: &str, observed: &Self::Observed) -> AwsResult<()>;
    /// Removes the operator's owner mark from a resource it keeps in AWS
    /// (adopted, or retained): it is no longer any object's.
    async fn release(_iam: &dyn Iam, _name: &str, _observed: &Self::Observed) -> AwsResult<()> {
        Ok(())
    }
    /// Pure: the writes that make the resource grant nothing, touching
    /// nothing else (rule 7: a role trusts nobody, a group has no members).
    fn lock(target: &Target, observed: &Self::Observed) -> Vec<Self::Change>;
    /// Records the kind's own status fields: from what was observed, or
    /// once the writes are done (`applied`), from what was desired.
    fn record(&self, _status: &mut Self::Status, _desired: &Self::Desired, _observed: &Self::Observed, _applied: bool) {
    }
    /// The last word on an outcome that would otherwise be Ready; `what`
    /// names the resource as messages do.
    fn conclude(&self, _what: &str, _desired: &Self::Desired, _observed: &Self::Observed, outcome: Outcome) -> Outcome {
        outcome
    }
}

pub(super) fn describe<C: Describe>(changes: &[C]) -> Vec<String> {
    changes.iter().map(Describe::describe).collect()
}

/// The resource as messages name it: "IAM role X in account Y".
pub fn label<K: Owned>(target: &Target) -> String {
    format!("{} {} in account {}", K::NOUN, target.name, target.account.id)
}

/// What converging would find and write, read without writing anything:
/// the reconcile acts on it, `plan` prints it.
pub struct Preview<K: Owned> {
    pub target: Target,
    pub desired: K::Desired,
    /// Why each reference left out could not be used.
    pub waiting: Vec<Outcome>,
    pub iam: Arc<dyn Iam>,
    pub observed: K::Observed,
    pub claim: Claim,
    pub changes: Vec<K::Change>,
}

impl<K: Owned> Preview<K> {
    /// Why the object may not manage what exists, if it may not.
    pub fn refusal(&self, object: &K) -> Option<Outcome> {
        self.claim
            .refusal(&label::<K>(&self.target))
            .or_else(|| object.refuse_part(&self.observed))
    }
}

/// Validates, resolves and observes the resource, and plans the writes.
/// Nothing is read in AWS before the tenancy checks of `target` and
/// `desired` pass.
pub async fn preview<K: Owned>(object: &K, ctx: &Context, status: &K::Status) -> Result<Preview<K>, Stop> {
    object
        .validate()
        .map_err(|message| Outcome::stalled(Reason::InvalidSpec, message))?;
    let target = object.target(ctx).await?;
    let Resolved { desired, waiting } = object.desired(ctx, &target).await?;
    let account = &target.account;
    let iam = ctx
        .aws
        .iam_for(
            &account.id,
            &account.access_role,
            &requester(object, ctx.config.write_sessions),
        )
        .await?;
    let mut observed = object.observe(iam.as_ref(), &target).await?;
    if let Some(fresh) = iam.fresh()
        && K::plan(&desired, &observed)
            .first()
            .is_some_and(|change| !change.creates())
    {
        // Read from the account's inventory, which may be behind AWS: a
        // difference is confirmed before it is acted on or reported. A
        // creation is not: should the resource exist after all, AWS refuses
        // it and the resource is read then.
        observed = object.observe(fresh, &target).await?;
    }
    let claim = object.claim(ctx, status, &target, &observed);
    let changes = K::plan(&desired, &observed);
    Ok(Preview {
        target,
        desired,
        waiting,
        iam,
        observed,
        claim,
        changes,
    })
}

/// Takes the resource to the spec and records it in `status`: the preview
/// (or, where the object may no longer work, the lock), the refusals, the
/// record of what is there, then the writes, or in Observe mode the report.
pub async fn converge<K: Owned>(
    object: &K,
    ctx: &Context,
    api: &Api<K>,
    status: &mut K::Status,
) -> Result<Outcome, Stop> {
    let mut preview = preview_or_lock(object, ctx, status).await?;
    let manage = object.policies().management == ManagementPolicy::Manage;
    if manage {
        // Before anything is retired: a spec moved onto a resource it may
        // not take keeps the one it has.
        if let Some(refusal) = preview.refusal(object) {
            return Err(refusal.into());
        }
        // What went with the old resource (a role's customer-managed
        // policies) may be what the new one was planned to use: planned again.
        if retire_moved(object, ctx, status, &preview.target).await? {
            preview = preview_or_lock(object, ctx, status).await?;
        }
    }
    let what = label::<K>(&preview.target);
    let identity = K::identity(status);
    let finishing_creation = create::unfinished(*identity.ownership, identity.arn.as_deref());
    record_found(object, status, &preview);
    if !manage {
        let exists = K::arn(&preview.observed).is_some();
        return Ok(status::observe_only(&what, exists, &describe(&preview.changes)));
    }
    let Preview {
        desired,
        waiting,
        observed,
        ..
    } = &preview;
    let written = write(object, ctx, api, status, &preview).await?;
    let read_back = match K::READ_BACK && (written.created || !written.changes.is_empty()) {
        true => Some(object.observe(fresh(preview.iam.as_ref()), &preview.target).await?),
        false => None,
    };
    let observed = read_back.as_ref().or(written.found.as_ref()).unwrap_or(observed);
    K::identity(status).ownership.get_or_insert(Ownership::Created);
    object.record(status, desired, observed, true);
    let created = written.created || finishing_creation;
    let outcome = after_writes(ctx, object, &what, created, &written.changes, written.scheduled).await;
    if let Some(left_out) = left_out(&what, waiting) {
        return Ok(left_out);
    }
    Ok(object.conclude(&what, desired, observed, outcome))
}

/// The preview; where the object may no longer work in the account of its
/// resource, that resource is locked first.
async fn preview_or_lock<K: Owned>(object: &K, ctx: &Context, status: &mut K::Status) -> Result<Preview<K>, Stop> {
    match preview(object, ctx, status).await {
        Err(Stop::Lock(outcome)) => {
            let outcome = match lock_recorded(object, ctx, status, &outcome).await? {
                // What it made there is locked, which waiting will not undo
                // (its AwsAccount deleted): nothing changes until the
                // platform team allows it again.
                true if outcome.state != State::Stalled => Outcome {
                    state: State::Stalled,
                    reason: Reason::NamespaceNotAllowed,
                    message: format!("{}; what this object made there is locked", outcome.message),
                },
                _ => outcome,
            };
            Err(Stop::Lock(outcome))
        }
        preview => preview,
    }
}

/// Records in the status where the resource is and what it is, as found.
fn record_found<K: Owned>(object: &K, status: &mut K::Status, preview: &Preview<K>) {
    let identity = K::identity(status);
    *identity.account_id = Some(preview.target.account.id.clone());
    *identity.name = Some(preview.target.name.clone());
    *identity.arn = K::arn(&preview.observed).map(str::to_owned);
    object.record(status, &preview.desired, &preview.observed, false);
}

/// What the writes came to.
pub(super) struct Written<O> {
    pub created: bool,
    /// The writes besides the creation, described.
    pub changes: Vec<String>,
    /// Whether every one of them was made on the operator's own schedule.
    pub scheduled: bool,
    /// The resource as read again after AWS said it existed already.
    pub found: Option<O>,
}

/// Adopts, creates (once) and writes the rest of the difference.
async fn write<K: Owned>(
    object: &K,
    ctx: &Context,
    api: &Api<K>,
    status: &mut K::Status,
    preview: &Preview<K>,
) -> Result<Written<K::Observed>, Stop> {
    let iam = preview.iam.as_ref();
    if preview.claim == Claim::Adoptable {
        // Recorded before the owner tag is written: once the tag is there
        // the resource reads as this object's, and only this record says it
        // was adopted, to be released rather than deleted.
        *K::identity(status).ownership = Some(Ownership::Adopted);
        write_status(api, object, &*status).await?;
    }
    let mut written = Written {
        created: false,
        changes: vec![],
        scheduled: true,
        found: None,
    };
    let mut changes = preview.changes.iter().collect::<Vec<_>>();
    let replanned;
    if let Some(creation) = changes.first().copied().filter(|change| change.creates()) {
        let creating = CreatingOwned {
            object,
            ctx,
            api,
            iam,
            target: &preview.target,
            creation,
        };
        match create_then_reclaim(&creating, status).await? {
            Creation::NewResource(arn) => {
                *K::identity(status).arn = arn;
                written.created = true;
                changes.remove(0);
            }
            Creation::Found(found) => {
                *K::identity(status).arn = K::arn(&found).map(str::to_owned);
                replanned = K::plan(&preview.desired, &found);
                changes = replanned.iter().collect();
                written.found = Some(found);
            }
        }
    }
    for change in changes {
        object.perform_for(ctx, iam, &preview.target, change).await?;
        written.changes.push(change.describe());
        written.scheduled &= change.scheduled();
    }
    Ok(written)
}

/// The creation of an owned kind's resource (`create::create_then_reclaim`).
struct CreatingOwned<'a, K: Owned> {
    object: &'a K,
    ctx: &'a Context,
    api: &'a Api<K>,
    iam: &'a dyn Iam,
    target: &'a Target,
    creation: &'a K::Change,
}

#[async_trait]
impl<K: Owned> Creating for CreatingOwned<'_, K> {
    type Status = K::Status;
    type NewResource = Option<String>;
    type Existing = K::Observed;

    fn ownership(status: &mut K::Status) -> &mut Option<Ownership> {
        K::identity(status).ownership
    }

    async fn write_claim(&self, status: &K::Status) -> Result<()> {
        write_status(self.api, self.object, status).await
    }

    async fn create(&self) -> AwsResult<Option<String>> {
        K::perform(self.iam, &self.target.name, self.creation).await
    }

    async fn look(&self) -> Result<K::Observed, Stop> {
        Ok(self.object.observe(fresh(self.iam), self.target).await?)
    }

    fn claim(&self, status: &K::Status, found: &K::Observed) -> Claim {
        self.object.claim(self.ctx, status, self.target, found)
    }

    fn label(&self) -> String {
        label::<K>(self.target)
    }
}

/// The outcome while references are left out: Stalled when one of them will
/// not resolve by waiting (a namespace an account does not allow), else
/// Reconciling; the message names each.
pub(super) fn left_out(what: &str, waiting: &[Outcome]) -> Option<Outcome> {
    let first = waiting.iter().find(|o| o.state == State::Stalled).or(waiting.first())?;
    let messages: Vec<&str> = waiting.iter().map(|o| o.message.as_str()).collect();
    Some(Outcome {
        message: format!("{what} grants only what resolves; left out: {}", messages.join("; ")),
        ..first.clone()
    })
}

/// Deletes the resource on deletion of the object, unless the spec keeps it
/// or it was adopted: then it is released, its owner mark removed, so that
/// no later object takes it over as its own.
pub async fn cleanup<K: Owned>(object: &K, ctx: &Context, _api: &Api<K>) -> Result<()> {
    let policies = object.policies();
    if policies.management == ManagementPolicy::Observe {
        return Ok(());
    }
    let mut status = object.status().cloned().unwrap_or_default();
    let keep = policies.deletion == DeletionPolicy::Retain || adopted::<K>(&mut status);
    dispose(object, ctx, &mut status, keep, "").await
}

fn adopted<K: Owned>(status: &mut K::Status) -> bool {
    *K::identity(status).ownership == Some(Ownership::Adopted)
}

/// The resource the status records as this object's, read from AWS
/// itself, when AWS still shows it as this object's.
async fn observe_recorded<K: Owned>(
    object: &K,
    ctx: &Context,
    status: &mut K::Status,
) -> Result<Option<(Target, Arc<dyn Iam>, K::Observed)>> {
    let identity = K::identity(status);
    let (Some(account_id), Some(name), Some(_)) =
        (identity.account_id.clone(), identity.name.clone(), *identity.ownership)
    else {
        return Ok(None);
    };
    let iam = refs::iam_in_recorded_account(ctx, &account_id, &requester(object, ctx.config.write_sessions)).await?;
    let recorded = Target {
        account: Account {
            id: account_id,
            ..Account::default()
        },
        name,
        owner: Owner::of(object, &ctx.config.installation_id),
    };
    // Reads AWS itself: whatever is attached now must be seen.
    let observed = object.observe(fresh(iam.as_ref()), &recorded).await?;
    if object.claim(ctx, status, &recorded, &observed) != Claim::Ours {
        return Ok(None);
    }
    Ok(Some((recorded, iam, observed)))
}

/// Deletes the resource the status records (or releases it, with `keep`),
/// if AWS still shows it as this object's; the status forgets it.
async fn dispose<K: Owned>(object: &K, ctx: &Context, status: &mut K::Status, keep: bool, why: &str) -> Result<()> {
    if let Some((recorded, iam, observed)) = observe_recorded(object, ctx, status).await? {
        let iam = fresh(iam.as_ref());
        let what = label::<K>(&recorded);
        if keep {
            K::release(iam, &recorded.name, &observed).await?;
            let note = format!("released {what}{why}: kept in AWS without the operator's owner mark");
            publish(ctx, object, false, Reason::Released, "Delete", note).await;
        } else {
            K::delete(iam, &recorded.name, &observed).await?;
            publish(
                ctx,
                object,
                false,
                Reason::Deleted,
                "Delete",
                format!("deleted {what}{why}"),
            )
            .await;
        }
    }
    let identity = K::identity(status);
    *identity.ownership = None;
    *identity.arn = None;
    Ok(())
}

/// Rule 7: the object may no longer work in the account where it made its
/// resource, so that resource stops granting; nothing is deleted. The
/// status keeps the record, so a namespace allowed again takes it back.
/// Whether the object had made something there.
async fn lock_recorded<K: Owned>(object: &K, ctx: &Context, status: &mut K::Status, why: &Outcome) -> Result<bool> {
    if object.policies().management == ManagementPolicy::Observe {
        return Ok(false);
    }
    let Some((recorded, iam, observed)) = observe_recorded(object, ctx, status).await? else {
        return Ok(false);
    };
    let changes = K::lock(&recorded, &observed);
    for change in &changes {
        K::perform(fresh(iam.as_ref()), &recorded.name, change).await?;
    }
    if !changes.is_empty() {
        let note = format!(
            "locked {}: {}; {}",
            label::<K>(&recorded),
            describe(&changes).join(", "),
            why.message
        );
        publish(ctx, object, true, Reason::Locked, "Lock", note).await;
    }
    Ok(true)
}

/// The account and name of the resource created for an earlier spec that
/// `target` no longer names.
pub fn moved<K: Owned>(status: &mut K::Status, target: &Target) -> Option<(String, String)> {
    let identity = K::identity(status);
    let (Some(account_id), Some(name), Some(_)) =
        (identity.account_id.clone(), identity.name.clone(), *identity.ownership)
    else {
        return None;
    };
    (account_id != target.account.id || name != target.name).then_some((account_id, name))
}

/// When the spec moves the resource (a new name or account), deletes the
/// one created for the old spec, so nothing is left behind (an adopted one
/// is released); says whether there was one.
async fn retire_moved<K: Owned>(object: &K, ctx: &Context, status: &mut K::Status, target: &Target) -> Result<bool> {
    if moved::<K>(status, target).is_none() {
        return Ok(false);
    }
    let keep = adopted::<K>(status);
    dispose(object, ctx, status, keep, ": the spec moved it").await?;
    Ok(true)
}
