//! A listing page's records, each parsed on its own.
//!
//! A page is one JSON document, so one record with a lone surrogate escape
//! (`"\ud800"`), nesting deeper than the parser allows, or any other flaw
//! would fail the whole page — on every run, since the record is still
//! there. [`split_page`] finds the records' array by scanning the bytes (no
//! recursion, so depth costs nothing), parses the page around it with the
//! array emptied, and hands each record back as raw bytes: decoding one is
//! that record's own success or failure.
//!
//! ```
//! use connector_core::json::split_page;
//!
//! let body = br#"{"isLast": true, "issues": [
//!     {"key": "ENG-1", "fields": {}},
//!     {"key": "ENG-2", "fields": {"summary": "\ud800"}},
//!     {"key": "ENG-3", "fields": {}}
//! ]}"#;
//! let page = split_page(body, "issues")?;
//! assert_eq!(page.envelope["isLast"], true);
//! assert_eq!(page.records.len(), 3);
//! let decoded: Vec<bool> = page.records.iter().map(|r| r.decode::<serde_json::Value>().is_ok()).collect();
//! assert_eq!(decoded, [true, false, true]);
//! assert_eq!(page.records[1].string_field("key").as_deref(), Some("ENG-2"));
//! # Ok::<(), connector_core::Error>(())
//! ```

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{Error, ErrorKind, Result};

/// A page split into its envelope and its records.
#[derive(Debug, Clone)]
pub struct SplitPage {
    /// The page with the records' array emptied (`[]`): its cursor, its
    /// `isLast`, its totals.
    pub envelope: Value,
    /// The records, raw and in order.
    pub records: Vec<RawRecord>,
    /// The `Link` header's `rel="next"` target, when the page came with one
    /// (set by `http::Request::fetch_page`).
    pub link_next: Option<String>,
}

/// One record's bytes, not yet parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawRecord(Vec<u8>);

impl RawRecord {
    /// The record as `T`; the error says what is wrong, for a per-document
    /// failure.
    pub fn decode<T: DeserializeOwned>(&self) -> std::result::Result<T, String> {
        serde_json::from_slice(&self.0).map_err(|e| e.to_string())
    }

    /// The record's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// A top-level string (or number) field of the record, read without
    /// parsing the record — to name a record that does not parse (`"key"`,
    /// `"id"`). `None` when absent or not simple.
    pub fn string_field(&self, name: &str) -> Option<String> {
        let bytes = &self.0;
        let mut scan = Scanner::new(bytes);
        let mut depth = 0usize;
        while let Some(token) = scan.next_token() {
            match token {
                Token::Open => depth += 1,
                Token::Close => depth = depth.checked_sub(1)?,
                Token::Str(start, end) if depth == 1 => {
                    if unescape(&bytes[start..end]).as_deref() != Some(name) {
                        continue;
                    }
                    if scan.skip_ws_and(b':').is_none() {
                        continue;
                    }
                    return scan.simple_value();
                }
                _ => {}
            }
        }
        None
    }
}

/// Split `body`'s top-level array under `key` into records. A body that is
/// not a JSON object, or has no array under `key`, is a decode error naming
/// what is missing.
///
/// An empty `key` takes the body itself as the array (GitHub's listings
/// are bare arrays); anything else is then a decode error, and the
/// envelope is `null`.
pub fn split_page(body: &[u8], key: &str) -> Result<SplitPage> {
    let malformed = |what: &str| {
        Error::new(
            ErrorKind::Decode,
            format!("the page is not the JSON expected: {what}"),
        )
    };
    if key.is_empty() {
        return split_bare_array(body).ok_or_else(|| malformed("not an array"));
    }
    let mut scan = Scanner::new(body);
    let mut depth = 0usize;
    let mut array: Option<(usize, usize)> = None;
    let mut records: Vec<RawRecord> = Vec::new();
    let mut top_is_object = false;
    let mut first = true;
    while let Some(token) = scan.next_token() {
        if first {
            top_is_object = matches!(token, Token::Open) && body[scan.pos - 1] == b'{';
            first = false;
        }
        match token {
            Token::Open => depth += 1,
            Token::Close => {
                depth = depth
                    .checked_sub(1)
                    .ok_or_else(|| malformed("a bracket closes nothing"))?;
            }
            Token::Str(start, end) if depth == 1 && array.is_none() && top_is_object => {
                if unescape(&body[start..end]).as_deref() != Some(key) {
                    continue;
                }
                if scan.skip_ws_and(b':').is_none() {
                    continue;
                }
                let Some(open) = scan.skip_ws_and(b'[') else {
                    return Err(malformed(&format!("`{key}` is not an array")));
                };
                let close = scan.split_array(&mut records).ok_or_else(|| {
                    malformed(&format!("the `{key}` array is cut short or broken"))
                })?;
                array = Some((open, close));
            }
            _ => {}
        }
    }
    if !top_is_object {
        return Err(malformed("not an object"));
    }
    if depth != 0 {
        return Err(malformed("the document is cut short"));
    }
    let Some((open, close)) = array else {
        return Err(malformed(&format!("no `{key}` array")));
    };
    let mut rest = Vec::with_capacity(body.len() - (close - open) + 2);
    rest.extend_from_slice(&body[..open]);
    rest.extend_from_slice(b"[]");
    rest.extend_from_slice(&body[close + 1..]);
    let envelope: Value =
        serde_json::from_slice(&rest).map_err(|e| malformed(&format!("outside `{key}`: {e}")))?;
    Ok(SplitPage {
        envelope,
        records,
        link_next: None,
    })
}

/// The records of a body that is one array, and nothing after it.
fn split_bare_array(body: &[u8]) -> Option<SplitPage> {
    let mut scan = Scanner::new(body);
    scan.skip_ws_and(b'[')?;
    let mut records = Vec::new();
    scan.split_array(&mut records)?;
    scan.skip_ws();
    (scan.pos == body.len()).then_some(SplitPage {
        envelope: Value::Null,
        records,
        link_next: None,
    })
}

enum Token {
    Open,
    Close,
    /// A string's contents, between its quotes.
    Str(usize, usize),
    /// Anything else (numbers, literals, `:` and `,`).
    Other,
}

/// A JSON tokenizer that only knows brackets and strings: enough to find
/// boundaries without recursion.
struct Scanner<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Scanner<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0 }
    }

    fn skip_ws(&mut self) {
        while self
            .bytes
            .get(self.pos)
            .is_some_and(|b| b.is_ascii_whitespace())
        {
            self.pos += 1;
        }
    }

    /// Skip white space; if `want` follows, consume it and return its index.
    fn skip_ws_and(&mut self, want: u8) -> Option<usize> {
        self.skip_ws();
        (self.bytes.get(self.pos) == Some(&want)).then(|| {
            self.pos += 1;
            self.pos - 1
        })
    }

    /// The end (exclusive) of the string whose opening quote was just read.
    fn string_end(&mut self) -> Option<usize> {
        while let Some(&b) = self.bytes.get(self.pos) {
            self.pos += 1;
            match b {
                b'\\' => self.pos += 1,
                b'"' => return Some(self.pos - 1),
                _ => {}
            }
        }
        None
    }

    fn next_token(&mut self) -> Option<Token> {
        self.skip_ws();
        let b = *self.bytes.get(self.pos)?;
        self.pos += 1;
        Some(match b {
            b'{' | b'[' => Token::Open,
            b'}' | b']' => Token::Close,
            b'"' => {
                let start = self.pos;
                let end = self.string_end()?;
                Token::Str(start, end)
            }
            _ => Token::Other,
        })
    }

    /// After `[`: push each element's bytes; returns the index of `]`.
    fn split_array(&mut self, out: &mut Vec<RawRecord>) -> Option<usize> {
        let mut depth = 0usize;
        let mut start: Option<usize> = None;
        loop {
            self.skip_ws();
            let at = self.pos;
            let b = *self.bytes.get(at)?;
            match b {
                b',' if depth == 0 => {
                    out.push(RawRecord(self.bytes[start?..at].trim_ascii_end().to_vec()));
                    start = None;
                    self.pos += 1;
                    continue;
                }
                b']' if depth == 0 => {
                    if let Some(s) = start {
                        out.push(RawRecord(self.bytes[s..at].trim_ascii_end().to_vec()));
                    }
                    self.pos += 1;
                    return Some(at);
                }
                _ => {}
            }
            start.get_or_insert(at);
            match self.next_token()? {
                Token::Open => depth += 1,
                Token::Close => depth = depth.checked_sub(1)?,
                Token::Str(..) => {}
                Token::Other => {
                    // Consume the rest of a number or literal.
                    while self
                        .bytes
                        .get(self.pos)
                        .is_some_and(|b| !b",]}\" \t\r\n".contains(b) && *b != b'[' && *b != b'{')
                    {
                        self.pos += 1;
                    }
                }
            }
        }
    }

    /// A string or number value at the current position, as text.
    fn simple_value(&mut self) -> Option<String> {
        self.skip_ws();
        match *self.bytes.get(self.pos)? {
            b'"' => {
                self.pos += 1;
                let start = self.pos;
                let end = self.string_end()?;
                unescape(&self.bytes[start..end])
            }
            b'-' | b'0'..=b'9' => {
                let start = self.pos;
                while self
                    .bytes
                    .get(self.pos)
                    .is_some_and(|b| b.is_ascii_digit() || b"-+.eE".contains(b))
                {
                    self.pos += 1;
                }
                std::str::from_utf8(&self.bytes[start..self.pos])
                    .ok()
                    .map(str::to_owned)
            }
            _ => None,
        }
    }
}

/// A JSON string's contents decoded; `None` when the escapes are broken.
fn unescape(raw: &[u8]) -> Option<String> {
    let mut quoted = Vec::with_capacity(raw.len() + 2);
    quoted.push(b'"');
    quoted.extend_from_slice(raw);
    quoted.push(b'"');
    serde_json::from_slice(&quoted).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deeply_nested_record_fails_alone() {
        let deep = format!("{}1{}", "[".repeat(100_000), "]".repeat(100_000));
        let body = format!(
            r#"{{"values": [{{"id": "a"}}, {{"id": "b", "x": {deep}}}, {{"id": "c"}}], "next": "t"}}"#
        );
        let page = split_page(body.as_bytes(), "values").unwrap();
        assert_eq!(page.envelope["next"], "t");
        assert_eq!(page.records.len(), 3);
        assert!(page.records[0].decode::<Value>().is_ok());
        assert!(page.records[1].decode::<Value>().is_err());
        assert_eq!(page.records[1].string_field("id").as_deref(), Some("b"));
        assert!(page.records[2].decode::<Value>().is_ok());
    }

    #[test]
    fn a_bare_array_splits_with_an_empty_key() {
        let page =
            split_page(br#" [{"id": 1}, {"id": 2, "t": "\udc00"}, {"id": 3}] "#, "").unwrap();
        let ok: Vec<bool> = page
            .records
            .iter()
            .map(|r| r.decode::<Value>().is_ok())
            .collect();
        assert_eq!(ok, [true, false, true]);
        assert!(page.envelope.is_null());
        assert!(split_page(b"[]", "").unwrap().records.is_empty());
        for bad in [&br#"{"items": []}"#[..], b"[{\"id\": 1}", b"[1] [2]", b""] {
            let e = split_page(bad, "").unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Decode, "{e}");
        }
    }

    #[test]
    fn invalid_utf8_in_one_record_fails_alone() {
        let mut body = br#"{"results": [{"id": 1, "t": "ok"}, {"id": 2, "t": ""#.to_vec();
        body.extend_from_slice(&[0xff, 0xfe]);
        body.extend_from_slice(br#""}, {"id": 3}]}"#);
        let page = split_page(&body, "results").unwrap();
        let ok: Vec<bool> = page
            .records
            .iter()
            .map(|r| r.decode::<Value>().is_ok())
            .collect();
        assert_eq!(ok, [true, false, true]);
        assert_eq!(page.records[1].string_field("id").as_deref(), Some("2"));
    }

    #[test]
    fn the_wrong_shape_is_an_error_naming_what_is_missing() {
        for (body, needle) in [
            (&br#"{"unexpected": true}"#[..], "no `issues` array"),
            (br#"{"issues": {}}"#, "not an array"),
            (br#"[1, 2]"#, "not an object"),
            (br#"{"issues": [1, 2"#, "cut short"),
            (br#"{"issues": [], "x": "#, "cut short"),
            (br#"{"issues": [], "x": tru}"#, "outside"),
            (b"", "not an object"),
        ] {
            let err = split_page(body, "issues").unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Decode);
            assert!(err.to_string().contains(needle), "{err}");
        }
    }

    #[test]
    fn strings_with_brackets_and_escapes_do_not_confuse_the_split() {
        let body = br#"{"values": ["a]", "b\"],[", {"k": "}"}, 12, -3.5e2, true, null], "nested": {"values": [9]}}"#;
        let page = split_page(body, "values").unwrap();
        let items: Vec<Value> = page.records.iter().map(|r| r.decode().unwrap()).collect();
        assert_eq!(
            items,
            vec![
                Value::from("a]"),
                Value::from("b\"],["),
                serde_json::json!({"k": "}"}),
                Value::from(12),
                Value::from(-350.0),
                Value::from(true),
                Value::Null
            ]
        );
        assert_eq!(page.envelope["nested"]["values"][0], 9);
        assert_eq!(
            split_page(br#"{"values": []}"#, "values")
                .unwrap()
                .records
                .len(),
            0
        );
    }
}
