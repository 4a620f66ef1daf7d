//! What re-reconciles a ServiceControlPolicy besides its own spec: the OUs
//! and accounts it targets.

use kube::ResourceExt;
use kube::runtime::Controller;

use crate::api::ServiceControlPolicy;
use crate::controller::Watches;
use crate::controller::aws_account::triggers::seen_by_dependents;
use crate::controller::index::Indexed;

fn targets_ou(name: &str) -> String {
    format!("ou:{name}")
}

fn targets_account(name: &str) -> String {
    format!("account:{name}")
}

impl Indexed for ServiceControlPolicy {
    fn index_keys(&self) -> Vec<String> {
        let targets = &self.spec.targets;
        let ous = targets
            .organizational_units
            .iter()
            .filter_map(|ou| ou.name.as_deref())
            .map(targets_ou);
        let accounts = targets
            .accounts
            .iter()
            .filter_map(|account| account.name.as_deref())
            .map(targets_account);
        ous.chain(accounts).collect()
    }
}

pub fn controller(watches: &Watches) -> Controller<ServiceControlPolicy> {
    let (targeting_ou, targeting_account) = (watches.policies.cache.clone(), watches.policies.cache.clone());
    watches
        .policies
        .controller()
        .watches_shared_stream(watches.ous.subscribe(), move |unit| {
            targeting_ou.refs([targets_ou(&unit.name_any()).as_str()])
        })
        .watches_shared_stream(watches.accounts.changes(seen_by_dependents), move |account| {
            targeting_account.refs([targets_account(&account.name_any()).as_str()])
        })
}
