//! Rewards like the real programs: partner groups with their own rules (percentage
//! or flat; every payment, the first, the first N months or payments; per product;
//! from a minimum), tiers, auto-approval, and refunds reversing with their
//! payment's rule.

use axum::http::Method;
use partner_tests::{TestApp, TestResponse, on_both_backends};
use serde_json::{Value, json};

fn groups_path(app: &TestApp) -> String {
    format!("/v1/apps/{}/affiliates/groups", app.app_id)
}

async fn create_group(app: &TestApp, body: Value) -> TestResponse {
    app.admin(
        Method::POST,
        &groups_path(app),
        Some(&app.admin_token()),
        Some(&body),
    )
    .await
}

/// A partner (code `code`) in the group `group` (none: the default group), and its
/// ids: (affiliate id, partner customer id).
async fn partner_in(app: &TestApp, code: &str, group: Option<&str>) -> (String, String) {
    let id = app
        .applied(
            &format!("{}@example.com", code.to_lowercase()),
            "Jane Smith",
        )
        .await;
    let approved = app
        .review(&id, &json!({"action": "approve", "code": code}))
        .await;
    assert_eq!(approved.status, 200, "{:#}", approved.body);
    let affiliate = approved.body["affiliate"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let customer = approved.body["affiliate"]["customer_id"]
        .as_str()
        .unwrap()
        .to_owned();
    if let Some(group) = group {
        let moved = app
            .admin(
                Method::PATCH,
                &format!("/v1/apps/{}/affiliates/{affiliate}", app.app_id),
                Some(&app.admin_token()),
                Some(&json!({"groupId": group})),
            )
            .await;
        assert_eq!(moved.status, 200, "{:#}", moved.body);
        assert_eq!(moved.body["groupId"], group);
    }
    (affiliate, customer)
}

async fn refer(app: &TestApp, customer: &str, code: &str) {
    let referred = app
        .post_json(
            "/v1/affiliate/referrals",
            Some(&app.api_key),
            &json!({"customerId": customer, "code": code}),
        )
        .await;
    assert_eq!(referred.status, 201, "{:#}", referred.body);
}

async fn pay(app: &TestApp, body: Value) -> TestResponse {
    let response = app
        .post_json("/v1/affiliate/revenue", Some(&app.api_key), &body)
        .await;
    assert!(response.status.is_success(), "{:#}", response.body);
    response
}

fn payment(event: &str, customer: &str, amount: f64, occurred_at: &str) -> Value {
    json!({"eventId": event, "customerId": customer, "amount": amount, "currency": "usd",
           "type": "payment", "occurredAt": occurred_at})
}

async fn thirty_percent_for_twelve_months_then_nothing(app: TestApp) {
    let group = create_group(
        &app,
        json!({"name": "Launch partners", "slug": "launch", "rules": [
            {"kind": "percentage", "rate": 30, "appliesTo": "first_months", "months": 12}]}),
    )
    .await;
    assert_eq!(group.status, 201, "{:#}", group.body);
    assert_eq!(group.body["terms"], "30% of payments for 12 months");
    let group_id = group.body["id"].as_str().unwrap();
    partner_in(&app, "LAUNCH1", Some(group_id)).await;
    refer(&app, "cust_m", "LAUNCH1").await;
    // Monthly payments from January 2026: months 1 to 12 earn, month 13 does not.
    for month in 0..13u32 {
        let (year, m) = (2026 + month / 12, month % 12 + 1);
        let at = format!("{year}-{m:02}-15T12:00:00Z");
        let paid = pay(
            &app,
            payment(&format!("inv_m{month}"), "cust_m", 100.0, &at),
        )
        .await;
        if month < 12 {
            assert_eq!(
                paid.body["commission"]["amount"],
                30.0,
                "month {}",
                month + 1
            );
            assert_eq!(
                paid.body["commission"]["ruleId"],
                group.body["rules"][0]["id"]
            );
        } else {
            assert_eq!(paid.body["commission"], Value::Null, "month 13");
            assert_eq!(paid.body["reason"], "nothing_to_earn");
        }
    }
}

async fn fifty_dollars_on_the_first_payment_only(app: TestApp) {
    let group = create_group(
        &app,
        json!({"name": "Bounty", "slug": "bounty", "rules": [
            {"kind": "flat", "amount": 50, "appliesTo": "first_payment"}]}),
    )
    .await;
    assert_eq!(group.body["terms"], "50.00 USD on the first payment");
    partner_in(&app, "BOUNTY1", group.body["id"].as_str()).await;
    for customer in ["cust_a", "cust_b"] {
        refer(&app, customer, "BOUNTY1").await;
        let first = pay(
            &app,
            json!({"eventId": format!("{customer}_1"), "customerId": customer, "amount": 20.0,
                   "currency": "usd", "type": "payment",
                   "lines": [{"productId": "seat", "amount": 10.0}, {"productId": "addon", "amount": 10.0}]}),
        )
        .await;
        let earned = first.body["commissions"].as_array().unwrap();
        assert_eq!(earned.len(), 1, "once per payment, whatever its lines");
        assert_eq!(earned[0]["amount"], 50.0);
        let second = pay(
            &app,
            payment(
                &format!("{customer}_2"),
                customer,
                20.0,
                "2026-03-01T00:00:00Z",
            ),
        )
        .await;
        assert_eq!(second.body["commission"], Value::Null);
    }
    let entries = app
        .admin(
            Method::GET,
            &format!("/v1/apps/{}/affiliates/commissions", app.app_id),
            Some(&app.admin_token()),
            None,
        )
        .await;
    assert_eq!(
        entries.body["data"].as_array().unwrap().len(),
        2,
        "exactly one 50 per customer"
    );
}

async fn a_product_rule_beside_the_default_splits_a_two_line_invoice(app: TestApp) {
    let group = create_group(
        &app,
        json!({"name": "Products", "slug": "products", "rules": [
            {"id": "pro", "kind": "percentage", "rate": 10, "productIds": ["prod_pro"]},
            {"id": "everything", "kind": "percentage", "rate": 20}]}),
    )
    .await;
    assert_eq!(group.status, 201, "{:#}", group.body);
    partner_in(&app, "PROD1", group.body["id"].as_str()).await;
    refer(&app, "cust_p", "PROD1").await;
    let paid = pay(
        &app,
        json!({"eventId": "in_two_lines", "customerId": "cust_p", "amount": 150.0, "currency": "usd",
               "type": "payment", "lines": [{"productId": "prod_pro", "amount": 100.0},
                                            {"productId": "prod_basic", "amount": 50.0}]}),
    )
    .await;
    let got: Vec<(Value, Value, Value)> = paid.body["commissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["ruleId"].clone(),
                c["productId"].clone(),
                c["amount"].clone(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (json!("pro"), json!("prod_pro"), json!(10.0)),
            (json!("everything"), json!("prod_basic"), json!(10.0)),
        ]
    );
    // Lines must add up to the amount.
    let wrong = app
        .post_json(
            "/v1/affiliate/revenue",
            Some(&app.api_key),
            &json!({"eventId": "in_wrong", "customerId": "cust_p", "amount": 150.0, "currency": "usd",
                    "type": "payment", "lines": [{"productId": "prod_pro", "amount": 100.0}]}),
        )
        .await;
    wrong.assert_problem(400, "invalid_request");
    assert_eq!(wrong.body["field"], "lines");
}

async fn a_tier_applies_from_the_eleventh_paying_customer_on(app: TestApp) {
    let group = create_group(
        &app,
        json!({"name": "Tiered", "slug": "tiered",
               "rules": [{"kind": "percentage", "rate": 20}],
               "tiers": [{"minCustomers": 10, "rate": 25}]}),
    )
    .await;
    partner_in(&app, "TIER1", group.body["id"].as_str()).await;
    let mut rates = Vec::new();
    for n in 0..11 {
        let customer = format!("cust_t{n}");
        refer(&app, &customer, "TIER1").await;
        let paid = pay(
            &app,
            payment(&format!("t{n}"), &customer, 100.0, "2026-05-01T00:00:00Z"),
        )
        .await;
        rates.push((
            paid.body["commission"]["amount"].as_f64().unwrap(),
            paid.body["commission"]["tier"].clone(),
        ));
    }
    assert!(
        rates[..10]
            .iter()
            .all(|(amount, tier)| *amount == 20.0 && tier.is_null()),
        "{rates:?}"
    );
    assert_eq!(
        rates[10],
        (25.0, json!(1)),
        "the 11th paying customer is paid at the tier"
    );
    // The first customer's next payment is paid at the tier too; its first stays.
    let again = pay(
        &app,
        payment("t0_again", "cust_t0", 100.0, "2026-06-01T00:00:00Z"),
    )
    .await;
    assert_eq!(again.body["commission"]["amount"], 25.0);
    let first = app
        .admin(
            Method::GET,
            &format!("/v1/apps/{}/affiliates/commissions?limit=100", app.app_id),
            Some(&app.admin_token()),
            None,
        )
        .await;
    let t0 = first.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["revenueEventId"] == "t0")
        .unwrap()
        .clone();
    assert_eq!(t0["amount"], 20.0, "never recomputed");
}

async fn an_auto_approve_group_approves_at_once_with_the_same_event(app: TestApp) {
    let group = create_group(
        &app,
        json!({"name": "Creators", "slug": "creators", "autoApprove": true,
               "rules": [{"kind": "percentage", "rate": 25}]}),
    )
    .await;
    let mut events = app.bus.subscribe();
    let applied = app
        .apply(
            &json!({"email": "creator@example.com", "name": "Casey Creator", "group": "creators"}),
        )
        .await;
    assert_eq!(applied.status, 201, "{:#}", applied.body);
    assert_eq!(applied.body["status"], "approved");
    let mut kinds = Vec::new();
    while let Ok(event) = events.try_recv() {
        kinds.push((event.event.as_str().to_owned(), event.data.clone()));
    }
    let approved: Vec<&Value> = kinds
        .iter()
        .filter(|(kind, _)| kind == "partner_application_approved")
        .map(|(_, data)| data)
        .collect();
    assert_eq!(approved.len(), 1, "{kinds:?}");
    assert!(approved[0]["affiliate"]["code"].is_string());
    // The partner is in the group, and earns by its rule.
    let partners = app
        .admin(
            Method::GET,
            &format!("/v1/apps/{}/affiliates", app.app_id),
            Some(&app.admin_token()),
            None,
        )
        .await;
    assert_eq!(partners.body["data"][0]["groupId"], group.body["id"]);
    let unknown = app
        .apply(&json!({"email": "x@example.com", "name": "X", "group": "no-such-group"}))
        .await;
    unknown.assert_problem(404, "group_not_found");
    // From a web page (publishable key) the application waits for a review.
    let from_page = app
        .post_json(
            "/v1/affiliate/apply",
            Some(&app.publishable_key),
            &json!({"email": "page@example.com", "name": "Page Visitor", "group": "creators"}),
        )
        .await;
    assert_eq!(from_page.status, 201, "{:#}", from_page.body);
    assert_eq!(from_page.body["status"], "pending");
}

async fn moving_a_partner_sends_partner_group_changed_and_applies_from_then_on(app: TestApp) {
    let vip = create_group(
        &app,
        json!({"name": "VIP", "slug": "vip", "holdingPeriodDays": 0, "rules": [{"kind": "percentage", "rate": 40}]}),
    )
    .await;
    let (affiliate, _) = partner_in(&app, "MOVE1", None).await;
    refer(&app, "cust_v", "MOVE1").await;
    let before = pay(&app, payment("v1", "cust_v", 100.0, "2026-01-01T00:00:00Z")).await;
    assert_eq!(before.body["commission"]["amount"], 20.0);
    assert_eq!(before.body["commission"]["ruleId"], "default");
    let mut events = app.bus.subscribe();
    let moved = app
        .admin(
            Method::PATCH,
            &format!("/v1/apps/{}/affiliates/{affiliate}", app.app_id),
            Some(&app.admin_token()),
            Some(&json!({"groupId": vip.body["id"]})),
        )
        .await;
    assert_eq!(moved.status, 200, "{:#}", moved.body);
    let event = events.try_recv().unwrap();
    assert_eq!(event.event.as_str(), "partner_group_changed");
    assert_eq!(event.data["groupId"], vip.body["id"]);
    assert_eq!(event.data["previousGroupId"], Value::Null);
    let after = pay(&app, payment("v2", "cust_v", 100.0, "2026-02-01T00:00:00Z")).await;
    assert_eq!(after.body["commission"]["amount"], 40.0);
    assert_eq!(
        after.body["commission"]["status"], "approved",
        "the group's holding period"
    );
    let missing = app
        .admin(
            Method::PATCH,
            &format!("/v1/apps/{}/affiliates/{affiliate}", app.app_id),
            Some(&app.admin_token()),
            Some(&json!({"groupId": "grp_missing"})),
        )
        .await;
    missing.assert_problem(404, "group_not_found");
}

async fn a_refund_reverses_with_its_payments_rule_and_never_more_than_it_earned(app: TestApp) {
    let group = create_group(
        &app,
        json!({"name": "Mixed", "slug": "mixed", "rules": [
            {"id": "first", "kind": "percentage", "rate": 50, "appliesTo": "first_payment"},
            {"id": "rest", "kind": "percentage", "rate": 10}]}),
    )
    .await;
    partner_in(&app, "REF1", group.body["id"].as_str()).await;
    refer(&app, "cust_r", "REF1").await;
    pay(&app, payment("r1", "cust_r", 100.0, "2026-01-01T00:00:00Z")).await; // 50.00
    pay(&app, payment("r2", "cust_r", 100.0, "2026-02-01T00:00:00Z")).await; // 10.00
    let refund = |event: &str, amount: f64, of: &str| {
        json!({"eventId": event, "customerId": "cust_r", "amount": amount, "currency": "usd",
               "type": "refund", "paymentEventId": of})
    };
    // Half of the first payment: half of its 50% commission, by its rule.
    let half = pay(&app, refund("rf1", 50.0, "r1")).await;
    assert_eq!(half.body["commission"]["amount"], -25.0);
    assert_eq!(half.body["commission"]["ruleId"], "first");
    // Refunding it all again reverses only what is left of it.
    let rest = pay(&app, refund("rf2", 100.0, "r1")).await;
    assert_eq!(rest.body["commission"]["amount"], -25.0);
    let nothing = pay(&app, refund("rf3", 100.0, "r1")).await;
    assert_eq!(nothing.body["commission"], Value::Null);
    // Without naming it: at the latest earning payment's rate.
    let latest = pay(
        &app,
        json!({"eventId": "rf4", "customerId": "cust_r", "amount": 100.0,
                                   "currency": "usd", "type": "refund"}),
    )
    .await;
    assert_eq!(latest.body["commission"]["amount"], -10.0);
    assert_eq!(latest.body["commission"]["ruleId"], "rest");
    let unknown = app
        .post_json(
            "/v1/affiliate/revenue",
            Some(&app.api_key),
            &refund("rf5", 1.0, "no_such_payment"),
        )
        .await;
    unknown.assert_problem(404, "payment_not_found");
    // The refund that named no payment was counted against r2: naming r2 now
    // reverses only what is left of it (nothing).
    let r2 = pay(&app, refund("rf6", 100.0, "r2")).await;
    assert_eq!(r2.body["commission"], Value::Null, "{:#}", r2.body);
}

async fn concurrent_first_payments_count_one_paying_customer_and_one_bonus(app: TestApp) {
    let group = create_group(
        &app,
        json!({"name": "Bonus", "slug": "bonus", "rules": [
            {"kind": "flat", "amount": 50, "appliesTo": "first_payment", "minAmount": 10},
            {"kind": "percentage", "rate": 10}]}),
    )
    .await;
    let (_, partner) = partner_in(&app, "RACE1", group.body["id"].as_str()).await;
    refer(&app, "cust_race", "RACE1").await;
    // Small payments (below the bonus's minimum) race bigger ones.
    let paid: Vec<_> = (0..8)
        .map(|n| {
            let app = app.clone();
            tokio::spawn(async move {
                let amount = if n % 2 == 0 { 5.0 } else { 20.0 };
                pay(
                    &app,
                    payment(
                        &format!("race{n}"),
                        "cust_race",
                        amount,
                        "2026-01-01T00:00:00Z",
                    ),
                )
                .await
            })
        })
        .collect();
    for task in paid {
        task.await.unwrap();
    }
    let commissions = app
        .admin(
            Method::GET,
            &format!("/v1/apps/{}/affiliates/commissions?limit=100", app.app_id),
            Some(&app.admin_token()),
            None,
        )
        .await;
    let bonuses = commissions.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["amount"] == 50.0)
        .count();
    assert!(
        bonuses <= 1,
        "at most one first-payment bonus: {:#}",
        commissions.body
    );
    let customer = partner_domain::CustomerId::parse("c", &partner).unwrap();
    let paying = app
        .store
        .ledger()
        .earning_partner(&app.app_id, &customer)
        .await
        .unwrap()
        .unwrap()
        .paying_customers;
    assert_eq!(paying, 1, "one customer, however many payments raced");
}

async fn revenue_in_a_group_costs_the_round_trips_it_did_before(app: TestApp) {
    let group = create_group(
        &app,
        json!({"name": "Round trips", "slug": "trips", "rules": [{"kind": "percentage", "rate": 30}],
               "tiers": [{"minCustomers": 1, "rate": 35}]}),
    )
    .await;
    partner_in(&app, "TRIP1", group.body["id"].as_str()).await;
    refer(&app, "cust_rt", "TRIP1").await;
    // Warm the key cache.
    pay(
        &app,
        payment("warm", "cust_rt", 10.0, "2026-01-01T00:00:00Z"),
    )
    .await;
    let before = app.calls();
    pay(
        &app,
        payment("rt1", "cust_rt", 100.0, "2026-02-01T00:00:00Z"),
    )
    .await;
    let used = app.calls().since(before);
    // The groups ride in the first batch: 2 reads, 1 transaction, the publish's write.
    assert_eq!(
        (used.gets, used.transactions, used.writes, used.queries),
        (2, 1, 1, 0),
        "{used:?}"
    );
    // Two lines earning two commissions: two events, each marked published.
    let before = app.calls();
    pay(
        &app,
        json!({"eventId": "rt2", "customerId": "cust_rt", "amount": 100.0, "currency": "usd", "type": "payment",
               "lines": [{"productId": "a", "amount": 60.0}, {"productId": "b", "amount": 40.0}]}),
    )
    .await;
    let used = app.calls().since(before);
    assert_eq!(
        (used.gets, used.transactions, used.writes, used.queries),
        (2, 1, 2, 0),
        "{used:?}"
    );
}

async fn groups_are_listed_changed_and_deleted(app: TestApp) {
    let created = create_group(
        &app,
        json!({"name": "A", "slug": "a-group", "rules": [{"kind": "percentage", "rate": 20}]}),
    )
    .await;
    let id = created.body["id"].as_str().unwrap().to_owned();
    let taken = create_group(
        &app,
        json!({"name": "B", "slug": "a-group", "rules": [{"kind": "percentage", "rate": 20}]}),
    )
    .await;
    taken.assert_problem(409, "group_slug_taken");
    let bad = create_group(&app, json!({"name": "C", "slug": "c-group", "rules": []})).await;
    bad.assert_problem(400, "invalid_request");
    assert_eq!(bad.body["field"], "rules");
    let path = format!("{}/{id}", groups_path(&app));
    let patched = app
        .admin(
            Method::PATCH,
            &path,
            Some(&app.admin_token()),
            Some(&json!({"minPayoutAmount": 25, "cookieDurationDays": 60, "autoApprove": true})),
        )
        .await;
    assert_eq!(patched.status, 200, "{:#}", patched.body);
    assert_eq!(patched.body["minPayoutAmount"], 25.0);
    assert_eq!(patched.body["autoApprove"], true);
    let listed = app
        .admin(
            Method::GET,
            &groups_path(&app),
            Some(&app.admin_token()),
            None,
        )
        .await;
    assert_eq!(listed.body["data"].as_array().unwrap().len(), 1);
    assert_eq!(
        app.admin(Method::DELETE, &path, Some(&app.admin_token()), None)
            .await
            .status,
        204
    );
    app.admin(Method::GET, &path, Some(&app.admin_token()), None)
        .await
        .assert_problem(404, "group_not_found");
}

#[tokio::test]
async fn a_groups_attribution_window_and_minimum_payout_apply_to_its_partners() {
    let app = TestApp::memory().await;
    let group = create_group(
        &app,
        json!({"name": "Long", "slug": "long", "cookieDurationDays": 90, "holdingPeriodDays": 0,
               "minPayoutAmount": 5, "rules": [{"kind": "percentage", "rate": 20}]}),
    )
    .await;
    partner_in(&app, "LONG1", group.body["id"].as_str()).await;
    let click = app
        .post_json(
            "/v1/affiliate/track",
            Some(&app.api_key),
            &json!({"code": "LONG1", "url": "https://example.com/"}),
        )
        .await;
    assert_eq!(click.status, 201, "{:#}", click.body);
    let expires = time::OffsetDateTime::parse(
        click.body["expiresAt"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let days = (expires - partner_domain::now()).whole_days();
    assert!((89..=90).contains(&days), "{days}");
    refer(&app, "cust_long", "LONG1").await;
    pay(
        &app,
        payment("long1", "cust_long", 30.0, "2026-01-01T00:00:00Z"),
    )
    .await; // 6.00 available
    let run = app.run_payouts().await;
    assert_eq!(
        run.payouts.len(),
        1,
        "6.00 reaches the group's 5.00 minimum (the program's is 50)"
    );
}

on_both_backends!(
    thirty_percent_for_twelve_months_then_nothing,
    fifty_dollars_on_the_first_payment_only,
    a_product_rule_beside_the_default_splits_a_two_line_invoice,
    a_tier_applies_from_the_eleventh_paying_customer_on,
    an_auto_approve_group_approves_at_once_with_the_same_event,
    moving_a_partner_sends_partner_group_changed_and_applies_from_then_on,
    a_refund_reverses_with_its_payments_rule_and_never_more_than_it_earned,
    concurrent_first_payments_count_one_paying_customer_and_one_bonus,
    revenue_in_a_group_costs_the_round_trips_it_did_before,
    groups_are_listed_changed_and_deleted,
);
