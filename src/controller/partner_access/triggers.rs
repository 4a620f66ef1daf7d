//! What re-reconciles a PartnerAccess besides its own spec: its child
//! CrossAccountRoles (their conditions add up to its own) and its external
//! ID's Secret. It looks nothing up by what it names.

use kube::runtime::Controller;

use crate::api::PartnerAccess;
use crate::controller::index::Indexed;
use crate::controller::{Watches, secret_changes};

impl Indexed for PartnerAccess {
    fn index_keys(&self) -> Vec<String> {
        vec![]
    }
}

/// The children come from the roles' shared watch, their deletions
/// included: a child deleted brings its PartnerAccess to make it again.
pub fn controller(watches: &Watches) -> Controller<PartnerAccess> {
    watches
        .partners
        .controller()
        .owns_shared_stream(watches.roles.subscribe())
        .owns_stream(secret_changes(&watches.client))
}
