//! What re-reconciles an AccessApproval besides its own spec: its request. Its index answers
//! which approvals a request has.

use kube::ResourceExt;
use kube::runtime::Controller;

use crate::api::AccessApproval;
use crate::controller::Watches;
use crate::controller::access_request::resolve::request_key;
use crate::controller::index::Indexed;

impl Indexed for AccessApproval {
    fn index_keys(&self) -> Vec<String> {
        vec![request_key(&self.namespace().unwrap_or_default(), &self.spec.request)]
    }
}

pub fn controller(watches: &Watches) -> Controller<AccessApproval> {
    let deciding = watches.approvals.cache.clone();
    watches
        .approvals
        .controller()
        .watches_shared_stream(watches.requests.subscribe(), move |request| {
            let key = request_key(&request.namespace().unwrap_or_default(), &request.name_any());
            deciding.refs([key.as_str()])
        })
}
