//! Rate limits: per client IP with the publishable key (apply, track), per API key,
//! and failed authentications per IP; counted in the table, so they hold across
//! instances, and refused with 429 and the rate-limit headers.

use std::net::SocketAddr;

use axum::body::Body;
use axum::http::{Method, Request};
use partner_tests::{TestApp, TestResponse, request, test_config};
use serde_json::{Value, json};

/// Waits for a fresh minute when less than `margin` seconds of this one are left,
/// so a test's requests fall in one fixed window.
async fn inside_one_window(margin: i64) {
    let second = partner_domain::now().unix_timestamp().rem_euclid(60);
    if second > 60 - margin {
        tokio::time::sleep(std::time::Duration::from_secs((61 - second) as u64)).await;
    }
}

/// `request` as if it came from `ip`.
fn from(ip: &str, mut request: Request<Body>) -> Request<Body> {
    let peer: SocketAddr = format!("{ip}:40000").parse().unwrap();
    request
        .extensions_mut()
        .insert(partner_service::client_ip::PeerAddr(peer));
    request
}

async fn apply_from(app: &TestApp, ip: &str, key: &str, email: &str) -> TestResponse {
    let body = json!({"email": email, "name": "Rate Tester"}).to_string();
    app.send(from(
        ip,
        request(Method::POST, "/v1/affiliate/apply", Some(key), Some(body)),
    ))
    .await
}

fn header<'a>(response: &'a TestResponse, name: &str) -> &'a str {
    response
        .headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

fn assert_rate_limited(response: &TestResponse, policy: &str, limit: u32) {
    response.assert_problem(429, "rate_limited");
    let retry: u32 = header(response, "retry-after").parse().unwrap();
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    assert_eq!(
        header(response, "ratelimit-policy"),
        format!("\"{policy}\";q={limit};w=60")
    );
    assert_eq!(
        header(response, "ratelimit"),
        format!("\"{policy}\";r=0;t={retry}")
    );
}

/// An admin request to the app's `…/settings`.
async fn settings(app: &TestApp, method: Method, body: Option<&Value>) -> TestResponse {
    let path = format!("/v1/apps/{}/affiliates/settings", app.app_id);
    app.admin(method, &path, Some(&app.admin_token()), body)
        .await
}

async fn change_settings(app: &TestApp, body: Value) {
    let response = settings(app, Method::PUT, Some(&body)).await;
    assert_eq!(response.status, 200, "{:#}", response.body);
}

/// The 11th application with the publishable key from one IP inside a minute is
/// refused and writes nothing; another IP, and the secret key from the same IP,
/// still get through.
async fn the_eleventh_apply_from_one_ip_is_refused(app: TestApp) {
    inside_one_window(20).await;
    let key = app.publishable_key.clone();
    for n in 0..10 {
        let response = apply_from(&app, "203.0.113.7", &key, &format!("a{n}@example.com")).await;
        assert_eq!(response.status, 201, "#{n}: {:#}", response.body);
    }
    let refused = apply_from(&app, "203.0.113.7", &key, "eleventh@example.com").await;
    assert_rate_limited(&refused, "apply", 10);
    assert_eq!(
        app.status_of("eleventh@example.com").await.body["applied"],
        false
    );
    let other_ip = apply_from(&app, "198.51.100.2", &key, "other@example.com").await;
    assert_eq!(other_ip.status, 201, "{:#}", other_ip.body);
    let server = apply_from(&app, "203.0.113.7", &app.api_key, "server@example.com").await;
    assert_eq!(server.status, 201, "{:#}", server.body);
}

/// Refused applications count too, so probing which emails applied is limited
/// like applying.
async fn refused_applications_count_against_the_limit(app: TestApp) {
    inside_one_window(20).await;
    change_settings(&app, json!({"rateLimits": {"applyPerIp": 3}})).await;
    let key = app.publishable_key.clone();
    assert_eq!(
        apply_from(&app, "203.0.113.8", &key, "probe@example.com")
            .await
            .status,
        201
    );
    for _ in 0..2 {
        let again = apply_from(&app, "203.0.113.8", &key, "probe@example.com").await;
        again.assert_problem(409, "application_exists");
    }
    let refused = apply_from(&app, "203.0.113.8", &key, "probe@example.com").await;
    assert_rate_limited(&refused, "apply", 3);
}

/// On a warm instance the counter rides in the application's transaction: the
/// same round trips as without a limit.
async fn the_apply_limit_costs_no_round_trip(app: TestApp) {
    let key = app.publishable_key.clone();
    assert_eq!(
        apply_from(&app, "203.0.113.9", &key, "warm@example.com")
            .await
            .status,
        201
    );
    let before = app.calls();
    assert_eq!(
        apply_from(&app, "203.0.113.9", &key, "counted@example.com")
            .await
            .status,
        201
    );
    let calls = app.calls().since(before);
    assert_eq!(
        (calls.transactions, calls.writes, calls.gets, calls.queries),
        (1, 1, 0, 0),
        "{calls:?}"
    );
}

async fn track_from(app: &TestApp, ip: &str, code: &str) -> TestResponse {
    let body = json!({"code": code, "url": "https://shop.example.com/"}).to_string();
    app.send(from(
        ip,
        request(
            Method::POST,
            "/v1/affiliate/track",
            Some(&app.publishable_key),
            Some(body),
        ),
    ))
    .await
}

/// Clicks are limited per IP in the click's own write (one read and one write
/// per click, as without a limit), and guessing codes counts too.
async fn clicks_are_limited_per_ip_in_their_own_write(app: TestApp) {
    inside_one_window(20).await;
    change_settings(&app, json!({"rateLimits": {"trackPerIp": 3}})).await;
    let id = app.applied("clicker@example.com", "Clicker").await;
    let approved = app
        .review(&id, &json!({"action": "approve", "code": "CLICK1"}))
        .await;
    assert_eq!(approved.status, 200, "{:#}", approved.body);
    // The first use of the publishable key reads it; then the instance knows it.
    assert_eq!(track_from(&app, "203.0.113.12", "CLICK1").await.status, 201);
    let before = app.calls();
    assert_eq!(track_from(&app, "203.0.113.10", "CLICK1").await.status, 201);
    let calls = app.calls().since(before);
    assert_eq!(
        (calls.gets, calls.transactions + calls.writes, calls.queries),
        (1, 1, 0),
        "{calls:?}"
    );
    track_from(&app, "203.0.113.10", "NOSUCH")
        .await
        .assert_problem(404, "code_not_found");
    assert_eq!(track_from(&app, "203.0.113.10", "CLICK1").await.status, 201);
    let refused = track_from(&app, "203.0.113.10", "CLICK1").await;
    assert_rate_limited(&refused, "track", 3);
    assert_eq!(track_from(&app, "203.0.113.11", "CLICK1").await.status, 201);
    // Two clicks of the first IP and one of each other: the refused one left no trace.
    let code = partner_domain::ReferralCode::parse("code", "CLICK1").unwrap();
    let target = app
        .store
        .clicks()
        .code_target(&app.app_id, &code)
        .await
        .unwrap()
        .unwrap();
    let stats = app
        .store
        .clicks()
        .stats(&app.app_id, &target.customer_id, &target.affiliate_id)
        .await
        .unwrap();
    assert_eq!(stats.clicks, 4);
}

/// A flood of garbage keys from one IP is cut off after the failed-authentication
/// limit, even for a valid key from that IP; another IP is not affected.
async fn failed_authentication_is_limited_per_ip(store: partner_store::Store) {
    inside_one_window(20).await;
    let mut config = test_config();
    config.rate_limits.failed_auth_per_minute = 5;
    let app = TestApp::with_config(store, config).await;
    let status = |key: String, ip: &'static str| {
        let app = app.clone();
        async move {
            app.send(from(
                ip,
                request(
                    Method::GET,
                    "/v1/affiliate/apply/status?email=a%40example.com",
                    Some(&key),
                    None,
                ),
            ))
            .await
        }
    };
    for n in 0..5 {
        let garbage = format!("sk_live_garbage{n:032}");
        status(garbage, "192.0.2.66")
            .await
            .assert_problem(401, "unauthorized");
    }
    let cut_off = status("sk_live_garbage_more".into(), "192.0.2.66").await;
    assert_rate_limited(&cut_off, "failed-auth", 5);
    // Blocked on this instance without touching the store, valid key or not.
    let before = app.calls();
    let valid_from_flooder = status(app.api_key.clone(), "192.0.2.66").await;
    assert_rate_limited(&valid_from_flooder, "failed-auth", 5);
    assert_eq!(app.calls().since(before).total(), 0);
    let other = status(app.api_key.clone(), "192.0.2.67").await;
    assert_eq!(other.status, 200, "{:#}", other.body);
}

/// A repeated garbage key costs one read per instance: its refusal is cached.
async fn a_repeated_garbage_key_is_read_once(app: TestApp) {
    let before = app.calls();
    for _ in 0..5 {
        let response = app
            .get(
                "/v1/affiliate/apply/status?email=a%40example.com",
                Some("sk_live_the_same_garbage_key"),
            )
            .await;
        response.assert_problem(401, "unauthorized");
    }
    assert_eq!(app.calls().since(before).gets, 1);
}

/// Requests per key are counted in memory and added to the shared counter in
/// batches; past the app's `perKey` the key is refused, other apps' keys are not.
async fn requests_per_key_are_limited(store: partner_store::Store) {
    inside_one_window(20).await;
    let mut config = test_config();
    config.rate_limits.key_sync_every = 1;
    let app = TestApp::with_config(store, config).await;
    change_settings(&app, json!({"rateLimits": {"perKey": 4}})).await;
    for n in 0..4 {
        let response = app.status_of("nobody@example.com").await;
        assert_eq!(response.status, 200, "#{n}: {:#}", response.body);
    }
    let refused = app.status_of("nobody@example.com").await;
    assert_rate_limited(&refused, "key", 4);
    let (_, other_key) = app.second_app().await;
    let other = app
        .get(
            "/v1/affiliate/apply/status?email=nobody%40example.com",
            Some(&other_key),
        )
        .await;
    assert_eq!(other.status, 200, "{:#}", other.body);
}

/// The limits are settings with defaults, validated like the others.
async fn limits_are_settings(app: TestApp) {
    let current = settings(&app, Method::GET, None).await;
    assert_eq!(
        current.body["rateLimits"],
        json!({"applyPerIp": 10, "trackPerIp": 120, "perKey": 60000})
    );
    let changed = settings(
        &app,
        Method::PUT,
        Some(&json!({"rateLimits": {"trackPerIp": 500}})),
    )
    .await;
    assert_eq!(
        changed.body["rateLimits"],
        json!({"applyPerIp": 10, "trackPerIp": 500, "perKey": 60000})
    );
    let zero = settings(
        &app,
        Method::PUT,
        Some(&json!({"rateLimits": {"applyPerIp": 0}})),
    )
    .await;
    zero.assert_problem(400, "invalid_request");
    assert_eq!(zero.body["field"], "rateLimits.applyPerIp");
}

partner_tests::on_both_backends!(
    the_eleventh_apply_from_one_ip_is_refused,
    refused_applications_count_against_the_limit,
    the_apply_limit_costs_no_round_trip,
    clicks_are_limited_per_ip_in_their_own_write,
    a_repeated_garbage_key_is_read_once,
    limits_are_settings,
);

mod with_config {
    #[tokio::test]
    async fn failed_authentication_is_limited_per_ip_embedded() {
        super::failed_authentication_is_limited_per_ip(partner_store::testing::memory()).await
    }

    #[tokio::test]
    async fn failed_authentication_is_limited_per_ip_dynamodb() {
        super::failed_authentication_is_limited_per_ip(partner_store::testing::moto().await).await
    }

    #[tokio::test]
    async fn requests_per_key_are_limited_embedded() {
        super::requests_per_key_are_limited(partner_store::testing::memory()).await
    }

    #[tokio::test]
    async fn requests_per_key_are_limited_dynamodb() {
        super::requests_per_key_are_limited(partner_store::testing::moto().await).await
    }
}
