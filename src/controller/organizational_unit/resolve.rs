//! What the OU's references resolve to: the parent it sits in, by id and
//! path, and so the path it has itself.

use kube::ResourceExt;

use super::observe;
use super::plan::{DesiredOu, child_path};
use crate::api::{OrganizationalUnit, OrganizationalUnitRef, Reason};
use crate::controller::context::Context;
use crate::controller::driver::Stop;
use crate::controller::driver::owned::Resolved;
use crate::controller::ownership::{OWNER_TAG, Owner};
use crate::controller::refs;
use crate::controller::status::Outcome;

/// The OU under the name, parent and tags its spec gives it.
pub(super) async fn desired(unit: &OrganizationalUnit, ctx: &Context) -> Result<Resolved<DesiredOu>, Stop> {
    let name = unit.spec.ou_name.clone().unwrap_or_else(|| unit.name_any());
    let (parent_id, parent_path) = parent(ctx, unit.spec.parent.as_ref()).await?;
    let mut tags = unit.spec.tags.clone();
    tags.insert(
        OWNER_TAG.into(),
        Owner::of(unit, &ctx.config.installation_id).tag().into(),
    );
    Ok(Resolved::complete(DesiredOu {
        path: child_path(&parent_path, &name),
        name,
        parent_id,
        tags,
    }))
}

/// The id and path of the OU's parent; the root's path is empty.
async fn parent(ctx: &Context, reference: Option<&OrganizationalUnitRef>) -> Result<(String, String), Stop> {
    let orgs = ctx.aws.organizations();
    let Some(reference) = reference else {
        return Ok((orgs.root_id().await?, String::new()));
    };
    let resolved = refs::organizational_unit(&ctx.stores, reference, "spec.parent")?;
    let path = match resolved.path {
        Some(path) => path,
        None if resolved.id.starts_with("r-") => String::new(),
        None => observe::path_of(orgs.as_ref(), &resolved.id).await?.ok_or_else(|| {
            Outcome::stalled(
                Reason::InvalidSpec,
                format!("spec.parent: no OU has id {}", resolved.id),
            )
        })?,
    };
    Ok((resolved.id, path))
}
