//! ServiceControlPolicy: a service control policy compiled from guardrails
//! and raw statements, attached to exactly the targets the spec lists. The
//! Organizations driver runs the reconcile; this kind compiles the
//! document, resolves the targets (leaving out, and reporting, those not
//! Ready), and reads and writes the policy and its attachments.

mod apply;
mod observe;
mod plan;
mod resolve;
pub mod triggers;

use async_trait::async_trait;

use super::admission::Admitted;
use super::context::Context;
use super::driver::Stop;
use super::driver::organization::{Existing, Identity, NewResource, OrgOwned};
use super::driver::owned::{Resolved, policies_from_spec};
use super::error::Result;
use super::kind_reconciler::driver_kind_reconciler;
use crate::api::{ServiceControlPolicy, ServiceControlPolicyStatus};
use crate::aws::{AwsResult, Organizations};
use plan::{Change, DesiredPolicy, ObservedPolicy};

driver_kind_reconciler!(ServiceControlPolicy, organization, cluster);

#[async_trait]
impl OrgOwned for ServiceControlPolicy {
    const NOUN: &'static str = "service control policy";
    type Desired = DesiredPolicy;
    type Observed = ObservedPolicy;
    type Change = Change;

    policies_from_spec!();

    fn identity(status: &mut ServiceControlPolicyStatus) -> Identity<'_> {
        Identity {
            id: &mut status.policy_id,
            arn: &mut status.arn,
            ownership: &mut status.ownership,
        }
    }

    async fn desired(&self, ctx: &Context) -> Result<Resolved<DesiredPolicy>, Stop> {
        resolve::desired(self, ctx).await
    }

    async fn observe(
        orgs: &dyn Organizations,
        desired: &DesiredPolicy,
        recorded_id: Option<&str>,
    ) -> AwsResult<ObservedPolicy> {
        observe::policy(orgs, desired, recorded_id).await
    }

    fn existing(observed: &ObservedPolicy) -> Option<Existing<'_>> {
        observed.policy.as_ref().map(|policy| Existing {
            id: &policy.summary.id,
            arn: &policy.summary.arn,
            tags: &policy.tags,
        })
    }

    fn plan(desired: &DesiredPolicy, observed: &ObservedPolicy) -> Vec<Change> {
        plan::plan(desired, observed)
    }

    fn explain(change: &Change, observed: &ObservedPolicy) -> Vec<String> {
        plan::explain(change, observed)
    }

    async fn perform(orgs: &dyn Organizations, id: &str, change: &Change) -> AwsResult<Option<NewResource>> {
        apply::perform(orgs, id, change).await
    }

    async fn delete(orgs: &dyn Organizations, id: &str, _policy_label: &str) -> Result<()> {
        apply::delete(orgs, id).await
    }

    fn label(desired: &DesiredPolicy) -> String {
        format!("service control policy {}", desired.name)
    }

    fn record(
        status: &mut ServiceControlPolicyStatus,
        desired: &DesiredPolicy,
        observed: &ObservedPolicy,
        applied: bool,
    ) {
        plan::record(status, desired, observed, applied);
    }
}

/// Cluster-scoped and the platform team's: nothing a namespace could ask for.
impl Admitted for ServiceControlPolicy {}
