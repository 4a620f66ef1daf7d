//! aws-access-operator: cross-account AWS access declared as Kubernetes resources.
#![forbid(unsafe_code)]

pub mod api;
pub mod aws;
pub mod controller;
mod kinds;
pub mod leader;
pub mod plan;
pub mod policy;
pub mod report;
pub mod telemetry;
pub mod webhook;
