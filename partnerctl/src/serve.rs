//! `partnerctl serve`: every function's routes merged into one local server, with
//! the same paths as API Gateway and the same handler code as the Lambdas.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use partner_service::AppState;
use partner_service::config::{Config, StoreConfig};
use partner_service::events::LocalBus;
use partner_webhooks::Dispatcher;
use partner_webhooks::client::SafeClient;
use partner_webhooks::local::LocalQueue;
use partnerctl::all_routes;

use crate::{CliError, Target, admin_secret};

const RELAY_EVERY: Duration = Duration::from_secs(5);
/// How long one local payout-runner session may take (the Lambda's timeout).
const PAYOUT_SESSION: Duration = Duration::from_secs(60);

const APPROVE_EVERY: Duration = Duration::from_secs(5);

pub async fn run(
    target: &Target,
    store_config: StoreConfig,
    addr: SocketAddr,
) -> Result<(), CliError> {
    let mut config = Config::from_env_with_store(store_config.clone())
        .map_err(|e| CliError::Usage(e.to_string()))?;
    if config.admin_jwt.secret.is_none() {
        config.admin_jwt.secret = Some(match store_config {
            StoreConfig::Memory => partner_domain::api_key::random_base62(48),
            _ => admin_secret::load_or_create(&target.data)?,
        });
    }
    if config.session_secret.is_none() {
        config.session_secret = Some(partner_service::config::Secret(match store_config {
            StoreConfig::Memory => partner_domain::api_key::random_base62(48),
            _ => admin_secret::load_or_create_named(&target.data, admin_secret::SESSION)?,
        }));
    }
    let store = crate::open_store(&config.store).await?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    if store.apps().list().await?.is_empty() {
        let created = store.apps().create("Demo app").await?;
        let token = partner_service::admin_auth::mint(
            &config.admin_jwt,
            crate::ops::OPERATOR,
            std::slice::from_ref(&created.app.id),
            std::time::Duration::from_secs(24 * 3600),
        )?;
        println!("Created a demo app (the keys are shown only now):");
        println!("  app id:          {}", created.app.id);
        println!(
            "  secret key:      {}   (your server only)",
            created.api_key.secret()
        );
        println!(
            "  publishable key: {}   (web pages: apply, track)",
            created.publishable_key.secret()
        );
        println!("  admin token:     {token}");
        println!("Try:");
        println!(
            "  curl -X POST http://{local}/v1/affiliate/apply -H 'x-api-key: {}' -H 'content-type: application/json' -d '{{\"email\": \"partner@example.com\", \"name\": \"Jane Smith\"}}'",
            created.api_key.secret()
        );
    }
    if config.public_base_url.is_none() {
        config.public_base_url = Some(format!("http://{local}"));
    }
    println!("Listening on http://{local}");
    let bus = LocalBus::default();
    // Webhooks are delivered in-process by the same dispatcher the Lambda runs.
    let (queue, attempts) = LocalQueue::new();
    let client = SafeClient::new(
        config.webhooks.timeout,
        config.webhooks.allow_private_targets,
    );
    let dispatcher = Dispatcher::new(
        store.clone(),
        client,
        Arc::new(queue.clone()),
        config.webhooks.retry_schedule.clone(),
    );
    let state = AppState::with_webhook_queue(
        store,
        config,
        Some(Arc::new(bus.clone())),
        Some(Arc::new(queue)),
    )
    .map_err(|e| CliError::Usage(e.to_string()))?;
    tokio::spawn(partner_webhooks::local::run(
        dispatcher,
        bus.subscribe(),
        attempts,
    ));
    tokio::spawn(relay_forever(state.clone()));
    tokio::spawn(approve_forever(state.clone()));
    tokio::spawn(run_payouts_forever(state.clone()));
    let app = partner_service::http::finish(all_routes(), state);
    // The peer address is what the per-IP rate limits count by locally.
    let app = partnerctl::with_peer_addresses(app);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    Ok(())
}

/// The local stand-in for the scheduled outbox relay: events that functions under
/// `cargo lambda watch` wrote to the shared store (with no bus of their own) get
/// published here too.
async fn relay_forever(state: AppState) {
    let mut every = tokio::time::interval(RELAY_EVERY);
    loop {
        every.tick().await;
        if let Err(err) = state.publisher().relay(state.store(), RELAY_EVERY).await {
            tracing::warn!(error = %err, "local outbox relay failed");
        }
    }
}

/// The local stand-in for the scheduled commission approver.
async fn approve_forever(state: AppState) {
    let mut every = tokio::time::interval(APPROVE_EVERY);
    loop {
        every.tick().await;
        if let Err(err) = commission_approver::handle(&state, serde_json::Value::Null).await {
            tracing::warn!(error = %err, "local commission approver failed");
        }
    }
}

/// The local stand-in for the scheduled payout runner: a started payout run is
/// worked on within a second, in sessions as long as a Lambda's.
async fn run_payouts_forever(state: AppState) {
    let mut every = tokio::time::interval(Duration::from_secs(1));
    loop {
        every.tick().await;
        if let Err(err) = payout_runner::handle(&state, PAYOUT_SESSION).await {
            tracing::warn!(error = %err, "local payout runner failed");
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
