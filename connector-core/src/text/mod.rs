//! Text helpers: [`rich`] turns structure into readable plain text,
//! `decode_entities` (feature `html`) reads HTML character references, and
//! the rest decides whether a file or object is text, and what MIME type it has:
//! by its name first, then by a `Content-Type` when the source sends one,
//! then by sniffing the first bytes. Every connector uses the same rules, so
//! a Markdown file is text whether it comes from disk, a bucket or a drive.
//!
//! ```
//! use std::path::Path;
//! use connector_core::text::{Kind, content_type, is_text_mime, kind_by_name, looks_like_text};
//!
//! assert_eq!(kind_by_name(Path::new("docs/README.md")), Kind::Text);
//! assert_eq!(kind_by_name(Path::new("deck.pptx")), Kind::Binary);
//! assert_eq!(kind_by_name(Path::new("data.weird")), Kind::Unknown);
//! assert!(looks_like_text(b"plain words"));
//! assert!(is_text_mime("application/json; charset=utf-8"));
//! assert_eq!(content_type(Path::new("a.weird"), true), "text/plain");
//! ```

#[cfg(feature = "html")]
mod entities;
pub mod rich;

use std::path::Path;

#[cfg(feature = "html")]
pub use entities::decode_entities;

/// Extensions read as text without looking inside.
const TEXT_EXTENSIONS: &[&str] = &[
    "txt",
    "text",
    "md",
    "markdown",
    "mdx",
    "rst",
    "adoc",
    "asciidoc",
    "org",
    "tex",
    "csv",
    "tsv",
    "json",
    "jsonl",
    "ndjson",
    "yaml",
    "yml",
    "toml",
    "xml",
    "html",
    "htm",
    "xhtml",
    "svg",
    "ini",
    "cfg",
    "conf",
    "properties",
    "env",
    "log",
    "sql",
    "graphql",
    "proto",
    "rs",
    "py",
    "pyi",
    "js",
    "mjs",
    "cjs",
    "ts",
    "tsx",
    "jsx",
    "java",
    "kt",
    "kts",
    "scala",
    "go",
    "c",
    "h",
    "cc",
    "cpp",
    "cxx",
    "hpp",
    "hh",
    "cs",
    "fs",
    "rb",
    "php",
    "pl",
    "pm",
    "lua",
    "r",
    "swift",
    "m",
    "mm",
    "dart",
    "ex",
    "exs",
    "erl",
    "hs",
    "ml",
    "clj",
    "sh",
    "bash",
    "zsh",
    "fish",
    "ps1",
    "bat",
    "cmd",
    "css",
    "scss",
    "sass",
    "less",
    "vue",
    "svelte",
    "gradle",
    "cmake",
    "mk",
    "dockerfile",
    "tf",
    "hcl",
    "nix",
    "lock",
    "gitignore",
    "editorconfig",
];

/// File names (without extension) that are text.
const TEXT_NAMES: &[&str] = &[
    "README",
    "LICENSE",
    "COPYING",
    "NOTICE",
    "AUTHORS",
    "CHANGELOG",
    "Makefile",
    "Dockerfile",
    "Jenkinsfile",
    "Procfile",
    "Gemfile",
    "Rakefile",
    "Vagrantfile",
];

/// Bytes looked at when the name does not tell.
pub const SNIFF_BYTES: usize = 8 * 1024;

/// What the name says about a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Known text.
    Text,
    /// Known binary (image, archive, office document, …).
    Binary,
    /// Look at the first bytes.
    Unknown,
}

/// What a file name says: known text, known binary, or unknown.
pub fn kind_by_name(path: &Path) -> Kind {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    if let Some(ext) = &ext {
        if TEXT_EXTENSIONS.contains(&ext.as_str()) {
            return Kind::Text;
        }
        if let Some(mime) = mime_guess::from_ext(ext).first() {
            return match mime.type_().as_str() {
                "text" => Kind::Text,
                _ => Kind::Binary,
            };
        }
        return Kind::Unknown;
    }
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if TEXT_NAMES.iter().any(|t| t.eq_ignore_ascii_case(name)) {
        Kind::Text
    } else {
        Kind::Unknown
    }
}

/// Text if there is no NUL byte and the bytes are UTF-8 (a character cut
/// at the end of the sample is fine).
pub fn looks_like_text(sample: &[u8]) -> bool {
    if sample.contains(&0) {
        return false;
    }
    match std::str::from_utf8(sample) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none() && sample.len() - e.valid_up_to() < 4,
    }
}

/// Whether a `Content-Type` header names text: `text/*`, JSON, XML, YAML,
/// JavaScript and the like (parameters such as `charset` ignored).
pub fn is_text_mime(mime: &str) -> bool {
    let essence = mime
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence.starts_with("text/")
        || essence.ends_with("+json")
        || essence.ends_with("+xml")
        || matches!(
            essence.as_str(),
            "application/json"
                | "application/xml"
                | "application/x-yaml"
                | "application/yaml"
                | "application/javascript"
                | "application/x-sh"
                | "application/sql"
                | "application/toml"
                | "application/x-ndjson"
        )
}

/// The MIME type for a file name, `text/plain` for text without a known type.
pub fn content_type(path: &Path, is_text: bool) -> String {
    match mime_guess::from_path(path).first_raw() {
        Some(mime) => mime.to_owned(),
        None if is_text => "text/plain".to_owned(),
        None => "application/octet-stream".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(kind_by_name(Path::new("a/b.MD")), Kind::Text);
        assert_eq!(kind_by_name(Path::new("main.rs")), Kind::Text);
        assert_eq!(kind_by_name(Path::new("Makefile")), Kind::Text);
        assert_eq!(kind_by_name(Path::new("photo.jpg")), Kind::Binary);
        assert_eq!(kind_by_name(Path::new("report.pdf")), Kind::Binary);
        assert_eq!(kind_by_name(Path::new("data.weird")), Kind::Unknown);
        assert_eq!(kind_by_name(Path::new("noext")), Kind::Unknown);
    }

    #[test]
    fn sniffing() {
        assert!(looks_like_text(b"hello\nworld"));
        assert!(looks_like_text("héllo".as_bytes()));
        // A multi-byte character cut by the sample boundary.
        assert!(looks_like_text(&"é".as_bytes()[..1]));
        assert!(!looks_like_text(b"\x00\x01\x02"));
        assert!(!looks_like_text(b"\xff\xfe plain"));
        assert_eq!(content_type(Path::new("a.json"), true), "application/json");
        assert_eq!(content_type(Path::new("a.weird"), true), "text/plain");
        assert!(is_text_mime("text/plain; charset=utf-8"));
        assert!(is_text_mime("application/vnd.api+json"));
        assert!(!is_text_mime("application/octet-stream"));
        assert!(!is_text_mime("image/png"));
    }
}
