//! The HS256 secrets read from Secrets Manager (moto): at init, again when a
//! token signed with a rotated-in secret arrives at a warm instance, and the
//! previous session secret still verifying after a rotation.

use std::time::Duration;

use axum::http::{Method, Request, header};
use partner_aws::OnFirstUse;
use partner_service::AppState;
use partner_service::config::{Config, SecretArns};
use partner_tests::{MotoAws, test_config};
use serde_json::json;
use tower::ServiceExt as _;

/// One "instance": its own state and router on the shared store, keys from moto.
struct Instance {
    router: axum::Router,
}

impl Instance {
    async fn start(store: &partner_store::Store, config: &Config, aws: &MotoAws) -> Self {
        let client = aws.secrets.clone();
        let state = AppState::with_secrets_from(
            store.clone(),
            config.clone(),
            None,
            None,
            OnFirstUse::new(move || client.clone()),
        )
        .await
        .expect("a state with the secrets read");
        Self {
            router: partner_service::http::finish(partnerctl::all_routes(), state),
        }
    }

    async fn send(&self, request: Request<axum::body::Body>) -> (u16, serde_json::Value) {
        let response = self.router.clone().oneshot(request).await.expect("router");
        let status = response.status().as_u16();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .expect("body");
        (status, serde_json::from_slice(&bytes).unwrap_or_default())
    }

    async fn session(&self, key: &str) -> String {
        let minted = self
            .send(partner_tests::request(
                Method::POST,
                "/v1/sessions",
                Some(key),
                Some(json!({"customerId": "user_42"}).to_string()),
            ))
            .await;
        assert_eq!(minted.0, 201, "{:#}", minted.1);
        minted.1["token"].as_str().unwrap().to_owned()
    }

    /// The status a session-token request gets (401: the token did not verify).
    async fn with_session(&self, token: &str) -> u16 {
        self.send(
            Request::builder()
                .uri("/v1/affiliate")
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .0
    }

    async fn with_admin(&self, token: &str, app: &partner_domain::AppId) -> u16 {
        self.send(
            Request::builder()
                .uri(format!("/v1/apps/{app}/affiliates/applications"))
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .0
    }
}

async fn put_secret(aws: &MotoAws, name: &str, value: &str) -> String {
    aws.secrets
        .create_secret()
        .name(name)
        .secret_string(value)
        .send()
        .await
        .expect("create secret")
        .arn
        .expect("an ARN")
}

async fn rotate(aws: &MotoAws, arn: &str, value: &str) {
    aws.secrets
        .put_secret_value()
        .secret_id(arn)
        .secret_string(value)
        .send()
        .await
        .expect("put secret value");
}

fn admin_token(config: &Config, secret: &str, app: &partner_domain::AppId) -> String {
    let mut admin = config.admin_jwt.clone();
    admin.secret = Some(secret.to_owned());
    partner_service::admin_auth::mint(
        &admin,
        "tests",
        std::slice::from_ref(app),
        Duration::from_secs(600),
    )
    .unwrap()
}

#[tokio::test]
async fn secrets_are_read_from_secrets_manager_and_a_rotation_reaches_warm_instances() {
    let aws = MotoAws::connect().await;
    let store = partner_store::testing::moto().await;
    let created = store.apps().create("Secret app").await.unwrap();
    let app = created.app.id.clone();
    let key = created.api_key.secret().to_owned();
    let suffix = partner_domain::AppId::generate();
    let (session_v1, session_v2) = ("s".repeat(40), "t".repeat(40));
    let (admin_v1, admin_v2) = ("a".repeat(40), "b".repeat(40));
    let session_arn = put_secret(&aws, &format!("session-{suffix}"), &session_v1).await;
    let admin_arn = put_secret(&aws, &format!("admin-{suffix}"), &admin_v1).await;
    let mut config = test_config();
    config.session_secret = None;
    config.admin_jwt.secret = None;
    config.secret_arns = SecretArns {
        admin_jwt: Some(admin_arn.clone()),
        session: Some(session_arn.clone()),
        // Long: only a refused token makes this instance read them again.
        refresh_every: Duration::from_secs(3600),
    };
    assert!(
        !format!("{config:?}").contains(&session_v1),
        "no secret value in the configuration"
    );

    let warm = Instance::start(&store, &config, &aws).await;
    let old_session = warm.session(&key).await;
    assert_ne!(warm.with_session(&old_session).await, 401);
    assert_eq!(
        warm.with_admin(&admin_token(&config, &admin_v1, &app), &app)
            .await,
        200
    );

    rotate(&aws, &session_arn, &session_v2).await;
    rotate(&aws, &admin_arn, &admin_v2).await;
    let fresh = Instance::start(&store, &config, &aws).await;
    let new_session = fresh.session(&key).await;
    assert_ne!(
        fresh.with_session(&old_session).await,
        401,
        "the previous session secret still verifies"
    );
    assert_ne!(
        warm.with_session(&new_session).await,
        401,
        "a warm instance reads the rotated secret when a token needs it"
    );
    assert_eq!(
        warm.with_admin(&admin_token(&config, &admin_v2, &app), &app)
            .await,
        200,
        "and the rotated admin secret"
    );
    assert_eq!(
        fresh
            .with_admin(&admin_token(&config, &admin_v1, &app), &app)
            .await,
        401,
        "the replaced admin secret no longer verifies"
    );
    assert_eq!(
        warm.with_session(&session_with(&"x".repeat(40), &app))
            .await,
        401,
        "a token signed with a secret never stored stays refused"
    );
}

/// A session token for `app` signed with `secret`.
fn session_with(secret: &str, app: &partner_domain::AppId) -> String {
    let subject = partner_service::session::Subject {
        app_id: app.clone(),
        customer_id: partner_domain::CustomerId::parse("customerId", "user_42").unwrap(),
    };
    partner_service::session::mint_session(Some(secret), &subject)
        .unwrap()
        .0
}

#[tokio::test]
async fn a_missing_or_short_secret_fails_the_start() {
    let aws = MotoAws::connect().await;
    let store = partner_store::testing::moto().await;
    let suffix = partner_domain::AppId::generate();
    let short = put_secret(&aws, &format!("short-{suffix}"), "too-short").await;
    for arn in [
        format!("arn:aws:secretsmanager:us-east-1:123456789012:secret:missing-{suffix}"),
        short,
    ] {
        let mut config = test_config();
        config.session_secret = None;
        config.secret_arns = SecretArns {
            admin_jwt: None,
            session: Some(arn.clone()),
            refresh_every: Duration::from_secs(300),
        };
        let client = aws.secrets.clone();
        let started = AppState::with_secrets_from(
            store.clone(),
            config,
            None,
            None,
            OnFirstUse::new(move || client.clone()),
        )
        .await;
        let err = started
            .expect_err("no start without the secret")
            .to_string();
        assert!(err.contains(&arn), "{err}");
    }
}
