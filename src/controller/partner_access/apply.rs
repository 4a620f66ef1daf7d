//! The writes, all to Kubernetes: the external ID's Secret, the child
//! CrossAccountRoles (whose own reconciles write to AWS), and the status.

use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::{Resource, ResourceExt};
use rand::TryRngCore;
use rand::distr::{Alphanumeric, SampleString};

use crate::api::{CrossAccountRole, CrossAccountRoleSpec, DeletionPolicy, PartnerAccess, PartnerAccessStatus, Reason};
use crate::controller::context::Context;
use crate::controller::driver::Stop;
use crate::controller::error::{KubeContext, Result, named};
use crate::controller::secrets::EXTERNAL_ID_LABEL;
use crate::controller::status::{MANAGER, Outcome, publish};

use super::observe::{preview, roles_api};
use super::plan::{self, ExternalId, Generated};

/// Long enough that guessing is hopeless; AWS allows up to 1224 characters.
const EXTERNAL_ID_LENGTH: usize = 48;

/// Keeps the children equal to the spec (none while suspended or expired)
/// and records in `status` what their conditions add up to.
pub async fn converge(
    partner: &PartnerAccess,
    ctx: &Context,
    status: &mut PartnerAccessStatus,
) -> Result<Outcome, Stop> {
    let preview = preview(partner, ctx).await?;
    keep_external_id(partner, ctx, &preview.external_id).await?;
    status.external_id_secret = Some(preview.external_id.reference.name.clone());
    record_partner(partner, ctx, status).await;
    status.phase = Some(preview.phase);
    let roles = roles_api(partner, ctx);
    // A child already being deleted is on its way out.
    for child in preview.unwanted().filter(|c| c.meta().deletion_timestamp.is_none()) {
        remove_child(partner, ctx, &roles, child).await?;
    }
    for (name, spec) in preview.stale() {
        apply_child(partner, &roles, name, spec.clone()).await?;
    }
    status.roles = preview.roles();
    Ok(preview.outcome(partner))
}

/// Records the partner's account, announcing a transfer to another.
async fn record_partner(partner: &PartnerAccess, ctx: &Context, status: &mut PartnerAccessStatus) {
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
}

async fn apply_child(
    partner: &PartnerAccess,
    roles: &Api<CrossAccountRole>,
    name: &str,
    spec: CrossAccountRoleSpec,
) -> Result<()> {
    roles
        .patch(
            name,
            &PatchParams::apply(MANAGER).force(),
            &Patch::Apply(&plan::child(partner, name, spec)),
        )
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

/// A fresh external ID: long enough that guessing is hopeless.
pub fn new_external_id() -> String {
    let mut random = rand::rngs::OsRng.unwrap_err();
    Alphanumeric.sample_string(&mut random, EXTERNAL_ID_LENGTH)
}

/// The operator-generated external ID: created once into an owned Secret
/// and never changed while that Secret exists.
async fn keep_external_id(partner: &PartnerAccess, ctx: &Context, external_id: &ExternalId) -> Result<()> {
    let name = &external_id.reference.name;
    let secrets: Api<Secret> = Api::namespaced(ctx.client.clone(), &partner.namespace().unwrap_or_default());
    let doing = |what: &str| format!("{what} Secret {name}, the external ID of {}", named(partner));
    match external_id.generated {
        None | Some(Generated::Ours { labelled: true }) => {}
        // Generated before Secrets were opted in by label: labelled in place.
        Some(Generated::Ours { labelled: false }) => {
            let labels = serde_json::json!({"metadata": {"labels": {EXTERNAL_ID_LABEL: "true"}}});
            secrets
                .patch(name, &PatchParams::default(), &Patch::Merge(&labels))
                .await
                .doing(|| doing("labelling"))?;
        }
        Some(Generated::Missing) => {
            let secret = plan::external_id_secret(partner, new_external_id());
            let params = PostParams {
                field_manager: Some(MANAGER.into()),
                ..PostParams::default()
            };
            secrets.create(&params, &secret).await.doing(|| doing("creating"))?;
            let note = format!("generated a new external ID into Secret {name}");
            publish(ctx, partner, false, Reason::ExternalIdGenerated, "Generate", note).await;
        }
    }
    Ok(())
}
