//! What a request resolves to, tenancy first (its role, user and both accounts, through the
//! shared checks), then the role's ARN as the operator holds it, its trust admitting the user,
//! and the approvals that count. Nothing here reads AWS.

use kube::ResourceExt;

use super::checks::{self, Authorised, Person};
use super::plan::Decisions;
use crate::api::{AccessApproval, AccessRequest, Decision, Elevation, Reason};
use crate::controller::context::Context;
use crate::controller::developer_group::held_role_arn;
use crate::controller::driver::Stop;
use crate::controller::iam_user::resolve::user_name;
use crate::controller::status::Outcome;

/// The index key of the approvals of the request `name` in `namespace`.
pub fn request_key(namespace: &str, name: &str) -> String {
    format!("request:{namespace}/{name}")
}

/// A request the namespace may make, with what it needs to be granted.
pub struct Resolved {
    pub authorised: Authorised,
    pub requester: String,
    pub role_arn: String,
    pub user_name: String,
    pub decisions: Decisions,
}

pub(super) async fn resolve(request: &AccessRequest, ctx: &Context) -> Result<Resolved, Stop> {
    let own = ctx.aws.own_account_id().await?;
    let authorised = checks::request(&ctx.stores, &ctx.config, &own, request)?;
    if !ctx.config.admission_webhooks {
        return Err(Outcome::stalled(
            Reason::InvalidSpec,
            "the operator serves no admission webhooks (--webhook-cert-dir; the chart's webhook.enabled), so who asked and who approved are only what the client wrote: nothing is granted until they are served".to_owned(),
        )
        .into());
    }
    let requester = checks::requester(request)?;
    let role_name = &request.spec.role.name;
    let role_arn = held_role_arn(&authorised.role).ok_or_else(|| {
        Outcome::reconciling(
            Reason::ReferenceNotReady,
            format!("spec.role: CrossAccountRole {role_name} has no role the operator holds in AWS yet"),
        )
    })?;
    let user_name = user_name(&authorised.user);
    if !checks::trust_admits(&ctx.stores, &authorised.role, &authorised.identity.id, &authorised.user) {
        return Err(Outcome::stalled(
            Reason::InvalidSpec,
            format!(
                "spec.user: CrossAccountRole {role_name}'s spec.trust does not admit IAM user {user_name} of account {}; trust that account, or a DeveloperGroup the user is a member of",
                authorised.identity.id
            ),
        )
        .into());
    }
    let decisions = decisions(&approvals(ctx, request), request, &authorised.elevation);
    Ok(Resolved {
        authorised,
        requester,
        role_arn,
        user_name,
        decisions,
    })
}

/// The request's approvals, oldest first.
fn approvals(ctx: &Context, request: &AccessRequest) -> Vec<std::sync::Arc<AccessApproval>> {
    let key = request_key(&request.namespace().unwrap_or_default(), &request.name_any());
    let mut approvals = ctx.stores.approvals.find([key.as_str()]);
    approvals.sort_by_key(|approval| (approval.metadata.creation_timestamp.clone(), approval.name_any()));
    approvals
}

/// What the approvals that count decide: distinct approvers, and the first denial. One that
/// does not count is left out (its own status says why).
fn decisions(
    approvals: &[std::sync::Arc<AccessApproval>],
    request: &AccessRequest,
    elevation: &Elevation,
) -> Decisions {
    let role_name = &request.spec.role.name;
    let mut decisions = Decisions::default();
    for approval in approvals {
        let Ok(Person { name, .. }) = checks::approver(approval, request, role_name, elevation) else {
            continue;
        };
        match approval.spec.decision {
            Decision::Approve if !decisions.approved_by.contains(&name) => decisions.approved_by.push(name),
            Decision::Approve => {}
            Decision::Deny => {
                decisions.denied_by.get_or_insert(name);
            }
        }
    }
    decisions
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::*;

    fn approval(name: &str, by: &str, decision: &str) -> Arc<AccessApproval> {
        Arc::new(
            serde_json::from_value(json!({
                "apiVersion": "awsaccess.dev/v1alpha1", "kind": "AccessApproval",
                "metadata": {"name": name, "namespace": "alfie", "annotations": {
                    "awsaccess.dev/approved-by": by, "awsaccess.dev/approver-groups": "[\"system:authenticated\"]"}},
                "spec": {"request": "alice-rds", "decision": decision},
            }))
            .unwrap(),
        )
    }

    #[test]
    fn only_approvals_that_count_decide_and_an_approver_counts_once() {
        let request: AccessRequest = serde_json::from_value(json!({
            "apiVersion": "awsaccess.dev/v1alpha1", "kind": "AccessRequest",
            "metadata": {"name": "alice-rds", "namespace": "alfie", "annotations": {"awsaccess.dev/requested-by": "alice"}},
            "spec": {"user": "alice", "role": {"name": "prod-operator"}, "duration": "1h", "reason": "INC-1"},
        }))
        .unwrap();
        let elevation: Elevation =
            serde_json::from_value(json!({"maxDuration": "4h", "approvers": {"users": ["carol", "dave", "alice"]}}))
                .unwrap();
        let approvals = [
            approval("own", "alice", "Approve"),
            approval("stranger", "mallory", "Deny"),
            approval("carol", "carol", "Approve"),
            approval("carol-again", "carol", "Approve"),
        ];
        let decided = decisions(&approvals, &request, &elevation);
        assert_eq!(
            decided.approved_by,
            ["carol"],
            "the requester never counts, even when named"
        );
        assert_eq!(decided.denied_by, None, "a stranger's Deny counts for nothing");
        let denied = decisions(&[approval("dave", "dave", "Deny")], &request, &elevation);
        assert_eq!(denied.denied_by.as_deref(), Some("dave"));
    }
}
