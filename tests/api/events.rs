//! Every sample event in `events/` runs through its function's handler, so the
//! samples `cargo lambda invoke` uses cannot rot.
//!
//! An event file is named after its function's binary (`apply.json`,
//! `status-not-applied.json`, …). API keys in the samples are placeholders; the
//! test swaps in a real key of a fresh app that has one application, from
//! `existing@example.com`.

use lambda_http::request::from_str;
use partner_service::AppState;
use tower::ServiceExt as _;

/// The status each sample must produce; every file in `events/` must be listed.
const EXPECTED_STATUS: &[(&str, u16)] = &[
    ("apply", 201),
    ("apply-duplicate", 409),
    ("status", 200),
    ("status-not-applied", 200),
    ("by-customer", 200),
    ("admin-applications", 200),
    ("admin-create-group", 201),
    ("admin-groups", 200),
    ("admin-group-unknown", 404),
    ("admin-patch-group-unknown", 404),
    ("admin-delete-group-unknown", 404),
    ("admin-review", 200),
    ("admin-settings", 200),
    ("admin-commissions", 200),
    ("admin-deals", 200),
    ("partner-session", 201),
    // The sample customer is not a partner.
    ("partner-affiliate", 200),
    ("partner-portal-expired", 401),
    ("partner-dashboard-not-a-partner", 404),
    ("partner-portal-link-not-a-partner", 404),
    ("partner-register-deal-not-a-partner", 404),
    ("partner-deals-not-a-partner", 404),
    ("partner-portal-deal-expired-link", 401),
    ("admin-application", 200),
    ("admin-put-settings", 200),
    ("admin-partners", 200),
    ("admin-partner-unknown", 404),
    ("admin-patch-partner-unknown", 404),
    ("admin-patch-deal-unknown", 404),
    ("admin-create-payouts", 202),
    ("admin-bulk-review", 200),
    ("admin-payout-run-unknown", 404),
    ("admin-payouts", 200),
    ("admin-mark-paid-unknown", 404),
    ("admin-create-webhook", 201),
    ("admin-webhooks", 200),
    ("admin-webhook-unknown", 404),
    ("admin-patch-webhook-unknown", 404),
    ("admin-delete-webhook-unknown", 404),
    ("admin-rotate-secret-unknown", 404),
    ("admin-deliveries-unknown", 404),
    ("admin-replay-unknown", 404),
    // The sample app has no partner with this code yet: the handler answers 404.
    ("track-unknown-code", 404),
    ("conversions-referral-unknown-code", 404),
    // A customer nobody referred: recorded, nothing earned.
    ("conversions-revenue", 201),
    // CORS preflights need no credentials.
    ("apply-preflight", 204),
    ("track-preflight", 204),
    ("partner-affiliate-preflight", 204),
    ("partner-dashboard-preflight", 204),
    ("partner-portal-link-preflight", 204),
    ("partner-deals-preflight", 204),
    ("admin-api-keys", 200),
    ("admin-create-api-key", 201),
    ("admin-revoke-api-key-unknown", 404),
    ("admin-audit-log", 200),
    ("admin-connect-stripe", 200),
    ("admin-stripe-not-connected", 404),
    ("admin-disconnect-stripe-not-connected", 404),
    ("admin-stripe-events", 200),
    // Signed by Stripe's library with the secret its name shows, for an app that
    // has not connected Stripe (a signature is good for 300 seconds only).
    ("integrations-stripe-not-connected", 404),
];

/// Functions that are not HTTP functions; their samples are run by their own tests
/// (`outbox.rs` runs `outbox-relay.json`, `webhooks_moto.rs` runs
/// `webhook-dispatcher.json`, `payouts.rs` runs `payout-runner.json`).
const OTHER_FUNCTIONS: &[&str] = &[
    "outbox-relay",
    "webhook-dispatcher",
    "commission-approver",
    "payout-runner",
];

const SAMPLE_APP: &str = "app_01JD8Z6Q3R4S5T6V7W8X9Y0Z1A";
const SAMPLE_APPLICATION: &str = "apl_01JD8Z7B2C3D4E5F6G7H8J9K0M";
const SAMPLE_ADMIN_JWT: &str = "ADMIN_JWT_FROM_PARTNERCTL_TOKEN_ADMIN";
const SAMPLE_SESSION: &str = "SESSION_TOKEN_FROM_POST_V1_SESSIONS";

/// A session token of the test configuration for `cust_123` of `app`.
fn sample_session(app: &partner_domain::AppId) -> String {
    let subject = partner_service::session::Subject {
        app_id: app.clone(),
        customer_id: partner_domain::CustomerId::parse("c", "cust_123").unwrap(),
    };
    let config = partner_tests::test_config();
    partner_service::session::mint_session(
        config.session_secret.as_ref().map(|s| s.as_str()),
        &subject,
    )
    .unwrap()
    .0
}

fn events_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../events")
}

/// The function an event file belongs to: the longest binary name it starts with.
fn function_of(file_stem: &str) -> Option<&'static partnerctl::HttpFunction> {
    partnerctl::FUNCTIONS
        .iter()
        .filter(|f| file_stem == f.name || file_stem.starts_with(&format!("{}-", f.name)))
        .max_by_key(|f| f.name.len())
}

#[tokio::test]
async fn every_route_has_a_sample_event() {
    let mut missing = Vec::new();
    let samples: Vec<serde_json::Value> = std::fs::read_dir(events_dir())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .map(|path| serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap())
        .collect();
    for function in partnerctl::FUNCTIONS {
        for route in function.routes {
            let key = format!("{} {}", route.method.as_method(), route.path);
            if !samples
                .iter()
                .any(|sample| sample["routeKey"] == key.as_str())
            {
                missing.push(key);
            }
        }
    }
    assert!(
        missing.is_empty(),
        "routes without a sample event: {missing:#?}"
    );
}

#[tokio::test]
async fn every_sample_event_runs_through_its_handler() {
    let mut covered = std::collections::BTreeSet::new();
    let mut files: Vec<_> = std::fs::read_dir(events_dir())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no sample events");
    for path in files {
        let stem = path.file_stem().unwrap().to_str().unwrap().to_owned();
        if OTHER_FUNCTIONS.contains(&stem.as_str()) {
            continue;
        }
        let function =
            function_of(&stem).unwrap_or_else(|| panic!("{stem}.json matches no function"));
        let store = partner_store::testing::memory();
        let created = store.apps().create("Events").await.unwrap();
        // So status and duplicate samples have something to find.
        let state = AppState::new(store.clone(), partner_tests::test_config(), None).unwrap();
        let existing =
            partner_tests::seed_application(&store, &created, "existing@example.com").await;
        // Samples name a placeholder app, application and admin token; use real ones.
        let text = std::fs::read_to_string(&path)
            .unwrap()
            .replace(SAMPLE_APP, created.app.id.as_str())
            .replace(SAMPLE_APPLICATION, existing.id.as_str())
            .replace(
                SAMPLE_ADMIN_JWT,
                &partner_tests::admin_token_for(std::slice::from_ref(&created.app.id)),
            )
            .replace(SAMPLE_SESSION, &sample_session(&created.app.id));
        let mut event: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            event["version"], "2.0",
            "{stem}: API Gateway HTTP API (v2) events only"
        );
        if event["headers"].get("x-api-key").is_some() {
            event["headers"]["x-api-key"] = serde_json::json!(created.api_key.secret());
        }
        let request = from_str(&event.to_string()).unwrap_or_else(|e| panic!("{stem}: {e}"));
        let router = partner_service::http::finish((function.router)(), state);
        let response = router.oneshot(request).await.unwrap();
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        let expected = EXPECTED_STATUS
            .iter()
            .find(|(name, _)| *name == stem)
            .map(|(_, status)| *status)
            .unwrap_or_else(|| panic!("add {stem}.json to EXPECTED_STATUS"));
        assert_eq!(
            status.as_u16(),
            expected,
            "{stem}: {}",
            String::from_utf8_lossy(&body)
        );
        covered.insert(function.name);
    }
    for function in partnerctl::FUNCTIONS {
        assert!(
            covered.contains(function.name),
            "no sample event for {}",
            function.name
        );
    }
}
