//! The `Reconciler` of a kind whose whole reconcile a driver runs, written
//! once per driver: such a kind has nothing of its own to say about its API
//! scope, its converge or its cleanup, only (at most) when to look again.

/// `Reconciler` for a namespaced kind the `owned` driver runs. Anything
/// after the kind (a `next`) goes into the impl as written.
macro_rules! owned_kind_reconciler {
    ($kind:ty $(, $($more:tt)+)?) => {
        #[async_trait::async_trait]
        impl $crate::controller::driver::Reconciler for $kind {
            fn api(&self, client: kube::Client) -> kube::api::Api<Self> {
                kube::api::Api::namespaced(client, &kube::ResourceExt::namespace(self).unwrap_or_default())
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
                $crate::controller::driver::owned::converge(self, ctx, api, status).await
            }

            async fn cleanup(
                &self,
                ctx: &$crate::controller::context::Context,
                _api: &kube::api::Api<Self>,
            ) -> $crate::controller::error::Result<()> {
                $crate::controller::driver::owned::cleanup(self, ctx).await
            }

            $($($more)+)?
        }
    };
}
pub(crate) use owned_kind_reconciler;

/// `Reconciler` for a cluster-scoped kind the `organization` driver runs.
macro_rules! org_owned_kind_reconciler {
    ($kind:ty) => {
        #[async_trait::async_trait]
        impl $crate::controller::driver::Reconciler for $kind {
            fn api(&self, client: kube::Client) -> kube::api::Api<Self> {
                kube::api::Api::all(client)
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
                $crate::controller::driver::organization::converge(self, ctx, api, status).await
            }

            async fn cleanup(
                &self,
                ctx: &$crate::controller::context::Context,
                api: &kube::api::Api<Self>,
            ) -> $crate::controller::error::Result<()> {
                $crate::controller::driver::organization::cleanup(self, ctx, api).await
            }
        }
    };
}
pub(crate) use org_owned_kind_reconciler;
