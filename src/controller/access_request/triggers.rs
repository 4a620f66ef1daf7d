//! What re-reconciles an AccessRequest besides its own spec: its approvals, its role (its
//! elevation, its ARN), its IAM user, and any account (tenancy can take a namespace away). Its
//! index answers which requests ask for a role, for the role's Deny on older sessions.

use kube::ResourceExt;
use kube::runtime::Controller;
use kube::runtime::reflector::ObjectRef;

use super::checks::user_key;
use crate::api::{AccessRequest, CrossAccountRole};
use crate::controller::Watches;
use crate::controller::aws_account::triggers::seen_by_dependents;
use crate::controller::iam_user::resolve::user_name;
use crate::controller::index::{Indexed, keys};

/// The key of the requests asking for `role`.
pub fn role_key(role: &CrossAccountRole) -> String {
    keys::object("role", role)
}

impl Indexed for AccessRequest {
    fn index_keys(&self) -> Vec<String> {
        let namespace = self.namespace().unwrap_or_default();
        vec![
            format!("role:{namespace}/{}", self.spec.role.name),
            user_key(&namespace, &self.spec.user),
            "requests".into(),
        ]
    }
}

/// What a role sees of the requests for it: when their access ended.
pub fn ended(request: &AccessRequest) -> Option<k8s_openapi::jiff::Timestamp> {
    request.status.as_ref()?.ended_at.as_ref().map(|at| at.0)
}

/// The role a request asks for.
pub fn asked_for(request: &AccessRequest) -> ObjectRef<CrossAccountRole> {
    ObjectRef::new(&request.spec.role.name).within(&request.namespace().unwrap_or_default())
}

pub fn controller(watches: &Watches) -> Controller<AccessRequest> {
    let (asking, for_user, all) = (
        watches.requests.cache.clone(),
        watches.requests.cache.clone(),
        watches.requests.cache.clone(),
    );
    watches
        .requests
        .controller()
        .watches_shared_stream(watches.approvals.subscribe(), |approval| {
            Some(ObjectRef::new(&approval.spec.request).within(&approval.namespace().unwrap_or_default()))
        })
        .watches_shared_stream(watches.roles.subscribe(), move |role| {
            asking.refs([role_key(role.as_ref()).as_str()])
        })
        .watches_shared_stream(watches.users.subscribe(), move |user| {
            let key = user_key(&user.namespace().unwrap_or_default(), &user_name(&user));
            for_user.refs([key.as_str()])
        })
        // Tenancy: an account that stops allowing a namespace revokes its requests at once.
        .watches_shared_stream(watches.accounts.changes(seen_by_dependents), move |_| {
            all.refs(["requests"])
        })
}
