//! The integration tests, one binary: each module is what one part of the
//! operator must do, run against the real thing where it can be had
//! (kube-testserver, moto, helm, the operator's own binary). `support` is what
//! they start from. A module's tests are `<module>::<test>` to nextest, so
//! `cargo nextest run -E 'test(/^iam::/)'` runs one part.

// A test says what it expects by unwrapping it, in its helpers as in its
// body (clippy.toml allows it only in test functions): a panic is a failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

mod accounts;
mod admission;
mod argocd_health;
mod aws_layer;
mod bad_input;
mod chart;
mod crds;
mod demo;
mod deploy;
mod elevation;
mod examples;
mod faults;
mod guardrails;
mod iam;
mod iam_users;
mod image;
mod leader;
mod least_privilege;
mod organizations;
mod partners;
mod plan_report;
mod review;
mod revocation;
mod secrets_on_the_wire;
mod telemetry;
mod tenancy;
