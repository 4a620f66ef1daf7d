//! Carrying the planned changes out, and deleting an OU on cleanup once it
//! is empty.

use crate::api::Reason;
use crate::aws::{AwsResult, Organizations, gone_is_done};
use crate::controller::driver::organization::NewResource;
use crate::controller::error::{Error, Result};

use super::plan::Change;

/// Performs one change; returns the OU's id and ARN when it created it.
pub(super) async fn perform(orgs: &dyn Organizations, id: &str, change: &Change) -> AwsResult<Option<NewResource>> {
    match change {
        Change::Create { parent_id, name, tags } => {
            let unit = orgs.create_organizational_unit(parent_id, name, tags).await?;
            return Ok(Some(NewResource {
                id: unit.id,
                arn: unit.arn,
            }));
        }
        Change::Rename(name) => orgs.rename_organizational_unit(id, name).await?,
        Change::Tag(tags) => orgs.tag_resource(id, tags).await?,
        Change::Untag(keys) => orgs.untag_resource(id, keys).await?,
    }
    Ok(None)
}

/// Deletes the OU, or says what it still holds: AWS deletes only an empty
/// OU, and moving its accounts out is not the operator's decision.
pub(super) async fn delete(orgs: &dyn Organizations, id: &str, unit_label: &str) -> Result<()> {
    let accounts = orgs.list_child_accounts(id).await?;
    let units = orgs.list_organizational_units(id).await?;
    if !accounts.is_empty() || !units.is_empty() {
        let units: Vec<String> = units.iter().map(|u| format!("{} ({})", u.name, u.id)).collect();
        let inside: Vec<String> = [("accounts", accounts), ("OUs", units)]
            .into_iter()
            .filter(|(_, members)| !members.is_empty())
            .map(|(kind, members)| format!("{kind} {}", members.join(", ")))
            .collect();
        return Err(Error::Pending {
            reason: Reason::NotEmpty,
            message: format!(
                "{unit_label} still holds {}; it is deleted once empty (move them out, or set spec.deletionPolicy: Retain to keep it)",
                inside.join(" and ")
            ),
        });
    }
    Ok(gone_is_done(orgs.delete_organizational_unit(id).await)?)
}
