//! The document stream: the repositories in scope, then each one's issues
//! pages (through core's pager) → documents, built several at a time in
//! page order, each page followed by a checkpoint.

use std::sync::Arc;

use connector_core::paging::{Capped, Fetched, PageCursor, collect_capped, ordered};
use connector_core::watermark::Watermark;
use connector_core::{
    Checkpoint, DocumentFailure, ErrorKind, Item, ItemStream, Result, SlimDocument, SlimStream,
    TimeWindow,
};
use futures::future;
use futures::stream::{self, BoxStream, StreamExt};
use serde::Deserialize;

use crate::access::Readers;
use crate::checkpoint::{Cursor, DiscussionsAt, FilesAt, Position};
use crate::client::{GitHubClient, PER_PAGE};
use crate::config::{GitHubConfig, RepoFilter};
use crate::convert::{Site, Thread, to_document};
use crate::discussions;
use crate::files::{self, Change, FileRules};
use crate::listing::{self, from_page_cursor};
use crate::model::{Comment, Issue, Listed, Repo};
use crate::repos;

/// What the streams read from and how.
#[derive(Debug)]
pub(crate) struct Reader {
    pub(crate) client: GitHubClient,
    pub(crate) site: Site,
    pub(crate) config: GitHubConfig,
    pub(crate) filter: RepoFilter,
    pub(crate) rules: FileRules,
    pub(crate) concurrency: usize,
    pub(crate) readers: Readers,
}

/// Files read between two checkpoints.
const FILE_BATCH: usize = 50;

/// Where a repository's reading starts.
#[derive(Debug, Clone)]
enum Start {
    Issues {
        next: Option<Cursor>,
        mark: Watermark,
    },
    Discussions {
        after: Option<String>,
    },
    Files {
        after: Option<String>,
    },
}

/// The parts of a repository, in the order they are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Part {
    Issues,
    Discussions,
    Files,
}

impl Part {
    /// The parts `config` syncs, in order.
    fn all(config: &GitHubConfig) -> Vec<Part> {
        let mut parts = Vec::new();
        if config.issues || config.pull_requests {
            parts.push(Part::Issues);
        }
        if config.discussions {
            parts.push(Part::Discussions);
        }
        if config.files {
            parts.push(Part::Files);
        }
        parts
    }

    fn of(start: &Start) -> Part {
        match start {
            Start::Issues { .. } => Part::Issues,
            Start::Discussions { .. } => Part::Discussions,
            Start::Files { .. } => Part::Files,
        }
    }

    fn fresh(self) -> Start {
        match self {
            Part::Issues => Start::Issues {
                next: None,
                mark: Watermark::default(),
            },
            Part::Discussions => Start::Discussions { after: None },
            Part::Files => Start::Files { after: None },
        }
    }
}

/// The checkpoint after `part` of repository `at`: the next part's start,
/// the next repository's, or the end.
fn after_part(reader: &Reader, repos: &[Repo], at: usize, part: Part) -> Result<Item> {
    let following = Part::all(&reader.config).into_iter().find(|p| *p > part);
    let repo = Some(repos[at].full_name.clone());
    let position = match following {
        Some(Part::Discussions) => Position {
            repo,
            discussions: Some(DiscussionsAt::default()),
            ..Position::default()
        },
        Some(Part::Files) => Position {
            repo,
            files: Some(FilesAt::default()),
            ..Position::default()
        },
        _ => return after_repo(repos, at),
    };
    Checkpoint::new(&position).map(Item::Checkpoint)
}

impl Reader {
    /// Who may read `repo`'s documents: everyone for a public repository;
    /// with `private_access`, a private one's collaborators and teams;
    /// otherwise unknown.
    async fn access(&self, repo: &Repo) -> Result<Option<connector_core::Access>> {
        if repo.private && !self.config.private_access {
            return Ok(None);
        }
        Ok(self
            .readers
            .of(&self.client, repo)
            .await?
            .map(|a| (*a).clone()))
    }

    /// Whether an issue (or a pull request) is synced.
    fn wants(&self, issue: &Issue) -> bool {
        if issue.is_pull_request() {
            self.config.pull_requests
        } else {
            self.config.issues
        }
    }
}

/// Ends a stream at its first error.
fn until_error<'a, T: Send + 'a>(
    s: impl futures::Stream<Item = Result<T>> + Send + 'a,
) -> BoxStream<'a, Result<T>> {
    s.scan(false, |ended, item| {
        if *ended {
            return future::ready(None);
        }
        *ended = item.is_err();
        future::ready(Some(item))
    })
    .boxed()
}

/// Documents of every repository's issues and pull requests changed in
/// `window`, from `from` on.
pub(crate) fn items(
    reader: Arc<Reader>,
    window: TimeWindow,
    from: Position,
) -> ItemStream<'static> {
    if from.finished {
        return stream::empty().boxed();
    }
    let resolve = {
        let reader = reader.clone();
        async move {
            reader.readers.forget().await;
            repos::in_scope(&reader.client, &reader.config, &reader.filter).await
        }
    };
    let all = stream::once(resolve).flat_map(move |repos| match repos {
        Err(e) => stream::once(future::ready(Err(e))).boxed(),
        Ok(repos) => repos_items(reader.clone(), repos.into(), window, from.clone()),
    });
    until_error(all)
}

/// The items of `repos` from the position `from` names.
fn repos_items(
    reader: Arc<Reader>,
    repos: Arc<[Repo]>,
    window: TimeWindow,
    from: Position,
) -> ItemStream<'static> {
    // Repositories are sorted by name: resume at the one the checkpoint
    // names, or at the next one when it is gone.
    let (start, same) = match &from.repo {
        None => (0, false),
        Some(name) => {
            let key = name.to_ascii_lowercase();
            let at = repos
                .iter()
                .position(|r| r.full_name.to_ascii_lowercase() >= key)
                .unwrap_or(repos.len());
            let same = repos
                .get(at)
                .is_some_and(|r| r.full_name.eq_ignore_ascii_case(name));
            (at, same)
        }
    };
    let steps = (start..repos.len()).map(move |i| {
        let resumed = i == start && same;
        let start = match (&from.files, &from.discussions) {
            (Some(files), _) if resumed => Start::Files {
                after: files.after.clone(),
            },
            (None, Some(discussions)) if resumed => Start::Discussions {
                after: discussions.after.clone(),
            },
            _ if resumed => Start::Issues {
                next: from.next.clone(),
                mark: from.mark.clone(),
            },
            _ => Start::Issues {
                next: None,
                mark: Watermark::default(),
            },
        };
        (i, start)
    });
    stream::iter(steps)
        .flat_map(move |(i, start)| repo_items(reader.clone(), repos.clone(), i, window, start))
        .boxed()
}

/// One repository's items: its issues and pull requests, then its files.
fn repo_items(
    reader: Arc<Reader>,
    repos: Arc<[Repo]>,
    at: usize,
    window: TimeWindow,
    start: Start,
) -> ItemStream<'static> {
    // The stored start when its part is still synced; else the first
    // part synced after it, from its beginning.
    let part = Part::of(&start);
    let mut steps: Vec<Start> = Part::all(&reader.config)
        .into_iter()
        .filter(|p| *p >= part)
        .map(Part::fresh)
        .collect();
    if let Some(first) = steps.first_mut()
        && Part::of(first) == part
    {
        *first = start;
    }
    if steps.is_empty() {
        return stream::once(future::ready(after_repo(&repos, at))).boxed();
    }
    stream::iter(steps)
        .flat_map(move |start| match start {
            Start::Issues { next, mark } => {
                issue_items(reader.clone(), repos.clone(), at, window, next, mark)
            }
            Start::Discussions { after } => {
                discussion_items(reader.clone(), repos.clone(), at, window, after)
            }
            Start::Files { after } => files_items(reader.clone(), repos.clone(), at, window, after),
        })
        .boxed()
}

/// One repository's discussions updated in `window`, from cursor `after`.
fn discussion_items(
    reader: Arc<Reader>,
    repos: Arc<[Repo]>,
    at: usize,
    window: TimeWindow,
    after: Option<String>,
) -> ItemStream<'static> {
    let repo = repos[at].clone();
    let since = (!window.is_full()).then_some(window.start);
    let name: Arc<str> = repo.full_name.as_str().into();
    discussions::pages(reader.client.clone(), name, since, after)
        .map(move |page| {
            let (reader, repos, repo) = (reader.clone(), repos.clone(), repo.clone());
            match page {
                // Discussions turned off, or not readable with this token.
                Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::Forbidden) => {
                    tracing::warn!("{e}; no discussions synced from {}", repo.full_name);
                    stream::once(future::ready(after_part(
                        &reader,
                        &repos,
                        at,
                        Part::Discussions,
                    )))
                    .boxed()
                }
                Err(e) => stream::once(future::ready(Err(e))).boxed(),
                Ok(page) => {
                    let checkpoint = match &page.next {
                        Some(PageCursor::Token(cursor)) => Checkpoint::new(&Position {
                            repo: Some(repo.full_name.clone()),
                            discussions: Some(DiscussionsAt {
                                after: Some(cursor.clone()),
                            }),
                            ..Position::default()
                        })
                        .map(Item::Checkpoint),
                        _ => after_part(&reader, &repos, at, Part::Discussions),
                    };
                    let work: Vec<discussions::Listed> = page
                        .items
                        .into_iter()
                        .filter(|d| d.updated().is_none_or(|t| window.contains(t)))
                        .collect();
                    let concurrency = reader.concurrency;
                    ordered(work, concurrency, move |listed| {
                        discussion_item(reader.clone(), repo.clone(), listed)
                    })
                    .chain(stream::once(future::ready(checkpoint)))
                    .boxed()
                }
            }
        })
        .flatten()
        .boxed()
}

/// One discussion's item: its document, or its failure.
async fn discussion_item(
    reader: Arc<Reader>,
    repo: Repo,
    listed: discussions::Listed,
) -> Result<Item> {
    match listed.decode() {
        Ok(d) => {
            let mut doc = discussions::to_document(&reader.site, &repo, &d);
            doc.access = reader.access(&repo).await?;
            Ok(Item::from(doc))
        }
        Err(reason) => Ok(Item::Failure(DocumentFailure::new(
            reader.site.discussion_id(
                &repo.full_name,
                &listed.number().unwrap_or_else(|| "unknown".into()),
            ),
            format!("a discussion of {} is unreadable: {reason}", repo.full_name),
        ))),
    }
}

/// The checkpoint after repository `at`: the next one's start, or the end.
fn after_repo(repos: &[Repo], at: usize) -> Result<Item> {
    let position = match repos.get(at + 1) {
        Some(following) => Position {
            repo: Some(following.full_name.clone()),
            ..Position::default()
        },
        None => Position {
            finished: true,
            ..Position::default()
        },
    };
    Checkpoint::new(&position).map(Item::Checkpoint)
}

/// One repository's documentation files changed in `window`, after `after`.
fn files_items(
    reader: Arc<Reader>,
    repos: Arc<[Repo]>,
    at: usize,
    window: TimeWindow,
    after: Option<String>,
) -> ItemStream<'static> {
    let repo = repos[at].clone();
    let listed = {
        let reader = reader.clone();
        let repo = repo.clone();
        async move { files::changes(&reader.client, &reader.rules, &repo, &window).await }
    };
    stream::once(listed)
        .flat_map(move |changes| {
            let changes = match changes {
                Err(e) if files::is_no_files(&e) => {
                    tracing::warn!("{e}; no files synced from {}", repo.full_name);
                    return stream::once(future::ready(after_repo(&repos, at))).boxed();
                }
                Err(e) => {
                    let what = format!("the files of {}", repo.full_name);
                    return stream::once(future::ready(Err(reader.client.explain(&what, e))))
                        .boxed();
                }
                Ok(changes) => changes,
            };
            let pending: Vec<Change> = changes
                .into_iter()
                .filter(|c| after.as_deref().is_none_or(|a| c.path() > a))
                .collect();
            let batches: Vec<Vec<Change>> =
                pending.chunks(FILE_BATCH).map(<[Change]>::to_vec).collect();
            let count = batches.len();
            if count == 0 {
                return stream::once(future::ready(after_repo(&repos, at))).boxed();
            }
            let (reader, repos, repo) = (reader.clone(), repos.clone(), repo.clone());
            stream::iter(batches.into_iter().enumerate())
                .flat_map(move |(k, batch)| {
                    let checkpoint = if k + 1 == count {
                        after_repo(&repos, at)
                    } else {
                        Checkpoint::new(&Position {
                            repo: Some(repo.full_name.clone()),
                            files: Some(FilesAt {
                                after: batch.last().map(|c| c.path().to_owned()),
                            }),
                            ..Position::default()
                        })
                        .map(Item::Checkpoint)
                    };
                    let (reader, repo) = (reader.clone(), repo.clone());
                    ordered(batch, reader.concurrency, move |change| {
                        file_item(reader.clone(), repo.clone(), change)
                    })
                    .filter_map(|item| future::ready(item.transpose()))
                    .chain(stream::once(future::ready(checkpoint)))
                })
                .boxed()
        })
        .boxed()
}

/// One file change's item.
async fn file_item(reader: Arc<Reader>, repo: Repo, change: Change) -> Result<Option<Item>> {
    let site = &reader.site;
    let (path, sha) = match change {
        Change::Removed { path } => {
            return Ok(Some(Item::Deleted(site.file_id(&repo.full_name, &path))));
        }
        Change::Upsert { path, sha } => (path, sha),
    };
    let id = site.file_id(&repo.full_name, &path);
    match files::blob(&reader.client, &repo, &sha, reader.rules.max_bytes).await {
        Ok(Some(bytes)) => {
            let mut doc = files::to_document(site, &repo, &path, &sha, &bytes);
            doc.access = reader.access(&repo).await?;
            Ok(Some(Item::from(doc)))
        }
        // Grown past the size limit: no longer a document.
        Ok(None) => Ok(Some(Item::Deleted(id))),
        Err(e) if e.ends_stream() => Err(e),
        Err(e) => Ok(Some(Item::Failure(DocumentFailure::new(
            id,
            format!("{}: {path} could not be read: {e}", repo.full_name),
        )))),
    }
}

/// One repository's issues and pull requests.
fn issue_items(
    reader: Arc<Reader>,
    repos: Arc<[Repo]>,
    at: usize,
    window: TimeWindow,
    next: Option<Cursor>,
    mark: Watermark,
) -> ItemStream<'static> {
    let repo = &repos[at];
    // A poll that starts this repository afresh asks first whether
    // anything changed (conditionally: free when nothing did).
    let probe = next.is_none() && !window.is_full() && mark.after.is_none();
    let first = next.unwrap_or_else(|| Cursor {
        since: (!window.is_full() || mark.after.is_some())
            .then(|| listing::since(mark.resume_at(window.start))),
        page: 1,
    });
    let name: Arc<str> = repo.full_name.as_str().into();
    let pages = listing::pages(reader.client.clone(), name, Some(window.end), first, probe);
    let progress = Progress {
        reader: reader.clone(),
        repos,
        at,
        window,
        mark,
    };
    pages
        .scan(progress, move |progress, page| {
            let items = match page {
                // Deleted, renamed or its issues turned off since it was
                // listed: nothing to read there.
                Err(e) if e.kind() == ErrorKind::NotFound => {
                    tracing::warn!("{e}; going on with the next repository");
                    stream::once(future::ready(progress.moved_on())).boxed()
                }
                Err(e) => stream::once(future::ready(Err(e))).boxed(),
                Ok(page) => {
                    let (work, checkpoint) = progress.take(page);
                    let reader = reader.clone();
                    let repo = progress.repos[progress.at].clone();
                    ordered(work, reader.concurrency, move |work| {
                        item(reader.clone(), repo.clone(), work)
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

/// What to do with one record of a page.
enum Work {
    Build(Box<Issue>),
    Fail { id: String, reason: String },
}

/// A repository's state between pages.
struct Progress {
    reader: Arc<Reader>,
    repos: Arc<[Repo]>,
    at: usize,
    window: TimeWindow,
    mark: Watermark,
}

impl Progress {
    /// What to do with each record of `page`, and the checkpoint after it.
    fn take(&mut self, page: Fetched<Listed>) -> (Vec<Work>, Result<Item>) {
        let repo = &self.repos[self.at].full_name;
        let mut work = Vec::with_capacity(page.items.len());
        for listed in page.items {
            match listed.decode() {
                Err(reason) => work.push(Work::Fail {
                    id: self
                        .reader
                        .site
                        .document_id(repo, &listed.number().unwrap_or_else(|| "unknown".into())),
                    reason: format!("an issue of {repo} is unreadable: {reason}"),
                }),
                Ok(issue) => {
                    let number = issue.number.to_string();
                    // `since` is a second early and resumes overlap: what
                    // was delivered is not delivered again.
                    if !self.window.contains(issue.updated_at)
                        || self.mark.covers(issue.updated_at, &number)
                    {
                        continue;
                    }
                    self.mark.advance(issue.updated_at, &number);
                    if self.reader.wants(&issue) {
                        work.push(Work::Build(Box::new(issue)));
                    }
                }
            }
        }
        let checkpoint = match page.next.as_ref().map(from_page_cursor).transpose() {
            Err(e) => Err(e),
            Ok(Some(next)) => Checkpoint::new(&Position {
                repo: Some(repo.clone()),
                mark: self.mark.clone(),
                next: Some(next),
                discussions: None,
                files: None,
                finished: false,
            })
            .map(Item::Checkpoint),
            Ok(None) => self.moved_on(),
        };
        (work, checkpoint)
    }

    /// The checkpoint after this repository's issues: its files' start,
    /// or the next repository's.
    fn moved_on(&self) -> Result<Item> {
        after_part(&self.reader, &self.repos, self.at, Part::Issues)
    }
}

/// One record's item: its document, or its failure.
async fn item(reader: Arc<Reader>, repo: Repo, work: Work) -> Result<Item> {
    match work {
        Work::Fail { id, reason } => Ok(Item::Failure(DocumentFailure::new(id, reason))),
        Work::Build(issue) => match thread(&reader, &repo, &issue).await {
            Ok(thread) => {
                let mut doc = to_document(&reader.site, &repo, &issue, thread);
                doc.access = reader.access(&repo).await?;
                Ok(Item::from(doc))
            }
            Err(e) if e.ends_stream() => Err(e),
            Err(e) => Ok(Item::Failure(DocumentFailure::new(
                reader
                    .site
                    .document_id(&repo.full_name, &issue.number.to_string()),
                format!(
                    "{}#{} could not be read in full: {e}",
                    repo.full_name, issue.number
                ),
            ))),
        },
    }
}

/// The issue's comments (only asked for when it has some) and, for a pull
/// request, its review comments; at most `max_comments` in all.
async fn thread(reader: &Reader, repo: &Repo, issue: &Issue) -> Result<Thread> {
    let base = GitHubClient::repo_path(&repo.full_name)?;
    let cap = reader.config.max_comments;
    let mut thread = Thread::default();
    if issue.comments > 0 {
        let read = comments(
            reader,
            format!("comments of {}#{}", repo.full_name, issue.number),
            format!("{base}/issues/{}/comments", issue.number),
            cap,
        )
        .await?;
        thread.truncated |= read.truncated;
        thread.comments = read.items;
    }
    let left = cap.saturating_sub(thread.comments.len());
    if issue.is_pull_request() && reader.config.review_comments {
        if left == 0 {
            thread.truncated = true;
        } else {
            let read = comments(
                reader,
                format!("review comments of {}#{}", repo.full_name, issue.number),
                format!("{base}/pulls/{}/comments", issue.number),
                left,
            )
            .await?;
            thread.truncated |= read.truncated;
            thread.review_comments = read.items;
        }
    }
    Ok(thread)
}

/// Up to `cap` comments of one listing, in order.
async fn comments(
    reader: &Reader,
    what: String,
    path: String,
    cap: usize,
) -> Result<Capped<Comment>> {
    let query = vec![("per_page", PER_PAGE.to_owned())];
    let pages = reader.client.link_pages(what.clone(), path, query);
    let raw = collect_capped(pages, cap)
        .await
        .map_err(|e| reader.client.explain(&what, e))?;
    let items = raw
        .items
        .iter()
        .filter_map(|r| match r.decode::<Comment>() {
            Ok(c) => Some(c),
            Err(reason) => {
                tracing::warn!(%what, "a comment is unreadable: {reason}");
                None
            }
        })
        .collect();
    Ok(Capped {
        items,
        truncated: raw.truncated,
    })
}

/// The fields the id listing reads.
#[derive(Deserialize)]
struct SlimIssue {
    number: u64,
    #[serde(default)]
    pull_request: Option<serde::de::IgnoredAny>,
}

/// The ids of every issue and pull request in scope, repository after
/// repository: what the runner compares with what it holds to find
/// transferred and deleted issues, and repositories gone from the scope.
pub(crate) fn slim(reader: Arc<Reader>) -> SlimStream<'static> {
    let resolve = {
        let reader = reader.clone();
        async move { repos::in_scope(&reader.client, &reader.config, &reader.filter).await }
    };
    let all = stream::once(resolve).flat_map(move |repos| match repos {
        Err(e) => stream::once(future::ready(Err(e))).boxed(),
        Ok(repos) => {
            let reader = reader.clone();
            stream::iter(repos)
                .flat_map(move |repo| repo_ids(reader.clone(), repo))
                .boxed()
        }
    });
    until_error(all)
}

fn repo_ids(reader: Arc<Reader>, repo: Repo) -> SlimStream<'static> {
    let config = &reader.config;
    let mut issues = if config.issues || config.pull_requests {
        issue_ids(reader.clone(), repo.clone())
    } else {
        stream::empty().boxed()
    };
    if config.discussions {
        issues = issues
            .chain(discussion_ids(reader.clone(), repo.clone()))
            .boxed();
    }
    if !config.files {
        return issues;
    }
    let files = async move {
        let everything = TimeWindow::until(chrono::Utc::now());
        let ids: Vec<Result<SlimDocument>> =
            match files::changes(&reader.client, &reader.rules, &repo, &everything).await {
                Ok(changes) => changes
                    .iter()
                    .map(|c| {
                        Ok(SlimDocument::new(
                            reader.site.file_id(&repo.full_name, c.path()),
                        ))
                    })
                    .collect(),
                Err(e) if files::is_no_files(&e) => Vec::new(),
                Err(e) => vec![Err(e)],
            };
        stream::iter(ids)
    };
    issues.chain(stream::once(files).flatten()).boxed()
}

fn discussion_ids(reader: Arc<Reader>, repo: Repo) -> SlimStream<'static> {
    let name: Arc<str> = repo.full_name.as_str().into();
    discussions::pages(reader.client.clone(), name, None, None)
        .flat_map(move |page| {
            let ids: Vec<Result<SlimDocument>> = match page {
                Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::Forbidden) => {
                    Vec::new()
                }
                Err(e) => vec![Err(e)],
                Ok(page) => page
                    .items
                    .iter()
                    .filter_map(discussions::Listed::number)
                    .map(|n| {
                        Ok(SlimDocument::new(
                            reader.site.discussion_id(&repo.full_name, &n),
                        ))
                    })
                    .collect(),
            };
            stream::iter(ids)
        })
        .boxed()
}

fn issue_ids(reader: Arc<Reader>, repo: Repo) -> SlimStream<'static> {
    let path = match GitHubClient::repo_path(&repo.full_name) {
        Ok(base) => format!("{base}/issues"),
        Err(e) => return stream::once(future::ready(Err(e))).boxed(),
    };
    let query = vec![
        ("state", "all".to_owned()),
        ("per_page", PER_PAGE.to_owned()),
    ];
    let what = format!("GitHub issues of {}", repo.full_name);
    reader
        .client
        .link_pages(what, path, query)
        .flat_map(move |page| {
            let ids: Vec<Result<SlimDocument>> = match page {
                Err(e) if e.kind() == ErrorKind::NotFound => {
                    tracing::warn!("{e}; going on with the next repository");
                    Vec::new()
                }
                Err(e) => vec![Err(e)],
                Ok(page) => page
                    .items
                    .iter()
                    .filter_map(|raw| match raw.decode::<SlimIssue>() {
                        Ok(issue) => {
                            let wanted = if issue.pull_request.is_some() {
                                reader.config.pull_requests
                            } else {
                                reader.config.issues
                            };
                            wanted.then(|| issue.number.to_string())
                        }
                        // Named as its failure was.
                        Err(_) => raw.string_field("number"),
                    })
                    .map(|n| {
                        Ok(SlimDocument::new(
                            reader.site.document_id(&repo.full_name, &n),
                        ))
                    })
                    .collect(),
            };
            stream::iter(ids)
        })
        .boxed()
}

/// The configured scope, for `validate`.
pub(crate) async fn scope(reader: &Reader) -> Result<Vec<Repo>> {
    repos::in_scope(&reader.client, &reader.config, &reader.filter).await
}
