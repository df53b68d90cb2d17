//! API keys taken as presented, verified together with the request's first read.
//!
//! A route whose first read depends on the app only (status, by-customer, track)
//! takes [`SecretKey`] or [`PublicKey`] instead of [`Tenant`] / [`crate::PublicTenant`]
//! and calls `with(state, read)`: the key lookup and the read go in one batch
//! ([`crate::auth::ApiKeyCache::authenticate_with`]), so a cold start costs the
//! round trips of a warm one. The same admission as the plain extractors follows
//! (the key's kind, its rate limit, a browser route's origin) before anything is
//! answered. `tenant(state)` admits the key alone, for a request refused before its
//! read, so an unauthenticated caller still gets 401 first.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use partner_domain::AppId;
use partner_domain::records::ProgramSettings;
use partner_store::repo::reads::Read;

use crate::auth::{Tenant, presented};
use crate::cors::BrowserOrigin;
use crate::http::RequestNotes;
use crate::{ApiError, AppState};

/// What both extractors take from the request.
#[derive(Debug, Clone)]
struct Presented {
    key: String,
    notes: RequestNotes,
}

impl Presented {
    fn of(parts: &Parts) -> Result<Self, ApiError> {
        Ok(Self {
            key: presented(parts)?.to_owned(),
            notes: parts
                .extensions
                .get::<RequestNotes>()
                .cloned()
                .unwrap_or_default(),
        })
    }

    /// The key's tenant, noted and within its rate limit.
    async fn tenant(&self, state: &AppState) -> Result<Tenant, ApiError> {
        let tenant = state
            .api_keys()
            .authenticate(state.store(), &self.key)
            .await?;
        self.admit(state, &tenant).await?;
        Ok(tenant)
    }

    /// The key's tenant and `read` for its app, in one round trip.
    async fn with<R: Read>(
        &self,
        state: &AppState,
        read: impl Fn(&AppId) -> R,
    ) -> Result<(Tenant, R::Output), ApiError> {
        let (tenant, records) = state
            .api_keys()
            .authenticate_with(state.store(), &self.key, read)
            .await?;
        self.admit(state, &tenant).await?;
        Ok((tenant, records))
    }

    async fn admit(&self, state: &AppState, tenant: &Tenant) -> Result<(), ApiError> {
        self.notes.app(tenant.app_id.as_str());
        state.key_limits().admit(state, tenant).await
    }
}

/// A secret key as presented, not yet verified (a server-side route).
#[derive(Debug, Clone)]
pub struct SecretKey(Presented);

impl FromRequestParts<AppState> for SecretKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, ApiError> {
        Presented::of(parts).map(Self)
    }
}

impl SecretKey {
    /// The tenant alone, as [`Tenant`] admits it.
    pub async fn tenant(&self, state: &AppState) -> Result<Tenant, ApiError> {
        self.0.tenant(state).await?.secret_only()
    }

    /// The tenant, as [`Tenant`] admits it, and `read` for its app: one round
    /// trip, cold or warm.
    pub async fn with<R: Read>(
        &self,
        state: &AppState,
        read: impl Fn(&AppId) -> R,
    ) -> Result<(Tenant, R::Output), ApiError> {
        let (tenant, records) = self.0.with(state, read).await?;
        Ok((tenant.secret_only()?, records))
    }
}

/// A key of either kind as presented, not yet verified, and the request's browser
/// origin (a browser route).
#[derive(Debug, Clone)]
pub struct PublicKey {
    presented: Presented,
    origin: BrowserOrigin,
}

impl FromRequestParts<AppState> for PublicKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, ApiError> {
        Ok(Self {
            presented: Presented::of(parts)?,
            origin: BrowserOrigin::of(parts),
        })
    }
}

impl PublicKey {
    /// The tenant alone, as [`crate::PublicTenant`] admits it (its origin checked
    /// against the cached settings).
    pub async fn tenant(&self, state: &AppState) -> Result<Tenant, ApiError> {
        let tenant = self.presented.tenant(state).await?;
        self.origin.check_cached(state, &tenant.app_id).await?;
        Ok(tenant)
    }

    /// The tenant, as [`crate::PublicTenant`] admits it, and `read` for its app:
    /// one round trip, cold or warm. The browser origin is checked against the
    /// settings `settings_of` finds in the read (so the read must include them).
    pub async fn with<R: Read>(
        &self,
        state: &AppState,
        read: impl Fn(&AppId) -> R,
        settings_of: impl FnOnce(&R::Output) -> Option<&ProgramSettings>,
    ) -> Result<(Tenant, R::Output), ApiError> {
        let (tenant, records) = self.presented.with(state, read).await?;
        self.origin.check(settings_of(&records))?;
        Ok((tenant, records))
    }
}
