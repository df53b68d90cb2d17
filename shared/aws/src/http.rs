//! The HTTPS client every AWS SDK client of the project uses: hyper with rustls on
//! `ring` and the system's root certificates, built on its first request.
//!
//! - `ring`, not the SDK's default `aws-lc-rs`: the aws-lc C library was the largest
//!   single part of every function binary (1.3 MiB); `ring` does the same TLS 1.2/1.3
//!   work in a fraction of the size (BENCHMARKS.md). What is given up is the
//!   post-quantum hybrid key exchange that rustls only offers with aws-lc-rs.
//! - Built on first use: the SDK's client reads and parses every root certificate on
//!   the machine when each service client is constructed, and again on the first
//!   request. Deferring it takes that work out of every cold start's init and does it
//!   once, for all the function's clients, when a request first needs it.

use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;

use crate::OnFirstUse;
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;
use std::time::Duration;

/// Time to open a connection to an AWS endpoint.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// Time one attempt of a call may take (DynamoDB answers in milliseconds; a call
/// this slow is stuck, and another attempt has a better chance).
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(1500);
/// Time one call may take, every attempt and back-off included. A request gives up
/// on a dependency after this and answers 503, well inside the API functions'
/// 10-second Lambda time-out (ARCHITECTURE.md has the budget).
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(4);
/// Attempts of one call on throttling, 5xx and time-outs (the SDK's standard mode:
/// exponential back-off with jitter, and a retry quota that stops retry storms).
pub const MAX_ATTEMPTS: u32 = 3;

/// The time-outs of every AWS client of the project.
pub fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .operation_timeout(OPERATION_TIMEOUT)
        .build()
}

/// The retries of every AWS client of the project: short back-offs, because a
/// request waits for them.
pub fn retries() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(MAX_ATTEMPTS)
        .with_initial_backoff(Duration::from_millis(50))
        .with_max_backoff(Duration::from_millis(800))
}

/// A new client; build it once per process and share it (it pools connections).
pub fn client() -> SharedHttpClient {
    SharedHttpClient::new(Deferred(OnFirstUse::new(|| {
        aws_smithy_http_client::Builder::new()
            .tls_provider(Provider::Rustls(CryptoMode::Ring))
            .build_https()
    })))
}

/// The SDK asks an `HttpClient` for a connector per request; this one builds the
/// real client the first time it is asked.
#[derive(Debug, Clone)]
struct Deferred(OnFirstUse<SharedHttpClient>);

impl HttpClient for Deferred {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        self.0.get().http_connector(settings, components)
    }
}
