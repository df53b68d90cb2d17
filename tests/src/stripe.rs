//! Stripe events in tests: the shapes of Stripe's API reference (the fixtures in
//! `tests/stripe/fixtures/`), signed by the official `stripe` library's own test
//! helper (`tests/stripe/sign.mjs`, installed by `npm ci` there), and sent to an
//! app's Stripe endpoint through the router.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use axum::http::Method;
use serde_json::{Value, json};

use crate::{TestApp, TestResponse};

/// The signing secret every test app connects with.
pub const STRIPE_SECRET: &str = "whsec_partnerProgramTestSecret0123456789";

fn stripe_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("stripe")
}

/// A fixture event (`checkout.session.completed`, `invoice.paid.previous`, …) with
/// a fresh event id, so each use is a new event.
pub fn stripe_event(name: &str) -> Value {
    let path = stripe_dir().join("fixtures").join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut event: Value = serde_json::from_str(&text).expect("a fixture is JSON");
    event["id"] = Value::String(fresh_id("evt"));
    event
}

/// A new Stripe-style id with `prefix` (`in`, `ch`, `cus`, `evt`).
pub fn fresh_id(prefix: &str) -> String {
    let mut bytes = [0u8; 12];
    partner_domain::random_bytes(&mut bytes);
    let tail: String = bytes
        .iter()
        .map(|b| {
            char::from(
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
                    [usize::from(*b) % 62],
            )
        })
        .collect();
    format!("{prefix}_test{tail}")
}

/// The `Stripe-Signature` header stripe-node's `webhooks.generateTestHeaderString`
/// makes for `payload` (at `timestamp`, Unix seconds, or now).
pub fn stripe_signature(payload: &str, secret: &str, timestamp: Option<i64>) -> String {
    let dir = stripe_dir();
    assert!(
        dir.join("node_modules/stripe").is_dir(),
        "the stripe library is not installed: run `npm ci` in tests/stripe (make test does)"
    );
    let mut child = Command::new("node")
        .arg(dir.join("sign.mjs"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("node runs");
    let input = json!({"payload": payload, "secret": secret, "timestamp": timestamp});
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.to_string().as_bytes())
        .expect("write to node");
    let output = child.wait_with_output().expect("node finishes");
    assert!(output.status.success(), "sign.mjs failed");
    String::from_utf8(output.stdout).expect("a header is text")
}

impl TestApp {
    /// Connects this app's Stripe integration (test-mode events unless `livemode`).
    pub async fn connect_stripe(&self, livemode: bool) -> TestResponse {
        let path = format!("/v1/apps/{}/integrations/stripe", self.app_id);
        let body = json!({"webhookSecret": STRIPE_SECRET, "livemode": livemode});
        self.admin(Method::PUT, &path, Some(&self.admin_token()), Some(&body))
            .await
    }

    /// Sends `event`, signed with the connected secret, to this app's endpoint.
    pub async fn send_stripe(&self, event: &Value) -> TestResponse {
        let payload = event.to_string();
        let signature = stripe_signature(&payload, STRIPE_SECRET, None);
        self.post_stripe(&self.app_id.to_string(), payload, Some(&signature))
            .await
    }

    /// A raw delivery to `/v1/integrations/stripe/{app}`.
    pub async fn post_stripe(
        &self,
        app: &str,
        payload: String,
        signature: Option<&str>,
    ) -> TestResponse {
        let mut request = axum::http::Request::builder()
            .method(Method::POST)
            .uri(format!("/v1/integrations/stripe/{app}"))
            .header("content-type", "application/json; charset=utf-8");
        if let Some(signature) = signature {
            request = request.header("stripe-signature", signature);
        }
        self.send(
            request
                .body(axum::body::Body::from(payload))
                .expect("request"),
        )
        .await
    }

    /// The integration's event log, newest first.
    pub async fn stripe_log(&self) -> Vec<Value> {
        let path = format!(
            "/v1/apps/{}/integrations/stripe/events?limit=100",
            self.app_id
        );
        let response = self
            .admin(Method::GET, &path, Some(&self.admin_token()), None)
            .await;
        assert_eq!(response.status, 200, "{:#}", response.body);
        response.body["data"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}
