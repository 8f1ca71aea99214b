//! One host's politeness (robots.txt, Crawl-delay, concurrency, rate) and
//! one URL's fetch: conditional, redirects within scope, size and time caps,
//! content-type dispatch.

use std::sync::Arc;

use bytes::Bytes;
use connector_core::http::HttpClient;
use connector_core::rate::RateLimit;
use connector_core::{Error, ErrorKind, Result};
use tokio::sync::Semaphore;
use url::Url;

use crate::config::{DEFAULT_CONCURRENCY_PER_HOST, DEFAULT_RATE_PER_HOST, WebConfig};
use crate::html::{PageContent, read_page};
use crate::scope::Scope;
use crate::sitemap::MAX_SITEMAP_BYTES;
use crate::store::{EntryKind, PageRecord};

/// Largest robots.txt read (Google reads 500 KiB).
const MAX_ROBOTS_BYTES: u64 = 512 * 1024;

/// One host: its client (rate from `options.rate` or `Crawl-delay`), its
/// robots.txt rules and its concurrency permits.
pub(crate) struct Host {
    pub client: HttpClient,
    robots: Robots,
    pub permits: Arc<Semaphore>,
    /// Text fingerprint of the answer to a URL that cannot exist, when the
    /// host answers it with a page rather than a 404.
    pub soft_404: Option<u64>,
    /// `Sitemap:` lines of robots.txt.
    pub sitemaps: Vec<String>,
    /// Seconds between requests robots.txt asked for.
    pub crawl_delay: Option<f64>,
}

enum Robots {
    All,
    Nothing,
    Rules(Box<texting_robots::Robot>),
}

fn client(config: &WebConfig, origin: &str, rate: f64) -> Result<HttpClient> {
    HttpClient::builder("web", origin)
        .options(&config.options, rate)
        .rate_limit(RateLimit::per_second(rate).with_burst(1))
        .user_agent(config.user_agent_header())
        .timeout(config.page_timeout())
        .max_body_bytes(config.max_page_bytes.max(MAX_SITEMAP_BYTES))
        .build()
}

impl Host {
    /// Read the host's robots.txt and set up its client.
    pub async fn open(config: &WebConfig, origin: &Url) -> Result<Self> {
        let base = origin.origin().ascii_serialization();
        let ceiling = config.options.rate.unwrap_or(DEFAULT_RATE_PER_HOST);
        let probe = client(config, &base, ceiling)?;
        let robots = match probe.get("/robots.txt").send().await {
            Ok(answer) => match answer.bytes_capped(MAX_ROBOTS_BYTES).await {
                Ok(body) => match texting_robots::Robot::new(&config.user_agent, &body) {
                    Ok(robot) => Robots::Rules(Box::new(robot)),
                    Err(_) => Robots::All,
                },
                Err(_) => Robots::All,
            },
            // No robots.txt (4xx): everything allowed.
            Err(e) if matches!(e.status(), Some(400..=499)) && e.status() != Some(429) => {
                Robots::All
            }
            // Unreachable or failing: nothing, as the robots.txt standard (RFC 9309) says.
            Err(e) if e.ends_stream() => return Err(e),
            Err(e) => {
                tracing::warn!(host = %base, error = %e, "robots.txt unreachable: crawling nothing on this host");
                Robots::Nothing
            }
        };
        let (crawl_delay, sitemaps) = match &robots {
            Robots::Rules(r) => (
                r.delay.map(f64::from).filter(|d| d.is_finite() && *d > 0.0),
                r.sitemaps.clone(),
            ),
            _ => (None, Vec::new()),
        };
        let rate = match crawl_delay {
            Some(delay) => ceiling.min(1.0 / delay),
            None => ceiling,
        };
        let client = if rate < ceiling {
            client(config, &base, rate)?
        } else {
            probe
        };
        let permits = config
            .options
            .concurrency_or(DEFAULT_CONCURRENCY_PER_HOST)
            .max(1);
        let mut host = Self {
            client,
            robots,
            permits: Arc::new(Semaphore::new(permits)),
            soft_404: None,
            sitemaps,
            crawl_delay,
        };
        if config.soft_404_probe && !matches!(host.robots, Robots::Nothing) {
            host.soft_404 = host.probe_soft_404(config, origin).await;
        }
        Ok(host)
    }

    /// Whether robots.txt lets the crawl fetch `url`.
    pub fn allowed(&self, url: &Url) -> bool {
        match &self.robots {
            Robots::All => true,
            Robots::Nothing => false,
            Robots::Rules(r) => r.allowed(url.as_str()),
        }
    }

    /// Ask for a page that cannot exist; a page answered is the host's soft 404.
    async fn probe_soft_404(&self, config: &WebConfig, origin: &Url) -> Option<u64> {
        let nonce = blake3::hash(format!("{origin}{:?}", std::time::SystemTime::now()).as_bytes());
        let path = format!("/{}-no-such-page", &nonce.to_hex()[..16]);
        let probe = origin.join(&path).ok()?;
        if !self.allowed(&probe) {
            return None;
        }
        let answer = self
            .client
            .get(probe.as_str())
            .redirects(config.max_redirects, |_| true)
            .send()
            .await
            .ok()?;
        let html = answer
            .header("content-type")
            .is_some_and(|c| c.contains("html"));
        let body = answer.bytes_capped(config.max_page_bytes).await.ok()?;
        if !html {
            return None;
        }
        let page = read_page(&decode(&body, None), &probe);
        Some(text_fingerprint(&page.text))
    }
}

/// A fingerprint of a page's text, for soft-404 matching.
pub(crate) fn text_fingerprint(text: &str) -> u64 {
    let words: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    crate::store::fingerprint(&words)
}

/// What a fetch brought back.
pub(crate) enum Fetched {
    /// An HTML page.
    Html {
        final_url: Url,
        validators: Validators,
        content: Box<PageContent>,
    },
    /// Plain text or Markdown.
    Text {
        final_url: Url,
        validators: Validators,
        text: String,
    },
    /// A file for the extraction crate.
    File {
        final_url: Url,
        validators: Validators,
        mime: String,
        body: Bytes,
    },
    /// A sitemap's bytes.
    Sitemap { body: Bytes },
    /// `304 Not Modified` (or unchanged by its sitemap `lastmod`): the last
    /// crawl's record stands.
    NotModified(PageRecord),
    /// `404` or `410`.
    Gone(u16),
    /// Not fetched or not kept, and why.
    Skipped(String),
    /// Not fetched: `max_pages` reached.
    OverBudget,
    /// An error that ends the crawl (credentials, throttling without end, cancellation).
    Fatal(Error),
}

/// `ETag` and `Last-Modified` of an answer.
#[derive(Debug, Clone, Default)]
pub(crate) struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub content_type: String,
}

/// The body as text: charset from the header, else a `<meta charset>`
/// near the top, else UTF-8.
pub(crate) fn decode(body: &[u8], content_type: Option<&str>) -> String {
    let label = content_type
        .and_then(|c| c.split(';').find_map(|p| p.trim().strip_prefix("charset=")))
        .map(|l| l.trim_matches(['"', '\'']).to_owned())
        .or_else(|| meta_charset(&body[..body.len().min(2048)]));
    let encoding = label
        .and_then(|l| encoding_rs::Encoding::for_label(l.as_bytes()))
        .unwrap_or(encoding_rs::UTF_8);
    encoding.decode(body).0.into_owned()
}

fn meta_charset(head: &[u8]) -> Option<String> {
    let head = String::from_utf8_lossy(head).to_ascii_lowercase();
    let at = head.find("charset=")? + "charset=".len();
    let rest = head[at..].trim_start_matches(['"', '\'']);
    let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))?;
    Some(rest[..end].to_owned())
}

/// Whether a media type is read as HTML, text, or through extraction.
fn dispatch(mime: &str, name: &str, extract: bool) -> Option<&'static str> {
    match mime {
        "text/html" | "application/xhtml+xml" => Some("html"),
        "text/plain" | "text/markdown" | "text/x-markdown" => Some("text"),
        _ if extract && extractable(mime, name) => Some("file"),
        _ => None,
    }
}

fn extractable(mime: &str, name: &str) -> bool {
    #[cfg(feature = "extract")]
    {
        connector_extract::Extractor::supports(name, Some(mime))
    }
    #[cfg(not(feature = "extract"))]
    {
        let _ = (mime, name);
        false
    }
}

/// Fetch one URL on `host`, within the caps; never an `Err`: what went
/// wrong is the outcome.
pub(crate) async fn fetch(
    host: Arc<Host>,
    config: Arc<WebConfig>,
    scope: Arc<Scope>,
    url: Url,
    kind: EntryKind,
    previous: Option<PageRecord>,
) -> Fetched {
    let _permit = match host.permits.clone().acquire_owned().await {
        Ok(p) => p,
        Err(_) => return Fetched::Skipped("the crawl is shutting down".into()),
    };
    let timeout = config.page_timeout();
    match tokio::time::timeout(
        timeout,
        fetch_inner(&host, &config, scope, &url, kind, previous),
    )
    .await
    {
        Ok(Ok(fetched)) => fetched,
        Ok(Err(e)) => match e.status() {
            Some(s @ (404 | 410)) => Fetched::Gone(s),
            _ if e.ends_stream() => Fetched::Fatal(e),
            _ => Fetched::Skipped(e.to_string()),
        },
        Err(_) => Fetched::Skipped(format!(
            "no complete answer within {} s (a slow or stalled server); not kept",
            timeout.as_secs()
        )),
    }
}

async fn fetch_inner(
    host: &Host,
    config: &WebConfig,
    scope: Arc<Scope>,
    url: &Url,
    kind: EntryKind,
    previous: Option<PageRecord>,
) -> Result<Fetched> {
    let mut request = host
        .client
        .get(url.as_str())
        .redirects(config.max_redirects, move |to| scope.refuses(to).is_none());
    if let Some(prev) = &previous {
        request = request.conditional(prev.etag.as_deref(), prev.last_modified.as_deref());
    }
    let answer = request.send().await?;
    if answer.status() == 304 {
        return Ok(match previous {
            Some(prev) => Fetched::NotModified(prev),
            None => Fetched::Skipped("answered 304 to an unconditional request".into()),
        });
    }
    let final_url = answer.url().clone();
    let content_type = answer.header("content-type").unwrap_or("").to_owned();
    let mime = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let validators = Validators {
        etag: answer.header("etag").map(str::to_owned),
        last_modified: answer.header("last-modified").map(str::to_owned),
        content_type: mime.clone(),
    };
    if kind == EntryKind::Sitemap {
        let body = answer.bytes_capped(MAX_SITEMAP_BYTES).await?;
        return Ok(Fetched::Sitemap { body });
    }
    let name = final_url
        .path_segments()
        .and_then(|mut s| s.next_back())
        .unwrap_or("")
        .to_owned();
    let Some(how) = dispatch(&mime, &name, config.extract) else {
        return Ok(Fetched::Skipped(format!(
            "content type {:?} is not indexed (HTML, text{} only)",
            if mime.is_empty() { "none" } else { &mime },
            if cfg!(feature = "extract") && config.extract {
                ", PDF and office files"
            } else {
                ""
            }
        )));
    };
    let body = answer
        .bytes_capped(config.max_page_bytes)
        .await
        .map_err(|e| {
            if e.kind() == ErrorKind::Http {
                Error::new(ErrorKind::Http, format!("page too large: {}", e.message()))
            } else {
                e
            }
        })?;
    Ok(match how {
        "html" => {
            let page_url = final_url.clone();
            let content = read_page(&decode(&body, Some(&content_type)), &page_url);
            Fetched::Html {
                final_url,
                validators,
                content: Box::new(content),
            }
        }
        "text" => Fetched::Text {
            text: decode(&body, Some(&content_type)),
            final_url,
            validators,
        },
        _ => Fetched::File {
            final_url,
            validators,
            mime,
            body,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charset_from_header_then_meta() {
        let latin1 = b"caf\xe9";
        assert_eq!(
            decode(latin1, Some("text/html; charset=ISO-8859-1")),
            "café"
        );
        let meta = b"<meta charset=\"windows-1252\"><p>caf\xe9</p>";
        assert!(decode(meta, Some("text/html")).contains("café"));
        assert_eq!(decode("café".as_bytes(), None), "café");
    }
}
