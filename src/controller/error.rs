//! What a reconcile can fail with. Terminal problems never get here: they
//! become a `Stalled` condition and the reconcile ends well. Only what a
//! retry can fix is an error, requeued with backoff.

use kube::{Resource, ResourceExt};

use crate::api::Reason;
use crate::aws::AwsError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Aws(#[from] AwsError),
    /// A call to the API server, named by what it was for: ten different
    /// calls would otherwise read the same in a log.
    #[error("{action}: {source}")]
    Kube {
        action: String,
        #[source]
        source: kube::Error,
    },
    /// Something under way in AWS must finish first, such as an account
    /// still being created when its object is deleted with `deletionPolicy: Close`.
    #[error("{message}")]
    Pending { reason: Reason, message: String },
}

impl Error {
    /// The condition reason users see while the operator retries.
    pub fn reason(&self) -> Reason {
        match self {
            Error::Aws(err) => err.kind.reason(),
            Error::Kube { .. } => Reason::KubernetesError,
            Error::Pending { reason, .. } => *reason,
        }
    }

    /// The API server's answer, when the call reached it and it refused.
    pub fn api_status(&self) -> Option<&kube::core::Status> {
        match self {
            Error::Kube {
                source: kube::Error::Api(status),
                ..
            } => Some(status),
            _ => None,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Names the Kubernetes call a result came from: `.doing(|| ...)`.
pub trait KubeContext<T> {
    fn doing(self, action: impl FnOnce() -> String) -> Result<T>;
}

impl<T> KubeContext<T> for kube::Result<T> {
    fn doing(self, action: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|source| Error::Kube {
            action: action(),
            source,
        })
    }
}

/// An object as messages name it: `CrossAccountRole alfie/full-access`.
pub fn named<K: Resource<DynamicType = ()>>(object: &K) -> String {
    match object.namespace() {
        Some(namespace) => format!("{} {namespace}/{}", K::kind(&()), object.name_any()),
        None => format!("{} {}", K::kind(&()), object.name_any()),
    }
}
