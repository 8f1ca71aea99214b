//! JSON Web Tokens signed RS256 (RFC 7515 compact form, RFC 7518 §3.3), for
//! grants that authenticate with a signed assertion: a GitHub App's JWT, a
//! Google service account's JWT bearer grant (RFC 7523).
//!
//! The key is an RSA private key in PEM, as the vendors issue it: PKCS #1
//! (`BEGIN RSA PRIVATE KEY`) or PKCS #8 (`BEGIN PRIVATE KEY`). Signing uses
//! `ring`, which rustls already builds on: no OpenSSL.
//!
//! ```
//! use connector_core::credentials::jwt::Rs256Key;
//! let err = Rs256Key::from_pem("-----BEGIN PRIVATE KEY-----\nnot base64!\n-----END PRIVATE KEY-----")
//!     .unwrap_err();
//! assert!(err.to_string().contains("not a PEM"));
//! ```

use std::fmt;

use base64::Engine as _;
use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use secrecy::SecretString;
use serde::Serialize;

use crate::{Error, ErrorKind, Result};

/// An RSA private key that signs JWTs with RS256. `Debug` shows the
/// modulus length only.
pub struct Rs256Key {
    key: RsaKeyPair,
    rng: SystemRandom,
}

impl fmt::Debug for Rs256Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rs256Key")
            .field("bits", &(self.key.public().modulus_len() * 8))
            .finish_non_exhaustive()
    }
}

impl Rs256Key {
    /// The key in `pem`: the first PEM block, PKCS #1 or PKCS #8. Errors
    /// never quote the text (it is a secret); callers add which field it
    /// came from.
    pub fn from_pem(pem: &str) -> Result<Self> {
        let mut inside = false;
        let mut body = String::new();
        for line in pem.lines().map(str::trim) {
            if line.starts_with("-----BEGIN") {
                inside = true;
                continue;
            }
            if line.starts_with("-----END") {
                break;
            }
            if inside {
                body.push_str(line);
            }
        }
        if body.is_empty() {
            return Err(Error::config(
                "not a PEM key (no `-----BEGIN … PRIVATE KEY-----` block)",
            ));
        }
        let der = base64::engine::general_purpose::STANDARD
            .decode(body)
            .map_err(|_| Error::config("not a PEM key (the block is not base64)"))?;
        Self::from_der(&der)
    }

    /// The key in DER form, PKCS #1 or PKCS #8.
    pub fn from_der(der: &[u8]) -> Result<Self> {
        let key = RsaKeyPair::from_der(der)
            .or_else(|_| RsaKeyPair::from_pkcs8(der))
            .map_err(|e| {
                Error::config(format!("not an RSA private key (PKCS #1 or PKCS #8): {e}"))
            })?;
        Ok(Self {
            key,
            rng: SystemRandom::new(),
        })
    }

    /// `claims` as a compact JWS signed RS256, with header
    /// `{"alg":"RS256","typ":"JWT"}` (and `"kid"` when `key_id` is given).
    ///
    /// ```
    /// # fn demo(key: &connector_core::credentials::jwt::Rs256Key) -> connector_core::Result<()> {
    /// use connector_core::credentials::ExposeSecret;
    /// let jwt = key.sign(Some("key-1"), &serde_json::json!({"iss": "me", "exp": 1}))?;
    /// assert_eq!(jwt.expose_secret().split('.').count(), 3);
    /// # Ok(()) }
    /// ```
    pub fn sign<C: Serialize + ?Sized>(
        &self,
        key_id: Option<&str>,
        claims: &C,
    ) -> Result<SecretString> {
        let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        let header = match key_id {
            Some(kid) => serde_json::json!({"alg": "RS256", "typ": "JWT", "kid": kid}),
            None => serde_json::json!({"alg": "RS256", "typ": "JWT"}),
        };
        let claims = serde_json::to_vec(claims)?;
        let signing_input = format!("{}.{}", b64(header.to_string().as_bytes()), b64(&claims));
        let mut signature = vec![0; self.key.public().modulus_len()];
        self.key
            .sign(
                &RSA_PKCS1_SHA256,
                &self.rng,
                signing_input.as_bytes(),
                &mut signature,
            )
            .map_err(|_| Error::new(ErrorKind::Auth, "signing a JWT with the RSA key failed"))?;
        Ok(SecretString::from(format!(
            "{signing_input}.{}",
            b64(&signature)
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    /// A 2048-bit test key, PKCS #8, made for these tests only.
    const TEST_KEY: &str = include_str!("../../tests/fixtures/test-rsa-key.pem");

    #[test]
    fn signs_a_verifiable_compact_jws() {
        let key = Rs256Key::from_pem(TEST_KEY).unwrap();
        let jwt = key
            .sign(Some("k1"), &serde_json::json!({"iss": "a@b", "exp": 2}))
            .unwrap();
        let parts: Vec<&str> = jwt.expose_secret().split('.').collect();
        assert_eq!(parts.len(), 3);
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let header: serde_json::Value =
            serde_json::from_slice(&engine.decode(parts[0]).unwrap()).unwrap();
        assert_eq!(
            header,
            serde_json::json!({"alg": "RS256", "typ": "JWT", "kid": "k1"})
        );
        let claims: serde_json::Value =
            serde_json::from_slice(&engine.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(claims["iss"], "a@b");
        let public = ring::signature::UnparsedPublicKey::new(
            &ring::signature::RSA_PKCS1_2048_8192_SHA256,
            key.key.public().as_ref().to_vec(),
        );
        public
            .verify(
                format!("{}.{}", parts[0], parts[1]).as_bytes(),
                &engine.decode(parts[2]).unwrap(),
            )
            .unwrap();
        assert!(!format!("{key:?}").contains("BEGIN"));
    }

    #[test]
    fn bad_keys_are_config_errors_that_quote_nothing() {
        for pem in [
            "",
            "hunter2",
            "-----BEGIN PRIVATE KEY-----\nhunter2!\n-----END PRIVATE KEY-----",
            "-----BEGIN PRIVATE KEY-----\naHVudGVyMg==\n-----END PRIVATE KEY-----",
        ] {
            let e = Rs256Key::from_pem(pem).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Config, "{e}");
            assert!(!e.to_string().contains("hunter2"), "{e}");
        }
    }
}
