//! Which keys are in scope: the prefixes to list (sorted, overlaps removed,
//! so no key is listed twice) and the include/exclude globs.

use connector_core::{Error, Result};
use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};

/// The prefixes to list, in key order; a prefix inside another is dropped.
/// No prefix at all means the whole bucket (one empty prefix).
pub(crate) fn normalise_prefixes(prefixes: &[String]) -> Vec<String> {
    let mut sorted: Vec<String> = prefixes.to_vec();
    sorted.sort();
    sorted.dedup();
    let mut kept: Vec<String> = Vec::with_capacity(sorted.len());
    for p in sorted {
        // Sorted order puts `a/` before `a/b/`, so one look back suffices.
        if kept.last().is_some_and(|k| p.starts_with(k.as_str())) {
            continue;
        }
        kept.push(p);
    }
    if kept.is_empty() {
        kept.push(String::new());
    }
    kept
}

/// The include and exclude globs, compiled.
#[derive(Debug, Clone)]
pub(crate) struct KeyFilter {
    include_names: GlobSet,
    include_keys: GlobSet,
    exclude_names: GlobSet,
    exclude_keys: GlobSet,
    has_include: bool,
}

impl KeyFilter {
    /// Compile `include` and `exclude`; a bad pattern names itself.
    pub(crate) fn new(include: &[String], exclude: &[String]) -> Result<Self> {
        let (include_names, include_keys) = compile(include, "include")?;
        let (exclude_names, exclude_keys) = compile(exclude, "exclude")?;
        Ok(Self {
            include_names,
            include_keys,
            exclude_names,
            exclude_keys,
            has_include: !include.is_empty(),
        })
    }

    /// Whether `key` is in scope.
    pub(crate) fn accepts(&self, key: &str) -> bool {
        let name = key.rsplit('/').next().unwrap_or(key);
        if self.exclude_names.is_match(name) || self.exclude_keys.is_match(key) {
            return false;
        }
        !self.has_include || self.include_names.is_match(name) || self.include_keys.is_match(key)
    }
}

/// Patterns without `/` match file names; the others match whole keys, with
/// `*` stopping at `/` and `**` crossing it.
fn compile(patterns: &[String], what: &str) -> Result<(GlobSet, GlobSet)> {
    let mut names = GlobSetBuilder::new();
    let mut keys = GlobSetBuilder::new();
    for pattern in patterns {
        let bad = |e: globset::Error| {
            Error::config(format!("{what} pattern `{pattern}` is invalid: {e}"))
        };
        if pattern.contains('/') {
            let glob = GlobBuilder::new(pattern.trim_start_matches('/'))
                .literal_separator(true)
                .build()
                .map_err(bad)?;
            keys.add(glob);
        } else {
            names.add(Glob::new(pattern).map_err(bad)?);
        }
    }
    let build = |b: GlobSetBuilder| {
        b.build()
            .map_err(|e| Error::config(format!("{what} patterns are invalid: {e}")))
    };
    Ok((build(names)?, build(keys)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn prefixes_are_sorted_and_overlaps_dropped() {
        assert_eq!(normalise_prefixes(&[]), [""]);
        assert_eq!(
            normalise_prefixes(&strings(&["b/", "a/x/", "a/", "b/"])),
            ["a/", "b/"]
        );
        assert_eq!(normalise_prefixes(&strings(&["", "a/"])), [""]);
        // `ab` is not inside `a/`.
        assert_eq!(normalise_prefixes(&strings(&["a/", "ab"])), ["a/", "ab"]);
    }

    #[test]
    fn globs() {
        let f =
            KeyFilter::new(&strings(&["*.md", "docs/**/*.txt"]), &strings(&["draft-*"])).unwrap();
        assert!(f.accepts("readme.md"));
        assert!(f.accepts("deep/down/notes.md"));
        assert!(f.accepts("docs/a/b/c.txt"));
        assert!(!f.accepts("other/c.txt"));
        assert!(!f.accepts("deep/draft-1.md"));
        let all = KeyFilter::new(&[], &strings(&["tmp/*"])).unwrap();
        assert!(all.accepts("x.bin"));
        assert!(!all.accepts("tmp/x.bin"));
        assert!(all.accepts("tmp/deeper/x.bin"));
        let err = KeyFilter::new(&strings(&["a[b"]), &[]).unwrap_err();
        assert!(err.to_string().contains("include pattern `a[b`"), "{err}");
    }
}
