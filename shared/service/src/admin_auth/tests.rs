//! Admin tokens: minting, verifying, and what is refused.

use super::*;

fn signed(claims: serde_json::Value, secret: &str) -> String {
    crate::jwt_crypto::install();
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

#[test]
fn long_lived_future_and_not_yet_valid_tokens_are_refused() {
    let mut config = AdminJwtConfig::defaults();
    config.secret = Some("k".repeat(40));
    let verifier = AdminVerifier::from_config(&config).unwrap();
    let now = unix_now();
    let claims = |iat: u64, exp: u64, nbf: Option<u64>| {
        let mut c = serde_json::json!({"iss": "partner-program", "aud": "partner-program-admin",
            "sub": "ops", "iat": iat, "exp": exp, "app_ids": []});
        if let Some(nbf) = nbf {
            c["nbf"] = serde_json::json!(nbf);
        }
        signed(c, &"k".repeat(40))
    };
    assert!(verifier.verify(&claims(now, now + 3600, None)).is_ok());
    assert!(matches!(
        verifier.verify(&claims(now, now + 48 * 3600, None)),
        Err(TokenError::TooLong(_))
    ));
    assert!(matches!(
        verifier.verify(&claims(now + 3600, now + 7200, None)),
        Err(TokenError::IssuedInTheFuture)
    ));
    assert!(
        verifier
            .verify(&claims(now, now + 3600, Some(now + 600)))
            .is_err()
    );
    // A token without `iat` counts its lifetime from now.
    let no_iat = signed(
        serde_json::json!({"iss": "partner-program", "aud": "partner-program-admin",
            "exp": now + 48 * 3600, "app_ids": []}),
        &"k".repeat(40),
    );
    assert!(verifier.verify(&no_iat).is_err());
    // partnerctl refuses to mint what would be refused.
    assert!(matches!(
        mint(&config, "ops", &[], Duration::from_secs(48 * 3600)),
        Err(TokenError::TooLong(_))
    ));
}

fn config(secret: &str) -> AdminJwtConfig {
    AdminJwtConfig {
        secret: Some(secret.to_owned()),
        ..AdminJwtConfig::defaults()
    }
}

fn verifier(config: &AdminJwtConfig) -> AdminVerifier {
    AdminVerifier::from_config(config).unwrap()
}

#[test]
fn a_minted_token_verifies_and_grants_its_app_only() {
    let app = AppId::generate();
    let token = mint(
        &config("s3cret"),
        "ops",
        std::slice::from_ref(&app),
        Duration::from_secs(60),
    )
    .unwrap();
    let claims = verifier(&config("s3cret")).verify(&token).unwrap();
    assert!(claims.grants(&app));
    assert!(!claims.grants(&AppId::generate()));
}

#[test]
fn a_console_login_token_is_no_admin_token_and_the_other_way_round() {
    let app = AppId::generate();
    let config = config("s3cret");
    let login = mint_console_login(
        &config,
        "ops",
        std::slice::from_ref(&app),
        Duration::from_secs(60),
    )
    .unwrap();
    let admin = mint(
        &config,
        "ops",
        std::slice::from_ref(&app),
        Duration::from_secs(60),
    )
    .unwrap();
    let verifier = verifier(&config);
    assert!(verifier.verify(&login).is_err());
    assert!(verifier.verify_console_login(&login).unwrap().grants(&app));
    assert!(verifier.verify_console_login(&admin).is_err());
    assert!(verifier.verify(&admin).is_ok());
}

#[test]
fn a_token_signed_with_another_secret_is_refused() {
    let token = mint(
        &config("one"),
        "ops",
        &[AppId::generate()],
        Duration::from_secs(60),
    )
    .unwrap();
    assert!(verifier(&config("two")).verify(&token).is_err());
}

#[test]
fn a_token_for_another_audience_or_issuer_is_refused() {
    let token = mint(
        &config("s"),
        "ops",
        &[AppId::generate()],
        Duration::from_secs(60),
    )
    .unwrap();
    let mut other_aud = config("s");
    other_aud.audience = "someone-else".into();
    assert!(verifier(&other_aud).verify(&token).is_err());
    let mut other_iss = config("s");
    other_iss.issuer = "someone-else".into();
    assert!(verifier(&other_iss).verify(&token).is_err());
}

#[test]
fn an_unsigned_token_is_refused() {
    use base64::Engine as _;
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header = engine.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let claims = engine.encode(
        format!(
            r#"{{"iss":"partner-program","aud":"partner-program-admin","sub":"x","iat":0,"exp":{},"app_ids":[]}}"#,
            unix_now() + 60
        )
        .as_bytes(),
    );
    assert!(
        verifier(&config("s"))
            .verify(&format!("{header}.{claims}."))
            .is_err()
    );
}

#[test]
fn with_no_key_configured_nothing_verifies() {
    let token = mint(
        &config("s"),
        "ops",
        &[AppId::generate()],
        Duration::from_secs(60),
    )
    .unwrap();
    let none = verifier(&AdminJwtConfig::defaults());
    assert!(!none.is_configured());
    assert!(none.verify(&token).is_err());
}
