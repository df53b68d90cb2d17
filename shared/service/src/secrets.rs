//! The keys a function signs and verifies tokens with: the admin JWT verifier and
//! the session secret (current and previous).
//!
//! On AWS the two HS256 secrets live in Secrets Manager and only their ARNs are in
//! the function's configuration (`ADMIN_JWT_SECRET_ARN`, `SESSION_SECRET_ARN`), so
//! nobody who can read a function's configuration reads a secret. They are read at
//! init — a missing or unreadable secret fails the cold start, loudly — and read
//! again:
//! - when they are older than `SECRETS_REFRESH_SECONDS` (default 300), so a
//!   rotation reaches warm instances without a redeploy;
//! - when a token fails to verify (at most once per [`REFUSAL_REFRESH_GAP`]), so
//!   an instance that has not yet seen a rotation accepts the tokens a newer
//!   instance signs.
//!
//! The session secret's `AWSPREVIOUS` version keeps verifying after a rotation,
//! until the tokens it signed expire. A refresh that fails keeps the keys in use
//! and is tried again on the next request after [`RETRY_GAP`]: an outage of
//! Secrets Manager never fails a request that the keys in hand can serve.
//!
//! Without ARNs (`partnerctl serve`, tests, plain variables) the keys are fixed.
//!
//! The client has tight time-outs of its own (`client_timeouts`): a refresh runs
//! inside a request, and must leave that request its time.
//!
//! The Secrets Manager source is behind the `secrets-manager` feature, which only
//! the functions that hold secrets (partner, admin) enable: the SDK is then linked
//! into those two binaries alone.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;

use crate::admin_auth::{AdminVerifier, TokenError};
use crate::config::{Config, MIN_SECRET_BYTES, Secret};

/// The least time between two refreshes caused by refused tokens (a flood of bad
/// tokens must not become a flood of Secrets Manager calls).
pub const REFUSAL_REFRESH_GAP: Duration = Duration::from_secs(30);
/// How long a failed refresh waits before the next try.
pub const RETRY_GAP: Duration = Duration::from_secs(10);

/// Where fresh keys come from.
#[async_trait]
pub trait KeySource: Send + Sync + std::fmt::Debug {
    async fn fetch(&self) -> Result<Keys, SecretsError>;
    /// How old fetched keys may get.
    fn refresh_every(&self) -> Duration;
}

/// Secrets Manager answers in tens of milliseconds: a second per attempt, two in
/// all, so a refresh inside a request costs it at most that.
#[cfg(feature = "secrets-manager")]
pub fn client_timeouts() -> aws_sdk_secretsmanager::config::timeout::TimeoutConfig {
    aws_sdk_secretsmanager::config::timeout::TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(1))
        .operation_attempt_timeout(Duration::from_secs(1))
        .operation_timeout(Duration::from_secs(2))
        .build()
}

/// The keys in use.
#[derive(Debug)]
pub struct Keys {
    pub admin: AdminVerifier,
    pub session: Option<Secret>,
    /// The session secret before the last rotation.
    pub session_previous: Option<Secret>,
}

impl Keys {
    pub fn session(&self) -> Option<&str> {
        self.session.as_ref().map(Secret::as_str)
    }

    pub fn session_previous(&self) -> Option<&str> {
        self.session_previous.as_ref().map(Secret::as_str)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error("reading secret {arn} from Secrets Manager: {reason}")]
    Unreadable { arn: String, reason: String },
    #[error("secret {arn} has no current string value (missing, or binary)")]
    Empty { arn: String },
    #[error("secret {arn} is {bytes} bytes; HS256 secrets need at least {MIN_SECRET_BYTES}")]
    TooShort { arn: String, bytes: usize },
    #[error(transparent)]
    AdminJwt(#[from] TokenError),
}

/// Where the secrets come from on AWS.
#[cfg(feature = "secrets-manager")]
#[derive(Debug)]
pub struct SecretsManager {
    client: partner_aws::OnFirstUse<aws_sdk_secretsmanager::Client>,
    admin_jwt_arn: Option<String>,
    session_arn: Option<String>,
    /// Everything else about admin tokens (issuer, audience, public keys).
    admin_jwt: crate::config::AdminJwtConfig,
    /// Used when no session ARN is set.
    session: Option<Secret>,
    session_previous: Option<Secret>,
    refresh_every: Duration,
}

#[cfg(feature = "secrets-manager")]
impl SecretsManager {
    /// The source `config` names, or `None` when it names no ARN.
    pub fn from_config(
        config: &Config,
        client: partner_aws::OnFirstUse<aws_sdk_secretsmanager::Client>,
    ) -> Option<Self> {
        let arns = &config.secret_arns;
        (arns.admin_jwt.is_some() || arns.session.is_some()).then(|| Self {
            client,
            admin_jwt_arn: arns.admin_jwt.clone(),
            session_arn: arns.session.clone(),
            admin_jwt: config.admin_jwt.clone(),
            session: config.session_secret.clone(),
            session_previous: config.session_secret_previous.clone(),
            refresh_every: arns.refresh_every,
        })
    }

    async fn read(&self) -> Result<Keys, SecretsError> {
        let mut admin_jwt = self.admin_jwt.clone();
        if let Some(arn) = &self.admin_jwt_arn {
            admin_jwt.secret = Some(self.required(arn).await?);
        }
        let (session, session_previous) = match &self.session_arn {
            Some(arn) => {
                let (current, previous) =
                    tokio::try_join!(self.required(arn), self.version(arn, "AWSPREVIOUS"))?;
                (Some(Secret(current)), previous.map(Secret))
            }
            None => (self.session.clone(), self.session_previous.clone()),
        };
        Ok(Keys {
            admin: AdminVerifier::from_config(&admin_jwt)?,
            session,
            session_previous,
        })
    }

    /// The current version of `arn`, long enough to sign with.
    async fn required(&self, arn: &str) -> Result<String, SecretsError> {
        let value = self
            .version(arn, "AWSCURRENT")
            .await?
            .ok_or_else(|| SecretsError::Empty {
                arn: arn.to_owned(),
            })?;
        if value.len() < MIN_SECRET_BYTES {
            return Err(SecretsError::TooShort {
                arn: arn.to_owned(),
                bytes: value.len(),
            });
        }
        Ok(value)
    }

    /// The `stage` version of `arn`; `None` when there is none (no rotation yet).
    async fn version(&self, arn: &str, stage: &str) -> Result<Option<String>, SecretsError> {
        match self
            .client
            .get()
            .get_secret_value()
            .secret_id(arn)
            .version_stage(stage)
            .send()
            .await
        {
            Ok(answer) => Ok(answer.secret_string),
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) =>
            {
                Ok(None)
            }
            Err(err) => Err(SecretsError::Unreadable {
                arn: arn.to_owned(),
                reason: aws_sdk_secretsmanager::error::DisplayErrorContext(err).to_string(),
            }),
        }
    }
}

#[cfg(feature = "secrets-manager")]
#[async_trait]
impl KeySource for SecretsManager {
    async fn fetch(&self) -> Result<Keys, SecretsError> {
        self.read().await
    }

    fn refresh_every(&self) -> Duration {
        self.refresh_every
    }
}

/// The keys in use and, on AWS, how to read them again.
#[derive(Debug)]
pub struct KeyRing {
    current: RwLock<Arc<Keys>>,
    source: Option<Box<dyn KeySource>>,
    /// When the keys were read, the last refresh a refused token caused, and the
    /// last failed refresh; held while refreshing so that one call at a time goes
    /// to Secrets Manager.
    refreshes: tokio::sync::Mutex<Refreshes>,
}

#[derive(Debug)]
struct Refreshes {
    read_at: Instant,
    after_refusal: Option<Instant>,
    failed_at: Option<Instant>,
}

impl KeyRing {
    /// Fixed keys: the configuration's own values.
    pub fn fixed(config: &Config) -> Result<Self, TokenError> {
        let keys = Keys {
            admin: AdminVerifier::from_config(&config.admin_jwt)?,
            session: config.session_secret.clone(),
            session_previous: config.session_secret_previous.clone(),
        };
        Ok(Self::holding(keys, None))
    }

    /// Keys read from `source` now (a failure fails the cold start).
    pub async fn read(source: Box<dyn KeySource>) -> Result<Self, SecretsError> {
        let keys = source.fetch().await?;
        Ok(Self::holding(keys, Some(source)))
    }

    fn holding(keys: Keys, source: Option<Box<dyn KeySource>>) -> Self {
        Self {
            current: RwLock::new(Arc::new(keys)),
            source,
            refreshes: tokio::sync::Mutex::new(Refreshes {
                read_at: Instant::now(),
                after_refusal: None,
                failed_at: None,
            }),
        }
    }

    /// The keys, read again first when they are older than the refresh interval.
    pub async fn keys(&self) -> Arc<Keys> {
        if let Some(source) = &self.source {
            let mut refreshes = self.refreshes.lock().await;
            if refreshes.read_at.elapsed() >= source.refresh_every() && refreshes.may_retry() {
                self.refresh(source.as_ref(), &mut refreshes).await;
            }
        }
        self.in_use()
    }

    /// After a token failed to verify with the keys in use: reads them again (at
    /// most once per [`REFUSAL_REFRESH_GAP`]) and returns them when it did.
    pub async fn keys_after_refusal(&self) -> Option<Arc<Keys>> {
        let source = self.source.as_ref()?;
        let mut refreshes = self.refreshes.lock().await;
        if refreshes
            .after_refusal
            .is_some_and(|at| at.elapsed() < REFUSAL_REFRESH_GAP)
            || !refreshes.may_retry()
        {
            return None;
        }
        refreshes.after_refusal = Some(Instant::now());
        let before = self.in_use();
        self.refresh(source.as_ref(), &mut refreshes).await;
        let after = self.in_use();
        (!Arc::ptr_eq(&before, &after)).then_some(after)
    }

    fn in_use(&self) -> Arc<Keys> {
        match self.current.read() {
            Ok(keys) => keys.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    async fn refresh(&self, source: &dyn KeySource, refreshes: &mut Refreshes) {
        match source.fetch().await {
            Ok(keys) => {
                let keys = Arc::new(keys);
                match self.current.write() {
                    Ok(mut current) => *current = keys,
                    Err(poisoned) => *poisoned.into_inner() = keys,
                }
                refreshes.read_at = Instant::now();
                refreshes.failed_at = None;
            }
            Err(err) => {
                tracing::warn!(error = %err, "secrets not refreshed; the keys in use stay");
                refreshes.failed_at = Some(Instant::now());
            }
        }
    }
}

impl Refreshes {
    fn may_retry(&self) -> bool {
        self.failed_at.is_none_or(|at| at.elapsed() >= RETRY_GAP)
    }
}
