//! The admin function: JWT guard, review, settings, partners.

use axum::http::Method;
use partner_domain::AppId;
use partner_tests::{
    ADMIN_SECRET, TestApp, admin_token_for, example_application, on_both_backends,
};
use serde_json::{Value, json};

fn applications_path(app: &TestApp) -> String {
    format!("/v1/apps/{}/affiliates/applications", app.app_id)
}

async fn approving_with_a_code_creates_the_partner_and_customer(app: TestApp) {
    let id = app.applied("partner@example.com", "Jane Smith").await;
    let response = app
        .review(&id, &json!({"action": "approve", "code": "JANE20"}))
        .await;
    assert_eq!(response.status, 200, "{:#}", response.body);
    let affiliate = &response.body["affiliate"];
    assert_eq!(affiliate["code"], "JANE20");
    assert!(affiliate["id"].as_str().unwrap().starts_with("aff_"));
    let customer = affiliate["customer_id"].as_str().unwrap().to_owned();
    assert!(customer.starts_with("cust_"));
    assert_eq!(response.body["application"]["status"], "approved");

    let partner = app
        .get(
            &format!("/v1/affiliate/by-customer/{customer}"),
            Some(&app.api_key),
        )
        .await;
    assert_eq!(partner.body["enrolled"], true, "{:#}", partner.body);
    assert_eq!(partner.body["code"], "JANE20");
    assert_eq!(partner.body["status"], "active");
    let status = app.status_of("partner@example.com").await;
    assert_eq!(status.body["status"], "approved");
    assert!(status.body["reviewedAt"].is_string());
}

async fn approving_without_a_code_generates_one_from_the_name(app: TestApp) {
    let id = app.applied("partner@example.com", "Jane Smith").await;
    let response = app.review(&id, &json!({"action": "approve"})).await;
    assert_eq!(response.status, 200, "{:#}", response.body);
    let code = response.body["affiliate"]["code"].as_str().unwrap();
    assert!(code.starts_with("JANE") && code.len() >= 6, "{code}");
}

async fn rejecting_stores_the_reason_for_the_status_check(app: TestApp) {
    let id = app.applied("partner@example.com", "Jane Smith").await;
    let response = app
        .review(
            &id,
            &json!({"action": "reject", "rejectionReason": "Not a good fit at this time"}),
        )
        .await;
    assert_eq!(response.status, 200, "{:#}", response.body);
    assert!(response.body.get("affiliate").is_none());
    let status = app.status_of("partner@example.com").await;
    assert_eq!(status.body["status"], "rejected");
    assert_eq!(
        status.body["rejectionReason"],
        "Not a good fit at this time"
    );
}

async fn a_second_review_is_409(app: TestApp) {
    let id = app.applied("partner@example.com", "Jane Smith").await;
    assert_eq!(
        app.review(&id, &json!({"action": "approve"})).await.status,
        200
    );
    app.review(
        &id,
        &json!({"action": "reject", "rejectionReason": "Changed my mind"}),
    )
    .await
    .assert_problem(409, "application_already_reviewed");
    app.review(&id, &json!({"action": "approve"}))
        .await
        .assert_problem(409, "application_already_reviewed");
}

async fn a_code_taken_in_another_case_is_409(app: TestApp) {
    let first = app.applied("one@example.com", "One").await;
    let second = app.applied("two@example.com", "Two").await;
    assert_eq!(
        app.review(&first, &json!({"action": "approve", "code": "JANE20"}))
            .await
            .status,
        200
    );
    let taken = app
        .review(&second, &json!({"action": "approve", "code": "jane20"}))
        .await;
    taken.assert_problem(409, "code_taken");
    assert_eq!(taken.body["field"], "code");
    // Nothing of the failed approval remains: the application is still pending.
    assert_eq!(
        app.status_of("two@example.com").await.body["status"],
        "pending"
    );
}

async fn eight_concurrent_approvals_let_exactly_one_win_with_one_event(app: TestApp) {
    let id = app.applied("partner@example.com", "Jane Smith").await;
    let mut events = app.bus.subscribe();
    let attempts: Vec<_> = (0..8)
        .map(|n| {
            let app = app.clone();
            let id = id.clone();
            tokio::spawn(async move {
                app.review(
                    &id,
                    &json!({"action": "approve", "code": format!("RACE{n}")}),
                )
                .await
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for attempt in attempts {
        let response = attempt.await.unwrap();
        if response.status != 200 {
            assert_eq!(
                response.body["code"], "application_already_reviewed",
                "{:#}",
                response.body
            );
        }
        statuses.push(response.status.as_u16());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        7,
        "{statuses:?}"
    );
    let mut approvals = 0;
    while let Ok(event) = events.try_recv() {
        if event.event.as_str() == "partner_application_approved" {
            approvals += 1;
        }
    }
    assert_eq!(approvals, 1);
}

async fn review_is_one_read_and_one_transaction_plus_the_publish(app: TestApp) {
    let id = app.applied("partner@example.com", "Jane Smith").await;
    let before = app.calls();
    assert_eq!(
        app.review(&id, &json!({"action": "approve", "code": "JANE20"}))
            .await
            .status,
        200
    );
    let calls = app.calls().since(before);
    assert_eq!(
        (calls.gets, calls.transactions, calls.writes, calls.queries),
        (1, 1, 1, 0),
        "{calls:?}"
    );
}

async fn the_approved_event_has_the_documented_payload(app: TestApp) {
    let id = app.applied("partner@example.com", "Jane Smith").await;
    let mut events = app.bus.subscribe();
    let response = app
        .review(&id, &json!({"action": "approve", "code": "JANE20"}))
        .await;
    let event = serde_json::to_value(events.try_recv().unwrap()).unwrap();
    assert_eq!(event["event"], "partner_application_approved");
    assert_eq!(event["appId"], app.app_id.as_str());
    assert!(event["id"].as_str().unwrap().starts_with("evt_"));
    assert_eq!(
        event["data"],
        json!({
            "application": {"id": id, "email": "partner@example.com", "name": "Jane Smith"},
            "affiliate": response.body["affiliate"],
        })
    );
}

async fn applications_list_newest_first_by_status_with_cursors(app: TestApp) {
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(
            app.applied(&format!("p{n}@example.com"), &format!("P{n}"))
                .await,
        );
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    assert_eq!(
        app.review(&ids[1], &json!({"action": "approve"}))
            .await
            .status,
        200
    );
    let token = app.admin_token();
    let mut seen = Vec::new();
    let mut path = format!("{}?status=pending&limit=2", applications_path(&app));
    loop {
        let page = app.admin(Method::GET, &path, Some(&token), None).await;
        assert_eq!(page.status, 200, "{:#}", page.body);
        for item in page.body["data"].as_array().unwrap() {
            assert_eq!(item["status"], "pending");
            seen.push(item["id"].as_str().unwrap().to_owned());
        }
        match page.body["nextCursor"].as_str() {
            Some(cursor) => {
                path = format!(
                    "{}?status=pending&limit=2&cursor={cursor}",
                    applications_path(&app)
                )
            }
            None => break,
        }
    }
    let expected: Vec<String> = [4, 3, 2, 0].iter().map(|i| ids[*i].clone()).collect();
    assert_eq!(seen, expected);
    let all = app
        .admin(Method::GET, &applications_path(&app), Some(&token), None)
        .await;
    assert_eq!(all.body["data"].as_array().unwrap().len(), 5);
}

async fn settings_default_to_the_documented_values_and_disabling_stops_applications(app: TestApp) {
    let path = format!("/v1/apps/{}/affiliates/settings", app.app_id);
    let token = app.admin_token();
    let settings = app.admin(Method::GET, &path, Some(&token), None).await;
    assert_eq!(settings.status, 200);
    assert_eq!(settings.body["enabled"], true);
    assert_eq!(settings.body["defaultCommissionRate"], 20.0);
    assert_eq!(settings.body["holdingPeriodDays"], 30);
    assert_eq!(settings.body["minPayoutAmount"], 50.0);
    assert_eq!(settings.body["cookieDurationDays"], 30);
    assert_eq!(settings.body["currency"], "usd");
    let changed = app
        .admin(
            Method::PUT,
            &path,
            Some(&token),
            Some(&json!({"enabled": false})),
        )
        .await;
    assert_eq!(changed.status, 200, "{:#}", changed.body);
    assert_eq!(changed.body["enabled"], false);
    assert_eq!(
        changed.body["defaultCommissionRate"], 20.0,
        "unchanged fields keep their value"
    );
    app.apply(&example_application())
        .await
        .assert_problem(403, "program_disabled");
}

async fn partners_can_be_listed_suspended_and_given_their_own_rate(app: TestApp) {
    let id = app.applied("partner@example.com", "Jane Smith").await;
    let approved = app
        .review(&id, &json!({"action": "approve", "code": "JANE20"}))
        .await;
    let affiliate_id = approved.body["affiliate"]["id"].as_str().unwrap();
    let customer = approved.body["affiliate"]["customer_id"].as_str().unwrap();
    let token = app.admin_token();
    let list = app
        .admin(
            Method::GET,
            &format!("/v1/apps/{}/affiliates", app.app_id),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(list.body["data"][0]["id"], affiliate_id, "{:#}", list.body);
    let path = format!("/v1/apps/{}/affiliates/{affiliate_id}", app.app_id);
    let patched = app
        .admin(
            Method::PATCH,
            &path,
            Some(&token),
            Some(&json!({"status": "suspended", "commissionRate": 30})),
        )
        .await;
    assert_eq!(patched.status, 200, "{:#}", patched.body);
    assert_eq!(patched.body["status"], "suspended");
    assert_eq!(patched.body["commissionRate"], 30.0);
    let partner = app
        .get(
            &format!("/v1/affiliate/by-customer/{customer}"),
            Some(&app.api_key),
        )
        .await;
    assert_eq!(partner.body["status"], "suspended");
    assert_eq!(partner.body["commissionRate"], 30.0);
    let reset = app
        .admin(
            Method::PATCH,
            &path,
            Some(&token),
            Some(&json!({"commissionRate": null, "status": "active"})),
        )
        .await;
    assert_eq!(reset.body["commissionRate"], Value::Null);
    let partner = app
        .get(
            &format!("/v1/affiliate/by-customer/{customer}"),
            Some(&app.api_key),
        )
        .await;
    assert_eq!(
        (
            partner.body["status"].clone(),
            partner.body["commissionRate"].clone()
        ),
        (json!("active"), json!(20.0))
    );
}

async fn bulk_review(app: &TestApp, ids: &[String], action: &str) -> partner_tests::TestResponse {
    app.admin(
        Method::POST,
        &format!(
            "/v1/apps/{}/affiliates/applications/bulk-review",
            app.app_id
        ),
        Some(&app.admin_token()),
        Some(&json!({"ids": ids, "action": action})),
    )
    .await
}

/// The ids of the approval events received so far, one per event.
fn approvals(
    events: &mut tokio::sync::broadcast::Receiver<partner_domain::events::Event>,
) -> Vec<String> {
    let mut approved = Vec::new();
    while let Ok(event) = events.try_recv() {
        if event.event.as_str() == "partner_application_approved" {
            approved.push(event.data["application"]["id"].as_str().unwrap().to_owned());
        }
    }
    approved
}

async fn a_bulk_approval_reviews_each_once_and_reports_each_outcome(app: TestApp) {
    let ids: Vec<String> = applied_many(&app, 100).await;
    for id in &ids[..20] {
        assert_eq!(
            app.review(id, &json!({"action": "approve"})).await.status,
            200
        );
    }
    let mut events = app.bus.subscribe();
    let bulk = bulk_review(&app, &ids, "approve").await;
    assert_eq!(bulk.status, 200, "{:#}", bulk.body);
    let results = bulk.body["results"].as_array().unwrap();
    assert_eq!(results.len(), 100);
    for (n, result) in results.iter().enumerate() {
        assert_eq!(
            result["id"],
            ids[n].as_str(),
            "results keep the order of ids"
        );
        if n < 20 {
            assert_eq!(result["status"], 409, "{result:#}");
            assert_eq!(result["problem"]["code"], "application_already_reviewed");
        } else {
            assert_eq!(result["status"], 200, "{result:#}");
            assert_eq!(result["application"]["status"], "approved");
            assert!(result["affiliate"]["code"].is_string(), "{result:#}");
        }
    }
    assert_eq!(
        approvals(&mut events).len(),
        80,
        "exactly one event per approval"
    );
    // An unknown id has its own 404; the rest of the request still happens.
    let unknown = "apl_01JD8Z7B2C3D4E5F6G7H8J9K0M".to_owned();
    let fresh = app.applied("late@example.com", "Late").await;
    let mixed = bulk_review(&app, &[unknown, fresh], "reject").await;
    assert_eq!(mixed.body["results"][0]["status"], 404, "{:#}", mixed.body);
    assert_eq!(mixed.body["results"][1]["status"], 200, "{:#}", mixed.body);
    assert_eq!(
        mixed.body["results"][1]["application"]["status"],
        "rejected"
    );
}

async fn a_bulk_approval_racing_single_approvals_approves_each_once(app: TestApp) {
    let ids = applied_many(&app, 30).await;
    let mut events = app.bus.subscribe();
    let bulk = {
        let (app, ids) = (app.clone(), ids.clone());
        tokio::spawn(async move { bulk_review(&app, &ids, "approve").await })
    };
    let singles = {
        let (app, ids) = (app.clone(), ids.clone());
        tokio::spawn(async move {
            let mut statuses = Vec::new();
            for id in ids.iter().rev() {
                statuses.push(
                    app.review(id, &json!({"action": "approve"}))
                        .await
                        .status
                        .as_u16(),
                );
            }
            statuses
        })
    };
    let bulk = bulk.await.unwrap();
    let singles = singles.await.unwrap();
    let bulk_won = bulk.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == 200)
        .count();
    let singles_won = singles.iter().filter(|s| **s == 200).count();
    assert_eq!(bulk_won + singles_won, 30, "{bulk_won} + {singles_won}");
    let mut approved = approvals(&mut events);
    approved.sort();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(approved, expected, "each application approved exactly once");
}

/// `count` pending applications, oldest first.
async fn applied_many(app: &TestApp, count: usize) -> Vec<String> {
    let mut ids = Vec::with_capacity(count);
    for n in 0..count {
        ids.push(
            app.applied(&format!("bulk{n}@example.com"), &format!("Bulk {n}"))
                .await,
        );
    }
    ids
}

#[tokio::test]
async fn a_bulk_review_names_1_to_100_distinct_applications() {
    let app = TestApp::memory().await;
    let id = app.applied("one@example.com", "One").await;
    let too_many: Vec<String> = (0..101).map(|_| id.clone()).collect();
    bulk_review(&app, &too_many, "approve")
        .await
        .assert_problem(400, "invalid_request");
    bulk_review(&app, &[id.clone(), id.clone()], "approve")
        .await
        .assert_problem(400, "invalid_request");
    bulk_review(&app, &[], "approve")
        .await
        .assert_problem(400, "invalid_request");
    bulk_review(&app, std::slice::from_ref(&id), "promote")
        .await
        .assert_problem(400, "invalid_request");
    assert_eq!(
        app.status_of("one@example.com").await.body["status"],
        "pending"
    );
}

/// Partners listed before the app's partner listing was spread over partitions
/// stay in its first partition, whatever their id: listed, and found by id.
async fn partners_listed_before_the_listing_was_spread_are_still_found(app: TestApp) {
    let listing = partner_store::keys::affiliates_of_app(&app.app_id);
    let first = listing.partitions()[0].clone();
    let mut moved = Vec::new();
    for n in 0..4 {
        let id = app
            .applied(&format!("partner{n}@example.com"), "Jane Smith")
            .await;
        let approved = app.review(&id, &json!({"action": "approve"})).await;
        let affiliate = approved.body["affiliate"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let customer = approved.body["affiliate"]["customer_id"]
            .as_str()
            .unwrap()
            .to_owned();
        // As it was written before: in the first partition.
        let mut update = partner_store::Update::default();
        update.set.insert("gsi1pk".into(), json!(first));
        app.store
            .write(partner_store::WriteOp::Update {
                key: partner_store::keys::affiliate_of_customer(
                    &app.app_id,
                    &partner_domain::CustomerId::parse("c", &customer).unwrap(),
                ),
                update,
                condition: None,
            })
            .await
            .unwrap();
        moved.push(affiliate);
    }
    // One in 256 runs every id picks the first partition anyway; the rest test
    // the fallback.
    let token = app.admin_token();
    for affiliate in &moved {
        let found = app
            .admin(
                Method::GET,
                &format!("/v1/apps/{}/affiliates/{affiliate}", app.app_id),
                Some(&token),
                None,
            )
            .await;
        assert_eq!(found.status, 200, "{affiliate}: {:#}", found.body);
        assert_eq!(found.body["id"], json!(affiliate));
    }
    let list = app
        .admin(
            Method::GET,
            &format!("/v1/apps/{}/affiliates", app.app_id),
            Some(&token),
            None,
        )
        .await;
    let mut listed: Vec<String> = list.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect();
    listed.sort();
    moved.sort();
    assert_eq!(listed, moved);
}

on_both_backends!(
    partners_listed_before_the_listing_was_spread_are_still_found,
    a_bulk_approval_reviews_each_once_and_reports_each_outcome,
    a_bulk_approval_racing_single_approvals_approves_each_once,
    approving_with_a_code_creates_the_partner_and_customer,
    approving_without_a_code_generates_one_from_the_name,
    rejecting_stores_the_reason_for_the_status_check,
    a_second_review_is_409,
    a_code_taken_in_another_case_is_409,
    eight_concurrent_approvals_let_exactly_one_win_with_one_event,
    review_is_one_read_and_one_transaction_plus_the_publish,
    the_approved_event_has_the_documented_payload,
    applications_list_newest_first_by_status_with_cursors,
    settings_default_to_the_documented_values_and_disabling_stops_applications,
    partners_can_be_listed_suspended_and_given_their_own_rate,
);

/// A token with the given claims, signed with `secret` (HS256).
fn token_with(secret: &str, claims: Value) -> String {
    partner_tests::signed_hs256(secret, &claims)
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn admin_routes_refuse_every_bad_credential() {
    let app = TestApp::memory().await;
    let id = app.applied("partner@example.com", "Jane Smith").await;
    let path = format!("{}/{id}/review", applications_path(&app));
    let body = json!({"action": "approve"});
    let good = |overrides: Value| {
        let mut claims = json!({"iss": "partner-program", "aud": "partner-program-admin", "sub": "t",
            "exp": now() + 600, "app_ids": [app.app_id.as_str()]});
        for (k, v) in overrides.as_object().unwrap() {
            claims[k] = v.clone();
        }
        claims
    };
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let unsigned = format!(
        "{}.{}.",
        b64.encode(br#"{"alg":"none","typ":"JWT"}"#),
        b64.encode(good(json!({})).to_string())
    );
    let expired_at = now() - 3600;
    let mut without_exp = good(json!({}));
    without_exp.as_object_mut().unwrap().remove("exp");
    let cases: Vec<(&str, Option<String>, u16)> = vec![
        ("no token", None, 401),
        (
            "token for another app",
            Some(admin_token_for(&[AppId::generate()])),
            403,
        ),
        (
            "expired",
            Some(token_with(ADMIN_SECRET, good(json!({"exp": expired_at})))),
            401,
        ),
        (
            "wrong secret",
            Some(token_with("not-the-secret", good(json!({})))),
            401,
        ),
        ("alg none", Some(unsigned), 401),
        (
            "wrong aud",
            Some(token_with(
                ADMIN_SECRET,
                good(json!({"aud": "someone-else"})),
            )),
            401,
        ),
        (
            "wrong iss",
            Some(token_with(
                ADMIN_SECRET,
                good(json!({"iss": "someone-else"})),
            )),
            401,
        ),
        ("no exp", Some(token_with(ADMIN_SECRET, without_exp)), 401),
        ("an API key", Some(app.api_key.clone()), 401),
    ];
    for (name, token, status) in cases {
        let response = app
            .admin(Method::POST, &path, token.as_deref(), Some(&body))
            .await;
        assert_eq!(
            response.status.as_u16(),
            status,
            "{name}: {:#}",
            response.body
        );
        assert_eq!(
            response.content_type(),
            "application/problem+json",
            "{name}"
        );
    }
    // The API key in its own header does not open admin routes either.
    let with_key = app
        .send(partner_tests::request(
            Method::POST,
            &path,
            Some(&app.api_key),
            Some(body.to_string()),
        ))
        .await;
    with_key.assert_problem(401, "unauthorized");
    assert_eq!(
        app.status_of("partner@example.com").await.body["status"],
        "pending"
    );
}

#[tokio::test]
async fn another_apps_admin_cannot_review_this_apps_applications() {
    let app = TestApp::memory().await;
    let id = app.applied("partner@example.com", "Jane Smith").await;
    let (other_app, _) = app.second_app().await;
    let other_token = admin_token_for(std::slice::from_ref(&other_app));
    // Its own app in the path, this app's application id: not found there.
    let path = format!("/v1/apps/{other_app}/affiliates/applications/{id}/review");
    app.admin(
        Method::POST,
        &path,
        Some(&other_token),
        Some(&json!({"action": "approve"})),
    )
    .await
    .assert_problem(404, "application_not_found");
    // This app in the path: its token does not grant it.
    let path = format!("{}/{id}/review", applications_path(&app));
    app.admin(
        Method::POST,
        &path,
        Some(&other_token),
        Some(&json!({"action": "approve"})),
    )
    .await
    .assert_problem(403, "forbidden");
    let listing = format!("/v1/apps/{other_app}/affiliates/applications");
    let page = app
        .admin(Method::GET, &listing, Some(&other_token), None)
        .await;
    assert_eq!(page.body["data"], json!([]));
}

#[tokio::test]
async fn invalid_review_bodies_are_400() {
    let app = TestApp::memory().await;
    let id = app.applied("partner@example.com", "Jane Smith").await;
    for (body, field) in [
        (json!({"action": "maybe"}), "action"),
        (
            json!({"action": "reject", "rejectionReason": "x".repeat(1001)}),
            "rejectionReason",
        ),
        (json!({"action": "approve", "code": "no spaces"}), "code"),
        (json!({"action": "approve", "code": "ab"}), "code"),
    ] {
        let response = app.review(&id, &body).await;
        response.assert_problem(400, "invalid_request");
        assert_eq!(response.body["field"], field, "{body}");
    }
    app.review("apl_unknown", &json!({"action": "approve"}))
        .await
        .assert_problem(404, "application_not_found");
}

#[tokio::test]
async fn invalid_settings_are_400_naming_the_field() {
    let app = TestApp::memory().await;
    let path = format!("/v1/apps/{}/affiliates/settings", app.app_id);
    let token = app.admin_token();
    for (body, field) in [
        (
            json!({"defaultCommissionRate": 120}),
            "defaultCommissionRate",
        ),
        (
            json!({"defaultCommissionRate": 12.345}),
            "defaultCommissionRate",
        ),
        (json!({"minPayoutAmount": -5}), "minPayoutAmount"),
        (json!({"cookieDurationDays": 0}), "cookieDurationDays"),
        (json!({"holdingPeriodDays": 400}), "holdingPeriodDays"),
        (json!({"currency": "dollars"}), "currency"),
    ] {
        let response = app
            .admin(Method::PUT, &path, Some(&token), Some(&body))
            .await;
        response.assert_problem(400, "invalid_request");
        assert_eq!(response.body["field"], field, "{body}");
    }
    // `null` where the field is not nullable is refused, not taken as "unchanged".
    for body in [
        json!({"holdingPeriodDays": null}),
        json!({"rateLimits": {"perKey": null}}),
        json!({"enabled": null}),
    ] {
        let response = app
            .admin(Method::PUT, &path, Some(&token), Some(&body))
            .await;
        response.assert_problem(400, "invalid_request");
    }
    let branded = app
        .admin(Method::PUT, &path, Some(&token), Some(&json!({"branding": {"name": "Acme", "color": "#1A73E8", "logoUrl": "https://acme.com/logo.png"}, "defaultCommissionRate": 12.5, "minPayoutAmount": 25.5})))
        .await;
    assert_eq!(branded.status, 200, "{:#}", branded.body);
    assert_eq!(branded.body["branding"]["color"], "#1a73e8");
    assert_eq!(branded.body["defaultCommissionRate"], 12.5);
    assert_eq!(branded.body["minPayoutAmount"], 25.5);
    let bad_colour = app
        .admin(
            Method::PUT,
            &path,
            Some(&token),
            Some(&json!({"branding": {"color": "red"}})),
        )
        .await;
    assert_eq!(bad_colour.status, 400);
}

#[tokio::test]
async fn listings_refuse_bad_limits_and_foreign_cursors() {
    let app = TestApp::memory().await;
    for n in 0..3 {
        app.applied(&format!("p{n}@example.com"), "P").await;
    }
    let token = app.admin_token();
    let too_big = app
        .admin(
            Method::GET,
            &format!("{}?limit=101", applications_path(&app)),
            Some(&token),
            None,
        )
        .await;
    too_big.assert_problem(400, "invalid_request");
    let page = app
        .admin(
            Method::GET,
            &format!("{}?limit=1", applications_path(&app)),
            Some(&token),
            None,
        )
        .await;
    let cursor = page.body["nextCursor"].as_str().unwrap().to_owned();
    // The same cursor on another app's listing, or on another status, is refused.
    let (other_app, _) = app.second_app().await;
    let other_token = admin_token_for(std::slice::from_ref(&other_app));
    let foreign = app
        .admin(
            Method::GET,
            &format!("/v1/apps/{other_app}/affiliates/applications?cursor={cursor}"),
            Some(&other_token),
            None,
        )
        .await;
    foreign.assert_problem(400, "invalid_cursor");
    let other_status = app
        .admin(
            Method::GET,
            &format!("{}?status=pending&cursor={cursor}", applications_path(&app)),
            Some(&token),
            None,
        )
        .await;
    other_status.assert_problem(400, "invalid_cursor");
}

#[tokio::test]
async fn an_existing_customer_account_is_reused_on_approval() {
    let app = TestApp::memory().await;
    let id = app.applied("partner@example.com", "Jane Smith").await;
    let existing = partner_domain::records::Customer {
        id: partner_domain::CustomerId::generate(),
        app_id: app.app_id.clone(),
        email: partner_domain::Email::parse("email", "partner@example.com").unwrap(),
        name: None,
        created_at: partner_domain::now(),
    };
    for (key, entity) in [
        (
            partner_store::keys::customer(&app.app_id, &existing.id),
            "customer",
        ),
        (
            partner_store::keys::customer_by_email(&app.app_id, &existing.email),
            "customer_email",
        ),
    ] {
        let Value::Object(mut item) = serde_json::to_value(&existing).unwrap() else {
            unreachable!()
        };
        item.insert("pk".into(), json!(key.pk));
        item.insert("sk".into(), json!(key.sk));
        item.insert("type".into(), json!(entity));
        app.store
            .write(partner_store::WriteOp::Put {
                item,
                condition: None,
            })
            .await
            .unwrap();
    }
    let response = app.review(&id, &json!({"action": "approve"})).await;
    assert_eq!(response.status, 200, "{:#}", response.body);
    assert_eq!(
        response.body["affiliate"]["customer_id"],
        existing.id.as_str()
    );
}

#[tokio::test]
async fn an_admin_token_living_48_hours_is_refused() {
    let app = TestApp::memory().await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let token = token_with(
        ADMIN_SECRET,
        json!({"iss": "partner-program", "aud": "partner-program-admin", "sub": "ops",
                "iat": now, "exp": now + 48 * 3600, "app_ids": [app.app_id.to_string()]}),
    );
    let path = format!("/v1/apps/{}/affiliates/settings", app.app_id);
    app.admin(Method::GET, &path, Some(&token), None)
        .await
        .assert_problem(401, "unauthorized");
}
