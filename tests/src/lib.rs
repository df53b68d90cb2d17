//! Helpers for the integration tests: a tenant with an API key on a fresh store
//! (embedded or moto), and requests sent through the same router the local server
//! and the Lambdas run (`app`); the AWS services on moto (`moto`); a webhook
//! receiver on loopback (`receiver`); faults injected between the code and moto
//! (`faults`); the audit log (`audit`); Stripe events signed by Stripe's library
//! (`stripe`).

#![allow(clippy::expect_used)]

mod app;
mod audit;
pub mod faults;
mod moto;
mod receiver;
mod stripe;

pub use app::*;
pub use audit::*;
pub use moto::*;
pub use receiver::*;
pub use stripe::*;
