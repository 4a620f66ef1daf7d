//! What every reconciler is handed: clients, caches and settings, and
//! nothing else, so tests inject their own.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::api::core::v1::Secret;
use kube::Client;
use kube::api::Api;
use kube::core::object::HasStatus;
use kube::runtime::events::{Recorder, Reporter};
use kube::runtime::reflector::ObjectRef;

use super::error::{KubeContext, Result};
use super::index::{Cache, Indexed};
use super::status::KindStatus;

use crate::aws::Aws;
use crate::telemetry::Metrics;

/// Settings from the command line.
#[derive(Clone, Debug)]
pub struct Config {
    /// How often an object in sync is checked against AWS for drift.
    pub resync_interval: Duration,
    /// The role assumed inside accounts referenced by id, or whose AwsAccount names none.
    pub default_access_role: String,
    /// First retry delay after a retryable failure; doubles per failure.
    pub retry_base: Duration,
    /// Longest delay between retries.
    pub retry_max: Duration,
    /// How often a running CreateAccount is polled (AWS takes minutes).
    pub poll_interval: Duration,
    /// Reconciles of one kind running at once.
    pub concurrency: u16,
    /// Names this installation in the owner tags, so that two clusters
    /// sharing an organization never take each other's resources.
    pub installation_id: String,
    /// This replica's name (its pod's), which the Events it records carry.
    pub instance: Option<String>,
    /// How long a role session lives, for how long a Deny on sessions issued
    /// before a member left stays: None (always, outside tests) takes each
    /// role's maxSessionDuration, which AWS enforces (an hour at least);
    /// tests set seconds to see the Deny lifted.
    pub session_lifetime: Option<Duration>,
    /// The shortest window an AccessRequest may ask for: None (always,
    /// outside tests) is 15 minutes, the shortest role session AWS issues;
    /// tests set seconds to see an elevation expire.
    pub shortest_elevation: Option<Duration>,
    /// What the role sessions of the writes in member accounts are named
    /// for, which CloudTrail shows as the caller.
    pub write_sessions: WriteSessions,
    /// Whether this operator serves the admission webhooks (`--webhook-cert-dir`),
    /// the only record of who asked for and who approved an AccessRequest
    /// that a tenant cannot write: without them nothing is granted.
    pub admission_webhooks: bool,
}

/// Whom the role session of a write in a member account names.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum WriteSessions {
    /// `namespace.name` of the object that asked: CloudTrail shows the
    /// object behind every write; one AssumeRole per object written.
    #[default]
    Object,
    /// The namespace of the object that asked: CloudTrail shows the tenant
    /// behind every write; one AssumeRole per namespace and account an hour.
    Namespace,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            resync_interval: Duration::from_secs(600),
            default_access_role: "OrganizationAccountAccessRole".into(),
            retry_base: Duration::from_secs(2),
            retry_max: Duration::from_secs(300),
            poll_interval: Duration::from_secs(10),
            concurrency: 16,
            installation_id: "default".into(),
            instance: None,
            session_lifetime: None,
            shortest_elevation: None,
            write_sessions: WriteSessions::default(),
            admission_webhooks: false,
        }
    }
}

macro_rules! stores {
    ($($field:ident: $kind:ident => $module:ident,)*) => {
        /// The caches every reconciler reads referenced objects from, with their indexes.
        #[derive(Clone)]
        pub struct Stores {
            $(pub $field: Cache<crate::api::$kind>,)*
        }

        impl Stores {
            /// Caches that hold nothing, to fill some of.
            pub fn empty() -> Self {
                Stores {
                    $($field: Cache::of([]),)*
                }
            }

            /// Waits until every cache holds its first list; false if one never will.
            pub async fn wait_until_ready(&self) -> bool {
                $(self.$field.wait_until_ready().await.is_ok())&&*
            }

            /// Sets each kind's not-Ready gauge from its cache, and the active elevations'.
            pub fn count_not_ready(&self, metrics: &Metrics) {
                $(count_not_ready(metrics, &self.$field);)*
                metrics.set_elevations_active(self.active_elevations());
            }
        }
    };
}
crate::kinds::for_each_kind!(stores);

impl Stores {
    /// AccessRequests whose grant is in force.
    fn active_elevations(&self) -> usize {
        let active = |request: &Arc<crate::api::AccessRequest>| {
            request.status.as_ref().and_then(|status| status.phase) == Some(crate::api::AccessPhase::Active)
        };
        self.requests.state().iter().filter(|request| active(request)).count()
    }
}

fn count_not_ready<K>(metrics: &Metrics, cache: &Cache<K>)
where
    K: Indexed + HasStatus<Status: KindStatus>,
{
    let not_ready = cache
        .state()
        .iter()
        .filter(|object| {
            !object
                .status()
                .is_some_and(|status| status.reconcile().is_ready_at(object.meta().generation))
        })
        .count();
    metrics.set_not_ready(&K::kind(&()), not_ready);
}

pub struct Context {
    pub client: Client,
    pub aws: Arc<dyn Aws>,
    pub config: Config,
    pub stores: Stores,
    pub recorder: Recorder,
    pub metrics: Arc<Metrics>,
    /// Consecutive failures per object, for exponential backoff.
    failures: Mutex<HashMap<String, u32>>,
    /// Secrets that stand in for the cluster's of the same name: those in
    /// the files `plan` reads. Empty for the controllers.
    secrets: Vec<Secret>,
}

impl Context {
    pub fn new(client: Client, aws: Arc<dyn Aws>, config: Config, stores: Stores, metrics: Arc<Metrics>) -> Self {
        let reporter = Reporter {
            controller: "aws-access-operator".into(),
            instance: config.instance.clone(),
        };
        Context {
            recorder: Recorder::new(client.clone(), reporter),
            client,
            aws,
            config,
            stores,
            metrics,
            failures: Mutex::default(),
            secrets: vec![],
        }
    }

    /// The same, with `secrets` read before the cluster's.
    pub fn with_secrets(self, secrets: Vec<Secret>) -> Self {
        Context { secrets, ..self }
    }

    /// A Secret, read when needed rather than cached: the operator keeps no
    /// Secret data in memory.
    pub async fn secret(&self, namespace: &str, name: &str) -> Result<Option<Secret>> {
        let given = self
            .secrets
            .iter()
            .find(|s| s.metadata.name.as_deref() == Some(name) && s.metadata.namespace.as_deref() == Some(namespace));
        if let Some(secret) = given {
            return Ok(Some(secret.clone()));
        }
        Api::<Secret>::namespaced(self.client.clone(), namespace)
            .get_opt(name)
            .await
            .doing(|| format!("reading Secret {namespace}/{name}"))
    }

    /// The delay before the next retry of `object`: doubling from
    /// `retry_base` up to `retry_max`, with up to 20% jitter so that many
    /// objects throttled together do not retry together.
    pub fn next_retry<K: kube::Resource<DynamicType = ()>>(&self, object: &K) -> Duration {
        let key = ObjectRef::from_obj(object).to_string();
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let count = failures.entry(key).or_insert(0);
        *count = count.saturating_add(1);
        let exponential = self.config.retry_base.saturating_mul(1u32 << (*count - 1).min(16));
        let delay = exponential.min(self.config.retry_max);
        let jitter = delay.mul_f64(rand::random::<f64>() * 0.2);
        delay + jitter
    }

    pub fn succeeded<K: kube::Resource<DynamicType = ()>>(&self, object: &K) {
        let key = ObjectRef::from_obj(object).to_string();
        self.failures.lock().unwrap_or_else(|p| p.into_inner()).remove(&key);
    }
}
