//! Property tests: the converters take any input without panicking, and
//! the text of well-formed documents survives conversion.
#![allow(clippy::unwrap_used)]

use connector_jira::adf::adf_to_text;
use connector_jira::wiki::wiki_to_text;
use proptest::prelude::*;
use serde_json::{Value, json};

const NODE_TYPES: &[&str] = &[
    "doc",
    "paragraph",
    "heading",
    "bulletList",
    "orderedList",
    "listItem",
    "taskList",
    "taskItem",
    "decisionList",
    "decisionItem",
    "table",
    "tableRow",
    "tableHeader",
    "tableCell",
    "codeBlock",
    "blockquote",
    "panel",
    "expand",
    "nestedExpand",
    "rule",
    "mediaSingle",
    "mediaGroup",
    "media",
    "blockCard",
    "embedCard",
    "inlineCard",
    "text",
    "hardBreak",
    "mention",
    "emoji",
    "date",
    "status",
    "placeholder",
    "mediaInline",
    "extension",
    "layoutSection",
    "layoutColumn",
    "unknownThing",
];

/// Any JSON, biased towards ADF-shaped objects with odd attrs.
fn adf_like() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
        (prop::sample::select(NODE_TYPES), ".{0,12}")
            .prop_map(|(t, text)| json!({"type": t, "text": text})),
    ];
    leaf.prop_recursive(6, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            (
                prop::sample::select(NODE_TYPES),
                prop::collection::vec(inner.clone(), 0..6),
                inner.clone(),
                inner,
            )
                .prop_map(|(t, content, a, b)| {
                    json!({"type": t, "content": content,
                           "attrs": {"level": a, "order": b, "text": "x", "timestamp": "1", "state": "DONE", "url": "u"},
                           "marks": [{"type": "link", "attrs": {"href": "h"}}]})
                }),
        ]
    })
}

proptest! {
    #[test]
    fn adf_never_panics(doc in adf_like()) {
        let _ = adf_to_text(&doc);
    }

    #[test]
    fn adf_paragraph_text_survives(words in prop::collection::vec("[a-zA-Z0-9]{1,10}", 1..20)) {
        let content: Vec<Value> = words
            .iter()
            .map(|w| json!({"type": "paragraph", "content": [{"type": "text", "text": w}]}))
            .collect();
        let text = adf_to_text(&json!({"type": "doc", "version": 1, "content": content}));
        for w in &words {
            prop_assert!(text.contains(w.as_str()));
        }
    }

    #[test]
    fn wiki_never_panics(markup in "(?s).{0,200}") {
        let _ = wiki_to_text(&markup);
    }

    #[test]
    fn wiki_markup_soup_never_panics(parts in prop::collection::vec(
        prop::sample::select(vec!["*", "_", "[", "]", "|", "!", "{", "}", "{code}", "{quote}", "h1. ", "# ", "** ", "\n", "bq. ", "[~", "é", " ", "a", "----", "{{", "}}"]), 0..60)) {
        let _ = wiki_to_text(&parts.concat());
    }
}
