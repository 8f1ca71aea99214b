//! Sitemaps (sitemaps.org): URL sets, sitemap indexes, gzipped files and
//! plain-text lists, and the `Sitemap:` lines of robots.txt.

use std::io::Read;

use chrono::{DateTime, NaiveDate, Utc};
use quick_xml::Reader;
use quick_xml::events::Event;

/// One `<url>` or `<sitemap>` entry.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SitemapEntry {
    pub loc: String,
    pub lastmod: Option<DateTime<Utc>>,
}

/// What a sitemap file lists.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Sitemap {
    /// Page URLs (`<urlset>` or a text sitemap).
    pub pages: Vec<SitemapEntry>,
    /// Further sitemaps (`<sitemapindex>`).
    pub sitemaps: Vec<SitemapEntry>,
}

/// Largest sitemap read after decompression (the protocol's limit is 50 MB).
pub(crate) const MAX_SITEMAP_BYTES: u64 = 64 * 1024 * 1024;

/// Decompress a gzipped body (by its magic bytes), at most `cap` bytes out.
pub(crate) fn gunzip_if_needed(body: &[u8], cap: u64) -> Result<Vec<u8>, String> {
    if !body.starts_with(&[0x1f, 0x8b]) {
        return Ok(body.to_vec());
    }
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(body)
        .take(cap + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("not a valid gzip file: {e}"))?;
    if out.len() as u64 > cap {
        return Err(format!("decompresses to more than {cap} bytes"));
    }
    Ok(out)
}

/// A `lastmod`: a W3C datetime or a plain date.
fn parse_lastmod(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    // `YYYY-MM-DDThh:mmTZD` (no seconds) is valid W3C too.
    if let Ok(t) = DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M%:z") {
        return Some(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

/// Parse a sitemap; a body that is neither XML of the protocol nor a text
/// list of URLs is an error naming what it found.
pub(crate) fn parse(body: &[u8]) -> Result<Sitemap, String> {
    let text = String::from_utf8_lossy(body);
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if !trimmed.starts_with('<') {
        // A text sitemap: one URL per line.
        let pages: Vec<SitemapEntry> = trimmed
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|l| SitemapEntry {
                loc: l.to_owned(),
                lastmod: None,
            })
            .collect();
        if pages.iter().any(|p| !p.loc.starts_with("http")) {
            return Err("neither a sitemap XML nor a list of URLs".into());
        }
        return Ok(Sitemap {
            pages,
            sitemaps: Vec::new(),
        });
    }
    let mut reader = Reader::from_str(trimmed);
    let mut out = Sitemap::default();
    let mut root: Option<String> = None;
    let mut field: Option<String> = None;
    let mut loc: Option<String> = None;
    let mut lastmod: Option<DateTime<Utc>> = None;
    let mut buf = String::new();
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                if root.is_none() {
                    if name != "urlset" && name != "sitemapindex" {
                        return Err(format!(
                            "the root element is <{name}>, not <urlset> or <sitemapindex>"
                        ));
                    }
                    root = Some(name);
                    continue;
                }
                if name == "url" || name == "sitemap" {
                    loc = None;
                    lastmod = None;
                }
                buf.clear();
                field = Some(name);
            }
            Ok(Event::Text(t)) => {
                if field.is_some() {
                    buf.push_str(&t.xml10_content().unwrap_or_default());
                }
            }
            Ok(Event::GeneralRef(r)) => {
                let c = match r.resolve_char_ref() {
                    Ok(Some(c)) => Some(c),
                    _ => match &*r {
                        b"amp" => Some('&'),
                        b"lt" => Some('<'),
                        b"gt" => Some('>'),
                        b"quot" => Some('"'),
                        b"apos" => Some('\''),
                        _ => None,
                    },
                };
                if let (Some(c), Some(_)) = (c, &field) {
                    buf.push(c);
                }
            }
            Ok(Event::CData(t)) => {
                if field.is_some() {
                    buf.push_str(&String::from_utf8_lossy(&t));
                }
            }
            Ok(Event::End(e)) => {
                let name = e.local_name();
                let name = name.as_ref();
                match name {
                    b"loc" => loc = Some(buf.trim().to_owned()),
                    b"lastmod" => lastmod = parse_lastmod(&buf),
                    _ => {}
                }
                buf.clear();
                if (name == b"url" || name == b"sitemap")
                    && let Some(loc) = loc.take().filter(|l| !l.is_empty())
                {
                    let entry = SitemapEntry { loc, lastmod };
                    if name == b"url" {
                        out.pages.push(entry);
                    } else {
                        out.sitemaps.push(entry);
                    }
                }
                field = None;
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => return Err(format!("not well-formed XML: {e}")),
        }
    }
    if root.is_none() {
        return Err("no <urlset> or <sitemapindex> element".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn urlset_index_and_text() {
        let xml = br#"<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc>https://x.com/a?x=1&amp;y=2</loc><lastmod>2026-11-30</lastmod></url>
  <url><loc> https://x.com/b </loc><lastmod>2026-11-30T10:00:00+01:00</lastmod><priority>0.5</priority></url>
</urlset>"#;
        let map = parse(xml).expect("a sitemap");
        assert_eq!(map.pages.len(), 2);
        assert_eq!(map.pages[0].loc, "https://x.com/a?x=1&y=2");
        assert_eq!(map.pages[1].loc, "https://x.com/b");
        assert_eq!(
            map.pages[1].lastmod.map(|t| t.to_rfc3339()),
            Some("2026-11-30T09:00:00+00:00".into())
        );
        let index = br#"<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>https://x.com/s1.xml.gz</loc></sitemap></sitemapindex>"#;
        let map = parse(index).expect("an index");
        assert_eq!(map.sitemaps[0].loc, "https://x.com/s1.xml.gz");
        let text = parse(b"https://x.com/a\nhttps://x.com/b\n").expect("a text sitemap");
        assert_eq!(text.pages.len(), 2);
    }

    #[test]
    fn wrong_shapes_are_errors() {
        assert!(parse(b"<html><body>Not found</body></html>").is_err());
        assert!(parse(b"<urlset><url><loc>x</loc></urlset>").is_err());
        assert!(parse(b"hello world").is_err());
    }

    #[test]
    fn gzip_and_its_cap() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&vec![b'a'; 10_000]).expect("write");
        let body = gz.finish().expect("gzip");
        assert_eq!(gunzip_if_needed(&body, 20_000).expect("fits").len(), 10_000);
        assert!(gunzip_if_needed(&body, 5_000).is_err());
        assert_eq!(gunzip_if_needed(b"plain", 10).expect("plain"), b"plain");
    }
}
