//! A record's attachments: listed from the Attachment API
//! (`/api/now/attachment?sysparm_query=table_name=…^table_sys_id=…`), bytes
//! from `/api/now/attachment/{sys_id}/file` when they fit the size cap,
//! and their text through the shared extractor.

use connector_core::paging::Capped;
use connector_core::url::segment;
use connector_core::{Attachment, Result, Section};
use connector_extract::Extractor;

use crate::client::ServiceNowClient;
use crate::model::Row;
use crate::query::is_sys_id;
use crate::sub::{SubListing, capped};

/// Attachments listed per record at most.
pub(crate) const MAX_ATTACHMENTS: usize = 100;

/// One attachment's listing entry.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Listed {
    pub(crate) sys_id: String,
    pub(crate) file_name: String,
    pub(crate) content_type: Option<String>,
    pub(crate) size: Option<u64>,
}

/// The attachments of record `sys_id` in `table`.
pub(crate) async fn list(
    client: &ServiceNowClient,
    table: &str,
    sys_id: &str,
) -> Result<Capped<Listed>> {
    let listing = SubListing {
        what: format!("attachments of {table} {sys_id}"),
        table: "sys_attachment",
        path: Some("/api/now/attachment"),
        query: format!(
            "table_name={table}^table_sys_id={sys_id}^ORDERBYsys_created_on^ORDERBYsys_id"
        ),
        fields: "sys_id,file_name,content_type,size_bytes",
    };
    capped(
        client,
        listing,
        MAX_ATTACHMENTS as u32,
        MAX_ATTACHMENTS,
        |row: &Row| {
            let sys_id = row.sys_id()?.to_owned();
            Some((
                sys_id.clone(),
                Listed {
                    sys_id,
                    file_name: row.text("file_name")?,
                    content_type: row.text("content_type"),
                    size: row.value("size_bytes").and_then(|s| s.parse().ok()),
                },
            ))
        },
    )
    .await
}

/// The document's attachment entries, with bytes up to `cap` each (when
/// set), and sections of the text of those the extractor reads.
pub(crate) async fn fetch(
    client: &ServiceNowClient,
    listed: Vec<Listed>,
    cap: Option<u64>,
    extractor: &Extractor,
) -> Result<(Vec<Attachment>, Vec<Section>)> {
    let mut attachments = Vec::with_capacity(listed.len());
    let mut sections = Vec::new();
    for entry in listed {
        if !is_sys_id(&entry.sys_id) {
            continue;
        }
        let api = format!("/api/now/attachment/{}/file", segment(&entry.sys_id)?);
        let mut attachment = Attachment::new(entry.file_name.clone());
        attachment.content_type = entry.content_type.clone();
        attachment.size = entry.size;
        attachment.url = Some(format!("{}{api}", client.base_url()));
        if let Some(cap) = cap
            && entry.size.is_none_or(|size| size <= cap)
        {
            let bytes = client
                .http()
                .get(&api)
                .send()
                .await?
                .bytes_capped(cap)
                .await
                .map_err(|e| {
                    e.context(format_args!("downloading attachment {}", entry.file_name))
                })?;
            if Extractor::supports(&entry.file_name, entry.content_type.as_deref()) {
                let link = format!(
                    "{}/sys_attachment.do?sys_id={}",
                    client.base_url(),
                    entry.sys_id
                );
                match extractor
                    .extract(
                        bytes.clone(),
                        &entry.file_name,
                        entry.content_type.as_deref(),
                    )
                    .await
                {
                    Ok(text) => sections.extend(
                        text.into_sections(Some(&link))
                            .into_iter()
                            .filter(|s| !s.text.trim().is_empty()),
                    ),
                    Err(e) => {
                        tracing::warn!(file = %entry.file_name, "attachment text not read: {e}")
                    }
                }
            }
            attachment.bytes = Some(bytes.to_vec());
        }
        attachments.push(attachment);
    }
    Ok((attachments, sections))
}
