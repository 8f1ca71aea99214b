//! URL safety, decided with one parser (`url::Url`, the one requests use):
//! which base URLs a source accepts, what errors may show of a URL, and how
//! a server-supplied id becomes one path segment.

use std::net::IpAddr;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

pub use url::Url;

use crate::{Error, Result};

/// Parse a source's base URL and refuse what would leak credentials:
/// plain `http://` is accepted only for loopback hosts (local servers and
/// tests), and user info in the URL is refused. `field` names the setting in
/// the error.
///
/// ```
/// use connector_core::url::check_base_url;
/// assert!(check_base_url("--url", "https://example.atlassian.net").is_ok());
/// assert!(check_base_url("--url", "http://127.0.0.1:8080").is_ok());
/// let err = check_base_url("--url", "http://jira.example.com").unwrap_err();
/// assert!(err.to_string().contains("--url"));
/// ```
pub fn check_base_url(field: &str, raw: &str) -> Result<Url> {
    // The raw text is not quoted: a mistyped URL may hold a secret.
    let url = Url::parse(raw.trim()).map_err(|e| {
        Error::config(format!(
            "{field} is not a valid absolute URL ({e}); give a full address such as https://example.com"
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
/// use connector_core::url::is_loopback;
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

/// `scheme://host[:port]/path`: what errors and logs may show of a URL
/// (the query may carry a signature or a token).
///
/// ```
/// use connector_core::url::{without_query, Url};
/// let url = Url::parse("https://bucket.example/key?X-Amz-Signature=abc").unwrap();
/// assert_eq!(without_query(&url), "https://bucket.example/key");
/// ```
pub fn without_query(url: &Url) -> String {
    format!("{}{}", origin(url), url.path())
}

pub(crate) fn origin(url: &Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{}://{host}:{port}", url.scheme()),
        (Some(host), None) => format!("{}://{host}", url.scheme()),
        _ => url.scheme().to_string(),
    }
}

/// The host of `raw` as the request would see it, lower-cased; `None` when
/// `raw` is not a URL. Use it for every decision about a URL (which
/// deployment, which vendor) so the decision and the request agree.
///
/// ```
/// use connector_core::url::host;
/// assert_eq!(host("https://ACME.atlassian.net/wiki").as_deref(), Some("acme.atlassian.net"));
/// // A backslash ends the host for a URL parser: this request goes to 127.0.0.1.
/// assert_eq!(host("http://127.0.0.1\\.atlassian.net").as_deref(), Some("127.0.0.1"));
/// ```
pub fn host(raw: &str) -> Option<String> {
    Url::parse(raw.trim())
        .ok()?
        .host_str()
        .map(str::to_ascii_lowercase)
}

/// Characters kept as they are in a path segment: RFC 3986 unreserved.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// A server-supplied id as one URL path segment: every character that could
/// end the segment or the path (`/`, `?`, `#`, `%`, `\`, spaces, …) is
/// percent-encoded, and an id that is empty or only dots (which a server
/// would read as "this" or "the parent" directory) is refused.
///
/// ```
/// use connector_core::url::segment;
/// assert_eq!(segment("ENG-42").unwrap(), "ENG-42");
/// assert_eq!(segment("../../_admin/stats?x=").unwrap(), "..%2F..%2F_admin%2Fstats%3Fx%3D");
/// assert!(segment("..").is_err());
/// assert!(segment("").is_err());
/// ```
pub fn segment(id: &str) -> Result<String> {
    if id.is_empty() || id.chars().all(|c| c == '.') {
        return Err(Error::new(
            crate::ErrorKind::Decode,
            format!("{id:?} cannot be a path segment of a request"),
        ));
    }
    Ok(utf8_percent_encode(id, SEGMENT).to_string())
}

/// Same scheme, host and port.
#[cfg(feature = "http")]
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
    fn segments_never_escape_their_place() {
        for hostile in ["a/b", "a?b", "a#b", "a%2Fb", "a\\b", "a b", "é"] {
            let s = segment(hostile).unwrap();
            assert!(!s.contains(['/', '?', '#', '\\', ' ']), "{s}");
            let url = Url::parse(&format!("https://x.example/issue/{s}/comment")).unwrap();
            assert_eq!(url.path_segments().unwrap().count(), 3, "{hostile} → {url}");
        }
        assert!(segment(".").is_err() && segment("...").is_err());
        assert_eq!(segment(".a").unwrap(), ".a");
    }

    #[test]
    fn strips_query_and_fragment() {
        let url = Url::parse("https://h.example:8443/a/b?sig=SECRET#frag").unwrap();
        assert_eq!(without_query(&url), "https://h.example:8443/a/b");
    }
}
