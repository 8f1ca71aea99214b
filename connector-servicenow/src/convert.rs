//! Records → [`Document`]s, per table profile.

use connector_core::{Document, MetadataValue, Result, Section};
use connector_extract::Extractor;

use crate::journal::Entry;
use crate::model::Row;
use crate::tables::{Kind, TablePlan};

/// The instance documents come from: ids and links.
#[derive(Debug, Clone)]
pub(crate) struct Instance {
    base_url: String,
    host: String,
}

impl Instance {
    pub(crate) fn new(base_url: &str) -> Self {
        let host = connector_core::url::host(base_url).unwrap_or_else(|| base_url.to_owned());
        Self {
            base_url: base_url.to_owned(),
            host,
        }
    }

    /// A record's document id: stable per instance, table and sys_id.
    pub(crate) fn document_id(&self, table: &str, sys_id: &str) -> String {
        format!("{}/{table}/{sys_id}", self.host)
    }

    /// The record's form, where a person opens it.
    pub(crate) fn record_url(&self, table: &str, sys_id: &str) -> String {
        format!("{}/{table}.do?sys_id={sys_id}", self.base_url)
    }

    fn article_url(&self, number: &str) -> String {
        format!("{}/kb_view.do?sysparm_article={number}", self.base_url)
    }
}

/// HTML to text through the shared converter (headings, lists, tables
/// and links kept as a reader needs them).
pub(crate) fn html_to_text(html: &Extractor, markup: &str) -> Result<String> {
    if !markup.contains('<') && !markup.contains('&') {
        return Ok(markup.trim().to_owned());
    }
    let extracted = html.extract_blocking(markup.as_bytes(), "body.html", Some("text/html"))?;
    Ok(extracted.text())
}

fn put(doc: &mut Document, key: &str, value: Option<&str>) {
    if let Some(v) = value {
        doc.metadata
            .insert(key.to_owned(), MetadataValue::from(v.to_owned()));
    }
}

/// The document of `row` from `plan`'s table, with its journal entries.
pub(crate) fn to_document(
    instance: &Instance,
    plan: &TablePlan,
    row: &Row,
    sys_id: &str,
    journal: &[Entry],
    truncated: bool,
    html: &Extractor,
) -> Result<Document> {
    let table = plan.name();
    let record_url = instance.record_url(table, sys_id);
    let title_of = |fields: &[&str]| fields.iter().find_map(|f| row.text(f));
    let mut doc = Document::new("servicenow", instance.document_id(table, sys_id), "");
    doc.url = Some(record_url.clone());
    doc.created_at = row.time("sys_created_on");
    doc.updated_at = row.time("sys_updated_on");
    put(&mut doc, "table", Some(table));
    put(&mut doc, "sys_id", Some(sys_id));
    match plan.kind {
        Kind::Knowledge => {
            let number = row.text("number");
            doc.title = title_of(&["short_description", "number"]).unwrap_or_else(|| sys_id.into());
            if let Some(number) = &number {
                doc.url = Some(instance.article_url(number));
            }
            let body = html_to_text(html, row.display("text").unwrap_or_default())?;
            if !body.is_empty() {
                doc.sections.push(Section::with_link(
                    body,
                    doc.url.clone().unwrap_or_default(),
                ));
            }
            let base = row.text("kb_knowledge_base.title");
            let parent = row.text("kb_category.parent_id.label");
            let category = row.text("kb_category.label");
            doc.hierarchy = [base.clone(), parent, category.clone()]
                .into_iter()
                .flatten()
                .collect();
            put(&mut doc, "number", number.as_deref());
            put(&mut doc, "knowledge_base", base.as_deref());
            put(&mut doc, "category", category.as_deref());
            put(&mut doc, "workflow_state", row.display("workflow_state"));
            put(&mut doc, "article_type", row.display("article_type"));
            put(&mut doc, "valid_to", row.display("valid_to"));
            if let Some(author) = row.text("author.name").or_else(|| row.text("author.email")) {
                doc.authors.push(author);
            }
            // `access` and the criteria metadata: `access::apply`, with
            // the knowledge base's criteria the stream reads once a sync.
        }
        Kind::Incident => {
            let number = row.text("number");
            let summary = row.text("short_description");
            doc.title = match (&number, &summary) {
                (Some(n), Some(s)) => format!("{n}: {s}"),
                (Some(n), None) => n.clone(),
                (None, Some(s)) => s.clone(),
                (None, None) => sys_id.to_owned(),
            };
            if let Some(description) = row.text("description") {
                doc.sections
                    .push(Section::with_link(description, record_url.clone()));
            }
            if let Some(notes) = row.text("close_notes") {
                doc.sections.push(Section::with_link(
                    format!("Resolution notes: {notes}"),
                    record_url.clone(),
                ));
            }
            for field in [
                "number",
                "state",
                "priority",
                "impact",
                "urgency",
                "category",
                "subcategory",
                "close_code",
                "assignment_group",
                "assigned_to",
                "caller_id",
                "cmdb_ci",
            ] {
                let key = match field {
                    "caller_id" => "caller",
                    "cmdb_ci" => "configuration_item",
                    other => other,
                };
                put(&mut doc, key, row.display(field));
            }
            if let Some(author) = row.text("caller_id").or_else(|| row.text("opened_by")) {
                doc.authors.push(author);
            }
            if let Some(group) = row.text("assignment_group") {
                doc.hierarchy.push(group);
            }
        }
        Kind::CatalogItem => {
            doc.title = title_of(&["name", "short_description"]).unwrap_or_else(|| sys_id.into());
            if let Some(short) = row.text("short_description") {
                doc.sections
                    .push(Section::with_link(short, record_url.clone()));
            }
            let long = html_to_text(html, row.display("description").unwrap_or_default())?;
            if !long.is_empty() {
                doc.sections
                    .push(Section::with_link(long, record_url.clone()));
            }
            let category = row.text("category");
            put(&mut doc, "category", category.as_deref());
            put(&mut doc, "catalogs", row.display("sc_catalogs"));
            doc.hierarchy = [row.text("sc_catalogs"), category]
                .into_iter()
                .flatten()
                .collect();
        }
        Kind::Other => {
            let spec = &plan.spec;
            let title = spec
                .title_field
                .as_deref()
                .and_then(|f| row.text(f))
                .or_else(|| title_of(&["number", "short_description", "name", "title"]))
                .or_else(|| spec.fields.iter().find_map(|f| row.text(f)));
            doc.title = title.unwrap_or_else(|| sys_id.to_owned());
            let fields: Vec<&str> = if spec.fields.is_empty() {
                row.fields()
                    .filter(|f| !f.starts_with("sys_") && !looks_like_sys_id(row.display(f)))
                    .collect()
            } else {
                spec.fields.iter().map(String::as_str).collect()
            };
            let lines: Vec<String> = fields
                .into_iter()
                .filter(|f| Some(*f) != spec.title_field.as_deref())
                .filter_map(|f| row.display(f).map(|v| format!("{f}: {v}")))
                .collect();
            if !lines.is_empty() {
                doc.sections
                    .push(Section::with_link(lines.join("\n"), record_url.clone()));
            }
            put(&mut doc, "number", row.display("number"));
        }
    }
    for entry in journal {
        let label = if entry.element == "work_notes" {
            "work note"
        } else {
            "comment"
        };
        let who = entry.by.as_deref().unwrap_or("someone");
        doc.sections.push(Section::with_link(
            format!("{who} ({label}): {}", entry.value),
            record_url.clone(),
        ));
    }
    if truncated {
        doc.metadata.insert(
            "truncated".to_owned(),
            MetadataValue::from(vec!["journal".to_owned()]),
        );
    }
    Ok(doc)
}

/// A reference shown raw (a 32-hex sys_id) says nothing to a reader.
fn looks_like_sys_id(value: Option<&str>) -> bool {
    value.is_some_and(|v| v.len() == 32 && v.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Record in the document's `truncated` metadata that `what` was cut.
pub(crate) fn mark_truncated(doc: &mut Document, what: &str) {
    let entry = doc
        .metadata
        .entry("truncated".to_owned())
        .or_insert_with(|| MetadataValue::from(Vec::<String>::new()));
    match entry {
        MetadataValue::Many(list) => list.push(what.to_owned()),
        other => *other = MetadataValue::from(vec![what.to_owned()]),
    }
}
