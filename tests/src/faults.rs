//! A fault-injecting proxy for DynamoDB: it stands between the code under test and
//! moto, and refuses a chosen share of calls before they reach the database — as
//! DynamoDB itself does under load — or holds them without answering.
//!
//! Refused calls get DynamoDB's own answers: `ThrottlingException` (400) three
//! times in four, `InternalServerError` (500) otherwise (EventBridge and SQS read
//! those the same way). Nothing refused reaches moto, so a refused write has
//! certainly not happened. It can also lose the answer to a read after moto served
//! it (reads are safe to retry; writes are not lost this way, as their outcome
//! would be unknown). The proxy can also fail some entries of an EventBridge
//! `PutEvents` (they are not forwarded, and the answer lists them as failed), as
//! EventBridge does under load.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

#[derive(Debug, Default)]
struct Faults {
    /// Only calls whose `X-Amz-Target` starts with this are touched (`None`: all).
    only: std::sync::Mutex<Option<&'static str>>,
    refuse_percent: AtomicU8,
    /// The next touched call is refused whatever the dice say.
    refuse_next: AtomicBool,
    drop_reads_percent: AtomicU8,
    fail_entries_percent: AtomicU8,
    hang: AtomicBool,
    refused: AtomicU64,
    forwarded: AtomicU64,
}

#[derive(Debug, Clone)]
struct Proxy {
    target: String,
    client: reqwest::Client,
    faults: Arc<Faults>,
}

/// A running proxy; it stops with the test's runtime.
#[derive(Debug, Clone)]
pub struct FaultProxy {
    /// The proxy's address, to give the SDK client as its endpoint.
    pub endpoint: String,
    faults: Arc<Faults>,
}

impl FaultProxy {
    /// A proxy on a free loopback port in front of `target` (moto's URL).
    pub async fn start(target: &str) -> Self {
        let faults = Arc::new(Faults::default());
        // reqwest is built without a TLS crypto provider of its own (the project's
        // is ring); the proxy speaks plain HTTP to moto, but a client needs one.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let proxy = Proxy {
            target: target.trim_end_matches('/').to_owned(),
            client: reqwest::Client::new(),
            faults: faults.clone(),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let endpoint = format!("http://{}", listener.local_addr().expect("an address"));
        let app = Router::new().fallback(forward).with_state(proxy);
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { endpoint, faults }
    }

    /// Refuses `percent` % of the calls from now on, at random, and the first one
    /// always: a short run is then certain to meet a fault rather than likely to
    /// (0 lets every call through).
    pub fn refuse(&self, percent: u8) {
        self.faults.refuse_percent.store(percent, Ordering::SeqCst);
        self.faults.refuse_next.store(percent > 0, Ordering::SeqCst);
    }

    /// Touches only calls of one service from now on: `"DynamoDB_"`, `"AWSEvents."`,
    /// `"AmazonSQS."`.
    pub fn only(&self, target_prefix: &'static str) {
        if let Ok(mut only) = self.faults.only.lock() {
            *only = Some(target_prefix);
        }
    }

    /// Loses the answer to `percent` % of the DynamoDB reads that reach moto (a 500
    /// after the read happened): the case where only a retry-safe call may be
    /// retried, which reads are.
    pub fn drop_read_answers(&self, percent: u8) {
        self.faults
            .drop_reads_percent
            .store(percent, Ordering::SeqCst);
    }

    /// Fails `percent` % of the entries of each `PutEvents` that gets through.
    pub fn fail_entries(&self, percent: u8) {
        self.faults
            .fail_entries_percent
            .store(percent, Ordering::SeqCst);
    }

    /// Holds every call without answering (a database that hangs) while `on`.
    pub fn hang(&self, on: bool) {
        self.faults.hang.store(on, Ordering::SeqCst);
    }

    /// Calls refused so far, and calls passed on to the database.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.faults.refused.load(Ordering::SeqCst),
            self.faults.forwarded.load(Ordering::SeqCst),
        )
    }
}

fn dynamodb_error(status: StatusCode, kind: &str, message: &str) -> Response {
    let body =
        format!(r#"{{"__type":"com.amazonaws.dynamodb.v20120810#{kind}","message":"{message}"}}"#);
    (
        status,
        [("content-type", "application/x-amz-json-1.0")],
        body,
    )
        .into_response()
}

async fn forward(
    State(proxy): State<Proxy>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let faults = &proxy.faults;
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let only = faults.only.lock().ok().and_then(|only| *only);
    let touched = only.is_none_or(|prefix| target.starts_with(prefix));
    if touched && faults.hang.load(Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_secs(60)).await;
    }
    let percent = faults.refuse_percent.load(Ordering::SeqCst);
    let dice = roll();
    let forced = touched && faults.refuse_next.swap(false, Ordering::SeqCst);
    if forced || (touched && u32::from(dice) * 100 < u32::from(percent) * 256) {
        faults.refused.fetch_add(1, Ordering::SeqCst);
        return if dice.is_multiple_of(4) {
            dynamodb_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalServerError",
                "Internal server error",
            )
        } else {
            dynamodb_error(
                StatusCode::BAD_REQUEST,
                "ThrottlingException",
                "Rate of requests exceeds the allowed throughput.",
            )
        };
    }
    faults.forwarded.fetch_add(1, Ordering::SeqCst);
    let fail_entries = faults.fail_entries_percent.load(Ordering::SeqCst);
    if touched && fail_entries > 0 && target == "AWSEvents.PutEvents" {
        return put_events_partly(&proxy, &uri, &headers, &body, fail_entries).await;
    }
    let answer = send(&proxy, method, &uri, &headers, body).await;
    let read = matches!(
        target.as_str(),
        "DynamoDB_20120810.GetItem" | "DynamoDB_20120810.BatchGetItem" | "DynamoDB_20120810.Query"
    );
    let drop = faults.drop_reads_percent.load(Ordering::SeqCst);
    if touched && read && u32::from(roll()) * 100 < u32::from(drop) * 256 {
        faults.refused.fetch_add(1, Ordering::SeqCst);
        return dynamodb_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerError",
            "Internal server error",
        );
    }
    answer
}

/// A random byte.
fn roll() -> u8 {
    let mut byte = [0u8; 1];
    partner_domain::random_bytes(&mut byte);
    byte[0]
}

/// Forwards a `PutEvents` without some of its entries and answers as EventBridge
/// does when entries fail: 200, `FailedEntryCount`, and an error code in the place
/// of each failed entry.
async fn put_events_partly(
    proxy: &Proxy,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
    percent: u8,
) -> Response {
    let Ok(mut request) = serde_json::from_slice::<serde_json::Value>(body) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let entries = request["Entries"].as_array().cloned().unwrap_or_default();
    let failed: Vec<bool> = entries
        .iter()
        .map(|_| u32::from(roll()) * 100 < u32::from(percent) * 256)
        .collect();
    let kept: Vec<serde_json::Value> = entries
        .iter()
        .zip(&failed)
        .filter(|(_, failed)| !**failed)
        .map(|(entry, _)| entry.clone())
        .collect();
    let mut results = Vec::new();
    if !kept.is_empty() {
        request["Entries"] = serde_json::Value::Array(kept);
        let answer = send(
            proxy,
            Method::POST,
            uri,
            headers,
            Bytes::from(request.to_string()),
        )
        .await;
        let bytes = axum::body::to_bytes(answer.into_body(), 1 << 20)
            .await
            .unwrap_or_default();
        let forwarded: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
        results = forwarded["Entries"].as_array().cloned().unwrap_or_default();
    }
    let mut forwarded = results.into_iter();
    let entries: Vec<serde_json::Value> = failed
        .iter()
        .map(|failed| {
            if *failed {
                serde_json::json!({"ErrorCode": "ThrottlingException", "ErrorMessage": "Rate exceeded"})
            } else {
                forwarded.next().unwrap_or_default()
            }
        })
        .collect();
    let count = failed.iter().filter(|f| **f).count();
    (
        StatusCode::OK,
        [("content-type", "application/x-amz-json-1.1")],
        serde_json::json!({"FailedEntryCount": count, "Entries": entries}).to_string(),
    )
        .into_response()
}

async fn send(
    proxy: &Proxy,
    method: Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let mut request = proxy
        .client
        .request(method, format!("{}{path}", proxy.target))
        .body(body);
    for (name, value) in headers {
        if name != "host" && name != "content-length" {
            request = request.header(name, value);
        }
    }
    match request.send().await {
        Ok(answer) => {
            let status = answer.status();
            let mut out = Response::builder().status(status);
            for (name, value) in answer.headers() {
                if name != "transfer-encoding" && name != "connection" && name != "content-length" {
                    out = out.header(name, value);
                }
            }
            let bytes = answer.bytes().await.unwrap_or_default();
            out.body(Body::from(bytes))
                .unwrap_or_else(|_| StatusCode::BAD_GATEWAY.into_response())
        }
        Err(_) => StatusCode::BAD_GATEWAY.into_response(),
    }
}
