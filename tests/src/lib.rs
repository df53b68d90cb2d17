//! Helpers for the integration tests: a tenant with an API key on a fresh store
//! (embedded or moto), and requests sent through the same router the local server
//! and the Lambdas run.

#![allow(clippy::expect_used)]

pub mod faults;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use partner_domain::AppId;
use std::sync::Arc;

use partner_service::AppState;
use partner_service::config::{Config, StoreConfig};
use partner_service::events::{EventBus, LocalBus};
use partner_store::{Calls, Store};
use serde_json::Value;
use tower::ServiceExt as _;

/// One app with an API key, on its own store, behind the full router.
#[derive(Debug, Clone)]
pub struct TestApp {
    pub store: Store,
    pub router: Router,
    pub state: AppState,
    pub bus: LocalBus,
    pub app_id: AppId,
    /// The app's secret key (`sk_live_…`).
    pub api_key: String,
    /// The app's publishable key (`pk_live_…`): apply and track only.
    pub publishable_key: String,
}

/// The admin JWT secret of every test app.
pub const ADMIN_SECRET: &str = "test-admin-secret-of-at-least-32-bytes";

/// A response, with its body parsed as JSON (or `Value::Null` when empty).
#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Value,
}

impl TestResponse {
    pub fn content_type(&self) -> &str {
        self.headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// Asserts this is a problem+json response with `status` and `code`.
    pub fn assert_problem(&self, status: u16, code: &str) {
        assert_eq!(self.status.as_u16(), status, "{:#}", self.body);
        assert_eq!(self.content_type(), "application/problem+json");
        assert_eq!(self.body["code"], code, "{:#}", self.body);
        assert_eq!(self.body["status"], status);
    }
}

impl TestApp {
    /// A fresh app on an in-memory embedded store.
    pub async fn memory() -> Self {
        Self::on(partner_store::testing::memory()).await
    }

    /// A fresh app on a new table on the harness's moto server.
    pub async fn moto() -> Self {
        Self::on(partner_store::testing::moto().await).await
    }

    pub async fn on(store: Store) -> Self {
        Self::with_config(store, test_config()).await
    }

    pub async fn with_config(store: Store, config: Config) -> Self {
        let bus = LocalBus::default();
        Self::build(store, config, Arc::new(bus.clone()), bus).await
    }

    /// An app whose webhooks are delivered in-process (as by `partnerctl serve`),
    /// with `config.webhooks` deciding retries, time-out and private targets.
    pub async fn with_webhooks(
        store: Store,
        config: Config,
    ) -> (Self, partner_webhooks::local::LocalQueue) {
        let bus = LocalBus::default();
        let (queue, attempts) = partner_webhooks::local::LocalQueue::new();
        let client = partner_webhooks::client::SafeClient::new(
            config.webhooks.timeout,
            config.webhooks.allow_private_targets,
        );
        let dispatcher = partner_webhooks::Dispatcher::new(
            store.clone(),
            client,
            Arc::new(queue.clone()),
            config.webhooks.retry_schedule.clone(),
        );
        let created = store.apps().create("Test app").await.expect("create app");
        let state = AppState::with_webhook_queue(
            store.clone(),
            config,
            Some(Arc::new(bus.clone())),
            Some(Arc::new(queue.clone())),
        )
        .expect("state");
        tokio::spawn(partner_webhooks::local::run(
            dispatcher,
            bus.subscribe(),
            attempts,
        ));
        let app = Self {
            router: partner_service::http::finish(partnerctl::all_routes(), state.clone()),
            state,
            bus,
            store,
            app_id: created.app.id,
            api_key: created.api_key.secret().to_owned(),
            publishable_key: created.publishable_key.secret().to_owned(),
        };
        (app, queue)
    }

    /// An app whose events go to `bus` (`local` then sees nothing).
    pub async fn with_bus(store: Store, bus: Arc<dyn EventBus>) -> Self {
        Self::build(store, test_config(), bus, LocalBus::default()).await
    }

    async fn build(store: Store, config: Config, bus: Arc<dyn EventBus>, local: LocalBus) -> Self {
        let created = store.apps().create("Test app").await.expect("create app");
        let state = AppState::new(store.clone(), config, Some(bus)).expect("state");
        Self {
            router: partner_service::http::finish(partnerctl::all_routes(), state.clone()),
            state,
            bus: local,
            store,
            app_id: created.app.id,
            api_key: created.api_key.secret().to_owned(),
            publishable_key: created.publishable_key.secret().to_owned(),
        }
    }

    /// An admin token granting this app.
    pub fn admin_token(&self) -> String {
        admin_token_for(std::slice::from_ref(&self.app_id))
    }

    /// A request with an admin bearer token and an optional JSON body.
    pub async fn admin(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> TestResponse {
        let mut builder = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let body = match body {
            Some(json) => {
                builder = builder.header(header::CONTENT_TYPE, "application/json");
                Body::from(json.to_string())
            }
            None => Body::empty(),
        };
        self.send(builder.body(body).expect("valid request")).await
    }

    /// Applies with `email` and returns the application id.
    pub async fn applied(&self, email: &str, name: &str) -> String {
        let response = self
            .apply(&serde_json::json!({"email": email, "name": name}))
            .await;
        assert_eq!(response.status, 201, "{:#}", response.body);
        response.body["id"].as_str().expect("id").to_owned()
    }

    /// Reviews an application of this app with this app's admin token.
    pub async fn review(&self, application_id: &str, body: &Value) -> TestResponse {
        let path = format!(
            "/v1/apps/{}/affiliates/applications/{application_id}/review",
            self.app_id
        );
        self.admin(Method::POST, &path, Some(&self.admin_token()), Some(body))
            .await
    }

    /// Another app on the same store and router, with its own key.
    pub async fn second_app(&self) -> (AppId, String) {
        let created = self
            .store
            .apps()
            .create("Other app")
            .await
            .expect("create app");
        (created.app.id, created.api_key.secret().to_owned())
    }

    pub fn calls(&self) -> Calls {
        self.store.calls()
    }

    pub async fn send(&self, request: Request<Body>) -> TestResponse {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("infallible router");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .expect("body");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        TestResponse {
            status,
            headers,
            body,
        }
    }

    pub async fn post_json(&self, path: &str, key: Option<&str>, body: &Value) -> TestResponse {
        self.send(request(Method::POST, path, key, Some(body.to_string())))
            .await
    }

    pub async fn get(&self, path: &str, key: Option<&str>) -> TestResponse {
        self.send(request(Method::GET, path, key, None)).await
    }

    /// `POST /v1/affiliate/apply` with this app's key.
    pub async fn apply(&self, body: &Value) -> TestResponse {
        self.post_json("/v1/affiliate/apply", Some(&self.api_key), body)
            .await
    }

    /// `GET /v1/affiliate/apply/status?email=` with this app's key.
    pub async fn status_of(&self, email: &str) -> TestResponse {
        let query = format!("/v1/affiliate/apply/status?email={}", encode_query(email));
        self.get(&query, Some(&self.api_key)).await
    }
}

/// The configuration every test app runs with (admin tokens signed with
/// [`ADMIN_SECRET`]).
pub fn test_config() -> Config {
    let mut config = Config::for_store(StoreConfig::Memory);
    config.admin_jwt.secret = Some(ADMIN_SECRET.to_owned());
    config.session_secret = Some(partner_service::config::Secret(
        "test-session-secret".to_owned(),
    ));
    config.public_base_url = Some("https://partners.example.com".to_owned());
    config
}

/// An admin token for `apps`, valid for an hour.
pub fn admin_token_for(apps: &[AppId]) -> String {
    partner_service::admin_auth::mint(
        &test_config().admin_jwt,
        "tests",
        apps,
        std::time::Duration::from_secs(3600),
    )
    .expect("mint admin token")
}

/// A request with an optional API key and JSON body.
pub fn request(
    method: Method,
    path: &str,
    key: Option<&str>,
    body: Option<String>,
) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(path);
    if let Some(key) = key {
        builder = builder.header("x-api-key", key);
    }
    let body = match body {
        Some(json) => {
            builder = builder.header(header::CONTENT_TYPE, "application/json");
            Body::from(json)
        }
        None => Body::empty(),
    };
    builder.body(body).expect("valid request")
}

/// Percent-encodes a query-string value.
pub fn encode_query(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The documented example application body (README, docs/api.md).
pub fn example_application() -> Value {
    serde_json::json!({
        "email": "partner@example.com",
        "name": "Jane Smith",
        "company": "Acme Inc",
        "website": "https://acme.com",
        "reason": "I have a large audience in the SaaS space"
    })
}

/// Generates `#[tokio::test]`s running each named `async fn(TestApp)` on the
/// embedded store and on moto.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod embedded {
            $( #[tokio::test] async fn $name() { super::$name($crate::TestApp::memory().await).await } )*
        }
        mod dynamodb {
            $( #[tokio::test] async fn $name() { super::$name($crate::TestApp::moto().await).await } )*
        }
    };
}

/// AWS clients for the harness's moto server, and the EventBridge bus → rule →
/// SQS queue wiring that `template.yaml` declares.
#[derive(Debug, Clone)]
pub struct MotoAws {
    pub eventbridge: aws_sdk_eventbridge::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub dynamodb: aws_sdk_dynamodb_client::Client,
    pub secrets: aws_sdk_secretsmanager::Client,
}

/// Stores `value` as a new Secrets Manager secret `name` on moto at `endpoint`;
/// returns its ARN.
pub async fn moto_secret(endpoint: &str, name: &str, value: &str) -> String {
    let config = aws_sdk_secretsmanager::Config::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .http_client(partner_store::aws_http::client())
        .credentials_provider(aws_sdk_secretsmanager::config::Credentials::new(
            "test", "test", None, None, "moto",
        ))
        .build();
    aws_sdk_secretsmanager::Client::from_conf(config)
        .create_secret()
        .name(name)
        .secret_string(value)
        .send()
        .await
        .expect("create a secret on moto")
        .arn
        .expect("an ARN")
}

/// Re-export so tests need not depend on the DynamoDB SDK themselves.
pub mod aws_sdk_dynamodb_client {
    pub use partner_store::dynamo::Client;
}

impl MotoAws {
    pub async fn connect() -> Self {
        let endpoint = std::env::var(partner_store::testing::MOTO_ENDPOINT_VAR)
            .expect("MOTO_ENDPOINT (run the tests through `make test`, which starts moto)");
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .http_client(partner_store::aws_http::client())
            .region(aws_config::Region::new("us-east-1"))
            .endpoint_url(&endpoint)
            .credentials_provider(aws_sdk_sqs::config::Credentials::new(
                "test", "test", None, None, "moto",
            ))
            .load()
            .await;
        Self {
            eventbridge: aws_sdk_eventbridge::Client::new(&config),
            sqs: aws_sdk_sqs::Client::new(&config),
            dynamodb: partner_store::dynamo::Client::new(&config),
            secrets: aws_sdk_secretsmanager::Client::new(&config),
        }
    }

    /// A new bus with a rule sending every partner-program event to a new queue.
    /// Returns (bus name, queue URL).
    pub async fn bus_with_queue(&self) -> (String, String) {
        let suffix = ulid_suffix();
        let bus = format!("partners-{suffix}");
        let queue = format!("webhooks-{suffix}");
        self.eventbridge
            .create_event_bus()
            .name(&bus)
            .send()
            .await
            .expect("create bus");
        let queue_url = self
            .sqs
            .create_queue()
            .queue_name(&queue)
            .send()
            .await
            .expect("create queue")
            .queue_url
            .expect("url");
        let attributes = self
            .sqs
            .get_queue_attributes()
            .queue_url(&queue_url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .send()
            .await
            .expect("queue attributes");
        let queue_arn = attributes
            .attributes()
            .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn))
            .expect("queue arn")
            .clone();
        self.eventbridge
            .put_rule()
            .name(format!("to-{queue}"))
            .event_bus_name(&bus)
            .event_pattern(
                serde_json::json!({"source": [partner_service::events::EVENT_SOURCE]}).to_string(),
            )
            .send()
            .await
            .expect("put rule");
        self.eventbridge
            .put_targets()
            .rule(format!("to-{queue}"))
            .event_bus_name(&bus)
            .targets(
                aws_sdk_eventbridge::types::Target::builder()
                    .id("queue")
                    .arn(queue_arn)
                    .build()
                    .expect("target"),
            )
            .send()
            .await
            .expect("put targets");
        (bus, queue_url)
    }

    /// Every message on the queue, as parsed JSON bodies: received (and deleted) until
    /// none has arrived for `wait`.
    pub async fn drain(&self, queue_url: &str, wait: std::time::Duration) -> Vec<Value> {
        let mut last_seen = std::time::Instant::now();
        let mut bodies = Vec::new();
        while last_seen.elapsed() < wait {
            let output = self
                .sqs
                .receive_message()
                .queue_url(queue_url)
                .max_number_of_messages(10)
                .wait_time_seconds(1)
                .send()
                .await
                .expect("receive");
            if !output.messages().is_empty() {
                last_seen = std::time::Instant::now();
            }
            for message in output.messages() {
                bodies.push(
                    serde_json::from_str(message.body().unwrap_or("null")).expect("JSON body"),
                );
                if let Some(handle) = message.receipt_handle() {
                    self.sqs
                        .delete_message()
                        .queue_url(queue_url)
                        .receipt_handle(handle)
                        .send()
                        .await
                        .expect("delete");
                }
            }
        }
        bodies
    }
}

fn ulid_suffix() -> String {
    partner_domain::AppId::generate()
        .as_str()
        .trim_start_matches("app_")
        .to_lowercase()
}

/// A request the test receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: axum::http::HeaderMap,
    pub body: axum::body::Bytes,
    pub path: String,
    /// The status the receiver answered with.
    pub status: u16,
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
