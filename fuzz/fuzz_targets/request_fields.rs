//! The field parsers of request bodies and query strings: whatever they accept is
//! already in its normal form (parsing it again gives the same value), and nothing
//! panics on any input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use partner_domain::{Email, ReferralCode, webhooks::WebhookUrl};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(email) = Email::parse("email", text) {
        assert!(Email::parse("email", email.as_str()).is_ok_and(|again| again == email));
    }
    if let Ok(code) = ReferralCode::parse("code", text) {
        assert!(ReferralCode::parse("code", code.as_str()).is_ok_and(|again| again == code));
    }
    if let Ok(url) = WebhookUrl::parse("url", text) {
        let again = WebhookUrl::parse("url", url.as_str());
        assert!(again.is_ok_and(|again| again.as_str() == url.as_str()), "{text:?}");
    }
    let _ = partner_domain::money::parse_hundredths("amount", text);
});
