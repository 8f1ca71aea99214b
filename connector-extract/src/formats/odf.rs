//! OpenDocument text, presentation and spreadsheet (`.odt`, `.odp`,
//! `.ods`): `content.xml` read with a streaming XML reader, properties from
//! `meta.xml`.
//!
//! Text: headings (with their outline level), paragraphs, list items,
//! tables row by row, notes where they are cited, text in frames. Tracked
//! deletions and comments are left out. Presentation: one section per
//! page (slide), its speaker notes after it. Spreadsheet: one section per
//! sheet, each row a line of its non-empty cells (what the cell shows);
//! repeated rows and cells are expanded only when they hold text, and every
//! cell counts against `max_cells`, so a sheet that claims a million
//! repeated rows costs nothing.

use crate::archive::Archive;
use crate::budget::{Budget, Collector};
use crate::error::{Failure, Res};
use crate::formats::layout::Lines;
use crate::formats::package::read_properties;
use crate::model::Place;
use crate::xml::{Node, Xml, attr, local};

/// Which OpenDocument kind is being read.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Text,
    Presentation,
    Spreadsheet,
}

pub(crate) fn extract(
    bytes: &[u8],
    kind: Kind,
    budget: &Budget<'_>,
    out: &mut Collector,
) -> Res<()> {
    let mut archive = Archive::open(bytes, budget)?;
    if archive.has("META-INF/manifest.xml") {
        // Encrypted entries are listed in the manifest with encryption data.
        if let Some(manifest) = archive.read("META-INF/manifest.xml")?
            && manifest.windows(14).any(|w| w == b"encryption-dat")
        {
            return Err(Failure::encrypted("the document is password-protected"));
        }
    }
    read_properties(&mut archive, budget, "meta.xml", out)?;
    let content = archive
        .read("content.xml")?
        .ok_or_else(|| Failure::malformed("the document has no content.xml"))?;
    match kind {
        Kind::Spreadsheet => sheets(&content, budget, out),
        _ => text(&content, kind, budget, out),
    }
}

/// Text and presentation documents.
fn text(bytes: &[u8], kind: Kind, budget: &Budget<'_>, out: &mut Collector) -> Res<()> {
    let mut xml = Xml::new(bytes, budget);
    let mut lines = Lines::default();
    let mut slide = 0u32;
    let mut in_notes = false;
    let mut slide_lines = Lines::default();
    let limit = budget.options.max_text_bytes as usize;
    loop {
        // In a presentation, notes go to their own buffer.
        let target = if in_notes {
            &mut slide_lines
        } else {
            &mut lines
        };
        match xml.next()? {
            Node::Start(e) => match local(&e).as_slice() {
                b"h" => {
                    target.start_para();
                    let level = attr(&e, b"outline-level")
                        .and_then(|l| l.parse::<u8>().ok())
                        .unwrap_or(1);
                    target.heading(level);
                }
                b"p" => target.start_para(),
                b"list-item" | b"list-header" => {
                    target.start_para();
                    target.list_item();
                }
                b"table" => target.start_table(),
                b"table-row" => target.start_row(),
                b"table-cell" | b"covered-table-cell" => target.start_cell(),
                b"page" if kind == Kind::Presentation => {
                    slide += 1;
                }
                b"notes" if kind == Kind::Presentation => in_notes = true,
                // The note's number, tracked deletions, comments: not content.
                b"note-citation" | b"tracked-changes" | b"annotation" | b"deletion" => {
                    xml.skip()?
                }
                b"s" => space(&e, target),
                b"tab" => target.tab(),
                b"line-break" => target.line_break(),
                _ => {}
            },
            Node::Empty(e) => match local(&e).as_slice() {
                b"s" => space(&e, target),
                b"tab" => target.tab(),
                b"line-break" => target.line_break(),
                _ => {}
            },
            Node::End(name) => match name.as_slice() {
                b"h" | b"p" => target.end_para(),
                b"list-item" | b"list-header" => target.end_para(),
                b"table-cell" | b"covered-table-cell" => target.end_cell(),
                b"table-row" => target.end_row(),
                b"table" => target.end_table(),
                b"notes" if kind == Kind::Presentation => {
                    in_notes = false;
                }
                b"page" if kind == Kind::Presentation => {
                    let page = std::mem::take(&mut lines).finish();
                    let notes = std::mem::take(&mut slide_lines).finish();
                    out.push(Place::Slide(slide), &page);
                    out.push(Place::Notes(slide), &notes);
                    if out.full() {
                        return Ok(());
                    }
                }
                _ => {}
            },
            Node::Text(text) => {
                target.literal(&text);
                if target.len() > limit {
                    break;
                }
            }
            Node::Eof => break,
        }
    }
    let rest = lines.finish();
    out.push(
        if kind == Kind::Presentation {
            Place::Slide(slide.max(1))
        } else {
            Place::Body
        },
        &rest,
    );
    Ok(())
}

/// `<text:s text:c="3"/>`: that many spaces (capped: it is formatting).
fn space(e: &quick_xml::events::BytesStart<'_>, lines: &mut Lines) {
    let n = attr(e, b"c")
        .and_then(|c| c.parse::<usize>().ok())
        .unwrap_or(1)
        .min(64);
    lines.literal(&" ".repeat(n));
}

/// How many times a row or cell repeats.
fn repeats(e: &quick_xml::events::BytesStart<'_>, name: &[u8]) -> u64 {
    attr(e, name)
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or(1)
        .max(1)
}

/// Spreadsheets: one section per sheet.
fn sheets(bytes: &[u8], budget: &Budget<'_>, out: &mut Collector) -> Res<()> {
    let mut xml = Xml::new(bytes, budget);
    let mut sheet_name = String::new();
    let mut sheet = String::new();
    let mut row: Vec<String> = Vec::new();
    let mut row_repeat = 1u64;
    // The open cell: its text, how often it repeats, its raw value.
    let mut cell: Option<Cell> = None;
    loop {
        match xml.next()? {
            Node::Start(e) => match local(&e).as_slice() {
                b"table" => {
                    sheet_name = attr(&e, b"name").unwrap_or_default();
                    sheet.clear();
                }
                b"table-row" => {
                    row.clear();
                    row_repeat = repeats(&e, b"number-rows-repeated");
                }
                b"table-cell" | b"covered-table-cell" => cell = Some(Cell::new(&e)),
                b"annotation" => xml.skip()?,
                b"s" | b"tab" => push_space(&mut cell),
                _ => {}
            },
            Node::Empty(e) => match local(&e).as_slice() {
                b"table-cell" | b"covered-table-cell" => {
                    Cell::new(&e).finish(&mut row, budget)?;
                }
                b"s" | b"tab" | b"line-break" => push_space(&mut cell),
                _ => {}
            },
            Node::Text(text) => {
                if let Some(c) = cell.as_mut() {
                    c.text.push_str(&text);
                }
            }
            Node::End(name) => match name.as_slice() {
                b"p" => push_space(&mut cell),
                b"table-cell" | b"covered-table-cell" => {
                    if let Some(c) = cell.take() {
                        c.finish(&mut row, budget)?;
                    }
                }
                b"table-row" => {
                    if !row.is_empty() {
                        let line = row.join(" | ");
                        // A repeated row with content is written as often as it
                        // repeats, each time paid for in cells.
                        for _ in 0..row_repeat {
                            budget.cells(row.len() as u64)?;
                            sheet.push_str(&line);
                            sheet.push('\n');
                            if sheet.len() as u64 > budget.options.max_text_bytes {
                                break;
                            }
                        }
                    }
                    row.clear();
                }
                b"table" => {
                    out.push(Place::Sheet(std::mem::take(&mut sheet_name)), &sheet);
                    sheet.clear();
                    if out.full() {
                        return Ok(());
                    }
                }
                _ => {}
            },
            Node::Eof => return Ok(()),
        }
    }
}

fn push_space(cell: &mut Option<Cell>) {
    if let Some(c) = cell.as_mut() {
        c.text.push(' ');
    }
}

/// A spreadsheet cell being read.
struct Cell {
    text: String,
    repeat: u64,
    value: Option<String>,
}

impl Cell {
    fn new(e: &quick_xml::events::BytesStart<'_>) -> Self {
        Self {
            text: String::new(),
            repeat: repeats(e, b"number-columns-repeated"),
            // A value without a `text:p` (rare): the raw value.
            value: attr(e, b"value")
                .or_else(|| attr(e, b"date-value"))
                .or_else(|| attr(e, b"boolean-value"))
                .or_else(|| attr(e, b"string-value")),
        }
    }

    fn finish(self, row: &mut Vec<String>, budget: &Budget<'_>) -> Res<()> {
        let text = self.text.split_whitespace().collect::<Vec<_>>().join(" ");
        let text = if text.is_empty() {
            self.value.unwrap_or_default()
        } else {
            text
        };
        if text.is_empty() {
            // Empty cells, however many repeat, cost nothing and print nothing.
            return Ok(());
        }
        budget.cells(self.repeat)?;
        for _ in 0..self.repeat {
            row.push(text.clone());
        }
        Ok(())
    }
}
