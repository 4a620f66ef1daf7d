//! What re-reconciles an OrganizationalUnit besides its own spec: its
//! parent. Its index also answers which OU is Ready with a path.

use kube::ResourceExt;
use kube::runtime::Controller;

use crate::api::OrganizationalUnit;
use crate::controller::Watches;
use crate::controller::index::Indexed;

/// The key of the OUs whose `spec.parent` names `name`.
fn under(name: &str) -> String {
    format!("parent:{name}")
}

/// The key of the OU whose status records `path`.
pub fn at_path(path: &str) -> String {
    format!("path:{path}")
}

impl Indexed for OrganizationalUnit {
    fn index_keys(&self) -> Vec<String> {
        let parent = self.spec.parent.as_ref().and_then(|p| p.name.as_deref()).map(under);
        let path = self.status.as_ref().and_then(|s| s.path.as_deref()).map(at_path);
        parent.into_iter().chain(path).collect()
    }
}

pub fn controller(watches: &Watches) -> Controller<OrganizationalUnit> {
    let children = watches.ous.cache.clone();
    watches
        .ous
        .controller()
        .watches_shared_stream(watches.ous.subscribe(), move |parent| {
            children.refs([under(&parent.name_any()).as_str()])
        })
}
