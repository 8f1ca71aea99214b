//! `file:` URLs (RFC 8089) for absolute paths.

use std::path::{Component, Path, Prefix};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_encode};

/// Bytes left as they are in a path segment: RFC 3986 `pchar` minus
/// `pct-encoded`, i.e. unreserved (`A-Z a-z 0-9 - . _ ~`), sub-delims
/// (`! $ & ' ( ) * + , ; =`), `:` and `@`. Everything else — space, `#`,
/// `?`, `%`, `\`, controls, every non-ASCII byte — is percent-encoded.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'!')
    .remove(b'$')
    .remove(b'&')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b'+')
    .remove(b',')
    .remove(b';')
    .remove(b'=')
    .remove(b':')
    .remove(b'@');

/// The `file:` URL of an absolute path: `file:///dir/a%20b.txt`; on
/// Windows `file:///C:/dir/x.txt` or, for a share, `file://server/share/x.txt`.
///
/// Each name is percent-encoded byte for byte (UTF-8 as UTF-8, other bytes
/// as they are), so the URL names exactly this file. `None` for a relative
/// path or a Windows prefix with no `file:` form (device namespace).
pub(crate) fn file_url(path: &Path) -> Option<String> {
    if !path.is_absolute() {
        return None;
    }
    let mut url = String::from("file://");
    for component in path.components() {
        match component {
            Component::Prefix(prefix) => match prefix.kind() {
                Prefix::Disk(letter) | Prefix::VerbatimDisk(letter) => {
                    url.push('/');
                    url.push(char::from(letter));
                    url.push(':');
                }
                Prefix::UNC(server, share) | Prefix::VerbatimUNC(server, share) => {
                    url.extend(percent_encode(server.as_encoded_bytes(), SEGMENT));
                    url.push('/');
                    url.extend(percent_encode(share.as_encoded_bytes(), SEGMENT));
                }
                Prefix::Verbatim(_) | Prefix::DeviceNS(_) => return None,
            },
            Component::RootDir | Component::CurDir => {}
            // An absolute path from a walk never holds `..`; should one
            // appear, keep it literal rather than guess what it resolves to.
            Component::ParentDir => url.push_str("/.."),
            Component::Normal(name) => {
                url.push('/');
                url.extend(percent_encode(name.as_encoded_bytes(), SEGMENT));
            }
        }
    }
    if url.len() == "file://".len() {
        url.push('/');
    }
    Some(url)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::ffi::OsStrExt;

    fn url_of(bytes: &[u8]) -> Option<String> {
        file_url(Path::new(std::ffi::OsStr::from_bytes(bytes)))
    }

    #[test]
    fn known_encodings() {
        let cases: [(&[u8], &str); 11] = [
            (b"/", "file:///"),
            (b"/srv/docs/intro.md", "file:///srv/docs/intro.md"),
            (b"/srv/my notes/a b.txt", "file:///srv/my%20notes/a%20b.txt"),
            (b"/srv/#1 ?draft.md", "file:///srv/%231%20%3Fdraft.md"),
            (b"/srv/100%.txt", "file:///srv/100%25.txt"),
            (
                b"/srv/caf\xC3\xA9/na\xC3\xAFve.md",
                "file:///srv/caf%C3%A9/na%C3%AFve.md",
            ),
            (b"/srv/a\xFF.txt", "file:///srv/a%FF.txt"),
            (b"/srv/back\\slash", "file:///srv/back%5Cslash"),
            (b"/srv/tab\tnl\n", "file:///srv/tab%09nl%0A"),
            (
                b"/srv/[x]{y}<z>|^`\"",
                "file:///srv/%5Bx%5D%7By%7D%3Cz%3E%7C%5E%60%22",
            ),
            (
                b"/srv/a-b_c.d~e!$&'()*+,;=:@",
                "file:///srv/a-b_c.d~e!$&'()*+,;=:@",
            ),
        ];
        for (path, want) in cases {
            assert_eq!(
                url_of(path).as_deref(),
                Some(want),
                "{}",
                String::from_utf8_lossy(path)
            );
        }
    }

    #[test]
    fn distinct_names_get_distinct_urls() {
        assert_ne!(url_of(b"/a\xFF"), url_of(b"/a%FF"));
        assert_ne!(url_of(b"/a%FF"), url_of(b"/a%25FF"));
    }

    #[test]
    fn relative_paths_have_no_url() {
        assert_eq!(file_url(Path::new("docs/a.md")), None);
    }
}
