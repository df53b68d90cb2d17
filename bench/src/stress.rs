//! `make stress`: sustained mixed traffic (apply, status, track, revenue, review) on
//! a running `partnerctl serve` for a fixed time at a fixed concurrency, then an
//! audit through the API of everything the load was told was accepted: each accepted
//! write present exactly once, and each partner's balance equal to its entries.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

use crate::stats::{Sample, ms};

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

fn load_table(seen: &[Accepted], elapsed: Duration, concurrency: usize) -> String {
    let mut by_op: BTreeMap<Op, Vec<Duration>> = BTreeMap::new();
    let mut errors: BTreeMap<Op, u64> = BTreeMap::new();
    let mut unavailable: BTreeMap<Op, u64> = BTreeMap::new();
    for worker in seen {
        for (op, times) in &worker.latencies {
            by_op.entry(*op).or_default().extend(times);
        }
        for (op, count) in &worker.errors {
            *errors.entry(*op).or_default() += count;
        }
        for (op, count) in &worker.unavailable {
            *unavailable.entry(*op).or_default() += count;
        }
    }
    let total: usize = by_op.values().map(Vec::len).sum();
    let all = Sample::new(by_op.values().flatten().copied().collect());
    let mut out = format!(
        "Mixed load: {concurrency} concurrent clients for {:.1} s: {total} requests, {:.0} requests/s, p50 {} ms, p99 {} ms, {} answered 503 (retry later), {} errors.\n\n| Operation | Requests | Requests/s | p50 (ms) | p99 (ms) | 503 | Errors |\n|---|---|---|---|---|---|---|\n",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64(),
        ms(all.median()),
        ms(all.p99()),
        unavailable.values().sum::<u64>(),
        errors.values().sum::<u64>(),
    );
    for (op, times) in by_op {
        let sample = Sample::new(times);
        out.push_str(&format!(
            "| {op:?} | {} | {:.0} | {} | {} | {} | {} |\n",
            sample.len(),
            sample.len() as f64 / elapsed.as_secs_f64(),
            ms(sample.median()),
            ms(sample.p99()),
            unavailable.get(&op).copied().unwrap_or(0),
            errors.get(&op).copied().unwrap_or(0)
        ));
    }
    let mut samples: BTreeMap<Op, Vec<&String>> = BTreeMap::new();
    for (op, worker_samples) in seen.iter().flat_map(|w| w.error_samples.iter()) {
        samples.entry(*op).or_default().extend(worker_samples);
    }
    for sample in samples.values().flat_map(|s| s.iter().take(3)) {
        out.push_str(&format!("\nError: {sample}\n"));
    }
    out
}

fn cents(value: &Value) -> i64 {
    (value.as_f64().unwrap_or(0.0) * 100.0).round() as i64
}

/// Reads everything back and checks it against what the load saw accepted.
async fn audit(api: &Api, partners: &[Partner], seen: &[Accepted]) -> Result<String, String> {
    let mut problems = Vec::new();

    // Applications: every accepted one listed exactly once, none extra.
    let accepted: HashMap<&str, &str> = seen
        .iter()
        .flat_map(|w| w.applications.iter())
        .map(|(id, email)| (id.as_str(), email.as_str()))
        .collect();
    let listed = api.all("/applications").await?;
    let mut listed_ids: HashMap<String, usize> = HashMap::new();
    for application in &listed {
        *listed_ids
            .entry(application["id"].as_str().unwrap_or("").to_owned())
            .or_default() += 1;
    }
    let duplicated = listed_ids.values().filter(|&&n| n > 1).count();
    let missing = accepted
        .keys()
        .filter(|id| !listed_ids.contains_key(**id))
        .count();
    let uncertain: Vec<&Write> = seen.iter().flat_map(|w| w.uncertain.iter()).collect();
    let count_uncertain = |pick: fn(&Write) -> bool| uncertain.iter().filter(|w| pick(w)).count();
    let uncertain_applications = count_uncertain(|w| matches!(w, Write::Application(_)));
    let expected_total = accepted.len() + partners.len();
    if duplicated > 0
        || missing > 0
        || !(expected_total..=expected_total + uncertain_applications).contains(&listed.len())
    {
        problems.push(format!(
            "applications: {} listed, {expected_total} accepted (+{uncertain_applications} unknown), {missing} missing, {duplicated} duplicated",
            listed.len()
        ));
    }

    // Approvals: one partner per approved application (and per set-up partner).
    let approved: HashSet<&str> = seen
        .iter()
        .flat_map(|w| w.approved.iter().map(String::as_str))
        .collect();
    let affiliates = api.all("").await?;
    let uncertain_approvals = count_uncertain(|w| matches!(w, Write::Approval(_)));
    let expected_partners = approved.len() + partners.len();
    if !(expected_partners..=expected_partners + uncertain_approvals).contains(&affiliates.len()) {
        problems.push(format!(
            "partners: {} listed, {expected_partners} approved (+{uncertain_approvals} unknown)",
            affiliates.len(),
        ));
    }

    // Commissions: one per accepted revenue event, and balances equal to entries.
    let entries = api.all("/commissions").await?;
    let mut per_event: HashMap<String, usize> = HashMap::new();
    let mut earned_by_affiliate: HashMap<String, i64> = HashMap::new();
    for entry in &entries {
        *per_event
            .entry(entry["revenueEventId"].as_str().unwrap_or("").to_owned())
            .or_default() += 1;
        *earned_by_affiliate
            .entry(entry["affiliateId"].as_str().unwrap_or("").to_owned())
            .or_default() += cents(&entry["amount"]);
    }
    let revenue: Vec<&(usize, String)> = seen.iter().flat_map(|w| w.revenue.iter()).collect();
    let lost = revenue
        .iter()
        .filter(|(_, event)| per_event.get(event).copied().unwrap_or(0) != 1)
        .count();
    let unknown_events: Vec<&String> = uncertain
        .iter()
        .filter_map(|w| match w {
            Write::Revenue(_, event) => Some(event),
            _ => None,
        })
        .collect();
    let unknown_doubled = unknown_events
        .iter()
        .filter(|event| per_event.get(**event).copied().unwrap_or(0) > 1)
        .count();
    let unknown_taken = unknown_events
        .iter()
        .filter(|event| per_event.contains_key(**event))
        .count();
    if lost > 0 || unknown_doubled > 0 || entries.len() != revenue.len() + unknown_taken {
        problems.push(format!(
            "commissions: {} entries for {} accepted revenue events (+{unknown_taken} of {} unknown), {lost} not present exactly once, {unknown_doubled} unknown ones doubled",
            entries.len(),
            revenue.len(),
            unknown_events.len()
        ));
    }

    // Clicks and balances per partner, from its own dashboard.
    let mut balances_checked = 0;
    for (index, partner) in partners.iter().enumerate() {
        let (status, session) = api
            .call(
                Method::POST,
                "/v1/sessions",
                Some(&json!({"customerId": partner.customer})),
                false,
            )
            .await?;
        if status != StatusCode::CREATED {
            return Err(format!("session: {status} {session}"));
        }
        let response = api
            .client
            .get(format!("{}/v1/affiliate/dashboard", api.target.base))
            .bearer_auth(session["token"].as_str().unwrap_or(""))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let dashboard: Value = response.json().await.map_err(|e| e.to_string())?;
        let clicks = seen
            .iter()
            .flat_map(|w| w.clicks.iter())
            .filter(|(p, _)| *p == index)
            .count() as u64;
        let unknown_clicks = uncertain
            .iter()
            .filter(|w| matches!(w, Write::Click(p, _) if *p == index))
            .count() as u64;
        let counted = dashboard["stats"]["clicks"].as_u64().unwrap_or(u64::MAX);
        if !(clicks..=clicks + unknown_clicks).contains(&counted) {
            problems.push(format!(
                "{}: {} clicks counted, {clicks} accepted (+{unknown_clicks} unknown)",
                partner.code, dashboard["stats"]["clicks"]
            ));
        }
        let affiliate = &dashboard["affiliate"];
        let from_entries = earned_by_affiliate
            .get(affiliate["id"].as_str().unwrap_or(""))
            .copied()
            .unwrap_or(0);
        let balance = cents(&affiliate["pendingBalance"])
            + cents(&affiliate["availableBalance"])
            + cents(&affiliate["paidTotal"]);
        if cents(&affiliate["totalEarned"]) != from_entries || balance != from_entries {
            problems.push(format!(
                "{}: totalEarned {} and balances {} but entries sum to {}",
                partner.code,
                affiliate["totalEarned"],
                balance as f64 / 100.0,
                from_entries as f64 / 100.0
            ));
        }
        balances_checked += 1;
    }

    let clicks: usize = seen.iter().map(|w| w.clicks.len()).sum();
    let summary = format!(
        "Audit: {} applications accepted ({} listed), {} approvals ({} partners listed), {clicks} clicks, {} revenue events ({} commission entries), {balances_checked} partner balances equal to their entries; {} writes of unknown outcome (503 or no answer), each present at most once; {} lost or duplicated writes.\n",
        accepted.len(),
        listed.len(),
        approved.len(),
        affiliates.len(),
        revenue.len(),
        entries.len(),
        uncertain.len(),
        problems.len(),
    );
    if problems.is_empty() {
        Ok(summary)
    } else {
        Err(format!("{summary}\n{}", problems.join("\n")))
    }
}
