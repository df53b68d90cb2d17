//! Key shapes every app-scoped key and marker must keep.

use super::*;

#[test]
fn code_markers_ignore_case() {
    let app = AppId::generate();
    let lower = ReferralCode::parse("code", "jane20").unwrap();
    let upper = ReferralCode::parse("code", "JANE20").unwrap();
    assert_eq!(referral_code(&app, &lower), referral_code(&app, &upper));
}

#[test]
fn every_app_scoped_key_leads_with_its_app() {
    let app = AppId::generate();
    let email = Email::parse("email", "a@b.co").unwrap();
    let keys = [
        settings(&app),
        application(&app, &ApplicationId::generate()),
        application_by_email(&app, &email),
        customer(&app, &CustomerId::generate()),
        customer_by_email(&app, &email),
        affiliate_of_customer(&app, &CustomerId::generate()),
        webhook_endpoint(&app, &WebhookEndpointId::generate()),
        webhook_endpoint_count(&app),
        stripe_integration(&app),
    ];
    for key in keys {
        assert!(key.pk.starts_with(&format!("APP#{app}")), "{key:?}");
    }
}
