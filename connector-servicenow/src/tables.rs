//! What is read from each table: the built-in profiles of `kb_knowledge`,
//! `incident` and `sc_cat_item`, and any other table with the fields a
//! user picks.

use chrono::Utc;

use crate::config::{ServiceNowConfig, TableSpec};

/// Which profile a table is read with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Knowledge articles: HTML body, knowledge base › category.
    Knowledge,
    /// Incidents: description, resolution notes, journal.
    Incident,
    /// Service catalog items: name, short and long description.
    CatalogItem,
    /// Any other table: the chosen fields' display values.
    Other,
}

/// Knowledge articles: the body is large HTML, so values come raw
/// (`display_value=false`) and names through dot-walked fields.
const KB_FIELDS: &[&str] = &[
    "sys_id",
    "number",
    "short_description",
    "text",
    "workflow_state",
    "valid_to",
    "article_type",
    "sys_created_on",
    "sys_updated_on",
    "kb_knowledge_base",
    "kb_knowledge_base.title",
    "kb_category",
    "kb_category.label",
    "kb_category.parent_id.label",
    "author.name",
    "author.email",
    "can_read_user_criteria",
    "cannot_read_user_criteria",
];

const INCIDENT_FIELDS: &[&str] = &[
    "sys_id",
    "number",
    "short_description",
    "description",
    "close_notes",
    "close_code",
    "state",
    "priority",
    "impact",
    "urgency",
    "category",
    "subcategory",
    "sys_created_on",
    "sys_updated_on",
    "opened_at",
    "resolved_at",
    "caller_id",
    "opened_by",
    "assigned_to",
    "assignment_group",
    "cmdb_ci",
];

const CATALOG_FIELDS: &[&str] = &[
    "sys_id",
    "name",
    "short_description",
    "description",
    "category",
    "sc_catalogs",
    "active",
    "sys_created_on",
    "sys_updated_on",
];

/// How one table is read.
#[derive(Debug, Clone)]
pub(crate) struct TablePlan {
    /// The table as configured.
    pub(crate) spec: TableSpec,
    /// Its profile.
    pub(crate) kind: Kind,
    /// `sysparm_fields` (`None`: every field).
    pub(crate) fields: Option<String>,
    /// `sysparm_display_value`.
    pub(crate) display: &'static str,
    /// Whether work notes are read with comments (incidents).
    pub(crate) work_notes: bool,
    /// Published, current articles only (knowledge).
    published_only: bool,
}

impl TablePlan {
    /// The plan for `spec` under `config`.
    pub(crate) fn new(spec: &TableSpec, config: &ServiceNowConfig) -> Self {
        let kind = match spec.name.as_str() {
            "kb_knowledge" => Kind::Knowledge,
            "incident" => Kind::Incident,
            "sc_cat_item" => Kind::CatalogItem,
            _ => Kind::Other,
        };
        let builtin = match kind {
            Kind::Knowledge => KB_FIELDS,
            Kind::Incident => INCIDENT_FIELDS,
            Kind::CatalogItem => CATALOG_FIELDS,
            Kind::Other => &[],
        };
        let mut fields: Vec<&str> = builtin.to_vec();
        let picked = !spec.fields.is_empty();
        if picked {
            if kind == Kind::Other {
                fields.extend(["sys_id", "sys_updated_on", "sys_created_on"]);
            }
            fields.extend(spec.fields.iter().map(String::as_str));
            if let Some(title) = &spec.title_field {
                fields.push(title);
            }
        }
        let mut seen = std::collections::HashSet::new();
        fields.retain(|f| seen.insert(*f));
        let fields = (!fields.is_empty()).then(|| fields.join(","));
        Self {
            spec: spec.clone(),
            kind,
            fields,
            display: if kind == Kind::Knowledge {
                "false"
            } else {
                "all"
            },
            work_notes: config.work_notes,
            published_only: !config.include_unpublished_articles,
        }
    }

    /// The table's name.
    pub(crate) fn name(&self) -> &str {
        &self.spec.name
    }

    /// The encoded filter of every page: the profile's own conditions and
    /// the configured filter.
    pub(crate) fn filter(&self) -> Option<String> {
        let mut parts: Vec<String> = Vec::new();
        match self.kind {
            Kind::Knowledge if self.published_only => {
                // `valid_to` is a date; today's date in UTC keeps articles
                // expiring today.
                let today = Utc::now().format("%Y-%m-%d");
                parts.push(format!(
                    "workflow_state=published^valid_toISEMPTY^ORvalid_to>={today}"
                ));
            }
            Kind::CatalogItem => parts.push("active=true".to_owned()),
            _ => {}
        }
        if let Some(filter) = &self.spec.filter {
            parts.push(filter.clone());
        }
        (!parts.is_empty()).then(|| parts.join("^"))
    }

    /// The journal elements read for a record: comments, and work notes
    /// when enabled (incidents only).
    pub(crate) fn journal_elements(&self) -> Option<&'static str> {
        match (self.kind, self.work_notes) {
            (Kind::Incident, true) => Some("comments,work_notes"),
            (Kind::Incident, false) => Some("comments"),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_pick_fields_filters_and_display() {
        let config = ServiceNowConfig::new("acme");
        let kb = TablePlan::new(&TableSpec::named("kb_knowledge"), &config);
        assert_eq!(kb.display, "false");
        let filter = kb.filter().unwrap();
        assert!(filter.starts_with("workflow_state=published^valid_toISEMPTY^ORvalid_to>="));
        assert!(
            kb.fields
                .as_deref()
                .unwrap()
                .contains("kb_knowledge_base.title")
        );
        let custom = TablePlan::new(
            &TableSpec::named("u_runbook")
                .fields(["u_steps", "sys_id"])
                .filter("active=true"),
            &config,
        );
        assert_eq!(custom.kind, Kind::Other);
        assert_eq!(
            custom.fields.as_deref(),
            Some("sys_id,sys_updated_on,sys_created_on,u_steps")
        );
        assert_eq!(custom.filter().as_deref(), Some("active=true"));
        let every = TablePlan::new(&TableSpec::named("u_other"), &config);
        assert_eq!((every.fields, every.display), (None, "all"));
        let incident = TablePlan::new(&TableSpec::named("incident"), &config.work_notes(true));
        assert_eq!(incident.journal_elements(), Some("comments,work_notes"));
    }
}
