//! Warm cost and round trips: requests through the same router the Lambdas and
//! `partnerctl serve` run, on the embedded store in a file (as `partnerctl serve`
//! keeps it), timed one by one; and the store calls each request made, from the
//! store's own counters.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Method, Request};
use partner_store::{Calls, Store};
use partner_tests::{TestApp, encode_query, request, test_config};
use serde_json::{Value, json};
use tower::ServiceExt as _;

use crate::stats::{Sample, us};

/// A tenant with one approved partner who has a referred customer and a session.
struct Fixture {
    app: TestApp,
    partner_customer: String,
    code: String,
    referred: String,
    session: String,
}

impl Fixture {
    async fn new(store: Store) -> Result<Self, String> {
        let app = TestApp::with_config(store, test_config()).await;
        let id = app.applied("partner@example.com", "Jane Smith").await;
        let approved = app
            .review(&id, &json!({"action": "approve", "code": "JANE20"}))
            .await;
        let partner_customer = approved.body["affiliate"]["customer_id"]
            .as_str()
            .ok_or("approval returned no customer id")?
            .to_owned();
        let referred = "cust_referred".to_owned();
        let referral = app
            .post_json(
                "/v1/affiliate/referrals",
                Some(&app.api_key),
                &json!({"customerId": referred, "code": "JANE20"}),
            )
            .await;
        expect(referral.status.as_u16(), 201, "referral")?;
        let session = app
            .post_json(
                "/v1/sessions",
                Some(&app.api_key),
                &json!({"customerId": partner_customer}),
            )
            .await;
        expect(session.status.as_u16(), 201, "session")?;
        Ok(Self {
            partner_customer,
            code: "JANE20".to_owned(),
            referred,
            session: session.body["token"].as_str().unwrap_or("").to_owned(),
            app,
        })
    }

    /// The `n`-th request of `endpoint`, and the status it must answer with; `None`
    /// for a review, which needs an application of its own (see [`round_trips`]).
    fn request(&self, endpoint: Endpoint, n: usize) -> Option<(Request<Body>, u16)> {
        let key = Some(self.app.api_key.as_str());
        Some(match endpoint {
            Endpoint::Apply => (
                request(
                    Method::POST,
                    "/v1/affiliate/apply",
                    key,
                    Some(json!({"email": format!("p{n}@example.com"), "name": "Load Test"}).to_string()),
                ),
                201,
            ),
            Endpoint::Status => (
                request(
                    Method::GET,
                    &format!(
                        "/v1/affiliate/apply/status?email={}",
                        encode_query("partner@example.com")
                    ),
                    key,
                    None,
                ),
                200,
            ),
            Endpoint::ByCustomer => (
                request(
                    Method::GET,
                    &format!("/v1/affiliate/by-customer/{}", self.partner_customer),
                    key,
                    None,
                ),
                200,
            ),
            Endpoint::Track => (
                request(
                    Method::POST,
                    "/v1/affiliate/track",
                    key,
                    Some(json!({"code": self.code, "url": "https://example.com/?ref=JANE20", "visitorId": format!("v-{n}")}).to_string()),
                ),
                201,
            ),
            Endpoint::Revenue => (
                request(
                    Method::POST,
                    "/v1/affiliate/revenue",
                    key,
                    Some(json!({"eventId": format!("inv-{n}"), "customerId": self.referred, "amount": 49.0, "currency": "usd", "type": "payment"}).to_string()),
                ),
                201,
            ),
            Endpoint::Review => return None,
            Endpoint::Dashboard => {
                let mut request = request(Method::GET, "/v1/affiliate/dashboard", None, None);
                if let Ok(value) = format!("Bearer {}", self.session).parse() {
                    request
                        .headers_mut()
                        .insert(axum::http::header::AUTHORIZATION, value);
                }
                (request, 200)
            }
        })
    }
}

/// The endpoints measured, with their round-trip budgets (ARCHITECTURE.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Apply,
    Status,
    ByCustomer,
    Track,
    Revenue,
    Dashboard,
    /// Not in [`Endpoint::ALL`]: each review needs an application of its own, so it is
    /// measured once, in the round-trip table.
    Review,
}

impl Endpoint {
    pub const ALL: [Endpoint; 6] = [
        Endpoint::Apply,
        Endpoint::Status,
        Endpoint::ByCustomer,
        Endpoint::Track,
        Endpoint::Revenue,
        Endpoint::Dashboard,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Endpoint::Apply => "apply",
            Endpoint::Status => "status",
            Endpoint::ByCustomer => "by-customer",
            Endpoint::Track => "track",
            Endpoint::Revenue => "revenue",
            Endpoint::Dashboard => "dashboard",
            Endpoint::Review => "review (approve)",
        }
    }
}

fn expect(actual: u16, wanted: u16, what: &str) -> Result<(), String> {
    if actual == wanted {
        Ok(())
    } else {
        Err(format!("{what} answered {actual}, not {wanted}"))
    }
}

async fn send(app: &TestApp, request: Request<Body>) -> Result<(u16, Value), String> {
    let response = app
        .router
        .clone()
        .oneshot(request)
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .map_err(|e| e.to_string())?;
    Ok((
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    ))
}

/// Per-request times of `iterations` requests to each endpoint, after `warmup`.
pub async fn warm_cost(
    store: Store,
    warmup: usize,
    iterations: usize,
) -> Result<Vec<(Endpoint, Sample)>, String> {
    let fixture = Fixture::new(store).await?;
    let mut results = Vec::new();
    for endpoint in Endpoint::ALL {
        let mut times = Vec::with_capacity(iterations);
        for n in 0..warmup + iterations {
            let (request, wanted) = fixture
                .request(endpoint, n)
                .ok_or("no timed request for this endpoint")?;
            let started = Instant::now();
            let (status, body) = send(&fixture.app, request).await?;
            let elapsed = started.elapsed();
            if status != wanted {
                return Err(format!("{}: {status} {body}", endpoint.name()));
            }
            if n >= warmup {
                times.push(elapsed);
            }
        }
        results.push((endpoint, Sample::new(times)));
    }
    Ok(results)
}

pub fn warm_table(results: &[(Endpoint, Sample)]) -> String {
    let mut out = String::from(
        "| Endpoint | Requests | Median (µs) | p99 (µs) | Max (µs) | p99 < 1 ms |\n|---|---|---|---|---|---|\n",
    );
    for (endpoint, sample) in results {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            endpoint.name(),
            sample.len(),
            us(sample.median()),
            us(sample.p99()),
            us(sample.max()),
            if sample.p99() < Duration::from_millis(1) {
                "yes"
            } else {
                "no"
            }
        ));
    }
    out
}

/// The store calls of one warm request (API key cached) to each endpoint.
pub async fn round_trips(store: Store) -> Result<Vec<(Endpoint, Calls)>, String> {
    let fixture = Fixture::new(store).await?;
    let mut results = Vec::new();
    for endpoint in Endpoint::ALL {
        // The first request fills the API key cache; the second is the warm path.
        for n in 0..2 {
            let (request, wanted) = fixture
                .request(endpoint, 1_000_000 + n)
                .ok_or("no request for this endpoint")?;
            let before = fixture.app.calls();
            let (status, body) = send(&fixture.app, request).await?;
            if status != wanted {
                return Err(format!("{}: {status} {body}", endpoint.name()));
            }
            if n == 1 {
                results.push((endpoint, fixture.app.calls().since(before)));
            }
        }
    }
    let application = fixture.app.applied("review@example.com", "Jane Doe").await;
    let before = fixture.app.calls();
    let approved = fixture
        .app
        .review(&application, &json!({"action": "approve"}))
        .await;
    expect(approved.status.as_u16(), 200, "review")?;
    results.push((Endpoint::Review, fixture.app.calls().since(before)));
    Ok(results)
}

/// The round-trip budget of an endpoint, and whether `calls` keeps to it.
fn budget(endpoint: Endpoint, calls: &Calls) -> (&'static str, bool) {
    match endpoint {
        // The write marking the outbox event published comes after the response's
        // transaction and is not on the budget ("+ publish").
        Endpoint::Apply => (
            "1 transactional write",
            calls.transactions == 1 && calls.gets == 0 && calls.queries == 0,
        ),
        Endpoint::Status => ("1 consistent read", calls.total() == 1 && calls.gets == 1),
        Endpoint::ByCustomer => ("1 read", calls.total() == 1 && calls.gets == 1),
        Endpoint::Track => ("≤ 2", calls.total() <= 2),
        Endpoint::Revenue => (
            "— (none set; reads + 1 transaction + publish)",
            calls.transactions == 1,
        ),
        Endpoint::Dashboard => ("1 batch read", calls.total() == 1 && calls.gets == 1),
        Endpoint::Review => (
            "1 read + 1 transactional write (+ publish)",
            calls.gets == 1 && calls.transactions == 1 && calls.queries == 0,
        ),
    }
}

pub fn round_trip_table(results: &[(Endpoint, Calls)]) -> String {
    let mut out = String::from(
        "| Endpoint | Reads (Get/BatchGet) | Writes | Transactions | Queries | Total | Budget | Within |\n|---|---|---|---|---|---|---|---|\n",
    );
    for (endpoint, calls) in results {
        let (budget, within) = budget(*endpoint, calls);
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
            endpoint.name(),
            calls.gets,
            calls.writes,
            calls.transactions,
            calls.queries,
            calls.total(),
            budget,
            if within { "yes" } else { "no" }
        ));
    }
    out
}
