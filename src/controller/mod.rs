//! Wiring: one shared watch per kind feeds both the caches reconcilers read
//! and the triggers that re-reconcile dependents, so a reconcile triggered
//! by a change always sees that change in the cache.

pub mod admission;
pub mod attachments;
pub mod aws_account;
pub mod context;
pub mod cross_account_role;
pub mod developer_group;
pub mod driver;
pub mod error;
pub mod guardrails;
pub mod organizational_unit;
pub mod ownership;
pub mod partner_access;
pub mod refs;
pub mod secrets;
pub mod service_control_policy;
pub mod status;
pub mod tags;
pub mod tenancy;

use std::fmt::Debug;
use std::future::Future;
use std::hash::Hash;
use std::sync::Arc;

use futures::{FutureExt, StreamExt};
use k8s_openapi::api::core::v1::Secret;
use kube::api::Api;
use kube::core::PartialObjectMeta;
use kube::runtime::controller::Action;
use kube::runtime::reflector::{self, ReflectHandle, Store};
use kube::runtime::{Controller, WatchStreamExt, watcher};
use kube::{Client, Resource, ResourceExt};
use serde::de::DeserializeOwned;

use crate::api::guard::Guarded;
use crate::api::{
    AwsAccount, CrossAccountRole, DeveloperGroup, OrganizationalUnit, PartnerAccess, ServiceControlPolicy,
};
use crate::aws::Aws;
use crate::aws::inventory::Inventoried;
use crate::telemetry::{Metrics, Readiness};
pub use context::{Config, Context, Stores};
use error::Error;
use status::KindStatus;

/// Objects a shared watch may buffer per subscriber before it waits for them.
const SUBSCRIBER_BUFFER: usize = 1024;

/// One kind's cache and its watch, shared by every controller that needs it.
struct Shared<K: Resource<DynamicType = ()> + Clone + 'static> {
    reader: Store<K>,
    writer: reflector::store::Writer<K>,
}

impl<K> Shared<K>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    K::DynamicType: Eq + Hash + Clone,
{
    fn new() -> Self {
        let (reader, writer) = reflector::store_shared(SUBSCRIBER_BUFFER);
        Shared { reader, writer }
    }

    fn subscribe(&self) -> ReflectHandle<K> {
        match self.writer.subscribe() {
            Some(handle) => handle,
            None => unreachable!("store_shared always creates a dispatcher"),
        }
    }

    /// The watch that fills the cache and feeds the subscribers, as a task.
    fn run(self, client: Client) -> impl Future<Output = ()> + Send {
        guarded_watch::<K>(client)
            .modify(lean)
            .reflect_shared(self.writer)
            .for_each(|event| async move {
                if let Err(err) = event {
                    tracing::warn!(%err, kind = %K::kind(&()), "watch failed; retrying with backoff");
                }
            })
    }
}

/// A kind's watch with each object decoded on its own (`api::guard`), so
/// that no object can fail the list of its kind. One whose fields do not
/// match the kind at all (the API server's schema normally prevents it) is
/// left out of the cache, with a warning naming it.
fn guarded_watch<K>(client: Client) -> impl futures::Stream<Item = Result<watcher::Event<K>, watcher::Error>> + Send
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
{
    watcher(Api::<Guarded<K>>::all(client), watcher::Config::default())
        .default_backoff()
        .filter_map(|event| {
            futures::future::ready(match event {
                Ok(watcher::Event::Apply(object)) => object.readable().map(|o| Ok(watcher::Event::Apply(o))),
                Ok(watcher::Event::InitApply(object)) => object.readable().map(|o| Ok(watcher::Event::InitApply(o))),
                Ok(watcher::Event::Delete(object)) => object.readable().map(|o| Ok(watcher::Event::Delete(o))),
                Ok(watcher::Event::Init) => Some(Ok(watcher::Event::Init)),
                Ok(watcher::Event::InitDone) => Some(Ok(watcher::Event::InitDone)),
                Err(err) => Some(Err(err)),
            })
        })
}

/// The objects `api` lists, each decoded on its own (`api::guard`): one
/// that does not match its kind at all is left out, as the watches leave it.
pub async fn list_guarded<K>(api: &Api<K>, params: &kube::api::ListParams) -> kube::Result<Vec<K>>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug,
{
    let request = kube::core::Request::new(api.resource_url())
        .list(params)
        .map_err(kube::Error::BuildRequest)?;
    let listed: kube::core::ObjectList<Guarded<K>> = api.clone().into_client().request(request).await?;
    Ok(listed.items.into_iter().filter_map(Guarded::readable).collect())
}

/// Drops what no reconcile reads before an object is cached: the field
/// managers and the client-side apply annotation are often larger than the
/// spec itself, and every object of every kind is held in memory.
fn lean<K: Resource>(object: &mut K) {
    let meta = object.meta_mut();
    meta.managed_fields = None;
    if let Some(annotations) = meta.annotations.as_mut() {
        annotations.remove(LAST_APPLIED);
    }
}

const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// What re-reconciles an object when it changes itself: its spec
/// (generation) and the start of its deletion. Its own status writes do
/// not, or every status write would cost a second round of AWS reads; nor
/// does the finalizer it adds, since the driver goes on with the reconcile
/// after adding it. (A plain generation predicate would miss deletions:
/// kube-rs/kube#1768.)
fn spec_or_deletion_changes<K>(stream: ReflectHandle<K>, store: Store<K>) -> impl futures::Stream<Item = Arc<K>> + Send
where
    K: Resource<DynamicType = ()> + Clone + Send + Sync + 'static,
{
    type Fingerprint = (Option<i64>, bool);
    let seen: std::sync::Mutex<std::collections::HashMap<reflector::ObjectRef<K>, Fingerprint>> = Default::default();
    stream.filter(move |object| {
        let fingerprint = (object.meta().generation, object.meta().deletion_timestamp.is_some());
        let mut seen = seen.lock().unwrap_or_else(|p| p.into_inner());
        // Forget objects that left the cache, so the map does not grow with every deleted object.
        if seen.len() > 2 * store.len() + 64 {
            seen.retain(|key, _| store.get(key).is_some());
        }
        let changed = seen.insert(reflector::ObjectRef::from_obj(object.as_ref()), fingerprint) != Some(fingerprint);
        futures::future::ready(changed)
    })
}

/// The shared error policy: retry with per-object exponential backoff and
/// jitter, so a throttled AWS is not hammered.
fn error_policy<K: Resource<DynamicType = ()>>(object: Arc<K>, error: &Error, ctx: Arc<Context>) -> Action {
    let delay = ctx.next_retry(object.as_ref());
    // The request id is what AWS support asks for.
    let request_id = match error {
        Error::Aws(err) => err.request_id.as_deref(),
        _ => None,
    };
    tracing::warn!(kind = %K::kind(&()), object = %object.name_any(), namespace = ?object.namespace(), %error, aws_request_id = ?request_id, ?delay, "reconcile failed; retrying");
    Action::requeue(delay)
}

/// Runs one kind's controller with the driver's reconcile, the shared error
/// policy and controller-runtime's reconcile metrics, until `shutdown`.
fn run_controller<K>(
    controller: Controller<K>,
    ctx: Arc<Context>,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
) -> impl Future<Output = ()>
where
    K: driver::Reconciler,
{
    let kind = K::kind(&());
    let reconcile = move |object: Arc<K>, ctx: Arc<Context>| {
        let started = std::time::Instant::now();
        async move {
            let result = driver::reconcile(object, ctx.clone()).await;
            ctx.metrics.reconciled(&K::kind(&()), result.is_ok(), started.elapsed());
            result
        }
    };
    let limits = kube::runtime::controller::Config::default().concurrency(ctx.config.concurrency);
    controller
        .with_config(limits)
        .graceful_shutdown_on(shutdown)
        .run(reconcile, error_policy, ctx)
        .for_each(move |result| {
            match result {
                Ok(object) => tracing::debug!(%kind, ?object, "reconciled"),
                Err(err) => tracing::debug!(%kind, %err, "reconcile did not complete"),
            }
            futures::future::ready(())
        })
}

/// A controller triggered by changes to a kind's own specs, reading its cache.
fn controller_for<K>(shared: &Shared<K>) -> Controller<K>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
{
    Controller::for_shared_stream(
        spec_or_deletion_changes(shared.subscribe(), shared.reader.clone()),
        shared.reader.clone(),
    )
}

/// How often the not-Ready gauges are recounted from the caches.
const GAUGE_REFRESH: std::time::Duration = std::time::Duration::from_secs(15);

/// Sets the not-Ready gauge of a kind from its cache.
fn count_not_ready<K>(metrics: &Metrics, store: &Store<K>)
where
    K: driver::Reconciler,
{
    let not_ready = store
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

/// Changes to the Secrets opted in as external IDs, as metadata only: which
/// Secret changed is all that triggers a reconcile, and the one a role
/// needs is read when it needs it, so no Secret's data streams through or
/// stays in the operator, and no other Secret is even listed.
fn secret_changes(
    client: &Client,
) -> impl futures::Stream<Item = Result<PartialObjectMeta<Secret>, watcher::Error>> + Send + 'static {
    watcher(
        Api::<PartialObjectMeta<Secret>>::all(client.clone()),
        watcher::Config::default().labels(secrets::EXTERNAL_ID_SELECTOR),
    )
    .default_backoff()
    .touched_objects()
}

/// The installation id: the one given, else the kube-system namespace's
/// UID, which stays as long as the cluster does.
pub async fn installation_id(client: &Client, given: Option<String>) -> anyhow::Result<String> {
    if let Some(given) = given {
        return Ok(given);
    }
    let namespace = Api::<k8s_openapi::api::core::v1::Namespace>::all(client.clone())
        .get("kube-system")
        .await
        .map_err(|err| {
            anyhow::anyhow!(
                "reading the kube-system namespace's UID, the default installation id (or set --installation-id): {err}"
            )
        })?;
    namespace
        .metadata
        .uid
        .ok_or_else(|| anyhow::anyhow!("the kube-system namespace has no UID; set --installation-id"))
}

/// What the operator reports about itself.
#[derive(Clone, Default)]
pub struct Telemetry {
    pub metrics: Arc<Metrics>,
    pub readiness: Readiness,
}

/// Runs every controller until `shutdown` resolves; the reconciles in
/// flight finish first.
pub async fn run(
    client: Client,
    aws: Arc<dyn Aws>,
    config: Config,
    telemetry: Telemetry,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let accounts = Shared::<AwsAccount>::new();
    let roles = Shared::<CrossAccountRole>::new();
    let groups = Shared::<DeveloperGroup>::new();
    let ous = Shared::<OrganizationalUnit>::new();
    let policies = Shared::<ServiceControlPolicy>::new();
    // The partner controller reads its children fresh, so plain watches
    // (which also report deletions) serve it, and of its children only
    // their owner references.
    let (partner_store, partner_writer) = reflector::store();
    let partners = Controller::for_stream(
        guarded_watch::<PartnerAccess>(client.clone())
            .reflect(partner_writer)
            .applied_objects(),
        partner_store.clone(),
    )
    .owns_stream(
        watcher(
            Api::<PartialObjectMeta<CrossAccountRole>>::all(client.clone()),
            watcher::Config::default(),
        )
        .default_backoff()
        .touched_objects(),
    )
    .owns_stream(secret_changes(&client));
    let stores = Stores {
        accounts: accounts.reader.clone(),
        roles: roles.reader.clone(),
        groups: groups.reader.clone(),
        ous: ous.reader.clone(),
        policies: policies.reader.clone(),
        partners: partner_store.clone(),
    };
    let aws = Arc::new(Inventoried::new(aws, config.resync_interval));
    let ctx = Arc::new(Context::new(
        client.clone(),
        aws,
        config,
        stores.clone(),
        telemetry.metrics.clone(),
    ));
    let shutdown = futures::future::FutureExt::shared(Box::pin(shutdown));

    // An account waiting for its OU path is looked at again as soon as an
    // OrganizationalUnit with that path (or id) changes, not at its next backoff.
    let placed_stores = stores.clone();
    let account_controller = controller_for(&accounts).watches_shared_stream(ous.subscribe(), move |unit| {
        refs::accounts_placed_in(&placed_stores, &unit)
    });
    let account_controller = run_controller(account_controller, ctx.clone(), shutdown.clone());

    let ou_stores = stores.clone();
    let ou_controller =
        controller_for(&ous).watches_shared_stream(ous.subscribe(), move |parent| refs::ous_under(&ou_stores, &parent));
    let ou_controller = run_controller(ou_controller, ctx.clone(), shutdown.clone());

    let policy_ou_stores = stores.clone();
    let policy_account_stores = stores.clone();
    let policy_controller = controller_for(&policies)
        .watches_shared_stream(ous.subscribe(), move |unit| {
            refs::policies_targeting_ou(&policy_ou_stores, &unit)
        })
        .watches_shared_stream(accounts.subscribe(), move |account| {
            refs::policies_targeting_account(&policy_account_stores, &account)
        });
    let policy_controller = run_controller(policy_controller, ctx.clone(), shutdown.clone());

    let role_stores = stores.clone();
    let account_stores = stores.clone();
    let secret_stores = stores.clone();
    let role_controller = controller_for(&roles)
        .watches_shared_stream(groups.subscribe(), move |group| {
            refs::roles_trusting(&role_stores, &group)
        })
        .watches_shared_stream(accounts.subscribe(), move |account| {
            refs::roles_in_account(&account_stores, &account)
        })
        .watches_stream(secret_changes(&client), move |secret| {
            refs::roles_using_secret(
                &secret_stores,
                &secret.name_any(),
                &secret.namespace().unwrap_or_default(),
            )
        });
    let role_controller = run_controller(role_controller, ctx.clone(), shutdown.clone());

    let group_stores = stores.clone();
    let group_account_stores = stores.clone();
    let group_controller = controller_for(&groups)
        .watches_shared_stream(roles.subscribe(), move |role| {
            refs::groups_granting(&group_stores, &role)
        })
        .watches_shared_stream(accounts.subscribe(), move |account| {
            refs::groups_in_account(&group_account_stores, &account)
        });
    let group_controller = run_controller(group_controller, ctx.clone(), shutdown.clone());

    let partner_controller = run_controller(partners, ctx.clone(), shutdown.clone());

    let metrics = telemetry.metrics.clone();
    let gauges = async move {
        for store in [
            stores.accounts.wait_until_ready().boxed(),
            stores.roles.wait_until_ready().boxed(),
            stores.groups.wait_until_ready().boxed(),
            stores.ous.wait_until_ready().boxed(),
            stores.policies.wait_until_ready().boxed(),
            partner_store.wait_until_ready().boxed(),
        ] {
            // A cache that never fills means the process is shutting down.
            if store.await.is_err() {
                return;
            }
        }
        telemetry.readiness.set_ready();
        loop {
            count_not_ready(&metrics, &stores.accounts);
            count_not_ready(&metrics, &stores.roles);
            count_not_ready(&metrics, &stores.groups);
            count_not_ready(&metrics, &stores.ous);
            count_not_ready(&metrics, &stores.policies);
            count_not_ready(&metrics, &partner_store);
            tokio::time::sleep(GAUGE_REFRESH).await;
        }
    };

    let watches = futures::future::join5(
        accounts.run(client.clone()),
        roles.run(client.clone()),
        groups.run(client.clone()),
        ous.run(client.clone()),
        policies.run(client.clone()),
    );
    let controllers = futures::future::join3(
        futures::future::join4(
            account_controller,
            role_controller,
            group_controller,
            partner_controller,
        ),
        ou_controller,
        policy_controller,
    );
    tokio::select! {
        _ = gauges => {}
        _ = controllers => {}
        // The watches never end by themselves; the controllers end on shutdown.
        _ = watches => {}
    }
}
