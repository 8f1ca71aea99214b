//! HTML character references → text, with the full HTML5 table of named
//! references (from quick-xml) rather than a hand-kept list.
//!
//! Lenient as browsers are: an unknown name (`&bogus;`), a malformed
//! reference (`&#xZZ;`) or a bare `&` stays as written; a number that names
//! no character a document may hold (`&#0;`, a surrogate, past U+10FFFF)
//! becomes U+FFFD, never a control character.
//!
//! ```
//! use connector_core::text::decode_entities;
//! assert_eq!(decode_entities("caf&eacute; &amp; cr&#xE8;me &#8364;5"), "café & crème €5");
//! assert_eq!(decode_entities("Q&A &bogus; &#0;"), "Q&A &bogus; \u{FFFD}");
//! ```

use std::borrow::Cow;

use quick_xml::escape::resolve_html5_entity;

/// Longest reference looked at (the longest HTML5 name is 31 characters).
const MAX_REFERENCE: usize = 40;

/// `text` with its character references replaced.
pub fn decode_entities(text: &str) -> Cow<'_, str> {
    if !text.contains('&') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let end = after
            .char_indices()
            .take(MAX_REFERENCE)
            .find(|(_, c)| *c == ';')
            .map(|(i, _)| i);
        match end.and_then(|end| resolve(&after[..end]).map(|r| (end, r))) {
            Some((end, resolved)) => {
                out.push_str(&resolved);
                rest = &after[end + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

fn resolve(name: &str) -> Option<Cow<'static, str>> {
    if let Some(number) = name.strip_prefix('#') {
        let value = match number.strip_prefix(['x', 'X']) {
            Some(hex) if !hex.is_empty() && hex.len() <= 8 => u32::from_str_radix(hex, 16).ok()?,
            Some(_) => return None,
            None if !number.is_empty() && number.len() <= 10 => number.parse::<u32>().ok()?,
            None => return None,
        };
        let c = match value {
            0 => '\u{FFFD}',
            v => char::from_u32(v).unwrap_or('\u{FFFD}'),
        };
        return Some(Cow::Owned(c.to_string()));
    }
    resolve_html5_entity(name).map(Cow::Borrowed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_numeric_and_broken_references() {
        assert_eq!(
            decode_entities("&lt;b&gt; &nbsp;&hellip;&rarr;"),
            "<b> \u{a0}…→"
        );
        assert_eq!(decode_entities("&eacute;&Eacute;&szlig;"), "éÉß");
        assert_eq!(
            decode_entities("&bogus; &#xZZ; &#; & alone Q&A; &#99999999999;"),
            "&bogus; &#xZZ; &#; & alone Q&A; &#99999999999;"
        );
        assert_eq!(
            decode_entities("&#xD800;&#0;&#x110000;"),
            "\u{FFFD}\u{FFFD}\u{FFFD}"
        );
        assert_eq!(decode_entities("tail &amp"), "tail &amp");
        assert!(matches!(decode_entities("no references"), Cow::Borrowed(_)));
    }
}
