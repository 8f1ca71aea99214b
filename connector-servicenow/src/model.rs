//! Table API records as they arrive: a JSON object per record whose field
//! values are strings (`sysparm_display_value=false` or `true`) or
//! `{"display_value", "value"}` pairs (`all`), and references
//! `{"link", "value"}` unless links are excluded.

use chrono::{DateTime, Utc};
use connector_core::json::RawRecord;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::query::{Cursor, is_sys_id, parse_time};

/// One record of a Table API page.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Row(pub(crate) Map<String, Value>);

impl Row {
    /// The stored value of `field` (a sys_id for references, UTC for
    /// times); `None` when absent or empty.
    pub(crate) fn value(&self, field: &str) -> Option<&str> {
        let v = match self.0.get(field)? {
            Value::Object(pair) => pair.get("value")?,
            other => other,
        };
        v.as_str().map(str::trim).filter(|s| !s.is_empty())
    }

    /// What a person sees for `field` (the display value when the answer
    /// has one); `None` when absent or empty.
    pub(crate) fn display(&self, field: &str) -> Option<&str> {
        let v = match self.0.get(field)? {
            Value::Object(pair) => pair
                .get("display_value")
                .filter(|d| d.as_str().is_some_and(|s| !s.trim().is_empty()))
                .or_else(|| pair.get("value"))?,
            other => other,
        };
        v.as_str().map(str::trim).filter(|s| !s.is_empty())
    }

    /// The owned display value of `field`.
    pub(crate) fn text(&self, field: &str) -> Option<String> {
        self.display(field).map(str::to_owned)
    }

    /// A `glide_date_time` field as an instant.
    pub(crate) fn time(&self, field: &str) -> Option<DateTime<Utc>> {
        self.value(field).and_then(parse_time)
    }

    /// The record's sys_id, when it is one.
    pub(crate) fn sys_id(&self) -> Option<&str> {
        self.value("sys_id").filter(|id| is_sys_id(id))
    }

    /// A comma-separated list field (`glide_list`) as its values.
    pub(crate) fn list(&self, field: &str) -> Vec<String> {
        self.value(field)
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Field names, in the answer's order.
    pub(crate) fn fields(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }
}

/// A field's stored value in either answer shape, read without keeping
/// anything else of the record.
#[derive(Deserialize)]
#[serde(untagged)]
enum Stored {
    Plain(String),
    Pair { value: Option<String> },
}

impl Stored {
    fn into_value(self) -> Option<String> {
        match self {
            Stored::Plain(v) => Some(v),
            Stored::Pair { value } => value,
        }
    }
}

/// The two fields paging needs; the rest of the record is skipped.
#[derive(Deserialize)]
struct Keys {
    #[serde(default)]
    sys_id: Option<Stored>,
    #[serde(default)]
    sys_updated_on: Option<Stored>,
}

/// One record of a page as the pager carries it: its bytes and its keys.
/// Only the keys are read while paging (they give the next page's
/// position); the record is decoded in full later, off the chain of
/// page requests.
#[derive(Debug, Clone)]
pub(crate) struct Listed {
    raw: RawRecord,
    sys_id: Option<String>,
    updated: Option<DateTime<Utc>>,
    flaw: Option<String>,
}

impl Listed {
    /// Read the keys of `raw`.
    pub(crate) fn new(raw: RawRecord) -> Self {
        let (sys_id, updated, flaw) = match raw.decode::<Keys>() {
            Ok(keys) => (
                keys.sys_id
                    .and_then(Stored::into_value)
                    .filter(|id| is_sys_id(id)),
                keys.sys_updated_on
                    .and_then(Stored::into_value)
                    .and_then(|t| parse_time(&t)),
                None,
            ),
            Err(e) => (
                raw.string_field("sys_id").filter(|id| is_sys_id(id)),
                None,
                Some(format!("the record is not the JSON expected: {e}")),
            ),
        };
        Self {
            raw,
            sys_id,
            updated,
            flaw,
        }
    }

    /// The sys_id, when the record has one.
    pub(crate) fn sys_id(&self) -> Option<&str> {
        self.sys_id.as_deref()
    }

    /// The keyset position right after this record (`with_time`: in
    /// (`sys_updated_on`, `sys_id`) order, else `sys_id` alone).
    pub(crate) fn cursor(&self, with_time: bool) -> Option<Cursor> {
        if self.flaw.is_some() {
            return None;
        }
        let sys_id = self.sys_id.clone()?;
        let updated = match (with_time, self.updated) {
            (false, _) => None,
            (true, Some(t)) => Some(crate::query::format_time(t)),
            (true, None) => return None,
        };
        Some(Cursor {
            updated,
            sys_id: Some(sys_id),
            skip: 0,
        })
    }

    /// The whole record, or why it cannot be read.
    pub(crate) fn decode(self) -> Record {
        if let Some(reason) = self.flaw {
            return Record::Bad {
                sys_id: self.sys_id,
                reason,
            };
        }
        let Some(sys_id) = self.sys_id else {
            return Record::Bad {
                sys_id: None,
                reason: "the record has no sys_id".to_owned(),
            };
        };
        let Some(updated) = self.updated else {
            return Record::Bad {
                reason: format!(
                    "record {sys_id} has no readable sys_updated_on (expected yyyy-MM-dd HH:mm:ss)"
                ),
                sys_id: Some(sys_id),
            };
        };
        match self.raw.decode::<Map<String, Value>>() {
            Ok(map) => Record::Good {
                row: Box::new(Row(map)),
                sys_id,
                updated,
            },
            Err(e) => Record::Bad {
                sys_id: Some(sys_id),
                reason: format!("the record is not the JSON expected: {e}"),
            },
        }
    }
}

/// One record of a page, decoded in full.
#[derive(Debug, Clone)]
pub(crate) enum Record {
    /// A record with a sys_id and a readable `sys_updated_on`.
    Good {
        row: Box<Row>,
        sys_id: String,
        updated: DateTime<Utc>,
    },
    /// Not a record this connector can read; `sys_id` when it could be found.
    Bad {
        sys_id: Option<String>,
        reason: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_in_every_answer_shape() {
        let row = Row(serde_json::from_value(serde_json::json!({
            "state": {"display_value": "In Progress", "value": "2"},
            "caller_id": {"link": "https://acme.service-now.com/api/now/table/sys_user/6816", "value": "6816"},
            "number": "INC0010001",
            "empty": {"display_value": "", "value": ""},
            "list": "a, b,,c"
        }))
        .unwrap());
        assert_eq!(row.value("state"), Some("2"));
        assert_eq!(row.display("state"), Some("In Progress"));
        assert_eq!(row.display("caller_id"), Some("6816"));
        assert_eq!(row.display("number"), Some("INC0010001"));
        assert_eq!(row.display("empty"), None);
        assert_eq!(row.list("list"), ["a", "b", "c"]);
    }
}
