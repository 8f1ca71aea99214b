//! Rich text → plain text that keeps the structure a reader needs: one
//! writer every converter (Atlassian Document Format, Confluence storage
//! format, SharePoint pages, HTML) drives, so the same structure reads the
//! same whatever source it came from.
//!
//! The conventions, Markdown-like because people and models read them well:
//!
//! | structure | text |
//! |---|---|
//! | paragraphs, blocks | separated by a blank line |
//! | heading level n | `#`×n, a space, the heading |
//! | list items | `- item`, `3. item`, `- [x] task`; nested lists and a second block of an item are indented to the item's text |
//! | quotes | `> ` before every line |
//! | tables | one line per row, cells joined by ` | `; empty rows dropped |
//! | code blocks | fenced with ```` ``` ```` and the language, kept verbatim |
//! | rules | `---` |
//!
//! Inline text collapses runs of white space (as HTML does); code keeps it.
//! Nesting is bounded: past [`MAX_DEPTH`] open blocks, further blocks are
//! read as plain text, so hostile input cannot grow the stack.
//!
//! ```
//! use connector_core::text::rich::{Block, RichText};
//!
//! let mut t = RichText::new();
//! t.begin(Block::Heading(2));
//! t.text("Owners");
//! t.end();
//! t.begin(Block::List { ordered: true, start: 1 });
//! t.begin(Block::Item);
//! t.text("Check   the  logs");
//! t.end();
//! t.begin(Block::Item);
//! t.text("Restart:");
//! t.begin(Block::Code { language: Some("bash".into()) });
//! t.raw("systemctl restart payments");
//! t.end();
//! t.end();
//! t.end();
//! assert_eq!(
//!     t.finish(),
//!     "## Owners\n\n1. Check the logs\n2. Restart:\n   ```bash\n   systemctl restart payments\n   ```"
//! );
//! ```

/// Open blocks at most; deeper structure is read as plain text.
pub const MAX_DEPTH: usize = 64;

/// A block of structure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// A paragraph (or any generic block: a `div`, a panel body).
    Paragraph,
    /// A heading of level 1–6.
    Heading(u8),
    /// A list; `start` numbers the first item of an ordered list.
    List {
        /// Numbered rather than bulleted.
        ordered: bool,
        /// The first item's number.
        start: u64,
    },
    /// A list item (inside a [`Block::List`]).
    Item,
    /// A task list item, done or not.
    Task {
        /// Checked.
        done: bool,
    },
    /// A quotation.
    Quote,
    /// Code, kept verbatim.
    Code {
        /// The language, when given.
        language: Option<String>,
    },
    /// A table.
    Table,
    /// A table row.
    Row,
    /// A table cell (header or data).
    Cell,
}

#[derive(Debug)]
enum Open {
    Paragraph,
    Heading(u8),
    List {
        ordered: bool,
        next: u64,
    },
    /// A list item: the marker for its first line, the indent for the rest.
    Item {
        marker: String,
        indent: String,
        first_done: bool,
    },
    Quote,
    Code,
    Table,
    Row {
        cells: Vec<String>,
    },
    Cell,
    /// Past the depth bound: ignored.
    Flat,
}

/// Builds plain text from structure; see the [module docs](self).
#[derive(Debug, Default)]
pub struct RichText {
    out: String,
    /// Inline text of the block being written.
    line: String,
    stack: Vec<Open>,
    /// A blank line is owed before the next line written, under the
    /// prefixes of this many open containers (those around the block that
    /// ended). Owed, not written: an empty block that follows writes none.
    gap: Option<usize>,
}

impl RichText {
    /// An empty writer.
    pub fn new() -> Self {
        Self::default()
    }

    fn in_code(&self) -> bool {
        self.stack.iter().any(|o| matches!(o, Open::Code))
    }

    fn in_cell(&self) -> bool {
        self.stack.iter().any(|o| matches!(o, Open::Cell))
    }

    /// Inline text; runs of white space become one space (outside code).
    pub fn text(&mut self, text: &str) {
        if self.in_code() {
            self.line.push_str(text);
            return;
        }
        for (i, word) in text.split_whitespace().enumerate() {
            let space_before = i > 0 || text.starts_with(char::is_whitespace);
            if space_before && !self.line.is_empty() && !self.line.ends_with(' ') {
                self.line.push(' ');
            }
            self.line.push_str(word);
        }
        if text.ends_with(char::is_whitespace) && !self.line.is_empty() && !self.line.ends_with(' ')
        {
            self.line.push(' ');
        }
    }

    /// Inline text kept exactly as given (code, preformatted text).
    pub fn raw(&mut self, text: &str) {
        self.line.push_str(text);
    }

    /// A block a converter rendered itself (a construct this writer has no
    /// block for, or a nested part rendered apart): its lines are written
    /// as they are, each under the open containers' prefixes — inside a
    /// list item, the first after the marker and the rest indented to the
    /// item's text. Blank lines inside it separate as between blocks.
    ///
    /// ```
    /// use connector_core::text::rich::{Block, RichText};
    /// let mut t = RichText::new();
    /// t.begin(Block::List { ordered: true, start: 3 });
    /// t.begin(Block::Item);
    /// t.block("Deploy:\n- staging\n- production\n\nThen verify.");
    /// t.end();
    /// t.end();
    /// assert_eq!(t.finish(), "3. Deploy:\n   - staging\n   - production\n\n   Then verify.");
    /// ```
    pub fn block(&mut self, text: &str) {
        if self.in_code() {
            self.line.push_str(text);
            return;
        }
        if self.in_cell() {
            self.text(text);
            return;
        }
        self.start_block();
        let mut written = false;
        for line in text.split('\n') {
            if line.trim().is_empty() {
                if written {
                    self.gap = Some(self.stack.len());
                }
                continue;
            }
            self.line.push_str(line.trim_end());
            self.emit_line();
            written = true;
        }
        if written {
            self.gap = Some(self.stack.len());
        }
    }

    /// A hard line break inside the current block (a space inside a table cell).
    pub fn line_break(&mut self) {
        if self.in_cell() {
            self.text(" ");
        } else if self.in_code() {
            self.line.push('\n');
        } else {
            self.flush_line();
        }
    }

    /// A horizontal rule.
    pub fn rule(&mut self) {
        self.begin(Block::Paragraph);
        self.raw("---");
        self.end();
    }

    /// Open a block; close it with [`end`](Self::end).
    pub fn begin(&mut self, block: Block) {
        if self.stack.len() >= MAX_DEPTH || self.in_code() {
            self.stack.push(Open::Flat);
            return;
        }
        if self.in_cell() {
            // Structure inside a table cell is read inline.
            if !self.line.is_empty() && !self.line.ends_with(' ') {
                self.line.push(' ');
            }
            self.stack.push(Open::Flat);
            return;
        }
        let open = match block {
            Block::Paragraph => Open::Paragraph,
            Block::Heading(level) => Open::Heading(level.clamp(1, 6)),
            Block::List { ordered, start } => Open::List {
                ordered,
                next: start,
            },
            Block::Item | Block::Task { .. } => {
                let marker = match (&block, self.stack.last_mut()) {
                    (Block::Task { done: true }, _) => "- [x] ".to_owned(),
                    (Block::Task { done: false }, _) => "- [ ] ".to_owned(),
                    (
                        _,
                        Some(Open::List {
                            ordered: true,
                            next,
                        }),
                    ) => {
                        let m = format!("{next}. ");
                        *next += 1;
                        m
                    }
                    _ => "- ".to_owned(),
                };
                // Items follow each other line by line.
                self.flush_line();
                let indent = " ".repeat(marker.chars().count());
                self.stack.push(Open::Item {
                    marker,
                    indent,
                    first_done: false,
                });
                return;
            }
            Block::Quote => Open::Quote,
            Block::Code { language } => {
                self.start_block();
                self.line.push_str("```");
                if let Some(lang) = language.filter(|l| !l.trim().is_empty()) {
                    self.line.push_str(lang.trim());
                }
                self.emit_line();
                self.stack.push(Open::Code);
                return;
            }
            Block::Table => Open::Table,
            Block::Row => {
                self.flush_line();
                Open::Row { cells: Vec::new() }
            }
            Block::Cell => {
                self.line.clear();
                Open::Cell
            }
        };
        if matches!(
            open,
            Open::Paragraph | Open::Heading(_) | Open::Quote | Open::Table | Open::List { .. }
        ) {
            self.start_block();
        }
        self.stack.push(open);
    }

    /// Close the innermost open block.
    pub fn end(&mut self) {
        // A container's last line is written under its own prefix.
        if matches!(
            self.stack.last(),
            Some(Open::Paragraph | Open::Quote | Open::List { .. } | Open::Table)
        ) {
            self.flush_line();
        }
        let Some(open) = self.stack.pop() else {
            return;
        };
        match open {
            Open::Flat => {}
            Open::Paragraph | Open::Quote | Open::List { .. } | Open::Table => {
                self.gap = Some(self.stack.len());
            }
            Open::Heading(level) => {
                let text = std::mem::take(&mut self.line);
                if !text.trim().is_empty() {
                    self.line = format!("{} {}", "#".repeat(usize::from(level)), text.trim());
                }
                self.flush_line();
                self.gap = Some(self.stack.len());
            }
            Open::Item { .. } => {
                // Put the item back while its last line is written.
                self.stack.push(open);
                self.flush_line();
                self.stack.pop();
                self.gap = None;
            }
            Open::Code => {
                let code = std::mem::take(&mut self.line);
                for l in code.trim_end_matches('\n').split('\n') {
                    self.line.push_str(l);
                    self.emit_line();
                }
                self.line.push_str("```");
                self.emit_line();
                self.gap = Some(self.stack.len());
            }
            Open::Cell => {
                let cell = std::mem::take(&mut self.line).trim().to_owned();
                match self.stack.last_mut() {
                    Some(Open::Row { cells }) => cells.push(cell),
                    // A cell outside a row: keep its text as a line.
                    _ => {
                        self.line = cell;
                        self.flush_line();
                    }
                }
            }
            Open::Row { cells } => {
                self.line.clear();
                if cells.iter().any(|c| !c.is_empty()) {
                    self.line = cells.join(" | ");
                    self.emit_line();
                }
            }
        }
    }

    /// A new block: what is pending before it is written.
    fn start_block(&mut self) {
        self.flush_line();
    }

    /// Write the pending inline text as a line, if there is any.
    fn flush_line(&mut self) {
        if self.line.trim().is_empty() {
            self.line.clear();
            return;
        }
        let trimmed = self.line.trim().to_owned();
        self.line = trimmed;
        self.emit_line();
    }

    /// Append `self.line` as one output line under the open containers'
    /// prefixes, after the blank line owed, if any.
    fn emit_line(&mut self) {
        if let Some(depth) = self.gap.take()
            && !self.out.is_empty()
        {
            let prefix = self.prefix(depth, true);
            self.out.push('\n');
            self.out.push_str(&prefix);
        }
        let prefix = self.prefix(self.stack.len(), false);
        if !self.out.is_empty() {
            self.out.push('\n');
        }
        self.out.push_str(&prefix);
        let line = std::mem::take(&mut self.line);
        self.out.push_str(&line);
    }

    /// The prefix of the first `depth` open containers (`blank`: for a
    /// separating line, which uses an item's indent, not its marker, and
    /// keeps only a quote's `> `).
    fn prefix(&mut self, depth: usize, blank: bool) -> String {
        let mut prefix = String::new();
        for open in self.stack.iter_mut().take(depth) {
            match open {
                Open::Quote => prefix.push_str("> "),
                Open::Item {
                    marker,
                    indent,
                    first_done,
                } => {
                    if *first_done || blank {
                        prefix.push_str(indent);
                    } else {
                        prefix.push_str(marker);
                        *first_done = true;
                    }
                }
                _ => {}
            }
        }
        if blank && !prefix.ends_with("> ") {
            prefix.truncate(prefix.trim_end().len());
        }
        prefix
    }

    /// The text, every open block closed.
    pub fn finish(mut self) -> String {
        while !self.stack.is_empty() {
            self.end();
        }
        self.flush_line();
        let mut out = self.out;
        while out.ends_with('\n') || out.ends_with(' ') {
            out.pop();
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn para(t: &mut RichText, text: &str) {
        t.begin(Block::Paragraph);
        t.text(text);
        t.end();
    }

    fn item(t: &mut RichText, text: &str) {
        t.begin(Block::Item);
        t.text(text);
        t.end();
    }

    #[test]
    fn paragraphs_headings_and_breaks() {
        let mut t = RichText::new();
        t.begin(Block::Heading(1));
        t.text("Title");
        t.end();
        t.begin(Block::Paragraph);
        t.text("line  one");
        t.line_break();
        t.text("line two");
        t.end();
        para(&mut t, "second paragraph");
        assert_eq!(
            t.finish(),
            "# Title\n\nline one\nline two\n\nsecond paragraph"
        );
    }

    #[test]
    fn lists_nested_ordered_and_tasks() {
        let mut t = RichText::new();
        t.begin(Block::List {
            ordered: false,
            start: 1,
        });
        t.begin(Block::Item);
        t.text("apples");
        t.begin(Block::List {
            ordered: true,
            start: 3,
        });
        item(&mut t, "green");
        item(&mut t, "red");
        t.end();
        t.end();
        item(&mut t, "pears");
        t.end();
        t.begin(Block::List {
            ordered: false,
            start: 1,
        });
        t.begin(Block::Task { done: true });
        t.text("write tests");
        t.end();
        t.begin(Block::Task { done: false });
        t.text("ship");
        t.end();
        t.end();
        para(&mut t, "after");
        assert_eq!(
            t.finish(),
            "- apples\n  3. green\n  4. red\n- pears\n\n- [x] write tests\n- [ ] ship\n\nafter"
        );
    }

    #[test]
    fn an_item_with_several_blocks_is_indented() {
        let mut t = RichText::new();
        t.begin(Block::List {
            ordered: true,
            start: 1,
        });
        t.begin(Block::Item);
        para(&mut t, "first");
        para(&mut t, "second");
        t.end();
        t.end();
        assert_eq!(t.finish(), "1. first\n\n   second");
    }

    #[test]
    fn tables_rows_and_cells() {
        let mut t = RichText::new();
        t.begin(Block::Table);
        for row in [
            vec!["Name", "Role"],
            vec!["Ada", "Lead"],
            vec!["", ""],
            vec!["", "only second"],
        ] {
            t.begin(Block::Row);
            for cell in row {
                t.begin(Block::Cell);
                para(&mut t, cell);
                t.end();
            }
            t.end();
        }
        t.end();
        para(&mut t, "after");
        assert_eq!(
            t.finish(),
            "Name | Role\nAda | Lead\n | only second\n\nafter"
        );
    }

    #[test]
    fn blocks_inside_cells_read_inline() {
        let mut t = RichText::new();
        t.begin(Block::Table);
        t.begin(Block::Row);
        t.begin(Block::Cell);
        para(&mut t, "Lead");
        para(&mut t, "and author");
        t.end();
        t.end();
        t.end();
        assert_eq!(t.finish(), "Lead and author");
    }

    #[test]
    fn quotes_code_and_rules() {
        let mut t = RichText::new();
        t.begin(Block::Code {
            language: Some("rust".into()),
        });
        t.raw("fn main() {\n    run();\n}");
        t.end();
        t.begin(Block::Quote);
        para(&mut t, "quoted");
        para(&mut t, "twice");
        t.end();
        t.rule();
        assert_eq!(
            t.finish(),
            "```rust\nfn main() {\n    run();\n}\n```\n\n> quoted\n> \n> twice\n\n---"
        );
    }

    #[test]
    fn deep_nesting_is_flattened_not_followed() {
        let mut t = RichText::new();
        for _ in 0..10_000 {
            t.begin(Block::Quote);
        }
        t.text("deep");
        for _ in 0..10_000 {
            t.end();
        }
        let out = t.finish();
        assert!(out.ends_with("deep"));
        assert_eq!(out.matches("> ").count(), MAX_DEPTH);
    }

    #[test]
    fn empty_blocks_leave_no_trace() {
        let mut t = RichText::new();
        para(&mut t, "one");
        para(&mut t, "   ");
        t.begin(Block::Quote);
        t.end();
        t.begin(Block::Heading(2));
        t.end();
        para(&mut t, "two");
        assert_eq!(t.finish(), "one\n\ntwo");
    }

    #[test]
    fn rendered_blocks_take_the_prefixes_of_their_containers() {
        let mut t = RichText::new();
        para(&mut t, "intro");
        t.begin(Block::Quote);
        t.block("said\n  kept indent");
        t.end();
        t.begin(Block::List {
            ordered: false,
            start: 1,
        });
        t.begin(Block::Task { done: true });
        t.block("done\n\nnotes");
        t.end();
        t.begin(Block::Item);
        t.block("   ");
        t.end();
        t.end();
        assert_eq!(
            t.finish(),
            "intro\n\n> said\n>   kept indent\n\n- [x] done\n\n      notes"
        );
    }

    #[test]
    fn unbalanced_calls_never_panic() {
        let mut t = RichText::new();
        t.end();
        t.begin(Block::Cell);
        t.text("stray cell");
        t.begin(Block::Item);
        t.text("stray item");
        assert_eq!(t.finish(), "stray cell stray item");
    }
}
