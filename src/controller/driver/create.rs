//! The one write that makes a resource, shared by both drivers. It is not
//! safe to repeat blindly: the status claims the resource before the call
//! is sent, so a restart, or a retry after an answer that was lost, finds
//! it as this object's; and when AWS answers that it exists (the create
//! happened and its answer was lost, or someone made it meanwhile), the
//! resource is read again and claimed, adopted or refused, never created twice.

use async_trait::async_trait;

use super::Stop;
use crate::api::Ownership;
use crate::aws::{AwsErrorKind, AwsResult};
use crate::controller::error::Result;
use crate::controller::ownership::Claim;
use crate::controller::status::Outcome;

/// How a driver creates its kind's resource.
#[async_trait]
pub trait Creating: Sync {
    type Status: Send + Sync;
    /// What the creation hands back (an ARN, an id).
    type NewResource: Send;
    /// The resource as read again after AWS said it exists.
    type Existing: Send;

    /// The status field that records whose the resource is.
    fn ownership(status: &mut Self::Status) -> &mut Option<Ownership>;
    /// Writes the status, with the claim, before the call is sent.
    async fn write_claim(&self, status: &Self::Status) -> Result<()>;
    async fn create(&self) -> AwsResult<Self::NewResource>;
    /// Reads the resource from AWS itself.
    async fn look(&self) -> Result<Self::Existing, Stop>;
    /// Whose the resource found is.
    fn claim(&self, status: &Self::Status, found: &Self::Existing) -> Claim;
    /// The resource as messages name it.
    fn label(&self) -> String;
}

/// What the creation came to.
pub enum Creation<C: Creating> {
    /// AWS made the resource now.
    NewResource(C::NewResource),
    /// It existed already, and is this object's now (or adopted).
    Found(C::Existing),
}

/// Whether the status holds the claim of a creation whose answer never came
/// back: the resource is this object's to create, and none is recorded. The
/// reconcile that then finds it there finishes that creation, so it reports
/// `Created`, not a correction of drift.
pub fn unfinished(ownership: Option<Ownership>, recorded_arn: Option<&str>) -> bool {
    ownership == Some(Ownership::Created) && recorded_arn.is_none()
}

pub async fn create_then_reclaim<C: Creating>(creating: &C, status: &mut C::Status) -> Result<Creation<C>, Stop> {
    // A resource adopted before stays adopted, whatever a stale read made
    // of it: its object's deletion must release it, never delete it.
    C::ownership(status).get_or_insert(Ownership::Created);
    creating.write_claim(status).await?;
    let exists = match creating.create().await {
        Ok(made) => return Ok(Creation::NewResource(made)),
        Err(err) if err.kind == AwsErrorKind::AlreadyExists => err,
        Err(err) => return Err(err.into()),
    };
    let found = creating.look().await?;
    match creating.claim(status, &found) {
        Claim::Ours => {}
        // NewResource by someone else since the last read, and the spec adopts it.
        Claim::Adoptable => *C::ownership(status) = Some(Ownership::Adopted),
        claim => {
            *C::ownership(status) = None;
            return Err(claim
                .refusal(&creating.label())
                .unwrap_or_else(|| Outcome::stalled(exists.kind.reason(), exists.to_string()))
                .into());
        }
    }
    Ok(Creation::Found(found))
}
