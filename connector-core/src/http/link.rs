//! The `Link` header (RFC 8288): where cursor-in-URL listings say the next
//! page is.

use reqwest::header::HeaderMap;

/// The `rel="next"` target of a `Link` header (RFC 8288), as Confluence
/// Cloud and GitHub send it. Targets may contain commas (`keys=ENG,OPS`), so
/// the header is read by its `<…>` brackets, not split on commas.
///
/// ```
/// use connector_core::http::next_link;
/// use reqwest::header::{HeaderMap, HeaderValue, LINK};
/// let mut headers = HeaderMap::new();
/// headers.insert(LINK, HeaderValue::from_static(r#"</wiki/api/v2/spaces?keys=ENG,OPS&cursor=b2s>; rel="next", </wiki>; rel="base""#));
/// assert_eq!(next_link(&headers).as_deref(), Some("/wiki/api/v2/spaces?keys=ENG,OPS&cursor=b2s"));
/// ```
pub fn next_link(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(reqwest::header::LINK)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(next_in_link_value)
}

fn next_in_link_value(value: &str) -> Option<String> {
    let mut rest = value;
    while let Some(open) = rest.find('<') {
        let after = &rest[open + 1..];
        let close = after.find('>')?;
        let target = &after[..close];
        let params_end = after[close..].find('<').map_or(after.len(), |i| close + i);
        let is_next = after[close + 1..params_end].split(';').any(|p| {
            let p = p.trim().trim_end_matches(',').trim();
            p.eq_ignore_ascii_case("rel=\"next\"") || p.eq_ignore_ascii_case("rel=next")
        });
        if is_next && !target.is_empty() {
            return Some(target.to_owned());
        }
        rest = &after[params_end..];
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_header_values() {
        assert_eq!(next_in_link_value(""), None);
        assert_eq!(
            next_in_link_value(r#"<https://acme.atlassian.net/wiki>; rel="base""#),
            None
        );
        assert_eq!(
            next_in_link_value(
                r#"<https://x/wiki>; rel="base", </wiki/api/v2/pages?cursor=a%2Cb>; rel=next"#
            )
            .as_deref(),
            Some("/wiki/api/v2/pages?cursor=a%2Cb")
        );
        assert_eq!(
            next_in_link_value(r#"</wiki/api/v2/pages; rel="next""#),
            None,
            "no closing bracket"
        );
        assert_eq!(next_in_link_value(r#"<>; rel="next""#), None);
    }
}
