//! DeveloperGroup: an IAM group in the identity account whose members may
//! assume the listed roles. IAM groups take no tags, so ownership lives in
//! the object's status, claimed before the group is created.

mod apply;
mod observe;
mod plan;
mod resolve;
pub mod triggers;

pub use plan::ASSUME_POLICY_NAME;
pub use resolve::held_role_arn;

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
use crate::api::{DeveloperGroup, DeveloperGroupStatus, Reason};
use crate::aws::{AwsResult, Iam};
use plan::{Change, DesiredAccess, ObservedGroup};

/// How soon a group with missing users looks for them again.
const MISSING_USERS_RECHECK: Duration = Duration::from_secs(60);

driver_kind_reconciler!(
    DeveloperGroup,
    owned,
    namespaced,
    fn next(&self, outcome: &Outcome, _status: &Self::Status, _config: &Config) -> Next {
        match outcome.reason {
            Reason::MissingUsers => Next::After(MISSING_USERS_RECHECK),
            _ => Next::Resync,
        }
    }
);

#[async_trait]
impl Owned for DeveloperGroup {
    const NOUN: &'static str = "IAM group";
    type Observed = ObservedGroup;
    type Desired = DesiredAccess;
    type Change = Change;

    policies_from_spec!();

    fn identity(status: &mut DeveloperGroupStatus) -> Identity<'_> {
        Identity {
            account_id: &mut status.account_id,
            name: &mut status.group_name,
            arn: &mut status.group_arn,
            ownership: &mut status.ownership,
        }
    }

    fn validate(&self) -> Result<(), String> {
        plan::validate(&self.spec)
    }

    async fn target(&self, ctx: &Context) -> Result<Target, Stop> {
        resolve::target(self, ctx).await
    }

    async fn desired(&self, ctx: &Context, target: &Target) -> Result<Resolved<DesiredAccess>, Stop> {
        resolve::desired(self, ctx, target).await
    }

    async fn observe(&self, iam: &dyn Iam, target: &Target) -> AwsResult<ObservedGroup> {
        observe::group_and_users(iam, self, &target.name).await
    }

    fn arn(observed: &ObservedGroup) -> Option<&str> {
        observed.group.as_ref().map(|group| group.arn.as_str())
    }

    fn claim(&self, ctx: &Context, status: &DeveloperGroupStatus, target: &Target, observed: &ObservedGroup) -> Claim {
        resolve::claim(ctx, self, status, target, observed.group.is_some())
    }

    fn plan(desired: &DesiredAccess, observed: &ObservedGroup) -> Vec<Change> {
        plan::plan_access(desired, observed)
    }

    fn explain(change: &Change, observed: &ObservedGroup) -> Vec<String> {
        plan::explain(change, observed)
    }

    async fn perform(iam: &dyn Iam, group: &str, change: &Change) -> AwsResult<Option<String>> {
        apply::perform(iam, group, change).await
    }

    fn lock(_target: &Target, observed: &ObservedGroup) -> Vec<Change> {
        plan::lock(observed)
    }

    async fn delete(iam: &dyn Iam, name: &str, _observed: &ObservedGroup) -> AwsResult<()> {
        apply::delete(iam, name).await
    }

    fn record(
        &self,
        status: &mut DeveloperGroupStatus,
        desired: &DesiredAccess,
        observed: &ObservedGroup,
        applied: bool,
    ) {
        plan::record(status, desired, observed, applied, Timestamp::now());
    }

    fn conclude(
        &self,
        group_in_account: &str,
        desired: &DesiredAccess,
        observed: &ObservedGroup,
        outcome: Outcome,
    ) -> Outcome {
        plan::conclude(group_in_account, desired, observed, outcome)
    }
}

#[async_trait]
impl Admitted for DeveloperGroup {
    /// The roles it names, wherever they live: a role of another namespace
    /// must consent to the group.
    async fn fetch_referenced(&self, client: &Client, stores: &mut Stores) -> kube::Result<()> {
        let namespace = self.namespace().unwrap_or_default();
        let mut roles = vec![];
        for reference in self.spec.access.iter().filter_map(|a| a.role.as_ref()) {
            let role_namespace = reference.namespace.as_deref().unwrap_or(&namespace);
            let api = Api::namespaced(client.clone(), role_namespace);
            roles.extend(fetch_named(api, &[reference.name.as_str()]).await?);
        }
        stores.roles = Cache::of(roles);
        Ok(())
    }

    fn refusals(&self, review: &Review) -> Vec<String> {
        review.group(self)
    }
}
