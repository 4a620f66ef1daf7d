//! Carrying the planned changes out, and closing the account on deletion.

use crate::api::{AccountState, AwsAccount, Reason};
use crate::aws::{AwsResult, Organizations};
use crate::controller::context::Context;
use crate::controller::error::{Error, Result};
use crate::controller::status::publish;

use super::observe;
use super::plan::{self, Change, Earlier, Locate, Progress};

pub async fn perform(orgs: &dyn Organizations, account_id: &str, change: &Change) -> AwsResult<()> {
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
/// way `apply` finds it, so that one created by a run that died before
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
pub async fn close(ctx: &Context, account: &AwsAccount) -> Result<()> {
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
    match plan::state(&info.status) {
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
