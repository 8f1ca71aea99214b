//! How well [`connector_web::main_text`] keeps a page's content and drops
//! its boilerplate, on pages shaped like the templates of mdBook, Sphinx
//! (the basic/alabaster theme) and Docusaurus, against a plain
//! tag-stripping baseline.
//!
//! ```text
//! cargo run --release -p connector-web --example main_text_quality [pages_per_template]
//! ```
//!
//! Each page is generated from two disjoint vocabularies: content words
//! (`cw…`: headings, paragraphs, lists, tables, code) and boilerplate words
//! (`bw…`: navigation, sidebars, tables of contents, breadcrumbs,
//! pagination, footers, cookie banners, "edit this page", skip links). A
//! word of the output is content or boilerplate by its vocabulary, so:
//!
//! - content kept = content words in the output / content words on the page;
//! - boilerplate removed = 1 − boilerplate words in the output / boilerplate
//!   words on the page.
//!
//! A table of contents repeats a page's headings on a real site; here its
//! entries use boilerplate words, so that every word has one class.

#![allow(clippy::unwrap_used)] // an example fails loudly

use std::collections::HashMap;

/// A small deterministic generator (xorshift), so runs compare.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn words(&mut self, prefix: &str, n: usize) -> String {
        (0..n)
            .map(|_| format!("{prefix}{}", self.next() % 500))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The page's main content (the same shape in every template).
fn content(r: &mut Rng) -> String {
    format!(
        "<h2>{}</h2><p>{} <code>{}</code> {}</p><ul><li>{}</li><li>{}</li><li>{}</li></ul>\
         <table><thead><tr><th>{}</th><th>{}</th></tr></thead><tbody><tr><td>{}</td><td>{}</td></tr></tbody></table>\
         <h3>{}</h3><p>{}</p><blockquote><p>{}</p></blockquote>",
        r.words("cw", 3),
        r.words("cw", 40),
        r.words("cw", 1),
        r.words("cw", 30),
        r.words("cw", 8),
        r.words("cw", 8),
        r.words("cw", 8),
        r.words("cw", 2),
        r.words("cw", 2),
        r.words("cw", 4),
        r.words("cw", 4),
        r.words("cw", 3),
        r.words("cw", 50),
        r.words("cw", 20),
    )
}

fn links(r: &mut Rng, n: usize, class: &str) -> String {
    (0..n)
        .map(|i| {
            format!(
                "<li class=\"{class}\"><a href=\"/p{i}.html\">{}</a></li>",
                r.words("bw", 2)
            )
        })
        .collect()
}

fn mdbook(r: &mut Rng) -> String {
    let title = r.words("cw", 2);
    format!(
        "<!DOCTYPE HTML><html lang=\"en\" class=\"light\"><head><meta charset=\"UTF-8\"><title>{title}</title>\
         <script>var path_to_root = \"\";</script></head><body>\
         <div id=\"body-container\"><nav id=\"sidebar\" class=\"sidebar\" aria-label=\"Table of contents\">\
         <div class=\"sidebar-scrollbox\"><ol class=\"chapter\">{}</ol></div></nav>\
         <div id=\"page-wrapper\" class=\"page-wrapper\"><div class=\"page\">\
         <div id=\"menu-bar\" class=\"menu-bar sticky\"><div class=\"left-buttons\"><button id=\"sidebar-toggle\" class=\"icon-button\">{}</button></div>\
         <h1 class=\"menu-title\">{}</h1><div class=\"right-buttons\"><a href=\"print.html\" title=\"Print this book\">{}</a></div></div>\
         <div id=\"content\" class=\"content\"><main><h1 id=\"t\"><a class=\"header\" href=\"#t\">{title}</a></h1>{}\
         <pre><code class=\"language-rust\">fn cw1() {{ cw2(); }}</code></pre></main>\
         <nav class=\"nav-wrapper\" aria-label=\"Page navigation\"><a rel=\"prev\" href=\"a.html\" class=\"mobile-nav-chapters previous\">{}</a></nav>\
         </div></div><nav class=\"nav-wide-wrapper\" aria-label=\"Page navigation\"><a rel=\"next\" href=\"b.html\" class=\"nav-chapters next\">{}</a></nav>\
         </div></div></body></html>",
        links(r, 25, "chapter-item"),
        r.words("bw", 2),
        r.words("bw", 3),
        r.words("bw", 3),
        content(r),
        r.words("bw", 2),
        r.words("bw", 2),
    )
}

fn sphinx(r: &mut Rng) -> String {
    let title = r.words("cw", 2);
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title} &#8212; {}</title></head><body>\
         <div class=\"related\" role=\"navigation\" aria-label=\"related navigation\"><h3>{}</h3><ul>{}</ul></div>\
         <div class=\"document\"><div class=\"documentwrapper\"><div class=\"bodywrapper\"><div class=\"body\" role=\"main\">\
         <section id=\"t\"><h1>{title}<a class=\"headerlink\" href=\"#t\" title=\"Link to this heading\">¶</a></h1>{}\
         <div class=\"highlight-python notranslate\"><div class=\"highlight\"><pre><span class=\"n\">cw3</span> <span class=\"o\">=</span> <span class=\"mi\">1</span>\n</pre></div></div>\
         </section></div></div></div>\
         <div class=\"sphinxsidebar\" role=\"navigation\" aria-label=\"main navigation\"><div class=\"sphinxsidebarwrapper\">\
         <h3><a href=\"index.html\">{}</a></h3><ul>{}</ul>\
         <div id=\"searchbox\" role=\"search\"><h3 id=\"searchlabel\">{}</h3><form class=\"search\" action=\"search.html\"><input type=\"text\" name=\"q\"/><input type=\"submit\" value=\"Go\"/></form></div>\
         </div></div><div class=\"clearer\"></div></div>\
         <div class=\"footer\">&#169;{}. {}</div></body></html>",
        r.words("bw", 2),
        r.words("bw", 1),
        links(r, 4, "right"),
        content(r),
        r.words("bw", 3),
        links(r, 15, "toctree-l1"),
        r.words("bw", 2),
        r.words("bw", 3),
        r.words("bw", 4),
    )
}

fn docusaurus(r: &mut Rng) -> String {
    let title = r.words("cw", 2);
    format!(
        "<!doctype html><html lang=\"en\" dir=\"ltr\"><head><meta charset=\"UTF-8\"><title>{title} | {}</title></head><body>\
         <div class=\"cookie-consent-banner\" role=\"dialog\"><p>{}</p><button>{}</button></div>\
         <div id=\"__docusaurus\"><div role=\"region\" aria-label=\"Skip to main content\"><a class=\"skipToContent_fXgn\" href=\"#__docusaurus_skipToContent_fallback\">{}</a></div>\
         <nav aria-label=\"Main\" class=\"navbar navbar--fixed-top\"><div class=\"navbar__inner\"><div class=\"navbar__items\"><a class=\"navbar__brand\" href=\"/\"><b class=\"navbar__title\">{}</b></a>{}</div></div></nav>\
         <div id=\"__docusaurus_skipToContent_fallback\" class=\"main-wrapper mainWrapper_z2l0\"><div class=\"docsWrapper_hBAB\"><div class=\"docRoot_UBD9\">\
         <aside class=\"theme-doc-sidebar-container docSidebarContainer_YfHR\"><div class=\"sidebarViewport_aRkj\"><div class=\"sidebar_njMd\"><nav aria-label=\"Docs sidebar\" class=\"menu thin-scrollbar menu_SIkG\"><ul class=\"theme-doc-sidebar-menu menu__list\">{}</ul></nav></div></div></aside>\
         <main class=\"docMainContainer_TBSr\"><div class=\"container padding-top--md padding-bottom--lg\"><div class=\"row\"><div class=\"col docItemCol_VOVn\"><div class=\"docItemContainer_Djhp\"><article>\
         <nav class=\"theme-doc-breadcrumbs breadcrumbsContainer_Z_bl\" aria-label=\"Breadcrumbs\"><ul class=\"breadcrumbs\">{}</ul></nav>\
         <div class=\"theme-doc-markdown markdown\"><header><h1>{title}</h1></header>{}\
         <div class=\"language-bash codeBlockContainer_Ckt0\"><div class=\"codeBlockContent_biex\"><pre tabindex=\"0\" class=\"prism-code language-bash codeBlock_bY9V\"><code class=\"codeBlockLines_e6Vv\"><span class=\"token-line\">cw4 cw5</span></code></pre></div></div></div>\
         <footer class=\"theme-doc-footer docusaurus-mt-lg\"><div class=\"row margin-top--sm theme-doc-footer-edit-meta-row\"><div class=\"col\"><a href=\"https://github.com/x/edit\" class=\"theme-edit-this-page\">{}</a></div></div></footer></article>\
         <nav class=\"pagination-nav docusaurus-mt-lg\" aria-label=\"Docs pages\"><a class=\"pagination-nav__link pagination-nav__link--prev\" href=\"/a\"><div class=\"pagination-nav__sublabel\">{}</div><div class=\"pagination-nav__label\">{}</div></a></nav>\
         </div></div><div class=\"col col--3\"><div class=\"tableOfContents_bqdL thin-scrollbar theme-doc-toc-desktop\"><ul class=\"table-of-contents table-of-contents__left-border\">{}</ul></div></div></div></div></main>\
         </div></div></div><footer class=\"footer footer--dark\"><div class=\"container container-fluid\"><div class=\"row footer__links\">{}</div><div class=\"footer__copyright\">{}</div></div></footer></div></body></html>",
        r.words("bw", 2),
        r.words("bw", 12),
        r.words("bw", 1),
        r.words("bw", 4),
        r.words("bw", 2),
        links(r, 5, "navbar__item"),
        links(r, 20, "theme-doc-sidebar-item-link menu__list-item"),
        links(r, 3, "breadcrumbs__item"),
        content(r),
        r.words("bw", 3),
        r.words("bw", 1),
        r.words("bw", 2),
        links(r, 4, "table-of-contents__link"),
        links(r, 9, "footer__item"),
        r.words("bw", 5),
    )
}

/// A help-centre page that marks nothing: no `main`, no `article`, no
/// landmark roles; the heuristic falls back to link density.
fn unmarked(r: &mut Rng) -> String {
    let title = r.words("cw", 2);
    format!(
        "<html><head><title>{title}</title></head><body>\
         <div id=\"top\"><a href=\"/\">{}</a> | <a href=\"/help\">{}</a> | <a href=\"/contact\">{}</a></div>\
         <table width=\"100%\"><tr><td class=\"left\" valign=\"top\"><ul>{}</ul></td>\
         <td class=\"entry\"><h1>{title}</h1>{}<p>{} <a href=\"/x\">{}</a> {}</p></td></tr></table>\
         <div class=\"bottom\"><p>{}</p><p><a href=\"/privacy\">{}</a> <a href=\"/terms\">{}</a></p></div></body></html>",
        r.words("bw", 1),
        r.words("bw", 1),
        r.words("bw", 1),
        links(r, 12, "item"),
        content(r),
        r.words("cw", 20),
        r.words("cw", 2),
        r.words("cw", 10),
        r.words("bw", 10),
        r.words("bw", 2),
        r.words("bw", 2),
    )
}

/// The baseline: every tag removed (script and style content too), entities left.
fn strip_tags(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        out.push(' ');
        let lower = rest[start..].to_ascii_lowercase();
        let skip_to = if lower.starts_with("<script") {
            lower.find("</script>").map(|e| e + "</script>".len())
        } else if lower.starts_with("<style") {
            lower.find("</style>").map(|e| e + "</style>".len())
        } else {
            rest[start..].find('>').map(|e| e + 1)
        };
        match skip_to {
            Some(n) => rest = &rest[start + n..],
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

fn count(text: &str, prefix: &str) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for word in text.split(|c: char| !c.is_ascii_alphanumeric()) {
        if word.starts_with(prefix)
            && word.len() > prefix.len()
            && word[prefix.len()..].chars().all(|c| c.is_ascii_digit())
        {
            *counts.entry(word.to_owned()).or_insert(0) += 1;
        }
    }
    counts
}

/// (content words kept, content words on the page, boilerplate words kept, on the page).
fn score(page: &str, out: &str) -> (usize, usize, usize, usize) {
    // What a reader sees: the body (the <title> is metadata, kept apart).
    let body = page.split_once("</head>").map_or(page, |(_, b)| b);
    let truth_c = count(&strip_tags(body), "cw");
    let truth_b = count(&strip_tags(body), "bw");
    let got_c = count(out, "cw");
    let got_b = count(out, "bw");
    let kept_c: usize = truth_c
        .iter()
        .map(|(w, n)| got_c.get(w).copied().unwrap_or(0).min(*n))
        .sum();
    let kept_b: usize = truth_b
        .iter()
        .map(|(w, n)| got_b.get(w).copied().unwrap_or(0).min(*n))
        .sum();
    (
        kept_c,
        truth_c.values().sum(),
        kept_b,
        truth_b.values().sum(),
    )
}

fn main() {
    let pages: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(50);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    type Template = fn(&mut Rng) -> String;
    let templates: [(&str, Template); 4] = [
        ("mdBook", mdbook),
        ("Sphinx", sphinx),
        ("Docusaurus", docusaurus),
        ("unmarked", unmarked),
    ];
    println!("{pages} pages per template; content kept / boilerplate removed (higher is better)");
    println!(
        "{:<12} {:>22} {:>22}",
        "template", "main_text", "tag stripping"
    );
    for (name, template) in templates {
        let mut ours = (0, 0, 0, 0);
        let mut base = (0, 0, 0, 0);
        for _ in 0..pages {
            let page = template(&mut rng);
            for (acc, out) in [
                (&mut ours, connector_web::main_text(&page)),
                (&mut base, strip_tags(&page)),
            ] {
                let s = score(&page, &out);
                acc.0 += s.0;
                acc.1 += s.1;
                acc.2 += s.2;
                acc.3 += s.3;
            }
        }
        let show = |s: (usize, usize, usize, usize)| {
            format!(
                "{:>6.1}% / {:>6.1}%",
                100.0 * s.0 as f64 / s.1.max(1) as f64,
                100.0 - 100.0 * s.2 as f64 / s.3.max(1) as f64
            )
        };
        println!("{name:<12} {:>22} {:>22}", show(ours), show(base));
    }
}
