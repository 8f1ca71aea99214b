//! A light clean-up of Jira wiki markup (what Data Center returns for
//! descriptions and comments) into readable text: headings, lists, tables,
//! code and quote blocks, links, user mentions, images and colour macros.
//! It is not a full renderer; the goal is text a reader (or an embedding
//! model) understands, without markup noise.
//!
//! The layout is core's [`RichText`] writer, shared with every other
//! rich-text source.
//!
//! ```
//! use connector_jira::wiki::wiki_to_text;
//!
//! let markup = "h2. Steps\n# Open [the app|https://app.example.com]\n# Ask [~jsmith]\n{code:java}\nrun();\n{code}";
//! assert_eq!(
//!     wiki_to_text(markup),
//!     "## Steps\n\n1. Open the app (https://app.example.com)\n2. Ask @jsmith\n\n```java\nrun();\n```"
//! );
//! ```

use connector_core::text::rich::{Block, RichText};

/// Readable text from Jira wiki markup.
pub fn wiki_to_text(markup: &str) -> String {
    let mut w = Writer::default();
    let mut code: Option<String> = None;
    for raw in markup.lines() {
        let line = raw.trim_end_matches('\r');
        let trimmed = line.trim_start();
        if let Some(language) = code_fence(trimmed) {
            match code.take() {
                Some(body) => {
                    w.close_all();
                    w.t.raw(&body);
                    w.t.end();
                }
                None => {
                    w.close_all();
                    w.t.begin(Block::Code {
                        language: (!language.is_empty()).then_some(language),
                    });
                    code = Some(String::new());
                }
            }
            continue;
        }
        if let Some(body) = &mut code {
            if !body.is_empty() {
                body.push('\n');
            }
            body.push_str(line);
            continue;
        }
        // Block markers that carry no text.
        let without_blocks = strip_block_macros(trimmed);
        let trimmed = without_blocks.trim();
        if trimmed.is_empty() {
            w.close_all();
            continue;
        }
        if let Some((level, text)) = heading(trimmed) {
            w.close_all();
            w.t.begin(Block::Heading(level));
            w.t.text(&inline(text));
            w.t.end();
            continue;
        }
        if let Some(text) = trimmed.strip_prefix("bq. ") {
            w.close_all();
            w.t.begin(Block::Quote);
            w.t.begin(Block::Paragraph);
            w.t.text(&inline(text));
            w.t.end();
            w.t.end();
            continue;
        }
        if trimmed.chars().all(|c| c == '-') && trimmed.len() >= 4 {
            w.close_all();
            w.t.rule();
            continue;
        }
        if let Some((marker, text)) = list_item(trimmed) {
            w.item(marker, &inline(text));
            continue;
        }
        if trimmed.starts_with('|') {
            w.row(trimmed);
            continue;
        }
        w.line(&inline(trimmed));
    }
    if let Some(body) = code {
        w.close_all();
        w.t.raw(&body);
        w.t.end();
    }
    w.close_all();
    w.t.finish()
}

/// The open structure of the markup being read: nested lists (by marker
/// character), a table, or a paragraph of consecutive lines.
#[derive(Default)]
struct Writer {
    t: RichText,
    /// Open lists, outermost first: `true` for numbered (`#`).
    lists: Vec<bool>,
    table: bool,
    paragraph: bool,
}

impl Writer {
    fn close_all(&mut self) {
        self.close_paragraph();
        self.close_table();
        self.close_lists(0);
    }

    fn close_paragraph(&mut self) {
        if self.paragraph {
            self.t.end();
            self.paragraph = false;
        }
    }

    fn close_table(&mut self) {
        if self.table {
            self.t.end();
            self.table = false;
        }
    }

    /// Close nested lists down to `keep` levels (each level has an open item).
    fn close_lists(&mut self, keep: usize) {
        while self.lists.len() > keep {
            self.lists.pop();
            self.t.end(); // the item
            self.t.end(); // its list
        }
    }

    /// A list item with marker `**`, `#*`, `-`…: lists closed and opened to
    /// its depth and kinds, then the item.
    fn item(&mut self, marker: &str, text: &str) {
        self.close_paragraph();
        self.close_table();
        let wanted: Vec<bool> = marker.chars().map(|c| c == '#').collect();
        let common = self
            .lists
            .iter()
            .zip(&wanted)
            .take_while(|(open, want)| open == want)
            .count();
        if common == wanted.len() {
            // A sibling at an open depth: close what is deeper, then the item.
            self.close_lists(common);
            self.t.end();
        } else {
            self.close_lists(common);
            for (i, &ordered) in wanted[common..].iter().enumerate() {
                if i > 0 {
                    // A level skipped in the markup (`**` first): an empty item holds it.
                    self.t.begin(Block::Item);
                }
                self.t.begin(Block::List { ordered, start: 1 });
                self.lists.push(ordered);
            }
        }
        self.t.begin(Block::Item);
        self.t.text(text);
    }

    /// `||a||b||` and `|a|b|` → a table row.
    fn row(&mut self, line: &str) {
        self.close_paragraph();
        self.close_lists(0);
        if !self.table {
            self.t.begin(Block::Table);
            self.table = true;
        }
        self.t.begin(Block::Row);
        for cell in line.split('|').map(str::trim).filter(|c| !c.is_empty()) {
            self.t.begin(Block::Cell);
            self.t.text(&inline(cell));
            self.t.end();
        }
        self.t.end();
    }

    /// A line of text: consecutive lines form one paragraph, line by line.
    fn line(&mut self, text: &str) {
        self.close_table();
        self.close_lists(0);
        if self.paragraph {
            self.t.line_break();
        } else {
            self.t.begin(Block::Paragraph);
            self.paragraph = true;
        }
        self.t.text(text);
    }
}

/// `{code}`, `{code:java}`, `{code:title=x|language=go}`, `{noformat}` → the fence's language.
fn code_fence(line: &str) -> Option<String> {
    let body = line.strip_prefix('{')?.strip_suffix('}')?;
    let (name, params) = body.split_once(':').unwrap_or((body, ""));
    if name != "code" && name != "noformat" {
        return None;
    }
    let language = params
        .split('|')
        .find_map(|p| match p.split_once('=') {
            Some(("language", v)) => Some(v.to_owned()),
            Some(_) => None,
            None => Some(p.to_owned()),
        })
        .unwrap_or_default();
    Some(language)
}

/// Remove `{quote}`, `{panel:…}`, `{color:…}`, `{color}` and similar block
/// macros, keeping the text around them.
fn strip_block_macros(line: &str) -> String {
    const MACROS: &[&str] = &[
        "quote", "panel", "color", "noformat", "tip", "info", "note", "warning",
    ];
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('}') else { break };
        let name = after[..end].split(':').next().unwrap_or("");
        out.push_str(&rest[..start]);
        if !MACROS.contains(&name) {
            out.push_str(&rest[start..start + end + 2]);
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

fn heading(line: &str) -> Option<(u8, &str)> {
    let bytes = line.as_bytes();
    if bytes.len() >= 4
        && bytes[0] == b'h'
        && (b'1'..=b'6').contains(&bytes[1])
        && &bytes[2..4] == b". "
    {
        return Some((bytes[1] - b'0', &line[4..]));
    }
    None
}

/// `* a`, `** b`, `# c`, `#* d`, `- e` → the marker and the item's text.
fn list_item(line: &str) -> Option<(&str, &str)> {
    let marker_len = line
        .chars()
        .take_while(|c| *c == '*' || *c == '#' || *c == '-')
        .count();
    if marker_len == 0 || !line[marker_len..].starts_with(' ') {
        return None;
    }
    let marker = &line[..marker_len];
    // `-` lists are one level only; `----` is a rule, handled before.
    if marker.contains('-') && marker != "-" {
        return None;
    }
    Some((marker, line[marker_len..].trim_start()))
}

/// Links, mentions, images and text effects inside a line.
fn inline(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '[' => {
                if let Some(end) = text[i + 1..].find(']') {
                    let body = &text[i + 1..i + 1 + end];
                    out.push_str(&link(body));
                    skip_to(&mut chars, i + 1 + end);
                    continue;
                }
                out.push(c);
            }
            '!' => {
                // `!image.png!` or `!image.png|thumbnail!`
                let rest = &text[i + 1..];
                match rest.find('!') {
                    Some(end) if end > 0 && !rest[..end].contains(' ') => {
                        let name = rest[..end].split('|').next().unwrap_or("");
                        out.push_str(&format!("[attachment: {name}]"));
                        skip_to(&mut chars, i + 1 + end);
                    }
                    _ => out.push(c),
                }
            }
            '{' => {
                // Inline macros such as {color:red}…{color} or {{monospace}}.
                if text[i..].starts_with("{{") {
                    skip_to(&mut chars, i + 1);
                    continue;
                }
                if text[i..].starts_with("}}") {
                    continue;
                }
                match text[i + 1..].find('}') {
                    Some(end) if !text[i + 1..i + 1 + end].contains(' ') => {
                        skip_to(&mut chars, i + 1 + end);
                    }
                    _ => out.push(c),
                }
            }
            '}' if text[i..].starts_with("}}") => {
                skip_to(&mut chars, i + 1);
            }
            '*' | '_' | '+' | '^' | '~' | '-' if is_effect_marker(text, i) => {}
            _ => out.push(c),
        }
    }
    out
}

/// Advance the iterator so the next char starts after byte `end`.
fn skip_to(chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>, end: usize) {
    while let Some(&(j, _)) = chars.peek() {
        if j > end {
            break;
        }
        chars.next();
    }
}

/// A text-effect marker (`*bold*`, `_em_`) hugs a word on one side and has a
/// boundary on the other; `a*b`, `2 * 3` and `snake_case` are left alone.
fn is_effect_marker(text: &str, i: usize) -> bool {
    let before = text[..i].chars().next_back();
    let after = text[i + 1..].chars().next();
    let word = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
    let boundary =
        |c: Option<char>| c.is_none_or(|c| c.is_whitespace() || c.is_ascii_punctuation());
    (boundary(before) && word(after)) || (word(before) && boundary(after))
}

/// `[text|url]`, `[url]`, `[~user]`, `[^attachment]`.
fn link(body: &str) -> String {
    if let Some(user) = body.strip_prefix('~') {
        return format!("@{}", user.trim_start_matches("accountid:"));
    }
    if let Some(file) = body.strip_prefix('^') {
        return format!("[attachment: {file}]");
    }
    match body.split_once('|') {
        Some((text, url)) if text.trim() != url.trim() => {
            format!("{} ({})", inline(text.trim()), url.trim())
        }
        Some((_, url)) => url.trim().to_owned(),
        None => body.trim().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_lists_tables() {
        let markup =
            "h1. Release\n* one\n** nested\n* two\n# first\n# second\n\n||Name||Role||\n|Ada|Lead|";
        assert_eq!(
            wiki_to_text(markup),
            "# Release\n\n- one\n  - nested\n- two\n\n1. first\n2. second\n\nName | Role\nAda | Lead"
        );
    }

    #[test]
    fn effects_links_images_macros() {
        let markup = "Use *bold* and _em_ with [docs|https://x.example] {color:red}red{color}, see !shot.png|thumbnail! and [^log.txt]\nbq. quoted\n{quote}\nsaid\n{quote}\n----";
        assert_eq!(
            wiki_to_text(markup),
            "Use bold and em with docs (https://x.example) red, see [attachment: shot.png] and [attachment: log.txt]\n\n> quoted\n\nsaid\n\n---"
        );
    }

    #[test]
    fn code_keeps_markup_verbatim() {
        let markup = "{noformat}\n*not bold* [not a link]\n{noformat}\nsnake_case and 2 * 3";
        assert_eq!(
            wiki_to_text(markup),
            "```\n*not bold* [not a link]\n```\n\nsnake_case and 2 * 3"
        );
    }

    #[test]
    fn odd_input_does_not_panic() {
        for s in [
            "[", "!", "{", "}}", "h1.", "* ", "|", "{code", "[~]", "!!", "é*é", "{{x", "#",
        ] {
            let _ = wiki_to_text(s);
        }
        assert_eq!(
            wiki_to_text("{code:java}\nunclosed"),
            "```java\nunclosed\n```"
        );
    }
}
