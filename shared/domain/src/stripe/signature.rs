//! Stripe's webhook signatures, verified as Stripe's own libraries verify them.
//!
//! `Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>…]` (other schemes such as
//! `v0` are ignored). Each `v1` is the HMAC-SHA256 of `<t>.<raw body>` keyed with
//! the endpoint's signing secret, the whole `whsec_…` text as bytes. Any `v1` may
//! match (Stripe sends one per active secret while a secret is rolled); each is
//! compared in constant time; a timestamp more than [`TOLERANCE_SECONDS`] old is
//! refused, so a captured request cannot be replayed later.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::FieldError;

/// How old a signature's timestamp may be: Stripe's libraries' default.
pub const TOLERANCE_SECONDS: i64 = 300;

/// An endpoint's signing secret as Stripe's dashboard shows it (`whsec_…`). Never
/// shown back, never logged: `Debug` prints only its kind.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct SigningSecret(String);

impl SigningSecret {
    /// `whsec_` and 16 to 200 letters, digits, `+`, `/` or `=`.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, FieldError> {
        let rest = raw.strip_prefix("whsec_").unwrap_or_default();
        let ok = (16..=200).contains(&rest.len())
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b));
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(FieldError::new(
                field,
                "must be the endpoint's signing secret from Stripe: whsec_ and 16 to 200 letters or digits",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningSecret(…)")
    }
}

/// Why a request's signature does not hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the Stripe-Signature header is missing")]
    Missing,
    #[error("the Stripe-Signature header has no timestamp or no v1 signature")]
    Malformed,
    #[error("no v1 signature matches the body and the signing secret")]
    NoMatch,
    #[error("the signature's timestamp is more than 300 seconds old")]
    Stale,
}

/// Verifies `header` (the `Stripe-Signature` value) over the raw `body` at `now`
/// (unix seconds).
pub fn verify(
    header: Option<&str>,
    body: &[u8],
    secret: &SigningSecret,
    now: i64,
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => timestamp = value.parse::<i64>().ok(),
            Some(("v1", value)) => signatures.extend(decode_hex(value)),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    if signatures.is_empty() {
        return Err(SignatureError::Malformed);
    }
    let matches = signatures.iter().any(|signature| {
        // HMAC takes a key of any length; `new_from_slice` cannot fail for it.
        Hmac::<Sha256>::new_from_slice(secret.as_str().as_bytes()).is_ok_and(|mut mac| {
            mac.update(timestamp.to_string().as_bytes());
            mac.update(b".");
            mac.update(body);
            mac.verify_slice(signature).is_ok()
        })
    });
    if !matches {
        return Err(SignatureError::NoMatch);
    }
    // Checked after the signature, as Stripe's libraries do: an attacker learns
    // nothing about the secret from which error it gets.
    if now.saturating_sub(timestamp) > TOLERANCE_SECONDS {
        return Err(SignatureError::Stale);
    }
    Ok(())
}

/// Lower- or upper-case hex; `None` for anything else (that signature cannot match).
fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn secret() -> SigningSecret {
        SigningSecret::parse("s", "whsec_testSecretOfEnoughLength").unwrap()
    }

    fn sign(secret: &str, t: i64, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{t}.").as_bytes());
        mac.update(body);
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    #[test]
    fn any_matching_v1_holds_and_other_schemes_are_ignored() {
        let body = br#"{"id":"evt_1"}"#;
        let good = sign(secret().as_str(), 1000, body);
        let header = format!("t=1000,v0=abcd,v1={},v1={good}", "00".repeat(32));
        assert_eq!(verify(Some(&header), body, &secret(), 1000), Ok(()));
    }

    #[test]
    fn a_changed_body_another_secret_or_an_old_timestamp_fail() {
        let body = br#"{"id":"evt_1"}"#;
        let header = format!("t=1000,v1={}", sign(secret().as_str(), 1000, body));
        assert_eq!(
            verify(Some(&header), br#"{"id":"evt_2"}"#, &secret(), 1000),
            Err(SignatureError::NoMatch)
        );
        let other = SigningSecret::parse("s", "whsec_anotherSecretOfEnoughLength").unwrap();
        assert_eq!(
            verify(Some(&header), body, &other, 1000),
            Err(SignatureError::NoMatch)
        );
        assert_eq!(
            verify(Some(&header), body, &secret(), 1000 + TOLERANCE_SECONDS),
            Ok(())
        );
        assert_eq!(
            verify(Some(&header), body, &secret(), 1001 + TOLERANCE_SECONDS),
            Err(SignatureError::Stale)
        );
    }

    #[test]
    fn missing_or_malformed_headers_are_named() {
        assert_eq!(
            verify(None, b"{}", &secret(), 0),
            Err(SignatureError::Missing)
        );
        for header in ["", "t=1", "v1=00", "t=x,v1=00", "garbage"] {
            assert_eq!(
                verify(Some(header), b"{}", &secret(), 0),
                Err(SignatureError::Malformed),
                "{header}"
            );
        }
    }

    #[test]
    fn secrets_are_checked_and_never_printed() {
        assert!(SigningSecret::parse("s", "sk_live_123").is_err());
        assert!(SigningSecret::parse("s", "whsec_short").is_err());
        assert_eq!(format!("{:?}", secret()), "SigningSecret(…)");
    }
}
