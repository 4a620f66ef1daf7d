//! Wiring: one shared watch per kind feeds both the caches reconcilers read
//! and the triggers that re-reconcile dependents, so a reconcile triggered
//! by a change always sees that change in the cache.

pub mod access_approval;
pub mod access_request;
pub mod admission;
pub mod attachments;
pub mod aws_account;
pub mod context;
pub mod cross_account_role;
pub mod developer_group;
pub mod driver;
pub mod error;
pub mod guardrails;
pub mod iam_user;
pub mod index;
mod kind_reconciler;
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
use crate::aws::Aws;
use crate::aws::inventory::Inventoried;
use crate::telemetry::{Metrics, Readiness};
pub use context::{Config, Context, Stores};
use error::Error;
use index::{Cache, Index, Indexed};

/// Objects a shared watch may buffer per subscriber before it waits for them.
const SUBSCRIBER_BUFFER: usize = 1024;

/// One kind's cache, its index and its watch, shared by every controller that needs it.
pub struct KindWatch<K: Indexed> {
    pub cache: Cache<K>,
    writer: reflector::store::Writer<K>,
    index: Arc<Index<K>>,
    /// The objects the watch saw deleted, after they left the cache: a
    /// shared stream passes on no deletion, and an object without a
    /// finalizer (one that only observes) shows no deletion timestamp first.
    deleted: async_broadcast::Sender<Arc<K>>,
    deleted_subscription: async_broadcast::InactiveReceiver<Arc<K>>,
}

impl<K> KindWatch<K>
where
    K: Indexed + DeserializeOwned + Debug,
{
    fn new() -> Self {
        let (reader, writer) = reflector::store_shared(SUBSCRIBER_BUFFER);
        let index = Arc::new(Index::default());
        let (mut deleted, deleted_subscription) = async_broadcast::broadcast(SUBSCRIBER_BUFFER);
        // Sends with no subscriber yet; with one, waits for room rather than
        // dropping a deletion (no overflow), as the shared stream does.
        deleted.set_await_active(false);
        KindWatch {
            cache: Cache::new(reader, index.clone()),
            writer,
            index,
            deleted,
            deleted_subscription: deleted_subscription.deactivate(),
        }
    }

    fn applied(&self) -> ReflectHandle<K> {
        match self.writer.subscribe() {
            Some(handle) => handle,
            None => unreachable!("store_shared always creates a dispatcher"),
        }
    }

    /// Every change to its objects, their deletions included: what
    /// re-reconciles the objects that depend on them.
    pub fn subscribe(&self) -> impl futures::Stream<Item = Arc<K>> + Send + 'static {
        futures::stream::select(self.applied(), self.deleted_subscription.activate_cloned())
    }

    /// Its objects as they change in what `fingerprint` reads, and as they
    /// are deleted: what the objects that depend on them see of them.
    pub fn changes<F: PartialEq + Send + 'static>(
        &self,
        fingerprint: fn(&K) -> F,
    ) -> impl futures::Stream<Item = Arc<K>> + Send + 'static {
        futures::stream::select(
            changed_by(self.applied(), (*self.cache).clone(), fingerprint),
            self.deleted_subscription.activate_cloned(),
        )
    }

    /// A controller triggered by changes to the kind's own specs, reading
    /// its cache. An object gone needs no reconcile: one that cleans up
    /// holds a finalizer until it has.
    pub fn controller(&self) -> Controller<K> {
        Controller::for_shared_stream(
            changed_by(self.applied(), (*self.cache).clone(), spec_or_deletion),
            (*self.cache).clone(),
        )
    }

    /// The watch that fills the index, then the cache, and feeds the subscribers, as a task.
    fn run(self, client: Client) -> impl Future<Output = ()> + Send {
        let index = self.index;
        let deleted = self.deleted;
        guarded_watch::<K>(client)
            .modify(drop_unread_fields)
            .inspect(move |event| {
                if let Ok(event) = event {
                    index.apply(event);
                }
            })
            .reflect_shared(self.writer)
            .for_each(move |event| {
                let deleted = deleted.clone();
                async move {
                    match event {
                        Ok(watcher::Event::Delete(object)) => {
                            // No active subscriber is no error: nothing depends on the kind.
                            let _ = deleted.broadcast_direct(Arc::new(object)).await;
                        }
                        Ok(_) => {}
                        Err(err) => tracing::warn!(%err, kind = %K::kind(&()), "watch failed; retrying with backoff"),
                    }
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
fn drop_unread_fields<K: Resource>(object: &mut K) {
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
fn spec_or_deletion<K: Resource>(object: &K) -> (Option<i64>, bool) {
    (object.meta().generation, object.meta().deletion_timestamp.is_some())
}

/// The objects of `stream` whose `fingerprint` differs from the last one seen.
fn changed_by<K, F>(
    stream: ReflectHandle<K>,
    store: Store<K>,
    fingerprint: fn(&K) -> F,
) -> impl futures::Stream<Item = Arc<K>> + Send
where
    K: Resource<DynamicType = ()> + Clone + Send + Sync + 'static,
    F: PartialEq + Send + 'static,
{
    // Keyed by qualified name, one string, rather than by ObjectRef, four.
    let seen: std::sync::Mutex<std::collections::HashMap<Box<str>, F>> = Default::default();
    stream.filter(move |object| {
        let now = fingerprint(object.as_ref());
        let mut seen = seen.lock().unwrap_or_else(|p| p.into_inner());
        // Forget objects that left the cache, so the map does not grow with every deleted object.
        if seen.len() > 2 * store.len() + 64 {
            seen.retain(|key, _| store.get(&index::reference(key)).is_some());
        }
        let key = index::qualified_name(object.as_ref());
        let changed = seen.get(key.as_str()) != Some(&now);
        if changed {
            seen.insert(key.into_boxed_str(), now);
        }
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

/// How often the not-Ready gauges are recounted from the caches.
const GAUGE_REFRESH: std::time::Duration = std::time::Duration::from_secs(15);

/// Changes to the Secrets opted in as external IDs, as metadata only: which
/// Secret changed is all that triggers a reconcile, and the one a role
/// needs is read when it needs it, so no Secret's data streams through or
/// stays in the operator, and no other Secret is even listed.
pub fn secret_changes(
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

macro_rules! watches {
    ($($field:ident: $kind:ident => $module:ident,)*) => {
        /// Every kind's watch; the controllers' triggers subscribe to them.
        pub struct Watches {
            pub client: Client,
            $(pub $field: KindWatch<crate::api::$kind>,)*
        }

        impl Watches {
            fn new(client: Client) -> Self {
                Watches {
                    client,
                    $($field: KindWatch::new(),)*
                }
            }

            fn stores(&self) -> Stores {
                Stores {
                    $($field: self.$field.cache.clone(),)*
                }
            }

            /// The watches, as one task that runs until the process ends.
            fn run(self) -> impl Future<Output = ()> + Send {
                let client = self.client;
                futures::future::join_all([$(self.$field.run(client.clone()).boxed()),*]).map(drop)
            }

            /// Every kind's controller, from its `triggers`, as one task that
            /// runs until `shutdown` resolves; the reconciles in flight finish first.
            fn controllers(
                &self,
                ctx: &Arc<Context>,
                shutdown: futures::future::Shared<futures::future::BoxFuture<'static, ()>>,
            ) -> impl Future<Output = ()> + Send + use<> {
                futures::future::join_all([
                    $(run_controller($module::triggers::controller(self), ctx.clone(), shutdown.clone()).boxed(),)*
                ])
                .map(drop)
            }
        }
    };
}
crate::kinds::for_each_kind!(watches);

/// Runs every controller until `shutdown` resolves; the reconciles in
/// flight finish first.
pub async fn run(
    client: Client,
    aws: Arc<dyn Aws>,
    config: Config,
    telemetry: Telemetry,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let watches = Watches::new(client.clone());
    let stores = watches.stores();
    let aws = Arc::new(Inventoried::new(aws, config.resync_interval));
    let ctx = Arc::new(Context::new(
        client,
        aws,
        config,
        stores.clone(),
        telemetry.metrics.clone(),
    ));
    let shutdown = futures::future::FutureExt::shared(shutdown.boxed());
    let controllers = watches.controllers(&ctx, shutdown);
    let gauges = async move {
        if !stores.wait_until_ready().await {
            // A cache that never fills means the process is shutting down.
            return;
        }
        telemetry.readiness.set_ready();
        loop {
            stores.count_not_ready(&telemetry.metrics);
            tokio::time::sleep(GAUGE_REFRESH).await;
        }
    };
    tokio::select! {
        _ = gauges => {}
        _ = controllers => {}
        // The watches never end by themselves; the controllers end on shutdown.
        _ = watches.run() => {}
    }
}

#[cfg(test)]
mod testing;
#[cfg(test)]
mod tests;
