//! The Stripe integration: connecting an app's Stripe account, and turning the
//! signed events Stripe sends into attributions, payments and refunds on the
//! ledger that the revenue API writes to.

mod attribution;
pub mod connection;
pub mod receive;

/// The route Stripe sends an app's events to (served by the integrations function).
pub const ENDPOINT: &str = "/v1/integrations/stripe/{appId}";
