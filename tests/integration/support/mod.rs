//! What the integration tests start from: moto, kube-testserver and the
//! operator, started for a test, and ways to fault the wire between them.

pub mod aws;
pub mod fault;
pub mod kube_wire;
pub mod moto;
pub mod operator;
pub mod process;
pub mod proxy;
pub mod webhook;
pub mod wire;
