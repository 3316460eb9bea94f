//! Sealing secrets that must stay usable (request-signing secrets, webhook secrets) under a
//! master key kept outside the database: XChaCha20-Poly1305 with a random nonce, stored as
//! `v1.<base64 nonce>.<base64 ciphertext>`. A database dump alone reveals none of them.

use base64::engine::general_purpose::STANDARD_NO_PAD as B64;
use base64::Engine;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

use crate::secret::Secret;

/// A sealing or opening failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// The master key is not 32 bytes of hex or base64.
    #[error("master key must be 32 bytes, written as 64 hex characters")]
    BadMasterKey,
    /// The sealed value is malformed or was sealed under another master key.
    #[error("sealed secret cannot be opened with this master key")]
    CannotOpen,
    /// The cipher refused to encrypt.
    #[error("encryption failed")]
    Seal,
}

/// The master key: 32 bytes.
#[derive(Clone)]
pub struct MasterKey([u8; 32]);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey([redacted])")
    }
}

impl MasterKey {
    /// Parses 64 hex characters (surrounding whitespace ignored, as in a key file).
    pub fn parse(text: &str) -> Result<Self, CryptoError> {
        let bytes = hex::decode(text.trim()).map_err(|_| CryptoError::BadMasterKey)?;
        let arr: [u8; 32] = bytes.try_into().map_err(|_| CryptoError::BadMasterKey)?;
        Ok(Self(arr))
    }

    /// A fresh random key, written as hex (for a new key file).
    pub fn generate_hex() -> Result<String, getrandom::Error> {
        crate::apikey::random_hex(32)
    }

    /// Encrypts a secret.
    pub fn seal(&self, plain: &Secret) -> Result<String, CryptoError> {
        let cipher = XChaCha20Poly1305::new((&self.0).into());
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let ct = cipher.encrypt(&nonce, plain.expose().as_bytes()).map_err(|_| CryptoError::Seal)?;
        Ok(format!("v1.{}.{}", B64.encode(nonce), B64.encode(ct)))
    }

    /// A MAC of `message` under a key derived from the master key for one `purpose`, so a
    /// value payd hands out (the checkout page's form token) can be checked later without
    /// storing it, and a MAC made for one purpose is never valid for another.
    pub fn mac(&self, purpose: &str, message: &[u8]) -> [u8; 32] {
        use hmac::{Hmac, Mac};
        // HMAC takes a key of any length, so neither `new_from_slice` below can fail.
        let derived = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&self.0)
            .map(|m| m.chain_update(purpose.as_bytes()).finalize().into_bytes())
            .unwrap_or_default();
        <Hmac<sha2::Sha256> as Mac>::new_from_slice(&derived)
            .map(|m| m.chain_update(message).finalize().into_bytes().into())
            .unwrap_or([0; 32])
    }

    /// Decrypts a value sealed by [`MasterKey::seal`].
    pub fn open(&self, sealed: &str) -> Result<Secret, CryptoError> {
        let mut parts = sealed.split('.');
        let (Some("v1"), Some(n), Some(c), None) = (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(CryptoError::CannotOpen);
        };
        let nonce = B64.decode(n).map_err(|_| CryptoError::CannotOpen)?;
        if nonce.len() != 24 {
            return Err(CryptoError::CannotOpen);
        }
        let ct = B64.decode(c).map_err(|_| CryptoError::CannotOpen)?;
        let cipher = XChaCha20Poly1305::new((&self.0).into());
        let plain =
            cipher.decrypt(XNonce::from_slice(&nonce), ct.as_slice()).map_err(|_| CryptoError::CannotOpen)?;
        String::from_utf8(plain).map(Secret::new).map_err(|_| CryptoError::CannotOpen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> MasterKey {
        MasterKey::parse(&"ab".repeat(32)).unwrap()
    }

    #[test]
    fn a_sealed_secret_opens_with_the_same_key_only() {
        let k = key();
        let sealed = k.seal(&Secret::new("ss_abc")).unwrap_or_default();
        assert!(!sealed.contains("ss_abc"));
        assert_eq!(k.open(&sealed).map(|s| s.expose().to_owned()), Ok("ss_abc".to_owned()));
        let other = MasterKey::parse(&"cd".repeat(32)).unwrap();
        assert_eq!(other.open(&sealed), Err(CryptoError::CannotOpen));
        assert_eq!(k.open("v1.x.y"), Err(CryptoError::CannotOpen));
    }

    #[test]
    fn macs_differ_by_key_purpose_and_message() {
        let k = key();
        let other = MasterKey::parse(&"cd".repeat(32)).unwrap();
        let m = k.mac("checkout-form", b"pay_1");
        assert_eq!(m, k.mac("checkout-form", b"pay_1"));
        assert_ne!(m, k.mac("checkout-form", b"pay_2"));
        assert_ne!(m, k.mac("other", b"pay_1"));
        assert_ne!(m, other.mac("checkout-form", b"pay_1"));
        assert_ne!(m, [0; 32]);
    }

    #[test]
    fn master_keys_must_be_32_bytes_of_hex() {
        assert!(MasterKey::parse("abcd").is_err());
        assert!(MasterKey::parse(&"zz".repeat(32)).is_err());
        assert!(MasterKey::parse(&format!("{}\n", "00".repeat(32))).is_ok());
    }
}
