//! URL normalisation and the crawl's scope.

use std::collections::BTreeSet;

use connector_core::{Error, Result};
use globset::{GlobSet, GlobSetBuilder};
use url::Url;

use crate::config::WebConfig;

/// One URL per page: the same page reached by different spellings of its
/// URL normalises to one string.
///
/// - only `http` and `https`; scheme and host lower case, default ports
///   dropped, `.` and `..` segments resolved (the `url` crate's parsing);
/// - the fragment dropped;
/// - percent-escapes upper case, escapes of unreserved characters
///   (`A–Z a–z 0–9 - . _ ~`) decoded;
/// - query parameters matching the configured strip patterns (`utm_*`,
///   session ids) removed, an empty query dropped.
#[derive(Debug, Clone)]
pub(crate) struct Normalizer {
    strip: GlobSet,
}

impl Normalizer {
    pub fn new(strip: &[String]) -> Result<Self> {
        Ok(Self {
            strip: globs("strip_query", strip, true)?,
        })
    }

    /// The normal form of `url`, or `None` for a scheme the crawler does not fetch.
    pub fn normalize(&self, url: &Url) -> Option<Url> {
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return None;
        }
        let mut url = url.clone();
        url.set_fragment(None);
        let _ = url.set_username("");
        let _ = url.set_password(None);
        let path = fix_escapes(url.path());
        url.set_path(&path);
        if let Some(query) = url.query() {
            let kept: Vec<String> = query
                .split('&')
                .filter(|pair| !pair.is_empty())
                .filter(|pair| {
                    let name = pair.split('=').next().unwrap_or("");
                    !self.strip.is_match(name.to_ascii_lowercase())
                })
                .map(fix_escapes)
                .collect();
            if kept.is_empty() {
                url.set_query(None);
            } else {
                url.set_query(Some(&kept.join("&")));
            }
        }
        Some(url)
    }
}

/// Upper-case percent-escapes; decode those of unreserved characters.
fn fix_escapes(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            let c = h * 16 + l;
            if c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~') {
                out.push(c as char);
            } else {
                out.push('%');
                out.push(bytes[i + 1].to_ascii_uppercase() as char);
                out.push(bytes[i + 2].to_ascii_uppercase() as char);
            }
            i += 3;
            continue;
        }
        // The url crate leaves only ASCII in a path and query.
        out.push(bytes[i] as char);
        i += 1;
    }
    out
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

fn globs(field: &str, patterns: &[String], case_insensitive: bool) -> Result<GlobSet> {
    let mut set = GlobSetBuilder::new();
    for p in patterns {
        let glob = globset::GlobBuilder::new(p)
            .case_insensitive(case_insensitive)
            .literal_separator(false)
            .build()
            .map_err(|e| Error::config(format!("{field}: {p:?} is not a valid pattern: {e}")))?;
        set.add(glob);
    }
    set.build()
        .map_err(|e| Error::config(format!("{field}: cannot compile the patterns: {e}")))
}

/// Which URLs the crawl may fetch: hosts, path prefixes, include and
/// exclude patterns (over the path with its query).
#[derive(Debug, Clone)]
pub(crate) struct Scope {
    hosts: BTreeSet<String>,
    prefixes: Vec<String>,
    include: GlobSet,
    includes: bool,
    exclude: GlobSet,
}

/// `host[:port]`, the port only when not the scheme's default.
pub(crate) fn authority(url: &Url) -> String {
    let host = url.host_str().unwrap_or("").to_ascii_lowercase();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host,
    }
}

impl Scope {
    pub fn new(config: &WebConfig, seeds: &[Url]) -> Result<Self> {
        let mut hosts: BTreeSet<String> = seeds.iter().map(authority).collect();
        hosts.extend(
            config
                .allowed_hosts
                .iter()
                .map(|h| h.trim().to_ascii_lowercase()),
        );
        let prefixes = config
            .path_prefixes
            .iter()
            .map(|p| {
                if p.starts_with('/') {
                    p.clone()
                } else {
                    format!("/{p}")
                }
            })
            .collect();
        Ok(Self {
            hosts,
            prefixes,
            include: globs("include", &config.include, false)?,
            includes: !config.include.is_empty(),
            exclude: globs("exclude", &config.exclude, false)?,
        })
    }

    /// The hosts in scope.
    pub fn hosts(&self) -> impl Iterator<Item = &str> {
        self.hosts.iter().map(String::as_str)
    }

    /// Whether `url`'s host is in scope (sitemaps and robots.txt only need that).
    pub fn host_in(&self, url: &Url) -> bool {
        self.hosts.contains(&authority(url))
    }

    /// Why `url` is out of scope, or `None` when it is in.
    pub fn refuses(&self, url: &Url) -> Option<&'static str> {
        if !matches!(url.scheme(), "http" | "https") {
            return Some("not an http(s) URL");
        }
        if !self.host_in(url) {
            return Some("another host");
        }
        let path = url.path();
        if !self.prefixes.is_empty() && !self.prefixes.iter().any(|p| path.starts_with(p.as_str()))
        {
            return Some("outside the path prefixes");
        }
        let target = match url.query() {
            Some(q) => format!("{path}?{q}"),
            None => path.to_owned(),
        };
        if self.includes && !self.include.is_match(&target) {
            return Some("not matched by `include`");
        }
        if self.exclude.is_match(&target) {
            return Some("matched by `exclude`");
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(raw: &str) -> String {
        let norm = Normalizer::new(&["utm_*".into(), "sessionid".into(), "fbclid".into()])
            .expect("patterns");
        norm.normalize(&Url::parse(raw).expect("a URL"))
            .map(String::from)
            .unwrap_or_default()
    }

    #[test]
    fn spellings_of_one_page_normalise_alike() {
        assert_eq!(
            n("HTTPS://Docs.Example.COM:443/a/./b/../c#frag"),
            "https://docs.example.com/a/c"
        );
        assert_eq!(
            n("http://docs.example.com:80/%7euser/%2fx%3a"),
            "http://docs.example.com/~user/%2Fx%3A"
        );
        assert_eq!(
            n("https://x.com/p?utm_source=a&id=3&UTM_MEDIUM=b&sessionid=9"),
            "https://x.com/p?id=3"
        );
        assert_eq!(n("https://x.com/p?utm_source=a"), "https://x.com/p");
        assert_eq!(n("https://user:pw@x.com/p"), "https://x.com/p");
        assert_eq!(n("ftp://x.com/p"), "");
        assert_eq!(n("https://x.com:8443/p"), "https://x.com:8443/p");
    }

    #[test]
    fn scope_by_host_prefix_and_patterns() {
        let config: WebConfig = serde_json::from_value(serde_json::json!({
            "urls": ["https://docs.example.com/guide/"],
            "allowed_hosts": ["cdn.example.com"],
            "path_prefixes": ["/guide", "files/"],
            "include": [],
            "exclude": ["*/private/*", "*.zip"]
        }))
        .expect("config");
        let seeds = [Url::parse("https://docs.example.com/guide/").expect("url")];
        let scope = Scope::new(&config, &seeds).expect("scope");
        let refuses = |u: &str| scope.refuses(&Url::parse(u).expect("url"));
        assert_eq!(refuses("https://docs.example.com/guide/a"), None);
        assert_eq!(refuses("https://cdn.example.com/files/a.pdf"), None);
        assert_eq!(
            refuses("https://www.example.com/guide/a"),
            Some("another host")
        );
        assert_eq!(
            refuses("https://docs.example.com/blog"),
            Some("outside the path prefixes")
        );
        assert_eq!(
            refuses("https://docs.example.com/guide/private/x"),
            Some("matched by `exclude`")
        );
        assert_eq!(
            refuses("https://docs.example.com/guide/a.zip"),
            Some("matched by `exclude`")
        );
    }
}
