//! Atlassian Document Format → plain text that keeps the structure a reader
//! needs: paragraphs, headings, lists (bullet, ordered, task, decision),
//! tables (one row per line, cells separated by ` | `), code blocks, quotes,
//! panels, mentions, emoji, cards and links, dates and status lozenges.
//!
//! The walk over ADF nodes is here; the text layout is core's
//! [`RichText`] writer, shared with every other rich-text source. The input
//! is whatever JSON the API returned: a node of an unknown type keeps its
//! text children, a node of the wrong shape is skipped, and nothing here
//! panics.
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
use connector_core::text::rich::{Block, RichText};
use serde_json::Value;

/// Deeper nesting than this is not walked (the JSON parser already limits
/// depth; this guards values built some other way).
const MAX_DEPTH: usize = 64;

/// The text of an ADF document (or any ADF node).
pub fn adf_to_text(node: &Value) -> String {
    let mut t = RichText::new();
    block(&mut t, node, 0);
    t.finish()
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

fn is_inline(node: &Value) -> bool {
    matches!(
        kind(node),
        "text"
            | "hardBreak"
            | "mention"
            | "emoji"
            | "inlineCard"
            | "date"
            | "status"
            | "mediaInline"
            | "placeholder"
            | "inlineExtension"
    )
}

/// A block of `text` alone (a media name, a card's URL).
fn paragraph(t: &mut RichText, text: &str) {
    t.begin(Block::Paragraph);
    t.text(text);
    t.end();
}

/// Block content; a run of inline nodes where blocks were expected (task
/// and decision items hold them directly) is written as one paragraph.
fn blocks(t: &mut RichText, nodes: &[Value], depth: usize) {
    let mut run: Vec<&Value> = Vec::new();
    for node in nodes {
        if is_inline(node) {
            run.push(node);
            continue;
        }
        if !run.is_empty() {
            inline_paragraph(t, &run, depth);
            run.clear();
        }
        block(t, node, depth);
    }
    if !run.is_empty() {
        inline_paragraph(t, &run, depth);
    }
}

fn inline_paragraph(t: &mut RichText, nodes: &[&Value], depth: usize) {
    t.begin(Block::Paragraph);
    for node in nodes {
        inline(t, node, depth);
    }
    t.end();
}

fn block(t: &mut RichText, node: &Value, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    let d = depth + 1;
    match kind(node) {
        "doc"
        | "layoutSection"
        | "layoutColumn"
        | "bodiedExtension"
        | "multiBodiedExtension"
        | "extensionFrame" => blocks(t, children(node), d),
        // An empty paragraph (a blank line typed in the editor) writes
        // nothing, not an empty block.
        "paragraph" if children(node).is_empty() => {}
        "paragraph" => {
            t.begin(Block::Paragraph);
            inlines(t, children(node), d);
            t.end();
        }
        "heading" => {
            let level = attr(node, "level")
                .and_then(Value::as_u64)
                .unwrap_or(1)
                .clamp(1, 6);
            t.begin(Block::Heading(level as u8));
            inlines(t, children(node), d);
            t.end();
        }
        "bulletList" | "taskList" | "decisionList" => list(t, node, false, 1, d),
        "orderedList" => {
            let start = attr(node, "order").and_then(Value::as_u64).unwrap_or(1);
            list(t, node, true, start, d);
        }
        "codeBlock" => {
            let language = attr_str(node, "language").map(str::to_owned);
            t.begin(Block::Code { language });
            for child in children(node) {
                match kind(child) {
                    "hardBreak" => t.raw("\n"),
                    _ => t.raw(child.get("text").and_then(Value::as_str).unwrap_or("")),
                }
            }
            t.end();
        }
        "blockquote" => {
            t.begin(Block::Quote);
            blocks(t, children(node), d);
            t.end();
        }
        "panel" => {
            let label = match attr_str(node, "panelType").unwrap_or("info") {
                "info" => "Info",
                "warning" => "Warning",
                "error" => "Error",
                "success" => "Success",
                "tip" => "Tip",
                _ => "Note",
            };
            // The label leads the panel's first paragraph: `Warning: careful`.
            let content = children(node);
            match content.split_first() {
                Some((first, rest)) if kind(first) == "paragraph" => {
                    t.begin(Block::Paragraph);
                    t.text(label);
                    t.text(": ");
                    inlines(t, children(first), d);
                    t.end();
                    blocks(t, rest, d);
                }
                _ => {
                    paragraph(t, &format!("{label}:"));
                    blocks(t, content, d);
                }
            }
        }
        "expand" | "nestedExpand" => {
            if let Some(title) = attr_str(node, "title").filter(|t| !t.trim().is_empty()) {
                paragraph(t, title);
            }
            blocks(t, children(node), d);
        }
        "rule" => t.rule(),
        "table" => {
            t.begin(Block::Table);
            for row in children(node).iter().filter(|r| kind(r) == "tableRow") {
                t.begin(Block::Row);
                for cell in children(row) {
                    t.begin(Block::Cell);
                    blocks(t, children(cell), d);
                    t.end();
                }
                t.end();
            }
            t.end();
        }
        "mediaSingle" | "mediaGroup" => {
            for child in children(node) {
                if let Some(name) = media_name(child) {
                    paragraph(t, &name);
                } else if kind(child) == "caption" {
                    t.begin(Block::Paragraph);
                    inlines(t, children(child), d);
                    t.end();
                }
            }
        }
        "media" => {
            if let Some(name) = media_name(node) {
                paragraph(t, &name);
            }
        }
        "blockCard" | "embedCard" => {
            if let Some(url) = card_url(node) {
                paragraph(t, &url);
            }
        }
        "extension" | "inlineExtension" => {}
        // Inline content where a block was expected, or a node type this
        // converter does not know: keep its text.
        _ => {
            if is_inline(node) {
                t.begin(Block::Paragraph);
                inline(t, node, d);
                t.end();
            } else {
                blocks(t, children(node), d);
            }
        }
    }
}

/// A list; each item's content is blocks (list items) or inline nodes
/// (task and decision items).
fn list(t: &mut RichText, node: &Value, ordered: bool, start: u64, depth: usize) {
    t.begin(Block::List { ordered, start });
    for item in children(node) {
        match kind(item) {
            "taskItem" => t.begin(Block::Task {
                done: attr_str(item, "state") == Some("DONE"),
            }),
            _ => t.begin(Block::Item),
        }
        if kind(item) == "decisionItem" {
            t.text("Decision: ");
        }
        // The item's leading text (inline nodes, or its first paragraph) is
        // the item's line; what follows is blocks under it.
        let content = children(item);
        let lead = content.iter().take_while(|n| is_inline(n)).count();
        for node in &content[..lead] {
            inline(t, node, depth + 1);
        }
        let rest = match &content[lead..] {
            [first, rest @ ..] if lead == 0 && kind(first) == "paragraph" => {
                inlines(t, children(first), depth + 1);
                rest
            }
            rest => rest,
        };
        blocks(t, rest, depth + 1);
        t.end();
    }
    t.end();
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

fn inlines(t: &mut RichText, nodes: &[Value], depth: usize) {
    for node in nodes {
        inline(t, node, depth);
    }
}

fn inline(t: &mut RichText, node: &Value, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    match kind(node) {
        "text" => {
            let text = node.get("text").and_then(Value::as_str).unwrap_or("");
            t.text(text);
            let href = node
                .get("marks")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .find(|m| kind(m) == "link")
                .and_then(|m| attr_str(m, "href"));
            if let Some(href) = href
                && href != text
                && !href.is_empty()
            {
                t.text(&format!(" ({href})"));
            }
        }
        "hardBreak" => t.line_break(),
        "mention" => match attr_str(node, "text").filter(|t| !t.is_empty()) {
            Some(name) => t.text(name),
            None => t.text(&format!("@{}", attr_str(node, "id").unwrap_or("unknown"))),
        },
        "emoji" => {
            if let Some(short) = attr_str(node, "shortName").or_else(|| attr_str(node, "text")) {
                t.text(short);
            }
        }
        "inlineCard" => {
            if let Some(url) = card_url(node) {
                t.text(&url);
            }
        }
        "date" => {
            let ts = attr(node, "timestamp").and_then(|ts| match ts {
                Value::String(s) => s.parse::<i64>().ok(),
                Value::Number(n) => n.as_i64(),
                _ => None,
            });
            if let Some(date) = ts.and_then(DateTime::from_timestamp_millis) {
                t.text(&date.format("%Y-%m-%d").to_string());
            }
        }
        "status" => {
            if let Some(text) = attr_str(node, "text") {
                t.text(&format!("[{text}]"));
            }
        }
        "mediaInline" => {
            if let Some(name) = attr_str(node, "alt").or_else(|| attr_str(node, "url")) {
                t.text(&format!("[attachment: {name}]"));
            }
        }
        "placeholder" | "inlineExtension" => {}
        // A block inside inline content (malformed), or an unknown node:
        // keep its text, inline.
        _ => {
            let inner = children(node);
            if inner.is_empty()
                && let Some(text) = node.get("text").and_then(Value::as_str)
            {
                t.text(text);
            }
            for child in inner {
                t.text(" ");
                inline(t, child, depth + 1);
            }
        }
    }
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
