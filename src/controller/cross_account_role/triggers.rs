//! What re-reconciles a CrossAccountRole besides its own spec: the groups
//! it trusts, a removal from a group that grants it, the end of an
//! AccessRequest for it, the accounts it lives
//! in or trusts, the Secret holding its external ID.

use kube::ResourceExt;
use kube::runtime::Controller;
use kube::runtime::reflector::ObjectRef;

use crate::api::{CrossAccountRole, DeveloperGroup, MemberRemoval};
use crate::controller::access_request;
use crate::controller::aws_account::triggers::seen_by_dependents;
use crate::controller::index::{Indexed, keys};
use crate::controller::{Watches, secret_changes};

impl Indexed for CrossAccountRole {
    fn index_keys(&self) -> Vec<String> {
        let namespace = self.namespace().unwrap_or_default();
        let trust = &self.spec.trust;
        let groups = trust
            .developer_groups
            .iter()
            .map(|group| keys::named("group", group, &namespace));
        let accounts = std::iter::once(&self.spec.account)
            .chain(&trust.accounts)
            .filter_map(keys::account_ref);
        let secret = trust
            .external_id_secret_ref
            .iter()
            .map(|secret| format!("secret:{namespace}/{}", secret.name));
        groups.chain(accounts).chain(secret).collect()
    }
}

/// What a role granted by a group sees of it: when members last left.
fn last_removal(group: &DeveloperGroup) -> Option<MemberRemoval> {
    group.status.as_ref().and_then(|status| status.last_removal.clone())
}

/// The CrossAccountRoles a group's `access` names.
fn granted_roles(group: &DeveloperGroup) -> Vec<ObjectRef<CrossAccountRole>> {
    let namespace = group.namespace().unwrap_or_default();
    group
        .spec
        .access
        .iter()
        .filter_map(|access| access.role.as_ref())
        .map(|role| ObjectRef::new(&role.name).within(role.namespace.as_deref().unwrap_or(&namespace)))
        .collect()
}

pub fn controller(watches: &Watches) -> Controller<CrossAccountRole> {
    let (trusting, in_account, using_secret) = (
        watches.roles.cache.clone(),
        watches.roles.cache.clone(),
        watches.roles.cache.clone(),
    );
    watches
        .roles
        .controller()
        .watches_shared_stream(watches.groups.subscribe(), move |group| {
            trusting.refs([keys::object("group", group.as_ref()).as_str()])
        })
        // A member left: the roles the group grants deny their older sessions at once.
        .watches_shared_stream(watches.groups.changes(last_removal), |group| granted_roles(&group))
        // An elevation ended: the role denies the sessions issued during it at once.
        .watches_shared_stream(watches.requests.changes(access_request::triggers::ended), |request| {
            Some(access_request::triggers::asked_for(&request))
        })
        .watches_shared_stream(watches.accounts.changes(seen_by_dependents), move |account| {
            in_account.refs(keys::account(&account).iter().map(String::as_str))
        })
        .watches_stream(secret_changes(&watches.client), move |secret| {
            using_secret.refs([keys::object("secret", &secret).as_str()])
        })
}
