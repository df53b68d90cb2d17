//! `partner-bench`: the measurements behind BENCHMARKS.md (`make bench`) and the
//! mixed load with its audit (`make stress`). Each subcommand prints a Markdown
//! section; `scripts/bench.sh` and `scripts/stress.sh` put them together.

#![allow(clippy::print_stdout)]

use std::path::PathBuf;

use partner_bench::{abuse, cold, dispatch, stress, warm};

use axum::body::Bytes;
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(about = "Benchmarks and load tests for Partner Program")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Cold starts of every function binary against a local Runtime API, beside hello-lambda.
    ColdStart {
        /// Where the release binaries are (`target/release`).
        #[arg(long)]
        bin_dir: PathBuf,
        /// The sample events (`events/`).
        #[arg(long)]
        events: PathBuf,
        /// The moto server the functions' DynamoDB client talks to.
        #[arg(long)]
        moto: String,
        #[arg(long, default_value_t = 20)]
        runs: usize,
        /// Where the functions' own output goes.
        #[arg(long)]
        log: PathBuf,
        /// The Node.js baseline's bootstrap (`bench/node/bootstrap`, after `npm ci`
        /// there): the status endpoint with the AWS SDK v3.
        #[arg(long)]
        node: Option<PathBuf>,
    },
    /// Per-request time through the routers on the embedded store.
    Warm {
        #[arg(long, default_value_t = 500)]
        warmup: usize,
        #[arg(long, default_value_t = 5000)]
        iterations: usize,
    },
    /// Store calls per warm request, against the round-trip budgets (ARCHITECTURE.md).
    RoundTrips,
    /// Webhook deliveries per invocation to a receiver answering after 100 ms.
    Dispatcher {
        #[arg(long, default_value_t = 10)]
        batches: usize,
    },
    /// The partners the load needs (codes STRESS0…, emails partner0@stress.example.com…).
    Seed {
        #[command(flatten)]
        target: TargetArgs,
    },
    /// Mixed load on a running `partnerctl serve`, then the audit.
    Stress {
        #[command(flatten)]
        target: TargetArgs,
        #[arg(long, default_value_t = 60)]
        seconds: u64,
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
    },
    /// A well-behaved tenant alone, then beside an abusive one (floods, tarpit webhooks).
    Abuse {
        /// Seconds per run (four runs: API and webhooks, without and with the abuser).
        #[arg(long, default_value_t = 20)]
        seconds: u64,
    },
}

/// A running server and a tenant on it.
#[derive(Debug, clap::Args)]
struct TargetArgs {
    #[arg(long)]
    base: String,
    #[arg(long)]
    app: String,
    #[arg(long)]
    api_key: String,
    #[arg(long)]
    admin_token: String,
}

impl From<TargetArgs> for stress::Target {
    fn from(args: TargetArgs) -> Self {
        Self {
            base: args.base,
            app_id: args.app,
            api_key: args.api_key,
            admin_token: args.admin_token,
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), String> {
    // reqwest is built without a TLS provider of its own (see partner_aws::http).
    let _ = rustls::crypto::ring::default_provider().install_default();
    match Cli::parse().command {
        Command::ColdStart {
            bin_dir,
            events,
            moto,
            runs,
            log,
            node,
        } => {
            let targets = cold_targets(&bin_dir, &events, &moto, node.as_deref()).await?;
            let log = std::fs::File::create(&log).map_err(|e| e.to_string())?;
            let results = cold::measure(&targets, runs, &log).await?;
            println!("{}", cold::table(&targets, &results));
        }
        Command::Warm { warmup, iterations } => {
            let dir = scratch_dir()?;
            let store =
                partner_store::Store::sqlite(&dir.join("bench.db")).map_err(|e| e.to_string())?;
            let on_file = warm::warm_cost(store, warmup, iterations).await?;
            let _ = std::fs::remove_dir_all(dir);
            let in_memory =
                warm::warm_cost(partner_store::testing::memory(), warmup, iterations).await?;
            println!(
                "Embedded store in memory (`partnerctl serve --memory`): the service's own cost.\n\n{}",
                warm::warm_table(&in_memory)
            );
            println!(
                "Embedded store in a file (`partnerctl serve`; WAL, synchronous=NORMAL, checkpoints on a background thread): adds the file writes.\n\n{}",
                warm::warm_table(&on_file)
            );
        }
        Command::RoundTrips => {
            let results = warm::round_trips(partner_store::testing::memory()).await?;
            println!("{}", warm::round_trip_table(&results));
        }
        Command::Dispatcher { batches } => {
            let mut results = Vec::new();
            for endpoints in [1, 5] {
                results.push(dispatch::measure(10, endpoints, batches).await?);
            }
            println!("{}", dispatch::table(&results));
        }
        Command::Seed { target } => stress::seed(target.into()).await?,
        Command::Stress {
            target,
            seconds,
            concurrency,
        } => println!(
            "{}",
            stress::run(target.into(), seconds, concurrency).await?
        ),
        Command::Abuse { seconds } => println!("{}", abuse::run(seconds).await?),
    }
    Ok(())
}

/// An environment variable of a function: name, value.
type Variable<'a> = (&'a str, &'a str);

fn scratch_dir() -> Result<PathBuf, String> {
    let dir = std::env::temp_dir().join(format!("partner-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    Ok(dir)
}

/// The functions, each with a sample event made valid for a tenant seeded on moto;
/// hello-lambda first, as the baseline.
async fn cold_targets(
    bin_dir: &std::path::Path,
    events: &std::path::Path,
    moto: &str,
    node: Option<&std::path::Path>,
) -> Result<Vec<cold::Target>, String> {
    let client = partner_store::testing::moto_client(moto);
    let table = format!("bench-{}", std::process::id());
    partner_store::dynamo::create_table(&client, &table)
        .await
        .map_err(|e| e.to_string())?;
    let store = partner_store::Store::dynamodb(client, table.clone());
    let created = store
        .apps()
        .create("Bench")
        .await
        .map_err(|e| e.to_string())?;
    let app_id = created.app.id.to_string();
    // The application `status.json` asks about, so status answers a real one.
    partner_tests::seed_application(&store, &created, "existing@example.com").await;
    let admin_token = partner_tests::admin_token_for(std::slice::from_ref(&created.app.id));
    let queue = format!("{moto}/123456789012/bench-webhooks");
    let dead_letters = format!("{moto}/123456789012/bench-webhooks-dlq");
    // Each function's variables as template.yaml sets them (values local): the
    // secrets in Secrets Manager, read at init.
    let bus = ("EVENT_BUS_NAME", "partner-program-bench");
    let session_secret = "bench-session-secret-of-at-least-32-bytes";
    let admin_arn =
        partner_tests::moto_secret(moto, &format!("{table}-admin"), partner_tests::ADMIN_SECRET)
            .await;
    let session_arn =
        partner_tests::moto_secret(moto, &format!("{table}-session"), session_secret).await;
    let admin = ("ADMIN_JWT_SECRET_ARN", admin_arn.as_str());
    let queues = [
        ("WEBHOOK_QUEUE_URL", queue.as_str()),
        ("WEBHOOK_DLQ_URL", dead_letters.as_str()),
    ];
    let session = [
        ("SESSION_SECRET_ARN", session_arn.as_str()),
        ("PUBLIC_BASE_URL", "https://partners.example.com"),
    ];
    // The same two functions with the secrets' values in variables, as before they
    // moved to Secrets Manager: what reading them at init costs.
    let session_in_variable = [
        ("SESSION_SECRET", session_secret),
        ("PUBLIC_BASE_URL", "https://partners.example.com"),
    ];
    let admin_in_variable = ("ADMIN_JWT_SECRET", partner_tests::ADMIN_SECRET);
    let functions: [(&str, &str, &str, Vec<Variable>); 15] = [
        ("hello-lambda", "hello-lambda", "status.json", vec![]),
        ("apply", "apply", "apply.json", vec![bus]),
        ("status", "status", "status.json", vec![]),
        ("by-customer", "by-customer", "by-customer.json", vec![]),
        ("track", "track", "track-unknown-code.json", vec![]),
        (
            "conversions",
            "conversions",
            "conversions-revenue.json",
            vec![bus],
        ),
        (
            "partner",
            "partner",
            "partner-session.json",
            [vec![bus], session.to_vec()].concat(),
        ),
        (
            "partner (secret in a variable)",
            "partner",
            "partner-session.json",
            [vec![bus], session_in_variable.to_vec()].concat(),
        ),
        (
            "admin",
            "admin",
            "admin-settings.json",
            [vec![bus, admin], queues.to_vec()].concat(),
        ),
        (
            "admin (secret in a variable)",
            "admin",
            "admin-settings.json",
            [vec![bus, admin_in_variable], queues.to_vec()].concat(),
        ),
        (
            "integrations",
            "integrations",
            "integrations-stripe-not-connected.json",
            vec![bus],
        ),
        (
            "commission-approver",
            "commission-approver",
            "commission-approver.json",
            vec![bus],
        ),
        (
            "payout-runner",
            "payout-runner",
            "payout-runner.json",
            vec![bus],
        ),
        (
            "outbox-relay",
            "outbox-relay",
            "outbox-relay.json",
            vec![bus],
        ),
        (
            "webhook-dispatcher",
            "webhook-dispatcher",
            "webhook-dispatcher.json",
            queues.to_vec(),
        ),
    ];
    let mut targets = Vec::new();
    let mut functions = functions.to_vec();
    if let Some(node) = node {
        functions.insert(
            1,
            (
                cold::NODE_BASELINE,
                node.to_str()
                    .ok_or("the Node.js bootstrap's path is not UTF-8")?,
                "status.json",
                vec![],
            ),
        );
    }
    for (name, binary, event, variables) in functions {
        let text = std::fs::read_to_string(events.join(event))
            .map_err(|e| format!("{event}: {e}"))?
            .replace(
                "sk_live_REPLACE_WITH_A_SECRET_KEY_FROM_PARTNERCTL",
                created.api_key.secret(),
            )
            .replace("app_01JD8Z6Q3R4S5T6V7W8X9Y0Z1A", &app_id)
            .replace("ADMIN_JWT_FROM_PARTNERCTL_TOKEN_ADMIN", &admin_token);
        targets.push(cold::Target {
            name: name.to_owned(),
            binary: if name == cold::NODE_BASELINE {
                PathBuf::from(binary)
            } else {
                bin_dir.join(binary)
            },
            event: Bytes::from(text),
            env: if name == "hello-lambda" {
                Vec::new()
            } else {
                // Node's bootstrap finds `node` on the PATH, as Lambda's image has it.
                let path = (name == cold::NODE_BASELINE)
                    .then(|| ("PATH".to_owned(), std::env::var("PATH").unwrap_or_default()));
                [("TABLE_NAME", table.as_str()), ("AWS_ENDPOINT_URL", moto)]
                    .into_iter()
                    .chain(variables)
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .chain(path)
                    .collect()
            },
        });
    }
    Ok(targets)
}
