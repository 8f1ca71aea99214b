//! Finishing documents: what a listed or searched record still lacks — the
//! body when the answer had none, attachments and labels past the expanded
//! ones, footer comments, people's names — fetched with a cap per page,
//! several records at once in listing order, and made into documents.

use std::sync::Arc;

use connector_core::json::RawRecord;
use connector_core::paging::{Capped, ordered};
use connector_core::{Document, DocumentFailure, Error, ErrorKind, Item, Result};
use futures::StreamExt;

use crate::client::{ConfluenceClient, ContentKind};
use crate::convert::{AttachmentRecord, CommentRecord, ContentRecord, Site, record_to_document};
use crate::model::{V1Content, V2Comment, label_name};
use crate::people::People;
use crate::storage::{StorageToText, mentioned_people};

/// What a stream reads from and how. One per stream: its people cache
/// lives as long as the sync.
#[derive(Debug)]
pub(crate) struct Reader {
    pub client: ConfluenceClient,
    pub site: Site,
    pub page_size: u32,
    pub search_page_size: u32,
    pub blog_posts: bool,
    pub footer_comments: bool,
    pub archived: bool,
    pub attachment_max_bytes: Option<u64>,
    /// Extract the text of downloaded attachments.
    #[cfg_attr(not(feature = "extract"), allow(dead_code))]
    pub extract: bool,
    pub max_comments: usize,
    pub max_attachments: usize,
    pub max_labels: usize,
    /// Records of one page finished at once.
    pub concurrency: usize,
    pub people: People,
}

/// What becomes of one listed or searched record: an item already decided
/// (a failure, a deletion), or a record to finish.
pub(crate) enum Entry {
    Ready(Item),
    Record(Box<ContentRecord>),
}

impl Reader {
    pub(crate) fn kinds(&self) -> Vec<ContentKind> {
        if self.blog_posts {
            vec![ContentKind::Page, ContentKind::BlogPost]
        } else {
            vec![ContentKind::Page]
        }
    }

    pub(crate) fn cloud(&self) -> bool {
        self.client.cloud()
    }

    /// A record that does not decode: one failure, named by its id.
    pub(crate) fn malformed(&self, what: &str, raw: &RawRecord, reason: &str) -> Entry {
        let id = raw
            .string_field("id")
            .unwrap_or_else(|| "<unknown id>".to_owned());
        Entry::Ready(Item::Failure(DocumentFailure::new(
            self.site.document_id(&id),
            format!("{what} {id} is not in the expected shape: {reason}"),
        )))
    }

    /// A decoded record: to finish when it is live, else reported gone
    /// (archived unless asked for, trashed, draft), so the runner removes it
    /// if an earlier sync delivered it.
    pub(crate) fn entry(&self, record: ContentRecord) -> Entry {
        if record.is_live(self.archived) {
            Entry::Record(Box::new(record))
        } else {
            Entry::Ready(Item::Deleted(self.site.document_id(&record.id)))
        }
    }

    /// Finish `entries` with up to `concurrency` at a time, in order; the
    /// people the page mentions are looked up first, in one batch. Stops
    /// after a failure of the whole source.
    pub(crate) async fn finish_all(self: &Arc<Self>, entries: Vec<Entry>) -> Vec<Result<Item>> {
        let mentioned = entries.iter().flat_map(|entry| match entry {
            Entry::Record(record) => people_of(record),
            Entry::Ready(_) => Vec::new(),
        });
        self.people.learn(mentioned.collect::<Vec<_>>()).await;
        let mut out: Vec<Result<Item>> = ordered(entries, self.concurrency, |entry| {
            let reader = self.clone();
            async move {
                match entry {
                    Entry::Ready(item) => Ok(item),
                    Entry::Record(record) => reader.finish(*record).await,
                }
            }
        })
        .collect()
        .await;
        if let Some(i) = out.iter().position(Result::is_err) {
            out.truncate(i + 1);
        }
        out
    }

    /// Fill what `record` still lacks and make the document. `Err` only
    /// for failures of the whole source.
    async fn finish(&self, mut record: ContentRecord) -> Result<Item> {
        let kind = record.kind.unwrap_or(ContentKind::Page);
        let filled = match self.fill(&mut record, kind).await {
            Ok(()) => self.document(&record).await,
            Err(e) => Err(e),
        };
        match filled {
            Ok(doc) => Ok(Item::from(doc)),
            Err(e) if e.ends_stream() => Err(e),
            Err(e) => Ok(Item::Failure(DocumentFailure::new(
                self.site.document_id(&record.id),
                format!(
                    "{} {} ({:?}) could not be read in full: {e}",
                    kind.as_str(),
                    record.id,
                    record.title
                ),
            ))),
        }
    }

    /// The document, mentions named, with attachment bytes when asked for.
    async fn document(&self, record: &ContentRecord) -> Result<Document> {
        let mentioned = people_of(record);
        let names = self
            .people
            .names_of(mentioned.iter().map(|(id, _)| id.as_str()));
        let to_text = StorageToText::new().people(names);
        let mut doc = record_to_document(&self.site, record, &to_text);
        let Some(cap) = self.attachment_max_bytes else {
            return Ok(doc);
        };
        for (meta, attachment) in record.attachments.iter().zip(doc.attachments.iter_mut()) {
            let (Some(download), Some(size)) = (&meta.download, meta.size) else {
                continue;
            };
            if size > cap {
                continue;
            }
            let bytes = self
                .client
                .attachment(download, cap)
                .await
                .map_err(|e| e.context(format_args!("downloading attachment {}", meta.name)))?;
            attachment.bytes = Some(bytes);
        }
        #[cfg(feature = "extract")]
        if self.extract {
            connector_extract::Extractor::default()
                .attachments_into(&mut doc)
                .await;
        }
        Ok(doc)
    }

    async fn fill(&self, record: &mut ContentRecord, kind: ContentKind) -> Result<()> {
        if record.body.is_none() {
            record.body = if self.cloud() {
                let c = self.client.content_v2(kind, &record.id).await?;
                c.body.and_then(|b| b.storage).and_then(|s| s.value)
            } else {
                let raw = self.client.content_v1(&record.id).await?;
                serde_json::from_value::<V1Content>(raw)
                    .ok()
                    .and_then(|c| c.body)
                    .and_then(|b| b.storage)
                    .and_then(|s| s.value)
            };
            if record.body.is_none() {
                return Err(Error::new(
                    ErrorKind::Decode,
                    "Confluence returned no storage-format body",
                ));
            }
        }
        if let Some(next) = record.more_attachments.take() {
            let room = self
                .max_attachments
                .saturating_sub(record.attachments.len());
            let rest = self.rest(format!("the attachments of {}", record.id), next, room);
            let rest = rest.await?;
            record.attachments.extend(
                rest.items
                    .iter()
                    .filter_map(|raw| raw.decode::<serde_json::Value>().ok())
                    .filter(|a| {
                        a.get("status")
                            .and_then(serde_json::Value::as_str)
                            .is_none_or(|s| s == "current")
                    })
                    .filter_map(|a| AttachmentRecord::from_v1(&a)),
            );
            if rest.truncated {
                record.truncated.push("attachments");
            }
        }
        if record.attachments.len() > self.max_attachments {
            record.attachments.truncate(self.max_attachments);
            record.truncated.push("attachments");
        }
        if let Some(next) = record.more_labels.take() {
            let room = self.max_labels.saturating_sub(record.labels.len());
            let rest = self.rest(format!("the labels of {}", record.id), next, room);
            let rest = rest.await?;
            record.labels.extend(
                rest.items
                    .iter()
                    .filter_map(|raw| raw.decode::<serde_json::Value>().ok())
                    .filter_map(|l| label_name(&l)),
            );
            if rest.truncated {
                record.truncated.push("labels");
            }
        }
        if record.labels.len() > self.max_labels {
            record.labels.truncate(self.max_labels);
            record.truncated.push("labels");
        }
        if self.footer_comments {
            let comments = self
                .client
                .footer_comments(kind, &record.id, self.max_comments)
                .await
                .map_err(|e| e.context(format_args!("reading the comments of {}", record.id)))?;
            if comments.truncated {
                record.truncated.push("comments");
            }
            record.comments = self.comments(comments.items).await;
        }
        record.truncated.dedup();
        Ok(())
    }

    /// The rest of a list an expansion cut short, at most `room` more.
    async fn rest(&self, what: String, next: String, room: usize) -> Result<Capped<RawRecord>> {
        if room == 0 {
            return Ok(Capped {
                items: Vec::new(),
                truncated: true,
            });
        }
        self.client.rest_of_v1_list(what, next, room).await
    }

    /// Comments decoded (a malformed one is dropped: a comment is part of
    /// its page, not a document), Cloud authors named.
    async fn comments(&self, raw: Vec<RawRecord>) -> Vec<CommentRecord> {
        let cloud = self.cloud();
        let mut comments: Vec<CommentRecord> = if cloud {
            raw.iter()
                .filter_map(|r| r.decode::<V2Comment>().ok())
                .filter_map(CommentRecord::from_v2)
                .collect()
        } else {
            raw.iter()
                .filter_map(|r| r.decode::<V1Content>().ok())
                .filter_map(CommentRecord::from_v1)
                .collect()
        };
        let mut ids: Vec<(String, bool)> = comments
            .iter()
            .flat_map(|c| mentioned_people(&c.body))
            .collect();
        if cloud {
            // v2 comments name their authors by account id only.
            ids.extend(
                comments
                    .iter()
                    .filter_map(|c| c.author.clone())
                    .map(|id| (id, false)),
            );
        }
        self.people.learn(ids).await;
        if cloud {
            for comment in &mut comments {
                if let Some(name) = comment
                    .author
                    .as_deref()
                    .and_then(|id| self.people.name(id))
                {
                    comment.author = Some(name);
                }
            }
        }
        comments
    }
}

/// The people a record's body and comments mention.
fn people_of(record: &ContentRecord) -> Vec<(String, bool)> {
    let mut ids: Vec<(String, bool)> = record
        .body
        .as_deref()
        .map(mentioned_people)
        .unwrap_or_default();
    for comment in &record.comments {
        ids.extend(mentioned_people(&comment.body));
    }
    ids
}
