//! Partner session tokens, portal links and admin console sessions.
//!
//! A session token (`POST /v1/sessions`, minted with the app's API key) identifies
//! one customer of one app for an hour; a portal token identifies a partner for the
//! 24 hours of a portal link; a console session (the admin console's cookie) an
//! admin and one app for 8 hours. All are HS256 JWTs signed with the deployment's
//! `SESSION_SECRET` and named by its fingerprint (`kid`), so during a rotation
//! tokens signed with `SESSION_SECRET_PREVIOUS` still verify until they expire;
//! with distinct audiences so none can stand in for another, and none for an admin
//! token (another secret, another audience). The expiry is inside the signature,
//! so a link or a cookie cannot be extended.

use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use partner_domain::{AppId, CustomerId, Timestamp};
use serde::{Deserialize, Serialize};

use crate::{ApiError, AppState};

const ISSUER: &str = "partner-program";
const SESSION_AUDIENCE: &str = "partner-session";
const PORTAL_AUDIENCE: &str = "partner-portal";
const CONSOLE_AUDIENCE: &str = "partner-console";

pub const SESSION_TTL: Duration = Duration::from_secs(3600);
pub const PORTAL_TTL: Duration = Duration::from_secs(24 * 3600);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Claims {
    iss: String,
    aud: String,
    /// The customer.
    sub: String,
    app_id: String,
    iat: i64,
    exp: i64,
}

/// The customer of an app a token speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    pub app_id: AppId,
    pub customer_id: CustomerId,
}

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("no SESSION_SECRET is configured")]
    NoSecret,
    #[error("the token is not valid: {0}")]
    Invalid(#[from] jsonwebtoken::errors::Error),
    #[error("the token names an invalid subject")]
    Subject,
}

fn mint(
    secret: Option<&str>,
    audience: &str,
    subject: &Subject,
    ttl: Duration,
) -> Result<(String, Timestamp), SessionError> {
    let now = partner_domain::now();
    let expires = now + ttl;
    let claims = Claims {
        iss: ISSUER.into(),
        aud: audience.into(),
        sub: subject.customer_id.to_string(),
        app_id: subject.app_id.to_string(),
        iat: now.unix_timestamp(),
        exp: expires.unix_timestamp(),
    };
    Ok((sign(secret, &claims)?, expires))
}

/// Signs `claims` (HS256) with the current secret, named by its fingerprint.
fn sign<T: Serialize>(secret: Option<&str>, claims: &T) -> Result<String, SessionError> {
    let secret = secret.ok_or(SessionError::NoSecret)?;
    crate::jwt_crypto::install();
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(fingerprint(secret));
    Ok(jsonwebtoken::encode(
        &header,
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )?)
}

/// Names a secret without revealing it: the start of its SHA-256.
fn fingerprint(secret: &str) -> String {
    partner_domain::api_key::ApiKeyHash::of(secret).as_str()[..16].to_owned()
}

fn verify(
    secret: Option<&str>,
    previous: Option<&str>,
    audience: &str,
    token: &str,
) -> Result<Subject, SessionError> {
    let claims: Claims = decode(secret, previous, audience, token)?;
    Ok(Subject {
        app_id: AppId::parse("app_id", &claims.app_id).map_err(|_| SessionError::Subject)?,
        customer_id: CustomerId::parse("sub", &claims.sub).map_err(|_| SessionError::Subject)?,
    })
}

/// The claims of a token for `audience`, signed with the current secret or (during a
/// rotation) the previous one.
fn decode<T: serde::de::DeserializeOwned>(
    secret: Option<&str>,
    previous: Option<&str>,
    audience: &str,
    token: &str,
) -> Result<T, SessionError> {
    let current = secret.ok_or(SessionError::NoSecret)?;
    crate::jwt_crypto::install();
    let kid = jsonwebtoken::decode_header(token)?.kid;
    // The secret the token names; a token without a name tries both.
    let candidates: Vec<&str> = [Some(current), previous]
        .into_iter()
        .flatten()
        .filter(|s| kid.as_deref().is_none_or(|kid| fingerprint(s) == kid))
        .collect();
    let mut validation = Validation::new(Algorithm::HS256);
    validation.algorithms = vec![Algorithm::HS256];
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&[audience]);
    validation.leeway = 5;
    let mut result = Err(SessionError::Subject);
    for candidate in candidates {
        result = jsonwebtoken::decode::<T>(
            token,
            &DecodingKey::from_secret(candidate.as_bytes()),
            &validation,
        )
        .map(|data| data.claims)
        .map_err(SessionError::from);
        if result.is_ok() {
            break;
        }
    }
    result
}

pub fn mint_session(
    secret: Option<&str>,
    subject: &Subject,
) -> Result<(String, Timestamp), SessionError> {
    mint(secret, SESSION_AUDIENCE, subject, SESSION_TTL)
}

/// A portal token for a partner, valid for [`PORTAL_TTL`].
pub fn mint_portal(
    secret: Option<&str>,
    subject: &Subject,
) -> Result<(String, Timestamp), SessionError> {
    mint(secret, PORTAL_AUDIENCE, subject, PORTAL_TTL)
}

pub fn verify_portal(
    secret: Option<&str>,
    previous: Option<&str>,
    token: &str,
) -> Result<Subject, SessionError> {
    verify(secret, previous, PORTAL_AUDIENCE, token)
}

/// A portal token, verified with the function's keys (read again once if the
/// token was signed with a secret this instance has not seen yet).
pub async fn verify_portal_token(state: &AppState, token: &str) -> Result<Subject, SessionError> {
    verify_with_refresh(state, PORTAL_AUDIENCE, token).await
}

async fn verify_with_refresh(
    state: &AppState,
    audience: &str,
    token: &str,
) -> Result<Subject, SessionError> {
    let keys = state.keys().await;
    match verify(keys.session(), keys.session_previous(), audience, token) {
        Err(err) => match state.keys_after_refusal().await {
            Some(keys) => verify(keys.session(), keys.session_previous(), audience, token),
            None => Err(err),
        },
        verified => verified,
    }
}

/// The customer a request acts for, proven by a session token.
/// How long an admin console session lasts.
pub const CONSOLE_TTL: Duration = Duration::from_secs(8 * 3600);

/// An admin console session: who signed in (the admin token's `sub`), the one app
/// it administers, and the token its forms must carry (CSRF).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsoleClaims {
    iss: String,
    aud: String,
    pub sub: String,
    pub app_id: String,
    /// The app's name, for the console's header without a read.
    pub app_name: String,
    pub csrf: String,
    iat: i64,
    pub exp: i64,
}

/// A console session cookie's value for `subject` on `app`, valid for
/// [`CONSOLE_TTL`], with a fresh CSRF token.
pub fn mint_console(
    secret: Option<&str>,
    subject: &str,
    app: &AppId,
    app_name: &str,
) -> Result<String, SessionError> {
    let now = partner_domain::now();
    let claims = ConsoleClaims {
        iss: ISSUER.into(),
        aud: CONSOLE_AUDIENCE.into(),
        sub: subject.to_owned(),
        app_id: app.to_string(),
        app_name: app_name.to_owned(),
        csrf: partner_domain::api_key::random_base62(32),
        iat: now.unix_timestamp(),
        exp: (now + CONSOLE_TTL).unix_timestamp(),
    };
    sign(secret, &claims)
}

/// The console session a cookie value stands for, if it verifies.
pub async fn verify_console(state: &AppState, token: &str) -> Result<ConsoleClaims, SessionError> {
    let keys = state.keys().await;
    match decode(
        keys.session(),
        keys.session_previous(),
        CONSOLE_AUDIENCE,
        token,
    ) {
        Err(err) => match state.keys_after_refusal().await {
            Some(keys) => decode(
                keys.session(),
                keys.session_previous(),
                CONSOLE_AUDIENCE,
                token,
            ),
            None => Err(err),
        },
        verified => verified,
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session(pub Subject);

impl FromRequestParts<AppState> for Session {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = crate::auth::bearer_token(&parts.headers).ok_or_else(|| {
            ApiError::unauthorized(
                "Send a customer session token as Authorization: Bearer <token>.",
            )
        })?;
        let subject = verify_with_refresh(state, SESSION_AUDIENCE, token)
            .await
            .map_err(|err| {
                tracing::info!(reason = %err, "session token refused");
                ApiError::unauthorized("The session token is not valid.")
            })?;
        crate::http::note_app(&parts.extensions, subject.app_id.as_str());
        crate::cors::check_origin(parts, state, &subject.app_id).await?;
        Ok(Session(subject))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subject() -> Subject {
        Subject {
            app_id: AppId::generate(),
            customer_id: CustomerId::generate(),
        }
    }

    #[test]
    fn sessions_and_portal_links_verify_only_as_themselves() {
        let who = subject();
        let (session, _) = mint_session(Some("s"), &who).unwrap();
        let (portal, expires) = mint_portal(Some("s"), &who).unwrap();
        assert_eq!(
            verify(Some("s"), None, SESSION_AUDIENCE, &session).unwrap(),
            who
        );
        assert_eq!(verify_portal(Some("s"), None, &portal).unwrap(), who);
        assert!(
            verify_portal(Some("s"), None, &session).is_err(),
            "a session token is not a portal link"
        );
        assert!(
            verify(Some("s"), None, SESSION_AUDIENCE, &portal).is_err(),
            "a portal token is not a session"
        );
        let hours = (expires - partner_domain::now()).whole_hours();
        assert!((23..=24).contains(&hours));
    }

    #[test]
    fn forged_or_altered_tokens_are_refused() {
        let who = subject();
        let (portal, _) = mint_portal(Some("s"), &who).unwrap();
        assert!(verify_portal(Some("other"), None, &portal).is_err());
        let mut parts: Vec<String> = portal.split('.').map(str::to_owned).collect();
        // Claims of another customer with the original signature.
        use base64::Engine as _;
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let mut claims: serde_json::Value =
            serde_json::from_slice(&engine.decode(&parts[1]).unwrap()).unwrap();
        claims["exp"] = serde_json::json!(claims["exp"].as_i64().unwrap() + 86_400 * 30);
        parts[1] = engine.encode(claims.to_string());
        assert!(
            verify_portal(Some("s"), None, &parts.join(".")).is_err(),
            "an extended link verifies"
        );
        assert!(verify_portal(None, None, &portal).is_err());
    }

    #[test]
    fn during_a_rotation_tokens_of_the_previous_secret_still_verify() {
        let who = subject();
        let (old, _) = mint_session(Some("old-secret"), &who).unwrap();
        let (new, _) = mint_session(Some("new-secret"), &who).unwrap();
        let rotating = |token: &str| {
            verify(
                Some("new-secret"),
                Some("old-secret"),
                SESSION_AUDIENCE,
                token,
            )
        };
        assert_eq!(rotating(&old).unwrap(), who);
        assert_eq!(rotating(&new).unwrap(), who);
        // After the rotation, the old secret's tokens stop working.
        assert!(verify(Some("new-secret"), None, SESSION_AUDIENCE, &old).is_err());
        // A token signed with neither is refused whatever `kid` it claims.
        let (forged, _) = mint_session(Some("attacker"), &who).unwrap();
        assert!(rotating(&forged).is_err());
    }
}
