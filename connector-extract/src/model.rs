//! What an extraction returns: [`Extracted`], its [`ExtractedSection`]s
//! with their [`Place`] in the file, and the [`Warning`]s a host should log.

use std::fmt;

use chrono::{DateTime, Utc};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Serialize;

use crate::detect::Format;

/// The text and properties of one file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Extracted {
    /// The format the file was read as.
    pub format: Format,
    /// The text, in reading order, each piece with where it came from.
    pub sections: Vec<ExtractedSection>,
    /// The title the file gives itself (document properties, `<title>`,
    /// an email's subject), when it has one.
    pub title: Option<String>,
    /// Authors the file names (document properties, an email's sender).
    pub authors: Vec<String>,
    /// When the file says it was created.
    pub created: Option<DateTime<Utc>>,
    /// When the file says it was last modified.
    pub modified: Option<DateTime<Utc>>,
    /// The language the file declares (`en-US`), when it declares one;
    /// nothing is guessed.
    pub language: Option<String>,
    /// What was skipped or could not be read; the rest of the text is good.
    pub warnings: Vec<Warning>,
}

impl Extracted {
    pub(crate) fn empty(format: Format) -> Self {
        Self {
            format,
            sections: Vec::new(),
            title: None,
            authors: Vec::new(),
            created: None,
            modified: None,
            language: None,
            warnings: Vec::new(),
        }
    }

    /// All text, sections separated by a blank line.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for section in &self.sections {
            if !out.is_empty() {
                out.push_str("\n\n");
            }
            out.push_str(&section.text);
        }
        out
    }

    /// The sections as [`connector_core::Section`]s, each linked to its place
    /// in the file: `link` is `base` followed by the place as a fragment
    /// (see [`Place::fragment`]), e.g. `report.pdf#page=3`,
    /// `deck.pptx#slide=2&notes`, `budget.xlsx#sheet=Q1%202024`,
    /// `mail.eml#attachment=report.pdf&page=2`. A body without a finer place
    /// gets `base` itself. Without a `base`, sections with a place get the
    /// bare fragment (`#page=3`) and the others no link.
    ///
    /// ```
    /// use connector_extract::Extractor;
    ///
    /// let pdf = Extractor::default()
    ///     .extract_blocking(b"Just words.", "notes.txt", None)
    ///     .unwrap();
    /// let sections = pdf.to_sections(Some("notes.txt"));
    /// assert_eq!(sections[0].text, "Just words.");
    /// assert_eq!(sections[0].link.as_deref(), Some("notes.txt"));
    /// ```
    pub fn to_sections(&self, base: Option<&str>) -> Vec<connector_core::Section> {
        self.sections
            .iter()
            .map(|s| connector_core::Section {
                text: s.text.clone(),
                link: s.place.link(base),
            })
            .collect()
    }

    /// Put a file's text into the document a source made for it: the
    /// sections (linked under `link`, as [`Extracted::to_sections`]), the
    /// authors when the source knows none, and the format, language and
    /// warnings as metadata (`extracted_format`, `language`,
    /// `extract_warnings`). The source's title, dates and attachment entry
    /// stay as they are: the source is the authority on those.
    ///
    /// ```
    /// use connector_core::Document;
    /// use connector_extract::Extractor;
    ///
    /// let mut doc = Document::new("fs", "notes.txt", "notes.txt");
    /// Extractor::default()
    ///     .extract_blocking(b"Just words.", "notes.txt", None)
    ///     .unwrap()
    ///     .fill(&mut doc, Some("file:///notes.txt"));
    /// assert_eq!(doc.sections[0].text, "Just words.");
    /// assert_eq!(doc.metadata["extracted_format"], "text".to_string().into());
    /// ```
    pub fn fill(self, doc: &mut connector_core::Document, link: Option<&str>) {
        // The formats that extract are one word each: `pdf`, `docx`, `text`.
        let format = format!("{:?}", self.format).to_lowercase();
        doc.metadata
            .insert("extracted_format".into(), format.into());
        if let Some(language) = &self.language {
            doc.metadata
                .insert("language".into(), language.clone().into());
        }
        if !self.warnings.is_empty() {
            let warnings: Vec<String> = self.warnings.iter().map(ToString::to_string).collect();
            doc.metadata
                .insert("extract_warnings".into(), warnings.join("; ").into());
        }
        if doc.authors.is_empty() {
            doc.authors.clone_from(&self.authors);
        }
        doc.sections.extend(self.into_sections(link));
    }

    /// Like [`Extracted::to_sections`], without copying the text.
    pub fn into_sections(self, base: Option<&str>) -> Vec<connector_core::Section> {
        self.sections
            .into_iter()
            .map(|s| {
                let link = s.place.link(base);
                connector_core::Section { text: s.text, link }
            })
            .collect()
    }
}

/// One piece of text and where in the file it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExtractedSection {
    /// Where the text is.
    pub place: Place,
    /// Plain text: paragraphs on their own lines, headings as `#` lines,
    /// list items as `- ` lines, table rows as cells joined by ` | `.
    pub text: String,
}

/// Where in a file a section comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Place {
    /// The main text of a file without pages (a Word or HTML document, an
    /// email's body, plain text).
    Body,
    /// A PDF page, from 1.
    Page(u32),
    /// A slide, from 1.
    Slide(u32),
    /// The speaker notes of a slide, from 1.
    Notes(u32),
    /// A spreadsheet's sheet, by name.
    Sheet(String),
    /// A word-processing document's footnotes.
    Footnotes,
    /// A word-processing document's endnotes.
    Endnotes,
    /// An email's headers (subject, from, to, date).
    Headers,
    /// A place inside a file attached to this one (an email attachment).
    Attachment {
        /// The attachment's file name.
        name: String,
        /// Where in the attachment.
        place: Box<Place>,
    },
}

/// Characters kept as they are in a fragment value: letters, digits and
/// `-._~` (the URL "unreserved" set); everything else is percent-encoded.
const FRAGMENT_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

impl Place {
    /// The place as a URL fragment, `None` for [`Place::Body`]:
    /// `page=3`, `slide=2`, `slide=2&notes`, `sheet=<name>`, `footnotes`,
    /// `endnotes`, `headers`, and `attachment=<name>` followed by `&` and the
    /// place inside the attachment. Names are percent-encoded (UTF-8).
    ///
    /// ```
    /// use connector_extract::Place;
    ///
    /// assert_eq!(Place::Page(3).fragment().as_deref(), Some("page=3"));
    /// assert_eq!(Place::Sheet("Q1 2024".into()).fragment().as_deref(), Some("sheet=Q1%202024"));
    /// let inner = Place::Attachment { name: "a b.pdf".into(), place: Box::new(Place::Page(2)) };
    /// assert_eq!(inner.fragment().as_deref(), Some("attachment=a%20b.pdf&page=2"));
    /// assert_eq!(Place::Body.fragment(), None);
    /// ```
    pub fn fragment(&self) -> Option<String> {
        match self {
            Place::Body => None,
            Place::Page(n) => Some(format!("page={n}")),
            Place::Slide(n) => Some(format!("slide={n}")),
            Place::Notes(n) => Some(format!("slide={n}&notes")),
            Place::Sheet(name) => Some(format!(
                "sheet={}",
                utf8_percent_encode(name, FRAGMENT_VALUE)
            )),
            Place::Footnotes => Some("footnotes".into()),
            Place::Endnotes => Some("endnotes".into()),
            Place::Headers => Some("headers".into()),
            Place::Attachment { name, place } => {
                let mut out = format!("attachment={}", utf8_percent_encode(name, FRAGMENT_VALUE));
                if let Some(inner) = place.fragment() {
                    out.push('&');
                    out.push_str(&inner);
                }
                Some(out)
            }
        }
    }

    /// `base#fragment` (`&` instead of `#` when `base` already has a
    /// fragment); `base` alone for [`Place::Body`]; see [`Extracted::to_sections`].
    pub fn link(&self, base: Option<&str>) -> Option<String> {
        match (base, self.fragment()) {
            (Some(base), Some(fragment)) => {
                let sep = if base.contains('#') { '&' } else { '#' };
                Some(format!("{base}{sep}{fragment}"))
            }
            (Some(base), None) => Some(base.to_owned()),
            (None, Some(fragment)) => Some(format!("#{fragment}")),
            (None, None) => None,
        }
    }
}

/// Something a host should know about a successful extraction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Warning {
    /// A PDF with no text layer at all: scanned pages or pictures of text.
    /// It needs OCR, which this crate does not do.
    NoTextLayer {
        /// How many pages the PDF has.
        pages: u32,
    },
    /// Some PDF pages have no text layer (scanned pages in a text PDF).
    PagesWithoutText {
        /// The page numbers, from 1.
        pages: Vec<u32>,
    },
    /// The text reached `max_text_bytes` and was cut there.
    Truncated {
        /// The limit that was reached, in bytes.
        limit: u64,
    },
    /// A part of the file (a page, an attachment, a sheet) could not be read;
    /// the rest was.
    Skipped {
        /// Which part.
        part: String,
        /// Why.
        reason: String,
    },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::NoTextLayer { pages } => write!(
                f,
                "no text layer on any of {pages} page(s): scanned or image-only PDF, needs OCR"
            ),
            Warning::PagesWithoutText { pages } => {
                write!(f, "no text layer on page(s) ")?;
                for (i, page) in pages.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{page}")?;
                }
                Ok(())
            }
            Warning::Truncated { limit } => {
                write!(f, "text cut at max_text_bytes = {limit} bytes")
            }
            Warning::Skipped { part, reason } => write!(f, "skipped {part}: {reason}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_join_base_and_fragment() {
        let page = Place::Page(3);
        assert_eq!(page.link(Some("r.pdf")).as_deref(), Some("r.pdf#page=3"));
        assert_eq!(
            page.link(Some("https://x/r.pdf#view")).as_deref(),
            Some("https://x/r.pdf#view&page=3")
        );
        assert_eq!(page.link(None).as_deref(), Some("#page=3"));
        assert_eq!(Place::Body.link(Some("a.docx")).as_deref(), Some("a.docx"));
        assert_eq!(Place::Body.link(None), None);
        assert_eq!(
            Place::Notes(2).link(Some("d.pptx")).as_deref(),
            Some("d.pptx#slide=2&notes")
        );
        let nested = Place::Attachment {
            name: "fwd.eml".into(),
            place: Box::new(Place::Attachment {
                name: "Q&A ü.xlsx".into(),
                place: Box::new(Place::Sheet("Sheet 1".into())),
            }),
        };
        assert_eq!(
            nested.fragment().as_deref(),
            Some("attachment=fwd.eml&attachment=Q%26A%20%C3%BC.xlsx&sheet=Sheet%201")
        );
    }

    #[test]
    fn warnings_read_well() {
        assert_eq!(
            Warning::PagesWithoutText { pages: vec![2, 5] }.to_string(),
            "no text layer on page(s) 2, 5"
        );
    }
}
