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

use crate::on_first_use::OnFirstUse;

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
