//! The partner session API and the hosted portal.

use axum::body::Body;
use axum::http::{Method, Request, header};
use partner_tests::{TestApp, TestResponse, on_both_backends};
use serde_json::{Value, json};

/// A partner with a session token: (customer id, token).
async fn partner_session(app: &TestApp) -> (String, String) {
    let id = app.applied("partner@example.com", "Jane Smith").await;
    let approved = app
        .review(&id, &json!({"action": "approve", "code": "JANE20"}))
        .await;
    let customer = approved.body["affiliate"]["customer_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let token = session_for(app, &customer).await;
    (customer, token)
}

async fn session_for(app: &TestApp, customer: &str) -> String {
    let session = app
        .post_json(
            "/v1/sessions",
            Some(&app.api_key),
            &json!({"customerId": customer}),
        )
        .await;
    assert_eq!(session.status, 201, "{:#}", session.body);
    assert!(session.body["expiresAt"].is_string());
    session.body["token"].as_str().unwrap().to_owned()
}

async fn with_session(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<&Value>,
) -> TestResponse {
    app.admin(method, path, Some(token), body).await
}

async fn page(app: &TestApp, path: &str) -> (u16, String, axum::http::HeaderMap) {
    let response = app
        .send(Request::get(path).body(Body::empty()).unwrap())
        .await;
    let text = match response.body {
        Value::String(text) => text,
        other => other.to_string(),
    };
    (response.status.as_u16(), text, response.headers)
}

async fn a_partner_sees_its_info_and_dashboard_with_tracked_clicks(app: TestApp) {
    let (_, token) = partner_session(&app).await;
    let info = with_session(&app, Method::GET, "/v1/affiliate", &token, None).await;
    assert_eq!(
        (info.body["enrolled"].clone(), info.body["code"].clone()),
        (json!(true), json!("JANE20")),
        "{:#}",
        info.body
    );
    for visitor in ["a", "b", "c"] {
        app.post_json(
            "/v1/affiliate/track",
            Some(&app.api_key),
            &json!({"code": "JANE20", "url": "https://x.com/", "visitorId": visitor}),
        )
        .await;
    }
    app.post_json(
        "/v1/affiliate/referrals",
        Some(&app.api_key),
        &json!({"customerId": "cust_buyer", "code": "JANE20"}),
    )
    .await;
    app.post_json(
        "/v1/affiliate/revenue",
        Some(&app.api_key),
        &json!({"eventId": "pay_1", "customerId": "cust_buyer", "amount": 99.0, "currency": "usd", "type": "payment"}),
    )
    .await;
    let before = app.calls();
    let dashboard = with_session(&app, Method::GET, "/v1/affiliate/dashboard", &token, None).await;
    let calls = app.calls().since(before);
    assert_eq!(dashboard.status, 200, "{:#}", dashboard.body);
    let d = &dashboard.body;
    assert_eq!(d["affiliate"]["code"], "JANE20");
    assert_eq!(d["affiliate"]["totalEarned"], 19.8);
    assert_eq!(d["affiliate"]["pendingBalance"], 19.8);
    assert_eq!(d["stats"]["clicks"], 3);
    assert_eq!(d["stats"]["referrals"], 1);
    assert_eq!(d["stats"]["conversions"], 1);
    assert_eq!(d["recentCommissions"][0]["amount"], 19.8);
    // The partner sees its commission, not the app's customer or invoice.
    let text = d.to_string();
    assert!(
        !text.contains("cust_buyer") && !text.contains("pay_1"),
        "the dashboard shows the referred customer or the revenue event: {d:#}"
    );
    // One batch read: the partner, the program, its balance, summary and counters.
    assert_eq!(
        (calls.gets, calls.queries, calls.total()),
        (1, 0, 1),
        "{calls:?}"
    );
}

async fn deals_register_once_per_lead_email(app: TestApp) {
    let (_, token) = partner_session(&app).await;
    let deal = json!({"leadEmail": "prospect@company.com", "leadName": "John Smith", "notes": "Met at conference"});
    let first = with_session(
        &app,
        Method::POST,
        "/v1/affiliate/deals",
        &token,
        Some(&deal),
    )
    .await;
    assert_eq!(first.status, 201, "{:#}", first.body);
    assert_eq!(first.body["status"], "pending");
    let again = json!({"leadEmail": "Prospect@Company.com", "leadName": "John"});
    with_session(
        &app,
        Method::POST,
        "/v1/affiliate/deals",
        &token,
        Some(&again),
    )
    .await
    .assert_problem(409, "deal_exists");
    let mine = with_session(&app, Method::GET, "/v1/affiliate/deals", &token, None).await;
    assert_eq!(mine.body["data"].as_array().unwrap().len(), 1);
    // The admin moves it along: pending → accepted → won; nothing else.
    let id = first.body["id"].as_str().unwrap();
    let path = format!("/v1/apps/{}/affiliates/deals/{id}", app.app_id);
    let admin = app.admin_token();
    app.admin(
        Method::PATCH,
        &path,
        Some(&admin),
        Some(&json!({"status": "won"})),
    )
    .await
    .assert_problem(409, "invalid_transition");
    assert_eq!(
        app.admin(
            Method::PATCH,
            &path,
            Some(&admin),
            Some(&json!({"status": "accepted"}))
        )
        .await
        .body["status"],
        "accepted"
    );
    assert_eq!(
        app.admin(
            Method::PATCH,
            &path,
            Some(&admin),
            Some(&json!({"status": "won"}))
        )
        .await
        .body["status"],
        "won"
    );
    let listed = app
        .admin(
            Method::GET,
            &format!("/v1/apps/{}/affiliates/deals", app.app_id),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(listed.body["data"][0]["status"], "won");
}

/// A rejected or lost deal gives its lead back; a won one keeps it.
/// Registers a deal for the lead `email` with a partner's session.
async fn register_lead(app: &TestApp, token: &str, email: &str) -> TestResponse {
    let body = json!({"leadEmail": email, "leadName": "Lead"});
    with_session(app, Method::POST, "/v1/affiliate/deals", token, Some(&body)).await
}

/// Moves a deal to `status` as an admin; it must be allowed.
async fn change_deal(app: &TestApp, id: &str, status: &str) {
    let path = format!("/v1/apps/{}/affiliates/deals/{id}", app.app_id);
    let changed = app
        .admin(
            Method::PATCH,
            &path,
            Some(&app.admin_token()),
            Some(&json!({"status": status})),
        )
        .await;
    assert_eq!(changed.status, 200, "{:#}", changed.body);
}

async fn a_rejected_or_lost_deal_releases_its_lead(app: TestApp) {
    let (_, token) = partner_session(&app).await;
    let register = |email: &'static str| register_lead(&app, &token, email);
    let rejected = register("rejected@example.com").await;
    change_deal(&app, rejected.body["id"].as_str().unwrap(), "rejected").await;
    assert_eq!(register("rejected@example.com").await.status, 201);

    let lost = register("lost@example.com").await;
    let id = lost.body["id"].as_str().unwrap().to_owned();
    change_deal(&app, &id, "accepted").await;
    register("lost@example.com")
        .await
        .assert_problem(409, "deal_exists");
    change_deal(&app, &id, "lost").await;
    assert_eq!(register("lost@example.com").await.status, 201);

    let won = register("won@example.com").await;
    let id = won.body["id"].as_str().unwrap().to_owned();
    change_deal(&app, &id, "accepted").await;
    change_deal(&app, &id, "won").await;
    let taken = register("won@example.com").await;
    taken.assert_problem(409, "deal_exists");
    assert_eq!(taken.body["detail"], "This lead cannot be registered.");
}

/// `maxOpenDeals` caps a partner's pending and accepted deals; accepting one keeps
/// it open, deciding one (rejected, won, lost) frees a place.
async fn a_partner_has_at_most_max_open_deals(app: TestApp) {
    let (_, token) = partner_session(&app).await;
    let settings = app
        .admin(
            Method::PUT,
            &format!("/v1/apps/{}/affiliates/settings", app.app_id),
            Some(&app.admin_token()),
            Some(&json!({"maxOpenDeals": 2})),
        )
        .await;
    assert_eq!(settings.body["maxOpenDeals"], 2, "{:#}", settings.body);
    let register = |n: u32| {
        let email = format!("lead{n}@example.com");
        let (app, token) = (&app, &token);
        async move { register_lead(app, token, &email).await }
    };
    let first = register(1).await.body["id"].as_str().unwrap().to_owned();
    let second = register(2).await.body["id"].as_str().unwrap().to_owned();
    let refused = register(3).await;
    refused.assert_problem(409, "open_deal_limit");
    // Nothing of the refused deal was written: its lead is still free.
    let listed = with_session(&app, Method::GET, "/v1/affiliate/deals", &token, None).await;
    assert_eq!(listed.body["data"].as_array().unwrap().len(), 2);
    // Accepted is still open.
    change_deal(&app, &first, "accepted").await;
    register(3).await.assert_problem(409, "open_deal_limit");
    // Won is decided: a place is free, and the lead refused before registers now.
    change_deal(&app, &first, "won").await;
    assert_eq!(register(3).await.status, 201);
    register(4).await.assert_problem(409, "open_deal_limit");
    change_deal(&app, &second, "rejected").await;
    assert_eq!(register(4).await.status, 201);
}

/// A partner's summary is changed by every revenue write from the version it read;
/// payments of many customers at once all reach it (those that collide read it
/// again), so it lists what the listing does.
async fn concurrent_payments_all_reach_the_summary(app: TestApp) {
    let (customer, _) = partner_session(&app).await;
    let customer = partner_domain::CustomerId::parse("c", &customer).unwrap();
    for n in 0..12 {
        let referred = app
            .post_json(
                "/v1/affiliate/referrals",
                Some(&app.api_key),
                &json!({"customerId": format!("buyer_{n}"), "code": "JANE20"}),
            )
            .await;
        assert_eq!(referred.status, 201, "{:#}", referred.body);
    }
    let payments: Vec<_> = (0..12)
        .map(|n| {
            let app = app.clone();
            tokio::spawn(async move {
                app.post_json(
                    "/v1/affiliate/revenue",
                    Some(&app.api_key),
                    &json!({"eventId": format!("pay_{n}"), "customerId": format!("buyer_{n}"),
                        "amount": 10.0 + f64::from(n), "currency": "usd", "type": "payment"}),
                )
                .await
            })
        })
        .collect();
    for payment in payments {
        let payment = payment.await.unwrap();
        assert_eq!(payment.status, 201, "{:#}", payment.body);
    }
    let shown = app
        .store
        .affiliates()
        .dashboard(&app.app_id, &customer)
        .await
        .unwrap()
        .unwrap();
    let listed =
        partner_store::repo::dashboard::listings(&app.store, &app.app_id, &shown.affiliate)
            .await
            .unwrap();
    assert_eq!(shown.commissions.len(), 10);
    assert_eq!(shown.commissions, listed.commissions);
}

/// A partner approved before summaries existed has none, and counters under its
/// partner id: its dashboard reads the listings and adds both counters, in a
/// second round trip.
async fn a_partner_without_a_summary_reads_its_listings(app: TestApp) {
    let (customer, token) = partner_session(&app).await;
    let customer = partner_domain::CustomerId::parse("c", &customer).unwrap();
    app.post_json(
        "/v1/affiliate/track",
        Some(&app.api_key),
        &json!({"code": "JANE20", "url": "https://x.com/"}),
    )
    .await;
    app.post_json(
        "/v1/affiliate/referrals",
        Some(&app.api_key),
        &json!({"customerId": "cust_buyer", "code": "JANE20"}),
    )
    .await;
    app.post_json(
        "/v1/affiliate/revenue",
        Some(&app.api_key),
        &json!({"eventId": "pay_1", "customerId": "cust_buyer", "amount": 99.0, "currency": "usd", "type": "payment"}),
    )
    .await;
    let affiliate = app
        .store
        .affiliates()
        .by_customer(&app.app_id, &customer)
        .await
        .unwrap()
        .unwrap()
        .0;
    // As the table held it before: no summary, two clicks counted the old way.
    for part in ["COMS", "PAYS", "DEALS"] {
        app.store
            .write(partner_store::WriteOp::Delete {
                key: partner_store::keys::summary(&app.app_id, &customer, part),
                condition: None,
            })
            .await
            .unwrap();
    }
    let mut update = partner_store::Update::default();
    update.add.push(("clicks", 2));
    app.store
        .write(partner_store::WriteOp::Update {
            key: partner_store::keys::legacy_stats(&app.app_id, &affiliate.id, 3),
            update,
            condition: None,
        })
        .await
        .unwrap();
    let before = app.calls();
    let dashboard = with_session(&app, Method::GET, "/v1/affiliate/dashboard", &token, None).await;
    let calls = app.calls().since(before);
    assert_eq!(dashboard.status, 200, "{:#}", dashboard.body);
    let d = &dashboard.body;
    assert_eq!(d["stats"]["clicks"], 3, "{d:#}");
    assert_eq!(d["recentCommissions"][0]["amount"], 19.8, "{d:#}");
    // The batch, then the old counters and the three listings together.
    assert_eq!(
        (calls.gets, calls.queries, calls.total()),
        (2, 3, 5),
        "{calls:?}"
    );
}

on_both_backends!(
    concurrent_payments_all_reach_the_summary,
    a_partner_without_a_summary_reads_its_listings,
    a_partner_sees_its_info_and_dashboard_with_tracked_clicks,
    deals_register_once_per_lead_email,
    a_rejected_or_lost_deal_releases_its_lead,
    a_partner_has_at_most_max_open_deals,
);

#[tokio::test]
async fn a_customer_who_is_not_a_partner_sees_nothing_of_anyone() {
    let app = TestApp::memory().await;
    partner_session(&app).await;
    let stranger = session_for(&app, "cust_stranger").await;
    assert_eq!(
        with_session(&app, Method::GET, "/v1/affiliate", &stranger, None)
            .await
            .body,
        json!({"enrolled": false})
    );
    with_session(
        &app,
        Method::GET,
        "/v1/affiliate/dashboard",
        &stranger,
        None,
    )
    .await
    .assert_problem(404, "not_a_partner");
    with_session(
        &app,
        Method::GET,
        "/v1/affiliate/portal-link",
        &stranger,
        None,
    )
    .await
    .assert_problem(404, "not_a_partner");
}

#[tokio::test]
async fn session_routes_refuse_forged_tokens_api_keys_and_admin_tokens() {
    let app = TestApp::memory().await;
    let (customer, token) = partner_session(&app).await;
    let forged = partner_service::session::mint_session(
        Some("not-the-secret"),
        &partner_service::session::Subject {
            app_id: app.app_id.clone(),
            customer_id: partner_domain::CustomerId::parse("c", &customer).unwrap(),
        },
    )
    .unwrap()
    .0;
    with_session(&app, Method::GET, "/v1/affiliate", &forged, None)
        .await
        .assert_problem(401, "unauthorized");
    with_session(&app, Method::GET, "/v1/affiliate", &app.admin_token(), None)
        .await
        .assert_problem(401, "unauthorized");
    app.get("/v1/affiliate", Some(&app.api_key))
        .await
        .assert_problem(401, "unauthorized");
    with_session(&app, Method::GET, "/v1/affiliate", &app.api_key, None)
        .await
        .assert_problem(401, "unauthorized");
    // A session token never opens admin routes.
    let admin_path = format!("/v1/apps/{}/affiliates/settings", app.app_id);
    app.admin(Method::GET, &admin_path, Some(&token), None)
        .await
        .assert_problem(401, "unauthorized");
    // Sessions need the API key.
    app.post_json("/v1/sessions", None, &json!({"customerId": customer}))
        .await
        .assert_problem(401, "unauthorized");
}

#[tokio::test]
async fn the_portal_link_opens_a_branded_page_and_altered_links_show_no_data() {
    let app = TestApp::memory().await;
    let settings = format!("/v1/apps/{}/affiliates/settings", app.app_id);
    app.admin(
        Method::PUT,
        &settings,
        Some(&app.admin_token()),
        Some(&json!({"branding": {"name": "Acme <Analytics>", "color": "#0f766e", "websiteUrl": "https://acme.com/pricing"}})),
    )
    .await;
    let (_, token) = partner_session(&app).await;
    let link = with_session(&app, Method::GET, "/v1/affiliate/portal-link", &token, None).await;
    let url = link.body["url"].as_str().unwrap().to_owned();
    assert!(
        url.starts_with("https://partners.example.com/portal?token="),
        "{url}"
    );
    let expires = time::OffsetDateTime::parse(
        link.body["expiresAt"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert!((23..=24).contains(&(expires - time::OffsetDateTime::now_utc()).whole_hours()));
    let path = url.trim_start_matches("https://partners.example.com");
    let (status, html, headers) = page(&app, path).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("Acme &lt;Analytics&gt;"),
        "the app's name, escaped"
    );
    assert!(html.contains("JANE20"));
    assert!(html.contains("https://acme.com/pricing?ref=JANE20"));
    let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("script-src 'nonce-"),
        "{csp}"
    );
    assert_eq!(headers[header::REFERRER_POLICY], "no-referrer");
    // Tampered, foreign-audience (a session token) and missing tokens: an error page, no data.
    let tampered = format!("{}x", path);
    let as_session = format!("/portal?token={token}");
    for bad in [
        tampered.as_str(),
        as_session.as_str(),
        "/portal",
        "/portal?token=abc",
    ] {
        let (status, html, _) = page(&app, bad).await;
        assert_eq!(status, 401, "{bad}");
        assert!(
            !html.contains("JANE20") && html.contains("not valid"),
            "{bad}"
        );
    }
}

#[tokio::test]
async fn the_portal_form_registers_a_deal_and_shows_it() {
    let app = TestApp::memory().await;
    let (_, token) = partner_session(&app).await;
    let link = with_session(&app, Method::GET, "/v1/affiliate/portal-link", &token, None).await;
    let path = link.body["url"]
        .as_str()
        .unwrap()
        .trim_start_matches("https://partners.example.com")
        .to_owned();
    let portal_token = path.split("token=").nth(1).unwrap().to_owned();
    let form = Request::post(format!("/portal/deals?token={portal_token}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(
            "leadName=Ada+Lovelace&leadEmail=ada%40example.com&notes=Intro",
        ))
        .unwrap();
    let posted = app.send(form).await;
    assert_eq!(posted.status, 303);
    let location = posted.headers[header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(location.contains("notice=registered"), "{location}");
    let (_, html, _) = page(&app, &location).await;
    assert!(html.contains("Ada Lovelace") && html.contains("Deal registered"));
}
