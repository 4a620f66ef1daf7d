//! CrossAccountRole: an IAM role in a target account whose trust policy
//! names who may assume it. The driver runs the reconcile; this kind says
//! where the role lives, what it should be, and how to read and write it.

mod apply;
mod observe;
mod plan;
mod resolve;
mod sessions;
pub mod triggers;

pub use sessions::REVOKE_POLICY_NAME;

use std::time::Duration;

use async_trait::async_trait;
use k8s_openapi::jiff::Timestamp;
use kube::api::Api;
use kube::{Client, ResourceExt};

use super::admission::{Admitted, Review, fetch_named};
use super::context::Stores;
use super::context::{Config, Context};
use super::driver::owned::{Identity, Owned, Resolved, Target, policies_from_spec};
use super::driver::{Next, Stop};
use super::index::Cache;
use super::kind_reconciler::driver_kind_reconciler;
use super::ownership::Claim;
use super::status::Outcome;
use crate::api::{CrossAccountRole, CrossAccountRoleStatus};
use crate::aws::{AwsResult, Iam};
use plan::{Change, DesiredRole, ObservedRole};

driver_kind_reconciler!(
    CrossAccountRole,
    owned,
    namespaced,
    fn next(&self, _outcome: &Outcome, status: &CrossAccountRoleStatus, config: &Config) -> Next {
        // A Deny on older sessions is lifted when they have expired, not at the next resync.
        match sessions::until_lifted(status.sessions_denied.as_deref(), Timestamp::now()) {
            Some(wait) if wait < config.resync_interval => Next::After(wait + Duration::from_secs(1)),
            _ => Next::Resync,
        }
    }
);

#[async_trait]
impl Owned for CrossAccountRole {
    const NOUN: &'static str = "IAM role";
    type Observed = ObservedRole;
    type Desired = DesiredRole;
    type Change = Change;

    policies_from_spec!();

    fn identity(status: &mut CrossAccountRoleStatus) -> Identity<'_> {
        Identity {
            account_id: &mut status.account_id,
            name: &mut status.role_name,
            arn: &mut status.role_arn,
            ownership: &mut status.ownership,
        }
    }

    fn validate(&self) -> Result<(), String> {
        plan::validate(&self.spec)
    }

    async fn target(&self, ctx: &Context) -> Result<Target, Stop> {
        resolve::target(self, ctx).await
    }

    async fn desired(&self, ctx: &Context, target: &Target) -> Result<Resolved<DesiredRole>, Stop> {
        resolve::desired(self, ctx, target).await
    }

    async fn observe(&self, iam: &dyn Iam, target: &Target) -> AwsResult<ObservedRole> {
        observe::role_and_policies(iam, self, target).await
    }

    fn arn(observed: &ObservedRole) -> Option<&str> {
        observed.role.as_ref().map(|role| role.arn.as_str())
    }

    fn claim(
        &self,
        _ctx: &Context,
        _status: &CrossAccountRoleStatus,
        target: &Target,
        observed: &ObservedRole,
    ) -> Claim {
        plan::claim(observed.role.as_ref(), &target.owner, self.spec.adopt_existing)
    }

    fn refuse_part(&self, observed: &ObservedRole) -> Option<Outcome> {
        plan::refuse_part(observed)
    }

    fn plan(desired: &DesiredRole, observed: &ObservedRole) -> Vec<Change> {
        plan::plan(desired, observed)
    }

    fn explain(change: &Change, observed: &ObservedRole) -> Vec<String> {
        plan::explain(change, observed)
    }

    async fn perform(iam: &dyn Iam, name: &str, change: &Change) -> AwsResult<Option<String>> {
        apply::perform(iam, name, change).await
    }

    async fn delete(iam: &dyn Iam, name: &str, observed: &ObservedRole) -> AwsResult<()> {
        apply::delete(iam, name, observed).await
    }

    async fn release(iam: &dyn Iam, name: &str, observed: &ObservedRole) -> AwsResult<()> {
        apply::release(iam, name, observed).await
    }

    fn lock(target: &Target, observed: &ObservedRole) -> Vec<Change> {
        plan::lock(&target.account.id, observed.role.as_ref())
    }

    fn record(
        &self,
        status: &mut CrossAccountRoleStatus,
        desired: &DesiredRole,
        observed: &ObservedRole,
        applied: bool,
    ) {
        plan::record(status, desired, observed, applied);
    }

    fn conclude(&self, _what: &str, desired: &DesiredRole, observed: &ObservedRole, outcome: Outcome) -> Outcome {
        plan::conclude(desired, observed, outcome)
    }
}

#[async_trait]
impl Admitted for CrossAccountRole {
    /// The role itself, and the PartnerAccess that made it, if one did: a
    /// partner's role is judged as the partner's.
    async fn fetch_referenced(&self, client: &Client, stores: &mut Stores) -> kube::Result<()> {
        let api = Api::namespaced(client.clone(), &self.namespace().unwrap_or_default());
        let makers: Vec<&str> = (self.owner_references().iter())
            .filter(|owner| owner.kind == "PartnerAccess")
            .map(|owner| owner.name.as_str())
            .collect();
        let partners = fetch_named(api, &makers).await?;
        stores.partners = Cache::of(partners);
        stores.roles = Cache::of([self.clone()]);
        Ok(())
    }

    fn refusals(&self, review: &Review) -> Vec<String> {
        review.role(self)
    }
}
