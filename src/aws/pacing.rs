//! Limits on the AWS calls the operator makes: per account, as AWS throttles
//! (IAM's token buckets are per account; Organizations' are the
//! organization's), so that a resync of thousands of objects spreads its
//! calls out rather than spending an account's request budget in a burst
//! that also throttles everyone else working in it.
//!
//! The limits sit in the HTTP client of each account's SDK clients: every
//! attempt, the SDK's retries included, waits for a place among the calls in
//! flight and for the rate. When AWS throttles anyway (other callers share
//! the budget), the call backs off and is retried from that account's own
//! retry budget.

use std::fmt;
use std::num::NonZeroU32;
use std::sync::Arc;

use aws_config::SdkConfig;
use aws_sdk_iam::config::retry::RetryPartition;
use aws_smithy_http_client::tls;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, SharedHttpClient, SharedHttpConnector, http_client_fn,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::sync::Semaphore;

/// How hard the operator may call one account, or Organizations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Calls started per second, on average; as many may start at once
    /// after a quiet second.
    pub calls_per_second: NonZeroU32,
    /// Calls waiting for their answer at once.
    pub in_flight: usize,
}

impl Limits {
    /// IAM publishes no figure: it throttles per account and API with token
    /// buckets that sustain a few tens of calls a second. Twenty leaves room
    /// for the people and tools sharing the account.
    pub const IAM: Limits = Limits {
        calls_per_second: NonZeroU32::new(20).expect("non-zero"),
        in_flight: 8,
    };
    /// Organizations allows a few calls a second per organization for most
    /// of its APIs (fewer for CreateAccount, which the operator sends once).
    pub const ORGANIZATIONS: Limits = Limits {
        calls_per_second: NonZeroU32::new(5).expect("non-zero"),
        in_flight: 4,
    };
}

/// The limits for each service, from the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServiceLimits {
    /// For each account's IAM.
    pub iam: Limits,
    pub organizations: Limits,
}

impl Default for ServiceLimits {
    fn default() -> Self {
        ServiceLimits {
            iam: Limits::IAM,
            organizations: Limits::ORGANIZATIONS,
        }
    }
}

/// The HTTP client the SDK configuration names, or the SDK's default one.
pub fn base_http_client(config: &SdkConfig) -> SharedHttpClient {
    config.http_client().unwrap_or_else(|| {
        aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::AwsLc))
            .build_https()
    })
}

/// `base` with the limits in front of every call it sends; one per account.
pub fn paced(base: SharedHttpClient, limits: Limits) -> SharedHttpClient {
    let pace = Arc::new(Pace {
        rate: RateLimiter::direct(Quota::per_second(limits.calls_per_second)),
        in_flight: Semaphore::new(limits.in_flight.max(1)),
    });
    http_client_fn(move |settings, components| {
        SharedHttpConnector::new(Paced {
            connector: base.http_connector(settings, components),
            pace: pace.clone(),
        })
    })
}

/// Where the SDK keeps an account's retry budget: apart for each account,
/// so that throttling in one account spends only that account's retries.
/// Throttled calls back off exponentially, with jitter (the SDK's standard
/// mode). Its adaptive mode was tried: after a few throttles it slowed an
/// account to a call every few seconds for minutes.
pub fn retry_partition(account: &str) -> RetryPartition {
    RetryPartition::new(format!("account-{account}"))
}

struct Pace {
    rate: DefaultDirectRateLimiter,
    in_flight: Semaphore,
}

struct Paced {
    connector: SharedHttpConnector,
    pace: Arc<Pace>,
}

impl fmt::Debug for Paced {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Paced").field("connector", &self.connector).finish()
    }
}

impl HttpConnector for Paced {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let (connector, pace) = (self.connector.clone(), self.pace.clone());
        HttpConnectorFuture::new(async move {
            // The semaphore is never closed, so acquiring only ever waits.
            let _place = pace.in_flight.acquire().await.ok();
            pace.rate.until_ready().await;
            connector.call(request).await
        })
    }
}
