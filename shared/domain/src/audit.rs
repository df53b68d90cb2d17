//! The audit log: who changed what, and when.
//!
//! Every write the program makes on behalf of someone records an [`AuditEntry`] in
//! the same transaction as the change it describes: its [`Actor`] (the credential
//! behind the request, or the program itself for scheduled work), what was done
//! ([`AuditAction`]), to what ([`AuditSubject`]) and, where it helps, a short
//! summary. Entries carry ids and figures, never secrets and never an email the
//! admin API does not already show. Their ids are time-ordered (ULIDs made from the
//! entry's time), so "newest first" and "since" are key ranges.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{ApiKeyId, AppId, CustomerId, FieldError, Timestamp};

crate::ids::prefixed_id!(
    /// An audit entry.
    AuditId, "aud"
);

/// The last id this process made, as (millisecond, random part): ids made in one
/// millisecond follow each other (ULID's monotonic mode), so one instance's
/// entries keep the order they were written in.
static LAST: std::sync::Mutex<(u64, u128)> = std::sync::Mutex::new((0, 0));

/// ULID's random part is 80 bits; a fresh one leaves its top bit clear, so the
/// entries of one millisecond can count up from it without running out.
const RANDOM_BITS: u128 = (1 << 79) - 1;

impl AuditId {
    /// A fresh id whose time part is `at` (so an entry sorts by its own time).
    pub fn generate_at(at: Timestamp) -> Self {
        let millis = millis_at_or_after(at);
        let mut fresh = [0u8; 16];
        crate::random_bytes(&mut fresh);
        let fresh = u128::from_le_bytes(fresh) & RANDOM_BITS;
        let random = match LAST.lock() {
            Ok(mut last) => {
                let random = if last.0 == millis { last.1 + 1 } else { fresh };
                *last = (millis, random);
                random
            }
            Err(_) => fresh,
        };
        Self::from_parts(millis, random)
    }

    /// The smallest id an entry made at or after `at` can have: ids below it were
    /// made earlier (ULIDs lead with their millisecond timestamp).
    pub fn lower_bound_at(at: Timestamp) -> Self {
        Self::from_parts(millis_at_or_after(at), 0)
    }

    fn from_parts(millis: u64, random: u128) -> Self {
        Self(format!(
            "{}_{}",
            Self::PREFIX,
            ulid::Ulid::from_parts(millis, random)
        ))
    }
}

/// `at` in whole milliseconds since the epoch, rounded up: stored times are whole
/// milliseconds (`crate::now`), so an entry is at or after `at` exactly when its
/// millisecond is at or after this one.
fn millis_at_or_after(at: Timestamp) -> u64 {
    let nanos = at.unix_timestamp_nanos();
    let millis = nanos.div_euclid(1_000_000) + i128::from(nanos.rem_euclid(1_000_000) != 0);
    u64::try_from(millis).unwrap_or(0)
}

/// Who made a change. Shown and stored as text: `apiKey:<keyId>`,
/// `admin:<sub>`, `partner:<customerId>`, `stripe` or `system`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Actor {
    /// A request made with one of the app's API keys: after a key leaks, its id
    /// finds everything done with it.
    ApiKey(ApiKeyId),
    /// An admin, by the `sub` claim of its admin token.
    Admin(String),
    /// A partner, through its session token or its portal link.
    Partner(CustomerId),
    /// Stripe, through a signed event to the app's Stripe integration.
    Stripe,
    /// The program itself: the scheduled jobs (commission approver, payout runner).
    System,
}

impl Actor {
    /// Characters of an admin's `sub` kept: enough for any identity provider's
    /// subject, bounded so an entry (and the key it is listed under) stays small.
    pub const MAX_ADMIN_LEN: usize = 200;

    /// An admin by its token's subject (cut to [`Actor::MAX_ADMIN_LEN`] characters).
    pub fn admin(subject: &str) -> Self {
        Self::Admin(subject.chars().take(Self::MAX_ADMIN_LEN).collect())
    }

    /// Parses the text form (`apiKey:key_…`, `admin:ops@acme.com`, `partner:user_42`,
    /// `system`).
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, FieldError> {
        let invalid = || {
            FieldError::new(
                field,
                "must be apiKey:<keyId>, admin:<sub>, partner:<customerId>, stripe or system",
            )
        };
        match raw {
            "system" => return Ok(Self::System),
            "stripe" => return Ok(Self::Stripe),
            _ => {}
        }
        let (kind, rest) = raw.split_once(':').ok_or_else(invalid)?;
        match kind {
            "apiKey" => ApiKeyId::parse(field, rest)
                .map(Self::ApiKey)
                .map_err(|_| invalid()),
            "partner" => CustomerId::parse(field, rest)
                .map(Self::Partner)
                .map_err(|_| invalid()),
            "admin" if rest.chars().count() <= Self::MAX_ADMIN_LEN => Ok(Self::Admin(rest.into())),
            _ => Err(invalid()),
        }
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ApiKey(key) => write!(f, "apiKey:{key}"),
            Self::Admin(subject) => write!(f, "admin:{subject}"),
            Self::Partner(customer) => write!(f, "partner:{customer}"),
            Self::Stripe => f.write_str("stripe"),
            Self::System => f.write_str("system"),
        }
    }
}

impl Serialize for Actor {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Actor {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse("actor", &raw).map_err(serde::de::Error::custom)
    }
}

/// What a change did, as `<subject>.<verb>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditAction {
    ApplicationSubmitted,
    ApplicationApproved,
    ApplicationRejected,
    ReferralRecorded,
    RevenueRecorded,
    RefundRecorded,
    CommissionApproved,
    SettingsUpdated,
    ApiKeyCreated,
    ApiKeyRevoked,
    WebhookEndpointCreated,
    WebhookEndpointUpdated,
    WebhookEndpointSecretRotated,
    WebhookEndpointDeleted,
    AffiliateSuspended,
    AffiliateReactivated,
    AffiliateRateChanged,
    /// A partner change that moved neither its status nor its rate.
    AffiliateUpdated,
    DealRegistered,
    DealStatusChanged,
    PayoutRunStarted,
    PayoutRunCompleted,
    PayoutRunFailed,
    PayoutCreated,
    PayoutPaid,
    IntegrationConnected,
    IntegrationDisconnected,
    GroupCreated,
    GroupUpdated,
    GroupDeleted,
    /// A partner moved to another group.
    AffiliateGroupChanged,
}

impl AuditAction {
    pub const ALL: &'static [AuditAction] = &[
        Self::ApplicationSubmitted,
        Self::ApplicationApproved,
        Self::ApplicationRejected,
        Self::ReferralRecorded,
        Self::RevenueRecorded,
        Self::RefundRecorded,
        Self::CommissionApproved,
        Self::SettingsUpdated,
        Self::ApiKeyCreated,
        Self::ApiKeyRevoked,
        Self::WebhookEndpointCreated,
        Self::WebhookEndpointUpdated,
        Self::WebhookEndpointSecretRotated,
        Self::WebhookEndpointDeleted,
        Self::AffiliateSuspended,
        Self::AffiliateReactivated,
        Self::AffiliateRateChanged,
        Self::AffiliateUpdated,
        Self::DealRegistered,
        Self::DealStatusChanged,
        Self::PayoutRunStarted,
        Self::PayoutRunCompleted,
        Self::PayoutRunFailed,
        Self::PayoutCreated,
        Self::PayoutPaid,
        Self::IntegrationConnected,
        Self::IntegrationDisconnected,
        Self::GroupCreated,
        Self::GroupUpdated,
        Self::GroupDeleted,
        Self::AffiliateGroupChanged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ApplicationSubmitted => "application.submitted",
            Self::ApplicationApproved => "application.approved",
            Self::ApplicationRejected => "application.rejected",
            Self::ReferralRecorded => "referral.recorded",
            Self::RevenueRecorded => "revenue.recorded",
            Self::RefundRecorded => "refund.recorded",
            Self::CommissionApproved => "commission.approved",
            Self::SettingsUpdated => "settings.updated",
            Self::ApiKeyCreated => "api_key.created",
            Self::ApiKeyRevoked => "api_key.revoked",
            Self::WebhookEndpointCreated => "webhook_endpoint.created",
            Self::WebhookEndpointUpdated => "webhook_endpoint.updated",
            Self::WebhookEndpointSecretRotated => "webhook_endpoint.secret_rotated",
            Self::WebhookEndpointDeleted => "webhook_endpoint.deleted",
            Self::AffiliateSuspended => "affiliate.suspended",
            Self::AffiliateReactivated => "affiliate.reactivated",
            Self::AffiliateRateChanged => "affiliate.rate_changed",
            Self::AffiliateUpdated => "affiliate.updated",
            Self::DealRegistered => "deal.registered",
            Self::DealStatusChanged => "deal.status_changed",
            Self::PayoutRunStarted => "payout_run.started",
            Self::PayoutRunCompleted => "payout_run.completed",
            Self::PayoutRunFailed => "payout_run.failed",
            Self::PayoutCreated => "payout.created",
            Self::PayoutPaid => "payout.paid",
            Self::IntegrationConnected => "integration.connected",
            Self::IntegrationDisconnected => "integration.disconnected",
            Self::GroupCreated => "group.created",
            Self::GroupUpdated => "group.updated",
            Self::GroupDeleted => "group.deleted",
            Self::AffiliateGroupChanged => "affiliate.group_changed",
        }
    }
}

impl Serialize for AuditAction {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for AuditAction {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::ALL
            .iter()
            .copied()
            .find(|action| action.as_str() == raw)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown audit action {raw:?}")))
    }
}

/// The kind of thing a change was made to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubjectKind {
    Application,
    Affiliate,
    /// A referred customer's attribution (the id is the customer's).
    Referral,
    /// A revenue event of the app (the id is its `eventId`).
    Revenue,
    Commission,
    /// The program settings (the id is the app's).
    Settings,
    ApiKey,
    WebhookEndpoint,
    Deal,
    Payout,
    PayoutRun,
    /// An integration with another service (the id names it: `stripe`).
    Integration,
    /// A partner group.
    Group,
}

impl SubjectKind {
    pub const ALL: &'static [SubjectKind] = &[
        Self::Application,
        Self::Affiliate,
        Self::Referral,
        Self::Revenue,
        Self::Commission,
        Self::Settings,
        Self::ApiKey,
        Self::WebhookEndpoint,
        Self::Deal,
        Self::Payout,
        Self::PayoutRun,
        Self::Integration,
        Self::Group,
    ];
}

/// What a change was made to: `{kind, id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditSubject {
    pub kind: SubjectKind,
    pub id: String,
}

impl AuditSubject {
    pub fn new(kind: SubjectKind, id: impl fmt::Display) -> Self {
        Self {
            kind,
            id: id.to_string(),
        }
    }
}

/// One entry of an app's audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    pub id: AuditId,
    pub app_id: AppId,
    #[serde(with = "time::serde::rfc3339")]
    pub at: Timestamp,
    pub actor: Actor,
    pub action: AuditAction,
    pub subject: AuditSubject,
    /// A line for people: figures and ids, never a secret or an email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
}

impl AuditEntry {
    /// An entry made now.
    pub fn new(app_id: AppId, actor: Actor, action: AuditAction, subject: AuditSubject) -> Self {
        let at = crate::now();
        Self {
            id: AuditId::generate_at(at),
            app_id,
            at,
            actor,
            action,
            subject,
            summary: None,
        }
    }

    pub fn with_summary(self, summary: impl Into<String>) -> Self {
        Self {
            summary: Some(summary.into()),
            ..self
        }
    }
}

/// The summary of a change that carries some of an object's fields:
/// `fields given: url, enabled` (names only, never values).
pub fn fields_given(fields: &[(&str, bool)]) -> String {
    let given: Vec<&str> = fields
        .iter()
        .filter_map(|&(name, present)| present.then_some(name))
        .collect();
    if given.is_empty() {
        "no fields given".to_owned()
    } else {
        format!("fields given: {}", given.join(", "))
    }
}

#[cfg(test)]
mod tests;
