//! Text helpers every format shares: decoding bytes of an unknown encoding,
//! and tidying extracted text (line ends, blank lines, control characters).

use std::borrow::Cow;

use encoding_rs::{Encoding, UTF_8, UTF_16BE, UTF_16LE};

/// Decode text of unknown encoding: a byte-order mark first (UTF-8,
/// UTF-16 LE/BE), then UTF-16 without a mark when every other byte is NUL,
/// then UTF-8 when the bytes are valid UTF-8, else the most likely legacy
/// encoding (Windows-1252 for Western text, and the others `chardetng`
/// knows). `hint` is a declared charset (`Content-Type: …; charset=`,
/// `<meta charset>`), used when there is no mark.
pub(crate) fn decode(bytes: &[u8], hint: Option<&str>) -> String {
    if let Some((encoding, bom)) = Encoding::for_bom(bytes) {
        let (text, _) = encoding.decode_without_bom_handling(&bytes[bom..]);
        return text.into_owned();
    }
    if let Some(encoding) = utf16_without_bom(bytes) {
        let (text, _) = encoding.decode_without_bom_handling(bytes);
        return text.into_owned();
    }
    if let Some(encoding) = hint.and_then(|h| Encoding::for_label(h.trim().as_bytes())) {
        // A declared UTF-16 label on bytes without NULs is wrong; trust the bytes.
        if encoding != UTF_16LE && encoding != UTF_16BE {
            let (text, _) = encoding.decode_without_bom_handling(bytes);
            return text.into_owned();
        }
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return text.to_owned();
    }
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(bytes, true);
    let encoding = detector.guess(None, chardetng::Utf8Detection::Allow);
    let (text, _) = encoding.decode_without_bom_handling(bytes);
    text.into_owned()
}

/// UTF-16 without a byte-order mark: most odd (LE) or even (BE) bytes of
/// the start are NUL, as in mostly-ASCII UTF-16 text.
fn utf16_without_bom(bytes: &[u8]) -> Option<&'static Encoding> {
    let sample = &bytes[..bytes.len().min(4096) & !1];
    if sample.len() < 4 {
        return None;
    }
    let pairs = sample.len() / 2;
    let even_nul = sample.iter().step_by(2).filter(|b| **b == 0).count();
    let odd_nul = sample
        .iter()
        .skip(1)
        .step_by(2)
        .filter(|b| **b == 0)
        .count();
    if odd_nul * 10 >= pairs * 9 && even_nul * 10 < pairs {
        Some(UTF_16LE)
    } else if even_nul * 10 >= pairs * 9 && odd_nul * 10 < pairs {
        Some(UTF_16BE)
    } else {
        None
    }
}

/// Whether bytes read as text (no NULs, or UTF-16 with or without a mark):
/// used to accept files of unknown type as plain text.
pub(crate) fn is_probably_text(bytes: &[u8]) -> bool {
    let sample = &bytes[..bytes.len().min(8192)];
    if Encoding::for_bom(sample).is_some_and(|(e, _)| e != UTF_8)
        || utf16_without_bom(sample).is_some()
    {
        return true;
    }
    if sample.contains(&0) {
        return false;
    }
    // Mostly printable: control characters other than whitespace are rare in text.
    let controls = sample
        .iter()
        .filter(|b| **b < 0x20 && !matches!(**b, b'\n' | b'\r' | b'\t' | 0x0c))
        .count();
    controls * 100 <= sample.len()
}

/// Normalise a section's text: `\r\n` and `\r` to `\n`, no control
/// characters but `\n` and `\t`, no trailing spaces, at most one blank line
/// in a row, nothing blank at either end.
pub(crate) fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank_run = 0usize;
    let text: Cow<'_, str> = if text.contains('\r') {
        Cow::Owned(text.replace("\r\n", "\n").replace('\r', "\n"))
    } else {
        Cow::Borrowed(text)
    };
    for line in text.split('\n') {
        let line: Cow<'_, str> = if line.chars().any(|c| c.is_control() && c != '\t') {
            Cow::Owned(
                line.chars()
                    .filter(|c| !c.is_control() || *c == '\t')
                    .collect(),
            )
        } else {
            Cow::Borrowed(line)
        };
        let line = line.trim_end();
        if line.is_empty() {
            blank_run += 1;
            continue;
        }
        if !out.is_empty() {
            out.push('\n');
            if blank_run > 0 {
                out.push('\n');
            }
        }
        blank_run = 0;
        out.push_str(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_boms_utf16_and_windows_1252() {
        assert_eq!(decode(b"\xEF\xBB\xBFcaf\xC3\xA9", None), "café");
        let utf16le: Vec<u8> = "\u{feff}Grüße"
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes())
            .collect();
        assert_eq!(decode(&utf16le, None), "Grüße");
        let no_bom_be: Vec<u8> = "plain words here"
            .encode_utf16()
            .flat_map(|u| u.to_be_bytes())
            .collect();
        assert_eq!(decode(&no_bom_be, None), "plain words here");
        // Windows-1252: é is 0xE9, the curly quotes 0x93/0x94.
        assert_eq!(
            decode(b"\x93Caf\xE9 cr\xE8me\x94 for the r\xE9sum\xE9", None),
            "\u{201c}Café crème\u{201d} for the résumé"
        );
        assert_eq!(decode(b"caf\xE9", Some("iso-8859-1")), "café");
    }

    #[test]
    fn tidy_normalises_lines() {
        assert_eq!(tidy("\r\n  a  \r\n\r\n\r\n\tb\x07c \n\n"), "  a\n\n\tbc");
        assert_eq!(tidy(" \n \n"), "");
    }

    #[test]
    fn text_sniffing() {
        assert!(is_probably_text(b"hello\r\nworld\t1"));
        assert!(!is_probably_text(b"\x89PNG\r\n\x1a\n\0\0\0"));
        assert!(is_probably_text(b"\xFF\xFEh\0i\0"));
    }
}
