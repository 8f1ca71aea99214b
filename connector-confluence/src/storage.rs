//! Confluence storage format (the XHTML a page body is saved in) → plain
//! text that keeps the structure a reader needs: paragraphs, headings,
//! lists (bullet, ordered, task, decision), tables (one row per line, cells
//! separated by ` | `), code blocks, panels, expands, links, mentions,
//! attachments, emoticons, dates, status lozenges and Jira issue keys.
//!
//! The conversion runs on a real XML tokenizer (`quick-xml`) driving a
//! streaming state machine: no recursion, nesting capped at
//! [`DEFAULT_MAX_DEPTH`] open elements, and no input — unclosed tags, stray
//! end tags, unknown entities, truncated CDATA, random bytes — makes it
//! panic. Malformed markup degrades the way a browser would degrade it.
//! Headings, list items (bullet, numbered, task) and code blocks are
//! written by core's rich-text writer (`connector_core::text::rich`), so
//! they read as they do from every other source; character references are
//! read with core's HTML5 table (`connector_core::text::decode_entities`).
//!
//! What becomes of each construct:
//!
//! | storage format | text |
//! |---|---|
//! | `<h2>` | `## ` + heading |
//! | `<p>`, `<div>`, layouts | blocks separated by a blank line |
//! | `<br/>` | a line break |
//! | `<ul>` / `<ol start="n">` | `- ` / `n. ` items, nested lists indented |
//! | `<ac:task-list>` | `- [ ] ` / `- [x] ` items |
//! | `<table>` | one line per row, cells separated by ` \| ` |
//! | `code` / `noformat` macro, `<pre>` | fenced with ```` ``` ```` (and the language), verbatim |
//! | `info` / `note` / `warning` / `tip` macro | `Info: ` / `Note: ` / … + body |
//! | `panel` / `expand` macro | title (if any), then body |
//! | `<ac:link>` | link body, else page title, file name, `@account-id` |
//! | `<ac:image>` | the file name (or URL) |
//! | `<ac:emoticon>` | its emoji, else `:name:` |
//! | `<time datetime>` | the date |
//! | `jira` macro | the issue key |
//! | `status` macro | `[TITLE]` |
//! | `<a href>` | text, and the URL in parentheses when it differs |
//! | `toc`, `children`, `anchor`, … macros, `ac:parameter`, `ac:placeholder` | nothing |
//!
//! Unknown elements keep their text; unknown macros keep their rich-text
//! body (or, failing that, their plain-text body).
//!
//! ```
//! use connector_confluence::storage::storage_to_text;
//!
//! let xhtml = r#"<h2>Rollout</h2>
//! <ol><li>Deploy to <ac:link><ri:page ri:content-title="Staging" /></ac:link></li>
//! <li>Ask <ac:link><ri:user ri:account-id="5b10ac8d82e05b22cc7d4ef5" /><ac:plain-text-link-body><![CDATA[Mia Krystof]]></ac:plain-text-link-body></ac:link></li></ol>
//! <ac:structured-macro ac:name="note"><ac:rich-text-body><p>Freeze starts&nbsp;Friday.</p></ac:rich-text-body></ac:structured-macro>"#;
//! assert_eq!(
//!     storage_to_text(xhtml),
//!     "## Rollout\n\n1. Deploy to Staging\n2. Ask Mia Krystof\n\nNote: Freeze starts Friday."
//! );
//! ```

use std::borrow::Cow;
use std::collections::HashMap;

use quick_xml::Reader;
use quick_xml::events::{BytesRef, BytesStart, Event};

use connector_core::text::decode_entities;
use connector_core::text::rich::{Block, RichText};

/// The marker of a decision item, and the indent of its further lines.
const DECISION: &str = "- Decision: ";
const DECISION_INDENT: &str = "            ";

/// A mention of someone whose name could not be found.
const UNKNOWN_PERSON: &str = "@unknown user";

/// The people a storage-format document mentions: `(account id or user
/// key, is a user key)` for each `<ri:user ri:account-id>` (Cloud) and
/// `<ri:user ri:userkey>` (Data Center), repeats included. A plain scan of
/// the attributes, so it costs nothing next to the conversion.
///
/// ```
/// use connector_confluence::storage::mentioned_people;
/// let xhtml = r#"<ac:link><ri:user ri:account-id="5b10ac8d" /></ac:link><ri:user ri:userkey='8a7f808a' />"#;
/// assert_eq!(mentioned_people(xhtml), [("5b10ac8d".to_owned(), false), ("8a7f808a".to_owned(), true)]);
/// ```
pub fn mentioned_people(xhtml: &str) -> Vec<(String, bool)> {
    let mut found = Vec::new();
    for (attribute, is_key) in [("ri:account-id=", false), ("ri:userkey=", true)] {
        let mut rest = xhtml;
        while let Some(at) = rest.find(attribute) {
            rest = rest[at + attribute.len()..].trim_start();
            let Some(quote) = rest.chars().next().filter(|c| matches!(c, '"' | '\'')) else {
                continue;
            };
            rest = &rest[1..];
            let Some(end) = rest.find(quote) else {
                break;
            };
            let id = unescape(rest[..end].trim());
            if !id.trim().is_empty() {
                found.push((id.trim().to_owned(), is_key));
            }
            rest = &rest[end + 1..];
        }
    }
    found
}

/// How many elements may be open at once before deeper start tags are
/// ignored (their text is still kept). Bounds the work per end tag.
pub const DEFAULT_MAX_DEPTH: usize = 256;

/// The text of a storage-format document, with the default options.
///
/// Never panics; malformed input gives best-effort text.
///
/// ```
/// use connector_confluence::storage::storage_to_text;
///
/// let xhtml = concat!(
///     r#"<p>Build with <code>cargo</code>:</p>"#,
///     r#"<ac:structured-macro ac:name="code" ac:schema-version="1">"#,
///     r#"<ac:parameter ac:name="language">bash</ac:parameter>"#,
///     r#"<ac:plain-text-body><![CDATA[cargo build --release]]></ac:plain-text-body>"#,
///     r#"</ac:structured-macro>"#,
///     r#"<table><tbody><tr><th>Owner</th><th>State</th></tr>"#,
///     r#"<tr><td>Ada</td><td><ac:structured-macro ac:name="status">"#,
///     r#"<ac:parameter ac:name="colour">Green</ac:parameter>"#,
///     r#"<ac:parameter ac:name="title">DONE</ac:parameter>"#,
///     r#"</ac:structured-macro></td></tr></tbody></table>"#,
/// );
/// assert_eq!(
///     storage_to_text(xhtml),
///     "Build with cargo:\n\n```bash\ncargo build --release\n```\n\nOwner | State\nAda | [DONE]"
/// );
/// ```
pub fn storage_to_text(xhtml: &str) -> String {
    StorageToText::new().convert(xhtml)
}

/// A storage-format → text converter with options.
///
/// ```
/// use connector_confluence::storage::StorageToText;
///
/// let to_text = StorageToText::new().link_urls(false);
/// let xhtml = r#"<p>See <a href="https://example.com/runbook">the runbook</a>.</p>"#;
/// assert_eq!(to_text.convert(xhtml), "See the runbook.");
/// assert_eq!(
///     StorageToText::new().convert(xhtml),
///     "See the runbook (https://example.com/runbook)."
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageToText {
    link_urls: bool,
    max_depth: usize,
    people: Option<HashMap<String, String>>,
}

impl Default for StorageToText {
    fn default() -> Self {
        Self::new()
    }
}

impl StorageToText {
    /// The defaults: link URLs shown, nesting capped at [`DEFAULT_MAX_DEPTH`].
    pub fn new() -> Self {
        Self {
            link_urls: true,
            max_depth: DEFAULT_MAX_DEPTH,
            people: None,
        }
    }

    /// Name mentioned people: `people` maps account ids (Cloud) and user
    /// keys (Data Center) to display names, and a mention of someone not in
    /// it reads `@unknown user`. Without it a mention shows the raw id.
    ///
    /// ```
    /// use connector_confluence::storage::StorageToText;
    /// let xhtml = r#"<p>Ask <ac:link><ri:user ri:account-id="5b10ac8d82e05b22cc7d4ef5" /></ac:link> or <ac:link><ri:user ri:account-id="70121:1d2e" /></ac:link>.</p>"#;
    /// let people = [("5b10ac8d82e05b22cc7d4ef5".to_owned(), "Mia Krystof".to_owned())].into();
    /// assert_eq!(StorageToText::new().people(people).convert(xhtml), "Ask @Mia Krystof or @unknown user.");
    /// assert_eq!(StorageToText::new().convert(xhtml), "Ask @5b10ac8d82e05b22cc7d4ef5 or @70121:1d2e.");
    /// ```
    pub fn people(mut self, people: HashMap<String, String>) -> Self {
        self.people = Some(people);
        self
    }

    /// Whether an `<a href>` whose text differs from its URL is written as
    /// `text (url)` (the default) or as `text` alone.
    pub fn link_urls(mut self, show: bool) -> Self {
        self.link_urls = show;
        self
    }

    /// How many elements may be open at once; deeper start tags are ignored
    /// (their text is kept).
    pub fn max_depth(mut self, depth: usize) -> Self {
        self.max_depth = depth;
        self
    }

    /// The text of a storage-format document (or fragment).
    pub fn convert(&self, xhtml: &str) -> String {
        let mut converter = Converter::new(self, xhtml.len());
        converter.run(xhtml);
        converter.finish()
    }
}

// ---------------------------------------------------------------------------
// Tokens → events, with recovery from what the tokenizer rejects.

impl Converter<'_> {
    fn run(&mut self, input: &str) {
        let mut base = 0usize;
        'restart: while let Some(rest) = input.get(base..) {
            let mut reader = Reader::from_str(rest);
            let config = reader.config_mut();
            config.check_end_names = false;
            config.allow_unmatched_ends = true;
            config.allow_dangling_amp = true;
            loop {
                let at = to_usize(reader.buffer_position());
                match reader.read_event() {
                    Ok(Event::Start(e)) => {
                        if !valid_name(e.name().as_ref()) {
                            // `a < b`: not a tag, as a browser reads it.
                            self.text("<");
                            base += at + 1;
                            continue 'restart;
                        }
                        self.start(&e, false);
                    }
                    Ok(Event::Empty(e)) => {
                        if !valid_name(e.name().as_ref()) {
                            self.text("<");
                            base += at + 1;
                            continue 'restart;
                        }
                        self.start(&e, true);
                    }
                    Ok(Event::End(e)) => self.end(e.name().as_ref()),
                    // Text and CDATA are slices of the input, which is
                    // UTF-8 already: take them from it, unvalidated again.
                    Ok(Event::Text(t)) => {
                        let end = to_usize(reader.buffer_position());
                        self.text(&slice_of(rest, end, 0, &t));
                    }
                    Ok(Event::CData(t)) => {
                        let end = to_usize(reader.buffer_position());
                        self.text(&slice_of(rest, end, "]]>".len(), &t));
                    }
                    Ok(Event::GeneralRef(r)) => self.reference(&r),
                    Ok(Event::Eof) => break 'restart,
                    Ok(_) => {}
                    Err(_) => {
                        let at = to_usize(reader.error_position());
                        let bad = rest.get(at..).unwrap_or("");
                        if !bad.starts_with('<') {
                            // Not an error this recovery knows: stop here.
                            break 'restart;
                        }
                        if let Some(cdata) = bad.strip_prefix("<![CDATA[") {
                            // Truncated CDATA: its text, verbatim.
                            self.text(cdata);
                            break 'restart;
                        }
                        if bad.starts_with("<!--") {
                            break 'restart;
                        }
                        match bad.as_bytes().get(1) {
                            Some(&b)
                                if b.is_ascii_alphabetic()
                                    || b"/!?_:".contains(&b)
                                    || b >= 0x80 =>
                            {
                                // Broken markup: skip to its end, if it has one.
                                match bad.find('>') {
                                    Some(gt) => base += at + gt + 1,
                                    None => break 'restart,
                                }
                            }
                            _ => {
                                self.text("<");
                                base += at + 1;
                            }
                        }
                        continue 'restart;
                    }
                }
            }
        }
        while !self.open.is_empty() {
            self.close_element();
        }
    }
}

/// `content` as the slice of `input` it was read from (ending `tail` bytes
/// before `end`), so it need not be validated as UTF-8 again.
fn slice_of<'i>(input: &'i str, end: usize, tail: usize, content: &[u8]) -> Cow<'i, str> {
    let found = end
        .checked_sub(tail + content.len())
        .and_then(|start| input.get(start..end - tail))
        .filter(|s| s.as_bytes() == content);
    match found {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Owned(String::from_utf8_lossy(content).into_owned()),
    }
}

fn to_usize(position: u64) -> usize {
    usize::try_from(position).unwrap_or(usize::MAX)
}

/// A name a browser would read as a tag: it starts with a letter.
fn valid_name(name: &[u8]) -> bool {
    name.first()
        .is_some_and(|&b| b.is_ascii_alphabetic() || b == b'_' || b == b':' || b >= 0x80)
}

// ---------------------------------------------------------------------------
// Element vocabulary.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag {
    /// Unknown or formatting element: its text flows on.
    Inline,
    /// Starts and ends a block.
    Block,
    /// HTML void element without text (`<col>`, `<input>`, …).
    Void,
    Br,
    Hr,
    Img,
    Heading(u8),
    Pre,
    Blockquote,
    Ul,
    Ol,
    Li,
    Table,
    Tr,
    Cell,
    A,
    Time,
    /// Its content is dropped.
    Discard,
    Macro,
    Param,
    PlainBody,
    Link,
    Image,
    Emoticon,
    TaskList,
    Task,
    TaskStatus,
    AdfExtension,
    AdfNode,
    AdfAttribute,
    AdfFallback,
    Resource(Ri),
}

/// `ri:` resource identifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ri {
    Page,
    Attachment,
    User,
    Space,
    Url,
    Other,
}

fn classify(name: &[u8]) -> Tag {
    let mut lower = [0u8; 32];
    let Some(slot) = lower.get_mut(..name.len()) else {
        return Tag::Inline;
    };
    for (d, s) in slot.iter_mut().zip(name) {
        *d = s.to_ascii_lowercase();
    }
    match &*slot {
        b"p" | b"div" | b"section" | b"article" | b"header" | b"footer" | b"nav" | b"aside"
        | b"main" | b"figure" | b"figcaption" | b"address" | b"center" | b"dl" | b"dt" | b"dd"
        | b"details" | b"summary" | b"form" | b"fieldset" | b"legend" | b"body" | b"html"
        | b"caption" | b"ac:layout" | b"ac:layout-section" | b"ac:layout-cell"
        | b"ac:rich-text-body" => Tag::Block,
        b"col" | b"input" | b"meta" | b"link" | b"wbr" | b"area" | b"base" | b"embed"
        | b"source" | b"track" | b"param" => Tag::Void,
        b"br" => Tag::Br,
        b"hr" => Tag::Hr,
        b"img" => Tag::Img,
        b"h1" => Tag::Heading(1),
        b"h2" => Tag::Heading(2),
        b"h3" => Tag::Heading(3),
        b"h4" => Tag::Heading(4),
        b"h5" => Tag::Heading(5),
        b"h6" => Tag::Heading(6),
        b"pre" => Tag::Pre,
        b"blockquote" => Tag::Blockquote,
        b"ul" | b"menu" | b"dir" => Tag::Ul,
        b"ol" => Tag::Ol,
        b"li" => Tag::Li,
        b"table" => Tag::Table,
        b"tr" => Tag::Tr,
        b"td" | b"th" => Tag::Cell,
        b"a" => Tag::A,
        b"time" => Tag::Time,
        b"script"
        | b"style"
        | b"head"
        | b"template"
        | b"noscript"
        | b"ac:placeholder"
        | b"ac:task-id"
        | b"ac:task-uuid"
        | b"ac:adf-parameter"
        | b"ac:adf-parameter-value" => Tag::Discard,
        b"ac:structured-macro" | b"ac:macro" => Tag::Macro,
        b"ac:parameter" | b"ac:default-parameter" => Tag::Param,
        b"ac:plain-text-body" => Tag::PlainBody,
        b"ac:link" => Tag::Link,
        b"ac:image" => Tag::Image,
        b"ac:emoticon" => Tag::Emoticon,
        b"ac:task-list" => Tag::TaskList,
        b"ac:task" => Tag::Task,
        b"ac:task-status" => Tag::TaskStatus,
        b"ac:adf-extension" => Tag::AdfExtension,
        b"ac:adf-node" => Tag::AdfNode,
        b"ac:adf-attribute" => Tag::AdfAttribute,
        b"ac:adf-fallback" => Tag::AdfFallback,
        b"ri:page" | b"ri:blog-post" => Tag::Resource(Ri::Page),
        b"ri:attachment" => Tag::Resource(Ri::Attachment),
        b"ri:user" => Tag::Resource(Ri::User),
        b"ri:space" => Tag::Resource(Ri::Space),
        b"ri:url" => Tag::Resource(Ri::Url),
        other if other.starts_with(b"ri:") => Tag::Resource(Ri::Other),
        _ => Tag::Inline,
    }
}

/// Case-insensitive key of an element name, to match end tags to start tags.
fn name_key(name: &[u8]) -> u64 {
    // FNV-1a.
    name.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(b.to_ascii_lowercase())).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Macros that show nothing a reader of the text needs (navigation,
/// generated listings, raw HTML).
const HIDDEN_MACROS: &[&str] = &[
    "toc",
    "children",
    "anchor",
    "pagetree",
    "pagetreesearch",
    "recently-updated",
    "recently-updated-dashboard",
    "contentbylabel",
    "content-by-label",
    "blog-posts",
    "livesearch",
    "include",
    "excerpt-include",
    "attachments",
    "gallery",
    "space-details",
    "create-from-template",
    "content-report-table",
    "tasks-report-macro",
    "task-report",
    "index",
    "navmap",
    "listlabels",
    "popular-labels",
    "related-labels",
    "recently-used-labels",
    "spaces",
    "rss",
    "network",
    "profile-picture",
    "html",
    "html-include",
    "iframe",
    "widget",
];

/// Macros that embed one attachment, named by their `name` parameter.
const FILE_MACROS: &[&str] = &[
    "view-file",
    "viewfile",
    "viewpdf",
    "viewdoc",
    "viewxls",
    "viewppt",
    "multimedia",
];

// ---------------------------------------------------------------------------
// The state machine.

/// One open element.
struct Open {
    key: u64,
    tag: Tag,
    /// Whether it pushed a frame (popped when it closes).
    framed: bool,
}

/// An element whose text is collected apart and rendered when it closes.
struct Frame {
    kind: Kind,
    buf: TextBuf,
}

enum Kind {
    Root,
    Discard,
    Heading(u8),
    Pre,
    Quote,
    List(ListKind),
    Item(Marker),
    TaskStatus,
    Table(Vec<String>),
    Row(Vec<String>),
    Cell,
    Anchor(String),
    Time(String),
    Link {
        target: Option<String>,
        anchor: Option<String>,
    },
    Image {
        target: Option<String>,
        alt: Option<String>,
    },
    Macro(Box<Macro>),
    Param {
        name: String,
        target: Option<String>,
    },
    PlainBody,
    AdfExtension {
        fallback: Option<String>,
    },
    AdfFallback,
    AdfPanel {
        label: Option<&'static str>,
    },
    AdfAttribute {
        key: String,
    },
}

#[derive(Clone, Copy)]
enum ListKind {
    Bullet,
    Ordered { next: u64 },
}

#[derive(Clone, Copy)]
enum Marker {
    Bullet,
    Number(u64),
    Task { done: bool },
    Decision,
}

struct Macro {
    name: String,
    params: Vec<(String, String)>,
    plain: Option<String>,
}

impl Macro {
    fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }
}

struct Converter<'o> {
    options: &'o StorageToText,
    root: Frame,
    frames: Vec<Frame>,
    open: Vec<Open>,
    /// Emptied buffers of closed frames, reused by the next ones.
    spare: Vec<String>,
}

enum Rendered {
    Nothing,
    Inline(String),
    Block(String),
}

impl<'o> Converter<'o> {
    fn new(options: &'o StorageToText, input_len: usize) -> Self {
        let mut root = Frame {
            kind: Kind::Root,
            buf: TextBuf::new(Mode::Collapse),
        };
        root.buf.out.reserve(input_len / 2);
        Self {
            options,
            root,
            frames: Vec::new(),
            open: Vec::new(),
            spare: Vec::new(),
        }
    }

    fn finish(self) -> String {
        self.root.buf.finish()
    }

    /// Keep a buffer for reuse (small ones, a bounded number of them).
    fn recycle(&mut self, mut buffer: String) {
        if buffer.capacity() > 0 && buffer.capacity() <= 1 << 16 && self.spare.len() < 256 {
            buffer.clear();
            self.spare.push(buffer);
        }
    }

    fn top(&mut self) -> &mut Frame {
        match self.frames.last_mut() {
            Some(frame) => frame,
            None => &mut self.root,
        }
    }

    fn text(&mut self, text: &str) {
        self.top().buf.text(text);
    }

    fn reference(&mut self, reference: &BytesRef<'_>) {
        let literal = format!("&{};", String::from_utf8_lossy(reference));
        self.text(&unescape(&literal));
    }

    fn start(&mut self, e: &BytesStart<'_>, empty: bool) {
        let name = e.name();
        let tag = classify(name.as_ref());
        // Elements without text: act now, and never wait for an end tag.
        match tag {
            Tag::Br => return self.top().buf.newline(),
            Tag::Hr => return self.top().buf.append_block("---"),
            Tag::Void => return,
            Tag::Img => {
                if let Some(alt) = attr(e, b"alt").filter(|a| !a.trim().is_empty()) {
                    self.top().buf.append_inline(alt.trim());
                }
                return;
            }
            Tag::Emoticon => {
                let text = attr(e, b"ac:emoji-fallback")
                    .or_else(|| attr(e, b"ac:emoji-shortname"))
                    .filter(|t| !t.trim().is_empty())
                    .or_else(|| {
                        attr(e, b"ac:name")
                            .filter(|n| !n.trim().is_empty())
                            .map(|n| format!(":{}:", n.trim()))
                    });
                if let Some(text) = text {
                    self.top().buf.append_inline(text.trim());
                }
            }
            Tag::Resource(ri) => self.resource(ri, e),
            Tag::Time if empty => {
                if let Some(date) = attr(e, b"datetime") {
                    self.top().buf.append_inline(date.trim());
                }
                return;
            }
            _ => {}
        }
        if empty {
            if matches!(tag, Tag::Emoticon | Tag::Resource(_)) {
                return;
            }
            // `<p/>`, `<td/>`, `<ac:structured-macro ac:name="toc"/>`: open and close.
            if self.open_element(tag, name.as_ref(), e) {
                self.close_element();
            }
        } else {
            self.open_element(tag, name.as_ref(), e);
        }
    }

    /// Push an element (and its frame, if it has one); false when too deep.
    fn open_element(&mut self, tag: Tag, name: &[u8], e: &BytesStart<'_>) -> bool {
        if self.open.len() >= self.options.max_depth {
            return false;
        }
        let kind = match tag {
            Tag::Block => {
                self.top().buf.block();
                None
            }
            Tag::Inline | Tag::Emoticon | Tag::Resource(_) => None,
            Tag::Heading(level) => Some(Kind::Heading(level)),
            Tag::Pre => Some(Kind::Pre),
            Tag::Blockquote => Some(Kind::Quote),
            Tag::Ul => Some(Kind::List(ListKind::Bullet)),
            Tag::Ol => {
                let next = attr(e, b"start")
                    .and_then(|s| s.trim().parse().ok())
                    .unwrap_or(1);
                Some(Kind::List(ListKind::Ordered { next }))
            }
            Tag::TaskList => Some(Kind::List(ListKind::Bullet)),
            Tag::Li => {
                let marker = match &mut self.top().kind {
                    Kind::List(ListKind::Ordered { next }) => {
                        let n = *next;
                        *next = next.saturating_add(1);
                        Marker::Number(n)
                    }
                    _ => Marker::Bullet,
                };
                Some(Kind::Item(marker))
            }
            Tag::Task => Some(Kind::Item(Marker::Task { done: false })),
            Tag::TaskStatus => Some(Kind::TaskStatus),
            Tag::Table => Some(Kind::Table(Vec::new())),
            Tag::Tr => Some(Kind::Row(Vec::new())),
            Tag::Cell => Some(Kind::Cell),
            Tag::A => Some(Kind::Anchor(attr(e, b"href").unwrap_or_default())),
            Tag::Time => Some(Kind::Time(attr(e, b"datetime").unwrap_or_default())),
            Tag::Discard => Some(Kind::Discard),
            Tag::Macro => {
                let name = attr(e, b"ac:name")
                    .unwrap_or_default()
                    .trim()
                    .to_ascii_lowercase();
                Some(Kind::Macro(Box::new(Macro {
                    name,
                    params: Vec::new(),
                    plain: None,
                })))
            }
            Tag::Param => Some(Kind::Param {
                name: attr(e, b"ac:name").unwrap_or_default(),
                target: None,
            }),
            Tag::PlainBody => Some(Kind::PlainBody),
            Tag::Link => Some(Kind::Link {
                target: None,
                anchor: attr(e, b"ac:anchor"),
            }),
            Tag::Image => Some(Kind::Image {
                target: None,
                alt: attr(e, b"ac:alt").or_else(|| attr(e, b"ac:title")),
            }),
            Tag::AdfExtension => Some(Kind::AdfExtension { fallback: None }),
            Tag::AdfFallback => Some(Kind::AdfFallback),
            Tag::AdfAttribute => Some(Kind::AdfAttribute {
                key: attr(e, b"key").unwrap_or_default(),
            }),
            Tag::AdfNode => match attr(e, b"type").as_deref().map(str::trim) {
                Some("panel") => Some(Kind::AdfPanel { label: None }),
                Some("decision-list") => Some(Kind::List(ListKind::Bullet)),
                Some("decision-item") => Some(Kind::Item(Marker::Decision)),
                _ => {
                    self.top().buf.block();
                    None
                }
            },
            // Handled in `start`; never opened.
            Tag::Br | Tag::Hr | Tag::Img | Tag::Void => return false,
        };
        let framed = kind.is_some();
        if let Some(kind) = kind {
            let mode = match kind {
                Kind::Discard => Mode::Discard,
                Kind::Macro(ref m) if HIDDEN_MACROS.contains(&m.name.as_str()) => Mode::Discard,
                Kind::Pre
                | Kind::Param { .. }
                | Kind::PlainBody
                | Kind::TaskStatus
                | Kind::AdfAttribute { .. } => Mode::Raw,
                _ => Mode::Collapse,
            };
            let mut buf = TextBuf::new(mode);
            buf.out = self.spare.pop().unwrap_or_default();
            if matches!(kind, Kind::List(_) | Kind::Item(_)) {
                buf.para = 1;
            }
            self.frames.push(Frame { kind, buf });
        }
        self.open.push(Open {
            key: name_key(name),
            tag,
            framed,
        });
        true
    }

    fn end(&mut self, name: &[u8]) {
        let key = name_key(name);
        // A stray end tag closes nothing; a known one closes what is still
        // open inside it.
        if let Some(index) = self.open.iter().rposition(|o| o.key == key) {
            while self.open.len() > index {
                self.close_element();
            }
        }
    }

    fn close_element(&mut self) {
        let Some(open) = self.open.pop() else {
            return;
        };
        if open.framed {
            if let Some(frame) = self.frames.pop() {
                self.close_frame(frame);
            }
        } else if matches!(open.tag, Tag::Block | Tag::AdfNode) {
            self.top().buf.block();
        }
    }

    /// A `ri:` resource: the target of the link, image or parameter it is in.
    fn resource(&mut self, ri: Ri, e: &BytesStart<'_>) {
        let options = self.options;
        let slot = match &mut self.top().kind {
            Kind::Link { target, .. } | Kind::Image { target, .. } | Kind::Param { target, .. } => {
                target
            }
            _ => return,
        };
        if slot.is_some() {
            // `<ri:attachment><ri:page/></ri:attachment>`: the first one names it.
            return;
        }
        let value = match ri {
            Ri::Page => attr(e, b"ri:content-title"),
            Ri::Attachment => attr(e, b"ri:filename"),
            Ri::User => mention(options.people.as_ref(), e),
            Ri::Space => attr(e, b"ri:space-key"),
            Ri::Url => attr(e, b"ri:value"),
            Ri::Other => None,
        };
        *slot = value.map(|v| one_line(&v)).filter(|v| !v.is_empty());
    }

    fn close_frame(&mut self, frame: Frame) {
        let Frame { kind, buf } = frame;
        let rendered = match kind {
            Kind::Root | Kind::Discard => {
                self.recycle(buf.out);
                Rendered::Nothing
            }
            Kind::Heading(level) => {
                let text = one_line_owned(buf.finish());
                if text.is_empty() {
                    Rendered::Nothing
                } else {
                    let heading = rich(|t| {
                        t.begin(Block::Heading(level));
                        t.text(&text);
                        t.end();
                    });
                    self.recycle(text);
                    Rendered::Block(heading)
                }
            }
            Kind::Pre => fence(None, &buf.out),
            Kind::Quote => {
                let text = buf.finish();
                if text.is_empty() {
                    Rendered::Nothing
                } else {
                    Rendered::Block(prefix_lines(&text, "> ", "> "))
                }
            }
            Kind::List(_) => Rendered::Block(buf.finish()),
            Kind::Item(marker) => {
                let text = buf.finish();
                if text.is_empty() {
                    Rendered::Nothing
                } else {
                    let (start, item) = match marker {
                        Marker::Bullet => (None, Some(Block::Item)),
                        Marker::Number(n) => (Some(n), Some(Block::Item)),
                        Marker::Task { done } => (None, Some(Block::Task { done })),
                        // Confluence's decisions have no rich-text block.
                        Marker::Decision => (None, None),
                    };
                    match item {
                        Some(item) => Rendered::Block(rich(|t| {
                            t.begin(Block::List {
                                ordered: start.is_some(),
                                start: start.unwrap_or(1),
                            });
                            t.begin(item);
                            t.block(&text);
                            t.end();
                            t.end();
                        })),
                        None => Rendered::Block(prefix_lines(&text, DECISION, DECISION_INDENT)),
                    }
                }
            }
            Kind::TaskStatus => {
                if let Kind::Item(Marker::Task { done }) = &mut self.top().kind {
                    *done = buf.out.trim().eq_ignore_ascii_case("complete");
                }
                self.recycle(buf.out);
                Rendered::Nothing
            }
            Kind::Cell => {
                let text = one_line_owned(buf.finish());
                if let Kind::Row(cells) = &mut self.top().kind {
                    cells.push(text);
                    Rendered::Nothing
                } else {
                    Rendered::Block(text)
                }
            }
            Kind::Row(mut cells) => {
                let stray = one_line_owned(buf.finish());
                if !stray.is_empty() {
                    cells.push(stray);
                }
                if cells.iter().all(String::is_empty) {
                    Rendered::Nothing
                } else {
                    let mut line = self.spare.pop().unwrap_or_default();
                    for (i, cell) in cells.drain(..).enumerate() {
                        if i > 0 {
                            line.push_str(" | ");
                        }
                        line.push_str(&cell);
                        self.recycle(cell);
                    }
                    if let Kind::Table(rows) = &mut self.top().kind {
                        rows.push(line);
                        Rendered::Nothing
                    } else {
                        Rendered::Block(line)
                    }
                }
            }
            Kind::Table(mut rows) => {
                let stray = buf.finish();
                if !stray.is_empty() {
                    rows.push(stray);
                }
                let mut table = self.spare.pop().unwrap_or_default();
                for (i, row) in rows.drain(..).enumerate() {
                    if i > 0 {
                        table.push('\n');
                    }
                    table.push_str(&row);
                    self.recycle(row);
                }
                Rendered::Block(table)
            }
            Kind::Anchor(href) => self.render_anchor(&buf.finish(), href.trim()),
            Kind::Time(datetime) => {
                let datetime = datetime.trim();
                if datetime.is_empty() {
                    Rendered::Inline(buf.finish())
                } else {
                    Rendered::Inline(datetime.to_owned())
                }
            }
            Kind::Link { target, anchor } => {
                let text = buf.finish();
                if !text.is_empty() {
                    Rendered::Inline(text)
                } else if let Some(target) = target {
                    Rendered::Inline(target)
                } else {
                    Rendered::Inline(anchor.map(|a| one_line(&a)).unwrap_or_default())
                }
            }
            Kind::Image { target, alt } => {
                let name = target
                    .or_else(|| alt.map(|a| one_line(&a)))
                    .unwrap_or_default();
                let caption = buf.finish();
                match (name.is_empty(), caption.is_empty()) {
                    (_, true) => Rendered::Inline(name),
                    (true, false) => Rendered::Inline(caption),
                    (false, false) => Rendered::Inline(format!("{name} {caption}")),
                }
            }
            Kind::Macro(m) => render_macro(*m, buf.finish()),
            Kind::Param { name, target } => {
                if let Kind::Macro(m) = &mut self.top().kind {
                    let mut value = one_line(&buf.out);
                    if value.is_empty() {
                        value = target.unwrap_or_default();
                    }
                    m.params.push((name, value));
                }
                self.recycle(buf.out);
                Rendered::Nothing
            }
            Kind::PlainBody => {
                let text = buf.out;
                if let Kind::Macro(m) = &mut self.top().kind {
                    match &mut m.plain {
                        Some(plain) => plain.push_str(&text),
                        None => m.plain = Some(text),
                    }
                    Rendered::Nothing
                } else {
                    verbatim(&text)
                }
            }
            Kind::AdfExtension { fallback } => {
                let content = buf.finish();
                if content.is_empty() {
                    Rendered::Block(fallback.unwrap_or_default())
                } else {
                    Rendered::Block(content)
                }
            }
            Kind::AdfFallback => {
                let text = buf.finish();
                if let Kind::AdfExtension { fallback } = &mut self.top().kind {
                    *fallback = Some(text);
                    Rendered::Nothing
                } else {
                    Rendered::Block(text)
                }
            }
            Kind::AdfPanel { label } => labelled(label, None, buf.finish()),
            Kind::AdfAttribute { key } => {
                if key.trim() == "panel-type"
                    && let Kind::AdfPanel { label } = &mut self.top().kind
                {
                    *label = panel_label(buf.out.trim());
                }
                self.recycle(buf.out);
                Rendered::Nothing
            }
        };
        let parent = &mut self.top().buf;
        match rendered {
            Rendered::Nothing => {}
            Rendered::Inline(text) => {
                parent.append_inline(&text);
                self.recycle(text);
            }
            Rendered::Block(text) => {
                parent.append_block(&text);
                self.recycle(text);
            }
        }
    }

    fn render_anchor(&self, text: &str, href: &str) -> Rendered {
        let internal = href.is_empty() || href.starts_with('#');
        if text.is_empty() {
            return if internal {
                Rendered::Nothing
            } else {
                Rendered::Inline(href.to_owned())
            };
        }
        let same = href == text || href.strip_prefix("mailto:") == Some(text);
        if internal || same || !self.options.link_urls {
            Rendered::Inline(text.to_owned())
        } else {
            Rendered::Inline(format!("{text} ({href})"))
        }
    }
}

fn render_macro(m: Macro, body: String) -> Rendered {
    let name = m.name.as_str();
    match name {
        "code" | "noformat" | "code-block" | "codeblock" => {
            let language = if name == "noformat" {
                None
            } else {
                m.param("language").or_else(|| m.param(""))
            };
            match &m.plain {
                Some(code) => fence(language, code),
                None => fence(language, &body),
            }
        }
        "info" | "note" | "warning" | "tip" => {
            let label = panel_label(name);
            labelled(label, m.param("title"), body)
        }
        "panel" | "expand" => labelled(None, m.param("title"), body),
        "status" => match m.param("title").map(one_line) {
            Some(title) if !title.is_empty() => Rendered::Inline(format!("[{title}]")),
            _ => Rendered::Nothing,
        },
        "jira" => match m.param("key").or_else(|| m.param("")) {
            Some(key) => Rendered::Inline(key.to_owned()),
            None => Rendered::Nothing,
        },
        _ if FILE_MACROS.contains(&name) => match m.param("name") {
            Some(file) => Rendered::Inline(file.to_owned()),
            None => Rendered::Nothing,
        },
        _ if HIDDEN_MACROS.contains(&name) => Rendered::Nothing,
        _ => {
            if !body.is_empty() {
                Rendered::Block(body)
            } else if let Some(plain) = &m.plain {
                verbatim(plain)
            } else {
                Rendered::Nothing
            }
        }
    }
}

fn panel_label(kind: &str) -> Option<&'static str> {
    match kind {
        "info" => Some("Info"),
        "note" => Some("Note"),
        "warning" => Some("Warning"),
        "tip" => Some("Tip"),
        "error" => Some("Error"),
        "success" => Some("Success"),
        _ => None,
    }
}

/// `Label: title` then the body, or `Label: body`; without a label, the
/// title then the body.
fn labelled(label: Option<&str>, title: Option<&str>, body: String) -> Rendered {
    let title = title.map(one_line).filter(|t| !t.is_empty());
    let head = match (label, title) {
        (Some(label), Some(title)) => Some(format!("{label}: {title}")),
        (None, Some(title)) => Some(title),
        (Some(label), None) => {
            return if body.is_empty() {
                Rendered::Nothing
            } else {
                Rendered::Block(format!("{label}: {body}"))
            };
        }
        (None, None) => None,
    };
    match head {
        Some(head) if body.is_empty() => Rendered::Block(head),
        Some(head) => Rendered::Block(format!("{head}\n\n{body}")),
        None => Rendered::Block(body),
    }
}

/// A fenced code block; nothing for empty code.
fn fence(language: Option<&str>, code: &str) -> Rendered {
    let code = code.trim_start_matches(['\n', '\r']).trim_end();
    if code.is_empty() {
        return Rendered::Nothing;
    }
    Rendered::Block(rich(|t| {
        t.begin(Block::Code {
            language: language.map(one_line),
        });
        t.raw(code);
        t.end();
    }))
}

/// Text from core's rich-text writer: headings, list items and code read
/// as they do from every other source (Jira's ADF, SharePoint pages).
fn rich(build: impl FnOnce(&mut RichText)) -> String {
    let mut t = RichText::new();
    build(&mut t);
    t.finish()
}

/// Plain text kept as it is, without its surrounding blank lines.
fn verbatim(text: &str) -> Rendered {
    let text = text.trim_start_matches(['\n', '\r']).trim_end();
    if text.is_empty() {
        Rendered::Nothing
    } else {
        Rendered::Block(text.to_owned())
    }
}

/// Prefix the first line with `first` and the others with `rest` (empty
/// lines get the prefix without trailing spaces).
fn prefix_lines(text: &str, first: &str, rest: &str) -> String {
    let mut out = String::with_capacity(text.len() + first.len() + 8);
    for (i, line) in text.split('\n').enumerate() {
        let prefix = if i == 0 { first } else { rest };
        if i > 0 {
            out.push('\n');
        }
        if line.is_empty() {
            out.push_str(prefix.trim_end());
        } else {
            out.push_str(prefix);
            out.push_str(line);
        }
    }
    out
}

/// [`one_line`], reusing `text` when it already is one line.
fn one_line_owned(text: String) -> String {
    let mut previous_space = true; // no leading space
    let already = text.chars().all(|c| {
        let ok = if c == ' ' {
            !previous_space
        } else {
            !c.is_whitespace()
        };
        previous_space = c == ' ';
        ok
    }) && !text.ends_with(' ');
    if already { text } else { one_line(&text) }
}

/// All whitespace runs as single spaces, on one line.
fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// A `<ri:user>`: the person's name when known, else their user name,
/// else a readable stand-in (the raw id when no names were given).
fn mention(people: Option<&HashMap<String, String>>, e: &BytesStart<'_>) -> Option<String> {
    let given = |name: &[u8]| {
        attr(e, name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let ids = [given(b"ri:account-id"), given(b"ri:userkey")];
    if let Some(name) = ids
        .iter()
        .flatten()
        .find_map(|id| people.and_then(|p| p.get(id)))
    {
        return Some(format!("@{name}"));
    }
    if let Some(user) = given(b"ri:username") {
        return Some(format!("@{user}"));
    }
    let [account, key] = ids;
    let id = account.or(key)?;
    Some(match people {
        Some(_) => UNKNOWN_PERSON.to_owned(),
        None => format!("@{id}"),
    })
}

// ---------------------------------------------------------------------------
// Attributes and entities.

/// An attribute's value, entities resolved; `None` when absent.
fn attr(e: &BytesStart<'_>, name: &[u8]) -> Option<String> {
    for attribute in e.html_attributes().with_checks(false).flatten() {
        if attribute.key.as_ref().eq_ignore_ascii_case(name) {
            return Some(match std::str::from_utf8(&attribute.value) {
                Ok(value) => unescape(value),
                Err(_) => unescape(&String::from_utf8_lossy(&attribute.value)),
            });
        }
    }
    None
}

/// Resolve character references (`&name;`, `&#n;`) in an attribute value
/// with core's HTML5 table; unknown ones stay as written.
fn unescape(raw: &str) -> String {
    plain_spaces(decode_entities(raw).into_owned())
}

/// `&nbsp;` and the other space characters read as plain spaces, as a
/// reader of the text expects (code keeps them too).
fn plain_spaces(text: String) -> String {
    if text
        .chars()
        .any(|c| c != ' ' && c.is_whitespace() && !c.is_ascii())
    {
        text.chars()
            .map(|c| {
                if c.is_whitespace() && !c.is_ascii() {
                    ' '
                } else {
                    c
                }
            })
            .collect()
    } else {
        text
    }
}

// ---------------------------------------------------------------------------
// Text accumulation.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Whitespace collapsed as a browser does; blocks separated by breaks.
    Collapse,
    /// Kept verbatim (code, parameters).
    Raw,
    /// Dropped.
    Discard,
}

struct TextBuf {
    out: String,
    mode: Mode,
    /// Line breaks between blocks: 2 (a blank line) or 1 (inside lists).
    para: u8,
    /// Line breaks owed before the next text.
    pending: u8,
    /// A space owed before the next text.
    space: bool,
}

impl TextBuf {
    fn new(mode: Mode) -> Self {
        Self {
            out: String::new(),
            mode,
            para: 2,
            pending: 0,
            space: false,
        }
    }

    fn text(&mut self, text: &str) {
        match self.mode {
            Mode::Discard => {}
            Mode::Raw => push_raw(&mut self.out, text),
            Mode::Collapse => {
                // Words are copied whole; each whitespace run (ASCII or
                // Unicode, `&nbsp;` included) owes one space.
                let bytes = text.as_bytes();
                let mut word_start = 0;
                let mut i = 0;
                while let Some(&b) = bytes.get(i) {
                    let space_len = if b < 0x80 {
                        usize::from(matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0B | 0x0C))
                    } else {
                        match text.get(i..).and_then(|t| t.chars().next()) {
                            Some(c) if c.is_whitespace() => c.len_utf8(),
                            Some(c) => {
                                i += c.len_utf8();
                                continue;
                            }
                            None => break,
                        }
                    };
                    if space_len == 0 {
                        i += 1;
                        continue;
                    }
                    if let Some(word) = text.get(word_start..i).filter(|w| !w.is_empty()) {
                        self.flush();
                        self.out.push_str(word);
                    }
                    self.space = true;
                    i += space_len;
                    word_start = i;
                }
                if let Some(word) = text.get(word_start..).filter(|w| !w.is_empty()) {
                    self.flush();
                    self.out.push_str(word);
                }
            }
        }
    }

    /// Pay the breaks or the space owed before new text.
    fn flush(&mut self) {
        if self.pending > 0 {
            let kept = self.out.trim_end_matches([' ', '\t', '\n']).len();
            self.out.truncate(kept);
            if !self.out.is_empty() {
                for _ in 0..self.pending {
                    self.out.push('\n');
                }
            }
            self.pending = 0;
            self.space = false;
        } else if self.space {
            if !self.out.is_empty() && !self.out.ends_with('\n') {
                self.out.push(' ');
            }
            self.space = false;
        }
    }

    /// A block boundary.
    fn block(&mut self) {
        if self.mode == Mode::Collapse {
            self.pending = self.pending.max(self.para);
            self.space = false;
        }
    }

    /// `<br/>`.
    fn newline(&mut self) {
        match self.mode {
            Mode::Discard => {}
            Mode::Raw => self.out.push('\n'),
            Mode::Collapse => {
                self.space = false;
                if self.pending == 0 && !self.out.is_empty() {
                    self.out.push('\n');
                }
            }
        }
    }

    fn append_inline(&mut self, text: &str) {
        match self.mode {
            Mode::Discard => {}
            Mode::Raw => self.out.push_str(text),
            Mode::Collapse => {
                if !text.is_empty() {
                    self.flush();
                    self.out.push_str(text);
                }
            }
        }
    }

    fn append_block(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        match self.mode {
            Mode::Discard => {}
            Mode::Raw => {
                if !self.out.is_empty() && !self.out.ends_with('\n') {
                    self.out.push('\n');
                }
                self.out.push_str(text);
            }
            Mode::Collapse => {
                self.block();
                self.flush();
                self.out.push_str(text);
                self.block();
            }
        }
    }

    /// The collected text without surrounding blank space.
    fn finish(mut self) -> String {
        let kept = self.out.trim_end().len();
        self.out.truncate(kept);
        let leading = self.out.len() - self.out.trim_start_matches('\n').len();
        if leading > 0 {
            self.out.drain(..leading);
        }
        self.out
    }
}

/// Verbatim text with line endings normalised to `\n`.
fn push_raw(out: &mut String, text: &str) {
    if text.contains('\r') {
        out.push_str(&text.replace("\r\n", "\n").replace('\r', "\n"));
    } else {
        out.push_str(text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entities_resolve_or_stay_as_written() {
        assert_eq!(
            unescape("a&amp;b &rsquo; &#233;&#xE9; &bogus; & x"),
            "a&b \u{2019} éé &bogus; & x"
        );
        assert_eq!(unescape("&#xD800;&#0;&#x;&#;"), "\u{FFFD}\u{FFFD}&#x;&#;");
        assert_eq!(
            unescape("&#99999999999; &nbsp;&ensp;x"),
            "&#99999999999;   x"
        );
    }

    #[test]
    fn names_classify_case_insensitively() {
        assert_eq!(classify(b"AC:Structured-Macro"), Tag::Macro);
        assert_eq!(classify(b"H3"), Tag::Heading(3));
        assert_eq!(classify(&[b'x'; 64]), Tag::Inline);
        assert_eq!(name_key(b"P"), name_key(b"p"));
    }
}
