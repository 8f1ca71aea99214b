//! One module per format family; each turns bytes into sections of a
//! [`Collector`](crate::budget::Collector) under a [`Budget`](crate::budget::Budget).

#[cfg(feature = "email")]
pub(crate) mod email;
#[cfg(feature = "html")]
pub(crate) mod html;
#[cfg(any(feature = "office", feature = "opendocument", feature = "html"))]
pub(crate) mod layout;
#[cfg(feature = "opendocument")]
pub(crate) mod odf;
#[cfg(feature = "office")]
pub(crate) mod office;
#[cfg(any(feature = "office", feature = "opendocument", feature = "spreadsheet"))]
pub(crate) mod package;
#[cfg(feature = "pdf")]
pub(crate) mod pdf;
#[cfg(feature = "rtf")]
pub(crate) mod rtf;
#[cfg(feature = "spreadsheet")]
pub(crate) mod sheet;
