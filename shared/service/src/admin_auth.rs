//! Admin JWTs: minted by `partnerctl token admin`, checked on admin routes.
//!
//! Tokens are HS256 with `ADMIN_JWT_SECRET`; `iss`, `aud` and `exp` are required and
//! checked, the algorithm list is explicit (so `alg: none` or an RS/HS confusion is
//! refused), and the `app_ids` claim lists the apps the token may administer.

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use partner_domain::AppId;
use serde::{Deserialize, Serialize};

use crate::config::AdminJwtConfig;

/// The claims of an admin token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminClaims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub iat: u64,
    pub exp: u64,
    /// The apps this token may administer.
    pub app_ids: Vec<String>,
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
    #[error("the token is not valid: {0}")]
    Invalid(#[from] jsonwebtoken::errors::Error),
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Signs an admin token for `apps`, valid for `ttl`.
pub fn mint(
    config: &AdminJwtConfig,
    subject: &str,
    apps: &[AppId],
    ttl: Duration,
) -> Result<String, TokenError> {
    let secret = config.secret.as_deref().ok_or(TokenError::NoSecret)?;
    let now = unix_now();
    let claims = AdminClaims {
        iss: config.issuer.clone(),
        aud: config.audience.clone(),
        sub: subject.to_owned(),
        iat: now,
        exp: now + ttl.as_secs(),
        app_ids: apps.iter().map(|a| a.to_string()).collect(),
    };
    Ok(jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )?)
}

/// Verifies a token's signature, algorithm, issuer, audience and expiry.
pub fn verify(config: &AdminJwtConfig, token: &str) -> Result<AdminClaims, TokenError> {
    let secret = config.secret.as_deref().ok_or(TokenError::NoSecret)?;
    let mut validation = Validation::new(Algorithm::HS256);
    validation.algorithms = vec![Algorithm::HS256];
    validation.set_required_spec_claims(&["exp", "iss", "aud"]);
    validation.set_issuer(&[&config.issuer]);
    validation.set_audience(&[&config.audience]);
    validation.leeway = 30;
    let data = jsonwebtoken::decode::<AdminClaims>(
        token,
        &DecodingKey::from_secret(secret.as_bytes()),
        &validation,
    )?;
    Ok(data.claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(secret: &str) -> AdminJwtConfig {
        AdminJwtConfig {
            secret: Some(secret.to_owned()),
            issuer: "partner-program".into(),
            audience: "partner-program-admin".into(),
        }
    }

    #[test]
    fn a_minted_token_verifies_and_grants_its_app_only() {
        let app = AppId::generate();
        let token = mint(
            &config("s3cret"),
            "ops",
            std::slice::from_ref(&app),
            Duration::from_secs(60),
        )
        .unwrap();
        let claims = verify(&config("s3cret"), &token).unwrap();
        assert!(claims.grants(&app));
        assert!(!claims.grants(&AppId::generate()));
    }

    #[test]
    fn a_token_signed_with_another_secret_is_refused() {
        let token = mint(
            &config("one"),
            "ops",
            &[AppId::generate()],
            Duration::from_secs(60),
        )
        .unwrap();
        assert!(verify(&config("two"), &token).is_err());
    }

    #[test]
    fn a_token_for_another_audience_or_issuer_is_refused() {
        let token = mint(
            &config("s"),
            "ops",
            &[AppId::generate()],
            Duration::from_secs(60),
        )
        .unwrap();
        let mut other_aud = config("s");
        other_aud.audience = "someone-else".into();
        assert!(verify(&other_aud, &token).is_err());
        let mut other_iss = config("s");
        other_iss.issuer = "someone-else".into();
        assert!(verify(&other_iss, &token).is_err());
    }

    #[test]
    fn an_unsigned_token_is_refused() {
        use base64::Engine as _;
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let header = engine.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let claims = engine.encode(
            format!(r#"{{"iss":"partner-program","aud":"partner-program-admin","sub":"x","iat":0,"exp":{},"app_ids":[]}}"#, unix_now() + 60)
                .as_bytes(),
        );
        assert!(verify(&config("s"), &format!("{header}.{claims}.")).is_err());
    }
}
