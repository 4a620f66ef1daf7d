//! How `plan` plans each kind, from the pieces its reconcile is made of.

use async_trait::async_trait;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::jiff::Timestamp;
use kube::api::Api;
use kube::{Client, Resource, ResourceExt};

use super::{ObjectPlan, PlannedChange};
use crate::api::{
    AccountState, AwsAccount, CrossAccountRole, DeveloperGroup, ManagementPolicy, OrganizationalUnit, PartnerAccess,
    Reason, ServiceControlPolicy,
};
use crate::controller::aws_account::observe as account_observe;
use crate::controller::aws_account::plan::{self as account_plan, Earlier, Locate};
use crate::controller::context::Context;
use crate::controller::driver::Stop;
use crate::controller::driver::organization::{self, OrgOwned};
use crate::controller::driver::owned::{self, Describe, Owned};
use crate::controller::error::KubeContext;
use crate::controller::partner_access::{self, plan as partner_plan};
use crate::controller::secrets::EXTERNAL_ID_LABEL;
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
        let what = owned::what::<K>(&preview.target);
        lay_out(
            &mut plan,
            what,
            &preview.waiting,
            changes,
            observe_only,
            preview.refusal(object),
        )
    };
    if let Err(stop) = laid.await {
        stopped(&mut plan, stop);
    }
    plan
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
        let refusal = preview.claim.refusal(&preview.what);
        lay_out(
            &mut plan,
            preview.what.clone(),
            &preview.waiting,
            changes,
            observe_only,
            refusal,
        )
    };
    if let Err(stop) = laid.await {
        stopped(&mut plan, stop);
    }
    plan
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
impl Planned for AwsAccount {
    async fn planned(&self, ctx: &Context, source: &str) -> Vec<ObjectPlan> {
        let mut plan = ObjectPlan::of(self, source);
        if let Err(stop) = account(self, ctx, &mut plan).await {
            stopped(&mut plan, stop);
        }
        vec![plan]
    }
}

/// The steps of the AwsAccount reconcile up to its first write.
async fn account(account: &AwsAccount, ctx: &Context, plan: &mut ObjectPlan) -> Result<(), Stop> {
    let spec = &account.spec;
    let status = account.status.clone().unwrap_or_default();
    let orgs = ctx.aws.organizations();
    let creating = |request: &str| format!("AWS is creating the account (request {request})");
    let id = match account_plan::locate(spec, &status, account.metadata.generation) {
        Locate::Account { id, .. } => id,
        Locate::Poll(request) => {
            plan.notes.push(creating(&request));
            return Ok(());
        }
        Locate::Search => match account_observe::earlier(orgs.as_ref(), spec).await? {
            Earlier::Account(id) => id,
            Earlier::Request(request) => {
                plan.notes.push(creating(&request));
                return Ok(());
            }
            Earlier::Nothing => {
                plan.target = Some(format!("account {} ({})", spec.account_name, spec.email));
                let known = crate::controller::refs::ou_with_path(&ctx.stores, spec.organizational_unit.as_deref());
                match account_observe::target_parent(orgs.as_ref(), spec, known).await? {
                    Err(message) => plan
                        .notes
                        .push(format!("{message}; the account is created once it exists")),
                    Ok(_) if spec.management_policy == ManagementPolicy::Observe => plan.notes.push(format!(
                        "{OBSERVE_ONLY}: no account with email {} is in the organization",
                        spec.email
                    )),
                    Ok(parent) => plan.changes.push(change(format!(
                        "create account {} ({}) in {parent}",
                        spec.account_name, spec.email
                    ))),
                }
                return Ok(());
            }
        },
    };
    let Some(info) = orgs.describe_account(&id).await? else {
        return Err(Outcome::stalled(
            Reason::NotInOrganization,
            format!("account {id} is not a member of this organization"),
        )
        .into());
    };
    if !account_plan::same_email(spec, &info) {
        return Err(Outcome::stalled(
            Reason::EmailDiffers,
            format!(
                "account {id} has email {} in AWS, not spec.email {}",
                info.email, spec.email
            ),
        )
        .into());
    }
    let what = format!("account {id} ({})", info.name);
    plan.target = Some(what.clone());
    if account_plan::state(&info.status) != Some(AccountState::Active) {
        plan.notes
            .push(format!("{what} is {} in AWS: nothing in it is changed", info.status));
        return Ok(());
    }
    let known = crate::controller::refs::ou_with_path(&ctx.stores, spec.organizational_unit.as_deref());
    let placing = account_observe::placing(orgs.as_ref(), spec, &id, known).await?;
    let changes = match placing.target {
        Ok((_, changes)) => changes,
        Err(message) => {
            plan.notes.push(format!(
                "{message}; {what} stays in {} until it exists",
                placing.current.parent
            ));
            vec![]
        }
    };
    plan.notes.extend(account_plan::name_difference(spec, &info));
    let described = changes.iter().map(account_plan::Change::describe);
    match spec.management_policy {
        ManagementPolicy::Manage => plan.changes.extend(described.map(change)),
        ManagementPolicy::Observe => plan.notes.extend(described.map(|c| format!("{OBSERVE_ONLY}: {c}"))),
    }
    Ok(())
}

#[async_trait]
impl Planned for PartnerAccess {
    async fn planned(&self, ctx: &Context, source: &str) -> Vec<ObjectPlan> {
        let mut own = ObjectPlan::of(self, source);
        match partner(self, ctx, &mut own, source).await {
            Ok(children) => std::iter::once(own).chain(children).collect(),
            Err(stop) => {
                stopped(&mut own, stop);
                vec![own]
            }
        }
    }
}

/// The partner's roles as its reconcile would apply them, each planned as
/// the CrossAccountRole it is; the roles it would remove, deleted.
async fn partner(
    partner: &PartnerAccess,
    ctx: &Context,
    own: &mut ObjectPlan,
    source: &str,
) -> Result<Vec<ObjectPlan>, Stop> {
    partner_access::refusal(partner, ctx).await?;
    let namespace = partner.namespace().unwrap_or_default();
    let external_id = partner
        .spec
        .external_id_secret_ref
        .clone()
        .unwrap_or_else(|| partner_access::generated_secret_ref(partner));
    if partner.spec.external_id_secret_ref.is_none()
        && Api::<Secret>::namespaced(ctx.client.clone(), &namespace)
            .get_opt(&external_id.name)
            .await
            .doing(|| format!("reading Secret {namespace}/{}", external_id.name))?
            .is_none()
    {
        own.notes.push(format!(
            "the operator generates the external ID into Secret {}",
            external_id.name
        ));
    }
    let wanted = partner_plan::children(partner, partner_plan::phase(partner, Timestamp::now()), &external_id);
    let existing = match partner.uid() {
        Some(_) => {
            let roles = Api::<CrossAccountRole>::namespaced(ctx.client.clone(), &namespace);
            partner_access::owned_children(partner, &roles).await?
        }
        None => vec![],
    };
    let via = format!("PartnerAccess {namespace}/{}", partner.name_any());
    let mut plans = vec![];
    for child in existing.iter().filter(|c| !wanted.contains_key(&c.name_any())) {
        let mut plan = ObjectPlan::of(child, source);
        plan.via = Some(via.clone());
        let recorded = child.status.as_ref().filter(|s| s.ownership.is_some());
        if let Some((Some(account), Some(role))) = recorded.map(|s| (&s.account_id, &s.role_name)) {
            plan.target = Some(format!("{} {role} in account {account}", CrossAccountRole::NOUN));
            plan.changes.push(change(format!("delete role {role}")));
        }
        plans.push(plan);
    }
    for (name, spec) in wanted {
        let mut child = existing
            .iter()
            .find(|c| c.name_any() == name)
            .cloned()
            .unwrap_or_else(|| {
                let mut child = CrossAccountRole::new(&name, spec.clone());
                child.metadata.namespace = Some(namespace.clone());
                child.metadata.generation = Some(1);
                child.metadata.owner_references = partner.controller_owner_ref(&()).map(|owner| vec![owner]);
                child
            });
        if child.spec != spec {
            child.spec = spec;
            child.metadata.generation = child.metadata.generation.map(|g| g + 1);
        }
        let mut plan = owned(&child, ctx, source).await;
        plan.via = Some(via.clone());
        plans.push(plan);
    }
    Ok(plans)
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
        generated.push(Secret {
            metadata: ObjectMeta {
                name: Some(reference.name),
                namespace: Some(namespace),
                labels: Some([(EXTERNAL_ID_LABEL.to_string(), "true".to_string())].into()),
                ..ObjectMeta::default()
            },
            data: Some(
                [(
                    reference.key,
                    ByteString(partner_access::new_external_id().into_bytes()),
                )]
                .into(),
            ),
            ..Secret::default()
        });
    }
    Ok(generated)
}
