//! The reconcile of a request: resolved (tenancy first), its next step, the one write to the
//! requester's IAM user that step needs, the trail in status and Events. A request that may
//! have been granted and no longer resolves is revoked at once; its deletion revokes it and
//! waits until the role denies the sessions issued before.

use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;
use kube::api::Api;
use kube::runtime::reflector::ObjectRef;

use super::observe;
use super::plan::{self, Change, Decisions, Step};
use super::resolve::{self, Resolved};
use crate::api::{AccessPhase, AccessRequest, AccessRequestStatus, Reason};
use crate::aws::{AwsResult, Iam, gone_is_done};
use crate::controller::context::Context;
use crate::controller::driver::Stop;
use crate::controller::error::{Error, Result};
use crate::controller::ownership::requester;
use crate::controller::refs;
use crate::controller::status::{Outcome, publish, write_status};

pub(super) async fn perform(iam: &dyn Iam, user: &str, change: &Change) -> AwsResult<()> {
    match change {
        Change::Put { policy, document } => iam.put_user_policy(user, policy, &document.to_string()).await,
        Change::Delete { policy } => gone_is_done(iam.delete_user_policy(user, policy).await),
    }
}

pub(super) async fn converge(
    request: &AccessRequest,
    ctx: &Context,
    status: &mut AccessRequestStatus,
) -> std::result::Result<Outcome, Stop> {
    let before = status.clone();
    let resolved = match resolve::resolve(request, ctx).await {
        Ok(resolved) => resolved,
        Err(Stop::Fail(error)) => return Err(Stop::Fail(error)),
        Err(Stop::Report(outcome) | Stop::Lock(outcome)) => {
            revoke_if_granted(request, ctx, status, &outcome).await?;
            return Err(Stop::Report(outcome));
        }
    };
    let step = plan::next(
        status,
        &resolved.decisions,
        resolved.authorised.elevation.approvals,
        resolved.authorised.duration,
        false,
        Timestamp::now(),
    );
    let identity = &resolved.authorised.identity;
    let iam = ctx
        .aws
        .iam_for(
            &identity.id,
            &identity.access_role,
            &requester(request, ctx.config.write_sessions),
        )
        .await?;
    let policy = plan::policy_name(&request.name_any());
    let observed = observe::user(iam.as_ref(), &resolved.user_name, &policy).await?;
    let Some(user_arn) = observed.arn else {
        return Err(Outcome::reconciling(
            Reason::ReferenceNotReady,
            format!(
                "spec.user: IAM user {} does not exist in account {} yet",
                resolved.user_name, identity.id
            ),
        )
        .into());
    };
    let change = plan::plan(&step, &policy, &resolved.role_arn, observed.grant.as_ref());
    if let Some(change) = &change {
        perform(iam.as_ref(), &resolved.user_name, change).await?;
    }
    record_trail(status, &resolved, &policy, user_arn);
    plan::record(status, &step, step.grant);
    status.aws_config = (status.phase == Some(AccessPhase::Active)).then(|| profile(request, &resolved.role_arn));
    announce(ctx, request, &before, status, None).await;
    Ok(outcome(status, &resolved))
}

/// Fail closed: what may have been granted goes, whatever stopped the request resolving.
async fn revoke_if_granted(
    request: &AccessRequest,
    ctx: &Context,
    status: &mut AccessRequestStatus,
    outcome: &Outcome,
) -> Result<()> {
    let before = status.clone();
    let step = plan::next(
        status,
        &Decisions::default(),
        u32::MAX,
        Duration::ZERO,
        true,
        Timestamp::now(),
    );
    if step.ended_at.is_some() && step.ended_at != before.ended_at.as_ref().map(|t| t.0) {
        end(request, ctx, status, &step).await?;
        let why = format!("its request no longer holds: {}", outcome.message);
        announce(ctx, request, &before, status, Some(&why)).await;
    }
    Ok(())
}

/// Who asked, who decided, what is granted where: the trail the status keeps.
fn record_trail(status: &mut AccessRequestStatus, resolved: &Resolved, policy: &str, user_arn: String) {
    status.requested_by = Some(resolved.requester.clone());
    // Approvals after the grant change nothing: the trail keeps those that granted it.
    if matches!(status.phase, None | Some(AccessPhase::Pending)) {
        status.approved_by = resolved.decisions.approved_by.clone();
    }
    if status.denied_by.is_none() {
        status.denied_by = resolved.decisions.denied_by.clone();
    }
    status.role_arn = Some(resolved.role_arn.clone());
    status.user_arn = Some(user_arn);
    status.policy_name = Some(policy.to_string());
}

/// A profile for `~/.aws/config` that assumes the role from the user's own credentials.
fn profile(request: &AccessRequest, role_arn: &str) -> String {
    format!(
        "[profile {}]\nrole_arn = {role_arn}\nsource_profile = default\n",
        request.name_any()
    )
}

fn outcome(status: &AccessRequestStatus, resolved: &Resolved) -> Outcome {
    let until = status.expires_at.as_ref().map(|t| t.0.to_string()).unwrap_or_default();
    let user = &resolved.user_name;
    match status.phase.unwrap_or(AccessPhase::Pending) {
        AccessPhase::Pending | AccessPhase::Approved => {
            let approvers = &resolved.authorised.elevation.approvers;
            Outcome::reconciling(
                Reason::AwaitingApproval,
                format!(
                    "waiting for {} approval(s) from users [{}] or groups [{}], never the requester; {} so far",
                    resolved.authorised.elevation.approvals,
                    approvers.users.join(", "),
                    approvers.groups.join(", "),
                    resolved.decisions.approved_by.len()
                ),
            )
        }
        AccessPhase::Active => Outcome::ready(
            Reason::Granted,
            format!("IAM user {user} may assume {} until {until}", resolved.role_arn),
        ),
        AccessPhase::Expired => Outcome::ready(Reason::Expired, format!("ended at {until}; the grant is removed")),
        AccessPhase::Denied => Outcome::ready(
            Reason::Denied,
            format!("denied by {}", status.denied_by.as_deref().unwrap_or_default()),
        ),
        AccessPhase::Revoked => Outcome::ready(Reason::Revoked, "revoked; the grant is removed"),
    }
}

/// Removes the grant from the user recorded in status, wherever the spec now points, and
/// records the end: revoking never waits on what stopped the request resolving.
async fn end(request: &AccessRequest, ctx: &Context, status: &mut AccessRequestStatus, step: &Step) -> Result<()> {
    if let Some((account, user)) = status.user_arn.as_deref().and_then(account_and_user) {
        let iam = refs::iam_in_recorded_account(ctx, account, &requester(request, ctx.config.write_sessions)).await?;
        let policy = plan::policy_name(&request.name_any());
        perform(iam.as_ref(), user, &Change::Delete { policy }).await?;
    }
    plan::record(status, step, false);
    status.aws_config = None;
    Ok(())
}

/// The account id and user name of an IAM user ARN (`arn:aws:iam::123456789012:user/path/name`).
fn account_and_user(arn: &str) -> Option<(&str, &str)> {
    let account = arn.split(':').nth(4)?;
    let user = arn.rsplit('/').next()?;
    Some((account, user))
}

/// An Event for each change of phase, naming who and when; `revoked_because` says why a
/// revocation that no denial made happened.
async fn announce(
    ctx: &Context,
    request: &AccessRequest,
    before: &AccessRequestStatus,
    after: &AccessRequestStatus,
    revoked_because: Option<&str>,
) {
    for (reason, note) in phase_events(request, before, after, revoked_because) {
        let warning = matches!(reason, Reason::Denied | Reason::Revoked);
        publish(ctx, request, warning, reason, "Elevation", note).await;
    }
}

/// The Events of a change of phase from `before` to `after`.
fn phase_events(
    request: &AccessRequest,
    before: &AccessRequestStatus,
    after: &AccessRequestStatus,
    revoked_because: Option<&str>,
) -> Vec<(Reason, String)> {
    if before.phase == after.phase {
        return vec![];
    }
    let user = &request.spec.user;
    let role = &request.spec.role.name;
    let time = |at: &Option<Time>| at.as_ref().map(|t| t.0.to_string()).unwrap_or_default();
    let mut events = vec![];
    if before.phase.is_none() {
        events.push((
            Reason::Requested,
            format!(
                "{} asked for CrossAccountRole {role} for {} as IAM user {user}: {}",
                after.requested_by.as_deref().unwrap_or("someone"),
                request.spec.duration,
                request.spec.reason
            ),
        ));
    }
    match after.phase {
        Some(AccessPhase::Active) => {
            events.push((Reason::Approved, format!("approved by {}", after.approved_by.join(", "))));
            events.push((
                Reason::Granted,
                format!(
                    "IAM user {user} may assume {} from {} until {}",
                    after.role_arn.as_deref().unwrap_or_default(),
                    time(&after.granted_at),
                    time(&after.expires_at)
                ),
            ));
        }
        Some(AccessPhase::Expired) => events.push((
            Reason::Expired,
            format!("the access of IAM user {user} to CrossAccountRole {role} ended at {}; the role denies sessions issued before then", time(&after.ended_at)),
        )),
        Some(AccessPhase::Denied) => events.push((
            Reason::Denied,
            format!("denied by {} at {}", after.denied_by.as_deref().unwrap_or_default(), Timestamp::now()),
        )),
        Some(AccessPhase::Revoked) => events.push((
            Reason::Revoked,
            format!(
                "the access of IAM user {user} to CrossAccountRole {role} was revoked at {} ({}); the role denies sessions issued before then",
                time(&after.ended_at),
                match (revoked_because, &after.denied_by) {
                    (Some(why), _) => why.to_string(),
                    (None, by) => format!("denied by {}", by.as_deref().unwrap_or_default()),
                }
            ),
        )),
        _ => {}
    }
    events
}

/// The deletion of a request: its grant removed and its end recorded at once, then kept until
/// the role denies the sessions issued before the end (the role's own status keeps that Deny
/// once this object is gone).
pub(super) async fn cleanup(request: &AccessRequest, ctx: &Context, api: &Api<AccessRequest>) -> Result<()> {
    let mut status = request.status.clone().unwrap_or_default();
    let before = status.clone();
    let step = plan::next(
        &status,
        &Decisions::default(),
        u32::MAX,
        Duration::ZERO,
        true,
        Timestamp::now(),
    );
    if step.ended_at != before.ended_at.as_ref().map(|t| t.0) {
        end(request, ctx, &mut status, &step).await?;
        write_status(api, request, &status).await?;
        announce(ctx, request, &before, &status, Some("the AccessRequest was deleted")).await;
    }
    match status.ended_at {
        Some(ended) if !role_denies_sessions_before(ctx, request, ended.0) => Err(Error::Pending {
            reason: Reason::Revoked,
            message: format!(
                "waiting for CrossAccountRole {} to deny sessions issued before {} before letting AccessRequest {} go",
                request.spec.role.name,
                ended.0,
                request.name_any()
            ),
        }),
        _ => Ok(()),
    }
}

/// Whether the role records a Deny on sessions issued before `ended` (or later), has lifted it
/// already because every such session has expired (a request deleted long after it ended), or
/// is gone.
fn role_denies_sessions_before(ctx: &Context, request: &AccessRequest, ended: Timestamp) -> bool {
    let reference = ObjectRef::new(&request.spec.role.name).within(&request.namespace().unwrap_or_default());
    let Some(role) = ctx.stores.roles.get(&reference) else {
        return true;
    };
    let longest = ctx
        .config
        .session_lifetime
        .unwrap_or_else(|| Duration::from_secs(u64::try_from(role.spec.max_session_duration).unwrap_or_default()));
    let expired = ended.checked_add(longest).is_ok_and(|until| until <= Timestamp::now());
    expired
        || role
            .status
            .as_ref()
            .and_then(|status| status.sessions_denied.as_ref())
            .is_some_and(|denied| denied.issued_before.0 >= ended)
}
