//! ServiceControlPolicy: a service control policy compiled from guardrails
//! and raw statements, attached to exactly the targets the spec lists. The
//! Organizations driver runs the reconcile; this kind compiles the
//! document, resolves the targets (leaving out, and reporting, those not
//! Ready), and reads and writes the policy and its attachments.

mod observe;
pub mod plan;
pub mod triggers;

use std::collections::BTreeSet;

use async_trait::async_trait;
use kube::api::Api;
use kube::{Client, ResourceExt};

use super::context::Context;
use super::driver::organization::{self, Found, Identity, Made, OrgOwned};
use super::driver::owned::{Resolved, policies_from_spec};
use super::driver::{Reconciler, Stop};
use super::error::Result;
use super::ownership::{OWNER_TAG, Owner};
use super::refs;
use super::status::Outcome;
use crate::api::{Reason, ServiceControlPolicy, ServiceControlPolicyStatus};
use crate::aws::{AwsError, AwsResult, Organizations, SERVICE_CONTROL_POLICY, gone_is_done};
use plan::{Change, DesiredPolicy, ObservedPolicy};

#[async_trait]
impl Reconciler for ServiceControlPolicy {
    fn api(&self, client: Client) -> Api<Self> {
        Api::all(client)
    }

    async fn converge(
        &self,
        ctx: &Context,
        api: &Api<Self>,
        status: &mut ServiceControlPolicyStatus,
    ) -> Result<Outcome, Stop> {
        organization::converge(self, ctx, api, status).await
    }

    async fn cleanup(&self, ctx: &Context, api: &Api<Self>) -> Result<()> {
        organization::cleanup(self, ctx, api).await
    }
}

/// The ids of the targets that resolve, and why each other one does not.
async fn targets(ctx: &Context, policy: &ServiceControlPolicy) -> Result<(BTreeSet<String>, Vec<Outcome>), Stop> {
    let spec = &policy.spec.targets;
    let mut ids = BTreeSet::new();
    let mut waiting = Vec::new();
    if spec.root {
        ids.insert(ctx.aws.organizations().root_id().await?);
    }
    for (i, reference) in spec.organizational_units.iter().enumerate() {
        let field = format!("spec.targets.organizationalUnits[{i}]");
        match refs::organizational_unit(&ctx.stores, reference, &field) {
            Ok(unit) => ids.insert(unit.id),
            Err(unresolved) => {
                waiting.push(unresolved);
                false
            }
        };
    }
    for (i, reference) in spec.accounts.iter().enumerate() {
        let field = format!("spec.targets.accounts[{i}]");
        match refs::account_id(&ctx.stores, reference, &field) {
            Ok(id) => ids.insert(id),
            Err(unresolved) => {
                waiting.push(unresolved);
                false
            }
        };
    }
    Ok((ids, waiting))
}

/// A refused EnablePolicyType says who can enable the type: the operator
/// cannot attach any service control policy until then.
fn refused_policy_type(root_id: &str, err: AwsError) -> AwsError {
    if err.kind.retryable() {
        return err;
    }
    AwsError {
        message: format!(
            "{}; service control policies are not enabled on root {root_id}, and attaching any needs them: the organization's management account must enable them (EnablePolicyType), or allow the operator to",
            err.message
        ),
        ..err
    }
}

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
        let content = plan::content(&self.spec, &ctx.config.default_access_role)
            .map_err(|message| Outcome::stalled(Reason::InvalidSpec, message))?;
        let (targets, waiting) = targets(ctx, self).await?;
        let mut tags = self.spec.tags.clone();
        tags.insert(
            OWNER_TAG.into(),
            Owner::of(self, &ctx.config.installation_id).tag().into(),
        );
        Ok(Resolved {
            desired: DesiredPolicy {
                name: self.spec.policy_name.clone().unwrap_or_else(|| self.name_any()),
                description: self.spec.description.clone(),
                content,
                tags,
                targets,
            },
            waiting,
        })
    }

    async fn observe(
        orgs: &dyn Organizations,
        desired: &DesiredPolicy,
        recorded_id: Option<&str>,
    ) -> AwsResult<ObservedPolicy> {
        observe::policy(orgs, desired, recorded_id).await
    }

    fn found(observed: &ObservedPolicy) -> Option<Found<'_>> {
        observed.policy.as_ref().map(|policy| Found {
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

    async fn perform(orgs: &dyn Organizations, id: &str, change: &Change) -> AwsResult<Option<Made>> {
        match change {
            Change::EnablePolicyType { root_id } => orgs
                .enable_policy_type(root_id, SERVICE_CONTROL_POLICY)
                .await
                .map_err(|err| refused_policy_type(root_id, err))?,
            Change::Create(policy) => {
                let created = orgs.create_policy(SERVICE_CONTROL_POLICY, policy).await?;
                return Ok(Some(Made {
                    id: created.id,
                    arn: created.arn,
                }));
            }
            Change::Update { policy, .. } => orgs.update_policy(id, policy).await?,
            Change::Tag(tags) => orgs.tag_resource(id, tags).await?,
            Change::Untag(keys) => orgs.untag_resource(id, keys).await?,
            Change::Attach(target) => match orgs.attach_policy(id, target).await {
                // Attached meanwhile: what was asked for holds.
                Err(err) if err.kind == crate::aws::AwsErrorKind::AlreadyExists => {}
                result => result?,
            },
            Change::Detach(target) => gone_is_done(orgs.detach_policy(id, target).await)?,
        }
        Ok(None)
    }

    async fn delete(orgs: &dyn Organizations, id: &str, _what: &str) -> Result<()> {
        let targets = match orgs.list_targets_for_policy(id).await {
            Err(err) if err.kind == crate::aws::AwsErrorKind::NotFound => return Ok(()),
            targets => targets?,
        };
        for target in &targets {
            gone_is_done(orgs.detach_policy(id, target).await)?;
        }
        Ok(gone_is_done(orgs.delete_policy(id).await)?)
    }

    fn what(desired: &DesiredPolicy) -> String {
        format!("service control policy {}", desired.name)
    }

    fn record(
        status: &mut ServiceControlPolicyStatus,
        desired: &DesiredPolicy,
        observed: &ObservedPolicy,
        applied: bool,
    ) {
        let attached = match (&observed.policy, applied) {
            (_, true) => desired.targets.clone(),
            (Some(policy), false) => policy.targets.clone(),
            (None, false) => BTreeSet::new(),
        };
        status.target_count = Some(attached.len() as i32);
        status.attached_to = attached.into_iter().collect();
    }
}
