//! What re-reconciles a CrossAccountRole besides its own spec: the groups
//! it trusts, the accounts it lives in or trusts, the Secret holding its
//! external ID.

use kube::ResourceExt;
use kube::runtime::Controller;

use crate::api::CrossAccountRole;
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
        .watches_shared_stream(watches.accounts.changes(seen_by_dependents), move |account| {
            in_account.refs(keys::account(&account).iter().map(String::as_str))
        })
        .watches_stream(secret_changes(&watches.client), move |secret| {
            using_secret.refs([keys::object("secret", &secret).as_str()])
        })
}
