//! AwsAccount: a member account of the organization, created through
//! Organizations or adopted by id, then placed in its OU and tagged.
//! CreateAccount is the one call here that cannot be undone and must never
//! run twice: its request id is recorded before anything else happens, and
//! before calling it the reconcile looks for what an earlier run may have
//! created without recording it.

mod apply;
pub(crate) mod observe;
pub(crate) mod plan;
pub mod triggers;

use async_trait::async_trait;
use kube::api::{Api, PostParams};
use kube::{Client, ResourceExt};

use super::context::{Config, Context};
use super::driver::{Next, Reconciler, Stop};
use super::error::{Error, KubeContext, Result, named};
use super::refs;
use super::status::{Outcome, applied, finish, observed, publish, write_status};
use crate::api::{AccountState, AwsAccount, AwsAccountStatus, ManagementPolicy, Reason};
use crate::aws::{AwsErrorKind, Organizations};
use plan::{Change, Earlier, Locate, Progress};

#[async_trait]
impl Reconciler for AwsAccount {
    fn api(&self, client: Client) -> Api<Self> {
        Api::all(client)
    }

    async fn converge(&self, ctx: &Context, api: &Api<Self>, status: &mut AwsAccountStatus) -> Result<Outcome, Stop> {
        converge(self, ctx, api, status).await
    }

    async fn cleanup(&self, ctx: &Context, api: &Api<Self>) -> Result<()> {
        cleanup(self, ctx, api).await
    }

    fn next(&self, outcome: &Outcome, config: &Config) -> Next {
        match outcome.reason {
            // Someone may create the OU at any moment: look again soon, then
            // less and less often, without treating a wait as a failure.
            Reason::OrganizationalUnitNotFound => Next::Backoff,
            Reason::Creating => Next::After(config.poll_interval),
            _ => Next::Resync,
        }
    }
}

/// The account the object stands for, and how the reconcile came by it.
struct Located {
    id: String,
    /// Named by `spec.accountId`.
    adopted: bool,
    /// Created for this object and seen for the first time now.
    created: bool,
}

async fn converge(
    account: &AwsAccount,
    ctx: &Context,
    api: &Api<AwsAccount>,
    status: &mut AwsAccountStatus,
) -> Result<Outcome, Stop> {
    if let Some(refusal) = never_close_own(ctx, account, status).await? {
        return Err(refusal.into());
    }
    let orgs = ctx.aws.organizations();
    let located = match plan::locate(&account.spec, status, account.metadata.generation) {
        Locate::Account { id, adopted } => Located {
            id,
            adopted,
            created: false,
        },
        Locate::Poll(request) => follow(ctx, account, orgs.as_ref(), status, &request).await?,
        Locate::Search => search_or_create(ctx, account, api, orgs.as_ref(), status).await?,
    };
    converge_account(ctx, account, orgs.as_ref(), status, located).await
}

/// Follows a CreateAccount request to the account it creates.
async fn follow(
    ctx: &Context,
    account: &AwsAccount,
    orgs: &dyn Organizations,
    status: &mut AwsAccountStatus,
    request: &str,
) -> Result<Located, Stop> {
    match plan::progress(&orgs.describe_create_account_status(request).await?) {
        Progress::Running => {
            status.state = Some(AccountState::Creating);
            Err(creating(request).into())
        }
        Progress::Failed(reason) => {
            let message = format!(
                "AWS failed to create the account (request {request}): {reason}. Change the spec to try again; spec.email is immutable, so for EMAIL_ALREADY_EXISTS create a new AwsAccount (with spec.accountId to adopt that account, or with another email)"
            );
            if status.state != Some(AccountState::Failed) {
                publish(
                    ctx,
                    account,
                    true,
                    Reason::CreateAccountFailed,
                    "CreateAccount",
                    message.clone(),
                )
                .await;
            }
            status.state = Some(AccountState::Failed);
            Err(Outcome::stalled(Reason::CreateAccountFailed, message).into())
        }
        Progress::Succeeded(id) => Ok(Located {
            id,
            adopted: false,
            created: true,
        }),
    }
}

fn creating(request: &str) -> Outcome {
    Outcome::reconciling(
        Reason::Creating,
        format!("AWS is creating the account (request {request})"),
    )
}

/// Takes over what an earlier run left, or calls CreateAccount.
async fn search_or_create(
    ctx: &Context,
    account: &AwsAccount,
    api: &Api<AwsAccount>,
    orgs: &dyn Organizations,
    status: &mut AwsAccountStatus,
) -> Result<Located, Stop> {
    let spec = &account.spec;
    // What a failed request left is history once the spec changed.
    status.create_account_request_id = None;
    status.state = None;
    match observe::earlier(orgs, spec).await? {
        Earlier::Account(id) => {
            let note = format!(
                "found account {id} with email {} in the organization (created by an earlier run that died before recording it, or by hand); using it instead of creating another",
                spec.email
            );
            publish(ctx, account, false, Reason::Adopted, "CreateAccount", note).await;
            return Ok(Located {
                id,
                adopted: false,
                created: true,
            });
        }
        Earlier::Request(request) => {
            status.create_account_request_id = Some(request.clone());
            return follow(ctx, account, orgs, status, &request).await;
        }
        Earlier::Nothing => {}
    }
    if spec.management_policy == ManagementPolicy::Observe {
        return Err(Outcome::drifted(format!(
            "no account with email {} is in the organization; Manage would create it",
            spec.email
        ))
        .into());
    }
    // The cache may not yet hold the status written by the previous
    // reconcile; the API server does. One read, only before the one call
    // that must not be repeated.
    let fresh = api
        .get_status(&account.name_any())
        .await
        .doing(|| format!("reading the status of {} before CreateAccount", named(account)))?;
    let recorded = fresh.status.clone().unwrap_or_default();
    if plan::locate(spec, &recorded, account.metadata.generation) != Locate::Search {
        *status = AwsAccountStatus {
            reconcile: std::mem::take(&mut status.reconcile),
            ..recorded
        };
        return Err(Outcome::reconciling(Reason::Creating, "resuming the account creation recorded in status").into());
    }
    // An account is created where it belongs or not at all: a path that
    // names no OU must not leave a new account at the root, outside the
    // guardrails of its OU.
    let known = refs::ou_with_path(&ctx.stores, spec.organizational_unit.as_deref());
    if let Err(message) = observe::target_parent(orgs, spec, known).await? {
        return Err(Outcome::reconciling(
            Reason::OrganizationalUnitNotFound,
            format!("{message}; the account is created once it exists"),
        )
        .into());
    }
    fence_creation(api, fresh).await?;
    let request = orgs.create_account(&plan::new_account(spec)).await?;
    status.create_account_request_id = Some(request.clone());
    status.state = Some(AccountState::Creating);
    // Recorded before anything else can happen: a restart resumes this
    // request instead of creating a second account.
    write_status(api, account, &*status).await?;
    let note = format!(
        "asked Organizations to create account {} for {} (request {request})",
        spec.account_name, spec.email
    );
    publish(ctx, account, false, Reason::Creating, "CreateAccount", note).await;
    Err(creating(&request).into())
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

/// Confirms the account, records its state, and places and tags it.
async fn converge_account(
    ctx: &Context,
    account: &AwsAccount,
    orgs: &dyn Organizations,
    status: &mut AwsAccountStatus,
    located: Located,
) -> Result<Outcome, Stop> {
    let spec = &account.spec;
    let Located { id, adopted, created } = located;
    let Some(info) = orgs.describe_account(&id).await? else {
        let message = if adopted {
            format!("spec.accountId {id} is not a member of this organization; invite it, or correct the id")
        } else {
            format!("account {id} is no longer a member of this organization (it was removed outside the operator)")
        };
        return Ok(Outcome::stalled(Reason::NotInOrganization, message));
    };
    if !plan::same_email(spec, &info) {
        return Ok(Outcome::stalled(
            Reason::EmailDiffers,
            format!(
                "account {id} has email {} in AWS, not spec.email {}; the operator changes nothing in an account it cannot confirm is the one meant",
                info.email, spec.email
            ),
        ));
    }
    let what = format!("account {id} ({})", info.name);
    let first_sight = status.account_id.is_none();
    let previous_state = status.state;
    status.account_id = Some(id.clone());
    status.arn = Some(info.arn.clone());
    status.state = plan::state(&info.status);
    match status.state {
        Some(AccountState::Active) => {}
        Some(AccountState::Creating) => {
            return Ok(Outcome::reconciling(
                Reason::Creating,
                format!("AWS is activating {what}"),
            ));
        }
        Some(AccountState::Suspended | AccountState::PendingClosure) => {
            let message = format!(
                "{what} is {} in AWS: closed or suspended outside the operator. Nothing in it is changed, and objects that reference it wait; delete this object, or have AWS reopen the account",
                info.status
            );
            if previous_state != status.state {
                publish(ctx, account, true, Reason::Suspended, "Observe", message.clone()).await;
            }
            return Ok(Outcome::stalled(Reason::Suspended, message));
        }
        Some(AccountState::Failed) | None => {
            return Ok(Outcome::stalled(
                Reason::AwsError,
                format!(
                    "{what} is in state {:?}, which this operator does not know",
                    info.status
                ),
            ));
        }
    }
    let known = refs::ou_with_path(&ctx.stores, spec.organizational_unit.as_deref());
    let placing = observe::placing(orgs, spec, &id, known).await?;
    status.organizational_unit_id = Some(placing.current.parent.clone());
    let (parent, changes) = match placing.target {
        Ok(target) => target,
        Err(message) => {
            let message = format!("{message}; {what} stays in {} until it exists", placing.current.parent);
            return Ok(Outcome::reconciling(Reason::OrganizationalUnitNotFound, message));
        }
    };
    let name_difference = plan::name_difference(spec, &info);
    if spec.management_policy == ManagementPolicy::Observe {
        let differences: Vec<String> = describe(&changes).into_iter().chain(name_difference).collect();
        return Ok(observed(&what, true, &differences));
    }
    for change in &changes {
        match apply::perform(orgs, &id, change).await {
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
    status.organizational_unit_id = Some(parent);
    if adopted && first_sight {
        publish(
            ctx,
            account,
            false,
            Reason::Adopted,
            "Adopt",
            format!("adopted {what}, a member of the organization"),
        )
        .await;
    }
    let outcome = applied(ctx, account, &what, created, &describe(&changes)).await;
    Ok(match name_difference {
        Some(message) => Outcome::stalled(Reason::NameDiffers, message),
        None => outcome,
    })
}

fn describe(changes: &[Change]) -> Vec<String> {
    changes.iter().map(Change::describe).collect()
}

/// The management account (the operator's own, the identity account) can
/// never be closed: `deletionPolicy: Close` is refused for it.
async fn never_close_own(ctx: &Context, account: &AwsAccount, status: &AwsAccountStatus) -> Result<Option<Outcome>> {
    if !plan::closes(&account.spec) {
        return Ok(None);
    }
    let own = ctx.aws.own_account_id().await?;
    let id = account.spec.account_id.as_ref().or(status.account_id.as_ref());
    Ok((id == Some(&own)).then(|| {
        Outcome::stalled(
            Reason::InvalidSpec,
            format!("spec.deletionPolicy: Close is refused for account {own}, the management account (the operator's own): it can never be closed; set Retain"),
        )
    }))
}

/// Retain (the default) and Observe let the object go and leave the account;
/// Close closes it first. A failed close keeps the object, with the reason
/// in its conditions, and is retried with backoff.
async fn cleanup(account: &AwsAccount, ctx: &Context, api: &Api<AwsAccount>) -> Result<()> {
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
    let closed = apply::close(ctx, account).await;
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
