//! PartnerAccess: an outside partner's access, composed of one owned
//! CrossAccountRole per target account. The CrossAccountRole reconciler does
//! the AWS work; this one keeps the children equal to the spec (none while
//! suspended or expired) and adds their conditions up.

pub(crate) mod plan;
pub mod triggers;

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::{Client, Resource, ResourceExt};
use rand::TryRngCore;
use rand::distr::{Alphanumeric, SampleString};

use super::context::{Config, Context};
use super::driver::{Next, Reconciler, Stop};
use super::error::{KubeContext, Result, named};
use super::refs;
use super::secrets::{EXTERNAL_ID_LABEL, is_external_id_secret};
use super::status::{MANAGER, Outcome, State, publish};
use crate::api::{
    CrossAccountRole, DeletionPolicy, PartnerAccess, PartnerAccessStatus, PartnerPhase, Reason, SecretKeyRef,
};

/// Marks the CrossAccountRoles of one PartnerAccess, so they are listed without scanning the namespace.
const PARTNER_LABEL: &str = "awsaccess.dev/partner-access";
/// The key of the generated external ID in its Secret.
const EXTERNAL_ID_KEY: &str = "externalId";
/// Long enough that guessing is hopeless; AWS allows up to 1224 characters.
const EXTERNAL_ID_LENGTH: usize = 48;

#[async_trait]
impl Reconciler for PartnerAccess {
    /// The children are owned: garbage collection deletes them, and their
    /// own finalizers remove the roles from AWS.
    const CLEANS_UP: bool = false;

    fn api(&self, client: Client) -> Api<Self> {
        Api::namespaced(client, &self.namespace().unwrap_or_default())
    }

    async fn converge(
        &self,
        ctx: &Context,
        _api: &Api<Self>,
        status: &mut PartnerAccessStatus,
    ) -> Result<Outcome, Stop> {
        converge(self, ctx, status).await
    }

    async fn cleanup(&self, _ctx: &Context, _api: &Api<Self>) -> Result<()> {
        Ok(())
    }

    /// At the resync interval, or at the moment of expiry when that comes
    /// first: access ends exactly on time, not at the next resync.
    fn next(&self, _outcome: &Outcome, config: &Config) -> Next {
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

/// Refuses a spec whose accounts this namespace may not use, before any
/// child exists; waiting on an account is the children's business.
pub async fn refusal(partner: &PartnerAccess, ctx: &Context) -> Result<(), Stop> {
    let namespace = partner.namespace().unwrap_or_default();
    for (i, account) in partner.spec.accounts.iter().enumerate() {
        let field = format!("spec.accounts[{i}]");
        match refs::workplace(ctx, Some(account), &namespace, &field).await {
            Err(Stop::Report(outcome) | Stop::Lock(outcome)) if outcome.state == State::Stalled => {
                return Err(Stop::Report(outcome));
            }
            Err(Stop::Fail(error)) => return Err(Stop::Fail(error)),
            _ => {}
        }
    }
    Ok(())
}

async fn converge(partner: &PartnerAccess, ctx: &Context, status: &mut PartnerAccessStatus) -> Result<Outcome, Stop> {
    let namespace = partner.namespace().unwrap_or_default();
    refusal(partner, ctx).await?;
    let external_id = match &partner.spec.external_id_secret_ref {
        Some(reference) => reference.clone(),
        None => generated_secret(partner, ctx).await?,
    };
    status.external_id_secret = Some(external_id.name.clone());

    let partner_account = &partner.spec.partner.account_id;
    if let Some(previous) = status
        .partner_account_id
        .as_ref()
        .filter(|previous| *previous != partner_account)
    {
        let note = format!(
            "access transferred from partner account {previous} to {partner_account}: the roles' trust policies are rewritten in place"
        );
        publish(ctx, partner, false, Reason::PartnerChanged, "Transfer", note).await;
    }
    status.partner_account_id = Some(partner_account.clone());

    let phase = plan::phase(partner, Timestamp::now());
    status.phase = Some(phase);
    let roles_api: Api<CrossAccountRole> = Api::namespaced(ctx.client.clone(), &namespace);
    let children = owned_children(partner, &roles_api).await?;
    let revoking = phase != PartnerPhase::Active;
    let wanted = plan::children(partner, phase, &external_id);
    for child in &children {
        if !wanted.contains_key(&child.name_any()) && child.meta().deletion_timestamp.is_none() {
            remove_child(partner, ctx, &roles_api, child).await?;
        }
    }
    for (name, spec) in &wanted {
        let current = children.iter().find(|c| c.name_any() == *name);
        if current.is_none_or(|c| c.spec != *spec) {
            apply_child(partner, &roles_api, name, spec.clone()).await?;
        }
    }
    if revoking {
        status.roles = vec![];
        let (reason, what) = if phase == PartnerPhase::Suspended {
            (Reason::Suspended, "suspended")
        } else {
            (Reason::Expired, "expired")
        };
        return Ok(if children.is_empty() {
            Outcome::ready(
                reason,
                format!("access {what}: the partner's roles are removed from AWS"),
            )
        } else {
            Outcome::reconciling(
                reason,
                format!("access {what}: removing {} role(s) from AWS", children.len()),
            )
        });
    }
    let current: Vec<&CrossAccountRole> = children
        .iter()
        .filter(|c| wanted.get(&c.name_any()).is_some_and(|spec| c.spec == *spec))
        .collect();
    status.roles = plan::roles(&current);
    Ok(plan::aggregate(partner, wanted.len(), &current))
}

/// The CrossAccountRoles this PartnerAccess owns, read fresh: a child that
/// just went away must not be seen as still there.
pub async fn owned_children(partner: &PartnerAccess, roles: &Api<CrossAccountRole>) -> Result<Vec<CrossAccountRole>> {
    let uid = partner.uid().unwrap_or_default();
    let labelled = ListParams::default().labels(&format!("{PARTNER_LABEL}={}", partner.name_any()));
    let listed = super::list_guarded(roles, &labelled)
        .await
        .doing(|| format!("listing the CrossAccountRoles of {}", named(partner)))?;
    Ok(listed
        .into_iter()
        .filter(|role| role.owner_references().iter().any(|owner| owner.uid == uid))
        .collect())
}

async fn apply_child(
    partner: &PartnerAccess,
    roles: &Api<CrossAccountRole>,
    name: &str,
    spec: crate::api::CrossAccountRoleSpec,
) -> Result<()> {
    let mut child = CrossAccountRole::new(name, spec);
    child.metadata.namespace = partner.namespace();
    child.metadata.labels = Some(BTreeMap::from([(PARTNER_LABEL.to_string(), partner.name_any())]));
    child.metadata.owner_references = partner.controller_owner_ref(&()).map(|owner| vec![owner]);
    roles
        .patch(name, &PatchParams::apply(MANAGER).force(), &Patch::Apply(&child))
        .await
        .doing(|| format!("applying {}'s CrossAccountRole {name}", named(partner)))?;
    Ok(())
}

/// Deletes a child so that its role leaves AWS whatever the deletion policy:
/// revoked access must not linger.
async fn remove_child(
    partner: &PartnerAccess,
    ctx: &Context,
    roles: &Api<CrossAccountRole>,
    child: &CrossAccountRole,
) -> Result<()> {
    if child.spec.deletion_policy != DeletionPolicy::Delete {
        let mut spec = child.spec.clone();
        spec.deletion_policy = DeletionPolicy::Delete;
        apply_child(partner, roles, &child.name_any(), spec).await?;
    }
    roles
        .delete(&child.name_any(), &DeleteParams::background())
        .await
        .doing(|| format!("deleting {}'s CrossAccountRole {}", named(partner), child.name_any()))?;
    publish(
        ctx,
        partner,
        false,
        Reason::RoleRemoved,
        "Revoke",
        format!("removing the partner's role {}", child.name_any()),
    )
    .await;
    Ok(())
}

/// Where the external ID of a PartnerAccess that names none is generated.
pub fn generated_secret_ref(partner: &PartnerAccess) -> SecretKeyRef {
    SecretKeyRef {
        name: format!("{}-external-id", partner.name_any()),
        key: EXTERNAL_ID_KEY.into(),
    }
}

/// A fresh external ID: long enough that guessing is hopeless.
pub fn new_external_id() -> String {
    let mut random = rand::rngs::OsRng.unwrap_err();
    Alphanumeric.sample_string(&mut random, EXTERNAL_ID_LENGTH)
}

/// The operator-generated external ID: created once into an owned Secret
/// and never changed while that Secret exists. A Secret of that name that
/// is not this object's is never taken over.
async fn generated_secret(partner: &PartnerAccess, ctx: &Context) -> Result<SecretKeyRef, Stop> {
    let reference = generated_secret_ref(partner);
    let name = reference.name.clone();
    let secrets: Api<Secret> = Api::namespaced(ctx.client.clone(), &partner.namespace().unwrap_or_default());
    let uid = partner.uid().unwrap_or_default();
    let doing = |what: &str| format!("{what} Secret {name}, the external ID of {}", named(partner));
    if let Some(existing) = secrets.get_opt(&name).await.doing(|| doing("reading"))? {
        if existing.owner_references().iter().any(|owner| owner.uid == uid) {
            if !is_external_id_secret(&existing) {
                // Generated before Secrets were opted in by label: labelled in place.
                let labels = serde_json::json!({"metadata": {"labels": {EXTERNAL_ID_LABEL: "true"}}});
                secrets
                    .patch(&name, &PatchParams::default(), &Patch::Merge(&labels))
                    .await
                    .doing(|| doing("labelling"))?;
            }
            return Ok(reference);
        }
        return Err(Outcome::stalled(
            Reason::AlreadyExists,
            format!(
                "Secret {name} exists and was not generated for this PartnerAccess; set spec.externalIdSecretRef to use it, or delete it"
            ),
        )
        .into());
    }
    let secret = Secret {
        metadata: ObjectMeta {
            name: Some(name.clone()),
            owner_references: partner.controller_owner_ref(&()).map(|owner| vec![owner]),
            labels: Some(BTreeMap::from([
                (PARTNER_LABEL.to_string(), partner.name_any()),
                (EXTERNAL_ID_LABEL.to_string(), "true".to_string()),
            ])),
            ..ObjectMeta::default()
        },
        data: Some(BTreeMap::from([(
            EXTERNAL_ID_KEY.to_string(),
            ByteString(new_external_id().into_bytes()),
        )])),
        type_: Some("Opaque".into()),
        ..Secret::default()
    };
    secrets
        .create(
            &PostParams {
                field_manager: Some(MANAGER.into()),
                ..PostParams::default()
            },
            &secret,
        )
        .await
        .doing(|| doing("creating"))?;
    publish(
        ctx,
        partner,
        false,
        Reason::ExternalIdGenerated,
        "Generate",
        format!("generated a new external ID into Secret {name}"),
    )
    .await;
    Ok(reference)
}
