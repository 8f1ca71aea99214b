//! Whether a base URL is a vendor's cloud or a self-hosted server: decided
//! with the same URL parser the requests use, overridable in configuration.

use serde::{Deserialize, Serialize};

/// Cloud or self-hosted (Data Center, Server, Enterprise Server).
///
/// ```
/// use connector_core::deployment::Deployment;
/// const ATLASSIAN: &[&str] = &[".atlassian.net", "api.atlassian.com"];
/// assert_eq!(Deployment::detect("https://acme.atlassian.net/wiki", ATLASSIAN), Deployment::Cloud);
/// assert_eq!(Deployment::detect("https://wiki.acme.com", ATLASSIAN), Deployment::DataCenter);
/// // The request would go to 127.0.0.1, so this is not Atlassian's cloud.
/// assert_eq!(Deployment::detect("http://127.0.0.1\\.atlassian.net", ATLASSIAN), Deployment::DataCenter);
/// let parsed: Deployment = serde_json::from_str("\"data_center\"").unwrap();
/// assert_eq!(parsed, Deployment::DataCenter);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Deployment {
    /// The vendor's cloud.
    Cloud,
    /// A self-hosted installation.
    #[serde(alias = "server", alias = "datacenter", alias = "dc")]
    DataCenter,
}

impl Deployment {
    /// Cloud when the URL's host is one of `cloud_hosts` or ends with one
    /// that starts with a dot (`.atlassian.net`); self-hosted otherwise.
    pub fn detect(base_url: &str, cloud_hosts: &[&str]) -> Self {
        let Some(host) = crate::url::host(base_url) else {
            return Deployment::DataCenter;
        };
        let cloud = cloud_hosts.iter().any(|h| {
            let h = h.to_ascii_lowercase();
            if h.starts_with('.') {
                host.ends_with(&h)
            } else {
                host == h
            }
        });
        if cloud {
            Deployment::Cloud
        } else {
            Deployment::DataCenter
        }
    }
}

impl std::str::FromStr for Deployment {
    type Err = crate::Error;

    fn from_str(s: &str) -> crate::Result<Self> {
        serde_json::from_value(serde_json::Value::String(
            s.trim().to_ascii_lowercase().replace('-', "_"),
        ))
        .map_err(|_| {
            crate::Error::config(format!(
                "deployment {s:?} is neither `cloud` nor `data_center`"
            ))
        })
    }
}
