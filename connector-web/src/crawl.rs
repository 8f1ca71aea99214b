//! The crawl: a frontier read in order, fetched concurrently (per-host
//! permits, per-host rate), each result finished in frontier order so a
//! checkpoint after it is exact; then the confirmation pass over the pages
//! the last crawl kept and this one did not.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use connector_core::{
    Checkpoint, Document, DocumentFailure, Error, Item, MetadataValue, Result, Section,
};
use futures::future::BoxFuture;
use futures::stream::{FuturesOrdered, StreamExt};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::config::{DEFAULT_CONCURRENCY_PER_HOST, WebConfig};
use crate::fetch::{Fetched, Host, Validators, fetch, text_fingerprint};
use crate::html::PageContent;
use crate::scope::{Normalizer, Scope, authority};
use crate::sitemap;
use crate::store::{
    CrawlStore, Entry, EntryKind, PageRecord, Position, PreviousPages, fingerprint,
};

/// Links kept per page record.
const MAX_LINKS_PER_RECORD: usize = 2000;
/// Sitemap files read at most per crawl (indexes of indexes end here).
const MAX_SITEMAPS: u64 = 10_000;

/// Everything a crawl shares with its fetches.
pub(crate) struct Shared {
    pub config: Arc<WebConfig>,
    pub scope: Arc<Scope>,
    pub normalizer: Normalizer,
    pub seeds: Vec<Url>,
    pub sitemaps: Vec<Url>,
    pub state_dir: PathBuf,
}

/// The checkpoint: which crawl, where in it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WebCheckpoint {
    /// The crawl's directory name under the state directory.
    crawl: String,
    /// The last completed crawl this one revisits, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    previous: Option<String>,
    phase: Phase,
    at: Position,
    /// Offset in the previous crawl's page records (confirmation pass).
    #[serde(default)]
    confirm: u64,
    /// Pages fetched so far (against `max_pages`).
    fetched: u64,
    /// Sitemaps read so far.
    #[serde(default)]
    sitemaps: u64,
    /// Whether `max_pages` cut the crawl short.
    #[serde(default)]
    truncated: bool,
    /// Traps reported so far (each once per crawl).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    traps: Vec<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Phase {
    Crawl,
    Confirm,
    Done,
}

/// A fetch in flight and what it was for.
struct Job {
    entry: Entry,
    /// Frontier position (crawl) or page-record offset (confirmation) after it.
    done: u64,
    confirm: bool,
    host: Option<Arc<Host>>,
    future: BoxFuture<'static, Fetched>,
}

struct Finished {
    entry: Entry,
    done: u64,
    confirm: bool,
    host: Option<Arc<Host>>,
    fetched: Fetched,
}

/// Trap bounds over URLs queued: query variants per path, URLs per shape,
/// URL length; each reported once.
#[derive(Default)]
struct Traps {
    variants: HashMap<u64, u32>,
    shapes: HashMap<u64, u32>,
}

/// Trap reports kept in the checkpoint at most; further traps are still
/// bounded, only no longer reported.
const MAX_TRAP_REPORTS: usize = 1000;
/// The key of the "deeper than max_depth" report.
const DEPTH_TRAP: u64 = 2;

fn shape(url: &Url) -> String {
    let mut out = String::with_capacity(url.path().len());
    let mut in_digits = false;
    for c in url.path().chars() {
        if c.is_ascii_digit() {
            if !in_digits {
                out.push('#');
            }
            in_digits = true;
        } else {
            in_digits = false;
            out.push(c);
        }
    }
    format!("{}{}", authority(url), out)
}

impl Traps {
    /// Count a URL queued from a link (rebuilding the counts on resume).
    fn count(&mut self, url: &Url) {
        if url.query().is_some() {
            *self
                .variants
                .entry(fingerprint(&format!("{}{}", authority(url), url.path())))
                .or_default() += 1;
        }
        *self.shapes.entry(fingerprint(&shape(url))).or_default() += 1;
    }

    /// Why `url` is not queued, when it is a trap: the report's key and reason.
    fn check(&mut self, config: &WebConfig, url: &Url) -> std::result::Result<(), (u64, String)> {
        if url.as_str().len() > config.max_url_len {
            return Err((
                0,
                format!(
                    "trap: URLs longer than {} bytes are not fetched",
                    config.max_url_len
                ),
            ));
        }
        if url.query().is_some() {
            let key = fingerprint(&format!("{}{}", authority(url), url.path()));
            if self.variants.get(&key).copied().unwrap_or(0) >= config.max_query_variants {
                return Err((
                    key,
                    format!(
                        "trap: more than {} query variants of {} (ever-changing query strings); further ones are not fetched",
                        config.max_query_variants,
                        url.path()
                    ),
                ));
            }
        }
        let shape = shape(url);
        let key = fingerprint(&shape);
        if self.shapes.get(&key).copied().unwrap_or(0) >= config.max_pattern_pages {
            return Err((
                key ^ 1,
                format!(
                    "trap: more than {} URLs shaped {shape} (a calendar or numbered archive); further ones are not fetched",
                    config.max_pattern_pages
                ),
            ));
        }
        Ok(())
    }
}

/// One crawl in progress: the stream's state.
pub(crate) struct Crawl {
    shared: Arc<Shared>,
    store: CrawlStore,
    previous: Option<PreviousPages>,
    cp: WebCheckpoint,
    hosts: HashMap<String, Option<Arc<Host>>>,
    in_flight: FuturesOrdered<BoxFuture<'static, Finished>>,
    out: VecDeque<Result<Item>>,
    traps: Traps,
    /// Where the confirmation pass schedules next (ahead of `cp.confirm`).
    confirm_cursor: Option<u64>,
    /// Page requests scheduled and not finished.
    pages_in_flight: u64,
    finished: bool,
}

fn crawl_dir(state: &Path, name: &str) -> PathBuf {
    state.join(name)
}

impl Crawl {
    /// Start a crawl or resume one from its checkpoint.
    pub async fn start(shared: Arc<Shared>, from: Option<Checkpoint>) -> Result<Self> {
        std::fs::create_dir_all(&shared.state_dir).map_err(|e| {
            Error::io(
                format!("state_dir: cannot create {}", shared.state_dir.display()),
                e,
            )
        })?;
        let from: Option<WebCheckpoint> = from.map(|c| c.decode()).transpose()?;
        let mut traps = Traps::default();
        let (cp, store, fresh) = match from {
            Some(cp)
                if cp.phase != Phase::Done && crawl_dir(&shared.state_dir, &cp.crawl).is_dir() =>
            {
                let store =
                    CrawlStore::open(&crawl_dir(&shared.state_dir, &cp.crawl), Some(cp.at), |e| {
                        if e.kind == EntryKind::Page
                            && e.depth > 0
                            && let Ok(url) = Url::parse(&e.url)
                        {
                            traps.count(&url);
                        }
                    })?;
                (cp, store, false)
            }
            other => {
                // A new crawl, revisiting the last completed one when given.
                let previous = other
                    .filter(|cp| cp.phase == Phase::Done)
                    .map(|cp| cp.crawl)
                    .filter(|name| crawl_dir(&shared.state_dir, name).join("pages").is_file());
                let name = format!(
                    "crawl-{}",
                    Utc::now().timestamp_nanos_opt().unwrap_or_default()
                );
                remove_old_crawls(&shared.state_dir, &[Some(&name), previous.as_ref()]);
                let store = CrawlStore::open(&crawl_dir(&shared.state_dir, &name), None, |_| {})?;
                let cp = WebCheckpoint {
                    crawl: name,
                    previous,
                    phase: Phase::Crawl,
                    at: Position {
                        read: 0,
                        frontier: 0,
                        pages: 0,
                        failures: 0,
                    },
                    confirm: 0,
                    fetched: 0,
                    sitemaps: 0,
                    truncated: false,
                    traps: Vec::new(),
                };
                (cp, store, true)
            }
        };
        let previous = match &cp.previous {
            Some(name) => PreviousPages::open(&crawl_dir(&shared.state_dir, name))?,
            None => None,
        };
        let mut store = store;
        if let Some(name) = &cp.previous {
            store.known_failures(&crawl_dir(&shared.state_dir, name))?;
        }
        let mut crawl = Self {
            shared,
            store,
            previous,
            cp,
            hosts: HashMap::new(),
            in_flight: FuturesOrdered::new(),
            out: VecDeque::new(),
            traps,
            confirm_cursor: None,
            pages_in_flight: 0,
            finished: false,
        };
        if fresh {
            crawl.seed().await?;
        }
        Ok(crawl)
    }

    /// Queue the seeds, the sitemaps and the robots.txt sitemaps.
    async fn seed(&mut self) -> Result<()> {
        let shared = self.shared.clone();
        for url in &shared.seeds {
            if let Some(url) = shared.normalizer.normalize(url) {
                self.store.push(&Entry {
                    kind: EntryKind::Page,
                    depth: 0,
                    lastmod: None,
                    url: url.into(),
                })?;
            }
        }
        for url in &shared.sitemaps {
            self.push_sitemap(url.as_str())?;
        }
        if shared.config.robots_sitemaps {
            for url in shared.seeds.iter().chain(&shared.sitemaps) {
                if let Some(host) = self.host(url).await? {
                    for sitemap in host.sitemaps.clone() {
                        self.push_sitemap(&sitemap)?;
                    }
                }
            }
        }
        self.checkpoint(0)
    }

    fn push_sitemap(&mut self, raw: &str) -> Result<()> {
        let Some(url) = Url::parse(raw.trim())
            .ok()
            .and_then(|u| self.shared.normalizer.normalize(&u))
        else {
            return Ok(());
        };
        if self.shared.scope.host_in(&url) {
            self.store.push(&Entry {
                kind: EntryKind::Sitemap,
                depth: 0,
                lastmod: None,
                url: url.into(),
            })?;
        }
        Ok(())
    }

    /// The host of `url`, opened (robots.txt read) on first use; `None`
    /// when it cannot be reached.
    async fn host(&mut self, url: &Url) -> Result<Option<Arc<Host>>> {
        let key = url.origin().ascii_serialization();
        if let Some(host) = self.hosts.get(&key) {
            return Ok(host.clone());
        }
        let host = match Host::open(&self.shared.config, url).await {
            Ok(host) => Some(Arc::new(host)),
            Err(e) if e.ends_stream() => return Err(e),
            Err(e) => {
                self.out.push_back(Ok(Item::Failure(DocumentFailure::new(
                    key.clone(),
                    format!("cannot crawl this host: {e}"),
                ))));
                None
            }
        };
        self.hosts.insert(key, host.clone());
        Ok(host)
    }

    fn checkpoint(&mut self, done: u64) -> Result<()> {
        self.cp.at = self.store.position(done)?;
        self.out
            .push_back(Ok(Item::Checkpoint(Checkpoint::new(&self.cp)?)));
        Ok(())
    }

    /// Report a failure, unless the last crawl reported the same one.
    fn fail(&mut self, id: &str, reason: impl Into<String>) {
        let reason = reason.into();
        match self.store.failed(id, &reason) {
            Ok(true) => self
                .out
                .push_back(Ok(Item::Failure(DocumentFailure::new(id, reason)))),
            Ok(false) => tracing::debug!(id, reason, "failed as in the last crawl"),
            Err(e) => self.out.push_back(Err(e)),
        }
    }

    fn max_in_flight(&self) -> usize {
        let per_host = self
            .shared
            .config
            .options
            .concurrency_or(DEFAULT_CONCURRENCY_PER_HOST)
            .max(1);
        (per_host * self.shared.scope.hosts().count().max(1) * 2).clamp(2, 256)
    }

    /// The next item of the stream, `None` at the end.
    pub async fn next_item(&mut self) -> Option<Result<Item>> {
        loop {
            if let Some(item) = self.out.pop_front() {
                if item.is_err() {
                    self.finished = true;
                    self.out.clear();
                }
                return Some(item);
            }
            if self.finished {
                return None;
            }
            if let Err(e) = self.step().await {
                self.finished = true;
                return Some(Err(e));
            }
        }
    }

    /// Fill the pipeline, finish one fetch, or move to the next phase.
    async fn step(&mut self) -> Result<()> {
        let mut exhausted = false;
        while self.in_flight.len() < self.max_in_flight() && self.out.is_empty() {
            let job = match self.cp.phase {
                Phase::Crawl => self.next_crawl_job().await?,
                Phase::Confirm => self.next_confirm_job().await?,
                Phase::Done => None,
            };
            let Some(job) = job else {
                exhausted = true;
                break;
            };
            let Job {
                entry,
                done,
                confirm,
                host,
                future,
            } = job;
            self.in_flight.push_back(Box::pin(async move {
                Finished {
                    fetched: future.await,
                    entry,
                    done,
                    confirm,
                    host,
                }
            }));
        }
        if !self.out.is_empty() {
            return Ok(());
        }
        if let Some(done) = self.in_flight.next().await {
            return self.finish(done);
        }
        if !exhausted {
            return Ok(());
        }
        // Nothing in flight, nothing left: the next phase.
        match self.cp.phase {
            Phase::Crawl => {
                self.cp.phase = if self.previous.is_some() && !self.cp.truncated {
                    Phase::Confirm
                } else {
                    Phase::Done
                };
                let done = self.store.position(0)?.frontier;
                self.checkpoint(done)?;
            }
            Phase::Confirm => {
                self.cp.phase = Phase::Done;
                let done = self.cp.at.read;
                self.checkpoint(done)?;
            }
            Phase::Done => {}
        }
        if self.cp.phase == Phase::Done {
            self.finished = true;
        }
        Ok(())
    }

    /// A job that needs no request.
    fn ready(entry: Entry, done: u64, confirm: bool, outcome: Fetched) -> Job {
        Job {
            entry,
            done,
            confirm,
            host: None,
            future: Box::pin(async move { outcome }),
        }
    }

    /// The next frontier entry as a job; `None` when the frontier is drained.
    async fn next_crawl_job(&mut self) -> Result<Option<Job>> {
        let Some((entry, done)) = self.store.next()? else {
            return Ok(None);
        };
        let Ok(url) = Url::parse(&entry.url) else {
            return Ok(Some(Self::ready(
                entry,
                done,
                false,
                Fetched::Skipped(String::new()),
            )));
        };
        let config = self.shared.config.clone();
        if entry.kind == EntryKind::Page
            && self.cp.fetched + self.pages_in_flight >= config.max_pages
        {
            return Ok(Some(Self::ready(entry, done, false, Fetched::OverBudget)));
        }
        if entry.kind == EntryKind::Sitemap {
            if self.cp.sitemaps >= MAX_SITEMAPS {
                return Ok(Some(Self::ready(
                    entry,
                    done,
                    false,
                    Fetched::Skipped(String::new()),
                )));
            }
            self.cp.sitemaps += 1;
        }
        let Some(host) = self.host(&url).await? else {
            return Ok(Some(Self::ready(
                entry,
                done,
                false,
                Fetched::Skipped(String::new()),
            )));
        };
        if entry.kind == EntryKind::Page && !host.allowed(&url) {
            tracing::debug!(url = %url, "disallowed by robots.txt");
            return Ok(Some(Self::ready(
                entry,
                done,
                false,
                Fetched::Skipped(String::new()),
            )));
        }
        let previous = match (&mut self.previous, entry.kind) {
            (Some(prev), EntryKind::Page) => prev.get(&entry.url)?,
            _ => None,
        };
        // Unchanged by its sitemap lastmod: no request at all.
        if let (Some(prev), Some(lastmod)) = (&previous, entry.lastmod)
            && lastmod <= prev.fetched
        {
            let prev = prev.clone();
            return Ok(Some(Self::ready(
                entry,
                done,
                false,
                Fetched::NotModified(prev),
            )));
        }
        if entry.kind == EntryKind::Page {
            self.pages_in_flight += 1;
        }
        let future = fetch(
            host.clone(),
            config,
            self.shared.scope.clone(),
            url,
            entry.kind,
            previous,
        );
        Ok(Some(Job {
            entry,
            done,
            confirm: false,
            host: Some(host),
            future: Box::pin(future),
        }))
    }

    /// The next page of the last crawl, to confirm; `None` at the end.
    async fn next_confirm_job(&mut self) -> Result<Option<Job>> {
        loop {
            let Some(prev) = &mut self.previous else {
                return Ok(None);
            };
            let at = self.confirm_cursor.unwrap_or(self.cp.confirm);
            let Some((record, next)) = prev.read_at(at)? else {
                return Ok(None);
            };
            self.confirm_cursor = Some(next);
            if self.store.kept(&record.url) {
                continue;
            }
            let entry = Entry {
                kind: EntryKind::Page,
                depth: self.shared.config.max_depth,
                lastmod: None,
                url: record.url.clone(),
            };
            let Some(url) = Url::parse(&record.url).ok() else {
                return Ok(Some(Self::ready(entry, next, true, Fetched::Gone(0))));
            };
            if self.shared.scope.refuses(&url).is_some() {
                // Out of scope now.
                return Ok(Some(Self::ready(entry, next, true, Fetched::Gone(0))));
            }
            let Some(host) = self.host(&url).await? else {
                // The host cannot be reached: nothing is confirmed.
                return Ok(Some(Self::ready(
                    entry,
                    next,
                    true,
                    Fetched::Skipped(String::new()),
                )));
            };
            if !host.allowed(&url) {
                return Ok(Some(Self::ready(entry, next, true, Fetched::Gone(0))));
            }
            let future = fetch(
                host.clone(),
                self.shared.config.clone(),
                self.shared.scope.clone(),
                url,
                EntryKind::Page,
                Some(record),
            );
            return Ok(Some(Job {
                entry,
                done: next,
                confirm: true,
                host: Some(host),
                future: Box::pin(future),
            }));
        }
    }

    /// Finish one fetch, in frontier order, then checkpoint after it.
    fn finish(&mut self, done: Finished) -> Result<()> {
        let Finished {
            entry,
            done,
            confirm,
            host,
            fetched,
        } = done;
        if !confirm && entry.kind == EntryKind::Page && host.is_some() {
            self.pages_in_flight = self.pages_in_flight.saturating_sub(1);
            self.cp.fetched += 1;
        }
        let kept = match fetched {
            Fetched::Fatal(e) => return Err(e),
            Fetched::OverBudget => {
                if !self.cp.truncated {
                    self.cp.truncated = true;
                    let reason = format!(
                        "max_pages ({}) reached: this and further queued URLs are not fetched",
                        self.shared.config.max_pages
                    );
                    self.fail(&entry.url, reason);
                }
                false
            }
            Fetched::Sitemap { body } => {
                self.read_sitemap(&entry, &body)?;
                false
            }
            Fetched::NotModified(record) => {
                if !confirm {
                    self.queue_links(
                        &entry,
                        record.links.iter().filter_map(|l| Url::parse(l).ok()),
                    )?;
                }
                self.store.keep(&PageRecord {
                    fetched: Utc::now(),
                    ..record
                })?;
                true
            }
            Fetched::Gone(status) => {
                if !confirm && self.previous_has(&entry.url) {
                    // The confirmation pass decides.
                } else if !confirm {
                    self.fail(
                        &entry.url,
                        format!("HTTP {status}: a broken link; not kept"),
                    );
                }
                false
            }
            Fetched::Skipped(reason) => {
                if confirm {
                    // Not confirmed gone: keep the last record.
                    if let Some(record) = self.previous_record(&entry.url)? {
                        self.store.keep(&record)?;
                    }
                }
                if !reason.is_empty() {
                    self.fail(&entry.url, reason);
                }
                confirm
            }
            Fetched::Html {
                final_url,
                validators,
                content,
            } => self.finish_html(
                &entry,
                confirm,
                host.as_deref(),
                final_url,
                validators,
                *content,
            )?,
            Fetched::Text {
                final_url,
                validators,
                text,
            } => {
                let mut content = PageContent {
                    text,
                    ..PageContent::default()
                };
                content.title = final_url
                    .path_segments()
                    .and_then(|mut s| s.next_back())
                    .map(str::to_owned);
                self.finish_html(&entry, confirm, None, final_url, validators, content)?
            }
            Fetched::File {
                final_url,
                validators,
                mime,
                body,
            } => self.finish_file(&entry, final_url, validators, &mime, &body)?,
        };
        if confirm {
            if !kept {
                self.out.push_back(Ok(Item::Deleted(entry.url)));
            }
            self.cp.confirm = done;
            let at = self.cp.at.read;
            return self.checkpoint(at);
        }
        self.checkpoint(done)
    }

    fn report_trap(&mut self, id: &str, key: u64, reason: String) {
        if self.cp.traps.contains(&key) || self.cp.traps.len() >= MAX_TRAP_REPORTS {
            return;
        }
        self.cp.traps.push(key);
        self.fail(id, reason);
    }

    fn previous_has(&mut self, url: &str) -> bool {
        matches!(self.previous_record(url), Ok(Some(_)))
    }

    fn previous_record(&mut self, url: &str) -> Result<Option<PageRecord>> {
        match &mut self.previous {
            Some(prev) => prev.get(url),
            None => Ok(None),
        }
    }

    fn read_sitemap(&mut self, entry: &Entry, body: &[u8]) -> Result<()> {
        let parsed = sitemap::gunzip_if_needed(body, sitemap::MAX_SITEMAP_BYTES)
            .and_then(|b| sitemap::parse(&b));
        let map = match parsed {
            Ok(map) => map,
            Err(reason) => {
                self.fail(&entry.url, format!("sitemap: {reason}"));
                return Ok(());
            }
        };
        let mut refused = 0u64;
        for page in map.pages {
            let Some(url) = Url::parse(&page.loc)
                .ok()
                .and_then(|u| self.shared.normalizer.normalize(&u))
            else {
                refused += 1;
                continue;
            };
            if self.shared.scope.refuses(&url).is_some() {
                refused += 1;
                continue;
            }
            self.store.push(&Entry {
                kind: EntryKind::Page,
                depth: 0,
                lastmod: page.lastmod,
                url: url.into(),
            })?;
        }
        for child in map.sitemaps {
            self.push_sitemap(&child.loc)?;
        }
        if refused > 0 {
            tracing::debug!(sitemap = %entry.url, refused, "sitemap URLs outside the scope");
        }
        Ok(())
    }

    /// Queue `links` found on `entry`'s page; the in-scope ones, normalised.
    fn queue_links(
        &mut self,
        entry: &Entry,
        links: impl Iterator<Item = Url>,
    ) -> Result<Vec<String>> {
        let config = self.shared.config.clone();
        let mut kept = Vec::new();
        let follow = config.follow_links;
        let deeper = entry.depth + 1;
        for link in links {
            let Some(url) = self.shared.normalizer.normalize(&link) else {
                continue;
            };
            if self.shared.scope.refuses(&url).is_some() {
                continue;
            }
            let raw: String = url.clone().into();
            if kept.len() < MAX_LINKS_PER_RECORD {
                kept.push(raw.clone());
            }
            if !follow || self.store.seen(&raw) {
                continue;
            }
            if deeper > config.max_depth {
                let reason = format!(
                    "trap: links deeper than max_depth ({}) are not followed",
                    config.max_depth
                );
                self.report_trap(&raw, DEPTH_TRAP, reason);
                continue;
            }
            if let Err((key, reason)) = self.traps.check(&config, &url) {
                self.report_trap(&raw, key, reason);
                continue;
            }
            if self.store.push(&Entry {
                kind: EntryKind::Page,
                depth: deeper,
                lastmod: None,
                url: raw,
            })? {
                self.traps.count(&url);
            }
        }
        Ok(kept)
    }

    /// The id a page is kept under: its URL after redirects; `None` when
    /// that page is fetched on its own (queued already, or its in-scope
    /// canonical, queued now) or was kept already.
    fn page_id(
        &mut self,
        entry: &Entry,
        final_url: &Url,
        canonical: Option<&Url>,
    ) -> Result<Option<String>> {
        let id = self
            .shared
            .normalizer
            .normalize(final_url)
            .map(String::from)
            .unwrap_or_else(|| entry.url.clone());
        if let Some(c) = canonical.and_then(|c| self.shared.normalizer.normalize(c))
            && self.shared.scope.refuses(&c).is_none()
            && String::from(c.clone()) != id
        {
            // The canonical page stands for this one: fetch it instead.
            self.store.push(&Entry {
                kind: EntryKind::Page,
                depth: entry.depth,
                lastmod: None,
                url: c.into(),
            })?;
            return Ok(None);
        }
        if self.store.kept(&id) {
            return Ok(None);
        }
        if id != entry.url {
            // Redirected: to a page queued on its own, or to one only this
            // redirect reaches.
            if self.store.seen(&id) {
                return Ok(None);
            }
            self.store.mark_seen(&id);
        }
        Ok(Some(id))
    }

    #[allow(clippy::too_many_arguments)]
    fn finish_html(
        &mut self,
        entry: &Entry,
        confirm: bool,
        host: Option<&Host>,
        final_url: Url,
        validators: Validators,
        content: PageContent,
    ) -> Result<bool> {
        let links = if confirm || content.nofollow {
            Vec::new()
        } else {
            self.queue_links(entry, content.links.iter().cloned())?
        };
        let Some(id) = self.page_id(entry, &final_url, content.canonical.as_ref())? else {
            tracing::debug!(url = %entry.url, "a duplicate of a page kept already");
            return Ok(confirm);
        };
        if content.noindex {
            tracing::debug!(url = %entry.url, "noindex");
            return Ok(false);
        }
        if let Some(soft) = host.and_then(|h| h.soft_404)
            && text_fingerprint(&content.text) == soft
        {
            self.fail(&id, "soft 404: the page reads like the host's answer to a page that does not exist; not kept");
            return Ok(false);
        }
        if content.text.trim().is_empty() {
            self.fail(
                &id,
                "the page has no main text (JavaScript rendering is not done); not kept",
            );
            return Ok(false);
        }
        let mut doc = Document::new(
            "web",
            &id,
            content.title.clone().unwrap_or_else(|| id.clone()),
        );
        doc.url = Some(id.clone());
        doc.updated_at = updated_at(&validators, entry.lastmod);
        doc.hierarchy = hierarchy(&final_url);
        doc.sections
            .push(Section::with_link(content.text, id.clone()));
        let meta = &mut doc.metadata;
        if let Some(d) = content.description.filter(|d| !d.is_empty()) {
            meta.insert("description".into(), d.into());
        }
        if let Some(l) = content.language.filter(|l| !l.is_empty()) {
            meta.insert("language".into(), l.into());
        }
        if !validators.content_type.is_empty() {
            meta.insert(
                "content_type".into(),
                validators.content_type.clone().into(),
            );
        }
        if let Some(lm) = &validators.last_modified {
            meta.insert("last_modified".into(), lm.clone().into());
        }
        meta.insert("depth".into(), MetadataValue::from(entry.depth.to_string()));
        self.store.keep(&PageRecord {
            url: id,
            etag: validators.etag,
            last_modified: validators.last_modified,
            fetched: Utc::now(),
            links,
        })?;
        self.out.push_back(Ok(Item::from(doc)));
        Ok(true)
    }

    fn finish_file(
        &mut self,
        entry: &Entry,
        final_url: Url,
        validators: Validators,
        mime: &str,
        body: &[u8],
    ) -> Result<bool> {
        let Some(id) = self.page_id(entry, &final_url, None)? else {
            return Ok(false);
        };
        let name = final_url
            .path_segments()
            .and_then(|mut s| s.next_back())
            .filter(|s| !s.is_empty())
            .unwrap_or("file")
            .to_owned();
        let mut doc = Document::new("web", &id, name.clone());
        doc.url = Some(id.clone());
        doc.updated_at = updated_at(&validators, entry.lastmod);
        doc.hierarchy = hierarchy(&final_url);
        doc.metadata
            .insert("content_type".into(), mime.to_owned().into());
        if let Err(reason) = extract_into(&mut doc, body, &name, mime) {
            self.fail(&id, reason);
            return Ok(false);
        }
        self.store.keep(&PageRecord {
            url: id,
            etag: validators.etag,
            last_modified: validators.last_modified,
            fetched: Utc::now(),
            links: Vec::new(),
        })?;
        self.out.push_back(Ok(Item::from(doc)));
        Ok(true)
    }
}

/// The file's text into `doc`, through the extraction crate.
fn extract_into(
    doc: &mut Document,
    bytes: &[u8],
    name: &str,
    mime: &str,
) -> std::result::Result<(), String> {
    #[cfg(feature = "extract")]
    {
        let extracted = connector_extract::Extractor::default()
            .extract_blocking(bytes, name, Some(mime))
            .map_err(|e| e.to_string())?;
        let link = doc.url.clone();
        extracted.fill(doc, link.as_deref());
        Ok(())
    }
    #[cfg(not(feature = "extract"))]
    {
        let _ = (doc, bytes, name, mime);
        Err("text extraction is not built in (feature `extract`)".into())
    }
}

fn updated_at(validators: &Validators, lastmod: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    validators
        .last_modified
        .as_deref()
        .and_then(|lm| httpdate::parse_http_date(lm).ok())
        .map(DateTime::<Utc>::from)
        .or(lastmod)
}

/// Host, then the directories of the path.
fn hierarchy(url: &Url) -> Vec<String> {
    let mut out = vec![authority(url)];
    if let Some(segments) = url.path_segments() {
        let segments: Vec<&str> = segments.collect();
        if segments.len() > 1 {
            out.extend(
                segments[..segments.len() - 1]
                    .iter()
                    .filter(|s| !s.is_empty())
                    .map(|s| (*s).to_owned()),
            );
        }
    }
    out
}

/// Remove crawl directories other than `keep`.
fn remove_old_crawls(state: &Path, keep: &[Option<&String>]) {
    let Ok(entries) = std::fs::read_dir(state) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("crawl-") && !keep.iter().flatten().any(|k| **k == name) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_collapse_digits() {
        let url = Url::parse("https://x.com/cal/2026/12/01?view=day").expect("url");
        assert_eq!(shape(&url), "x.com/cal/#/#/#");
    }
}
