//! A local Lambda Runtime API, the small part of it a custom runtime talks to: it
//! hands one event to the first `GET …/invocation/next`, holds every later one open
//! (as Lambda does between invocations), and reports when the function asked for
//! work and when it answered.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::routing::{get, post};
use tokio::sync::mpsc;

const REQUEST_ID: &str = "bench-invocation-1";

/// What the function did, and when.
#[derive(Debug)]
pub enum Signal {
    /// It asked for an event: its init is over (the first time) or its answer is sent.
    Next(Instant),
    /// It posted its answer to the invocation.
    Response(Instant, Bytes),
    /// It reported an init or invocation error.
    Error(Instant, String),
}

#[derive(Debug)]
struct Shared {
    event: Bytes,
    handed_out: AtomicBool,
    signals: mpsc::UnboundedSender<Signal>,
}

/// One emulator, serving one invocation to one process.
#[derive(Debug)]
pub struct RuntimeApi {
    /// `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub address: String,
    signals: mpsc::UnboundedReceiver<Signal>,
    server: tokio::task::JoinHandle<()>,
}

impl RuntimeApi {
    pub async fn start(event: Bytes) -> std::io::Result<Self> {
        let (sender, signals) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            event,
            handed_out: AtomicBool::new(false),
            signals: sender,
        });
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(error))
            .with_state(shared);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?.to_string();
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            address,
            signals,
            server,
        })
    }

    /// The next thing the function did, or `None` after `limit`.
    pub async fn signal(&mut self, limit: Duration) -> Option<Signal> {
        tokio::time::timeout(limit, self.signals.recv())
            .await
            .ok()
            .flatten()
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn next(State(shared): State<Arc<Shared>>) -> (HeaderMap, Bytes) {
    let _ = shared.signals.send(Signal::Next(Instant::now()));
    if shared.handed_out.swap(true, Ordering::SeqCst) {
        // Lambda freezes a function between invocations; here it waits for the kill.
        std::future::pending::<()>().await;
    }
    let deadline = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        + Duration::from_secs(30);
    let mut headers = HeaderMap::new();
    let pairs = [
        ("lambda-runtime-aws-request-id", REQUEST_ID.to_owned()),
        (
            "lambda-runtime-deadline-ms",
            deadline.as_millis().to_string(),
        ),
        (
            "lambda-runtime-invoked-function-arn",
            "arn:aws:lambda:eu-west-1:123456789012:function:bench".to_owned(),
        ),
        (
            "lambda-runtime-trace-id",
            "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=0".to_owned(),
        ),
        ("content-type", "application/json".to_owned()),
    ];
    for (name, value) in pairs {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    (headers, shared.event.clone())
}

async fn response(State(shared): State<Arc<Shared>>, body: Bytes) -> StatusCode {
    let _ = shared.signals.send(Signal::Response(Instant::now(), body));
    StatusCode::ACCEPTED
}

async fn error(State(shared): State<Arc<Shared>>, body: Bytes) -> StatusCode {
    let message = String::from_utf8_lossy(&body).into_owned();
    let _ = shared.signals.send(Signal::Error(Instant::now(), message));
    StatusCode::ACCEPTED
}
