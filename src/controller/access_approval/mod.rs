//! AccessApproval: an approver's decision on an AccessRequest. Its own status says who made
//! it, as admission recorded it, and whether it counts; one that does not (the requester's own,
//! someone the role does not name) is reported with a Warning Event once, and counts for
//! nothing in the request's reconcile (`access_request::resolve`). It makes nothing in AWS.

pub mod triggers;

use async_trait::async_trait;
use kube::api::Api;
use kube::runtime::reflector::ObjectRef;
use kube::{Client, ResourceExt};

use super::access_request::checks;
use super::admission::{Admitted, Review, fetch_named};
use super::context::{Context, Stores};
use super::driver::{Reconciler, Stop};
use super::error::Result;
use crate::api::guard::Guarded;
use crate::api::{
    APPROVED_BY_ANNOTATION, AccessApproval, AccessApprovalStatus, AccessRequest, ConditionType, CrossAccountRole,
    Reason,
};
use crate::controller::index::Cache;
use crate::controller::status::{Outcome, publish};
use crate::plan::ObjectPlan;
use crate::plan::kinds::Planned;

#[async_trait]
impl Reconciler for AccessApproval {
    /// An approval makes nothing in AWS: its deletion undoes nothing (a Deny does).
    fn cleans_up(&self) -> bool {
        false
    }

    fn api(&self, client: Client) -> Api<Self> {
        Api::namespaced(client, &self.namespace().unwrap_or_default())
    }

    async fn converge(
        &self,
        ctx: &Context,
        _api: &Api<Self>,
        status: &mut AccessApprovalStatus,
    ) -> Result<Outcome, Stop> {
        converge(self, ctx, status).await
    }

    async fn cleanup(&self, _ctx: &Context, _api: &Api<Self>) -> Result<()> {
        Ok(())
    }
}

#[async_trait]
impl Planned for AccessApproval {
    /// Whether it would count: an approval writes nothing in AWS.
    async fn planned(&self, ctx: &Context, source: &str) -> Vec<ObjectPlan> {
        let mut own = ObjectPlan::of(self, source);
        let outcome = judged(self, &ctx.stores);
        match outcome.reason {
            Reason::ApprovalIgnored => own.error = Some(outcome.message),
            _ => own.notes.push(outcome.message),
        }
        vec![own]
    }
}

#[async_trait]
impl Admitted for AccessApproval {
    /// Its request, and the role that request asks for.
    async fn fetch_referenced(&self, client: &Client, stores: &mut Stores) -> kube::Result<()> {
        let namespace = self.namespace().unwrap_or_default();
        let requests = fetch_named(
            Api::<Guarded<AccessRequest>>::namespaced(client.clone(), &namespace),
            &[&self.spec.request],
        )
        .await?;
        let roles: Vec<&str> = requests.iter().map(|request| request.spec.role.name.as_str()).collect();
        stores.roles = Cache::of(
            fetch_named(
                Api::<Guarded<CrossAccountRole>>::namespaced(client.clone(), &namespace),
                &roles,
            )
            .await?,
        );
        stores.requests = Cache::of(requests);
        Ok(())
    }

    /// Separation of duties: never the requester, only someone the role names.
    fn refusals(&self, review: &Review) -> Vec<String> {
        match judged(self, review.stores) {
            outcome if outcome.state == crate::controller::status::State::Ready => vec![],
            outcome => vec![outcome.message],
        }
    }
}

async fn converge(
    approval: &AccessApproval,
    ctx: &Context,
    status: &mut AccessApprovalStatus,
) -> Result<Outcome, Stop> {
    status.approved_by = approval.annotations().get(APPROVED_BY_ANNOTATION).cloned();
    let outcome = judged(approval, &ctx.stores);
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

/// Whether `approval` counts towards its request, as the caches hold them.
fn judged(approval: &AccessApproval, stores: &Stores) -> Outcome {
    let namespace = approval.namespace().unwrap_or_default();
    let name = &approval.spec.request;
    let Some(request) = stores.requests.get(&ObjectRef::new(name).within(&namespace)) else {
        return Outcome::reconciling(
            Reason::ReferenceNotReady,
            format!("spec.request: AccessRequest {name} does not exist in namespace {namespace}"),
        );
    };
    let judged = checks::elevation_of(stores, &request)
        .and_then(|elevation| checks::approver(approval, &request, &request.spec.role.name, &elevation));
    match judged {
        Ok(person) => Outcome::ready(
            Reason::Counted,
            format!(
                "{:?} by {} counts towards AccessRequest {name}",
                approval.spec.decision, person.name
            ),
        ),
        Err(why) => Outcome::stalled(Reason::ApprovalIgnored, why),
    }
}
