//! A repository's issues and pull requests as core [`Pager`] pages:
//! `GET /repos/{owner}/{repo}/issues?state=all&sort=updated&direction=asc`,
//! keyset-paged on `since`.
//!
//! The `Link` header's `page=N` targets are offsets into a list sorted by
//! `updated_at`: an issue updated mid-sync moves to the end and shifts
//! every later page by one, so following them can skip an issue for good.
//! The next page therefore asks `since` the last `updated_at` read (a
//! second earlier, whichever way GitHub reads the bound), and the
//! checkpoint's watermark drops what was already delivered; only when a
//! whole page shares one second does it move on by page number. The
//! `Link` header still says whether a next page exists.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use connector_core::paging::{Page, PageCursor, PageStream, Pager};
use connector_core::{Error, ErrorKind, Result};

use crate::checkpoint::Cursor;
use crate::client::{GitHubClient, PER_PAGE};
use crate::model::Listed;

/// Pages in a row with nothing in them that may still name a next one.
const MAX_EMPTY_PAGES: u32 = 4;

/// The cursor as the pager carries it.
pub(crate) fn to_page_cursor(cursor: &Cursor) -> Option<PageCursor> {
    serde_json::to_string(cursor).ok().map(PageCursor::Token)
}

/// The pager's cursor back as ours.
pub(crate) fn from_page_cursor(cursor: &PageCursor) -> Result<Cursor> {
    match cursor {
        PageCursor::Token(t) => serde_json::from_str(t).map_err(|e| {
            Error::new(
                ErrorKind::Decode,
                format!("a stored GitHub page position does not read: {e}"),
            )
        }),
        other => Err(Error::new(
            ErrorKind::Other,
            format!("a {other:?} cannot continue a GitHub issues listing"),
        )),
    }
}

/// `at` as `since` takes it, a second early.
pub(crate) fn since(at: DateTime<Utc>) -> String {
    (at - Duration::seconds(1)).to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The issues of `repo` from `first` on; the listing ends at the first
/// issue updated at or after `end`. With `probe` (a poll starting the
/// repository afresh), [`changed_since`] asks first whether anything
/// changed at all.
pub(crate) fn pages(
    client: GitHubClient,
    repo: Arc<str>,
    end: Option<DateTime<Utc>>,
    first: Cursor,
    probe: bool,
) -> PageStream<Listed> {
    let pager = Pager::new(format!("GitHub issues of {repo}"))
        .read_ahead(1)
        .max_empty_pages(MAX_EMPTY_PAGES)
        .ids(Listed::id);
    let probe = Arc::new(AtomicBool::new(probe));
    pager.pages(to_page_cursor(&first), move |at| {
        let client = client.clone();
        let repo = repo.clone();
        let probe = probe.clone();
        async move {
            let cursor = match at.as_ref() {
                Some(at) => from_page_cursor(at)?,
                None => Cursor::default(),
            };
            if probe.swap(false, Ordering::Relaxed)
                && let Some(bound) = cursor.since.as_deref().and_then(parse_since)
                && !changed_since(&client, &repo, bound).await?
            {
                return Ok(Page::last(Vec::new()));
            }
            fetch(&client, &repo, end, cursor).await
        }
    })
}

fn parse_since(since: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(since)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Whether an issue or pull request of `repo` was updated at or after
/// `bound`: the most recently updated one, asked conditionally. A poll of
/// a repository where nothing changed gets `304 Not Modified` (free of the
/// budget) once its answer is known, and skips the listing either way.
pub(crate) async fn changed_since(
    client: &GitHubClient,
    repo: &str,
    bound: DateTime<Utc>,
) -> Result<bool> {
    let path = format!("{}/issues", GitHubClient::repo_path(repo)?);
    let query: [(&str, String); 4] = [
        ("state", "all".to_owned()),
        ("sort", "updated".to_owned()),
        ("direction", "desc".to_owned()),
        ("per_page", "1".to_owned()),
    ];
    let (records, _) = client
        .page_conditional(None, &path, &query, "")
        .await
        .map_err(|e| client.explain(&format!("the issues of {repo}"), e))?;
    Ok(match records.into_iter().next() {
        None => false,
        // An answer it cannot read: list, to be safe.
        Some(raw) => Listed(raw).updated().is_none_or(|latest| latest >= bound),
    })
}

async fn fetch(
    client: &GitHubClient,
    repo: &str,
    end: Option<DateTime<Utc>>,
    cursor: Cursor,
) -> Result<Page<Listed>> {
    let path = format!("{}/issues", GitHubClient::repo_path(repo)?);
    let mut query: Vec<(&str, String)> = vec![
        ("state", "all".to_owned()),
        ("sort", "updated".to_owned()),
        ("direction", "asc".to_owned()),
        ("per_page", PER_PAGE.to_owned()),
    ];
    if let Some(since) = &cursor.since {
        query.push(("since", since.clone()));
    }
    if cursor.page > 1 {
        query.push(("page", cursor.page.to_string()));
    }
    let (records, link_next) = client
        .page(None, &path, &query, "")
        .await
        .map_err(|e| client.explain(&format!("the issues of {repo}"), e))?;
    let items: Vec<Listed> = records.into_iter().map(Listed).collect();
    let last = items.iter().rev().find_map(Listed::updated);
    let past_end = matches!((last, end), (Some(last), Some(end)) if last >= end);
    if link_next.is_none() || past_end {
        return Ok(Page::last(items));
    }
    let bound = cursor.since.as_deref().and_then(parse_since);
    let next = match last {
        // Moved past the bound: ask from the last second read.
        Some(last) if bound.is_none_or(|b| last - Duration::seconds(1) > b) => Cursor {
            since: Some(since(last)),
            page: 1,
        },
        // A whole page inside one second (or nothing readable): further in.
        _ => Cursor {
            since: cursor.since.clone(),
            page: cursor.page.saturating_add(1),
        },
    };
    Ok(Page::new(items, to_page_cursor(&next)))
}
