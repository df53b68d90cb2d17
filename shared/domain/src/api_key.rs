//! API key secrets and their at-rest form.
//!
//! A key looks like `pk_live_<40 base62 characters>` (≈238 bits of entropy) so leaked
//! keys are easy to scan for. Only its SHA-256 is stored; a fast hash is right here
//! because the secret is long and random, so there is nothing to brute-force.

use sha2::{Digest, Sha256};
use std::fmt;

const PREFIX: &str = "pk_live_";
const SECRET_LEN: usize = 40;
const MAX_PRESENTED_LEN: usize = 128;
const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A freshly generated API key. The only place the secret exists in clear; it is
/// shown once and then dropped. `Debug` redacts it.
pub struct NewApiKey {
    secret: String,
}

impl NewApiKey {
    pub fn generate() -> Self {
        Self::from_secret(random_base62(SECRET_LEN))
    }

    fn from_secret(tail: String) -> Self {
        Self {
            secret: format!("{PREFIX}{tail}"),
        }
    }

    pub fn secret(&self) -> &str {
        &self.secret
    }

    pub fn hash(&self) -> ApiKeyHash {
        ApiKeyHash::of(&self.secret)
    }

    /// The first characters, safe to show in listings so a person can tell keys apart.
    pub fn display_prefix(&self) -> String {
        self.secret.chars().take(PREFIX.len() + 4).collect()
    }
}

impl fmt::Debug for NewApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NewApiKey({}…)", self.display_prefix())
    }
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
        let plausible = presented.starts_with("pk_")
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
    fn generated_keys_have_the_scannable_prefix_and_length() {
        let key = NewApiKey::generate();
        assert!(key.secret().starts_with("pk_live_"));
        assert_eq!(key.secret().len(), PREFIX.len() + SECRET_LEN);
        assert_ne!(key.secret(), NewApiKey::generate().secret());
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
        let key = NewApiKey::generate();
        assert_eq!(ApiKeyHash::of_presented(key.secret()), Some(key.hash()));
        assert_eq!(ApiKeyHash::of_presented("Bearer xyz"), None);
        assert_eq!(ApiKeyHash::of_presented(&"pk_".repeat(50)), None);
    }

    #[test]
    fn debug_output_never_contains_the_secret() {
        let key = NewApiKey::generate();
        assert!(!format!("{key:?}").contains(key.secret()));
    }
}
