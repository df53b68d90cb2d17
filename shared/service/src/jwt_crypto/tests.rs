use jsonwebtoken::crypto::{sign, verify};

use super::*;

/// The HS256 example token of RFC 7515's appendix A.1, signed elsewhere.
const RFC7515_HS256: &str = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const RFC7515_KEY: &str =
    "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";

fn split(token: &str) -> (&str, &str) {
    token.rsplit_once('.').unwrap()
}

#[test]
fn verifies_a_token_signed_by_another_implementation() {
    install();
    let key = DecodingKey::from_jwk(
        &serde_json::from_value(serde_json::json!({"kty": "oct", "k": RFC7515_KEY})).unwrap(),
    )
    .unwrap();
    let (message, signature) = split(RFC7515_HS256);
    assert!(verify(signature, message.as_bytes(), &key, Algorithm::HS256).unwrap());
    let tampered = message.replace("eyJpc3Mi", "eyJpc3Ni");
    assert!(!verify(signature, tampered.as_bytes(), &key, Algorithm::HS256).unwrap());
}

#[test]
fn signs_what_it_verifies_and_nothing_else() {
    install();
    let signature = sign(
        b"message",
        &EncodingKey::from_secret(b"secret"),
        Algorithm::HS256,
    )
    .unwrap();
    let key = DecodingKey::from_secret(b"secret");
    assert!(verify(&signature, b"message", &key, Algorithm::HS256).unwrap());
    assert!(!verify(&signature, b"massage", &key, Algorithm::HS256).unwrap());
    let other = DecodingKey::from_secret(b"another secret");
    assert!(!verify(&signature, b"message", &other, Algorithm::HS256).unwrap());
}

#[test]
fn refuses_algorithms_it_does_not_provide() {
    install();
    let secret = EncodingKey::from_secret(b"secret");
    for algorithm in [Algorithm::HS384, Algorithm::HS512] {
        let err = sign(b"message", &secret, algorithm).unwrap_err();
        assert_eq!(
            err.kind(),
            &ErrorKind::UnsupportedAlgorithm,
            "{algorithm:?}"
        );
    }
    let key = DecodingKey::from_rsa_raw_components(&[1; 256], &[1, 0, 1]);
    let err = verify("c2ln", b"message", &key, Algorithm::PS256).unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::UnsupportedAlgorithm);
}

#[test]
fn never_uses_a_key_with_another_family_s_algorithm() {
    install();
    // An RSA public key offered as an HMAC secret: the classic confusion.
    let key = DecodingKey::from_rsa_der(b"not really a key");
    let err = verify("c2ln", b"message", &key, Algorithm::HS256).unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::InvalidKeyFormat);
    let secret = EncodingKey::from_secret(b"secret");
    let err = sign(b"message", &secret, Algorithm::RS256).unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::InvalidKeyFormat);
}
