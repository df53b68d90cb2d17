//! Domain types of the partner program.
//!
//! Everything that crosses the HTTP edge is parsed into one of these types first
//! (`Email`, `ReferralCode`, `CustomerId`, …), so code past the edge never re-checks
//! input and never handles a bare `String` that could be the wrong thing. Nothing in
//! this crate does I/O.

pub mod api_key;
pub mod audit;
pub mod deals;
pub mod email;
pub mod error;
pub mod events;
pub mod ids;
pub mod ledger;
pub mod money;
pub mod rate_limit;
pub mod records;
pub mod rewards;
pub mod stripe;
pub mod text;
pub mod webhooks;

pub use email::Email;
pub use error::FieldError;
pub use ids::{
    AffiliateId, ApiKeyId, AppId, ApplicationId, CustomerId, DeliveryId, EventId, WebhookEndpointId,
};
pub use money::{Amount, Currency, Money, RateBps};
pub use text::ReferralCode;

/// The clock type used for every stored instant (UTC, serialised as RFC 3339).
pub type Timestamp = time::OffsetDateTime;

/// Now, truncated to milliseconds so a value survives a round trip through
/// RFC 3339 text unchanged (stored items compare equal to what was written).
pub fn now() -> Timestamp {
    let now = time::OffsetDateTime::now_utc();
    now.replace_nanosecond(now.millisecond() as u32 * 1_000_000)
        .unwrap_or(now)
}

/// An instant as RFC 3339 text (`2026-11-30T12:00:00.123Z`), for CSV cells and
/// pages; JSON fields use `time::serde::rfc3339`, which writes the same text.
pub fn rfc3339(at: Timestamp) -> String {
    // Formatting a UTC instant of a year between 0 and 9999 cannot fail.
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Fills `buf` with cryptographically secure random bytes.
///
/// The operating system's generator failing is not something a request can
/// recover from, and continuing with weak secrets would be worse than stopping.
#[allow(clippy::expect_used)]
pub fn random_bytes(buf: &mut [u8]) {
    getrandom::fill(buf).expect("the OS random number generator is unavailable");
}
