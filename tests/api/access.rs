//! The way in: secret and publishable keys, browser access (CORS), the app's own
//! customer ids, re-applying after a rejection, and what suspension stops.

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Method, Request, header};
use partner_tests::{TestApp, TestResponse, encode_query, on_both_backends};
use serde_json::{Value, json};

const ALLOWED: &str = "https://shop.example.com";
const OTHER: &str = "https://evil.example.net";

/// A request with an optional key, bearer token, `Origin` and JSON body.
fn browser_request(
    method: Method,
    path: &str,
    key: Option<&str>,
    bearer: Option<&str>,
    origin: Option<&str>,
    body: Option<&Value>,
) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(path);
    if let Some(key) = key {
        builder = builder.header("x-api-key", key);
    }
    if let Some(token) = bearer {
        builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    if let Some(origin) = origin {
        builder = builder.header(header::ORIGIN, origin);
    }
    match body {
        Some(json) => builder
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(json.to_string())),
        None => builder.body(Body::empty()),
    }
    .unwrap()
}

/// The hosted portal page a fresh portal link of `session`'s partner opens.
async fn portal_page(app: &TestApp, session: &str) -> String {
    let link = app
        .admin(
            Method::GET,
            "/v1/affiliate/portal-link",
            Some(session),
            None,
        )
        .await;
    let url = link.body["url"].as_str().unwrap();
    let portal = app
        .send(
            Request::get(url.trim_start_matches("https://partners.example.com"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    portal.body.as_str().unwrap().to_owned()
}

async fn put_settings(app: &TestApp, body: Value) -> TestResponse {
    let path = format!("/v1/apps/{}/affiliates/settings", app.app_id);
    app.admin(Method::PUT, &path, Some(&app.admin_token()), Some(&body))
        .await
}

/// Approves an application and returns the partner's customer id.
async fn approve(app: &TestApp, application: &str, code: &str) -> String {
    let approved = app
        .review(application, &json!({"action": "approve", "code": code}))
        .await;
    assert_eq!(approved.status, 200, "{:#}", approved.body);
    approved.body["affiliate"]["customer_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn session_token(app: &TestApp, customer: &str) -> String {
    let session = app
        .post_json(
            "/v1/sessions",
            Some(&app.api_key),
            &json!({"customerId": customer}),
        )
        .await;
    assert_eq!(session.status, 201, "{:#}", session.body);
    session.body["token"].as_str().unwrap().to_owned()
}

/// (METHOD, path) of every operation openapi.yaml documents as called with an API
/// key (the document's default security).
fn api_key_operations() -> BTreeSet<(String, String)> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../openapi.yaml");
    let spec: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut operations = BTreeSet::new();
    for (path, item) in spec["paths"].as_mapping().unwrap() {
        for (method, operation) in item.as_mapping().unwrap() {
            let method = method.as_str().unwrap();
            if method != "options" && operation.get("security").is_none() {
                operations.insert((method.to_uppercase(), path.as_str().unwrap().to_owned()));
            }
        }
    }
    operations
}

/// Every API-key route, called with the secret and with the publishable key: the
/// publishable key works exactly on apply (without `customerId`) and track, and is
/// refused everywhere else with 403 and no write.
async fn every_api_key_route_admits_exactly_the_key_kinds_it_should(app: TestApp) {
    let application = app.applied("jane@example.com", "Jane Smith").await;
    let partner = approve(&app, &application, "JANE20").await;
    let table: Vec<(Method, &str, Option<Value>, bool)> = vec![
        (
            Method::POST,
            "/v1/affiliate/apply",
            Some(json!({"email": "web@example.com", "name": "Web"})),
            true,
        ),
        (
            Method::GET,
            "/v1/affiliate/apply/status?email=jane%40example.com",
            None,
            false,
        ),
        (Method::GET, "/v1/affiliate/by-customer/user_1", None, false),
        (
            Method::POST,
            "/v1/affiliate/track",
            Some(json!({"code": "JANE20", "url": "https://shop.example.com/?ref=JANE20"})),
            true,
        ),
        (
            Method::POST,
            "/v1/affiliate/referrals",
            Some(json!({"customerId": "user_9", "code": "JANE20"})),
            false,
        ),
        (
            Method::POST,
            "/v1/affiliate/revenue",
            Some(
                json!({"eventId": "in_1", "customerId": "user_9", "amount": 10, "currency": "usd", "type": "payment"}),
            ),
            false,
        ),
        (
            Method::POST,
            "/v1/sessions",
            Some(json!({"customerId": partner})),
            false,
        ),
    ];
    let covered: BTreeSet<(String, String)> = table
        .iter()
        .map(|(method, path, _, _)| {
            let path = path.split('?').next().unwrap();
            let path = if path.starts_with("/v1/affiliate/by-customer/") {
                "/v1/affiliate/by-customer/{id}"
            } else {
                path
            };
            (method.to_string(), path.to_owned())
        })
        .collect();
    assert_eq!(
        covered,
        api_key_operations(),
        "the table must cover every API-key route"
    );
    for (method, path, body, publishable_ok) in &table {
        let before = app.calls();
        let publishable = app
            .send(browser_request(
                method.clone(),
                path,
                Some(&app.publishable_key),
                None,
                None,
                body.as_ref(),
            ))
            .await;
        if *publishable_ok {
            assert!(
                publishable.status.is_success(),
                "{method} {path} with a publishable key: {:#}",
                publishable.body
            );
        } else {
            publishable.assert_problem(403, "publishable_key_not_allowed");
            let spent = app.calls().since(before);
            assert_eq!(
                spent.writes + spent.transactions,
                0,
                "{method} {path} wrote before refusing"
            );
        }
        let secret = app
            .send(browser_request(
                method.clone(),
                path,
                Some(&app.api_key),
                None,
                None,
                body.as_ref(),
            ))
            .await;
        assert!(
            secret.status.as_u16() != 401 && secret.status.as_u16() != 403,
            "{method} {path} with the secret key: {} {:#}",
            secret.status,
            secret.body
        );
    }
    // Naming the customer applying is for the app's server only.
    app.post_json(
        "/v1/affiliate/apply",
        Some(&app.publishable_key),
        &json!({"email": "who@example.com", "name": "Who", "customerId": "user_7"}),
    )
    .await
    .assert_problem(403, "publishable_key_not_allowed");
}

async fn keys_are_created_listed_and_revoked_through_the_admin_api(app: TestApp) {
    let path = format!("/v1/apps/{}/api-keys", app.app_id);
    let token = app.admin_token();
    let created = app
        .admin(
            Method::POST,
            &path,
            Some(&token),
            Some(&json!({"kind": "publishable", "label": "landing page"})),
        )
        .await;
    assert_eq!(created.status, 201, "{:#}", created.body);
    assert_eq!(created.body["kind"], "publishable");
    let key = created.body["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("pk_live_"));
    assert!(key.starts_with(created.body["prefix"].as_str().unwrap()));
    let applied = app
        .post_json(
            "/v1/affiliate/apply",
            Some(&key),
            &json!({"email": "a@example.com", "name": "A"}),
        )
        .await;
    assert_eq!(applied.status, 201);

    let listed = app.admin(Method::GET, &path, Some(&token), None).await;
    assert_eq!(listed.status, 200);
    let kinds: Vec<&str> = listed.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.len(), 3, "{:#}", listed.body);
    assert!(kinds.contains(&"secret") && kinds.contains(&"publishable"));
    assert!(
        !listed.body.to_string().contains(&key),
        "a listing shows a secret"
    );

    // Revoked: refused at once on this instance, though keys are cached.
    let id = created.body["id"].as_str().unwrap();
    let revoked = app
        .admin(Method::DELETE, &format!("{path}/{id}"), Some(&token), None)
        .await;
    assert_eq!(revoked.status, 204, "{:#}", revoked.body);
    app.post_json(
        "/v1/affiliate/apply",
        Some(&key),
        &json!({"email": "b@example.com", "name": "B"}),
    )
    .await
    .assert_problem(401, "unauthorized");
    app.admin(Method::DELETE, &format!("{path}/{id}"), Some(&token), None)
        .await;
    let unknown = app
        .admin(
            Method::DELETE,
            &format!("{path}/key_unknown"),
            Some(&token),
            None,
        )
        .await;
    unknown.assert_problem(404, "api_key_not_found");
    app.admin(
        Method::POST,
        &path,
        Some(&token),
        Some(&json!({"kind": "root"})),
    )
    .await
    .assert_problem(400, "invalid_request");
}

async fn a_preflight_needs_no_credentials_and_echoes_the_origin(app: TestApp) {
    for (path, methods) in [
        ("/v1/affiliate/apply", "POST, OPTIONS"),
        ("/v1/affiliate/track", "POST, OPTIONS"),
        ("/v1/affiliate", "GET, OPTIONS"),
        ("/v1/affiliate/dashboard", "GET, OPTIONS"),
        ("/v1/affiliate/portal-link", "GET, OPTIONS"),
        ("/v1/affiliate/deals", "GET, POST, OPTIONS"),
    ] {
        let response = app
            .send(
                Request::builder()
                    .method(Method::OPTIONS)
                    .uri(path)
                    .header(header::ORIGIN, OTHER)
                    .header("access-control-request-method", "POST")
                    .header("access-control-request-headers", "content-type, x-api-key")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(response.status, 204, "{path}");
        let h = &response.headers;
        assert_eq!(h["access-control-allow-origin"], OTHER, "{path}");
        assert_eq!(h["access-control-allow-methods"], methods, "{path}");
        assert_eq!(
            h["access-control-allow-headers"],
            "content-type, x-api-key, authorization"
        );
        assert!(h.contains_key("access-control-max-age"));
        assert_eq!(h["vary"], "Origin");
    }
    // Routes for servers only answer no preflight.
    let server_only = app
        .send(
            Request::builder()
                .method(Method::OPTIONS)
                .uri("/v1/affiliate/revenue")
                .header(header::ORIGIN, OTHER)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert!(
        !server_only
            .headers
            .contains_key("access-control-allow-origin")
    );
}

async fn a_page_of_an_allowed_origin_applies_and_another_origin_writes_nothing(app: TestApp) {
    let apply = |origin: &'static str, email: &'static str| {
        browser_request(
            Method::POST,
            "/v1/affiliate/apply",
            Some(&app.publishable_key),
            None,
            Some(origin),
            Some(&json!({"email": email, "name": "Browser"})),
        )
    };
    // No origins allowed yet: every page is refused, before any write.
    let before = app.calls();
    app.send(apply(ALLOWED, "first@example.com"))
        .await
        .assert_problem(403, "origin_not_allowed");
    let spent = app.calls().since(before);
    assert_eq!(spent.writes + spent.transactions, 0);

    let settings = put_settings(
        &app,
        json!({"allowedOrigins": [ALLOWED, "http://localhost:5173"]}),
    )
    .await;
    assert_eq!(settings.status, 200, "{:#}", settings.body);
    assert_eq!(
        settings.body["allowedOrigins"],
        json!([ALLOWED, "http://localhost:5173"])
    );
    let allowed = app.send(apply(ALLOWED, "first@example.com")).await;
    assert_eq!(allowed.status, 201, "{:#}", allowed.body);
    assert_eq!(allowed.headers["access-control-allow-origin"], ALLOWED);
    assert_eq!(allowed.headers["vary"], "Origin");

    let refused = app.send(apply(OTHER, "second@example.com")).await;
    refused.assert_problem(403, "origin_not_allowed");
    assert!(!refused.headers.contains_key("access-control-allow-origin"));
    let status = app.status_of("second@example.com").await;
    assert_eq!(status.body, json!({"applied": false}));

    // A server-side call carries no Origin and needs no allowed origin.
    assert_eq!(
        app.post_json(
            "/v1/affiliate/apply",
            Some(&app.publishable_key),
            &json!({"email": "server@example.com", "name": "Server"})
        )
        .await
        .status,
        201
    );
    // Secret-key routes never send CORS headers, whatever the origin.
    let revenue = app
        .send(browser_request(
            Method::POST,
            "/v1/affiliate/revenue",
            Some(&app.api_key),
            None,
            Some(ALLOWED),
            Some(&json!({"eventId": "e1", "customerId": "c1", "amount": 1, "currency": "usd", "type": "payment"})),
        ))
        .await;
    assert!(revenue.status.is_success(), "{:#}", revenue.body);
    assert!(!revenue.headers.contains_key("access-control-allow-origin"));
}

async fn session_routes_answer_allowed_origins_only(app: TestApp) {
    put_settings(&app, json!({"allowedOrigins": [ALLOWED]})).await;
    let application = app.applied("jane@example.com", "Jane Smith").await;
    let customer = approve(&app, &application, "JANE20").await;
    let token = session_token(&app, &customer).await;
    let dashboard = |origin| {
        browser_request(
            Method::GET,
            "/v1/affiliate/dashboard",
            None,
            Some(&token),
            Some(origin),
            None,
        )
    };
    let allowed = app.send(dashboard(ALLOWED)).await;
    assert_eq!(allowed.status, 200, "{:#}", allowed.body);
    assert_eq!(allowed.headers["access-control-allow-origin"], ALLOWED);
    app.send(dashboard(OTHER))
        .await
        .assert_problem(403, "origin_not_allowed");
    let deal = app
        .send(browser_request(
            Method::POST,
            "/v1/affiliate/deals",
            None,
            Some(&token),
            Some(OTHER),
            Some(&json!({"leadEmail": "lead@example.com", "leadName": "Lead"})),
        ))
        .await;
    deal.assert_problem(403, "origin_not_allowed");
    let path = format!("/v1/apps/{}/affiliates/deals", app.app_id);
    let deals = app
        .admin(Method::GET, &path, Some(&app.admin_token()), None)
        .await;
    assert_eq!(
        deals.body["data"],
        json!([]),
        "a refused origin wrote a deal"
    );
}

async fn allowed_origins_are_checked_when_set(app: TestApp) {
    for bad in [
        json!(["http://shop.example.com"]),
        json!(["https://shop.example.com/path"]),
        json!(["*"]),
        json!(
            (0..21)
                .map(|i| format!("https://a{i}.example.com"))
                .collect::<Vec<_>>()
        ),
    ] {
        put_settings(&app, json!({"allowedOrigins": bad}))
            .await
            .assert_problem(400, "invalid_request");
    }
}

/// The app's own ids all the way: apply as a signed-in user, approval, by-customer,
/// status, a session, a dashboard, referrals and revenue.
async fn the_apps_own_customer_ids_work_on_every_route(app: TestApp) {
    let applied = app
        .apply(&json!({"email": "jane@example.com", "name": "Jane", "customerId": "auth0|user-42"}))
        .await;
    assert_eq!(applied.status, 201, "{:#}", applied.body);
    let pending = app.status_of("jane@example.com").await;
    assert!(
        pending.body.get("customerId").is_none(),
        "{:#}",
        pending.body
    );
    let id = applied.body["id"].as_str().unwrap();
    let customer = approve(&app, id, "JANE20").await;
    assert_eq!(customer, "auth0|user-42");

    let status = app.status_of("jane@example.com").await;
    assert_eq!(status.body["customerId"], "auth0|user-42");
    assert!(
        status.body["affiliateId"]
            .as_str()
            .unwrap()
            .starts_with("aff_")
    );

    let found = app
        .get(
            &format!(
                "/v1/affiliate/by-customer/{}",
                encode_query("auth0|user-42")
            ),
            Some(&app.api_key),
        )
        .await;
    assert_eq!(found.body["enrolled"], true, "{:#}", found.body);
    assert_eq!(found.body["code"], "JANE20");
    let unknown = app
        .get("/v1/affiliate/by-customer/4711", Some(&app.api_key))
        .await;
    assert_eq!(unknown.body, json!({"enrolled": false}));
    app.get("/v1/affiliate/by-customer/a%20b", Some(&app.api_key))
        .await
        .assert_problem(400, "invalid_request");

    let referral = app
        .post_json(
            "/v1/affiliate/referrals",
            Some(&app.api_key),
            &json!({"customerId": "u-1001", "code": "JANE20"}),
        )
        .await;
    assert_eq!(referral.status, 201, "{:#}", referral.body);
    let revenue = app
        .post_json(
            "/v1/affiliate/revenue",
            Some(&app.api_key),
            &json!({"eventId": "in_1", "customerId": "u-1001", "amount": 99.0, "currency": "usd", "type": "payment"}),
        )
        .await;
    assert_eq!(revenue.status, 201, "{:#}", revenue.body);
    assert_eq!(revenue.body["commission"]["amount"], 19.8);

    let token = session_token(&app, "auth0|user-42").await;
    let dashboard = app
        .admin(Method::GET, "/v1/affiliate/dashboard", Some(&token), None)
        .await;
    assert_eq!(dashboard.status, 200, "{:#}", dashboard.body);
    assert_eq!(dashboard.body["affiliate"]["pendingBalance"], 19.8);

    // That customer cannot apply again as another partner.
    app.apply(
        &json!({"email": "jane2@example.com", "name": "Jane", "customerId": "auth0|user-42"}),
    )
    .await
    .assert_problem(409, "customer_already_partner");
}

async fn approval_uses_the_named_customer_or_generates_one(app: TestApp) {
    let named = app
        .apply(&json!({"email": "one@example.com", "name": "One", "customerId": "user_1"}))
        .await;
    let named_id = named.body["id"].as_str().unwrap();
    assert_eq!(approve(&app, named_id, "ONE1").await, "user_1");
    let anonymous = app.applied("two@example.com", "Two").await;
    let generated = approve(&app, &anonymous, "TWO2").await;
    assert!(generated.starts_with("cust_"), "{generated}");
}

async fn a_partner_cannot_refer_its_own_email(app: TestApp) {
    let application = app.applied("jane@example.com", "Jane Smith").await;
    approve(&app, &application, "JANE20").await;
    let own = app
        .post_json(
            "/v1/affiliate/referrals",
            Some(&app.api_key),
            &json!({"customerId": "user_other", "code": "JANE20", "email": "JANE@example.com"}),
        )
        .await;
    own.assert_problem(422, "self_referral");
    assert_eq!(own.body["field"], "email");
}

async fn reject_and_apply(app: &TestApp, email: &str) -> TestResponse {
    let id = app.applied(email, "Jane").await;
    let rejected = app.review(&id, &json!({"action": "reject"})).await;
    assert_eq!(rejected.status, 200, "{:#}", rejected.body);
    assert!(
        rejected.body["application"]
            .get("rejectionReason")
            .is_none()
    );
    app.apply(&json!({"email": email, "name": "Jane again"}))
        .await
}

async fn a_rejected_applicant_may_apply_again_after_the_wait(app: TestApp) {
    let defaulted = reject_and_apply(&app, "wait@example.com").await;
    defaulted.assert_problem(409, "application_exists");
    let retry_after = time::OffsetDateTime::parse(
        defaulted.body["retryAfter"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let days = (retry_after - time::OffsetDateTime::now_utc()).whole_hours();
    assert!((29 * 24..=30 * 24).contains(&days), "{days} hours");

    put_settings(&app, json!({"reapplyAfterDays": 0})).await;
    let again = reject_and_apply(&app, "now@example.com").await;
    assert_eq!(again.status, 201, "{:#}", again.body);
    let status = app.status_of("now@example.com").await;
    assert_eq!(status.body["status"], "pending");
    assert_eq!(status.body["id"], again.body["id"]);
    let path = format!(
        "/v1/apps/{}/affiliates/applications?status=rejected",
        app.app_id
    );
    let rejected = app
        .admin(Method::GET, &path, Some(&app.admin_token()), None)
        .await;
    assert!(
        rejected.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["email"] == "now@example.com"),
        "the rejected application left the admin list"
    );
    // A pending application is still one per email.
    app.apply(&json!({"email": "now@example.com", "name": "Third"}))
        .await
        .assert_problem(409, "application_exists");

    put_settings(&app, json!({"reapplyAfterDays": null})).await;
    let never = reject_and_apply(&app, "never@example.com").await;
    never.assert_problem(409, "application_exists");
    assert!(never.body.get("retryAfter").is_none());
}

async fn a_suspended_partner_earns_nothing_is_not_paid_and_registers_no_deal(app: TestApp) {
    put_settings(&app, json!({"holdingPeriodDays": 0, "minPayoutAmount": 1})).await;
    let application = app.applied("jane@example.com", "Jane Smith").await;
    let customer = approve(&app, &application, "JANE20").await;
    let affiliate = app.status_of("jane@example.com").await.body["affiliateId"]
        .as_str()
        .unwrap()
        .to_owned();
    app.post_json(
        "/v1/affiliate/referrals",
        Some(&app.api_key),
        &json!({"customerId": "buyer", "code": "JANE20"}),
    )
    .await;
    let pay = |event: &'static str| {
        let body = json!({"eventId": event, "customerId": "buyer", "amount": 100, "currency": "usd", "type": "payment"});
        let app = &app;
        async move {
            app.post_json("/v1/affiliate/revenue", Some(&app.api_key), &body)
                .await
        }
    };
    assert_eq!(pay("in_before").await.body["commission"]["amount"], 20.0);
    let token = app.admin_token();
    let partner = format!("/v1/apps/{}/affiliates/{affiliate}", app.app_id);
    let suspended = app
        .admin(
            Method::PATCH,
            &partner,
            Some(&token),
            Some(&json!({"status": "suspended"})),
        )
        .await;
    assert_eq!(suspended.status, 200, "{:#}", suspended.body);

    let during = pay("in_during").await;
    assert_eq!(during.status, 201, "{:#}", during.body);
    assert_eq!(during.body["commission"], Value::Null);
    assert_eq!(during.body["reason"], "partner_suspended");

    let payouts = format!("/v1/apps/{}/affiliates/payouts", app.app_id);
    assert_eq!(app.run_payouts().await.run["payouts"], 0);
    let listed = app.admin(Method::GET, &payouts, Some(&token), None).await;
    assert_eq!(
        listed.body["data"],
        json!([]),
        "a suspended partner was paid"
    );

    let session = session_token(&app, &customer).await;
    app.admin(
        Method::POST,
        "/v1/affiliate/deals",
        Some(&session),
        Some(&json!({"leadEmail": "lead@example.com", "leadName": "Lead"})),
    )
    .await
    .assert_problem(403, "partner_suspended");
    let html = portal_page(&app, &session).await;
    assert!(html.contains("id=\"suspended\""), "no suspension notice");
    assert!(
        !html.contains("<form"),
        "a suspended partner sees the deal form"
    );
    assert!(html.contains("20.00 USD"), "figures are still shown");

    // Reactivated: earning resumes from then on, not for what came meanwhile.
    app.admin(
        Method::PATCH,
        &partner,
        Some(&token),
        Some(&json!({"status": "active"})),
    )
    .await;
    assert_eq!(pay("in_after").await.body["commission"]["amount"], 20.0);
    assert_eq!(app.run_payouts().await.run["payouts"], 1);
    let listed = app.admin(Method::GET, &payouts, Some(&token), None).await;
    assert_eq!(listed.body["data"][0]["amount"], 40.0, "{:#}", listed.body);
}

async fn the_portal_is_titled_with_the_apps_name_without_a_branding_name(app: TestApp) {
    let application = app.applied("jane@example.com", "Jane Smith").await;
    let customer = approve(&app, &application, "JANE20").await;
    let session = session_token(&app, &customer).await;
    let html = portal_page(&app, &session).await;
    assert!(
        html.contains("<title>Test app — partner portal</title>"),
        "{html}"
    );
    assert!(html.contains("<h1>Test app</h1>"));
    assert!(!html.contains("Partner program"));
}

on_both_backends!(
    every_api_key_route_admits_exactly_the_key_kinds_it_should,
    keys_are_created_listed_and_revoked_through_the_admin_api,
    a_preflight_needs_no_credentials_and_echoes_the_origin,
    a_page_of_an_allowed_origin_applies_and_another_origin_writes_nothing,
    session_routes_answer_allowed_origins_only,
    allowed_origins_are_checked_when_set,
    the_apps_own_customer_ids_work_on_every_route,
    approval_uses_the_named_customer_or_generates_one,
    a_partner_cannot_refer_its_own_email,
    a_rejected_applicant_may_apply_again_after_the_wait,
    a_suspended_partner_earns_nothing_is_not_paid_and_registers_no_deal,
    the_portal_is_titled_with_the_apps_name_without_a_branding_name,
);
