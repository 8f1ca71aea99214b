//! Property tests: any JSON where a page, blog post, search result or
//! comment is expected decodes to a record or an error — never a panic —
//! and a decoded record always becomes a document.
#![allow(clippy::unwrap_used)]

use connector_confluence::convert::{
    AttachmentRecord, CommentRecord, ContentRecord, Site, record_to_document,
};
use connector_confluence::model::{V1Content, V2Comment, V2Content};
use connector_confluence::{ContentKind, Deployment, SpaceInfo};
use proptest::prelude::*;
use serde_json::{Value, json};

/// Field names the payloads use, so random objects hit real fields.
const KEYS: &[&str] = &[
    "id",
    "type",
    "status",
    "title",
    "space",
    "spaceId",
    "parentId",
    "parentType",
    "authorId",
    "createdAt",
    "version",
    "number",
    "when",
    "by",
    "displayName",
    "history",
    "createdBy",
    "createdDate",
    "ancestors",
    "body",
    "storage",
    "value",
    "metadata",
    "labels",
    "results",
    "name",
    "children",
    "attachment",
    "extensions",
    "fileSize",
    "mediaType",
    "_links",
    "webui",
    "download",
    "next",
    "key",
];

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|n| json!(n)),
        "[ -~]{0,12}".prop_map(Value::String),
        Just(json!("2024-03-01T12:00:00.000Z")),
        Just(json!("<p>Hello <b>x")),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..8).prop_map(|pairs| {
                Value::Object(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
            }),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_payload_decodes_or_fails_cleanly(raw in any_json(), id in 0u32..100_000) {
        let site = Site::new("https://acme.atlassian.net/wiki", Deployment::Cloud);
        let space = SpaceInfo { id: Some("1".into()), key: "ENG".into(), name: "Engineering".into() };
        // With a valid id, the rest of the item is whatever the generator made.
        let mut with_id = raw.clone();
        if let Some(o) = with_id.as_object_mut() {
            o.insert("id".into(), json!(id.to_string()));
        }
        for candidate in [&raw, &with_id] {
            if let Ok(c) = serde_json::from_value::<V2Content>(candidate.clone()) {
                let record = ContentRecord::from_v2(c, ContentKind::Page, Some(&space));
                let doc = record_to_document(&site, &record, &Default::default());
                prop_assert!(!doc.id.is_empty());
            }
            if let Ok(c) = serde_json::from_value::<V1Content>(candidate.clone()) {
                let mut record = ContentRecord::from_v1(c);
                if let Ok(v1) = serde_json::from_value::<V1Content>(candidate.clone()) {
                    record.enrich(&v1);
                }
                let _ = record_to_document(&site, &record, &Default::default());
            }
            if let Ok(c) = serde_json::from_value::<V2Comment>(candidate.clone()) {
                let _ = CommentRecord::from_v2(c);
            }
            if let Ok(c) = serde_json::from_value::<V1Content>(candidate.clone()) {
                let _ = CommentRecord::from_v1(c);
            }
            let _ = AttachmentRecord::from_v1(candidate);
        }
    }
}
