//! The document stream: each table's pages (through core's pager) →
//! documents, built several records at a time in page order, each page
//! followed by a checkpoint; then the next table.

use std::sync::Arc;

use connector_core::paging::{Capped, Fetched, ordered};
use connector_core::watermark::Watermark;
use connector_core::{
    Checkpoint, Document, DocumentFailure, Item, ItemStream, Result, SlimDocument, SlimStream,
    TimeWindow,
};
use connector_extract::Extractor;
use futures::future;
use futures::stream::{self, StreamExt};

use crate::access::KbAccess;
use crate::attachments;
use crate::checkpoint::Position;
use crate::client::ServiceNowClient;
use crate::convert::{Instance, mark_truncated, to_document};
use crate::journal::{self, Entry};
use crate::listing::{Listing, PageSize, from_page_cursor, pages};
use crate::model::{Listed, Record, Row};
use crate::query::{Cursor, Order, in_window};
use crate::tables::{Kind, TablePlan};

/// Rows per page of the slim listing: a sys_id is a few dozen bytes, so a
/// large page is still a small, fast answer.
const SLIM_PAGE_SIZE: u32 = 5_000;

/// What the streams read from and how much per request.
#[derive(Debug)]
pub(crate) struct Reader {
    pub(crate) client: ServiceNowClient,
    pub(crate) instance: Instance,
    pub(crate) plans: Vec<TablePlan>,
    pub(crate) page_size: u32,
    pub(crate) max_journal: usize,
    pub(crate) concurrency: usize,
    pub(crate) html: Extractor,
    /// List attachments.
    pub(crate) attachments: bool,
    /// Attachment bytes up to this size each.
    pub(crate) attachment_max_bytes: Option<u64>,
    /// Report deletions of an incremental window from `sys_audit_delete`.
    pub(crate) audit_deletions: bool,
}

impl Reader {
    fn listing(&self, plan: &TablePlan, window: TimeWindow) -> Listing {
        Listing {
            table: plan.name().to_owned(),
            filter: plan.filter(),
            fields: plan.fields.clone(),
            display: plan.display,
            window: Some(window),
            order: Order::Updated,
        }
    }
}

/// What to do with one record of a page.
enum Work {
    Build {
        plan: usize,
        row: Box<Row>,
        sys_id: String,
        /// The journal, when read for the whole page.
        journal: Option<Capped<Entry>>,
    },
    Fail {
        id: String,
        reason: String,
    },
    Deleted(String),
}

/// One step of a stream: a table's changed records, or (with
/// `audit_deletions`, in an incremental window) its deletions recorded in
/// `sys_audit_delete`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Records(usize),
    Deletions(usize),
}

/// The table `sys_audit_delete` phases read, and their checkpoint prefix.
const AUDIT_TABLE: &str = "sys_audit_delete";

impl Phase {
    /// The phases of a stream over `window`.
    fn all(reader: &Reader, window: &TimeWindow) -> Vec<Phase> {
        let mut phases: Vec<Phase> = (0..reader.plans.len()).map(Phase::Records).collect();
        if reader.audit_deletions && !window.is_full() {
            phases.extend((0..reader.plans.len()).map(Phase::Deletions));
        }
        phases
    }

    /// The name a checkpoint stores: the table, or `sys_audit_delete:{table}`.
    fn name(self, reader: &Reader) -> String {
        match self {
            Phase::Records(i) => reader.plans[i].name().to_owned(),
            Phase::Deletions(i) => format!("{AUDIT_TABLE}:{}", reader.plans[i].name()),
        }
    }

    fn plan(self) -> usize {
        match self {
            Phase::Records(i) | Phase::Deletions(i) => i,
        }
    }
}

/// Documents of every table changed in `window`, from `from` on.
pub(crate) fn items(
    reader: Arc<Reader>,
    window: TimeWindow,
    from: Position,
) -> ItemStream<'static> {
    if from.finished {
        return stream::empty().boxed();
    }
    let phases: Arc<[Phase]> = Phase::all(&reader, &window).into();
    let (start, first, mark) = match &from.table {
        None => (0, None, Watermark::default()),
        Some(name) => match phases.iter().position(|p| &p.name(&reader) == name) {
            Some(i) => (i, from.next.clone(), from.mark.clone()),
            None => {
                tracing::warn!(
                    table = %name,
                    "the checkpoint names a table no longer configured; reading every table again"
                );
                (0, None, Watermark::default())
            }
        },
    };
    // Knowledge-base criteria are read once a sync, when an article needs them.
    let kb = Arc::new(KbAccess::default());
    let steps = (start..phases.len()).map(move |i| {
        let (first, mark) = if i == start {
            (first.clone(), mark.clone())
        } else {
            (None, Watermark::default())
        };
        (i, first, mark)
    });
    stream::iter(steps)
        .map(move |(i, first, mark)| {
            phase_items(
                reader.clone(),
                kb.clone(),
                phases.clone(),
                i,
                window,
                first,
                mark,
            )
        })
        .flatten()
        // An error ends the stream: nothing after it.
        .scan(false, |ended, item| {
            if *ended {
                return future::ready(None);
            }
            *ended = item.is_err();
            future::ready(Some(item))
        })
        .boxed()
}

/// One phase's items from `first` on.
fn phase_items(
    reader: Arc<Reader>,
    kb: Arc<KbAccess>,
    phases: Arc<[Phase]>,
    at: usize,
    window: TimeWindow,
    first: Option<Cursor>,
    mark: Watermark,
) -> ItemStream<'static> {
    let phase = phases[at];
    let plan = &reader.plans[phase.plan()];
    let listing = match phase {
        Phase::Records(_) => reader.listing(plan, window),
        Phase::Deletions(_) => Listing {
            table: AUDIT_TABLE.to_owned(),
            filter: Some(format!("tablename={}", plan.name())),
            fields: Some("sys_id,tablename,documentkey,sys_updated_on".to_owned()),
            display: "false",
            window: Some(window),
            order: Order::Updated,
        },
    };
    let pages = pages(
        reader.client.clone(),
        Arc::new(listing),
        PageSize::new(reader.page_size),
        first,
    );
    let progress = Progress {
        reader: reader.clone(),
        phases,
        at,
        window,
        mark,
    };
    pages
        .scan(progress, move |progress, page| {
            let items = match page {
                // The audit of deletions is read where the user may: a
                // refusal leaves deletions to the id listing.
                Err(e)
                    if matches!(phase, Phase::Deletions(_))
                        && e.kind() == connector_core::ErrorKind::Forbidden =>
                {
                    tracing::warn!("{e}; deletions are left to the id listing");
                    stream::empty().boxed()
                }
                Err(e) => stream::once(future::ready(Err(e))).boxed(),
                Ok(page) => {
                    let (work, checkpoint) = progress.take(page);
                    let reader = reader.clone();
                    let kb = kb.clone();
                    stream::once(with_journals(reader.clone(), work))
                        .flat_map(move |work| {
                            let reader = reader.clone();
                            let kb = kb.clone();
                            let concurrency = reader.concurrency;
                            ordered(work, concurrency, move |work| {
                                item(reader.clone(), kb.clone(), work)
                            })
                        })
                        .chain(stream::once(future::ready(checkpoint)))
                        .boxed()
                }
            };
            future::ready(Some(items))
        })
        .flatten()
        .boxed()
}

/// A phase's state between pages.
struct Progress {
    reader: Arc<Reader>,
    phases: Arc<[Phase]>,
    at: usize,
    window: TimeWindow,
    mark: Watermark,
}

impl Progress {
    /// What to do with each record of `page`, and the checkpoint after it.
    fn take(&mut self, page: Fetched<Listed>) -> (Vec<Work>, Result<Item>) {
        let phase = self.phases[self.at];
        let plan = phase.plan();
        let table = self.reader.plans[plan].name().to_owned();
        let mut work = Vec::with_capacity(page.items.len());
        for listed in page.items {
            match (phase, listed.decode()) {
                (Phase::Records(_), Record::Bad { sys_id, reason }) => work.push(Work::Fail {
                    id: self
                        .reader
                        .instance
                        .document_id(&table, sys_id.as_deref().unwrap_or("unknown")),
                    reason: format!("{table}: {reason}"),
                }),
                (Phase::Deletions(_), Record::Bad { reason, .. }) => {
                    tracing::warn!("a {AUDIT_TABLE} record of {table} is unreadable: {reason}");
                }
                (
                    _,
                    Record::Good {
                        row,
                        sys_id,
                        updated,
                    },
                ) => {
                    // The instance applies the window; a record outside it
                    // (a filter the instance ignored) is not this sync's.
                    if !in_window(&self.window, updated) {
                        continue;
                    }
                    self.mark.advance(updated, &sys_id);
                    match phase {
                        Phase::Records(_) => work.push(Work::Build {
                            plan,
                            row,
                            sys_id,
                            journal: None,
                        }),
                        Phase::Deletions(_) => {
                            let deleted = row
                                .value("documentkey")
                                .filter(|key| crate::query::is_sys_id(key));
                            if let Some(key) = deleted {
                                work.push(Work::Deleted(
                                    self.reader.instance.document_id(&table, key),
                                ));
                            }
                        }
                    }
                }
            }
        }
        let position = match page.next.as_ref().map(from_page_cursor).transpose() {
            Err(e) => return (work, Err(e)),
            Ok(Some(next)) => Position {
                table: Some(phase.name(&self.reader)),
                mark: self.mark.clone(),
                next: Some(next),
                finished: false,
            },
            Ok(None) => match self.phases.get(self.at + 1) {
                Some(following) => Position {
                    table: Some(following.name(&self.reader)),
                    ..Position::default()
                },
                None => Position {
                    finished: true,
                    ..Position::default()
                },
            },
        };
        (work, Checkpoint::new(&position).map(Item::Checkpoint))
    }
}

/// The page's journals read in batches (see [`journal::batch`]), for
/// tables that have one.
async fn with_journals(reader: Arc<Reader>, mut work: Vec<Work>) -> Vec<Work> {
    let Some((plan, elements)) = work.iter().find_map(|w| match w {
        Work::Build { plan, .. } => reader.plans[*plan]
            .journal_elements()
            .map(|elements| (*plan, elements)),
        _ => None,
    }) else {
        return work;
    };
    let ids: Vec<String> = work
        .iter()
        .filter_map(|w| match w {
            Work::Build { sys_id, .. } => Some(sys_id.clone()),
            _ => None,
        })
        .collect();
    let mut journals = journal::batch(
        &reader.client,
        reader.plans[plan].name(),
        &ids,
        elements,
        reader.page_size,
        reader.max_journal,
        reader.concurrency,
    )
    .await
    .into_iter();
    for w in &mut work {
        if let Work::Build { journal, .. } = w {
            *journal = journals.next().flatten();
        }
    }
    work
}

/// One record's item: its document, or its failure.
async fn item(reader: Arc<Reader>, kb: Arc<KbAccess>, work: Work) -> Result<Item> {
    match work {
        Work::Fail { id, reason } => Ok(Item::Failure(DocumentFailure::new(id, reason))),
        Work::Deleted(id) => Ok(Item::Deleted(id)),
        Work::Build {
            plan,
            row,
            sys_id,
            journal,
        } => {
            let plan = &reader.plans[plan];
            match document(&reader, &kb, plan, &row, &sys_id, journal).await {
                Ok(doc) => Ok(Item::from(doc)),
                Err(e) if e.ends_stream() => Err(e),
                Err(e) => Ok(Item::Failure(DocumentFailure::new(
                    reader.instance.document_id(plan.name(), &sys_id),
                    format!("{} {sys_id} could not be read in full: {e}", plan.name()),
                ))),
            }
        }
    }
}

/// The record's document, with its journal when the table has one.
async fn document(
    reader: &Reader,
    kb: &KbAccess,
    plan: &TablePlan,
    row: &Row,
    sys_id: &str,
    journal: Option<Capped<Entry>>,
) -> Result<Document> {
    let (entries, truncated) = match (plan.journal_elements(), journal) {
        (None, _) => (Vec::new(), false),
        (Some(_), Some(read)) => (read.items, read.truncated),
        (Some(elements), None) => {
            let capped = journal::entries(
                &reader.client,
                plan.name(),
                sys_id,
                elements,
                reader.page_size,
                reader.max_journal,
            )
            .await
            .map_err(|e| e.context(format_args!("reading the journal of {sys_id}")))?;
            (capped.items, capped.truncated)
        }
    };
    let mut doc = to_document(
        &reader.instance,
        plan,
        row,
        sys_id,
        &entries,
        truncated,
        &reader.html,
    )?;
    if plan.kind == Kind::Knowledge {
        let rules = kb
            .rules(&reader.client, reader.page_size)
            .await
            .map_err(|e| e.context("reading the knowledge bases' user criteria"))?;
        crate::access::apply(&mut doc, row, rules.as_deref());
    }
    if reader.attachments {
        let listed = attachments::list(&reader.client, plan.name(), sys_id)
            .await
            .map_err(|e| e.context(format_args!("listing the attachments of {sys_id}")))?;
        if listed.truncated {
            mark_truncated(&mut doc, "attachments");
        }
        let (files, sections) = attachments::fetch(
            &reader.client,
            listed.items,
            reader.attachment_max_bytes,
            &reader.html,
        )
        .await?;
        doc.attachments = files;
        doc.sections.extend(sections);
    }
    Ok(doc)
}

/// The ids of every record in scope, table after table.
pub(crate) fn slim(reader: Arc<Reader>) -> SlimStream<'static> {
    let tables = (0..reader.plans.len()).map(move |i| {
        let plan = &reader.plans[i];
        let listing = Arc::new(Listing {
            table: plan.name().to_owned(),
            filter: plan.filter(),
            fields: Some("sys_id".to_owned()),
            display: "false",
            window: None,
            order: Order::SysId,
        });
        let instance = reader.instance.clone();
        let table = plan.name().to_owned();
        pages(
            reader.client.clone(),
            listing,
            PageSize::new(SLIM_PAGE_SIZE),
            None,
        )
        .map(move |page| {
            let ids: Vec<Result<SlimDocument>> = match page {
                Err(e) => vec![Err(e)],
                Ok(page) => page
                    .items
                    .iter()
                    .filter_map(Listed::sys_id)
                    .map(|id| Ok(SlimDocument::new(instance.document_id(&table, id))))
                    .collect(),
            };
            stream::iter(ids)
        })
        .flatten()
    });
    stream::iter(tables)
        .flatten()
        .scan(false, |ended, entry| {
            if *ended {
                return future::ready(None);
            }
            *ended = entry.is_err();
            future::ready(Some(entry))
        })
        .boxed()
}
