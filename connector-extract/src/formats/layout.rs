//! Turning a stream of structure (paragraphs, headings, list items, tables,
//! line breaks) into the plain text every format produces: one paragraph per
//! line, headings as `#` lines, list items as `- ` lines, each table row on
//! a line with its cells joined by ` | `. Whitespace inside a paragraph is
//! collapsed; explicit breaks and tabs are kept.

/// Text under construction.
#[derive(Default)]
pub(crate) struct Lines {
    out: String,
    paras: Vec<Para>,
    tables: Vec<Table>,
}

#[derive(Default)]
struct Para {
    prefix: String,
    text: String,
}

#[derive(Default)]
struct Table {
    row: Vec<String>,
    cell: Option<String>,
}

impl Lines {
    /// Bytes of finished text so far.
    pub(crate) fn len(&self) -> usize {
        self.out.len()
    }

    pub(crate) fn start_para(&mut self) {
        self.paras.push(Para::default());
    }

    /// Mark the open paragraph as a heading of `level` (1 = top).
    pub(crate) fn heading(&mut self, level: u8) {
        let level = level.clamp(1, 6) as usize;
        if let Some(p) = self.paras.last_mut() {
            p.prefix = format!("{} ", "#".repeat(level));
        }
    }

    /// Mark the open paragraph as a list item.
    pub(crate) fn list_item(&mut self) {
        if let Some(p) = self.paras.last_mut()
            && p.prefix.is_empty()
        {
            p.prefix = "- ".into();
        }
    }

    /// Text, whitespace collapsed. Outside a paragraph it opens one.
    pub(crate) fn text(&mut self, text: &str) {
        if self.paras.is_empty() {
            if text.trim().is_empty() {
                return;
            }
            self.start_para();
        }
        let Some(p) = self.paras.last_mut() else {
            return;
        };
        let mut space = p.text.is_empty() || p.text.ends_with([' ', '\n', '\t']);
        for c in text.chars() {
            if c.is_whitespace() {
                if !space {
                    p.text.push(' ');
                    space = true;
                }
            } else {
                p.text.push(c);
                space = false;
            }
        }
    }

    /// Text taken as it is (spaces kept), for formats that mean every space.
    pub(crate) fn literal(&mut self, text: &str) {
        if self.paras.is_empty() {
            self.start_para();
        }
        if let Some(p) = self.paras.last_mut() {
            p.text.push_str(text);
        }
    }

    pub(crate) fn line_break(&mut self) {
        if let Some(p) = self.paras.last_mut() {
            p.text.push('\n');
        }
    }

    pub(crate) fn tab(&mut self) {
        self.literal("\t");
    }

    pub(crate) fn end_para(&mut self) {
        let Some(p) = self.paras.pop() else {
            return;
        };
        // Leading spaces may be meant (preformatted text); blank edges are not.
        let text = p.text.trim_end().trim_start_matches(['\n', '\r']);
        if text.trim().is_empty() {
            return;
        }
        let line = format!("{}{}", p.prefix, text);
        self.emit(&line);
    }

    /// End every open paragraph (at a block boundary in lenient formats).
    pub(crate) fn end_all_paras(&mut self) {
        while !self.paras.is_empty() {
            self.end_para();
        }
    }

    fn emit(&mut self, line: &str) {
        if let Some(outer) = self.paras.last_mut() {
            // A paragraph inside a paragraph (a note, a text box) is read
            // where it stands in the outer one.
            if !outer.text.is_empty() && !outer.text.ends_with([' ', '\n']) {
                outer.text.push(' ');
            }
            outer.text.push_str(line);
            outer.text.push(' ');
            return;
        }
        if let Some(cell) = self.tables.last_mut().and_then(|t| t.cell.as_mut()) {
            if !cell.is_empty() {
                cell.push(' ');
            }
            cell.push_str(line);
            return;
        }
        self.push_line(line);
    }

    fn push_line(&mut self, line: &str) {
        self.out.push_str(line);
        self.out.push('\n');
    }

    pub(crate) fn start_table(&mut self) {
        self.end_all_paras_in_cell();
        self.tables.push(Table::default());
    }

    /// Start a row; a row left open (lenient HTML) is finished first.
    pub(crate) fn start_row(&mut self) {
        if self
            .tables
            .last()
            .is_some_and(|t| t.cell.is_some() || !t.row.is_empty())
        {
            self.end_row();
        }
    }

    /// How many tables are open.
    pub(crate) fn table_depth(&self) -> usize {
        self.tables.len()
    }

    pub(crate) fn start_cell(&mut self) {
        if self.tables.is_empty() {
            self.tables.push(Table::default());
        }
        if let Some(t) = self.tables.last_mut() {
            if let Some(cell) = t.cell.take() {
                t.row.push(cell);
            }
            t.cell = Some(String::new());
        }
    }

    pub(crate) fn end_cell(&mut self) {
        self.end_all_paras_in_cell();
        if let Some(t) = self.tables.last_mut()
            && let Some(cell) = t.cell.take()
        {
            t.row.push(cell);
        }
    }

    pub(crate) fn end_row(&mut self) {
        self.end_cell();
        let Some(t) = self.tables.last_mut() else {
            return;
        };
        let cells: Vec<String> = std::mem::take(&mut t.row)
            .into_iter()
            .map(|c| c.trim().to_owned())
            .filter(|c| !c.is_empty())
            .collect();
        if cells.is_empty() {
            return;
        }
        let line = cells.join(" | ");
        if self.tables.len() > 1 {
            // A nested table's row belongs to the outer table's cell.
            let outer = self.tables.len() - 2;
            if let Some(cell) = self.tables[outer].cell.as_mut() {
                if !cell.is_empty() {
                    cell.push(' ');
                }
                cell.push_str(&line);
                return;
            }
        }
        self.push_line(&line);
    }

    pub(crate) fn end_table(&mut self) {
        if self
            .tables
            .last()
            .is_some_and(|t| t.cell.is_some() || !t.row.is_empty())
        {
            self.end_row();
        }
        self.tables.pop();
    }

    fn end_all_paras_in_cell(&mut self) {
        self.end_all_paras();
    }

    /// The finished text (open paragraphs and tables closed).
    pub(crate) fn finish(mut self) -> String {
        self.end_all_paras();
        while !self.tables.is_empty() {
            self.end_table();
        }
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_headings_lists_tables() {
        let mut l = Lines::default();
        l.start_para();
        l.heading(2);
        l.text("  Plan \n for  Q3 ");
        l.end_para();
        l.start_para();
        l.list_item();
        l.text("one");
        l.end_para();
        l.start_table();
        l.start_row();
        l.start_cell();
        l.start_para();
        l.text("a");
        l.end_para();
        l.start_para();
        l.text("b");
        l.end_para();
        l.end_cell();
        l.start_cell();
        l.start_table();
        l.start_row();
        l.start_cell();
        l.text("inner");
        l.end_cell();
        l.start_cell();
        l.text("x");
        l.end_row();
        l.end_table();
        l.end_cell();
        l.end_row();
        l.end_table();
        l.text("after");
        l.line_break();
        l.text("break");
        assert_eq!(
            l.finish(),
            "## Plan for Q3\n- one\na b | inner | x\nafter\nbreak\n"
        );
    }
}
