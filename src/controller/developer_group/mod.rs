//! DeveloperGroup: an IAM group in the identity account whose members may
//! assume the listed roles. IAM groups take no tags, so ownership lives in
//! the object's status, claimed before the group is created.

mod plan;

use std::sync::Arc;

use kube::ResourceExt;
use kube::api::Api;
use kube::runtime::controller::Action;
use kube::runtime::finalizer::{Event, finalizer};

use super::context::Context;
use super::cross_account_role::group_account;
use super::error::{Error, Result};
use super::ownership::{Claim, owner_id};
use super::refs;
use super::status::{self, Outcome, applied, publish, settle, write_status};
use crate::api::{DeletionPolicy, DeveloperGroup, DeveloperGroupStatus, ManagementPolicy, Ownership, Reason};
use crate::aws::{AwsErrorKind, AwsResult, GroupState, Iam, gone_is_done};
use crate::policy::trust::{assume_role_policy, render_aws_config};
use plan::{Change, DesiredGroup};

pub const FINALIZER: &str = "awsaccess.dev/cleanup";

/// How soon a group with missing users looks for them again.
const MISSING_USERS_RECHECK: std::time::Duration = std::time::Duration::from_secs(60);

pub async fn reconcile(group: Arc<DeveloperGroup>, ctx: Arc<Context>) -> Result<Action> {
    let api: Api<DeveloperGroup> = Api::namespaced(ctx.client.clone(), &group.namespace().unwrap_or_default());
    finalizer(&api, FINALIZER, group, |event| async {
        match event {
            Event::Apply(group) => apply(&group, &ctx, &api).await,
            Event::Cleanup(group) => cleanup(&group, &ctx).await,
        }
    })
    .await
    .map_err(|err| Error::Finalizer(Box::new(err)))
}

fn group_name(group: &DeveloperGroup) -> String {
    group.spec.group_name.clone().unwrap_or_else(|| group.name_any())
}

async fn apply(group: &DeveloperGroup, ctx: &Context, api: &Api<DeveloperGroup>) -> Result<Action> {
    let mut status = group.status.clone().unwrap_or_default();
    let result = converge(group, ctx, api, &mut status).await;
    let outcome = settle(group, api, &mut status, result).await?;
    ctx.succeeded(group);
    let recheck = if outcome.reason == Reason::MissingUsers {
        MISSING_USERS_RECHECK
    } else {
        ctx.config.resync_interval
    };
    Ok(Action::requeue(recheck))
}

/// The role ARNs and profile names the group grants, or why not yet.
fn access(ctx: &Context, group: &DeveloperGroup) -> Result<Vec<(String, String)>, Outcome> {
    let namespace = group.namespace().unwrap_or_default();
    let mut profiles = vec![];
    for (i, access) in group.spec.access.iter().enumerate() {
        let field = format!("spec.access[{i}].role");
        let arn = match (&access.role_arn, &access.role) {
            (Some(arn), _) => arn.clone(),
            (None, Some(reference)) => {
                let Some(role) = refs::role(&ctx.stores, reference, &namespace) else {
                    return Err(Outcome::reconciling(
                        Reason::ReferenceNotReady,
                        format!("{field}: CrossAccountRole {} does not exist", reference.name),
                    ));
                };
                // The ARN is known as soon as the role's account is: no need to wait for the role itself.
                let role_namespace = role.namespace().unwrap_or_default();
                let account = refs::account(
                    &ctx.stores,
                    &ctx.config,
                    &role.spec.account,
                    Some(&role_namespace),
                    "spec.account",
                )
                .map_err(|outcome| Outcome {
                    message: format!("{field}: CrossAccountRole {}: {}", reference.name, outcome.message),
                    ..outcome
                })?;
                let name = role.spec.role_name.clone().unwrap_or_else(|| role.name_any());
                format!("arn:aws:iam::{}:role/{name}", account.id)
            }
            (None, None) => {
                return Err(Outcome::stalled(
                    Reason::InvalidSpec,
                    format!("spec.access[{i}]: set role or roleArn"),
                ));
            }
        };
        let profile = access
            .profile
            .clone()
            .unwrap_or_else(|| arn.rsplit('/').next().unwrap_or_default().to_string());
        profiles.push((profile, arn));
    }
    Ok(profiles)
}

/// Groups carry no tags: the claim is this object's status, and another
/// object's status claiming the same group makes it theirs.
fn claim(
    ctx: &Context,
    group: &DeveloperGroup,
    status: &DeveloperGroupStatus,
    account_id: &str,
    name: &str,
    exists: bool,
) -> Claim {
    let claims = |s: &DeveloperGroupStatus| {
        s.ownership.is_some() && s.account_id.as_deref() == Some(account_id) && s.group_name.as_deref() == Some(name)
    };
    if claims(status) {
        return Claim::Ours;
    }
    let me = owner_id(group);
    let other = ctx
        .stores
        .groups
        .state()
        .into_iter()
        .find(|g| owner_id(g.as_ref()) != me && g.status.as_ref().is_some_and(claims));
    match (other, exists) {
        (Some(other), _) => Claim::OwnedBy(owner_id(other.as_ref())),
        (None, false) => Claim::Free,
        (None, true) if group.spec.adopt_existing => Claim::Adoptable,
        (None, true) => Claim::Foreign,
    }
}

async fn converge(
    group: &DeveloperGroup,
    ctx: &Context,
    api: &Api<DeveloperGroup>,
    status: &mut DeveloperGroupStatus,
) -> Result<Outcome> {
    if let Err(message) = plan::validate(&group.spec) {
        return Ok(Outcome::stalled(Reason::InvalidSpec, message));
    }
    let account = match group_account(ctx, group).await? {
        Ok(account) => account,
        Err(outcome) => return Ok(outcome),
    };
    let profiles = match access(ctx, group) {
        Ok(profiles) => profiles,
        Err(outcome) => return Ok(outcome),
    };
    let name = group_name(group);
    let what = format!("IAM group {name} in account {}", account.id);
    let iam = ctx.aws.iam(&account.id, &account.access_role).await?;
    let observe_only = group.spec.management_policy == ManagementPolicy::Observe;
    if !observe_only {
        retire_previous(group, ctx, status, &account.id, &name).await?;
    }
    let current = iam.get_group(&name).await?;
    let claim = claim(ctx, group, status, &account.id, &name, current.is_some());
    if !observe_only && let Some(refusal) = claim.refusal(&what) {
        return Ok(refusal);
    }
    let existing_users = iam.user_arns(&group.spec.members).await?;
    let (members, missing) = plan::split_members(&group.spec.members, &existing_users);
    let mut role_arns: Vec<String> = profiles.iter().map(|(_, arn)| arn.clone()).collect();
    role_arns.sort();
    role_arns.dedup();
    let desired = DesiredGroup {
        name: name.clone(),
        members,
        assume_policy: assume_role_policy(&role_arns, group.spec.require_mfa),
        managed_policy_arns: group.spec.managed_policy_arns.iter().cloned().collect(),
    };
    let changes = plan::plan(&desired, current.as_ref());
    status.account_id = Some(account.id.clone());
    status.group_name = Some(name.clone());
    status.missing_users = missing.clone();
    status.assumable_role_arns = role_arns.clone();
    status.role_count = Some(role_arns.len() as i32);
    let mfa_serial = group
        .spec
        .require_mfa
        .then(|| format!("arn:aws:iam::{}:mfa/YOUR-IAM-USER-NAME", account.id));
    status.aws_config = (!profiles.is_empty()).then(|| render_aws_config(&profiles, mfa_serial.as_deref(), "default"));
    if observe_only {
        let observed = current.clone().unwrap_or_default();
        record_members(status, &observed, current.as_ref().map(|g| g.arn.clone()));
        return Ok(status::observed(&what, current.is_some(), &describe(&changes)));
    }
    if claim == Claim::Adoptable {
        status.ownership = Some(Ownership::Adopted);
    }
    let mut group_arn = current.as_ref().map(|g| g.arn.clone());
    if changes.first() == Some(&Change::Create) {
        // Claimed before creating: a restart after CreateGroup finds the group as ours.
        status.ownership = Some(Ownership::Created);
        write_status(api, group, &*status).await?;
    }
    for change in &changes {
        match perform(iam.as_ref(), &name, change).await {
            Ok(Some(arn)) => group_arn = Some(arn),
            Ok(None) => {}
            Err(err) if *change == Change::Create && err.kind == AwsErrorKind::AlreadyExists => {
                status.ownership = None;
                return Ok(Claim::Foreign
                    .refusal(&what)
                    .unwrap_or_else(|| Outcome::stalled(err.kind.reason(), err.to_string())));
            }
            Err(err) => return Err(err.into()),
        }
    }
    status.ownership.get_or_insert(Ownership::Created);
    let after = GroupState {
        members: desired.members.clone(),
        ..GroupState::default()
    };
    record_members(status, &after, group_arn);
    let created = changes.first() == Some(&Change::Create);
    let outcome = applied(ctx, group, &what, created, &describe(&changes)).await;
    if !missing.is_empty() {
        return Ok(Outcome::stalled(
            Reason::MissingUsers,
            format!(
                "{what} is in sync except for users that do not exist in account {}: {}; create them or remove them from spec.members",
                account.id,
                missing.join(", ")
            ),
        ));
    }
    Ok(outcome)
}

fn record_members(status: &mut DeveloperGroupStatus, group: &GroupState, arn: Option<String>) {
    status.members = group.members.iter().cloned().collect();
    status.member_count = Some(status.members.len() as i32);
    status.group_arn = arn;
}

fn describe(changes: &[Change]) -> Vec<String> {
    changes.iter().map(Change::describe).collect()
}

async fn perform(iam: &dyn Iam, group: &str, change: &Change) -> AwsResult<Option<String>> {
    match change {
        Change::Create => return iam.create_group(group).await.map(Some),
        Change::AddMember(user) => iam.add_user_to_group(group, user).await?,
        Change::RemoveMember(user) => iam.remove_user_from_group(group, user).await?,
        Change::PutPolicy(name, document) => iam.put_group_policy(group, name, document).await?,
        Change::DeletePolicy(name) => iam.delete_group_policy(group, name).await?,
        Change::Attach(arn) => iam.attach_group_policy(group, arn).await?,
        Change::Detach(arn) => iam.detach_group_policy(group, arn).await?,
    }
    Ok(None)
}

/// Empties the group (members, policies), which IAM requires, then deletes it.
async fn delete_group(iam: &dyn Iam, name: &str) -> AwsResult<()> {
    let Some(current) = iam.get_group(name).await? else {
        return Ok(());
    };
    for user in &current.members {
        gone_is_done(iam.remove_user_from_group(name, user).await)?;
    }
    for policy in current.inline_policies.keys() {
        gone_is_done(iam.delete_group_policy(name, policy).await)?;
    }
    for arn in &current.managed_policy_arns {
        gone_is_done(iam.detach_group_policy(name, arn).await)?;
    }
    gone_is_done(iam.delete_group(name).await)
}

async fn iam_for_recorded_account(ctx: &Context, group: &DeveloperGroup, account_id: &str) -> Result<Arc<dyn Iam>> {
    let resolved = group_account(ctx, group).await?;
    refs::iam_in_recorded_account(ctx, resolved, account_id).await
}

/// When the spec moves the group (new name or account), the group created
/// for the old one is deleted.
async fn retire_previous(
    group: &DeveloperGroup,
    ctx: &Context,
    status: &mut DeveloperGroupStatus,
    account_id: &str,
    name: &str,
) -> Result<()> {
    let (Some(old_account), Some(old_name), Some(_)) =
        (status.account_id.clone(), status.group_name.clone(), status.ownership)
    else {
        return Ok(());
    };
    if old_account == account_id && old_name == name {
        return Ok(());
    }
    let iam = iam_for_recorded_account(ctx, group, &old_account).await?;
    delete_group(iam.as_ref(), &old_name).await?;
    publish(
        ctx,
        group,
        false,
        Reason::Deleted,
        "Delete",
        format!("deleted IAM group {old_name} in account {old_account}: the spec moved the group"),
    )
    .await;
    status.ownership = None;
    status.group_arn = None;
    Ok(())
}

async fn cleanup(group: &DeveloperGroup, ctx: &Context) -> Result<Action> {
    let status = group.status.clone().unwrap_or_default();
    let keep = group.spec.deletion_policy == DeletionPolicy::Retain
        || group.spec.management_policy == ManagementPolicy::Observe;
    let (Some(account_id), Some(name), Some(_), false) =
        (&status.account_id, &status.group_name, status.ownership, keep)
    else {
        return Ok(Action::await_change());
    };
    let iam = iam_for_recorded_account(ctx, group, account_id).await?;
    delete_group(iam.as_ref(), name).await?;
    publish(
        ctx,
        group,
        false,
        Reason::Deleted,
        "Delete",
        format!("deleted IAM group {name} in account {account_id}"),
    )
    .await;
    Ok(Action::await_change())
}
