//! An approval's own status: who made it, as admission recorded it, and whether it counts. One
//! that does not (the requester's own, someone the role does not name) is reported with a
//! Warning Event once, and counts for nothing in the request's reconcile.

use kube::ResourceExt;
use kube::runtime::reflector::ObjectRef;

use super::checks;
use crate::api::{APPROVED_BY_ANNOTATION, AccessApproval, AccessApprovalStatus, ConditionType, Reason};
use crate::controller::context::Context;
use crate::controller::driver::Stop;
use crate::controller::status::{Outcome, publish};

pub(super) async fn converge(
    approval: &AccessApproval,
    ctx: &Context,
    status: &mut AccessApprovalStatus,
) -> Result<Outcome, Stop> {
    status.approved_by = approval.annotations().get(APPROVED_BY_ANNOTATION).cloned();
    let outcome = judged(approval, ctx);
    let warned_before = status
        .reconcile
        .condition(ConditionType::Stalled)
        .is_some_and(|c| c.status == "True" && c.reason == Reason::ApprovalIgnored.as_str());
    if outcome.reason == Reason::ApprovalIgnored && !warned_before {
        publish(
            ctx,
            approval,
            true,
            Reason::ApprovalIgnored,
            "Elevation",
            outcome.message.clone(),
        )
        .await;
    }
    Ok(outcome)
}

fn judged(approval: &AccessApproval, ctx: &Context) -> Outcome {
    let namespace = approval.namespace().unwrap_or_default();
    let name = &approval.spec.request;
    let Some(request) = ctx.stores.requests.get(&ObjectRef::new(name).within(&namespace)) else {
        return Outcome::reconciling(
            Reason::ReferenceNotReady,
            format!("spec.request: AccessRequest {name} does not exist in namespace {namespace}"),
        );
    };
    let judged = checks::elevation_of(&ctx.stores, &request)
        .and_then(|elevation| checks::approver(approval, &request, &request.spec.role.name, &elevation));
    match judged {
        Ok(person) => Outcome::ready(
            Reason::Counted,
            format!(
                "{:?} by {} counts towards AccessRequest {name}",
                approval.spec.decision, person.name
            ),
        ),
        Err(why) => Outcome::stalled(Reason::ApprovalIgnored, format!("counts for nothing: {why}")),
    }
}
