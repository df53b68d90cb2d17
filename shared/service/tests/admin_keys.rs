//! Admin tokens from an identity provider: RS256 and ES256 with a PEM public key,
//! RS256 through a JWKS, and the algorithm confusions that must fail.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use partner_domain::AppId;
use partner_service::admin_auth::AdminVerifier;
use partner_service::config::AdminJwtConfig;
use serde_json::json;

fn fixture(name: &str) -> String {
    std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name),
    )
    .unwrap()
}

fn claims(app: &AppId) -> serde_json::Value {
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 600;
    json!({"iss": "partner-program", "aud": "partner-program-admin", "sub": "idp-user", "exp": exp, "app_ids": [app.as_str()]})
}

fn sign(algorithm: Algorithm, kid: Option<&str>, key: &EncodingKey, app: &AppId) -> String {
    let mut header = Header::new(algorithm);
    header.kid = kid.map(str::to_owned);
    partner_service::jwt_crypto::install();
    jsonwebtoken::encode(&header, &claims(app), key).unwrap()
}

fn config(edit: impl FnOnce(&mut AdminJwtConfig)) -> AdminJwtConfig {
    let mut config = AdminJwtConfig::defaults();
    edit(&mut config);
    config
}

#[test]
fn rs256_tokens_verify_with_the_configured_public_key() {
    let app = AppId::generate();
    let key = EncodingKey::from_rsa_pem(fixture("rsa-private.pem").as_bytes()).unwrap();
    let verifier = AdminVerifier::from_config(&config(|c| {
        c.public_key_pem = Some(fixture("rsa-public.pem"))
    }))
    .unwrap();
    let verified = verifier
        .verify(&sign(Algorithm::RS256, None, &key, &app))
        .unwrap();
    assert!(verified.grants(&app));
}

#[test]
fn es256_tokens_verify_with_the_configured_public_key() {
    let app = AppId::generate();
    let key = EncodingKey::from_ec_pem(fixture("ec-private.pem").as_bytes()).unwrap();
    let verifier = AdminVerifier::from_config(&config(|c| {
        c.public_key_pem = Some(fixture("ec-public.pem"));
        c.public_key_algorithm = Some("ES256".into());
    }))
    .unwrap();
    assert!(
        verifier
            .verify(&sign(Algorithm::ES256, None, &key, &app))
            .unwrap()
            .grants(&app)
    );
}

#[test]
fn rs256_tokens_verify_through_a_jwks_by_kid() {
    let app = AppId::generate();
    let key = EncodingKey::from_rsa_pem(fixture("rsa-private.pem").as_bytes()).unwrap();
    let verifier =
        AdminVerifier::from_config(&config(|c| c.jwks = Some(fixture("jwks.json")))).unwrap();
    assert!(
        verifier
            .verify(&sign(Algorithm::RS256, Some("test-rsa"), &key, &app))
            .is_ok()
    );
    assert!(
        verifier
            .verify(&sign(Algorithm::RS256, Some("another-kid"), &key, &app))
            .is_err()
    );
}

#[test]
fn an_hs256_token_signed_with_the_public_key_text_is_refused() {
    // The classic confusion: use the (public) RSA key as an HMAC secret.
    let app = AppId::generate();
    let public = fixture("rsa-public.pem");
    let forged = sign(
        Algorithm::HS256,
        None,
        &EncodingKey::from_secret(public.as_bytes()),
        &app,
    );
    let verifier =
        AdminVerifier::from_config(&config(|c| c.public_key_pem = Some(public))).unwrap();
    assert!(verifier.verify(&forged).is_err());
}

#[test]
fn a_token_signed_by_another_key_pair_is_refused() {
    let app = AppId::generate();
    let ec = EncodingKey::from_ec_pem(fixture("ec-private.pem").as_bytes()).unwrap();
    let verifier = AdminVerifier::from_config(&config(|c| {
        c.public_key_pem = Some(fixture("rsa-public.pem"))
    }))
    .unwrap();
    assert!(
        verifier
            .verify(&sign(Algorithm::ES256, None, &ec, &app))
            .is_err()
    );
}

#[test]
fn a_malformed_key_configuration_fails_at_startup() {
    assert!(
        AdminVerifier::from_config(&config(|c| c.public_key_pem = Some("not a pem".into())))
            .is_err()
    );
    assert!(AdminVerifier::from_config(&config(|c| c.jwks = Some("{".into()))).is_err());
    assert!(
        AdminVerifier::from_config(&config(|c| {
            c.public_key_pem = Some(fixture("rsa-public.pem"));
            c.public_key_algorithm = Some("HS256".into());
        }))
        .is_err()
    );
}

#[test]
fn with_a_pem_key_and_a_jwks_each_token_finds_its_own_key() {
    // Key rotation: the old key as a PEM (no kid), the new one in a JWKS.
    let app = AppId::generate();
    let verifier = AdminVerifier::from_config(&config(|c| {
        c.public_key_pem = Some(fixture("rsa2-public.pem"));
        c.jwks = Some(fixture("jwks.json"));
    }))
    .unwrap();
    let new_key = EncodingKey::from_rsa_pem(fixture("rsa-private.pem").as_bytes()).unwrap();
    let old_key = EncodingKey::from_rsa_pem(fixture("rsa2-private.pem").as_bytes()).unwrap();
    assert!(
        verifier
            .verify(&sign(Algorithm::RS256, Some("test-rsa"), &new_key, &app))
            .is_ok(),
        "the JWKS key by its kid"
    );
    assert!(
        verifier
            .verify(&sign(Algorithm::RS256, None, &old_key, &app))
            .is_ok(),
        "the PEM key without a kid"
    );
}

/// Signatures made by openssl, not by this crate: the verification is the standard
/// one, not merely consistent with its own signing.
#[test]
fn signatures_made_by_openssl_verify_and_altered_ones_do_not() {
    use jsonwebtoken::DecodingKey;
    use jsonwebtoken::crypto::verify;
    partner_service::jwt_crypto::install();
    let jwk = serde_json::from_str::<jsonwebtoken::jwk::JwkSet>(&fixture("jwks.json"))
        .unwrap()
        .keys
        .remove(0);
    let cases = [
        (
            "rs256-openssl.jwt",
            Algorithm::RS256,
            DecodingKey::from_rsa_pem(fixture("rsa-public.pem").as_bytes()).unwrap(),
        ),
        (
            "rs256-openssl.jwt",
            Algorithm::RS256,
            DecodingKey::from_jwk(&jwk).unwrap(),
        ),
        (
            "es256-openssl.jwt",
            Algorithm::ES256,
            DecodingKey::from_ec_pem(fixture("ec-public.pem").as_bytes()).unwrap(),
        ),
    ];
    for (file, algorithm, key) in cases {
        let token = fixture(file);
        let (message, signature) = token.trim().rsplit_once('.').unwrap();
        assert!(
            verify(signature, message.as_bytes(), &key, algorithm).unwrap(),
            "{file}"
        );
        let altered = format!("{message}x");
        assert!(
            !verify(signature, altered.as_bytes(), &key, algorithm).unwrap(),
            "{file}"
        );
    }
}
