use std::net::IpAddr;

use url::Url;

use crate::{Error, Result};

/// Parse a source's base URL and refuse what would leak credentials:
/// plain `http://` is accepted only for loopback hosts (local servers and
/// tests), and user info in the URL is refused. `field` names the setting in
/// the error.
///
/// ```
/// use connector_core::http::check_base_url;
/// assert!(check_base_url("--url", "https://example.atlassian.net").is_ok());
/// assert!(check_base_url("--url", "http://127.0.0.1:8080").is_ok());
/// let err = check_base_url("--url", "http://jira.example.com").unwrap_err();
/// assert!(err.to_string().contains("--url"));
/// ```
pub fn check_base_url(field: &str, raw: &str) -> Result<Url> {
    let url = Url::parse(raw.trim()).map_err(|e| {
        Error::config(format!(
            "{field}: {raw:?} is not a URL ({e}); give a full address such as https://example.com"
        ))
    })?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::config(format!(
            "{field}: put credentials in the environment or a credentials file, not in the URL"
        )));
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        "http" => Err(Error::config(format!(
            "{field}: {} must use https:// (plain http is accepted only for loopback addresses such as 127.0.0.1)",
            origin(&url)
        ))),
        other => Err(Error::config(format!(
            "{field}: unsupported scheme {other:?}; use https://"
        ))),
    }
}

/// Whether the URL's host is a loopback address (`localhost`, `127.0.0.0/8`, `::1`).
///
/// ```
/// use connector_core::http::is_loopback;
/// assert!(is_loopback(&"http://localhost:9000".parse().unwrap()));
/// assert!(!is_loopback(&"http://10.0.0.1".parse().unwrap()));
/// ```
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// `scheme://host[:port]/path`: what errors and logs may show of a URL.
pub(crate) fn without_query(url: &Url) -> String {
    format!("{}{}", origin(url), url.path())
}

fn origin(url: &Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{}://{host}:{port}", url.scheme()),
        (Some(host), None) => format!("{}://{host}", url.scheme()),
        _ => url.scheme().to_string(),
    }
}

/// Same scheme, host and port.
pub(crate) fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_plain_http_to_remote_hosts_and_userinfo() {
        assert!(check_base_url("url", "http://[::1]:1/x").is_ok());
        assert!(check_base_url("url", "http://127.0.0.2").is_ok());
        let err = check_base_url("--url", "https://me:secret@example.com").unwrap_err();
        assert!(!err.to_string().contains("secret"));
        assert!(check_base_url("url", "ftp://example.com").is_err());
        assert!(check_base_url("url", "not a url").is_err());
    }

    #[test]
    fn strips_query_and_fragment() {
        let url = Url::parse("https://h.example:8443/a/b?sig=SECRET#frag").unwrap();
        assert_eq!(without_query(&url), "https://h.example:8443/a/b");
    }
}
