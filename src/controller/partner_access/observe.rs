//! What the reconcile reads before its first write, and `plan` reads alike.
//! A PartnerAccess reads nothing in AWS: what it observes are the
//! CrossAccountRoles it owns, which do the AWS work.

use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;
use kube::api::{Api, ListParams};

use crate::api::{CrossAccountRole, PartnerAccess};
use crate::controller::context::Context;
use crate::controller::driver::Stop;
use crate::controller::error::{KubeContext, Result, named};
use crate::controller::list_guarded;

use super::plan::{self, PARTNER_LABEL, PartnerPreview};
use super::resolve;

/// Everything up to the first write, reading only: the refusal, the
/// external ID's Secret, the phase, and the children wanted and owned.
pub async fn preview(partner: &PartnerAccess, ctx: &Context) -> Result<PartnerPreview, Stop> {
    resolve::refuse_accounts(partner, ctx).await?;
    let external_id = resolve::external_id(partner, ctx).await?;
    let phase = plan::phase(partner, Timestamp::now());
    let wanted = plan::children(partner, phase, &external_id.reference);
    let existing = owned_children(partner, &roles_api(partner, ctx)).await?;
    Ok(PartnerPreview {
        external_id,
        phase,
        wanted,
        existing,
    })
}

/// The CrossAccountRoles of the partner's namespace.
pub fn roles_api(partner: &PartnerAccess, ctx: &Context) -> Api<CrossAccountRole> {
    Api::namespaced(ctx.client.clone(), &partner.namespace().unwrap_or_default())
}

/// The CrossAccountRoles this PartnerAccess owns, read fresh: a child that
/// just went away must not be seen as still there.
async fn owned_children(partner: &PartnerAccess, roles: &Api<CrossAccountRole>) -> Result<Vec<CrossAccountRole>> {
    let uid = partner.uid().unwrap_or_default();
    let labelled = ListParams::default().labels(&format!("{PARTNER_LABEL}={}", partner.name_any()));
    let listed = list_guarded(roles, &labelled)
        .await
        .doing(|| format!("listing the CrossAccountRoles of {}", named(partner)))?;
    Ok(listed
        .into_iter()
        .filter(|role| role.owner_references().iter().any(|owner| owner.uid == uid))
        .collect())
}
