//! [`ExtractOptions`]: every limit of an extraction in one place, with
//! defaults that suit a sync of an enterprise document library and a serde
//! form a host can keep in its configuration.

use std::time::Duration;

use connector_core::{Error, Result};
use serde::{Deserialize, Serialize};

const MIB: u64 = 1024 * 1024;

/// The limits of one extraction. Any field left out of a configuration
/// keeps its default; unknown fields are rejected, so a misspelt limit is an
/// error rather than silently ignored.
///
/// ```
/// use connector_extract::ExtractOptions;
///
/// let options: ExtractOptions = serde_json::from_str(
///     r#"{ "max_input_bytes": 1048576, "time_budget_ms": 5000 }"#,
/// ).unwrap();
/// assert_eq!(options.max_input_bytes, 1 << 20);
/// assert_eq!(options.time_budget().as_secs(), 5);
/// assert_eq!(options.max_nesting, ExtractOptions::default().max_nesting);
/// assert!(serde_json::from_str::<ExtractOptions>(r#"{ "max_input_byte": 1 }"#).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExtractOptions {
    /// Largest input accepted, in bytes. Larger files fail with
    /// [`Reason::TooLarge`](crate::Reason::TooLarge) before any parsing.
    /// Default 64 MiB.
    pub max_input_bytes: u64,
    /// Most bytes unpacked from archives (OOXML and OpenDocument are zip
    /// files) while extracting one file, nested archives included.
    /// Default 256 MiB.
    pub max_uncompressed_bytes: u64,
    /// Most unpacked bytes per packed byte of the whole file, once more than
    /// 1 MiB has been unpacked (a zip bomb unpacks thousands of times its
    /// size; office files rarely exceed 20). Default 100.
    pub max_compression_ratio: u64,
    /// Most entries in one archive, and most attachments in one email.
    /// Default 10 000.
    pub max_entries: u64,
    /// How deep attachments and embedded files may nest (an email attached
    /// to an email attached to an email is depth 2). Default 3.
    pub max_nesting: u32,
    /// How deep XML, HTML and RTF elements may nest. Default 512.
    pub max_markup_depth: u32,
    /// Most spreadsheet cells read from one file. Default 2 000 000.
    pub max_cells: u64,
    /// Most bytes of text kept from one file; past it the text is cut and a
    /// [`Warning::Truncated`](crate::Warning::Truncated) added. Default 32 MiB.
    pub max_text_bytes: u64,
    /// Time one file may take, in milliseconds: past it the file fails with
    /// [`Reason::TimedOut`](crate::Reason::TimedOut). Default 30 000.
    pub time_budget_ms: u64,
}

impl Default for ExtractOptions {
    fn default() -> Self {
        Self {
            max_input_bytes: 64 * MIB,
            max_uncompressed_bytes: 256 * MIB,
            max_compression_ratio: 100,
            max_entries: 10_000,
            max_nesting: 3,
            max_markup_depth: 512,
            max_cells: 2_000_000,
            max_text_bytes: 32 * MIB,
            time_budget_ms: 30_000,
        }
    }
}

impl ExtractOptions {
    /// [`ExtractOptions::time_budget_ms`] as a `Duration`.
    pub fn time_budget(&self) -> Duration {
        Duration::from_millis(self.time_budget_ms)
    }

    /// Check that every limit is usable; the error names the field and the fix.
    pub fn validate(&self) -> Result<()> {
        let fields = [
            ("max_input_bytes", self.max_input_bytes),
            ("max_uncompressed_bytes", self.max_uncompressed_bytes),
            ("max_compression_ratio", self.max_compression_ratio),
            ("max_entries", self.max_entries),
            ("max_markup_depth", u64::from(self.max_markup_depth)),
            ("max_cells", self.max_cells),
            ("max_text_bytes", self.max_text_bytes),
            ("time_budget_ms", self.time_budget_ms),
        ];
        for (name, value) in fields {
            if value == 0 {
                return Err(Error::config(format!(
                    "extract option {name} is 0, which would reject every file; \
                     leave it out for the default or give a positive number"
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_limit_is_a_config_error_naming_the_field() {
        let options = ExtractOptions {
            time_budget_ms: 0,
            ..ExtractOptions::default()
        };
        let err = options.validate().unwrap_err();
        assert_eq!(err.kind(), connector_core::ErrorKind::Config);
        assert!(err.to_string().contains("time_budget_ms"), "{err}");
        assert!(ExtractOptions::default().validate().is_ok());
    }
}
