//! What the spec's references resolve to, before anything is read in
//! Organizations: the refusal to ever close the management account, and
//! the OU the spec's path names, where its OrganizationalUnit knows it.

use crate::api::{AwsAccount, AwsAccountStatus, Reason};
use crate::controller::context::Context;
use crate::controller::driver::Stop;
use crate::controller::error::Result;
use crate::controller::refs;
use crate::controller::status::Outcome;

use super::plan;

/// The id of the Ready OrganizationalUnit with the spec's path (None: the
/// path is walked in AWS), once the spec is not refused. Fails closed: when
/// the operator's own account cannot be read, nothing else is.
pub async fn known_ou(account: &AwsAccount, ctx: &Context, status: &AwsAccountStatus) -> Result<Option<String>, Stop> {
    if let Some(refusal) = never_close_own(ctx, account, status).await? {
        return Err(refusal.into());
    }
    Ok(refs::ou_with_path(
        &ctx.stores,
        account.spec.organizational_unit.as_deref(),
    ))
}

/// The management account (the operator's own, the identity account) can
/// never be closed: `deletionPolicy: Close` is refused for it.
pub async fn never_close_own(
    ctx: &Context,
    account: &AwsAccount,
    status: &AwsAccountStatus,
) -> Result<Option<Outcome>> {
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
