//! Clients built on their first call rather than at cold start: the AWS SDK
//! service clients, the HTTPS client under them, and the webhook client.
//!
//! Constructing an AWS SDK client parses its service's endpoint partition table
//! (JSON) and compiles its regular expressions: under callgrind, about 0.7 million
//! instructions per client, two thirds of the admin function's whole init
//! (BENCHMARKS.md). Built on first use, a client an invocation never calls (the
//! admin function's SQS client outside replays, its EventBridge client on reads) is
//! never built, and the others are built once, by the first request that needs them.

use std::sync::{Arc, OnceLock};

/// A client, or the recipe for it.
#[derive(Clone)]
pub struct OnFirstUse<C> {
    client: Arc<OnceLock<C>>,
    build: Arc<dyn Fn() -> C + Send + Sync>,
}

impl<C> OnFirstUse<C> {
    /// A client `build` makes on first use.
    pub fn new(build: impl Fn() -> C + Send + Sync + 'static) -> Self {
        Self {
            client: Arc::new(OnceLock::new()),
            build: Arc::new(build),
        }
    }

    /// The client, built now if this is its first use.
    pub fn get(&self) -> &C {
        self.client.get_or_init(|| (self.build)())
    }
}

/// A client built already (tests, tools).
impl<C: Clone + Send + Sync + 'static> From<C> for OnFirstUse<C> {
    fn from(client: C) -> Self {
        let copy = client.clone();
        let ready = Self::new(move || copy.clone());
        let _ = ready.client.set(client);
        ready
    }
}

impl<C> std::fmt::Debug for OnFirstUse<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnFirstUse")
            .field("built", &self.client.get().is_some())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn the_client_is_built_once_on_first_use_and_shared_by_clones() {
        let builds = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&builds);
        let lazy = OnFirstUse::new(move || counter.fetch_add(1, Ordering::SeqCst) + 100);
        assert_eq!(
            builds.load(Ordering::SeqCst),
            0,
            "nothing is built up front"
        );
        let clone = lazy.clone();
        assert_eq!(*lazy.get(), 100);
        assert_eq!(*clone.get(), 100);
        assert_eq!(builds.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_ready_client_is_used_as_it_is() {
        let ready = OnFirstUse::from(String::from("built"));
        assert_eq!(ready.get(), "built");
        assert!(format!("{ready:?}").contains("built: true"));
    }
}
