//! `make stress`, the abusive tenant: a well-behaved tenant's latency and webhook
//! delivery delay, alone and then beside a tenant that floods the API with garbage
//! keys and applications and whose webhook endpoints are tarpits (they accept the
//! connection and never answer).
//!
//! Both halves run in this process on the embedded store: the API half serves the
//! functions' routes on loopback (as `partnerctl serve` does, with the peer address
//! as the client IP), the abuser's floods coming from their own loopback addresses;
//! the webhook half (`abuse/webhooks.rs`) feeds the webhook-dispatcher Lambda's
//! handler SQS batches from its two lanes.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use partner_tests::test_config;
use serde_json::json;

use crate::stats::{Sample, ms};

mod webhooks;

use webhooks::webhook_run;

/// Each flood's rate, per worker, and its workers: a bot, not a benchmark of the
/// machine (client and server share its two cores).
const FLOOD_PAUSE: Duration = Duration::from_millis(10);
const FLOOD_WORKERS: usize = 4;
/// The well-behaved tenant: four clients, each pausing 10 ms between requests.
const GOOD_WORKERS: usize = 4;
const GOOD_PAUSE: Duration = Duration::from_millis(10);
/// The abuser's tarpit endpoints (the most an app may have).
pub(crate) const TARPITS: usize = 20;
/// The dispatcher's concurrency on the main lane, and on the slow lane, as
/// template.yaml sets them.
pub(crate) const POLLERS: usize = 5;
pub(crate) const SLOW_POLLERS: usize = 2;
/// Events per second each tenant publishes in the webhook half.
pub(crate) const EVENTS_PER_SECOND: u64 = 10;

/// The well-behaved tenant's API figures in one run, and what the abuser got.
#[derive(Debug)]
struct ApiRun {
    latencies: Sample,
    errors: usize,
    abuser: HashMap<u16, usize>,
}

/// The well-behaved tenant's webhook figures in one run.
#[derive(Debug)]
pub(crate) struct WebhookRun {
    delays: Sample,
    sent: usize,
    delivered: usize,
    dead_lettered: usize,
}

/// Both halves, without and then with the abuser, as a report section.
pub async fn run(seconds: u64) -> Result<String, String> {
    let duration = Duration::from_secs(seconds);
    let api_alone = api_run(duration, false).await?;
    let api_abused = api_run(duration, true).await?;
    let hooks_alone = webhook_run(duration, false).await?;
    let hooks_abused = webhook_run(duration, true).await?;
    let mut out = format!(
        "Well-behaved tenant: {GOOD_WORKERS} clients, {} ms between requests (status and apply with its secret key); abuser: {FLOOD_WORKERS} clients flooding random garbage keys from one IP and {FLOOD_WORKERS} applying with its publishable key from another, each every {} ms; {seconds} s per run.\n\n",
        GOOD_PAUSE.as_millis(),
        FLOOD_PAUSE.as_millis(),
    );
    out.push_str("| API run | requests | p50 | p99 | errors | abuser's answers |\n|---|---|---|---|---|---|\n");
    for (name, run) in [("alone", &api_alone), ("beside the abuser", &api_abused)] {
        let mut answers: Vec<_> = run.abuser.iter().collect();
        answers.sort();
        let answers = answers
            .iter()
            .map(|(status, n)| format!("{n} × {status}"))
            .collect::<Vec<_>>()
            .join(", ");
        out.push_str(&format!(
            "| {name} | {} | {} ms | {} ms | {} | {} |\n",
            run.latencies.len(),
            ms(run.latencies.median()),
            ms(run.latencies.p99()),
            run.errors,
            if answers.is_empty() {
                "—".into()
            } else {
                answers
            },
        ));
    }
    out.push_str(&format!(
        "\nWebhooks: each tenant publishes {EVENTS_PER_SECOND} events/s; the abuser's {TARPITS} endpoints are tarpits (time-out 2 s); {POLLERS} concurrent dispatcher invocations of up to 10 messages on the main lane, {SLOW_POLLERS} on the slow lane.\n\n| webhook run | events | delivered | dead-lettered | delay p50 | delay p99 |\n|---|---|---|---|---|---|\n"
    ));
    for (name, run) in [
        ("alone", &hooks_alone),
        ("beside the abuser", &hooks_abused),
    ] {
        out.push_str(&format!(
            "| {name} | {} | {} | {} | {} ms | {} ms |\n",
            run.sent,
            run.delivered,
            run.dead_lettered,
            ms(run.delays.median()),
            ms(run.delays.p99()),
        ));
    }
    let latency_ratio =
        api_abused.latencies.p99().as_secs_f64() / api_alone.latencies.p99().as_secs_f64();
    let delay_ratio =
        hooks_abused.delays.p99().as_secs_f64() / hooks_alone.delays.p99().as_secs_f64();
    out.push_str(&format!(
        "\np99 beside the abuser ÷ alone: API {latency_ratio:.2}×, webhook delay {delay_ratio:.2}× (goal: ≤ 2×).\n"
    ));
    let lost =
        hooks_abused.sent - hooks_abused.delivered + hooks_alone.sent - hooks_alone.delivered;
    if api_alone.errors + api_abused.errors > 0
        || lost > 0
        || hooks_abused.dead_lettered + hooks_alone.dead_lettered > 0
    {
        return Err(format!(
            "the well-behaved tenant lost requests or webhooks:\n{out}"
        ));
    }
    Ok(out)
}

fn client_from(ip: &str) -> Result<reqwest::Client, String> {
    let ip: IpAddr = ip.parse().map_err(|e| format!("{e}"))?;
    reqwest::Client::builder()
        .local_address(ip)
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| e.to_string())
}

async fn api_run(duration: Duration, abuser: bool) -> Result<ApiRun, String> {
    let store = partner_store::testing::memory();
    let good = store
        .apps()
        .create("Good")
        .await
        .map_err(|e| e.to_string())?;
    let bad = store
        .apps()
        .create("Abuser")
        .await
        .map_err(|e| e.to_string())?;
    let state =
        partner_service::AppState::new(store, test_config(), None).map_err(|e| e.to_string())?;
    let app = partnerctl::with_peer_addresses(partner_service::http::finish(
        partnerctl::all_routes(),
        state,
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let base = format!(
        "http://{}",
        listener.local_addr().map_err(|e| e.to_string())?
    );
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let deadline = Instant::now() + duration;
    let mut workers = Vec::new();
    for worker in 0..GOOD_WORKERS {
        let client = client_from("127.0.0.1")?;
        let (base, key) = (base.clone(), good.api_key.secret().to_owned());
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0;
            let mut n = 0;
            while Instant::now() < deadline {
                n += 1;
                let request = if n % 2 == 0 {
                    client.get(format!(
                        "{base}/v1/affiliate/apply/status?email=good{worker}x{n}%40example.com"
                    ))
                } else {
                    client.post(format!("{base}/v1/affiliate/apply")).json(
                        &json!({"email": format!("good{worker}x{n}@example.com"), "name": "Good"}),
                    )
                };
                let started = Instant::now();
                match request.header("x-api-key", &key).send().await {
                    Ok(response) if response.status().is_success() => {
                        latencies.push(started.elapsed())
                    }
                    _ => errors += 1,
                }
                tokio::time::sleep(GOOD_PAUSE).await;
            }
            (latencies, errors, HashMap::new())
        }));
    }
    if abuser {
        for worker in 0..2 * FLOOD_WORKERS {
            let garbage = worker < FLOOD_WORKERS;
            let client = client_from(if garbage { "127.0.0.4" } else { "127.0.0.5" })?;
            let (base, key) = (base.clone(), bad.publishable_key.secret().to_owned());
            workers.push(tokio::spawn(async move {
                let mut answers: HashMap<u16, usize> = HashMap::new();
                let mut n = 0;
                while Instant::now() < deadline {
                    n += 1;
                    let request = if garbage {
                        let mut bytes = [0u8; 16];
                        partner_domain::random_bytes(&mut bytes);
                        let key: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
                        client
                            .get(format!("{base}/v1/affiliate/apply/status?email=x%40example.com"))
                            .header("x-api-key", format!("sk_live_{key}"))
                    } else {
                        client
                            .post(format!("{base}/v1/affiliate/apply"))
                            .header("x-api-key", &key)
                            .json(&json!({"email": format!("spam{worker}x{n}@example.com"), "name": "Spam"}))
                    };
                    if let Ok(response) = request.send().await {
                        *answers.entry(response.status().as_u16()).or_default() += 1;
                    }
                    tokio::time::sleep(FLOOD_PAUSE).await;
                }
                (Vec::new(), 0, answers)
            }));
        }
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    let mut abuser_answers: HashMap<u16, usize> = HashMap::new();
    for worker in workers {
        let (mine, failed, answers) = worker.await.map_err(|e| e.to_string())?;
        latencies.extend(mine);
        errors += failed;
        for (status, n) in answers {
            *abuser_answers.entry(status).or_default() += n;
        }
    }
    server.abort();
    Ok(ApiRun {
        latencies: Sample::new(latencies),
        errors,
        abuser: abuser_answers,
    })
}
