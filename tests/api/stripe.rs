//! The Stripe integration end to end: events in the shapes of Stripe's API
//! reference (current and previous API versions), signed by the official `stripe`
//! library's test helper, sent to the app's endpoint; what they attribute, earn and
//! reverse, what is refused before anything is written, and what it costs.

use axum::http::Method;
use partner_domain::CustomerId;
use partner_domain::ledger::{Entry, EntryKind};
use partner_tests::{
    STRIPE_SECRET, TestApp, fresh_id, on_both_backends, stripe_event, stripe_signature,
};
use serde_json::{Value, json};

/// Connects Stripe (test-mode events) and enrols a partner with code JANE20 (its
/// customer id `partner_user`), in a program with `settings`.
async fn program(app: &TestApp, settings: Value) {
    let path = format!("/v1/apps/{}/affiliates/settings", app.app_id);
    let changed = app
        .admin(
            Method::PUT,
            &path,
            Some(&app.admin_token()),
            Some(&settings),
        )
        .await;
    assert_eq!(changed.status, 200, "{:#}", changed.body);
    let connected = app.connect_stripe(false).await;
    assert_eq!(connected.status, 200, "{:#}", connected.body);
    let applied = app
        .apply(&json!({"email": "jane@example.com", "name": "Jane Smith", "customerId": "partner_user"}))
        .await;
    assert_eq!(applied.status, 201, "{:#}", applied.body);
    let id = applied.body["id"].as_str().unwrap();
    let approved = app
        .review(id, &json!({"action": "approve", "code": "JANE20"}))
        .await;
    assert_eq!(approved.status, 200, "{:#}", approved.body);
}

fn set(event: &mut Value, pointer: &str, value: Value) {
    *event
        .pointer_mut(pointer)
        .unwrap_or_else(|| panic!("the fixture has no {pointer}")) = value;
}

/// A subscription checkout of `customer`, naming `reference` as its
/// `client_reference_id`.
fn checkout(customer: &str, reference: Option<&str>) -> Value {
    let mut event = stripe_event("checkout.session.completed");
    set(&mut event, "/data/object/customer", json!(customer));
    set(
        &mut event,
        "/data/object/client_reference_id",
        json!(reference),
    );
    event
}

/// `invoice.paid` (the current API version's shape) of `amount_paid` minor units.
fn invoice(customer: &str, amount_paid: i64, currency: &str) -> Value {
    invoice_shaped("invoice.paid", customer, amount_paid, currency)
}

fn invoice_shaped(fixture: &str, customer: &str, amount_paid: i64, currency: &str) -> Value {
    let mut event = stripe_event(fixture);
    set(&mut event, "/data/object/id", json!(fresh_id("in")));
    set(&mut event, "/data/object/customer", json!(customer));
    set(&mut event, "/data/object/currency", json!(currency));
    for field in ["amount_paid", "amount_due", "total", "subtotal"] {
        set(
            &mut event,
            &format!("/data/object/{field}"),
            json!(amount_paid),
        );
    }
    event
}

/// `charge.refunded` of a charge of `customer` with `refunded` minor units
/// refunded so far.
fn refund(customer: &str, charge: &str, refunded: i64) -> Value {
    let mut event = stripe_event("charge.refunded");
    set(&mut event, "/data/object/id", json!(charge));
    set(&mut event, "/data/object/customer", json!(customer));
    set(&mut event, "/data/object/amount", json!(9900));
    set(&mut event, "/data/object/amount_refunded", json!(refunded));
    set(&mut event, "/data/object/refunded", json!(refunded == 9900));
    event
}

/// Sends `event` and asserts the answer's outcome.
async fn expect(app: &TestApp, event: &Value, outcome: &str) -> Value {
    let answer = app.send_stripe(event).await;
    assert_eq!(answer.status, 200, "{:#}", answer.body);
    assert_eq!(answer.body["outcome"], outcome, "{:#}", answer.body);
    answer.body
}

/// The ledger entries of a referred customer, oldest first.
async fn entries_of(app: &TestApp, customer: &str) -> Vec<Entry> {
    let (mut entries, _) = app
        .store
        .ledger()
        .entries_of_app(&app.app_id, 100, None)
        .await
        .unwrap();
    entries.retain(|e| e.customer_id.as_str() == customer);
    entries.reverse();
    entries
}

async fn checkout_invoices_renewals_and_refunds_reach_the_ledger(app: TestApp) {
    program(&app, json!({})).await;
    let customer = fresh_id("cus");
    let attributed = expect(&app, &checkout(&customer, Some("JANE20")), "attributed").await;
    assert_eq!(attributed["received"], true);

    let first = invoice(&customer, 9900, "usd");
    expect(&app, &first, "commission_created").await;
    let again = app.send_stripe(&first).await;
    assert_eq!(again.status, 200);
    assert_eq!(again.body["duplicate"], true, "{:#}", again.body);
    let entries = entries_of(&app, &customer).await;
    assert_eq!(
        entries.len(),
        1,
        "one commission for one invoice: {entries:#?}"
    );
    assert_eq!(entries[0].amount.minor(), 1980, "20 % of 99.00");
    assert_eq!(entries[0].status.as_str(), "pending");

    // A renewal is another invoice: it earns again.
    expect(&app, &invoice(&customer, 9900, "usd"), "commission_created").await;

    // A partial refund of 20.00, then the rest: Stripe sends the running total.
    let charge = fresh_id("ch");
    let partial = expect(&app, &refund(&customer, &charge, 2000), "refund_recorded").await;
    assert!(partial["reason"].is_null(), "{partial:#}");
    expect(&app, &refund(&customer, &charge, 9900), "refund_recorded").await;
    // The same running total again (another event) adds nothing.
    let nothing = expect(&app, &refund(&customer, &charge, 9900), "ignored").await;
    assert!(
        nothing["reason"]
            .as_str()
            .unwrap()
            .contains("nothing newly refunded"),
        "{nothing:#}"
    );
    expect(
        &app,
        &refund(&customer, &fresh_id("ch"), 9900),
        "refund_recorded",
    )
    .await;

    let entries = entries_of(&app, &customer).await;
    let amounts: Vec<i64> = entries.iter().map(|e| e.amount.minor()).collect();
    assert_eq!(amounts, vec![1980, 1980, -400, -1580, -1980]);
    assert!(entries[2..].iter().all(|e| e.kind == EntryKind::Reversal));
    assert_eq!(
        amounts.iter().sum::<i64>(),
        0,
        "the customer's commissions net to 0"
    );
    let balances = app
        .store
        .ledger()
        .balances(
            &app.app_id,
            &CustomerId::parse("c", "partner_user").unwrap(),
        )
        .await
        .unwrap();
    assert_eq!((balances.total_earned, balances.pending), (0, 0));

    // The event log: newest first, with what each event created.
    let log = app.stripe_log().await;
    let outcomes: Vec<&str> = log.iter().map(|e| e["outcome"].as_str().unwrap()).collect();
    assert_eq!(
        outcomes,
        [
            "refund_recorded",
            "ignored",
            "refund_recorded",
            "refund_recorded",
            "commission_created",
            "commission_created",
            "attributed"
        ]
    );
    assert_eq!(log[4]["type"], "invoice.paid");
    assert_eq!(log[4]["created"]["commissionId"], entries[1].id.as_str());
    assert_eq!(log[4]["created"]["customerId"], customer.as_str());
    assert_eq!(log[6]["created"]["customerId"], customer.as_str());
    assert_eq!(log[0]["created"]["commissionId"], entries[4].id.as_str());
    assert!(log[0]["receivedAt"].is_string());
    // Written by Stripe, as the audit log says.
    let actors: Vec<Value> = app
        .audit_entries()
        .await
        .into_iter()
        .filter(|e| e["action"] == "revenue.recorded")
        .map(|e| e["actor"].clone())
        .collect();
    assert_eq!(actors, vec![json!("stripe"), json!("stripe")]);
}

async fn the_previous_api_versions_shapes_earn_the_same(app: TestApp) {
    program(&app, json!({})).await;
    let customer = fresh_id("cus");
    expect(&app, &checkout(&customer, Some("jane20")), "attributed").await;
    // Before 2025-03-31.basil an invoice's tax was `tax`; 99.00 plus 9.90 tax.
    let mut event = invoice_shaped("invoice.paid.previous", &customer, 10890, "usd");
    set(&mut event, "/data/object/tax", json!(990));
    expect(&app, &event, "commission_created").await;
    // Since then it is `total_taxes[].amount`.
    let mut event = invoice(&customer, 10890, "usd");
    set(
        &mut event,
        "/data/object/total_taxes",
        json!([{"amount": 990, "tax_behavior": "exclusive", "taxability_reason": "standard_rated", "taxable_amount": 9900, "type": "tax_rate_details", "tax_rate_details": {"tax_rate": "txr_1RwXk0B2eZvKYlo2"}}]),
    );
    expect(&app, &event, "commission_created").await;
    let mut refund = stripe_event("charge.refunded.previous");
    set(&mut refund, "/data/object/customer", json!(customer));
    set(&mut refund, "/data/object/amount_refunded", json!(2000));
    expect(&app, &refund, "refund_recorded").await;
    let amounts: Vec<i64> = entries_of(&app, &customer)
        .await
        .iter()
        .map(|e| e.amount.minor())
        .collect();
    // 20.00 of a 108.90 charge with 9.90 tax: 18.18 of it had earned, so 3.64 goes back.
    assert_eq!(amounts, vec![1980, 1980, -364], "tax earns nothing");
}

async fn a_one_off_checkout_payment_earns_on_its_total_without_tax(app: TestApp) {
    program(&app, json!({})).await;
    let customer = fresh_id("cus");
    let mut event = stripe_event("checkout.session.completed.payment");
    set(&mut event, "/data/object/customer", json!(customer));
    let answer = expect(&app, &event, "commission_created").await;
    assert!(answer["reason"].is_null(), "{answer:#}");
    let entries = entries_of(&app, &customer).await;
    assert_eq!(entries.len(), 1);
    assert_eq!(
        (entries[0].revenue_amount.minor(), entries[0].amount.minor()),
        (9900, 1980),
        "108.90 with 9.90 tax earns on 99.00"
    );
    assert!(entries[0].revenue_event_id.starts_with("cs_test_"));
}

async fn a_promotion_code_linked_to_a_partner_attributes_a_checkout_without_a_click(app: TestApp) {
    program(&app, json!({})).await;
    let promo = fresh_id("promo");
    let mut created = stripe_event("promotion_code.created");
    set(&mut created, "/data/object/id", json!(promo));
    set(&mut created, "/data/object/code", json!("jane20"));
    let linked = expect(&app, &created, "promotion_code_linked").await;
    assert!(
        linked["reason"].as_str().unwrap().contains("JANE20"),
        "{linked:#}"
    );
    // A checkout that used it, with no click and no code.
    let customer = fresh_id("cus");
    let mut event = checkout(&customer, None);
    set(
        &mut event,
        "/data/object/discounts",
        json!([{"coupon": null, "promotion_code": promo}]),
    );
    expect(&app, &event, "attributed").await;
    expect(&app, &invoice(&customer, 9900, "usd"), "commission_created").await;

    // The previous shape, naming the partner in its metadata (its code is another).
    let other = fresh_id("promo");
    let mut created = stripe_event("promotion_code.created.previous");
    set(&mut created, "/data/object/id", json!(other));
    set(&mut created, "/data/object/code", json!("SUMMER-SALE"));
    set(
        &mut created,
        "/data/object/metadata",
        json!({"referral_code": "JANE20"}),
    );
    expect(&app, &created, "promotion_code_linked").await;
    // A discount applied to a customer attributes it too.
    let second = fresh_id("cus");
    let mut discount = stripe_event("customer.discount.created");
    set(&mut discount, "/data/object/customer", json!(second));
    set(&mut discount, "/data/object/promotion_code", json!(other));
    expect(&app, &discount, "attributed").await;
    // A promotion code naming nobody is ignored.
    let mut nobody = stripe_event("promotion_code.created");
    set(&mut nobody, "/data/object/code", json!("NOBODY99"));
    expect(&app, &nobody, "ignored").await;
}

async fn customer_metadata_attributes_and_maps_to_the_apps_own_customer_id(app: TestApp) {
    program(&app, json!({})).await;
    let stripe_customer = fresh_id("cus");
    let mut created = stripe_event("customer.created");
    set(&mut created, "/data/object/id", json!(stripe_customer));
    set(
        &mut created,
        "/data/object/metadata",
        json!({"referral_code": "JANE20", "customer_id": "user_77"}),
    );
    let answer = expect(&app, &created, "attributed").await;
    assert!(answer["reason"].is_null());
    // Later invoices of Stripe's customer are the app's user_77's.
    expect(
        &app,
        &invoice(&stripe_customer, 5000, "usd"),
        "commission_created",
    )
    .await;
    assert_eq!(entries_of(&app, "user_77").await.len(), 1);
    assert!(entries_of(&app, &stripe_customer).await.is_empty());
    // First attribution wins: a later update naming a click changes nothing.
    let mut updated = stripe_event("customer.updated");
    set(&mut updated, "/data/object/id", json!(stripe_customer));
    set(
        &mut updated,
        "/data/object/metadata",
        json!({"referral_code": "JANE20", "customer_id": "user_77"}),
    );
    let later = expect(&app, &updated, "ignored").await;
    assert_eq!(
        later["reason"],
        "the customer is already attributed to a partner"
    );
}

async fn attributions_that_can_never_apply_are_logged_as_failed(app: TestApp) {
    program(&app, json!({})).await;
    // The partner's own account cannot be its referral.
    let mut own = checkout(&fresh_id("cus"), Some("JANE20"));
    set(
        &mut own,
        "/data/object/metadata",
        json!({"customer_id": "partner_user"}),
    );
    let answer = expect(&app, &own, "failed").await;
    assert_eq!(answer["reason"], "a partner cannot refer itself");
    let unknown_click = expect(
        &app,
        &checkout(&fresh_id("cus"), Some("clk_01K2F7Q9XW3M8ZB4TNR6HVD5JC")),
        "failed",
    )
    .await;
    assert_eq!(unknown_click["reason"], "no click has this click id");
    let unknown_code = expect(&app, &checkout(&fresh_id("cus"), Some("NOPE42")), "failed").await;
    assert_eq!(
        unknown_code["reason"],
        "no active partner has this referral code"
    );
    // A click of the partner's link is a referrer while it lasts.
    let click = app
        .post_json(
            "/v1/affiliate/track",
            Some(&app.api_key),
            &json!({"code": "JANE20", "url": "https://example.com/?ref=JANE20"}),
        )
        .await;
    assert_eq!(click.status, 201, "{:#}", click.body);
    let clicked = click.body["id"].as_str().unwrap();
    expect(
        &app,
        &checkout(&fresh_id("cus"), Some(clicked)),
        "attributed",
    )
    .await;
}

async fn revenue_in_another_currency_is_recorded_with_its_reason(app: TestApp) {
    program(&app, json!({})).await;
    let customer = fresh_id("cus");
    expect(&app, &checkout(&customer, Some("JANE20")), "attributed").await;
    let answer = expect(&app, &invoice(&customer, 9900, "eur"), "revenue_recorded").await;
    assert_eq!(answer["reason"], "other_currency");
    assert!(
        entries_of(&app, &customer).await.is_empty(),
        "never converted"
    );
    let log = app.stripe_log().await;
    assert_eq!(log[0]["reason"], "other_currency");
    assert_eq!(log[0]["created"]["customerId"], customer.as_str());
}

async fn yen_and_dinars_from_stripe_come_out_exact(app: TestApp) {
    program(&app, json!({"currency": "jpy", "minPayoutAmount": 5000})).await;
    let customer = fresh_id("cus");
    expect(&app, &checkout(&customer, Some("JANE20")), "attributed").await;
    expect(&app, &invoice(&customer, 1000, "jpy"), "commission_created").await;
    let entries = entries_of(&app, &customer).await;
    assert_eq!(
        (entries[0].revenue_amount.minor(), entries[0].amount.minor()),
        (1000, 200),
        "1,000 yen earns exactly 200 yen"
    );

    let (kwd, key) = app.second_app().await;
    let dinars = TestApp {
        app_id: kwd.clone(),
        api_key: key,
        ..app.clone()
    };
    program(&dinars, json!({"currency": "kwd", "minPayoutAmount": 50})).await;
    let customer = fresh_id("cus");
    expect(&dinars, &checkout(&customer, Some("JANE20")), "attributed").await;
    expect(
        &dinars,
        &invoice(&customer, 1234, "kwd"),
        "commission_created",
    )
    .await;
    let entries = entries_of(&dinars, &customer).await;
    assert_eq!(
        (entries[0].revenue_amount.minor(), entries[0].amount.minor()),
        (1234, 247),
        "1.234 KWD earns 0.247 (20 %, half-up to the fils)"
    );
    let path = format!("/v1/apps/{kwd}/affiliates/commissions");
    let listed = dinars
        .admin(Method::GET, &path, Some(&dinars.admin_token()), None)
        .await;
    assert_eq!(
        listed.body["data"][0]["amount"],
        json!(0.247),
        "{:#}",
        listed.body
    );
    assert_eq!(listed.body["data"][0]["revenueAmount"], json!(1.234));
}

async fn refused_deliveries_write_nothing(app: TestApp) {
    program(&app, json!({})).await;
    let event = checkout(&fresh_id("cus"), Some("JANE20"));
    let payload = event.to_string();
    let app_id = app.app_id.to_string();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let tampered = payload.replace("JANE20", "OTHER1");
    let good = stripe_signature(&payload, STRIPE_SECRET, None);
    // (case, app in the path, body, Stripe-Signature, status, problem code)
    type Case = (
        &'static str,
        String,
        String,
        Option<String>,
        u16,
        &'static str,
    );
    let cases: Vec<Case> = vec![
        (
            "changed body",
            app_id.clone(),
            tampered,
            Some(good.clone()),
            400,
            "invalid_signature",
        ),
        (
            "wrong secret",
            app_id.clone(),
            payload.clone(),
            Some(stripe_signature(
                &payload,
                "whsec_someOtherSecretOfAnotherApp",
                None,
            )),
            400,
            "invalid_signature",
        ),
        (
            "stale timestamp",
            app_id.clone(),
            payload.clone(),
            Some(stripe_signature(&payload, STRIPE_SECRET, Some(now - 301))),
            400,
            "invalid_signature",
        ),
        (
            "no signature",
            app_id.clone(),
            payload.clone(),
            None,
            400,
            "invalid_signature",
        ),
        (
            "unknown app",
            partner_domain::AppId::generate().to_string(),
            payload.clone(),
            Some(good.clone()),
            404,
            "integration_not_found",
        ),
        (
            "not an app id",
            "nope".into(),
            payload.clone(),
            Some(good.clone()),
            404,
            "integration_not_found",
        ),
        (
            "an app without the integration",
            app.second_app().await.0.to_string(),
            payload.clone(),
            Some(good.clone()),
            404,
            "integration_not_found",
        ),
    ];
    for (case, target, body, signature, status, code) in cases {
        let before = app.calls();
        let answer = app.post_stripe(&target, body, signature.as_deref()).await;
        answer.assert_problem(status, code);
        let calls = app.calls().since(before);
        assert_eq!(
            (calls.writes, calls.transactions),
            (0, 0),
            "{case}: {calls:?}"
        );
    }
    assert!(app.stripe_log().await.is_empty());

    // A live-mode event to a test-mode integration: answered, logged, nothing else.
    let mut live = checkout(&fresh_id("cus"), Some("JANE20"));
    set(&mut live, "/livemode", json!(true));
    let before = app.calls();
    let answer = expect(&app, &live, "ignored").await;
    assert_eq!(
        answer["reason"],
        "the integration takes test-mode events only"
    );
    let calls = app.calls().since(before);
    assert_eq!(
        (calls.writes, calls.transactions),
        (1, 0),
        "only the log entry: {calls:?}"
    );
    assert_eq!(app.stripe_log().await.len(), 1);
}

async fn invoice_paid_costs_the_revenue_paths_round_trips_plus_one_read(app: TestApp) {
    program(&app, json!({})).await;
    let customer = fresh_id("cus");
    expect(&app, &checkout(&customer, Some("JANE20")), "attributed").await;
    let event = invoice(&customer, 9900, "usd");
    let before = app.calls();
    expect(&app, &event, "commission_created").await;
    let calls = app.calls().since(before);
    // The revenue API's 2 reads, 1 transaction and the publish, plus one read of
    // the integration with the event's marker and customer mapping.
    assert_eq!(
        (calls.gets, calls.transactions, calls.writes, calls.queries),
        (3, 1, 1, 0),
        "{calls:?}"
    );
    // A redelivery is one read and no write.
    let before = app.calls();
    assert_eq!(app.send_stripe(&event).await.body["duplicate"], true);
    let calls = app.calls().since(before);
    assert_eq!(
        (calls.gets, calls.transactions, calls.writes, calls.queries),
        (1, 0, 0, 0),
        "{calls:?}"
    );
}

async fn concurrent_deliveries_of_one_event_make_one_commission(app: TestApp) {
    program(&app, json!({})).await;
    let customer = fresh_id("cus");
    expect(&app, &checkout(&customer, Some("JANE20")), "attributed").await;
    let event = invoice(&customer, 9900, "usd");
    let payload = event.to_string();
    let signature = stripe_signature(&payload, STRIPE_SECRET, None);
    let mut deliveries = Vec::new();
    for _ in 0..8 {
        let app = app.clone();
        let (payload, signature) = (payload.clone(), signature.clone());
        let target = app.app_id.to_string();
        deliveries.push(tokio::spawn(async move {
            app.post_stripe(&target, payload, Some(&signature)).await
        }));
    }
    let mut handled = 0;
    for delivery in deliveries {
        let answer = delivery.await.unwrap();
        assert_eq!(answer.status, 200, "{:#}", answer.body);
        if answer.body["duplicate"] != true {
            assert_eq!(
                answer.body["outcome"], "commission_created",
                "{:#}",
                answer.body
            );
            handled += 1;
        }
    }
    assert_eq!(
        handled, 1,
        "one delivery handles it, the others are duplicates"
    );
    assert_eq!(entries_of(&app, &customer).await.len(), 1);
    assert_eq!(
        app.stripe_log().await.len(),
        2,
        "the checkout and the invoice"
    );
}

async fn connecting_shows_the_endpoint_never_the_secret_and_disconnecting_stops_events(
    app: TestApp,
) {
    let path = format!("/v1/apps/{}/integrations/stripe", app.app_id);
    let token = app.admin_token();
    let missing = app.admin(Method::GET, &path, Some(&token), None).await;
    missing.assert_problem(404, "integration_not_found");
    let bad = app
        .admin(
            Method::PUT,
            &path,
            Some(&token),
            Some(&json!({"webhookSecret": "sk_live_123"})),
        )
        .await;
    bad.assert_problem(400, "invalid_request");
    assert_eq!(bad.body["field"], "webhookSecret");

    let connected = app.connect_stripe(false).await;
    assert_eq!(connected.status, 200, "{:#}", connected.body);
    assert_eq!(connected.body["connected"], true);
    assert_eq!(connected.body["livemode"], false);
    assert_eq!(
        connected.body["endpointUrl"],
        format!(
            "https://partners.example.com/v1/integrations/stripe/{}",
            app.app_id
        )
    );
    assert!(!connected.body.to_string().contains(STRIPE_SECRET));
    let read = app.admin(Method::GET, &path, Some(&token), None).await;
    assert_eq!(read.body["lastEventAt"], Value::Null);
    assert!(!read.body.to_string().contains("whsec_"));

    expect(&app, &stripe_event("customer.created"), "failed").await;
    let read = app.admin(Method::GET, &path, Some(&token), None).await;
    assert!(read.body["lastEventAt"].is_string(), "{:#}", read.body);

    let actions: Vec<Value> = app
        .audit_entries()
        .await
        .into_iter()
        .map(|e| e["action"].clone())
        .collect();
    assert!(
        actions.contains(&json!("integration.connected")),
        "{actions:?}"
    );

    let gone = app.admin(Method::DELETE, &path, Some(&token), None).await;
    assert_eq!(gone.status, 204, "{:#}", gone.body);
    let answer = app.send_stripe(&stripe_event("customer.created")).await;
    answer.assert_problem(404, "integration_not_found");
    let again = app.admin(Method::DELETE, &path, Some(&token), None).await;
    again.assert_problem(404, "integration_not_found");
}

async fn a_first_invoice_before_its_checkout_waits_for_the_attribution(app: TestApp) {
    program(&app, json!({})).await;
    let customer = fresh_id("cus");
    let mut first = invoice(&customer, 9900, "usd");
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    set(&mut first, "/data/object/created", json!(now));
    set(
        &mut first,
        "/data/object/billing_reason",
        json!("subscription_create"),
    );
    let before = app.calls();
    let early = app.send_stripe(&first).await;
    early.assert_problem(409, "attribution_pending");
    let calls = app.calls().since(before);
    assert_eq!((calls.writes, calls.transactions), (0, 0), "{calls:?}");
    // The checkout arrives; Stripe sends the invoice again.
    expect(&app, &checkout(&customer, Some("JANE20")), "attributed").await;
    expect(&app, &first, "commission_created").await;
    // A renewal of a customer nobody referred is recorded at once.
    let stranger = fresh_id("cus");
    let renewal = expect(&app, &invoice(&stranger, 9900, "usd"), "revenue_recorded").await;
    assert_eq!(renewal["reason"], "not_referred");
}

async fn refunds_reverse_only_what_earned_not_the_tax(app: TestApp) {
    program(&app, json!({})).await;
    let customer = fresh_id("cus");
    expect(&app, &checkout(&customer, Some("JANE20")), "attributed").await;
    let taxed = || {
        let mut event = invoice(&customer, 10890, "usd");
        set(
            &mut event,
            "/data/object/total_taxes",
            json!([{"amount": 990, "tax_behavior": "exclusive", "taxability_reason": "standard_rated", "taxable_amount": 9900, "type": "tax_rate_details", "tax_rate_details": {"tax_rate": "txr_1"}}]),
        );
        event
    };
    expect(&app, &taxed(), "commission_created").await;
    expect(&app, &taxed(), "commission_created").await;
    // One charge refunded in full, tax included: its commission comes back, the
    // other invoice's stays.
    let charge = fresh_id("ch");
    let mut refunded = refund(&customer, &charge, 10890);
    set(&mut refunded, "/data/object/amount", json!(10890));
    expect(&app, &refunded, "refund_recorded").await;
    let amounts: Vec<i64> = entries_of(&app, &customer)
        .await
        .iter()
        .map(|e| e.amount.minor())
        .collect();
    assert_eq!(amounts, vec![1980, 1980, -1980]);
}

async fn a_one_off_payment_without_a_stripe_customer_is_refunded_by_its_payment(app: TestApp) {
    program(&app, json!({})).await;
    let mut paid = stripe_event("checkout.session.completed.payment");
    set(&mut paid, "/data/object/customer", Value::Null);
    set(
        &mut paid,
        "/data/object/metadata",
        json!({"customer_id": "buyer_9"}),
    );
    let intent = paid["data"]["object"]["payment_intent"].clone();
    expect(&app, &paid, "commission_created").await;
    let mut refunded = stripe_event("charge.refunded");
    set(&mut refunded, "/data/object/customer", Value::Null);
    set(&mut refunded, "/data/object/payment_intent", intent);
    set(&mut refunded, "/data/object/amount", json!(10890));
    set(&mut refunded, "/data/object/amount_refunded", json!(10890));
    let answer = expect(&app, &refunded, "refund_recorded").await;
    assert!(answer["reason"].is_null(), "{answer:#}");
    let amounts: Vec<i64> = entries_of(&app, "buyer_9")
        .await
        .iter()
        .map(|e| e.amount.minor())
        .collect();
    assert_eq!(
        amounts,
        vec![1980, -1980],
        "108.90 with 9.90 tax, refunded in full"
    );
}

on_both_backends!(
    a_first_invoice_before_its_checkout_waits_for_the_attribution,
    refunds_reverse_only_what_earned_not_the_tax,
    a_one_off_payment_without_a_stripe_customer_is_refunded_by_its_payment,
    checkout_invoices_renewals_and_refunds_reach_the_ledger,
    the_previous_api_versions_shapes_earn_the_same,
    a_promotion_code_linked_to_a_partner_attributes_a_checkout_without_a_click,
    yen_and_dinars_from_stripe_come_out_exact,
    refused_deliveries_write_nothing,
    invoice_paid_costs_the_revenue_paths_round_trips_plus_one_read,
    concurrent_deliveries_of_one_event_make_one_commission,
);

#[tokio::test]
async fn a_subscriptions_metadata_attributes_its_invoices() {
    let app = TestApp::memory().await;
    program(&app, json!({})).await;
    let customer = fresh_id("cus");
    let mut event = invoice(&customer, 9900, "usd");
    set(
        &mut event,
        "/data/object/parent/subscription_details/metadata",
        json!({"referral_code": "JANE20", "customer_id": "user_5"}),
    );
    expect(&app, &event, "commission_created").await;
    assert_eq!(entries_of(&app, "user_5").await.len(), 1);
    // Its next invoice, without metadata, finds the customer through the link.
    expect(&app, &invoice(&customer, 9900, "usd"), "commission_created").await;
    assert_eq!(entries_of(&app, "user_5").await.len(), 2);
}

#[tokio::test]
async fn an_apps_own_id_as_client_reference_id_falls_back_to_the_metadata() {
    let app = TestApp::memory().await;
    program(&app, json!({})).await;
    let mut event = checkout(&fresh_id("cus"), Some("user_77"));
    set(
        &mut event,
        "/data/object/metadata",
        json!({"referral_code": "JANE20"}),
    );
    expect(&app, &event, "attributed").await;
}

#[tokio::test]
async fn a_signed_event_that_cannot_be_read_is_logged_as_failed() {
    let app = TestApp::memory().await;
    program(&app, json!({})).await;
    let mut event = invoice(&fresh_id("cus"), 9900, "usd");
    event["data"]["object"]
        .as_object_mut()
        .unwrap()
        .remove("amount_paid");
    let answer = expect(&app, &event, "failed").await;
    assert!(
        answer["reason"].as_str().unwrap().contains("amount_paid"),
        "{answer:#}"
    );
    assert_eq!(app.stripe_log().await[0]["outcome"], "failed");
}

#[tokio::test]
async fn an_invoice_showing_a_linked_promotion_code_attributes_its_customer() {
    let app = TestApp::memory().await;
    program(&app, json!({})).await;
    let promo = fresh_id("promo");
    let mut created = stripe_event("promotion_code.created");
    set(&mut created, "/data/object/id", json!(promo));
    expect(&app, &created, "promotion_code_linked").await;
    // Before basil an invoice carried its discount, with the promotion code.
    let customer = fresh_id("cus");
    let mut event = invoice_shaped("invoice.paid.previous", &customer, 9900, "usd");
    set(
        &mut event,
        "/data/object/discount",
        json!({"id": "di_1", "object": "discount", "coupon": {"id": "JANE20OFF"}, "customer": customer, "promotion_code": promo}),
    );
    expect(&app, &event, "commission_created").await;
    assert_eq!(entries_of(&app, &customer).await.len(), 1);
}

#[tokio::test]
async fn a_free_checkout_attributes_and_its_log_names_the_customer() {
    let app = TestApp::memory().await;
    program(&app, json!({})).await;
    let customer = fresh_id("cus");
    let mut event = stripe_event("checkout.session.completed.payment");
    set(&mut event, "/data/object/customer", json!(customer));
    set(&mut event, "/data/object/amount_total", json!(0));
    set(
        &mut event,
        "/data/object/total_details/amount_tax",
        json!(0),
    );
    let answer = expect(&app, &event, "ignored").await;
    assert_eq!(answer["reason"], "nothing was paid");
    assert_eq!(
        app.stripe_log().await[0]["created"]["customerId"],
        customer.as_str()
    );
    // The attribution stands: the customer's next payment earns.
    expect(&app, &invoice(&customer, 9900, "usd"), "commission_created").await;
}

#[tokio::test]
async fn one_off_payments() {
    a_one_off_checkout_payment_earns_on_its_total_without_tax(TestApp::memory().await).await;
}

#[tokio::test]
async fn customer_metadata() {
    customer_metadata_attributes_and_maps_to_the_apps_own_customer_id(TestApp::memory().await)
        .await;
}

#[tokio::test]
async fn failed_attributions() {
    attributions_that_can_never_apply_are_logged_as_failed(TestApp::memory().await).await;
}

#[tokio::test]
async fn other_currencies() {
    revenue_in_another_currency_is_recorded_with_its_reason(TestApp::memory().await).await;
}

#[tokio::test]
async fn connection() {
    connecting_shows_the_endpoint_never_the_secret_and_disconnecting_stops_events(
        TestApp::memory().await,
    )
    .await;
}

#[test]
fn both_api_versions_read_to_the_same_actions() {
    use partner_domain::stripe::{Action, StripeEvent};
    let read = |event: Value| {
        StripeEvent::parse(event.to_string().as_bytes())
            .unwrap()
            .action
    };
    // 108.90 with 9.90 tax: `tax` before basil, `total_taxes[].amount` since.
    let mut previous = stripe_event("invoice.paid.previous");
    set(&mut previous, "/data/object/amount_paid", json!(10890));
    set(&mut previous, "/data/object/total", json!(10890));
    set(&mut previous, "/data/object/tax", json!(990));
    let mut current = stripe_event("invoice.paid");
    set(&mut current, "/data/object/amount_paid", json!(10890));
    set(&mut current, "/data/object/total", json!(10890));
    set(
        &mut current,
        "/data/object/total_taxes",
        json!([{"amount": 990, "tax_behavior": "exclusive", "taxability_reason": "standard_rated", "taxable_amount": 9900, "type": "tax_rate_details", "tax_rate_details": {"tax_rate": "txr_1"}}]),
    );
    let (
        Action::Invoice {
            customer: a,
            payment: pa,
        },
        Action::Invoice {
            customer: b,
            payment: pb,
        },
    ) = (read(previous), read(current))
    else {
        panic!("invoices");
    };
    assert_eq!(a, b);
    assert_eq!((pa.amount.minor(), pa.gross.minor()), (9900, 10890));
    assert_eq!(
        (
            &pa.revenue_id,
            pa.amount,
            pa.gross,
            &pa.currency,
            pa.occurred_at
        ),
        (
            &pb.revenue_id,
            pb.amount,
            pb.gross,
            &pb.currency,
            pb.occurred_at
        )
    );
    // Before basil an invoice names its PaymentIntent; since, it does not.
    assert!(pa.payment_intent.is_some() && pb.payment_intent.is_none());
    for (current, previous) in [
        ("charge.refunded", "charge.refunded.previous"),
        ("promotion_code.created", "promotion_code.created.previous"),
        (
            "customer.discount.created",
            "customer.discount.created.previous",
        ),
    ] {
        assert_eq!(
            read(stripe_event(current)),
            read(stripe_event(previous)),
            "{current}"
        );
    }
}
