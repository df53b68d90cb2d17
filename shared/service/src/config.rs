//! Configuration read from the environment once per process.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `PARTNER_STORE` | `dynamodb`, `sqlite` or `memory` | `dynamodb` if `TABLE_NAME` is set, else `sqlite` |
//! | `TABLE_NAME` | the DynamoDB table | — |
//! | `PARTNER_DATA_DIR` | where the embedded store keeps `store.sqlite3` | `.partner` |
//! | `API_KEY_CACHE_SECONDS` | how long a warm function trusts a verified API key | `60` |
//! | `ADMIN_JWT_SECRET` | HS256 secret for admin tokens | — (partnerctl keeps one in the data dir) |
//! | `ADMIN_JWT_PUBLIC_KEY` | PEM public key for RS256/ES256 admin tokens | — |
//! | `ADMIN_JWT_ALGORITHM` | `RS256` or `ES256`, for `ADMIN_JWT_PUBLIC_KEY` | `RS256` |
//! | `ADMIN_JWT_JWKS` | a JWKS document (JSON) whose RS256/ES256 keys verify admin tokens | — |
//! | `EVENT_BUS_NAME` | the EventBridge bus events are published to | — (events wait in the outbox) |
//! | `OUTBOX_RELAY_GRACE_SECONDS` | how long the relay leaves an event to its publisher | `30` |
//! | `SESSION_SECRET` | HS256 secret of customer session tokens and portal links | — (partnerctl keeps one in the data dir) |
//! | `SESSION_SECRET_PREVIOUS` | the session secret before a rotation; its tokens verify until they expire | — |
//! | `PUBLIC_BASE_URL` | the public address portal links and the Stripe endpoint URL point to | — (partnerctl serve: its own address) |
//! | `WEBHOOK_QUEUE_URL` / `WEBHOOK_DLQ_URL` | the webhook queue and its dead-letter queue | — |
//! | `WEBHOOK_SLOW_QUEUE_URL` | the webhook slow lane's queue (the dispatcher) | the main queue |
//! | `WEBHOOK_RETRY_SCHEDULE` | seconds between attempts, comma-separated | `5,300,1800,7200,18000,36000,36000` |
//! | `WEBHOOK_TIMEOUT_SECONDS` | time-out of one delivery attempt | `15` |
//! | `MAX_WEBHOOK_ENDPOINTS` | webhook endpoints one app may have | `20` |
//! | `WEBHOOK_ALLOW_PRIVATE_TARGETS` | `true` allows private/loopback targets (local development only) | `false` |
//! | `ADMIN_JWT_ISSUER` | required `iss` of admin tokens | `partner-program` |
//! | `ADMIN_JWT_AUDIENCE` | required `aud` of admin tokens | `partner-program-admin` |
//! | `ADMIN_JWT_MAX_LIFETIME_SECONDS` | longest `exp - iat` an admin token may have | `86400` |
//!
//! `ADMIN_JWT_SECRET` and `SESSION_SECRET` must be at least 32 bytes: a shorter one
//! stops the function at start with a message naming the variable.

use std::path::PathBuf;
use std::time::Duration;

pub const DEFAULT_DATA_DIR: &str = ".partner";
pub const STORE_FILE: &str = "store.sqlite3";
pub const DEFAULT_ADMIN_ISSUER: &str = "partner-program";
/// Where `partnerctl` keeps generated local secrets, inside the data directory.
pub const ADMIN_JWT_SECRET_FILE: &str = "admin-jwt-secret";
pub const SESSION_SECRET_FILE: &str = "session-secret";
pub const DEFAULT_ADMIN_AUDIENCE: &str = "partner-program-admin";
const DEFAULT_API_KEY_CACHE: Duration = Duration::from_secs(60);
const DEFAULT_RELAY_GRACE: Duration = Duration::from_secs(30);

fn seconds(name: &'static str, default: Duration) -> Result<Duration, ConfigError> {
    match var(name) {
        None => Ok(default),
        Some(raw) => raw
            .parse()
            .map(Duration::from_secs)
            .map_err(|_| ConfigError::Invalid {
                name,
                value: raw,
                expected: "a whole number of seconds",
            }),
    }
}

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
    #[error("{name} is {bytes} bytes long; it must be at least {MIN_SECRET_BYTES} random bytes")]
    TooShort { name: &'static str, bytes: usize },
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
    pub public_key_pem: Option<String>,
    pub public_key_algorithm: Option<String>,
    pub jwks: Option<String>,
    pub issuer: String,
    pub audience: String,
    /// The longest lifetime an admin token may have (`exp - iat`).
    pub max_lifetime_seconds: u64,
}

/// Admin tokens live at most a day unless the operator says otherwise.
pub const DEFAULT_ADMIN_MAX_LIFETIME_SECONDS: u64 = 24 * 3600;
/// The shortest HS256 secret accepted (the hash's own size: shorter secrets make
/// tokens easier to forge by guessing).
pub const MIN_SECRET_BYTES: usize = 32;

impl std::fmt::Debug for AdminJwtConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminJwtConfig")
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field("public_key", &self.public_key_pem.is_some())
            .field("jwks", &self.jwks.is_some())
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish()
    }
}

impl AdminJwtConfig {
    pub fn from_env() -> Self {
        Self {
            secret: var("ADMIN_JWT_SECRET"),
            public_key_pem: var("ADMIN_JWT_PUBLIC_KEY"),
            public_key_algorithm: var("ADMIN_JWT_ALGORITHM"),
            jwks: var("ADMIN_JWT_JWKS"),
            issuer: var("ADMIN_JWT_ISSUER").unwrap_or_else(|| DEFAULT_ADMIN_ISSUER.to_owned()),
            audience: var("ADMIN_JWT_AUDIENCE")
                .unwrap_or_else(|| DEFAULT_ADMIN_AUDIENCE.to_owned()),
            max_lifetime_seconds: var("ADMIN_JWT_MAX_LIFETIME_SECONDS")
                .and_then(|v| v.parse().ok())
                .unwrap_or(DEFAULT_ADMIN_MAX_LIFETIME_SECONDS),
        }
    }

    /// No keys, default issuer and audience.
    pub fn defaults() -> Self {
        Self {
            secret: None,
            public_key_pem: None,
            public_key_algorithm: None,
            jwks: None,
            issuer: DEFAULT_ADMIN_ISSUER.to_owned(),
            audience: DEFAULT_ADMIN_AUDIENCE.to_owned(),
            max_lifetime_seconds: DEFAULT_ADMIN_MAX_LIFETIME_SECONDS,
        }
    }
}

/// A secret from the configuration: `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl Secret {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Everything a function reads from its environment.
#[derive(Debug, Clone)]
pub struct Config {
    pub store: StoreConfig,
    pub api_key_cache: Duration,
    pub admin_jwt: AdminJwtConfig,
    pub event_bus: Option<String>,
    /// How old an unpublished event must be before the relay takes it over.
    pub relay_grace: Duration,
    pub webhooks: WebhookConfig,
    pub session_secret: Option<Secret>,
    /// The secret before the last rotation: its tokens verify until they expire.
    pub session_secret_previous: Option<Secret>,
    /// Where the secrets are on AWS, in place of the two above.
    pub secret_arns: SecretArns,
    pub public_base_url: Option<String>,
    pub rate_limits: RateLimitConfig,
}

/// The operator's side of rate limiting (each app's own limits are settings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitConfig {
    /// `FAILED_AUTH_LIMIT_PER_MINUTE`: requests refused for their credentials one
    /// client IP may make per minute before it is refused outright (429). Not an
    /// app setting: an unknown key names no app.
    pub failed_auth_per_minute: u32,
    /// `RATE_LIMIT_SYNC_EVERY`: an instance adds its count of a key's requests to
    /// the shared counter every this many requests (1: every request).
    pub key_sync_every: u32,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            failed_auth_per_minute: 30,
            key_sync_every: 50,
        }
    }
}

impl RateLimitConfig {
    fn from_env() -> Result<Self, ConfigError> {
        let defaults = Self::default();
        Ok(Self {
            failed_auth_per_minute: whole(
                "FAILED_AUTH_LIMIT_PER_MINUTE",
                defaults.failed_auth_per_minute,
            )?,
            key_sync_every: whole("RATE_LIMIT_SYNC_EVERY", defaults.key_sync_every)?.max(1),
        })
    }
}

/// A positive whole number from the environment, or `default`.
fn whole(name: &'static str, default: u32) -> Result<u32, ConfigError> {
    match var(name) {
        None => Ok(default),
        Some(raw) => raw
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .ok_or(ConfigError::Invalid {
                name,
                value: raw,
                expected: "a whole number above 0",
            }),
    }
}

/// Secrets Manager secrets holding the HS256 secrets (see `crate::secrets`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretArns {
    /// `ADMIN_JWT_SECRET_ARN`: the admin JWT secret.
    pub admin_jwt: Option<String>,
    /// `SESSION_SECRET_ARN`: the session secret (its `AWSPREVIOUS` version is the
    /// previous secret).
    pub session: Option<String>,
    /// `SECRETS_REFRESH_SECONDS`: how old read secrets may get.
    pub refresh_every: Duration,
}

/// How often secrets are read again by default: a rotation reaches every warm
/// instance within five minutes.
pub const DEFAULT_SECRETS_REFRESH: Duration = Duration::from_secs(300);

impl SecretArns {
    pub fn none() -> Self {
        Self {
            admin_jwt: None,
            session: None,
            refresh_every: DEFAULT_SECRETS_REFRESH,
        }
    }

    fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            admin_jwt: var("ADMIN_JWT_SECRET_ARN"),
            session: var("SESSION_SECRET_ARN"),
            // Never more often than every 30 s: each refresh is a call in a request.
            refresh_every: seconds("SECRETS_REFRESH_SECONDS", DEFAULT_SECRETS_REFRESH)?
                .max(Duration::from_secs(30)),
        })
    }
}

/// How webhooks are delivered.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookConfig {
    pub queue_url: Option<String>,
    /// `WEBHOOK_SLOW_QUEUE_URL`: the slow lane's queue (endpoints that are new,
    /// failing or slow); without it, slow-lane messages share the main queue.
    pub slow_queue_url: Option<String>,
    pub dead_letter_url: Option<String>,
    pub retry_schedule: partner_domain::webhooks::RetrySchedule,
    pub timeout: Duration,
    /// Local development only: lets endpoints on loopback and private networks in.
    pub allow_private_targets: bool,
    /// Webhook endpoints one app may have (`MAX_WEBHOOK_ENDPOINTS`).
    pub max_endpoints_per_app: usize,
}

/// Webhook endpoints per app unless the operator says otherwise.
pub const DEFAULT_MAX_WEBHOOK_ENDPOINTS: usize = 20;

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            queue_url: None,
            slow_queue_url: None,
            dead_letter_url: None,
            retry_schedule: partner_domain::webhooks::RetrySchedule::default(),
            timeout: Duration::from_secs(15),
            allow_private_targets: false,
            max_endpoints_per_app: DEFAULT_MAX_WEBHOOK_ENDPOINTS,
        }
    }
}

impl WebhookConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        let retry_schedule = match var("WEBHOOK_RETRY_SCHEDULE") {
            None => partner_domain::webhooks::RetrySchedule::default(),
            Some(raw) => partner_domain::webhooks::RetrySchedule::parse(&raw).map_err(|_| {
                ConfigError::Invalid {
                    name: "WEBHOOK_RETRY_SCHEDULE",
                    value: raw,
                    expected: "comma-separated seconds, like 5,300,1800",
                }
            })?,
        };
        let allow_private_targets = match var("WEBHOOK_ALLOW_PRIVATE_TARGETS").as_deref() {
            None | Some("false") | Some("0") => false,
            Some("true") | Some("1") => true,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    name: "WEBHOOK_ALLOW_PRIVATE_TARGETS",
                    value: other.to_owned(),
                    expected: "true or false",
                });
            }
        };
        Ok(Self {
            queue_url: var("WEBHOOK_QUEUE_URL"),
            slow_queue_url: var("WEBHOOK_SLOW_QUEUE_URL"),
            dead_letter_url: var("WEBHOOK_DLQ_URL"),
            retry_schedule,
            timeout: seconds("WEBHOOK_TIMEOUT_SECONDS", Duration::from_secs(15))?,
            allow_private_targets,
            max_endpoints_per_app: match var("MAX_WEBHOOK_ENDPOINTS") {
                None => DEFAULT_MAX_WEBHOOK_ENDPOINTS,
                Some(raw) => raw.parse().map_err(|_| ConfigError::Invalid {
                    name: "MAX_WEBHOOK_ENDPOINTS",
                    value: raw,
                    expected: "a whole number",
                })?,
            },
        })
    }
}

/// Reads a secret `partnerctl` keeps in the embedded store's data directory, so
/// functions run locally (`cargo lambda watch`) accept the tokens it mints.
fn data_dir_secret(store: &StoreConfig, file: &str) -> Option<String> {
    let StoreConfig::Sqlite { path } = store else {
        return None;
    };
    let secret = std::fs::read_to_string(path.parent()?.join(file)).ok()?;
    let secret = secret.trim();
    (!secret.is_empty()).then(|| secret.to_owned())
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_env_with_store(StoreConfig::from_env()?)
    }

    /// The environment's configuration on `store` (which a command line may have
    /// chosen): the local secrets fallback reads `store`'s data directory, never
    /// the one the environment would have named.
    pub fn from_env_with_store(store: StoreConfig) -> Result<Self, ConfigError> {
        let api_key_cache = seconds("API_KEY_CACHE_SECONDS", DEFAULT_API_KEY_CACHE)?;
        let mut config = Self {
            store,
            api_key_cache,
            admin_jwt: AdminJwtConfig::from_env(),
            event_bus: var("EVENT_BUS_NAME"),
            relay_grace: seconds("OUTBOX_RELAY_GRACE_SECONDS", DEFAULT_RELAY_GRACE)?,
            webhooks: WebhookConfig::from_env()?,
            session_secret: var("SESSION_SECRET").map(Secret),
            session_secret_previous: var("SESSION_SECRET_PREVIOUS").map(Secret),
            secret_arns: SecretArns::from_env()?,
            public_base_url: var("PUBLIC_BASE_URL").map(|u| u.trim_end_matches('/').to_owned()),
            rate_limits: RateLimitConfig::from_env()?,
        };
        config.check_secrets()?;
        // Locally, fall back to the secrets partnerctl generated in the data directory.
        if config.admin_jwt.secret.is_none() {
            config.admin_jwt.secret = data_dir_secret(&config.store, ADMIN_JWT_SECRET_FILE);
        }
        if config.session_secret.is_none() {
            config.session_secret = data_dir_secret(&config.store, SESSION_SECRET_FILE).map(Secret);
        }
        Ok(config)
    }

    /// Refuses configured HS256 secrets shorter than [`MIN_SECRET_BYTES`].
    pub fn check_secrets(&self) -> Result<(), ConfigError> {
        for (name, secret) in [
            ("ADMIN_JWT_SECRET", self.admin_jwt.secret.as_deref()),
            (
                "SESSION_SECRET",
                self.session_secret.as_ref().map(Secret::as_str),
            ),
        ] {
            if let Some(secret) = secret
                && secret.len() < MIN_SECRET_BYTES
            {
                return Err(ConfigError::TooShort {
                    name,
                    bytes: secret.len(),
                });
            }
        }
        Ok(())
    }

    /// Defaults for tests and embedded use: an API key cache, default JWT settings.
    pub fn for_store(store: StoreConfig) -> Self {
        Self {
            store,
            api_key_cache: DEFAULT_API_KEY_CACHE,
            admin_jwt: AdminJwtConfig::defaults(),
            event_bus: None,
            relay_grace: DEFAULT_RELAY_GRACE,
            webhooks: WebhookConfig::default(),
            session_secret: None,
            session_secret_previous: None,
            secret_arns: SecretArns::none(),
            public_base_url: None,
            rate_limits: RateLimitConfig::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_of_31_bytes_stops_startup_naming_the_variable() {
        let mut config = Config::for_store(StoreConfig::Memory);
        config.session_secret = Some(Secret("s".repeat(31)));
        let err = config.check_secrets().unwrap_err().to_string();
        assert!(
            err.contains("SESSION_SECRET") && err.contains("31 bytes"),
            "{err}"
        );
        config.session_secret = Some(Secret("s".repeat(32)));
        config.admin_jwt.secret = Some("a".repeat(31));
        let err = config.check_secrets().unwrap_err().to_string();
        assert!(err.contains("ADMIN_JWT_SECRET"), "{err}");
        config.admin_jwt.secret = Some("a".repeat(32));
        assert!(config.check_secrets().is_ok());
    }
}
