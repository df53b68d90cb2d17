//! The measurements behind BENCHMARKS.md (`make bench`) and the mixed load with its
//! audit (`make stress`); the `partner-bench` binary runs them.

pub mod abuse;
pub mod cold;
pub mod dispatch;
pub mod runtime_api;
pub mod stats;
pub mod stress;
pub mod warm;
