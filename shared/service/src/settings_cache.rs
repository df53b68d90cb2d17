//! The apps' program settings as the request layer needs them (allowed origins,
//! rate limits), kept per instance for `API_KEY_CACHE_SECONDS` like the keys, so
//! a warm function reads them at most once a minute per app.
//!
//! A change made through the admin API is seen at once on the instance that made
//! it (it forgets its copy) and within the time to live everywhere else.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use partner_domain::AppId;
use partner_domain::records::ProgramSettings;

use crate::ApiError;

/// An app's settings (`None`: the app has none) and when they were read.
type Cached = (Option<Arc<ProgramSettings>>, Instant);

/// Apps whose settings are kept at most; beyond it the cache starts again.
const CACHE_CAPACITY: usize = 1024;

#[derive(Debug)]
pub struct SettingsCache {
    ttl: Duration,
    entries: Mutex<HashMap<AppId, Cached>>,
}

impl SettingsCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The app's settings: one read, or none while they are cached.
    pub async fn get(
        &self,
        store: &partner_store::Store,
        app: &AppId,
    ) -> Result<Option<Arc<ProgramSettings>>, ApiError> {
        let cached = self.entries.lock().ok().and_then(|entries| {
            entries
                .get(app)
                .filter(|(_, at)| at.elapsed() < self.ttl)
                .map(|(settings, _)| settings.clone())
        });
        if let Some(settings) = cached {
            return Ok(settings);
        }
        let settings = store.apps().settings(app).await?.map(Arc::new);
        if !self.ttl.is_zero()
            && let Ok(mut entries) = self.entries.lock()
        {
            if entries.len() >= CACHE_CAPACITY {
                entries.clear();
            }
            entries.insert(app.clone(), (settings.clone(), Instant::now()));
        }
        Ok(settings)
    }

    /// Forgets an app's settings after they changed on this instance.
    pub fn forget(&self, app: &AppId) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(app);
        }
    }
}
