//! The tenant-isolation matrix: app A has a partner, applications, commissions, a
//! deal, a payout and a webhook; every route is tried with app B's API key, B's
//! admin token and a session token of B's partner, against A's ids. Every attempt
//! must be refused or see nothing of A, and A's data must be unchanged afterwards.

use axum::body::Body;
use axum::http::{Method, Request, header};
use partner_tests::TestApp;
use serde_json::{Value, json};

struct Tenant {
    app_id: String,
    api_key: String,
    admin_token: String,
    session: String,
    application: String,
    affiliate: String,
    customer: String,
    deal: String,
    payout: String,
    run: String,
    webhook: String,
    delivery: String,
}

async fn populate(
    app: &TestApp,
    app_id: &partner_domain::AppId,
    api_key: &str,
    code: &str,
) -> Tenant {
    let admin_token = partner_tests::admin_token_for(std::slice::from_ref(app_id));
    let post = |path: String, auth: (&'static str, String), body: Value| {
        let mut request = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::CONTENT_TYPE, "application/json");
        request = request.header(auth.0, auth.1);
        app.send(request.body(Body::from(body.to_string())).unwrap())
    };
    let key = || ("x-api-key", api_key.to_owned());
    let admin = || ("authorization", format!("Bearer {admin_token}"));
    let settings = Request::builder()
        .method(Method::PUT)
        .uri(format!("/v1/apps/{app_id}/affiliates/settings"))
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, format!("Bearer {admin_token}"))
        .body(Body::from(json!({"holdingPeriodDays": 0}).to_string()))
        .unwrap();
    assert_eq!(app.send(settings).await.status, 200);
    let applied = post(
        "/v1/affiliate/apply".into(),
        key(),
        json!({"email": format!("{code}@partner.example"), "name": code}),
    )
    .await;
    let application = applied.body["id"].as_str().unwrap().to_owned();
    let approved = post(
        format!("/v1/apps/{app_id}/affiliates/applications/{application}/review"),
        admin(),
        json!({"action": "approve", "code": code}),
    )
    .await;
    let affiliate = approved.body["affiliate"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let customer = approved.body["affiliate"]["customer_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let buyer = format!("cust_buyer_{code}");
    post(
        "/v1/affiliate/referrals".into(),
        key(),
        json!({"customerId": buyer, "code": code}),
    )
    .await;
    post(
        "/v1/affiliate/revenue".into(),
        key(),
        json!({"eventId": format!("pay_{code}"), "customerId": buyer, "amount": 500.0, "currency": "usd", "type": "payment"}),
    )
    .await;
    let (run, payouts) = partner_tests::pay_out(&app.state, app_id).await;
    let (run, payout) = (run.id.to_string(), payouts[0].id.to_string());
    let session = post(
        "/v1/sessions".into(),
        key(),
        json!({"customerId": customer}),
    )
    .await
    .body["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let deal = post(
        "/v1/affiliate/deals".into(),
        ("authorization", format!("Bearer {session}")),
        json!({"leadEmail": format!("lead-{code}@example.com"), "leadName": "Lead"}),
    )
    .await
    .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let webhook = post(
        format!("/v1/apps/{app_id}/webhooks"),
        admin(),
        json!({"url": "https://hooks.example.com/partners", "events": ["partner_application_approved"]}),
    )
    .await
    .body["id"]
    .as_str()
    .unwrap()
    .to_owned();
    Tenant {
        app_id: app_id.to_string(),
        api_key: api_key.to_owned(),
        admin_token,
        session,
        delivery: format!(
            "whd_{}_{}",
            "0".repeat(26),
            webhook.trim_start_matches("whe_")
        ),
        application,
        affiliate,
        customer,
        deal,
        payout,
        run,
        webhook,
    }
}

/// The path of `template` with the victim's ids; `{appId}` is the attacker's own app
/// when `own_app` (the admin token then grants the path, and only the ids are A's).
fn path_for(template: &str, victim: &Tenant, attacker: &Tenant, own_app: bool) -> String {
    let app = if own_app {
        &attacker.app_id
    } else {
        &victim.app_id
    };
    let id = if template.contains("/applications/") {
        &victim.application
    } else if template.contains("/webhooks/") {
        &victim.webhook
    } else if template.contains("/deals/") {
        &victim.deal
    } else if template.contains("/payouts/") {
        &victim.payout
    } else {
        &victim.customer
    };
    template
        .replace("{appId}", app)
        .replace("{affiliateId}", &victim.affiliate)
        .replace("{deliveryId}", &victim.delivery)
        .replace("{runId}", &victim.run)
        .replace("{id}", id)
}

/// A plausible body for each write route, aimed at the victim where a body can name it.
fn body_for(path: &str, victim: &Tenant) -> Value {
    match path {
        p if p.ends_with("/apply") => {
            json!({"email": format!("{}@partner.example", victim.affiliate), "name": "X"})
        }
        p if p.ends_with("/track") => json!({"code": "AAAA1", "url": "https://x.example/"}),
        p if p.ends_with("/referrals") => json!({"customerId": "cust_intruder", "code": "AAAA1"}),
        p if p.ends_with("/revenue") => {
            json!({"eventId": "pay_AAAA1", "customerId": format!("cust_buyer_AAAA1"), "amount": 1.0, "currency": "usd", "type": "refund"})
        }
        p if p.ends_with("/sessions") => json!({"customerId": victim.customer}),
        p if p.ends_with("/review") => json!({"action": "reject", "rejectionReason": "intruder"}),
        p if p.contains("/affiliates/deals/") => json!({"status": "accepted"}),
        p if p.ends_with("/affiliate/deals") => {
            json!({"leadEmail": "lead-AAAA1@example.com", "leadName": "X"})
        }
        p if p.contains("/settings") => json!({"enabled": false}),
        p if p.ends_with("/webhooks") => {
            json!({"url": "https://evil.example/", "events": ["partner_application_approved"]})
        }
        p if p.contains("/webhooks/")
            && !p.contains("/rotate-secret")
            && !p.contains("/replay") =>
        {
            json!({"enabled": false})
        }
        p if p.contains("/affiliates/aff_") => json!({"status": "suspended"}),
        _ => json!({}),
    }
}

#[tokio::test]
async fn no_credential_of_app_b_reaches_app_a() {
    let app = TestApp::memory().await;
    let a = populate(&app, &app.app_id.clone(), &app.api_key.clone(), "AAAA1").await;
    let (b_app, b_key) = app.second_app().await;
    let b = populate(&app, &b_app, &b_key, "BBBB2").await;
    // What must never appear in an answer to B: A's identifiers and personal data.
    let secrets = [
        &a.application,
        &a.affiliate,
        &a.customer,
        &a.deal,
        &a.payout,
        &a.run,
        &a.webhook,
        "AAAA1@partner.example",
        "lead-AAAA1",
    ];
    // (name, header, value) of each of B's credentials.
    let credentials = [
        ("B api key", "x-api-key", b.api_key.clone()),
        (
            "B admin",
            "authorization",
            format!("Bearer {}", b.admin_token),
        ),
        (
            "B session",
            "authorization",
            format!("Bearer {}", b.session),
        ),
    ];
    let mut matrix = Vec::new();
    let mut leaks = Vec::new();
    for function in partnerctl::FUNCTIONS {
        for route in function.routes {
            for own_app in [false, true] {
                if own_app && !route.path.contains("{appId}") {
                    continue;
                }
                let path = path_for(route.path, &a, &b, own_app);
                let mut row = format!(
                    "{:6} {:60}",
                    route.method.as_method().as_str(),
                    path_for(route.path, &a, &b, own_app)
                        .replace(&a.app_id, "A")
                        .replace(&b.app_id, "B")
                );
                for (name, header_name, header_value) in &credentials {
                    let mut request = Request::builder()
                        .method(route.method.as_method())
                        .uri(&path)
                        .header(*header_name, header_value);
                    let body = if matches!(route.method.as_method(), Method::GET) {
                        Body::empty()
                    } else {
                        request = request.header(header::CONTENT_TYPE, "application/json");
                        Body::from(body_for(&path, &a).to_string())
                    };
                    let response = app.send(request.body(body).unwrap()).await;
                    let text = response.body.to_string();
                    let leaked: Vec<&&str> =
                        secrets.iter().filter(|s| text.contains(**s)).collect();
                    let cell = if !leaked.is_empty() {
                        leaks.push(format!(
                            "{name} {} {path} → {} {text}",
                            route.method.as_method(),
                            response.status
                        ));
                        "LEAK"
                    } else if response.status.is_client_error() {
                        "refused"
                    } else {
                        "empty"
                    };
                    row.push_str(&format!(
                        " | {name}: {:3} {cell:7}",
                        response.status.as_u16()
                    ));
                }
                matrix.push(row);
            }
        }
    }
    println!("tenant isolation matrix (routes × app B's credentials against app A):");
    for row in &matrix {
        println!("{row}");
    }
    assert!(
        leaks.is_empty(),
        "app A's data reached app B:\n{}",
        leaks.join("\n")
    );
    // And nothing of A changed.
    let settings = app
        .store
        .apps()
        .settings(&app.app_id)
        .await
        .unwrap()
        .unwrap();
    assert!(settings.enabled, "A's settings were changed");
    let application = app
        .store
        .applications()
        .get(
            &app.app_id,
            &partner_domain::ApplicationId::parse("id", &a.application).unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        application.status,
        partner_domain::records::ApplicationStatus::Approved
    );
    let webhook = app
        .store
        .webhooks()
        .get(
            &app.app_id,
            &partner_domain::WebhookEndpointId::parse("id", &a.webhook).unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
    assert!(
        webhook.enabled && webhook.url == "https://hooks.example.com/partners",
        "A's webhook was changed"
    );
    let affiliate = app
        .store
        .affiliates()
        .get(
            &app.app_id,
            &partner_domain::AffiliateId::parse("id", &a.affiliate).unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        affiliate.status,
        partner_domain::records::AffiliateStatus::Active,
        "A's partner was suspended"
    );
    let deal = app
        .store
        .deals()
        .get(
            &app.app_id,
            &partner_domain::deals::DealId::parse("id", &a.deal).unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        deal.status,
        partner_domain::deals::DealStatus::Pending,
        "A's deal was changed"
    );
    let (_, _, balances) = app
        .store
        .affiliates()
        .by_customer(
            &app.app_id,
            &partner_domain::CustomerId::parse("c", &a.customer).unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        balances.paid,
        partner_domain::Money(10_000),
        "A's ledger was changed"
    );
}
