//! What re-reconciles a DeveloperGroup besides its own spec: the roles it
//! grants, and the account it lives in (any AwsAccount, for a group in the
//! identity account, which any of them may be). Its index also answers
//! which group claims an IAM group (`claim`).

use kube::ResourceExt;
use kube::runtime::Controller;

use crate::api::DeveloperGroup;
use crate::controller::Watches;
use crate::controller::aws_account::triggers::seen_by_dependents;
use crate::controller::iam_user::resolve::user_name;
use crate::controller::iam_user::triggers::seen_by_groups;
use crate::controller::index::{Indexed, keys};

/// The key of a group in the identity account (one naming no account).
const IDENTITY_ACCOUNT: &str = "account:";

/// The key of a group naming `user` among its members.
pub fn member_key(user: &str) -> String {
    format!("member:{}", user.to_lowercase())
}

/// The key of the IAM group a DeveloperGroup's status claims.
pub fn claim_key(account_id: &str, group_name: &str) -> String {
    format!("claim:{account_id}/{group_name}")
}

impl Indexed for DeveloperGroup {
    fn index_keys(&self) -> Vec<String> {
        let namespace = self.namespace().unwrap_or_default();
        let roles = self
            .spec
            .access
            .iter()
            .filter_map(|access| access.role.as_ref())
            .map(|role| keys::named("role", role, &namespace));
        let account = match &self.spec.account {
            Some(reference) => keys::account_ref(reference),
            None => Some(IDENTITY_ACCOUNT.to_string()),
        };
        let claim = self.status.as_ref().and_then(|status| {
            status.ownership?;
            Some(claim_key(status.account_id.as_deref()?, status.group_name.as_deref()?))
        });
        let members = self.spec.members.iter().map(|member| member_key(member));
        roles.chain(account).chain(claim).chain(members).collect()
    }
}

pub fn controller(watches: &Watches) -> Controller<DeveloperGroup> {
    let (granting, in_account) = (watches.groups.cache.clone(), watches.groups.cache.clone());
    let naming = watches.groups.cache.clone();
    watches
        .groups
        .controller()
        .watches_shared_stream(watches.roles.subscribe(), move |role| {
            granting.refs([keys::object("role", role.as_ref()).as_str()])
        })
        .watches_shared_stream(watches.accounts.changes(seen_by_dependents), move |account| {
            let keys = keys::account(&account);
            in_account.refs(keys.iter().map(String::as_str).chain([IDENTITY_ACCOUNT]))
        })
        // A member made, disabled (a leaver no group takes back) or enabled again.
        .watches_shared_stream(watches.users.changes(seen_by_groups), move |user| {
            let name = user.status.as_ref().and_then(|s| s.user_name.clone());
            naming.refs([member_key(&name.unwrap_or_else(|| user_name(&user))).as_str()])
        })
}
