//! What re-reconciles an IamUser besides its own spec: the account it
//! lives in (any AwsAccount, for a user in the identity account, which any
//! of them may be). Its index also answers which IamUser holds an IAM user,
//! for the DeveloperGroups that must not take a leaver back.

use kube::ResourceExt;
use kube::runtime::Controller;

use crate::api::{DeletionPolicy, IamUser, UserState};
use crate::controller::Watches;
use crate::controller::access_request;
use crate::controller::aws_account::triggers::seen_by_dependents;
use crate::controller::context::Stores;
use crate::controller::iam_user::resolve::user_name;
use crate::controller::index::{Indexed, keys};

/// The key of a user in the identity account (one naming no account).
const IDENTITY_ACCOUNT: &str = "account:";

/// The key of the IAM user an IamUser's status holds.
pub fn held_key(account_id: &str, user_name: &str) -> String {
    format!("iam-user:{account_id}/{}", user_name.to_lowercase())
}

impl Indexed for IamUser {
    fn index_keys(&self) -> Vec<String> {
        let account = match &self.spec.account {
            Some(reference) => keys::account_ref(reference),
            None => Some(IDENTITY_ACCOUNT.to_string()),
        };
        let held = self.status.as_ref().and_then(|status| {
            status.ownership?;
            Some(held_key(status.account_id.as_deref()?, status.user_name.as_deref()?))
        });
        let named = access_request::checks::user_key(&self.namespace().unwrap_or_default(), &user_name(self));
        account.into_iter().chain(held).chain([named]).collect()
    }
}

/// Whether the IAM user `name` in `account_id` is held by an IamUser of a
/// leaver: one that says it is `Disabled`, or one being deleted with its
/// user (its cleanup takes the user out of its groups, which must not put
/// it back meanwhile). No group takes a leaver back.
pub fn leaving(stores: &Stores, account_id: &str, name: &str) -> bool {
    stores
        .users
        .refs([held_key(account_id, name).as_str()])
        .iter()
        .filter_map(|reference| stores.users.get(reference))
        .any(|user| {
            let deleted_with_user =
                user.metadata.deletion_timestamp.is_some() && user.spec.deletion_policy == DeletionPolicy::Delete;
            (user.spec.state == UserState::Disabled || deleted_with_user)
                && user.status.as_ref().is_some_and(|status| {
                    status.account_id.as_deref() == Some(account_id)
                        && status
                            .user_name
                            .as_deref()
                            .is_some_and(|held| held.eq_ignore_ascii_case(name))
                })
        })
}

/// What a DeveloperGroup sees of an IamUser: which user it holds where, and in what state.
pub fn seen_by_groups(user: &IamUser) -> (Option<String>, Option<String>, bool, UserState, bool) {
    let status = user.status.as_ref();
    (
        status.and_then(|s| s.account_id.clone()),
        status.and_then(|s| s.user_name.clone()),
        status.is_some_and(|s| s.ownership.is_some()),
        user.spec.state,
        user.metadata.deletion_timestamp.is_some(),
    )
}

pub fn controller(watches: &Watches) -> Controller<IamUser> {
    let in_account = watches.users.cache.clone();
    watches
        .users
        .controller()
        .watches_shared_stream(watches.accounts.changes(seen_by_dependents), move |account| {
            let keys = keys::account(&account);
            in_account.refs(keys.iter().map(String::as_str).chain([IDENTITY_ACCOUNT]))
        })
}
