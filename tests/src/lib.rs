//! Helpers for the integration tests: a tenant with an API key on a fresh store
//! (embedded or moto), and requests sent through the same router the local server
//! and the Lambdas run.

#![allow(clippy::expect_used)]

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use partner_domain::AppId;
use partner_service::AppState;
use partner_service::config::{Config, StoreConfig};
use partner_store::{Calls, Store};
use serde_json::Value;
use tower::ServiceExt as _;

/// One app with an API key, on its own store, behind the full router.
#[derive(Debug, Clone)]
pub struct TestApp {
    pub store: Store,
    pub router: Router,
    pub app_id: AppId,
    pub api_key: String,
}

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
        Self::with_config(store, Config::for_store(StoreConfig::Memory)).await
    }

    pub async fn with_config(store: Store, config: Config) -> Self {
        let created = store.apps().create("Test app").await.expect("create app");
        let state = AppState::new(store.clone(), config);
        Self {
            router: partner_service::http::finish(partnerctl::all_routes(), state),
            store,
            app_id: created.app.id,
            api_key: created.api_key.secret().to_owned(),
        }
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

/// The seed's example application body.
pub fn seed_application() -> Value {
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
