//! The audit log: every write records its actor, in the transaction of the change
//! it describes; admins read it newest first, by actor and since a time.

use std::collections::BTreeSet;
use std::time::Duration;

use axum::http::Method;
use partner_tests::{TestApp, encode_query, on_both_backends};
use serde_json::{Value, json};

/// An admin token of `app` whose `sub` is `subject`.
fn token_of(app: &TestApp, subject: &str) -> String {
    partner_service::admin_auth::mint(
        &partner_tests::test_config().admin_jwt,
        subject,
        std::slice::from_ref(&app.app_id),
        Duration::from_secs(600),
    )
    .unwrap()
}

fn actions(entries: &[Value]) -> Vec<&str> {
    entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect()
}

/// The actors of the entries of `action`, newest first.
fn actors_of<'a>(entries: &'a [Value], action: &str) -> Vec<&'a str> {
    entries
        .iter()
        .filter(|e| e["action"] == action)
        .map(|e| e["actor"].as_str().unwrap())
        .collect()
}

/// One page of the log, asserted to be a 200.
async fn page(app: &TestApp, query: &str) -> Vec<Value> {
    let page = app.audit_log(query).await;
    assert_eq!(page.status, 200, "{query}: {:#}", page.body);
    page.body["data"].as_array().unwrap().clone()
}

fn actor_query(actor: &str) -> String {
    format!("limit=100&actor={}", encode_query(actor))
}

/// An approved partner: (application id, affiliate id, customer id).
async fn partner(app: &TestApp, email: &str, code: &str) -> (String, String, String) {
    let id = app.applied(email, "Jane Smith").await;
    let approved = app
        .review(&id, &json!({"action": "approve", "code": code}))
        .await;
    assert_eq!(approved.status, 200, "{:#}", approved.body);
    let affiliate = &approved.body["affiliate"];
    let field = |name: &str| affiliate[name].as_str().unwrap().to_owned();
    (id, field("id"), field("customer_id"))
}

async fn settings(app: &TestApp, token: &str, change: Value) {
    let path = format!("/v1/apps/{}/affiliates/settings", app.app_id);
    let response = app
        .admin(Method::PUT, &path, Some(token), Some(&change))
        .await;
    assert_eq!(response.status, 200, "{:#}", response.body);
}

async fn revenue(app: &TestApp, key: &str, event: &str, amount: f64, kind: &str) -> Value {
    let response = app
        .post_json(
            "/v1/affiliate/revenue",
            Some(key),
            &json!({"eventId": event, "customerId": "cust_buyer", "amount": amount,
                    "currency": "usd", "type": kind}),
        )
        .await;
    assert_eq!(response.status, 201, "{:#}", response.body);
    response.body
}

async fn an_approval_shows_the_admin_in_the_log_and_on_the_application(app: TestApp) {
    let key = app.api_key_id().await;
    let id = app.applied("partner@example.com", "Jane Smith").await;
    let ops = token_of(&app, "ops@acme.com");
    let review = format!(
        "/v1/apps/{}/affiliates/applications/{id}/review",
        app.app_id
    );
    let approve = json!({"action": "approve", "code": "JANE20"});
    let approved = app
        .admin(Method::POST, &review, Some(&ops), Some(&approve))
        .await;
    assert_eq!(approved.status, 200, "{:#}", approved.body);
    assert_eq!(
        approved.body["application"]["reviewedBy"],
        "admin:ops@acme.com"
    );
    let application = format!("/v1/apps/{}/affiliates/applications/{id}", app.app_id);
    let shown = app
        .admin(Method::GET, &application, Some(&app.admin_token()), None)
        .await;
    assert_eq!(
        shown.body["reviewedBy"], "admin:ops@acme.com",
        "{:#}",
        shown.body
    );

    let entries = app.audit_entries().await;
    assert_eq!(
        actions(&entries),
        ["application.approved", "application.submitted"],
        "newest first"
    );
    let approval = &entries[0];
    assert_eq!(approval["actor"], "admin:ops@acme.com");
    assert_eq!(
        approval["subject"],
        json!({"kind": "application", "id": id})
    );
    let affiliate = approved.body["affiliate"]["id"].as_str().unwrap();
    assert_eq!(
        approval["summary"],
        format!("partner {affiliate} with code JANE20")
    );
    assert_eq!(entries[1]["actor"], format!("apiKey:{key}"));
    for entry in &entries {
        assert!(entry["id"].as_str().unwrap().starts_with("aud_"), "{entry}");
        assert!(entry["at"].is_string(), "{entry}");
    }
    // A review refused changes nothing, so it records nothing.
    app.admin(Method::POST, &review, Some(&ops), Some(&approve))
        .await
        .assert_problem(409, "application_already_reviewed");
    assert_eq!(app.audit_entries().await.len(), 2);
}

async fn a_bulk_rejection_records_the_admin_for_each_application(app: TestApp) {
    let first = app.applied("a@example.com", "Ann").await;
    let second = app.applied("b@example.com", "Bob").await;
    let bulk = format!(
        "/v1/apps/{}/affiliates/applications/bulk-review",
        app.app_id
    );
    let ops = token_of(&app, "ops@acme.com");
    let body = json!({"ids": [first, second], "action": "reject", "rejectionReason": "Not yet"});
    let reviewed = app
        .admin(Method::POST, &bulk, Some(&ops), Some(&body))
        .await;
    assert_eq!(reviewed.status, 200, "{:#}", reviewed.body);
    for result in reviewed.body["results"].as_array().unwrap() {
        assert_eq!(result["application"]["reviewedBy"], "admin:ops@acme.com");
    }
    let by_ops = page(&app, &actor_query("admin:ops@acme.com")).await;
    assert_eq!(
        actions(&by_ops),
        ["application.rejected", "application.rejected"]
    );
    let subjects: BTreeSet<&str> = by_ops
        .iter()
        .map(|e| e["subject"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(subjects, BTreeSet::from([first.as_str(), second.as_str()]));
}

async fn revenue_names_the_key_it_was_recorded_with(app: TestApp) {
    partner(&app, "partner@example.com", "JANE20").await;
    let own_key = app.api_key_id().await;
    // A second secret key, made by the admin, then leaked and used to forge revenue.
    let keys = format!("/v1/apps/{}/api-keys", app.app_id);
    let created = app
        .admin(
            Method::POST,
            &keys,
            Some(&app.admin_token()),
            Some(&json!({"kind": "secret", "label": "billing"})),
        )
        .await;
    assert_eq!(created.status, 201, "{:#}", created.body);
    let leaked_id = created.body["id"].as_str().unwrap().to_owned();
    let leaked = created.body["key"].as_str().unwrap().to_owned();
    let referred = app
        .post_json(
            "/v1/affiliate/referrals",
            Some(&app.api_key),
            &json!({"customerId": "cust_buyer", "code": "JANE20"}),
        )
        .await;
    assert_eq!(referred.status, 201, "{:#}", referred.body);
    revenue(&app, &app.api_key, "in_honest", 10.0, "payment").await;
    let forged = revenue(&app, &leaked, "in_forged", 999.0, "payment").await;
    revenue(&app, &app.api_key, "re_honest", 10.0, "refund").await;

    let by_leaked = page(&app, &actor_query(&format!("apiKey:{leaked_id}"))).await;
    assert_eq!(actions(&by_leaked), ["revenue.recorded"], "{by_leaked:#?}");
    assert_eq!(
        by_leaked[0]["subject"],
        json!({"kind": "revenue", "id": "in_forged"})
    );
    let commission = forged["commission"]["id"].as_str().unwrap();
    let summary = by_leaked[0]["summary"].as_str().unwrap();
    assert!(
        summary.starts_with("payment of 999.00 usd by customer cust_buyer")
            && summary.contains(commission),
        "{summary}"
    );
    let by_own = page(&app, &actor_query(&format!("apiKey:{own_key}"))).await;
    assert_eq!(
        actions(&by_own),
        [
            "refund.recorded",
            "revenue.recorded",
            "referral.recorded",
            "application.submitted"
        ]
    );
    assert_eq!(by_own[1]["subject"]["id"], "in_honest");
    // The key itself was the admin's doing, and so is its revocation.
    let revoked = app
        .admin(
            Method::DELETE,
            &format!("{keys}/{leaked_id}"),
            Some(&app.admin_token()),
            None,
        )
        .await;
    assert_eq!(revoked.status, 204, "{:#}", revoked.body);
    let entries = app.audit_entries().await;
    for action in ["api_key.created", "api_key.revoked"] {
        let entry = entries.iter().find(|e| e["action"] == action).unwrap();
        assert_eq!(entry["actor"], "admin:tests");
        assert_eq!(
            entry["subject"],
            json!({"kind": "api_key", "id": leaked_id})
        );
    }
    assert!(
        !serde_json::to_string(&entries).unwrap().contains(&leaked),
        "a key in the log"
    );
}

async fn the_log_filters_by_actor_and_since(app: TestApp) {
    let admin = app.admin_token();
    app.applied("a@example.com", "Ann").await;
    settings(&app, &admin, json!({"holdingPeriodDays": 0})).await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    let since = partner_domain::rfc3339(time::OffsetDateTime::now_utc());
    tokio::time::sleep(Duration::from_millis(5)).await;
    settings(
        &app,
        &token_of(&app, "ops@acme.com"),
        json!({"maxOpenDeals": 5}),
    )
    .await;
    app.applied("b@example.com", "Bob").await;

    let since_query = format!("since={}", encode_query(&since));
    let later = page(&app, &since_query).await;
    assert_eq!(
        actions(&later),
        ["application.submitted", "settings.updated"]
    );
    assert_eq!(later[1]["summary"], "fields given: maxOpenDeals");
    let ops_since = page(
        &app,
        &format!("{}&{since_query}", actor_query("admin:ops@acme.com")),
    )
    .await;
    assert_eq!(actions(&ops_since), ["settings.updated"]);
    let tests_admin = page(&app, &actor_query("admin:tests")).await;
    assert_eq!(actions(&tests_admin), ["settings.updated"]);
    assert_eq!(tests_admin[0]["summary"], "fields given: holdingPeriodDays");
    assert!(page(&app, &actor_query("system")).await.is_empty());
    let tomorrow = partner_domain::rfc3339(partner_domain::now() + time::Duration::days(1));
    assert!(
        page(&app, &format!("since={}", encode_query(&tomorrow)))
            .await
            .is_empty()
    );
    let bad_actor = app.audit_log("actor=root").await;
    bad_actor.assert_problem(400, "invalid_request");
    assert_eq!(bad_actor.body["field"], "actor");
    let bad_since = app.audit_log("since=yesterday").await;
    bad_since.assert_problem(400, "invalid_request");
    assert_eq!(bad_since.body["field"], "since");
}

async fn the_log_pages_newest_first_with_cursors(app: TestApp) {
    let admin = app.admin_token();
    for days in 1..=5 {
        settings(&app, &admin, json!({"holdingPeriodDays": days})).await;
    }
    let all = app.audit_entries().await;
    let ids: Vec<&str> = all.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 5);
    let mut newest_first = ids.clone();
    newest_first.sort_unstable_by(|a, b| b.cmp(a));
    newest_first.dedup();
    assert_eq!(ids, newest_first, "newest first, each once");
    let mut paged = Vec::new();
    let mut query = "limit=2".to_owned();
    loop {
        let response = app.audit_log(&query).await;
        assert_eq!(response.status, 200, "{:#}", response.body);
        let data = response.body["data"].as_array().unwrap();
        assert!(data.len() <= 2);
        paged.extend(data.iter().map(|e| e["id"].as_str().unwrap().to_owned()));
        match response.body["nextCursor"].as_str() {
            Some(cursor) => query = format!("limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(paged, ids);
    // A cursor of one actor's listing does not continue another listing.
    let first = app
        .audit_log(&format!("limit=1&actor={}", encode_query("admin:tests")))
        .await;
    let cursor = first.body["nextCursor"].as_str().unwrap().to_owned();
    app.audit_log(&format!("cursor={cursor}"))
        .await
        .assert_problem(400, "invalid_cursor");
}

async fn an_entry_rides_in_its_changes_own_transaction(app: TestApp) {
    // Settings: the read, then one transaction of the settings and the entry.
    let path = format!("/v1/apps/{}/affiliates/settings", app.app_id);
    let token = app.admin_token();
    let before = app.calls();
    let changed = app
        .admin(
            Method::PUT,
            &path,
            Some(&token),
            Some(&json!({"enabled": true})),
        )
        .await;
    assert_eq!(changed.status, 200, "{:#}", changed.body);
    let calls = app.calls().since(before);
    assert_eq!(
        (calls.gets, calls.transactions, calls.writes, calls.queries),
        (1, 1, 0, 0),
        "{calls:?}"
    );
    // A review: one read, one transaction, the publish — as without the entry.
    let id = app.applied("partner@example.com", "Jane Smith").await;
    let before = app.calls();
    let approve = |code: &str| json!({"action": "approve", "code": code});
    assert_eq!(app.review(&id, &approve("JANE20")).await.status, 200);
    let calls = app.calls().since(before);
    assert_eq!(
        (calls.gets, calls.transactions, calls.writes, calls.queries),
        (1, 1, 1, 0),
        "{calls:?}"
    );
    // Of concurrent approvals, the losers' transactions fail whole: no entry.
    let other = app.applied("other@example.com", "Other").await;
    let attempts: Vec<_> = (0..4)
        .map(|n| {
            let (app, id, body) = (app.clone(), other.clone(), approve(&format!("RACE{n}")));
            tokio::spawn(async move { app.review(&id, &body).await.status.as_u16() })
        })
        .collect();
    let mut won = 0;
    for attempt in attempts {
        won += usize::from(attempt.await.unwrap() == 200);
    }
    assert_eq!(won, 1);
    let entries = app.audit_entries().await;
    assert_eq!(actors_of(&entries, "settings.updated"), ["admin:tests"]);
    let approvals: Vec<&Value> = entries
        .iter()
        .filter(|e| e["action"] == "application.approved")
        .collect();
    assert_eq!(approvals.len(), 2, "{approvals:#?}");
    assert_eq!(
        approvals
            .iter()
            .filter(|e| e["subject"]["id"] == other.as_str())
            .count(),
        1
    );
}

async fn scheduled_work_is_the_systems_and_deals_the_partners(app: TestApp) {
    let (_, _, customer) = partner(&app, "partner@example.com", "JANE20").await;
    app.post_json(
        "/v1/affiliate/referrals",
        Some(&app.api_key),
        &json!({"customerId": "cust_buyer", "code": "JANE20"}),
    )
    .await;
    revenue(&app, &app.api_key, "in_1", 500.0, "payment").await;
    let later = partner_domain::now() + time::Duration::days(31);
    let approved = partner_service::commands::approvals::approve_due(&app.state, later)
        .await
        .unwrap();
    assert_eq!(approved, 1);
    let paid = app.run_payouts().await;
    let payout = paid.payouts[0]["id"].as_str().unwrap();
    let mark_paid = format!(
        "/v1/apps/{}/affiliates/payouts/{payout}/mark-paid",
        app.app_id
    );
    let marked = app
        .admin(Method::POST, &mark_paid, Some(&app.admin_token()), None)
        .await;
    assert_eq!(marked.status, 200, "{:#}", marked.body);
    // The partner registers a deal with its session; the admin accepts it.
    let session = app
        .post_json(
            "/v1/sessions",
            Some(&app.api_key),
            &json!({"customerId": customer}),
        )
        .await;
    let session = session.body["token"].as_str().unwrap().to_owned();
    let lead = json!({"leadEmail": "lead@bigcorp.example", "leadName": "Big Corp"});
    let deal = app
        .admin(
            Method::POST,
            "/v1/affiliate/deals",
            Some(&session),
            Some(&lead),
        )
        .await;
    assert_eq!(deal.status, 201, "{:#}", deal.body);
    let deal_path = format!(
        "/v1/apps/{}/affiliates/deals/{}",
        app.app_id,
        deal.body["id"].as_str().unwrap()
    );
    let accepted = app
        .admin(
            Method::PATCH,
            &deal_path,
            Some(&app.admin_token()),
            Some(&json!({"status": "accepted"})),
        )
        .await;
    assert_eq!(accepted.status, 200, "{:#}", accepted.body);

    let entries = app.audit_entries().await;
    assert_eq!(actors_of(&entries, "commission.approved"), ["system"]);
    assert_eq!(actors_of(&entries, "payout_run.started"), ["admin:tests"]);
    assert_eq!(actors_of(&entries, "payout.created"), ["system"]);
    assert_eq!(actors_of(&entries, "payout_run.completed"), ["system"]);
    assert_eq!(actors_of(&entries, "payout.paid"), ["admin:tests"]);
    assert_eq!(
        actors_of(&entries, "deal.registered"),
        [format!("partner:{customer}")]
    );
    assert_eq!(actors_of(&entries, "deal.status_changed"), ["admin:tests"]);
    let text = serde_json::to_string(&entries).unwrap();
    assert!(
        !text.contains("lead@bigcorp.example"),
        "a lead's email in the log"
    );
    // Clicks are too many to audit: a click adds no entry.
    let clicked = app
        .post_json(
            "/v1/affiliate/track",
            Some(&app.api_key),
            &json!({"code": "JANE20", "url": "https://yoursite.com/"}),
        )
        .await;
    assert_eq!(clicked.status, 201, "{:#}", clicked.body);
    assert_eq!(app.audit_entries().await.len(), entries.len());
}

async fn admin_changes_of_partners_webhooks_and_keys_name_the_admin(app: TestApp) {
    let (_, affiliate, _) = partner(&app, "partner@example.com", "JANE20").await;
    let ops = token_of(&app, "ops@acme.com");
    let send = |method: Method, path: String, body: Option<Value>| {
        let (app, ops) = (app.clone(), ops.clone());
        async move { app.admin(method, &path, Some(&ops), body.as_ref()).await }
    };
    let partner_path = format!("/v1/apps/{}/affiliates/{affiliate}", app.app_id);
    for change in [
        json!({"status": "suspended"}),
        json!({"commissionRate": 30}),
        json!({"status": "active"}),
    ] {
        let changed = send(Method::PATCH, partner_path.clone(), Some(change)).await;
        assert_eq!(changed.status, 200, "{:#}", changed.body);
    }
    let webhooks = format!("/v1/apps/{}/webhooks", app.app_id);
    let hook = json!({"url": "https://hooks.example.com/partners", "events": ["payout_paid"]});
    let created = send(Method::POST, webhooks.clone(), Some(hook)).await;
    assert_eq!(created.status, 201, "{:#}", created.body);
    let webhook = format!("{webhooks}/{}", created.body["id"].as_str().unwrap());
    let disabled = send(
        Method::PATCH,
        webhook.clone(),
        Some(json!({"enabled": false})),
    )
    .await;
    assert_eq!(disabled.status, 200, "{:#}", disabled.body);
    let rotated = send(Method::POST, format!("{webhook}/rotate-secret"), None).await;
    assert_eq!(rotated.status, 200, "{:#}", rotated.body);
    assert_eq!(send(Method::DELETE, webhook, None).await.status, 204);
    let keys = format!("/v1/apps/{}/api-keys", app.app_id);
    let key = send(
        Method::POST,
        keys.clone(),
        Some(json!({"kind": "publishable"})),
    )
    .await;
    assert_eq!(key.status, 201, "{:#}", key.body);
    let revoke = format!("{keys}/{}", key.body["id"].as_str().unwrap());
    assert_eq!(send(Method::DELETE, revoke, None).await.status, 204);

    let by_ops = page(&app, &actor_query("admin:ops@acme.com")).await;
    assert_eq!(
        actions(&by_ops),
        [
            "api_key.revoked",
            "api_key.created",
            "webhook_endpoint.deleted",
            "webhook_endpoint.secret_rotated",
            "webhook_endpoint.updated",
            "webhook_endpoint.created",
            "affiliate.reactivated",
            "affiliate.rate_changed",
            "affiliate.suspended",
        ]
    );
    assert_eq!(by_ops[4]["summary"], "fields given: enabled");
    assert_eq!(
        by_ops[7]["summary"],
        "status suspended, commission rate 30%"
    );
    assert_eq!(
        by_ops[8]["subject"],
        json!({"kind": "affiliate", "id": affiliate})
    );
    let text = serde_json::to_string(&by_ops).unwrap();
    for secret in [
        &created.body["secret"],
        &rotated.body["secret"],
        &key.body["key"],
    ] {
        assert!(
            !text.contains(secret.as_str().unwrap()),
            "a secret in the log"
        );
    }
}

async fn only_an_admin_token_of_the_app_opens_its_log(app: TestApp) {
    app.applied("partner@example.com", "Jane Smith").await;
    let path = format!("/v1/apps/{}/audit-log", app.app_id);
    app.get(&path, Some(&app.api_key))
        .await
        .assert_problem(401, "unauthorized");
    app.admin(Method::GET, &path, None, None)
        .await
        .assert_problem(401, "unauthorized");
    let (other, _) = app.second_app().await;
    let foreign = partner_tests::admin_token_for(std::slice::from_ref(&other));
    app.admin(Method::GET, &path, Some(&foreign), None)
        .await
        .assert_problem(403, "forbidden");
    // The other app's own log holds nothing of this one.
    let own = app
        .admin(
            Method::GET,
            &format!("/v1/apps/{other}/audit-log"),
            Some(&foreign),
            None,
        )
        .await;
    assert_eq!(own.status, 200, "{:#}", own.body);
    assert_eq!(own.body["data"], json!([]));
    assert_eq!(app.audit_entries().await.len(), 1);
}

on_both_backends!(
    an_approval_shows_the_admin_in_the_log_and_on_the_application,
    a_bulk_rejection_records_the_admin_for_each_application,
    revenue_names_the_key_it_was_recorded_with,
    the_log_filters_by_actor_and_since,
    the_log_pages_newest_first_with_cursors,
    an_entry_rides_in_its_changes_own_transaction,
    scheduled_work_is_the_systems_and_deals_the_partners,
    admin_changes_of_partners_webhooks_and_keys_name_the_admin,
    only_an_admin_token_of_the_app_opens_its_log,
);
