//! Admin JWTs: minted by `partnerctl token admin`, verified on every admin route.
//!
//! The verifier accepts exactly the algorithms it has keys for: HS256 with
//! `ADMIN_JWT_SECRET`, RS256 or ES256 with a PEM public key (`ADMIN_JWT_PUBLIC_KEY`,
//! `ADMIN_JWT_ALGORITHM`), or the keys of a JWKS document (`ADMIN_JWT_JWKS`, chosen
//! by `kid`). `exp`, `iss` and `aud` are required and checked; `alg: none` and
//! algorithm confusion are refused because the algorithm list is explicit per key.
//! The `app_ids` array claim lists the apps a token may administer.

use std::time::Duration;

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use partner_domain::AppId;
use partner_domain::audit::Actor;
use serde::{Deserialize, Serialize};

use crate::config::AdminJwtConfig;
use crate::{ApiError, AppState};

/// The claims of an admin token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminClaims {
    pub iss: String,
    pub aud: String,
    #[serde(default)]
    pub sub: String,
    #[serde(default)]
    pub iat: u64,
    pub exp: u64,
    /// Not before (optional): checked when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    /// The apps this token may administer.
    #[serde(default)]
    pub app_ids: Vec<String>,
    /// A unique id, so no two minted tokens are alike (a console login token
    /// is used once, recognised by its hash).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
}

impl AdminClaims {
    pub fn grants(&self, app: &AppId) -> bool {
        self.app_ids.iter().any(|granted| granted == app.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("no admin JWT secret is configured")]
    NoSecret,
    #[error("no key is configured for this token")]
    NoKey,
    #[error("the admin JWT key configuration is invalid: {0}")]
    BadKey(String),
    #[error("the token is not valid: {0}")]
    Invalid(#[from] jsonwebtoken::errors::Error),
    /// Valid for longer than `ADMIN_JWT_MAX_LIFETIME_SECONDS`: a leaked token must
    /// not work for long.
    #[error("the token lives longer than the {0} s allowed")]
    TooLong(u64),
    #[error("the token was issued in the future")]
    IssuedInTheFuture,
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The audience of console login tokens: the admin audience's, marked, so the
/// admin API (which accepts exactly its own) refuses them.
pub fn console_login_audience(admin_audience: &str) -> String {
    format!("{admin_audience}:console-login")
}

/// Signs an HS256 admin token for `apps`, valid for `ttl`.
pub fn mint(
    config: &AdminJwtConfig,
    subject: &str,
    apps: &[AppId],
    ttl: Duration,
) -> Result<String, TokenError> {
    mint_for(config, &config.audience, subject, apps, ttl)
}

/// Signs an HS256 console login token (see [`console_login_audience`]).
pub fn mint_console_login(
    config: &AdminJwtConfig,
    subject: &str,
    apps: &[AppId],
    ttl: Duration,
) -> Result<String, TokenError> {
    mint_for(
        config,
        &console_login_audience(&config.audience),
        subject,
        apps,
        ttl,
    )
}

fn mint_for(
    config: &AdminJwtConfig,
    audience: &str,
    subject: &str,
    apps: &[AppId],
    ttl: Duration,
) -> Result<String, TokenError> {
    let secret = config.secret.as_deref().ok_or(TokenError::NoSecret)?;
    if ttl.as_secs() > config.max_lifetime_seconds {
        return Err(TokenError::TooLong(config.max_lifetime_seconds));
    }
    let now = unix_now();
    let claims = AdminClaims {
        iss: config.issuer.clone(),
        aud: audience.to_owned(),
        sub: subject.to_owned(),
        iat: now,
        exp: now + ttl.as_secs(),
        nbf: None,
        app_ids: apps.iter().map(|a| a.to_string()).collect(),
        jti: Some(partner_domain::api_key::random_base62(16)),
    };
    crate::jwt_crypto::install();
    Ok(jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )?)
}

struct VerifyingKey {
    algorithm: Algorithm,
    kid: Option<String>,
    key: DecodingKey,
}

/// The configured keys, parsed once per cold start.
pub struct AdminVerifier {
    keys: Vec<VerifyingKey>,
    issuer: String,
    audience: String,
    max_lifetime_seconds: u64,
}

/// Clock skew tolerated between the token's issuer and us (seconds).
const LEEWAY_SECONDS: u64 = 30;

impl std::fmt::Debug for AdminVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let algorithms: Vec<_> = self.keys.iter().map(|k| k.algorithm).collect();
        f.debug_struct("AdminVerifier")
            .field("algorithms", &algorithms)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish()
    }
}

impl AdminVerifier {
    pub fn from_config(config: &AdminJwtConfig) -> Result<Self, TokenError> {
        let mut keys = Vec::new();
        if let Some(secret) = &config.secret {
            keys.push(VerifyingKey {
                algorithm: Algorithm::HS256,
                kid: None,
                key: DecodingKey::from_secret(secret.as_bytes()),
            });
        }
        if let Some(pem) = &config.public_key_pem {
            let (algorithm, key) = match config.public_key_algorithm.as_deref().unwrap_or("RS256") {
                "RS256" => (Algorithm::RS256, DecodingKey::from_rsa_pem(pem.as_bytes())),
                "ES256" => (Algorithm::ES256, DecodingKey::from_ec_pem(pem.as_bytes())),
                other => {
                    return Err(TokenError::BadKey(format!(
                        "unsupported ADMIN_JWT_ALGORITHM {other}"
                    )));
                }
            };
            keys.push(VerifyingKey {
                algorithm,
                kid: None,
                key: key.map_err(|e| TokenError::BadKey(e.to_string()))?,
            });
        }
        if let Some(jwks) = &config.jwks {
            let set: JwkSet =
                serde_json::from_str(jwks).map_err(|e| TokenError::BadKey(e.to_string()))?;
            for jwk in &set.keys {
                let algorithm = match jwk.common.key_algorithm {
                    Some(jsonwebtoken::jwk::KeyAlgorithm::RS256) => Algorithm::RS256,
                    Some(jsonwebtoken::jwk::KeyAlgorithm::ES256) => Algorithm::ES256,
                    // Keys without an explicit RS256/ES256 `alg` are not trusted for anything.
                    _ => continue,
                };
                keys.push(VerifyingKey {
                    algorithm,
                    kid: jwk.common.key_id.clone(),
                    key: DecodingKey::from_jwk(jwk)
                        .map_err(|e| TokenError::BadKey(e.to_string()))?,
                });
            }
        }
        Ok(Self {
            keys,
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
            max_lifetime_seconds: config.max_lifetime_seconds,
        })
    }

    pub fn is_configured(&self) -> bool {
        !self.keys.is_empty()
    }

    /// Verifies signature, algorithm, issuer, audience and expiry.
    pub fn verify(&self, token: &str) -> Result<AdminClaims, TokenError> {
        self.verify_for(token, &self.audience)
    }

    /// [`AdminVerifier::verify`] for a console login token (`partnerctl console`):
    /// the same rules with its own audience, so a login link is no admin API token.
    pub fn verify_console_login(&self, token: &str) -> Result<AdminClaims, TokenError> {
        self.verify_for(token, &console_login_audience(&self.audience))
    }

    fn verify_for(&self, token: &str, audience: &str) -> Result<AdminClaims, TokenError> {
        crate::jwt_crypto::install();
        let header = jsonwebtoken::decode_header(token)?;
        // Keys named by the token's `kid` first, then keys without a `kid`; only keys of
        // the token's algorithm, and each only with that algorithm.
        let named = self
            .keys
            .iter()
            .filter(|k| k.algorithm == header.alg && k.kid.is_some() && k.kid == header.kid);
        let unnamed = self
            .keys
            .iter()
            .filter(|k| k.algorithm == header.alg && k.kid.is_none());
        let mut last_error = TokenError::NoKey;
        for key in named.chain(unnamed) {
            let mut validation = Validation::new(key.algorithm);
            validation.algorithms = vec![key.algorithm];
            validation.set_required_spec_claims(&["exp", "iss", "aud"]);
            validation.set_issuer(&[&self.issuer]);
            validation.set_audience(&[audience]);
            validation.leeway = LEEWAY_SECONDS;
            validation.validate_nbf = true;
            match jsonwebtoken::decode::<AdminClaims>(token, &key.key, &validation) {
                Ok(data) => return self.check_lifetime(data.claims),
                Err(err) => last_error = err.into(),
            }
        }
        Err(last_error)
    }

    /// A token issued in the future, or valid for longer than allowed (counted from
    /// its `iat`, or from now when it has none), is refused.
    fn check_lifetime(&self, claims: AdminClaims) -> Result<AdminClaims, TokenError> {
        let now = unix_now();
        if claims.iat > now + LEEWAY_SECONDS {
            return Err(TokenError::IssuedInTheFuture);
        }
        let from = if claims.iat > 0 { claims.iat } else { now };
        if claims.exp.saturating_sub(from)
            > self.max_lifetime_seconds.saturating_add(LEEWAY_SECONDS)
        {
            return Err(TokenError::TooLong(self.max_lifetime_seconds));
        }
        Ok(claims)
    }
}

/// The app an admin request acts on: the `{appId}` of the path, granted by a valid
/// admin token. 401 without a valid token, 403 when the token does not grant the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminApp {
    pub app_id: AppId,
    pub subject: String,
}

impl AdminApp {
    /// Who the audit log says made a change with this token: `admin:<sub>`.
    pub fn actor(&self) -> Actor {
        Actor::admin(&self.subject)
    }
}

impl FromRequestParts<AppState> for AdminApp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = crate::auth::bearer_token(&parts.headers).ok_or_else(|| {
            ApiError::unauthorized("Send an admin JWT as Authorization: Bearer <token>.")
        })?;
        let claims = match state.keys().await.admin.verify(token) {
            Ok(claims) => claims,
            // Perhaps signed with a secret rotated in since this instance read it.
            Err(err) => match state.keys_after_refusal().await {
                Some(keys) => keys.admin.verify(token),
                None => Err(err),
            }
            .map_err(|err| {
                tracing::info!(reason = %err, "admin token refused");
                ApiError::unauthorized("The admin token is not valid.")
            })?,
        };
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::not_found("route_not_found", "No such endpoint."))?;
        let raw = params
            .iter()
            .find(|(name, _)| *name == "appId")
            .map(|(_, value)| value.to_owned())
            .unwrap_or_default();
        let app_id = AppId::parse("appId", &raw)?;
        if !claims.grants(&app_id) {
            return Err(ApiError::forbidden(
                "forbidden",
                "The admin token does not grant this app.",
            ));
        }
        crate::http::note_app(&parts.extensions, app_id.as_str());
        Ok(AdminApp {
            app_id,
            subject: claims.sub,
        })
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod properties;
