//! A repository's documentation files on its default branch: every file
//! the globs match from the Git tree on a first sync; on an incremental
//! one, only the files changed since the window's start, from a comparison
//! of the branch's commit at that time with its head (renames and removals
//! reported as deletions).

use base64::Engine as _;
use chrono::{DateTime, SecondsFormat, Utc};
use connector_core::{Document, ErrorKind, MetadataValue, Result, Section, TimeWindow};
use globset::GlobSet;

use crate::client::GitHubClient;
use crate::convert::Site;
use crate::model::{Blob, CommitRef, Comparison, Repo, Tree, TreeEntry};

/// Files a comparison lists at most; a comparison this large may be cut,
/// so the whole tree is read instead.
const MAX_COMPARE_FILES: usize = 300;

/// One change to sync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Change {
    /// The file at `path` is new or changed: read blob `sha`.
    Upsert { path: String, sha: String },
    /// The file at `path` is gone (removed, or renamed away).
    Removed { path: String },
}

impl Change {
    pub(crate) fn path(&self) -> &str {
        match self {
            Change::Upsert { path, .. } | Change::Removed { path } => path,
        }
    }
}

/// What decides which files are documents.
#[derive(Debug, Clone)]
pub(crate) struct FileRules {
    pub(crate) globs: GlobSet,
    pub(crate) max_bytes: u64,
}

impl FileRules {
    fn wants(&self, path: &str) -> bool {
        self.globs.is_match(path)
    }
}

/// Whether an error means "no files here": an empty repository (409), or
/// a branch or repository gone (404).
pub(crate) fn is_no_files(e: &connector_core::Error) -> bool {
    e.kind() == ErrorKind::NotFound || e.status() == Some(409)
}

/// The changes of `repo` to sync in `window`, sorted by path.
pub(crate) async fn changes(
    client: &GitHubClient,
    rules: &FileRules,
    repo: &Repo,
    window: &TimeWindow,
) -> Result<Vec<Change>> {
    let Some(branch) = repo.default_branch.as_deref() else {
        return Ok(Vec::new());
    };
    let base = GitHubClient::repo_path(&repo.full_name)?;
    if !window.is_full()
        && let Some(changes) = compared(client, rules, &base, branch, window.start).await?
    {
        return Ok(changes);
    }
    let mut changes: Vec<Change> = tree(client, &base, branch)
        .await?
        .into_iter()
        .filter(|e| rules.wants(&e.path) && e.size.is_none_or(|s| s <= rules.max_bytes))
        .map(|e| Change::Upsert {
            path: e.path,
            sha: e.sha,
        })
        .collect();
    changes.sort_by(|a, b| a.path().cmp(b.path()));
    Ok(changes)
}

/// The changes since `start` from a comparison, or `None` when the whole
/// tree must be read (no commit before `start`, or too many changes).
async fn compared(
    client: &GitHubClient,
    rules: &FileRules,
    base: &str,
    branch: &str,
    start: DateTime<Utc>,
) -> Result<Option<Vec<Change>>> {
    let until = start.to_rfc3339_opts(SecondsFormat::Secs, true);
    let before: Vec<CommitRef> = client
        .http()
        .get(&format!("{base}/commits"))
        .query(&[("sha", branch), ("until", &until), ("per_page", "1")])
        .fetch_json()
        .await?;
    let Some(from) = before.into_iter().next() else {
        return Ok(None);
    };
    let path = format!(
        "{base}/compare/{}...{}",
        connector_core::url::segment(&from.sha)?,
        connector_core::url::segment(branch)?
    );
    // Unchanged while the branch has not moved: a 304, free of budget.
    let comparison: Comparison = match client.json_conditional(&path).await {
        Ok(comparison) => comparison,
        // The base is gone from the branch (a force-push): the whole tree.
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    if comparison.files.len() >= MAX_COMPARE_FILES {
        return Ok(None);
    }
    let mut changes = Vec::new();
    for file in comparison.files {
        if let Some(previous) = &file.previous_filename
            && previous != &file.filename
            && rules.wants(previous)
        {
            changes.push(Change::Removed {
                path: previous.clone(),
            });
        }
        if !rules.wants(&file.filename) {
            continue;
        }
        match (file.status.as_str(), file.sha) {
            ("removed", _) => changes.push(Change::Removed {
                path: file.filename,
            }),
            ("unchanged", _) => {}
            (_, Some(sha)) => changes.push(Change::Upsert {
                path: file.filename,
                sha,
            }),
            (_, None) => {}
        }
    }
    changes.sort_by(|a, b| a.path().cmp(b.path()));
    Ok(Some(changes))
}

/// Every blob of the tree at `at`: one recursive listing, or — when GitHub
/// cuts that short — directory by directory.
async fn tree(client: &GitHubClient, base: &str, at: &str) -> Result<Vec<TreeEntry>> {
    let mut blobs = Vec::new();
    // (path prefix, tree, whether to ask for it recursively)
    let mut pending = vec![(String::new(), at.to_owned(), true)];
    while let Some((prefix, sha, recursive)) = pending.pop() {
        let path = format!("{base}/git/trees/{}", connector_core::url::segment(&sha)?);
        let request = client.http().get(&path);
        let request = if recursive {
            request.query(&[("recursive", "1")])
        } else {
            request
        };
        let listed: Tree = request.fetch_json().await?;
        if listed.truncated && recursive {
            pending.push((prefix, sha, false));
            continue;
        }
        if listed.truncated {
            tracing::warn!(
                tree = %sha,
                "GitHub cut a directory's listing short; its remaining files are not synced"
            );
        }
        for mut entry in listed.tree {
            entry.path = if prefix.is_empty() {
                entry.path
            } else {
                format!("{prefix}/{}", entry.path)
            };
            match entry.kind.as_str() {
                "blob" => blobs.push(entry),
                "tree" if !recursive => pending.push((entry.path, entry.sha, true)),
                _ => {}
            }
        }
    }
    Ok(blobs)
}

/// The bytes of blob `sha`, `None` past `max_bytes`.
pub(crate) async fn blob(
    client: &GitHubClient,
    repo: &Repo,
    sha: &str,
    max_bytes: u64,
) -> Result<Option<Vec<u8>>> {
    let path = format!(
        "{}/git/blobs/{}",
        GitHubClient::repo_path(&repo.full_name)?,
        connector_core::url::segment(sha)?
    );
    let blob: Blob = client.http().get(&path).fetch_json().await?;
    if blob.encoding != "base64" {
        return Ok(Some(blob.content.into_bytes()));
    }
    let packed: String = blob.content.split_ascii_whitespace().collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(packed)
        .map_err(|e| {
            connector_core::Error::new(
                ErrorKind::Decode,
                format!("blob {sha} is not the base64 GitHub sends: {e}"),
            )
        })?;
    Ok((bytes.len() as u64 <= max_bytes).then_some(bytes))
}

/// The document of the file at `path`.
pub(crate) fn to_document(
    site: &Site,
    repo: &Repo,
    path: &str,
    sha: &str,
    bytes: &[u8],
) -> Document {
    let name = path.rsplit('/').next().unwrap_or(path);
    let mut doc = Document::new("github", site.file_id(&repo.full_name, path), name);
    let branch = repo.default_branch.as_deref().unwrap_or("HEAD");
    if let Some(html) = &repo.html_url {
        let encoded: Vec<String> = path
            .split('/')
            .map(|s| connector_core::url::segment(s).unwrap_or_else(|_| s.to_owned()))
            .collect();
        doc.url = Some(format!("{html}/blob/{branch}/{}", encoded.join("/")));
    }
    let mut hierarchy: Vec<String> = repo.full_name.split('/').map(str::to_owned).collect();
    hierarchy.extend(
        path.split('/')
            .rev()
            .skip(1)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .map(str::to_owned),
    );
    doc.hierarchy = hierarchy;
    for (key, value) in [
        ("repository", repo.full_name.as_str()),
        ("kind", "file"),
        ("path", path),
        ("branch", branch),
        ("sha", sha),
    ] {
        doc.metadata
            .insert(key.to_owned(), MetadataValue::from(value));
    }
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim();
    if !text.is_empty() {
        doc.sections.push(Section::text(text));
    }
    doc
}
