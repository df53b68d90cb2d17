//! Events: what happened, in the envelope every consumer sees.
//!
//! `{"id": "evt_…", "event": "partner_application_approved", "createdAt": "…",
//! "appId": "app_…", "data": {…}}`, where `data` has the documented shapes (see docs/api.md). The id is
//! fixed when the event is written (with the state change, in one transaction), so a
//! republished event is recognisably the same event.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::records::{Affiliate, Application};
use crate::webhooks::WebhookEndpoint;
use crate::{AppId, EventId, Timestamp, WebhookEndpointId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventType {
    PartnerApplicationSubmitted,
    PartnerApplicationApproved,
    PartnerApplicationRejected,
    CommissionCreated,
    CommissionApproved,
    CommissionReversed,
    PayoutCreated,
    PayoutPaid,
    DealRegistered,
    DealStatusChanged,
    EndpointDisabled,
    PartnerGroupChanged,
}

impl EventType {
    pub const ALL: &'static [EventType] = &[
        EventType::PartnerApplicationSubmitted,
        EventType::PartnerApplicationApproved,
        EventType::PartnerApplicationRejected,
        EventType::CommissionCreated,
        EventType::CommissionApproved,
        EventType::CommissionReversed,
        EventType::PayoutCreated,
        EventType::PayoutPaid,
        EventType::DealRegistered,
        EventType::DealStatusChanged,
        EventType::EndpointDisabled,
        EventType::PartnerGroupChanged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::PartnerApplicationSubmitted => "partner_application_submitted",
            Self::PartnerApplicationApproved => "partner_application_approved",
            Self::PartnerApplicationRejected => "partner_application_rejected",
            Self::CommissionCreated => "commission_created",
            Self::CommissionApproved => "commission_approved",
            Self::CommissionReversed => "commission_reversed",
            Self::PayoutCreated => "payout_created",
            Self::PayoutPaid => "payout_paid",
            Self::DealRegistered => "deal_registered",
            Self::DealStatusChanged => "deal_status_changed",
            Self::EndpointDisabled => "endpoint_disabled",
            Self::PartnerGroupChanged => "partner_group_changed",
        }
    }
}

/// The event envelope, as published and as delivered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    pub id: EventId,
    pub event: EventType,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: Timestamp,
    pub app_id: AppId,
    pub data: Value,
}

impl Event {
    /// An event of `event` about `app` with `data`, created at `at`.
    pub fn new(event: EventType, app_id: AppId, data: Value, at: Timestamp) -> Self {
        Self {
            id: EventId::generate(),
            event,
            created_at: at,
            app_id,
            data,
        }
    }

    /// `partner_application_submitted`: the application as submitted.
    /// An event whose data is a view type (a struct that serialises to an object).
    pub fn of<T: serde::Serialize>(
        event: EventType,
        app_id: AppId,
        data: &T,
        at: Timestamp,
    ) -> Self {
        // A struct with string keys always serialises; `Null` is unreachable.
        let data = serde_json::to_value(data).unwrap_or(Value::Null);
        Self::new(event, app_id, data, at)
    }

    pub fn application_submitted(application: &Application) -> Self {
        let form = &application.form;
        Self::new(
            EventType::PartnerApplicationSubmitted,
            application.app_id.clone(),
            json!({"application": {
                "id": application.id,
                "email": form.email,
                "name": form.name,
                "company": form.company,
                "website": form.website,
                "reason": form.reason,
            }}),
            application.submitted_at,
        )
    }

    /// `partner_application_approved`: the `application` (id, email, name) and
    /// `affiliate` (id, code, customer_id).
    pub fn application_approved(
        application: &Application,
        affiliate: &Affiliate,
        at: Timestamp,
    ) -> Self {
        Self::new(
            EventType::PartnerApplicationApproved,
            application.app_id.clone(),
            json!({
                "application": {"id": application.id, "email": application.form.email, "name": application.form.name},
                "affiliate": {"id": affiliate.id, "code": affiliate.code, "customer_id": affiliate.customer_id},
            }),
            at,
        )
    }

    /// `partner_application_rejected`: the `application` (id, email, name, reason —
    /// `null` when the admin gave none).
    pub fn application_rejected(
        application: &Application,
        reason: Option<&str>,
        at: Timestamp,
    ) -> Self {
        Self::new(
            EventType::PartnerApplicationRejected,
            application.app_id.clone(),
            json!({"application": {
                "id": application.id,
                "email": application.form.email,
                "name": application.form.name,
                "reason": reason,
            }}),
            at,
        )
    }
}

/// The `data` of `endpoint_disabled`.
#[derive(Serialize)]
struct EndpointDisabledData<'a> {
    endpoint: DisabledEndpoint<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DisabledEndpoint<'a> {
    id: &'a WebhookEndpointId,
    url: &'a str,
    #[serde(with = "time::serde::rfc3339")]
    failing_since: Timestamp,
    reason: &'a str,
}

impl Event {
    /// `endpoint_disabled`: the dispatcher disabled one of the app's endpoints; the
    /// `endpoint` (id, url, failingSince: when its run of failures began, reason).
    pub fn endpoint_disabled(
        endpoint: &WebhookEndpoint,
        failing_since: Timestamp,
        reason: &str,
        at: Timestamp,
    ) -> Self {
        let data = EndpointDisabledData {
            endpoint: DisabledEndpoint {
                id: &endpoint.id,
                url: &endpoint.url,
                failing_since,
                reason,
            },
        };
        Self::of(
            EventType::EndpointDisabled,
            endpoint.app_id.clone(),
            &data,
            at,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::{AffiliateStatus, ApplicationForm};
    use crate::{AffiliateId, CustomerId, Email, ReferralCode};

    fn application() -> Application {
        let form = ApplicationForm {
            email: Email::parse("email", "partner@example.com").unwrap(),
            name: "Jane Smith".into(),
            company: None,
            website: None,
            reason: None,
        };
        Application::submit(AppId::generate(), form, None, crate::now())
    }

    #[test]
    fn the_approved_payload_has_the_documented_shape() {
        let application = application();
        let affiliate = Affiliate {
            id: AffiliateId::generate(),
            app_id: application.app_id.clone(),
            customer_id: CustomerId::generate(),
            application_id: application.id.clone(),
            code: ReferralCode::parse("code", "JANE20").unwrap(),
            status: AffiliateStatus::Active,
            commission_rate: None,
            group_id: None,
            created_at: crate::now(),
        };
        let event = Event::application_approved(&application, &affiliate, crate::now());
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["event"], "partner_application_approved");
        assert!(json["id"].as_str().unwrap().starts_with("evt_"));
        assert_eq!(json["appId"], application.app_id.as_str());
        assert!(json["createdAt"].is_string());
        assert_eq!(json["data"]["application"]["email"], "partner@example.com");
        assert_eq!(json["data"]["application"]["name"], "Jane Smith");
        assert_eq!(json["data"]["affiliate"]["code"], "JANE20");
        assert_eq!(
            json["data"]["affiliate"]["customer_id"],
            affiliate.customer_id.as_str()
        );
        let back: Event = serde_json::from_value(json).unwrap();
        assert_eq!(back, event);
    }

    #[test]
    fn the_rejected_payload_carries_the_reason() {
        let event =
            Event::application_rejected(&application(), Some("Not a good fit"), crate::now());
        assert_eq!(event.data["application"]["reason"], "Not a good fit");
        assert_eq!(event.event.as_str(), "partner_application_rejected");
    }

    #[test]
    fn the_endpoint_disabled_payload_names_the_endpoint_and_since_when() {
        let endpoint = WebhookEndpoint {
            id: WebhookEndpointId::generate(),
            app_id: AppId::generate(),
            url: "https://hooks.example.com/partners".into(),
            events: vec![EventType::PayoutPaid],
            description: None,
            enabled: true,
            disabled_reason: None,
            health: Default::default(),
            secret: crate::webhooks::WebhookSecret::generate(),
            previous_secret: None,
            previous_secret_expires_at: None,
            created_at: crate::now(),
        };
        let since = time::macros::datetime!(2026-11-19 08:30:00 UTC);
        let event = Event::endpoint_disabled(&endpoint, since, "failing", crate::now());
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["event"], "endpoint_disabled");
        assert_eq!(json["appId"], endpoint.app_id.as_str());
        assert_eq!(
            json["data"],
            json!({"endpoint": {"id": endpoint.id.as_str(), "url": "https://hooks.example.com/partners",
                "failingSince": "2026-11-19T08:30:00Z", "reason": "failing"}})
        );
    }

    #[test]
    fn ids_created_before_an_instant_sort_below_its_lower_bound() {
        let before = EventId::generate();
        std::thread::sleep(std::time::Duration::from_millis(3));
        let bound = EventId::lower_bound_at(std::time::SystemTime::now());
        std::thread::sleep(std::time::Duration::from_millis(3));
        let after = EventId::generate();
        assert!(before < bound && bound < after);
    }
}
