//! The `Reconciler` and `plan`'s `Planned` of a kind whose whole reconcile a
//! driver runs, written once: such a kind has nothing of its own to say
//! about its converge, its cleanup or its plan, only its API scope and (at
//! most) when to look again.

/// `Reconciler` and `Planned` for a kind run by the driver module `$driver` (`owned` or
/// `organization`), `namespaced` or `cluster` scoped. Anything after those
/// (a `next`) goes into the impl as written.
macro_rules! driver_kind_reconciler {
    (@api namespaced, $object:expr, $client:expr) => {
        kube::api::Api::namespaced($client, &kube::ResourceExt::namespace($object).unwrap_or_default())
    };
    (@api cluster, $object:expr, $client:expr) => {
        kube::api::Api::all($client)
    };
    ($kind:ty, $driver:ident, $scope:ident $(, $($more:tt)+)?) => {
        #[async_trait::async_trait]
        impl $crate::controller::driver::Reconciler for $kind {
            fn api(&self, client: kube::Client) -> kube::api::Api<Self> {
                $crate::controller::kind_reconciler::driver_kind_reconciler!(@api $scope, self, client)
            }

            async fn converge(
                &self,
                ctx: &$crate::controller::context::Context,
                api: &kube::api::Api<Self>,
                status: &mut <Self as kube::core::object::HasStatus>::Status,
            ) -> $crate::controller::error::Result<
                $crate::controller::status::Outcome,
                $crate::controller::driver::Stop,
            > {
                $crate::controller::driver::$driver::converge(self, ctx, api, status).await
            }

            async fn cleanup(
                &self,
                ctx: &$crate::controller::context::Context,
                api: &kube::api::Api<Self>,
            ) -> $crate::controller::error::Result<()> {
                $crate::controller::driver::$driver::cleanup(self, ctx, api).await
            }

            /// An object that only observes changes nothing in AWS to undo.
            fn cleans_up(&self) -> bool {
                self.policies().management != $crate::api::ManagementPolicy::Observe
            }

            $($($more)+)?
        }

        #[async_trait::async_trait]
        impl $crate::plan::kinds::Planned for $kind {
            async fn planned(
                &self,
                ctx: &$crate::controller::context::Context,
                source: &str,
            ) -> Vec<$crate::plan::ObjectPlan> {
                vec![$crate::plan::kinds::$driver(self, ctx, source).await]
            }
        }
    };
}
pub(crate) use driver_kind_reconciler;
