//! AccessRequest and AccessApproval: time-bound elevation to a CrossAccountRole with
//! `elevation`, approved by others, granted as an inline policy on the requester's IAM user
//! that AWS stops honouring at the end of the window, and ended with a Deny on the role's
//! sessions issued before the end (the role's own mechanism for leavers, fed from here too).
//! Who asked and who approved is recorded at admission (`stamp`), the namespace's authority
//! checked by one function for the webhook, the reconcile and `plan` (`checks`).

mod apply;
mod approval;
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

use super::context::{Config, Context};
use super::driver::{Next, Reconciler, Stop};
use super::error::Result;
use super::status::Outcome;
use crate::api::{AccessApproval, AccessApprovalStatus, AccessRequest, AccessRequestStatus};

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
        approval::converge(self, ctx, status).await
    }

    async fn cleanup(&self, _ctx: &Context, _api: &Api<Self>) -> Result<()> {
        Ok(())
    }
}
