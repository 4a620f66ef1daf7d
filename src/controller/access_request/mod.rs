//! AccessRequest: time-bound elevation to a CrossAccountRole with
//! `elevation`, approved by others, granted as an inline policy on the requester's IAM user
//! that AWS stops honouring at the end of the window, and ended with a Deny on the role's
//! sessions issued before the end (the role's own mechanism for leavers, fed from here too).
//! Who asked and who approved is recorded at admission (`stamp`), the namespace's authority
//! checked by one function for the webhook, the reconcile and `plan` (`checks`).

mod apply;
pub mod checks;
mod observe;
pub mod plan;
pub mod resolve;
pub mod stamp;
pub mod triggers;

use std::time::Duration;

use async_trait::async_trait;
use k8s_openapi::jiff::Timestamp;
use kube::api::Api;
use kube::{Client, ResourceExt};

use super::admission::{Admitted, Review, fetch_named};
use super::context::{Config, Context, Stores};
use super::driver::{Next, Reconciler, Stop};
use super::error::Result;
use super::index::Cache;
use super::list_guarded;
use super::status::{Outcome, State};
use crate::api::guard::Guarded;
use crate::api::{AccessRequest, AccessRequestStatus, CrossAccountRole, IamUser};
use crate::plan::ObjectPlan;
use crate::plan::kinds::{Planned, stopped};

#[async_trait]
impl Reconciler for AccessRequest {
    fn api(&self, client: Client) -> Api<Self> {
        Api::namespaced(client, &self.namespace().unwrap_or_default())
    }

    async fn converge(
        &self,
        ctx: &Context,
        _api: &Api<Self>,
        status: &mut AccessRequestStatus,
    ) -> Result<Outcome, Stop> {
        apply::converge(self, ctx, status).await
    }

    async fn cleanup(&self, ctx: &Context, api: &Api<Self>) -> Result<()> {
        apply::cleanup(self, ctx, api).await
    }

    /// At the end of the window, not at the next resync: AWS has stopped honouring the grant
    /// by then, and the operator removes it and denies the sessions issued before.
    fn next(&self, _outcome: &Outcome, status: &AccessRequestStatus, config: &Config) -> Next {
        match plan::until_expiry(status, Timestamp::now()) {
            Some(wait) if wait < config.resync_interval => Next::After(wait + Duration::from_millis(10)),
            _ => Next::Resync,
        }
    }
}

#[async_trait]
impl Planned for AccessRequest {
    /// What the reconcile would decide before any approval: the same checks, nothing in AWS.
    async fn planned(&self, ctx: &Context, source: &str) -> Vec<ObjectPlan> {
        let mut own = ObjectPlan::of(self, source);
        match resolve::resolve(self, ctx).await {
            Ok(resolved) => {
                own.target = Some(format!(
                    "IAM user {} may assume {}",
                    resolved.user_name, resolved.role_arn
                ));
                own.notes.push(format!(
                    "granted for {} once approved by {} of the role's approvers",
                    self.spec.duration, resolved.authorised.elevation.approvals
                ));
            }
            Err(stop) => stopped(&mut own, stop),
        }
        vec![own]
    }
}

#[async_trait]
impl Admitted for AccessRequest {
    /// The role it asks for, and the IamUsers of its namespace.
    async fn fetch_referenced(&self, client: &Client, stores: &mut Stores) -> kube::Result<()> {
        let namespace = self.namespace().unwrap_or_default();
        let roles = Api::<Guarded<CrossAccountRole>>::namespaced(client.clone(), &namespace);
        stores.roles = Cache::of(fetch_named(roles, &[&self.spec.role.name]).await?);
        let users = list_guarded(
            &Api::<IamUser>::namespaced(client.clone(), &namespace),
            &Default::default(),
        )
        .await?;
        stores.users = Cache::of(users);
        Ok(())
    }

    /// A role that is not this namespace's with `elevation`, a duration outside it, a user the
    /// namespace may not name, an account that does not allow the namespace.
    fn refusals(&self, review: &Review) -> Vec<String> {
        match checks::request(review.stores, review.config, review.own_account_id, self) {
            Err(refusal) if refusal.outcome.state == State::Stalled => vec![refusal.outcome.message],
            _ => vec![],
        }
    }
}
