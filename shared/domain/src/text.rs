//! Free-text fields with limits, and referral codes.

use crate::FieldError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Trims `raw` and checks it is non-empty and at most `max_chars` characters, with no
/// control characters other than newlines and tabs (which multi-line fields allow).
pub fn required_text(
    field: &'static str,
    raw: &str,
    max_chars: usize,
) -> Result<String, FieldError> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(FieldError::new(field, "is required"));
    }
    check_text(field, value, max_chars)?;
    Ok(value.to_owned())
}

/// Like [`required_text`], but an absent or blank value is `None`.
pub fn optional_text(
    field: &'static str,
    raw: Option<&str>,
    max_chars: usize,
) -> Result<Option<String>, FieldError> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(value) => {
            check_text(field, value, max_chars)?;
            Ok(Some(value.to_owned()))
        }
    }
}

fn check_text(field: &'static str, value: &str, max_chars: usize) -> Result<(), FieldError> {
    if value.chars().count() > max_chars {
        return Err(FieldError::new(
            field,
            format!("must be at most {max_chars} characters"),
        ));
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
    {
        return Err(FieldError::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(())
}

/// A website as an applicant types it. `acme.com` is accepted and stored as
/// `https://acme.com`; anything that is not http(s) is refused.
pub fn optional_website(
    field: &'static str,
    raw: Option<&str>,
) -> Result<Option<String>, FieldError> {
    let Some(value) = optional_text(field, raw, 2048)? else {
        return Ok(None);
    };
    let lower = value.to_ascii_lowercase();
    let with_scheme = if lower.starts_with("https://") || lower.starts_with("http://") {
        value
    } else if lower.contains("://") {
        return Err(FieldError::new(field, "must be an http or https URL"));
    } else {
        format!("https://{value}")
    };
    let host = with_scheme
        .split_once("://")
        .map(|(_, rest)| rest.split(['/', '?', '#']).next().unwrap_or(""))
        .unwrap_or("");
    if host.is_empty() || !host.contains('.') || with_scheme.chars().any(char::is_whitespace) {
        return Err(FieldError::new(
            field,
            "must be a URL like https://example.com",
        ));
    }
    Ok(Some(with_scheme))
}

/// A partner's referral code: 3–32 letters, digits, `-` or `_`. Shown as chosen
/// (`Jane20`), compared case-insensitively through [`ReferralCode::canonical`].
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ReferralCode(String);

impl ReferralCode {
    pub const MIN_LEN: usize = 3;
    pub const MAX_LEN: usize = 32;

    pub fn parse(field: &'static str, raw: &str) -> Result<Self, FieldError> {
        let value = raw.trim();
        let ok_len = (Self::MIN_LEN..=Self::MAX_LEN).contains(&value.len());
        let ok_chars = value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if ok_len && ok_chars {
            Ok(Self(value.to_owned()))
        } else {
            Err(FieldError::new(
                field,
                "must be 3 to 32 letters, digits, '-' or '_'",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form uniqueness is decided on: upper case.
    pub fn canonical(&self) -> String {
        self.0.to_ascii_uppercase()
    }
}

impl fmt::Display for ReferralCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ReferralCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ReferralCode({})", self.0)
    }
}

/// At most this many allowed web origins per app.
pub const MAX_ALLOWED_ORIGINS: usize = 20;

/// A web origin a browser sends in `Origin`: `https://host[:port]`, or plain
/// `http://` for `localhost` and `127.0.0.1` only (local development). No path, no
/// wildcard; scheme and host lower-cased as browsers send them.
pub fn web_origin(field: &'static str, raw: &str) -> Result<String, FieldError> {
    let value = raw.trim().to_ascii_lowercase();
    let invalid = || {
        FieldError::new(
            field,
            "must be origins like https://shop.example.com (http:// only for localhost or 127.0.0.1), without a path",
        )
    };
    let (scheme, rest) = value.split_once("://").ok_or_else(invalid)?;
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (rest, None),
    };
    let port_ok =
        port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()));
    let host_ok = !host.is_empty()
        && host.len() <= 253
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        && !host.starts_with('.')
        && !host.ends_with('.');
    let scheme_ok = match scheme {
        "https" => true,
        "http" => host == "localhost" || host == "127.0.0.1",
        _ => false,
    };
    if port_ok && host_ok && scheme_ok {
        Ok(value)
    } else {
        Err(invalid())
    }
}

/// The allowed origins of a settings change: each a [`web_origin`], at most
/// [`MAX_ALLOWED_ORIGINS`], duplicates dropped.
pub fn web_origins(field: &'static str, raw: &[String]) -> Result<Vec<String>, FieldError> {
    if raw.len() > MAX_ALLOWED_ORIGINS {
        return Err(FieldError::new(
            field,
            format!("may list at most {MAX_ALLOWED_ORIGINS} origins"),
        ));
    }
    let mut origins: Vec<String> = Vec::with_capacity(raw.len());
    for origin in raw {
        let origin = web_origin(field, origin)?;
        if !origins.contains(&origin) {
            origins.push(origin);
        }
    }
    Ok(origins)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_text_trims_and_refuses_blank() {
        assert_eq!(required_text("name", "  Jane ", 10).unwrap(), "Jane");
        assert_eq!(
            required_text("name", "   ", 10).unwrap_err().message,
            "is required"
        );
    }

    #[test]
    fn length_limits_count_characters_not_bytes() {
        assert!(required_text("name", "ééééé", 5).is_ok());
        assert!(required_text("name", "éééééé", 5).is_err());
    }

    #[test]
    fn control_characters_are_refused_but_newlines_are_kept() {
        assert!(optional_text("reason", Some("line one\nline two"), 100).is_ok());
        assert!(optional_text("reason", Some("bell\u{7}"), 100).is_err());
    }

    #[test]
    fn websites_get_a_scheme_and_must_be_http() {
        assert_eq!(
            optional_website("website", Some("acme.com"))
                .unwrap()
                .unwrap(),
            "https://acme.com"
        );
        assert_eq!(
            optional_website("website", Some("http://acme.com/about"))
                .unwrap()
                .unwrap(),
            "http://acme.com/about"
        );
        assert!(optional_website("website", Some("ftp://acme.com")).is_err());
        assert!(optional_website("website", Some("javascript://alert(1)")).is_err());
        assert!(optional_website("website", Some("not a url")).is_err());
        assert_eq!(optional_website("website", Some("  ")).unwrap(), None);
    }

    #[test]
    fn referral_codes_compare_case_insensitively() {
        let a = ReferralCode::parse("code", "Jane20").unwrap();
        let b = ReferralCode::parse("code", "JANE20").unwrap();
        assert_eq!(a.as_str(), "Jane20");
        assert_eq!(a.canonical(), b.canonical());
    }

    #[test]
    fn referral_codes_refuse_bad_shapes() {
        for raw in ["ab", "a b c", "JANE#20", &"x".repeat(33), "jäne20"] {
            assert!(
                ReferralCode::parse("code", raw).is_err(),
                "{raw:?} accepted"
            );
        }
    }

    #[test]
    fn web_origins_are_https_or_local_http_without_a_path() {
        for ok in [
            "https://shop.example.com",
            "https://example.com:8443",
            "http://localhost:3000",
            "http://127.0.0.1:5173",
            "http://localhost",
            "HTTPS://Shop.Example.com",
        ] {
            assert!(web_origin("o", ok).is_ok(), "{ok} refused");
        }
        assert_eq!(
            web_origin("o", "HTTPS://Shop.Example.com").unwrap(),
            "https://shop.example.com"
        );
        for bad in [
            "http://shop.example.com",
            "https://shop.example.com/",
            "https://shop.example.com/path",
            "*",
            "https://*.example.com",
            "shop.example.com",
            "ftp://localhost",
            "https://",
            "https://a.com:",
            "https://a.com:99999999",
            "http://192.168.0.1",
            "null",
        ] {
            assert!(web_origin("o", bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn at_most_twenty_origins_and_duplicates_count_once() {
        let many: Vec<String> = (0..21)
            .map(|i| format!("https://a{i}.example.com"))
            .collect();
        assert!(web_origins("o", &many).is_err());
        let twice = vec!["https://a.com".to_owned(), "HTTPS://A.COM".to_owned()];
        assert_eq!(web_origins("o", &twice).unwrap(), vec!["https://a.com"]);
    }
}
