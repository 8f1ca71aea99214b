//! Cutting credentials out of whatever a server sends back.
//!
//! A server (or a proxy in front of it) may echo the request in an error
//! page, a debug field or a wrong-shaped answer. Every form in which the
//! credential travelled — the whole `Authorization` value, the token or
//! base64 after the scheme, a Basic credential's decoded `user:password` and
//! password, each also percent-encoded and JSON-escaped — is replaced by
//! `[REDACTED]` before the text reaches an error, a log line, a decoder
//! (whose messages quote what they choke on) or a document.

use std::borrow::Cow;
use std::sync::Arc;

use base64::Engine as _;
use memchr::memmem;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use secrecy::{ExposeSecret, SecretSlice, SecretString};

/// What replaces a credential.
pub(crate) const REDACTED: &str = "[REDACTED]";

/// Shorter forms are not cut: they would match ordinary text.
const MIN_FORM: usize = 4;

/// The forms of the credentials one request carried. Cheap to clone.
#[derive(Clone, Default)]
pub(crate) struct Scrubber {
    forms: Arc<Vec<SecretSlice<u8>>>,
}

impl std::fmt::Debug for Scrubber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Scrubber({} forms)", self.forms.len())
    }
}

impl Scrubber {
    /// The forms of raw secrets (a client secret, a refresh token).
    #[cfg(feature = "oauth")]
    pub(crate) fn for_secrets(secrets: &[&SecretString]) -> Self {
        Self::from_plain(
            secrets
                .iter()
                .map(|s| s.expose_secret().to_owned())
                .collect(),
        )
    }

    /// The forms of an `Authorization` header value (`Basic …`, `Bearer …`,
    /// or any other scheme).
    pub(crate) fn for_authorization(value: &SecretString) -> Self {
        let value = value.expose_secret();
        let mut plain: Vec<String> = vec![value.to_owned()];
        if let Some((scheme, rest)) = value.split_once(' ') {
            let rest = rest.trim();
            plain.push(rest.to_owned());
            if scheme.eq_ignore_ascii_case("basic")
                && let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(rest)
                && let Ok(pair) = String::from_utf8(decoded)
            {
                if let Some((_, password)) = pair.split_once(':') {
                    plain.push(password.to_owned());
                }
                plain.push(pair);
            }
        }
        Self::from_plain(plain)
    }

    fn from_plain(plain: Vec<String>) -> Self {
        let mut forms: Vec<String> = Vec::new();
        for p in plain {
            let encoded = utf8_percent_encode(&p, NON_ALPHANUMERIC).to_string();
            let json = p.replace('/', "\\/");
            forms.extend([p, encoded, json]);
        }
        forms.retain(|f| f.len() >= MIN_FORM);
        // Longest first, so a whole value is cut before a part of it.
        forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
        forms.dedup();
        Self {
            forms: Arc::new(
                forms
                    .into_iter()
                    .map(|f| SecretSlice::from(f.into_bytes()))
                    .collect(),
            ),
        }
    }

    /// `bytes` with every form replaced; borrowed when nothing matched.
    pub(crate) fn bytes<'a>(&self, bytes: &'a [u8]) -> Cow<'a, [u8]> {
        let mut out: Cow<'a, [u8]> = Cow::Borrowed(bytes);
        for form in self.forms.iter() {
            let form = form.expose_secret();
            if memmem::find(&out, form).is_none() {
                continue;
            }
            let mut replaced = Vec::with_capacity(out.len());
            let mut rest: &[u8] = &out;
            while let Some(at) = memmem::find(rest, form) {
                replaced.extend_from_slice(&rest[..at]);
                replaced.extend_from_slice(REDACTED.as_bytes());
                rest = &rest[at + form.len()..];
            }
            replaced.extend_from_slice(rest);
            out = Cow::Owned(replaced);
        }
        out
    }

    /// `text` with every form replaced.
    #[cfg(any(test, feature = "oauth"))]
    pub(crate) fn text(&self, text: &str) -> String {
        String::from_utf8_lossy(&self.bytes(text.as_bytes())).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_of_a_basic_credential_is_cut() {
        let header = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("me@acme.com:ATATT3x/+tok=en")
        );
        let s = Scrubber::for_authorization(&SecretString::from(header.clone()));
        let b64 = header.trim_start_matches("Basic ");
        for echoed in [
            header.clone(),
            b64.to_owned(),
            "me@acme.com:ATATT3x/+tok=en".to_owned(),
            "ATATT3x/+tok=en".to_owned(),
            "ATATT3x%2F%2Btok%3Den".to_owned(),
            "ATATT3x\\/+tok=en".to_owned(),
        ] {
            let body = format!(r#"{{"error":"bad request","echo":"{echoed}"}}"#);
            let out = s.text(&body);
            assert!(!out.contains("ATATT3x") && !out.contains(b64), "{out}");
            assert!(out.contains(REDACTED), "{out}");
        }
        assert!(matches!(s.bytes(b"nothing here"), Cow::Borrowed(_)));
    }

    #[test]
    fn bearer_tokens_are_cut() {
        let s = Scrubber::for_authorization(&SecretString::from("Bearer eyJ0eXAi.payload.sig"));
        let out =
            s.text("token eyJ0eXAi.payload.sig was refused; header Bearer eyJ0eXAi.payload.sig");
        assert_eq!(out, "token [REDACTED] was refused; header [REDACTED]");
    }
}
