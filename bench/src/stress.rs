//! `make stress`: sustained mixed traffic (apply, status, track, revenue, review) on
//! a running `partnerctl serve` for a fixed time at a fixed concurrency, then an
//! audit through the API of everything the load was told was accepted: each accepted
//! write present exactly once, and each partner's balance equal to its entries.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

mod report;

use report::{audit, load_table};

/// Where the load goes and who it is.
#[derive(Debug, Clone)]
pub struct Target {
    pub base: String,
    pub app_id: String,
    pub api_key: String,
    pub admin_token: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Op {
    Apply,
    Status,
    Track,
    Revenue,
    Review,
}

const PARTNERS: usize = 5;
/// How often the set-up and the audit retry a 503.
const PATIENCE: usize = 20;
const REFERRED_PER_PARTNER: usize = 4;

/// A partner made before the load: its code, customer id and referred customers.
#[derive(Debug, Clone)]
struct Partner {
    code: String,
    customer: String,
    referred: Vec<String>,
}

/// What one worker saw accepted.
#[derive(Debug, Default)]
struct Accepted {
    applications: Vec<(String, String)>,
    approved: Vec<String>,
    clicks: Vec<(usize, String)>,
    revenue: Vec<(usize, String)>,
    latencies: BTreeMap<Op, Vec<Duration>>,
    errors: BTreeMap<Op, u64>,
    /// Requests answered 503 `service_unavailable` (a dependency gave up; the client
    /// should retry): expected under injected faults.
    unavailable: BTreeMap<Op, u64>,
    /// Writes whose outcome the client does not know: answered 503 or not answered.
    /// A 503 after a database call timed out may follow a write that did happen
    /// (the idempotency keys make the client's retry safe), so the audit allows
    /// each of these to be present at most once.
    uncertain: Vec<Write>,
    /// The first few failures of each operation, as the server answered them.
    error_samples: BTreeMap<Op, Vec<String>>,
}

/// What a request writes, once it is accepted.
#[derive(Debug, Clone)]
enum Write {
    Application(String),
    Click(usize, String),
    Revenue(usize, String),
    Approval(String),
    Nothing,
}

struct Api {
    client: Client,
    target: Target,
}

impl Api {
    /// One request, answered as the server answered it.
    async fn once(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        admin: bool,
    ) -> Result<(StatusCode, Value), String> {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.target.base));
        request = if admin {
            request.bearer_auth(&self.target.admin_token)
        } else {
            request.header("x-api-key", &self.target.api_key)
        };
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let response = request.send().await.map_err(|e| e.to_string())?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| e.to_string())?;
        Ok((
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        ))
    }

    /// A request of the set-up or the audit: a 503 is retried after its
    /// `Retry-After`, as a client should, so injected faults do not fail the run.
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        admin: bool,
    ) -> Result<(StatusCode, Value), String> {
        for _ in 0..PATIENCE {
            let answer = self.once(method.clone(), path, body, admin).await?;
            if answer.0 != StatusCode::SERVICE_UNAVAILABLE {
                return Ok(answer);
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        Err(format!("{method} {path}: still 503 after {PATIENCE} tries"))
    }

    fn admin_path(&self, rest: &str) -> String {
        format!("/v1/apps/{}/affiliates{rest}", self.target.app_id)
    }

    /// Every item of an admin listing, following `nextCursor`.
    async fn all(&self, rest: &str) -> Result<Vec<Value>, String> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let separator = if rest.contains('?') { '&' } else { '?' };
            let mut path = self.admin_path(&format!("{rest}{separator}limit=100"));
            if let Some(cursor) = &cursor {
                path.push_str(&format!("&cursor={cursor}"));
            }
            let (status, page) = self.call(Method::GET, &path, None, true).await?;
            if status != StatusCode::OK {
                return Err(format!("GET {path}: {status} {page}"));
            }
            items.extend(page["data"].as_array().cloned().unwrap_or_default());
            match page["nextCursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return Ok(items),
            }
        }
    }
}

/// A small deterministic generator per worker; the load needs spread, not secrecy.
struct Dice(u64);

impl Dice {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n.max(1) as u64) as usize
    }
}

impl Api {
    fn new(target: Target, connections: usize) -> Result<Self, String> {
        let client = Client::builder()
            .pool_max_idle_per_host(connections)
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self { client, target })
    }
}

/// Only the set-up: the partners the wrk scripts of `make bench` use.
pub async fn seed(target: Target) -> Result<(), String> {
    set_up(&Api::new(target, 1)?).await.map(|_| ())
}

/// The whole run: set-up, load, audit; returns the report section.
pub async fn run(target: Target, seconds: u64, concurrency: usize) -> Result<String, String> {
    let api = Arc::new(Api::new(target, concurrency)?);
    let partners = Arc::new(set_up(&api).await?);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for worker in 0..concurrency {
        let api = Arc::clone(&api);
        let partners = Arc::clone(&partners);
        workers.spawn(async move { load(&api, &partners, worker, deadline).await });
    }
    let mut seen = Vec::new();
    while let Some(done) = workers.join_next().await {
        seen.push(done.map_err(|e| e.to_string())?);
    }
    let elapsed = started.elapsed();
    let table = load_table(&seen, elapsed, concurrency);
    match audit(&api, &partners, &seen).await {
        Ok(audit) => Ok(format!("{table}\n{audit}")),
        Err(problems) => Err(format!("{table}\n{problems}")),
    }
}

async fn set_up(api: &Api) -> Result<Vec<Partner>, String> {
    let mut partners = Vec::new();
    for p in 0..PARTNERS {
        let email = format!("partner{p}@stress.example.com");
        let (status, applied) = api
            .call(
                Method::POST,
                "/v1/affiliate/apply",
                Some(&json!({"email": email, "name": "Stress Partner"})),
                false,
            )
            .await?;
        if status != StatusCode::CREATED {
            return Err(format!("set-up apply: {status} {applied}"));
        }
        let code = format!("STRESS{p}");
        let path = api.admin_path(&format!(
            "/applications/{}/review",
            applied["id"].as_str().unwrap_or("")
        ));
        let (status, approved) = api
            .call(
                Method::POST,
                &path,
                Some(&json!({"action": "approve", "code": code})),
                true,
            )
            .await?;
        if status != StatusCode::OK {
            return Err(format!("set-up approval: {status} {approved}"));
        }
        let customer = approved["affiliate"]["customer_id"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        let mut referred = Vec::new();
        for r in 0..REFERRED_PER_PARTNER {
            let buyer = format!("cust_stress_{p}_{r}");
            let (status, body) = api
                .call(
                    Method::POST,
                    "/v1/affiliate/referrals",
                    Some(&json!({"customerId": buyer, "code": code})),
                    false,
                )
                .await?;
            if status != StatusCode::CREATED {
                return Err(format!("set-up referral: {status} {body}"));
            }
            referred.push(buyer);
        }
        partners.push(Partner {
            code,
            customer,
            referred,
        });
    }
    Ok(partners)
}

async fn load(api: &Api, partners: &[Partner], worker: usize, deadline: Instant) -> Accepted {
    let mut seen = Accepted::default();
    let mut dice = Dice(0x9E37_79B9_7F4A_7C15 ^ (worker as u64 + 1).wrapping_mul(0x2545_F491));
    let mut pending: Vec<String> = Vec::new();
    let mut n = 0u64;
    while Instant::now() < deadline {
        n += 1;
        let roll = dice.below(100);
        let op = match roll {
            0..25 => Op::Apply,
            25..50 => Op::Status,
            50..75 => Op::Track,
            75..90 => Op::Revenue,
            _ => Op::Review,
        };
        // What the request would write, recorded only once the server accepts it.
        let (write, expected, method, path, body, admin) = match op {
            Op::Apply => {
                let email = format!("w{worker}n{n}@stress.example.com");
                let body = json!({"email": email, "name": "Load Applicant"});
                let path = "/v1/affiliate/apply".to_owned();
                (
                    Write::Application(email),
                    StatusCode::CREATED,
                    Method::POST,
                    path,
                    Some(body),
                    false,
                )
            }
            Op::Status => {
                let email = match seen.applications.last() {
                    Some((_, email)) => email.clone(),
                    None => "partner0@stress.example.com".to_owned(),
                };
                let path = format!(
                    "/v1/affiliate/apply/status?email={}",
                    email.replace('@', "%40")
                );
                (
                    Write::Nothing,
                    StatusCode::OK,
                    Method::GET,
                    path,
                    None,
                    false,
                )
            }
            Op::Track => {
                let partner = dice.below(partners.len());
                let visitor = format!("w{worker}n{n}");
                let body = json!({"code": partners[partner].code, "url": "https://example.com/?ref=x", "visitorId": visitor});
                let path = "/v1/affiliate/track".to_owned();
                (
                    Write::Click(partner, visitor),
                    StatusCode::CREATED,
                    Method::POST,
                    path,
                    Some(body),
                    false,
                )
            }
            Op::Revenue => {
                let partner = dice.below(partners.len());
                let buyer = &partners[partner].referred[dice.below(REFERRED_PER_PARTNER)];
                let event = format!("inv-w{worker}n{n}");
                let body = json!({"eventId": event, "customerId": buyer, "amount": 12.34, "currency": "usd", "type": "payment"});
                let path = "/v1/affiliate/revenue".to_owned();
                (
                    Write::Revenue(partner, event),
                    StatusCode::CREATED,
                    Method::POST,
                    path,
                    Some(body),
                    false,
                )
            }
            // Each worker reviews only what it applied for, so no review races another.
            Op::Review => match pending.pop() {
                Some(id) => {
                    let path = api.admin_path(&format!("/applications/{id}/review"));
                    let body = json!({"action": "approve"});
                    (
                        Write::Approval(id),
                        StatusCode::OK,
                        Method::POST,
                        path,
                        Some(body),
                        true,
                    )
                }
                None => continue,
            },
        };
        let started = Instant::now();
        let response = api.once(method, &path, body.as_ref(), admin).await;
        seen.latencies
            .entry(op)
            .or_default()
            .push(started.elapsed());
        match response {
            Ok((status, body)) if status == expected => match write {
                Write::Application(email) => {
                    let id = body["id"].as_str().unwrap_or_default().to_owned();
                    pending.push(id.clone());
                    seen.applications.push((id, email));
                }
                Write::Click(partner, visitor) => seen.clicks.push((partner, visitor)),
                Write::Revenue(partner, event) => seen.revenue.push((partner, event)),
                Write::Approval(id) => seen.approved.push(id),
                Write::Nothing => {}
            },
            Ok((StatusCode::SERVICE_UNAVAILABLE, _)) => {
                *seen.unavailable.entry(op).or_default() += 1;
                if !matches!(write, Write::Nothing) {
                    seen.uncertain.push(write);
                }
            }
            other => {
                if other.is_err() && !matches!(write, Write::Nothing) {
                    seen.uncertain.push(write);
                }
                *seen.errors.entry(op).or_default() += 1;
                let samples = seen.error_samples.entry(op).or_default();
                if samples.len() < 3 {
                    let what = match other {
                        Ok((status, body)) => format!("{status} {body}"),
                        Err(error) => error,
                    };
                    samples.push(format!("{op:?} {path}: {what}"));
                }
            }
        }
    }
    seen
}
