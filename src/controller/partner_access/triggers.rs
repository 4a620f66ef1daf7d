//! What re-reconciles a PartnerAccess besides its own spec: its child
//! CrossAccountRoles (their conditions add up to its own) and its external
//! ID's Secret. It looks nothing up by what it names.

use kube::api::Api;
use kube::core::PartialObjectMeta;
use kube::runtime::{Controller, WatchStreamExt, watcher};

use crate::api::{CrossAccountRole, PartnerAccess};
use crate::controller::index::Indexed;
use crate::controller::{Watches, secret_changes};

impl Indexed for PartnerAccess {
    fn index_keys(&self) -> Vec<String> {
        vec![]
    }
}

/// The children are watched as metadata only: their owner reference is
/// all that says which PartnerAccess to look at, which reads them fresh. A
/// watch of their own rather than the roles' shared one, which passes on no
/// deletion: a child deleted must bring its PartnerAccess to make it again.
pub fn controller(watches: &Watches) -> Controller<PartnerAccess> {
    let children = watcher(
        Api::<PartialObjectMeta<CrossAccountRole>>::all(watches.client.clone()),
        watcher::Config::default(),
    )
    .default_backoff()
    .touched_objects();
    watches
        .partners
        .controller()
        .owns_stream(children)
        .owns_stream(secret_changes(&watches.client))
}
