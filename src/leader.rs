//! Leader election on a `coordination.k8s.io` Lease, so that of several
//! replicas exactly one writes to AWS, and another takes over about one lease
//! duration after the leader stops renewing.
//!
//! The algorithm is client-go's (`tools/leaderelection`). A candidate judges
//! whether the holder's lease has run out by when it last saw the Lease's
//! record change, on its own monotonic clock; the times written in the record
//! come from another node's wall clock and are never compared with ours, so
//! clock skew between nodes cannot depose a leader that keeps renewing. A
//! leader that has not renewed within the renew deadline, which is shorter
//! than the lease duration, stops leading: by then no other replica may take
//! over yet, since each waits a full lease duration after the last change it
//! saw, and that change came no earlier than the renewal the deadline counts
//! from. Every write carries the resourceVersion it was based on, so two
//! candidates racing for the same record cannot both win.

use std::future::Future;
use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::api::{Api, PostParams};
use kube::{Client, ResourceExt};
use tokio::sync::watch;
use tokio::time::Instant;

/// What the leader alone runs, both of them with the organization's keys:
/// the controllers and, beside them, the security review behind
/// `awsaccess_review_findings` (which reads every account and asks IAM for
/// credential reports), so that a standby replica sends nothing to AWS.
/// Ends when the controllers end, on shutdown; dropped with the lease.
pub async fn duties(controllers: impl Future<Output = ()>, review: impl Future<Output = ()>) {
    tokio::select! {
        () = controllers => {}
        () = review => {}
    }
}

/// How long a lease lasts, how soon a leader gives up renewing, and how
/// often replicas try; see [`Timing::new`] for what must hold between them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timing {
    lease_duration: Duration,
    renew_deadline: Duration,
    retry_period: Duration,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TimingError {
    #[error(
        "the lease duration ({0:?}) must be a whole number of seconds, at least 1s: the Lease records it in seconds"
    )]
    LeaseDuration(Duration),
    #[error(
        "the renew deadline ({renew_deadline:?}) must be shorter than the lease duration ({lease_duration:?}): \
         a leader that cannot renew must stop before another replica may take over"
    )]
    RenewDeadline {
        renew_deadline: Duration,
        lease_duration: Duration,
    },
    #[error(
        "the retry period ({retry_period:?}) must be more than zero and shorter than the renew deadline \
         ({renew_deadline:?}): a leader must get to retry a failed renewal before it gives up"
    )]
    RetryPeriod {
        retry_period: Duration,
        renew_deadline: Duration,
    },
}

impl Timing {
    /// Refuses combinations under which two replicas could lead at once or a
    /// leader could never renew in time.
    pub fn new(
        lease_duration: Duration,
        renew_deadline: Duration,
        retry_period: Duration,
    ) -> Result<Timing, TimingError> {
        let whole_seconds = lease_duration.subsec_nanos() == 0 && lease_duration.as_secs() >= 1;
        if !whole_seconds || i32::try_from(lease_duration.as_secs()).is_err() {
            return Err(TimingError::LeaseDuration(lease_duration));
        }
        if renew_deadline >= lease_duration {
            return Err(TimingError::RenewDeadline {
                renew_deadline,
                lease_duration,
            });
        }
        if retry_period.is_zero() || retry_period >= renew_deadline {
            return Err(TimingError::RetryPeriod {
                retry_period,
                renew_deadline,
            });
        }
        Ok(Timing {
            lease_duration,
            renew_deadline,
            retry_period,
        })
    }

    fn lease_duration_seconds(&self) -> i32 {
        // `new` checked that it fits.
        i32::try_from(self.lease_duration.as_secs()).unwrap_or(i32::MAX)
    }
}

/// The wall clock whose time this replica writes into the Lease
/// (`acquireTime`, `renewTime`) for people and tools to read. The election
/// never compares those times with a clock, which is why a skewed one is
/// harmless, and why tests can skew it to prove that.
#[derive(Clone, Copy, Debug, Default)]
pub struct WallClock {
    skew: SignedDuration,
}

impl WallClock {
    /// The system clock, `skew` ahead (behind when negative), as on a node whose clock drifted.
    pub fn skewed(skew: SignedDuration) -> Self {
        WallClock { skew }
    }

    fn now(&self) -> Timestamp {
        let now = Timestamp::now();
        // Only a skew of centuries overflows; the record's times are informational.
        now.checked_add(self.skew).unwrap_or(now)
    }
}

#[derive(Clone, Debug)]
pub struct LeaseConfig {
    pub namespace: String,
    pub name: String,
    /// This replica's identity (the pod name).
    pub holder: String,
    pub timing: Timing,
    pub clock: WallClock,
}

/// The Lease as this replica last read or wrote it, and when that record last changed as seen from here.
struct Observed {
    lease: Lease,
    changed_at: Instant,
}

enum Attempt {
    Leading,
    /// Another replica holds a lease that has not run out by our observation.
    HeldBy(String),
    /// Someone wrote the Lease between our read and our write; the next attempt reads it again.
    Conflict,
}

pub struct Elector {
    api: Api<Lease>,
    config: LeaseConfig,
    observed: Option<Observed>,
    /// When the attempt behind the last successful write began: the leader
    /// counts its renew deadline from there, since the write reached the API
    /// server no earlier, so no other replica can have seen it earlier.
    renewed_at: Option<Instant>,
    leading: watch::Sender<bool>,
}

impl Elector {
    pub fn new(client: Client, config: LeaseConfig) -> Self {
        Elector {
            api: Api::namespaced(client, &config.namespace),
            config,
            observed: None,
            renewed_at: None,
            leading: watch::Sender::new(false),
        }
    }

    /// Whether this replica leads right now: true from `acquire` until the
    /// lease is lost or given up. A replica that stops leading does not lead
    /// again; the process exits.
    pub fn leading(&self) -> watch::Receiver<bool> {
        self.leading.subscribe()
    }

    /// Waits until this replica holds the lease.
    pub async fn acquire(&mut self) {
        let timing = self.config.timing;
        loop {
            let started = Instant::now();
            // A request that hangs must not stop the candidate from trying again.
            match tokio::time::timeout(timing.renew_deadline, self.try_acquire_or_renew()).await {
                Ok(Ok(Attempt::Leading)) => {
                    self.renewed_at = Some(started);
                    self.leading.send_replace(true);
                    tracing::info!(lease = %self.config.name, holder = %self.config.holder, "became the leader");
                    return;
                }
                Ok(Ok(Attempt::HeldBy(holder))) => tracing::debug!(%holder, "the lease is held"),
                Ok(Ok(Attempt::Conflict)) => tracing::debug!("another replica wrote the lease first"),
                Ok(Err(err)) => tracing::warn!(%err, "leader election: could not read or write the lease"),
                Err(_) => {
                    tracing::warn!(timeout = ?timing.renew_deadline, "leader election: the API server did not answer")
                }
            }
            tokio::time::sleep(timing.retry_period).await;
        }
    }

    /// Renews the lease every retry period until it is lost or the renew
    /// deadline passes without a renewal; returns then.
    async fn hold(&mut self, mut renewed_at: Instant) {
        let timing = self.config.timing;
        let mut next = renewed_at + timing.retry_period;
        loop {
            let deadline = renewed_at + timing.renew_deadline;
            tokio::time::sleep_until(next.min(deadline)).await;
            let started = Instant::now();
            if started >= deadline {
                tracing::error!(lease = %self.config.name, "could not renew the lease within the renew deadline");
                return;
            }
            match tokio::time::timeout_at(deadline, self.try_acquire_or_renew()).await {
                Ok(Ok(Attempt::Leading)) => renewed_at = started,
                Ok(Ok(Attempt::HeldBy(holder))) => {
                    tracing::error!(lease = %self.config.name, %holder, "lost the lease to another replica");
                    return;
                }
                Ok(Ok(Attempt::Conflict)) => {
                    tracing::warn!(lease = %self.config.name, "the lease changed under the renewal; reading it again")
                }
                Ok(Err(err)) => {
                    tracing::warn!(%err, "leader election: renewal failed; retrying until the renew deadline")
                }
                Err(_) => {
                    tracing::error!(lease = %self.config.name, "could not renew the lease within the renew deadline");
                    return;
                }
            }
            next = Instant::now() + timing.retry_period;
        }
    }

    /// Runs `work` once the lease is held (after `acquire`), renewing it
    /// meanwhile, and gives it up when `work` ends. Returns false when the
    /// lease was lost, after which the process must exit: another replica may
    /// lead. `work` is dropped the moment the lease is lost.
    pub async fn lead(&mut self, work: impl Future<Output = ()>) -> bool {
        let Some(renewed_at) = self.renewed_at.take() else {
            return false;
        };
        let finished = tokio::select! {
            _ = work => true,
            _ = self.hold(renewed_at) => false,
        };
        self.leading.send_replace(false);
        if finished {
            self.release().await;
        }
        finished
    }

    /// Gives the lease up on a clean shutdown, so a successor need not wait for it to run out.
    async fn release(&mut self) {
        let timing = self.config.timing;
        match tokio::time::timeout(timing.renew_deadline, self.clear_holder()).await {
            Ok(Ok(())) => tracing::info!(lease = %self.config.name, "gave the lease up"),
            Ok(Err(err)) => tracing::warn!(%err, "could not release the lease"),
            Err(_) => tracing::warn!("could not release the lease: the API server did not answer"),
        }
    }

    async fn clear_holder(&self) -> Result<(), kube::Error> {
        let Some(mut lease) = self.api.get_opt(&self.config.name).await? else {
            return Ok(());
        };
        let spec = lease.spec.get_or_insert_default();
        if spec.holder_identity.as_deref() != Some(&self.config.holder) {
            return Ok(());
        }
        spec.holder_identity = None;
        spec.renew_time = None;
        // The resourceVersion read makes this a no-op if another replica took the lease meanwhile.
        self.api
            .replace(&self.config.name, &PostParams::default(), &lease)
            .await
            .map(drop)
    }

    /// One round of the protocol (client-go's `tryAcquireOrRenew`).
    async fn try_acquire_or_renew(&mut self) -> Result<Attempt, kube::Error> {
        let now = self.config.clock.now();
        // The leader renews the record it wrote last without reading it
        // first; a conflict means someone wrote since, so read and judge.
        if let Some(observed) = self.observed.as_ref().filter(|_| self.is_leader()) {
            let mut lease = observed.lease.clone();
            lease.spec = Some(self.record(lease.spec.as_ref(), now));
            match self.write(&lease).await? {
                Attempt::Conflict => {}
                attempt => return Ok(attempt),
            }
        }
        let Some(current) = self.api.get_opt(&self.config.name).await? else {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(self.config.name.clone()),
                    ..ObjectMeta::default()
                },
                spec: Some(self.record(None, now)),
            };
            return match self.api.create(&PostParams::default(), &lease).await {
                Ok(created) => {
                    self.observe(created);
                    Ok(Attempt::Leading)
                }
                Err(kube::Error::Api(status)) if status.code == 409 => Ok(Attempt::Conflict),
                Err(err) => Err(err),
            };
        };
        self.observe(current.clone());
        let spec = current.spec.clone().unwrap_or_default();
        if let Some(holder) = spec.holder_identity.as_deref().filter(|holder| !holder.is_empty())
            && !self.is_leader()
            && self.observed_lease_is_valid()
        {
            return Ok(Attempt::HeldBy(holder.to_owned()));
        }
        let mut lease = current;
        lease.spec = Some(self.record(Some(&spec), now));
        self.write(&lease).await
    }

    /// Replaces the Lease, on condition that its resourceVersion is still the one `lease` carries.
    async fn write(&mut self, lease: &Lease) -> Result<Attempt, kube::Error> {
        match self.api.replace(&lease.name_any(), &PostParams::default(), lease).await {
            Ok(written) => {
                self.observe(written);
                Ok(Attempt::Leading)
            }
            Err(kube::Error::Api(status)) if status.code == 409 => Ok(Attempt::Conflict),
            Err(err) => Err(err),
        }
    }

    /// Remembers `lease`, restarting the expiry clock only if its record changed since last seen.
    fn observe(&mut self, lease: Lease) {
        let unchanged = self.observed.as_ref().is_some_and(|observed| {
            observed.lease.metadata.resource_version == lease.metadata.resource_version
                && observed.lease.spec == lease.spec
        });
        if unchanged {
            return;
        }
        self.observed = Some(Observed {
            lease,
            changed_at: Instant::now(),
        });
    }

    fn observed_spec(&self) -> Option<&LeaseSpec> {
        self.observed.as_ref()?.lease.spec.as_ref()
    }

    fn is_leader(&self) -> bool {
        self.observed_spec()
            .and_then(|spec| spec.holder_identity.as_deref())
            .is_some_and(|holder| holder == self.config.holder)
    }

    /// Whether the holder may still be renewing: less than its lease duration
    /// (as it wrote it) has passed since the record last changed here.
    fn observed_lease_is_valid(&self) -> bool {
        let Some(observed) = &self.observed else {
            return false;
        };
        let seconds = observed
            .lease
            .spec
            .as_ref()
            .and_then(|spec| spec.lease_duration_seconds)
            .map_or(self.config.timing.lease_duration, |seconds| {
                Duration::from_secs(u64::try_from(seconds).unwrap_or(0))
            });
        observed.changed_at.elapsed() < seconds
    }

    fn record(&self, previous: Option<&LeaseSpec>, now: Timestamp) -> LeaseSpec {
        let renewing = previous.is_some_and(|p| p.holder_identity.as_deref() == Some(&self.config.holder));
        let transitions = previous.and_then(|p| p.lease_transitions).unwrap_or(0);
        LeaseSpec {
            holder_identity: Some(self.config.holder.clone()),
            lease_duration_seconds: Some(self.config.timing.lease_duration_seconds()),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn s(secs: u64) -> Duration {
        Duration::from_secs(secs)
    }

    #[test]
    fn the_flags_defaults_client_gos_are_valid() {
        assert!(Timing::new(s(15), s(10), s(2)).is_ok());
    }

    #[test]
    fn a_renew_deadline_not_shorter_than_the_lease_is_refused() {
        for deadline in [s(15), s(20)] {
            let err = Timing::new(s(15), deadline, s(2)).expect_err("refused");
            assert!(matches!(err, TimingError::RenewDeadline { .. }), "{err}");
            assert!(
                err.to_string()
                    .contains("must be shorter than the lease duration (15s)"),
                "{err}"
            );
        }
    }

    #[test]
    fn a_retry_period_not_shorter_than_the_renew_deadline_is_refused() {
        for retry in [s(0), s(10), s(11)] {
            let err = Timing::new(s(15), s(10), retry).expect_err("refused");
            assert!(matches!(err, TimingError::RetryPeriod { .. }), "{err}");
        }
    }

    #[test]
    fn a_lease_duration_the_lease_cannot_record_is_refused() {
        for lease in [Duration::ZERO, Duration::from_millis(1500), s(u64::from(u32::MAX))] {
            let err = Timing::new(lease, Duration::from_millis(500), Duration::from_millis(100)).expect_err("refused");
            assert_eq!(err, TimingError::LeaseDuration(lease));
        }
    }

    #[test]
    fn a_skewed_wall_clock_is_ahead_by_its_skew() {
        let skew = SignedDuration::from_mins(5);
        let ahead = WallClock::skewed(skew).now();
        let drift = ahead.duration_since(Timestamp::now()) - skew;
        assert!(drift.abs() < SignedDuration::from_secs(1), "{drift:?}");
    }
}
