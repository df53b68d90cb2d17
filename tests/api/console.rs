//! The admin console: signing in with a login link (once) or a pasted token, the
//! session cookie, CSRF and origin checks on every form, escaping, the forms doing
//! what the API does, and the store round trips of every page.

use axum::body::Body;
use axum::http::{Method, Request, header};
use partner_domain::AppId;
use partner_tests::{TestApp, TestResponse, admin_token_for, on_both_backends};
use serde_json::json;

const HOST: &str = "partners.example.com";
const COOKIE: &str = "__Host-console";

/// A signed-in browser: its session cookie and the CSRF token its pages carry.
struct Browser {
    cookie: String,
    csrf: String,
}

fn html(response: &TestResponse) -> &str {
    response.body.as_str().unwrap_or_default()
}

fn location(response: &TestResponse) -> &str {
    response
        .headers
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

fn set_cookie(response: &TestResponse) -> &str {
    response
        .headers
        .get(header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// Opens a login link as a browser does: its page, then its form's post.
async fn open_link(app: &TestApp, token: &str) -> TestResponse {
    let link = app
        .send(
            Request::builder()
                .uri(format!("/admin/login?token={token}"))
                .header(header::HOST, HOST)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(link.status, 200);
    assert!(
        set_cookie(&link).is_empty(),
        "the link alone signs nobody in"
    );
    assert!(html(&link).contains(r#"<form method="post" action="/admin/login">"#));
    sign_in_with(app, token, "https://partners.example.com").await
}

async fn sign_in_with(app: &TestApp, token: &str, origin: &'static str) -> TestResponse {
    app.send(
        Request::builder()
            .method(Method::POST)
            .uri("/admin/login")
            .header(header::HOST, HOST)
            .header(header::ORIGIN, origin)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(
                serde_urlencoded::to_string([("token", token)]).unwrap(),
            ))
            .unwrap(),
    )
    .await
}

async fn page(app: &TestApp, browser: Option<&Browser>, path: &str) -> TestResponse {
    let mut request = Request::builder().uri(path).header(header::HOST, HOST);
    if let Some(browser) = browser {
        request = request.header(header::COOKIE, format!("{COOKIE}={}", browser.cookie));
    }
    app.send(request.body(Body::empty()).unwrap()).await
}

/// Posts a form as a browser on a console page does (same origin), unless told
/// otherwise.
async fn post(
    app: &TestApp,
    browser: &Browser,
    path: &str,
    fields: &[(&str, &str)],
    origin: Option<&str>,
) -> TestResponse {
    let body = serde_urlencoded::to_string(fields).unwrap();
    let mut request = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(header::HOST, HOST)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, format!("{COOKIE}={}", browser.cookie));
    if let Some(origin) = origin {
        request = request.header(header::ORIGIN, origin);
    }
    app.send(request.body(Body::from(body)).unwrap()).await
}

const SAME_ORIGIN: Option<&str> = Some("https://partners.example.com");

async fn sign_in(app: &TestApp) -> Browser {
    let opened = open_link(app, &app.admin_token()).await;
    assert_eq!(opened.status, 303, "{}", html(&opened));
    let cookie = set_cookie(&opened)
        .split(';')
        .next()
        .and_then(|pair| pair.strip_prefix(&format!("{COOKIE}=")))
        .expect("the session cookie")
        .to_owned();
    let mut browser = Browser {
        cookie,
        csrf: String::new(),
    };
    let applications = page(app, Some(&browser), "/admin/applications").await;
    assert_eq!(applications.status, 200, "{}", html(&applications));
    let text = html(&applications);
    let start = text.find(r#"name="csrf" value=""#).expect("a CSRF field") + 19;
    browser.csrf = text[start..start + text[start..].find('"').unwrap()].to_owned();
    browser
}

async fn a_login_link_opens_one_session_and_leaves_the_token_behind(app: TestApp) {
    app.applied("jane@example.com", "Jane Smith").await;
    let token = app.admin_token();
    let opened = open_link(&app, &token).await;
    assert_eq!(opened.status, 303);
    assert_eq!(
        location(&opened),
        "/admin/applications",
        "no token in the URL"
    );
    let cookie = set_cookie(&opened);
    for attribute in [
        "__Host-console=",
        "Path=/",
        "HttpOnly",
        "Secure",
        "SameSite=Strict",
        "Max-Age=28800",
    ] {
        assert!(
            cookie.contains(attribute),
            "{attribute} missing from {cookie}"
        );
    }
    assert!(
        !cookie.contains("Domain"),
        "a __Host- cookie names no domain"
    );

    let again = open_link(&app, &token).await;
    assert_eq!(again.status, 401);
    assert!(set_cookie(&again).is_empty());
    assert!(html(&again).contains("not valid"));
    assert!(
        !html(&again).contains("jane@example.com"),
        "no data on the error page"
    );
}

async fn pages_without_a_session_go_to_the_sign_in_page(app: TestApp) {
    app.applied("jane@example.com", "Jane Smith").await;
    for path in [
        "/admin/applications",
        "/admin/partners",
        "/admin/settings",
        "/admin/api-keys",
    ] {
        let response = page(&app, None, path).await;
        assert_eq!(response.status, 303, "{path}");
        assert_eq!(location(&response), "/admin/login");
    }
    let forged = Browser {
        cookie: "eyJhbGciOiJIUzI1NiJ9.e30.x".into(),
        csrf: String::new(),
    };
    let response = page(&app, Some(&forged), "/admin/applications").await;
    assert_eq!(response.status, 303);
    assert!(!html(&response).contains("jane@example.com"));
}

#[tokio::test]
async fn a_token_for_another_app_or_a_stale_one_opens_nothing() {
    let app = TestApp::memory().await;
    let other = admin_token_for(&[AppId::generate()]);
    assert_eq!(open_link(&app, &other).await.status, 401);
    assert_eq!(open_link(&app, "not.a.token").await.status, 401);
    let stale = partner_tests::signed_hs256(
        partner_tests::ADMIN_SECRET,
        &json!({"iss": "partner-program", "aud": "partner-program-admin", "sub": "ops",
                "iat": 1_000, "exp": 2_000, "app_ids": [app.app_id.to_string()]}),
    );
    assert_eq!(open_link(&app, &stale).await.status, 401);
    assert_eq!(app.calls().writes, 0, "a refused login writes nothing");
}

#[tokio::test]
async fn a_pasted_token_signs_in_from_this_origin_only() {
    let app = TestApp::memory().await;
    let elsewhere = sign_in_with(&app, &app.admin_token(), "https://evil.example").await;
    assert_eq!(elsewhere.status, 403);
    assert!(set_cookie(&elsewhere).is_empty());
    let here = sign_in_with(&app, &app.admin_token(), "https://partners.example.com").await;
    assert_eq!(here.status, 303, "{}", html(&here));
    assert!(set_cookie(&here).starts_with("__Host-console="));
}

#[tokio::test]
async fn a_login_link_token_opens_the_console_and_nothing_of_the_admin_api() {
    let app = TestApp::memory().await;
    let login = partner_service::admin_auth::mint_console_login(
        &partner_tests::test_config().admin_jwt,
        "ops",
        std::slice::from_ref(&app.app_id),
        std::time::Duration::from_secs(600),
    )
    .unwrap();
    let settings = format!("/v1/apps/{}/affiliates/settings", app.app_id);
    app.admin(Method::GET, &settings, Some(&login), None)
        .await
        .assert_problem(401, "unauthorized");
    assert_eq!(open_link(&app, &login).await.status, 303);
    assert_eq!(
        sign_in_with(&app, &login, "https://partners.example.com")
            .await
            .status,
        401,
        "used once"
    );
}

async fn approving_and_bulk_rejecting_through_the_forms(app: TestApp) {
    let jane = app.applied("jane@example.com", "Jane Smith").await;
    let bob = app.applied("bob@example.com", "Bob Stone").await;
    let carol = app.applied("carol@example.com", "Carol King").await;
    let browser = sign_in(&app).await;
    let mut events = app.bus.subscribe();

    let approved = post(
        &app,
        &browser,
        &format!("/admin/applications/{jane}/review"),
        &[
            ("csrf", &browser.csrf),
            ("action", "approve"),
            ("code", "JANE20"),
        ],
        SAME_ORIGIN,
    )
    .await;
    assert_eq!(approved.status, 303, "{}", html(&approved));
    assert_eq!(
        location(&approved),
        format!("/admin/applications/{jane}?done=approved")
    );
    let detail = page(&app, Some(&browser), location(&approved)).await;
    assert!(html(&detail).contains("Application approved."));

    let bulk = post(
        &app,
        &browser,
        "/admin/applications/bulk-review",
        &[
            ("csrf", &browser.csrf),
            ("ids", &bob),
            ("ids", &carol),
            ("action", "reject"),
            ("rejectionReason", ""),
        ],
        SAME_ORIGIN,
    )
    .await;
    assert_eq!(bulk.status, 200, "{}", html(&bulk));
    assert!(html(&bulk).contains("2 of 2 reviewed."), "{}", html(&bulk));
    for email in ["bob@example.com", "carol@example.com"] {
        assert_eq!(app.status_of(email).await.body["status"], "rejected");
    }
    let mut kinds = Vec::new();
    while let Ok(event) = events.try_recv() {
        kinds.push(event.event.as_str().to_owned());
    }
    kinds.sort();
    assert_eq!(
        kinds,
        [
            "partner_application_approved",
            "partner_application_rejected",
            "partner_application_rejected"
        ],
        "the same events as the API's reviews"
    );

    let partners = page(&app, Some(&browser), "/admin/partners").await;
    assert!(html(&partners).contains("JANE20"), "{}", html(&partners));
    let found = page(&app, Some(&browser), "/admin/partners?q=jane20").await;
    assert_eq!(found.status, 303);
    let partner = page(&app, Some(&browser), location(&found)).await;
    assert!(html(&partner).contains(r#"<dd id="partner-code">JANE20</dd>"#));
    let audit = app
        .admin(
            Method::GET,
            &format!("/v1/apps/{}/audit-log", app.app_id),
            Some(&app.admin_token()),
            None,
        )
        .await;
    assert!(
        audit.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["actor"] == "admin:tests"),
        "console changes are audited as the signed-in admin: {:#}",
        audit.body
    );
}

async fn a_form_without_the_token_or_from_another_origin_changes_nothing(app: TestApp) {
    let id = app.applied("jane@example.com", "Jane Smith").await;
    let browser = sign_in(&app).await;
    let path = format!("/admin/applications/{id}/review");
    let before = app.calls();
    let missing = post(&app, &browser, &path, &[("action", "approve")], SAME_ORIGIN).await;
    assert_eq!(missing.status, 403);
    let wrong = post(
        &app,
        &browser,
        &path,
        &[("csrf", "guess"), ("action", "approve")],
        SAME_ORIGIN,
    )
    .await;
    assert_eq!(wrong.status, 403);
    let elsewhere = post(
        &app,
        &browser,
        &path,
        &[("csrf", &browser.csrf), ("action", "approve")],
        Some("https://evil.example"),
    )
    .await;
    assert_eq!(elsewhere.status, 403);
    let used = app.calls().since(before);
    assert_eq!((used.writes, used.transactions), (0, 0), "nothing written");
    assert_eq!(
        app.status_of("jane@example.com").await.body["status"],
        "pending"
    );
}

#[tokio::test]
async fn everything_shown_is_escaped() {
    let app = TestApp::memory().await;
    let id = app
        .applied("x@example.com", "<script>alert(1)</script>")
        .await;
    let browser = sign_in(&app).await;
    for path in [
        "/admin/applications".to_owned(),
        format!("/admin/applications/{id}"),
    ] {
        let response = page(&app, Some(&browser), &path).await;
        let text = html(&response);
        assert!(
            text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{path}"
        );
        assert!(!text.contains("<script>alert"), "{path}");
        let csp = response.headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap();
        assert!(
            csp.contains("script-src 'nonce-") && !csp.contains("unsafe-inline"),
            "{csp}"
        );
    }
}

#[tokio::test]
async fn signing_out_forgets_the_cookie() {
    let app = TestApp::memory().await;
    let browser = sign_in(&app).await;
    let out = post(
        &app,
        &browser,
        "/admin/logout",
        &[("csrf", &browser.csrf)],
        SAME_ORIGIN,
    )
    .await;
    assert_eq!(out.status, 303);
    assert_eq!(location(&out), "/admin/login?signed_out=1");
    assert!(set_cookie(&out).contains("Max-Age=0"));
}

#[tokio::test]
async fn secrets_are_shown_once() {
    let app = TestApp::memory().await;
    let browser = sign_in(&app).await;
    let created = post(
        &app,
        &browser,
        "/admin/api-keys",
        &[
            ("csrf", &browser.csrf),
            ("kind", "publishable"),
            ("label", "site"),
        ],
        SAME_ORIGIN,
    )
    .await;
    assert_eq!(created.status, 200, "{}", html(&created));
    let text = html(&created);
    let start = text.find(r#"id="new-key">"#).unwrap() + 13;
    let key = &text[start..start + text[start..].find('<').unwrap()];
    assert!(key.starts_with("pk_live_"), "{key}");
    let listed = page(&app, Some(&browser), "/admin/api-keys").await;
    assert!(!html(&listed).contains(key));
    // The key works for what a publishable key may do.
    let applied = app
        .post_json(
            "/v1/affiliate/apply",
            Some(key),
            &json!({"email": "p@example.com", "name": "P"}),
        )
        .await;
    assert_ne!(applied.status, 401);
}

#[tokio::test]
async fn settings_saved_through_the_form_brand_the_console() {
    let app = TestApp::memory().await;
    let browser = sign_in(&app).await;
    let form = page(&app, Some(&browser), "/admin/settings").await;
    assert!(html(&form).contains(r#"name="defaultCommissionRate""#));
    let saved = post(
        &app,
        &browser,
        "/admin/settings",
        &[
            ("csrf", &browser.csrf),
            ("enabled", "true"),
            ("defaultCommissionRate", "25"),
            ("holdingPeriodDays", "30"),
            ("minPayoutAmount", "50"),
            ("cookieDurationDays", "30"),
            ("maxOpenDeals", "10"),
            ("currency", "usd"),
            ("reapplyAfterDays", ""),
            ("branding.name", "Acme <Partners>"),
            ("branding.color", "#0f766e"),
            ("branding.logoUrl", ""),
            ("branding.websiteUrl", "https://acme.example"),
            (
                "allowedOrigins",
                "https://acme.example\r\nhttps://www.acme.example",
            ),
        ],
        SAME_ORIGIN,
    )
    .await;
    assert_eq!(saved.status, 303, "{}", html(&saved));
    let settings = app
        .admin(
            Method::GET,
            &format!("/v1/apps/{}/affiliates/settings", app.app_id),
            Some(&app.admin_token()),
            None,
        )
        .await;
    assert_eq!(settings.body["defaultCommissionRate"], 25.0);
    assert_eq!(
        settings.body["allowedOrigins"],
        json!(["https://acme.example", "https://www.acme.example"])
    );
    let after = page(&app, Some(&browser), "/admin/settings?done=saved").await;
    assert!(html(&after).contains(r#"<h1 id="brand-name">Acme &lt;Partners&gt;</h1>"#));
    assert!(html(&after).contains("--brand:#0f766e"));

    let refused = post(
        &app,
        &browser,
        "/admin/settings",
        &[("csrf", &browser.csrf), ("defaultCommissionRate", "250")],
        SAME_ORIGIN,
    )
    .await;
    assert_eq!(refused.status, 400);
    assert!(
        html(&refused).contains("defaultCommissionRate"),
        "{}",
        html(&refused)
    );
}

#[tokio::test]
async fn a_partner_is_moved_to_a_group_from_its_page_and_shown_its_terms() {
    let app = TestApp::memory().await;
    let group = app
        .admin(
            Method::POST,
            &format!("/v1/apps/{}/affiliates/groups", app.app_id),
            Some(&app.admin_token()),
            Some(&json!({"name": "Launch", "slug": "launch", "rules": [
                {"kind": "percentage", "rate": 30, "appliesTo": "first_months", "months": 12}]})),
        )
        .await;
    let group_id = group.body["id"].as_str().unwrap().to_owned();
    let jane = app.applied("jane@example.com", "Jane Smith").await;
    let approved = app
        .review(&jane, &json!({"action": "approve", "code": "JANE20"}))
        .await;
    let customer = approved.body["affiliate"]["customer_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let affiliate = approved.body["affiliate"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let browser = sign_in(&app).await;
    let path = format!("/admin/partners/{customer}");
    let before = page(&app, Some(&browser), &path).await;
    assert!(html(&before).contains(r#"<dd id="partner-terms">20% of every payment</dd>"#));
    let moved = post(
        &app,
        &browser,
        &path,
        &[
            ("csrf", &browser.csrf),
            ("affiliateId", &affiliate),
            ("groupId", &group_id),
        ],
        SAME_ORIGIN,
    )
    .await;
    assert_eq!(moved.status, 303, "{}", html(&moved));
    let after = page(&app, Some(&browser), &path).await;
    assert!(html(&after).contains(r#"<dd id="partner-terms">30% of payments for 12 months</dd>"#));
    let settings = page(&app, Some(&browser), "/admin/settings").await;
    assert!(html(&settings).contains("30% of payments for 12 months"));
}

/// Store calls each page makes on a warm instance (the settings the header shows
/// are cached per instance, as the API keys are): one listing per page, two for
/// pages that show two things (read together). A listing spread over partitions
/// (applications, partners, commissions, a webhook's deliveries) is one query per
/// partition, all at once: one round trip of latency. A partner's page reads what
/// its dashboard does: one batch, its summary and counters in it.
async fn every_page_renders_within_two_round_trips(app: TestApp) {
    let jane = app.applied("jane@example.com", "Jane Smith").await;
    let approved = app
        .review(&jane, &json!({"action": "approve", "code": "JANE20"}))
        .await;
    let customer = approved.body["affiliate"]["customer_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let browser = sign_in(&app).await;
    let created = post(
        &app,
        &browser,
        "/admin/webhooks",
        &[
            ("csrf", &browser.csrf),
            ("url", "https://hooks.example.com/in"),
            ("events", "partner_application_approved"),
        ],
        SAME_ORIGIN,
    )
    .await;
    assert_eq!(created.status, 200, "{}", html(&created));
    let endpoints = app
        .admin(
            Method::GET,
            &format!("/v1/apps/{}/webhooks", app.app_id),
            Some(&app.admin_token()),
            None,
        )
        .await;
    let endpoint = endpoints.body["data"][0]["id"].as_str().unwrap().to_owned();
    let spread = u64::from(partner_store::keys::LISTING_SHARDS);
    let pages: Vec<(String, u64)> = vec![
        ("/admin/applications".into(), spread),
        ("/admin/applications?status=approved".into(), spread),
        ("/admin/applications?q=jane%40example.com".into(), 1),
        (format!("/admin/applications/{jane}"), 1),
        ("/admin/partners".into(), spread),
        (format!("/admin/partners/{customer}"), 1),
        ("/admin/commissions".into(), spread),
        ("/admin/payouts".into(), 1),
        ("/admin/deals".into(), 1),
        ("/admin/webhooks".into(), 1),
        (format!("/admin/webhooks/{endpoint}"), 1 + spread),
        ("/admin/settings".into(), 2),
        ("/admin/api-keys".into(), 1),
    ];
    for (path, expected) in &pages {
        // Once to warm the instance's settings, then counted.
        page(&app, Some(&browser), path).await;
        let before = app.calls();
        let response = page(&app, Some(&browser), path).await;
        assert_eq!(response.status, 200, "{path}: {}", html(&response));
        let used = app.calls().since(before);
        assert_eq!(used.total(), *expected, "{path}: {used:?}");
        assert_eq!(used.writes + used.transactions, 0, "{path} writes nothing");
    }
    // Cold, the header's settings cost one read more, at most.
    let cold = app.cold();
    for (path, expected) in &pages {
        let before = cold.calls();
        page(&cold, Some(&browser), path).await;
        assert!(
            cold.calls().since(before).total() <= expected + 1,
            "{path} cold"
        );
    }
}

on_both_backends!(
    a_login_link_opens_one_session_and_leaves_the_token_behind,
    pages_without_a_session_go_to_the_sign_in_page,
    approving_and_bulk_rejecting_through_the_forms,
    a_form_without_the_token_or_from_another_origin_changes_nothing,
    every_page_renders_within_two_round_trips,
);
