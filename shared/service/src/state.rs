//! The state a function builds once per cold start and lends to every request.

use std::sync::Arc;

use partner_store::Store;

use crate::auth::ApiKeyCache;
use crate::config::{Config, StoreConfig};

#[derive(Debug, Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Store,
    api_keys: ApiKeyCache,
    config: Config,
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("opening the store")]
    Store(#[from] partner_store::StoreError),
}

impl AppState {
    pub fn new(store: Store, config: Config) -> Self {
        Self {
            inner: Arc::new(Inner {
                api_keys: ApiKeyCache::new(config.api_key_cache),
                store,
                config,
            }),
        }
    }

    /// Reads the configuration and opens the store: the whole of a function's init.
    pub async fn from_env() -> Result<Self, StartupError> {
        let config = Config::from_env()?;
        let store = open_store(&config.store).await?;
        Ok(Self::new(store, config))
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn api_keys(&self) -> &ApiKeyCache {
        &self.inner.api_keys
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }
}

/// Opens the configured store (a DynamoDB client is built here, once).
pub async fn open_store(config: &StoreConfig) -> Result<Store, partner_store::StoreError> {
    Ok(match config {
        StoreConfig::DynamoDb { table } => Store::dynamodb(
            partner_store::dynamo::client_from_env().await,
            table.clone(),
        ),
        StoreConfig::Sqlite { path } => Store::sqlite(path)?,
        StoreConfig::Memory => Store::memory()?,
    })
}
