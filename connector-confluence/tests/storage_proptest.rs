//! Property tests: the storage-format converter takes any input without
//! panicking, and the text of well-formed paragraphs survives conversion.
#![allow(clippy::unwrap_used)]

use connector_confluence::storage::{StorageToText, storage_to_text};
use proptest::prelude::*;

/// Pieces of storage format: tags (opening, closing, self-closing, broken),
/// macro and resource markup, CDATA, entities and text.
const VOCABULARY: &[&str] = &[
    "<p>",
    "</p>",
    "<p/>",
    "<h1>",
    "</h1>",
    "<h3>",
    "</h3>",
    "<br/>",
    "<br>",
    "<hr/>",
    "<ul>",
    "</ul>",
    "<ol start=\"3\">",
    "</ol>",
    "<li>",
    "</li>",
    "<table>",
    "</table>",
    "<tbody>",
    "<tr>",
    "</tr>",
    "<td>",
    "</td>",
    "<th>",
    "<td/>",
    "<pre>",
    "</pre>",
    "<blockquote>",
    "</blockquote>",
    "<strong>",
    "</strong>",
    "<a href=\"https://e.com\">",
    "<a href=\"#x\">",
    "</a>",
    "<time datetime=\"2024-01-02\" />",
    "<time datetime=\"2024-01-02\">",
    "</time>",
    "<ac:structured-macro ac:name=\"code\">",
    "<ac:structured-macro ac:name=\"info\">",
    "<ac:structured-macro ac:name=\"expand\">",
    "<ac:structured-macro ac:name=\"status\">",
    "<ac:structured-macro ac:name=\"jira\">",
    "<ac:structured-macro ac:name=\"toc\"/>",
    "<ac:structured-macro ac:name=\"panel\">",
    "<ac:structured-macro ac:name=\"mystery\">",
    "</ac:structured-macro>",
    "<ac:parameter ac:name=\"title\">",
    "<ac:parameter ac:name=\"key\">",
    "<ac:parameter ac:name=\"language\">",
    "</ac:parameter>",
    "<ac:rich-text-body>",
    "</ac:rich-text-body>",
    "<ac:plain-text-body>",
    "</ac:plain-text-body>",
    "<![CDATA[code < & >]]>",
    "<![CDATA[",
    "]]>",
    "<ac:link>",
    "</ac:link>",
    "<ri:page ri:content-title=\"Page\" />",
    "<ri:user ri:account-id=\"abc\" />",
    "<ri:attachment ri:filename=\"f.png\">",
    "</ri:attachment>",
    "<ac:link-body>",
    "</ac:link-body>",
    "<ac:plain-text-link-body>",
    "</ac:plain-text-link-body>",
    "<ac:image>",
    "</ac:image>",
    "<ac:emoticon ac:name=\"smile\" ac:emoji-fallback=\"&#128578;\" />",
    "<ac:placeholder>",
    "</ac:placeholder>",
    "<ac:task-list>",
    "</ac:task-list>",
    "<ac:task>",
    "</ac:task>",
    "<ac:task-status>complete</ac:task-status>",
    "<ac:task-body>",
    "</ac:task-body>",
    "<ac:adf-extension>",
    "</ac:adf-extension>",
    "<ac:adf-node type=\"panel\">",
    "</ac:adf-node>",
    "<ac:adf-attribute key=\"panel-type\">",
    "</ac:adf-attribute>",
    "<ac:adf-content>",
    "<ac:adf-fallback>",
    "</ac:adf-fallback>",
    "&nbsp;",
    "&amp;",
    "&mdash;",
    "&bogus;",
    "&#x1F600;",
    "&#xD800;",
    "&",
    "<",
    ">",
    "</",
    "<!--",
    "-->",
    "<!X",
    "\"",
    " ",
    "\n",
    "text",
    "é",
    "</P>",
    "<P>",
];

proptest! {
    #[test]
    fn never_panics_on_any_string(input in "(?s).{0,300}") {
        let _ = storage_to_text(&input);
    }

    #[test]
    fn never_panics_on_tag_soup(parts in prop::collection::vec(prop::sample::select(VOCABULARY), 0..120)) {
        let input = parts.concat();
        let _ = storage_to_text(&input);
        let _ = StorageToText::new().max_depth(4).link_urls(false).convert(&input);
    }

    #[test]
    fn paragraph_text_survives(words in prop::collection::vec("[a-zA-Z0-9]{1,10}", 1..20)) {
        let xhtml: String = words.iter().map(|w| format!("<p>{w}</p>")).collect();
        let text = storage_to_text(&xhtml);
        prop_assert_eq!(text, words.join("\n\n"));
    }

    #[test]
    fn text_in_any_block_survives(
        words in prop::collection::vec("[a-zA-Z0-9]{1,10}", 1..12),
        wrappers in prop::collection::vec(prop::sample::select(vec![
            ("<p>", "</p>"),
            ("<li>", "</li>"),
            ("<ul><li>", "</li></ul>"),
            ("<table><tr><td>", "</td></tr></table>"),
            ("<blockquote>", "</blockquote>"),
            ("<h2>", "</h2>"),
            ("<strong>", "</strong>"),
            ("<ac:structured-macro ac:name=\"info\"><ac:rich-text-body>", "</ac:rich-text-body></ac:structured-macro>"),
            ("<ac:structured-macro ac:name=\"expand\"><ac:parameter ac:name=\"title\">T</ac:parameter><ac:rich-text-body>", "</ac:rich-text-body></ac:structured-macro>"),
            ("<ac:layout><ac:layout-section><ac:layout-cell>", "</ac:layout-cell></ac:layout-section></ac:layout>"),
        ]), 1..6),
    ) {
        let mut xhtml = String::new();
        for (i, w) in words.iter().enumerate() {
            let (open, close) = wrappers[i % wrappers.len()];
            xhtml.push_str(open);
            xhtml.push_str(w);
            xhtml.push_str(close);
        }
        let text = storage_to_text(&xhtml);
        for w in &words {
            prop_assert!(text.contains(w.as_str()), "{w} missing from {text:?}");
        }
    }

    #[test]
    fn parameters_never_leak(value in "[a-z]{12}") {
        let xhtml = format!(
            "<p>a</p><ac:structured-macro ac:name=\"info\"><ac:parameter ac:name=\"icon\">{value}</ac:parameter><ac:rich-text-body><p>b</p></ac:rich-text-body></ac:structured-macro><ac:structured-macro ac:name=\"mystery\"><ac:parameter ac:name=\"x\">{value}</ac:parameter></ac:structured-macro>"
        );
        let text = storage_to_text(&xhtml);
        prop_assert!(!text.contains(&value));
        prop_assert_eq!(text, "a\n\nInfo: b");
    }
}
