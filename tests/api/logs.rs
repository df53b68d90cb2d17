//! The one log line per request: what it carries (request id, route, status,
//! latency, round trips, app) and what it never does (keys, tokens, emails).

use std::sync::{Arc, Mutex};

use axum::http::{Request, header};
use partner_tests::TestApp;
use serde_json::{Value, json};

/// Log output captured in memory, one writer per event.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'w> tracing_subscriber::fmt::MakeWriter<'w> for Captured {
    type Writer = Captured;

    fn make_writer(&'w self) -> Self::Writer {
        self.clone()
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().expect("log buffer").clone()).expect("UTF-8 logs")
    }
}

#[tokio::test]
async fn each_request_logs_one_line_with_its_id_route_status_and_app_and_no_secret() {
    let app = TestApp::memory().await;
    let captured = Captured::default();
    // The subscriber the Lambdas install, in Lambda's JSON format (the test
    // runtime is single-threaded, so a thread default sees every request).
    let _guard = tracing::subscriber::set_default(partner_service::logging::subscriber(
        "info",
        true,
        captured.clone(),
    ));
    let email = "jane.secret@example.com";
    let admin_token = app.admin_token();

    let applied = app
        .post_json(
            "/v1/affiliate/apply",
            Some(&app.publishable_key),
            &json!({"email": email, "name": "Jane Smith"}),
        )
        .await;
    assert_eq!(applied.status, 201, "{:#}", applied.body);
    let id = applied.body["id"].as_str().unwrap();
    let status = app.status_of(email).await;
    assert_eq!(status.status, 200);
    let approved = app
        .review(id, &json!({"action": "approve", "code": "JANE20"}))
        .await;
    assert_eq!(approved.status, 200);
    let customer = approved.body["affiliate"]["customer_id"].as_str().unwrap();
    let session = app
        .post_json(
            "/v1/sessions",
            Some(&app.api_key),
            &json!({"customerId": customer}),
        )
        .await;
    let session_token = session.body["token"].as_str().unwrap().to_owned();
    let me = app
        .send(
            Request::builder()
                .uri("/v1/affiliate")
                .header(header::AUTHORIZATION, format!("Bearer {session_token}"))
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(me.status, 200, "{:#}", me.body);
    let refused = app
        .get(
            "/v1/affiliate/by-customer/someone",
            Some("sk_live_not_a_key"),
        )
        .await;
    assert_eq!(refused.status, 401);

    let text = captured.text();
    let lines: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).expect("every line is JSON"))
        .collect();
    let requests: Vec<&Value> = lines
        .iter()
        .filter(|line| line["fields"]["message"] == "request")
        .map(|line| &line["fields"])
        .collect();
    assert_eq!(requests.len(), 6, "one line per request:\n{text}");
    let mut ids = std::collections::HashSet::new();
    for line in &requests {
        let request_id = line["request_id"].as_str().expect("a request id");
        assert!(!request_id.is_empty());
        ids.insert(request_id.to_owned());
        assert!(line["status"].is_u64() && line["micros"].is_u64() && line["round_trips"].is_u64());
        assert!(
            line["route"].as_str().unwrap().starts_with("/v1/"),
            "{line}"
        );
    }
    assert_eq!(ids.len(), requests.len(), "request ids are distinct");
    let by_route = |route: &str, method: &str| {
        requests
            .iter()
            .find(|line| line["route"] == route && line["method"] == method)
            .unwrap_or_else(|| panic!("no line for {method} {route}:\n{text}"))
    };
    let apply = by_route("/v1/affiliate/apply", "POST");
    assert_eq!(apply["status"], 201);
    assert_eq!(
        apply["app_id"],
        app.app_id.as_str(),
        "publishable key's app"
    );
    assert!(apply["round_trips"].as_u64().unwrap() >= 1);
    assert_eq!(
        by_route(
            "/v1/apps/{appId}/affiliates/applications/{id}/review",
            "POST"
        )["app_id"],
        app.app_id.as_str(),
        "admin token's app"
    );
    assert_eq!(
        by_route("/v1/affiliate", "GET")["app_id"],
        app.app_id.as_str(),
        "session's app"
    );
    let refused = by_route("/v1/affiliate/by-customer/{id}", "GET");
    assert_eq!(refused["status"], 401);
    assert_eq!(refused["app_id"], "", "no app for a refused key");

    for secret in [
        app.api_key.as_str(),
        app.publishable_key.as_str(),
        admin_token.as_str(),
        session_token.as_str(),
        "sk_live_not_a_key",
        email,
        "jane.secret%40example.com",
        "Jane Smith",
    ] {
        assert!(!text.contains(secret), "{secret} is in the logs:\n{text}");
    }
    // Not even a part of a key (its random tail).
    let tail = &app.api_key[app.api_key.len() - 12..];
    assert!(!text.contains(tail));
}
