//! Earnings: clicks, attribution, commissions from revenue and refunds, the holding
//! period, payouts and exports — and that every balance is the sum of its entries.

use axum::http::Method;
use partner_tests::{TestApp, on_both_backends};
use serde_json::{Value, json};

/// An approved partner of `app`: (customer id, code).
async fn partner(app: &TestApp, email: &str, code: &str) -> (String, String) {
    let id = app.applied(email, "Jane Smith").await;
    let approved = app
        .review(&id, &json!({"action": "approve", "code": code}))
        .await;
    assert_eq!(approved.status, 200, "{:#}", approved.body);
    (
        approved.body["affiliate"]["customer_id"]
            .as_str()
            .unwrap()
            .to_owned(),
        code.to_owned(),
    )
}

async fn settings(app: &TestApp, change: Value) {
    let path = format!("/v1/apps/{}/affiliates/settings", app.app_id);
    let response = app
        .admin(Method::PUT, &path, Some(&app.admin_token()), Some(&change))
        .await;
    assert_eq!(response.status, 200, "{:#}", response.body);
}

async fn refer(app: &TestApp, customer: &str, code: &str) -> partner_tests::TestResponse {
    app.post_json(
        "/v1/affiliate/referrals",
        Some(&app.api_key),
        &json!({"customerId": customer, "code": code}),
    )
    .await
}

async fn revenue(
    app: &TestApp,
    event: &str,
    customer: &str,
    amount: f64,
    kind: &str,
) -> partner_tests::TestResponse {
    app.post_json(
        "/v1/affiliate/revenue",
        Some(&app.api_key),
        &json!({"eventId": event, "customerId": customer, "amount": amount, "currency": "usd", "type": kind}),
    )
    .await
}

async fn figures(app: &TestApp, partner_customer: &str) -> Value {
    app.get(
        &format!("/v1/affiliate/by-customer/{partner_customer}"),
        Some(&app.api_key),
    )
    .await
    .body
}

async fn tracking_a_click_returns_its_id_and_expiry_and_repeats_count_once(app: TestApp) {
    let (_, code) = partner(&app, "partner@example.com", "JANE20").await;
    let body =
        json!({"code": "jane20", "url": "https://yoursite.com/?ref=JANE20", "visitorId": "v-1"});
    let first = app
        .post_json("/v1/affiliate/track", Some(&app.api_key), &body)
        .await;
    assert_eq!(first.status, 201, "{:#}", first.body);
    assert!(first.body["id"].as_str().unwrap().starts_with("clk_"));
    assert_eq!(first.body["code"], code);
    let expires = time::OffsetDateTime::parse(
        first.body["expiresAt"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let days = (expires - time::OffsetDateTime::now_utc()).whole_hours();
    assert!((29 * 24..=30 * 24).contains(&days), "{days} hours");
    let repeat = app
        .post_json("/v1/affiliate/track", Some(&app.api_key), &body)
        .await;
    assert_eq!(repeat.status, 201);
    assert_eq!(
        (
            first.body["counted"].clone(),
            repeat.body["counted"].clone()
        ),
        (json!(true), json!(false))
    );
    let other = app
        .post_json(
            "/v1/affiliate/track",
            Some(&app.api_key),
            &json!({"code": "JANE20", "url": "https://yoursite.com/", "visitorId": "v-2"}),
        )
        .await;
    assert_eq!(other.body["counted"], true);
    let affiliate = app
        .store
        .affiliates()
        .list(&app.app_id, 1, None)
        .await
        .unwrap()
        .0
        .remove(0);
    let stats = app
        .store
        .clicks()
        .stats(&app.app_id, &affiliate.customer_id, &affiliate.id)
        .await
        .unwrap();
    assert_eq!(stats.clicks, 2);
}

async fn track_is_at_most_two_round_trips(app: TestApp) {
    partner(&app, "partner@example.com", "JANE20").await;
    let body = json!({"code": "JANE20", "url": "https://yoursite.com/", "visitorId": "v-1"});
    app.post_json(
        "/v1/affiliate/track",
        Some(&app.api_key),
        &json!({"code": "JANE20", "url": "https://yoursite.com/"}),
    )
    .await;
    let before = app.calls();
    assert_eq!(
        app.post_json("/v1/affiliate/track", Some(&app.api_key), &body)
            .await
            .status,
        201
    );
    let calls = app.calls().since(before);
    assert_eq!(
        (calls.gets, calls.transactions, calls.total()),
        (1, 1, 2),
        "{calls:?}"
    );
}

async fn a_referred_payment_earns_a_pending_commission_exactly_once(app: TestApp) {
    let (partner_customer, code) = partner(&app, "partner@example.com", "JANE20").await;
    assert_eq!(refer(&app, "cust_buyer1", &code).await.status, 201);
    let paid = revenue(&app, "pay_1", "cust_buyer1", 99.00, "payment").await;
    assert_eq!(paid.status, 201, "{:#}", paid.body);
    assert_eq!(paid.body["commission"]["amount"], 19.8);
    assert_eq!(paid.body["commission"]["status"], "pending");
    let again = revenue(&app, "pay_1", "cust_buyer1", 99.00, "payment").await;
    assert_eq!(again.status, 200);
    assert_eq!(again.body, paid.body, "a repeat returns the first result");
    let f = figures(&app, &partner_customer).await;
    assert_eq!(
        (f["totalEarned"].clone(), f["pendingBalance"].clone()),
        (json!(19.8), json!(19.8)),
        "{f:#}"
    );
    // A full refund brings both back to zero.
    let refund = revenue(&app, "refund_1", "cust_buyer1", 99.00, "refund").await;
    assert_eq!(
        refund.body["commission"]["amount"], -19.8,
        "{:#}",
        refund.body
    );
    let f = figures(&app, &partner_customer).await;
    assert_eq!(
        (f["totalEarned"].clone(), f["pendingBalance"].clone()),
        (json!(0.0), json!(0.0)),
        "{f:#}"
    );
    // A second refund finds nothing left to reverse.
    let extra = revenue(&app, "refund_2", "cust_buyer1", 50.00, "refund").await;
    assert_eq!(extra.body["commission"], Value::Null);
}

async fn revenue_is_two_reads_and_one_transaction_plus_the_publish(app: TestApp) {
    let (_, code) = partner(&app, "partner@example.com", "JANE20").await;
    refer(&app, "cust_buyer1", &code).await;
    let before = app.calls();
    assert_eq!(
        revenue(&app, "pay_1", "cust_buyer1", 99.00, "payment")
            .await
            .status,
        201
    );
    let calls = app.calls().since(before);
    assert_eq!(
        (calls.gets, calls.transactions, calls.writes, calls.queries),
        (2, 1, 1, 0),
        "{calls:?}"
    );
}

async fn strangers_and_self_referrals_earn_nothing(app: TestApp) {
    let (partner_customer, code) = partner(&app, "partner@example.com", "JANE20").await;
    let stranger = revenue(&app, "pay_s", "cust_stranger", 99.00, "payment").await;
    assert_eq!(stranger.status, 201);
    assert_eq!(stranger.body["commission"], Value::Null);
    let own = refer(&app, &partner_customer, &code).await;
    own.assert_problem(422, "self_referral");
    revenue(&app, "pay_own", &partner_customer, 99.00, "payment").await;
    assert_eq!(figures(&app, &partner_customer).await["totalEarned"], 0.0);
}

async fn with_no_holding_period_a_payout_pays_the_available_balance(app: TestApp) {
    settings(&app, json!({"holdingPeriodDays": 0})).await;
    let (partner_customer, code) = partner(&app, "partner@example.com", "JANE20").await;
    refer(&app, "cust_buyer1", &code).await;
    revenue(&app, "pay_1", "cust_buyer1", 250.00, "payment").await;
    assert_eq!(
        figures(&app, &partner_customer).await["availableBalance"],
        50.0
    );
    let token = app.admin_token();
    let run = app.run_payouts().await;
    assert_eq!(run.run["payouts"], 1, "{:#}", run.run);
    assert_eq!(run.run["amount"], 50.0, "{:#}", run.run);
    assert_eq!(run.payouts[0]["amount"], 50.0);
    let f = figures(&app, &partner_customer).await;
    assert_eq!(
        (f["availableBalance"].clone(), f["paidTotal"].clone()),
        (json!(0.0), json!(50.0)),
        "{f:#}"
    );
    let payout_id = run.payouts[0]["id"].as_str().unwrap();
    let paid = app
        .admin(
            Method::POST,
            &format!(
                "/v1/apps/{}/affiliates/payouts/{payout_id}/mark-paid",
                app.app_id
            ),
            Some(&token),
            Some(&json!({"reference": "SEPA-1"})),
        )
        .await;
    assert_eq!(paid.body["status"], "paid", "{:#}", paid.body);
    let csv = app
        .admin(
            Method::GET,
            &format!("/v1/apps/{}/affiliates/commissions?format=csv", app.app_id),
            Some(&token),
            None,
        )
        .await;
    assert!(
        csv.content_type().starts_with("text/csv"),
        "{}",
        csv.content_type()
    );
    let text = csv.body.as_str().unwrap();
    assert!(
        text.starts_with("id,affiliateId,customerId,kind,amount"),
        "{text}"
    );
    assert!(text.contains(",50,usd,250,20,pay_1,paid,"), "{text}");
    // Nothing left to pay: a second run pays nobody.
    let again = app.run_payouts().await;
    assert_eq!(again.run["payouts"], 0, "{:#}", again.run);
    assert!(again.payouts.is_empty());
}

async fn a_partners_own_rate_applies_to_new_revenue(app: TestApp) {
    let (partner_customer, code) = partner(&app, "partner@example.com", "JANE20").await;
    refer(&app, "cust_buyer1", &code).await;
    let affiliate = app
        .store
        .affiliates()
        .list(&app.app_id, 1, None)
        .await
        .unwrap()
        .0
        .remove(0);
    let path = format!("/v1/apps/{}/affiliates/{}", app.app_id, affiliate.id);
    app.admin(
        Method::PATCH,
        &path,
        Some(&app.admin_token()),
        Some(&json!({"commissionRate": 30})),
    )
    .await;
    let paid = revenue(&app, "pay_1", "cust_buyer1", 100.00, "payment").await;
    assert_eq!(paid.body["commission"]["amount"], 30.0);
    assert_eq!(figures(&app, &partner_customer).await["totalEarned"], 30.0);
}

async fn commissions_are_approved_after_the_holding_period(app: TestApp) {
    let (partner_customer, code) = partner(&app, "partner@example.com", "JANE20").await;
    refer(&app, "cust_buyer1", &code).await;
    revenue(&app, "pay_1", "cust_buyer1", 99.00, "payment").await;
    let early =
        partner_service::commands::approvals::approve_due(&app.state, partner_domain::now())
            .await
            .unwrap();
    assert_eq!(early, 0);
    let later = partner_domain::now() + time::Duration::days(31);
    assert_eq!(
        partner_service::commands::approvals::approve_due(&app.state, later)
            .await
            .unwrap(),
        1
    );
    let f = figures(&app, &partner_customer).await;
    assert_eq!(
        (f["pendingBalance"].clone(), f["availableBalance"].clone()),
        (json!(0.0), json!(19.8)),
        "{f:#}"
    );
    assert_eq!(
        partner_service::commands::approvals::approve_due(&app.state, later)
            .await
            .unwrap(),
        0,
        "approved once"
    );
}

on_both_backends!(
    tracking_a_click_returns_its_id_and_expiry_and_repeats_count_once,
    track_is_at_most_two_round_trips,
    a_referred_payment_earns_a_pending_commission_exactly_once,
    revenue_is_two_reads_and_one_transaction_plus_the_publish,
    strangers_and_self_referrals_earn_nothing,
    with_no_holding_period_a_payout_pays_the_available_balance,
    a_partners_own_rate_applies_to_new_revenue,
    commissions_are_approved_after_the_holding_period,
);

#[tokio::test]
async fn unknown_or_suspended_codes_are_404_and_first_attribution_wins() {
    let app = TestApp::memory().await;
    let (_, code) = partner(&app, "partner@example.com", "JANE20").await;
    let unknown = app
        .post_json(
            "/v1/affiliate/track",
            Some(&app.api_key),
            &json!({"code": "NOPE1", "url": "https://x.com/"}),
        )
        .await;
    unknown.assert_problem(404, "code_not_found");
    assert_eq!(refer(&app, "cust_buyer1", &code).await.status, 201);
    refer(&app, "cust_buyer1", &code)
        .await
        .assert_problem(409, "already_referred");
    let affiliate = app
        .store
        .affiliates()
        .list(&app.app_id, 1, None)
        .await
        .unwrap()
        .0
        .remove(0);
    let path = format!("/v1/apps/{}/affiliates/{}", app.app_id, affiliate.id);
    app.admin(
        Method::PATCH,
        &path,
        Some(&app.admin_token()),
        Some(&json!({"status": "suspended"})),
    )
    .await;
    let suspended = app
        .post_json(
            "/v1/affiliate/track",
            Some(&app.api_key),
            &json!({"code": "JANE20", "url": "https://x.com/"}),
        )
        .await;
    suspended.assert_problem(404, "code_not_found");
}

#[tokio::test]
async fn attribution_through_a_click_and_invalid_revenue_bodies() {
    let app = TestApp::memory().await;
    partner(&app, "partner@example.com", "JANE20").await;
    let click = app
        .post_json(
            "/v1/affiliate/track",
            Some(&app.api_key),
            &json!({"code": "JANE20", "url": "https://x.com/"}),
        )
        .await;
    let referred = app
        .post_json(
            "/v1/affiliate/referrals",
            Some(&app.api_key),
            &json!({"customerId": "cust_b", "clickId": click.body["id"]}),
        )
        .await;
    assert_eq!(referred.status, 201, "{:#}", referred.body);
    assert_eq!(referred.body["clickId"], click.body["id"]);
    for (body, field) in [
        (
            json!({"eventId": "e", "customerId": "cust_b", "amount": 1.234, "currency": "usd", "type": "payment"}),
            "amount",
        ),
        (
            json!({"eventId": "e", "customerId": "cust_b", "amount": 10, "currency": "euro", "type": "payment"}),
            "currency",
        ),
        (
            json!({"eventId": "e", "customerId": "cust_b", "amount": 10, "currency": "usd", "type": "gift"}),
            "type",
        ),
        (
            json!({"eventId": "", "customerId": "cust_b", "amount": 10, "currency": "usd", "type": "payment"}),
            "eventId",
        ),
        (
            json!({"eventId": "e", "customerId": "cust_b", "amount": -5, "currency": "usd", "type": "payment"}),
            "amount",
        ),
    ] {
        let response = app
            .post_json("/v1/affiliate/revenue", Some(&app.api_key), &body)
            .await;
        response.assert_problem(400, "invalid_request");
        assert_eq!(response.body["field"], field, "{body}");
    }
}

#[tokio::test]
async fn the_sample_schedule_event_runs_the_commission_approver() {
    let app = TestApp::memory().await;
    let (partner_customer, code) = partner(&app, "partner@example.com", "JANE20").await;
    settings(&app, json!({"holdingPeriodDays": 1})).await;
    refer(&app, "cust_buyer1", &code).await;
    revenue(&app, "pay_1", "cust_buyer1", 99.00, "payment").await;
    let trigger: Value = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../events/commission-approver.json"),
        )
        .unwrap(),
    )
    .unwrap();
    // Not due yet: nothing approved.
    assert_eq!(
        commission_approver::handle(&app.state, trigger)
            .await
            .unwrap()
            .approved,
        0
    );
    assert_eq!(
        figures(&app, &partner_customer).await["pendingBalance"],
        19.8
    );
}

#[tokio::test]
async fn a_refund_inside_the_holding_period_cancels_before_anything_is_paid() {
    let app = TestApp::memory().await;
    let (partner_customer, code) = partner(&app, "partner@example.com", "JANE20").await;
    refer(&app, "cust_buyer1", &code).await;
    revenue(&app, "pay_1", "cust_buyer1", 250.00, "payment").await;
    let refund = revenue(&app, "refund_1", "cust_buyer1", 250.00, "refund").await;
    assert_eq!(refund.body["commission"]["status"], "pending");
    assert_eq!(
        refund.body["commission"]["approvesAt"],
        revenue(&app, "pay_1", "cust_buyer1", 250.00, "payment")
            .await
            .body["commission"]["approvesAt"],
        "the reversal approves with the commission it cancels"
    );
    // Both approve in the same run, so the 50.00 is never available to a payout.
    let later = partner_domain::now() + time::Duration::days(31);
    assert_eq!(
        partner_service::commands::approvals::approve_due(&app.state, later)
            .await
            .unwrap(),
        2
    );
    let f = figures(&app, &partner_customer).await;
    assert_eq!(
        (f["availableBalance"].clone(), f["totalEarned"].clone()),
        (json!(0.0), json!(0.0)),
        "{f:#}"
    );
    assert!(app.run_payouts().await.payouts.is_empty());
}

#[tokio::test]
async fn a_refund_after_approval_comes_off_the_available_balance_at_once() {
    let app = TestApp::memory().await;
    settings(&app, json!({"holdingPeriodDays": 0})).await;
    let (partner_customer, code) = partner(&app, "partner@example.com", "JANE20").await;
    refer(&app, "cust_buyer1", &code).await;
    revenue(&app, "pay_1", "cust_buyer1", 100.00, "payment").await;
    let refund = revenue(&app, "refund_1", "cust_buyer1", 50.00, "refund").await;
    assert_eq!(
        (
            refund.body["commission"]["status"].clone(),
            refund.body["commission"]["amount"].clone()
        ),
        (json!("approved"), json!(-10.0))
    );
    assert_eq!(
        figures(&app, &partner_customer).await["availableBalance"],
        10.0
    );
}

#[tokio::test]
async fn a_suspended_partners_customers_refunds_still_reverse() {
    let app = TestApp::memory().await;
    let (partner_customer, code) = partner(&app, "partner@example.com", "JANE20").await;
    refer(&app, "cust_buyer1", &code).await;
    revenue(&app, "pay_1", "cust_buyer1", 99.00, "payment").await;
    let affiliate = app
        .store
        .affiliates()
        .list(&app.app_id, 1, None)
        .await
        .unwrap()
        .0
        .remove(0);
    let path = format!("/v1/apps/{}/affiliates/{}", app.app_id, affiliate.id);
    app.admin(
        Method::PATCH,
        &path,
        Some(&app.admin_token()),
        Some(&json!({"status": "suspended"})),
    )
    .await;
    assert_eq!(
        revenue(&app, "pay_2", "cust_buyer1", 99.00, "payment")
            .await
            .body["commission"],
        Value::Null,
        "no new earnings"
    );
    let refund = revenue(&app, "refund_1", "cust_buyer1", 99.00, "refund").await;
    assert_eq!(refund.body["commission"]["amount"], -19.8);
    assert_eq!(figures(&app, &partner_customer).await["totalEarned"], 0.0);
}

#[tokio::test]
async fn the_currency_cannot_change_once_money_exists() {
    let app = TestApp::memory().await;
    let path = format!("/v1/apps/{}/affiliates/settings", app.app_id);
    let token = app.admin_token();
    assert_eq!(
        app.admin(
            Method::PUT,
            &path,
            Some(&token),
            Some(&json!({"currency": "eur"}))
        )
        .await
        .status,
        200
    );
    app.admin(
        Method::PUT,
        &path,
        Some(&token),
        Some(&json!({"currency": "usd"})),
    )
    .await;
    let (_, code) = partner(&app, "partner@example.com", "JANE20").await;
    refer(&app, "cust_buyer1", &code).await;
    revenue(&app, "pay_1", "cust_buyer1", 99.00, "payment").await;
    app.admin(
        Method::PUT,
        &path,
        Some(&token),
        Some(&json!({"currency": "eur"})),
    )
    .await
    .assert_problem(409, "currency_locked");
}
