//! The state a function builds once per cold start and lends to every request.

use std::sync::Arc;

use partner_aws::OnFirstUse;
use partner_store::Store;

use crate::admin_auth::TokenError;
use crate::auth::ApiKeyCache;
use crate::config::{Config, StoreConfig};
use crate::events::{EventBridgeBus, EventBus, Publisher};
use crate::rate_limit::{FailedAuthLimiter, KeyLimiter};
use crate::secrets::{KeyRing, Keys, SecretsError};
use crate::settings_cache::SettingsCache;
use partner_webhooks::queue::{SqsQueue, WebhookQueue};

#[derive(Debug, Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Store,
    api_keys: ApiKeyCache,
    settings: SettingsCache,
    key_limits: KeyLimiter,
    failed_auth: FailedAuthLimiter,
    keys: KeyRing,
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
    #[error(transparent)]
    Secrets(#[from] SecretsError),
    #[error(
        "ADMIN_JWT_SECRET_ARN or SESSION_SECRET_ARN is set, but this function is built \
         without Secrets Manager (partner-service's `secrets-manager` feature)"
    )]
    NoSecretsManager,
    #[error(
        "this build has no embedded store (SQLite or memory), so it needs DynamoDB: set \
         TABLE_NAME (and leave PARTNER_STORE unset); for local runs, build with the \
         default `embedded` feature"
    )]
    NoEmbeddedStore,
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
        let keys = KeyRing::fixed(&config)?;
        Ok(Self::assemble(store, config, keys, bus, webhook_queue))
    }

    fn assemble(
        store: Store,
        config: Config,
        keys: KeyRing,
        bus: Option<Arc<dyn EventBus>>,
        webhook_queue: Option<Arc<dyn WebhookQueue>>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                api_keys: ApiKeyCache::new(config.api_key_cache),
                settings: SettingsCache::new(config.api_key_cache),
                key_limits: KeyLimiter::new(config.rate_limits.key_sync_every),
                failed_auth: FailedAuthLimiter::new(config.rate_limits.failed_auth_per_minute),
                keys,
                publisher: Publisher::new(bus),
                webhook_queue,
                store,
                config,
            }),
        }
    }

    /// Like [`AppState::with_webhook_queue`], with the HS256 secrets read from
    /// Secrets Manager through `client` when `config` names their ARNs.
    #[cfg(feature = "secrets-manager")]
    pub async fn with_secrets_from(
        store: Store,
        config: Config,
        bus: Option<Arc<dyn EventBus>>,
        webhook_queue: Option<Arc<dyn WebhookQueue>>,
        client: OnFirstUse<aws_sdk_secretsmanager::Client>,
    ) -> Result<Self, StartupError> {
        let keys = match crate::secrets::SecretsManager::from_config(&config, client) {
            Some(source) => KeyRing::read(Box::new(source)).await?,
            None => KeyRing::fixed(&config)?,
        };
        Ok(Self::assemble(store, config, keys, bus, webhook_queue))
    }

    /// The state `from_env` builds once its clients are made: secrets from Secrets
    /// Manager where the configuration names them (secret ARNs make `aws` set).
    #[cfg(feature = "secrets-manager")]
    async fn with_environment_keys(
        store: Store,
        config: Config,
        bus: Option<Arc<dyn EventBus>>,
        queue: Option<Arc<dyn WebhookQueue>>,
        aws: Option<&aws_types::SdkConfig>,
    ) -> Result<Self, StartupError> {
        match aws {
            Some(aws) => {
                let aws = aws.clone();
                let client = OnFirstUse::new(move || {
                    let config = aws_sdk_secretsmanager::config::Builder::from(&aws)
                        .timeout_config(crate::secrets::client_timeouts())
                        .build();
                    aws_sdk_secretsmanager::Client::from_conf(config)
                });
                Self::with_secrets_from(store, config, bus, queue, client).await
            }
            None => Self::with_webhook_queue(store, config, bus, queue),
        }
    }

    /// Without the `secrets-manager` feature, a secret ARN stops the start: the
    /// function would otherwise run without the keys it was deployed with.
    #[cfg(not(feature = "secrets-manager"))]
    async fn with_environment_keys(
        store: Store,
        config: Config,
        bus: Option<Arc<dyn EventBus>>,
        queue: Option<Arc<dyn WebhookQueue>>,
        _aws: Option<&aws_types::SdkConfig>,
    ) -> Result<Self, StartupError> {
        if config.secret_arns.admin_jwt.is_some() || config.secret_arns.session.is_some() {
            return Err(StartupError::NoSecretsManager);
        }
        Self::with_webhook_queue(store, config, bus, queue)
    }

    /// Reads the configuration and builds every client: the whole of a function's init.
    /// A failure is logged in words first, since a function's `main` returns it to the
    /// runtime, which prints only its debug form.
    pub async fn from_env() -> Result<Self, StartupError> {
        let state = Self::build_from_env().await;
        if let Err(err) = &state {
            tracing::error!(error = %err, "the function cannot start");
        }
        state
    }

    async fn build_from_env() -> Result<Self, StartupError> {
        let config = Config::from_env()?;
        let needs_aws = matches!(config.store, StoreConfig::DynamoDb { .. })
            || config.event_bus.is_some()
            || config.webhooks.queue_url.is_some()
            || config.secret_arns.admin_jwt.is_some()
            || config.secret_arns.session.is_some();
        // One AWS configuration for every client of the function; each client is
        // built on its first call (`OnFirstUse`), not here.
        let aws = needs_aws.then(crate::aws::from_lambda_environment);
        let store = match (&config.store, &aws) {
            (StoreConfig::DynamoDb { table }, Some(aws)) => {
                let aws = aws.clone();
                let client = OnFirstUse::new(move || partner_store::dynamo::Client::new(&aws));
                Store::dynamodb(client, table.clone())
            }
            #[cfg(feature = "embedded")]
            (StoreConfig::Sqlite { path }, _) => Store::sqlite(path)?,
            #[cfg(feature = "embedded")]
            (_, _) => Store::memory()?,
            #[cfg(not(feature = "embedded"))]
            (_, _) => return Err(StartupError::NoEmbeddedStore),
        };
        let bus: Option<Arc<dyn EventBus>> = match (&config.event_bus, &aws) {
            (Some(name), Some(aws)) => {
                let aws = aws.clone();
                let client = OnFirstUse::new(move || aws_sdk_eventbridge::Client::new(&aws));
                Some(Arc::new(EventBridgeBus::new(client, name)))
            }
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
            (Some(queue), Some(dead_letters), Some(aws)) => {
                let aws = aws.clone();
                let client = OnFirstUse::new(move || aws_sdk_sqs::Client::new(&aws));
                Some(Arc::new(
                    SqsQueue::new(client, queue, dead_letters)
                        .with_slow_lane(config.webhooks.slow_queue_url.clone()),
                ))
            }
            _ => None,
        };
        let state = Self::with_environment_keys(store, config, bus, queue, aws.as_ref()).await?;
        if !state.keys().await.admin.is_configured() {
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

    /// The apps' settings as the request layer needs them (allowed origins,
    /// rate limits), cached like the keys.
    pub fn settings(&self) -> &SettingsCache {
        &self.inner.settings
    }

    /// Per-key request counts.
    pub fn key_limits(&self) -> &KeyLimiter {
        &self.inner.key_limits
    }

    /// Client IPs refused for failing to authenticate.
    pub fn failed_auth(&self) -> &FailedAuthLimiter {
        &self.inner.failed_auth
    }

    /// The signing and verifying keys, refreshed when due (see [`crate::secrets`]).
    pub async fn keys(&self) -> Arc<Keys> {
        self.inner.keys.keys().await
    }

    /// After a token was refused: the keys read again, if that was due.
    pub async fn keys_after_refusal(&self) -> Option<Arc<Keys>> {
        self.inner.keys.keys_after_refusal().await
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
