//! HTML and XHTML through the `html5ever` tokenizer (the WHATWG
//! tokenizer: entities, raw text in `script`/`style`, broken markup) and a
//! flat renderer: no DOM is built and nothing recurses, so a page nested a
//! million levels deep costs what its bytes cost.
//!
//! Kept: the `<title>` (as the title), `lang` (as the language), `<meta
//! name="author">`, headings as `#` lines, paragraphs and other blocks on
//! their own lines, list items as `- ` lines, table rows with cells joined
//! by ` | `, preformatted text as it is, link text. Dropped: scripts,
//! styles, templates, the rest of `<head>`.

use std::cell::RefCell;

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{
    BufferQueue, Tag, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer,
};

use crate::budget::{Budget, Collector};
use crate::error::Res;
use crate::formats::layout::Lines;
use crate::model::Place;

/// Input is fed to the tokenizer in slices of this many bytes, with the
/// budget checked between them.
const SLICE: usize = 64 * 1024;

/// The text of an HTML document in `bytes` (any encoding).
pub(crate) fn extract(bytes: &[u8], budget: &Budget<'_>, out: &mut Collector) -> Res<()> {
    let text = crate::text::decode(bytes, declared_charset(bytes).as_deref());
    let page = render(&text, budget)?;
    if out.doc.title.is_none() {
        out.doc.title = page.title;
    }
    if out.doc.language.is_none() {
        out.doc.language = page.language;
    }
    for author in page.authors {
        if !out.doc.authors.contains(&author) {
            out.doc.authors.push(author);
        }
    }
    out.push(Place::Body, &page.text);
    Ok(())
}

/// What a page holds.
pub(crate) struct Page {
    pub(crate) text: String,
    pub(crate) title: Option<String>,
    pub(crate) language: Option<String>,
    pub(crate) authors: Vec<String>,
}

/// Render decoded HTML to text.
pub(crate) fn render(html: &str, budget: &Budget<'_>) -> Res<Page> {
    let sink = Sink {
        state: RefCell::new(State {
            max_depth: budget.options.max_markup_depth as usize,
            limit: budget.options.max_text_bytes as usize,
            ..State::default()
        }),
    };
    let tokenizer = Tokenizer::new(sink, Default::default());
    let queue = BufferQueue::default();
    let mut rest = html;
    while !rest.is_empty() {
        budget.check_time()?;
        let mut cut = rest.len().min(SLICE);
        while !rest.is_char_boundary(cut) {
            cut += 1;
        }
        let (slice, tail) = rest.split_at(cut);
        rest = tail;
        queue.push_back(StrTendril::from_slice(slice));
        let _ = tokenizer.feed(&queue);
        if tokenizer.sink.state.borrow().full() {
            break;
        }
    }
    tokenizer.end();
    let state = tokenizer.sink.state.into_inner();
    let title = state.title.split_whitespace().collect::<Vec<_>>().join(" ");
    Ok(Page {
        text: state.lines.finish(),
        title: (!title.is_empty()).then_some(title),
        language: state.language,
        authors: state.authors,
    })
}

/// `<meta charset="…">` or `<meta http-equiv … content="…; charset=…">`
/// in the first kilobytes.
fn declared_charset(bytes: &[u8]) -> Option<String> {
    let head = &bytes[..bytes.len().min(4096)];
    let lower = head.to_ascii_lowercase();
    let at = lower.windows(8).position(|w| w == b"charset=")?;
    let value: String = lower[at + 8..]
        .iter()
        .skip_while(|b| matches!(b, b'"' | b'\'' | b' '))
        .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b':' | b'.'))
        .map(|&b| b as char)
        .collect();
    (!value.is_empty()).then_some(value)
}

struct Sink {
    state: RefCell<State>,
}

#[derive(Default)]
struct State {
    lines: Lines,
    /// Inside an element whose content is dropped, until its end tag.
    skipping: Option<String>,
    in_title: bool,
    pre: usize,
    title: String,
    language: Option<String>,
    authors: Vec<String>,
    max_depth: usize,
    limit: usize,
}

impl State {
    fn full(&self) -> bool {
        self.lines.len() > self.limit
    }

    fn tag(&mut self, tag: &Tag) -> TokenSinkResult<()> {
        let name: &str = &tag.name;
        let start = tag.kind == TagKind::StartTag;
        if let Some(skipping) = &self.skipping {
            if !start && skipping == name {
                self.skipping = None;
            }
            return TokenSinkResult::Continue;
        }
        match (name, start) {
            ("script", true) => {
                self.skipping = Some("script".into());
                return TokenSinkResult::RawData(RawKind::ScriptData);
            }
            ("style" | "xmp" | "iframe" | "noembed" | "noframes", true) => {
                self.skipping = Some(name.to_owned());
                return TokenSinkResult::RawData(RawKind::Rawtext);
            }
            ("template" | "noscript" | "svg" | "math" | "select", true) if !tag.self_closing => {
                self.skipping = Some(name.to_owned());
            }
            ("textarea", true) => return TokenSinkResult::RawData(RawKind::Rcdata),
            ("title", true) => {
                self.in_title = true;
                return TokenSinkResult::RawData(RawKind::Rcdata);
            }
            ("title", false) => self.in_title = false,
            ("html", true) => {
                if let Some(lang) = attr(tag, "lang").or_else(|| attr(tag, "xml:lang")) {
                    self.language = Some(lang);
                }
            }
            ("meta", true)
                if attr(tag, "name").is_some_and(|n| n.eq_ignore_ascii_case("author")) =>
            {
                if let Some(author) = attr(tag, "content").filter(|a| !a.trim().is_empty()) {
                    self.authors.push(author.trim().to_owned());
                }
            }
            ("br", _) => self.lines.line_break(),
            ("h1" | "h2" | "h3" | "h4" | "h5" | "h6", true) => {
                self.lines.end_all_paras();
                self.lines.start_para();
                self.lines.heading(name.as_bytes()[1] - b'0');
            }
            ("li" | "dt" | "dd", true) => {
                self.lines.end_all_paras();
                self.lines.start_para();
                if name == "li" {
                    self.lines.list_item();
                }
            }
            ("table", true) => {
                self.lines.end_all_paras();
                if self.lines.table_depth() < self.max_depth {
                    self.lines.start_table();
                }
            }
            ("table", false) => {
                self.lines.end_all_paras();
                self.lines.end_table();
            }
            ("tr", true) => {
                self.lines.end_all_paras();
                self.lines.start_row();
            }
            ("tr", false) => self.lines.end_row(),
            ("td" | "th", true) => {
                self.lines.end_all_paras();
                self.lines.start_cell();
            }
            ("td" | "th", false) => self.lines.end_cell(),
            ("pre", true) => {
                self.lines.end_all_paras();
                self.lines.start_para();
                self.pre += 1;
            }
            ("pre", false) => {
                self.pre = self.pre.saturating_sub(1);
                self.lines.end_all_paras();
            }
            (
                "p" | "div" | "section" | "article" | "header" | "footer" | "nav" | "aside"
                | "main" | "blockquote" | "address" | "figure" | "figcaption" | "form" | "fieldset"
                | "legend" | "dl" | "ul" | "ol" | "hr" | "center" | "body" | "caption" | "details"
                | "summary" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "li" | "dt" | "dd",
                _,
            ) => self.lines.end_all_paras(),
            _ => {}
        }
        TokenSinkResult::Continue
    }

    fn text(&mut self, text: &str) {
        if self.in_title {
            if self.title.len() < 4096 {
                self.title.push_str(text);
            }
        } else if self.skipping.is_some() {
        } else if self.pre > 0 {
            let mut lines = text.split('\n').peekable();
            while let Some(line) = lines.next() {
                self.lines.literal(line);
                if lines.peek().is_some() {
                    self.lines.line_break();
                }
            }
        } else {
            self.lines.text(text);
        }
    }
}

fn attr(tag: &Tag, name: &str) -> Option<String> {
    tag.attrs
        .iter()
        .find(|a| &*a.name.local == name || (name == "xml:lang" && &*a.name.local == "lang"))
        .map(|a| a.value.to_string())
}

impl TokenSink for Sink {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        let mut state = self.state.borrow_mut();
        match token {
            Token::TagToken(tag) => state.tag(&tag),
            Token::CharacterTokens(text) => {
                state.text(&text);
                TokenSinkResult::Continue
            }
            _ => TokenSinkResult::Continue,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::ExtractOptions;

    fn text(html: &str) -> Page {
        let options = ExtractOptions::default();
        let budget = Budget::new(&options, html.len(), Default::default());
        render(html, &budget).unwrap()
    }

    #[test]
    fn structure_survives_as_plain_text() {
        let page = text(
            "<html lang=en><head><title>The  Plan</title><style>p{}</style>\
             <script>if (a < b) { alert('x') }</script></head><body>\
             <h2>Plan</h2><p>Ship <b>v2</b> &amp; test</p><ul><li>one<li>two</ul>\
             <table><tr><th>k<th>v<tr><td>a</td><td>1</td></table>\
             <pre>  x = 1\n  y = 2</pre><p>end</p></body></html>",
        );
        assert_eq!(
            page.text,
            "## Plan\nShip v2 & test\n- one\n- two\nk | v\na | 1\n  x = 1\n  y = 2\nend\n"
        );
        assert_eq!(page.title.as_deref(), Some("The Plan"));
        assert_eq!(page.language.as_deref(), Some("en"));
    }

    #[test]
    fn charset_is_read_from_meta() {
        assert_eq!(
            declared_charset(b"<meta charset=\"windows-1252\">").as_deref(),
            Some("windows-1252")
        );
        assert_eq!(
            declared_charset(
                b"<meta http-equiv=Content-Type content='text/html; charset=ISO-8859-1'>"
            )
            .as_deref(),
            Some("iso-8859-1")
        );
    }
}
