//! API-key authentication: `x-api-key` → the tenant (app) it belongs to, and what
//! the key may do.
//!
//! The tenant of a request always comes from here, never from a body. Two
//! extractors: [`Tenant`] admits secret keys only (every server-side route);
//! [`PublicTenant`] also admits publishable keys (the routes a web page calls:
//! apply and track). A publishable key anywhere else is `403
//! publishable_key_not_allowed`.
//!
//! Routes that read their data in the key lookup's round trip take the
//! unverified key instead ([`crate::presented_key`]).
//!
//! A verified key is remembered for a short time (`API_KEY_CACHE_SECONDS`, default
//! 60 s) so a warm function spends no store round trip on it; the price is that a
//! key revoked on another instance keeps working there until its entry expires (on
//! the instance that revoked it, at once). Keys that are unknown or revoked are
//! remembered too (bounded), so a client repeating a garbage key costs one store
//! read per instance, not one per request; a new key is random, so no client can
//! present it before it exists.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use partner_domain::api_key::{ApiKeyHash, KeyKind, presented_app};
use partner_domain::audit::Actor;
use partner_domain::records::ApiKeyRecord;
use partner_domain::{ApiKeyId, AppId};
use partner_store::repo::reads::Read;

use crate::{ApiError, AppState};

pub const API_KEY_HEADER: &str = "x-api-key";

/// Entries kept at most; beyond it expired entries are dropped, then all.
const CACHE_CAPACITY: usize = 1024;

/// The app a request acts for, proven by its API key, and the key's kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    pub app_id: AppId,
    pub key_id: ApiKeyId,
    pub kind: KeyKind,
}

impl Tenant {
    /// This tenant, if its key is a secret key (server-side routes).
    pub fn secret_only(self) -> Result<Self, ApiError> {
        match self.kind {
            KeyKind::Secret => Ok(self),
            KeyKind::Publishable => Err(publishable_key_not_allowed()),
        }
    }

    /// Who the audit log says made a change with this key.
    pub fn actor(&self) -> Actor {
        Actor::ApiKey(self.key_id.clone())
    }
}

/// A tenant proven by a secret **or** a publishable key: for the routes a web page
/// may call. The handler still decides what a publishable key may ask for there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicTenant(pub Tenant);

#[derive(Debug)]
pub struct ApiKeyCache {
    ttl: Duration,
    entries: Mutex<HashMap<ApiKeyHash, (Tenant, Instant)>>,
    /// Keys found unknown or revoked, and when.
    refused: Mutex<HashMap<ApiKeyHash, Instant>>,
}

impl ApiKeyCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::new(HashMap::new()),
            refused: Mutex::new(HashMap::new()),
        }
    }

    fn known_bad(&self, hash: &ApiKeyHash) -> bool {
        self.refused
            .lock()
            .ok()
            .and_then(|refused| refused.get(hash).map(|at| at.elapsed() < self.ttl))
            .unwrap_or(false)
    }

    fn remember_bad(&self, hash: ApiKeyHash) {
        if self.ttl.is_zero() {
            return;
        }
        if let Ok(mut refused) = self.refused.lock() {
            if refused.len() >= CACHE_CAPACITY {
                let ttl = self.ttl;
                refused.retain(|_, at| at.elapsed() < ttl);
                if refused.len() >= CACHE_CAPACITY {
                    refused.clear();
                }
            }
            refused.insert(hash, Instant::now());
        }
    }

    fn cached(&self, hash: &ApiKeyHash) -> Option<Tenant> {
        let entries = self.entries.lock().ok()?;
        entries
            .get(hash)
            .filter(|(_, at)| at.elapsed() < self.ttl)
            .map(|(tenant, _)| tenant.clone())
    }

    fn remember(&self, hash: ApiKeyHash, tenant: Tenant) {
        if self.ttl.is_zero() {
            return;
        }
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= CACHE_CAPACITY {
                let ttl = self.ttl;
                entries.retain(|_, (_, at)| at.elapsed() < ttl);
                if entries.len() >= CACHE_CAPACITY {
                    entries.clear();
                }
            }
            entries.insert(hash, (tenant, Instant::now()));
        }
    }

    /// Drops a revoked key from this instance's cache, so it stops working here at
    /// once (other instances follow within the cache's time to live).
    pub fn forget(&self, key: &ApiKeyId) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.retain(|_, (tenant, _)| tenant.key_id != *key);
        }
    }

    /// The tenant of a presented key, from the cache or with one store read.
    pub async fn authenticate(
        &self,
        store: &partner_store::Store,
        presented: &str,
    ) -> Result<Tenant, ApiError> {
        let hash = ApiKeyHash::of_presented(presented).ok_or_else(invalid_key)?;
        if let Some(tenant) = self.cached(&hash) {
            return Ok(tenant);
        }
        if self.known_bad(&hash) {
            return Err(invalid_key());
        }
        let record = store.apps().find_api_key(&hash).await?;
        self.verify(hash, record)
    }

    /// The tenant of a presented key and `read` made for its app, in one round trip
    /// whether or not the key is cached: a key that names its app
    /// (`sk_live_<app>_…`) is looked up in the same batch as the read. The read's
    /// records are returned only once the key has verified and is that app's
    /// (nothing is answered from them before). A key made before keys named their
    /// app costs a second round trip while it is not cached.
    pub async fn authenticate_with<R: Read>(
        &self,
        store: &partner_store::Store,
        presented: &str,
        read: impl Fn(&AppId) -> R,
    ) -> Result<(Tenant, R::Output), ApiError> {
        let hash = ApiKeyHash::of_presented(presented).ok_or_else(invalid_key)?;
        if let Some(tenant) = self.cached(&hash) {
            let records = store.read(&read(&tenant.app_id)).await?;
            return Ok((tenant, records));
        }
        if self.known_bad(&hash) {
            return Err(invalid_key());
        }
        let Some(named) = presented_app(presented) else {
            let tenant = self.authenticate(store, presented).await?;
            let records = store.read(&read(&tenant.app_id)).await?;
            return Ok((tenant, records));
        };
        let (record, records) = store.apps().api_key_with(&hash, &read(&named)).await?;
        let tenant = self.verify(hash, record)?;
        // A key we made names its own app; one that does not was not made by us.
        if tenant.app_id != named {
            return Err(invalid_key());
        }
        Ok((tenant, records))
    }

    /// The tenant of a looked-up key (remembered either way).
    fn verify(&self, hash: ApiKeyHash, record: Option<ApiKeyRecord>) -> Result<Tenant, ApiError> {
        match record {
            Some(record) if record.revoked_at.is_none() => {
                let tenant = Tenant {
                    app_id: record.app_id,
                    key_id: record.id,
                    kind: record.kind,
                };
                self.remember(hash, tenant.clone());
                Ok(tenant)
            }
            _ => {
                self.remember_bad(hash);
                Err(invalid_key())
            }
        }
    }
}

fn invalid_key() -> ApiError {
    ApiError::unauthorized("The API key is not valid.")
}

/// The presented key's text, or why there is none.
pub(crate) fn presented(parts: &Parts) -> Result<&str, ApiError> {
    let Some(value) = parts.headers.get(API_KEY_HEADER) else {
        return Err(ApiError::unauthorized(
            "Send your app's API key in the x-api-key header.",
        ));
    };
    value.to_str().map(str::trim).map_err(|_| invalid_key())
}

/// The key's tenant, whatever its kind; a browser route's `Origin` is checked too.
async fn any_key(parts: &Parts, state: &AppState) -> Result<Tenant, ApiError> {
    let tenant = state
        .api_keys()
        .authenticate(state.store(), presented(parts)?)
        .await?;
    crate::http::note_app(&parts.extensions, tenant.app_id.as_str());
    state.key_limits().admit(state, &tenant).await?;
    crate::cors::check_origin(parts, state, &tenant.app_id).await?;
    Ok(tenant)
}

/// The refusal of a publishable key where only a secret key will do.
pub fn publishable_key_not_allowed() -> ApiError {
    ApiError::forbidden(
        "publishable_key_not_allowed",
        "A publishable key cannot do this; use a secret key (sk_live_…) from your server.",
    )
}

impl FromRequestParts<AppState> for Tenant {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        any_key(parts, state).await?.secret_only()
    }
}

impl FromRequestParts<AppState> for PublicTenant {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        any_key(parts, state).await.map(PublicTenant)
    }
}

/// The token of an `Authorization: Bearer …` header, if there is one.
pub fn bearer_token(headers: &axum::http::HeaderMap) -> Option<&str> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
}
