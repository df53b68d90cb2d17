//! Prefixed, sortable identifiers (`app_…`, `apl_…`, `aff_…`, `key_…`), and the
//! customer id, which is the app's own.
//!
//! New ids are a ULID behind the prefix, so they sort by creation time; that is what
//! makes "newest first" a plain key-order query. Parsing accepts any id with the
//! right prefix and a short, URL-safe tail, because ids also arrive from clients in
//! paths and bodies and an unknown-but-well-formed id is "not found", not "invalid".

const MAX_TAIL_LEN: usize = 64;

macro_rules! prefixed_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            /// A fresh id, sortable by creation time.
            pub fn generate() -> Self {
                Self(format!("{}_{}", $prefix, ulid::Ulid::generate()))
            }

            /// Accepts `<prefix>_<tail>` where the tail is 1–64 ASCII letters, digits,
            /// `-` or `_`.
            pub fn parse(field: &'static str, raw: &str) -> Result<Self, $crate::FieldError> {
                if $crate::ids::is_valid(raw, $prefix) {
                    Ok(Self(raw.to_owned()))
                } else {
                    Err($crate::FieldError::new(
                        field,
                        format!("must look like {}_… (letters, digits, '-' or '_')", $prefix),
                    ))
                }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = <String as ::serde::Deserialize>::deserialize(d)?;
                Self::parse(stringify!($name), &raw).map_err(serde::de::Error::custom)
            }
        }
    };
}

// Other modules of this crate declare their ids with it too.
pub(crate) use prefixed_id;

pub(crate) fn is_valid(raw: &str, prefix: &str) -> bool {
    let Some(tail) = raw
        .strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('_'))
    else {
        return false;
    };
    !tail.is_empty()
        && tail.len() <= MAX_TAIL_LEN
        && tail
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

prefixed_id!(
    /// A tenant: every record belongs to exactly one app.
    AppId, "app"
);
prefixed_id!(
    /// A partner application.
    ApplicationId, "apl"
);
prefixed_id!(
    /// A partner (affiliate) record.
    AffiliateId, "aff"
);
/// A customer (user) of an app, by the id the app itself uses for it: `user_42`,
/// `auth0|abc123`, a UUID or `4711` alike. 1–128 letters, digits and `_ . : @ | -`
/// (nothing that needs escaping in a key or a log line). When an approval has to
/// create a customer the app never named, it generates `cust_<ULID>`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CustomerId(String);

impl CustomerId {
    pub const MAX_LEN: usize = 128;

    /// A fresh `cust_<ULID>`, for a customer the app did not name.
    pub fn generate() -> Self {
        Self(format!("cust_{}", ulid::Ulid::generate()))
    }

    pub fn parse(field: &'static str, raw: &str) -> Result<Self, crate::FieldError> {
        let ok = !raw.is_empty()
            && raw.len() <= Self::MAX_LEN
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_.:@|-".contains(&b));
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(crate::FieldError::new(
                field,
                "must be 1 to 128 letters, digits or _ . : @ | -",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl ::std::fmt::Display for CustomerId {
    fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl ::std::fmt::Debug for CustomerId {
    fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl ::serde::Serialize for CustomerId {
    fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> ::serde::Deserialize<'de> for CustomerId {
    fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = <String as ::serde::Deserialize>::deserialize(d)?;
        Self::parse("customerId", &raw).map_err(serde::de::Error::custom)
    }
}

prefixed_id!(
    /// An API key's public identifier (never the secret).
    ApiKeyId, "key"
);
prefixed_id!(
    /// A webhook endpoint.
    WebhookEndpointId, "whe"
);
prefixed_id!(
    /// The delivery of one event to one endpoint: derived from both, so a duplicate
    /// of the event finds the same delivery (the idempotency record).
    DeliveryId, "whd"
);

impl DeliveryId {
    pub fn of(event: &EventId, endpoint: &WebhookEndpointId) -> Self {
        let tail = |id: &str| {
            id.split_once('_')
                .map(|(_, t)| t.to_owned())
                .unwrap_or_default()
        };
        Self(format!(
            "whd_{}_{}",
            tail(event.as_str()),
            tail(endpoint.as_str())
        ))
    }

    /// The event and endpoint a delivery id was made from.
    pub fn parts(&self) -> Option<(EventId, WebhookEndpointId)> {
        let (event, endpoint) = self.0.strip_prefix("whd_")?.split_once('_')?;
        Some((
            EventId::parse("deliveryId", &format!("evt_{event}")).ok()?,
            WebhookEndpointId::parse("deliveryId", &format!("whe_{endpoint}")).ok()?,
        ))
    }
}

prefixed_id!(
    /// An event: fixed when the event is written, so every publish of it (and every
    /// webhook delivery) carries the same id.
    EventId, "evt"
);

impl EventId {
    /// The smallest id an event created at `at` can have: ids below it were created
    /// earlier (ULIDs lead with their millisecond timestamp).
    pub fn lower_bound_at(at: std::time::SystemTime) -> Self {
        let ulid = ulid::Ulid::from_parts(
            at.duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as u64)
                .unwrap_or(0),
            0,
        );
        Self(format!("evt_{ulid}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_carry_their_prefix_and_parse_back() {
        let id = ApplicationId::generate();
        assert!(id.as_str().starts_with("apl_"));
        assert_eq!(ApplicationId::parse("id", id.as_str()), Ok(id));
    }

    #[test]
    fn generated_ids_sort_by_creation_time() {
        let first = AppId::generate();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let second = AppId::generate();
        assert!(first < second);
    }

    #[test]
    fn the_apps_own_customer_ids_are_well_formed() {
        for raw in [
            "cust_123",
            "user_42",
            "auth0|abc123",
            "4711",
            "u-1001",
            "jane@example.com",
            "3f2b8a1c-9d4e-4c1a-8f2e-1b2c3d4e5f60",
            "google-oauth2:1234.5",
        ] {
            assert!(CustomerId::parse("id", raw).is_ok(), "{raw:?} refused");
        }
        assert!(CustomerId::generate().as_str().starts_with("cust_"));
        assert!(CustomerId::parse("id", &"a".repeat(128)).is_ok());
    }

    #[test]
    fn empty_long_or_unsafe_customer_ids_are_refused() {
        for raw in ["", "cust 1", "a/b", "a#b", "a?b", "é", "a\nb", "%41"] {
            assert!(CustomerId::parse("id", raw).is_err(), "{raw:?} accepted");
        }
        assert!(CustomerId::parse("id", &"a".repeat(129)).is_err());
    }

    #[test]
    fn prefixed_ids_refuse_the_wrong_prefix_an_empty_tail_and_unsafe_characters() {
        for raw in [
            "app_123", "apl_", "apl", "apl_12#3", "apl_a/b", "", "apl_ 1",
        ] {
            assert!(ApplicationId::parse("id", raw).is_err(), "{raw:?} accepted");
        }
        let long = format!("apl_{}", "a".repeat(65));
        assert!(ApplicationId::parse("id", &long).is_err());
    }
}
