//! What the policy's references resolve to: the document its guardrails
//! compile to, and the ids of the targets it attaches to, leaving out (and
//! reporting) those not Ready.

use std::collections::BTreeSet;

use kube::ResourceExt;

use super::plan::{self, DesiredPolicy};
use crate::api::{Reason, ServiceControlPolicy};
use crate::controller::context::Context;
use crate::controller::driver::Stop;
use crate::controller::driver::owned::Resolved;
use crate::controller::ownership::{OWNER_TAG, Owner};
use crate::controller::refs;
use crate::controller::status::Outcome;

/// The policy as its spec compiles, attached to the targets that resolve.
pub(super) async fn desired(policy: &ServiceControlPolicy, ctx: &Context) -> Result<Resolved<DesiredPolicy>, Stop> {
    let content = plan::content(&policy.spec, &ctx.config.default_access_role)
        .map_err(|message| Outcome::stalled(Reason::InvalidSpec, message))?;
    let (targets, waiting) = targets(ctx, policy).await?;
    let mut tags = policy.spec.tags.clone();
    tags.insert(
        OWNER_TAG.into(),
        Owner::of(policy, &ctx.config.installation_id).tag().into(),
    );
    Ok(Resolved {
        desired: DesiredPolicy {
            name: policy.spec.policy_name.clone().unwrap_or_else(|| policy.name_any()),
            description: policy.spec.description.clone(),
            content,
            tags,
            targets,
        },
        waiting,
    })
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
