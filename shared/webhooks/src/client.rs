//! The HTTP client webhooks go out through, safe against SSRF.
//!
//! Every address a host name resolves to is checked by the resolver the client
//! connects with, so the address checked is the address connected to (DNS
//! rebinding cannot swap it afterwards); IP-literal URLs are checked before the
//! request. Redirects are never followed, and each attempt has a time-out.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use partner_aws::OnFirstUse;
use partner_domain::webhooks::{Attempt, WebhookUrl, is_forbidden_ip, parse_retry_after};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// The longest response excerpt kept in the delivery log.
const EXCERPT_CHARS: usize = 200;
/// The most of a response body read at all.
const EXCERPT_BYTES: usize = 1024;

#[derive(Debug)]
struct SafeResolver {
    allow_private: bool,
}

#[derive(Debug, thiserror::Error)]
#[error("{0} resolves only to private or reserved addresses")]
struct ForbiddenTarget(String);

impl Resolve for SafeResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let resolved: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = resolved
                .into_iter()
                .filter(|addr| allow_private || !is_forbidden_ip(addr.ip()))
                .collect();
            if allowed.is_empty() {
                return Err(
                    Box::new(ForbiddenTarget(host)) as Box<dyn std::error::Error + Send + Sync>
                );
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub attempt: Attempt,
    pub retry_after: Option<Duration>,
}

impl Outcome {
    pub fn succeeded(&self) -> bool {
        self.attempt
            .status_code
            .is_some_and(|s| (200..300).contains(&s))
    }

    pub fn gone(&self) -> bool {
        self.attempt.status_code == Some(410)
    }
}

/// The client, built on its first request: building it reads and parses every root
/// certificate on the machine, work that would otherwise sit in each cold start.
#[derive(Debug, Clone)]
pub struct SafeClient {
    http: OnFirstUse<Result<reqwest::Client, String>>,
    allow_private: bool,
}

impl SafeClient {
    /// Built once per process.
    pub fn new(timeout: Duration, allow_private: bool) -> Self {
        let http = OnFirstUse::new(move || {
            // The same TLS stack as the AWS clients (rustls on ring; see
            // `partner_aws::http`). An `Err` only means one is already set.
            let _ = rustls::crypto::ring::default_provider().install_default();
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(timeout)
                .connect_timeout(timeout.min(Duration::from_secs(10)))
                .no_proxy()
                .user_agent("partner-program-webhooks/1")
                .dns_resolver(Arc::new(SafeResolver { allow_private }))
                .build()
                .map_err(|e| format!("the webhook HTTP client could not be built: {e}"))
        });
        Self {
            http,
            allow_private,
        }
    }

    fn http(&self) -> Result<&reqwest::Client, &str> {
        self.http.get().as_ref().map_err(String::as_str)
    }

    /// POSTs `body` with `headers` to `url`; never fails, the outcome says how it went.
    pub async fn post(
        &self,
        url: &WebhookUrl,
        headers: &[(&str, String)],
        body: Vec<u8>,
    ) -> Outcome {
        let started = Instant::now();
        let at = partner_domain::now();
        let failed = |error: String, started: Instant| Outcome {
            attempt: Attempt {
                at,
                status_code: None,
                error: Some(error),
                latency_ms: started.elapsed().as_millis() as u64,
                response_excerpt: None,
            },
            retry_after: None,
        };
        if let Some(ip) = url.ip_literal()
            && !self.allow_private
            && is_forbidden_ip(ip)
        {
            return failed(format!("{ip} is a private or reserved address"), started);
        }
        let http = match self.http() {
            Ok(http) => http,
            Err(error) => return failed(error.to_owned(), started),
        };
        let mut request = http.post(url.url().clone()).body(body);
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        match request.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                let retry_after = response
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| parse_retry_after(v, at));
                // Read only the start of the body: a receiver cannot make us buffer a huge answer.
                let mut response = response;
                let mut head = Vec::new();
                while head.len() < EXCERPT_BYTES {
                    match response.chunk().await {
                        Ok(Some(chunk)) => head.extend_from_slice(&chunk),
                        _ => break,
                    }
                }
                let excerpt: String = String::from_utf8_lossy(&head)
                    .chars()
                    .take(EXCERPT_CHARS)
                    .collect();
                Outcome {
                    attempt: Attempt {
                        at,
                        status_code: Some(status),
                        error: None,
                        latency_ms: started.elapsed().as_millis() as u64,
                        response_excerpt: (!excerpt.is_empty()).then_some(excerpt),
                    },
                    retry_after,
                }
            }
            Err(err) => failed(describe(&err), started),
        }
    }
}

/// A short, safe description of a transport error for the delivery log.
fn describe(err: &reqwest::Error) -> String {
    if err.is_timeout() {
        return "timed out".into();
    }
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        if cause.downcast_ref::<ForbiddenTarget>().is_some() {
            return cause.to_string();
        }
        text = format!("{text}: {cause}");
        source = cause.source();
    }
    text.chars().take(300).collect()
}
