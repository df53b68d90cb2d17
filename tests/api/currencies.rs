//! Amounts in currencies without two decimals: revenue in yen has no minor units,
//! revenue in dinars three, and commissions, balances, settings and exports follow
//! the program currency's ISO 4217 exponent both ways.

use axum::http::Method;
use partner_domain::Money;
use partner_domain::ledger::Entry;
use partner_tests::{TestApp, on_both_backends};
use serde_json::{Value, json};

/// Sets the program's currency (and anything else in `change`) while the ledger is
/// still empty, then enrols a partner and refers `cust_buyer1` to it. Returns the
/// partner's customer id.
async fn program_in(app: &TestApp, change: Value) -> String {
    let path = format!("/v1/apps/{}/affiliates/settings", app.app_id);
    let response = app
        .admin(Method::PUT, &path, Some(&app.admin_token()), Some(&change))
        .await;
    assert_eq!(response.status, 200, "{:#}", response.body);
    let id = app.applied("partner@example.com", "Jane Smith").await;
    let approved = app
        .review(&id, &json!({"action": "approve", "code": "JANE20"}))
        .await;
    assert_eq!(approved.status, 200, "{:#}", approved.body);
    let referred = app
        .post_json(
            "/v1/affiliate/referrals",
            Some(&app.api_key),
            &json!({"customerId": "cust_buyer1", "code": "JANE20"}),
        )
        .await;
    assert_eq!(referred.status, 201, "{:#}", referred.body);
    approved.body["affiliate"]["customer_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn pay(
    app: &TestApp,
    event: &str,
    amount: Value,
    currency: &str,
) -> partner_tests::TestResponse {
    app.post_json(
        "/v1/affiliate/revenue",
        Some(&app.api_key),
        &json!({"eventId": event, "customerId": "cust_buyer1", "amount": amount, "currency": currency, "type": "payment"}),
    )
    .await
}

async fn stored_entries(app: &TestApp) -> Vec<Entry> {
    app.store
        .ledger()
        .entries_of_app(&app.app_id, 10, None)
        .await
        .unwrap()
        .0
}

async fn commissions_csv(app: &TestApp) -> String {
    let csv = app
        .admin(
            Method::GET,
            &format!("/v1/apps/{}/affiliates/commissions?format=csv", app.app_id),
            Some(&app.admin_token()),
            None,
        )
        .await;
    csv.body.as_str().unwrap().to_owned()
}

async fn yen_have_no_minor_units(app: TestApp) {
    let partner = program_in(&app, json!({"currency": "jpy", "minPayoutAmount": 3000})).await;
    let settings = app
        .store
        .apps()
        .settings(&app.app_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        settings.min_payout_amount,
        Money(3000),
        "3000 yen, not 300000"
    );

    let fractional = pay(&app, "pay_frac", json!(10.5), "jpy").await;
    fractional.assert_problem(400, "invalid_request");
    assert!(
        fractional.body["detail"]
            .as_str()
            .unwrap()
            .contains("JPY has no minor units"),
        "{:#}",
        fractional.body
    );

    let paid = pay(&app, "pay_1", json!(1000), "jpy").await;
    assert_eq!(paid.status, 201, "{:#}", paid.body);
    assert_eq!(paid.body["amount"], json!(1000), "{:#}", paid.body);
    assert_eq!(
        paid.body["commission"]["amount"],
        json!(200),
        "{:#}",
        paid.body
    );
    assert_eq!(paid.body["commission"]["revenueAmount"], json!(1000));
    assert_eq!(paid.body["commission"]["currency"], "jpy");

    let entries = stored_entries(&app).await;
    assert_eq!(entries.len(), 1);
    assert_eq!(
        (entries[0].amount, entries[0].revenue_amount),
        (Money(200), Money(1000)),
        "20% of 1000 yen is exactly 200 yen"
    );

    let figures = app
        .get(
            &format!("/v1/affiliate/by-customer/{partner}"),
            Some(&app.api_key),
        )
        .await
        .body;
    assert_eq!(figures["totalEarned"], json!(200), "{figures:#}");
    assert_eq!(figures["currency"], "jpy");
    assert!(
        commissions_csv(&app)
            .await
            .contains(",200,jpy,1000,20,pay_1,"),
        "the export writes yen as whole numbers"
    );
}

async fn dinars_have_three_decimals(app: TestApp) {
    let partner = program_in(&app, json!({"currency": "kwd", "minPayoutAmount": 5.125})).await;
    let settings = app
        .store
        .apps()
        .settings(&app.app_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(settings.min_payout_amount, Money(5125));

    pay(&app, "pay_frac", json!(1.2345), "kwd")
        .await
        .assert_problem(400, "invalid_request");

    let paid = pay(&app, "pay_1", json!(1.234), "kwd").await;
    assert_eq!(paid.status, 201, "{:#}", paid.body);
    assert_eq!(paid.body["amount"], json!(1.234), "{:#}", paid.body);
    // 20% of 1234 fils is 246.8 fils: rounded half-up to 247, shown as 0.247 KWD.
    assert_eq!(
        paid.body["commission"]["amount"],
        json!(0.247),
        "{:#}",
        paid.body
    );
    assert_eq!(paid.body["commission"]["revenueAmount"], json!(1.234));

    let entries = stored_entries(&app).await;
    assert_eq!(entries.len(), 1);
    assert_eq!(
        (entries[0].amount, entries[0].revenue_amount),
        (Money(247), Money(1234))
    );

    let figures = app
        .get(
            &format!("/v1/affiliate/by-customer/{partner}"),
            Some(&app.api_key),
        )
        .await
        .body;
    assert_eq!(figures["totalEarned"], json!(0.247), "{figures:#}");
    let shown = app
        .admin(
            Method::GET,
            &format!("/v1/apps/{}/affiliates/settings", app.app_id),
            Some(&app.admin_token()),
            None,
        )
        .await;
    assert_eq!(
        shown.body["minPayoutAmount"],
        json!(5.125),
        "{:#}",
        shown.body
    );
    assert!(
        commissions_csv(&app)
            .await
            .contains(",0.247,kwd,1.234,20,pay_1,"),
        "the export writes dinars with their three decimals"
    );
}

/// A new currency without a new minimum keeps the minimum's figure: 50 dollars
/// become 50 yen or 50 dinars, not 5000 yen or 5 dinars.
async fn a_currency_change_keeps_the_minimum_payouts_figure(app: TestApp) {
    let path = format!("/v1/apps/{}/affiliates/settings", app.app_id);
    let mut shown = Vec::new();
    for currency in ["jpy", "kwd", "usd"] {
        let response = app
            .admin(
                Method::PUT,
                &path,
                Some(&app.admin_token()),
                Some(&json!({"currency": currency})),
            )
            .await;
        assert_eq!(response.status, 200, "{:#}", response.body);
        shown.push(response.body["minPayoutAmount"].clone());
    }
    assert_eq!(shown, [json!(50), json!(50.0), json!(50.0)]);
    let settings = app
        .store
        .apps()
        .settings(&app.app_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        settings.min_payout_amount,
        Money(5000),
        "50.00 dollars again"
    );
}

async fn revenue_in_another_currency_is_recorded_without_a_commission(app: TestApp) {
    let partner = program_in(&app, json!({})).await;
    let paid = pay(&app, "pay_eur", json!(99.00), "eur").await;
    assert_eq!(paid.status, 201, "{:#}", paid.body);
    assert_eq!(paid.body["commission"], Value::Null, "{:#}", paid.body);
    assert_eq!(paid.body["reason"], "other_currency", "{:#}", paid.body);
    assert_eq!(paid.body["currency"], "eur", "{:#}", paid.body);
    // Recorded: a repeat answers the first result and changes nothing.
    let again = pay(&app, "pay_eur", json!(99.00), "eur").await;
    assert_eq!((again.status.as_u16(), &again.body), (200, &paid.body));
    assert!(
        stored_entries(&app).await.is_empty(),
        "no silent conversion"
    );
    let balances = app
        .store
        .ledger()
        .balances(
            &app.app_id,
            &partner_domain::CustomerId::parse("c", &partner).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(balances.total_earned, 0);
}

on_both_backends!(
    revenue_in_another_currency_is_recorded_without_a_commission,
    yen_have_no_minor_units,
    dinars_have_three_decimals,
    a_currency_change_keeps_the_minimum_payouts_figure,
);
