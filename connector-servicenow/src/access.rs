//! Who may read a knowledge article: the user criteria of the article
//! (`can_read_user_criteria`, `cannot_read_user_criteria`) and of its
//! knowledge base (the `kb_uc_can_read_mtom` / `kb_uc_cannot_read_mtom`
//! tables), as `Document.access`.
//!
//! ServiceNow lets a person read an article only when they meet the
//! knowledge base's "can read" criteria *and* the article's. `access` is a
//! list of groups any of which grants, so it holds what both lists share:
//! one list alone when only one is set, their common criteria when both
//! are, and nobody (an empty list, not `None`) when they share none — a
//! host that resolves both lists from metadata can widen it; the SDK never
//! grants more than ServiceNow does. "Cannot read" criteria deny, which
//! `access` cannot say: they are kept as metadata.

use std::collections::HashMap;
use std::sync::Arc;

use connector_core::{Access, Document, ErrorKind, MetadataValue, Result};
use tokio::sync::OnceCell;

use crate::client::ServiceNowClient;
use crate::model::Row;
use crate::sub::{SubListing, capped};

/// Knowledge-base criteria rows read at most (each table).
const MAX_RULES: usize = 100_000;

/// The user criteria of every knowledge base the user may read them for.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct KbRules {
    can: HashMap<String, Vec<String>>,
    cannot: HashMap<String, Vec<String>>,
}

impl KbRules {
    /// `(knowledge base, user criteria)` pairs of the two tables.
    pub(crate) fn from_pairs(
        can: impl IntoIterator<Item = (String, String)>,
        cannot: impl IntoIterator<Item = (String, String)>,
    ) -> Self {
        let group = |pairs: &mut dyn Iterator<Item = (String, String)>| {
            let mut map: HashMap<String, Vec<String>> = HashMap::new();
            for (base, criteria) in pairs {
                let list = map.entry(base).or_default();
                if !list.contains(&criteria) {
                    list.push(criteria);
                }
            }
            map
        };
        Self {
            can: group(&mut can.into_iter()),
            cannot: group(&mut cannot.into_iter()),
        }
    }
}

/// The knowledge-base criteria, read once per sync on first need.
#[derive(Debug, Default)]
pub(crate) struct KbAccess {
    rules: OnceCell<Option<Arc<KbRules>>>,
}

impl KbAccess {
    /// The rules, `None` when the user may not read the criteria tables.
    pub(crate) async fn rules(
        &self,
        client: &ServiceNowClient,
        page_size: u32,
    ) -> Result<Option<Arc<KbRules>>> {
        self.rules
            .get_or_try_init(|| async {
                let can = pairs(client, "kb_uc_can_read_mtom", page_size).await?;
                let cannot = pairs(client, "kb_uc_cannot_read_mtom", page_size).await?;
                Ok(match (can, cannot) {
                    (Some(can), Some(cannot)) => Some(Arc::new(KbRules::from_pairs(can, cannot))),
                    _ => {
                        tracing::warn!(
                            "the knowledge bases' user criteria (kb_uc_can_read_mtom, kb_uc_cannot_read_mtom) are not readable: articles carry their own criteria only"
                        );
                        None
                    }
                })
            })
            .await
            .cloned()
    }
}

/// `(knowledge base, user criteria)` of one m2m table; `None` when the
/// user may not read it (403) or the instance has no such table (400
/// "Invalid table", as ServiceNow answers, or 404).
async fn pairs(
    client: &ServiceNowClient,
    table: &'static str,
    page_size: u32,
) -> Result<Option<Vec<(String, String)>>> {
    let listing = SubListing {
        what: format!("{table} (knowledge base user criteria)"),
        table,
        path: None,
        query: "ORDERBYsys_created_on^ORDERBYsys_id".to_owned(),
        fields: "sys_id,kb_knowledge_base,user_criteria",
    };
    let read = |row: &Row| {
        let id = row.sys_id()?.to_owned();
        let base = row.value("kb_knowledge_base")?.to_owned();
        let criteria = row.value("user_criteria")?.to_owned();
        Some((id, (base, criteria)))
    };
    match capped(client, listing, page_size, MAX_RULES, read).await {
        Ok(rows) => {
            if rows.truncated {
                tracing::warn!(
                    "{table}: more than {MAX_RULES} rows; knowledge bases past them are read as having no criteria of this kind"
                );
            }
            Ok(Some(rows.items))
        }
        Err(e)
            if matches!(e.kind(), ErrorKind::Forbidden | ErrorKind::NotFound)
                || e.status() == Some(400) =>
        {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

fn groups(criteria: &[String]) -> Vec<String> {
    criteria
        .iter()
        .map(|c| format!("user_criteria:{c}"))
        .collect()
}

/// Sets `doc.access` and the criteria metadata of the article in `row`.
pub(crate) fn apply(doc: &mut Document, row: &Row, rules: Option<&KbRules>) {
    let article_can = row.list("can_read_user_criteria");
    let mut cannot = row.list("cannot_read_user_criteria");
    let base = row.value("kb_knowledge_base");
    let kb_can: &[String] = match (rules, base) {
        (Some(rules), Some(base)) => rules.can.get(base).map_or(&[], Vec::as_slice),
        _ => &[],
    };
    if let (Some(rules), Some(base)) = (rules, base) {
        for c in rules.cannot.get(base).into_iter().flatten() {
            if !cannot.contains(c) {
                cannot.push(c.clone());
            }
        }
    }
    let allowed: Option<Vec<String>> = match (kb_can.is_empty(), article_can.is_empty()) {
        (true, true) => None,
        (false, true) => Some(kb_can.to_vec()),
        (true, false) => Some(article_can.clone()),
        (false, false) => Some(
            article_can
                .iter()
                .filter(|c| kb_can.contains(c))
                .cloned()
                .collect(),
        ),
    };
    if let Some(allowed) = allowed {
        doc.access = Some(Access {
            public: false,
            users: Vec::new(),
            groups: groups(&allowed),
        });
    }
    if !kb_can.is_empty() && !article_can.is_empty() {
        // Both lists must hold; a host resolving them can widen `access`.
        doc.metadata.insert(
            "can_read_user_criteria".to_owned(),
            MetadataValue::from(article_can),
        );
        doc.metadata.insert(
            "kb_can_read_user_criteria".to_owned(),
            MetadataValue::from(kb_can.to_vec()),
        );
    }
    if !cannot.is_empty() {
        doc.metadata.insert(
            "cannot_read_user_criteria".to_owned(),
            MetadataValue::from(cannot),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn article(can: &str, cannot: &str) -> Row {
        let value = json!({
            "sys_id": "a".repeat(32),
            "kb_knowledge_base": "kb1",
            "can_read_user_criteria": can,
            "cannot_read_user_criteria": cannot,
        });
        match value {
            serde_json::Value::Object(map) => Row(map),
            _ => Row::default(),
        }
    }

    fn rules() -> KbRules {
        KbRules::from_pairs(
            [
                ("kb1".into(), "hr".into()),
                ("kb1".into(), "managers".into()),
            ],
            [("kb1".into(), "contractors".into())],
        )
    }

    fn access(doc: &Document) -> Option<Vec<String>> {
        doc.access.as_ref().map(|a| a.groups.clone())
    }

    #[test]
    fn the_knowledge_base_criteria_apply_to_an_article_without_its_own() {
        let mut doc = Document::new("servicenow", "id", "t");
        apply(&mut doc, &article("", ""), Some(&rules()));
        assert_eq!(
            access(&doc),
            Some(vec![
                "user_criteria:hr".to_owned(),
                "user_criteria:managers".to_owned()
            ])
        );
        assert!(doc.metadata.contains_key("cannot_read_user_criteria"));
    }

    #[test]
    fn both_lists_grant_only_what_they_share_and_nothing_when_they_share_none() {
        let mut doc = Document::new("servicenow", "id", "t");
        apply(&mut doc, &article("managers,everyone", ""), Some(&rules()));
        assert_eq!(
            access(&doc),
            Some(vec!["user_criteria:managers".to_owned()])
        );
        assert!(doc.metadata.contains_key("kb_can_read_user_criteria"));

        let mut doc = Document::new("servicenow", "id", "t");
        apply(&mut doc, &article("everyone", ""), Some(&rules()));
        assert_eq!(
            access(&doc),
            Some(Vec::new()),
            "never wider than ServiceNow"
        );
    }

    #[test]
    fn without_the_knowledge_base_criteria_the_article_criteria_stand() {
        let mut doc = Document::new("servicenow", "id", "t");
        apply(&mut doc, &article("everyone", "interns"), None);
        assert_eq!(
            access(&doc),
            Some(vec!["user_criteria:everyone".to_owned()])
        );
        let mut doc = Document::new("servicenow", "id", "t");
        apply(&mut doc, &article("", ""), None);
        assert_eq!(access(&doc), None);
    }
}
