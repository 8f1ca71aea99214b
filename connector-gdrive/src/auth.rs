//! Signing in: a service account key through core's JWT bearer grant
//! (RS256 assertion, domain-wide delegation through `sub`), or a user's
//! refresh token through core's refresh-token provider. Both cache the
//! access token, renew it before it expires and after a `401`, one renewal
//! at a time.

use std::sync::Arc;

use connector_core::credentials::jwt::Rs256Key;
use connector_core::credentials::{
    ClientAuth, ExposeSecret, JwtBearer, RefreshToken, SecretString, SharedCredentials,
};
use connector_core::{Error, Result};
use serde::Deserialize;

use crate::config::{
    DEFAULT_TOKEN_URL, DRIVE_READONLY_SCOPE, GoogleCredentials, ServiceAccount, UserOAuth,
};

/// The fields of a service account key file the connector reads.
#[derive(Deserialize)]
struct KeyFile {
    #[serde(rename = "type")]
    kind: Option<String>,
    client_email: String,
    private_key: SecretString,
    #[serde(default)]
    private_key_id: Option<String>,
    #[serde(default)]
    token_uri: Option<String>,
}

/// The credential provider for `credentials`; `token_url` overrides the
/// key file's `token_uri`.
pub(crate) fn provider(
    credentials: &GoogleCredentials,
    token_url: Option<&str>,
) -> Result<SharedCredentials> {
    match credentials {
        GoogleCredentials::ServiceAccount(sa) => service_account(sa, token_url),
        GoogleCredentials::Oauth(user) => user_oauth(user, token_url),
    }
}

fn service_account(sa: &ServiceAccount, token_url: Option<&str>) -> Result<SharedCredentials> {
    let text = match (&sa.key, &sa.key_path) {
        (Some(key), _) => key.expose_secret().to_owned(),
        (None, Some(path)) => std::fs::read_to_string(path).map_err(|e| {
            Error::config(format!(
                "credentials.service_account.key_path: cannot read {}: {e}",
                path.display()
            ))
        })?,
        (None, None) => {
            return Err(Error::config(
                "credentials.service_account: set key_path (the JSON key file) or key (its contents)",
            ));
        }
    };
    // serde's message may quote the text: only the position is kept.
    let key: KeyFile = serde_json::from_str(&text).map_err(|e| {
        Error::config(format!(
            "credentials.service_account: the key is not a service account key file (JSON with client_email and private_key; line {}, column {})",
            e.line(),
            e.column()
        ))
    })?;
    if key.kind.as_deref().is_some_and(|k| k != "service_account") {
        return Err(Error::config(
            "credentials.service_account: the key file is not of type service_account (an OAuth client file? use credentials.oauth)",
        ));
    }
    let signing = Rs256Key::from_pem(key.private_key.expose_secret()).map_err(|e| {
        Error::config(format!(
            "credentials.service_account: private_key is {}",
            e.message()
        ))
    })?;
    let url = token_url
        .or(key.token_uri.as_deref())
        .unwrap_or(DEFAULT_TOKEN_URL);
    // The assertion's audience is the token endpoint it is sent to.
    let mut grant =
        JwtBearer::new(url, key.client_email.trim(), signing)?.scopes([DRIVE_READONLY_SCOPE]);
    if let Some(kid) = key.private_key_id.filter(|k| !k.is_empty()) {
        grant = grant.key_id(kid);
    }
    if let Some(subject) = sa.subject.as_deref().map(str::trim)
        && !subject.is_empty()
    {
        grant = grant.subject(subject);
    }
    Ok(Arc::new(grant))
}

fn user_oauth(user: &UserOAuth, token_url: Option<&str>) -> Result<SharedCredentials> {
    let provider = RefreshToken::new(
        token_url.unwrap_or(DEFAULT_TOKEN_URL),
        user.client_id.trim(),
        user.refresh_token.clone(),
    )?
    .client_secret(user.client_secret.clone())
    // Google reads the client in the form body.
    .client_auth(ClientAuth::RequestBody);
    Ok(Arc::new(provider))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_file_errors_name_the_field_and_quote_nothing() {
        let bad = ServiceAccount::from_json("{\"private_key\": \"s3cret\"", None);
        let e = service_account(&bad, None).unwrap_err();
        assert!(e.to_string().contains("credentials.service_account"), "{e}");
        assert!(!e.to_string().contains("s3cret"), "{e}");
        let bad_key = ServiceAccount::from_json(
            r#"{"type":"service_account","client_email":"a@b.iam.gserviceaccount.com","private_key":"-----BEGIN PRIVATE KEY-----\ns3cret\n-----END PRIVATE KEY-----\n"}"#,
            None,
        );
        let e = service_account(&bad_key, None).unwrap_err();
        assert!(e.to_string().contains("private_key"), "{e}");
        assert!(!e.to_string().contains("s3cret"), "{e}");
        let client_file = ServiceAccount::from_json(
            r#"{"type":"authorized_user","client_email":"x","private_key":"y"}"#,
            None,
        );
        let e = service_account(&client_file, None).unwrap_err();
        assert!(e.to_string().contains("credentials.oauth"), "{e}");
    }
}
