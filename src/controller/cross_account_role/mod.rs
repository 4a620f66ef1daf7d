//! CrossAccountRole: an IAM role in a target account whose trust policy
//! names who may assume it. The story of one reconcile: resolve references
//! from the caches, read the role, plan the difference, write only that,
//! then write status once.

mod apply;
mod observe;
mod plan;

pub use observe::group_account;

use std::sync::Arc;

use kube::ResourceExt;
use kube::api::Api;
use kube::runtime::controller::Action;
use kube::runtime::finalizer::{Event, finalizer};

use super::context::Context;
use super::error::{Error, Result};
use super::ownership::{Claim, owner_id};
use super::refs;
use super::status::{Outcome, applied, observed, publish, settle, write_status};
use crate::api::{CrossAccountRole, CrossAccountRoleStatus, DeletionPolicy, ManagementPolicy, Ownership, Reason};
use crate::aws::Iam;
use plan::Change;

pub const FINALIZER: &str = "awsaccess.dev/cleanup";

pub async fn reconcile(role: Arc<CrossAccountRole>, ctx: Arc<Context>) -> Result<Action> {
    let api: Api<CrossAccountRole> = Api::namespaced(ctx.client.clone(), &role.namespace().unwrap_or_default());
    finalizer(&api, FINALIZER, role, |event| async {
        match event {
            Event::Apply(role) => apply(&role, &ctx, &api).await,
            Event::Cleanup(role) => cleanup(&role, &ctx).await,
        }
    })
    .await
    .map_err(|err| Error::Finalizer(Box::new(err)))
}

fn role_name(role: &CrossAccountRole) -> String {
    role.spec.role_name.clone().unwrap_or_else(|| role.name_any())
}

/// Converges, then writes the status once.
async fn apply(role: &CrossAccountRole, ctx: &Context, api: &Api<CrossAccountRole>) -> Result<Action> {
    let mut status = role.status.clone().unwrap_or_default();
    let result = converge(role, ctx, api, &mut status).await;
    settle(role, api, &mut status, result).await?;
    ctx.succeeded(role);
    Ok(Action::requeue(ctx.config.resync_interval))
}

async fn converge(
    role: &CrossAccountRole,
    ctx: &Context,
    api: &Api<CrossAccountRole>,
    status: &mut CrossAccountRoleStatus,
) -> Result<Outcome> {
    let namespace = role.namespace().unwrap_or_default();
    if let Err(message) = plan::validate(&role.spec) {
        return Ok(Outcome::stalled(Reason::InvalidSpec, message));
    }
    let account = match refs::account(
        &ctx.stores,
        &ctx.config,
        &role.spec.account,
        Some(&namespace),
        "spec.account",
    ) {
        Ok(account) => account,
        Err(outcome) => return Ok(outcome),
    };
    let trust_policy = match observe::trust(ctx, role).await? {
        Ok(policy) => policy,
        Err(outcome) => return Ok(outcome),
    };
    let name = role_name(role);
    let owner = owner_id(role);
    let desired = match plan::desired(&role.spec, &name, trust_policy, &owner) {
        Ok(desired) => desired,
        Err(message) => return Ok(Outcome::stalled(Reason::InvalidSpec, message)),
    };
    let iam = ctx.aws.iam(&account.id, &account.access_role).await?;
    let observe_only = role.spec.management_policy == ManagementPolicy::Observe;
    if !observe_only {
        retire_previous(role, ctx, status, &account.id, &name).await?;
    }
    let current = iam.get_role(&name).await?;
    let claim = plan::claim(current.as_ref(), &owner, role.spec.adopt_existing);
    let what = format!("IAM role {name} in account {}", account.id);
    if !observe_only && let Some(refusal) = claim.refusal(&what) {
        return Ok(refusal);
    }
    status.account_id = Some(account.id.clone());
    status.role_name = Some(name.clone());
    let changes = plan::plan(&desired, current.as_ref());
    if observe_only {
        status.role_arn = current.as_ref().map(|r| r.arn.clone());
        return Ok(observed(&what, current.is_some(), &describe(&changes)));
    }
    if claim == Claim::Adoptable {
        status.ownership = Some(Ownership::Adopted);
    }
    let mut created = false;
    for change in &changes {
        if let Some(arn) = apply::perform(iam.as_ref(), &name, change).await? {
            created = true;
            // Recorded at once, so a restart finds the role as ours.
            status.role_arn = Some(arn);
            status.ownership = Some(Ownership::Created);
            write_status(api, role, &*status).await?;
        }
    }
    if let Some(current) = &current {
        status.role_arn = Some(current.arn.clone());
        status.ownership.get_or_insert(Ownership::Created);
    }
    Ok(applied(ctx, role, &what, created, &describe(&changes)).await)
}

fn describe(changes: &[Change]) -> Vec<String> {
    changes.iter().map(Change::describe).collect()
}

/// When the spec moves the role (new name or account), the role created
/// for the old one is deleted so nothing is left behind.
async fn retire_previous(
    role: &CrossAccountRole,
    ctx: &Context,
    status: &mut CrossAccountRoleStatus,
    account_id: &str,
    name: &str,
) -> Result<()> {
    let (Some(old_account), Some(old_name), Some(_)) = (&status.account_id, &status.role_name, status.ownership) else {
        return Ok(());
    };
    if old_account == account_id && old_name == name {
        return Ok(());
    }
    let iam = iam_for_recorded_account(ctx, role, old_account).await?;
    if plan::claim(iam.get_role(old_name).await?.as_ref(), &owner_id(role), false) == Claim::Ours {
        apply::delete_role(iam.as_ref(), old_name).await?;
        publish(
            ctx,
            role,
            false,
            Reason::Deleted,
            "Delete",
            format!("deleted IAM role {old_name} in account {old_account}: the spec moved the role"),
        )
        .await;
    }
    status.ownership = None;
    status.role_arn = None;
    Ok(())
}

/// IAM in an account recorded in status, which may no longer be resolvable
/// from the spec (its AwsAccount gone or changed).
async fn iam_for_recorded_account(ctx: &Context, role: &CrossAccountRole, account_id: &str) -> Result<Arc<dyn Iam>> {
    let namespace = role.namespace().unwrap_or_default();
    let resolved = refs::account(
        &ctx.stores,
        &ctx.config,
        &role.spec.account,
        Some(&namespace),
        "spec.account",
    );
    refs::iam_in_recorded_account(ctx, resolved, account_id).await
}

async fn cleanup(role: &CrossAccountRole, ctx: &Context) -> Result<Action> {
    let status = role.status.clone().unwrap_or_default();
    let keep =
        role.spec.deletion_policy == DeletionPolicy::Retain || role.spec.management_policy == ManagementPolicy::Observe;
    let (Some(account_id), Some(name), Some(_), false) =
        (&status.account_id, &status.role_name, status.ownership, keep)
    else {
        return Ok(Action::await_change());
    };
    let iam = iam_for_recorded_account(ctx, role, account_id).await?;
    // Only a role still carrying this object's tag is deleted.
    if plan::claim(iam.get_role(name).await?.as_ref(), &owner_id(role), false) == Claim::Ours {
        apply::delete_role(iam.as_ref(), name).await?;
        publish(
            ctx,
            role,
            false,
            Reason::Deleted,
            "Delete",
            format!("deleted IAM role {name} in account {account_id}"),
        )
        .await;
    }
    Ok(Action::await_change())
}
