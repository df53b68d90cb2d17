//! The state a function builds once per cold start and lends to every request.

use std::sync::Arc;

use partner_store::Store;

use crate::admin_auth::{AdminVerifier, TokenError};
use crate::auth::ApiKeyCache;
use crate::config::{Config, StoreConfig};
use crate::events::{EventBridgeBus, EventBus, Publisher};
use crate::webhook_queue::{SqsQueue, WebhookQueue};

#[derive(Debug, Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Store,
    api_keys: ApiKeyCache,
    admin_verifier: AdminVerifier,
    publisher: Publisher,
    webhook_queue: Option<Arc<dyn WebhookQueue>>,
    config: Config,
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("opening the store")]
    Store(#[from] partner_store::StoreError),
    #[error(transparent)]
    AdminJwt(#[from] TokenError),
}

impl AppState {
    /// `bus` is where events go after their transaction; `None` leaves them in the
    /// outbox for a relay.
    pub fn new(
        store: Store,
        config: Config,
        bus: Option<Arc<dyn EventBus>>,
    ) -> Result<Self, StartupError> {
        Self::with_webhook_queue(store, config, bus, None)
    }

    /// Like [`AppState::new`], with the queue webhook attempts (replays) go to.
    pub fn with_webhook_queue(
        store: Store,
        config: Config,
        bus: Option<Arc<dyn EventBus>>,
        webhook_queue: Option<Arc<dyn WebhookQueue>>,
    ) -> Result<Self, StartupError> {
        Ok(Self {
            inner: Arc::new(Inner {
                api_keys: ApiKeyCache::new(config.api_key_cache),
                admin_verifier: AdminVerifier::from_config(&config.admin_jwt)?,
                publisher: Publisher::new(bus),
                webhook_queue,
                store,
                config,
            }),
        })
    }

    /// Reads the configuration and builds every client: the whole of a function's init.
    pub async fn from_env() -> Result<Self, StartupError> {
        let config = Config::from_env()?;
        let needs_aws = matches!(config.store, StoreConfig::DynamoDb { .. })
            || config.event_bus.is_some()
            || config.webhooks.queue_url.is_some();
        // One AWS configuration for every client of the function.
        let aws = if needs_aws {
            Some(aws_config().await)
        } else {
            None
        };
        let store = match (&config.store, &aws) {
            (StoreConfig::DynamoDb { table }, Some(aws)) => {
                Store::dynamodb(partner_store::dynamo::Client::new(aws), table.clone())
            }
            (other, _) => open_store(other).await?,
        };
        let bus: Option<Arc<dyn EventBus>> = match (&config.event_bus, &aws) {
            (Some(name), Some(aws)) => Some(Arc::new(EventBridgeBus::new(
                aws_sdk_eventbridge::Client::new(aws),
                name,
            ))),
            _ => None,
        };
        if bus.is_none() {
            tracing::info!("EVENT_BUS_NAME is not set: events wait in the outbox for a relay");
        }
        let queue: Option<Arc<dyn WebhookQueue>> = match (
            &config.webhooks.queue_url,
            &config.webhooks.dead_letter_url,
            &aws,
        ) {
            (Some(queue), Some(dead_letters), Some(aws)) => Some(Arc::new(SqsQueue::new(
                aws_sdk_sqs::Client::new(aws),
                queue,
                dead_letters,
            ))),
            _ => None,
        };
        let state = Self::with_webhook_queue(store, config, bus, queue)?;
        if !state.admin_verifier().is_configured() {
            tracing::info!("no admin JWT key is configured: admin routes refuse every token");
        }
        Ok(state)
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn api_keys(&self) -> &ApiKeyCache {
        &self.inner.api_keys
    }

    pub fn admin_verifier(&self) -> &AdminVerifier {
        &self.inner.admin_verifier
    }

    pub fn publisher(&self) -> &Publisher {
        &self.inner.publisher
    }

    /// Where webhook attempts go; `None` where the function does not deliver.
    pub fn webhook_queue(&self) -> Option<&Arc<dyn WebhookQueue>> {
        self.inner.webhook_queue.as_ref()
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }
}

async fn aws_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .load()
        .await
}

/// A DynamoDB client configured from the environment (region, credentials, and
/// `AWS_ENDPOINT_URL` for moto or DynamoDB Local).
pub async fn dynamodb_client() -> partner_store::dynamo::Client {
    partner_store::dynamo::Client::new(&aws_config().await)
}

/// Opens the configured store (a DynamoDB client is built here, once).
pub async fn open_store(config: &StoreConfig) -> Result<Store, partner_store::StoreError> {
    match config {
        StoreConfig::DynamoDb { table } => {
            Ok(Store::dynamodb(dynamodb_client().await, table.clone()))
        }
        StoreConfig::Sqlite { path } => Store::sqlite(path),
        StoreConfig::Memory => Store::memory(),
    }
}
