//! What re-reconciles an AwsAccount besides its own spec: the
//! OrganizationalUnit it is placed in, which it may be waiting for. Its
//! index also answers which AwsAccount represents an account id (tenancy).

use kube::runtime::Controller;

use crate::api::{AccountState, AwsAccount, OrganizationalUnit};
use crate::controller::Watches;
use crate::controller::index::{Indexed, keys};

/// The key of accounts placed in an OU, by its path or id as
/// `spec.organizationalUnit` names it.
fn placed_in(placement: &str) -> String {
    format!("ou:{placement}")
}

impl Indexed for AwsAccount {
    fn index_keys(&self) -> Vec<String> {
        let placement = self.spec.organizational_unit.as_deref().map(placed_in);
        keys::account(self).into_iter().chain(placement).collect()
    }
}

/// The keys of the accounts an OU's change concerns: its path and id.
fn placed_in_unit(unit: &OrganizationalUnit) -> Vec<String> {
    let status = unit.status.as_ref();
    [
        status.and_then(|s| s.path.as_deref()),
        status.and_then(|s| s.id.as_deref()),
    ]
    .into_iter()
    .flatten()
    .map(placed_in)
    .collect()
}

/// What the objects working in or trusting an account read of its
/// AwsAccount: its spec (allowed namespaces, access role, guardrails), the
/// start of its deletion, the account id and state AWS gave it. Its other
/// status changes (conditions, its OU) re-reconcile none of them.
pub fn seen_by_dependents(account: &AwsAccount) -> (Option<i64>, bool, Option<String>, Option<AccountState>) {
    let status = account.status.as_ref();
    (
        account.metadata.generation,
        account.metadata.deletion_timestamp.is_some(),
        status.and_then(|s| s.account_id.clone()),
        status.and_then(|s| s.state),
    )
}

pub fn controller(watches: &Watches) -> Controller<AwsAccount> {
    let placed = watches.accounts.cache.clone();
    watches
        .accounts
        .controller()
        .watches_shared_stream(watches.ous.subscribe(), move |unit| {
            placed.refs(placed_in_unit(&unit).iter().map(String::as_str))
        })
}
