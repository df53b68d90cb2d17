//! DynamoDB faults, injected between the code and moto: when the SDK's retries run
//! out the API answers 503 with `Retry-After` (never 500), a client that retries
//! gets everything done exactly once, and a hung call answers before the Lambda's
//! time-out.

use std::time::{Duration, Instant};

use axum::http::Method;
use partner_tests::faults::FaultProxy;
use partner_tests::{TestApp, TestResponse};
use serde_json::{Value, json};

/// The API functions' Lambda time-out (`template.yaml`, `Globals.Function.Timeout`).
const LAMBDA_TIMEOUT: Duration = Duration::from_secs(10);

async fn app_behind(proxy: &FaultProxy) -> TestApp {
    let store = partner_store::testing::moto_through(&proxy.endpoint).await;
    TestApp::on(store).await
}

fn moto() -> String {
    std::env::var(partner_store::testing::MOTO_ENDPOINT_VAR).expect("MOTO_ENDPOINT")
}

/// What a well-behaved client saw: how many 503s (each with `Retry-After`).
#[derive(Debug, Default)]
struct Client {
    unavailable: usize,
}

impl Client {
    /// Sends until the answer is not a 503, as a client honouring `Retry-After` does
    /// (without the wait: the proxy's faults are random, not load).
    async fn until_answered(
        &mut self,
        app: &TestApp,
        method: Method,
        path: &str,
        key: Option<&str>,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> TestResponse {
        for _ in 0..50 {
            let response = match token {
                Some(token) => app.admin(method.clone(), path, Some(token), body).await,
                None => {
                    app.send(partner_tests::request(
                        method.clone(),
                        path,
                        key,
                        body.map(Value::to_string),
                    ))
                    .await
                }
            };
            if response.status == 503 {
                response.assert_problem(503, "service_unavailable");
                assert_eq!(response.headers["retry-after"], "1");
                self.unavailable += 1;
                continue;
            }
            assert!(
                response.status.as_u16() < 500,
                "{method} {path}: {} {:#}",
                response.status,
                response.body
            );
            return response;
        }
        panic!("{method} {path} never got through");
    }
}

#[tokio::test]
async fn with_a_fifth_of_dynamodb_calls_refused_failures_are_503s_and_nothing_is_lost_or_doubled() {
    let proxy = FaultProxy::start(&moto()).await;
    let app = app_behind(&proxy).await;
    let token = app.admin_token();
    let key = app.api_key.clone();
    app.admin(
        Method::PUT,
        &format!("/v1/apps/{}/affiliates/settings", app.app_id),
        Some(&token),
        Some(&json!({"holdingPeriodDays": 0})),
    )
    .await;
    proxy.refuse(20);
    proxy.drop_read_answers(5);
    let mut client = Client::default();

    let mut partners = Vec::new();
    for n in 0..20 {
        let applied = client
            .until_answered(
                &app,
                Method::POST,
                "/v1/affiliate/apply",
                Some(&key),
                None,
                Some(
                    &json!({"email": format!("p{n}@example.com"), "name": format!("Partner {n}")}),
                ),
            )
            .await;
        assert_eq!(applied.status, 201, "{:#}", applied.body);
        if n < 4 {
            let id = applied.body["id"].as_str().unwrap().to_owned();
            let approved = client
                .until_answered(
                    &app,
                    Method::POST,
                    &format!(
                        "/v1/apps/{}/affiliates/applications/{id}/review",
                        app.app_id
                    ),
                    None,
                    Some(&token),
                    Some(&json!({"action": "approve", "code": format!("PART{n}")})),
                )
                .await;
            assert_eq!(approved.status, 200, "{:#}", approved.body);
            partners.push(approved.body["affiliate"].clone());
        }
    }
    for (p, partner) in partners.iter().enumerate() {
        for c in 0..2 {
            let buyer = format!("buyer-{p}-{c}");
            let referred = client
                .until_answered(
                    &app,
                    Method::POST,
                    "/v1/affiliate/referrals",
                    Some(&key),
                    None,
                    Some(&json!({"customerId": buyer, "code": partner["code"]})),
                )
                .await;
            assert_eq!(referred.status, 201, "{:#}", referred.body);
            for (event, amount, kind) in [
                ("a", 100.0, "payment"),
                ("b", 50.0, "payment"),
                ("c", 20.0, "refund"),
            ] {
                let paid = client
                    .until_answered(
                        &app,
                        Method::POST,
                        "/v1/affiliate/revenue",
                        Some(&key),
                        None,
                        Some(
                            &json!({"eventId": format!("{buyer}-{event}"), "customerId": buyer,
                                     "amount": amount, "currency": "usd", "type": kind}),
                        ),
                    )
                    .await;
                assert!(paid.status.is_success(), "{:#}", paid.body);
            }
        }
    }
    proxy.refuse(0);
    proxy.drop_read_answers(0);
    let (refused, forwarded) = proxy.counts();
    assert!(refused > 0, "no fault was injected");

    // The audit: every application once, every partner's balance its entries.
    let listed = app
        .admin(
            Method::GET,
            &format!("/v1/apps/{}/affiliates/applications?limit=100", app.app_id),
            Some(&token),
            None,
        )
        .await;
    let mut emails: Vec<&str> = listed.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["email"].as_str().unwrap())
        .collect();
    emails.sort_unstable();
    emails.dedup();
    assert_eq!(emails.len(), 20);
    assert_eq!(listed.body["data"].as_array().unwrap().len(), 20);
    for partner in &partners {
        let affiliate =
            partner_domain::AffiliateId::parse("id", partner["id"].as_str().unwrap()).unwrap();
        let entries = app
            .store
            .ledger()
            .entries_of_affiliate(&app.app_id, &affiliate)
            .await
            .unwrap();
        // Two buyers, each: 20.00 + 10.00 earned, 4.00 reversed.
        assert_eq!(entries.len(), 6, "{entries:#?}");
        let sum: i64 = entries.iter().map(|e| e.amount.minor()).sum();
        assert_eq!(sum, 2 * (2000 + 1000 - 400));
        let figures = app
            .get(
                &format!(
                    "/v1/affiliate/by-customer/{}",
                    partner["customer_id"].as_str().unwrap()
                ),
                Some(&key),
            )
            .await
            .body;
        assert_eq!(figures["totalEarned"], json!(sum as f64 / 100.0));
        assert_eq!(figures["availableBalance"], json!(sum as f64 / 100.0));
    }
    eprintln!(
        "FIGURE DynamoDB with 20% of calls refused and 5% of read answers lost: {refused} refused or lost, {forwarded} forwarded, \
         {} client-visible 503s (all with Retry-After), 0 other failures, audit clean",
        client.unavailable
    );
}

#[tokio::test]
async fn a_refused_call_answers_503_with_retry_after_and_writes_nothing() {
    let proxy = FaultProxy::start(&moto()).await;
    let app = app_behind(&proxy).await;
    // The key is cached by a first request, so the refusal hits the write itself.
    assert_eq!(app.status_of("warm@example.com").await.status, 200);
    proxy.refuse(100);
    let refused = app
        .apply(&json!({"email": "jane@example.com", "name": "Jane"}))
        .await;
    refused.assert_problem(503, "service_unavailable");
    assert_eq!(refused.headers["retry-after"], "1");
    proxy.refuse(0);
    assert_eq!(
        app.status_of("jane@example.com").await.body,
        json!({"applied": false})
    );
    assert_eq!(
        app.apply(&json!({"email": "jane@example.com", "name": "Jane"}))
            .await
            .status,
        201
    );
}

#[tokio::test]
async fn a_hung_database_call_answers_503_before_the_lambda_times_out() {
    let proxy = FaultProxy::start(&moto()).await;
    let app = app_behind(&proxy).await;
    assert_eq!(app.status_of("warm@example.com").await.status, 200);
    proxy.hang(true);
    let started = Instant::now();
    let answer = app.status_of("jane@example.com").await;
    let took = started.elapsed();
    proxy.hang(false);
    answer.assert_problem(503, "service_unavailable");
    assert!(
        took < LAMBDA_TIMEOUT,
        "answered after {took:?}, past the Lambda's {LAMBDA_TIMEOUT:?}"
    );
    eprintln!(
        "FIGURE a hung DynamoDB call: 503 after {took:?} (Lambda time-out {LAMBDA_TIMEOUT:?})"
    );
}
