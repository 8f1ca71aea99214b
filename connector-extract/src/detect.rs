//! Which format a file is: by its first bytes when they tell (PDF, zip,
//! OLE compound file, RTF), then by the declared MIME type, then by the
//! file name's extension, then by sniffing for HTML, email and plain text.
//! A name or type that contradicts the bytes loses: a PDF named `.docx` is
//! read as a PDF.

use std::io::Cursor;

use serde::Serialize;

/// A file format this crate knows about, supported or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Format {
    /// PDF.
    Pdf,
    /// Word 2007+ (`.docx`, `.docm`, `.dotx`).
    Docx,
    /// PowerPoint 2007+ (`.pptx`, `.pptm`, `.ppsx`).
    Pptx,
    /// Excel 2007+ (`.xlsx`, `.xlsm`).
    Xlsx,
    /// Excel binary workbook (`.xlsb`).
    Xlsb,
    /// Excel 97-2003 (`.xls`).
    Xls,
    /// OpenDocument text (`.odt`).
    Odt,
    /// OpenDocument presentation (`.odp`).
    Odp,
    /// OpenDocument spreadsheet (`.ods`).
    Ods,
    /// HTML and XHTML.
    Html,
    /// Rich Text Format.
    Rtf,
    /// An email message (`.eml`, `message/rfc822`).
    Email,
    /// Plain text, Markdown, CSV, JSON, source code and other text.
    Text,
    /// Word 97-2003 (`.doc`): not supported.
    Doc,
    /// PowerPoint 97-2003 (`.ppt`): not supported.
    Ppt,
    /// Outlook message (`.msg`): not supported.
    Msg,
    /// An Office file encrypted with a password.
    EncryptedOffice,
    /// Anything else (images, audio, archives, unknown binary).
    Unknown,
}

impl Format {
    /// The cargo feature that compiles this format's extractor, `None` for
    /// formats always compiled in ([`Format::Text`]) or never supported.
    pub fn feature(self) -> Option<&'static str> {
        match self {
            Format::Pdf => Some("pdf"),
            Format::Docx | Format::Pptx => Some("office"),
            Format::Odt | Format::Odp | Format::Ods => Some("opendocument"),
            Format::Xlsx | Format::Xlsb | Format::Xls => Some("spreadsheet"),
            Format::Html => Some("html"),
            Format::Rtf => Some("rtf"),
            Format::Email => Some("email"),
            _ => None,
        }
    }

    /// Whether this build can extract text from the format.
    // One arm per feature reads better than one long `matches!`.
    #[allow(clippy::match_like_matches_macro)]
    pub fn is_supported(self) -> bool {
        match self {
            Format::Text => true,
            Format::Pdf => cfg!(feature = "pdf"),
            Format::Docx | Format::Pptx => cfg!(feature = "office"),
            Format::Odt | Format::Odp | Format::Ods => cfg!(feature = "opendocument"),
            Format::Xlsx | Format::Xlsb | Format::Xls => cfg!(feature = "spreadsheet"),
            Format::Html => cfg!(feature = "html"),
            Format::Rtf => cfg!(feature = "rtf"),
            Format::Email => cfg!(feature = "email"),
            _ => false,
        }
    }

    /// A name for messages: `PDF`, `Word (.docx)`, ….
    pub fn describe(self) -> &'static str {
        match self {
            Format::Pdf => "PDF",
            Format::Docx => "Word (.docx)",
            Format::Pptx => "PowerPoint (.pptx)",
            Format::Xlsx => "Excel (.xlsx)",
            Format::Xlsb => "Excel binary (.xlsb)",
            Format::Xls => "Excel 97-2003 (.xls)",
            Format::Odt => "OpenDocument text (.odt)",
            Format::Odp => "OpenDocument presentation (.odp)",
            Format::Ods => "OpenDocument spreadsheet (.ods)",
            Format::Html => "HTML",
            Format::Rtf => "RTF",
            Format::Email => "email (.eml)",
            Format::Text => "plain text",
            Format::Doc => "Word 97-2003 (.doc)",
            Format::Ppt => "PowerPoint 97-2003 (.ppt)",
            Format::Msg => "Outlook message (.msg)",
            Format::EncryptedOffice => "password-protected Office file",
            Format::Unknown => "unknown binary",
        }
    }
}

/// The format of a file from its bytes, its name and its declared MIME type
/// (any may be empty).
///
/// ```
/// use connector_extract::{Format, detect};
///
/// assert_eq!(detect(b"%PDF-1.7\n...", "scan.docx", None), Format::Pdf);
/// assert_eq!(detect(b"# Title", "README.md", None), Format::Text);
/// assert_eq!(detect(b"<!DOCTYPE html><p>hi", "page", None), Format::Html);
/// assert_eq!(detect(b"{\\rtf1 hello}", "", None), Format::Rtf);
/// assert_eq!(detect(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "logo.png", None), Format::Unknown);
/// ```
pub fn detect(bytes: &[u8], name: &str, mime: Option<&str>) -> Format {
    if let Some(format) = by_magic(bytes, name, mime) {
        return format;
    }
    let by_mime = mime.map(by_mime).unwrap_or(Format::Unknown);
    let by_name = by_extension(name);
    for declared in [by_mime, by_name] {
        match declared {
            // Text-like formats have no magic; trust the declaration.
            Format::Html | Format::Email | Format::Text => return declared,
            // A binary format without its magic bytes is damaged or mislabelled:
            // let its parser say so.
            Format::Pdf | Format::Rtf if !bytes.is_empty() => return declared,
            _ => {}
        }
    }
    if looks_like_html(bytes) {
        return Format::Html;
    }
    if looks_like_email(bytes) {
        return Format::Email;
    }
    if crate::text::is_probably_text(bytes) {
        return Format::Text;
    }
    // Known binary by its name (a truncated .docx): let its parser report the damage.
    if by_name != Format::Unknown {
        return by_name;
    }
    by_mime
}

const CFB_MAGIC: &[u8] = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";

fn by_magic(bytes: &[u8], name: &str, mime: Option<&str>) -> Option<Format> {
    let head = &bytes[..bytes.len().min(1024)];
    if find(head, b"%PDF-").is_some() {
        return Some(Format::Pdf);
    }
    if bytes.starts_with(b"{\\rtf") {
        return Some(Format::Rtf);
    }
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        return Some(zip_format(bytes, name, mime));
    }
    if bytes.starts_with(CFB_MAGIC) {
        return Some(cfb_format(bytes, name, mime));
    }
    // Other binary formats `infer` knows (images, audio, video, archives):
    // nothing to extract.
    match infer::get(head) {
        Some(kind) if kind.matcher_type() != infer::MatcherType::Text => Some(Format::Unknown),
        _ => None,
    }
}

/// OOXML and OpenDocument are zip files; tell them apart by their parts.
fn zip_format(bytes: &[u8], name: &str, mime: Option<&str>) -> Format {
    // ODF stores an uncompressed `mimetype` entry first.
    if bytes.get(30..38) == Some(b"mimetype") {
        let rest = &bytes[38..bytes.len().min(38 + 80)];
        for (needle, format) in [
            (&b"opendocument.text"[..], Format::Odt),
            (b"opendocument.presentation", Format::Odp),
            (b"opendocument.spreadsheet", Format::Ods),
        ] {
            if find(rest, needle).is_some() {
                return format;
            }
        }
    }
    let declared = [mime.map(by_mime), Some(by_extension(name))];
    #[cfg(any(feature = "office", feature = "opendocument", feature = "spreadsheet"))]
    if let Ok(archive) = zip::ZipArchive::new(Cursor::new(bytes)) {
        let has = |n: &str| archive.index_for_name(n).is_some();
        let format = if has("word/document.xml") {
            Format::Docx
        } else if has("ppt/presentation.xml") {
            Format::Pptx
        } else if has("xl/workbook.xml") {
            Format::Xlsx
        } else if has("xl/workbook.bin") {
            Format::Xlsb
        } else if has("content.xml") {
            declared
                .into_iter()
                .flatten()
                .find(|f| matches!(f, Format::Odt | Format::Odp | Format::Ods))
                .unwrap_or(Format::Odt)
        } else {
            // Main parts under unusual names: the relationships say which.
            declared
                .into_iter()
                .flatten()
                .find(|f| is_zip_based(*f))
                .unwrap_or(Format::Unknown)
        };
        return format;
    }
    declared
        .into_iter()
        .flatten()
        .find(|f| is_zip_based(*f))
        .unwrap_or(Format::Unknown)
}

fn is_zip_based(format: Format) -> bool {
    matches!(
        format,
        Format::Docx
            | Format::Pptx
            | Format::Xlsx
            | Format::Xlsb
            | Format::Odt
            | Format::Odp
            | Format::Ods
    )
}

/// OLE compound files hold legacy Office documents, Outlook messages and
/// password-protected OOXML; their stream names tell which.
fn cfb_format(bytes: &[u8], name: &str, mime: Option<&str>) -> Format {
    match cfb::CompoundFile::open(Cursor::new(bytes)) {
        Ok(file) => {
            let has = |stream: &str| file.exists(stream);
            if has("/EncryptedPackage") {
                Format::EncryptedOffice
            } else if has("/WordDocument") {
                Format::Doc
            } else if has("/Workbook") || has("/Book") {
                Format::Xls
            } else if has("/PowerPoint Document") {
                Format::Ppt
            } else if has("/__properties_version1.0") {
                Format::Msg
            } else {
                Format::Unknown
            }
        }
        // Damaged: go by what it claims to be, so the message says what it is.
        Err(_) => {
            let declared = by_extension(name);
            if matches!(
                declared,
                Format::Xls | Format::Doc | Format::Ppt | Format::Msg
            ) {
                declared
            } else {
                mime.map(by_mime).unwrap_or(Format::Xls)
            }
        }
    }
}

/// The format a MIME type names (parameters ignored).
pub(crate) fn by_mime(mime: &str) -> Format {
    let essence = mime
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "application/pdf" | "application/x-pdf" => Format::Pdf,
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        | "application/vnd.ms-word.document.macroenabled.12"
        | "application/vnd.openxmlformats-officedocument.wordprocessingml.template" => Format::Docx,
        "application/vnd.openxmlformats-officedocument.presentationml.presentation"
        | "application/vnd.openxmlformats-officedocument.presentationml.slideshow"
        | "application/vnd.ms-powerpoint.presentation.macroenabled.12" => Format::Pptx,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        | "application/vnd.ms-excel.sheet.macroenabled.12" => Format::Xlsx,
        "application/vnd.ms-excel.sheet.binary.macroenabled.12" => Format::Xlsb,
        "application/vnd.ms-excel" => Format::Xls,
        "application/msword" => Format::Doc,
        "application/vnd.ms-powerpoint" => Format::Ppt,
        "application/vnd.ms-outlook" => Format::Msg,
        "application/vnd.oasis.opendocument.text" => Format::Odt,
        "application/vnd.oasis.opendocument.presentation" => Format::Odp,
        "application/vnd.oasis.opendocument.spreadsheet" => Format::Ods,
        "text/html" | "application/xhtml+xml" => Format::Html,
        "application/rtf" | "text/rtf" => Format::Rtf,
        "message/rfc822" => Format::Email,
        _ if connector_core::text::is_text_mime(&essence) => Format::Text,
        _ => Format::Unknown,
    }
}

/// The format a file name's extension names.
pub(crate) fn by_extension(name: &str) -> Format {
    let file = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let Some((_, ext)) = file.rsplit_once('.') else {
        return match connector_core::text::kind_by_name(std::path::Path::new(file)) {
            connector_core::text::Kind::Text => Format::Text,
            _ => Format::Unknown,
        };
    };
    match ext.to_ascii_lowercase().as_str() {
        "pdf" => Format::Pdf,
        "docx" | "docm" | "dotx" | "dotm" => Format::Docx,
        "pptx" | "pptm" | "ppsx" | "ppsm" | "potx" => Format::Pptx,
        "xlsx" | "xlsm" | "xltx" | "xltm" => Format::Xlsx,
        "xlsb" => Format::Xlsb,
        "xls" | "xla" => Format::Xls,
        "doc" | "dot" => Format::Doc,
        "ppt" | "pps" | "pot" => Format::Ppt,
        "msg" => Format::Msg,
        "odt" | "ott" => Format::Odt,
        "odp" | "otp" => Format::Odp,
        "ods" | "ots" => Format::Ods,
        "html" | "htm" | "xhtml" | "shtml" => Format::Html,
        "rtf" => Format::Rtf,
        "eml" | "mht" | "mhtml" => Format::Email,
        _ => match connector_core::text::kind_by_name(std::path::Path::new(file)) {
            connector_core::text::Kind::Text => Format::Text,
            _ => Format::Unknown,
        },
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn looks_like_html(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(1024)];
    let start = head
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(head.len());
    let head = head[start..]
        .strip_prefix(b"\xEF\xBB\xBF")
        .unwrap_or(&head[start..]);
    let lower = head.to_ascii_lowercase();
    lower.starts_with(b"<!doctype html")
        || lower.starts_with(b"<html")
        || (lower.starts_with(b"<")
            && (find(&lower, b"<body").is_some() || find(&lower, b"<head").is_some()))
}

/// An email starts with RFC 5322 header lines, one of them a header only
/// mail has.
fn looks_like_email(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(4096)];
    let Ok(head) =
        std::str::from_utf8(head).or_else(|e| std::str::from_utf8(&head[..e.valid_up_to()]))
    else {
        return false;
    };
    let mut headers = 0;
    let mut mail_header = false;
    for line in head.lines() {
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            continue;
        }
        let Some((field, _)) = line.split_once(':') else {
            return false;
        };
        if field.is_empty() || !field.bytes().all(|b| b.is_ascii_graphic()) {
            return false;
        }
        headers += 1;
        mail_header |= matches!(
            field.to_ascii_lowercase().as_str(),
            "from" | "received" | "return-path" | "message-id" | "mime-version" | "delivered-to"
        );
    }
    headers >= 2 && mail_header
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_beats_name_and_mime() {
        assert_eq!(
            detect(b"%PDF-1.4", "a.txt", Some("text/plain")),
            Format::Pdf
        );
        assert_eq!(detect(b"{\\rtf1}", "a.doc", None), Format::Rtf);
    }

    #[test]
    fn declared_text_formats_and_sniffing() {
        assert_eq!(detect(b"a,b\n1,2", "t.csv", None), Format::Text);
        assert_eq!(detect(b"<p>x</p>", "t.htm", None), Format::Html);
        assert_eq!(
            detect(b"<p>x</p>", "x", Some("text/html; charset=utf-8")),
            Format::Html
        );
        assert_eq!(
            detect(b"From: a@b.c\nSubject: hi\n\nbody", "noext", None),
            Format::Email
        );
        assert_eq!(
            detect(b"Subject: hi\nTitle: x\n\nbody", "noext", None),
            Format::Text
        );
        assert_eq!(
            detect(b"\0\x01\x02\x03binary", "blob", None),
            Format::Unknown
        );
        assert_eq!(
            detect(b"\0\x01\x02\x03binary", "cut.docx", None),
            Format::Docx
        );
    }

    #[test]
    fn extensions() {
        assert_eq!(by_extension("dir/Report.PDF"), Format::Pdf);
        assert_eq!(by_extension("a.xlsm"), Format::Xlsx);
        assert_eq!(by_extension("old.doc"), Format::Doc);
        assert_eq!(by_extension("Makefile"), Format::Text);
        assert_eq!(by_extension("a.b.c.md"), Format::Text);
    }
}
