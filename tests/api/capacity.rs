//! What each endpoint costs in DynamoDB capacity units (on-demand billing), from
//! the sizes of the items it reads and writes (`partner_store::capacity`), warm
//! (the key cached). The figures are BENCHMARKS.md's "Capacity per request"; a
//! change that makes an endpoint read or write more shows up here.

use partner_tests::{TestApp, fresh_id, on_both_backends, stripe_event};
use serde_json::{Value, json};

/// The read units and write units one request consumed.
async fn units_of<F, Fut>(app: &TestApp, request: F) -> (f64, u64)
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = partner_tests::TestResponse>,
{
    let before = app.store.units();
    let response = request().await;
    assert!(response.status.is_success(), "{:#}", response.body);
    let units = app.store.units().since(before);
    (units.reads(), units.writes)
}

async fn each_endpoint_costs_the_capacity_units_of_its_items(app: TestApp) {
    app.store.meter();
    let mut measured: Vec<(&str, f64, u64)> = Vec::new();
    // Warm: the key cached, as on a warm function.
    app.status_of("nobody@example.com").await;

    let apply = |email: String| {
        let app = app.clone();
        async move {
            app.apply(&json!({"email": email, "name": "Jane Smith", "customerId": "partner_user"}))
                .await
        }
    };
    let (r, w) = units_of(&app, || apply("jane@example.com".into())).await;
    measured.push(("apply", r, w));
    let (r, w) = units_of(&app, || app.status_of("jane@example.com")).await;
    measured.push(("status", r, w));
    let id = app.status_of("jane@example.com").await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let approve = json!({"action": "approve", "code": "JANE20"});
    let (r, w) = units_of(&app, || app.review(&id, &approve)).await;
    measured.push(("review (approve)", r, w));
    let (r, w) = units_of(&app, || {
        app.get("/v1/affiliate/by-customer/partner_user", Some(&app.api_key))
    })
    .await;
    measured.push(("by-customer", r, w));
    let click =
        json!({"code": "JANE20", "url": "https://example.com/?ref=JANE20", "visitorId": "v1"});
    let (r, w) = units_of(&app, || {
        app.post_json("/v1/affiliate/track", Some(&app.api_key), &click)
    })
    .await;
    measured.push(("track", r, w));
    let referral = json!({"customerId": "buyer_1", "code": "JANE20"});
    let (r, w) = units_of(&app, || {
        app.post_json("/v1/affiliate/referrals", Some(&app.api_key), &referral)
    })
    .await;
    measured.push(("referral", r, w));
    let payment = json!({"eventId": "in_1", "customerId": "buyer_1", "amount": 99.0, "currency": "usd", "type": "payment"});
    let (r, w) = units_of(&app, || {
        app.post_json("/v1/affiliate/revenue", Some(&app.api_key), &payment)
    })
    .await;
    measured.push(("revenue (commission)", r, w));
    let session = app
        .post_json(
            "/v1/sessions",
            Some(&app.api_key),
            &json!({"customerId": "partner_user"}),
        )
        .await;
    let token = session.body["token"].as_str().unwrap().to_owned();
    let (r, w) = units_of(&app, || async {
        let request = axum::http::Request::builder()
            .uri("/v1/affiliate/dashboard")
            .header("authorization", format!("Bearer {token}"))
            .body(axum::body::Body::empty())
            .unwrap();
        app.send(request).await
    })
    .await;
    measured.push(("dashboard", r, w));
    assert_eq!(app.connect_stripe(false).await.status, 200);
    let customer = fresh_id("cus");
    let mut checkout = stripe_event("checkout.session.completed");
    checkout["data"]["object"]["customer"] = Value::String(customer.clone());
    assert_eq!(app.send_stripe(&checkout).await.status, 200);
    let mut invoice = stripe_event("invoice.paid");
    invoice["data"]["object"]["customer"] = Value::String(customer.clone());
    let (r, w) = units_of(&app, || app.send_stripe(&invoice)).await;
    measured.push(("Stripe invoice.paid", r, w));

    let expected: Vec<(&str, f64, u64)> = vec![
        ("apply", 0.0, 18),
        ("status", 1.0, 0),
        ("review (approve)", 3.0, 29),
        ("by-customer", 1.5, 0),
        ("track", 1.5, 6),
        ("referral", 0.5, 8),
        ("revenue (commission)", 7.0, 24),
        ("dashboard", 8.0, 0),
        ("Stripe invoice.paid", 10.0, 31),
    ];
    assert_eq!(measured, expected);
}

/// What a partner's summary costs when its lists are full: ten commissions, ten
/// payouts and ten deals whose notes are at their 2,000-character cap. A revenue
/// event rewrites the commissions' list only, a deal the deals' list only; the
/// dashboard reads all three.
async fn a_full_summary_costs_what_its_lists_weigh(app: TestApp) {
    let partner = app.applied("jane@example.com", "Jane Smith").await;
    let approved = app
        .review(&partner, &json!({"action": "approve", "code": "JANE20"}))
        .await;
    let customer = approved.body["affiliate"]["customer_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let referral = json!({"customerId": "buyer_1", "code": "JANE20"});
    app.post_json("/v1/affiliate/referrals", Some(&app.api_key), &referral)
        .await;
    let payment = |n: u32| json!({"eventId": format!("in_{n}"), "customerId": "buyer_1", "amount": 99.0, "currency": "usd", "type": "payment"});
    for n in 0..10 {
        let paid = app
            .post_json("/v1/affiliate/revenue", Some(&app.api_key), &payment(n))
            .await;
        assert_eq!(paid.status, 201, "{:#}", paid.body);
        // Each payout pays the one approved commission: ten payouts.
        let later = partner_domain::now() + time::Duration::days(400);
        partner_service::commands::approvals::approve_due(&app.state, later)
            .await
            .unwrap();
        partner_tests::pay_out(&app.state, &app.app_id).await;
    }
    let session = app
        .post_json(
            "/v1/sessions",
            Some(&app.api_key),
            &json!({"customerId": customer}),
        )
        .await;
    let token = session.body["token"].as_str().unwrap().to_owned();
    let with_token = |method: &str, path: &str, body: Option<Value>| {
        let mut request = axum::http::Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", format!("Bearer {token}"));
        if body.is_some() {
            request = request.header("content-type", "application/json");
        }
        request
            .body(axum::body::Body::from(
                body.map(|b| b.to_string()).unwrap_or_default(),
            ))
            .unwrap()
    };
    let deal = |n: u32| json!({"leadEmail": format!("lead{n}@example.com"), "leadName": "Lead", "notes": "n".repeat(2000)});
    for n in 0..10 {
        let registered = app
            .send(with_token("POST", "/v1/affiliate/deals", Some(deal(n))))
            .await;
        assert_eq!(registered.status, 201, "{:#}", registered.body);
    }
    app.store.meter();
    let mut measured: Vec<(&str, f64, u64)> = Vec::new();
    let last = payment(10);
    let (r, w) = units_of(&app, || {
        app.post_json("/v1/affiliate/revenue", Some(&app.api_key), &last)
    })
    .await;
    measured.push(("revenue (commission)", r, w));
    let (r, w) = units_of(&app, || {
        app.send(with_token("POST", "/v1/affiliate/deals", Some(deal(10))))
    })
    .await;
    measured.push(("deal", r, w));
    let (r, w) = units_of(&app, || {
        app.send(with_token("GET", "/v1/affiliate/dashboard", None))
    })
    .await;
    measured.push(("dashboard", r, w));
    // Timestamps are written without trailing zeros, so a full list's size moves by
    // a few bytes from run to run: across a kilobyte boundary, 2 write units.
    let (r, w) = (measured[0].1, measured[0].2);
    assert!(r == 7.0 && (26..=28).contains(&w), "revenue: {measured:?}");
    assert_eq!(&measured[1..], &[("deal", 7.5, 78), ("dashboard", 10.5, 0)]);
}

on_both_backends!(
    each_endpoint_costs_the_capacity_units_of_its_items,
    a_full_summary_costs_what_its_lists_weigh,
);
