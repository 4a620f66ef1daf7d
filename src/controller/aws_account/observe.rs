//! Reading Organizations: what an earlier run left, which OU the spec names,
//! and where the account sits with which tags.

use crate::api::AwsAccountSpec;
use crate::aws::{AwsErrorKind, AwsResult, Organizations};

use super::plan::{self, Change, Earlier, Observed, Placement};

/// Looks for an account or a running request that an earlier run created
/// without recording it.
pub async fn earlier(orgs: &dyn Organizations, spec: &AwsAccountSpec) -> AwsResult<Earlier> {
    // Running requests first: one that finishes between the two reads is
    // then in the account list. The other order could miss it, and create twice.
    let running = orgs.list_create_account_status(&[plan::IN_PROGRESS]).await?;
    let accounts = orgs.list_accounts().await?;
    Ok(plan::earlier(spec, &running, &accounts))
}

/// The id of the root or OU the spec places the account in, or why no OU
/// answers to the spec's path (yet). `known` is the id of the Ready
/// OrganizationalUnit with the spec's path, if one has it: that OU is read
/// every resync by its own object, so the path is not walked again here.
pub async fn target_parent(
    orgs: &dyn Organizations,
    spec: &AwsAccountSpec,
    known: Option<String>,
) -> AwsResult<Result<String, String>> {
    let names = match plan::placement(spec) {
        Placement::Path(_) if let Some(id) = known => return Ok(Ok(id)),
        // An id that names no OU must stop a creation as a path does; asking
        // for its parent is how to learn it exists with the reads the
        // operator already holds.
        Placement::Id(id) => {
            return match orgs.parent_of(&id).await {
                Ok(_) => Ok(Ok(id)),
                Err(err) if err.kind == AwsErrorKind::NotFound => {
                    Ok(Err(format!("spec.organizationalUnit: no OU has id {id}")))
                }
                Err(err) => Err(err),
            };
        }
        Placement::Root => return Ok(Ok(orgs.root_id().await?)),
        Placement::Path(names) => names,
    };
    let mut parent = orgs.root_id().await?;
    for (depth, name) in names.iter().enumerate() {
        let children = orgs.list_organizational_units(&parent).await?;
        let Some(child) = plan::child_named(&children, name) else {
            let under = if depth == 0 {
                "the root".to_string()
            } else {
                names[..depth].join("/")
            };
            return Ok(Err(format!(
                "spec.organizationalUnit: no OU named {name:?} under {under}"
            )));
        };
        parent = child.to_owned();
    }
    Ok(Ok(parent))
}

/// Where the account sits, and the writes that place and tag it as the
/// spec says, or why the spec's OU is not found (yet): what the reconcile
/// carries out and `plan` prints.
pub struct Placing {
    pub current: Observed,
    /// The parent the spec names, and the writes.
    pub target: Result<(String, Vec<Change>), String>,
}

/// `known` as for `target_parent`.
pub async fn placing(
    orgs: &dyn Organizations,
    spec: &AwsAccountSpec,
    account_id: &str,
    known: Option<String>,
) -> AwsResult<Placing> {
    let current = Observed {
        parent: orgs.parent_of(account_id).await?,
        tags: orgs.list_tags(account_id).await?,
    };
    let target = target_parent(orgs, spec, known).await?.map(|parent| {
        let changes = plan::plan(&parent, &spec.tags, &current);
        (parent, changes)
    });
    Ok(Placing { current, target })
}
