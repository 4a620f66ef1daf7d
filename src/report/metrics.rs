//! The review as the operator runs it for alerts: `review`, the function
//! `report` prints, run every interval, its finding counts by severity
//! exported as `awsaccess_review_findings`. The interval is no shorter
//! than the credential report's life, so each run reads a report IAM
//! already has or makes one it would have made anyway.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::jiff::Timestamp;

use super::{ClusterView, ReviewOptions, Severity, review};
use crate::aws::Aws;
use crate::telemetry::Metrics;

/// Reviews now and then every `interval`, until the task is dropped.
pub async fn keep_counted(
    aws: Arc<dyn Aws>,
    client: kube::Client,
    mut options: ReviewOptions,
    metrics: Arc<Metrics>,
    interval: Duration,
) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        options.thresholds.now = Timestamp::now();
        let cluster = ClusterView::read(Ok(client.clone())).await;
        match review(aws.as_ref(), &cluster, &options).await {
            Ok(report) => {
                for severity in Severity::ALL {
                    let count = report.findings.iter().filter(|f| f.severity == severity).count();
                    metrics.set_review_findings(severity.as_str(), count);
                }
                tracing::info!(findings = report.findings.len(), "security review done");
            }
            // The last counts stay: an alert on them keeps firing until a review says otherwise.
            Err(err) => tracing::warn!(
                err = format!("{err:#}"),
                "security review failed; trying again next interval"
            ),
        }
    }
}
