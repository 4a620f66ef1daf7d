//! What the integration tests start from; each test binary uses part of it.
#![allow(dead_code)]

pub mod aws;
pub mod fault;
pub mod moto;
pub mod operator;
pub mod process;
pub mod proxy;
pub mod wire;
