//! Document ids: one readable, injective string per path.

use std::path::{Component, Path};

/// The document id of a path relative to the root.
///
/// The id is the path's components joined by `/`, each written as UTF-8
/// with two escapes:
///
/// - a byte that is not part of valid UTF-8 is written `%XX` (two upper-case
///   hex digits);
/// - `%` itself is written `%25`.
///
/// Every other character stands for itself, so ordinary names read as they
/// are (`guide/intro.md`). No `%` is left unescaped, so an id decodes back to
/// exactly one byte string: two distinct paths never share an id, and the
/// same path always gets the same one. A name holding the byte `0xFF`, one
/// holding the text `\xFF` and one holding `%FF` get three ids:
///
/// ```
/// # #[cfg(unix)] {
/// use std::ffi::OsStr;
/// use std::os::unix::ffi::OsStrExt;
/// use std::path::Path;
/// use connector_fs::path_id;
///
/// assert_eq!(path_id(Path::new("guide/intro.md")), "guide/intro.md");
/// assert_eq!(path_id(Path::new(OsStr::from_bytes(b"a\xFF.txt"))), "a%FF.txt");
/// assert_eq!(path_id(Path::new("a\\xFF.txt")), "a\\xFF.txt");
/// assert_eq!(path_id(Path::new("a%FF.txt")), "a%25FF.txt");
/// # }
/// ```
///
/// On Windows a name that is not valid UTF-16 is taken in its WTF-8 form, so
/// an unpaired surrogate becomes three `%XX` escapes.
pub fn path_id(rel: &Path) -> String {
    let mut id = String::new();
    for component in rel.components() {
        let Component::Normal(part) = component else {
            continue;
        };
        if !id.is_empty() {
            id.push('/');
        }
        push_escaped(&mut id, part.as_encoded_bytes());
    }
    id
}

fn push_escaped(out: &mut String, bytes: &[u8]) {
    for chunk in bytes.utf8_chunks() {
        for (i, piece) in chunk.valid().split('%').enumerate() {
            if i > 0 {
                out.push_str("%25");
            }
            out.push_str(piece);
        }
        for byte in chunk.invalid() {
            push_hex(out, *byte);
        }
    }
}

fn push_hex(out: &mut String, byte: u8) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.push('%');
    out.push(char::from(HEX[usize::from(byte >> 4)]));
    out.push(char::from(HEX[usize::from(byte & 0x0F)]));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The inverse of the encoding, to prove it loses nothing.
    fn decode(id: &str) -> Vec<u8> {
        let bytes = id.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        out
    }

    #[test]
    fn readable_names_stay_as_they_are() {
        assert_eq!(path_id(Path::new("a/b/c.txt")), "a/b/c.txt");
        assert_eq!(path_id(Path::new("café/naïve 1.md")), "café/naïve 1.md");
        assert_eq!(path_id(Path::new("a\\xFF.txt")), "a\\xFF.txt");
        assert_eq!(path_id(Path::new("./x/../y")), "x/y");
    }

    #[test]
    fn percent_is_escaped() {
        assert_eq!(path_id(Path::new("100%.txt")), "100%25.txt");
        assert_eq!(path_id(Path::new("%%/%25")), "%25%25/%2525");
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_bytes_are_percent_escaped_and_decode_back() {
        use std::os::unix::ffi::OsStrExt;
        let name = |b: &[u8]| path_id(Path::new(std::ffi::OsStr::from_bytes(b)));
        assert_eq!(name(b"caf\xe9.txt"), "caf%E9.txt");
        assert_eq!(name(b"a\xFF.txt"), "a%FF.txt");
        assert_eq!(name(b"\xC3"), "%C3");
        assert_eq!(name(b"\xC3\xA9%\xFF"), "é%25%FF");

        let samples: [&[u8]; 8] = [
            b"a\xFF.txt",
            b"a\\xFF.txt",
            b"a%FF.txt",
            b"a%25FF.txt",
            b"a\xC3\xA9",
            b"a\xC3",
            b"%",
            b"\xFF\xFE%",
        ];
        let ids: std::collections::HashSet<String> = samples.iter().map(|b| name(b)).collect();
        assert_eq!(ids.len(), samples.len());
        for sample in samples {
            assert_eq!(decode(&name(sample)), sample);
        }
    }
}
