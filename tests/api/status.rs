//! `GET /v1/affiliate/apply/status`.

use partner_tests::{TestApp, example_application, on_both_backends};
use serde_json::json;

async fn an_unknown_email_has_not_applied(app: TestApp) {
    let response = app.status_of("nobody@example.com").await;
    assert_eq!(response.status, 200);
    assert_eq!(response.body, json!({"applied": false}));
}

async fn an_applicant_sees_its_pending_application_in_any_case(app: TestApp) {
    let applied = app.apply(&example_application()).await;
    let response = app.status_of("Partner@EXAMPLE.com").await;
    assert_eq!(response.status, 200);
    assert_eq!(response.body["applied"], true);
    assert_eq!(response.body["status"], "pending");
    assert_eq!(response.body["id"], applied.body["id"]);
    assert_eq!(response.body["submittedAt"], applied.body["submittedAt"]);
    assert!(response.body.get("reviewedAt").is_none());
    assert!(response.body.get("rejectionReason").is_none());
}

async fn status_is_one_read_when_the_key_is_cached(app: TestApp) {
    app.apply(&example_application()).await;
    let before = app.calls();
    app.status_of("partner@example.com").await;
    let calls = app.calls().since(before);
    assert_eq!((calls.gets, calls.total()), (1, 1), "{calls:?}");
}

async fn another_apps_key_never_sees_this_apps_applications(app: TestApp) {
    app.apply(&example_application()).await;
    let (_, other_key) = app.second_app().await;
    let response = app
        .get(
            "/v1/affiliate/apply/status?email=partner%40example.com",
            Some(&other_key),
        )
        .await;
    assert_eq!(response.body, json!({"applied": false}));
}

on_both_backends!(
    an_unknown_email_has_not_applied,
    an_applicant_sees_its_pending_application_in_any_case,
    status_is_one_read_when_the_key_is_cached,
    another_apps_key_never_sees_this_apps_applications,
);

#[tokio::test]
async fn a_missing_or_invalid_email_is_400() {
    let app = TestApp::memory().await;
    let missing = app
        .get("/v1/affiliate/apply/status", Some(&app.api_key))
        .await;
    missing.assert_problem(400, "invalid_request");
    assert_eq!(missing.body["field"], "email");
    app.status_of("not an email")
        .await
        .assert_problem(400, "invalid_request");
}

#[tokio::test]
async fn checking_status_changes_nothing() {
    let app = TestApp::memory().await;
    let before = app.calls();
    app.status_of("partner@example.com").await;
    app.status_of("partner@example.com").await;
    let calls = app.calls().since(before);
    assert_eq!((calls.writes, calls.transactions), (0, 0));
    assert_eq!(app.apply(&example_application()).await.status, 201);
}

#[tokio::test]
async fn status_needs_an_api_key() {
    let app = TestApp::memory().await;
    app.get("/v1/affiliate/apply/status?email=a%40b.co", None)
        .await
        .assert_problem(401, "unauthorized");
}
