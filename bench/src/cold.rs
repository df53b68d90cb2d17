//! Cold starts: every function's release binary started fresh against the local
//! Runtime API, N times, interleaved with a hello-world `lambda_runtime` binary built
//! with the same profile, so both see the same machine at the same moment.
//!
//! Init is process start → first `GET /next`; first response is process start → the
//! answer to the first event (with its store round trips to moto on loopback).

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use axum::body::Bytes;

use crate::runtime_api::{RuntimeApi, Signal};
use crate::stats::{Sample, ms};

/// The Node.js baseline's row: the status endpoint as a Node.js Lambda with the
/// AWS SDK v3 (`bench/node`), whose first response each function's is compared
/// with.
pub const NODE_BASELINE: &str = "status (Node.js, AWS SDK v3)";

/// A binary, the event it is sent, and its environment (on top of Lambda's own).
#[derive(Debug, Clone)]
pub struct Target {
    pub name: String,
    pub binary: PathBuf,
    pub event: Bytes,
    pub env: Vec<(String, String)>,
}

/// One cold start.
#[derive(Debug, Clone)]
pub struct Run {
    pub init: Duration,
    pub first_response: Duration,
    pub peak_rss_kib: u64,
    /// The HTTP status of the answer, or a summary for non-HTTP events.
    pub answer: String,
}

const LIMIT: Duration = Duration::from_secs(20);

/// Starts `target` once and measures it.
pub async fn run_once(target: &Target, log: &std::fs::File) -> Result<Run, String> {
    let mut api = RuntimeApi::start(target.event.clone())
        .await
        .map_err(|e| format!("runtime API: {e}"))?;
    let mut command = tokio::process::Command::new(&target.binary);
    command
        .env_clear()
        .envs(lambda_environment(&target.name, &api.address))
        .envs(target.env.iter().cloned())
        .stdin(Stdio::null())
        .stdout(log.try_clone().map_err(|e| e.to_string())?)
        .stderr(log.try_clone().map_err(|e| e.to_string())?)
        .kill_on_drop(true);
    let started = Instant::now();
    let mut child = command
        .spawn()
        .map_err(|e| format!("{}: {e}", target.binary.display()))?;
    let pid = child.id().ok_or("the process exited at once")?;

    let init = match api.signal(LIMIT).await {
        Some(Signal::Next(at)) => at - started,
        other => return Err(unexpected(&target.name, "first /next", other, started)),
    };
    let (first_response, body) = match api.signal(LIMIT).await {
        Some(Signal::Response(at, body)) => (at - started, body),
        other => return Err(unexpected(&target.name, "response", other, started)),
    };
    // The second /next means the invocation is over; peak memory is final.
    match api.signal(LIMIT).await {
        Some(Signal::Next(_)) => {}
        other => return Err(unexpected(&target.name, "second /next", other, started)),
    }
    let peak_rss_kib = peak_rss_kib(pid).unwrap_or(0);
    let _ = child.kill().await;
    Ok(Run {
        init,
        first_response,
        peak_rss_kib,
        answer: answer(&body),
    })
}

fn unexpected(name: &str, wanted: &str, got: Option<Signal>, started: Instant) -> String {
    match got {
        Some(Signal::Error(at, message)) => format!(
            "{name}: reported an error {} ms after start instead of a {wanted}: {message}",
            ms(at - started)
        ),
        Some(other) => format!("{name}: {other:?} instead of a {wanted}"),
        None => format!("{name}: no {wanted} within {LIMIT:?}"),
    }
}

/// The variables Lambda sets for every function.
fn lambda_environment(name: &str, runtime_api: &str) -> Vec<(String, String)> {
    [
        ("AWS_LAMBDA_RUNTIME_API", runtime_api),
        ("AWS_LAMBDA_FUNCTION_NAME", name),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
        ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/bench"),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "bench"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_SESSION_TOKEN", "test"),
        ("LAMBDA_TASK_ROOT", "/var/task"),
        ("_HANDLER", "bootstrap"),
        ("TZ", ":UTC"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// `VmHWM`: the process's peak resident set, in KiB.
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn answer(body: &[u8]) -> String {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
        return "not JSON".to_owned();
    };
    if let Some(status) = value.get("statusCode") {
        return status.to_string();
    }
    if let Some(failures) = value.get("batchItemFailures").and_then(|f| f.as_array()) {
        return format!("{} failed", failures.len());
    }
    "ok".to_owned()
}

/// `runs` cold starts of every target, interleaved; the first target is the baseline.
pub async fn measure(
    targets: &[Target],
    runs: usize,
    log: &std::fs::File,
) -> Result<Vec<Vec<Run>>, String> {
    let mut results = vec![Vec::with_capacity(runs); targets.len()];
    for _ in 0..runs {
        for (target, runs) in targets.iter().zip(results.iter_mut()) {
            runs.push(run_once(target, log).await?);
        }
    }
    Ok(results)
}

/// The report table: medians and spread, init as a multiple of the baseline's,
/// and, with the Node.js row, how many times faster than Node's each first
/// response is.
pub fn table(targets: &[Target], results: &[Vec<Run>]) -> String {
    let baseline = Sample::new(results[0].iter().map(|r| r.init).collect()).median();
    let node_first = targets
        .iter()
        .zip(results)
        .find(|(target, _)| target.name == NODE_BASELINE)
        .map(|(_, runs)| Sample::new(runs.iter().map(|r| r.first_response).collect()).median());
    let mut out = String::from(
        "| Binary | Init median (ms) | Init min–max (ms) | × baseline | First response median (ms) | Node's first response ÷ this | Peak RSS (MiB) | Answer |\n|---|---|---|---|---|---|---|---|\n",
    );
    for (target, runs) in targets.iter().zip(results) {
        let init = Sample::new(runs.iter().map(|r| r.init).collect());
        let first = Sample::new(runs.iter().map(|r| r.first_response).collect());
        let rss = runs.iter().map(|r| r.peak_rss_kib).max().unwrap_or(0);
        let ratio = init.median().as_secs_f64() / baseline.as_secs_f64().max(1e-9);
        let versus_node = match node_first {
            Some(node) if target.name != NODE_BASELINE => format!(
                "{:.1}",
                node.as_secs_f64() / first.median().as_secs_f64().max(1e-9)
            ),
            _ => "—".to_owned(),
        };
        let answer = runs.first().map(|r| r.answer.as_str()).unwrap_or("");
        out.push_str(&format!(
            "| {} | {} | {}–{} | {:.2} | {} | {} | {:.1} | {} |\n",
            target.name,
            ms(init.median()),
            ms(init.min()),
            ms(init.max()),
            ratio,
            ms(first.median()),
            versus_node,
            rss as f64 / 1024.0,
            answer,
        ));
    }
    out
}
