//! Email addresses as the program compares them: trimmed and lower-cased.
//!
//! Two applications from `Jane@Example.com` and ` jane@example.com ` are the same
//! applicant, so the normalised form is the only form ever stored or compared.
//! The check is deliberately practical rather than RFC 5322-complete: one `@`, a
//! non-empty local part of at most 64 bytes, a dotted domain of letters, digits and
//! hyphens, no whitespace or control characters, at most 254 bytes in all.

use crate::FieldError;
use serde::{Deserialize, Serialize};
use std::fmt;

const MAX_LEN: usize = 254;
const MAX_LOCAL_LEN: usize = 64;

#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, FieldError> {
        let normalised = raw.trim().to_lowercase();
        let invalid =
            |why: &str| FieldError::new(field, format!("is not a valid email address: {why}"));
        if normalised.is_empty() {
            return Err(FieldError::new(field, "is required"));
        }
        if normalised.len() > MAX_LEN {
            return Err(invalid("longer than 254 characters"));
        }
        let Some((local, domain)) = normalised.split_once('@') else {
            return Err(invalid("missing '@'"));
        };
        if local.is_empty() || local.len() > MAX_LOCAL_LEN {
            return Err(invalid("the part before '@' must be 1 to 64 characters"));
        }
        if local
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "@<>()[]\\,;:\"".contains(c))
        {
            return Err(invalid(
                "the part before '@' has a character that is not allowed",
            ));
        }
        if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
            return Err(invalid("misplaced '.' before '@'"));
        }
        if !is_valid_domain(domain) {
            return Err(invalid("the domain must look like example.com"));
        }
        Ok(Self(normalised))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_valid_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Email({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn trims_and_lowercases() {
        let email = Email::parse("email", "  Jane.Smith@Example.COM ").unwrap();
        assert_eq!(email.as_str(), "jane.smith@example.com");
    }

    #[test]
    fn plus_addressing_and_subdomains_are_accepted() {
        assert!(Email::parse("email", "jane+partners@mail.acme.co.uk").is_ok());
    }

    #[test]
    fn malformed_addresses_are_refused() {
        for raw in [
            "",
            "   ",
            "jane",
            "jane@",
            "@example.com",
            "jane@example",
            "jane@@example.com",
            "ja ne@example.com",
            "jane@exa mple.com",
            "jane@-example.com",
            "jane@example..com",
            ".jane@example.com",
            "jane..smith@example.com",
            "jane@example.com\n",
        ] {
            let result = Email::parse("email", raw);
            // A trailing newline is whitespace and is trimmed away, which is fine.
            if raw == "jane@example.com\n" {
                assert!(result.is_ok());
            } else {
                assert!(result.is_err(), "{raw:?} was accepted");
            }
        }
    }

    #[test]
    fn the_error_names_the_field() {
        let err = Email::parse("leadEmail", "nope").unwrap_err();
        assert_eq!(err.field, "leadEmail");
    }

    #[test]
    fn overlong_addresses_are_refused() {
        let raw = format!("{}@example.com", "a".repeat(65));
        assert!(Email::parse("email", &raw).is_err());
        let raw = format!("a@{}.com", "b".repeat(260));
        assert!(Email::parse("email", &raw).is_err());
    }

    proptest! {
        #[test]
        fn parsing_is_idempotent_and_case_insensitive(local in "[a-zA-Z0-9._+-]{1,20}", domain in "[a-zA-Z0-9]{1,10}\\.[a-zA-Z]{2,5}") {
            let raw = format!("{local}@{domain}");
            if let Ok(email) = Email::parse("email", &raw) {
                let again = Email::parse("email", email.as_str()).unwrap();
                prop_assert_eq!(&again, &email);
                let upper = Email::parse("email", &raw.to_uppercase()).unwrap();
                prop_assert_eq!(upper, email);
            }
        }

        #[test]
        fn never_panics_and_accepted_values_are_normalised(raw in "\\PC{0,80}") {
            if let Ok(email) = Email::parse("email", &raw) {
                prop_assert_eq!(email.as_str(), email.as_str().trim().to_lowercase());
                prop_assert!(email.as_str().len() <= MAX_LEN);
                prop_assert_eq!(email.as_str().matches('@').count(), 1);
            }
        }
    }
}
