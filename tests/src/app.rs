//! A tenant with its keys on a fresh store, requests through the full router, and
//! the configuration and tokens tests use.

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

/// The `sub` of the admin tokens tests mint: the audit log shows `admin:tests`.
pub const ADMIN_SUBJECT: &str = "tests";

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

    /// Waits until the local webhook dispatcher of [`TestApp::with_webhooks`] has
    /// taken up every event published so far and finished all work from them,
    /// retries included: what a test needs before asserting that something did
    /// *not* happen.
    pub async fn webhooks_idle(&self, queue: &partner_webhooks::local::LocalQueue) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !queue.activity().idle_after(self.bus.sent()) {
            assert!(
                std::time::Instant::now() < deadline,
                "the local webhook dispatcher is still busy after 10 s"
            );
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
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

    /// This app on a new instance: the same store, keys and router, with every
    /// per-instance cache (API keys, settings) empty, as after a cold start.
    pub fn cold(&self) -> Self {
        let state = AppState::with_webhook_queue(
            self.store.clone(),
            self.state.config().clone(),
            Some(Arc::new(self.bus.clone())),
            None,
        )
        .expect("state");
        Self {
            router: partner_service::http::finish(partnerctl::all_routes(), state.clone()),
            state,
            ..self.clone()
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

    /// Starts a payout run through the API (202), works it to the end as the
    /// scheduled payout runner does, and reads the finished run and the payouts it
    /// made (newest first) through the API.
    pub async fn run_payouts(&self) -> PayoutRunResult {
        let token = self.admin_token();
        let payouts = format!("/v1/apps/{}/affiliates/payouts", self.app_id);
        let started = self.admin(Method::POST, &payouts, Some(&token), None).await;
        assert_eq!(started.status, 202, "{:#}", started.body);
        assert_eq!(started.body["status"], "running", "{:#}", started.body);
        run_payout_runner(&self.state).await;
        let id = started.body["id"].as_str().expect("a run id");
        let run = self
            .admin(
                Method::GET,
                &format!("{payouts}/runs/{id}"),
                Some(&token),
                None,
            )
            .await;
        assert_eq!(run.body["status"], "completed", "{:#}", run.body);
        let made = run.body["payouts"].as_u64().expect("payouts") as usize;
        let listed = self
            .admin(
                Method::GET,
                &format!("{payouts}?limit=100"),
                Some(&token),
                None,
            )
            .await;
        let mut payouts = listed.body["data"].as_array().cloned().unwrap_or_default();
        payouts.truncate(made);
        PayoutRunResult {
            run: run.body,
            payouts,
        }
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

/// An application from `email` (named "Existing") in the app `created` made,
/// submitted as its secret key would: what the sample events and the benchmarks
/// expect to find.
pub async fn seed_application(
    store: &Store,
    created: &partner_store::repo::apps::CreatedApp,
    email: &str,
) -> partner_domain::records::Application {
    let state = AppState::new(store.clone(), test_config(), None).expect("state");
    partner_service::commands::apply(
        &state,
        &partner_service::Tenant {
            app_id: created.app.id.clone(),
            key_id: created.key.id.clone(),
            kind: partner_domain::api_key::KeyKind::Secret,
        },
        partner_domain::records::ApplicationForm {
            email: partner_domain::Email::parse("email", email).expect("an email"),
            name: "Existing".into(),
            company: None,
            website: None,
            reason: None,
        },
        None,
        None,
        None,
    )
    .await
    .expect("the application is accepted")
}

/// An admin token for `apps`, valid for an hour.
pub fn admin_token_for(apps: &[AppId]) -> String {
    partner_service::admin_auth::mint(
        &test_config().admin_jwt,
        ADMIN_SUBJECT,
        apps,
        std::time::Duration::from_secs(3600),
    )
    .expect("mint admin token")
}

/// A token with exactly these claims, signed with `secret` (HS256): for tokens the
/// service would never mint (stale, too long-lived, foreign).
pub fn signed_hs256(secret: &str, claims: &serde_json::Value) -> String {
    partner_service::jwt_crypto::install();
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("sign a test token")
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
    partner_service::html::urlencode(value)
}

/// A finished payout run: the run as `GET …/payouts/runs/{runId}` shows it, and the
/// payouts it made as `GET …/payouts` lists them.
#[derive(Debug, Clone)]
pub struct PayoutRunResult {
    pub run: Value,
    pub payouts: Vec<Value>,
}

/// One invocation of the payout runner, as its schedule makes them: when the
/// database was busy (a 503-class failure, which a loaded machine can cause on
/// moto), the next invocation resumes where it stopped, as in production.
pub async fn run_payout_runner(state: &AppState) {
    for attempt in 1..=3 {
        match payout_runner::handle(state, std::time::Duration::from_secs(600)).await {
            Ok(_) => return,
            Err(partner_service::commands::CommandError::Store(
                err @ partner_store::StoreError::Unavailable(_),
            )) if attempt < 3 => eprintln!("payout runner: {err}; invoking it again"),
            Err(err) => panic!("the payout runner: {err:?}"),
        }
    }
}

/// Runs a payout run of `app` on `state` to the end without HTTP, as the payout
/// runner does; returns the finished run and the payouts it made (newest first).
pub async fn pay_out(
    state: &AppState,
    app: &AppId,
) -> (
    partner_domain::ledger::PayoutRun,
    Vec<partner_domain::ledger::Payout>,
) {
    let run = partner_service::commands::payout_runs::start_run(state, app, crate::test_admin())
        .await
        .expect("a payout run starts");
    run_payout_runner(state).await;
    let run = partner_service::commands::payout_runs::get_run(state, app, &run.id)
        .await
        .expect("the run");
    assert_eq!(
        run.status,
        partner_domain::ledger::PayoutRunStatus::Completed,
        "{run:?}"
    );
    let (payouts, _) = state
        .store()
        .payouts()
        .payouts_of_app(app, run.payouts.max(1), None)
        .await
        .expect("payouts");
    let made = payouts.into_iter().take(run.payouts as usize).collect();
    (run, made)
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
