//! Rich Text Format: a single pass over the control words with an explicit
//! group stack (no recursion; nesting deeper than `max_markup_depth`
//! fails). Text in the document's code page (`\ansicpg`, `\'hh`) and
//! Unicode (`\uN` with its `\ucN` fallback skipped); paragraphs and line
//! breaks; table cells joined by ` | ` and rows on their own lines; title
//! and author from `\info`. Font tables, style sheets, pictures, objects and
//! other `\*` destinations are skipped; `\bin` data is jumped over.

use encoding_rs::{Encoding, WINDOWS_1252};

use crate::budget::{Budget, Collector};
use crate::error::{Failure, Res};
use crate::model::Place;

/// What the text of the current group is for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Dest {
    Body,
    Skip,
    Title,
    Author,
}

#[derive(Clone, Copy)]
struct Group {
    dest: Dest,
    /// Fallback characters to skip after `\uN`.
    uc: usize,
}

pub(crate) fn extract(bytes: &[u8], budget: &Budget<'_>, out: &mut Collector) -> Res<()> {
    if !bytes.starts_with(b"{\\rtf") {
        return Err(Failure::malformed("an RTF file starts with {\\rtf"));
    }
    let mut encoding: &'static Encoding = WINDOWS_1252;
    let mut stack: Vec<Group> = Vec::new();
    let mut group = Group {
        dest: Dest::Body,
        uc: 1,
    };
    let mut body = String::new();
    let mut title = String::new();
    let mut author = String::new();
    // Bytes in the code page waiting to be decoded together (`\'hh\'hh`).
    let mut pending: Vec<u8> = Vec::new();
    let mut skip_fallback = 0usize;
    // `{\*\dest …}`: the group after `\*` is skipped unless known.
    let mut star = false;
    let mut first_in_group = false;
    let limit = budget.options.max_text_bytes as usize;
    let max_depth = budget.options.max_markup_depth as usize;
    let mut i = 0;

    macro_rules! target {
        () => {
            match group.dest {
                Dest::Body => Some(&mut body),
                Dest::Title => Some(&mut title),
                Dest::Author => Some(&mut author),
                Dest::Skip => None,
            }
        };
    }
    macro_rules! flush {
        () => {
            if !pending.is_empty() {
                let (text, _) = encoding.decode_without_bom_handling(&pending);
                if let Some(t) = target!() {
                    t.push_str(&text);
                }
                pending.clear();
            }
        };
    }

    while i < bytes.len() {
        budget.tick()?;
        let b = bytes[i];
        match b {
            b'{' => {
                flush!();
                if stack.len() >= max_depth {
                    return Err(Failure::too_large(format!(
                        "RTF groups nested more than max_markup_depth = {max_depth} levels"
                    )));
                }
                stack.push(group);
                first_in_group = true;
                star = false;
                i += 1;
            }
            b'}' => {
                flush!();
                if let Some(outer) = stack.pop() {
                    group = outer;
                }
                first_in_group = false;
                star = false;
                i += 1;
            }
            b'\\' => {
                i += 1;
                let Some(&next) = bytes.get(i) else { break };
                if next.is_ascii_alphabetic() {
                    let start = i;
                    while i < bytes.len() && bytes[i].is_ascii_alphabetic() && i - start < 32 {
                        i += 1;
                    }
                    let word = &bytes[start..i];
                    let num_start = i;
                    if i < bytes.len() && bytes[i] == b'-' {
                        i += 1;
                    }
                    while i < bytes.len() && bytes[i].is_ascii_digit() && i - num_start < 11 {
                        i += 1;
                    }
                    let param: Option<i64> = std::str::from_utf8(&bytes[num_start..i])
                        .ok()
                        .and_then(|s| s.parse().ok());
                    if i < bytes.len() && bytes[i] == b' ' {
                        i += 1; // the delimiter space belongs to the control word
                    }
                    let was_first = first_in_group;
                    first_in_group = false;
                    if word != b"u" {
                        flush!();
                    }
                    if skip_fallback > 0 && word != b"u" {
                        // A control word counts as one fallback character.
                        skip_fallback -= 1;
                        continue;
                    }
                    match word {
                        b"ansicpg" => {
                            if let Some(cp) = param {
                                encoding = codepage(cp).unwrap_or(WINDOWS_1252);
                            }
                        }
                        b"uc" => group.uc = param.unwrap_or(1).clamp(0, 8) as usize,
                        b"u" => {
                            flush!();
                            if let Some(n) = param {
                                let code = if n < 0 { n + 65536 } else { n } as u32;
                                if let Some(c) = char::from_u32(code)
                                    && let Some(t) = target!()
                                {
                                    t.push(c);
                                }
                            }
                            skip_fallback = group.uc;
                        }
                        b"par" | b"line" | b"sect" | b"page" | b"row" => {
                            if let Some(t) = target!() {
                                t.push('\n');
                            }
                        }
                        b"tab" => {
                            if let Some(t) = target!() {
                                t.push('\t');
                            }
                        }
                        b"cell" | b"nestcell" => {
                            if let Some(t) = target!() {
                                t.push_str(" | ");
                            }
                        }
                        b"emdash" => push(target!(), '\u{2014}'),
                        b"endash" => push(target!(), '\u{2013}'),
                        b"lquote" => push(target!(), '\u{2018}'),
                        b"rquote" => push(target!(), '\u{2019}'),
                        b"ldblquote" => push(target!(), '\u{201C}'),
                        b"rdblquote" => push(target!(), '\u{201D}'),
                        b"bullet" => push(target!(), '\u{2022}'),
                        b"bin" => {
                            // Binary data of `param` bytes: jump over it.
                            let n = param.unwrap_or(0).max(0) as usize;
                            i = i.saturating_add(n).min(bytes.len());
                        }
                        b"title" if was_first => group.dest = Dest::Title,
                        b"author" if was_first => group.dest = Dest::Author,
                        _ if was_first && (star || is_skipped_destination(word)) => {
                            group.dest = Dest::Skip;
                        }
                        _ => {}
                    }
                    star = false;
                } else {
                    i += 1;
                    match next {
                        b'\'' => {
                            let hex = bytes
                                .get(i..i + 2)
                                .and_then(|h| std::str::from_utf8(h).ok());
                            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                                i += 2;
                                if skip_fallback > 0 {
                                    skip_fallback -= 1;
                                } else if group.dest != Dest::Skip {
                                    pending.push(v);
                                }
                            }
                        }
                        b'*' => star = true,
                        b'~' => push(target!(), '\u{00A0}'),
                        b'_' => push(target!(), '-'),
                        b'-' => {}
                        b'\\' | b'{' | b'}' => {
                            flush!();
                            if skip_fallback > 0 {
                                skip_fallback -= 1;
                            } else {
                                push(target!(), next as char);
                            }
                        }
                        b'\n' | b'\r' => push(target!(), '\n'),
                        _ => {}
                    }
                    // `{\*\dest …}`: the destination word is still first.
                    first_in_group = first_in_group && next == b'*';
                }
            }
            b'\r' | b'\n' => i += 1,
            _ => {
                flush!();
                first_in_group = false;
                // A run of plain text up to the next special byte.
                let start = i;
                while i < bytes.len() && !matches!(bytes[i], b'{' | b'}' | b'\\' | b'\r' | b'\n') {
                    i += 1;
                }
                let mut run = &bytes[start..i];
                if skip_fallback > 0 {
                    let n = skip_fallback.min(run.len());
                    run = &run[n..];
                    skip_fallback -= n;
                }
                if group.dest != Dest::Skip {
                    pending.extend_from_slice(run);
                }
            }
        }
        if body.len() > limit {
            break;
        }
    }
    flush!();
    let title = title.trim();
    if !title.is_empty() {
        out.doc.title = Some(title.to_owned());
    }
    let author = author.trim();
    if !author.is_empty() {
        out.doc.authors.push(author.to_owned());
    }
    // Rows end with `\row` after their last `\cell`: drop the dangling separator.
    let body = body
        .lines()
        .map(|l| l.trim_end().trim_end_matches('|').trim_end())
        .collect::<Vec<_>>()
        .join("\n");
    out.push(Place::Body, &body);
    Ok(())
}

fn push(target: Option<&mut String>, c: char) {
    if let Some(t) = target {
        t.push(c);
    }
}

/// Destinations whose text is not document text.
fn is_skipped_destination(word: &[u8]) -> bool {
    matches!(
        word,
        b"fonttbl"
            | b"colortbl"
            | b"stylesheet"
            | b"info"
            | b"pict"
            | b"object"
            | b"header"
            | b"footer"
            | b"headerl"
            | b"headerr"
            | b"headerf"
            | b"footerl"
            | b"footerr"
            | b"footerf"
            | b"listtable"
            | b"listoverridetable"
            | b"revtbl"
            | b"rsidtbl"
            | b"generator"
            | b"xmlnstbl"
            | b"themedata"
            | b"colorschememapping"
            | b"datastore"
            | b"latentstyles"
            | b"pgdsctbl"
            | b"filetbl"
            | b"fldinst"
            | b"operator"
            | b"company"
            | b"keywords"
            | b"comment"
            | b"doccomm"
            | b"subject"
            | b"bkmkstart"
            | b"bkmkend"
    )
}

/// The encoding of a Windows code page number.
fn codepage(cp: i64) -> Option<&'static Encoding> {
    let label = match cp {
        65001 => "utf-8",
        874 => "windows-874",
        932 => "shift_jis",
        936 => "gbk",
        949 => "euc-kr",
        950 => "big5",
        1250..=1258 => return Encoding::for_label(format!("windows-{cp}").as_bytes()),
        10000 => "macintosh",
        _ => return None,
    };
    Encoding::for_label(label.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::Format;
    use crate::model::Extracted;
    use crate::options::ExtractOptions;

    fn rtf(src: &str) -> Extracted {
        let options = ExtractOptions::default();
        let budget = Budget::new(&options, src.len(), Default::default());
        let mut out = Collector::new(Extracted::empty(Format::Rtf), 1 << 20);
        extract(src.as_bytes(), &budget, &mut out).unwrap();
        out.finish()
    }

    #[test]
    fn text_unicode_codepage_tables_info() {
        let doc = rtf(
            r"{\rtf1\ansi\ansicpg1252{\fonttbl{\f0 Arial;}}{\colortbl;\red0;}{\info{\title Q3 Plan}{\author Dana}}{\*\generator Writer;}
{\b Caf\'e9} na\u239?ve \uc2\u1513??\u1500??\par
\trowd\cellx100\cellx200 a\cell b\cell\row
{\pict\pngblip 89504e47}after\line next\par}",
        );
        assert_eq!(doc.text(), "Café naïve של\na | b\nafter\nnext");
        assert_eq!(doc.title.as_deref(), Some("Q3 Plan"));
        assert_eq!(doc.authors, vec!["Dana".to_owned()]);
    }
}
