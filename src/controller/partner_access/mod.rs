//! PartnerAccess: an outside partner's access, composed of one owned
//! CrossAccountRole per target account. The CrossAccountRole reconciler does
//! the AWS work; this one keeps the children equal to the spec (none while
//! suspended or expired) and adds their conditions up.

mod apply;
mod observe;
pub(crate) mod plan;
mod resolve;
pub mod triggers;

use std::time::Duration;

use async_trait::async_trait;
use k8s_openapi::jiff::Timestamp;
use kube::api::Api;
use kube::{Client, ResourceExt};

use super::admission::{Admitted, Review};
use super::context::{Config, Context};
use super::driver::{Next, Reconciler, Stop};
use super::error::Result;
use super::status::Outcome;
use crate::api::{PartnerAccess, PartnerAccessStatus};
use crate::plan::ObjectPlan;
use crate::plan::kinds::{Planned, owned as planned_owned, stopped};
pub use apply::new_external_id;
pub use observe::preview;
pub use plan::generated_secret_ref;
pub use resolve::external_ids_to_generate;

#[async_trait]
impl Reconciler for PartnerAccess {
    /// The children are owned: garbage collection deletes them, and their
    /// own finalizers remove the roles from AWS.
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
        status: &mut PartnerAccessStatus,
    ) -> Result<Outcome, Stop> {
        apply::converge(self, ctx, status).await
    }

    async fn cleanup(&self, _ctx: &Context, _api: &Api<Self>) -> Result<()> {
        Ok(())
    }

    /// At the resync interval, or at the moment of expiry when that comes
    /// first: access ends exactly on time, not at the next resync.
    fn next(&self, _outcome: &Outcome, _status: &Self::Status, config: &Config) -> Next {
        let Some(at) = self.spec.expires_at.as_ref().filter(|_| !self.spec.suspended) else {
            return Next::Resync;
        };
        match Duration::try_from(at.0.duration_since(Timestamp::now())) {
            // A few milliseconds past the instant, so the next reconcile sees it passed.
            Ok(left) if !left.is_zero() && left < config.resync_interval => {
                Next::After(left + Duration::from_millis(10))
            }
            _ => Next::Resync,
        }
    }
}

#[async_trait]
impl Planned for PartnerAccess {
    /// The partner's own plan, then its roles as its reconcile would leave
    /// them: each planned as the CrossAccountRole it is, those it would
    /// remove deleted.
    async fn planned(&self, ctx: &Context, source: &str) -> Vec<ObjectPlan> {
        let mut own = ObjectPlan::of(self, source);
        let preview = match preview(self, ctx).await {
            Ok(preview) => preview,
            Err(stop) => {
                stopped(&mut own, stop);
                return vec![own];
            }
        };
        if preview.external_id.generated == Some(plan::Generated::Missing) {
            own.notes.push(format!(
                "the operator generates the external ID into Secret {}",
                preview.external_id.reference.name
            ));
        }
        let mut children: Vec<ObjectPlan> = preview.unwanted().map(|child| plan::removed(child, source)).collect();
        for child in preview.applied_children(self) {
            children.push(planned_owned(&child, ctx, source).await);
        }
        let via = format!(
            "PartnerAccess {}/{}",
            self.namespace().unwrap_or_default(),
            self.name_any()
        );
        for child in &mut children {
            child.via = Some(via.clone());
        }
        std::iter::once(own).chain(children).collect()
    }
}

impl Admitted for PartnerAccess {
    fn refusals(&self, review: &Review) -> Vec<String> {
        review.partner(self)
    }
}
