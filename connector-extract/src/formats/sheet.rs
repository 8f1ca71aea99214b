//! Excel workbooks through `calamine`: `.xlsx`/`.xlsm` and `.xlsb` cell by
//! cell (never a whole sheet grid in memory, so a sheet with one cell at A1
//! and one at XFD1048576 costs two cells), `.xls` sheet by sheet after a
//! check of each sheet's extent. One section per sheet; each row a line of
//! its non-empty cells' values (cached results, not formulas) joined by
//! ` | `; dates as ISO 8601.

use std::io::{Cursor, Read};

use calamine::{Data, DataRef, Reader, Xls, Xlsb, Xlsx};

use crate::archive::Archive;
use crate::budget::{Budget, Collector};
use crate::error::{Failure, Res};
use crate::formats::package::read_properties;
use crate::model::Place;

/// Rows of one sheet as text.
struct SheetText<'b, 'o> {
    budget: &'b Budget<'o>,
    text: String,
    row: Vec<String>,
    row_index: Option<u32>,
}

impl<'b, 'o> SheetText<'b, 'o> {
    fn new(budget: &'b Budget<'o>) -> Self {
        Self {
            budget,
            text: String::new(),
            row: Vec::new(),
            row_index: None,
        }
    }

    /// Add a cell; cells arrive row by row. `false` once the text is full.
    fn cell(&mut self, row: u32, value: Option<String>) -> Res<bool> {
        self.budget.tick()?;
        self.budget.cells(1)?;
        if self.row_index != Some(row) {
            self.flush();
            self.row_index = Some(row);
        }
        if let Some(value) = value {
            self.row.push(value);
        }
        Ok((self.text.len() as u64) < self.budget.options.max_text_bytes)
    }

    fn flush(&mut self) {
        if !self.row.is_empty() {
            self.text.push_str(&self.row.join(" | "));
            self.text.push('\n');
            self.row.clear();
        }
    }

    fn finish(mut self) -> String {
        self.flush();
        self.text
    }
}

pub(crate) fn xlsx(bytes: &[u8], budget: &Budget<'_>, out: &mut Collector) -> Res<()> {
    // calamine reads the zip itself: prove first that it unpacks within limits.
    let mut archive = Archive::open(bytes, budget)?;
    archive.verify_all()?;
    read_properties(&mut archive, budget, "docProps/core.xml", out)?;
    let mut book = Xlsx::new(Cursor::new(bytes)).map_err(|e| failure("workbook", e))?;
    for name in book.sheet_names() {
        budget.check_time()?;
        let mut sheet = SheetText::new(budget);
        let mut cells = book
            .worksheet_cells_reader(&name)
            .map_err(|e| failure(&name, e))?;
        while let Some(cell) = cells.next_cell().map_err(|e| failure(&name, e))? {
            let (row, _) = cell.get_position();
            if !sheet.cell(row, value_ref(cell.get_value()))? {
                break;
            }
        }
        drop(cells);
        out.push(Place::Sheet(name), &sheet.finish());
        if out.full() {
            break;
        }
    }
    Ok(())
}

pub(crate) fn xlsb(bytes: &[u8], budget: &Budget<'_>, out: &mut Collector) -> Res<()> {
    let mut archive = Archive::open(bytes, budget)?;
    archive.verify_all()?;
    read_properties(&mut archive, budget, "docProps/core.xml", out)?;
    let mut book = Xlsb::new(Cursor::new(bytes)).map_err(|e| failure("workbook", e))?;
    for name in book.sheet_names() {
        budget.check_time()?;
        let mut sheet = SheetText::new(budget);
        let mut cells = book
            .worksheet_cells_reader(&name)
            .map_err(|e| failure(&name, e))?;
        while let Some(cell) = cells.next_cell().map_err(|e| failure(&name, e))? {
            let (row, _) = cell.get_position();
            if !sheet.cell(row, value_ref(cell.get_value()))? {
                break;
            }
        }
        drop(cells);
        out.push(Place::Sheet(name), &sheet.finish());
        if out.full() {
            break;
        }
    }
    Ok(())
}

pub(crate) fn xls(bytes: &[u8], budget: &Budget<'_>, out: &mut Collector) -> Res<()> {
    check_xls_extents(bytes, budget)?;
    let mut book = Xls::new(Cursor::new(bytes)).map_err(|e| failure("workbook", e))?;
    for name in book.sheet_names() {
        budget.check_time()?;
        let range = book.worksheet_range(&name).map_err(|e| failure(&name, e))?;
        let mut sheet = SheetText::new(budget);
        let start = range.start().map(|(r, _)| r).unwrap_or(0);
        for (i, row) in range.rows().enumerate() {
            for value in row {
                if !sheet.cell(start + i as u32, value_owned(value))? {
                    break;
                }
            }
        }
        out.push(Place::Sheet(name), &sheet.finish());
        if out.full() {
            break;
        }
    }
    Ok(())
}

fn failure(part: &str, e: impl std::fmt::Display) -> Failure {
    let text = e.to_string();
    if text.to_ascii_lowercase().contains("password") {
        Failure::encrypted("the workbook is password-protected")
    } else {
        Failure::malformed(format!("sheet {part}: {text}"))
    }
}

fn number(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

fn date(dt: &calamine::ExcelDateTime) -> String {
    match dt.as_datetime() {
        Some(t) if t.time() == chrono::NaiveTime::MIN => t.format("%Y-%m-%d").to_string(),
        Some(t) => t.format("%Y-%m-%dT%H:%M:%S").to_string(),
        None => number(dt.as_f64()),
    }
}

fn value_ref(value: &DataRef<'_>) -> Option<String> {
    let text = match value {
        DataRef::Empty => return None,
        DataRef::Int(i) => i.to_string(),
        DataRef::Float(f) => number(*f),
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
        DataRef::SharedString(s) => (*s).to_owned(),
        DataRef::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_owned(),
        DataRef::DateTime(dt) => date(dt),
        DataRef::Error(e) => e.to_string(),
    };
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

fn value_owned(value: &Data) -> Option<String> {
    let text = match value {
        Data::Empty => return None,
        Data::Int(i) => i.to_string(),
        Data::Float(f) => number(*f),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_owned(),
        Data::DateTime(dt) => date(dt),
        Data::Error(e) => e.to_string(),
    };
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// calamine lays an `.xls` sheet out as a dense grid from its first to its
/// last cell; a sheet with two far-apart cells would take gigabytes. Scan
/// the BIFF records first and refuse a sheet whose extent exceeds
/// `max_cells`.
fn check_xls_extents(bytes: &[u8], budget: &Budget<'_>) -> Res<()> {
    let mut file = cfb::CompoundFile::open(Cursor::new(bytes))
        .map_err(|e| Failure::malformed(format!("not a readable .xls file: {e}")))?;
    let name = if file.exists("/Workbook") {
        "/Workbook"
    } else {
        "/Book"
    };
    let mut stream = file
        .open_stream(name)
        .map_err(|e| Failure::malformed(format!("the .xls file has no workbook: {e}")))?;
    let mut data = Vec::new();
    (&mut stream)
        .take(budget.options.max_uncompressed_bytes)
        .read_to_end(&mut data)
        .map_err(|e| Failure::malformed(format!("reading the .xls workbook: {e}")))?;
    let mut extent: Option<(u32, u32, u32, u32)> = None;
    let mut pos = 0;
    while pos + 4 <= data.len() {
        budget.tick()?;
        let kind = u16::from_le_bytes([data[pos], data[pos + 1]]);
        let len = usize::from(u16::from_le_bytes([data[pos + 2], data[pos + 3]]));
        let record = &data[(pos + 4).min(data.len())..(pos + 4 + len).min(data.len())];
        pos += 4 + len;
        let u16_at = |at: usize| {
            record
                .get(at..at + 2)
                .map(|b| u32::from(u16::from_le_bytes([b[0], b[1]])))
        };
        let cells: Option<(u32, u32, u32)> = match kind {
            // BOF: a new sheet (or the workbook globals) starts.
            0x0809 => {
                extent = None;
                None
            }
            // EOF of a sheet: check what it spans.
            0x000A => {
                if let Some((r0, r1, c0, c1)) = extent.take() {
                    let cells = u64::from(r1 - r0 + 1) * u64::from(c1 - c0 + 1);
                    let limit = budget.options.max_cells;
                    if cells > limit {
                        return Err(Failure::too_large(format!(
                            "a sheet spans {cells} cells (rows {}..{}, columns {}..{}), \
                             more than max_cells = {limit}",
                            r0 + 1,
                            r1 + 1,
                            c0 + 1,
                            c1 + 1
                        )));
                    }
                }
                None
            }
            // Single-cell records: row, column first.
            0x0006 | 0x00FD | 0x0203 | 0x0204 | 0x0205 | 0x027E | 0x00D6 => {
                match (u16_at(0), u16_at(2)) {
                    (Some(r), Some(c)) => Some((r, c, c)),
                    _ => None,
                }
            }
            // MULRK: row, first column, …, last column.
            0x00BD => match (u16_at(0), u16_at(2), u16_at(record.len().saturating_sub(2))) {
                (Some(r), Some(c0), Some(c1)) if record.len() >= 6 => Some((r, c0, c1.max(c0))),
                _ => None,
            },
            _ => None,
        };
        if let Some((r, c0, c1)) = cells {
            extent = Some(match extent {
                None => (r, r, c0, c1),
                Some((r0, r1, a, b)) => (r0.min(r), r1.max(r), a.min(c0), b.max(c1)),
            });
        }
    }
    Ok(())
}
