//! AwsAccount: a member account of the organization, created through
//! Organizations or adopted by id, then placed in its OU and tagged.
//! CreateAccount is the one call here that cannot be undone and must never
//! run twice: its request id is recorded before anything else happens, and
//! before calling it the reconcile looks for what an earlier run may have
//! created without recording it.

mod apply;
mod observe;
pub(crate) mod plan;
mod resolve;
pub mod triggers;

use async_trait::async_trait;
use kube::Client;
use kube::api::Api;

use super::admission::Admitted;
use super::context::{Config, Context};
use super::driver::{Next, Reconciler, Stop};
use super::error::Result;
use super::status::Outcome;
use crate::api::{AwsAccount, AwsAccountStatus, Reason};
use crate::plan::ObjectPlan;
use crate::plan::kinds::{Planned, settled};
pub use observe::preview;

#[async_trait]
impl Reconciler for AwsAccount {
    fn api(&self, client: Client) -> Api<Self> {
        Api::all(client)
    }

    async fn converge(&self, ctx: &Context, api: &Api<Self>, status: &mut AwsAccountStatus) -> Result<Outcome, Stop> {
        apply::converge(self, ctx, api, status).await
    }

    async fn cleanup(&self, ctx: &Context, api: &Api<Self>) -> Result<()> {
        apply::cleanup(self, ctx, api).await
    }

    fn next(&self, outcome: &Outcome, _status: &Self::Status, config: &Config) -> Next {
        match outcome.reason {
            // Someone may create the OU at any moment: look again soon, then
            // less and less often, without treating a wait as a failure.
            Reason::OrganizationalUnitNotFound => Next::Backoff,
            Reason::Creating => Next::After(config.poll_interval),
            _ => Next::Resync,
        }
    }
}

#[async_trait]
impl Planned for AwsAccount {
    async fn planned(&self, ctx: &Context, source: &str) -> Vec<ObjectPlan> {
        let mut plan = ObjectPlan::of(self, source);
        let status = self.status.clone().unwrap_or_default();
        let laid = async {
            let preview = preview(self, ctx, &status).await?;
            plan::lay_account(&mut plan, self, &preview)
        }
        .await;
        vec![settled(plan, laid)]
    }
}

/// Accounts are the platform team's: nothing a namespace could ask for.
impl Admitted for AwsAccount {}
