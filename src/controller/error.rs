//! What a reconcile can fail with. Terminal problems never get here: they
//! become a `Stalled` condition and the reconcile ends well. Only what a
//! retry can fix is an error, requeued with backoff.

use crate::api::Reason;
use crate::aws::AwsError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error("Kubernetes API: {0}")]
    Kube(#[from] kube::Error),
    #[error("finalizer: {0}")]
    Finalizer(#[source] Box<kube::runtime::finalizer::Error<Error>>),
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
            Error::Kube(_) | Error::Finalizer(_) => Reason::KubernetesError,
            Error::Pending { reason, .. } => *reason,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
