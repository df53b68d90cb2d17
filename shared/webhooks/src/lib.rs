//! Webhook delivery.
//!
//! [`client`] is the SSRF-safe HTTP client; [`queue`] is the queue webhook work
//! flows through (SQS in Lambda) and the messages on it; [`dispatcher`] turns
//! queue messages into signed deliveries, records every attempt and schedules
//! retries; [`fair`] splits a batch's deliveries fairly among its apps; [`health`]
//! holds back and finally disables endpoints that keep failing; [`local`] runs the
//! same dispatcher in-process for `partnerctl serve`. It builds on the domain, the
//! store and the AWS plumbing, never on the service.

pub mod client;
pub mod dispatcher;
pub mod fair;
pub mod health;
pub mod local;
pub mod queue;

pub use dispatcher::Dispatcher;
