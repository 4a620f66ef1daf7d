//! How `plan` plans each kind, from the pieces its reconcile is made of.

use async_trait::async_trait;
use k8s_openapi::api::core::v1::Secret;
use kube::api::Api;
use kube::{Client, ResourceExt};

use super::{ObjectPlan, PlannedChange};
use crate::api::{
    AwsAccount, CrossAccountRole, DeveloperGroup, IamUser, ManagementPolicy, OrganizationalUnit, PartnerAccess,
    ServiceControlPolicy,
};
use crate::controller::aws_account::{
    self,
    plan::{self as account_plan, AccountPreview, Writes},
};
use crate::controller::context::Context;
use crate::controller::driver::Stop;
use crate::controller::driver::organization::{self, OrgOwned};
use crate::controller::driver::owned::{self, Describe, Owned};
use crate::controller::partner_access::{
    self,
    plan::{self as partner_plan, Generated},
};
use crate::controller::status::{Outcome, State};

/// A kind `plan` knows.
#[async_trait]
pub trait Planned: Sync {
    /// The object's plan, then those of the objects it would make.
    async fn planned(&self, ctx: &Context, source: &str) -> Vec<ObjectPlan>;
}

fn change(change: String) -> PlannedChange {
    PlannedChange {
        change,
        details: vec![],
    }
}

/// Where the reconcile would have stopped: a refusal is an error, a wait a note.
fn stopped(plan: &mut ObjectPlan, stop: Stop) {
    match stop {
        Stop::Report(outcome) | Stop::Lock(outcome) if outcome.state == State::Stalled => {
            plan.error = Some(outcome.message)
        }
        Stop::Report(outcome) | Stop::Lock(outcome) => plan.notes.push(outcome.message),
        Stop::Fail(error) => plan.error = Some(error.to_string()),
    }
}

/// The plan as laid, with where the reconcile would have stopped, if it would.
fn settled(mut plan: ObjectPlan, laid: Result<(), Stop>) -> ObjectPlan {
    if let Err(stop) = laid {
        stopped(&mut plan, stop);
    }
    plan
}

const OBSERVE_ONLY: &str = "managementPolicy Observe writes nothing; the difference reported";

/// What a preview found, laid into the plan: the target, the references
/// left out, and the changes, unless Observe mode keeps them to notes or
/// the object may not take what exists.
fn lay_out(
    plan: &mut ObjectPlan,
    what: String,
    waiting: &[Outcome],
    changes: Vec<PlannedChange>,
    observe_only: bool,
    refusal: Option<Outcome>,
) -> Result<(), Stop> {
    plan.target = Some(what);
    // A reference the operator refuses (tenancy, a guardrail) is an error,
    // as its Stalled condition would be; one that waits is a note.
    let (refused, waits): (Vec<&Outcome>, Vec<&Outcome>) = waiting.iter().partition(|o| o.state == State::Stalled);
    plan.notes.extend(waits.iter().map(|o| o.message.clone()));
    if !refused.is_empty() {
        plan.error = Some(
            refused
                .iter()
                .map(|o| o.message.as_str())
                .collect::<Vec<_>>()
                .join("; "),
        );
    }
    if observe_only {
        plan.notes
            .extend(changes.iter().map(|c| format!("{OBSERVE_ONLY}: {}", c.change)));
        return Ok(());
    }
    if let Some(refusal) = refusal {
        return Err(refusal.into());
    }
    plan.changes.extend(changes);
    Ok(())
}

async fn owned<K: Owned>(object: &K, ctx: &Context, source: &str) -> ObjectPlan {
    let mut plan = ObjectPlan::of(object, source);
    let observe_only = object.policies().management == ManagementPolicy::Observe;
    let laid = async {
        let mut status = object.status().cloned().unwrap_or_default();
        let preview = owned::preview(object, ctx, &status).await?;
        let moved = owned::moved::<K>(&mut status, &preview.target)
            .filter(|_| !observe_only)
            .map(|(account, name)| {
                change(format!(
                    "delete {} {name} in account {account}: the spec moved it",
                    K::NOUN
                ))
            });
        let changes = moved
            .into_iter()
            .chain(preview.changes.iter().map(|c| PlannedChange {
                change: c.describe(),
                details: K::explain(c, &preview.observed),
            }))
            .collect();
        let what = owned::label::<K>(&preview.target);
        lay_out(
            &mut plan,
            what,
            &preview.waiting,
            changes,
            observe_only,
            preview.refusal(object),
        )
    }
    .await;
    settled(plan, laid)
}

async fn org_owned<K: OrgOwned>(object: &K, ctx: &Context, source: &str) -> ObjectPlan {
    let mut plan = ObjectPlan::of(object, source);
    let observe_only = object.policies().management == ManagementPolicy::Observe;
    let laid = async {
        let mut status = object.status().cloned().unwrap_or_default();
        let recorded = K::identity(&mut status).id.clone();
        let preview = organization::preview(object, ctx, recorded.as_deref()).await?;
        let changes = preview
            .changes
            .iter()
            .map(|c| PlannedChange {
                change: c.describe(),
                details: K::explain(c, &preview.observed),
            })
            .collect();
        let refusal = preview.claim.refusal(&preview.label);
        lay_out(
            &mut plan,
            preview.label.clone(),
            &preview.waiting,
            changes,
            observe_only,
            refusal,
        )
    }
    .await;
    settled(plan, laid)
}

#[async_trait]
impl Planned for OrganizationalUnit {
    async fn planned(&self, ctx: &Context, source: &str) -> Vec<ObjectPlan> {
        vec![org_owned(self, ctx, source).await]
    }
}

#[async_trait]
impl Planned for ServiceControlPolicy {
    async fn planned(&self, ctx: &Context, source: &str) -> Vec<ObjectPlan> {
        vec![org_owned(self, ctx, source).await]
    }
}

#[async_trait]
impl Planned for CrossAccountRole {
    async fn planned(&self, ctx: &Context, source: &str) -> Vec<ObjectPlan> {
        vec![owned(self, ctx, source).await]
    }
}

#[async_trait]
impl Planned for DeveloperGroup {
    async fn planned(&self, ctx: &Context, source: &str) -> Vec<ObjectPlan> {
        vec![owned(self, ctx, source).await]
    }
}

#[async_trait]
impl Planned for IamUser {
    async fn planned(&self, ctx: &Context, source: &str) -> Vec<ObjectPlan> {
        vec![owned(self, ctx, source).await]
    }
}

#[async_trait]
impl Planned for AwsAccount {
    async fn planned(&self, ctx: &Context, source: &str) -> Vec<ObjectPlan> {
        let mut plan = ObjectPlan::of(self, source);
        let status = self.status.clone().unwrap_or_default();
        let laid = async {
            let preview = aws_account::preview(self, ctx, &status).await?;
            lay_account(&mut plan, self, &preview)
        }
        .await;
        vec![settled(plan, laid)]
    }
}

/// The account's writes, or where its reconcile would stop; a name AWS
/// cannot change, as a note.
fn lay_account(plan: &mut ObjectPlan, account: &AwsAccount, preview: &AccountPreview) -> Result<(), Stop> {
    let spec = &account.spec;
    let what = preview.label(spec);
    plan.target = what.clone();
    let writes = preview.next(spec)?;
    if let Writes::Place(place) = &writes {
        plan.notes.extend(account_plan::name_difference(spec, place.info));
    }
    let changes = writes.describe(spec).into_iter().map(change).collect();
    let observe_only = spec.management_policy == ManagementPolicy::Observe;
    lay_out(plan, what.unwrap_or_default(), &[], changes, observe_only, None)
}

#[async_trait]
impl Planned for PartnerAccess {
    /// The partner's own plan, then its roles as its reconcile would leave
    /// them: each planned as the CrossAccountRole it is, those it would
    /// remove deleted.
    async fn planned(&self, ctx: &Context, source: &str) -> Vec<ObjectPlan> {
        let mut own = ObjectPlan::of(self, source);
        let preview = match partner_access::preview(self, ctx).await {
            Ok(preview) => preview,
            Err(stop) => {
                stopped(&mut own, stop);
                return vec![own];
            }
        };
        if preview.external_id.generated == Some(Generated::Missing) {
            own.notes.push(format!(
                "the operator generates the external ID into Secret {}",
                preview.external_id.reference.name
            ));
        }
        let mut children: Vec<ObjectPlan> = preview.unwanted().map(|child| removed(child, source)).collect();
        for child in preview.applied_children(self) {
            children.push(owned(&child, ctx, source).await);
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

/// A role the partner no longer has: its object goes, and with it the
/// role it made, if it made one.
fn removed(child: &CrossAccountRole, source: &str) -> ObjectPlan {
    let mut plan = ObjectPlan::of(child, source);
    let recorded = child.status.as_ref().filter(|s| s.ownership.is_some());
    if let Some((Some(account), Some(role))) = recorded.map(|s| (&s.account_id, &s.role_name)) {
        plan.target = Some(format!("{} {role} in account {account}", CrossAccountRole::NOUN));
        plan.changes.push(change(format!("delete role {role}")));
    }
    plan
}

/// A stand-in for each external ID the operator would generate, so that
/// the partner's roles are planned with the condition they will carry. Its
/// value is never shown.
pub async fn external_ids_to_generate(
    client: &Client,
    partners: &[(usize, PartnerAccess)],
    given: &[Secret],
) -> anyhow::Result<Vec<Secret>> {
    let mut generated = vec![];
    for (_, partner) in partners.iter().filter(|(_, p)| p.spec.external_id_secret_ref.is_none()) {
        let namespace = partner.namespace().unwrap_or_default();
        let reference = partner_access::generated_secret_ref(partner);
        let in_files = given.iter().any(|s| {
            s.metadata.name.as_ref() == Some(&reference.name) && s.metadata.namespace.as_ref() == Some(&namespace)
        });
        if in_files
            || Api::<Secret>::namespaced(client.clone(), &namespace)
                .get_opt(&reference.name)
                .await?
                .is_some()
        {
            continue;
        }
        generated.push(partner_plan::external_id_secret(
            partner,
            partner_access::new_external_id(),
        ));
    }
    Ok(generated)
}
