//! A webhook receiver on loopback, and the configuration webhook tests use.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use partner_service::config::Config;

use crate::test_config;

/// A request the test receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: axum::http::HeaderMap,
    pub body: axum::body::Bytes,
    pub path: String,
    /// The status the receiver answered with.
    pub status: u16,
    /// When the request arrived.
    pub at: std::time::Instant,
}

impl Received {
    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    }
}

/// How the receiver answers one request.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub delay: std::time::Duration,
}

impl Reply {
    pub fn status(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            delay: std::time::Duration::ZERO,
        }
    }
}

/// A webhook receiver on loopback: answers with the scripted replies in order, then
/// with 200, and remembers every request.
#[derive(Debug, Clone)]
pub struct Receiver {
    pub url: String,
    received: Arc<std::sync::Mutex<Vec<Received>>>,
}

impl Receiver {
    pub async fn start(script: Vec<Reply>) -> Self {
        Self::serve(script, 0).await
    }

    /// A receiver that answers 500 to about `failure_percent` % of requests (at random)
    /// and 200 to the rest.
    pub async fn flaky(failure_percent: u8) -> Self {
        Self::serve(Vec::new(), failure_percent).await
    }

    async fn serve(script: Vec<Reply>, failure_percent: u8) -> Self {
        let received: Arc<std::sync::Mutex<Vec<Received>>> = Arc::default();
        let script = Arc::new(std::sync::Mutex::new(std::collections::VecDeque::from(
            script,
        )));
        let log = Arc::clone(&received);
        let app = Router::new().fallback(move |request: Request<Body>| {
            let log = Arc::clone(&log);
            let script = Arc::clone(&script);
            async move {
                let path = request.uri().path().to_owned();
                let headers = request.headers().clone();
                let body = axum::body::to_bytes(request.into_body(), 1 << 20)
                    .await
                    .unwrap_or_default();
                let scripted = script.lock().expect("script").pop_front();
                let reply = scripted.unwrap_or_else(|| {
                    let mut byte = [0u8; 1];
                    partner_domain::random_bytes(&mut byte);
                    let fails = u32::from(byte[0]) * 100 < u32::from(failure_percent) * 256;
                    Reply::status(if fails { 500 } else { 200 })
                });
                log.lock().expect("log").push(Received {
                    at: std::time::Instant::now(),
                    headers,
                    body,
                    path,
                    status: reply.status,
                });
                tokio::time::sleep(reply.delay).await;
                let mut response = axum::response::Response::new(Body::from("received"));
                *response.status_mut() = StatusCode::from_u16(reply.status).expect("status");
                for (name, value) in reply.headers {
                    response
                        .headers_mut()
                        .insert(name, value.parse().expect("header"));
                }
                response
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}/hooks", listener.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, received }
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().expect("log").clone()
    }

    /// Waits (up to `limit`) until at least `count` requests arrived.
    pub async fn wait_for(&self, count: usize, limit: std::time::Duration) -> Vec<Received> {
        let deadline = std::time::Instant::now() + limit;
        while self.received().len() < count && std::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        self.received()
    }
}

/// How many events a fault test runs with: `default` in `make test`, `STRESS_EVENTS`
/// under `make stress`.
pub fn stress_events(default: usize) -> usize {
    std::env::var("STRESS_EVENTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

/// The test configuration with webhooks on loopback and a fast retry schedule.
pub fn webhook_config(schedule: &str) -> Config {
    let mut config = test_config();
    config.webhooks.allow_private_targets = true;
    config.webhooks.retry_schedule =
        partner_domain::webhooks::RetrySchedule::parse(schedule).expect("schedule");
    config.webhooks.timeout = std::time::Duration::from_secs(2);
    config
}
