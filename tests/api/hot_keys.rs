//! One popular partner's code at the highest rate this machine allows (16
//! concurrent clients on the embedded store): every accepted click is stored once,
//! a visitor repeating itself across clients counts once, and the partner's
//! sharded counter equals the clicks that counted. Throughput is `make bench`'s
//! business; this holds the counts.

use std::collections::HashSet;

use partner_domain::ledger::ClickId;
use partner_tests::TestApp;
use serde_json::json;

const CLIENTS: usize = 16;
const CLICKS_PER_CLIENT: usize = 150;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_code_under_concurrent_clicks_loses_and_double_counts_nothing() {
    let app = TestApp::memory().await;
    let applied = app
        .apply(&json!({"email": "popular@example.com", "name": "Popular", "customerId": "popular"}))
        .await;
    let approved = app
        .review(
            applied.body["id"].as_str().unwrap(),
            &json!({"action": "approve", "code": "POPULAR"}),
        )
        .await;
    assert_eq!(approved.status, 200, "{:#}", approved.body);
    let affiliate = partner_domain::AffiliateId::parse(
        "id",
        approved.body["affiliate"]["id"].as_str().unwrap(),
    )
    .unwrap();

    let mut clients = Vec::new();
    for client in 0..CLIENTS {
        let app = app.clone();
        clients.push(tokio::spawn(async move {
            let mut answers = Vec::new();
            for n in 0..CLICKS_PER_CLIENT {
                // Every tenth click is the one visitor every client shares.
                let visitor = if n % 10 == 0 {
                    "shared".to_owned()
                } else {
                    format!("v{client}-{n}")
                };
                let response = app
                    .post_json(
                        "/v1/affiliate/track",
                        Some(&app.api_key),
                        &json!({"code": "POPULAR", "url": "https://example.com/?ref=POPULAR", "visitorId": visitor}),
                    )
                    .await;
                assert_eq!(response.status, 201, "{:#}", response.body);
                answers.push((
                    response.body["id"].as_str().unwrap().to_owned(),
                    response.body["counted"].as_bool().unwrap(),
                ));
            }
            answers
        }));
    }
    let mut answers = Vec::new();
    for client in clients {
        answers.extend(client.await.unwrap());
    }
    let total = CLIENTS * CLICKS_PER_CLIENT;
    assert_eq!(answers.len(), total);
    let ids: HashSet<&str> = answers.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids.len(), total, "every click has its own id");
    for id in &ids {
        let id = ClickId::parse("id", id).unwrap();
        assert!(
            app.store
                .clicks()
                .click(&app.app_id, &id)
                .await
                .unwrap()
                .is_some(),
            "click {id} was answered but not stored"
        );
    }
    let counted = answers.iter().filter(|(_, counted)| *counted).count();
    let distinct_visitors = total - total / 10 + 1;
    assert_eq!(
        counted, distinct_visitors,
        "each visitor counts once within its hour"
    );
    let stats = app
        .store
        .clicks()
        .stats(
            &app.app_id,
            &partner_domain::CustomerId::parse("c", "popular").unwrap(),
            &affiliate,
        )
        .await
        .unwrap();
    assert_eq!(
        stats.clicks, counted as i64,
        "the sharded counter equals the counted clicks"
    );
}
