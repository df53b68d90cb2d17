//! Cold starts: a new instance knows no key yet, and still answers status,
//! by-customer and track with the round trips of a warm one, because current keys
//! name their app and the request's first read goes in the key lookup's batch.
//! Nothing is answered from that read unless the key verifies.

use partner_domain::api_key::{ApiKeyHash, random_base62};
use partner_store::keys;
use partner_tests::{TestApp, encode_query, example_application, on_both_backends};
use serde_json::{Value, json};

/// Applies as `partner@example.com` and approves it with code JANE20 for
/// `partner_user`.
async fn partner(app: &TestApp) {
    let applied = app
        .apply(
            &json!({"email": "partner@example.com", "name": "Jane", "customerId": "partner_user"}),
        )
        .await;
    assert_eq!(applied.status, 201, "{:#}", applied.body);
    let approved = app
        .review(
            applied.body["id"].as_str().unwrap(),
            &json!({"action": "approve", "code": "JANE20"}),
        )
        .await;
    assert_eq!(approved.status, 200, "{:#}", approved.body);
}

fn status_path(email: &str) -> String {
    format!("/v1/affiliate/apply/status?email={}", encode_query(email))
}

async fn status_and_by_customer_are_one_round_trip_on_a_cold_start(app: TestApp) {
    partner(&app).await;
    let cold = app.cold();
    let before = cold.calls();
    let status = cold
        .get(&status_path("partner@example.com"), Some(&app.api_key))
        .await;
    assert_eq!(status.body["status"], "approved", "{:#}", status.body);
    let calls = cold.calls().since(before);
    assert_eq!(
        (calls.gets, calls.total()),
        (1, 1),
        "cold status: {calls:?}"
    );

    let cold = app.cold();
    let before = cold.calls();
    let partner = cold
        .get("/v1/affiliate/by-customer/partner_user", Some(&app.api_key))
        .await;
    assert_eq!(partner.body["code"], "JANE20", "{:#}", partner.body);
    let calls = cold.calls().since(before);
    assert_eq!(
        (calls.gets, calls.total()),
        (1, 1),
        "cold by-customer: {calls:?}"
    );
    // Warm, the same.
    let before = cold.calls();
    cold.get("/v1/affiliate/by-customer/partner_user", Some(&app.api_key))
        .await;
    assert_eq!(cold.calls().since(before).total(), 1);
}

async fn track_is_one_read_and_one_write_on_a_cold_start(app: TestApp) {
    partner(&app).await;
    let click =
        json!({"code": "JANE20", "url": "https://example.com/?ref=JANE20", "visitorId": "v1"});
    let cold = app.cold();
    let before = cold.calls();
    let tracked = cold
        .post_json("/v1/affiliate/track", Some(&app.publishable_key), &click)
        .await;
    assert_eq!(tracked.status, 201, "{:#}", tracked.body);
    let calls = cold.calls().since(before);
    assert_eq!(
        (calls.gets, calls.transactions, calls.total()),
        (1, 1, 2),
        "cold track: {calls:?}"
    );
}

on_both_backends!(
    status_and_by_customer_are_one_round_trip_on_a_cold_start,
    track_is_one_read_and_one_write_on_a_cold_start,
);

#[tokio::test]
async fn a_browser_click_checks_its_origin_against_the_settings_read_with_the_key() {
    let app = TestApp::memory().await;
    partner(&app).await;
    let path = format!("/v1/apps/{}/affiliates/settings", app.app_id);
    app.admin(
        axum::http::Method::PUT,
        &path,
        Some(&app.admin_token()),
        Some(&json!({"allowedOrigins": ["https://shop.example.com"]})),
    )
    .await;
    let click = json!({"code": "JANE20", "url": "https://shop.example.com/?ref=JANE20"});
    let send = |cold: TestApp, origin: &'static str| {
        let click = click.clone();
        async move {
            let request = axum::http::Request::builder()
                .method("POST")
                .uri("/v1/affiliate/track")
                .header("x-api-key", cold.publishable_key.clone())
                .header("content-type", "application/json")
                .header("origin", origin)
                .body(axum::body::Body::from(click.to_string()))
                .unwrap();
            let before = cold.calls();
            let response = cold.send(request).await;
            (response, cold.calls().since(before))
        }
    };
    let (allowed, calls) = send(app.cold(), "https://shop.example.com").await;
    assert_eq!(allowed.status, 201, "{:#}", allowed.body);
    assert_eq!(
        allowed.headers["access-control-allow-origin"],
        "https://shop.example.com"
    );
    assert_eq!((calls.gets, calls.total()), (1, 2), "{calls:?}");
    let (foreign, calls) = send(app.cold(), "https://evil.example.net").await;
    foreign.assert_problem(403, "origin_not_allowed");
    assert_eq!(
        (calls.gets, calls.total()),
        (1, 1),
        "refused before any write: {calls:?}"
    );
}

#[tokio::test]
async fn a_key_made_before_keys_named_their_app_costs_one_more_read_cold() {
    let app = TestApp::memory().await;
    app.apply(&example_application()).await;
    // A stored key of the old shape (`pk_live_` and 40 characters, no app id): a
    // copy of the app's secret key record under the hash of such a key.
    let current = keys::api_key(ApiKeyHash::of(&app.api_key).as_str());
    let mut item = app.store.get(&current, true).await.unwrap().unwrap();
    let legacy = format!("pk_live_{}", random_base62(40));
    let old = keys::api_key(ApiKeyHash::of(&legacy).as_str());
    item.insert("pk".into(), Value::String(old.pk));
    item.insert("sk".into(), Value::String(old.sk));
    item.remove("gsi1pk");
    item.remove("gsi1sk");
    app.store
        .write(partner_store::WriteOp::Put {
            item,
            condition: None,
        })
        .await
        .unwrap();
    let cold = app.cold();
    let before = cold.calls();
    let status = cold
        .get(&status_path("partner@example.com"), Some(&legacy))
        .await;
    assert_eq!(status.body["status"], "pending", "{:#}", status.body);
    assert_eq!(cold.calls().since(before).gets, 2);
    let before = cold.calls();
    cold.get(&status_path("partner@example.com"), Some(&legacy))
        .await;
    assert_eq!(
        cold.calls().since(before).gets,
        1,
        "warm: the key is cached"
    );
}

#[tokio::test]
async fn a_key_naming_another_app_reads_nothing_of_it() {
    let app = TestApp::memory().await;
    app.apply(&example_application()).await;
    let (other, other_key) = app.second_app().await;
    // The other app's key with this app's id in it: not a key anyone was given.
    let forged = other_key.replace(
        other.as_str().trim_start_matches("app_"),
        app.app_id.as_str().trim_start_matches("app_"),
    );
    assert_ne!(forged, other_key);
    let cold = app.cold();
    let response = cold
        .get(&status_path("partner@example.com"), Some(&forged))
        .await;
    response.assert_problem(401, "unauthorized");
    assert!(!response.body.to_string().contains("pending"));
    // And a real key of the other app sees nothing of this one, cold too.
    let response = app
        .cold()
        .get(&status_path("partner@example.com"), Some(&other_key))
        .await;
    assert_eq!(response.body, json!({"applied": false}));
}

#[tokio::test]
async fn without_a_valid_key_a_bad_parameter_is_still_401() {
    let app = TestApp::memory().await;
    let garbage = format!(
        "sk_live_{}_{}",
        app.app_id.as_str().trim_start_matches("app_"),
        random_base62(40)
    );
    app.cold()
        .get(
            "/v1/affiliate/apply/status?email=not-an-email",
            Some(&garbage),
        )
        .await
        .assert_problem(401, "unauthorized");
    app.cold()
        .get("/v1/affiliate/by-customer/bad%20id", Some(&garbage))
        .await
        .assert_problem(401, "unauthorized");
    app.cold()
        .post_json("/v1/affiliate/track", Some(&garbage), &json!({"code": "x"}))
        .await
        .assert_problem(401, "unauthorized");
}
