//! Webhooks: endpoint management and its limit, signed deliveries to a real
//! receiver, retries, the delivery log, 410, redirects, time-outs, rotation and
//! SSRF refusals.

use std::time::Duration;

use axum::http::Method;
use partner_domain::webhooks::WebhookSecret;
use partner_tests::{Received, Receiver, Reply, TestApp, webhook_config};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(10);

fn webhooks_path(app: &TestApp) -> String {
    format!("/v1/apps/{}/webhooks", app.app_id)
}

async fn register(app: &TestApp, url: &str) -> (String, WebhookSecret) {
    let response = app
        .admin(
            Method::POST,
            &webhooks_path(app),
            Some(&app.admin_token()),
            Some(&json!({"url": url, "events": ["partner_application_approved", "partner_application_rejected"]})),
        )
        .await;
    assert_eq!(response.status, 201, "{:#}", response.body);
    (
        response.body["id"].as_str().unwrap().to_owned(),
        WebhookSecret::parse(response.body["secret"].as_str().unwrap()).unwrap(),
    )
}

/// Checks a delivery's Standard Webhooks signature against `secret`.
fn verifies(received: &Received, secret: &WebhookSecret) -> bool {
    let id = received.header("webhook-id");
    let Ok(timestamp) = received.header("webhook-timestamp").parse::<i64>() else {
        return false;
    };
    let expected = secret.sign(&id, timestamp, &received.body);
    received
        .header("webhook-signature")
        .split(' ')
        .any(|s| s == expected)
}

/// The endpoint's delivery log once `done` holds for it (polled: the dispatcher works
/// in the background, and a loaded machine may take a while).
async fn log_when(app: &TestApp, endpoint: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let log = app
            .admin(
                Method::GET,
                &format!("{}/{endpoint}/deliveries", webhooks_path(app)),
                Some(&app.admin_token()),
                None,
            )
            .await
            .body;
        if done(&log) || std::time::Instant::now() > deadline {
            return log;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Whether the first delivery of a log is over (succeeded or failed).
fn settled(log: &Value) -> bool {
    log["data"][0]["status"]
        .as_str()
        .is_some_and(|s| s != "pending")
}

/// Whether the first delivery of a log has at least `n` attempts recorded.
fn attempts(n: usize) -> impl Fn(&Value) -> bool {
    move |log: &Value| {
        log["data"][0]["attempts"]
            .as_array()
            .is_some_and(|a| a.len() >= n)
    }
}

async fn approve(app: &TestApp, email: &str) -> Value {
    let id = app.applied(email, "Jane Smith").await;
    let response = app
        .review(
            &id,
            &json!({"action": "approve", "code": format!("C{}", &id[id.len() - 6..])}),
        )
        .await;
    assert_eq!(response.status, 200, "{:#}", response.body);
    response.body
}

#[tokio::test]
async fn the_secret_is_shown_once_and_never_listed() {
    let (app, _) =
        TestApp::with_webhooks(partner_store::testing::memory(), webhook_config("0")).await;
    let receiver = Receiver::start(vec![]).await;
    let (id, secret) = register(&app, &receiver.url).await;
    assert!(secret.as_str().starts_with("whsec_"));
    let token = app.admin_token();
    let list = app
        .admin(Method::GET, &webhooks_path(&app), Some(&token), None)
        .await;
    let one = app
        .admin(
            Method::GET,
            &format!("{}/{id}", webhooks_path(&app)),
            Some(&token),
            None,
        )
        .await;
    for body in [&list.body, &one.body] {
        assert!(!body.to_string().contains(secret.as_str()), "{body}");
        assert!(!body.to_string().contains("whsec_"), "{body}");
    }
    assert_eq!(list.body["data"][0]["id"], id);
    assert_eq!(one.body["url"], receiver.url);
}

#[tokio::test]
async fn private_and_metadata_targets_are_refused_by_default() {
    let app = TestApp::memory().await;
    for url in [
        "http://169.254.169.254/latest/meta-data",
        "http://10.0.0.1/hook",
        "http://127.0.0.1:8080/hook",
        "http://[::1]/hook",
        "http://localhost:9000/hook",
        "http://2130706433/hook",
    ] {
        let response = app
            .admin(
                Method::POST,
                &webhooks_path(&app),
                Some(&app.admin_token()),
                Some(&json!({"url": url, "events": ["partner_application_approved"]})),
            )
            .await;
        response.assert_problem(400, "invalid_request");
        assert_eq!(response.body["field"], "url", "{url}");
    }
    for (body, field) in [
        (
            json!({"url": "ftp://example.com", "events": ["partner_application_approved"]}),
            "url",
        ),
        (
            json!({"url": "https://example.com", "events": []}),
            "events",
        ),
        (
            json!({"url": "https://example.com", "events": ["nope"]}),
            "events",
        ),
    ] {
        let response = app
            .admin(
                Method::POST,
                &webhooks_path(&app),
                Some(&app.admin_token()),
                Some(&body),
            )
            .await;
        assert_eq!(response.body["field"], field, "{body}");
    }
}

#[tokio::test]
async fn an_approval_is_delivered_signed_with_the_documented_payload() {
    let (app, queue) =
        TestApp::with_webhooks(partner_store::testing::memory(), webhook_config("0")).await;
    let receiver = Receiver::start(vec![]).await;
    let (_, secret) = register(&app, &receiver.url).await;
    let approved = approve(&app, "partner@example.com").await;
    let received = receiver.wait_for(1, WAIT).await;
    assert_eq!(received.len(), 1);
    let delivery = &received[0];
    assert!(verifies(delivery, &secret), "signature does not verify");
    assert_eq!(delivery.header("content-type"), "application/json");
    let body: Value = serde_json::from_slice(&delivery.body).unwrap();
    assert_eq!(body["event"], "partner_application_approved");
    assert_eq!(body["id"], delivery.header("webhook-id"));
    assert_eq!(body["data"]["affiliate"], approved["affiliate"]);
    assert_eq!(body["data"]["application"]["email"], "partner@example.com");
    // A tampered body does not verify.
    let mut tampered = delivery.clone();
    tampered.body = axum::body::Bytes::from(
        String::from_utf8_lossy(&delivery.body)
            .replace("JANE", "EVIL")
            .replace("partner@", "evil@"),
    );
    assert!(!verifies(&tampered, &secret));
    // Events the endpoint did not subscribe to (submitted) were not sent.
    app.webhooks_idle(&queue).await;
    assert_eq!(receiver.received().len(), 1);
}

#[tokio::test]
async fn a_receiver_failing_twice_gets_three_attempts_with_one_webhook_id() {
    let (app, queue) =
        TestApp::with_webhooks(partner_store::testing::memory(), webhook_config("0,0,0,0")).await;
    let receiver = Receiver::start(vec![Reply::status(500), Reply::status(500)]).await;
    let (endpoint, _) = register(&app, &receiver.url).await;
    approve(&app, "partner@example.com").await;
    let received = receiver.wait_for(3, WAIT).await;
    app.webhooks_idle(&queue).await;
    assert_eq!(receiver.received().len(), 3, "nothing after the success");
    let ids: Vec<String> = received.iter().map(|r| r.header("webhook-id")).collect();
    assert!(
        ids.iter().all(|id| *id == ids[0] && id.starts_with("evt_")),
        "{ids:?}"
    );
    let log = log_when(&app, &endpoint, settled).await;
    let delivery = &log["data"][0];
    assert_eq!(delivery["status"], "succeeded", "{:#}", log);
    let codes: Vec<u64> = delivery["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["statusCode"].as_u64().unwrap())
        .collect();
    assert_eq!(codes, [500, 500, 200]);
    assert_eq!(delivery["attempts"][2]["responseExcerpt"], "received");
}

#[tokio::test]
async fn a_receiver_that_never_succeeds_ends_failed_and_dead_lettered() {
    let (app, queue) =
        TestApp::with_webhooks(partner_store::testing::memory(), webhook_config("0,0")).await;
    let receiver = Receiver::start(vec![Reply::status(503); 10]).await;
    let (endpoint, _) = register(&app, &receiver.url).await;
    approve(&app, "partner@example.com").await;
    receiver.wait_for(3, WAIT).await;
    app.webhooks_idle(&queue).await;
    assert_eq!(receiver.received().len(), 3, "one attempt plus two retries");
    let log = log_when(&app, &endpoint, settled).await;
    assert_eq!(log["data"][0]["status"], "failed");
    assert_eq!(queue.dead_letters().len(), 1);
}

#[tokio::test]
async fn a_410_disables_the_endpoint() {
    let (app, queue) =
        TestApp::with_webhooks(partner_store::testing::memory(), webhook_config("0,0")).await;
    let receiver = Receiver::start(vec![Reply::status(410)]).await;
    let (endpoint, _) = register(&app, &receiver.url).await;
    approve(&app, "one@example.com").await;
    receiver.wait_for(1, WAIT).await;
    // The endpoint is disabled before the attempt is recorded.
    let log = log_when(&app, &endpoint, settled).await;
    let one = app
        .admin(
            Method::GET,
            &format!("{}/{endpoint}", webhooks_path(&app)),
            Some(&app.admin_token()),
            None,
        )
        .await;
    assert_eq!(one.body["enabled"], false, "{:#}", one.body);
    assert_eq!(log["data"][0]["status"], "failed");
    approve(&app, "two@example.com").await;
    app.webhooks_idle(&queue).await;
    assert_eq!(
        receiver.received().len(),
        1,
        "no retry and nothing to a disabled endpoint"
    );
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let (app, queue) =
        TestApp::with_webhooks(partner_store::testing::memory(), webhook_config("0")).await;
    let target = Receiver::start(vec![]).await;
    let mut redirect = Reply::status(307);
    redirect.headers.push(("location", target.url.clone()));
    let receiver = Receiver::start(vec![redirect.clone(), redirect]).await;
    let (endpoint, _) = register(&app, &receiver.url).await;
    approve(&app, "partner@example.com").await;
    receiver.wait_for(2, WAIT).await;
    app.webhooks_idle(&queue).await;
    assert!(target.received().is_empty(), "the redirect was followed");
    let log = log_when(&app, &endpoint, settled).await;
    assert_eq!(log["data"][0]["attempts"][0]["statusCode"], 307);
    assert_eq!(log["data"][0]["status"], "failed");
}

#[tokio::test]
async fn a_slow_receiver_times_out_and_is_retried() {
    let mut config = webhook_config("0");
    config.webhooks.timeout = Duration::from_secs(1);
    let (app, queue) = TestApp::with_webhooks(partner_store::testing::memory(), config).await;
    let mut slow = Reply::status(200);
    slow.delay = Duration::from_secs(3);
    let receiver = Receiver::start(vec![slow]).await;
    let (endpoint, _) = register(&app, &receiver.url).await;
    approve(&app, "partner@example.com").await;
    receiver.wait_for(2, WAIT).await;
    app.webhooks_idle(&queue).await;
    let log = log_when(&app, &endpoint, attempts(2)).await;
    let attempts = log["data"][0]["attempts"].as_array().unwrap().clone();
    assert_eq!(attempts[0]["error"], "timed out", "{attempts:#?}");
    assert_eq!(attempts[1]["statusCode"], 200);
}

#[tokio::test]
async fn during_a_rotation_both_secrets_sign() {
    let (app, _) =
        TestApp::with_webhooks(partner_store::testing::memory(), webhook_config("0")).await;
    let receiver = Receiver::start(vec![]).await;
    let (endpoint, old) = register(&app, &receiver.url).await;
    let rotated = app
        .admin(
            Method::POST,
            &format!("{}/{endpoint}/rotate-secret", webhooks_path(&app)),
            Some(&app.admin_token()),
            None,
        )
        .await;
    assert_eq!(rotated.status, 200, "{:#}", rotated.body);
    let new = WebhookSecret::parse(rotated.body["secret"].as_str().unwrap()).unwrap();
    assert_ne!(new, old);
    approve(&app, "partner@example.com").await;
    let received = receiver.wait_for(1, WAIT).await;
    assert!(verifies(&received[0], &new), "the new secret verifies");
    assert!(
        verifies(&received[0], &old),
        "the old secret still verifies during the overlap"
    );
    assert_eq!(
        received[0].header("webhook-signature").split(' ').count(),
        2
    );
}

#[tokio::test]
async fn a_name_resolving_to_a_private_address_is_refused_at_connect_time() {
    // Private targets are allowed when registering (say, the setting was on then) but
    // not when delivering: the resolver refuses localhost's 127.0.0.1.
    let mut delivering = webhook_config("0");
    delivering.webhooks.allow_private_targets = false;
    let (app, queue) = TestApp::with_webhooks(partner_store::testing::memory(), delivering).await;
    let receiver = Receiver::start(vec![]).await;
    let url = receiver.url.replace("127.0.0.1", "localhost");
    let endpoint = partner_domain::webhooks::WebhookEndpoint {
        id: partner_domain::WebhookEndpointId::generate(),
        app_id: app.app_id.clone(),
        url,
        events: vec![partner_domain::events::EventType::PartnerApplicationApproved],
        description: None,
        enabled: true,
        disabled_reason: None,
        health: Default::default(),
        secret: WebhookSecret::generate(),
        previous_secret: None,
        previous_secret_expires_at: None,
        created_at: partner_domain::now(),
    };
    let audit = partner_tests::test_audit_entry(
        &app.app_id,
        partner_domain::audit::AuditAction::WebhookEndpointCreated,
        partner_domain::audit::SubjectKind::WebhookEndpoint,
        &endpoint.id,
    );
    app.store
        .webhooks()
        .create(&endpoint, 20, &audit)
        .await
        .unwrap();
    approve(&app, "partner@example.com").await;
    app.webhooks_idle(&queue).await;
    assert!(
        receiver.received().is_empty(),
        "a private address was connected to"
    );
    let log = log_when(&app, &endpoint.id.to_string(), attempts(1)).await;
    let error = log["data"][0]["attempts"][0]["error"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(error.contains("private or reserved"), "{:#}", log);
}

#[tokio::test]
async fn a_duplicate_event_is_not_delivered_twice_and_a_replay_keeps_the_webhook_id() {
    let (app, queue) =
        TestApp::with_webhooks(partner_store::testing::memory(), webhook_config("0")).await;
    let receiver = Receiver::start(vec![]).await;
    let (endpoint, _) = register(&app, &receiver.url).await;
    let mut events = app.bus.subscribe();
    approve(&app, "partner@example.com").await;
    receiver.wait_for(1, WAIT).await;
    let approved = loop {
        let event = events.recv().await.unwrap();
        if event.event.as_str() == "partner_application_approved" {
            break event;
        }
    };
    // The relay republishing the same event once the first delivery is recorded
    // (a duplicate racing the first attempt may send twice, with the same
    // webhook-id, which is what receivers deduplicate by): nothing is sent.
    app.webhooks_idle(&queue).await;
    app.state
        .publisher()
        .publish(&app.store, std::slice::from_ref(&approved))
        .await;
    app.webhooks_idle(&queue).await;
    assert_eq!(receiver.received().len(), 1);
    // An admin replay sends it again, with the same webhook-id.
    let delivery = partner_domain::DeliveryId::of(
        &approved.id,
        &partner_domain::WebhookEndpointId::parse("id", &endpoint).unwrap(),
    );
    let replay = app
        .admin(
            Method::POST,
            &format!(
                "{}/{endpoint}/deliveries/{delivery}/replay",
                webhooks_path(&app)
            ),
            Some(&app.admin_token()),
            None,
        )
        .await;
    assert_eq!(replay.status, 202, "{:#}", replay.body);
    let received = receiver.wait_for(2, WAIT).await;
    assert_eq!(received.len(), 2);
    assert_eq!(
        received[0].header("webhook-id"),
        received[1].header("webhook-id")
    );
}

#[tokio::test]
async fn endpoints_can_be_changed_disabled_and_deleted() {
    let (app, queue) =
        TestApp::with_webhooks(partner_store::testing::memory(), webhook_config("0")).await;
    let receiver = Receiver::start(vec![]).await;
    let (endpoint, _) = register(&app, &receiver.url).await;
    let path = format!("{}/{endpoint}", webhooks_path(&app));
    let token = app.admin_token();
    let patched = app
        .admin(
            Method::PATCH,
            &path,
            Some(&token),
            Some(&json!({"enabled": false, "events": ["partner_application_rejected"]})),
        )
        .await;
    assert_eq!(patched.body["enabled"], false);
    assert_eq!(
        patched.body["events"],
        json!(["partner_application_rejected"])
    );
    approve(&app, "partner@example.com").await;
    app.webhooks_idle(&queue).await;
    assert!(receiver.received().is_empty());
    assert_eq!(
        app.admin(Method::DELETE, &path, Some(&token), None)
            .await
            .status,
        204
    );
    app.admin(Method::GET, &path, Some(&token), None)
        .await
        .assert_problem(404, "webhook_not_found");
}

#[tokio::test]
async fn a_replay_is_refused_while_the_delivery_is_being_retried() {
    let (app, _) =
        TestApp::with_webhooks(partner_store::testing::memory(), webhook_config("3600")).await;
    let receiver = Receiver::start(vec![Reply::status(500)]).await;
    let (endpoint, _) = register(&app, &receiver.url).await;
    approve(&app, "partner@example.com").await;
    receiver.wait_for(1, WAIT).await;
    // The retry waits an hour: wait for the first attempt's record, not for idle.
    let log = log_when(&app, &endpoint, attempts(1)).await;
    let delivery = log["data"][0]["id"].as_str().unwrap().to_owned();
    assert!(log["data"][0]["nextAttemptAt"].is_string());
    app.admin(
        Method::POST,
        &format!(
            "{}/{endpoint}/deliveries/{delivery}/replay",
            webhooks_path(&app)
        ),
        Some(&app.admin_token()),
        None,
    )
    .await
    .assert_problem(409, "delivery_in_progress");
}

/// Registers an endpoint to a URL nothing listens on; the answer as it came.
async fn try_register(app: &TestApp, n: usize) -> partner_tests::TestResponse {
    app.admin(
        Method::POST,
        &webhooks_path(app),
        Some(&app.admin_token()),
        Some(&json!({"url": format!("http://127.0.0.1:9/hook-{n}"), "events": ["partner_application_approved"]})),
    )
    .await
}

/// Twenty endpoints, the 21st refused with 409; deleting one lets another in,
/// and the count comes back to twenty.
async fn at_most_twenty_endpoints(app: TestApp) {
    let mut ids = Vec::new();
    for n in 0..20 {
        let before = app.calls();
        let created = try_register(&app, n).await;
        // One transaction: the endpoint and the app's count under its limit.
        let calls = app.calls().since(before);
        assert_eq!((calls.transactions, calls.total()), (1, 1), "{calls:?}");
        assert_eq!(created.status, 201, "{:#}", created.body);
        ids.push(created.body["id"].as_str().unwrap().to_owned());
    }
    let refused = try_register(&app, 20).await;
    refused.assert_problem(409, "too_many_endpoints");
    assert!(
        refused.body["detail"].as_str().unwrap().contains("20"),
        "{:#}",
        refused.body
    );
    let path = format!("{}/{}", webhooks_path(&app), ids[0]);
    let deleted = app
        .admin(Method::DELETE, &path, Some(&app.admin_token()), None)
        .await;
    assert_eq!(deleted.status, 204);
    // Deleting it again finds nothing and frees nothing.
    let again = app
        .admin(Method::DELETE, &path, Some(&app.admin_token()), None)
        .await;
    again.assert_problem(404, "webhook_not_found");
    assert_eq!(try_register(&app, 21).await.status, 201);
    try_register(&app, 22)
        .await
        .assert_problem(409, "too_many_endpoints");
    let listed = app
        .admin(
            Method::GET,
            &webhooks_path(&app),
            Some(&app.admin_token()),
            None,
        )
        .await;
    assert_eq!(listed.body["data"].as_array().unwrap().len(), 20);
}

/// Twenty-five creates at once on an empty app: exactly twenty land.
async fn concurrent_creates_stop_at_twenty(app: TestApp) {
    let answers = create_at_once(&app, 25).await;
    let created = answers.iter().filter(|s| **s == 201).count();
    let refused = answers.iter().filter(|s| **s == 409).count();
    assert_eq!((created, refused), (20, 5), "{answers:?}");
    let listed = app
        .admin(
            Method::GET,
            &webhooks_path(&app),
            Some(&app.admin_token()),
            None,
        )
        .await;
    assert_eq!(listed.body["data"].as_array().unwrap().len(), 20);
}

/// `count` endpoint creates started together; their statuses.
async fn create_at_once(app: &TestApp, count: usize) -> Vec<u16> {
    let tasks: Vec<_> = (0..count)
        .map(|n| {
            let app = app.clone();
            tokio::spawn(async move { try_register(&app, n).await.status.as_u16() })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    statuses
}

mod endpoint_limit {
    use super::*;

    async fn on(store: partner_store::Store) -> TestApp {
        TestApp::with_config(store, webhook_config("1")).await
    }

    #[tokio::test]
    async fn embedded_at_most_twenty() {
        at_most_twenty_endpoints(on(partner_store::testing::memory()).await).await;
    }

    #[tokio::test]
    async fn dynamodb_at_most_twenty() {
        at_most_twenty_endpoints(on(partner_store::testing::moto().await).await).await;
    }

    #[tokio::test]
    async fn embedded_concurrent_creates() {
        concurrent_creates_stop_at_twenty(on(partner_store::testing::memory()).await).await;
    }

    #[tokio::test]
    async fn dynamodb_concurrent_creates() {
        concurrent_creates_stop_at_twenty(on(partner_store::testing::moto().await).await).await;
    }
}
