//! `POST /v1/affiliate/apply`.

use partner_domain::audit::{AuditAction, SubjectKind};
use partner_tests::{TestApp, example_application, on_both_backends, request};
use serde_json::json;

async fn the_documented_example_creates_a_pending_application(app: TestApp) {
    let response = app.apply(&example_application()).await;
    assert_eq!(response.status, 201, "{:#}", response.body);
    assert_eq!(response.content_type(), "application/json");
    assert_eq!(response.body["status"], "pending");
    assert!(response.body["id"].as_str().unwrap().starts_with("apl_"));
    assert!(!response.body["message"].as_str().unwrap().is_empty());
}

async fn applying_twice_with_the_same_email_in_another_case_returns_409(app: TestApp) {
    assert_eq!(app.apply(&example_application()).await.status, 201);
    let again = app
        .apply(&json!({"email": "  PARTNER@Example.com ", "name": "Someone Else"}))
        .await;
    again.assert_problem(409, "application_exists");
    assert_eq!(again.body["field"], "email");
}

async fn twenty_concurrent_applies_with_one_email_create_exactly_one(app: TestApp) {
    let attempts: Vec<_> = (0..20)
        .map(|n| {
            let app = app.clone();
            let email = if n % 2 == 0 {
                "race@example.com"
            } else {
                "RACE@example.com"
            };
            tokio::spawn(async move {
                app.apply(&json!({"email": email, "name": format!("Racer {n}")}))
                    .await
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for attempt in attempts {
        statuses.push(attempt.await.unwrap().status.as_u16());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        19,
        "{statuses:?}"
    );
}

async fn apply_is_one_transaction_plus_the_publish_when_the_key_is_cached(app: TestApp) {
    // The first request verifies the key (one read) and caches it.
    assert_eq!(
        app.apply(&json!({"email": "warmup@example.com", "name": "W"}))
            .await
            .status,
        201
    );
    let before = app.calls();
    assert_eq!(app.apply(&example_application()).await.status, 201);
    let calls = app.calls().since(before);
    // One transaction (settings check, application, email marker, outbox event),
    // then the publish marks the event published: one write.
    assert_eq!(
        (calls.transactions, calls.writes, calls.gets, calls.queries),
        (1, 1, 0, 0),
        "{calls:?}"
    );
}

async fn apply_publishes_partner_application_submitted(app: TestApp) {
    let mut events = app.bus.subscribe();
    let id = app.applied("partner@example.com", "Jane Smith").await;
    let event = events.try_recv().expect("an event was published");
    assert_eq!(event.event.as_str(), "partner_application_submitted");
    assert_eq!(event.app_id, app.app_id);
    assert_eq!(event.data["application"]["id"], id);
    assert_eq!(event.data["application"]["email"], "partner@example.com");
    let (_, published) = app
        .store
        .outbox()
        .get(&app.app_id, &event.id)
        .await
        .unwrap()
        .unwrap();
    assert!(published, "the outbox item is marked published");
}

async fn a_disabled_program_refuses_applications_with_403(app: TestApp) {
    let mut settings = app
        .store
        .apps()
        .settings(&app.app_id)
        .await
        .unwrap()
        .unwrap();
    settings.enabled = false;
    let audit = partner_tests::test_audit_entry(
        &app.app_id,
        AuditAction::SettingsUpdated,
        SubjectKind::Settings,
        &app.app_id,
    );
    assert!(
        app.store
            .apps()
            .put_settings(&app.app_id, &settings, &audit)
            .await
            .unwrap()
    );
    app.apply(&example_application())
        .await
        .assert_problem(403, "program_disabled");
    let status = app.status_of("partner@example.com").await;
    assert_eq!(status.body, json!({"applied": false}));
}

on_both_backends!(
    the_documented_example_creates_a_pending_application,
    applying_twice_with_the_same_email_in_another_case_returns_409,
    twenty_concurrent_applies_with_one_email_create_exactly_one,
    apply_is_one_transaction_plus_the_publish_when_the_key_is_cached,
    apply_publishes_partner_application_submitted,
    a_disabled_program_refuses_applications_with_403,
);

#[tokio::test]
async fn invalid_email_and_missing_or_blank_name_are_400_naming_the_field() {
    let app = TestApp::memory().await;
    let bad_email = app
        .apply(&json!({"email": "not-an-email", "name": "Jane"}))
        .await;
    bad_email.assert_problem(400, "invalid_request");
    assert_eq!(bad_email.body["field"], "email");
    let missing_name = app.apply(&json!({"email": "jane@example.com"})).await;
    missing_name.assert_problem(400, "invalid_request");
    assert_eq!(missing_name.body["field"], "name");
    let blank_name = app
        .apply(&json!({"email": "jane@example.com", "name": "   "}))
        .await;
    blank_name.assert_problem(400, "invalid_request");
    assert_eq!(blank_name.body["field"], "name");
}

#[tokio::test]
async fn over_long_fields_are_400_naming_the_field() {
    let app = TestApp::memory().await;
    for (field, value) in [
        ("name", "n".repeat(201)),
        ("company", "c".repeat(201)),
        ("reason", "r".repeat(2001)),
    ] {
        let mut body = json!({"email": "jane@example.com", "name": "Jane"});
        body[field] = json!(value);
        let response = app.apply(&body).await;
        response.assert_problem(400, "invalid_request");
        assert_eq!(response.body["field"], field);
    }
}

#[tokio::test]
async fn unknown_fields_and_wrong_types_are_400() {
    let app = TestApp::memory().await;
    let unknown = app
        .apply(&json!({"email": "jane@example.com", "name": "Jane", "emial": "x"}))
        .await;
    unknown.assert_problem(400, "invalid_request");
    assert!(unknown.body["detail"].as_str().unwrap().contains("emial"));
    let wrong_type = app
        .apply(&json!({"email": "jane@example.com", "name": 42}))
        .await;
    wrong_type.assert_problem(400, "invalid_request");
    assert_eq!(wrong_type.body["field"], "name");
}

#[tokio::test]
async fn malformed_json_is_400() {
    let app = TestApp::memory().await;
    let response = app
        .send(request(
            axum::http::Method::POST,
            "/v1/affiliate/apply",
            Some(&app.api_key),
            Some("{\"email\": ".into()),
        ))
        .await;
    response.assert_problem(400, "malformed_json");
}

#[tokio::test]
async fn a_200_kb_body_is_413() {
    let app = TestApp::memory().await;
    let body =
        json!({"email": "jane@example.com", "name": "Jane", "reason": "x".repeat(200 * 1024)});
    app.apply(&body)
        .await
        .assert_problem(413, "payload_too_large");
}

#[tokio::test]
async fn a_non_json_content_type_is_415() {
    let app = TestApp::memory().await;
    let request = axum::http::Request::builder()
        .method("POST")
        .uri("/v1/affiliate/apply")
        .header("x-api-key", &app.api_key)
        .header("content-type", "text/plain")
        .body(axum::body::Body::from(example_application().to_string()))
        .unwrap();
    app.send(request)
        .await
        .assert_problem(415, "unsupported_media_type");
}

#[tokio::test]
async fn no_key_or_a_wrong_key_is_401() {
    let app = TestApp::memory().await;
    app.post_json("/v1/affiliate/apply", None, &example_application())
        .await
        .assert_problem(401, "unauthorized");
    let forged = format!("pk_live_{}", "A".repeat(40));
    app.post_json("/v1/affiliate/apply", Some(&forged), &example_application())
        .await
        .assert_problem(401, "unauthorized");
    app.post_json(
        "/v1/affiliate/apply",
        Some("Bearer nonsense"),
        &example_application(),
    )
    .await
    .assert_problem(401, "unauthorized");
}

#[tokio::test]
async fn a_revoked_key_is_refused_once_its_cache_entry_expires() {
    let mut config =
        partner_service::config::Config::for_store(partner_service::config::StoreConfig::Memory);
    config.api_key_cache = std::time::Duration::ZERO;
    let app = TestApp::with_config(partner_store::testing::memory(), config).await;
    assert_eq!(app.apply(&example_application()).await.status, 201);
    let keys = app.store.apps().list_api_keys(&app.app_id).await.unwrap();
    let secret = keys
        .iter()
        .find(|k| k.kind == partner_domain::api_key::KeyKind::Secret)
        .unwrap();
    app.store
        .apps()
        .revoke_api_key(&app.app_id, &secret.id, &partner_tests::test_admin())
        .await
        .unwrap();
    app.apply(&json!({"email": "late@example.com", "name": "Late"}))
        .await
        .assert_problem(401, "unauthorized");
}

#[tokio::test]
async fn every_key_of_an_app_works_and_applications_are_per_app() {
    let app = TestApp::memory().await;
    let (second_key_record, second_key) = app
        .store
        .apps()
        .create_api_key(
            &app.app_id,
            partner_domain::api_key::KeyKind::Secret,
            Some("second"),
            &partner_tests::test_admin(),
        )
        .await
        .unwrap()
        .unwrap();
    assert!(second_key_record.display_prefix.starts_with("sk_live_"));
    assert_eq!(app.apply(&example_application()).await.status, 201);
    let again = app
        .post_json(
            "/v1/affiliate/apply",
            Some(second_key.secret()),
            &example_application(),
        )
        .await;
    again.assert_problem(409, "application_exists");
    // The same email applies to another app independently.
    let (_, other_key) = app.second_app().await;
    let other = app
        .post_json(
            "/v1/affiliate/apply",
            Some(&other_key),
            &example_application(),
        )
        .await;
    assert_eq!(other.status, 201);
}

#[tokio::test]
async fn every_response_is_marked_uncacheable() {
    let app = TestApp::memory().await;
    let response = app.apply(&example_application()).await;
    assert_eq!(response.headers["cache-control"], "no-store");
}

#[tokio::test]
async fn a_repeated_unknown_key_costs_one_store_read_per_instance() {
    let app = TestApp::memory().await;
    let garbage = format!(
        "sk_live_{}_{}",
        app.app_id.as_str().trim_start_matches("app_"),
        "x".repeat(40)
    );
    let before = app.calls();
    for _ in 0..5 {
        app.post_json(
            "/v1/affiliate/apply",
            Some(&garbage),
            &example_application(),
        )
        .await
        .assert_problem(401, "unauthorized");
    }
    assert_eq!(app.calls().since(before).total(), 1);
    // A real key of the app still works meanwhile.
    assert_eq!(app.apply(&example_application()).await.status, 201);
}
