//! What OOXML and OpenDocument packages share: relationships between parts
//! (OOXML's `_rels/*.rels`) and document properties (`docProps/core.xml`,
//! OpenDocument's `meta.xml`).

use chrono::{DateTime, NaiveDateTime, Utc};

use crate::archive::Archive;
use crate::budget::{Budget, Collector};
use crate::error::Res;
use crate::xml::{Node, Xml, attr, local};

/// One relationship of a part: its type's last path segment
/// (`officeDocument`, `slide`, `notesSlide`, `footnotes`, …), its id and
/// the target part's path inside the package.
pub(crate) struct Rel {
    pub(crate) kind: String,
    pub(crate) id: String,
    pub(crate) target: String,
}

/// The relationships of `part` (`""` for the package itself).
pub(crate) fn rels(
    archive: &mut Archive<'_, '_>,
    budget: &Budget<'_>,
    part: &str,
) -> Res<Vec<Rel>> {
    let (dir, file) = match part.rsplit_once('/') {
        Some((dir, file)) => (dir, file),
        None => ("", part),
    };
    let rels_path = if dir.is_empty() {
        format!("_rels/{file}.rels")
    } else {
        format!("{dir}/_rels/{file}.rels")
    };
    let Some(bytes) = archive.read(&rels_path)? else {
        return Ok(Vec::new());
    };
    let mut xml = Xml::new(&bytes, budget);
    let mut out = Vec::new();
    loop {
        match xml.next()? {
            Node::Start(e) | Node::Empty(e) if local(&e) == b"Relationship" => {
                if attr(&e, b"TargetMode").is_some_and(|m| m == "External") {
                    continue;
                }
                let (Some(kind), Some(id), Some(target)) =
                    (attr(&e, b"Type"), attr(&e, b"Id"), attr(&e, b"Target"))
                else {
                    continue;
                };
                let kind = kind.rsplit('/').next().unwrap_or("").to_owned();
                out.push(Rel {
                    kind,
                    id,
                    target: resolve(dir, &target),
                });
            }
            Node::Eof => break,
            _ => {}
        }
    }
    Ok(out)
}

/// A relationship target relative to `dir`, as a path inside the package.
fn resolve(dir: &str, target: &str) -> String {
    let mut parts: Vec<&str> = if let Some(absolute) = target.strip_prefix('/') {
        return normalise(absolute.split('/').collect());
    } else {
        dir.split('/').filter(|p| !p.is_empty()).collect()
    };
    parts.extend(target.split('/'));
    normalise(parts)
}

fn normalise(parts: Vec<&str>) -> String {
    let mut out: Vec<&str> = Vec::new();
    for part in parts {
        match part {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            p => out.push(p),
        }
    }
    out.join("/")
}

/// The package's main part: the target of its `officeDocument` relationship.
pub(crate) fn main_part(
    archive: &mut Archive<'_, '_>,
    budget: &Budget<'_>,
    default: &str,
) -> Res<String> {
    Ok(rels(archive, budget, "")?
        .into_iter()
        .find(|r| r.kind == "officeDocument")
        .map(|r| r.target)
        .filter(|t| archive.has(t))
        .unwrap_or_else(|| default.to_owned()))
}

/// Read title, authors, dates and language from OOXML `docProps/core.xml`
/// or OpenDocument `meta.xml` into the collector's document.
pub(crate) fn read_properties(
    archive: &mut Archive<'_, '_>,
    budget: &Budget<'_>,
    part: &str,
    out: &mut Collector,
) -> Res<()> {
    let Some(bytes) = archive.read(part)? else {
        return Ok(());
    };
    let mut xml = Xml::new(&bytes, budget);
    let doc = &mut out.doc;
    loop {
        match xml.next()? {
            Node::Start(e) => {
                let name = local(&e);
                let field = match name.as_slice() {
                    b"title" | b"creator" | b"initial-creator" | b"created" | b"creation-date"
                    | b"modified" | b"date" | b"language" => name,
                    _ => continue,
                };
                let value = xml.text_of()?;
                let value = value.trim();
                if value.is_empty() {
                    continue;
                }
                match field.as_slice() {
                    b"title" => doc.title = Some(value.to_owned()),
                    b"creator" | b"initial-creator" => {
                        if !doc.authors.iter().any(|a| a == value) {
                            doc.authors.push(value.to_owned());
                        }
                    }
                    b"created" | b"creation-date" => doc.created = parse_date(value),
                    b"modified" | b"date" => doc.modified = parse_date(value),
                    _ => doc.language = Some(value.to_owned()),
                }
            }
            Node::Eof => break,
            _ => {}
        }
    }
    Ok(())
}

/// W3CDTF with a zone (OOXML) or without one (OpenDocument, taken as UTC).
pub(crate) fn parse_date(value: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(value) {
        return Some(t.with_timezone(&Utc));
    }
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"]
        .iter()
        .find_map(|f| {
            NaiveDateTime::parse_from_str(value, f).ok().or_else(|| {
                chrono::NaiveDate::parse_from_str(value, f)
                    .ok()
                    .and_then(|d| d.and_hms_opt(0, 0, 0))
            })
        })
        .map(|t| t.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_resolve_against_the_part_dir() {
        assert_eq!(resolve("ppt", "slides/slide1.xml"), "ppt/slides/slide1.xml");
        assert_eq!(
            resolve("ppt/slides", "../notesSlides/n1.xml"),
            "ppt/notesSlides/n1.xml"
        );
        assert_eq!(resolve("", "word/document.xml"), "word/document.xml");
        assert_eq!(resolve("word", "/word/document2.xml"), "word/document2.xml");
        assert_eq!(resolve("a", "../../../x"), "x");
    }

    #[test]
    fn dates() {
        assert_eq!(
            parse_date("2024-05-06T07:08:09Z").map(|d| d.to_rfc3339()),
            Some("2024-05-06T07:08:09+00:00".into())
        );
        assert_eq!(
            parse_date("2024-05-06T07:08:09.123456").map(|d| d.timestamp()),
            parse_date("2024-05-06T07:08:09Z").map(|d| d.timestamp())
        );
        assert!(parse_date("yesterday").is_none());
    }
}
