//! Stripe: the webhook signature scheme, the integration's record, and the events
//! the program turns into attributions, payments and refunds.

pub mod event;
pub mod signature;

use serde::{Deserialize, Serialize};

use crate::{AppId, Timestamp};

pub use event::{Action, StripeEvent, StripeId};
pub use signature::{SignatureError, SigningSecret};

/// An app's connection to its Stripe account: the signing secret of the webhook
/// endpoint the app made in Stripe's dashboard, and which mode's events count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StripeIntegration {
    pub app_id: AppId,
    pub webhook_secret: SigningSecret,
    /// Live-mode events count (`true`), or test-mode ones; the other mode's are
    /// answered and logged as ignored.
    pub livemode: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub connected_at: Timestamp,
}

/// What became of a received event, as the integration's event log shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// A customer was attributed to a partner.
    Attributed,
    /// A payment earned a commission.
    CommissionCreated,
    /// A payment was recorded without a commission (`reason` says why).
    RevenueRecorded,
    /// A refund was recorded; `created.commissionId` is its reversal, if any.
    RefundRecorded,
    /// A promotion code was linked to a partner.
    PromotionCodeLinked,
    /// Nothing to do (`reason` says why).
    Ignored,
    /// The event could not be applied and never will be as it is (`reason` says
    /// why); Stripe is told it arrived, so it is not sent again.
    Failed,
}

/// The ids of what an event created.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Created {
    /// The customer it attributed, or whose revenue it recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<crate::CustomerId>,
    /// The revenue event it recorded (the invoice, session or refund step).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revenue_event_id: Option<String>,
    /// The commission or reversal it created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commission_id: Option<crate::ledger::CommissionId>,
    /// The promotion code it linked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promotion_code: Option<StripeId>,
}

/// One received event, as logged: each Stripe event id is handled once, and its
/// log entry is what says so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceivedEvent {
    pub app_id: AppId,
    pub id: StripeId,
    /// Stripe's event type (`invoice.paid`).
    pub event_type: String,
    pub livemode: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: Timestamp,
    pub outcome: Outcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default)]
    pub created: Created,
}

impl ReceivedEvent {
    /// Longest event type kept (Stripe's are under 60 characters).
    pub const MAX_TYPE_LEN: usize = 100;

    pub fn new(app_id: AppId, event: &StripeEvent, outcome: Outcome) -> Self {
        Self {
            app_id,
            id: event.id.clone(),
            event_type: event.kind.chars().take(Self::MAX_TYPE_LEN).collect(),
            livemode: event.livemode,
            received_at: crate::now(),
            outcome,
            reason: None,
            created: Created::default(),
        }
    }

    pub fn because(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }
}
