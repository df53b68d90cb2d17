//! Configuration read from the environment once per process.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `PARTNER_STORE` | `dynamodb`, `sqlite` or `memory` | `dynamodb` if `TABLE_NAME` is set, else `sqlite` |
//! | `TABLE_NAME` | the DynamoDB table | — |
//! | `PARTNER_DATA_DIR` | where the embedded store keeps `store.sqlite3` | `.partner` |
//! | `API_KEY_CACHE_SECONDS` | how long a warm function trusts a verified API key | `60` |
//! | `ADMIN_JWT_SECRET` | HS256 secret for admin tokens | — (partnerctl keeps one in the data dir) |
//! | `ADMIN_JWT_ISSUER` | required `iss` of admin tokens | `partner-program` |
//! | `ADMIN_JWT_AUDIENCE` | required `aud` of admin tokens | `partner-program-admin` |

use std::path::PathBuf;
use std::time::Duration;

pub const DEFAULT_DATA_DIR: &str = ".partner";
pub const STORE_FILE: &str = "store.sqlite3";
pub const DEFAULT_ADMIN_ISSUER: &str = "partner-program";
pub const DEFAULT_ADMIN_AUDIENCE: &str = "partner-program-admin";
const DEFAULT_API_KEY_CACHE: Duration = Duration::from_secs(60);

/// Where the data lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreConfig {
    DynamoDb { table: String },
    Sqlite { path: PathBuf },
    Memory,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{name} is {value:?}; expected {expected}")]
    Invalid {
        name: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error("{0} must be set")]
    Missing(&'static str),
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl StoreConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        let data_dir = var("PARTNER_DATA_DIR").unwrap_or_else(|| DEFAULT_DATA_DIR.to_owned());
        let sqlite = || StoreConfig::Sqlite {
            path: PathBuf::from(&data_dir).join(STORE_FILE),
        };
        match var("PARTNER_STORE").as_deref() {
            Some("dynamodb") => Ok(StoreConfig::DynamoDb {
                table: var("TABLE_NAME").ok_or(ConfigError::Missing("TABLE_NAME"))?,
            }),
            Some("sqlite") => Ok(sqlite()),
            Some("memory") => Ok(StoreConfig::Memory),
            Some(other) => Err(ConfigError::Invalid {
                name: "PARTNER_STORE",
                value: other.to_owned(),
                expected: "dynamodb, sqlite or memory",
            }),
            None => Ok(match var("TABLE_NAME") {
                Some(table) => StoreConfig::DynamoDb { table },
                None => sqlite(),
            }),
        }
    }
}

/// How admin JWTs are checked (and, by `partnerctl`, minted).
#[derive(Clone, PartialEq, Eq)]
pub struct AdminJwtConfig {
    pub secret: Option<String>,
    pub issuer: String,
    pub audience: String,
}

impl std::fmt::Debug for AdminJwtConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminJwtConfig")
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish()
    }
}

impl AdminJwtConfig {
    pub fn from_env() -> Self {
        Self {
            secret: var("ADMIN_JWT_SECRET"),
            issuer: var("ADMIN_JWT_ISSUER").unwrap_or_else(|| DEFAULT_ADMIN_ISSUER.to_owned()),
            audience: var("ADMIN_JWT_AUDIENCE")
                .unwrap_or_else(|| DEFAULT_ADMIN_AUDIENCE.to_owned()),
        }
    }
}

/// Everything a function reads from its environment.
#[derive(Debug, Clone)]
pub struct Config {
    pub store: StoreConfig,
    pub api_key_cache: Duration,
    pub admin_jwt: AdminJwtConfig,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        let api_key_cache = match var("API_KEY_CACHE_SECONDS") {
            None => DEFAULT_API_KEY_CACHE,
            Some(raw) => Duration::from_secs(raw.parse().map_err(|_| ConfigError::Invalid {
                name: "API_KEY_CACHE_SECONDS",
                value: raw,
                expected: "a whole number of seconds",
            })?),
        };
        Ok(Self {
            store: StoreConfig::from_env()?,
            api_key_cache,
            admin_jwt: AdminJwtConfig::from_env(),
        })
    }

    /// Defaults for tests and embedded use: an API key cache, default JWT settings.
    pub fn for_store(store: StoreConfig) -> Self {
        Self {
            store,
            api_key_cache: DEFAULT_API_KEY_CACHE,
            admin_jwt: AdminJwtConfig {
                secret: None,
                issuer: DEFAULT_ADMIN_ISSUER.to_owned(),
                audience: DEFAULT_ADMIN_AUDIENCE.to_owned(),
            },
        }
    }
}
