//! Table API records as they arrive: a JSON object per record whose field
//! values are strings (`sysparm_display_value=false` or `true`) or
//! `{"display_value", "value"}` pairs (`all`), and references
//! `{"link", "value"}` unless links are excluded.

use chrono::{DateTime, Utc};
use connector_core::json::RawRecord;
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

/// One record of a page, decoded on its own.
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

impl Record {
    /// Decode one raw record; `needs_time`: whether `sys_updated_on` must
    /// be there (the slim listing asks for the sys_id alone).
    pub(crate) fn decode(raw: &RawRecord, needs_time: bool) -> Self {
        let named = || raw.string_field("sys_id").filter(|id| is_sys_id(id));
        let row = match raw.decode::<Map<String, Value>>() {
            Ok(map) => Row(map),
            Err(e) => {
                return Record::Bad {
                    sys_id: named(),
                    reason: format!("the record is not the JSON expected: {e}"),
                };
            }
        };
        let Some(sys_id) = row.sys_id().map(str::to_owned) else {
            return Record::Bad {
                sys_id: None,
                reason: "the record has no sys_id".to_owned(),
            };
        };
        let updated = match row.time("sys_updated_on") {
            Some(t) => t,
            None if !needs_time => DateTime::<Utc>::UNIX_EPOCH,
            None => {
                return Record::Bad {
                    reason: format!(
                        "record {sys_id} has no readable sys_updated_on (expected yyyy-MM-dd HH:mm:ss)"
                    ),
                    sys_id: Some(sys_id),
                };
            }
        };
        Record::Good {
            row: Box::new(row),
            sys_id,
            updated,
        }
    }

    /// The sys_id, when known.
    pub(crate) fn sys_id(&self) -> Option<&str> {
        match self {
            Record::Good { sys_id, .. } => Some(sys_id),
            Record::Bad { sys_id, .. } => sys_id.as_deref(),
        }
    }

    /// The keyset position right after this record.
    pub(crate) fn cursor(&self, with_time: bool) -> Option<Cursor> {
        match self {
            Record::Good {
                sys_id, updated, ..
            } => Some(Cursor {
                updated: with_time.then(|| crate::query::format_time(*updated)),
                sys_id: Some(sys_id.clone()),
                skip: 0,
            }),
            Record::Bad { .. } => None,
        }
    }
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
