//! API-key authentication: `x-api-key` → the tenant (app) it belongs to.
//!
//! The tenant of a request always comes from here, never from a body. A verified
//! key is remembered for a short time (`API_KEY_CACHE_SECONDS`, default 60 s) so a
//! warm function spends no store round trip on it; the price is that a revoked key
//! keeps working on warm functions until its entry expires. Unknown keys are not
//! cached, so a key becomes usable the moment it is created.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use partner_domain::api_key::ApiKeyHash;
use partner_domain::{ApiKeyId, AppId};

use crate::{ApiError, AppState};

pub const API_KEY_HEADER: &str = "x-api-key";

/// Entries kept at most; beyond it expired entries are dropped, then all.
const CACHE_CAPACITY: usize = 1024;

/// The app a request acts for, proven by its API key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    pub app_id: AppId,
    pub key_id: ApiKeyId,
}

#[derive(Debug)]
pub struct ApiKeyCache {
    ttl: Duration,
    entries: Mutex<HashMap<ApiKeyHash, (Tenant, Instant)>>,
}

impl ApiKeyCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::new(HashMap::new()),
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

    /// The tenant of a presented key, from the cache or with one store read.
    pub async fn authenticate(
        &self,
        store: &partner_store::Store,
        presented: &str,
    ) -> Result<Tenant, ApiError> {
        let Some(hash) = ApiKeyHash::of_presented(presented) else {
            return Err(invalid_key());
        };
        if let Some(tenant) = self.cached(&hash) {
            return Ok(tenant);
        }
        match store.apps().find_api_key(&hash).await? {
            Some(record) if record.revoked_at.is_none() => {
                let tenant = Tenant {
                    app_id: record.app_id,
                    key_id: record.id,
                };
                self.remember(hash, tenant.clone());
                Ok(tenant)
            }
            _ => Err(invalid_key()),
        }
    }
}

fn invalid_key() -> ApiError {
    ApiError::unauthorized("The API key is not valid.")
}

impl FromRequestParts<AppState> for Tenant {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(value) = parts.headers.get(API_KEY_HEADER) else {
            return Err(ApiError::unauthorized(
                "Send your app's API key in the x-api-key header.",
            ));
        };
        let presented = value.to_str().map_err(|_| invalid_key())?;
        state
            .api_keys()
            .authenticate(state.store(), presented.trim())
            .await
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
