//! Admin JWT verification on arbitrary tokens never panics and never accepts one: a
//! fuzzer cannot produce a valid HMAC for a secret it does not know, so any `Ok` is
//! a verifier that skipped a check (`alg: none`, algorithm confusion, a missing claim).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use partner_service::admin_auth::AdminVerifier;
use partner_service::config::AdminJwtConfig;

fn verifier() -> &'static AdminVerifier {
    static VERIFIER: OnceLock<AdminVerifier> = OnceLock::new();
    VERIFIER.get_or_init(|| {
        let config = AdminJwtConfig {
            secret: Some("fuzzing-secret-nobody-knows".to_owned()),
            public_key_pem: None,
            public_key_algorithm: None,
            jwks: None,
            issuer: "partner-program".to_owned(),
            audience: "partner-program-admin".to_owned(),
        };
        AdminVerifier::from_config(&config).expect("verifier")
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(token) = std::str::from_utf8(data) {
        assert!(verifier().verify(token).is_err(), "accepted {token:?}");
    }
});
