//! API key secrets, their kinds and their at-rest form.
//!
//! Two kinds, named the way people know them from payment APIs:
//!
//! - **secret** keys, `sk_live_…`, for an app's servers: every API-key route;
//! - **publishable** keys, `pk_live_…`, safe in a web page: only the routes a
//!   browser needs (applying without a customer id, tracking a click).
//!
//! A key is `<kind>_live_<app ULID>_<40 base62 characters>` (≈238 bits of secret).
//! The app id inside lets a function read the app's data in the same round trip as
//! the key itself (the data is answered only once the key verifies). Keys made
//! before kinds existed are `pk_live_<40 characters>` with no app id; they are
//! stored as secret keys and keep working as such. The kind that counts is the
//! stored one, never the prefix a client sends.
//!
//! Only a key's SHA-256 is stored; a fast hash is right here because the secret is
//! long and random, so there is nothing to brute-force.

use crate::AppId;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

const SECRET_LEN: usize = 40;
const MAX_PRESENTED_LEN: usize = 128;
const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyKind {
    /// Every API-key route; for servers only. Keys stored before kinds existed
    /// have no kind attribute and are secret keys.
    #[default]
    Secret,
    /// Apply (without a customer id) and track only; safe to put in a web page.
    Publishable,
}

impl KeyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Secret => "secret",
            Self::Publishable => "publishable",
        }
    }

    /// The scannable prefix of this kind's keys.
    pub fn prefix(self) -> &'static str {
        match self {
            Self::Secret => "sk_live_",
            Self::Publishable => "pk_live_",
        }
    }
}

/// A freshly generated API key. The only place the secret exists in clear; it is
/// shown once and then dropped. `Debug` redacts it.
pub struct NewApiKey {
    secret: String,
    kind: KeyKind,
}

impl NewApiKey {
    pub fn generate(app: &AppId, kind: KeyKind) -> Self {
        let app_tail = app.as_str().strip_prefix("app_").unwrap_or(app.as_str());
        Self {
            secret: format!("{}{app_tail}_{}", kind.prefix(), random_base62(SECRET_LEN)),
            kind,
        }
    }

    pub fn secret(&self) -> &str {
        &self.secret
    }

    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    pub fn hash(&self) -> ApiKeyHash {
        ApiKeyHash::of(&self.secret)
    }

    /// The first characters, safe to show in listings so a person can tell keys
    /// apart: the kind and the start of the app id.
    pub fn display_prefix(&self) -> String {
        self.secret
            .chars()
            .take(self.kind.prefix().len() + 6)
            .collect()
    }
}

impl fmt::Debug for NewApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NewApiKey({}…)", self.display_prefix())
    }
}

/// The app id a presented key names, if it has the current shape. Only a hint for
/// reading the app's data alongside the key: the stored key decides.
pub fn presented_app(presented: &str) -> Option<AppId> {
    let rest = presented
        .strip_prefix("sk_live_")
        .or_else(|| presented.strip_prefix("pk_live_"))?;
    let (app_tail, secret) = rest.split_once('_')?;
    if secret.len() != SECRET_LEN || app_tail.len() != 26 {
        return None;
    }
    AppId::parse("apiKey", &format!("app_{app_tail}")).ok()
}

/// The SHA-256 of a key, hex-encoded: the only form a key has in the store.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ApiKeyHash(String);

impl ApiKeyHash {
    pub fn of(secret: &str) -> Self {
        let digest = Sha256::digest(secret.as_bytes());
        Self(digest.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// Hashes a key presented by a client, or `None` if it cannot possibly be a key
    /// of ours (saves a store lookup on garbage).
    pub fn of_presented(presented: &str) -> Option<Self> {
        let plausible = (presented.starts_with("pk_") || presented.starts_with("sk_"))
            && presented.len() <= MAX_PRESENTED_LEN
            && presented
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_');
        plausible.then(|| Self::of(presented))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn from_stored(hex: String) -> Self {
        Self(hex)
    }
}

impl fmt::Debug for ApiKeyHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Even the hash is a lookup handle; keep logs free of it.
        f.write_str("ApiKeyHash(…)")
    }
}

/// Random base62 text of `len` characters, without modulo bias.
pub fn random_base62(len: usize) -> String {
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 64];
    while out.len() < len {
        crate::random_bytes(&mut buf);
        for &b in &buf {
            // 248 = 62 * 4: rejecting the top values keeps every character equally likely.
            if b < 248 && out.len() < len {
                out.push(BASE62[usize::from(b % 62)] as char);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_carry_their_kind_prefix_and_their_app() {
        let app = AppId::generate();
        for kind in [KeyKind::Secret, KeyKind::Publishable] {
            let key = NewApiKey::generate(&app, kind);
            assert!(key.secret().starts_with(kind.prefix()), "{key:?}");
            assert_eq!(presented_app(key.secret()), Some(app.clone()));
            assert_ne!(key.secret(), NewApiKey::generate(&app, kind).secret());
            assert_eq!(ApiKeyHash::of_presented(key.secret()), Some(key.hash()));
        }
    }

    #[test]
    fn keys_from_before_kinds_name_no_app_but_still_hash() {
        let legacy = format!("pk_live_{}", random_base62(40));
        assert_eq!(presented_app(&legacy), None);
        assert!(ApiKeyHash::of_presented(&legacy).is_some());
    }

    #[test]
    fn the_hash_is_sha256_hex_of_the_whole_key() {
        let hash = ApiKeyHash::of("abc");
        assert_eq!(
            hash.as_str(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn presented_keys_of_the_wrong_shape_are_not_looked_up() {
        assert_eq!(ApiKeyHash::of_presented("Bearer xyz"), None);
        assert_eq!(ApiKeyHash::of_presented(&"pk_".repeat(50)), None);
        assert_eq!(ApiKeyHash::of_presented("sk_live_a-b"), None);
    }

    #[test]
    fn debug_output_never_contains_the_secret() {
        let key = NewApiKey::generate(&AppId::generate(), KeyKind::Secret);
        assert!(!format!("{key:?}").contains(key.secret()));
    }

    #[test]
    fn stored_keys_without_a_kind_are_secret_keys() {
        #[derive(Deserialize)]
        struct Stored {
            #[serde(default)]
            kind: KeyKind,
        }
        let stored: Stored = serde_json::from_str("{}").unwrap();
        assert_eq!(stored.kind, KeyKind::Secret);
    }
}
