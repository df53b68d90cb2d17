//! Webhook delivery.
//!
//! [`client`] is the SSRF-safe HTTP client; [`dispatcher`] turns queue messages into
//! signed deliveries, records every attempt and schedules retries; [`local`] runs
//! the same dispatcher in-process for `partnerctl serve`.

pub mod client;
pub mod dispatcher;
pub mod local;

pub use dispatcher::Dispatcher;
