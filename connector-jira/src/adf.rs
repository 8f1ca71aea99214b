//! Atlassian Document Format → plain text that keeps the structure a reader
//! needs: paragraphs, headings, lists (bullet, ordered, task, decision),
//! tables (one row per line, cells separated by ` | `), code blocks, quotes,
//! panels, mentions, emoji, cards and links, dates and status lozenges.
//!
//! The input is whatever JSON the API returned: a node of an unknown type
//! keeps its text children, a node of the wrong shape is skipped, and
//! nothing here panics.
//!
//! ```
//! use connector_jira::adf::adf_to_text;
//! use serde_json::json;
//!
//! let doc = json!({"type": "doc", "version": 1, "content": [
//!     {"type": "heading", "attrs": {"level": 2}, "content": [{"type": "text", "text": "Steps"}]},
//!     {"type": "orderedList", "content": [
//!         {"type": "listItem", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Open the app"}]}]},
//!         {"type": "listItem", "content": [{"type": "paragraph", "content": [
//!             {"type": "text", "text": "Ask "},
//!             {"type": "mention", "attrs": {"id": "5b10ac8d82e05b22cc7d4ef5", "text": "@Mia Krystof"}}
//!         ]}]}
//!     ]}
//! ]});
//! assert_eq!(adf_to_text(&doc), "## Steps\n\n1. Open the app\n2. Ask @Mia Krystof");
//! ```

use chrono::DateTime;
use serde_json::Value;

/// Deeper nesting than this is not rendered (the JSON parser already
/// limits depth; this guards values built some other way).
const MAX_DEPTH: usize = 64;

/// The text of an ADF document (or any ADF node).
pub fn adf_to_text(node: &Value) -> String {
    let mut w = Writer::default();
    w.block(node, 0);
    w.finish()
}

#[derive(Default)]
struct Writer {
    out: String,
}

fn kind(node: &Value) -> &str {
    node.get("type").and_then(Value::as_str).unwrap_or("")
}

fn attr<'a>(node: &'a Value, name: &str) -> Option<&'a Value> {
    node.get("attrs").and_then(|a| a.get(name))
}

fn attr_str<'a>(node: &'a Value, name: &str) -> Option<&'a str> {
    attr(node, name).and_then(Value::as_str)
}

fn children(node: &Value) -> &[Value] {
    node.get("content")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

impl Writer {
    fn finish(self) -> String {
        self.out.trim_end().to_owned()
    }

    /// Start a new block: separated from the previous one by a blank line.
    fn separate(&mut self) {
        let trimmed = self.out.trim_end_matches([' ', '\t']).len();
        self.out.truncate(trimmed);
        if self.out.is_empty() {
            return;
        }
        while !self.out.ends_with("\n\n") {
            self.out.push('\n');
        }
    }

    /// Render block-level content, each block separated by a blank line.
    fn blocks(&mut self, nodes: &[Value], depth: usize) {
        for node in nodes {
            self.block(node, depth);
        }
    }

    fn block(&mut self, node: &Value, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        let d = depth + 1;
        match kind(node) {
            "doc" => self.blocks(children(node), d),
            "paragraph" => {
                self.separate();
                self.out.push_str(&inline_text(children(node), d));
            }
            "heading" => {
                self.separate();
                let level = attr(node, "level")
                    .and_then(Value::as_u64)
                    .unwrap_or(1)
                    .clamp(1, 6);
                self.out.push_str(&"#".repeat(level as usize));
                self.out.push(' ');
                self.out.push_str(&inline_text(children(node), d));
            }
            "bulletList" | "orderedList" | "taskList" | "decisionList" => {
                self.separate();
                let lines = list_lines(node, d);
                self.out.push_str(&lines.join("\n"));
            }
            "codeBlock" => {
                self.separate();
                let language = attr_str(node, "language").unwrap_or("");
                self.out.push_str("```");
                self.out.push_str(language);
                self.out.push('\n');
                self.out.push_str(&raw_text(children(node)));
                self.out.push_str("\n```");
            }
            "blockquote" => {
                self.separate();
                let inner = render_blocks(children(node), d);
                self.out.push_str(&prefix_lines(&inner, "> ", "> "));
            }
            "panel" => {
                self.separate();
                let label = match attr_str(node, "panelType").unwrap_or("info") {
                    "info" => "Info",
                    "note" => "Note",
                    "warning" => "Warning",
                    "error" => "Error",
                    "success" => "Success",
                    "tip" => "Tip",
                    _ => "Note",
                };
                self.out.push_str(label);
                self.out.push_str(": ");
                self.out.push_str(&render_blocks(children(node), d));
            }
            "expand" | "nestedExpand" => {
                self.separate();
                if let Some(title) = attr_str(node, "title").filter(|t| !t.is_empty()) {
                    self.out.push_str(title);
                    self.separate();
                }
                self.blocks(children(node), d);
            }
            "rule" => {
                self.separate();
                self.out.push_str("---");
            }
            "table" => {
                self.separate();
                let rows: Vec<String> = children(node)
                    .iter()
                    .filter(|r| kind(r) == "tableRow")
                    .map(|row| {
                        children(row)
                            .iter()
                            .map(|cell| collapse(&render_blocks(children(cell), d)))
                            .collect::<Vec<_>>()
                    })
                    .filter(|cells| cells.iter().any(|c| !c.is_empty()))
                    .map(|cells| cells.join(" | "))
                    .collect();
                self.out.push_str(&rows.join("\n"));
            }
            "mediaSingle" | "mediaGroup" => {
                let names: Vec<String> = children(node).iter().filter_map(media_name).collect();
                let captions = children(node)
                    .iter()
                    .filter(|c| kind(c) == "caption")
                    .map(|c| inline_text(children(c), d))
                    .filter(|c| !c.is_empty());
                let all: Vec<String> = names.into_iter().chain(captions).collect();
                if !all.is_empty() {
                    self.separate();
                    self.out.push_str(&all.join("\n"));
                }
            }
            "media" => {
                if let Some(name) = media_name(node) {
                    self.separate();
                    self.out.push_str(&name);
                }
            }
            "blockCard" | "embedCard" => {
                if let Some(url) = card_url(node) {
                    self.separate();
                    self.out.push_str(&url);
                }
            }
            "layoutSection"
            | "layoutColumn"
            | "bodiedExtension"
            | "multiBodiedExtension"
            | "extensionFrame" => self.blocks(children(node), d),
            "extension" | "inlineExtension" => {}
            // Inline content where a block was expected, or a node type this
            // converter does not know: keep its text.
            _ => {
                let text = inline_text(std::slice::from_ref(node), d);
                if !text.trim().is_empty() {
                    self.separate();
                    self.out.push_str(&text);
                }
            }
        }
    }
}

/// Render block content into a fresh string.
fn render_blocks(nodes: &[Value], depth: usize) -> String {
    let mut w = Writer::default();
    w.blocks(nodes, depth);
    w.finish()
}

/// One line per list item; nested lists indented by two spaces.
fn list_lines(list: &Value, depth: usize) -> Vec<String> {
    if depth > MAX_DEPTH {
        return Vec::new();
    }
    let list_kind = kind(list);
    let mut number = attr(list, "order").and_then(Value::as_u64).unwrap_or(1);
    let mut lines = Vec::new();
    for item in children(list) {
        let marker = match (list_kind, kind(item)) {
            ("orderedList", _) => {
                let m = format!("{number}. ");
                number += 1;
                m
            }
            (_, "taskItem") => {
                if attr_str(item, "state") == Some("DONE") {
                    "- [x] ".to_owned()
                } else {
                    "- [ ] ".to_owned()
                }
            }
            (_, "decisionItem") => "- Decision: ".to_owned(),
            _ => "- ".to_owned(),
        };
        let mut first = String::new();
        let mut nested = Vec::new();
        let mut rest = Vec::new();
        // Task and decision items hold inline content directly; list items
        // hold blocks (a paragraph, then maybe a nested list).
        let mut inline_run = Vec::new();
        for child in children(item) {
            match kind(child) {
                "bulletList" | "orderedList" | "taskList" | "decisionList" => {
                    nested.extend(
                        list_lines(child, depth + 1)
                            .into_iter()
                            .map(|l| format!("  {l}")),
                    );
                }
                "paragraph" if first.is_empty() && rest.is_empty() => {
                    first = inline_text(children(child), depth + 1);
                }
                "text" | "mention" | "emoji" | "hardBreak" | "inlineCard" | "date" | "status" => {
                    inline_run.push(child.clone());
                }
                _ => {
                    let text = render_blocks(std::slice::from_ref(child), depth + 1);
                    if !text.is_empty() {
                        rest.push(text);
                    }
                }
            }
        }
        if !inline_run.is_empty() {
            let text = inline_text(&inline_run, depth + 1);
            first = if first.is_empty() {
                text
            } else {
                format!("{first} {text}")
            };
        }
        lines.push(prefix_lines(
            &first,
            &marker,
            &" ".repeat(marker.chars().count()),
        ));
        for block in rest {
            lines.push(prefix_lines(&block, "  ", "  "));
        }
        lines.extend(nested);
    }
    lines
}

/// Prefix the first line with `first` and the others with `rest`.
fn prefix_lines(text: &str, first: &str, rest: &str) -> String {
    let mut out = String::with_capacity(text.len() + first.len());
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(if i == 0 { first } else { rest });
        out.push_str(line);
    }
    out
}

/// Table cells live on one line.
fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Text of code blocks: no marks, no structure.
fn raw_text(nodes: &[Value]) -> String {
    nodes
        .iter()
        .map(|n| match kind(n) {
            "hardBreak" => "\n",
            _ => n.get("text").and_then(Value::as_str).unwrap_or(""),
        })
        .collect()
}

fn media_name(node: &Value) -> Option<String> {
    if kind(node) != "media" {
        return None;
    }
    attr_str(node, "alt")
        .filter(|a| !a.is_empty())
        .or_else(|| attr_str(node, "url"))
        .map(|n| format!("[attachment: {n}]"))
}

fn card_url(node: &Value) -> Option<String> {
    attr_str(node, "url").map(str::to_owned).or_else(|| {
        attr(node, "data")
            .and_then(|d| d.get("url").or_else(|| d.get("name")))
            .and_then(Value::as_str)
            .map(str::to_owned)
    })
}

/// Inline content as one string (hard breaks become newlines).
fn inline_text(nodes: &[Value], depth: usize) -> String {
    let mut out = String::new();
    for node in nodes {
        inline(node, &mut out, depth);
    }
    out
}

fn inline(node: &Value, out: &mut String, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    match kind(node) {
        "text" => {
            let text = node.get("text").and_then(Value::as_str).unwrap_or("");
            out.push_str(text);
            let href = node
                .get("marks")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .find(|m| kind(m) == "link")
                .and_then(|m| attr_str(m, "href"));
            if let Some(href) = href {
                if href != text && !href.is_empty() {
                    out.push_str(" (");
                    out.push_str(href);
                    out.push(')');
                }
            }
        }
        "hardBreak" => out.push('\n'),
        "mention" => {
            let text = attr_str(node, "text").filter(|t| !t.is_empty());
            match text {
                Some(t) => out.push_str(t),
                None => {
                    out.push('@');
                    out.push_str(attr_str(node, "id").unwrap_or("unknown"));
                }
            }
        }
        "emoji" => {
            let short = attr_str(node, "shortName").or_else(|| attr_str(node, "text"));
            out.push_str(short.unwrap_or(""));
        }
        "inlineCard" => {
            if let Some(url) = card_url(node) {
                out.push_str(&url);
            }
        }
        "date" => {
            let ts = attr(node, "timestamp").and_then(|t| match t {
                Value::String(s) => s.parse::<i64>().ok(),
                Value::Number(n) => n.as_i64(),
                _ => None,
            });
            if let Some(date) = ts.and_then(DateTime::from_timestamp_millis) {
                out.push_str(&date.format("%Y-%m-%d").to_string());
            }
        }
        "status" => {
            if let Some(text) = attr_str(node, "text") {
                out.push('[');
                out.push_str(text);
                out.push(']');
            }
        }
        "mediaInline" => {
            if let Some(name) = attr_str(node, "alt").or_else(|| attr_str(node, "url")) {
                out.push_str(&format!("[attachment: {name}]"));
            }
        }
        "placeholder" | "inlineExtension" => {}
        // A block inside inline content (malformed), or an unknown node:
        // keep its text.
        _ => {
            let inner = children(node);
            if !inner.is_empty() {
                let text = render_blocks(inner, depth + 1);
                out.push_str(&collapse_blocks(&text));
            } else if let Some(text) = node.get("text").and_then(Value::as_str) {
                out.push_str(text);
            }
        }
    }
}

/// Blocks flattened into inline text: blank lines become single spaces.
fn collapse_blocks(text: &str) -> String {
    text.split("\n\n").collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(text: &str) -> Value {
        json!({"type": "paragraph", "content": [{"type": "text", "text": text}]})
    }

    fn doc(content: Vec<Value>) -> Value {
        json!({"type": "doc", "version": 1, "content": content})
    }

    #[test]
    fn paragraphs_headings_and_breaks() {
        let d = doc(vec![
            json!({"type": "heading", "attrs": {"level": 1}, "content": [{"type": "text", "text": "Title"}]}),
            json!({"type": "paragraph", "content": [
                {"type": "text", "text": "line one"},
                {"type": "hardBreak"},
                {"type": "text", "text": "line two", "marks": [{"type": "strong"}]}
            ]}),
            p("second paragraph"),
        ]);
        assert_eq!(
            adf_to_text(&d),
            "# Title\n\nline one\nline two\n\nsecond paragraph"
        );
    }

    #[test]
    fn lists_nested_ordered_and_tasks() {
        let d = doc(vec![
            json!({"type": "bulletList", "content": [
                {"type": "listItem", "content": [p("apples"),
                    {"type": "orderedList", "attrs": {"order": 3}, "content": [
                        {"type": "listItem", "content": [p("green")]},
                        {"type": "listItem", "content": [p("red")]}
                    ]}
                ]},
                {"type": "listItem", "content": [p("pears")]}
            ]}),
            json!({"type": "taskList", "attrs": {"localId": "t"}, "content": [
                {"type": "taskItem", "attrs": {"localId": "1", "state": "DONE"}, "content": [{"type": "text", "text": "write tests"}]},
                {"type": "taskItem", "attrs": {"localId": "2", "state": "TODO"}, "content": [{"type": "text", "text": "ship"}]}
            ]}),
            json!({"type": "decisionList", "attrs": {"localId": "d"}, "content": [
                {"type": "decisionItem", "attrs": {"localId": "3", "state": "DECIDED"}, "content": [{"type": "text", "text": "use Rust"}]}
            ]}),
        ]);
        assert_eq!(
            adf_to_text(&d),
            "- apples\n  3. green\n  4. red\n- pears\n\n- [x] write tests\n- [ ] ship\n\n- Decision: use Rust"
        );
    }

    #[test]
    fn tables_rows_and_cells() {
        let cell = |t: &str, kind: &str| json!({"type": kind, "attrs": {}, "content": [p(t)]});
        let d = doc(vec![
            json!({"type": "table", "attrs": {"isNumberColumnEnabled": false, "layout": "default"}, "content": [
                {"type": "tableRow", "content": [cell("Name", "tableHeader"), cell("Role", "tableHeader")]},
                {"type": "tableRow", "content": [cell("Ada", "tableCell"), {"type": "tableCell", "attrs": {}, "content": [p("Lead"), p("and author")]}]}
            ]}),
        ]);
        assert_eq!(adf_to_text(&d), "Name | Role\nAda | Lead and author");
    }

    #[test]
    fn code_quote_panel_expand_rule() {
        let d = doc(vec![
            json!({"type": "codeBlock", "attrs": {"language": "rust"}, "content": [{"type": "text", "text": "fn main() {\n    run();\n}"}]}),
            json!({"type": "blockquote", "content": [p("quoted"), p("twice")]}),
            json!({"type": "panel", "attrs": {"panelType": "warning"}, "content": [p("careful")]}),
            json!({"type": "expand", "attrs": {"title": "Details"}, "content": [p("hidden text")]}),
            json!({"type": "rule"}),
        ]);
        assert_eq!(
            adf_to_text(&d),
            "```rust\nfn main() {\n    run();\n}\n```\n\n> quoted\n> \n> twice\n\nWarning: careful\n\nDetails\n\nhidden text\n\n---"
        );
    }

    #[test]
    fn inline_nodes() {
        let d = doc(vec![json!({"type": "paragraph", "content": [
            {"type": "mention", "attrs": {"id": "5b10ac8d82e05b22cc7d4ef5", "text": "@Mia Krystof", "accessLevel": ""}},
            {"type": "text", "text": " "},
            {"type": "emoji", "attrs": {"shortName": ":grinning:", "id": "1f600", "text": "😀"}},
            {"type": "text", "text": " see "},
            {"type": "text", "text": "the docs", "marks": [{"type": "link", "attrs": {"href": "https://example.com/docs"}}]},
            {"type": "text", "text": " and "},
            {"type": "inlineCard", "attrs": {"url": "https://your-domain.atlassian.net/browse/ENG-7"}},
            {"type": "text", "text": " by "},
            {"type": "date", "attrs": {"timestamp": "1582152559000"}},
            {"type": "text", "text": " "},
            {"type": "status", "attrs": {"text": "IN PROGRESS", "color": "blue", "localId": "x"}},
            {"type": "placeholder", "attrs": {"text": "Type here"}}
        ]})]);
        assert_eq!(
            adf_to_text(&d),
            "@Mia Krystof :grinning: see the docs (https://example.com/docs) and https://your-domain.atlassian.net/browse/ENG-7 by 2020-02-19 [IN PROGRESS]"
        );
    }

    #[test]
    fn media_and_cards() {
        let d = doc(vec![
            json!({"type": "mediaSingle", "attrs": {"layout": "center"}, "content": [
                {"type": "media", "attrs": {"id": "abc", "type": "file", "collection": "c", "alt": "screenshot.png"}}
            ]}),
            json!({"type": "blockCard", "attrs": {"url": "https://example.com/card"}}),
        ]);
        assert_eq!(
            adf_to_text(&d),
            "[attachment: screenshot.png]\n\nhttps://example.com/card"
        );
    }

    #[test]
    fn unknown_and_malformed_input_keeps_text_and_never_panics() {
        let d = doc(vec![
            json!({"type": "fancyNewNode", "content": [{"type": "text", "text": "still here"}]}),
            json!({"type": "paragraph", "content": "not an array"}),
            json!({"type": "heading", "attrs": {"level": "big"}, "content": [{"type": "text", "text": "h"}]}),
            json!({"type": "mention"}),
            json!({"type": "date", "attrs": {"timestamp": "soon"}}),
            json!(42),
            json!(null),
            json!({"type": "table", "content": [{"type": "tableRow", "content": [null, 1]}]}),
        ]);
        assert_eq!(adf_to_text(&d), "still here\n\n# h\n\n@unknown");
        assert_eq!(adf_to_text(&json!("plain string")), "");
        assert_eq!(adf_to_text(&json!([1, 2])), "");
    }

    #[test]
    fn deep_nesting_is_cut_not_overflowed() {
        // Built by hand: `json!` would serialise (recursively) what it embeds.
        let mut node = p("bottom");
        for _ in 0..5_000 {
            let mut map = serde_json::Map::new();
            map.insert("type".into(), Value::from("blockquote"));
            map.insert("content".into(), Value::Array(vec![node]));
            node = Value::Object(map);
        }
        let text = adf_to_text(&node);
        assert!(!text.contains("bottom"));
        // Dropping a 5 000-deep value recurses as deep; leak it instead.
        std::mem::forget(node);
    }
}
