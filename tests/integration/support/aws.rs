//! Reading AWS back the way a user would check it: with the SDK, straight
//! from moto, never through the operator.

use std::collections::BTreeSet;

use aws_access_operator::policy::document::decode_aws_document;
use serde_json::Value;

use super::operator::Env;

/// IAM in the identity account: the operator's own (moto's default credentials).
pub async fn identity_iam(env: &Env) -> aws_sdk_iam::Client {
    aws_sdk_iam::Client::new(&env.moto.sdk_config().await)
}

pub async fn create_users(env: &Env, users: &[&str]) {
    let iam = identity_iam(env).await;
    for user in users {
        iam.create_user().user_name(*user).send().await.expect("CreateUser");
    }
}

/// The trust policy of role `name` in `account`, or None when there is no such role.
pub async fn trust_of(env: &Env, account: &str, name: &str) -> Option<Value> {
    let iam = env.moto.member_iam(account).await;
    match iam.get_role().role_name(name).send().await {
        Ok(found) => {
            let role = found.role.expect("role");
            Some(decode_aws_document(role.assume_role_policy_document().expect("trust")).expect("trust json"))
        }
        Err(err) if err.as_service_error().is_some_and(|e| e.is_no_such_entity_exception()) => None,
        Err(err) => panic!("GetRole: {err:?}"),
    }
}

/// Every principal the trust policy's Allow statements name.
pub fn trusted_principals(trust: &Value) -> BTreeSet<String> {
    let statements = trust["Statement"].as_array().cloned().unwrap_or_default();
    statements
        .iter()
        .filter(|statement| statement["Effect"] == "Allow")
        .flat_map(|statement| match &statement["Principal"]["AWS"] {
            Value::String(one) => vec![one.clone()],
            Value::Array(many) => many.iter().filter_map(|p| p.as_str().map(String::from)).collect(),
            other => panic!("unexpected principal {other}"),
        })
        .collect()
}

/// Whether a Deny on everyone overrides whatever the trust allows.
pub fn denies_everyone(trust: &Value) -> bool {
    trust["Statement"].as_array().is_some_and(|statements| {
        statements
            .iter()
            .any(|s| s["Effect"] == "Deny" && s["Principal"]["AWS"] == "*")
    })
}

/// The members of group `name` in the identity account, or None when there is no such group.
pub async fn group_members(env: &Env, name: &str) -> Option<BTreeSet<String>> {
    let group = identity_iam(env).await.get_group().group_name(name).send().await.ok()?;
    Some(group.users().iter().map(|u| u.user_name().to_string()).collect())
}

/// The managed policy ARNs attached to group `name` in the identity account.
pub async fn group_attached_policies(env: &Env, name: &str) -> BTreeSet<String> {
    let attached = identity_iam(env)
        .await
        .list_attached_group_policies()
        .group_name(name)
        .send()
        .await
        .expect("ListAttachedGroupPolicies");
    attached
        .attached_policies()
        .iter()
        .filter_map(|p| p.policy_arn().map(str::to_owned))
        .collect()
}

/// The role ARNs the group's inline policy lets its members assume (empty: no policy).
pub async fn assumable_roles(env: &Env, group: &str, policy: &str) -> BTreeSet<String> {
    let iam = identity_iam(env).await;
    let Ok(found) = iam
        .get_group_policy()
        .group_name(group)
        .policy_name(policy)
        .send()
        .await
    else {
        return BTreeSet::new();
    };
    let document = decode_aws_document(found.policy_document()).expect("policy json");
    document["Statement"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|statement| match &statement["Resource"] {
            Value::String(one) => vec![one.clone()],
            Value::Array(many) => many.iter().filter_map(|r| r.as_str().map(String::from)).collect(),
            _ => vec![],
        })
        .collect()
}

/// The moment before which role `name` in `account` denies its sessions
/// (its inline policy `awsaccess-revoke-older-sessions`), or None without one.
pub async fn sessions_denied_before(env: &Env, account: &str, name: &str) -> Option<String> {
    let iam = env.moto.member_iam(account).await;
    let found = match iam
        .get_role_policy()
        .role_name(name)
        .policy_name("awsaccess-revoke-older-sessions")
        .send()
        .await
    {
        Ok(found) => found,
        Err(err) if err.as_service_error().is_some_and(|e| e.is_no_such_entity_exception()) => return None,
        Err(err) => panic!("GetRolePolicy: {err:?}"),
    };
    let document = decode_aws_document(found.policy_document()).expect("policy json");
    let statement = &document["Statement"][0];
    assert_eq!(
        (&statement["Effect"], &statement["Action"]),
        (&"Deny".into(), &serde_json::json!(["*"]))
    );
    statement["Condition"]["DateLessThan"]["aws:TokenIssueTime"]
        .as_str()
        .map(String::from)
}
