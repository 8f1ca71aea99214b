//! An HTML page → its metadata, its links and its main text.
//!
//! The page is parsed by `scraper` (html5ever, the HTML5 parsing algorithm
//! browsers use), so broken markup reads as a browser would read it. The
//! main text is chosen by a heuristic that the `main_text_quality` example
//! measures on documentation-site templates:
//!
//! 1. the root is the page's `<main>` (or `role="main"`), else its largest
//!    `<article>`, else `<body>`;
//! 2. inside it, boilerplate is skipped: `nav`, `aside`, `footer`, forms,
//!    scripts, hidden elements, ARIA landmarks other than the main one
//!    (`navigation`, `banner`, `contentinfo`, `complementary`, `search`,
//!    `dialog`), and elements whose class or id names a navigation bar,
//!    sidebar, breadcrumb, pagination, table of contents, cookie or consent
//!    banner, announcement, "edit this page" or heading anchor;
//! 3. without a `<main>` or `<article>`, page headers are skipped too, and
//!    any block whose text is mostly link text (a menu, a link list) goes;
//! 4. what is left is written with core's [`RichText`]: headings, lists,
//!    tables, quotes and code blocks keep their structure.

use std::collections::HashMap;

use connector_core::text::rich::{Block, RichText};
use ego_tree::NodeId;
use scraper::node::Node;
use scraper::{ElementRef, Html};
use url::Url;

/// What a page says about itself, its links and its main text.
#[derive(Debug, Clone, Default)]
pub(crate) struct PageContent {
    pub title: Option<String>,
    pub description: Option<String>,
    pub language: Option<String>,
    /// `<link rel="canonical">`, resolved.
    pub canonical: Option<Url>,
    /// Every `<a href>` (and `<area href>`), resolved, in document order.
    pub links: Vec<Url>,
    /// `<meta name="robots" content="noindex">`.
    pub noindex: bool,
    /// `<meta name="robots" content="nofollow">`.
    pub nofollow: bool,
    /// The main text (see the module docs).
    pub text: String,
}

/// Read `html`, served at `url`.
pub(crate) fn read_page(html: &str, url: &Url) -> PageContent {
    let doc = Html::parse_document(html);
    let mut page = PageContent::default();
    let mut base = url.clone();
    let mut meta_robots = String::new();
    for node in doc.tree.nodes() {
        let Some(el) = ElementRef::wrap(node) else {
            continue;
        };
        let e = el.value();
        match e.name() {
            "base" => {
                if let Some(b) = e.attr("href").and_then(|h| url.join(h).ok()) {
                    base = b;
                }
            }
            "title" if page.title.is_none() => {
                let t = squash(&el.text().collect::<String>());
                if !t.is_empty() {
                    page.title = Some(t);
                }
            }
            "html" => page.language = e.attr("lang").map(|l| l.trim().to_owned()),
            "meta" => {
                let name = e
                    .attr("name")
                    .or_else(|| e.attr("property"))
                    .unwrap_or("")
                    .to_ascii_lowercase();
                let content = e.attr("content").unwrap_or("");
                match name.as_str() {
                    "description" | "og:description" if page.description.is_none() => {
                        page.description = Some(squash(content));
                    }
                    "robots" => {
                        meta_robots.push_str(&content.to_ascii_lowercase());
                        meta_robots.push(',');
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
    page.noindex = meta_robots.contains("noindex") || meta_robots.contains("none");
    page.nofollow = meta_robots.contains("nofollow") || meta_robots.contains("none");
    for node in doc.tree.nodes() {
        let Some(el) = ElementRef::wrap(node) else {
            continue;
        };
        let e = el.value();
        match e.name() {
            "a" | "area" => {
                if let Some(link) = e.attr("href").and_then(|h| join(&base, h)) {
                    page.links.push(link);
                }
            }
            "link" if page.canonical.is_none() => {
                let canonical = e.attr("rel").is_some_and(|r| {
                    r.split_ascii_whitespace()
                        .any(|t| t.eq_ignore_ascii_case("canonical"))
                });
                if canonical {
                    page.canonical = e.attr("href").and_then(|h| join(&base, h));
                }
            }
            _ => {}
        }
    }
    page.text = main_text_of(&doc);
    page
}

/// A link as a URL, or `None` for `javascript:`, `mailto:` and the like.
fn join(base: &Url, href: &str) -> Option<Url> {
    let href = href.trim();
    if href.is_empty() || href.starts_with('#') {
        return None;
    }
    let url = base.join(href).ok()?;
    matches!(url.scheme(), "http" | "https").then_some(url)
}

/// Collapse white space.
fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The main text of an HTML page, by the heuristic of the module docs.
///
/// ```
/// let html = r##"<html><body>
///   <nav><a href="/">Home</a> <a href="/docs">Docs</a></nav>
///   <main><h1>Install</h1><p>Run the installer.</p>
///   <pre><code class="language-sh">./install.sh</code></pre></main>
///   <footer>© Acme</footer></body></html>"##;
/// assert_eq!(
///     connector_web::main_text(html),
///     "# Install\n\nRun the installer.\n\n```sh\n./install.sh\n```"
/// );
/// ```
pub fn main_text(html: &str) -> String {
    main_text_of(&Html::parse_document(html))
}

fn main_text_of(doc: &Html) -> String {
    let (root, explicit) = choose_root(doc);
    let stats = if explicit {
        HashMap::new()
    } else {
        link_stats(root)
    };
    write_text(root, explicit, &stats)
}

/// The subtree holding the main text, and whether the page marked it
/// (`main`, `role=main`, `article`) rather than it being the whole body.
fn choose_root(doc: &Html) -> (ElementRef<'_>, bool) {
    let mut main: Option<ElementRef<'_>> = None;
    let mut article: Option<(usize, ElementRef<'_>)> = None;
    let mut body: Option<ElementRef<'_>> = None;
    for node in doc.tree.nodes() {
        let Some(el) = ElementRef::wrap(node) else {
            continue;
        };
        let e = el.value();
        match e.name() {
            "main" if main.is_none() => main = Some(el),
            "body" if body.is_none() => body = Some(el),
            "article" => {
                let len = el.text().map(str::len).sum::<usize>();
                if article.as_ref().is_none_or(|(l, _)| len > *l) {
                    article = Some((len, el));
                }
            }
            _ if main.is_none() && e.attr("role") == Some("main") => main = Some(el),
            _ => {}
        }
    }
    if let Some(main) = main {
        return (main, true);
    }
    if let Some((_, article)) = article {
        return (article, true);
    }
    (body.unwrap_or_else(|| doc.root_element()), false)
}

/// Text length and link text length of every element under `root`.
fn link_stats(root: ElementRef<'_>) -> HashMap<NodeId, (usize, usize)> {
    use ego_tree::iter::Edge;
    let mut stats = HashMap::new();
    // (node, text, link text, inside a link)
    let mut stack: Vec<(NodeId, usize, usize, bool)> = Vec::new();
    for edge in root.traverse() {
        match edge {
            Edge::Open(node) => match node.value() {
                Node::Element(e) => {
                    let in_link = stack.last().is_some_and(|f| f.3) || e.name() == "a";
                    stack.push((node.id(), 0, 0, in_link));
                }
                Node::Text(t) => {
                    if let Some(top) = stack.last_mut() {
                        let n = t.trim().len();
                        top.1 += n;
                        if top.3 {
                            top.2 += n;
                        }
                    }
                }
                _ => {}
            },
            Edge::Close(node) => {
                if matches!(node.value(), Node::Element(_))
                    && let Some((id, text, link, _)) = stack.pop()
                {
                    stats.insert(id, (text, link));
                    if let Some(parent) = stack.last_mut() {
                        parent.1 += text;
                        parent.2 += link;
                    }
                }
            }
        }
    }
    stats
}

/// Class and id words that name boilerplate.
const BOILERPLATE_WORDS: &[&str] = &[
    "navbar",
    "navigation",
    "sidebar",
    "breadcrumb",
    "pagination",
    "pager",
    "footer",
    "cookie",
    "consent",
    "gdpr",
    "announcement",
    "skip-link",
    "skip-to",
    "skiplink",
    "headerlink",
    "hash-link",
    "edit-this-page",
    "editthispage",
    "table-of-contents",
    "tableofcontents",
    "social",
    "newsletter",
    "advert",
    "masthead",
    "topbar",
    "site-header",
    "nav-",
    "-nav",
    "nav_",
    "_nav",
];

/// Whether one class token or id names boilerplate.
fn boilerplate_word(token: &str) -> bool {
    let t = token.to_ascii_lowercase();
    if matches!(
        t.as_str(),
        "nav" | "toc" | "menu" | "related" | "share" | "banner" | "sphinxsidebar"
    ) {
        return true;
    }
    if t.starts_with("toc-")
        || t.starts_with("toc_")
        || t.starts_with("menu-")
        || t.starts_with("menu_")
        || t.ends_with("-menu")
        || t.ends_with("-toc")
    {
        return true;
    }
    BOILERPLATE_WORDS.iter().any(|w| t.contains(w))
}

/// Whether `el` (inside the main root) is boilerplate to skip whole.
fn skipped(el: &scraper::node::Element, explicit: bool) -> bool {
    match el.name() {
        "script" | "style" | "noscript" | "template" | "svg" | "head" | "iframe" | "object"
        | "canvas" | "nav" | "aside" | "footer" | "form" | "button" | "select" | "input"
        | "textarea" | "dialog" | "img" | "video" | "audio" => return true,
        "header" if !explicit => return true,
        _ => {}
    }
    if el.attr("hidden").is_some() || el.attr("aria-hidden") == Some("true") {
        return true;
    }
    if let Some(style) = el.attr("style") {
        let style: String = style.chars().filter(|c| !c.is_whitespace()).collect();
        if style.contains("display:none") || style.contains("visibility:hidden") {
            return true;
        }
    }
    if let Some(role) = el.attr("role")
        && matches!(
            role.trim(),
            "navigation"
                | "banner"
                | "contentinfo"
                | "complementary"
                | "search"
                | "dialog"
                | "alertdialog"
        )
    {
        return true;
    }
    el.classes().any(boilerplate_word) || el.id().is_some_and(boilerplate_word)
}

/// Link-heavy blocks dropped when the page marks no main content.
fn link_heavy(stats: &HashMap<NodeId, (usize, usize)>, id: NodeId, name: &str) -> bool {
    if !matches!(
        name,
        "div" | "ul" | "ol" | "section" | "table" | "p" | "dl" | "header" | "td"
    ) {
        return false;
    }
    match stats.get(&id) {
        Some(&(text, link)) if text > 0 => link * 2 > text,
        _ => false,
    }
}

/// The code block's language from `language-x`, `lang-x` or `highlight-x`
/// classes of the `pre` or its `code`.
fn code_language(pre: ElementRef<'_>) -> Option<String> {
    let mut classes: Vec<&str> = pre.value().classes().collect();
    if let Some(code) = pre
        .children()
        .filter_map(ElementRef::wrap)
        .find(|c| c.value().name() == "code")
    {
        classes.extend(code.value().classes());
    }
    if let Some(parent) = pre.parent().and_then(ElementRef::wrap) {
        classes.extend(parent.value().classes());
    }
    classes.iter().find_map(|c| {
        ["language-", "lang-", "highlight-"]
            .iter()
            .find_map(|p| c.strip_prefix(p))
            .filter(|l| !l.is_empty() && *l != "default" && *l != "none")
            .map(str::to_owned)
    })
}

/// Write the text under `root`, skipping boilerplate.
fn write_text(
    root: ElementRef<'_>,
    explicit: bool,
    stats: &HashMap<NodeId, (usize, usize)>,
) -> String {
    use ego_tree::iter::Edge;
    let mut out = RichText::new();
    // Per open element: whether it began a block.
    let mut opened: Vec<bool> = Vec::new();
    // The element whose subtree is being skipped.
    let mut skipping: Option<NodeId> = None;
    for edge in root.traverse() {
        match edge {
            Edge::Open(node) => {
                if skipping.is_some() {
                    continue;
                }
                match node.value() {
                    Node::Text(t) => out.text(&t.text),
                    Node::Element(e) => {
                        let is_root = node.id() == root.id();
                        if !is_root
                            && (skipped(e, explicit)
                                || (!explicit && link_heavy(stats, node.id(), e.name())))
                        {
                            skipping = Some(node.id());
                            continue;
                        }
                        let block = match e.name() {
                            "h1" => Some(Block::Heading(1)),
                            "h2" => Some(Block::Heading(2)),
                            "h3" => Some(Block::Heading(3)),
                            "h4" => Some(Block::Heading(4)),
                            "h5" => Some(Block::Heading(5)),
                            "h6" => Some(Block::Heading(6)),
                            "p" | "div" | "section" | "article" | "main" | "dd" | "dt"
                            | "figcaption" | "details" | "summary" | "header" | "address"
                            | "body" | "dl" | "figure" => Some(Block::Paragraph),
                            "ul" | "menu" => Some(Block::List {
                                ordered: false,
                                start: 1,
                            }),
                            "ol" => Some(Block::List {
                                ordered: true,
                                start: e
                                    .attr("start")
                                    .and_then(|s| s.trim().parse().ok())
                                    .unwrap_or(1),
                            }),
                            "li" => Some(Block::Item),
                            "blockquote" => Some(Block::Quote),
                            "table" => Some(Block::Table),
                            "tr" => Some(Block::Row),
                            "td" | "th" => Some(Block::Cell),
                            "pre" => {
                                if let Some(pre) = ElementRef::wrap(node) {
                                    out.begin(Block::Code {
                                        language: code_language(pre),
                                    });
                                    let code: String = pre.text().collect();
                                    out.raw(code.trim_end_matches('\n'));
                                    out.end();
                                }
                                skipping = Some(node.id());
                                continue;
                            }
                            "br" => {
                                out.line_break();
                                None
                            }
                            "hr" => {
                                out.rule();
                                None
                            }
                            _ => None,
                        };
                        let began = block.is_some();
                        if let Some(block) = block {
                            out.begin(block);
                        }
                        opened.push(began);
                    }
                    _ => {}
                }
            }
            Edge::Close(node) => {
                if skipping == Some(node.id()) {
                    skipping = None;
                    continue;
                }
                if skipping.is_some() || !matches!(node.value(), Node::Element(_)) {
                    continue;
                }
                if opened.pop() == Some(true) {
                    out.end();
                }
            }
        }
    }
    out.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url() -> Url {
        Url::parse("https://docs.example.com/guide/intro.html").expect("a URL")
    }

    #[test]
    fn metadata_links_and_canonical() {
        let html = r##"<!doctype html><html lang="en-GB"><head>
            <title> Intro  — Guide </title>
            <meta name="description" content="How to start.">
            <meta name="robots" content="noindex">
            <link rel="canonical" href="/guide/intro">
            </head><body><main><p>Hello <a href="next.html#x">next</a>
            <a href="mailto:a@b.c">mail</a> <a href="javascript:void(0)">js</a>
            <a href="https://other.example.org/">out</a></p></main></body></html>"##;
        let page = read_page(html, &url());
        assert_eq!(page.title.as_deref(), Some("Intro — Guide"));
        assert_eq!(page.description.as_deref(), Some("How to start."));
        assert_eq!(page.language.as_deref(), Some("en-GB"));
        assert_eq!(
            page.canonical.as_ref().map(Url::as_str),
            Some("https://docs.example.com/guide/intro")
        );
        assert!(page.noindex && !page.nofollow);
        let links: Vec<&str> = page.links.iter().map(Url::as_str).collect();
        assert_eq!(
            links,
            [
                "https://docs.example.com/guide/next.html#x",
                "https://other.example.org/"
            ]
        );
        assert_eq!(page.text, "Hello next mail js out");
    }

    #[test]
    fn boilerplate_goes_structure_stays() {
        let html = r##"<html><body>
          <div class="cookie-banner">We use cookies. Accept all</div>
          <header class="site-header"><a href="/">Acme Docs</a></header>
          <div class="layout"><nav class="sidebar"><ul><li><a href="/a">A</a></li></ul></nav>
          <main><article>
            <h1>Configure<a class="headerlink" href="#c">¶</a></h1>
            <p>Set the <code>port</code>.</p>
            <ul><li>one</li><li>two</li></ul>
            <table><tr><th>Key</th><th>Default</th></tr><tr><td>port</td><td>80</td></tr></table>
            <pre class="language-toml">port = 80
</pre>
            <div class="pagination-nav"><a href="/prev">Previous</a></div>
          </article></main></div>
          <footer>© 2026 Acme</footer>
          <script>var tracking = 1;</script></body></html>"##;
        assert_eq!(
            main_text(html),
            "# Configure\n\nSet the port.\n\n- one\n- two\n\nKey | Default\nport | 80\n\n```toml\nport = 80\n```"
        );
    }

    #[test]
    fn without_main_link_lists_go() {
        let html = r##"<html><body>
          <div id="top"><a href="/">Home</a> | <a href="/blog">Blog</a> | <a href="/about">About</a></div>
          <div class="post"><h2>Release 2.0</h2><p>Faster sync and a new
          <a href="/api">API</a> for hosts that embed the library.</p></div>
          <ul><li><a href="/1">Older post one</a></li><li><a href="/2">Older post two</a></li></ul>
          </body></html>"##;
        assert_eq!(
            main_text(html),
            "## Release 2.0\n\nFaster sync and a new API for hosts that embed the library."
        );
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let html = format!("{}text{}", "<div>".repeat(3_000), "</div>".repeat(3_000));
        assert_eq!(main_text(&html), "text");
    }
}
