//! The writes: CreateAccount (once, fenced, its request recorded first),
//! the status that records what the preview found, the moves and tags that
//! place the account, and closing it on deletion.

use kube::ResourceExt;
use kube::api::{Api, PostParams};

use crate::api::{AccountState, AwsAccount, AwsAccountStatus, ManagementPolicy, Reason};
use crate::aws::{AwsErrorKind, AwsResult, Organizations};
use crate::controller::context::Context;
use crate::controller::driver::Stop;
use crate::controller::error::{Error, Result, named};
use crate::controller::status::{Outcome, after_writes, finish, observe_only, publish, write_status};

use super::observe::{self, preview};
use super::plan::{self, AccountPreview, Change, Earlier, Locate, Origin, Place, Progress, Sight, Sighted, Writes};
use super::resolve::never_close_own;

/// Takes the account to the spec and records it in `status`: the preview,
/// the record of what it found, then the writes it calls for.
pub async fn converge(
    account: &AwsAccount,
    ctx: &Context,
    api: &Api<AwsAccount>,
    status: &mut AwsAccountStatus,
) -> Result<Outcome, Stop> {
    forget_failed_request(account, status);
    let preview = preview(account, ctx, status).await?;
    let first_sight = status.account_id.is_none();
    let next = preview.next(&account.spec);
    record(ctx, account, status, &preview, next.as_ref().err()).await;
    match next? {
        Writes::Create { fresh, .. } => create(ctx, account, api, status, fresh.clone()).await,
        Writes::Place(place) => place_and_tag(ctx, account, status, &place, first_sight).await,
    }
}

/// What a failed request left is history once the spec changed: the search
/// starts over. Forgotten before anything is read, so that a reconcile
/// that fails on the way does not record the old request to follow again.
fn forget_failed_request(account: &AwsAccount, status: &mut AwsAccountStatus) {
    if plan::locate(&account.spec, status, account.metadata.generation) == Locate::Search {
        status.create_account_request_id = None;
        status.state = None;
    }
}

/// Records in the status what the preview found, with the Events it calls
/// for; `stop` is where the reconcile stops, if it does.
async fn record(
    ctx: &Context,
    account: &AwsAccount,
    status: &mut AwsAccountStatus,
    preview: &AccountPreview,
    stop: Option<&Outcome>,
) {
    match preview {
        AccountPreview::Creating { request, found } => {
            record_request(status, request, *found);
            status.state = Some(AccountState::Creating);
        }
        AccountPreview::Failed { request, found, .. } => {
            record_request(status, request, *found);
            if status.state != Some(AccountState::Failed)
                && let Some(stop) = stop
            {
                let note = stop.message.clone();
                publish(ctx, account, true, Reason::CreateAccountFailed, "CreateAccount", note).await;
            }
            status.state = Some(AccountState::Failed);
        }
        AccountPreview::Recorded(recorded) => {
            *status = AwsAccountStatus {
                reconcile: std::mem::take(&mut status.reconcile),
                ..recorded.clone()
            };
        }
        AccountPreview::Absent(_) => {}
        AccountPreview::Account(sighted) => record_account(ctx, account, status, sighted, stop).await,
    }
}

/// A request the search found is recorded, to be followed from now on.
fn record_request(status: &mut AwsAccountStatus, request: &str, found: bool) {
    if found {
        status.create_account_request_id = Some(request.to_owned());
    }
}

async fn record_account(
    ctx: &Context,
    account: &AwsAccount,
    status: &mut AwsAccountStatus,
    sighted: &Sighted,
    stop: Option<&Outcome>,
) {
    match &sighted.origin {
        Origin::Found => {
            let note = format!(
                "found account {} with email {} in the organization (created by an earlier run that died before recording it, or by hand); using it instead of creating another",
                sighted.id, account.spec.email
            );
            publish(ctx, account, false, Reason::Adopted, "CreateAccount", note).await;
        }
        Origin::Created {
            found_request: Some(request),
        } => record_request(status, request, true),
        Origin::Created { found_request: None } | Origin::Adopted | Origin::Recorded => {}
    }
    // Only an account confirmed as the spec's is recorded.
    let (Sight::Inactive(info) | Sight::Active(info, _)) = &sighted.sight else {
        return;
    };
    let previous_state = status.state;
    status.account_id = Some(sighted.id.clone());
    status.arn = Some(info.arn.clone());
    status.state = plan::state(&info.state);
    if let Sight::Active(_, placing) = &sighted.sight {
        status.organizational_unit_id = Some(placing.current.parent.clone());
    }
    let suspended = matches!(
        status.state,
        Some(AccountState::Suspended | AccountState::PendingClosure)
    );
    if suspended
        && previous_state != status.state
        && let Some(stop) = stop
    {
        publish(ctx, account, true, Reason::Suspended, "Observe", stop.message.clone()).await;
    }
}

/// Calls CreateAccount, fenced; its request is recorded before anything
/// else can happen, so that a restart resumes it instead of creating a
/// second account.
async fn create(
    ctx: &Context,
    account: &AwsAccount,
    api: &Api<AwsAccount>,
    status: &mut AwsAccountStatus,
    fresh: AwsAccount,
) -> Result<Outcome, Stop> {
    let spec = &account.spec;
    fence_creation(api, fresh).await?;
    let request = ctx.aws.organizations().create_account(&plan::new_account(spec)).await?;
    status.create_account_request_id = Some(request.clone());
    status.state = Some(AccountState::Creating);
    write_status(api, account, &*status).await?;
    let note = format!(
        "asked Organizations to create account {} for {} (request {request})",
        spec.account_name, spec.email
    );
    publish(ctx, account, false, Reason::Creating, "CreateAccount", note).await;
    Err(plan::creating(&request).into())
}

/// Records the intent to create the account, on the condition that the
/// object is still as read: its resourceVersion is the fencing token. A
/// leader deposed since, or another reconcile racing this one, finds the
/// object changed and never sends CreateAccount; the one that wrote the
/// intent does, and the others then find its request by searching.
async fn fence_creation(api: &Api<AwsAccount>, mut fresh: AwsAccount) -> Result<(), Stop> {
    let status = fresh.status.get_or_insert_with(AwsAccountStatus::default);
    status.state = Some(AccountState::Creating);
    match api
        .replace_status(&fresh.name_any(), &PostParams::default(), &fresh)
        .await
    {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(response)) if response.code == 409 => Err(Outcome::reconciling(
            Reason::Creating,
            "another reconcile is creating this account; following its request",
        )
        .into()),
        Err(source) => Err(Stop::Fail(Error::Kube {
            action: format!("recording in {} that the account is being created", named(&fresh)),
            source,
        })),
    }
}

/// Moves and tags the active account as the spec says, or in Observe mode
/// reports the difference.
async fn place_and_tag(
    ctx: &Context,
    account: &AwsAccount,
    status: &mut AwsAccountStatus,
    place: &Place<'_>,
    first_sight: bool,
) -> Result<Outcome, Stop> {
    let spec = &account.spec;
    let Place { sighted, info, .. } = place;
    let what = format!("account {} ({})", sighted.id, info.name);
    let name_difference = plan::name_difference(spec, info);
    let described = place.describe();
    if spec.management_policy == ManagementPolicy::Observe {
        let differences: Vec<String> = described.into_iter().chain(name_difference).collect();
        return Ok(observe_only(&what, true, &differences));
    }
    let orgs = ctx.aws.organizations();
    for change in place.changes {
        match perform(orgs.as_ref(), &sighted.id, change).await {
            // An `ou-` id that names no OU: waited for like a path that names none.
            Err(err) if err.kind == AwsErrorKind::NotFound && matches!(change, Change::Move { .. }) => {
                return Ok(Outcome::reconciling(
                    Reason::OrganizationalUnitNotFound,
                    format!("spec.organizationalUnit: {err}"),
                ));
            }
            result => result?,
        }
    }
    status.organizational_unit_id = Some(place.parent.to_owned());
    if sighted.origin == Origin::Adopted && first_sight {
        let note = format!("adopted {what}, a member of the organization");
        publish(ctx, account, false, Reason::Adopted, "Adopt", note).await;
    }
    let outcome = after_writes(ctx, account, &what, sighted.origin.created(), &described, false).await;
    Ok(match name_difference {
        Some(message) => Outcome::stalled(Reason::NameDiffers, message),
        None => outcome,
    })
}

async fn perform(orgs: &dyn Organizations, account_id: &str, change: &Change) -> AwsResult<()> {
    match change {
        Change::Move { from, to } => orgs.move_account(account_id, from, to).await,
        Change::Tag(tags) => orgs.tag_resource(account_id, tags).await,
        Change::Untag(keys) => orgs.untag_resource(account_id, keys).await,
    }
}

fn still_creating(account: &AwsAccount) -> Error {
    Error::Pending {
        reason: Reason::Creating,
        message: format!(
            "account {} is still being created; it is closed once it exists",
            account.spec.account_name
        ),
    }
}

/// The account the object stands for, wherever that is recorded, found the
/// way `preview` finds it, so that one created by a run that died before
/// recording it is closed too. None: there is no account to close.
async fn account_id(orgs: &dyn Organizations, account: &AwsAccount) -> Result<Option<String>> {
    let status = account.status.clone().unwrap_or_default();
    Ok(
        match plan::locate(&account.spec, &status, account.metadata.generation) {
            Locate::Account { id, .. } => Some(id),
            Locate::Poll(request) => match plan::progress(&orgs.describe_create_account_status(&request).await?) {
                Progress::Succeeded(id) => Some(id),
                Progress::Failed(_) => None,
                Progress::Running => return Err(still_creating(account)),
            },
            Locate::Search => match observe::earlier(orgs, &account.spec).await? {
                Earlier::Account(id) => Some(id),
                Earlier::Request(_) => return Err(still_creating(account)),
                Earlier::Nothing => None,
            },
        },
    )
}

/// Closes the account if it is open. Idempotent: no account, one that left
/// the organization, or one already closed is done.
async fn close(ctx: &Context, account: &AwsAccount) -> Result<()> {
    let orgs = ctx.aws.organizations();
    let Some(id) = account_id(orgs.as_ref(), account).await? else {
        return Ok(());
    };
    let Some(info) = orgs.describe_account(&id).await? else {
        return Ok(());
    };
    if !plan::same_email(&account.spec, &info) {
        let note = format!(
            "did not close account {id}: its email {} is not spec.email {}",
            info.email, account.spec.email
        );
        publish(ctx, account, true, Reason::EmailDiffers, "Close", note).await;
        return Ok(());
    }
    match plan::state(&info.state) {
        Some(AccountState::Active) => {}
        Some(AccountState::Creating) => return Err(still_creating(account)),
        _ => return Ok(()),
    }
    orgs.close_account(&id).await?;
    publish(
        ctx,
        account,
        false,
        Reason::Closed,
        "Close",
        format!(
            "closed account {id} ({}); AWS keeps it suspended for 90 days",
            info.name
        ),
    )
    .await;
    Ok(())
}

/// Retain (the default) and Observe let the object go and leave the account;
/// Close closes it first. A failed close keeps the object, with the reason
/// in its conditions, and is retried with backoff.
pub async fn cleanup(account: &AwsAccount, ctx: &Context, api: &Api<AwsAccount>) -> Result<()> {
    let mut status = account.status.clone().unwrap_or_default();
    let own = never_close_own(ctx, account, &status).await?.is_some();
    if !plan::closes(&account.spec) || own {
        if let Some(id) = account.spec.account_id.as_ref().or(status.account_id.as_ref()) {
            let why = match account.spec.management_policy {
                _ if own => "the management account is never closed",
                ManagementPolicy::Observe => "managementPolicy: Observe",
                ManagementPolicy::Manage => "deletionPolicy: Retain",
            };
            let note = format!("left account {id} in the organization ({why})");
            publish(ctx, account, false, Reason::Retained, "Delete", note).await;
        }
        return Ok(());
    }
    let closed = close(ctx, account).await;
    if let Err(err) = &closed {
        let outcome = match err {
            Error::Aws(aws) if !aws.kind.retryable() => Outcome::stalled(
                aws.kind.reason(),
                format!(
                    "{aws}. The object stays until the account is closed, retried with backoff (AWS closes only a limited number of accounts per 30 days); to keep the account instead, set spec.deletionPolicy: Retain"
                ),
            ),
            other => Outcome::reconciling(other.reason(), other.to_string()),
        };
        finish(account, api, &mut status, &outcome).await?;
    }
    closed
}
