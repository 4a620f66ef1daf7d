//! Leader election on a `coordination.k8s.io` Lease, so that of several
//! replicas exactly one writes to AWS, and another takes over within the
//! lease duration when the leader dies.

use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::api::{Api, PostParams};
use kube::{Client, ResourceExt};

#[derive(Clone, Debug)]
pub struct LeaseConfig {
    pub namespace: String,
    pub name: String,
    /// This replica's identity (the pod name).
    pub holder: String,
    /// How long a lease not renewed stays the holder's.
    pub duration: Duration,
}

impl LeaseConfig {
    /// Renew well inside the duration, as client-go does (2/3 of it).
    fn renew_every(&self) -> Duration {
        self.duration.mul_f64(2.0 / 3.0)
    }

    /// Candidates retry at a fraction of the duration, so a takeover happens soon after expiry.
    fn retry_every(&self) -> Duration {
        self.duration / 4
    }
}

pub struct Elector {
    api: Api<Lease>,
    config: LeaseConfig,
}

enum Attempt {
    Leading,
    Following,
}

impl Elector {
    pub fn new(client: Client, config: LeaseConfig) -> Self {
        Elector {
            api: Api::namespaced(client, &config.namespace),
            config,
        }
    }

    /// Waits until this replica holds the lease.
    pub async fn acquire(&self) {
        loop {
            match self.try_acquire_or_renew().await {
                Ok(Attempt::Leading) => {
                    tracing::info!(lease = %self.config.name, holder = %self.config.holder, "became the leader");
                    return;
                }
                Ok(Attempt::Following) => {}
                Err(err) => tracing::warn!(%err, "leader election: could not read or write the lease"),
            }
            tokio::time::sleep(self.config.retry_every()).await;
        }
    }

    /// Renews the lease until it is lost; returns then.
    async fn hold(&self) {
        let mut last_renewal = tokio::time::Instant::now();
        loop {
            tokio::time::sleep(self.config.renew_every()).await;
            match self.try_acquire_or_renew().await {
                Ok(Attempt::Leading) => last_renewal = tokio::time::Instant::now(),
                Ok(Attempt::Following) => {
                    tracing::error!(lease = %self.config.name, "lost the lease to another replica");
                    return;
                }
                Err(err) if last_renewal.elapsed() < self.config.duration => {
                    tracing::warn!(%err, "leader election: renewal failed; retrying while the lease lasts");
                }
                Err(err) => {
                    tracing::error!(%err, "leader election: could not renew before the lease expired");
                    return;
                }
            }
        }
    }

    /// Runs `work` once the lease is held (after `acquire`), renewing it
    /// meanwhile, and gives it up when `work` ends. Returns false when the
    /// lease was lost, after which the process must exit: another replica may lead.
    pub async fn lead(&self, work: impl std::future::Future<Output = ()>) -> bool {
        tokio::select! {
            _ = work => {
                self.release().await;
                true
            }
            _ = self.hold() => false,
        }
    }

    /// Gives the lease up on a clean shutdown, so a successor need not wait for it to expire.
    pub async fn release(&self) {
        let Ok(Some(mut lease)) = self.api.get_opt(&self.config.name).await else {
            return;
        };
        let spec = lease.spec.get_or_insert_default();
        if spec.holder_identity.as_deref() != Some(&self.config.holder) {
            return;
        }
        spec.holder_identity = None;
        spec.renew_time = None;
        if let Err(err) = self
            .api
            .replace(&self.config.name, &PostParams::default(), &lease)
            .await
        {
            tracing::warn!(%err, "could not release the lease");
        }
    }

    /// One round of the protocol. Writes carry the resourceVersion read, so
    /// two candidates racing for an expired lease cannot both win.
    async fn try_acquire_or_renew(&self) -> Result<Attempt, kube::Error> {
        let now = Timestamp::now();
        let Some(mut lease) = self.api.get_opt(&self.config.name).await? else {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(self.config.name.clone()),
                    ..ObjectMeta::default()
                },
                spec: Some(self.claim(None, now)),
            };
            return match self.api.create(&PostParams::default(), &lease).await {
                Ok(_) => Ok(Attempt::Leading),
                Err(kube::Error::Api(status)) if status.code == 409 => Ok(Attempt::Following),
                Err(err) => Err(err),
            };
        };
        let spec = lease.spec.clone().unwrap_or_default();
        let mine = spec.holder_identity.as_deref() == Some(&self.config.holder);
        let held_by_other = spec.holder_identity.is_some() && !mine;
        let duration = SignedDuration::from_secs(i64::from(spec.lease_duration_seconds.unwrap_or(0)));
        let expired = spec
            .renew_time
            .as_ref()
            .is_none_or(|renewed| renewed.0 + duration < now);
        if held_by_other && !expired {
            return Ok(Attempt::Following);
        }
        lease.spec = Some(self.claim(Some(&spec), now));
        match self
            .api
            .replace(&lease.name_any(), &PostParams::default(), &lease)
            .await
        {
            Ok(_) => Ok(Attempt::Leading),
            Err(kube::Error::Api(status)) if status.code == 409 => Ok(Attempt::Following),
            Err(err) => Err(err),
        }
    }

    fn claim(&self, previous: Option<&LeaseSpec>, now: Timestamp) -> LeaseSpec {
        let renewing = previous.is_some_and(|p| p.holder_identity.as_deref() == Some(&self.config.holder));
        let transitions = previous.and_then(|p| p.lease_transitions).unwrap_or(0);
        LeaseSpec {
            holder_identity: Some(self.config.holder.clone()),
            lease_duration_seconds: Some(self.config.duration.as_secs().max(1) as i32),
            acquire_time: if renewing {
                previous.and_then(|p| p.acquire_time.clone())
            } else {
                Some(MicroTime(now))
            },
            renew_time: Some(MicroTime(now)),
            lease_transitions: Some(if renewing || previous.is_none() {
                transitions
            } else {
                transitions + 1
            }),
            ..LeaseSpec::default()
        }
    }
}
