//! # connector-extract
//!
//! Text from the files people store — PDF, Word, PowerPoint, Excel,
//! OpenDocument, HTML, RTF, email, and plain text in any common encoding —
//! for the connector SDK's file sources. Pure Rust, and bounded: every file
//! is read within the size, unpacking, nesting, cell, text and time limits
//! of [`ExtractOptions`], and a hostile or broken file becomes an error that
//! names the file and the reason, never a panic, a hang or a memory blow-up.
//!
//! ```
//! # async fn demo() -> connector_core::Result<()> {
//! use connector_extract::{Extractor, ExtractOptions, Place};
//!
//! let extractor = Extractor::new(ExtractOptions::default())?;
//! let html = b"<html><head><title>Plan</title></head><body><h1>Q3</h1><p>Ship it.</p></body></html>";
//! let doc = extractor.extract(html.to_vec(), "plan.html", Some("text/html")).await?;
//! assert_eq!(doc.title.as_deref(), Some("Plan"));
//! assert_eq!(doc.sections[0].place, Place::Body);
//! assert_eq!(doc.text(), "# Q3\nShip it.");
//!
//! // Into the SDK's document model, each section linked to its place.
//! let sections = doc.into_sections(Some("https://intranet/plan.html"));
//! assert_eq!(sections[0].link.as_deref(), Some("https://intranet/plan.html"));
//! # Ok(()) }
//! # tokio::runtime::Runtime::new().unwrap().block_on(demo()).unwrap();
//! ```
//!
//! - [`Extractor::extract`] (async): parses on Tokio's blocking pool and
//!   stops waiting when the time budget is spent; a panic in a parser is
//!   contained and reported as [`Reason::Panicked`].
//! - [`Extractor::extract_blocking`]: the same without a runtime, on the
//!   calling thread (panics contained; the time budget is checked as the
//!   parsers go).
//! - [`detect`]: which [`Format`] a file is, by its bytes first.
//! - Errors are [`connector_core::Error`]s naming the file; [`reason`]
//!   tells why ([`Reason`]).
//!
//! Formats and features (all on by default): `pdf`, `office` (`.docx`,
//! `.pptx`), `spreadsheet` (`.xlsx`, `.xlsm`, `.xlsb`, `.xls`),
//! `opendocument` (`.odt`, `.odp`, `.ods`), `html`, `rtf`, `email` (`.eml`).
//! Plain text, Markdown, CSV and JSON are always read. A file of a format
//! whose feature is off fails with [`Reason::FeatureDisabled`], naming the
//! feature.

#![cfg_attr(docsrs, feature(doc_cfg))]
// The shared machinery (budget, layout, packages) serves whichever formats
// are compiled in; with only some of them, parts of it go unused.
#![cfg_attr(
    not(all(
        feature = "pdf",
        feature = "office",
        feature = "opendocument",
        feature = "spreadsheet",
        feature = "html",
        feature = "rtf",
        feature = "email"
    )),
    allow(dead_code)
)]

#[cfg(any(feature = "office", feature = "opendocument", feature = "spreadsheet"))]
mod archive;
mod attachments;
mod budget;
mod detect;
mod error;
mod formats;
mod model;
mod options;
mod text;
#[cfg(any(feature = "office", feature = "opendocument", feature = "spreadsheet"))]
mod xml;

use std::io::Read;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use connector_core::Result;
use tokio::io::{AsyncRead, AsyncReadExt};

pub use detect::{Format, detect};
pub use error::{Reason, reason};
pub use model::{Extracted, ExtractedSection, Place, Warning};
pub use options::ExtractOptions;

use budget::{Budget, Collector, timed_out};
use error::{Failure, Res};

/// Extracts text within the limits of its [`ExtractOptions`]. Cheap to
/// clone; build one from the host's configuration and share it.
#[derive(Debug, Clone, Default)]
pub struct Extractor {
    options: Arc<ExtractOptions>,
}

impl Extractor {
    /// An extractor with these limits; a limit of 0 is a configuration error.
    pub fn new(options: ExtractOptions) -> Result<Self> {
        options.validate()?;
        Ok(Self {
            options: Arc::new(options),
        })
    }

    /// The limits in force.
    pub fn options(&self) -> &ExtractOptions {
        &self.options
    }

    /// Whether a file with this name and declared type is worth fetching:
    /// its format, judged without its bytes, is one this build reads.
    ///
    /// ```
    /// use connector_extract::Extractor;
    ///
    /// assert!(Extractor::supports("report.pdf", None));
    /// assert!(Extractor::supports("blob", Some("text/markdown")));
    /// assert!(!Extractor::supports("photo.jpg", Some("image/jpeg")));
    /// ```
    pub fn supports(name: &str, mime: Option<&str>) -> bool {
        let by_mime = mime.map(detect::by_mime).unwrap_or(Format::Unknown);
        let format = if by_mime == Format::Unknown {
            detect::by_extension(name)
        } else {
            by_mime
        };
        format.is_supported()
    }

    /// Extract on Tokio's blocking pool, waiting at most the time budget.
    /// Must be called within a Tokio runtime. Dropping the returned future
    /// tells the parser to stop at its next check.
    pub async fn extract(
        &self,
        bytes: impl Into<Bytes>,
        name: &str,
        mime: Option<&str>,
    ) -> Result<Extracted> {
        let bytes: Bytes = bytes.into();
        check_size(bytes.len() as u64, &self.options).map_err(|f| f.into_error(name))?;
        let stop = StopOnDrop(Arc::new(AtomicBool::new(false)));
        let flag = stop.0.clone();
        let options = self.options.clone();
        let (task_name, task_mime) = (name.to_owned(), mime.map(str::to_owned));
        let task = tokio::task::spawn_blocking(move || {
            run(&bytes, &task_name, task_mime.as_deref(), &options, flag)
        });
        match tokio::time::timeout(self.options.time_budget(), task).await {
            Ok(Ok(result)) => result.map_err(|f| f.into_error(name)),
            Ok(Err(join)) => {
                let detail = if join.is_panic() {
                    Failure::new(Reason::Panicked, "the extraction task panicked")
                } else {
                    Failure::new(Reason::TimedOut, "the extraction task was cancelled")
                };
                Err(detail.into_error(name))
            }
            // `stop` is dropped on return and tells the parser to give up.
            Err(_) => Err(timed_out(&self.options).into_error(name)),
        }
    }

    /// Extract on the calling thread. The time budget is enforced by the
    /// parsers checking the clock as they go.
    pub fn extract_blocking(
        &self,
        bytes: &[u8],
        name: &str,
        mime: Option<&str>,
    ) -> Result<Extracted> {
        check_size(bytes.len() as u64, &self.options).map_err(|f| f.into_error(name))?;
        run(bytes, name, mime, &self.options, Arc::default()).map_err(|f| f.into_error(name))
    }

    /// Read at most `max_input_bytes` from `reader`, then extract on the
    /// calling thread; a longer input fails without being read to its end.
    pub fn extract_reader(
        &self,
        reader: impl Read,
        name: &str,
        mime: Option<&str>,
    ) -> Result<Extracted> {
        let limit = self.options.max_input_bytes;
        let mut bytes = Vec::new();
        reader
            .take(limit.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|e| Failure::new(Reason::Io, e.to_string()).into_error(name))?;
        self.extract_blocking(&bytes, name, mime)
    }

    /// Read at most `max_input_bytes` from an async `reader` (a download
    /// body), then [`Extractor::extract`] it.
    pub async fn extract_async_reader(
        &self,
        reader: impl AsyncRead + Unpin,
        name: &str,
        mime: Option<&str>,
    ) -> Result<Extracted> {
        let limit = self.options.max_input_bytes;
        let mut bytes = Vec::new();
        reader
            .take(limit.saturating_add(1))
            .read_to_end(&mut bytes)
            .await
            .map_err(|e| Failure::new(Reason::Io, e.to_string()).into_error(name))?;
        self.extract(bytes, name, mime).await
    }
}

/// Sets the flag when the waiting side goes away (timeout or a dropped future).
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

fn check_size(len: u64, options: &ExtractOptions) -> Res<()> {
    if len > options.max_input_bytes {
        return Err(Failure::too_large(format!(
            "larger than max_input_bytes = {} bytes",
            options.max_input_bytes
        )));
    }
    Ok(())
}

/// One extraction with panics contained.
fn run(
    bytes: &[u8],
    name: &str,
    mime: Option<&str>,
    options: &ExtractOptions,
    stop: Arc<AtomicBool>,
) -> Res<Extracted> {
    let budget = Budget::new(options, bytes.len(), stop);
    catch_unwind(AssertUnwindSafe(|| {
        extract_nested(bytes, name, mime, &budget, 0)
    }))
    .unwrap_or_else(|panic| {
        let message = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no message".to_owned());
        Err(Failure::new(Reason::Panicked, message))
    })
}

/// Extract a file (or an attachment, at `depth` > 0) under a shared budget.
pub(crate) fn extract_nested(
    bytes: &[u8],
    name: &str,
    mime: Option<&str>,
    budget: &Budget<'_>,
    depth: u32,
) -> Res<Extracted> {
    budget.check_time()?;
    let format = detect(bytes, name, mime);
    let mut out = Collector::new(Extracted::empty(format), budget.options.max_text_bytes);
    let _ = depth;
    match format {
        Format::Text => {
            let charset = mime.and_then(charset_of);
            out.push(Place::Body, &text::decode(bytes, charset.as_deref()));
        }
        #[cfg(feature = "pdf")]
        Format::Pdf => formats::pdf::extract(bytes, budget, &mut out)?,
        #[cfg(feature = "office")]
        Format::Docx => formats::office::docx(bytes, budget, &mut out)?,
        #[cfg(feature = "office")]
        Format::Pptx => formats::office::pptx(bytes, budget, &mut out)?,
        #[cfg(feature = "spreadsheet")]
        Format::Xlsx => formats::sheet::xlsx(bytes, budget, &mut out)?,
        #[cfg(feature = "spreadsheet")]
        Format::Xlsb => formats::sheet::xlsb(bytes, budget, &mut out)?,
        #[cfg(feature = "spreadsheet")]
        Format::Xls => formats::sheet::xls(bytes, budget, &mut out)?,
        #[cfg(feature = "opendocument")]
        Format::Odt => formats::odf::extract(bytes, formats::odf::Kind::Text, budget, &mut out)?,
        #[cfg(feature = "opendocument")]
        Format::Odp => {
            formats::odf::extract(bytes, formats::odf::Kind::Presentation, budget, &mut out)?
        }
        #[cfg(feature = "opendocument")]
        Format::Ods => {
            formats::odf::extract(bytes, formats::odf::Kind::Spreadsheet, budget, &mut out)?
        }
        #[cfg(feature = "html")]
        Format::Html => formats::html::extract(bytes, budget, &mut out)?,
        #[cfg(feature = "rtf")]
        Format::Rtf => formats::rtf::extract(bytes, budget, &mut out)?,
        #[cfg(feature = "email")]
        Format::Email => formats::email::extract(bytes, budget, depth, &mut out)?,
        other => return Err(not_extracted(other)),
    }
    Ok(out.finish())
}

/// The failure for a format this build does not read.
fn not_extracted(format: Format) -> Failure {
    if let Some(feature) = format.feature() {
        return Failure::new(
            Reason::FeatureDisabled,
            format!(
                "{} needs the `{feature}` feature of connector-extract, which this build leaves out",
                format.describe()
            ),
        );
    }
    match format {
        Format::Doc => {
            Failure::unsupported("Word 97-2003 (.doc) has no pure-Rust reader; save it as .docx")
        }
        Format::Ppt => Failure::unsupported(
            "PowerPoint 97-2003 (.ppt) has no pure-Rust reader; save it as .pptx",
        ),
        Format::Msg => Failure::unsupported("Outlook .msg files are not read; export as .eml"),
        Format::EncryptedOffice => Failure::encrypted("the Office file is password-protected"),
        other => Failure::unsupported(format!("no text to extract from {}", other.describe())),
    }
}

/// `charset` of a `Content-Type`.
fn charset_of(mime: &str) -> Option<String> {
    mime.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| v.trim().trim_matches('"').to_owned())
    })
}
