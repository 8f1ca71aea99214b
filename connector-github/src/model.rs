//! The REST API's objects, as far as the connector reads them (field names
//! as GitHub's OpenAPI description gives them).

use chrono::{DateTime, Utc};
use connector_core::json::RawRecord;
use serde::Deserialize;

/// A user (`simple-user`).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct User {
    pub(crate) login: String,
}

/// A label: an object, or (as the description allows) a bare name.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(crate) enum Label {
    Object { name: Option<String> },
    Name(String),
}

impl Label {
    pub(crate) fn name(&self) -> Option<&str> {
        match self {
            Label::Object { name } => name.as_deref(),
            Label::Name(name) => Some(name),
        }
    }
}

/// A milestone (`nullable-milestone`).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Milestone {
    pub(crate) title: String,
}

/// The `pull_request` key that makes an issue a pull request.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct PullRef {
    #[serde(default)]
    pub(crate) merged_at: Option<DateTime<Utc>>,
}

/// An issue or a pull request as the issues listing returns it (`issue`).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Issue {
    pub(crate) number: u64,
    pub(crate) title: String,
    #[serde(default)]
    pub(crate) body: Option<String>,
    pub(crate) state: String,
    #[serde(default)]
    pub(crate) state_reason: Option<String>,
    pub(crate) html_url: String,
    #[serde(default)]
    pub(crate) user: Option<User>,
    // Required by the description: a missing array is a malformed issue.
    pub(crate) labels: Vec<Label>,
    #[serde(default)]
    pub(crate) assignees: Option<Vec<User>>,
    #[serde(default)]
    pub(crate) milestone: Option<Milestone>,
    /// How many comments the issue has (review comments not included).
    pub(crate) comments: u64,
    #[serde(default)]
    pub(crate) pull_request: Option<PullRef>,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) updated_at: DateTime<Utc>,
    #[serde(default)]
    pub(crate) closed_at: Option<DateTime<Utc>>,
}

impl Issue {
    pub(crate) fn is_pull_request(&self) -> bool {
        self.pull_request.is_some()
    }
}

/// An issue comment (`issue-comment`) or a review comment
/// (`pull-request-review-comment`, with `path` and `line`).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Comment {
    pub(crate) id: u64,
    #[serde(default)]
    pub(crate) body: Option<String>,
    #[serde(default)]
    pub(crate) user: Option<User>,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) html_url: String,
    #[serde(default)]
    pub(crate) path: Option<String>,
    #[serde(default)]
    pub(crate) line: Option<u64>,
}

/// A repository (`repository` / `minimal-repository`).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Repo {
    pub(crate) full_name: String,
    #[serde(default)]
    pub(crate) private: bool,
    #[serde(default)]
    pub(crate) archived: bool,
    #[serde(default)]
    pub(crate) fork: bool,
    /// Where the repository's pages are (`https://github.com/acme/widgets`).
    #[serde(default)]
    pub(crate) html_url: Option<String>,
    /// Absent on an empty repository.
    #[serde(default)]
    pub(crate) default_branch: Option<String>,
}

/// A Git tree (`git-tree`): its entries, and whether GitHub cut the
/// recursive listing short.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Tree {
    pub(crate) tree: Vec<TreeEntry>,
    pub(crate) truncated: bool,
}

/// One entry of a tree.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct TreeEntry {
    pub(crate) path: String,
    #[serde(rename = "type")]
    pub(crate) kind: String,
    pub(crate) sha: String,
    #[serde(default)]
    pub(crate) size: Option<u64>,
}

/// A blob (`blob`): its content, base64 as GitHub sends it.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Blob {
    pub(crate) content: String,
    pub(crate) encoding: String,
}

/// A commit of a listing (`commit`), its SHA only.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct CommitRef {
    pub(crate) sha: String,
}

/// A comparison of two commits (`comparison`).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Comparison {
    #[serde(default)]
    pub(crate) files: Vec<ChangedFile>,
}

/// A file a comparison changed (`diff-entry`).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ChangedFile {
    pub(crate) sha: Option<String>,
    pub(crate) filename: String,
    pub(crate) status: String,
    #[serde(default)]
    pub(crate) previous_filename: Option<String>,
}

/// One record of the issues listing, decoded when its turn comes.
#[derive(Debug, Clone)]
pub(crate) struct Listed(pub(crate) RawRecord);

impl Listed {
    /// The issue's `id` (unique across repositories), read without parsing.
    pub(crate) fn id(&self) -> Option<String> {
        self.0.string_field("id")
    }

    /// `number`, read without parsing (to name a record that does not parse).
    pub(crate) fn number(&self) -> Option<String> {
        self.0.string_field("number")
    }

    /// `updated_at`, read without parsing.
    pub(crate) fn updated(&self) -> Option<DateTime<Utc>> {
        self.0
            .string_field("updated_at")
            .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
            .map(|t| t.with_timezone(&Utc))
    }

    pub(crate) fn decode(&self) -> Result<Issue, String> {
        self.0.decode()
    }
}
