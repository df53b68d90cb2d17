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

use std::sync::{Arc, OnceLock};

use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;

/// A new client; build it once per process and share it (it pools connections).
pub fn client() -> SharedHttpClient {
    SharedHttpClient::new(OnFirstUse::default())
}

#[derive(Debug, Default, Clone)]
struct OnFirstUse(Arc<OnceLock<SharedHttpClient>>);

impl HttpClient for OnFirstUse {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        self.0
            .get_or_init(|| {
                aws_smithy_http_client::Builder::new()
                    .tls_provider(Provider::Rustls(CryptoMode::Ring))
                    .build_https()
            })
            .http_connector(settings, components)
    }
}
