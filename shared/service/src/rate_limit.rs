//! Rate limits where requests come in. Three kinds, all counted in the table so
//! they hold across instances and functions:
//!
//! - **Per client IP, publishable keys** (an app's `rateLimits.applyPerIp` and
//!   `trackPerIp`): counted by the apply and track commands inside the
//!   transaction they write anyway (see `partner_store::repo::rate_limits`).
//!   Secret keys are not limited per IP: they come from the app's own servers,
//!   where one address speaks for every user.
//! - **Per API key** (`rateLimits.perKey`): counted in memory and added to the
//!   shared counter every `RATE_LIMIT_SYNC_EVERY` requests, so a request costs no
//!   round trip for it; the total may overshoot by less than that many requests
//!   per instance.
//! - **Failed authentication per client IP** (`FAILED_AUTH_LIMIT_PER_MINUTE`,
//!   the operator's: an unknown key names no app): every 401 costs one write;
//!   past the limit the IP is refused on that instance without any store call
//!   until the minute ends. These counters are the only writes made for a
//!   request that did not authenticate.
//!
//! A refusal is `429 rate_limited` with `Retry-After` and the IETF
//! `RateLimit-Policy` / `RateLimit` headers.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use partner_domain::ApiKeyId;
use partner_domain::api_key::KeyKind;
use partner_domain::rate_limit::{Exceeded, Policy, RateLimits, Window, ip_subject};
use partner_store::repo::rate_limits::Guard;

use crate::client_ip::{self, ClientIp};
use crate::{ApiError, AppState, Tenant};

/// Entries kept at most in each in-memory table; beyond it old windows are
/// dropped, then all.
const CAPACITY: usize = 4096;

/// What a per-IP limit counts a request by: the client's address (its /64 for
/// IPv6), for requests made with a publishable key only.
pub fn browser_client(tenant: &Tenant, ip: ClientIp) -> Option<String> {
    match (tenant.kind, ip.0) {
        (KeyKind::Publishable, Some(ip)) => Some(ip_subject(ip)),
        _ => None,
    }
}

/// The guard of an application from a web page: the app's `applyPerIp` in the
/// current minute. Reads the settings only when this instance has not got them.
pub async fn apply_guard(
    state: &AppState,
    tenant: &Tenant,
    ip: ClientIp,
) -> Result<Option<Guard>, ApiError> {
    let Some(client) = browser_client(tenant, ip) else {
        return Ok(None);
    };
    let settings = state.settings().get(state.store(), &tenant.app_id).await?;
    // An app without settings is refused by the command; its limit is the default.
    let limit = settings
        .map_or(RateLimits::default(), |s| s.rate_limits)
        .apply_per_ip;
    Ok(Some(Guard::per_ip(
        Policy::Apply,
        &tenant.app_id,
        &client,
        limit,
    )))
}

/// One key's requests in the current window, as this instance knows them.
#[derive(Debug, Clone, Copy)]
struct KeyWindow {
    window: Window,
    /// Requests counted here and not yet added to the shared counter.
    unsynced: u32,
    /// The shared counter as of this instance's last addition.
    total: i64,
    /// The app's `perKey`, as read at the last addition.
    limit: Option<u32>,
}

/// Per-key request counts, added to the table in batches.
#[derive(Debug)]
pub struct KeyLimiter {
    sync_every: u32,
    keys: Mutex<HashMap<ApiKeyId, KeyWindow>>,
}

impl KeyLimiter {
    pub fn new(sync_every: u32) -> Self {
        Self {
            sync_every: sync_every.max(1),
            keys: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one request of `tenant`'s key; refuses it when the key is over the
    /// app's `perKey` this minute. Every `sync_every`-th request of a key on this
    /// instance adds the batch to the shared counter (one write, and one read of
    /// the settings when they are not cached). A failed addition is logged and the
    /// request let through: the limit protects the service, it must not become
    /// the reason it fails.
    pub async fn admit(&self, state: &AppState, tenant: &Tenant) -> Result<(), ApiError> {
        let window = Window::now();
        let batch = {
            let Ok(mut keys) = self.keys.lock() else {
                return Ok(());
            };
            if keys.len() >= CAPACITY && !keys.contains_key(&tenant.key_id) {
                keys.retain(|_, entry| entry.window == window);
                if keys.len() >= CAPACITY {
                    keys.clear();
                }
            }
            let entry = keys.entry(tenant.key_id.clone()).or_insert(KeyWindow {
                window,
                unsynced: 0,
                total: 0,
                limit: None,
            });
            if entry.window != window {
                *entry = KeyWindow {
                    window,
                    unsynced: 0,
                    total: 0,
                    limit: entry.limit,
                };
            }
            if let Some(limit) = entry.limit
                && entry.total + i64::from(entry.unsynced) >= i64::from(limit)
            {
                return Err(ApiError::rate_limited(Exceeded::in_window(
                    Policy::Key,
                    limit,
                    window,
                )));
            }
            entry.unsynced += 1;
            if entry.unsynced < self.sync_every {
                return Ok(());
            }
            std::mem::take(&mut entry.unsynced)
        };
        match self.add(state, tenant, window, batch).await {
            Ok((total, limit)) => {
                if let Ok(mut keys) = self.keys.lock()
                    && let Some(entry) = keys.get_mut(&tenant.key_id)
                    && entry.window == window
                {
                    entry.total = entry.total.max(total);
                    entry.limit = Some(limit);
                }
                if total > i64::from(limit) {
                    return Err(ApiError::rate_limited(Exceeded::in_window(
                        Policy::Key,
                        limit,
                        window,
                    )));
                }
            }
            Err(err) => {
                tracing::warn!(error = %err, "could not add to a key's request counter");
                if let Ok(mut keys) = self.keys.lock()
                    && let Some(entry) = keys.get_mut(&tenant.key_id)
                    && entry.window == window
                {
                    entry.unsynced += batch;
                }
            }
        }
        Ok(())
    }

    /// Adds `batch` to the key's shared counter: the new total and the app's limit.
    async fn add(
        &self,
        state: &AppState,
        tenant: &Tenant,
        window: Window,
        batch: u32,
    ) -> Result<(i64, u32), ApiError> {
        let settings = state.settings().get(state.store(), &tenant.app_id).await?;
        let limit = settings
            .map_or(RateLimits::default(), |s| s.rate_limits)
            .per_key;
        let total = state
            .store()
            .rate_limits()
            .add(&format!("KEY#{}", tenant.key_id), window, batch)
            .await?;
        Ok((total, limit))
    }
}

/// Client IPs over the failed-authentication limit, refused until their window
/// ends.
#[derive(Debug)]
pub struct FailedAuthLimiter {
    limit: u32,
    blocked: Mutex<HashMap<String, Window>>,
}

impl FailedAuthLimiter {
    pub fn new(limit: u32) -> Self {
        Self {
            limit,
            blocked: Mutex::new(HashMap::new()),
        }
    }

    fn blocked(&self, client: &str) -> Option<Exceeded> {
        let window = Window::now();
        let blocked = self.blocked.lock().ok()?;
        (blocked.get(client) == Some(&window))
            .then(|| Exceeded::in_window(Policy::FailedAuth, self.limit, window))
    }

    /// Counts a failed authentication of `client` (one write); past the limit the
    /// client is blocked on this instance for the rest of the minute.
    async fn failed(&self, state: &AppState, client: &str) -> Option<Exceeded> {
        let window = Window::now();
        let guard = Guard::new(
            Policy::FailedAuth,
            &format!("AUTH#{client}"),
            self.limit,
            window,
        );
        match state.store().rate_limits().count(&guard).await {
            Ok(Ok(())) => None,
            Ok(Err(exceeded)) => {
                if let Ok(mut blocked) = self.blocked.lock() {
                    if blocked.len() >= CAPACITY {
                        blocked.retain(|_, at| *at == window);
                        if blocked.len() >= CAPACITY {
                            blocked.clear();
                        }
                    }
                    blocked.insert(client.to_owned(), window);
                }
                Some(exceeded)
            }
            Err(err) => {
                tracing::warn!(error = %err, "could not count a failed authentication");
                None
            }
        }
    }
}

/// The layer that refuses a client IP over the failed-authentication limit
/// before anything else runs, and counts every 401.
pub(crate) async fn limit_failed_auth(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let Some(client) = client_ip::of(request.extensions()).map(ip_subject) else {
        return next.run(request).await;
    };
    let limiter = state.failed_auth();
    if let Some(exceeded) = limiter.blocked(&client) {
        return ApiError::rate_limited(exceeded).into_response();
    }
    let response = next.run(request).await;
    if response.status() != StatusCode::UNAUTHORIZED {
        return response;
    }
    match limiter.failed(&state, &client).await {
        Some(exceeded) => ApiError::rate_limited(exceeded).into_response(),
        None => response,
    }
}
