//! AWS plumbing below every other crate: the HTTPS client all AWS SDK clients
//! use, their time-outs and retries ([`http`]), clients built on their first call
//! rather than at cold start ([`on_first_use`]), and CloudWatch metrics written as
//! log lines ([`metrics`]). It knows no part of the program: the store, the
//! service and the webhooks build on it.

pub mod http;
pub mod metrics;
pub mod on_first_use;

pub use on_first_use::OnFirstUse;
