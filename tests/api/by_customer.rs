//! `GET /v1/affiliate/by-customer/{id}`.

use partner_domain::records::{Affiliate, AffiliateStatus};
use partner_domain::{AffiliateId, ApplicationId, CustomerId, RateBps, ReferralCode};
use partner_store::WriteOp;
use partner_store::keys::{self, attr, entity};
use partner_tests::{TestApp, on_both_backends};
use serde_json::{Value, json};

/// Stores a partner record for a new customer of `app`, as an approval does.
async fn enrol(app: &TestApp, code: &str, rate: Option<u32>) -> Affiliate {
    let affiliate = Affiliate {
        id: AffiliateId::generate(),
        app_id: app.app_id.clone(),
        customer_id: CustomerId::generate(),
        application_id: ApplicationId::generate(),
        code: ReferralCode::parse("code", code).unwrap(),
        status: AffiliateStatus::Active,
        commission_rate: rate.map(RateBps),
        group_id: None,
        created_at: partner_domain::now(),
    };
    let key = keys::affiliate_of_customer(&app.app_id, &affiliate.customer_id);
    let Value::Object(mut item) = serde_json::to_value(&affiliate).unwrap() else {
        unreachable!()
    };
    item.insert(attr::PK.into(), json!(key.pk));
    item.insert(attr::SK.into(), json!(key.sk));
    item.insert(attr::TYPE.into(), json!(entity::AFFILIATE));
    app.store
        .write(WriteOp::Put {
            item,
            condition: None,
        })
        .await
        .unwrap();
    affiliate
}

fn path(customer: &CustomerId) -> String {
    format!("/v1/affiliate/by-customer/{customer}")
}

async fn an_unknown_customer_is_not_enrolled(app: TestApp) {
    let response = app
        .get("/v1/affiliate/by-customer/cust_123", Some(&app.api_key))
        .await;
    assert_eq!(response.status, 200);
    assert_eq!(response.body, json!({"enrolled": false}));
}

async fn a_partner_shows_its_code_status_rate_and_balances(app: TestApp) {
    let affiliate = enrol(&app, "JANE20", None).await;
    let response = app
        .get(&path(&affiliate.customer_id), Some(&app.api_key))
        .await;
    assert_eq!(response.status, 200, "{:#}", response.body);
    let body = &response.body;
    assert_eq!(body["enrolled"], true);
    assert_eq!(body["id"], affiliate.id.as_str());
    assert_eq!(body["code"], "JANE20");
    assert_eq!(body["type"], "affiliate");
    assert_eq!(body["status"], "active");
    assert_eq!(body["customerId"], affiliate.customer_id.as_str());
    assert_eq!(body["commissionRate"], 20.0);
    assert_eq!(body["totalEarned"], 0.0);
    assert_eq!(body["pendingBalance"], 0.0);
    assert_eq!(body["currency"], "usd");
}

async fn a_partners_own_rate_overrides_the_program_default(app: TestApp) {
    let affiliate = enrol(&app, "RATE30", Some(3000)).await;
    let response = app
        .get(&path(&affiliate.customer_id), Some(&app.api_key))
        .await;
    assert_eq!(response.body["commissionRate"], 30.0);
}

async fn by_customer_is_one_read_when_the_key_is_cached(app: TestApp) {
    let affiliate = enrol(&app, "JANE20", None).await;
    app.get("/v1/affiliate/by-customer/cust_warmup", Some(&app.api_key))
        .await;
    let before = app.calls();
    app.get(&path(&affiliate.customer_id), Some(&app.api_key))
        .await;
    let calls = app.calls().since(before);
    assert_eq!((calls.gets, calls.total()), (1, 1), "{calls:?}");
}

async fn another_apps_key_never_sees_this_apps_partners(app: TestApp) {
    let affiliate = enrol(&app, "JANE20", None).await;
    let (_, other_key) = app.second_app().await;
    let response = app
        .get(&path(&affiliate.customer_id), Some(&other_key))
        .await;
    assert_eq!(response.body, json!({"enrolled": false}));
}

on_both_backends!(
    an_unknown_customer_is_not_enrolled,
    a_partner_shows_its_code_status_rate_and_balances,
    a_partners_own_rate_overrides_the_program_default,
    by_customer_is_one_read_when_the_key_is_cached,
    another_apps_key_never_sees_this_apps_partners,
);

#[tokio::test]
async fn a_malformed_customer_id_is_400() {
    let app = TestApp::memory().await;
    let too_long = "a".repeat(129);
    for bad in ["cust_a%23b", "a%20b", "a%2Fb", too_long.as_str()] {
        let response = app
            .get(
                &format!("/v1/affiliate/by-customer/{bad}"),
                Some(&app.api_key),
            )
            .await;
        response.assert_problem(400, "invalid_request");
    }
}

#[tokio::test]
async fn by_customer_needs_an_api_key() {
    let app = TestApp::memory().await;
    app.get("/v1/affiliate/by-customer/cust_123", None)
        .await
        .assert_problem(401, "unauthorized");
}
