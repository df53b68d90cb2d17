//! The cryptography behind every JWT the service signs or verifies, on `ring`.
//!
//! `jsonwebtoken` leaves its cryptography to a provider installed once per process.
//! `ring` is linked anyway for TLS, so providing it here, instead of the crate's
//! RustCrypto backend (separate RSA, P-256, P-384 and Ed25519 crates), keeps each
//! function's binary inside its size budget. Only what the service accepts is
//! provided: HS256 to sign and verify its own tokens, RS256 and ES256 to verify an
//! identity provider's admin tokens (and to sign them, for tests and tools). Any
//! other algorithm is refused as unsupported, whatever a token's header says.
//!
//! [`install`] is called before every use of `jsonwebtoken` in this crate, so no
//! binary can forget it; code outside the crate that signs or verifies with
//! `jsonwebtoken` directly calls it first.

use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
use jsonwebtoken::errors::{Error, ErrorKind, Result};
use jsonwebtoken::jwk::{EllipticCurve, ThumbprintHash};
use jsonwebtoken::signature::{self, Signer, Verifier};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, DecodingKeyKind, EncodingKey};
use ring::rand::SystemRandom;
use ring::signature::{self as ring_sig, EcdsaKeyPair, RsaKeyPair, RsaPublicKeyComponents};
use ring::{digest, hmac};

static PROVIDER: CryptoProvider = CryptoProvider {
    signer_factory: new_signer,
    verifier_factory: new_verifier,
    key_utils: KeyUtils {
        rsa_pub_components_from_private_key: |_| Err(unsupported()),
        rsa_pub_components_from_public_key: |_| Err(unsupported()),
        ec_pub_components_from_private_key: |_, _| Err(unsupported()),
        ed_pub_components_from_private_key: |_, _: &EllipticCurve| Err(unsupported()),
        compute_digest,
    },
};

/// Makes `ring` the process's JWT cryptography. Idempotent and cheap: the first call
/// installs, later ones find it installed.
pub fn install() {
    // Fails only when a provider is already installed, which is this one: nothing
    // else in the workspace installs one.
    let _ = PROVIDER.install_default();
}

fn unsupported() -> Error {
    ErrorKind::UnsupportedAlgorithm.into()
}

fn compute_digest(data: &[u8], hash: ThumbprintHash) -> Result<Vec<u8>> {
    let algorithm = match hash {
        ThumbprintHash::SHA256 => &digest::SHA256,
        ThumbprintHash::SHA384 => &digest::SHA384,
        ThumbprintHash::SHA512 => &digest::SHA512,
        _ => return Err(unsupported()),
    };
    Ok(digest::digest(algorithm, data).as_ref().to_vec())
}

/// A key checked against its algorithm's family, ready to sign.
enum SigningKey {
    Hs256(hmac::Key),
    /// PKCS#1 DER, as `EncodingKey::from_rsa_pem` leaves it.
    Rs256(RsaKeyPair),
    /// PKCS#8 DER.
    Es256(EcdsaKeyPair),
}

struct RingSigner(SigningKey);

fn new_signer(algorithm: &Algorithm, key: &EncodingKey) -> Result<Box<dyn JwtSigner>> {
    check_family(*algorithm, key.family())?;
    let bytes = key.as_bytes();
    let key = match algorithm {
        Algorithm::HS256 => SigningKey::Hs256(hmac::Key::new(hmac::HMAC_SHA256, bytes)),
        Algorithm::RS256 => SigningKey::Rs256(
            RsaKeyPair::from_der(bytes)
                .or_else(|_| RsaKeyPair::from_pkcs8(bytes))
                .map_err(|e| ErrorKind::InvalidRsaKey(e.to_string()))?,
        ),
        Algorithm::ES256 => SigningKey::Es256(
            EcdsaKeyPair::from_pkcs8(
                &ring_sig::ECDSA_P256_SHA256_FIXED_SIGNING,
                bytes,
                &SystemRandom::new(),
            )
            .map_err(|_| ErrorKind::InvalidEcdsaKey)?,
        ),
        _ => return Err(unsupported()),
    };
    Ok(Box::new(RingSigner(key)))
}

impl Signer<Vec<u8>> for RingSigner {
    fn try_sign(&self, msg: &[u8]) -> std::result::Result<Vec<u8>, signature::Error> {
        match &self.0 {
            SigningKey::Hs256(key) => Ok(hmac::sign(key, msg).as_ref().to_vec()),
            SigningKey::Rs256(pair) => {
                let mut signature = vec![0; pair.public().modulus_len()];
                pair.sign(
                    &ring_sig::RSA_PKCS1_SHA256,
                    &SystemRandom::new(),
                    msg,
                    &mut signature,
                )
                .map_err(|_| signature::Error::new())?;
                Ok(signature)
            }
            SigningKey::Es256(pair) => pair
                .sign(&SystemRandom::new(), msg)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| signature::Error::new()),
        }
    }
}

impl JwtSigner for RingSigner {
    fn algorithm(&self) -> Algorithm {
        match self.0 {
            SigningKey::Hs256(_) => Algorithm::HS256,
            SigningKey::Rs256(_) => Algorithm::RS256,
            SigningKey::Es256(_) => Algorithm::ES256,
        }
    }
}

struct RingVerifier {
    algorithm: Algorithm,
    key: DecodingKey,
}

fn new_verifier(algorithm: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>> {
    check_family(*algorithm, key.family())?;
    match algorithm {
        Algorithm::HS256 | Algorithm::RS256 | Algorithm::ES256 => Ok(Box::new(RingVerifier {
            algorithm: *algorithm,
            key: key.clone(),
        })),
        _ => Err(unsupported()),
    }
}

impl Verifier<Vec<u8>> for RingVerifier {
    fn verify(&self, msg: &[u8], signature: &Vec<u8>) -> std::result::Result<(), signature::Error> {
        let verified = match (self.algorithm, self.key.kind()) {
            (Algorithm::HS256, DecodingKeyKind::SecretOrDer(secret)) => {
                hmac::verify(&hmac::Key::new(hmac::HMAC_SHA256, secret), msg, signature)
            }
            // PKCS#1 DER of the public key, as `DecodingKey::from_rsa_pem` leaves it.
            (Algorithm::RS256, DecodingKeyKind::SecretOrDer(der)) => {
                ring_sig::UnparsedPublicKey::new(&ring_sig::RSA_PKCS1_2048_8192_SHA256, der)
                    .verify(msg, signature)
            }
            // A JWK's modulus and exponent.
            (Algorithm::RS256, DecodingKeyKind::RsaModulusExponent { n, e }) => {
                RsaPublicKeyComponents { n, e }.verify(
                    &ring_sig::RSA_PKCS1_2048_8192_SHA256,
                    msg,
                    signature,
                )
            }
            // The uncompressed point, from a PEM or a JWK's coordinates.
            (Algorithm::ES256, DecodingKeyKind::SecretOrDer(point)) => {
                ring_sig::UnparsedPublicKey::new(&ring_sig::ECDSA_P256_SHA256_FIXED, point)
                    .verify(msg, signature)
            }
            _ => return Err(signature::Error::new()),
        };
        verified.map_err(|_| signature::Error::new())
    }
}

impl JwtVerifier for RingVerifier {
    fn algorithm(&self) -> Algorithm {
        self.algorithm
    }
}

/// A key is only ever used with an algorithm of its own family: an RSA public key is
/// never an HMAC secret.
fn check_family(algorithm: Algorithm, family: AlgorithmFamily) -> Result<()> {
    if algorithm.family() == family {
        Ok(())
    } else {
        Err(ErrorKind::InvalidKeyFormat.into())
    }
}

#[cfg(test)]
mod tests;
