//! Reading the OU and its parent from Organizations.

use super::plan::{DesiredOu, OuState, child_path};
use crate::aws::{AwsResult, OrganizationalUnit, Organizations};

/// The OU with the recorded id, else the one of the desired name under the
/// desired parent (one the operator made and did not record, or one to adopt).
pub(super) async fn ou(
    orgs: &dyn Organizations,
    desired: &DesiredOu,
    recorded_id: Option<&str>,
) -> AwsResult<Option<OuState>> {
    let recorded = match recorded_id {
        Some(id) => orgs.describe_organizational_unit(id).await?,
        None => None,
    };
    let unit = match recorded {
        Some(unit) => Some(unit),
        None => orgs
            .list_organizational_units(&desired.parent_id)
            .await?
            .into_iter()
            .find(|unit| unit.name == desired.name),
    };
    let Some(unit) = unit else {
        return Ok(None);
    };
    let tags = orgs.list_tags(&unit.id).await?;
    Ok(Some(OuState { unit, tags }))
}

/// The path of an OU given by id, read upwards to the root; None when no
/// OU has that id.
pub(super) async fn path_of(orgs: &dyn Organizations, id: &str) -> AwsResult<Option<String>> {
    let mut names = Vec::new();
    let mut current = id.to_owned();
    while !current.starts_with("r-") {
        let Some(OrganizationalUnit { name, .. }) = orgs.describe_organizational_unit(&current).await? else {
            return Ok(None);
        };
        names.push(name);
        current = orgs.parent_of(&current).await?;
    }
    Ok(Some(
        names
            .iter()
            .rev()
            .fold(String::new(), |path, name| child_path(&path, name)),
    ))
}
