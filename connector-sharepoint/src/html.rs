//! A small, forgiving HTML reader for text web parts and `.html` files: it
//! tokenizes tags and text and drives the SDK's rich-text writer
//! ([`RichText`]), so headings, lists, tables, quotes and code read as they
//! do from every other source. `script`, `style` and `head` are dropped,
//! character references decoded with the full HTML5 table. It never fails:
//! bad markup yields best-effort text, and hostile nesting is bounded by
//! the writer.

use connector_core::text::decode_entities;
use connector_core::text::rich::{Block, RichText};

/// Plain text of an HTML fragment or document.
///
/// ```
/// use connector_sharepoint::html_to_text;
/// let text = html_to_text("<h2>Plan</h2><p>Ship <b>v2</b> &amp; test</p><ul><li>one</li><li>two</li></ul>");
/// assert_eq!(text, "## Plan\n\nShip v2 & test\n\n- one\n- two");
/// ```
pub fn html_to_text(html: &str) -> String {
    let mut reader = Reader::default();
    reader.read(html);
    reader.finish()
}

/// Plain text of several HTML fragments in order (a page's text web
/// parts), each a block of its own, through one writer.
pub(crate) fn fragments_to_text<'a>(fragments: impl IntoIterator<Item = &'a str>) -> String {
    let mut reader = Reader::default();
    for html in fragments {
        // Each fragment is a block: text outside its tags does not run on.
        reader.open("#fragment", Block::Paragraph);
        reader.read(html);
        reader.close_all();
    }
    reader.finish()
}

/// Where the tag starting at `s[0] == '<'` ends (`>` outside quotes).
fn tag_end(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    // `<` must be followed by a letter, `/`, `!` or `?` to be a tag.
    match bytes.get(1) {
        Some(b) if b.is_ascii_alphabetic() || matches!(b, b'/' | b'!' | b'?') => {}
        _ => return None,
    }
    let mut quote: Option<u8> = None;
    for (i, &b) in bytes.iter().enumerate().skip(1) {
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'"' || b == b'\'' => quote = Some(b),
            None if b == b'>' => return Some(i),
            None => {}
        }
    }
    None
}

/// Elements whose content is dropped.
const SKIPPED: &[&str] = &["script", "style", "head", "template", "noscript"];

/// Generic blocks: a paragraph each.
const PARAGRAPHS: &[&str] = &[
    "p",
    "div",
    "section",
    "article",
    "header",
    "footer",
    "main",
    "aside",
    "nav",
    "figure",
    "figcaption",
    "dl",
    "dt",
    "dd",
    "address",
    "details",
    "summary",
    "caption",
    "body",
    "html",
    "title",
    "center",
];

/// Elements kept open at most: past it, block tags read as inline text,
/// so hostile nesting costs neither memory nor time per tag.
const MAX_OPEN: usize = 256;

#[derive(Default)]
struct Reader {
    out: RichText,
    /// The HTML elements a block was opened for, innermost last.
    open: Vec<String>,
    /// Inside an element whose content is dropped, until its end tag.
    skip_until: Option<&'static str>,
}

impl Reader {
    /// Read one fragment into the writer.
    fn read(&mut self, html: &str) {
        let mut rest = html;
        while !rest.is_empty() {
            let Some(at) = rest.find('<') else {
                self.text(rest);
                break;
            };
            self.text(&rest[..at]);
            rest = &rest[at..];
            if let Some(comment) = rest.strip_prefix("<!--") {
                rest = comment.find("-->").map_or("", |end| &comment[end + 3..]);
                continue;
            }
            let Some(end) = tag_end(rest) else {
                // A lone `<` is text.
                self.text("<");
                rest = &rest[1..];
                continue;
            };
            self.tag(&rest[1..end]);
            rest = &rest[end + 1..];
        }
    }

    /// End every open element (a fragment's unclosed tags end with it).
    fn close_all(&mut self) {
        self.skip_until = None;
        while self.open.pop().is_some() {
            self.out.end();
        }
    }

    fn finish(mut self) -> String {
        self.close_all();
        self.out.finish()
    }

    fn text(&mut self, raw: &str) {
        if self.skip_until.is_some() || raw.is_empty() {
            return;
        }
        let text = decode_entities(raw);
        if self.open.iter().any(|e| e == "pre") {
            self.out.raw(&text);
        } else {
            self.out.text(&text);
        }
    }

    fn tag(&mut self, tag: &str) {
        let closing = tag.starts_with('/');
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_ascii_lowercase();
        if let Some(until) = self.skip_until {
            if closing && name == until {
                self.skip_until = None;
            }
            return;
        }
        if name.is_empty() {
            return; // `<!DOCTYPE …>`, `<?xml …?>`
        }
        if closing {
            self.close(&name);
            return;
        }
        if let Some(skipped) = SKIPPED.iter().find(|s| **s == name) {
            if !tag.trim_end().ends_with('/') {
                self.skip_until = Some(skipped);
            }
            return;
        }
        match name.as_str() {
            "br" => self.out.line_break(),
            "hr" => self.out.rule(),
            "li" => {
                // An item ends the previous one of the same list.
                self.close_if_open("li", &["ul", "ol"]);
                self.open(&name, Block::Item);
            }
            "ul" | "ol" => {
                let start = attribute(tag, "start")
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(1);
                self.open(
                    &name,
                    Block::List {
                        ordered: name == "ol",
                        start,
                    },
                );
            }
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => {
                let level = name[1..].parse().unwrap_or(1);
                self.open(&name, Block::Heading(level));
            }
            "table" => self.open(&name, Block::Table),
            "tr" => {
                self.close_if_open("tr", &["table"]);
                self.open(&name, Block::Row);
            }
            "td" | "th" => {
                self.close_if_open("td", &["tr"]);
                self.close_if_open("th", &["tr"]);
                self.open(&name, Block::Cell);
            }
            "blockquote" => self.open(&name, Block::Quote),
            "pre" => self.open(&name, Block::Code { language: None }),
            "p" => {
                // A paragraph ends an open one: `<p>` does not nest.
                self.close_if_open("p", &[]);
                self.open(&name, Block::Paragraph);
            }
            other if PARAGRAPHS.contains(&other) => self.open(&name, Block::Paragraph),
            _ => {} // inline: its text flows on
        }
    }

    fn open(&mut self, name: &str, block: Block) {
        if self.open.len() >= MAX_OPEN {
            return; // deeper blocks read as inline text
        }
        self.out.begin(block);
        self.open.push(name.to_owned());
    }

    /// An end tag closes its element and everything opened inside it; an
    /// end tag of nothing open is ignored.
    fn close(&mut self, name: &str) {
        let Some(at) = self.open.iter().rposition(|e| e == name) else {
            return;
        };
        while self.open.len() > at {
            self.open.pop();
            self.out.end();
        }
    }

    /// Close an open `name` unless one of `barriers` is opened inside it
    /// (a nested list's item does not close its parent's item).
    fn close_if_open(&mut self, name: &str, barriers: &[&str]) {
        for e in self.open.iter().rev() {
            if e == name {
                self.close(name);
                return;
            }
            if barriers.contains(&e.as_str()) {
                return;
            }
        }
    }
}

/// The value of `name="…"` in a start tag.
fn attribute<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let lower = tag.to_ascii_lowercase();
    let at = lower.find(&format!("{name}="))? + name.len() + 1;
    let value = tag.get(at..)?;
    let value = value.trim_start_matches(['"', '\'']);
    let end = value.find(['"', '\'', ' ', '>']).unwrap_or(value.len());
    Some(&value[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn structure_survives() {
        let html = r#"<div><h1>Title</h1><p>Hello&nbsp;<a href="https://x">world</a>!</p>
            <table><tr><th>A</th><th>B</th></tr><tr><td>1</td><td>2</td></tr></table>
            <script>var x = "<p>";</script><style>p { color: red }</style>
            <p>a<br>b</p><!-- hidden --><p>5 &lt; 6 &#x263A; &#9731;</p></div>"#;
        assert_eq!(
            html_to_text(html),
            "# Title\n\nHello world!\n\nA | B\n1 | 2\n\na\nb\n\n5 < 6 ☺ ☃"
        );
    }

    #[test]
    fn lists_nest_and_number_and_unclosed_items_end_each_other() {
        let html = "<ol start=3><li>three<ul><li>a<li>b</ul><li>four</ol><p>after";
        assert_eq!(
            html_to_text(html),
            "3. three\n   - a\n   - b\n4. four\n\nafter"
        );
    }

    #[test]
    fn code_keeps_its_spacing_and_quotes_are_marked() {
        let html = "<pre><code>fn main() {\n    run(&amp;x);\n}</code></pre><blockquote><p>said</p></blockquote>";
        assert_eq!(
            html_to_text(html),
            "```\nfn main() {\n    run(&x);\n}\n```\n\n> said"
        );
    }

    #[test]
    fn every_html5_entity_and_no_control_characters() {
        assert_eq!(html_to_text("caf&eacute; &hellip; &#0;"), "café … \u{FFFD}");
        assert_eq!(html_to_text("&bogus; &amp"), "&bogus; &amp");
    }

    #[test]
    fn broken_markup_reads_as_best_it_can() {
        for html in [
            "<",
            "<p",
            "</li></ul></table>",
            "<td>stray cell",
            "&#xZZ;",
            "&#99999999999;",
            "<h7>x</h7>",
            "<script>never closed",
            "é<b>ü</b>ß&amp;",
        ] {
            let _ = html_to_text(html);
        }
        assert_eq!(html_to_text("a < b"), "a < b");
        assert_eq!(html_to_text("<p title='x>y'>q</p>"), "q");
        assert_eq!(html_to_text("é<b>ü</b>ß"), "éüß");
        assert_eq!(html_to_text("one <b>two</b> three"), "one two three");
        assert_eq!(html_to_text("</li></ul>x"), "x");
        assert_eq!(html_to_text("<script>never closed"), "");
    }

    #[test]
    fn hostile_nesting_is_bounded() {
        let html = "<blockquote>".repeat(100_000) + "deep";
        let text = html_to_text(&html);
        assert!(text.ends_with("deep"));
        assert!(text.len() < 1_000, "{}", text.len());
    }
}
