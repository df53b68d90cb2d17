//! The pure core of webhooks: signing secrets, Standard Webhooks signatures, the
//! retry schedule, endpoints and deliveries; which addresses a webhook may never
//! be sent to is in `targets`; an endpoint's circuit breaker is in [`health`].

pub mod health;
mod targets;

pub use health::{CircuitPolicy, EndpointHealth};
pub use targets::{WebhookUrl, is_forbidden_ip};

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::events::{Event, EventType};
use crate::{AppId, DeliveryId, FieldError, Timestamp, WebhookEndpointId};

const SECRET_PREFIX: &str = "whsec_";
const SECRET_BYTES: usize = 32;

/// A signing secret, `whsec_<base64 of 32 random bytes>`. `Debug` redacts it.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct WebhookSecret(String);

impl WebhookSecret {
    pub fn generate() -> Self {
        let mut bytes = [0u8; SECRET_BYTES];
        crate::random_bytes(&mut bytes);
        Self(format!("{SECRET_PREFIX}{}", STANDARD.encode(bytes)))
    }

    /// Accepts `whsec_<base64>` of 24 to 64 bytes.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let secret = Self(raw.to_owned());
        match secret.key() {
            Some(key) if (24..=64).contains(&key.len()) => Ok(secret),
            _ => Err(FieldError::new(
                "secret",
                "must be whsec_ followed by base64 of 24 to 64 bytes",
            )),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn key(&self) -> Option<Vec<u8>> {
        STANDARD.decode(self.0.strip_prefix(SECRET_PREFIX)?).ok()
    }

    /// `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`.
    pub fn sign(&self, message_id: &str, timestamp: i64, body: &[u8]) -> String {
        let key = self.key().unwrap_or_default();
        // HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&key) else {
            unreachable!("HMAC takes keys of any length")
        };
        mac.update(message_id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }
}

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(…)")
    }
}

/// The `webhook-signature` header: one `v1,…` per secret, space-separated (during
/// a rotation both the new and the old secret sign).
pub fn signature_header<'a>(
    secrets: impl IntoIterator<Item = &'a WebhookSecret>,
    message_id: &str,
    timestamp: i64,
    body: &[u8],
) -> String {
    secrets
        .into_iter()
        .map(|secret| secret.sign(message_id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

/// When attempts happen: the first at once, then after each delay. The default is
/// Svix's: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (eight attempts over ~28 h).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule {
    delays: Vec<Duration>,
}

/// The most a `Retry-After` header may postpone the next attempt.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(6 * 3600);

impl Default for RetrySchedule {
    fn default() -> Self {
        Self {
            delays: [5, 300, 1800, 7200, 18_000, 36_000, 36_000]
                .into_iter()
                .map(Duration::from_secs)
                .collect(),
        }
    }
}

impl RetrySchedule {
    /// Comma-separated seconds (`WEBHOOK_RETRY_SCHEDULE=1,1,1`).
    pub fn parse(raw: &str) -> Result<Self, String> {
        let delays = raw
            .split(',')
            .map(|part| part.trim().parse::<u64>().map(Duration::from_secs))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| format!("{raw:?} is not a comma-separated list of seconds"))?;
        if delays.len() > 20 {
            return Err("at most 20 retries".into());
        }
        Ok(Self { delays })
    }

    /// Attempts in all (the first plus one per delay).
    pub fn attempts(&self) -> u32 {
        self.delays.len() as u32 + 1
    }

    /// How long to wait after `failed` attempts have failed, or `None` when that was
    /// the last. `jitter` in [-1, 1] moves the delay by up to ±20 %; a `Retry-After`
    /// from the receiver postpones it further (capped at [`MAX_RETRY_AFTER`]).
    pub fn delay_after(
        &self,
        failed: u32,
        jitter: f64,
        retry_after: Option<Duration>,
    ) -> Option<Duration> {
        let base = *self.delays.get(failed.checked_sub(1)? as usize)?;
        let factor = 1.0 + 0.2 * jitter.clamp(-1.0, 1.0);
        let jittered = Duration::from_secs_f64(base.as_secs_f64() * factor);
        Some(match retry_after {
            Some(wanted) => jittered.max(wanted.min(MAX_RETRY_AFTER)),
            None => jittered,
        })
    }
}

/// A `Retry-After` value: delay seconds or an HTTP date.
pub fn parse_retry_after(value: &str, now: time::OffsetDateTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at =
        time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc2822).ok()?;
    Some(Duration::try_from(at - now).unwrap_or(Duration::ZERO))
}

/// An endpoint an app registered to receive events. The secret is stored so the
/// dispatcher can sign; the API shows it only when created or rotated.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookEndpoint {
    pub id: WebhookEndpointId,
    pub app_id: AppId,
    pub url: String,
    pub events: Vec<EventType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub enabled: bool,
    /// Why the dispatcher disabled it (a `410 Gone`, or five days of failures), if
    /// it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_reason: Option<String>,
    /// How its recent attempts went: the circuit breaker's state. Kept on the
    /// endpoint's item, so the reads an attempt makes anyway bring it along.
    #[serde(default, skip_serializing_if = "EndpointHealth::is_clear")]
    pub health: EndpointHealth,
    pub secret: WebhookSecret,
    /// The secret before the last rotation; it keeps signing until it expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_secret: Option<WebhookSecret>,
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub previous_secret_expires_at: Option<Timestamp>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: Timestamp,
}

impl WebhookEndpoint {
    pub fn wants(&self, event: EventType) -> bool {
        self.enabled && self.events.contains(&event)
    }

    /// The secrets that sign at `now`: the current one, and the previous one during
    /// its overlap.
    pub fn signing_secrets(&self, now: Timestamp) -> Vec<&WebhookSecret> {
        let mut secrets = vec![&self.secret];
        if let (Some(previous), Some(until)) =
            (&self.previous_secret, self.previous_secret_expires_at)
            && now < until
        {
            secrets.push(previous);
        }
        secrets
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    Pending,
    Succeeded,
    Failed,
}

/// One try at delivering: when, what came back, how long it took.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attempt {
    #[serde(with = "time::serde::rfc3339")]
    pub at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub latency_ms: u64,
    /// The first 200 characters of the response body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_excerpt: Option<String>,
}

/// The delivery of one event to one endpoint, with every attempt.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    pub id: DeliveryId,
    pub app_id: AppId,
    pub endpoint_id: WebhookEndpointId,
    pub event: Event,
    pub status: DeliveryStatus,
    /// The most recent attempts, at most [`Delivery::KEPT_ATTEMPTS`]: replays can
    /// add attempts without end, and the record must stay one bounded item.
    pub attempts: Vec<Attempt>,
    /// Every attempt ever made (stored before it was kept: then `attempts.len()`).
    #[serde(default)]
    pub attempt_count: u32,
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub next_attempt_at: Option<Timestamp>,
}

impl Delivery {
    /// Attempts kept in the record; older ones are counted, not kept. A whole retry
    /// cycle (at most 21 attempts) always fits.
    pub const KEPT_ATTEMPTS: usize = 25;

    /// How many attempts were made, kept or not.
    pub fn total_attempts(&self) -> u32 {
        self.attempt_count.max(self.attempts.len() as u32)
    }

    /// Records an attempt, dropping the oldest kept one beyond the limit.
    pub fn record(&mut self, attempt: Attempt) {
        self.attempt_count = self.total_attempts() + 1;
        self.attempts.push(attempt);
        if self.attempts.len() > Self::KEPT_ATTEMPTS {
            let excess = self.attempts.len() - Self::KEPT_ATTEMPTS;
            self.attempts.drain(..excess);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    #[test]
    fn a_delivery_keeps_its_latest_attempts_and_counts_them_all() {
        let event = crate::events::Event::new(
            crate::events::EventType::PartnerApplicationSubmitted,
            crate::AppId::generate(),
            serde_json::json!({}),
            crate::now(),
        );
        let endpoint = crate::WebhookEndpointId::generate();
        let mut delivery = Delivery {
            id: crate::DeliveryId::of(&event.id, &endpoint),
            app_id: event.app_id.clone(),
            endpoint_id: endpoint,
            event,
            status: DeliveryStatus::Pending,
            attempts: Vec::new(),
            attempt_count: 0,
            next_attempt_at: None,
        };
        for n in 0..300u64 {
            delivery.record(Attempt {
                at: crate::now(),
                status_code: Some(500),
                latency_ms: n,
                error: None,
                response_excerpt: None,
            });
        }
        assert_eq!(delivery.total_attempts(), 300);
        assert_eq!(delivery.attempts.len(), Delivery::KEPT_ATTEMPTS);
        assert_eq!(
            delivery.attempts[0].latency_ms,
            300 - Delivery::KEPT_ATTEMPTS as u64
        );
        let back: Delivery =
            serde_json::from_value(serde_json::to_value(&delivery).unwrap()).unwrap();
        assert_eq!(back.total_attempts(), 300);
    }

    #[test]
    fn signatures_match_the_standard_webhooks_reference_vector() {
        // The example of the Standard Webhooks specification's reference libraries.
        let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            secret.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn generated_secrets_are_whsec_with_32_bytes() {
        let secret = WebhookSecret::generate();
        assert!(secret.as_str().starts_with("whsec_"));
        assert_eq!(secret.key().unwrap().len(), 32);
        assert!(WebhookSecret::parse(secret.as_str()).is_ok());
        assert!(!format!("{secret:?}").contains(secret.as_str()));
    }

    #[test]
    fn a_rotation_header_carries_both_signatures() {
        let (new, old) = (WebhookSecret::generate(), WebhookSecret::generate());
        let header = signature_header([&new, &old], "msg_1", 1, b"{}");
        let parts: Vec<&str> = header.split(' ').collect();
        assert_eq!(
            parts,
            [new.sign("msg_1", 1, b"{}"), old.sign("msg_1", 1, b"{}")]
        );
    }

    #[test]
    fn the_default_schedule_is_eight_attempts() {
        let schedule = RetrySchedule::default();
        assert_eq!(schedule.attempts(), 8);
        assert_eq!(
            schedule.delay_after(1, 0.0, None),
            Some(Duration::from_secs(5))
        );
        assert_eq!(
            schedule.delay_after(7, 0.0, None),
            Some(Duration::from_secs(36_000))
        );
        assert_eq!(schedule.delay_after(8, 0.0, None), None);
        assert_eq!(schedule.delay_after(0, 0.0, None), None);
    }

    #[test]
    fn retry_after_postpones_but_is_capped() {
        let schedule = RetrySchedule::parse("5,5").unwrap();
        assert_eq!(
            schedule.delay_after(1, 0.0, Some(Duration::from_secs(60))),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            schedule.delay_after(1, 0.0, Some(Duration::from_secs(1))),
            Some(Duration::from_secs(5))
        );
        assert_eq!(
            schedule.delay_after(1, 0.0, Some(Duration::from_secs(86_400 * 30))),
            Some(MAX_RETRY_AFTER)
        );
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = time::macros::datetime!(2026-11-24 12:00:00 UTC);
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Tue, 24 Nov 2026 12:01:00 GMT", now),
            Some(Duration::from_secs(60))
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn the_schedule_is_configurable() {
        assert_eq!(RetrySchedule::parse("1, 2,3").unwrap().attempts(), 4);
        assert!(RetrySchedule::parse("1,x").is_err());
    }

    proptest! {
        #[test]
        fn jitter_stays_within_twenty_percent(failed in 1u32..8, jitter in -1.0f64..=1.0) {
            let schedule = RetrySchedule::default();
            let base = schedule.delay_after(failed, 0.0, None).unwrap().as_secs_f64();
            let delay = schedule.delay_after(failed, jitter, None).unwrap().as_secs_f64();
            prop_assert!(delay >= base * 0.8 - 1e-6 && delay <= base * 1.2 + 1e-6);
        }
    }
}
