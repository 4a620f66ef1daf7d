//! Metrics under the names controller-runtime operators use, so existing
//! dashboards and alerts work unchanged, the small HTTP server for
//! `/metrics`, `/healthz` and `/readyz`, and the logs.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use aws_sdk_iam::config::interceptors::FinalizerInterceptorContextRef;
use aws_sdk_iam::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use tracing::Subscriber;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ControllerLabels {
    controller: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReconcileLabels {
    controller: String,
    result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SeverityLabels {
    severity: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AwsCallLabels {
    service: String,
    operation: String,
    outcome: String,
}

fn reconcile_time_histogram() -> Histogram {
    // controller-runtime's buckets, so its dashboards' quantiles mean the same.
    Histogram::new([
        0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.25, 1.5,
        1.75, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 15.0, 20.0, 25.0, 30.0, 40.0, 50.0, 60.0,
    ])
}

pub struct Metrics {
    registry: Registry,
    reconciles: Family<ReconcileLabels, Counter>,
    reconcile_errors: Family<ControllerLabels, Counter>,
    reconcile_time: Family<ControllerLabels, Histogram, fn() -> Histogram>,
    drift_corrections: Family<ControllerLabels, Counter>,
    not_ready: Family<ControllerLabels, Gauge>,
    aws_calls: Family<AwsCallLabels, Counter>,
    elevations_active: Gauge,
    review_findings: Family<SeverityLabels, Gauge>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        let reconcile_histograms =
            Family::<ControllerLabels, Histogram, fn() -> Histogram>::new_with_constructor(reconcile_time_histogram);
        Metrics {
            reconciles: registered(
                &mut registry,
                "controller_runtime_reconcile",
                "Total number of reconciliations per controller",
            ),
            reconcile_errors: registered(
                &mut registry,
                "controller_runtime_reconcile_errors",
                "Total number of reconciliation errors per controller",
            ),
            reconcile_time: register(
                &mut registry,
                "controller_runtime_reconcile_time_seconds",
                "Length of time per reconciliation per controller",
                reconcile_histograms,
            ),
            drift_corrections: registered(
                &mut registry,
                "awsaccess_drift_corrections",
                "Out-of-band AWS changes reverted, per controller",
            ),
            not_ready: registered(
                &mut registry,
                "awsaccess_objects_not_ready",
                "Objects whose Ready condition is not True, per controller",
            ),
            aws_calls: registered(
                &mut registry,
                "awsaccess_aws_calls",
                "AWS API calls by service, operation and outcome",
            ),
            elevations_active: registered(
                &mut registry,
                "awsaccess_elevations_active",
                "AccessRequests whose grant is in force (phase Active)",
            ),
            review_findings: registered(
                &mut registry,
                "awsaccess_review_findings",
                "Findings of the last security review (what `report` finds), by severity",
            ),
            registry,
        }
    }
}

/// `metric`, registered: the registry keeps a handle sharing its values.
fn register<M: prometheus_client::registry::Metric + Clone>(
    registry: &mut Registry,
    name: &str,
    help: &str,
    metric: M,
) -> M {
    registry.register(name, help, metric.clone());
    metric
}

/// A new metric, registered.
fn registered<M: prometheus_client::registry::Metric + Clone + Default>(
    registry: &mut Registry,
    name: &str,
    help: &str,
) -> M {
    register(registry, name, help, M::default())
}

impl Metrics {
    pub fn reconciled(&self, controller: &str, succeeded: bool, took: Duration) {
        let result = if succeeded { "success" } else { "error" };
        self.reconciles
            .get_or_create(&ReconcileLabels {
                controller: controller.into(),
                result: result.into(),
            })
            .inc();
        if !succeeded {
            self.reconcile_errors
                .get_or_create(&ControllerLabels {
                    controller: controller.into(),
                })
                .inc();
        }
        self.reconcile_time
            .get_or_create(&ControllerLabels {
                controller: controller.into(),
            })
            .observe(took.as_secs_f64());
    }

    pub fn drift_corrected(&self, controller: &str) {
        self.drift_corrections
            .get_or_create(&ControllerLabels {
                controller: controller.into(),
            })
            .inc();
    }

    pub fn set_not_ready(&self, controller: &str, count: usize) {
        self.not_ready
            .get_or_create(&ControllerLabels {
                controller: controller.into(),
            })
            .set(count as i64);
    }

    pub fn set_elevations_active(&self, count: usize) {
        self.elevations_active.set(i64::try_from(count).unwrap_or(i64::MAX));
    }

    /// The last security review's findings of one severity.
    pub fn set_review_findings(&self, severity: &str, count: usize) {
        self.review_findings
            .get_or_create(&SeverityLabels {
                severity: severity.into(),
            })
            .set(i64::try_from(count).unwrap_or(i64::MAX));
    }

    /// An SDK interceptor that counts every AWS call into these metrics.
    pub fn aws_call_counter(self: &Arc<Self>) -> AwsCallCounter {
        AwsCallCounter { metrics: self.clone() }
    }

    pub fn encode(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

/// Counts each AWS operation once it has finished (after its retries), by
/// the HTTP outcome of its last attempt.
#[derive(Clone, Debug)]
pub struct AwsCallCounter {
    metrics: Arc<Metrics>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Intercept for AwsCallCounter {
    fn name(&self) -> &'static str {
        "AwsCallCounter"
    }

    fn read_after_execution(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let (service, operation) = cfg
            .load::<Metadata>()
            .map(|m| (m.service().to_string(), m.name().to_string()))
            .unwrap_or_default();
        let outcome = match context.response().map(|r| r.status().as_u16()) {
            Some(200..=299) => "success",
            Some(400..=499) => "client_error",
            Some(_) => "server_error",
            None => "transport_error",
        };
        self.metrics
            .aws_calls
            .get_or_create(&AwsCallLabels {
                service,
                operation,
                outcome: outcome.into(),
            })
            .inc();
        Ok(())
    }
}

/// Whether the process is ready to serve: its caches have synced.
#[derive(Clone, Default)]
pub struct Readiness(Arc<AtomicBool>);

impl Readiness {
    pub fn set_ready(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    fn is_ready(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

#[derive(Clone)]
struct Endpoints {
    metrics: Arc<Metrics>,
    readiness: Readiness,
}

/// Serves `/metrics`, `/healthz` and `/readyz` on `listener` until the process ends.
pub async fn serve(
    listener: tokio::net::TcpListener,
    metrics: Arc<Metrics>,
    readiness: Readiness,
) -> std::io::Result<()> {
    let endpoints = Endpoints { metrics, readiness };
    let router = Router::new()
        .route(
            "/metrics",
            get(|State(endpoints): State<Endpoints>| async move {
                (
                    [(
                        "content-type",
                        "application/openmetrics-text; version=1.0.0; charset=utf-8",
                    )],
                    endpoints.metrics.encode(),
                )
            }),
        )
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/readyz",
            get(|State(endpoints): State<Endpoints>| async move {
                if endpoints.readiness.is_ready() {
                    (StatusCode::OK, "ok")
                } else {
                    (StatusCode::SERVICE_UNAVAILABLE, "caches not synced")
                }
            }),
        )
        .with_state(endpoints);
    axum::serve(listener, router).await
}

/// Targets whose TRACE lines hold what must not reach a log store (their
/// DEBUG lines outline each call and stay): `aws_smithy_runtime` logs whole
/// requests and responses, bodies (CreateRole's trust policy and its
/// `sts:ExternalId`) and headers (a role session's `x-amz-security-token`);
/// `aws_sigv4` the canonical request, headers and all; `aws_runtime` chunked
/// bodies and profile values; `aws_config` a `credential_process` command
/// line, unredacted. RUST_LOG=trace still shows the rest, kube's and hyper's
/// included, for debugging.
const SECRET_LOGGING_TARGETS: &[&str] = &["aws_smithy_runtime", "aws_sigv4", "aws_runtime", "aws_config"];

/// The log subscriber of `run`: `directives` in RUST_LOG's syntax (`info`
/// when they do not parse), except that SECRET_LOGGING_TARGETS stop at
/// DEBUG whatever they say; lines to `writer`, as text or JSON.
pub fn logs<W>(directives: &str, json: bool, writer: W) -> Box<dyn Subscriber + Send + Sync>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let requested = EnvFilter::try_new(directives).unwrap_or_else(|_| EnvFilter::new("info"));
    // A filter of its own rather than directives added to RUST_LOG's: there a
    // more specific target (`aws_smithy_runtime::client=trace`) would win.
    let capped = Targets::new().with_default(LevelFilter::TRACE).with_targets(
        SECRET_LOGGING_TARGETS
            .iter()
            .map(|target| (*target, LevelFilter::DEBUG)),
    );
    let filtered = tracing_subscriber::registry().with(capped).with(requested);
    let lines = tracing_subscriber::fmt::layer().with_writer(writer);
    if json {
        Box::new(filtered.with(lines.json()))
    } else {
        Box::new(filtered.with(lines))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reconcile_metrics_use_controller_runtime_names() {
        let metrics = Metrics::default();
        metrics.reconciled("CrossAccountRole", true, Duration::from_millis(30));
        metrics.reconciled("CrossAccountRole", false, Duration::from_millis(30));
        metrics.drift_corrected("CrossAccountRole");
        metrics.set_not_ready("DeveloperGroup", 2);
        let text = metrics.encode();
        assert!(
            text.contains(r#"controller_runtime_reconcile_total{controller="CrossAccountRole",result="success"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"controller_runtime_reconcile_errors_total{controller="CrossAccountRole"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"controller_runtime_reconcile_time_seconds_count{controller="CrossAccountRole"} 2"#),
            "{text}"
        );
        assert!(
            text.contains(r#"awsaccess_drift_corrections_total{controller="CrossAccountRole"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"awsaccess_objects_not_ready{controller="DeveloperGroup"} 2"#),
            "{text}"
        );
    }

    #[test]
    fn active_elevations_are_a_gauge() {
        let metrics = Metrics::default();
        metrics.set_elevations_active(3);
        metrics.set_elevations_active(1);
        let text = metrics.encode();
        assert!(text.contains("\nawsaccess_elevations_active 1\n"), "{text}");
    }

    #[derive(Clone, Default)]
    struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("log buffer").extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn request_dumps_stay_out_of_the_logs_even_when_rust_log_names_their_target() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = logs(
            "trace,aws_smithy_runtime::client::orchestrator=trace,aws_sigv4=trace",
            true,
            move || writer.clone(),
        );
        tracing::subscriber::with_default(subscriber, || {
            tracing::trace!(target: "aws_smithy_runtime::client::orchestrator", "transmitting request");
            tracing::trace!(target: "aws_sigv4::http_request::sign", "calculated signing parameters");
            tracing::debug!(target: "aws_smithy_runtime::client::orchestrator", "beginning attempt");
            tracing::trace!(target: "hyper_util::client::legacy::pool", "checkout waiting for idle connection");
        });
        let logs = String::from_utf8(captured.0.lock().expect("log buffer").clone()).expect("utf-8");
        assert!(!logs.contains("transmitting request"), "{logs}");
        assert!(!logs.contains("calculated signing parameters"), "{logs}");
        assert!(logs.contains("beginning attempt"), "{logs}");
        assert!(logs.contains("checkout waiting for idle connection"), "{logs}");
    }
}
